//! Attribute values as text, both ways, in FreeRADIUS's spelling: quoted
//! strings with its escapes, `0x` hex, dates as radclient prints them, MAC
//! addresses and interface identifiers. Every reader here accepts exactly
//! what the matching writer produces (and a little more), so displayed
//! values can be pasted back.

use std::fmt::Write as _;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `"…"` with `\"`, `\\`, `\n`, `\r`, `\t`, and three-digit octal for other
/// control characters and for octets that are not UTF-8, so the result is
/// one printable line whatever the octets.
pub(super) fn quote(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        let _ = write!(out, "\\{b:03o}");
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\{b:03o}");
        }
    }
    out.push('"');
    out
}

/// The octets a value stands for: inside double quotes with [`quote`]'s
/// escapes, or else the text itself. The flag says whether it was quoted.
///
/// # Errors
/// What the text should have been, for a quote that is not closed or an
/// unknown escape.
pub(super) fn unquote(text: &str) -> Result<(Vec<u8>, bool), &'static str> {
    let Some(inner) = text.strip_prefix('"') else {
        return Ok((text.as_bytes().to_vec(), false));
    };
    let Some(inner) = inner.strip_suffix('"') else {
        return Err("a string closed by a double quote");
    };
    let escapes = "a string whose backslashes escape \\ \" n r t or three octal digits";
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(b'\\') => out.push(b'\\'),
                Some(b'"') => out.push(b'"'),
                Some(b'n') => out.push(b'\n'),
                Some(b'r') => out.push(b'\r'),
                Some(b't') => out.push(b'\t'),
                Some(first @ b'0'..=b'3') => {
                    let mut value = u32::from(first - b'0');
                    for _ in 0..2 {
                        match bytes.next() {
                            Some(d @ b'0'..=b'7') => value = value * 8 + u32::from(d - b'0'),
                            _ => return Err(escapes),
                        }
                    }
                    out.push(u8::try_from(value).map_err(|_| escapes)?);
                }
                _ => return Err(escapes),
            },
            // An unescaped quote inside would make the display ambiguous.
            b'"' => return Err(escapes),
            b => out.push(b),
        }
    }
    Ok((out, true))
}

/// `0x` and lowercase hex digits (just `0x` for no octets).
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 2 * bytes.len());
    out.push_str("0x");
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The octets of `0x…` hex (either case), `None` unless it is exactly that.
pub(super) fn parse_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if digits.len() % 2 != 0 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

/// The civil date of a day count since 1970-01-01 (H. Hinnant's algorithm,
/// restricted to the non-negative days a 32-bit date can reach).
fn civil_from_days(days: u64) -> (u64, usize, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, usize::try_from(month - 1).unwrap_or(0), day)
}

/// Days since 1970-01-01 of a civil date from 1970 on; `None` before it.
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 {
        year.checked_sub(1)?
    } else {
        year
    };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day.checked_sub(1)?;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// A date as radclient prints it with `TZ=UTC` (`strftime("%b %e %Y
/// %H:%M:%S %Z")`), quoted: `"Jan  1 1970 00:00:00 UTC"`.
pub(super) fn format_date(secs: u32) -> String {
    let secs = u64::from(secs);
    let (year, month, day) = civil_from_days(secs / 86_400);
    let t = secs % 86_400;
    let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
    let month = MONTHS.get(month).copied().unwrap_or("Jan");
    format!("\"{month} {day:>2} {year} {h:02}:{m:02}:{s:02} UTC\"")
}

/// Reads [`format_date`]'s text back (quotes already removed).
pub(super) fn parse_date(text: &str) -> Option<u32> {
    let [month, day, year, time, "UTC"] =
        <[&str; 5]>::try_from(text.split_ascii_whitespace().collect::<Vec<_>>()).ok()?
    else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let day: u64 = day.parse().ok()?;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(str::parse::<u64>);
    let (Some(Ok(h)), Some(Ok(m)), Some(Ok(s)), None) =
        (hms.next(), hms.next(), hms.next(), hms.next())
    else {
        return None;
    };
    if h > 23 || m > 59 || s > 59 || year > 9999 {
        return None;
    }
    let days = days_from_civil(year, u64::try_from(month).ok()? + 1, day)?;
    // Refuses Feb 30 and the like: the day must name itself.
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    u32::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// `aa:bb:cc:dd:ee:ff`.
pub(super) fn format_ether(octets: &[u8; 6]) -> String {
    let parts: Vec<String> = octets.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// Six hex pairs separated by `:` or `-`.
pub(super) fn parse_ether(text: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let mut out = [0u8; 6];
    if parts.len() != out.len() {
        return None;
    }
    for (dst, part) in out.iter_mut().zip(parts) {
        if part.is_empty() || part.len() > 2 {
            return None;
        }
        *dst = u8::from_str_radix(part, 16).ok()?;
    }
    Some(out)
}

/// Four groups of up to four hex digits, as FreeRADIUS prints an `ifid`.
pub(super) fn format_ifid(octets: &[u8; 8]) -> String {
    let groups: Vec<String> = octets
        .chunks(2)
        .map(|g| match g {
            [a, b] => format!("{:x}", u16::from_be_bytes([*a, *b])),
            _ => String::new(),
        })
        .collect();
    groups.join(":")
}

pub(super) fn parse_ifid(text: &str) -> Option<[u8; 8]> {
    let groups: Vec<&str> = text.split(':').collect();
    if groups.len() != 4 {
        return None;
    }
    let mut out = [0u8; 8];
    for (dst, group) in out.chunks_mut(2).zip(groups) {
        if group.is_empty() || group.len() > 4 {
            return None;
        }
        dst.copy_from_slice(&u16::from_str_radix(group, 16).ok()?.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn strings() {
        assert_eq!(quote(b"shell:priv-lvl=15"), "\"shell:priv-lvl=15\"");
        assert_eq!(
            quote(b"a\"b\\c\n\x1f\xff\xc3\xa9"),
            "\"a\\\"b\\\\c\\n\\037\\377\u{e9}\""
        );
        assert_eq!(quote(b""), "\"\"");
        for text in ["plain", "with \"quotes\"", "\u{1}\u{7f}\u{85}é", "\\"] {
            let q = quote(text.as_bytes());
            assert_eq!(unquote(&q).unwrap(), (text.as_bytes().to_vec(), true));
        }
        assert_eq!(unquote("bare \"x").unwrap(), (b"bare \"x".to_vec(), false));
        assert!(unquote("\"open").is_err());
        assert!(unquote("\"bad \\q\"").is_err());
        assert!(unquote("\"\\400\"").is_err());
        assert!(unquote("\"\\12\"").is_err());
        assert!(unquote("\"in\"side\"").is_err());
        assert!(unquote("\"").is_err());
    }

    #[test]
    fn hex_both_ways() {
        assert_eq!(hex(&[0, 0xab]), "0x00ab");
        assert_eq!(hex(&[]), "0x");
        assert_eq!(parse_hex("0x00AB"), Some(vec![0, 0xab]));
        assert_eq!(parse_hex("0x"), Some(vec![]));
        assert_eq!(parse_hex("0xabc"), None);
        assert_eq!(parse_hex("0x+1"), None);
        assert_eq!(parse_hex("0xé1"), None);
        assert_eq!(parse_hex("ab"), None);
    }

    #[test]
    fn dates() {
        assert_eq!(format_date(0), "\"Jan  1 1970 00:00:00 UTC\"");
        assert_eq!(format_date(951_782_400), "\"Feb 29 2000 00:00:00 UTC\"");
        assert_eq!(format_date(u32::MAX), "\"Feb  7 2106 06:28:15 UTC\"");
        for secs in [0, 1, 86_399, 951_782_400, 1_700_000_000, u32::MAX] {
            let text = format_date(secs);
            assert_eq!(parse_date(text.trim_matches('"')), Some(secs), "{text}");
        }
        assert_eq!(parse_date("Feb 30 2001 00:00:00 UTC"), None);
        assert_eq!(parse_date("Feb  7 2106 06:28:16 UTC"), None);
        assert_eq!(parse_date("Dec 31 1969 23:59:59 UTC"), None);
        assert_eq!(parse_date("Jan  1 1970 24:00:00 UTC"), None);
        assert_eq!(parse_date("Jan  1 1970 00:00:00 CET"), None);
        assert_eq!(parse_date("Jan 1 1970 00:00 UTC"), None);
    }

    #[test]
    fn ether_and_ifid() {
        let mac = [0, 0x1b, 0x2c, 0xff, 0, 1];
        assert_eq!(format_ether(&mac), "00:1b:2c:ff:00:01");
        assert_eq!(parse_ether("00:1B:2c:ff:0:01"), Some(mac));
        assert_eq!(parse_ether("00-1b-2c-ff-00-01"), Some(mac));
        assert_eq!(parse_ether("00:1b:2c:ff:00"), None);
        assert_eq!(parse_ether("00:1b:2c:ff:00:100"), None);
        let id = [0, 0, 0x12, 0x34, 0xab, 0xcd, 0, 1];
        assert_eq!(format_ifid(&id), "0:1234:abcd:1");
        assert_eq!(parse_ifid("0:1234:ABCD:0001"), Some(id));
        assert_eq!(parse_ifid("0:1234:abcd"), None);
        assert_eq!(parse_ifid("0:12345:abcd:1"), None);
    }
}
