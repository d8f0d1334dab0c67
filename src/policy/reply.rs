//! Reply attributes as policies hold them: already encoded (the administrator's text was
//! checked against the dictionary when the policy was saved), with that text kept for
//! display. Merging works per attribute type, a vendor attribute's type being its vendor
//! and vendor type.

use serde::{Deserialize, Serialize};

/// RADIUS attribute 26.
const VENDOR_SPECIFIC: u8 = 26;
/// RADIUS attribute 27.
pub const SESSION_TIMEOUT: u8 = 27;

/// One attribute as it goes into an Access-Accept: for a vendor attribute `typ` is 26 and
/// `value` the whole vendor payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyAttr {
    pub typ: u8,
    #[serde(with = "hex_bytes")]
    pub value: Vec<u8>,
    /// `Name = value`, as `policy explain` and `show` print it.
    pub text: String,
}

/// What merging compares: the attribute's type, and for vendor attributes the vendor
/// and its type (two Cisco-AVPairs are one type, a Cisco and an Aruba attribute two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttrKey {
    pub vendor: u32,
    pub typ: u32,
}

impl ReplyAttr {
    #[must_use]
    pub fn key(&self) -> AttrKey {
        if self.typ == VENDOR_SPECIFIC
            && let Some(&[a, b, c, d, vtyp]) = self.value.get(..5).and_then(|s| s.first_chunk())
        {
            return AttrKey {
                vendor: u32::from_be_bytes([a, b, c, d]),
                typ: u32::from(vtyp),
            };
        }
        AttrKey {
            vendor: 0,
            typ: u32::from(self.typ),
        }
    }

    /// Session-Timeout of `secs` seconds.
    #[must_use]
    pub fn session_timeout(secs: u32) -> ReplyAttr {
        ReplyAttr {
            typ: SESSION_TIMEOUT,
            value: secs.to_be_bytes().to_vec(),
            text: format!("Session-Timeout = {secs}"),
        }
    }

    /// The value of a Session-Timeout attribute.
    #[must_use]
    pub fn as_session_timeout(&self) -> Option<u32> {
        (self.typ == SESSION_TIMEOUT)
            .then(|| {
                self.value
                    .as_slice()
                    .try_into()
                    .ok()
                    .map(u32::from_be_bytes)
            })
            .flatten()
    }
}

/// `user`'s attributes with `over`'s laid on top: every type `over` has replaces all of
/// `user`'s values of that type (a multi-valued attribute such as Class is replaced as a
/// whole, never concatenated). Order: `user`'s survivors, then `over`'s.
#[must_use]
pub fn overlay(user: &[ReplyAttr], over: &[ReplyAttr]) -> Vec<ReplyAttr> {
    let replaced: Vec<AttrKey> = over.iter().map(ReplyAttr::key).collect();
    user.iter()
        .filter(|a| !replaced.contains(&a.key()))
        .chain(over)
        .cloned()
        .collect()
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(v.len() * 2);
        for b in v {
            out.push_str(&format!("{b:02x}"));
        }
        s.serialize_str(&out)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        if text.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd number of hex digits"));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| serde::de::Error::custom("not hex"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(typ: u8, value: &[u8]) -> ReplyAttr {
        ReplyAttr {
            typ,
            value: value.to_vec(),
            text: String::new(),
        }
    }

    #[test]
    fn vendor_attributes_are_keyed_by_vendor_and_type() {
        let cisco = attr(26, &[0, 0, 0, 9, 1, 5, b'a', b'b', b'c']);
        assert_eq!(cisco.key(), AttrKey { vendor: 9, typ: 1 });
        assert_eq!(attr(25, b"x").key(), AttrKey { vendor: 0, typ: 25 });
        // A truncated VSA is keyed as the raw attribute, never a panic.
        assert_eq!(attr(26, &[0, 0]).key(), AttrKey { vendor: 0, typ: 26 });
    }

    #[test]
    fn overlay_replaces_whole_types() {
        let user = [attr(25, b"u1"), attr(25, b"u2"), attr(11, b"f")];
        let computer = [attr(25, b"c1")];
        let merged = overlay(&user, &computer);
        assert_eq!(merged, vec![attr(11, b"f"), attr(25, b"c1")]);
    }

    #[test]
    fn values_survive_json() {
        let a = ReplyAttr::session_timeout(600);
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains("\"00000258\""), "{json}");
        let back: ReplyAttr = serde_json::from_str(&json).unwrap();
        assert_eq!(back.as_session_timeout(), Some(600));
    }
}
