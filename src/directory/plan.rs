//! The sync plan: stored users of a domain + fetched directory users → what to add,
//! update, disable, re-enable, purge or leave alone. Pure; `preview` is this without
//! `apply`, and the mass-disable guard lives here so that no apply can bypass it.

use std::collections::HashMap;

use serde::Serialize;

use super::map::DirectoryUser;
use crate::model::UserStatus;
use crate::time::UnixTime;

/// A stored user of the domain, as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUser {
    pub name: String,
    pub dn: Option<String>,
    pub ou_path: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub groups: Vec<String>,
    pub status: UserStatus,
    /// When the sync first found it missing from the directory.
    pub missing_since: Option<UnixTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Everything under the bases: users not seen are missing.
    Full,
    /// Only entries modified since the high-water mark: absence means nothing.
    Incremental,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableReason {
    MissingFromDirectory,
    DisabledInDirectory,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Add {
        user: DirectoryUser,
    },
    Update {
        user: DirectoryUser,
        fields: Vec<&'static str>,
    },
    Disable {
        name: String,
        reason: DisableReason,
    },
    /// Already disabled, now gone from the directory: starts the retention clock.
    MarkMissing {
        name: String,
    },
    Reenable {
        user: DirectoryUser,
    },
    Purge {
        name: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub added: usize,
    pub updated: usize,
    pub disabled: usize,
    pub reenabled: usize,
    pub purged: usize,
    pub unchanged: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncPlan {
    pub mode: Mode,
    pub counts: Counts,
    pub changes: Vec<Change>,
    /// Users the directory lists twice (case-insensitively); the first one wins.
    pub duplicates: Vec<String>,
}

/// Limits the planner enforces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guard {
    /// Abort when a plan would disable more than this share of the domain's users.
    pub max_disable_ratio: f64,
    pub force: bool,
    /// Users missing for longer than this are purged.
    pub retention_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "sync aborted: it would disable {would_disable} of {total} users ({percent:.1} %, more than the {limit:.0} % threshold); check the base DN and filter, or run with --force"
    )]
    TooManyDisables {
        would_disable: usize,
        total: usize,
        percent: f64,
        limit: f64,
    },
}

fn key(name: &str) -> String {
    name.to_lowercase()
}

fn differing_fields(stored: &StoredUser, user: &DirectoryUser) -> Vec<&'static str> {
    let mut f = Vec::new();
    if stored.dn.as_deref() != Some(user.dn.as_str()) {
        f.push("dn");
    }
    if stored.ou_path.as_deref() != Some(user.ou_path.as_str()) {
        f.push("ou_path");
    }
    if stored.email != user.email {
        f.push("email");
    }
    if stored.display_name != user.display_name {
        f.push("display_name");
    }
    if stored.groups != user.groups {
        f.push("groups");
    }
    if stored.name != user.username {
        f.push("name");
    }
    f
}

/// Plans a sync.
///
/// # Errors
/// [`PlanError::TooManyDisables`] when the guard trips and `force` is not set.
pub fn plan(
    stored: &[StoredUser],
    fetched: &[DirectoryUser],
    mode: Mode,
    guard: Guard,
    now: UnixTime,
) -> Result<SyncPlan, PlanError> {
    let mut by_name: HashMap<String, &StoredUser> =
        stored.iter().map(|s| (key(&s.name), s)).collect();
    let mut changes = Vec::new();
    let mut counts = Counts::default();
    let mut duplicates = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut would_disable = 0usize;
    for user in fetched {
        let k = key(&user.username);
        if !seen.insert(k.clone()) {
            duplicates.push(user.username.clone());
            continue;
        }
        match by_name.remove(&k) {
            None => {
                // A disabled directory user is still recorded, as disabled, so that the
                // appliance knows it and an enable in the directory is picked up.
                counts.added += 1;
                changes.push(Change::Add { user: user.clone() });
            }
            Some(s) => {
                let fields = differing_fields(s, user);
                let sync_disabled = s.status == UserStatus::Disabled;
                if user.disabled && !sync_disabled {
                    counts.disabled += 1;
                    would_disable += 1;
                    changes.push(Change::Disable {
                        name: s.name.clone(),
                        reason: DisableReason::DisabledInDirectory,
                    });
                } else if !user.disabled && sync_disabled {
                    counts.reenabled += 1;
                    changes.push(Change::Reenable { user: user.clone() });
                } else if !fields.is_empty() || s.missing_since.is_some() {
                    counts.updated += 1;
                    changes.push(Change::Update {
                        user: user.clone(),
                        fields,
                    });
                } else {
                    counts.unchanged += 1;
                }
            }
        }
    }
    if mode == Mode::Full {
        let mut missing: Vec<&&StoredUser> = by_name.values().collect();
        missing.sort_by(|a, b| a.name.cmp(&b.name));
        for s in missing {
            match s.missing_since {
                Some(since) if now.saturating_sub(since) > guard.retention_seconds => {
                    counts.purged += 1;
                    changes.push(Change::Purge {
                        name: s.name.clone(),
                    });
                }
                Some(_) => counts.unchanged += 1,
                None if s.status == UserStatus::Pending => counts.unchanged += 1,
                None if s.status == UserStatus::Disabled => {
                    counts.updated += 1;
                    changes.push(Change::MarkMissing {
                        name: s.name.clone(),
                    });
                }
                None => {
                    counts.disabled += 1;
                    would_disable += 1;
                    changes.push(Change::Disable {
                        name: s.name.clone(),
                        reason: DisableReason::MissingFromDirectory,
                    });
                }
            }
        }
    } else {
        counts.unchanged += by_name.len();
    }
    let total = stored.len();
    if total > 0 && !guard.force {
        #[allow(clippy::cast_precision_loss)]
        let ratio = would_disable as f64 / total as f64;
        if ratio > guard.max_disable_ratio {
            return Err(PlanError::TooManyDisables {
                would_disable,
                total,
                percent: ratio * 100.0,
                limit: guard.max_disable_ratio * 100.0,
            });
        }
    }
    Ok(SyncPlan {
        mode,
        counts,
        changes,
        duplicates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dir_user(n: &str, disabled: bool) -> DirectoryUser {
        DirectoryUser {
            username: n.into(),
            dn: format!("uid={n},ou=People,dc=ex"),
            ou_path: "ou=People,dc=ex".into(),
            email: Some(format!("{n}@ex")),
            display_name: Some(n.to_uppercase()),
            groups: vec![],
            disabled,
            modified: None,
        }
    }

    fn stored_from(u: &DirectoryUser) -> StoredUser {
        StoredUser {
            name: u.username.clone(),
            dn: Some(u.dn.clone()),
            ou_path: Some(u.ou_path.clone()),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            groups: u.groups.clone(),
            status: if u.disabled {
                UserStatus::Disabled
            } else {
                UserStatus::Active
            },
            missing_since: None,
        }
    }

    const GUARD: Guard = Guard {
        max_disable_ratio: 0.10,
        force: false,
        retention_seconds: 30 * 86_400,
    };

    #[test]
    fn classifies_every_kind_of_change() {
        let stored: Vec<StoredUser> = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
            .iter()
            .map(|n| stored_from(&dir_user(n, *n == "d")))
            .collect();
        let mut fetched: Vec<DirectoryUser> = stored
            .iter()
            .filter(|s| s.name != "a")
            .map(|s| dir_user(&s.name, false))
            .collect();
        fetched
            .iter_mut()
            .find(|u| u.username == "b")
            .unwrap()
            .email = Some("new@ex".into());
        fetched
            .iter_mut()
            .find(|u| u.username == "c")
            .unwrap()
            .disabled = true;
        fetched.push(dir_user("new", false));
        let p = plan(
            &stored,
            &fetched,
            Mode::Full,
            Guard {
                max_disable_ratio: 0.5,
                ..GUARD
            },
            0,
        )
        .unwrap();
        assert_eq!(
            p.counts,
            Counts {
                added: 1,
                updated: 1,
                disabled: 2,
                reenabled: 1,
                purged: 0,
                unchanged: 8
            }
        );
        let inc = plan(
            &stored,
            &fetched,
            Mode::Incremental,
            Guard {
                max_disable_ratio: 0.5,
                ..GUARD
            },
            0,
        )
        .unwrap();
        assert_eq!(
            inc.counts.disabled, 1,
            "incremental runs never disable missing users"
        );
    }

    /// A user's groups are what policies follow: a change of them alone is an update,
    /// in either mode, and carries the new list.
    #[test]
    fn a_change_of_groups_alone_is_an_update() {
        let mut user = dir_user("a", false);
        user.groups = vec!["cn=vpn,dc=ex".into()];
        let stored = [stored_from(&user)];
        let added = DirectoryUser {
            groups: vec!["cn=admins,dc=ex".into(), "cn=vpn,dc=ex".into()],
            ..user.clone()
        };
        let removed = DirectoryUser {
            groups: vec![],
            ..user.clone()
        };
        for mode in [Mode::Full, Mode::Incremental] {
            for changed in [&added, &removed] {
                let p = plan(&stored, std::slice::from_ref(changed), mode, GUARD, 0).unwrap();
                assert_eq!(p.counts.updated, 1, "{mode:?}");
                assert_eq!(
                    p.changes,
                    [Change::Update {
                        user: changed.clone(),
                        fields: vec!["groups"]
                    }]
                );
            }
            let same = plan(&stored, &[user.clone()], mode, GUARD, 0).unwrap();
            assert_eq!(same.counts.unchanged, 1);
            assert!(same.changes.is_empty());
        }
    }

    #[test]
    fn guard_aborts_mass_disable_unless_forced() {
        let stored: Vec<StoredUser> = (0..100)
            .map(|i| stored_from(&dir_user(&format!("u{i}"), false)))
            .collect();
        let err = plan(&stored, &[], Mode::Full, GUARD, 0).unwrap_err();
        assert!(err.to_string().contains("--force"), "{err}");
        let p = plan(
            &stored,
            &[],
            Mode::Full,
            Guard {
                force: true,
                ..GUARD
            },
            0,
        )
        .unwrap();
        assert_eq!(p.counts.disabled, 100);
    }

    #[test]
    fn missing_users_are_purged_after_retention() {
        let mut s = stored_from(&dir_user("gone", false));
        s.status = UserStatus::Disabled;
        s.missing_since = Some(0);
        let p = plan(&[s.clone()], &[], Mode::Full, GUARD, 10).unwrap();
        assert_eq!(p.counts.unchanged, 1);
        let p = plan(&[s], &[], Mode::Full, GUARD, 31 * 86_400).unwrap();
        assert_eq!(p.counts.purged, 1);
    }

    proptest! {
        #[test]
        fn every_user_is_accounted_for_exactly_once(
            stored_names in proptest::collection::btree_set("[a-f]{1,3}", 0..30),
            fetched_names in proptest::collection::btree_set("[a-f]{1,3}", 0..30),
            disabled_mask in any::<u64>(),
        ) {
            let stored: Vec<StoredUser> = stored_names.iter().map(|n| stored_from(&dir_user(n, false))).collect();
            let fetched: Vec<DirectoryUser> = fetched_names.iter().enumerate()
                .map(|(i, n)| dir_user(n, disabled_mask & (1 << (i % 64)) != 0)).collect();
            let p = plan(&stored, &fetched, Mode::Full, Guard { force: true, ..GUARD }, 0).unwrap();
            let c = &p.counts;
            let union = stored_names.union(&fetched_names).count();
            prop_assert_eq!(c.added + c.updated + c.disabled + c.reenabled + c.purged + c.unchanged, union);
            prop_assert_eq!(c.added, fetched_names.difference(&stored_names).count());
        }
    }
}
