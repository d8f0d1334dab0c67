//! Byte-exact tests of reply attributes: encoding from text, display, the
//! refusals, and merge keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::dictionary::{AttrKey, Dictionary};
use super::error::AttrValueError;
use super::reply::{EncodedAttr, MAX_TEXT_LEN, vlan};
use super::test_util::hex;

/// The attribute as it sits in a packet: type, length, value.
fn wire(a: &EncodedAttr) -> Vec<u8> {
    let mut out = vec![a.typ, u8::try_from(a.value.len() + 2).unwrap()];
    out.extend_from_slice(&a.value);
    out
}

fn enc(d: &Dictionary, text: &str) -> Vec<u8> {
    wire(&d.encode(text).unwrap_or_else(|e| panic!("{text}: {e}")))
}

fn err(d: &Dictionary, text: &str) -> String {
    d.encode(text).expect_err(text).to_string()
}

fn shown(d: &Dictionary, text: &str) -> String {
    let a = d.encode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    d.describe(a.typ, &a.value)
}

#[test]
fn the_vlan_triple() {
    let [tt, tmt, group] = vlan(120).unwrap();
    assert_eq!(wire(&tt), hex("40 06 00 00 00 0d"));
    assert_eq!(wire(&tmt), hex("41 06 00 00 00 06"));
    // Tag octet 0, then "120".
    assert_eq!(wire(&group), hex("51 06 00 31 32 30"));
    let d = Dictionary::new();
    assert_eq!(d.encode("Tunnel-Type=VLAN").unwrap(), tt);
    assert_eq!(d.encode("Tunnel-Type:0 = VLAN").unwrap(), tt);
    assert_eq!(d.encode("tunnel-type = 13").unwrap(), tt);
    assert_eq!(d.encode("Tunnel-Medium-Type=IEEE-802").unwrap(), tmt);
    assert_eq!(d.encode("Tunnel-Private-Group-Id=120").unwrap(), group);
    assert_eq!(
        d.encode("Tunnel-Private-Group-Id:0=\"120\"").unwrap(),
        group
    );
    assert_eq!(d.describe(tt.typ, &tt.value), "Tunnel-Type:0 = VLAN");
    assert_eq!(
        d.describe(tmt.typ, &tmt.value),
        "Tunnel-Medium-Type:0 = IEEE-802"
    );
    assert_eq!(
        d.describe(group.typ, &group.value),
        "Tunnel-Private-Group-Id:0 = \"120\""
    );
    assert_eq!(wire(&vlan(1).unwrap()[2]), hex("51 04 00 31"));
    assert_eq!(wire(&vlan(4094).unwrap()[2]), hex("51 07 00 34 30 39 34"));
    for id in [0, 4095, u16::MAX] {
        assert_eq!(vlan(id), Err(AttrValueError::VlanOutOfRange { id }));
    }
}

#[test]
fn tags() {
    let d = Dictionary::new();
    assert_eq!(enc(&d, "Tunnel-Type:3=L2TP"), hex("40 06 03 00 00 03"));
    assert_eq!(
        enc(&d, "Tunnel-Preference:31 = 16777215"),
        hex("53 06 1f ff ff ff")
    );
    assert_eq!(enc(&d, "Tunnel-Private-Group-Id:5=x"), hex("51 04 05 78"));
    // A value that starts like a tag keeps its first octet.
    assert_eq!(
        enc(&d, "Tunnel-Assignment-Id=\"\\001a\""),
        hex("52 05 00 01 61")
    );
    assert_eq!(
        shown(&d, "Tunnel-Assignment-Id=\"\\001a\""),
        "Tunnel-Assignment-Id:0 = \"\\001a\""
    );
    assert_eq!(shown(&d, "Tunnel-Type:7=L2TP"), "Tunnel-Type:7 = L2TP");
    // Without a tag octet, or with a first octet above 0x1F, FreeRADIUS
    // reads tag 0.
    assert_eq!(
        d.describe(81, b"120"),
        "Tunnel-Private-Group-Id:0 = \"120\""
    );
    assert_eq!(
        d.describe(81, &[0]),
        "Tunnel-Private-Group-Id:0 = \"\\000\""
    );
    assert_eq!(
        d.describe(64, &[0x20, 0, 0, 13]),
        "Tunnel-Type:0 = 536870925"
    );
    assert_eq!(d.describe(64, &[0, 13]), "Tunnel-Type = 0x000d");
    assert_eq!(
        err(&d, "Tunnel-Type:32=VLAN"),
        "Tunnel-Type: tag \"32\" is not a number in 0..=31"
    );
    assert_eq!(
        err(&d, "Tunnel-Type:+1=VLAN"),
        "Tunnel-Type: tag \"+1\" is not a number in 0..=31"
    );
    assert_eq!(
        err(&d, "Session-Timeout:1=30"),
        "Session-Timeout takes no tag: only tagged (tunnel) attributes do"
    );
    assert_eq!(
        err(&d, "Tunnel-Type=16777216"),
        "Tunnel-Type: 16777216 exceeds the maximum of 16777215"
    );
}

#[test]
fn vendor_attributes() {
    let d = Dictionary::new();
    // Vendor-Id 9, vendor type 1, vendor length 2 + 17, then the text.
    assert_eq!(
        enc(&d, "Cisco-AVPair=shell:priv-lvl=15"),
        hex("1a 19 00 00 00 09 01 13 7368656c6c3a707269762d6c766c3d3135")
    );
    assert_eq!(
        enc(&d, "Aruba-User-Role = guest"),
        hex("1a 0d 00 00 39 e7 01 07 6775657374")
    );
    assert_eq!(
        enc(&d, "Fortinet-Group-Name=admins"),
        hex("1a 0e 00 00 30 44 01 08 61646d696e73")
    );
    assert_eq!(
        enc(&d, "PaloAlto-User-Group=vpn"),
        hex("1a 0b 00 00 63 75 05 05 76706e")
    );
    assert_eq!(
        enc(&d, "Juniper-Local-User-Name=ro"),
        hex("1a 0a 00 00 0a 4c 01 04 726f")
    );
    assert_eq!(
        enc(&d, "Mikrotik-Group=full"),
        hex("1a 0c 00 00 3a 8c 03 06 66756c6c")
    );
    assert_eq!(
        enc(&d, "MS-Primary-DNS-Server=192.0.2.53"),
        hex("1a 0c 00 00 01 37 1c 06 c0 00 02 35")
    );
    assert_eq!(
        shown(&d, "Cisco-AVPair=shell:priv-lvl=15"),
        "Cisco-AVPair = \"shell:priv-lvl=15\""
    );
    assert_eq!(
        shown(&d, "Aruba-User-Role=guest"),
        "Aruba-User-Role = \"guest\""
    );
    assert_eq!(
        shown(&d, "Juniper-Allow-Commands=^show"),
        "Juniper-Allow-Commands = \"^show\""
    );
    assert_eq!(shown(&d, "MS-Acct-EAP-Type=TLS"), "MS-Acct-EAP-Type = TLS");
    // Several sub-attributes in one Vendor-Specific.
    let two = hex("00 00 00 09 01 05 61 3d 31 01 05 62 3d 32");
    assert_eq!(
        d.describe(26, &two),
        "Cisco-AVPair = \"a=1\", Cisco-AVPair = \"b=2\""
    );
    assert_eq!(
        d.describe(26, &hex("00 00 00 09 16 03 01")),
        "Attr-26.9.22 = 0x01"
    );
    assert_eq!(
        d.describe(26, &hex("00 01 86 9f 01 03 01")),
        "Attr-26.99999.1 = 0x01"
    );
}

#[test]
fn loaded_vendor_formats() {
    let mut d = Dictionary::new();
    d.load(
        "formats",
        "VENDOR Nolen 60001 format=1,0\nVENDOR Longlen 60002 format=1,2\n\
         VENDOR Wide 60003 format=2,1\n\
         BEGIN-VENDOR Nolen\nATTRIBUTE Nolen-Name 7 string\nEND-VENDOR Nolen\n\
         BEGIN-VENDOR Longlen\nATTRIBUTE Longlen-Tunnel 7 string has_tag\nEND-VENDOR Longlen\n\
         BEGIN-VENDOR Wide\nATTRIBUTE Wide-Level 513 integer\nEND-VENDOR Wide\n",
    )
    .unwrap();
    assert_eq!(enc(&d, "Nolen-Name=ab"), hex("1a 09 00 00 ea 61 07 61 62"));
    assert_eq!(shown(&d, "Nolen-Name=ab"), "Nolen-Name = \"ab\"");
    assert_eq!(
        enc(&d, "Longlen-Tunnel:2=ab"),
        hex("1a 0c 00 00 ea 62 07 00 06 02 61 62")
    );
    assert_eq!(
        shown(&d, "Longlen-Tunnel:2=ab"),
        "Longlen-Tunnel:2 = \"ab\""
    );
    assert_eq!(
        err(&d, "Wide-Level=1"),
        "Wide-Level: vendor Wide numbers its attributes with 2 octets; only vendors with \
         one-octet attribute numbers can be sent in replies"
    );
    assert_eq!(
        d.describe(26, &hex("00 00 ea 63 02 01 07 00 00 00 05")),
        "Wide-Level = 5"
    );
    assert_eq!(
        d.encode("Nolen-Name=ab").unwrap().key(),
        AttrKey::vendor(60001, 7)
    );
    // The longest value leaves room for Vendor-Id, type and two length octets.
    let max = "x".repeat(253 - 4 - 3);
    assert!(d.encode(&format!("Nolen-Name={max}x")).is_ok());
    assert!(d.encode(&format!("Longlen-Tunnel={}", &max[1..])).is_ok());
    assert_eq!(
        err(&d, &format!("Longlen-Tunnel={max}")),
        "Longlen-Tunnel: value of 246 octets exceeds the maximum of 245"
    );
}

#[test]
fn values_of_every_kind() {
    let d = Dictionary::new();
    let cases: &[(&str, &str, &str)] = &[
        (
            "Session-Timeout=3600",
            "1b 06 00 00 0e 10",
            "Session-Timeout = 3600",
        ),
        (
            "Service-Type = Administrative-User",
            "06 06 00 00 00 06",
            "Service-Type = Administrative-User",
        ),
        (
            "Termination-Action=RADIUS-Request",
            "1d 06 00 00 00 01",
            "Termination-Action = RADIUS-Request",
        ),
        (
            "Framed-Protocol=PPP",
            "07 06 00 00 00 01",
            "Framed-Protocol = PPP",
        ),
        (
            "NAS-Port-Type=Ethernet",
            "3d 06 00 00 00 0f",
            "NAS-Port-Type = Ethernet",
        ),
        (
            "Acct-Status-Type=Alive",
            "28 06 00 00 00 03",
            "Acct-Status-Type = Interim-Update",
        ),
        (
            "Framed-IP-Address=192.0.2.1",
            "08 06 c0 00 02 01",
            "Framed-IP-Address = 192.0.2.1",
        ),
        (
            "Framed-IPv6-Prefix=2001:db8:1::/48",
            "61 0a 00 30 20 01 0d b8 00 01",
            "Framed-IPv6-Prefix = 2001:db8:1::/48",
        ),
        (
            "Framed-IPv6-Prefix=2001:db8::ff/33",
            "61 09 00 21 20 01 0d b8 00",
            "Framed-IPv6-Prefix = 2001:db8::/33",
        ),
        (
            "Login-IPv6-Host=2001:db8::1",
            "62 12 20010db8000000000000000000000001",
            "Login-IPv6-Host = 2001:db8::1",
        ),
        ("Class=0x01ff", "19 04 01 ff", "Class = 0x01ff"),
        (
            "Class=staff",
            "19 07 73 74 61 66 66",
            "Class = 0x7374616666",
        ),
        ("Class=\"0x01\"", "19 06 30 78 30 31", "Class = 0x30783031"),
        (
            "Event-Timestamp=0",
            "37 06 00 00 00 00",
            "Event-Timestamp = \"Jan  1 1970 00:00:00 UTC\"",
        ),
        (
            "Event-Timestamp=\"Feb 29 2000 00:00:00 UTC\"",
            "37 06 38 bb 0c 00",
            "Event-Timestamp = \"Feb 29 2000 00:00:00 UTC\"",
        ),
        (
            "Framed-Interface-Id=0:1234:abcd:1",
            "60 0a 0000 1234 abcd 0001",
            "Framed-Interface-Id = 0:1234:abcd:1",
        ),
        ("PKM-SAID=65535", "8d 04 ff ff", "PKM-SAID = 65535"),
        (
            "MIP6-Feature-Vector=18446744073709551615",
            "7c 0a ffffffffffffffff",
            "MIP6-Feature-Vector = 18446744073709551615",
        ),
        (
            "Reply-Message = \"Hello, \\\"you\\\"\\n\"",
            "12 0f 48656c6c6f2c2022796f75220a",
            "Reply-Message = \"Hello, \\\"you\\\"\\n\"",
        ),
        (
            "Reply-Message=  spaced out  ",
            "12 0c 737061636564206f7574",
            "Reply-Message = \"spaced out\"",
        ),
        ("Filter-Id=a=b", "0b 05 61 3d 62", "Filter-Id = \"a=b\""),
        (
            "Fortinet-WirelessController-Device-MAC=00:1b:2c:ff:00:01",
            "1a 0e 00003044 17 08 001b2cff0001",
            "Fortinet-WirelessController-Device-MAC = 00:1b:2c:ff:00:01",
        ),
    ];
    for (text, bytes, display) in cases {
        assert_eq!(enc(&d, text), hex(bytes), "{text}");
        assert_eq!(&shown(&d, text), display, "{text}");
        // What is displayed reads back to the same octets.
        let again = d
            .encode(display)
            .unwrap_or_else(|e| panic!("{display}: {e}"));
        assert_eq!(wire(&again), hex(bytes), "{display}");
    }
}

#[test]
fn limits_are_refused_not_truncated() {
    let d = Dictionary::new();
    let text = |n: usize| "x".repeat(n);
    assert!(d.encode(&format!("Reply-Message={}", text(253))).is_ok());
    assert_eq!(
        err(&d, &format!("Reply-Message={}", text(254))),
        "Reply-Message: value of 254 octets exceeds the maximum of 253"
    );
    assert!(d.encode(&format!("Cisco-AVPair={}", text(247))).is_ok());
    assert_eq!(
        err(&d, &format!("Cisco-AVPair={}", text(248))),
        "Cisco-AVPair: value of 248 octets exceeds the maximum of 247"
    );
    assert!(
        d.encode(&format!("Tunnel-Private-Group-Id={}", text(252)))
            .is_ok()
    );
    assert_eq!(
        err(&d, &format!("Tunnel-Private-Group-Id={}", text(253))),
        "Tunnel-Private-Group-Id: value of 253 octets exceeds the maximum of 252"
    );
    let long = format!("Reply-Message={}", text(MAX_TEXT_LEN));
    assert_eq!(
        err(&d, &long),
        "attribute text of 4110 octets exceeds the maximum of 4096"
    );
}

#[test]
fn refusals() {
    let d = Dictionary::new();
    let cases: &[(&str, &str)] = &[
        (
            "Session-Timeout",
            "expected Name=value, got \"Session-Timeout\"",
        ),
        ("=3", "expected Name=value, got \"=3\""),
        (
            "Session-Timeout := 3",
            "\"Session-Timeout := 3\": write Name=value; operators such as := and += are not used here",
        ),
        (
            "Cisco-AVPair += x",
            "\"Cisco-AVPair += x\": write Name=value; operators such as := and += are not used here",
        ),
        (
            "Session-Timeout == 3",
            "\"Session-Timeout == 3\": write Name=value; operators such as := and += are not used here",
        ),
        ("No-Such-Thing=1", "unknown attribute \"No-Such-Thing\""),
        ("Session-Timeout=", "Session-Timeout: empty value"),
        ("Reply-Message=\"\"", "Reply-Message: empty value"),
        ("Class=0x", "Class: empty value"),
        ("Class=0x123", "Class: \"0x123\" is not hex octets after 0x"),
        (
            "Session-Timeout=-1",
            "Session-Timeout: \"-1\" is not a decimal number or one of its VALUE names",
        ),
        (
            "Session-Timeout=4294967296",
            "Session-Timeout: 4294967296 exceeds the maximum of 4294967295",
        ),
        (
            "Session-Timeout=99999999999999999999",
            "Session-Timeout: \"99999999999999999999\" is not a number within the attribute's range",
        ),
        (
            "MIP6-Feature-Vector=big",
            "MIP6-Feature-Vector: \"big\" is not a decimal number",
        ),
        (
            "Service-Type=Superuser",
            "Service-Type: \"Superuser\" is not a decimal number or one of its VALUE names",
        ),
        (
            "Framed-IP-Address=192.0.2",
            "Framed-IP-Address: \"192.0.2\" is not an IPv4 address (dotted quad)",
        ),
        (
            "Framed-IPv6-Prefix=2001:db8::/129",
            "Framed-IPv6-Prefix: \"2001:db8::/129\" is not an IPv6 prefix (address/length)",
        ),
        (
            "Reply-Message=\"open",
            "Reply-Message: \"\\\"open\" is not a string closed by a double quote",
        ),
        (
            "Event-Timestamp=yesterday",
            "Event-Timestamp: \"yesterday\" is not seconds since 1970 or a date like \"Jan  1 2030 00:00:00 UTC\"",
        ),
        (
            "User-Password=x",
            "User-Password cannot be set by a policy: it carries credentials, which only the authentication exchange sets",
        ),
        (
            "CHAP-Password=0x01",
            "CHAP-Password cannot be set by a policy: it carries credentials, which only the authentication exchange sets",
        ),
        (
            "CHAP-Challenge=0x01",
            "CHAP-Challenge cannot be set by a policy: it carries credentials, which only the authentication exchange sets",
        ),
        (
            "Message-Authenticator=0x00",
            "Message-Authenticator cannot be set by a policy: every reply gets one, computed when the reply is signed",
        ),
        (
            "EAP-Message=0x01",
            "EAP-Message cannot be set by a policy: it belongs to the authentication exchange, which sets it",
        ),
        (
            "State=0x01",
            "State cannot be set by a policy: it belongs to the authentication exchange, which sets it",
        ),
        (
            "Proxy-State=0x01",
            "Proxy-State cannot be set by a policy: replies copy it from the request",
        ),
        (
            "Tunnel-Password=x",
            "Tunnel-Password cannot be set by a policy: it is hidden with the shared secret, and policies hold no secrets",
        ),
        (
            "Vendor-Specific=0x0000000901036",
            "Vendor-Specific cannot be set by a policy: name the vendor attribute instead, such as Cisco-AVPair",
        ),
        (
            "MS-MPPE-Send-Key=0x01",
            "MS-MPPE-Send-Key cannot be set by a policy: MS-CHAP and MS-MPPE attributes come from the MS-CHAP exchange",
        ),
        (
            "MS-MPPE-Encryption-Policy=Encryption-Required",
            "MS-MPPE-Encryption-Policy cannot be set by a policy: MS-CHAP and MS-MPPE attributes come from the MS-CHAP exchange",
        ),
        (
            "MS-CHAP2-Success=0x01",
            "MS-CHAP2-Success cannot be set by a policy: MS-CHAP and MS-MPPE attributes come from the MS-CHAP exchange",
        ),
        (
            "Aruba-MPSK-Passphrase=x",
            "Aruba-MPSK-Passphrase cannot be set by a policy: it is hidden with the shared secret, and policies hold no secrets",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(&err(&d, text), expected, "{text}");
    }
    let long_name = format!("{}=1", "N".repeat(100));
    assert_eq!(
        err(&d, &long_name),
        format!("unknown attribute \"{}…\"", "N".repeat(64))
    );
}

#[test]
fn secrets_are_never_displayed() {
    let mut d = Dictionary::new();
    d.load("s", "ATTRIBUTE Site-Secret 200 octets secret\n")
        .unwrap();
    assert_eq!(d.describe(2, &[1; 16]), "User-Password = <hidden>");
    assert_eq!(d.describe(69, &[0, 1, 2]), "Tunnel-Password = <hidden>");
    assert_eq!(d.describe(3, &[1; 17]), "CHAP-Password = <hidden>");
    assert_eq!(d.describe(200, &[1]), "Site-Secret = <hidden>");
    assert_eq!(
        d.describe(26, &hex("00 00 01 37 10 05 01 02 03")),
        "MS-MPPE-Send-Key = <hidden>"
    );
    assert_eq!(
        err(&d, "Site-Secret=0x01"),
        "Site-Secret cannot be set by a policy: the dictionary marks it secret"
    );
}

#[test]
fn describe_is_total() {
    let d = Dictionary::new();
    assert_eq!(d.describe(17, &[1]), "Attr-17 = 0x01");
    assert_eq!(d.describe(255, &[]), "Attr-255 = 0x");
    assert_eq!(d.describe(27, &[1, 2]), "Session-Timeout = 0x0102");
    assert_eq!(
        d.describe(8, &[1, 2, 3, 4, 5]),
        "Framed-IP-Address = 0x0102030405"
    );
    assert_eq!(
        d.describe(26, &[0, 0, 0, 9]),
        "Vendor-Specific = 0x00000009"
    );
    assert_eq!(
        d.describe(26, &[0, 0, 0, 9, 1, 9, 0x61]),
        "Vendor-Specific = 0x00000009010961"
    );
    assert_eq!(
        d.describe(26, &[0, 0, 0, 9, 1, 1]),
        "Vendor-Specific = 0x000000090101"
    );
    assert_eq!(d.describe(26, &[0, 0, 0, 9, 1, 2]), "Cisco-AVPair = \"\"");
    assert_eq!(d.describe(1, &[0xff, b'"']), "User-Name = \"\\377\\\"\"");
    assert_eq!(d.describe(97, &[0, 200]), "Framed-IPv6-Prefix = 0x00c8");
}

#[test]
fn keys_and_multiple_values() {
    let d = Dictionary::new();
    let key = |text: &str| d.encode(text).unwrap().key();
    assert_eq!(key("Session-Timeout=1"), AttrKey::standard(27));
    assert_eq!(key("Cisco-AVPair=a=b"), AttrKey::vendor(9, 1));
    assert_eq!(key("Aruba-User-Role=x"), AttrKey::vendor(14823, 1));
    assert_eq!(
        vlan(5).unwrap().map(|a| a.key()),
        [64, 65, 81].map(AttrKey::standard)
    );
    let raw = EncodedAttr {
        typ: 26,
        value: vec![0, 0, 0],
    };
    assert_eq!(raw.key(), AttrKey::standard(26));
    for multi in [
        "Class=x",
        "Filter-Id=x",
        "Reply-Message=x",
        "Framed-Route=x",
        "Cisco-AVPair=x",
        "Fortinet-Group-Name=x",
        "Aruba-AVPair=x",
    ] {
        assert!(key(multi).is_multi_valued(), "{multi}");
    }
    for single in [
        "Session-Timeout=1",
        "Tunnel-Type=VLAN",
        "Tunnel-Private-Group-Id=1",
        "Aruba-User-Role=x",
        "PaloAlto-User-Group=x",
        "Idle-Timeout=1",
    ] {
        assert!(!key(single).is_multi_valued(), "{single}");
    }
}
