//! Which computer a request comes from (product §6): its Calling-Station-Id as a MAC in
//! any common spelling (written as RFC 3580 writes it, `00-10-A4-23-19-C0`) or an IP
//! literal (VPN concentrators put the client's address there), else the NAS-Identifier,
//! else the NAS-IP-Address. MACs with the locally administered bit set are flagged:
//! phones randomise them per network, so they come and go.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// The longest identity kept; a longer Calling-Station-Id or NAS-Identifier is cut.
const MAX_IDENTITY: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityKind {
    Mac,
    Address,
    /// A Calling-Station-Id that is neither (a phone number, a host name).
    Station,
    NasIdentifier,
    NasAddress,
}

impl IdentityKind {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            IdentityKind::Mac => "mac",
            IdentityKind::Address => "address",
            IdentityKind::Station => "station",
            IdentityKind::NasIdentifier => "nas-identifier",
            IdentityKind::NasAddress => "nas-address",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<IdentityKind> {
        [
            IdentityKind::Mac,
            IdentityKind::Address,
            IdentityKind::Station,
            IdentityKind::NasIdentifier,
            IdentityKind::NasAddress,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A computer's identity in its one stored spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    pub kind: IdentityKind,
    /// `00-10-A4-23-19-C0`, `192.0.2.7`, `2001:db8::7`, or the NAS's text as sent
    /// (cut to 128 characters). NAS identities carry a `nas:` prefix so that a NAS named
    /// like a MAC is never taken for one.
    pub text: String,
    pub randomized: bool,
}

impl Identity {
    /// The address of an address identity.
    #[must_use]
    pub fn address(&self) -> Option<IpAddr> {
        match self.kind {
            IdentityKind::Address => self.text.parse().ok(),
            IdentityKind::NasAddress => self.text.strip_prefix("nas:")?.parse().ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The identity a request names, from its Calling-Station-Id, NAS-Identifier and
/// NAS-IP-Address (raw attribute values); `None` when it names none.
#[must_use]
pub fn identify(
    calling_station_id: Option<&[u8]>,
    nas_identifier: Option<&[u8]>,
    nas_ip_address: Option<Ipv4Addr>,
) -> Option<Identity> {
    if let Some(id) = calling_station_id.and_then(station) {
        return Some(id);
    }
    if let Some(text) = nas_identifier.and_then(printable) {
        return Some(Identity {
            kind: IdentityKind::NasIdentifier,
            text: format!("nas:{text}"),
            randomized: false,
        });
    }
    nas_ip_address.map(|ip| Identity {
        kind: IdentityKind::NasAddress,
        text: format!("nas:{ip}"),
        randomized: false,
    })
}

/// A Calling-Station-Id as an identity: a MAC, an address, or else its text.
fn station(raw: &[u8]) -> Option<Identity> {
    // Some NASes send the six octets themselves.
    if let Ok(octets) = <[u8; 6]>::try_from(raw)
        && std::str::from_utf8(raw).is_err()
    {
        return Some(mac_identity(octets));
    }
    // The common case, a MAC, is recognised without copying the text.
    if let Some(octets) = std::str::from_utf8(raw)
        .ok()
        .and_then(|t| parse_mac(t.trim()))
    {
        return Some(mac_identity(octets));
    }
    let text = printable(raw)?;
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Identity {
            kind: IdentityKind::Address,
            text: ip.to_string(),
            randomized: false,
        });
    }
    Some(Identity {
        kind: IdentityKind::Station,
        text,
        randomized: false,
    })
}

/// Text fit to store and show: UTF-8, control characters dropped, trimmed, cut.
fn printable(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(raw).ok()?;
    let clean: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_IDENTITY)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// `00-10-A4-23-19-C0`.
#[must_use]
pub fn mac_text(octets: [u8; 6]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = String::with_capacity(17);
    for (i, o) in octets.iter().enumerate() {
        if i > 0 {
            text.push('-');
        }
        text.push(char::from(HEX[usize::from(o >> 4)]));
        text.push(char::from(HEX[usize::from(o & 0x0f)]));
    }
    text
}

fn mac_identity(octets: [u8; 6]) -> Identity {
    let a = octets[0];
    Identity {
        kind: IdentityKind::Mac,
        text: mac_text(octets),
        // The locally administered bit: 2, 6, A or E as the second hex digit.
        randomized: a & 0x02 != 0,
    }
}

/// A MAC in the spellings NASes use: `00:10:a4:23:19:c0`, `00-10-A4-23-19-C0`,
/// `0010.a423.19c0`, `0010-a423-19c0`, `0010a4-2319c0`, `0010a42319c0`; groups of one
/// size with one separator throughout, either case.
#[must_use]
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let separator = text.chars().find(|c| matches!(c, ':' | '-' | '.' | ' '));
    let groups: Vec<&str> = match separator {
        Some(sep) => text.split(sep).collect(),
        None => vec![text],
    };
    let size = groups.first()?.len();
    let shape_ok = matches!((groups.len(), size), (6, 2) | (3, 4) | (2, 6) | (1, 12))
        && groups.iter().all(|g| g.len() == size);
    if !shape_ok {
        return None;
    }
    let mut octets = [0u8; 6];
    let mut digits = groups.iter().flat_map(|g| g.chars());
    for octet in &mut octets {
        let high = digits.next()?.to_digit(16)?;
        let low = digits.next()?.to_digit(16)?;
        *octet = u8::try_from(high * 16 + low).ok()?;
    }
    Some(octets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(csid: &str) -> Identity {
        identify(Some(csid.as_bytes()), None, None).unwrap()
    }

    #[test]
    fn five_spellings_are_one_mac() {
        for s in [
            "00:10:a4:23:19:c0",
            "0010.a423.19c0",
            "0010-a423-19c0",
            "0010a42319c0",
            "00-10-A4-23-19-C0",
            " 00:10:A4:23:19:C0 ",
        ] {
            let id = of(s);
            assert_eq!(id.kind, IdentityKind::Mac, "{s}");
            assert_eq!(id.text, "00-10-A4-23-19-C0", "{s}");
            assert!(!id.randomized);
        }
        let binary = identify(Some(&[0x00, 0x10, 0xa4, 0x23, 0x19, 0xc0]), None, None).unwrap();
        assert_eq!(binary.text, "00-10-A4-23-19-C0");
    }

    #[test]
    fn locally_administered_macs_are_randomized() {
        for (s, random) in [
            ("02:00:00:00:00:01", true),
            ("a6-11-22-33-44-55", true),
            ("DE:AD:BE:EF:00:01", true),
            ("0a:11:22:33:44:55", true),
            ("00:11:22:33:44:55", false),
            ("f0:11:22:33:44:55", false),
        ] {
            assert_eq!(of(s).randomized, random, "{s}");
        }
    }

    #[test]
    fn not_quite_macs_are_station_text() {
        for s in [
            "00:10:a4:23:19",
            "00:10:a4:23:19:c0:11",
            "00:10-a4:23:19:c0",
            "0010.a423.19cg",
            "001.0a4.231.9c0",
            "+4930123456",
        ] {
            assert_eq!(of(s).kind, IdentityKind::Station, "{s}");
        }
    }

    #[test]
    fn addresses_and_fallbacks() {
        let v4 = of("192.0.2.7");
        assert_eq!(
            (v4.kind, v4.text.as_str()),
            (IdentityKind::Address, "192.0.2.7")
        );
        assert_eq!(v4.address(), Some("192.0.2.7".parse().unwrap()));
        let v6 = of("2001:DB8::7");
        assert_eq!(
            (v6.kind, v6.text.as_str()),
            (IdentityKind::Address, "2001:db8::7")
        );
        let nas = identify(
            Some(b""),
            Some(b"ap-1.corp"),
            Some(Ipv4Addr::new(10, 0, 0, 1)),
        )
        .unwrap();
        assert_eq!(
            (nas.kind, nas.text.as_str()),
            (IdentityKind::NasIdentifier, "nas:ap-1.corp")
        );
        let ip = identify(None, None, Some(Ipv4Addr::new(10, 0, 0, 1))).unwrap();
        assert_eq!(
            (ip.kind, ip.text.as_str()),
            (IdentityKind::NasAddress, "nas:10.0.0.1")
        );
        assert_eq!(ip.address(), Some("10.0.0.1".parse().unwrap()));
        assert!(identify(None, None, None).is_none());
        // A NAS-Identifier spelled like a MAC stays a NAS identity.
        let odd = identify(None, Some(b"00-10-A4-23-19-C0"), None).unwrap();
        assert_ne!(odd.text, "00-10-A4-23-19-C0");
    }

    proptest! {
        #[test]
        fn every_spelling_of_a_mac_normalises_alike(octets in any::<[u8; 6]>(), style in 0usize..5, upper in any::<bool>()) {
            let hex: String = octets.iter().map(|b| format!("{b:02x}")).collect();
            let hex = if upper { hex.to_uppercase() } else { hex };
            let groups = |n: usize, sep: &str| hex.as_bytes().chunks(n)
                .map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(sep);
            let spelled = match style { 0 => groups(2, ":"), 1 => groups(2, "-"), 2 => groups(4, "."),
                3 => groups(4, "-"), _ => hex.clone() };
            let id = of(&spelled);
            prop_assert_eq!(id.kind, IdentityKind::Mac);
            prop_assert_eq!(id.text, groups(2, "-").to_uppercase());
        }

        #[test]
        fn any_bytes_give_a_bounded_identity_or_none(raw in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Some(id) = identify(Some(&raw), None, None) {
                prop_assert!(id.text.chars().count() <= MAX_IDENTITY);
                prop_assert!(!id.text.chars().any(char::is_control));
            }
        }
    }
}
