//! IP networks (`10.0.0.0/8`, `2001:db8::/32`, or a bare address) for client matching.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address or CIDR network (e.g. 192.0.2.10 or 10.0.0.0/8)")]
pub struct CidrError(pub String);

impl IpNet {
    #[must_use]
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    #[must_use]
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// Whether this network is a single host (/32 or /128).
    #[must_use]
    pub fn is_host(&self) -> bool {
        self.prefix == max_prefix(self.addr)
    }

    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl IpNet {
    /// Whether every address of `other` is in this network.
    #[must_use]
    pub fn covers(&self, other: &IpNet) -> bool {
        self.prefix <= other.prefix && self.contains(other.addr)
    }

    /// Whether the two networks share an address.
    #[must_use]
    pub fn overlaps(&self, other: &IpNet) -> bool {
        self.covers(other) || other.covers(self)
    }
}

/// IPv4-mapped IPv6 sources (from a dual-stack socket) match IPv4 networks.
#[must_use]
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

impl FromStr for IpNet {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || CidrError(s.to_string());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| err())?;
        let addr = canonical(addr);
        let max = max_prefix(addr);
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(err)?,
            None => max,
        };
        // Store the network address so that `10.1.2.3/8` and `10.0.0.0/8` compare equal.
        let addr = match addr {
            IpAddr::V4(v4) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(v6) & mask).into())
            }
        };
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let n: IpNet = "10.1.2.3/8".parse().unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8");
        assert!(n.contains("10.200.0.1".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.9.9.9".parse().unwrap()));
        let h: IpNet = "127.0.0.1".parse().unwrap();
        assert!(h.is_host());
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6: IpNet = "::1".parse().unwrap();
        assert!(v6.contains("::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("banana".parse::<IpNet>().is_err());
        assert!("::/129".parse::<IpNet>().is_err());
    }

    #[test]
    fn overlap() {
        let net = |s: &str| s.parse::<IpNet>().unwrap();
        assert!(net("10.0.0.0/8").covers(&net("10.1.2.3")));
        assert!(!net("10.1.2.3").covers(&net("10.0.0.0/8")));
        assert!(net("10.1.2.3").overlaps(&net("10.0.0.0/8")));
        assert!(net("10.1.2.3").overlaps(&net("10.1.2.3/32")));
        assert!(!net("10.0.0.0/16").overlaps(&net("10.1.0.0/16")));
        assert!(!net("10.0.0.1").overlaps(&net("::1")));
    }
}
