//! Group membership, pure: collecting an attribute that Active Directory hands out in
//! ranges, indexing which groups list which members, and resolving a user's groups —
//! with nesting, the transitive closure over the groups known to the run.
//!
//! Invariants owned here: a ranged attribute is collected in order or not at all, within
//! [`MAX_RANGED_VALUES`] values and [`MAX_RANGE_ROUNDS`] requests; nesting is followed at
//! most [`MAX_NESTING_DEPTH`] levels up and visits each group once, so a cycle ends it;
//! a user's groups come out deduplicated (DNs compared parsed) and in one order, so that
//! the planner sees a change of groups and nothing else as one.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::map::{DirectoryUser, MemberAttribute, parent_dn};
use super::plan::StoredUser;
use crate::model::UserStatus;
use crate::model::scope::canonical_dn;

/// Values one attribute of one entry may have: ten times Active Directory's practical
/// ceiling for group members, and a bound on what one entry can make the run hold.
pub const MAX_RANGED_VALUES: usize = 1_000_000;

/// Requests for one attribute of one entry. Active Directory sends 1,500 values a time
/// (MaxValRange), so [`MAX_RANGED_VALUES`] arrive in 667 requests; this only stops a
/// server that answers with tiny ranges forever.
pub const MAX_RANGE_ROUNDS: usize = 1_000;

/// Levels of nesting followed above a user's own groups. Real directories nest a few
/// levels; a chain this long is a mistake, and each level costs the run a round of reads.
pub const MAX_NESTING_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("`{attribute}` has more than {max} values")]
    TooManyValues { attribute: String, max: usize },
    #[error("`{attribute}` was still incomplete after {max} requests")]
    TooManyRounds { attribute: String, max: usize },
    /// The server answered a range that does not continue the values collected so far.
    #[error("the server answered `{got}` when the values from {expected} on were asked for")]
    OutOfOrder { got: String, expected: usize },
}

/// One attribute of one entry, collected across the answers of a server that sends it in
/// ranges: `member;range=0-1499`, then — asked for `member;range=1500-*` — the next part,
/// until a range ending in `*`.
#[derive(Debug, Clone)]
pub struct RangedAttribute {
    /// Lower-cased, as [`super::map::RawEntry`] names attributes.
    name: String,
    values: Vec<String>,
    next_low: usize,
    rounds: usize,
}

/// Whether an entry's attributes hold `name` in ranges (its first part).
#[must_use]
pub fn has_range(attrs: &BTreeMap<String, Vec<String>>, name: &str) -> bool {
    let prefix = format!("{};range=", name.to_ascii_lowercase());
    attrs.keys().any(|k| k.starts_with(&prefix))
}

/// `LOW-HIGH` or `LOW-*` (`None` for the last part).
fn parse_range(s: &str) -> Option<(usize, Option<usize>)> {
    let (low, high) = s.split_once('-')?;
    let low = low.parse().ok()?;
    let high = if high == "*" {
        None
    } else {
        Some(high.parse().ok()?)
    };
    Some((low, high))
}

impl RangedAttribute {
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_ascii_lowercase(),
            values: Vec::new(),
            next_low: 0,
            rounds: 0,
        }
    }

    /// Takes this attribute's values out of one answer for the entry (attribute names
    /// lower-cased). Returns the attribute description to ask the same entry for next, or
    /// `None` once every value has arrived — also when an answer no longer carries the
    /// attribute: the entry lost the remaining values between two requests.
    ///
    /// # Errors
    /// A range that does not continue the previous one, or the bounds exceeded.
    pub fn take(
        &mut self,
        attrs: &mut BTreeMap<String, Vec<String>>,
    ) -> Result<Option<String>, RangeError> {
        self.rounds += 1;
        if self.rounds > MAX_RANGE_ROUNDS {
            return Err(RangeError::TooManyRounds {
                attribute: self.name.clone(),
                max: MAX_RANGE_ROUNDS,
            });
        }
        let prefix = format!("{};range=", self.name);
        let Some(key) = attrs.keys().find(|k| k.starts_with(&prefix)).cloned() else {
            if let Some(values) = attrs.remove(&self.name) {
                // The whole attribute at once is an answer to the first request only:
                // later it would repeat the values collected so far.
                if self.rounds > 1 {
                    return Err(self.out_of_order(&self.name));
                }
                self.push(values)?;
            }
            return Ok(None);
        };
        let values = attrs.remove(&key).unwrap_or_default();
        let Some((low, high)) = parse_range(&key[prefix.len()..]) else {
            return Err(self.out_of_order(&key));
        };
        if low != self.next_low || high.is_some_and(|h| h < low) {
            return Err(self.out_of_order(&key));
        }
        self.push(values)?;
        let Some(high) = high else {
            return Ok(None);
        };
        self.next_low = high + 1;
        Ok(Some(format!("{prefix}{}-*", self.next_low)))
    }

    fn push(&mut self, values: Vec<String>) -> Result<(), RangeError> {
        if self.values.len() + values.len() > MAX_RANGED_VALUES {
            return Err(RangeError::TooManyValues {
                attribute: self.name.clone(),
                max: MAX_RANGED_VALUES,
            });
        }
        self.values.extend(values);
        Ok(())
    }

    fn out_of_order(&self, got: &str) -> RangeError {
        RangeError::OutOfOrder {
            got: got.to_string(),
            expected: self.next_low,
        }
    }

    /// The values collected so far (all of them once [`take`](Self::take) said `None`).
    #[must_use]
    pub fn into_values(self) -> Vec<String> {
        self.values
    }
}

/// A group member as the member attribute names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member<'a> {
    Dn(&'a str),
    /// `memberUid`: the member's username.
    Username(&'a str),
}

/// What one value of `attribute` names.
#[must_use]
pub fn member(attribute: MemberAttribute, value: &str) -> Member<'_> {
    match attribute {
        MemberAttribute::Member => Member::Dn(value),
        MemberAttribute::UniqueMember => Member::Dn(without_uid(value)),
        MemberAttribute::MemberUid => Member::Username(value.trim()),
    }
}

/// A `uniqueMember` value without its optional `#'…'B` suffix (RFC 4517
/// NameAndOptionalUID). A `#` that belongs to the DN is escaped, so an unescaped one
/// starts the suffix.
fn without_uid(value: &str) -> &str {
    match value.rfind("#'") {
        Some(i) if value.ends_with("'B") && !value[..i].ends_with('\\') => &value[..i],
        _ => value,
    }
}

/// The one order of a user's groups, as [`super::map::map_entry`] gives them.
pub fn sort_groups(groups: &mut [String]) {
    groups.sort_by_key(|g| g.to_ascii_lowercase());
}

fn dn_key(dn: &str) -> String {
    canonical_dn(dn).unwrap_or_else(|| dn.to_lowercase())
}

fn username_key(name: &str) -> String {
    name.to_lowercase()
}

/// A user's groups, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolved {
    /// Group DNs as the directory spells them, sorted case-insensitively.
    pub groups: Vec<String>,
    /// Nesting went on above the depth followed: groups further up were left out.
    pub truncated: bool,
}

/// Which groups list which members. Filled from group entries (group search: a group
/// lists users and groups) or from groups' own `memberOf` (a group's parents list it);
/// either way "X is listed by G" is the one relation, and nesting is its closure.
#[derive(Debug, Clone, Default)]
pub struct Memberships {
    /// Group DNs as the directory spells them.
    groups: Vec<String>,
    /// `groups` in canonical form, same positions.
    keys: Vec<String>,
    /// Canonical group DN → position.
    index: HashMap<String, usize>,
    /// Canonical member DN → the groups listing it.
    by_dn: HashMap<String, Vec<usize>>,
    /// Lower-cased username → the groups listing it (`memberUid`).
    by_username: HashMap<String, Vec<usize>>,
}

impl Memberships {
    /// Groups that list someone.
    #[must_use]
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    fn group(&mut self, dn: &str) -> Option<usize> {
        let key = canonical_dn(dn)?;
        if let Some(&i) = self.index.get(&key) {
            return Some(i);
        }
        let i = self.groups.len();
        self.groups.push(dn.to_string());
        self.keys.push(key.clone());
        self.index.insert(key, i);
        Some(i)
    }

    /// Records that group `group_dn` lists `member`. Returns `false`, recording nothing,
    /// when the group or the member is not a DN: such a value cannot name anyone.
    pub fn add(&mut self, group_dn: &str, member: Member<'_>) -> bool {
        let key = match member {
            Member::Dn(dn) => canonical_dn(dn),
            Member::Username(name) => (!name.is_empty()).then(|| username_key(name)),
        };
        let Some(key) = key else {
            return false;
        };
        let Some(g) = self.group(group_dn) else {
            return false;
        };
        let map = match member {
            Member::Dn(_) => &mut self.by_dn,
            Member::Username(_) => &mut self.by_username,
        };
        let listed = map.entry(key).or_default();
        if !listed.contains(&g) {
            listed.push(g);
        }
        true
    }

    /// The groups of a user found by group search: those listing its DN or username and,
    /// with `depth` above 0, up to `depth` levels of groups listing those.
    #[must_use]
    pub fn groups_of(&self, user_dn: &str, username: &str, depth: usize) -> Resolved {
        let by_dn = canonical_dn(user_dn).and_then(|k| self.by_dn.get(&k));
        let by_name = self.by_username.get(&username_key(username));
        let direct = by_dn
            .into_iter()
            .chain(by_name)
            .flatten()
            .map(|&g| (self.keys[g].clone(), self.groups[g].clone()))
            .collect();
        self.close(direct, depth)
    }

    /// The groups of a user that lists its own (`memberOf`): `direct` and, with `depth`
    /// above 0, up to `depth` levels of groups listing those.
    #[must_use]
    pub fn expand(&self, direct: &[String], depth: usize) -> Resolved {
        let direct = direct.iter().map(|d| (dn_key(d), d.clone())).collect();
        self.close(direct, depth)
    }

    /// Breadth-first up the "listed by" relation, each group once (which ends cycles).
    fn close(&self, direct: Vec<(String, String)>, depth: usize) -> Resolved {
        let mut seen: HashSet<String> = HashSet::new();
        let mut groups = Vec::new();
        let mut frontier = Vec::new();
        for (key, dn) in direct {
            if seen.insert(key.clone()) {
                groups.push(dn);
                frontier.push(key);
            }
        }
        let mut truncated = false;
        let mut level = 0;
        while depth > 0 && !frontier.is_empty() {
            let above: Vec<usize> = frontier
                .iter()
                .filter_map(|k| self.by_dn.get(k))
                .flatten()
                .copied()
                .filter(|&g| !seen.contains(&self.keys[g]))
                .collect();
            if above.is_empty() {
                break;
            }
            if level == depth {
                truncated = true;
                break;
            }
            level += 1;
            frontier.clear();
            for g in above {
                if seen.insert(self.keys[g].clone()) {
                    groups.push(self.groups[g].clone());
                    frontier.push(self.keys[g].clone());
                }
            }
        }
        sort_groups(&mut groups);
        Resolved { groups, truncated }
    }
}

/// For an incremental run with group search, which fetched only the users modified
/// since the last run: the other users of the domain whose groups now differ from the
/// stored ones, as directory users with their stored details and their new groups, so
/// that the plan updates them. Users the directory no longer has (missing) and pending
/// ones are left alone. Also returns how many resolutions were cut at `depth`.
#[must_use]
pub fn regrouped(
    stored: &[StoredUser],
    fetched: &[DirectoryUser],
    memberships: &Memberships,
    depth: usize,
) -> (Vec<DirectoryUser>, usize) {
    let fetched: HashSet<String> = fetched.iter().map(|u| username_key(&u.username)).collect();
    let mut truncated = 0;
    let mut users = Vec::new();
    for s in stored {
        let Some(dn) = &s.dn else { continue };
        if s.missing_since.is_some()
            || s.status == UserStatus::Pending
            || fetched.contains(&username_key(&s.name))
        {
            continue;
        }
        let resolved = memberships.groups_of(dn, &s.name, depth);
        truncated += usize::from(resolved.truncated);
        if resolved.groups == s.groups {
            continue;
        }
        users.push(DirectoryUser {
            username: s.name.clone(),
            dn: dn.clone(),
            ou_path: s.ou_path.clone().unwrap_or_else(|| parent_dn(dn)),
            email: s.email.clone(),
            display_name: s.display_name.clone(),
            groups: resolved.groups,
            disabled: s.status == UserStatus::Disabled,
            modified: None,
        });
    }
    (users, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn attrs(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    (*k).to_string(),
                    v.iter().map(|s| (*s).to_string()).collect(),
                )
            })
            .collect()
    }

    /// Serves `total` values of `member` the way Active Directory does, `per_round` at a
    /// time: the answer to a request for `member;range=LOW-*`.
    fn ad_answer(total: usize, per_round: usize, low: usize) -> BTreeMap<String, Vec<String>> {
        let high = (low + per_round).min(total);
        let key = if high == total {
            format!("member;range={low}-*")
        } else {
            format!("member;range={low}-{}", high - 1)
        };
        let values = (low..high).map(|i| format!("cn=u{i},dc=corp")).collect();
        BTreeMap::from([(key, values)])
    }

    fn low_of(request: &str) -> usize {
        let range = request.strip_prefix("member;range=").unwrap();
        range.strip_suffix("-*").unwrap().parse().unwrap()
    }

    #[test]
    fn a_plain_attribute_is_complete_in_one_answer() {
        let mut r = RangedAttribute::new("member");
        let mut a = attrs(&[("member", &["cn=a,dc=x", "cn=b,dc=x"]), ("cn", &["g"])]);
        assert!(!has_range(&a, "member"));
        assert_eq!(r.take(&mut a).unwrap(), None);
        assert_eq!(r.into_values(), ["cn=a,dc=x", "cn=b,dc=x"]);
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            ["cn"],
            "only `member` is taken"
        );
        // An entry without the attribute: no values, nothing to ask.
        let mut r = RangedAttribute::new("member");
        assert_eq!(r.take(&mut attrs(&[("cn", &["g"])])).unwrap(), None);
        assert!(r.into_values().is_empty());
    }

    #[test]
    fn ranges_are_followed_until_the_one_ending_in_a_star() {
        let mut r = RangedAttribute::new("Member");
        let mut first = ad_answer(4000, 1500, 0);
        assert!(has_range(&first, "Member"));
        let mut next = r.take(&mut first).unwrap();
        let mut asked = Vec::new();
        while let Some(request) = next {
            asked.push(request.clone());
            next = r
                .take(&mut ad_answer(4000, 1500, low_of(&request)))
                .unwrap();
        }
        assert_eq!(asked, ["member;range=1500-*", "member;range=3000-*"]);
        let values = r.into_values();
        assert_eq!(values.len(), 4000);
        assert_eq!(values[1500], "cn=u1500,dc=corp");
        assert_eq!(values[3999], "cn=u3999,dc=corp");
    }

    #[test]
    fn an_answer_that_does_not_continue_the_range_is_refused() {
        // A range starting elsewhere than asked.
        let mut r = RangedAttribute::new("member");
        r.take(&mut ad_answer(4000, 1500, 0)).unwrap();
        let e = r.take(&mut ad_answer(4000, 1500, 1400)).unwrap_err();
        assert_eq!(
            e,
            RangeError::OutOfOrder {
                got: "member;range=1400-2899".into(),
                expected: 1500
            }
        );
        // A first answer that does not start at 0, a range going backwards, garbage.
        for key in [
            "member;range=5-*",
            "member;range=0-x",
            "member;range=*",
            "member;range=0",
        ] {
            let mut r = RangedAttribute::new("member");
            assert!(
                matches!(
                    r.take(&mut attrs(&[(key, &["cn=a,dc=x"])])),
                    Err(RangeError::OutOfOrder { .. })
                ),
                "{key}"
            );
        }
        let mut r = RangedAttribute::new("member");
        r.take(&mut attrs(&[("member;range=0-9", &["cn=a,dc=x"])]))
            .unwrap();
        assert!(
            r.take(&mut attrs(&[("member;range=10-8", &["cn=b,dc=x"])]))
                .is_err()
        );
        // The whole attribute in answer to a later request would repeat values.
        let mut r = RangedAttribute::new("member");
        r.take(&mut ad_answer(3000, 1500, 0)).unwrap();
        assert!(r.take(&mut attrs(&[("member", &["cn=a,dc=x"])])).is_err());
    }

    #[test]
    fn an_entry_that_lost_its_remaining_values_ends_the_collection() {
        let mut r = RangedAttribute::new("member");
        assert!(r.take(&mut ad_answer(3000, 1500, 0)).unwrap().is_some());
        assert_eq!(r.take(&mut attrs(&[])).unwrap(), None);
        assert_eq!(r.into_values().len(), 1500);
    }

    #[test]
    fn values_and_rounds_are_bounded() {
        // Ranges of one value: the rounds run out before the values do.
        let mut r = RangedAttribute::new("member");
        let mut next = r.take(&mut ad_answer(usize::MAX, 1, 0)).unwrap();
        let mut rounds = 1;
        let err = loop {
            let request = next.expect("a range that never ends");
            match r.take(&mut ad_answer(usize::MAX, 1, low_of(&request))) {
                Ok(n) => next = n,
                Err(e) => break e,
            }
            rounds += 1;
        };
        assert_eq!(rounds, MAX_RANGE_ROUNDS);
        assert!(matches!(err, RangeError::TooManyRounds { max, .. } if max == MAX_RANGE_ROUNDS));
        // Large ranges: the values run out first.
        let mut r = RangedAttribute::new("member");
        let mut next = r.take(&mut ad_answer(usize::MAX, 300_000, 0)).unwrap();
        let err = loop {
            let request = next.expect("a range that never ends");
            match r.take(&mut ad_answer(usize::MAX, 300_000, low_of(&request))) {
                Ok(n) => next = n,
                Err(e) => break e,
            }
        };
        assert_eq!(
            err,
            RangeError::TooManyValues {
                attribute: "member".into(),
                max: MAX_RANGED_VALUES
            }
        );
        // Exactly the maximum is accepted.
        let mut r = RangedAttribute::new("member");
        let mut next = r
            .take(&mut ad_answer(MAX_RANGED_VALUES, 250_000, 0))
            .unwrap();
        while let Some(request) = next {
            next = r
                .take(&mut ad_answer(MAX_RANGED_VALUES, 250_000, low_of(&request)))
                .unwrap();
        }
        assert_eq!(r.into_values().len(), MAX_RANGED_VALUES);
    }

    #[test]
    fn member_values_name_dns_or_usernames() {
        assert_eq!(
            member(MemberAttribute::Member, "cn=a,dc=x"),
            Member::Dn("cn=a,dc=x")
        );
        assert_eq!(
            member(MemberAttribute::UniqueMember, "uid=a,dc=x#'0101'B"),
            Member::Dn("uid=a,dc=x")
        );
        assert_eq!(
            member(MemberAttribute::UniqueMember, "cn=a\\#'1'B,dc=x"),
            Member::Dn("cn=a\\#'1'B,dc=x"),
            "an escaped # is part of the DN"
        );
        assert_eq!(
            member(MemberAttribute::MemberUid, " alice "),
            Member::Username("alice")
        );
        let mut m = Memberships::default();
        assert!(!m.add("not a dn", Member::Dn("cn=a,dc=x")));
        assert!(!m.add("cn=g,dc=x", Member::Dn("not a dn")));
        assert!(!m.add("cn=g,dc=x", Member::Username("")));
        assert_eq!(m.group_count(), 0);
    }

    const ALICE: &str = "uid=alice,ou=People,dc=x";

    #[test]
    fn a_user_belongs_to_the_groups_listing_its_dn_or_username() {
        let mut m = Memberships::default();
        m.add(
            "CN=VPN Users,OU=Groups,DC=x",
            Member::Dn("UID=Alice, ou=people,dc=x"),
        );
        m.add("cn=staff,ou=Groups,dc=x", Member::Username("ALICE"));
        m.add(
            "cn=admins,ou=Groups,dc=x",
            Member::Dn("uid=bob,ou=People,dc=x"),
        );
        // Listed twice, spelled differently: once.
        m.add("cn=vpn users,ou=groups,dc=x", Member::Dn(ALICE));
        let r = m.groups_of(ALICE, "alice", 0);
        assert_eq!(
            r.groups,
            ["cn=staff,ou=Groups,dc=x", "CN=VPN Users,OU=Groups,DC=x"]
        );
        assert!(!r.truncated);
        assert!(
            m.groups_of("uid=carol,dc=x", "carol", MAX_NESTING_DEPTH)
                .groups
                .is_empty()
        );
        assert_eq!(m.group_count(), 3);
    }

    /// alice ∈ A, A ∈ B, B ∈ C; D lists C and A (a diamond); nesting off gives A only.
    #[test]
    fn nesting_is_the_closure_over_the_known_groups() {
        let mut m = Memberships::default();
        m.add("cn=A,dc=x", Member::Dn(ALICE));
        m.add("cn=B,dc=x", Member::Dn("cn=a,dc=x"));
        m.add("cn=C,dc=x", Member::Dn("cn=B,dc=x"));
        m.add("cn=D,dc=x", Member::Dn("cn=C,dc=x"));
        m.add("cn=D,dc=x", Member::Dn("cn=A,dc=x"));
        m.add("cn=Other,dc=x", Member::Dn("uid=bob,dc=x"));
        assert_eq!(m.groups_of(ALICE, "alice", 0).groups, ["cn=A,dc=x"]);
        let all = m.groups_of(ALICE, "alice", MAX_NESTING_DEPTH);
        assert_eq!(
            all.groups,
            ["cn=A,dc=x", "cn=B,dc=x", "cn=C,dc=x", "cn=D,dc=x"]
        );
        assert!(!all.truncated);
        assert_eq!(
            m.groups_of(ALICE, "alice", 1).groups,
            ["cn=A,dc=x", "cn=B,dc=x", "cn=D,dc=x"]
        );
        // The memberOf variant: the user names A itself; its parents come from the index.
        assert_eq!(
            m.expand(&["CN=A,DC=x".into()], MAX_NESTING_DEPTH).groups,
            ["CN=A,DC=x", "cn=B,dc=x", "cn=C,dc=x", "cn=D,dc=x"]
        );
        // A value that is not a DN is kept as given and leads nowhere.
        assert_eq!(
            m.expand(&["Domain Users".into(), "cn=C,dc=x".into()], 3)
                .groups,
            ["cn=C,dc=x", "cn=D,dc=x", "Domain Users"]
        );
    }

    #[test]
    fn a_cycle_ends_the_closure() {
        let mut m = Memberships::default();
        m.add("cn=A,dc=x", Member::Dn(ALICE));
        m.add("cn=B,dc=x", Member::Dn("cn=A,dc=x"));
        m.add("cn=C,dc=x", Member::Dn("cn=B,dc=x"));
        m.add("cn=A,dc=x", Member::Dn("cn=C,dc=x"));
        // A group listing itself.
        m.add("cn=B,dc=x", Member::Dn("cn=B,dc=x"));
        let r = m.groups_of(ALICE, "alice", MAX_NESTING_DEPTH);
        assert_eq!(r.groups, ["cn=A,dc=x", "cn=B,dc=x", "cn=C,dc=x"]);
        assert!(!r.truncated, "a cycle is not a chain too deep");
    }

    /// A chain `g0 ∈ g1 ∈ … ∈ g(len-1)` with alice in g0.
    fn chain(len: usize) -> Memberships {
        let mut m = Memberships::default();
        m.add("cn=g0,dc=x", Member::Dn(ALICE));
        for i in 1..len {
            m.add(
                &format!("cn=g{i},dc=x"),
                Member::Dn(&format!("cn=g{},dc=x", i - 1)),
            );
        }
        m
    }

    #[test]
    fn nesting_deeper_than_the_bound_is_cut_and_said() {
        // alice's own group and MAX_NESTING_DEPTH levels above it: complete.
        let r = chain(MAX_NESTING_DEPTH + 1).groups_of(ALICE, "alice", MAX_NESTING_DEPTH);
        assert_eq!(r.groups.len(), MAX_NESTING_DEPTH + 1);
        assert!(!r.truncated);
        // One level more: cut there, and said.
        let r = chain(MAX_NESTING_DEPTH + 2).groups_of(ALICE, "alice", MAX_NESTING_DEPTH);
        assert_eq!(r.groups.len(), MAX_NESTING_DEPTH + 1);
        assert!(r.truncated);
        assert!(
            !r.groups
                .contains(&format!("cn=g{},dc=x", MAX_NESTING_DEPTH + 1))
        );
    }

    proptest! {
        /// Over any graph, the closure is exactly the groups reachable from alice's within
        /// the depth (by a plain search), each once, sorted.
        #[test]
        fn closure_is_reachability_within_the_depth(
            edges in proptest::collection::vec((0usize..12, 0usize..12), 0..40),
            direct in proptest::collection::btree_set(0usize..12, 0..3),
            depth in 0usize..6,
        ) {
            let dn = |i: usize| format!("cn=g{i:02},dc=x");
            let mut m = Memberships::default();
            for &g in &direct {
                m.add(&dn(g), Member::Dn(ALICE));
            }
            // (child, parent): parent lists child.
            for &(c, p) in &edges {
                m.add(&dn(p), Member::Dn(&dn(c)));
            }
            let mut dist: BTreeMap<usize, usize> = direct.iter().map(|&g| (g, 0)).collect();
            let mut frontier: Vec<usize> = direct.iter().copied().collect();
            let mut d = 0;
            let mut beyond = false;
            while !frontier.is_empty() {
                let next: Vec<usize> = edges.iter()
                    .filter(|(c, p)| frontier.contains(c) && !dist.contains_key(p))
                    .map(|&(_, p)| p).collect();
                if next.is_empty() { break; }
                if d == depth { beyond = depth > 0; break; }
                d += 1;
                for p in next { dist.entry(p).or_insert(d); }
                frontier = dist.iter().filter(|&(_, &k)| k == d).map(|(&g, _)| g).collect();
            }
            let expected: Vec<String> = dist.keys().map(|&g| dn(g)).collect();
            let r = m.groups_of(ALICE, "alice", depth);
            prop_assert_eq!(r.groups, expected);
            prop_assert_eq!(r.truncated, beyond);
        }
    }

    fn stored(name: &str, groups: &[&str], status: UserStatus) -> StoredUser {
        StoredUser {
            name: name.into(),
            dn: Some(format!("uid={name},ou=People,dc=x")),
            ou_path: Some("ou=People,dc=x".into()),
            email: Some(format!("{name}@x")),
            display_name: None,
            groups: groups.iter().map(|g| (*g).to_string()).collect(),
            status,
            missing_since: None,
        }
    }

    #[test]
    fn an_incremental_run_regroups_the_users_it_did_not_fetch() {
        let mut m = Memberships::default();
        m.add("cn=vpn,dc=x", Member::Dn("uid=ann,ou=People,dc=x"));
        m.add("cn=vpn,dc=x", Member::Dn("uid=bob,ou=People,dc=x"));
        m.add("cn=vpn,dc=x", Member::Dn("uid=dan,ou=People,dc=x"));
        m.add("cn=vpn,dc=x", Member::Dn("uid=eve,ou=People,dc=x"));
        m.add("cn=vpn,dc=x", Member::Dn("uid=fay,ou=People,dc=x"));
        let mut gone = stored("eve", &[], UserStatus::Disabled);
        gone.missing_since = Some(5);
        let users = [
            stored("ann", &["cn=vpn,dc=x"], UserStatus::Active), // unchanged
            stored("bob", &[], UserStatus::Active),              // added to vpn
            stored("cat", &["cn=vpn,dc=x"], UserStatus::Disabled), // removed from vpn
            stored("dan", &[], UserStatus::Active),              // fetched: the run has it
            gone,                                                // missing: left alone
            stored("fay", &[], UserStatus::Pending),             // pending: left alone
        ];
        let fetched = [DirectoryUser {
            username: "DAN".into(),
            dn: "uid=dan,ou=People,dc=x".into(),
            ou_path: "ou=People,dc=x".into(),
            email: None,
            display_name: None,
            groups: vec!["cn=vpn,dc=x".into()],
            disabled: false,
            modified: None,
        }];
        let (users, truncated) = regrouped(&users, &fetched, &m, MAX_NESTING_DEPTH);
        assert_eq!(truncated, 0);
        let got: Vec<(&str, &[String], bool)> = users
            .iter()
            .map(|u| (u.username.as_str(), u.groups.as_slice(), u.disabled))
            .collect();
        assert_eq!(
            got,
            [
                ("bob", &["cn=vpn,dc=x".to_string()][..], false),
                ("cat", &[][..], true)
            ]
        );
        // Everything but the groups is as stored.
        assert_eq!(users[0].email.as_deref(), Some("bob@x"));
        assert_eq!(users[0].ou_path, "ou=People,dc=x");
    }
}
