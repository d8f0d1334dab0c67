//! The one redacting type for every secret the daemon holds or carries: RADIUS shared
//! secrets, bind passwords, user passwords and imported hashes in requests. `Debug` prints
//! only the length, and nothing else formats it; reaching the bytes takes a call to
//! [`Secret::expose`] that a reviewer can grep for.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Vec<u8>);

impl Secret {
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A secret typed by a person: one trailing line break (from a file or a pipe) is
    /// not part of it.
    #[must_use]
    pub fn from_text(text: &str) -> Self {
        Self(text.trim_end_matches(['\n', '\r']).as_bytes().to_vec())
    }

    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret as text, when it is UTF-8.
    #[must_use]
    pub fn expose_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

/// On the admin socket secrets travel as JSON strings (they come from files and stdin).
impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.expose_str() {
            Some(text) => s.serialize_str(text),
            None => Err(serde::ser::Error::custom("a secret must be UTF-8 text")),
        }
    }
}

/// Accepts a string and refuses anything else without quoting it: serde's own message
/// for a wrong type repeats the value (``invalid type: integer `12345678` ``), and parse
/// errors reach the reply and the audit record.
struct SecretVisitor;

impl SecretVisitor {
    fn refuse<E: serde::de::Error>() -> E {
        E::custom("a secret must be a JSON string")
    }
}

impl<'de> serde::de::Visitor<'de> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
        Ok(Secret(v.as_bytes().to_vec()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
        Ok(Secret(v.into_bytes()))
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(Self::refuse())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(Self::refuse())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(Self::refuse())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(Self::refuse())
    }

    fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<Secret, E> {
        Err(Self::refuse())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Secret, E> {
        Err(Self::refuse())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(Self::refuse())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Secret, A::Error> {
        Err(Self::refuse())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::from_text("hunter2\n");
        assert_eq!(s.expose(), b"hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<7 bytes redacted>)");
        let json = serde_json::to_string(&s).unwrap();
        let back: Secret = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn a_wrong_type_is_refused_without_its_value() {
        for json in [
            r#"12345678"#,
            r#"1234.5678"#,
            r#"[12345678]"#,
            r#"{"x":"12345678"}"#,
            "true",
        ] {
            let err = serde_json::from_str::<Secret>(json)
                .unwrap_err()
                .to_string();
            assert!(
                !err.contains("12345678") && !err.contains("1234.5678"),
                "{err}"
            );
            assert!(err.contains("a secret must be a JSON string"), "{err}");
        }
    }
}
