//! Roles and their inheritance. A role's effective rights are its own restriction
//! intersected with its parent's effective rights, computed on every decision, so a change
//! to a parent reaches every descendant at once and no child can exceed its parent.
//! Pure: the role map is a parameter.

use std::collections::HashMap;

use super::Rights;
use crate::model::operation::BUNDLES;
use crate::model::role::{MAX_DEPTH, RoleDef, SUPER_ADMINISTRATOR, StoredRole};
use crate::model::scope::{AccessLevel, ComputerScope, UserScope, ou_within};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("role {0} not found")]
    NotFound(String),
    #[error("role {0}'s ancestry is too deep or loops back on itself")]
    Cycle(String),
    #[error("role {0} has no parent (only Super Administrator may)")]
    Orphan(String),
}

fn level_min(a: AccessLevel, b: AccessLevel) -> AccessLevel {
    if a == AccessLevel::Own || b == AccessLevel::Own {
        AccessLevel::Own
    } else {
        AccessLevel::All
    }
}

/// `a ∩ b` for user scopes: a (domain, OU subtree) survives when the other side covers it;
/// the narrower OU wins.
#[must_use]
pub fn intersect_user(a: &UserScope, b: &UserScope) -> UserScope {
    match (a, b) {
        (UserScope::Everything, x) | (x, UserScope::Everything) => x.clone(),
        (UserScope::Domains(xs), UserScope::Domains(ys)) => {
            let mut out = Vec::new();
            for (d1, ou1) in xs {
                for (d2, ou2) in ys {
                    if !d1.eq_ignore_ascii_case(d2) {
                        continue;
                    }
                    let narrower = match (ou1, ou2) {
                        (None, o) | (o, None) => Some(o.clone()),
                        (Some(p), Some(q)) if ou_within(p, q) => Some(Some(p.clone())),
                        (Some(p), Some(q)) if ou_within(q, p) => Some(Some(q.clone())),
                        _ => None,
                    };
                    if let Some(ou) = narrower {
                        let item = (d1.clone(), ou);
                        if !out.contains(&item) {
                            out.push(item);
                        }
                    }
                }
            }
            UserScope::Domains(out)
        }
    }
}

#[must_use]
pub fn intersect_computer(a: &ComputerScope, b: &ComputerScope) -> ComputerScope {
    match (a, b) {
        (ComputerScope::Everything, x) | (x, ComputerScope::Everything) => x.clone(),
        (ComputerScope::Sites(xs), ComputerScope::Sites(ys)) => ComputerScope::Sites(
            xs.iter()
                .filter(|s| ys.iter().any(|t| t.eq_ignore_ascii_case(s)))
                .cloned()
                .collect(),
        ),
    }
}

/// Whether scope `a` lies within scope `b`.
#[must_use]
pub fn user_scope_within(a: &UserScope, b: &UserScope) -> bool {
    match (a, b) {
        (_, UserScope::Everything) => true,
        (UserScope::Everything, UserScope::Domains(_)) => false,
        (UserScope::Domains(xs), UserScope::Domains(ys)) => xs.iter().all(|(d, ou)| {
            ys.iter().any(|(d2, ou2)| {
                d.eq_ignore_ascii_case(d2)
                    && match (ou, ou2) {
                        (_, None) => true,
                        (None, Some(_)) => false,
                        (Some(p), Some(q)) => ou_within(p, q),
                    }
            })
        }),
    }
}

#[must_use]
pub fn computer_scope_within(a: &ComputerScope, b: &ComputerScope) -> bool {
    match (a, b) {
        (_, ComputerScope::Everything) => true,
        (ComputerScope::Everything, ComputerScope::Sites(_)) => false,
        (ComputerScope::Sites(xs), ComputerScope::Sites(ys)) => xs
            .iter()
            .all(|s| ys.iter().any(|t| t.eq_ignore_ascii_case(s))),
    }
}

/// Anything that finds a role by lower-cased name: the store's map, or a plain one in tests.
pub trait RoleLookup {
    fn role(&self, lower_name: &str) -> Option<&RoleDef>;
}

impl RoleLookup for HashMap<String, RoleDef> {
    fn role(&self, lower_name: &str) -> Option<&RoleDef> {
        self.get(lower_name)
    }
}

impl RoleLookup for HashMap<String, StoredRole> {
    fn role(&self, lower_name: &str) -> Option<&RoleDef> {
        self.get(lower_name).map(|r| &r.def)
    }
}

/// The chain from `name` up to Super Administrator, `name` first.
///
/// # Errors
/// Unknown roles, orphans, cycles.
pub fn ancestry<'a, R: RoleLookup + ?Sized>(
    roles: &'a R,
    name: &str,
) -> Result<Vec<&'a RoleDef>, RoleError> {
    let mut chain = Vec::new();
    let mut cur = roles
        .role(&name.to_lowercase())
        .ok_or_else(|| RoleError::NotFound(name.to_string()))?;
    loop {
        chain.push(cur);
        if chain.len() > MAX_DEPTH {
            return Err(RoleError::Cycle(name.to_string()));
        }
        match &cur.parent {
            None if cur.name == SUPER_ADMINISTRATOR => return Ok(chain),
            None => return Err(RoleError::Orphan(cur.name.clone())),
            Some(p) => {
                cur = roles
                    .role(&p.to_lowercase())
                    .ok_or_else(|| RoleError::NotFound(p.clone()))?
            }
        }
    }
}

/// Effective rights of `name`: own restriction ∩ parent's effective rights, all the way up.
///
/// # Errors
/// As [`ancestry`].
pub fn effective(roles: &impl RoleLookup, name: &str) -> Result<Rights, RoleError> {
    let chain = ancestry(roles, name)?;
    let mut rights = Rights::super_admin();
    // From the top down: each level can only narrow what is above it.
    for role in chain.iter().rev() {
        if role.name == SUPER_ADMINISTRATOR && role.parent.is_none() {
            continue;
        }
        if let Some(own) = &role.ops {
            rights.ops = own
                .iter()
                .filter_map(|(op, lvl)| {
                    rights
                        .ops
                        .get(op)
                        .map(|parent| (*op, level_min(*lvl, *parent)))
                })
                .collect();
        }
        if let Some(s) = &role.user_scope {
            rights.user_scope = intersect_user(s, &rights.user_scope);
        }
        if let Some(s) = &role.computer_scope {
            rights.computer_scope = intersect_computer(s, &rights.computer_scope);
        }
    }
    rights.role = chain.first().map_or_else(String::new, |r| r.name.clone());
    Ok(rights)
}

/// Whether an administrator holding role `mine` manages what role `other` governs (the
/// role itself, or an administrator holding it): every role strictly below its own; the
/// Super Administrator manages all of them, its own role included (assigning it, other
/// super administrators — the store protects the last one). The Super Administrator role
/// itself is never edited; that is the role rule, not this one.
#[must_use]
pub fn manages(roles: &impl RoleLookup, mine: &str, other: &str) -> bool {
    mine.eq_ignore_ascii_case(SUPER_ADMINISTRATOR) || is_strictly_below(roles, other, mine)
}

/// Whether `role` lies strictly below `ancestor`.
#[must_use]
pub fn is_strictly_below(roles: &impl RoleLookup, role: &str, ancestor: &str) -> bool {
    ancestry(roles, role).is_ok_and(|chain| {
        chain
            .iter()
            .skip(1)
            .any(|r| r.name.eq_ignore_ascii_case(ancestor))
    })
}

/// Warnings for `role show`: partial bundles and empty rights.
#[must_use]
pub fn warnings(rights: &Rights) -> Vec<String> {
    let mut w = Vec::new();
    for bundle in BUNDLES {
        let held = bundle.iter().filter(|o| rights.ops.contains_key(o)).count();
        if held > 0 && held < bundle.len() {
            let ids: Vec<&str> = bundle.iter().map(|o| o.id()).collect();
            w.push(format!(
                "partial bundle: {} only work together",
                ids.join(" + ")
            ));
        }
    }
    if rights.ops.is_empty() {
        w.push("no effective operations: holders can do nothing".into());
    }
    if rights.user_scope == UserScope::Domains(vec![]) {
        w.push("empty user scope: holders see no users".into());
    }
    if rights.computer_scope == ComputerScope::Sites(vec![]) {
        w.push("empty computer scope: holders see no sites or clients".into());
    }
    w
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::operation::Operation;
    use crate::model::role::builtin_roles;
    use proptest::prelude::*;

    fn map(roles: Vec<RoleDef>) -> HashMap<String, RoleDef> {
        roles
            .into_iter()
            .map(|r| (r.name.to_lowercase(), r))
            .collect()
    }

    fn role(
        name: &str,
        parent: &str,
        ops: Option<&[(Operation, AccessLevel)]>,
        sites: Option<&[&str]>,
    ) -> RoleDef {
        RoleDef {
            name: name.into(),
            parent: Some(parent.into()),
            description: String::new(),
            ops: ops.map(|o| o.iter().copied().collect()),
            user_scope: None,
            computer_scope: sites
                .map(|s| ComputerScope::Sites(s.iter().map(|x| (*x).to_string()).collect())),
            requires_scope: false,
        }
    }

    #[test]
    fn the_four_role_example() {
        use AccessLevel::All;
        use Operation as O;
        let mut roles = builtin_roles();
        roles.push(role(
            "HQ Site Administrator",
            SUPER_ADMINISTRATOR,
            Some(&[
                (O::ReportView, All),
                (O::ReportUpdate, All),
                (O::UserUnlock, All),
                (O::RadiusClientUpdate, All),
            ]),
            Some(&["HQ"]),
        ));
        roles.push(role(
            "HQ Compliance Auditor",
            "HQ Site Administrator",
            Some(&[(O::ReportView, All), (O::ReportUpdate, All)]),
            None,
        ));
        let mut m = map(roles);
        let child = effective(&m, "HQ Compliance Auditor").unwrap();
        assert_eq!(child.ops.len(), 2);
        assert_eq!(
            child.computer_scope,
            ComputerScope::Sites(vec!["HQ".into()])
        );
        // Removing an operation from the parent removes it from the child at once.
        m.get_mut("hq site administrator")
            .unwrap()
            .ops
            .as_mut()
            .unwrap()
            .remove(&O::ReportUpdate);
        let child = effective(&m, "HQ Compliance Auditor").unwrap();
        assert!(!child.ops.contains_key(&O::ReportUpdate));
        // Changing the parent's scope changes the child's.
        m.get_mut("hq site administrator").unwrap().computer_scope =
            Some(ComputerScope::Sites(vec!["Branch".into()]));
        assert_eq!(
            effective(&m, "HQ Compliance Auditor")
                .unwrap()
                .computer_scope,
            ComputerScope::Sites(vec!["Branch".into()])
        );
        // A child asking for more than its parent gets only the intersection.
        m.get_mut("hq compliance auditor").unwrap().computer_scope =
            Some(ComputerScope::Everything);
        assert_eq!(
            effective(&m, "HQ Compliance Auditor")
                .unwrap()
                .computer_scope,
            ComputerScope::Sites(vec!["Branch".into()])
        );
        assert!(is_strictly_below(
            &m,
            "HQ Compliance Auditor",
            SUPER_ADMINISTRATOR
        ));
        assert!(!is_strictly_below(
            &m,
            "HQ Site Administrator",
            "HQ Site Administrator"
        ));
        assert!(
            warnings(&effective(&m, "HQ Compliance Auditor").unwrap())
                .iter()
                .any(|w| w.contains("partial bundle"))
        );
    }

    #[test]
    fn cycles_and_orphans_are_errors() {
        let m = map(vec![role("a", "b", None, None), role("b", "a", None, None)]);
        assert!(matches!(effective(&m, "a"), Err(RoleError::Cycle(_))));
        let m = map(vec![RoleDef {
            parent: None,
            ..role("x", "y", None, None)
        }]);
        assert!(matches!(effective(&m, "x"), Err(RoleError::Orphan(_))));
    }

    fn arb_scope() -> impl Strategy<Value = UserScope> {
        prop_oneof![
            Just(UserScope::Everything),
            proptest::collection::vec(
                (
                    prop_oneof![Just("CORP"), Just("LAB")],
                    proptest::option::of(prop_oneof![
                        Just("ou=a,dc=x"),
                        Just("ou=b,ou=a,dc=x"),
                        Just("ou=c,dc=x")
                    ])
                ),
                0..3
            )
            .prop_map(|v| UserScope::Domains(
                v.into_iter()
                    .map(|(d, o)| (d.to_string(), o.map(str::to_string)))
                    .collect()
            )),
        ]
    }

    proptest! {
        #[test]
        fn a_child_never_exceeds_its_parent(
            parent_ops in proptest::collection::btree_map(0usize..58, any::<bool>(), 0..20),
            child_ops in proptest::option::of(proptest::collection::btree_map(0usize..58, any::<bool>(), 0..20)),
            parent_scope in arb_scope(),
            child_scope in proptest::option::of(arb_scope()),
        ) {
            let lvl = |own: bool| if own { AccessLevel::Own } else { AccessLevel::All };
            let to_ops = |m: &BTreeMap<usize, bool>| m.iter().map(|(i, o)| (Operation::ALL[*i], lvl(*o))).collect::<BTreeMap<_, _>>();
            let mut roles = builtin_roles();
            roles.push(RoleDef { name: "P".into(), parent: Some(SUPER_ADMINISTRATOR.into()), description: String::new(), ops: Some(to_ops(&parent_ops)), user_scope: Some(parent_scope), computer_scope: None, requires_scope: false });
            roles.push(RoleDef { name: "C".into(), parent: Some("P".into()), description: String::new(), ops: child_ops.as_ref().map(to_ops), user_scope: child_scope, computer_scope: None, requires_scope: false });
            let m = map(roles);
            let p = effective(&m, "P").unwrap();
            let c = effective(&m, "C").unwrap();
            for (op, level) in &c.ops {
                let parent_level = p.ops.get(op);
                prop_assert!(parent_level.is_some(), "child holds {op:?} the parent lacks");
                prop_assert!(!(*level == AccessLevel::All && parent_level == Some(&AccessLevel::Own)));
            }
            prop_assert!(user_scope_within(&c.user_scope, &p.user_scope), "{:?} not within {:?}", c.user_scope, p.user_scope);
        }
    }
}
