//! Property tests of the dictionary: every kind of value displays the way
//! FreeRADIUS does and reads back from its display, and neither `encode` nor
//! `load` panics on any text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use proptest::prelude::*;

use super::dict;
use super::dictionary::Dictionary;
use super::reply::EncodedAttr;

/// The built-ins plus one attribute of each kind they lack, in a vendor of
/// each format that replies can use.
static DICT: LazyLock<Dictionary> = LazyLock::new(|| {
    let mut d = Dictionary::new();
    d.load(
        "kinds",
        "ATTRIBUTE Test-Byte 250 byte\n\
         VALUE Test-Byte Low 1\n\
         VENDOR Test-Nolen 60001 format=1,0\nVENDOR Test-Long 60002 format=1,2\n\
         BEGIN-VENDOR Test-Nolen\nATTRIBUTE Test-Nolen-Text 1 string\nEND-VENDOR Test-Nolen\n\
         BEGIN-VENDOR Test-Long\nATTRIBUTE Test-Long-Ip 1 ipaddr\nEND-VENDOR Test-Long\n",
    )
    .unwrap();
    d
});

/// Encodes, checks the display against `expected`, and checks that the
/// display encodes to the same octets.
fn round_trip(text: &str, expected: &str) -> Result<(), TestCaseError> {
    let d = &*DICT;
    let a = d
        .encode(text)
        .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
    prop_assert!(a.value.len() <= 253);
    let shown = d.describe(a.typ, &a.value);
    prop_assert_eq!(&shown, expected);
    let again = d
        .encode(&shown)
        .map_err(|e| TestCaseError::fail(format!("{shown}: {e}")))?;
    prop_assert_eq!(again, a);
    Ok(())
}

/// The displayed name of a number, as FreeRADIUS picks it: the last VALUE
/// line for it.
fn value_name(typ: u8, n: u32) -> String {
    dict::VALUES
        .iter()
        .rev()
        .find(|v| v.typ == typ && v.value == n)
        .map_or_else(|| n.to_string(), |v| v.name.to_string())
}

/// Printable text that reads as itself when written unquoted: no control
/// characters, no surrounding spaces, no leading quote or operator.
fn plain_text(max: usize) -> impl Strategy<Value = String> {
    "[^\\p{C}\\s\"=~*][^\\p{C}]{0,80}"
        .prop_filter("fits", move |s| s.len() <= max && s.trim_end() == s)
}

fn escaped(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn strings(s in plain_text(247), tag in 0u8..=31) {
        round_trip(&format!("Reply-Message={s}"), &format!("Reply-Message = {}", escaped(&s)))?;
        round_trip(&format!("Cisco-AVPair = {s}"), &format!("Cisco-AVPair = {}", escaped(&s)))?;
        round_trip(&format!("Test-Nolen-Text={s}"), &format!("Test-Nolen-Text = {}", escaped(&s)))?;
        round_trip(
            &format!("Tunnel-Private-Group-Id:{tag}={s}"),
            &format!("Tunnel-Private-Group-Id:{tag} = {}", escaped(&s)),
        )?;
    }

    #[test]
    fn any_octets_as_strings_read_back(bytes in prop::collection::vec(any::<u8>(), 1..=252)) {
        // Written with an octal escape for every octet.
        let quoted: String = bytes.iter().map(|b| format!("\\{b:03o}")).collect();
        for name in ["Reply-Message", "Tunnel-Client-Endpoint"] {
            let a = DICT.encode(&format!("{name}=\"{quoted}\"")).unwrap();
            let shown = DICT.describe(a.typ, &a.value);
            prop_assert!(shown.starts_with(name), "{}", shown);
            prop_assert_eq!(DICT.encode(&shown).unwrap(), a);
        }
    }

    #[test]
    fn octets(bytes in prop::collection::vec(any::<u8>(), 1..=253)) {
        round_trip(&format!("Class=0x{}", hex(&bytes)), &format!("Class = 0x{}", hex(&bytes)))?;
        round_trip(
            &format!("Class=0X{}", hex(&bytes).to_uppercase()),
            &format!("Class = 0x{}", hex(&bytes)),
        )?;
    }

    #[test]
    fn integers(n in any::<u32>(), small in 0u32..40, tag in 0u8..=31, t24 in 0u32..=0xFF_FFFF) {
        round_trip(&format!("Session-Timeout={n}"), &format!("Session-Timeout = {n}"))?;
        round_trip(&format!("Service-Type={small}"), &format!("Service-Type = {}", value_name(6, small)))?;
        round_trip(&format!("Service-Type={n}"), &format!("Service-Type = {}", value_name(6, n)))?;
        round_trip(&format!("Tunnel-Type:{tag}={small}"), &format!("Tunnel-Type:{tag} = {}", value_name(64, small)))?;
        round_trip(&format!("Tunnel-Preference:{tag} = {t24}"), &format!("Tunnel-Preference:{tag} = {t24}"))?;
        round_trip(&format!("Cisco-Maximum-Time={n}"), &format!("Cisco-Maximum-Time = {n}"))?;
    }

    #[test]
    fn sized_numbers(b in any::<u8>(), s in any::<u16>(), l in any::<u64>()) {
        let byte = if b == 1 { "Low".to_string() } else { b.to_string() };
        round_trip(&format!("Test-Byte={b}"), &format!("Test-Byte = {byte}"))?;
        round_trip(&format!("PKM-SAID={s}"), &format!("PKM-SAID = {s}"))?;
        round_trip(&format!("MIP6-Feature-Vector={l}"), &format!("MIP6-Feature-Vector = {l}"))?;
    }

    #[test]
    fn addresses(v4 in any::<u32>(), v6 in any::<u128>(), len in 0u8..=128, mac in any::<[u8; 6]>(), id in any::<[u8; 8]>()) {
        let ip = Ipv4Addr::from(v4);
        round_trip(&format!("Framed-IP-Address={ip}"), &format!("Framed-IP-Address = {ip}"))?;
        round_trip(&format!("Test-Long-Ip={ip}"), &format!("Test-Long-Ip = {ip}"))?;
        let ip6 = Ipv6Addr::from(v6);
        round_trip(&format!("Login-IPv6-Host={ip6}"), &format!("Login-IPv6-Host = {ip6}"))?;
        let masked = Ipv6Addr::from(v6 & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0));
        round_trip(
            &format!("Framed-IPv6-Prefix={ip6}/{len}"),
            &format!("Framed-IPv6-Prefix = {masked}/{len}"),
        )?;
        let mac_text = mac.map(|b| format!("{b:02x}")).join(":");
        round_trip(
            &format!("Fortinet-WirelessController-Device-MAC={}", mac_text.to_uppercase()),
            &format!("Fortinet-WirelessController-Device-MAC = {mac_text}"),
        )?;
        let groups: Vec<String> = id
            .chunks(2)
            .map(|g| format!("{:x}", u16::from_be_bytes([g[0], g[1]])))
            .collect();
        let padded: Vec<String> = id.chunks(2).map(|g| format!("{:02x}{:02x}", g[0], g[1])).collect();
        round_trip(
            &format!("Framed-Interface-Id={}", padded.join(":")),
            &format!("Framed-Interface-Id = {}", groups.join(":")),
        )?;
    }

    #[test]
    fn dates(secs in any::<u32>()) {
        let shown = jiff::Timestamp::from_second(i64::from(secs))
            .unwrap()
            .strftime("%b %e %Y %H:%M:%S")
            .to_string();
        round_trip(&format!("Event-Timestamp={secs}"), &format!("Event-Timestamp = \"{shown} UTC\""))?;
        round_trip(
            &format!("Fortinet-WirelessController-Assoc-Time={secs}"),
            &format!("Fortinet-WirelessController-Assoc-Time = \"{shown} UTC\""),
        )?;
    }

    #[test]
    fn encode_never_panics(text in any::<String>()) {
        check_encode(&text);
    }

    #[test]
    fn encode_never_panics_near_real_names(
        name in prop::sample::select(vec![
            "Tunnel-Type", "Tunnel-Private-Group-Id", "Session-Timeout", "Cisco-AVPair",
            "Framed-IPv6-Prefix", "Event-Timestamp", "Class", "Test-Byte", "Test-Long-Ip",
            "Fortinet-WirelessController-Device-MAC", "Framed-Interface-Id", "User-Password",
        ]),
        tag in prop::option::of("[0-9a-z+ ]{0,4}"),
        value in "[ -~]{0,40}|\"[ -~]{0,12}\"|0x[0-9a-fA-F]{0,9}|[0-9:./]{0,45}",
    ) {
        let tag = tag.map(|t| format!(":{t}")).unwrap_or_default();
        check_encode(&format!("{name}{tag}={value}"));
    }

    #[test]
    fn load_never_panics(text in any::<String>()) {
        let mut d = Dictionary::new();
        let _ = d.load("fuzz", &text);
    }

    #[test]
    fn load_never_panics_on_near_real_lines(
        lines in prop::collection::vec(
            (
                prop::sample::select(vec![
                    "ATTRIBUTE", "VALUE", "VENDOR", "BEGIN-VENDOR", "END-VENDOR", "$INCLUDE",
                    "attribute", "# comment", "",
                ]),
                prop::collection::vec(
                    prop::sample::select(vec![
                        "Fz", "Fz-A", "Fz-B", "Tunnel-Type", "Cisco", "1", "2", "26", "241",
                        "255", "256", "70000", "0x1F", "string", "integer", "octets[4]",
                        "byte", "short", "integer64", "ipaddr", "ether", "ifid", "date",
                        "has_tag", "encrypt=1", "encrypt=2", "secret", "format=2,1",
                        "format=1,0", "format=4,0", "format=1,2", "VLAN", "Low", "9999",
                    ]),
                    0..5,
                ),
            ),
            0..24,
        ),
        value in "[ -~]{0,20}",
    ) {
        let text: String = lines
            .iter()
            .map(|(k, args)| format!("{k} {}\n", args.join(" ")))
            .collect();
        let mut d = Dictionary::new();
        if d.load("fuzz", &text).is_ok() {
            for name in ["Fz", "Fz-A", "Fz-B"] {
                check_encode_with(&d, &format!("{name}={value}"));
                check_encode_with(&d, &format!("{name}:1={value}"));
            }
        }
    }
}

/// Whatever encodes fits an attribute, displays under its own name, and
/// reads back from its display.
fn check_encode(text: &str) {
    check_encode_with(&DICT, text);
}

fn check_encode_with(d: &Dictionary, text: &str) {
    let Ok(a) = d.encode(text) else { return };
    assert!(!a.value.is_empty() && a.value.len() <= 253, "{text}");
    let shown = d.describe(a.typ, &a.value);
    assert!(!shown.starts_with("Attr-"), "{text} -> {shown}");
    let again: EncodedAttr = d.encode(&shown).unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert_eq!(again, a, "{text} -> {shown}");
}
