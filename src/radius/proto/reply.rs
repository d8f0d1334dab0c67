//! Reply attributes as administrators write them (`Name=value`, as in
//! `--reply 'Cisco-AVPair=shell:priv-lvl=15'`), encoded for a packet, and
//! attributes displayed back the way FreeRADIUS's radclient prints them.
//!
//! Invariants this module owns:
//! - [`Dictionary::encode`] refuses rather than truncates or guesses: a value
//!   too long for its attribute, a number out of range or a malformed address
//!   is an error naming the attribute.
//! - It never encodes what a policy must not set: credentials and the
//!   authentication exchange's own attributes, Message-Authenticator,
//!   Proxy-State, raw Vendor-Specific, and anything hidden with the shared
//!   secret or marked `secret`.
//! - [`Dictionary::describe`] is total (any octets, never a panic), prints
//!   no hidden value, and what it prints for an encoded attribute encodes
//!   back to the same octets.
//! - Tagged attributes (RFC 2868 §3) always carry their tag octet, tag 0 when
//!   none is given: `Tunnel-Private-Group-Id:0 = "120"` goes out as
//!   `51 06 00 31 32 30`. radclient (FreeRADIUS 3.2) reads that, and the
//!   same string without the tag octet, as `Tunnel-Private-Group-Id:0 =
//!   "120"`; with the octet the value can never be misread as a tag.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::attr::{
    self, CHAP_CHALLENGE, CHAP_PASSWORD, CLASS, EAP_MESSAGE, FILTER_ID, FRAMED_APPLETALK_NETWORK,
    FRAMED_COMPRESSION, FRAMED_IPV6_PREFIX, FRAMED_IPV6_ROUTE, FRAMED_ROUTE, LOGIN_IP_HOST,
    LOGIN_IPV6_HOST, MAX_TAG, MAX_VALUE_LEN, MESSAGE_AUTHENTICATOR, PROXY_STATE, REPLY_MESSAGE,
    STATE, TUNNEL_MEDIUM_TYPE, TUNNEL_PRIVATE_GROUP_ID, TUNNEL_TYPE, USER_PASSWORD, VENDOR_ARUBA,
    VENDOR_CISCO, VENDOR_FORTINET, VENDOR_MICROSOFT, VENDOR_SPECIFIC,
};
use super::dictionary::{AttrKey, Attribute, Dictionary, VendorFormat};
use super::error::AttrValueError;
use super::kind::AttrKind;
use super::valuetext;

/// Longest `Name=value` text accepted: the longest legitimate one (253
/// octets, every one written as a four-character octal escape) is ~1100.
pub const MAX_TEXT_LEN: usize = 4096;

/// One attribute as it goes into a packet: type and value octets. For a
/// vendor attribute `typ` is 26 (Vendor-Specific) and `value` the whole VSA
/// payload: Vendor-Id, vendor type, vendor length and data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodedAttr {
    pub typ: u8,
    pub value: Vec<u8>,
}

impl EncodedAttr {
    /// Which attribute this is, for merging reply attributes of several
    /// policies. A vendor attribute is read in the RFC 2865 §5.26 layout
    /// (one-octet vendor type after the Vendor-Id), which is the only layout
    /// [`Dictionary::encode`] produces.
    #[must_use]
    pub fn key(&self) -> AttrKey {
        match (self.typ, self.value.as_slice()) {
            (VENDOR_SPECIFIC, [a, b, c, d, typ, ..]) => {
                AttrKey::vendor(u32::from_be_bytes([*a, *b, *c, *d]), u32::from(*typ))
            }
            (typ, _) => AttrKey::standard(typ),
        }
    }
}

impl AttrKey {
    /// Whether one reply may carry this attribute several times, so that
    /// merging policies keeps every value instead of one replacing another:
    /// the attributes RFC 2865 §5.44, RFC 3162, RFC 4675, RFC 4818, RFC 4849
    /// and RFC 6911 allow "0+" times in an Access-Accept, and the vendor
    /// attributes that are lists by design (Cisco-AVPair, Aruba-AVPair,
    /// Fortinet-Group-Name). Tunnel attributes count as single: a reply
    /// describes one tunnel (tag 0). Attributes of loaded dictionaries are
    /// single, the safe default for merging.
    #[must_use]
    pub fn is_multi_valued(self) -> bool {
        const STANDARD: &[u8] = &[
            FILTER_ID,
            FRAMED_COMPRESSION,
            LOGIN_IP_HOST,
            REPLY_MESSAGE,
            FRAMED_ROUTE,
            CLASS,
            FRAMED_APPLETALK_NETWORK,
            56, // Egress-VLANID
            58, // Egress-VLAN-Name
            92, // NAS-Filter-Rule
            FRAMED_IPV6_PREFIX,
            LOGIN_IPV6_HOST,
            FRAMED_IPV6_ROUTE,
            123, // Delegated-IPv6-Prefix
            168, // Framed-IPv6-Address
            169, // DNS-Server-IPv6-Address
            170, // Route-IPv6-Information
        ];
        match self.vendor {
            0 => u8::try_from(self.typ).is_ok_and(|t| STANDARD.contains(&t)),
            VENDOR_CISCO | VENDOR_FORTINET => self.typ == 1,
            VENDOR_ARUBA => self.typ == 67,
            _ => false,
        }
    }
}

/// The Tunnel-Type, Tunnel-Medium-Type and Tunnel-Private-Group-Id that put
/// a session on VLAN `id` (RFC 3580 §3.31), tag 0.
///
/// # Errors
/// [`AttrValueError::VlanOutOfRange`] unless `id` is 1..=4094.
pub fn vlan(id: u16) -> Result<[EncodedAttr; 3], AttrValueError> {
    const VLAN: u8 = 13;
    const IEEE_802: u8 = 6;
    if !(1..=4094).contains(&id) {
        return Err(AttrValueError::VlanOutOfRange { id });
    }
    let mut group = vec![0];
    group.extend_from_slice(id.to_string().as_bytes());
    Ok([
        EncodedAttr {
            typ: TUNNEL_TYPE,
            value: vec![0, 0, 0, VLAN],
        },
        EncodedAttr {
            typ: TUNNEL_MEDIUM_TYPE,
            value: vec![0, 0, 0, IEEE_802],
        },
        EncodedAttr {
            typ: TUNNEL_PRIVATE_GROUP_ID,
            value: group,
        },
    ])
}

/// Why a policy may not set `attr`, if it may not.
fn forbidden(attr: &Attribute) -> Option<&'static str> {
    const CREDENTIALS: &str = "it carries credentials, which only the authentication exchange sets";
    const EXCHANGE: &str = "it belongs to the authentication exchange, which sets it";
    const MS_CHAP: &str = "MS-CHAP and MS-MPPE attributes come from the MS-CHAP exchange";
    let key = attr.key;
    let reason = match (key.vendor, u8::try_from(key.typ).unwrap_or(0)) {
        (0, USER_PASSWORD | CHAP_PASSWORD | CHAP_CHALLENGE) => CREDENTIALS,
        (0, 70 | 84) => CREDENTIALS, // ARAP-Password, ARAP-Challenge-Response
        (0, EAP_MESSAGE | STATE) => EXCHANGE,
        (0, MESSAGE_AUTHENTICATOR) => "every reply gets one, computed when the reply is signed",
        (0, PROXY_STATE) => "replies copy it from the request",
        (0, VENDOR_SPECIFIC) => "name the vendor attribute instead, such as Cisco-AVPair",
        (VENDOR_MICROSOFT, 1..=8 | 10..=12 | 16 | 17 | 25..=27) => MS_CHAP,
        _ if attr.kind.is_encrypted() => {
            "it is hidden with the shared secret, and policies hold no secrets"
        }
        _ if attr.secret => "the dictionary marks it secret",
        _ if attr.kind == AttrKind::Vsa => "name the vendor attribute instead",
        _ => return None,
    };
    Some(reason)
}

/// At most 64 characters of `text`, for echoing it in an error.
fn clip(text: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = text.chars().take(MAX).collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

impl Dictionary {
    /// Encodes `Name=value`, `Name = value` or `Name:TAG=value` (TAG 0..=31,
    /// for tagged attributes only; 0 when not given).
    ///
    /// Values: integers as decimal or one of the attribute's VALUE names;
    /// `ipaddr` as a dotted quad, `ipv6addr`, `ipv6prefix` as `addr/len`;
    /// strings as the text itself, or in double quotes with FreeRADIUS
    /// escapes (what [`describe`](Self::describe) prints); octets as `0x…`
    /// hex (other text stands for its own octets); dates as decimal seconds
    /// or as displayed; `ether` as `aa:bb:cc:dd:ee:ff`.
    ///
    /// # Errors
    /// An [`AttrValueError`] naming the attribute: unknown, not settable by a
    /// policy, a tag where none belongs, or a value that is malformed, out of
    /// range or too long for a RADIUS attribute.
    pub fn encode(&self, text: &str) -> Result<EncodedAttr, AttrValueError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(AttrValueError::TextTooLong {
                len: text.len(),
                max: MAX_TEXT_LEN,
            });
        }
        let syntax = || AttrValueError::Syntax { text: clip(text) };
        let (lhs, rhs) = text.split_once('=').ok_or_else(syntax)?;
        let lhs = lhs.trim();
        let rhs = rhs.trim();
        // `:=`, `+=`, `==`, `=~`… are FreeRADIUS users-file operators; a
        // value never starts with them, so say what went wrong.
        if lhs.ends_with([':', '+', '-', '!', '<', '>']) || rhs.starts_with(['=', '~', '*']) {
            return Err(AttrValueError::Operator { text: clip(text) });
        }
        let (name, tag) = match lhs.split_once(':') {
            Some((name, tag)) => (name.trim_end(), Some(tag.trim_start())),
            None => (lhs, None),
        };
        if name.is_empty() {
            return Err(syntax());
        }
        let Some(attr) = self.attribute(name) else {
            return Err(AttrValueError::UnknownAttribute { name: clip(name) });
        };
        let name = attr.name.to_string();
        if let Some(reason) = forbidden(attr) {
            return Err(AttrValueError::Forbidden { name, reason });
        }
        let tagged = matches!(attr.kind, AttrKind::TaggedText | AttrKind::TaggedInteger);
        let tag = match tag {
            None => 0,
            Some(_) if !tagged => return Err(AttrValueError::TagNotAllowed { name }),
            Some(t) => match t.parse::<u8>() {
                Ok(n) if n <= MAX_TAG && t.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => {
                    return Err(AttrValueError::BadTag { name, tag: clip(t) });
                }
            },
        };
        if rhs.is_empty() {
            return Err(AttrValueError::Empty { name });
        }
        let format = self.format_for(attr, &name)?;
        let tag_octet = usize::from(attr.kind == AttrKind::TaggedText);
        let header = format.map_or(0, |f| 4 + usize::from(f.type_len + f.length_len));
        let mut data = self.value_octets(attr, &name, rhs, MAX_VALUE_LEN - header - tag_octet)?;
        if attr.kind == AttrKind::TaggedInteger
            && let Some(first) = data.first_mut()
        {
            // RFC 2868 §3.1: the tag replaces the high octet of the value.
            *first = tag;
        }
        let mut value = Vec::with_capacity(header + tag_octet + data.len());
        if let Some(f) = format {
            let sub_len = usize::from(f.type_len + f.length_len) + tag_octet + data.len();
            value.extend_from_slice(&attr.key.vendor.to_be_bytes());
            // format_for lets only one-octet vendor types through, and the
            // length check above keeps sub_len within 253.
            value.push(u8::try_from(attr.key.typ).unwrap_or(0));
            match f.length_len {
                0 => {}
                1 => value.push(u8::try_from(sub_len).unwrap_or(u8::MAX)),
                _ => value.extend_from_slice(&u16::try_from(sub_len).unwrap_or(0).to_be_bytes()),
            }
        }
        if attr.kind == AttrKind::TaggedText {
            value.push(tag);
        }
        value.extend_from_slice(&data);
        let typ = match attr.key.vendor {
            0 => u8::try_from(attr.key.typ).unwrap_or(0),
            _ => VENDOR_SPECIFIC,
        };
        Ok(EncodedAttr { typ, value })
    }

    /// The vendor layout for a vendor attribute, `None` for a standard one.
    fn format_for(
        &self,
        attr: &Attribute,
        name: &str,
    ) -> Result<Option<VendorFormat>, AttrValueError> {
        if attr.key.vendor == 0 {
            return Ok(None);
        }
        let vendor = self.vendor_by_id(attr.key.vendor);
        let format = vendor.map_or(VendorFormat::RFC, |v| v.format);
        // EncodedAttr::key reads one type octet; wider types would merge
        // different attributes as one.
        if format.type_len != 1 {
            return Err(AttrValueError::UnsupportedVendorFormat {
                name: name.to_string(),
                vendor: vendor.map_or_else(|| attr.key.vendor.to_string(), |v| v.name.to_string()),
                type_len: format.type_len,
            });
        }
        Ok(Some(format))
    }

    /// The value octets for `text`; for a tagged integer, four octets whose
    /// first is 0 (the tag goes there).
    fn value_octets(
        &self,
        attr: &Attribute,
        name: &str,
        text: &str,
        max: usize,
    ) -> Result<Vec<u8>, AttrValueError> {
        let bad = |expected| AttrValueError::BadValue {
            name: name.to_string(),
            value: clip(text),
            expected,
        };
        let (octets, quoted) = valuetext::unquote(text).map_err(bad)?;
        // Non-string kinds read the unquoted text.
        let plain = || std::str::from_utf8(&octets).map_err(|_| bad("valid UTF-8"));
        let out = match attr.kind {
            AttrKind::Text | AttrKind::TaggedText => octets.clone(),
            AttrKind::String => match (quoted, valuetext::parse_hex(text)) {
                (false, Some(hex)) => hex,
                (false, None) if text.starts_with("0x") || text.starts_with("0X") => {
                    return Err(bad("hex octets after 0x"));
                }
                _ => octets.clone(),
            },
            AttrKind::Integer => encode_number(self.number(attr, name, plain()?)?, 4),
            AttrKind::TaggedInteger => encode_number(self.number(attr, name, plain()?)?, 4),
            AttrKind::Byte => encode_number(self.number(attr, name, plain()?)?, 1),
            AttrKind::Short => encode_number(self.number(attr, name, plain()?)?, 2),
            AttrKind::Integer64 => encode_number(self.number(attr, name, plain()?)?, 8),
            AttrKind::Date => {
                let p = plain()?;
                let secs = match valuetext::parse_date(p) {
                    Some(secs) => u64::from(secs),
                    None => self.number(attr, name, p).map_err(|_| {
                        bad("seconds since 1970 or a date like \"Jan  1 2030 00:00:00 UTC\"")
                    })?,
                };
                encode_number(secs, 4)
            }
            AttrKind::IpAddr => plain()?
                .parse::<Ipv4Addr>()
                .map_err(|_| bad("an IPv4 address (dotted quad)"))?
                .octets()
                .to_vec(),
            AttrKind::Ipv6Addr => plain()?
                .parse::<Ipv6Addr>()
                .map_err(|_| bad("an IPv6 address"))?
                .octets()
                .to_vec(),
            AttrKind::Ipv6Prefix => {
                let prefix = || -> Option<Vec<u8>> {
                    let (addr, len) = plain().ok()?.split_once('/')?;
                    let addr: Ipv6Addr = addr.parse().ok()?;
                    let len: u8 = len.parse().ok().filter(|l| *l <= 128)?;
                    // Bits past the prefix length must be zero (RFC 3162 §2.3).
                    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                    attr::encode_ipv6_prefix(Ipv6Addr::from(u128::from(addr) & mask), len)
                };
                prefix().ok_or_else(|| bad("an IPv6 prefix (address/length)"))?
            }
            AttrKind::Ether => valuetext::parse_ether(plain()?)
                .ok_or_else(|| bad("a MAC address (aa:bb:cc:dd:ee:ff)"))?
                .to_vec(),
            AttrKind::Ifid => valuetext::parse_ifid(plain()?)
                .ok_or_else(|| bad("an interface id (four groups of hex digits)"))?
                .to_vec(),
            // `forbidden` refused these already; refusing again keeps this total.
            AttrKind::EncryptedPassword
            | AttrKind::TunnelPassword
            | AttrKind::SaltEncrypted
            | AttrKind::Vsa => {
                return Err(AttrValueError::Forbidden {
                    name: name.to_string(),
                    reason: "it cannot be written as text",
                });
            }
        };
        if out.is_empty() {
            return Err(AttrValueError::Empty {
                name: name.to_string(),
            });
        }
        if out.len() > max {
            return Err(AttrValueError::TooLong {
                name: name.to_string(),
                len: out.len(),
                max,
            });
        }
        Ok(out)
    }

    /// A decimal number or VALUE name, within the kind's range.
    fn number(&self, attr: &Attribute, name: &str, text: &str) -> Result<u64, AttrValueError> {
        let max = attr.kind.max_number().unwrap_or(0);
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let value = if digits {
            text.parse::<u64>().ok()
        } else if attr.kind.takes_value_names() {
            self.value_number(attr.key, text)
        } else {
            None
        };
        let Some(value) = value else {
            return Err(AttrValueError::BadValue {
                name: name.to_string(),
                value: clip(text),
                expected: if digits {
                    "a number within the attribute's range"
                } else if attr.kind.takes_value_names() {
                    "a decimal number or one of its VALUE names"
                } else {
                    "a decimal number"
                },
            });
        };
        if value > max {
            return Err(AttrValueError::OutOfRange {
                name: name.to_string(),
                value,
                max,
            });
        }
        Ok(value)
    }

    /// `Name = value` (or `Name:TAG = value`) as radclient prints it; hidden
    /// values as `<hidden>`, unknown attributes as `Attr-N = 0x…`, and
    /// values of the wrong size as hex. Several sub-attributes of one
    /// Vendor-Specific are joined with `, `.
    #[must_use]
    pub fn describe(&self, typ: u8, value: &[u8]) -> String {
        if typ == VENDOR_SPECIFIC
            && let Some(text) = self.describe_vsa(value)
        {
            return text;
        }
        match self.attribute_by_key(AttrKey::standard(typ)) {
            Some(attr) => self.render(attr, value),
            None => format!("Attr-{typ} = {}", valuetext::hex(value)),
        }
    }

    /// The sub-attributes of a Vendor-Specific value in its vendor's layout
    /// (RFC 2865 §5.26's for unknown vendors); `None` when malformed.
    fn describe_vsa(&self, value: &[u8]) -> Option<String> {
        let (vendor, mut rest) = value.split_first_chunk::<4>()?;
        let vendor = u32::from_be_bytes(*vendor);
        let format = self
            .vendor_by_id(vendor)
            .map_or(VendorFormat::RFC, |v| v.format);
        let (t, l) = (usize::from(format.type_len), usize::from(format.length_len));
        let mut parts = Vec::new();
        while !rest.is_empty() {
            let typ = rest
                .get(..t)?
                .iter()
                .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            let data;
            (data, rest) = if l == 0 {
                (rest.get(t..)?, &[][..])
            } else {
                let len = rest
                    .get(t..t + l)?
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                (rest.get(t + l..len)?, rest.get(len..)?)
            };
            parts.push(match self.attribute_by_key(AttrKey::vendor(vendor, typ)) {
                Some(attr) => self.render(attr, data),
                None => format!("Attr-26.{vendor}.{typ} = {}", valuetext::hex(data)),
            });
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    fn render(&self, attr: &Attribute, data: &[u8]) -> String {
        let name = &attr.name;
        if attr.secret || attr.kind.is_encrypted() {
            return format!("{name} = <hidden>");
        }
        match (attr.kind, data) {
            // FreeRADIUS reads a first octet below 0x20 as the tag only
            // when something follows it.
            (AttrKind::TaggedText, [tag, rest @ ..]) if *tag <= MAX_TAG && !rest.is_empty() => {
                format!("{name}:{tag} = {}", valuetext::quote(rest))
            }
            (AttrKind::TaggedText, _) => format!("{name}:0 = {}", valuetext::quote(data)),
            (AttrKind::TaggedInteger, [tag, a, b, c]) if *tag <= MAX_TAG => {
                let n = u32::from_be_bytes([0, *a, *b, *c]);
                format!("{name}:{tag} = {}", self.number_text(attr, u64::from(n)))
            }
            (AttrKind::TaggedInteger, [a, b, c, d]) => {
                let n = u32::from_be_bytes([*a, *b, *c, *d]);
                format!("{name}:0 = {}", self.number_text(attr, u64::from(n)))
            }
            _ => {
                let value = self
                    .plain_text(attr, data)
                    .unwrap_or_else(|| valuetext::hex(data));
                format!("{name} = {value}")
            }
        }
    }

    fn number_text(&self, attr: &Attribute, n: u64) -> String {
        match self.value_name(attr.key, n) {
            Some(name) => name.to_string(),
            None => n.to_string(),
        }
    }

    /// The value of an untagged attribute, `None` if the octets do not fit
    /// the kind.
    fn plain_text(&self, attr: &Attribute, data: &[u8]) -> Option<String> {
        let number = |n: u64| Some(self.number_text(attr, n));
        match attr.kind {
            AttrKind::Text => Some(valuetext::quote(data)),
            AttrKind::String => Some(valuetext::hex(data)),
            AttrKind::Integer => number(u64::from(attr::as_u32(data)?)),
            AttrKind::Byte => number(u64::from(u8::from_be_bytes(data.try_into().ok()?))),
            AttrKind::Short => number(u64::from(u16::from_be_bytes(data.try_into().ok()?))),
            AttrKind::Integer64 => Some(u64::from_be_bytes(data.try_into().ok()?).to_string()),
            AttrKind::Date => Some(valuetext::format_date(attr::as_u32(data)?)),
            AttrKind::IpAddr => Some(attr::as_ipv4(data)?.to_string()),
            AttrKind::Ipv6Addr => Some(attr::as_ipv6(data)?.to_string()),
            AttrKind::Ipv6Prefix => {
                let (addr, len) = attr::as_ipv6_prefix(data)?;
                Some(format!("{addr}/{len}"))
            }
            AttrKind::Ether => Some(valuetext::format_ether(data.try_into().ok()?)),
            AttrKind::Ifid => Some(valuetext::format_ifid(data.try_into().ok()?)),
            AttrKind::TaggedText
            | AttrKind::TaggedInteger
            | AttrKind::EncryptedPassword
            | AttrKind::TunnelPassword
            | AttrKind::SaltEncrypted
            | AttrKind::Vsa => None,
        }
    }
}

/// The last `len` octets of `n`, big-endian; callers checked the range.
fn encode_number(n: u64, len: usize) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    bytes.get(bytes.len() - len..).unwrap_or_default().to_vec()
}
