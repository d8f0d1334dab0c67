//! The FreeRADIUS dictionary-file reader behind [`Dictionary::load`].
//!
//! It reads the FreeRADIUS 3 subset that flat reply attributes need:
//! `ATTRIBUTE`, `VALUE`, `VENDOR` (with `format=t,l`), `BEGIN-VENDOR` and
//! `END-VENDOR`, and `#` comments. What it cannot represent (TLVs, extended
//! attributes, `$INCLUDE`, Ascend secrets) is refused with the reason, never
//! skipped, so an administrator never believes a definition was loaded when
//! it was not. The caller reads the files; this module does no I/O.

use std::sync::Arc;

use super::dictionary::{AttrKey, Attribute, Dictionary, MAX_NAME_LEN, Origin, VendorFormat};
use super::error::{DictError, DictErrorKind};
use super::kind::AttrKind;

/// Longest line accepted, in octets: real dictionary lines are under 200.
pub const MAX_LINE_LEN: usize = 4096;

/// Attribute numbers RFC 6929 reserves for its extended formats.
const EXTENDED: std::ops::RangeInclusive<u64> = 241..=246;

impl Dictionary {
    /// Adds the definitions of one FreeRADIUS-format dictionary file, named
    /// `file` in errors. All or nothing: after an error the dictionary is as
    /// it was. A `VALUE` may come before its `ATTRIBUTE` within one file, not
    /// across files.
    ///
    /// # Errors
    /// A [`DictError`] (`FILE:LINE: reason`) for the first line that is
    /// malformed, unsupported, over a limit, or conflicts with a definition
    /// already present (built-in or loaded).
    pub fn load(&mut self, file: &str, text: &str) -> Result<(), DictError> {
        let mut next = self.clone();
        Loader {
            dict: &mut next,
            file: Arc::from(file),
            vendor: None,
            pending: Vec::new(),
        }
        .run(text)
        .map_err(|(line, reason)| DictError {
            file: file.to_string(),
            line,
            reason,
        })?;
        *self = next;
        Ok(())
    }
}

struct OpenVendor {
    name: String,
    id: u32,
    format: VendorFormat,
    line: usize,
}

struct PendingValue {
    line: usize,
    attr: String,
    name: String,
    number: u64,
}

struct Loader<'a> {
    dict: &'a mut Dictionary,
    file: Arc<str>,
    vendor: Option<OpenVendor>,
    /// VALUE lines whose attribute comes later in the same file.
    pending: Vec<PendingValue>,
}

type LineError = (usize, DictErrorKind);

impl Loader<'_> {
    fn run(mut self, text: &str) -> Result<(), LineError> {
        let mut last = 1;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            last = line;
            if raw.len() > MAX_LINE_LEN {
                return Err((
                    line,
                    DictErrorKind::LineTooLong {
                        len: raw.len(),
                        max: MAX_LINE_LEN,
                    },
                ));
            }
            let content = raw.split('#').next().unwrap_or_default();
            let words: Vec<&str> = content.split_ascii_whitespace().collect();
            if let Some((keyword, args)) = words.split_first() {
                self.line(line, keyword, args).map_err(|e| (line, e))?;
            }
        }
        if let Some(open) = self.vendor.take() {
            return Err((
                last,
                DictErrorKind::UnclosedVendor {
                    name: open.name,
                    line: open.line,
                },
            ));
        }
        for p in std::mem::take(&mut self.pending) {
            self.dict
                .add_value(&p.attr, &p.name, p.number)
                .map_err(|e| (p.line, e))?;
        }
        Ok(())
    }

    fn line(&mut self, line: usize, keyword: &str, args: &[&str]) -> Result<(), DictErrorKind> {
        let is = |k: &str| keyword.eq_ignore_ascii_case(k);
        if is("ATTRIBUTE") {
            self.attribute(line, args)
        } else if is("VALUE") {
            self.value(line, args)
        } else if is("VENDOR") {
            self.vendor(line, args)
        } else if is("BEGIN-VENDOR") {
            self.begin_vendor(line, args)
        } else if is("END-VENDOR") {
            self.end_vendor(args)
        } else if is("$INCLUDE") || is("$INCLUDE-") {
            Err(DictErrorKind::Include {
                target: args.first().unwrap_or(&"the file").to_string(),
            })
        } else if is("BEGIN-TLV") || is("END-TLV") {
            Err(DictErrorKind::UnsupportedKeyword {
                keyword: keyword.to_string(),
                why: "TLV attributes are not supported",
            })
        } else if is("PROTOCOL") || is("BEGIN-PROTOCOL") || is("END-PROTOCOL") {
            Err(DictErrorKind::UnsupportedKeyword {
                keyword: keyword.to_string(),
                why: "FreeRADIUS 4 dictionaries are not supported",
            })
        } else {
            Err(DictErrorKind::UnknownKeyword {
                word: keyword.to_string(),
            })
        }
    }

    fn origin(&self, line: usize) -> Origin {
        Origin::File {
            file: Arc::clone(&self.file),
            line,
        }
    }

    fn attribute(&mut self, line: usize, args: &[&str]) -> Result<(), DictErrorKind> {
        let (name, number, typ, flags) = match args {
            [name, number, typ] => (*name, *number, *typ, None),
            [name, number, typ, flags] => (*name, *number, *typ, Some(*flags)),
            _ => {
                return Err(DictErrorKind::Usage {
                    usage: "ATTRIBUTE name number type [flags]",
                });
            }
        };
        check_name(name, false)?;
        if number.contains('.') {
            return Err(DictErrorKind::TlvMember {
                text: number.to_string(),
            });
        }
        let n = parse_number(number)?;
        let key = match &self.vendor {
            Some(v) => AttrKey::vendor(v.id, in_range("attribute", n, 0, v.format.max_type())?),
            None if EXTENDED.contains(&n) => {
                return Err(DictErrorKind::ExtendedSpace { number: n });
            }
            None => AttrKey::vendor(0, in_range("attribute", n, 1, 255)?),
        };
        let (kind, secret) = self.kind_of(typ, flags)?;
        if kind == AttrKind::Vsa && key != AttrKey::standard(26) {
            return Err(DictErrorKind::UnsupportedType {
                typ: typ.to_string(),
                why: "only attribute 26 (Vendor-Specific) holds vendor attributes",
            });
        }
        self.dict.count_definition()?;
        let origin = self.origin(line);
        self.dict.add_attribute(Attribute {
            name: name.into(),
            key,
            kind,
            secret,
            origin,
        })
    }

    /// The kind a FreeRADIUS type and flags describe, and the `secret` flag.
    fn kind_of(&self, typ: &str, flags: Option<&str>) -> Result<(AttrKind, bool), DictErrorKind> {
        let base = base_kind(typ)?;
        let (mut tag, mut encrypt, mut secret) = (false, None, false);
        for flag in flags
            .unwrap_or_default()
            .split(',')
            .filter(|f| !f.is_empty())
        {
            let unsupported = |why| {
                Err(DictErrorKind::UnsupportedFlag {
                    flag: flag.to_string(),
                    why,
                })
            };
            match flag.to_ascii_lowercase().as_str() {
                "has_tag" => tag = true,
                "encrypt=1" => encrypt = Some(1),
                "encrypt=2" => encrypt = Some(2),
                "secret" => secret = true,
                // Only matters when splitting values over several
                // attributes, and replies never carry values that long.
                "concat" => {}
                "encrypt=3" => return unsupported("Ascend secret hiding is not supported"),
                "array" => return unsupported("arrays are not supported"),
                "virtual" => return unsupported("virtual attributes are never sent"),
                _ if self.dict.vendor_named(flag).is_some() => {
                    return unsupported(
                        "name the vendor with BEGIN-VENDOR and END-VENDOR around the attribute",
                    );
                }
                _ => {
                    return Err(DictErrorKind::UnknownFlag {
                        flag: flag.to_string(),
                    });
                }
            }
        }
        let not_for_type = |flag: &str| {
            Err(DictErrorKind::FlagNotForType {
                flag: flag.to_string(),
                typ: typ.to_string(),
            })
        };
        let textual = matches!(base, AttrKind::Text | AttrKind::String);
        let kind = match (encrypt, tag) {
            (Some(_), _) if !textual => return not_for_type("encrypt"),
            (Some(1), true) => return not_for_type("has_tag,encrypt=1"),
            (Some(1), false) => AttrKind::EncryptedPassword,
            (Some(_), true) => AttrKind::TunnelPassword,
            (Some(_), false) => AttrKind::SaltEncrypted,
            (None, true) => match base {
                AttrKind::Text => AttrKind::TaggedText,
                AttrKind::Integer => AttrKind::TaggedInteger,
                _ => return not_for_type("has_tag"),
            },
            (None, false) => base,
        };
        Ok((kind, secret))
    }

    fn value(&mut self, line: usize, args: &[&str]) -> Result<(), DictErrorKind> {
        let [attr, name, number] = args else {
            return Err(DictErrorKind::Usage {
                usage: "VALUE attribute name number",
            });
        };
        check_name(attr, false)?;
        check_name(name, true)?;
        let number = parse_number(number)?;
        self.dict.count_definition()?;
        match self.dict.add_value(attr, name, number) {
            Err(DictErrorKind::ValueForUnknownAttribute { .. }) => {
                self.pending.push(PendingValue {
                    line,
                    attr: (*attr).to_string(),
                    name: (*name).to_string(),
                    number,
                });
                Ok(())
            }
            other => other,
        }
    }

    fn vendor(&mut self, line: usize, args: &[&str]) -> Result<(), DictErrorKind> {
        let (name, id, format) = match args {
            [name, id] => (*name, *id, None),
            [name, id, format] => (*name, *id, Some(*format)),
            _ => {
                return Err(DictErrorKind::Usage {
                    usage: "VENDOR name number [format=t,l]",
                });
            }
        };
        check_name(name, false)?;
        // RFC 2865 §5.26: the high-order octet of a Vendor-Id is 0.
        let id = in_range("vendor", parse_number(id)?, 1, 0x00FF_FFFF)?;
        let format = match format {
            Some(f) => parse_format(f)?,
            None => VendorFormat::RFC,
        };
        self.dict.count_definition()?;
        let origin = self.origin(line);
        self.dict.add_vendor(name, id, format, origin)
    }

    fn begin_vendor(&mut self, line: usize, args: &[&str]) -> Result<(), DictErrorKind> {
        let name = match args {
            [name] => *name,
            [_, extra] => {
                return Err(DictErrorKind::BadVendorFormat {
                    format: (*extra).to_string(),
                    why: "vendors inside RFC 6929 extended attributes are not supported",
                });
            }
            _ => {
                return Err(DictErrorKind::Usage {
                    usage: "BEGIN-VENDOR name",
                });
            }
        };
        if let Some(open) = &self.vendor {
            return Err(DictErrorKind::NestedVendor {
                name: name.to_string(),
                open: open.name.clone(),
                line: open.line,
            });
        }
        let Some(v) = self.dict.vendor_named(name) else {
            return Err(DictErrorKind::UnknownVendor {
                name: name.to_string(),
            });
        };
        self.vendor = Some(OpenVendor {
            name: v.name.to_string(),
            id: v.id,
            format: v.format,
            line,
        });
        Ok(())
    }

    fn end_vendor(&mut self, args: &[&str]) -> Result<(), DictErrorKind> {
        let [name] = args else {
            return Err(DictErrorKind::Usage {
                usage: "END-VENDOR name",
            });
        };
        match &self.vendor {
            Some(open) if open.name.eq_ignore_ascii_case(name) => {
                self.vendor = None;
                Ok(())
            }
            open => Err(DictErrorKind::UnmatchedEndVendor {
                name: (*name).to_string(),
                open: open.as_ref().map(|o| o.name.clone()),
            }),
        }
    }
}

/// Names are what `Name:TAG=value` can carry unambiguously. A VALUE name that
/// is a plain number would read as that number instead.
fn check_name(name: &str, is_value: bool) -> Result<(), DictErrorKind> {
    let ok = (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./+,".contains(&b))
        && if is_value {
            !name.bytes().all(|b| b.is_ascii_digit())
        } else {
            // `Name+=v` and `Name-=v` must read as operators, not names.
            name.bytes()
                .last()
                .is_some_and(|b| b.is_ascii_alphanumeric())
        };
    if ok {
        Ok(())
    } else {
        Err(DictErrorKind::BadName {
            name: name.chars().take(MAX_NAME_LEN).collect(),
        })
    }
}

/// Decimal, or hexadecimal after `0x`, as FreeRADIUS reads numbers.
fn parse_number(text: &str) -> Result<u64, DictErrorKind> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        None => None,
    };
    parsed.ok_or_else(|| DictErrorKind::BadNumber {
        text: text.chars().take(40).collect(),
    })
}

fn in_range(what: &'static str, n: u64, min: u32, max: u32) -> Result<u32, DictErrorKind> {
    u32::try_from(n)
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or(DictErrorKind::OutOfRange {
            what,
            number: n,
            min: u64::from(min),
            max: u64::from(max),
        })
}

fn parse_format(text: &str) -> Result<VendorFormat, DictErrorKind> {
    let bad = |why| DictErrorKind::BadVendorFormat {
        format: text.chars().take(40).collect(),
        why,
    };
    let Some(spec) = text.strip_prefix("format=") else {
        return Err(bad("expected format=t,l"));
    };
    let parts: Vec<&str> = spec.split(',').collect();
    let (t, l) = match parts.as_slice() {
        [t, l] => (*t, *l),
        [_, _, c] if c.eq_ignore_ascii_case("c") => {
            return Err(bad("continuation octets (WiMAX) are not supported"));
        }
        _ => return Err(bad("expected format=t,l")),
    };
    let sizes = "type octets are 1, 2 or 4 and length octets 0, 1 or 2";
    let type_len = match t {
        "1" => 1,
        "2" => 2,
        "4" => 4,
        _ => return Err(bad(sizes)),
    };
    let length_len = match l {
        "0" => 0,
        "1" => 1,
        "2" => 2,
        _ => return Err(bad(sizes)),
    };
    Ok(VendorFormat {
        type_len,
        length_len,
    })
}

fn base_kind(typ: &str) -> Result<AttrKind, DictErrorKind> {
    let lower = typ.to_ascii_lowercase();
    let unsupported = |why| {
        Err(DictErrorKind::UnsupportedType {
            typ: typ.to_string(),
            why,
        })
    };
    if let Some(size) = lower
        .strip_prefix("octets[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        // The size only documents the attribute; values are checked by type.
        return match size.parse::<u8>() {
            Ok(1..=253) => Ok(AttrKind::String),
            _ => Err(DictErrorKind::UnknownType {
                typ: typ.to_string(),
            }),
        };
    }
    Ok(match lower.as_str() {
        "string" => AttrKind::Text,
        "octets" => AttrKind::String,
        "integer" | "uint32" => AttrKind::Integer,
        "byte" | "uint8" => AttrKind::Byte,
        "short" | "uint16" => AttrKind::Short,
        "integer64" | "uint64" => AttrKind::Integer64,
        "ipaddr" | "ipv4addr" => AttrKind::IpAddr,
        "ipv6addr" => AttrKind::Ipv6Addr,
        "ipv6prefix" => AttrKind::Ipv6Prefix,
        "date" => AttrKind::Date,
        "ether" => AttrKind::Ether,
        "ifid" => AttrKind::Ifid,
        "vsa" => AttrKind::Vsa,
        "tlv" | "evs" | "extended" | "long-extended" => {
            return unsupported("only flat attributes are supported");
        }
        "signed" | "int32" => return unsupported("signed integers are not supported"),
        "ipv4prefix" | "combo-ip" | "abinary" | "bool" => {
            return unsupported(
                "use one of string, octets, integer, byte, short, integer64, ipaddr, ipv6addr, ipv6prefix, date, ether, ifid",
            );
        }
        _ => {
            return Err(DictErrorKind::UnknownType {
                typ: typ.to_string(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn load(text: &str) -> Result<Dictionary, String> {
        let mut d = Dictionary::new();
        d.load("site.dict", text).map_err(|e| e.to_string())?;
        Ok(d)
    }

    fn error(text: &str) -> String {
        load(text).expect_err("must be refused")
    }

    const ACME: &str = "\
# A vendor of our own.
VENDOR\t\tAcme\t\t\t99999
BEGIN-VENDOR\tAcme
ATTRIBUTE\tAcme-Role\t\t1\tstring
ATTRIBUTE\tAcme-Level\t\t2\tinteger  # privilege
ATTRIBUTE\tAcme-Gateway\t\t3\tipaddr
ATTRIBUTE\tAcme-Blob\t\t4\toctets[16] secret
ATTRIBUTE\tAcme-Tunnel\t\t5\tstring has_tag
ATTRIBUTE\tAcme-Key\t\t6\toctets encrypt=2
END-VENDOR\tAcme
VALUE\tAcme-Level\t\tOperator\t\t1
VALUE\tAcme-Level\t\tAdmin\t\t\t0x0f
";

    #[test]
    fn a_vendor_file_loads() {
        let d = load(ACME).unwrap();
        let role = d.attribute("acme-role").unwrap();
        assert_eq!(role.key, AttrKey::vendor(99999, 1));
        assert_eq!(role.kind, AttrKind::Text);
        assert_eq!(
            role.origin,
            Origin::File {
                file: "site.dict".into(),
                line: 4
            }
        );
        assert!(d.attribute("Acme-Blob").unwrap().secret);
        assert_eq!(
            d.attribute("Acme-Tunnel").unwrap().kind,
            AttrKind::TaggedText
        );
        assert_eq!(
            d.attribute("Acme-Key").unwrap().kind,
            AttrKind::SaltEncrypted
        );
        let level = AttrKey::vendor(99999, 2);
        assert_eq!(d.value_number(level, "admin"), Some(15));
        assert_eq!(d.value_name(level, 1), Some("Operator"));
        // VALUE names may end as FreeRADIUS's do.
        assert!(load("VALUE NAS-Port-Type ADSL2+ 99\nVALUE NAS-Port-Type All_ 98\n").is_ok());
    }

    #[test]
    fn formats_and_value_order() {
        let d = load(
            "VALUE Wide-Mode Fast 3\n\
             VENDOR Wide 4242 format=2,1\nVENDOR Bare 4243 format=4,0\n\
             BEGIN-VENDOR Wide\nATTRIBUTE Wide-Mode 300 short\nEND-VENDOR Wide\n\
             BEGIN-VENDOR Bare\nATTRIBUTE Bare-Data 70000 octets\nEND-VENDOR Bare\n",
        )
        .unwrap();
        assert_eq!(d.key_of("wide-mode"), Some(AttrKey::vendor(4242, 300)));
        assert_eq!(d.key_of("Bare-Data"), Some(AttrKey::vendor(4243, 70000)));
        assert_eq!(d.value_number(AttrKey::vendor(4242, 300), "Fast"), Some(3));
        let wide = d.vendor_named("WIDE").unwrap();
        assert_eq!((wide.format.type_len, wide.format.length_len), (2, 1));
    }

    #[test]
    fn identical_redefinitions_of_built_ins_are_fine() {
        let d = load(
            "ATTRIBUTE\tTunnel-Private-Group-Id\t81\tstring\thas_tag\n\
             ATTRIBUTE\tUser-Password\t2\tstring\tencrypt=1\n\
             ATTRIBUTE\tCHAP-Password\t3\toctets\n\
             VALUE\tTunnel-Type\tVLAN\t13\n\
             VENDOR\tCisco\t9\n\
             BEGIN-VENDOR\tCisco\nATTRIBUTE\tCisco-AVPair\t1\tstring\nEND-VENDOR\tCisco\n",
        )
        .unwrap();
        assert_eq!(
            d.attribute("Tunnel-Private-Group-Id").unwrap().origin,
            Origin::BuiltIn
        );
        // An older name for a number is an alias; the newest is displayed.
        let d = load("ATTRIBUTE Time-Limit 27 integer\n").unwrap();
        assert_eq!(
            d.attribute_by_key(AttrKey::standard(27))
                .unwrap()
                .name
                .as_ref(),
            "Time-Limit"
        );
        assert_eq!(d.key_of("Session-Timeout"), Some(AttrKey::standard(27)));
    }

    #[test]
    fn errors_name_file_line_and_both_definitions() {
        assert_eq!(
            error("\n\nATTRIBUTE Session-Timeout 27 string\n"),
            "site.dict:3: Session-Timeout is defined twice: here as 27 string (site.dict:3), \
             before as 27 integer (built-in)"
        );
        assert_eq!(
            error("ATTRIBUTE My-Timeout 27 string\n"),
            "site.dict:1: My-Timeout is 27 string (site.dict:1), but that number is \
             Session-Timeout, 27 integer (built-in)"
        );
        assert_eq!(
            error("VENDOR Acme 1\nVENDOR Acme 2\n"),
            "site.dict:2: vendor Acme is defined twice: here as 2 format=1,1 (site.dict:2), \
             before as 1 format=1,1 (site.dict:1)"
        );
        assert_eq!(
            error("VALUE Tunnel-Type VLAN 14\n"),
            "site.dict:1: VALUE VLAN of Tunnel-Type is defined twice: here as 14, before as 13"
        );
        let twice = "VENDOR A 7\nBEGIN-VENDOR A\nATTRIBUTE A-X 1 string\nEND-VENDOR A\n\
                     BEGIN-VENDOR A\nATTRIBUTE A-X 2 string\nEND-VENDOR A\n";
        assert_eq!(
            error(twice),
            "site.dict:6: A-X is defined twice: here as A 2 string (site.dict:6), \
             before as A 1 string (site.dict:3)"
        );
    }

    #[test]
    fn refusals_say_why() {
        let cases: &[(&str, &str)] = &[
            (
                "$INCLUDE dictionary.acme\n",
                "site.dict:1: $INCLUDE is not supported: every file of the dictionary directory is loaded, so put dictionary.acme there instead",
            ),
            (
                "ATTRIBUTE X 1\n",
                "site.dict:1: expected `ATTRIBUTE name number type [flags]`",
            ),
            (
                "ATTRIBUTE X 300 string\n",
                "site.dict:1: attribute 300 is outside 1..=255",
            ),
            (
                "ATTRIBUTE X 0 string\n",
                "site.dict:1: attribute 0 is outside 1..=255",
            ),
            (
                "ATTRIBUTE X 241 string\n",
                "site.dict:1: attribute 241 is in the RFC 6929 extended space (241..=246), which is not supported",
            ),
            (
                "ATTRIBUTE X 26.9.1 string\n",
                "site.dict:1: attribute number 26.9.1 names a TLV member, which is not supported",
            ),
            (
                "ATTRIBUTE X 1x string\n",
                "site.dict:1: \"1x\" is not a number",
            ),
            (
                "ATTRIBUTE X 200 float\n",
                "site.dict:1: unknown type \"float\"",
            ),
            (
                "ATTRIBUTE X 200 tlv\n",
                "site.dict:1: type tlv is not supported: only flat attributes are supported",
            ),
            (
                "ATTRIBUTE X 200 string encrypt=3\n",
                "site.dict:1: flag encrypt=3 is not supported: Ascend secret hiding is not supported",
            ),
            (
                "ATTRIBUTE X 200 ipaddr has_tag\n",
                "site.dict:1: flag has_tag cannot be used with type ipaddr",
            ),
            (
                "ATTRIBUTE X 200 integer encrypt=1\n",
                "site.dict:1: flag encrypt cannot be used with type integer",
            ),
            (
                "ATTRIBUTE X 200 string bogus\n",
                "site.dict:1: unknown flag \"bogus\"",
            ),
            (
                "ATTRIBUTE X 200 string Cisco\n",
                "site.dict:1: flag Cisco is not supported: name the vendor with BEGIN-VENDOR and END-VENDOR around the attribute",
            ),
            (
                "ATTRIBUTE X 200 vsa\n",
                "site.dict:1: type vsa is not supported: only attribute 26 (Vendor-Specific) holds vendor attributes",
            ),
            (
                "ATTRIBUTE Bad:Name 200 string\n",
                "site.dict:1: invalid name \"Bad:Name\": names are 1 to 128 letters, digits and - _ . / + , other names end in a letter or digit, and VALUE names are not plain numbers",
            ),
            (
                "ATTRIBUTE Plus+ 200 string\n",
                "site.dict:1: invalid name \"Plus+\": names are 1 to 128 letters, digits and - _ . / + , other names end in a letter or digit, and VALUE names are not plain numbers",
            ),
            (
                "VALUE Session-Timeout 56 1\n",
                "site.dict:1: invalid name \"56\": names are 1 to 128 letters, digits and - _ . / + , other names end in a letter or digit, and VALUE names are not plain numbers",
            ),
            (
                "VALUE Reply-Message Hi 1\n",
                "site.dict:1: VALUE for Reply-Message, of type string: only integer, byte and short attributes have named values",
            ),
            (
                "VALUE Tunnel-Type Huge 16777216\n",
                "site.dict:1: VALUE 16777216 is outside 0..=16777215",
            ),
            (
                "\nVALUE Nothing-Here X 1\n",
                "site.dict:2: VALUE for unknown attribute \"Nothing-Here\"",
            ),
            (
                "VENDOR W 5 format=1,1,c\n",
                "site.dict:1: vendor format \"format=1,1,c\" is not supported: continuation octets (WiMAX) are not supported",
            ),
            (
                "VENDOR W 5 format=3,1\n",
                "site.dict:1: vendor format \"format=3,1\" is not supported: type octets are 1, 2 or 4 and length octets 0, 1 or 2",
            ),
            (
                "VENDOR W 0\n",
                "site.dict:1: vendor 0 is outside 1..=16777215",
            ),
            (
                "BEGIN-VENDOR Nobody\n",
                "site.dict:1: unknown vendor \"Nobody\"",
            ),
            (
                "BEGIN-VENDOR Cisco format=Extended-Vendor-Specific-1\n",
                "site.dict:1: vendor format \"format=Extended-Vendor-Specific-1\" is not supported: vendors inside RFC 6929 extended attributes are not supported",
            ),
            (
                "BEGIN-VENDOR Cisco\nBEGIN-VENDOR Aruba\n",
                "site.dict:2: BEGIN-VENDOR Aruba inside BEGIN-VENDOR Cisco of line 1",
            ),
            (
                "END-VENDOR Cisco\n",
                "site.dict:1: END-VENDOR Cisco does not close any BEGIN-VENDOR",
            ),
            (
                "BEGIN-VENDOR Cisco\nEND-VENDOR Aruba\n",
                "site.dict:2: END-VENDOR Aruba does not close Cisco",
            ),
            (
                "BEGIN-VENDOR Cisco\n\n# end\n",
                "site.dict:3: BEGIN-VENDOR Cisco of line 1 is never closed",
            ),
            (
                "BEGIN-TLV X\n",
                "site.dict:1: BEGIN-TLV is not supported: TLV attributes are not supported",
            ),
            ("FLAGS internal\n", "site.dict:1: unknown keyword \"FLAGS\""),
        ];
        for (text, expected) in cases {
            assert_eq!(&error(text), expected, "{text}");
        }
    }

    #[test]
    fn a_failed_load_changes_nothing() {
        let mut d = Dictionary::new();
        let err = d
            .load(
                "bad.dict",
                "ATTRIBUTE Ok-One 200 string\nATTRIBUTE Ok-One 201 string\n",
            )
            .unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(err.file, "bad.dict");
        assert!(d.key_of("Ok-One").is_none());
    }

    #[test]
    fn limits() {
        let long = format!("# {}\n", "x".repeat(MAX_LINE_LEN));
        assert_eq!(
            error(&long),
            format!(
                "site.dict:1: line of {} octets exceeds the maximum of 4096",
                MAX_LINE_LEN + 2
            )
        );
        let mut d = Dictionary::new();
        let mut text = String::from("ATTRIBUTE Counted 200 integer\n");
        for i in 0..super::super::dictionary::MAX_DEFINITIONS {
            text.push_str(&format!("VALUE Counted V{i} {i}\n"));
        }
        let err = d.load("big.dict", &text).unwrap_err();
        assert_eq!(err.line, super::super::dictionary::MAX_DEFINITIONS + 1);
        assert_eq!(
            err.reason,
            DictErrorKind::TooManyDefinitions {
                max: super::super::dictionary::MAX_DEFINITIONS
            }
        );
    }
}
