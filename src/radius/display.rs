//! Attributes as readable `Name = value` text, for stored accounting records and logs.
//! Hidden values (passwords) are never rendered.

use std::fmt::Write as _;

use super::proto::PacketView;
use super::proto::attr;
use super::proto::dict::{self, AttrKind};

/// One line per attribute, in packet order.
#[must_use]
pub fn attributes_text(view: &PacketView<'_>) -> String {
    let mut out = String::new();
    for (typ, value) in view.attributes() {
        let def = dict::by_type(typ);
        let name = def.map_or_else(|| format!("Attr-{typ}"), |d| d.name.to_string());
        let kind = def.map_or(AttrKind::String, |d| d.kind);
        let _ = write!(out, "{name} = ");
        match kind {
            AttrKind::EncryptedPassword | AttrKind::TunnelPassword | AttrKind::SaltEncrypted => {
                out.push_str("<hidden>");
            }
            AttrKind::Text => match attr::as_string(value) {
                Some(s) => push_quoted(&mut out, s),
                None => push_hex(&mut out, value),
            },
            AttrKind::Integer | AttrKind::Date => match attr::as_u32(value) {
                Some(v) => {
                    let _ = write!(out, "{v}");
                }
                None => push_hex(&mut out, value),
            },
            AttrKind::IpAddr => match attr::as_ipv4(value) {
                Some(ip) => {
                    let _ = write!(out, "{ip}");
                }
                None => push_hex(&mut out, value),
            },
            AttrKind::Ipv6Addr => match attr::as_ipv6(value) {
                Some(ip) => {
                    let _ = write!(out, "{ip}");
                }
                None => push_hex(&mut out, value),
            },
            _ => push_hex(&mut out, value),
        }
        out.push('\n');
    }
    out
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_hex(out: &mut String, v: &[u8]) {
    out.push_str("0x");
    for b in v {
        let _ = write!(out, "{b:02x}");
    }
}
