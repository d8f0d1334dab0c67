//! Computer assignment rules (product §6): an ordered list of (site, identity glob,
//! address range, RADIUS client) → computer policy. The first rule whose every given
//! condition holds sets a new computer's policy; a rule with no condition matches all.

use std::net::IpAddr;

use crate::model::IpNet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub policy: i64,
    pub site: Option<String>,
    /// `*` any run of characters, `?` one; case-insensitive.
    pub identity: Option<String>,
    pub address: Option<IpNet>,
    pub client: Option<String>,
}

/// What a rule can look at of a computer.
#[derive(Debug, Clone, Copy)]
pub struct ComputerFacts<'a> {
    pub site: &'a str,
    pub identity: &'a str,
    /// The computer's address when known (an address identity, or the request's
    /// Framed-IP-Address).
    pub address: Option<IpAddr>,
    /// The RADIUS client the computer was seen through.
    pub client: &'a str,
}

impl Rule {
    #[must_use]
    pub fn matches(&self, c: ComputerFacts<'_>) -> bool {
        self.site
            .as_ref()
            .is_none_or(|s| s.eq_ignore_ascii_case(c.site))
            && self
                .client
                .as_ref()
                .is_none_or(|n| n.eq_ignore_ascii_case(c.client))
            && self
                .address
                .as_ref()
                .is_none_or(|net| c.address.is_some_and(|ip| net.contains(ip)))
            && self
                .identity
                .as_ref()
                .is_none_or(|g| glob_match(g, c.identity))
    }
}

/// The first rule of `rules` (in their order) that matches.
#[must_use]
pub fn first_match<'r>(rules: &'r [Rule], computer: ComputerFacts<'_>) -> Option<&'r Rule> {
    rules.iter().find(|r| r.matches(computer))
}

/// Glob matching with `*` and `?`, ASCII case-insensitive, in linear time (the classic
/// backtrack-to-last-star walk: no exponential blow-up on `*a*a*a*b`).
#[must_use]
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || t.get(ti).is_some_and(|x| x.eq_ignore_ascii_case(&c)) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(id: i64, policy: i64) -> Rule {
        Rule {
            id,
            name: format!("r{id}"),
            policy,
            site: None,
            identity: None,
            address: None,
            client: None,
        }
    }

    const FACTS: ComputerFacts<'static> = ComputerFacts {
        site: "HQ",
        identity: "00-10-A4-23-19-C0",
        address: None,
        client: "sw-1",
    };

    #[test]
    fn the_first_matching_rule_wins() {
        let rules = vec![
            Rule {
                site: Some("Branch".into()),
                ..rule(1, 10)
            },
            Rule {
                identity: Some("00-10-a4-*".into()),
                client: Some("SW-1".into()),
                ..rule(2, 20)
            },
            rule(3, 30),
        ];
        assert_eq!(first_match(&rules, FACTS).map(|r| r.policy), Some(20));
        let other = ComputerFacts {
            identity: "AA-BB-CC-DD-EE-FF",
            ..FACTS
        };
        assert_eq!(first_match(&rules, other).map(|r| r.policy), Some(30));
    }

    #[test]
    fn an_address_condition_needs_an_address() {
        let r = Rule {
            address: Some("10.1.0.0/16".parse().unwrap()),
            ..rule(1, 1)
        };
        assert!(!r.matches(FACTS));
        let with = ComputerFacts {
            address: Some("10.1.2.3".parse().unwrap()),
            ..FACTS
        };
        assert!(r.matches(with));
        let outside = ComputerFacts {
            address: Some("10.2.0.1".parse().unwrap()),
            ..FACTS
        };
        assert!(!r.matches(outside));
    }

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("*", "", true),
            ("*", "abc", true),
            ("a?c", "ABC", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            (
                "*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("00-10-*", "00-10-A4-23-19-C0", true),
            ("", "", true),
            ("", "a", false),
            ("ab", "a", false),
        ] {
            assert_eq!(glob_match(p, t), m, "{p} ~ {t}");
        }
    }

    fn reference(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
            Some((c, rest)) => t.split_first().is_some_and(|(x, tt)| {
                (*c == '?' || x.eq_ignore_ascii_case(c)) && reference(rest, tt)
            }),
        }
    }

    proptest! {
        #[test]
        fn glob_agrees_with_the_definition(p in "[ab*?]{0,8}", t in "[abAB]{0,10}") {
            let pc: Vec<char> = p.chars().collect();
            let tc: Vec<char> = t.chars().collect();
            prop_assert_eq!(glob_match(&p, &t), reference(&pc, &tc));
        }
    }
}
