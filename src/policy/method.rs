//! Authentication methods and sets of them, as policies name them (`--methods
//! password,otp`). A set is a bit mask: policies intersect them on every request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Password,
    Otp,
    PinOtp,
    Tempcode,
    EapTls,
    EapTtls,
    Peap,
}

impl Method {
    pub const ALL: [Method; 7] = [
        Method::Password,
        Method::Otp,
        Method::PinOtp,
        Method::Tempcode,
        Method::EapTls,
        Method::EapTtls,
        Method::Peap,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Otp => "otp",
            Method::PinOtp => "pin+otp",
            Method::Tempcode => "tempcode",
            Method::EapTls => "eap-tls",
            Method::EapTtls => "eap-ttls",
            Method::Peap => "peap",
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// Whether the method proves possession of a second factor (a token or a code
    /// standing in for one).
    #[must_use]
    pub const fn is_second_factor(self) -> bool {
        matches!(self, Method::Otp | Method::PinOtp | Method::Tempcode)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown method `{0}` (password, otp, pin+otp, tempcode, eap-tls, eap-ttls, peap)")]
pub struct UnknownMethod(pub String);

impl FromStr for Method {
    type Err = UnknownMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Method::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownMethod(s.chars().take(40).collect()))
    }
}

/// A set of methods. Policies created without `--methods` allow every one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Methods(u8);

impl Methods {
    pub const NONE: Methods = Methods(0);
    pub const ALL: Methods = Methods((1 << Method::ALL.len()) - 1);

    #[must_use]
    pub fn of(list: &[Method]) -> Methods {
        Methods(list.iter().fold(0, |bits, m| bits | m.bit()))
    }

    #[must_use]
    pub const fn contains(self, m: Method) -> bool {
        self.0 & m.bit() != 0
    }

    #[must_use]
    pub const fn intersect(self, other: Methods) -> Methods {
        Methods(self.0 & other.0)
    }

    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Method> {
        Method::ALL.into_iter().filter(move |m| self.contains(*m))
    }

    /// Whether some method of the set is a second factor.
    #[must_use]
    pub fn has_second_factor(self) -> bool {
        self.iter().any(Method::is_second_factor)
    }

    /// The raw bits, for property tests that enumerate sets.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Methods {
        Methods(bits & Methods::ALL.0)
    }
}

impl fmt::Debug for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Methods({self})")
    }
}

impl fmt::Display for Methods {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, m) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(m.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Methods {
    type Err = UnknownMethod;

    /// `password,otp`; an empty list is refused by the caller, which says why.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = Methods::NONE;
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            set = Methods(set.0 | part.parse::<Method>()?.bit());
        }
        Ok(set)
    }
}

impl Serialize for Methods {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Method::as_str))
    }
}

impl<'de> Deserialize<'de> for Methods {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut set = Methods::NONE;
        for n in names {
            let m = n.parse::<Method>().map_err(serde::de::Error::custom)?;
            set = Methods(set.0 | m.bit());
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_print_and_intersect() {
        let a: Methods = "password, OTP,pin+otp".parse().unwrap();
        assert_eq!(a.to_string(), "password,otp,pin+otp");
        let b: Methods = "otp,tempcode".parse().unwrap();
        assert_eq!(a.intersect(b).to_string(), "otp");
        assert_eq!(
            "password,sms".parse::<Methods>().unwrap_err().to_string(),
            "unknown method `sms` (password, otp, pin+otp, tempcode, eap-tls, eap-ttls, peap)"
        );
        assert_eq!(Methods::ALL.iter().count(), 7);
        assert_eq!(Methods::NONE.to_string(), "none");
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, r#"["password","otp","pin+otp"]"#);
        assert_eq!(serde_json::from_str::<Methods>(&json).unwrap(), a);
    }
}
