//! Which user policy a user gets (product §6, §11b): assignments to a user, a group, an
//! OU subtree or a domain, each with a priority. The lowest priority wins; on a tie a
//! user assignment beats a group, a group an OU, a deeper OU a shallower one, and an OU
//! a domain; what is still tied goes to the older assignment. Nobody assigned gets the
//! built-in `default`.
//!
//! Resolution runs on every Access-Request, so assignments are indexed by what they name
//! and a user costs one lookup per name, group, OU level and domain.

use std::collections::HashMap;

/// What an assignment names. Names and domains are compared ASCII case-insensitively (as
/// the store compares them); groups by name (the first RDN value of the group's DN,
/// lower-cased); OUs by their canonical DN (`model::scope::canonical_dn`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    User { domain: String, name: String },
    Group { domain: String, group: String },
    Ou { domain: String, ou: String },
    Domain { domain: String },
}

impl Subject {
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Subject::User { .. } => "user",
            Subject::Group { .. } => "group",
            Subject::Ou { .. } => "ou",
            Subject::Domain { .. } => "domain",
        }
    }

    /// How the tie-break ranks the kind: lower wins.
    const fn rank(&self) -> u8 {
        match self {
            Subject::User { .. } => 0,
            Subject::Group { .. } => 1,
            Subject::Ou { .. } => 2,
            Subject::Domain { .. } => 3,
        }
    }

    #[must_use]
    pub fn domain(&self) -> &str {
        match self {
            Subject::User { domain, .. }
            | Subject::Group { domain, .. }
            | Subject::Ou { domain, .. }
            | Subject::Domain { domain } => domain,
        }
    }

    /// The subject as the command line names it: `CORP\alice`, `CORP\vpn-users`,
    /// `CORP:ou=sales,dc=corp`, `CORP`.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Subject::User { domain, name } => format!("{domain}\\{name}"),
            Subject::Group { domain, group } => format!("{domain}\\{group}"),
            Subject::Ou { domain, ou } => format!("{domain}:{ou}"),
            Subject::Domain { domain } => domain.clone(),
        }
    }
}

/// One assignment of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: i64,
    pub policy: i64,
    pub subject: Subject,
    pub priority: i64,
}

impl Assignment {
    /// Sort key: lower is better. Deeper OUs rank before shallower ones.
    fn order(&self) -> (i64, u8, usize, i64) {
        let shallowness = match &self.subject {
            Subject::Ou { ou, .. } => usize::MAX - depth(ou),
            _ => 0,
        };
        (self.priority, self.subject.rank(), shallowness, self.id)
    }
}

fn depth(canonical_ou: &str) -> usize {
    canonical_ou.bytes().filter(|b| *b == b',').count() + 1
}

/// What resolution needs to know of a user.
#[derive(Debug, Clone, Copy)]
pub struct UserFacts<'a> {
    pub domain: &'a str,
    pub name: &'a str,
    /// Group names as [`group_key`] gives them.
    pub groups: &'a [String],
    /// The canonical DN of the user's OU.
    pub ou_key: Option<&'a str>,
}

pub use crate::model::scope::group_key;

fn key(domain: &str, name: &str) -> String {
    let mut k = String::with_capacity(domain.len() + name.len() + 1);
    k.push_str(domain);
    k.push('\0');
    k.push_str(name);
    k.make_ascii_lowercase();
    k
}

/// Names come from the network and the directory: a hash seeded per process, and much
/// cheaper than SipHash for the dozen lookups a request makes.
type Index = HashMap<String, Vec<usize>, foldhash::fast::RandomState>;

/// Every assignment, indexed by what it names.
#[derive(Debug, Default)]
pub struct Assignments {
    all: Vec<Assignment>,
    by_user: Index,
    by_group: Index,
    by_ou: Index,
    by_domain: Index,
}

impl Assignments {
    #[must_use]
    pub fn new(all: Vec<Assignment>) -> Self {
        let mut index = Assignments::default();
        for (i, a) in all.iter().enumerate() {
            let (map, k) = match &a.subject {
                Subject::User { domain, name } => (&mut index.by_user, key(domain, name)),
                Subject::Group { domain, group } => (&mut index.by_group, key(domain, group)),
                Subject::Ou { domain, ou } => (&mut index.by_ou, key(domain, ou)),
                Subject::Domain { domain } => (&mut index.by_domain, domain.to_ascii_lowercase()),
            };
            map.entry(k).or_default().push(i);
        }
        index.all = all;
        index
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.all.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The assignment that decides the user's policy; `None`: the default policy.
    #[must_use]
    pub fn resolve(&self, user: UserFacts<'_>) -> Option<&Assignment> {
        let mut best: Option<&Assignment> = None;
        self.each_match(user, |a| {
            if best.is_none_or(|b| a.order() < b.order()) {
                best = Some(a);
            }
        });
        best
    }

    /// Every assignment that applies to the user, the deciding one first (for `policy
    /// explain`).
    #[must_use]
    pub fn matching(&self, user: UserFacts<'_>) -> Vec<&Assignment> {
        let mut found = Vec::new();
        self.each_match(user, |a| found.push(a));
        found.sort_by_key(|a| a.order());
        found.dedup_by_key(|a| a.id);
        found
    }

    fn each_match<'s>(&'s self, user: UserFacts<'_>, mut visit: impl FnMut(&'s Assignment)) {
        // One key buffer for every lookup: this runs on every request.
        let mut k = String::with_capacity(128);
        let mut hits = |map: &'s Index, domain: &str, name: Option<&str>| {
            k.clear();
            k.push_str(domain);
            if let Some(name) = name {
                k.push('\0');
                k.push_str(name);
            }
            k.make_ascii_lowercase();
            for &i in map.get(k.as_str()).into_iter().flatten() {
                if let Some(a) = self.all.get(i) {
                    visit(a);
                }
            }
        };
        if !self.by_user.is_empty() {
            hits(&self.by_user, user.domain, Some(user.name));
        }
        if !self.by_group.is_empty() {
            for g in user.groups {
                hits(&self.by_group, user.domain, Some(g));
            }
        }
        if !self.by_ou.is_empty()
            && let Some(ou) = user.ou_key
        {
            // The OU itself and each ancestor: in canonical form a `,` only separates RDNs.
            let mut level = ou;
            loop {
                hits(&self.by_ou, user.domain, Some(level));
                match level.split_once(',') {
                    Some((_, parent)) => level = parent,
                    None => break,
                }
            }
        }
        if !self.by_domain.is_empty() {
            hits(&self.by_domain, user.domain, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(id: i64, policy: i64, subject: Subject, priority: i64) -> Assignment {
        Assignment {
            id,
            policy,
            subject,
            priority,
        }
    }

    fn user(name: &str) -> Subject {
        Subject::User {
            domain: "CORP".into(),
            name: name.into(),
        }
    }
    fn group(g: &str) -> Subject {
        Subject::Group {
            domain: "CORP".into(),
            group: g.into(),
        }
    }
    fn ou(o: &str) -> Subject {
        Subject::Ou {
            domain: "CORP".into(),
            ou: crate::model::scope::canonical_dn(o).unwrap(),
        }
    }
    fn domain() -> Subject {
        Subject::Domain {
            domain: "corp".into(),
        }
    }

    fn facts<'a>(groups: &'a [String], ou_key: Option<&'a str>) -> UserFacts<'a> {
        UserFacts {
            domain: "corp",
            name: "Alice",
            groups,
            ou_key,
        }
    }

    #[test]
    fn priority_then_kind_then_depth() {
        let groups = vec![group_key("CN=VPN Users,OU=Groups,DC=corp")];
        let ou_key = crate::model::scope::canonical_dn("ou=East,ou=Sales,dc=corp").unwrap();
        let f = facts(&groups, Some(&ou_key));
        let all = Assignments::new(vec![
            a(1, 10, domain(), 5),
            a(2, 20, ou("ou=Sales,dc=corp"), 5),
            a(3, 30, ou("OU=East,OU=Sales,DC=corp"), 5),
            a(4, 40, group("vpn users"), 5),
            a(5, 50, user("alice"), 5),
        ]);
        assert_eq!(all.resolve(f).map(|x| x.policy), Some(50));
        let order: Vec<i64> = all.matching(f).iter().map(|x| x.policy).collect();
        assert_eq!(order, vec![50, 40, 30, 20, 10]);
        // A lower priority beats every tie-break.
        let all = Assignments::new(vec![a(1, 10, domain(), 1), a(5, 50, user("alice"), 2)]);
        assert_eq!(all.resolve(f).map(|x| x.policy), Some(10));
        // Equal in everything: the older assignment.
        let all = Assignments::new(vec![a(9, 90, domain(), 1), a(8, 80, domain(), 1)]);
        assert_eq!(all.resolve(f).map(|x| x.policy), Some(80));
    }

    #[test]
    fn nothing_matches_other_domains_or_sibling_ous() {
        let groups = vec!["vpn users".to_string()];
        let ou_key = crate::model::scope::canonical_dn("ou=NotSales,dc=corp").unwrap();
        let f = facts(&groups, Some(&ou_key));
        let all = Assignments::new(vec![
            a(1, 1, ou("ou=Sales,dc=corp"), 0),
            a(
                2,
                2,
                Subject::Group {
                    domain: "OTHER".into(),
                    group: "vpn users".into(),
                },
                0,
            ),
            a(
                3,
                3,
                Subject::Domain {
                    domain: "local".into(),
                },
                0,
            ),
        ]);
        assert!(all.resolve(f).is_none());
        assert!(all.matching(f).is_empty());
    }

    #[test]
    fn group_keys_are_first_rdn_values() {
        assert_eq!(group_key("CN=VPN Users,OU=Groups,DC=corp"), "vpn users");
        assert_eq!(group_key("cn=Smith\\, J,dc=corp"), "smith, j");
        assert_eq!(group_key(" Helpdesk "), "helpdesk");
    }
}
