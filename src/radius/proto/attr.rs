//! Attribute type numbers and the value formats of RFC 2865 §5, RFC 2868 §3
//! and RFC 3162 §2.
//!
//! Decoders take the value octets (the attribute without its type and
//! length octets) and return `None`/an error instead of guessing, because a
//! value of the wrong size is a peer bug the caller must be able to see.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::error::{DecodeError, EncodeError};

// RFC 2865
pub const USER_NAME: u8 = 1;
pub const USER_PASSWORD: u8 = 2;
pub const CHAP_PASSWORD: u8 = 3;
pub const NAS_IP_ADDRESS: u8 = 4;
pub const NAS_PORT: u8 = 5;
pub const SERVICE_TYPE: u8 = 6;
pub const FRAMED_PROTOCOL: u8 = 7;
pub const FRAMED_IP_ADDRESS: u8 = 8;
pub const FRAMED_IP_NETMASK: u8 = 9;
pub const FRAMED_ROUTING: u8 = 10;
pub const FILTER_ID: u8 = 11;
pub const FRAMED_MTU: u8 = 12;
pub const FRAMED_COMPRESSION: u8 = 13;
pub const LOGIN_IP_HOST: u8 = 14;
pub const LOGIN_SERVICE: u8 = 15;
pub const LOGIN_TCP_PORT: u8 = 16;
pub const REPLY_MESSAGE: u8 = 18;
pub const CALLBACK_NUMBER: u8 = 19;
pub const CALLBACK_ID: u8 = 20;
pub const FRAMED_ROUTE: u8 = 22;
pub const FRAMED_IPX_NETWORK: u8 = 23;
pub const STATE: u8 = 24;
pub const CLASS: u8 = 25;
pub const VENDOR_SPECIFIC: u8 = 26;
pub const SESSION_TIMEOUT: u8 = 27;
pub const IDLE_TIMEOUT: u8 = 28;
pub const TERMINATION_ACTION: u8 = 29;
pub const CALLED_STATION_ID: u8 = 30;
pub const CALLING_STATION_ID: u8 = 31;
pub const NAS_IDENTIFIER: u8 = 32;
pub const PROXY_STATE: u8 = 33;
pub const LOGIN_LAT_SERVICE: u8 = 34;
pub const LOGIN_LAT_NODE: u8 = 35;
pub const LOGIN_LAT_GROUP: u8 = 36;
pub const FRAMED_APPLETALK_LINK: u8 = 37;
pub const FRAMED_APPLETALK_NETWORK: u8 = 38;
pub const FRAMED_APPLETALK_ZONE: u8 = 39;
pub const CHAP_CHALLENGE: u8 = 60;
pub const NAS_PORT_TYPE: u8 = 61;
pub const PORT_LIMIT: u8 = 62;
pub const LOGIN_LAT_PORT: u8 = 63;

// RFC 2866
pub const ACCT_STATUS_TYPE: u8 = 40;
pub const ACCT_DELAY_TIME: u8 = 41;
pub const ACCT_INPUT_OCTETS: u8 = 42;
pub const ACCT_OUTPUT_OCTETS: u8 = 43;
pub const ACCT_SESSION_ID: u8 = 44;
pub const ACCT_AUTHENTIC: u8 = 45;
pub const ACCT_SESSION_TIME: u8 = 46;
pub const ACCT_INPUT_PACKETS: u8 = 47;
pub const ACCT_OUTPUT_PACKETS: u8 = 48;
pub const ACCT_TERMINATE_CAUSE: u8 = 49;
pub const ACCT_MULTI_SESSION_ID: u8 = 50;
pub const ACCT_LINK_COUNT: u8 = 51;

// RFC 2867
pub const ACCT_TUNNEL_CONNECTION: u8 = 68;
pub const ACCT_TUNNEL_PACKETS_LOST: u8 = 86;

// RFC 2868
pub const TUNNEL_TYPE: u8 = 64;
pub const TUNNEL_MEDIUM_TYPE: u8 = 65;
pub const TUNNEL_CLIENT_ENDPOINT: u8 = 66;
pub const TUNNEL_SERVER_ENDPOINT: u8 = 67;
pub const TUNNEL_PASSWORD: u8 = 69;
pub const TUNNEL_PRIVATE_GROUP_ID: u8 = 81;
pub const TUNNEL_ASSIGNMENT_ID: u8 = 82;
pub const TUNNEL_PREFERENCE: u8 = 83;
pub const TUNNEL_CLIENT_AUTH_ID: u8 = 90;
pub const TUNNEL_SERVER_AUTH_ID: u8 = 91;

// RFC 2869
pub const ACCT_INPUT_GIGAWORDS: u8 = 52;
pub const ACCT_OUTPUT_GIGAWORDS: u8 = 53;
pub const EVENT_TIMESTAMP: u8 = 55;
pub const ARAP_PASSWORD: u8 = 70;
pub const ARAP_FEATURES: u8 = 71;
pub const ARAP_ZONE_ACCESS: u8 = 72;
pub const ARAP_SECURITY: u8 = 73;
pub const ARAP_SECURITY_DATA: u8 = 74;
pub const PASSWORD_RETRY: u8 = 75;
pub const PROMPT: u8 = 76;
pub const CONNECT_INFO: u8 = 77;
pub const CONFIGURATION_TOKEN: u8 = 78;
pub const EAP_MESSAGE: u8 = 79;
pub const MESSAGE_AUTHENTICATOR: u8 = 80;
pub const ARAP_CHALLENGE_RESPONSE: u8 = 84;
pub const ACCT_INTERIM_INTERVAL: u8 = 85;
pub const NAS_PORT_ID: u8 = 87;
pub const FRAMED_POOL: u8 = 88;

// RFC 4372
pub const CHARGEABLE_USER_IDENTITY: u8 = 89;

// RFC 3162
pub const NAS_IPV6_ADDRESS: u8 = 95;
pub const FRAMED_INTERFACE_ID: u8 = 96;
pub const FRAMED_IPV6_PREFIX: u8 = 97;
pub const LOGIN_IPV6_HOST: u8 = 98;
pub const FRAMED_IPV6_ROUTE: u8 = 99;
pub const FRAMED_IPV6_POOL: u8 = 100;

// RFC 5176
pub const ERROR_CAUSE: u8 = 101;

/// Longest value an attribute can carry: its length octet counts the two
/// header octets too.
pub const MAX_VALUE_LEN: usize = 253;

/// Highest RFC 2868 tag; larger first octets belong to the value.
pub const MAX_TAG: u8 = 0x1F;

/// Vendor-Id of Microsoft (RFC 2548).
pub const VENDOR_MICROSOFT: u32 = 311;
/// Vendor-Ids (IANA Private Enterprise Numbers) of the other built-in vendor
/// dictionaries.
pub const VENDOR_CISCO: u32 = 9;
pub const VENDOR_JUNIPER: u32 = 2636;
pub const VENDOR_ARUBA: u32 = 14823;
pub const VENDOR_FORTINET: u32 = 12356;
pub const VENDOR_PALO_ALTO: u32 = 25461;
pub const VENDOR_MIKROTIK: u32 = 14988;

pub fn as_string(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok()
}

pub fn as_u32(value: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(value).ok().map(u32::from_be_bytes)
}

pub fn as_ipv4(value: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(value).ok().map(Ipv4Addr::from)
}

pub fn as_ipv6(value: &[u8]) -> Option<Ipv6Addr> {
    <[u8; 16]>::try_from(value).ok().map(Ipv6Addr::from)
}

/// RFC 3162 §2.3: reserved octet, prefix length, then only as many prefix
/// octets as the length needs (0..=16). Bits past the prefix length must be
/// zero in a well-formed value but are masked here rather than rejected.
pub fn as_ipv6_prefix(value: &[u8]) -> Option<(Ipv6Addr, u8)> {
    let [_reserved, prefix_len, prefix @ ..] = value else {
        return None;
    };
    if *prefix_len > 128 || prefix.len() > 16 {
        return None;
    }
    let mut octets = [0u8; 16];
    for (dst, src) in octets.iter_mut().zip(prefix) {
        *dst = *src;
    }
    let mask = u128::MAX
        .checked_shl(128 - u32::from(*prefix_len))
        .unwrap_or(0);
    let addr = u128::from_be_bytes(octets) & mask;
    Some((Ipv6Addr::from(addr), *prefix_len))
}

pub fn encode_u32(value: u32) -> [u8; 4] {
    value.to_be_bytes()
}

pub fn encode_ipv4(addr: Ipv4Addr) -> [u8; 4] {
    addr.octets()
}

pub fn encode_ipv6(addr: Ipv6Addr) -> [u8; 16] {
    addr.octets()
}

/// Encodes a Framed-IPv6-Prefix, sending only the octets the length covers.
pub fn encode_ipv6_prefix(addr: Ipv6Addr, prefix_len: u8) -> Option<Vec<u8>> {
    if prefix_len > 128 {
        return None;
    }
    let octets = addr.octets();
    let used = usize::from(prefix_len).div_ceil(8);
    let mut out = Vec::with_capacity(2 + used);
    out.push(0);
    out.push(prefix_len);
    out.extend(octets.iter().take(used));
    Some(out)
}

/// RFC 2868 tagged string. A first octet of 0x00..=0x1F is a tag (0 is
/// accepted as "no tunnel group", as FreeRADIUS does); anything larger
/// already belongs to the string.
pub fn decode_tagged_string(value: &[u8]) -> (Option<u8>, &[u8]) {
    match value {
        [tag, rest @ ..] if *tag <= MAX_TAG => (Some(*tag), rest),
        _ => (None, value),
    }
}

/// Encodes an RFC 2868 tagged string. Without a tag, a value whose first
/// octet would read as a tag gets a 0x00 tag so the receiver keeps it intact.
pub fn encode_tagged_string(tag: Option<u8>, value: &[u8]) -> Result<Vec<u8>, EncodeError> {
    let needs_prefix = match (tag, value.first()) {
        (Some(t), _) if t > MAX_TAG => return Err(EncodeError::InvalidTag { tag: t }),
        (Some(_), _) => true,
        (None, Some(first)) => *first <= MAX_TAG,
        (None, None) => false,
    };
    let mut out = Vec::with_capacity(value.len() + 1);
    if needs_prefix {
        out.push(tag.unwrap_or(0));
    }
    out.extend_from_slice(value);
    Ok(out)
}

/// RFC 2868 tagged integer: one tag octet then a 24-bit value, four octets in
/// all (six on the wire).
pub fn decode_tagged_u32(value: &[u8]) -> Result<(u8, u32), DecodeError> {
    let [tag, a, b, c] = value else {
        return Err(DecodeError::BadTaggedIntegerLength { len: value.len() });
    };
    Ok((*tag, u32::from_be_bytes([0, *a, *b, *c])))
}

pub fn encode_tagged_u32(tag: u8, value: u32) -> Result<[u8; 4], EncodeError> {
    if tag > MAX_TAG {
        return Err(EncodeError::InvalidTag { tag });
    }
    let [high, a, b, c] = value.to_be_bytes();
    if high != 0 {
        return Err(EncodeError::TaggedValueTooLarge { value });
    }
    Ok([tag, a, b, c])
}

/// One vendor sub-attribute of a Vendor-Specific attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vsa<'a> {
    pub vendor_id: u32,
    pub typ: u8,
    pub value: &'a [u8],
}

/// Sub-attributes of one already validated Vendor-Specific value.
#[derive(Debug, Clone)]
pub struct VsaIter<'a> {
    vendor_id: u32,
    rest: &'a [u8],
}

impl<'a> Iterator for VsaIter<'a> {
    type Item = Vsa<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let (typ, value, rest) = split_tlv(self.rest)?;
        self.rest = rest;
        Some(Vsa {
            vendor_id: self.vendor_id,
            typ,
            value,
        })
    }
}

/// Splits one type-length-value off `buf`; `None` when malformed so the
/// iterators stay total even though their input was validated before.
pub(crate) fn split_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let [typ, len, tail @ ..] = buf else {
        return None;
    };
    let value_len = usize::from(*len).checked_sub(2)?;
    let (value, rest) = tail.split_at_checked(value_len)?;
    Some((*typ, value, rest))
}

/// Decodes a Vendor-Specific value in the RFC 2865 §5.26 layout: Vendor-Id,
/// then one or more vendor-type/vendor-length/value triples. The whole value
/// is checked up front so the iterator never yields a partial result for a
/// malformed attribute.
pub fn decode_vsa(value: &[u8]) -> Result<VsaIter<'_>, DecodeError> {
    let Some((vendor, subs)) = value.split_first_chunk::<4>() else {
        return Err(DecodeError::VsaTooShort { len: value.len() });
    };
    if subs.is_empty() {
        return Err(DecodeError::VsaTooShort { len: value.len() });
    }
    let vendor_id = u32::from_be_bytes(*vendor);
    let mut offset = 4;
    let mut rest = subs;
    while let [typ, rest_after_typ @ ..] = rest {
        let Some(len) = rest_after_typ.first().map(|l| usize::from(*l)) else {
            return Err(DecodeError::VsaOverrun {
                vendor_id,
                typ: *typ,
                offset,
            });
        };
        if len < 2 {
            return Err(DecodeError::BadVsaLength {
                vendor_id,
                typ: *typ,
                len,
                offset,
            });
        }
        let Some(next) = rest.get(len..) else {
            return Err(DecodeError::VsaOverrun {
                vendor_id,
                typ: *typ,
                offset,
            });
        };
        rest = next;
        offset += len;
    }
    Ok(VsaIter {
        vendor_id,
        rest: subs,
    })
}

/// Encodes one Vendor-Specific value holding a single sub-attribute.
pub fn encode_vsa(vendor_id: u32, typ: u8, value: &[u8]) -> Result<Vec<u8>, EncodeError> {
    encode_vsas(vendor_id, &[(typ, value)])
}

/// Encodes one Vendor-Specific value holding several sub-attributes of the
/// same vendor, which saves four octets of Vendor-Id per extra one.
pub fn encode_vsas(vendor_id: u32, subs: &[(u8, &[u8])]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(MAX_VALUE_LEN);
    out.extend_from_slice(&vendor_id.to_be_bytes());
    for (typ, value) in subs {
        let too_long = EncodeError::VsaTooLong {
            vendor_id,
            typ: *typ,
            len: value.len(),
        };
        let sub_len = u8::try_from(value.len() + 2).map_err(|_| too_long.clone())?;
        if out.len() + usize::from(sub_len) > MAX_VALUE_LEN {
            return Err(too_long);
        }
        out.push(*typ);
        out.push(sub_len);
        out.extend_from_slice(value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn typed_values() {
        assert_eq!(as_string(b"bob"), Some("bob"));
        assert_eq!(as_string(&[0xff]), None);
        assert_eq!(as_u32(&[0, 0, 1, 2]), Some(258));
        assert_eq!(as_u32(&[0, 1, 2]), None);
        assert_eq!(as_ipv4(&[192, 0, 2, 1]), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(as_ipv4(&[1, 2, 3, 4, 5]), None);
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(as_ipv6(&encode_ipv6(v6)), Some(v6));
        assert_eq!(as_ipv6(&[0; 15]), None);
        assert_eq!(as_u32(&encode_u32(0xdead_beef)), Some(0xdead_beef));
        assert_eq!(
            as_ipv4(&encode_ipv4(Ipv4Addr::LOCALHOST)),
            Some(Ipv4Addr::LOCALHOST)
        );
    }

    #[test]
    fn ipv6_prefix() {
        let p: Ipv6Addr = "2001:db8:1::".parse().unwrap();
        let enc = encode_ipv6_prefix(p, 48).unwrap();
        assert_eq!(enc.len(), 2 + 6);
        assert_eq!(as_ipv6_prefix(&enc), Some((p, 48)));
        assert_eq!(as_ipv6_prefix(&[0, 0]), Some((Ipv6Addr::UNSPECIFIED, 0)));
        assert_eq!(as_ipv6_prefix(&[0, 129]), None);
        assert_eq!(as_ipv6_prefix(&[0]), None);
        assert_eq!(as_ipv6_prefix(&[0; 19]), None);
        assert!(encode_ipv6_prefix(p, 129).is_none());
    }

    #[test]
    fn tagged_integer_is_four_octets() {
        let v = encode_tagged_u32(1, 13).unwrap();
        assert_eq!(v, [1, 0, 0, 13]);
        assert_eq!(decode_tagged_u32(&v), Ok((1, 13)));
        assert_eq!(
            decode_tagged_u32(&[1, 0, 0, 0, 13]),
            Err(DecodeError::BadTaggedIntegerLength { len: 5 })
        );
        assert_eq!(
            encode_tagged_u32(0x20, 1),
            Err(EncodeError::InvalidTag { tag: 0x20 })
        );
        assert_eq!(
            encode_tagged_u32(0, 0x0100_0000),
            Err(EncodeError::TaggedValueTooLarge { value: 0x0100_0000 })
        );
    }

    #[test]
    fn tagged_string() {
        assert_eq!(
            decode_tagged_string(b"\x01vlan10"),
            (Some(1), &b"vlan10"[..])
        );
        assert_eq!(decode_tagged_string(b"vlan10"), (None, &b"vlan10"[..]));
        assert_eq!(decode_tagged_string(b""), (None, &b""[..]));
        assert_eq!(encode_tagged_string(Some(3), b"x").unwrap(), b"\x03x");
        assert_eq!(encode_tagged_string(None, b"x").unwrap(), b"x");
        // An untagged value starting with a tag-like octet must survive.
        let enc = encode_tagged_string(None, b"\x05x").unwrap();
        assert_eq!(decode_tagged_string(&enc), (Some(0), &b"\x05x"[..]));
        assert!(encode_tagged_string(Some(0x20), b"x").is_err());
    }

    #[test]
    fn vsa_round_trip_with_several_subs() {
        let enc = encode_vsas(311, &[(11, &[1u8; 16][..]), (25, &[2u8; 50][..])]).unwrap();
        let subs: Vec<_> = decode_vsa(&enc).unwrap().collect();
        assert_eq!(subs.len(), 2);
        assert_eq!(
            subs[0],
            Vsa {
                vendor_id: 311,
                typ: 11,
                value: &[1u8; 16]
            }
        );
        assert_eq!(subs[1].typ, 25);
        assert_eq!(subs[1].value, &[2u8; 50]);
    }

    #[test]
    fn vsa_lengths_are_checked_not_truncated() {
        assert!(encode_vsa(9, 1, &[0; 247]).is_ok());
        assert_eq!(
            encode_vsa(9, 1, &[0; 248]),
            Err(EncodeError::VsaTooLong {
                vendor_id: 9,
                typ: 1,
                len: 248
            })
        );
        // 254 + 2 wraps to 0 with `as u8`; it must be an error instead.
        assert!(encode_vsa(9, 1, &[0; 254]).is_err());
        assert!(encode_vsas(9, &[(1, &[0; 200][..]), (2, &[0; 50][..])]).is_err());
    }

    #[test]
    fn malformed_vsas() {
        assert_eq!(
            decode_vsa(&[]).unwrap_err(),
            DecodeError::VsaTooShort { len: 0 }
        );
        assert!(decode_vsa(&[0, 0, 1, 55]).is_err());
        assert!(decode_vsa(&[0, 0, 1, 55, 1]).is_err());
        assert!(matches!(
            decode_vsa(&[0, 0, 1, 55, 1, 1]),
            Err(DecodeError::BadVsaLength { len: 1, .. })
        ));
        assert!(matches!(
            decode_vsa(&[0, 0, 1, 55, 1, 4, 0]),
            Err(DecodeError::VsaOverrun { offset: 4, .. })
        ));
        assert!(matches!(
            decode_vsa(&[0, 0, 1, 55, 1, 3, 0, 7]),
            Err(DecodeError::VsaOverrun { offset: 7, .. })
        ));
        let ok: Vec<_> = decode_vsa(&[0, 0, 1, 55, 1, 2]).unwrap().collect();
        assert_eq!(ok.len(), 1);
        assert!(ok[0].value.is_empty());
    }
}
