//! Policies, assignments, rules, computers and lockout counts in SQL. Every invariant a
//! concurrent request could break (a rule's place in the order, a policy still in use, a
//! lockout count) is decided here, inside the writer's transaction.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::writer::{conflict, one_row};
use super::{Store, StoreError};
use crate::policy::assign::{Assignment, Subject};
use crate::policy::identity::IdentityKind;
use crate::policy::lockout::{LockState, after_failure};
use crate::policy::rules::Rule;
use crate::policy::stored::{
    ComputerRecord, DEFAULT_POLICY, Hits, Stored, StoredAssignment, StoredRule,
};
use crate::policy::{ComputerPolicy, Lockout, UserPolicy};
use crate::time::UnixTime;

pub use crate::policy::stored::PolicyKind;

const fn table(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::User => "user_policy",
        PolicyKind::Computer => "computer_policy",
    }
}

/// A new computer, or one seen again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    pub identity: String,
    pub kind: IdentityKind,
    pub randomized: bool,
    pub site: String,
    pub policy_id: i64,
    pub rule_id: Option<i64>,
    pub client: String,
    pub address: Option<String>,
    pub at: UnixTime,
}

/// One computer's new policy in a rule run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub computer_id: i64,
    /// What the run read; a computer changed meanwhile is left alone.
    pub old_policy_id: i64,
    pub new_policy_id: i64,
    pub rule_id: Option<i64>,
}

/// Hit counts to add.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HitDelta {
    pub user_policies: Vec<(i64, Hits)>,
    pub computer_policies: Vec<(i64, Hits)>,
    pub rules: Vec<(i64, Hits)>,
}

impl HitDelta {
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.user_policies.is_empty() && self.computer_policies.is_empty() && self.rules.is_empty()
    }
}

#[derive(Debug)]
pub enum PolicyOp {
    /// Creates (`create`) or replaces a policy; `def` is its JSON definition.
    PutPolicy {
        kind: PolicyKind,
        name: String,
        def: String,
        created_by: String,
        create: bool,
    },
    DeletePolicy {
        kind: PolicyKind,
        name: String,
    },
    /// Assigns a user policy, or changes the priority of an existing assignment.
    Assign {
        policy: String,
        subject: Subject,
        priority: i64,
        created_by: String,
    },
    Unassign {
        policy: String,
        subject: Subject,
    },
    /// Inserts a rule at `position` (1-based; past the end appends).
    AddRule {
        rule: Rule,
        policy: String,
        position: Option<i64>,
        created_by: String,
    },
    /// Replaces a rule's conditions and policy, keeping its place.
    EditRule {
        name: String,
        rule: Rule,
        policy: String,
    },
    MoveRule {
        name: String,
        position: i64,
    },
    DeleteRule {
        name: String,
    },
    /// Computers first seen (inserted) or seen again (last-seen raised).
    Sightings(Vec<Sighting>),
    EditComputer {
        id: i64,
        site: Option<String>,
        description: Option<String>,
    },
    /// A manual assignment (pinned), or back to the rules' choice (`pinned` false).
    AssignComputer {
        id: i64,
        policy_id: i64,
        rule_id: Option<i64>,
        pinned: bool,
    },
    ApplyRuleRun {
        changes: Vec<Reassignment>,
        override_manual: bool,
    },
    DeleteComputer {
        id: i64,
    },
    /// Computers not seen since `before` (randomised MACs: `randomized_before`).
    PurgeComputers {
        before: UnixTime,
        randomized_before: UnixTime,
    },
    /// One failed login under `lockout`, counted in this transaction.
    RecordFailure {
        user_id: i64,
        lockout: Lockout,
        at: UnixTime,
    },
    /// A successful login clears the failures counted so far.
    ClearFailures {
        user_id: i64,
    },
    /// `user unlock`: the lockout count and an administrator's lock both go.
    Unlock {
        user_id: i64,
    },
    AddHits(HitDelta),
}

pub(crate) fn seed_defaults(tx: &Connection) -> Result<(), StoreError> {
    let user = super::admin::json(&UserPolicy::default())?;
    let computer = super::admin::json(&ComputerPolicy::default())?;
    for (table, def) in [("user_policy", user), ("computer_policy", computer)] {
        tx.execute(
            &format!(
                "INSERT OR IGNORE INTO {table} (name, def, builtin, created_by, created_at, updated_at)
                 VALUES (?1, ?2, 1, 'system', strftime('%s','now'), strftime('%s','now'))"
            ),
            params![DEFAULT_POLICY, def],
        )?;
    }
    Ok(())
}

fn policy_id(tx: &Connection, kind: PolicyKind, name: &str) -> Result<i64, StoreError> {
    tx.query_row(
        &format!("SELECT id FROM {} WHERE name = ?1", table(kind)),
        params![name],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("{} {name}", kind.noun())))
}

fn rule_id(tx: &Connection, name: &str) -> Result<(i64, i64), StoreError> {
    tx.query_row(
        "SELECT id, position FROM computer_rule WHERE name = ?1",
        params![name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("computer rule {name}")))
}

fn rule_count(tx: &Connection) -> Result<i64, StoreError> {
    Ok(tx.query_row("SELECT count(*) FROM computer_rule", [], |r| r.get(0))?)
}

/// Subject columns: (kind, domain, subject).
fn subject_columns(s: &Subject) -> (&'static str, &str, &str) {
    match s {
        Subject::User { domain, name } => ("user", domain, name),
        Subject::Group { domain, group } => ("group", domain, group),
        Subject::Ou { domain, ou } => ("ou", domain, ou),
        Subject::Domain { domain } => ("domain", domain, ""),
    }
}

fn subject_from(kind: &str, domain: String, subject: String) -> Subject {
    match kind {
        "user" => Subject::User {
            domain,
            name: subject,
        },
        "group" => Subject::Group {
            domain,
            group: subject,
        },
        "ou" => Subject::Ou {
            domain,
            ou: subject,
        },
        _ => Subject::Domain { domain },
    }
}

fn check_site(tx: &Connection, site: &str) -> Result<(), StoreError> {
    let known: Option<i64> = tx
        .query_row("SELECT 1 FROM site WHERE name = ?1", params![site], |r| {
            r.get(0)
        })
        .optional()?;
    if known.is_none() {
        return Err(StoreError::Conflict(format!(
            "site {site} does not exist (gatehousectl site add {site})"
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_lines)] // one arm per op, each short
pub(crate) fn apply(tx: &Connection, op: &PolicyOp) -> Result<u64, StoreError> {
    match op {
        PolicyOp::PutPolicy {
            kind,
            name,
            def,
            created_by,
            create: true,
        } => {
            tx.execute(
                &format!(
                    "INSERT INTO {} (name, def, created_by, created_at, updated_at)
                     VALUES (?1, ?2, ?3, strftime('%s','now'), strftime('%s','now'))",
                    table(*kind)
                ),
                params![name, def, created_by],
            )
            .map_err(|e| conflict(e, || format!("{} {name} already exists", kind.noun())))?;
            Ok(1)
        }
        PolicyOp::PutPolicy {
            kind,
            name,
            def,
            create: false,
            ..
        } => {
            let n = tx.execute(
                &format!(
                    "UPDATE {} SET def = ?2, updated_at = strftime('%s','now') WHERE name = ?1",
                    table(*kind)
                ),
                params![name, def],
            )?;
            one_row(n, || format!("{} {name}", kind.noun()))
        }
        PolicyOp::DeletePolicy { kind, name } => {
            let id = policy_id(tx, *kind, name)?;
            let builtin: bool = tx.query_row(
                &format!("SELECT builtin FROM {} WHERE id = ?1", table(*kind)),
                params![id],
                |r| r.get(0),
            )?;
            if builtin {
                return Err(StoreError::Conflict(format!(
                    "the built-in {} {name} can be edited, not deleted",
                    kind.noun()
                )));
            }
            if *kind == PolicyKind::Computer {
                let (computers, rules): (i64, i64) = tx.query_row(
                    "SELECT (SELECT count(*) FROM computer WHERE policy_id = ?1),
                            (SELECT count(*) FROM computer_rule WHERE policy_id = ?1)",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if computers > 0 || rules > 0 {
                    return Err(StoreError::Conflict(format!(
                        "computer policy {name} is used by {computers} computer(s) and {rules} rule(s); change those first"
                    )));
                }
            }
            let n = tx.execute(
                &format!("DELETE FROM {} WHERE id = ?1", table(*kind)),
                params![id],
            )?;
            one_row(n, || format!("{} {name}", kind.noun()))
        }
        PolicyOp::Assign {
            policy,
            subject,
            priority,
            created_by,
        } => {
            let id = policy_id(tx, PolicyKind::User, policy)?;
            let (kind, domain, what) = subject_columns(subject);
            tx.execute(
                "INSERT INTO user_policy_assignment (policy_id, kind, domain, subject, priority, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%s','now'))
                 ON CONFLICT (policy_id, kind, domain, subject) DO UPDATE SET priority = excluded.priority",
                params![id, kind, domain, what, priority, created_by],
            )?;
            Ok(1)
        }
        PolicyOp::Unassign { policy, subject } => {
            let id = policy_id(tx, PolicyKind::User, policy)?;
            let (kind, domain, what) = subject_columns(subject);
            let n = tx.execute(
                "DELETE FROM user_policy_assignment
                 WHERE policy_id = ?1 AND kind = ?2 AND domain = ?3 AND subject = ?4",
                params![id, kind, domain, what],
            )?;
            one_row(n, || {
                format!("assignment of {policy} to {} {}", kind, subject.display())
            })
        }
        PolicyOp::AddRule {
            rule,
            policy,
            position,
            created_by,
        } => {
            let pid = policy_id(tx, PolicyKind::Computer, policy)?;
            if let Some(site) = &rule.site {
                check_site(tx, site)?;
            }
            let count = rule_count(tx)?;
            let at = position.map_or(count + 1, |p| p.clamp(1, count + 1));
            tx.execute(
                "UPDATE computer_rule SET position = position + 1 WHERE position >= ?1",
                params![at],
            )?;
            tx.execute(
                "INSERT INTO computer_rule (name, position, policy_id, site, identity, address, client, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%s','now'), strftime('%s','now'))",
                params![
                    rule.name,
                    at,
                    pid,
                    rule.site,
                    rule.identity,
                    rule.address.map(|a| a.to_string()),
                    rule.client,
                    created_by
                ],
            )
            .map_err(|e| conflict(e, || format!("computer rule {} already exists", rule.name)))?;
            Ok(1)
        }
        PolicyOp::EditRule { name, rule, policy } => {
            let pid = policy_id(tx, PolicyKind::Computer, policy)?;
            if let Some(site) = &rule.site {
                check_site(tx, site)?;
            }
            let n = tx.execute(
                "UPDATE computer_rule SET policy_id = ?2, site = ?3, identity = ?4, address = ?5,
                   client = ?6, updated_at = strftime('%s','now') WHERE name = ?1",
                params![
                    name,
                    pid,
                    rule.site,
                    rule.identity,
                    rule.address.map(|a| a.to_string()),
                    rule.client
                ],
            )?;
            one_row(n, || format!("computer rule {name}"))
        }
        PolicyOp::MoveRule { name, position } => {
            let (id, from) = rule_id(tx, name)?;
            let to = (*position).clamp(1, rule_count(tx)?);
            if to < from {
                tx.execute(
                    "UPDATE computer_rule SET position = position + 1 WHERE position >= ?1 AND position < ?2",
                    params![to, from],
                )?;
            } else if to > from {
                tx.execute(
                    "UPDATE computer_rule SET position = position - 1 WHERE position > ?1 AND position <= ?2",
                    params![from, to],
                )?;
            }
            tx.execute(
                "UPDATE computer_rule SET position = ?2, updated_at = strftime('%s','now') WHERE id = ?1",
                params![id, to],
            )?;
            Ok(1)
        }
        PolicyOp::DeleteRule { name } => {
            let (id, at) = rule_id(tx, name)?;
            tx.execute("DELETE FROM computer_rule WHERE id = ?1", params![id])?;
            tx.execute(
                "UPDATE computer_rule SET position = position - 1 WHERE position > ?1",
                params![at],
            )?;
            Ok(1)
        }
        PolicyOp::Sightings(list) => {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO computer (identity, kind, randomized, site, policy_id, rule_id, client, address, first_seen, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                 ON CONFLICT (identity) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen),
                   client = excluded.client, address = coalesce(excluded.address, address)",
            )?;
            let mut n = 0;
            for s in list {
                n += stmt.execute(params![
                    s.identity,
                    s.kind.as_str(),
                    s.randomized,
                    s.site,
                    s.policy_id,
                    s.rule_id,
                    s.client,
                    s.address,
                    s.at
                ])? as u64;
            }
            Ok(n)
        }
        PolicyOp::EditComputer {
            id,
            site,
            description,
        } => {
            if let Some(site) = site {
                check_site(tx, site)?;
            }
            let n = tx.execute(
                "UPDATE computer SET site = coalesce(?2, site), description = coalesce(?3, description) WHERE id = ?1",
                params![id, site, description],
            )?;
            one_row(n, || format!("computer {id}"))
        }
        PolicyOp::AssignComputer {
            id,
            policy_id,
            rule_id,
            pinned,
        } => {
            let n = tx.execute(
                "UPDATE computer SET policy_id = ?2, rule_id = ?3, pinned = ?4 WHERE id = ?1",
                params![id, policy_id, rule_id, pinned],
            )?;
            one_row(n, || format!("computer {id}"))
        }
        PolicyOp::ApplyRuleRun {
            changes,
            override_manual,
        } => {
            let mut stmt = tx.prepare_cached(
                "UPDATE computer SET policy_id = ?2, rule_id = ?3, pinned = 0
                 WHERE id = ?1 AND policy_id = ?4 AND (pinned = 0 OR ?5)",
            )?;
            let mut n = 0;
            for c in changes {
                n += stmt.execute(params![
                    c.computer_id,
                    c.new_policy_id,
                    c.rule_id,
                    c.old_policy_id,
                    override_manual
                ])? as u64;
            }
            Ok(n)
        }
        PolicyOp::DeleteComputer { id } => {
            let n = tx.execute("DELETE FROM computer WHERE id = ?1", params![id])?;
            one_row(n, || format!("computer {id}"))
        }
        PolicyOp::PurgeComputers {
            before,
            randomized_before,
        } => Ok(tx.execute(
            "DELETE FROM computer WHERE last_seen < ?1 OR (randomized = 1 AND last_seen < ?2)",
            params![before, randomized_before],
        )? as u64),
        PolicyOp::RecordFailure {
            user_id,
            lockout,
            at,
        } => {
            let state = lock_state_in(tx, *user_id)?;
            let (next, locked) = after_failure(state, *lockout, *at);
            if next != state {
                tx.execute(
                    "INSERT INTO lockout (user_id, failures, window_start, locked_until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (user_id) DO UPDATE SET failures = excluded.failures,
                       window_start = excluded.window_start, locked_until = excluded.locked_until",
                    params![user_id, next.failures, next.window_start, next.locked_until],
                )?;
            }
            Ok(u64::from(locked))
        }
        PolicyOp::ClearFailures { user_id } => Ok(tx.execute(
            "DELETE FROM lockout WHERE user_id = ?1 AND locked_until IS NULL",
            params![user_id],
        )? as u64),
        PolicyOp::Unlock { user_id } => {
            let cleared = tx.execute("DELETE FROM lockout WHERE user_id = ?1", params![user_id])?;
            let reopened = tx.execute(
                "UPDATE user SET status = 'active', updated_at = strftime('%s','now')
                 WHERE id = ?1 AND status = 'locked'",
                params![user_id],
            )?;
            Ok((cleared + reopened) as u64)
        }
        PolicyOp::AddHits(delta) => {
            let mut n = 0;
            for (table, list) in [
                ("user_policy", &delta.user_policies),
                ("computer_policy", &delta.computer_policies),
            ] {
                let mut stmt = tx.prepare_cached(&format!(
                    "UPDATE {table} SET hits = hits + ?2, would_deny = would_deny + ?3,
                       last_hit = max(coalesce(last_hit, 0), ?4) WHERE id = ?1"
                ))?;
                for (id, h) in list {
                    n += stmt.execute(params![
                        id,
                        i64::try_from(h.hits).unwrap_or(i64::MAX),
                        i64::try_from(h.would_deny).unwrap_or(i64::MAX),
                        h.last_hit
                    ])? as u64;
                }
            }
            let mut stmt = tx.prepare_cached(
                "UPDATE computer_rule SET hits = hits + ?2, last_hit = max(coalesce(last_hit, 0), ?3) WHERE id = ?1",
            )?;
            for (id, h) in &delta.rules {
                n += stmt.execute(params![
                    id,
                    i64::try_from(h.hits).unwrap_or(i64::MAX),
                    h.last_hit
                ])? as u64;
            }
            Ok(n)
        }
    }
}

fn lock_state_in(c: &Connection, user_id: i64) -> Result<LockState, StoreError> {
    Ok(c.prepare_cached(
        "SELECT failures, window_start, locked_until FROM lockout WHERE user_id = ?1",
    )?
    .query_row(params![user_id], |r| {
        Ok(LockState {
            failures: r.get(0)?,
            window_start: r.get(1)?,
            locked_until: r.get(2)?,
        })
    })
    .optional()?
    .unwrap_or_default())
}

fn hits_at(r: &Row<'_>, hits: usize) -> rusqlite::Result<Hits> {
    let count: i64 = r.get(hits)?;
    let would: i64 = r.get(hits + 1)?;
    Ok(Hits {
        hits: u64::try_from(count).unwrap_or(0),
        would_deny: u64::try_from(would).unwrap_or(0),
        last_hit: r.get(hits + 2)?,
    })
}

fn policy_row<P: serde::de::DeserializeOwned>(r: &Row<'_>) -> rusqlite::Result<Stored<P>> {
    let def: String = r.get(2)?;
    let policy = serde_json::from_str(&def).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Stored {
        id: r.get(0)?,
        name: r.get(1)?,
        builtin: r.get(3)?,
        policy,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        hits: hits_at(r, 7)?,
    })
}

const POLICY_COLUMNS: &str =
    "id, name, def, builtin, created_by, created_at, updated_at, hits, would_deny, last_hit";

const RULE_SELECT: &str = "SELECT r.id, r.name, r.policy_id, r.site, r.identity, r.address,
    r.client, r.position, p.name, r.created_by, r.hits, r.last_hit
    FROM computer_rule r JOIN computer_policy p ON p.id = r.policy_id";

fn rule_row(r: &Row<'_>) -> rusqlite::Result<StoredRule> {
    let address: Option<String> = r.get(5)?;
    let hits: i64 = r.get(10)?;
    Ok(StoredRule {
        rule: Rule {
            id: r.get(0)?,
            name: r.get(1)?,
            policy: r.get(2)?,
            site: r.get(3)?,
            identity: r.get(4)?,
            address: address.and_then(|a| a.parse().ok()),
            client: r.get(6)?,
        },
        position: r.get(7)?,
        policy: r.get(8)?,
        created_by: r.get(9)?,
        hits: Hits {
            hits: u64::try_from(hits).unwrap_or(0),
            would_deny: 0,
            last_hit: r.get(11)?,
        },
    })
}

pub(crate) const COMPUTER_SELECT: &str = "SELECT c.id, c.identity, c.kind, c.randomized, c.site,
    c.policy_id, p.name, c.pinned, r.name, c.client, c.address, c.description, c.first_seen,
    c.last_seen FROM computer c JOIN computer_policy p ON p.id = c.policy_id
    LEFT JOIN computer_rule r ON r.id = c.rule_id";

pub(crate) fn computer_row(r: &Row<'_>) -> rusqlite::Result<ComputerRecord> {
    let kind: String = r.get(2)?;
    Ok(ComputerRecord {
        id: r.get(0)?,
        identity: r.get(1)?,
        kind: IdentityKind::parse(&kind).unwrap_or(IdentityKind::Station),
        randomized: r.get(3)?,
        site: r.get(4)?,
        policy_id: r.get(5)?,
        policy: r.get(6)?,
        pinned: r.get(7)?,
        rule: r.get(8)?,
        client: r.get(9)?,
        address: r.get(10)?,
        description: r.get(11)?,
        first_seen: r.get(12)?,
        last_seen: r.get(13)?,
    })
}

impl Store {
    fn policies<P: serde::de::DeserializeOwned>(
        &self,
        kind: PolicyKind,
    ) -> Result<Vec<Stored<P>>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {POLICY_COLUMNS} FROM {} ORDER BY builtin DESC, name",
                table(kind)
            ))?
            .query_map([], policy_row)?
            .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Who created a policy, when it exists.
    ///
    /// # Errors
    /// Database errors.
    pub fn policy_owner(&self, kind: PolicyKind, name: &str) -> Result<Option<String>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT created_by FROM {} WHERE name = ?1",
                table(kind)
            ))?
            .query_row(params![name], |r| r.get(0))
            .optional()?)
        })
    }

    /// One policy by name.
    ///
    /// # Errors
    /// Database errors or an unreadable definition.
    pub fn policy<P: serde::de::DeserializeOwned>(
        &self,
        kind: PolicyKind,
        name: &str,
    ) -> Result<Option<Stored<P>>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {POLICY_COLUMNS} FROM {} WHERE name = ?1",
                table(kind)
            ))?
            .query_row(params![name], policy_row)
            .optional()?)
        })
    }

    /// One computer rule by name.
    ///
    /// # Errors
    /// Database errors.
    pub fn computer_rule(&self, name: &str) -> Result<Option<StoredRule>, StoreError> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached(&format!("{RULE_SELECT} WHERE r.name = ?1"))?
                    .query_row(params![name], rule_row)
                    .optional()?,
            )
        })
    }

    /// A computer by id (`42`) or by identity (a MAC in any spelling, an address, or the
    /// stored text).
    ///
    /// # Errors
    /// Database errors.
    pub fn computer_named(&self, id: &str) -> Result<Option<ComputerRecord>, StoreError> {
        let id = id.trim();
        let identity = crate::policy::identity::parse_mac(id)
            .map_or_else(|| id.to_string(), crate::policy::identity::mac_text);
        self.with_reader(|c| {
            if let Ok(n) = id.parse::<i64>()
                && let Some(found) = c
                    .prepare_cached(&format!("{COMPUTER_SELECT} WHERE c.id = ?1"))?
                    .query_row(params![n], computer_row)
                    .optional()?
            {
                return Ok(Some(found));
            }
            Ok(
                c.prepare_cached(&format!("{COMPUTER_SELECT} WHERE c.identity = ?1"))?
                    .query_row(params![identity], computer_row)
                    .optional()?,
            )
        })
    }

    /// Every user policy, the built-in first.
    ///
    /// # Errors
    /// Database errors or an unreadable definition.
    pub fn user_policies(&self) -> Result<Vec<Stored<UserPolicy>>, StoreError> {
        self.policies(PolicyKind::User)
    }

    /// Every computer policy, the built-in first.
    ///
    /// # Errors
    /// Database errors or an unreadable definition.
    pub fn computer_policies(&self) -> Result<Vec<Stored<ComputerPolicy>>, StoreError> {
        self.policies(PolicyKind::Computer)
    }

    /// Every user-policy assignment.
    ///
    /// # Errors
    /// Database errors.
    pub fn assignments(&self) -> Result<Vec<StoredAssignment>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(
                "SELECT a.id, a.policy_id, p.name, a.kind, a.domain, a.subject, a.priority,
                   a.created_by, a.created_at
                 FROM user_policy_assignment a JOIN user_policy p ON p.id = a.policy_id
                 ORDER BY a.priority, a.id",
            )?
            .query_map([], |r| {
                let kind: String = r.get(3)?;
                Ok(StoredAssignment {
                    id: r.get(0)?,
                    policy_id: r.get(1)?,
                    policy: r.get(2)?,
                    subject: subject_from(&kind, r.get(4)?, r.get(5)?),
                    priority: r.get(6)?,
                    created_by: r.get(7)?,
                    created_at: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Every computer rule in order.
    ///
    /// # Errors
    /// Database errors.
    pub fn computer_rules(&self) -> Result<Vec<StoredRule>, StoreError> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached(&format!("{RULE_SELECT} ORDER BY r.position"))?
                    .query_map([], rule_row)?
                    .collect::<Result<Vec<_>, _>>()?,
            )
        })
    }

    /// Every computer, for the request path's table.
    ///
    /// # Errors
    /// Database errors.
    pub fn computers(&self) -> Result<Vec<ComputerRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached(&format!("{COMPUTER_SELECT} ORDER BY c.id"))?
                    .query_map([], computer_row)?
                    .collect::<Result<Vec<_>, _>>()?,
            )
        })
    }

    /// How many computers each site has.
    ///
    /// # Errors
    /// Database errors.
    pub fn computers_per_site(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(
                "SELECT site, count(*) FROM computer GROUP BY site COLLATE NOCASE",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// A user's failures and lock.
    ///
    /// # Errors
    /// Database errors.
    pub fn lock_state(&self, user_id: i64) -> Result<LockState, StoreError> {
        self.with_reader(|c| lock_state_in(c, user_id))
    }

    /// The lock state of every user that has one.
    ///
    /// # Errors
    /// Database errors.
    pub fn lock_states(&self) -> Result<Vec<(i64, LockState)>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(
                "SELECT user_id, failures, window_start, locked_until FROM lockout",
            )?
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    LockState {
                        failures: r.get(1)?,
                        window_start: r.get(2)?,
                        locked_until: r.get(3)?,
                    },
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?)
        })
    }
}

/// The assignments as the resolver takes them.
#[must_use]
pub fn resolvable(list: &[StoredAssignment]) -> Vec<Assignment> {
    list.iter()
        .map(|a| Assignment {
            id: a.id,
            policy: a.policy_id,
            subject: a.subject.clone(),
            priority: a.priority,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WriteOp;

    async fn store_with_user(dir: &std::path::Path) -> (Store, i64) {
        let store = Store::open(&dir.join("db"), &dir.join("key")).unwrap();
        store
            .write(vec![WriteOp::AddUsers {
                users: vec![crate::model::NewUser {
                    domain: "local".into(),
                    name: "alice".into(),
                    display_name: None,
                    email: None,
                    status: crate::model::UserStatus::Active,
                    password_hash: None,
                    ou_path: None,
                }],
                created_by: "test".into(),
            }])
            .await
            .unwrap();
        let id = store.user("local", "alice").unwrap().unwrap().id;
        (store, id)
    }

    fn failure(user_id: i64, threshold: u32) -> Vec<WriteOp> {
        vec![WriteOp::Policy(PolicyOp::RecordFailure {
            user_id,
            lockout: Lockout {
                threshold,
                window_secs: 900,
                duration_secs: 900,
            },
            at: 1_000,
        })]
    }

    /// Failures racing each other are counted one after the other: none is lost, and
    /// exactly one of them is the one that locks.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_failures_are_all_counted_and_lock_once() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = store_with_user(dir.path()).await;
        let racers: Vec<_> = (0..40)
            .map(|_| {
                let s = store.clone();
                tokio::spawn(async move { s.write(failure(id, 25)).await.unwrap().rows })
            })
            .collect();
        let mut locked_by = 0;
        for r in racers {
            locked_by += r.await.unwrap();
        }
        assert_eq!(locked_by, 1, "exactly one failure locks");
        let state = store.lock_state(id).unwrap();
        // The 25th locked; the 15 after it found the user locked and changed nothing.
        assert_eq!(state.failures, 25);
        assert!(state.locked_at(1_000));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unlock_clears_the_count_and_an_administrators_lock() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = store_with_user(dir.path()).await;
        for _ in 0..3 {
            store.write(failure(id, 3)).await.unwrap();
        }
        store
            .write(vec![WriteOp::SetUserStatus {
                domain: "local".into(),
                name: "alice".into(),
                status: crate::model::UserStatus::Locked,
            }])
            .await
            .unwrap();
        assert!(store.lock_state(id).unwrap().locked_at(1_000));
        store
            .write(vec![WriteOp::Policy(PolicyOp::Unlock { user_id: id })])
            .await
            .unwrap();
        assert_eq!(store.lock_state(id).unwrap(), LockState::default());
        assert_eq!(
            store.user("local", "alice").unwrap().unwrap().status,
            crate::model::UserStatus::Active
        );
    }

    fn seen(identity: &str, randomized: bool, at: i64, policy_id: i64) -> Sighting {
        Sighting {
            identity: identity.into(),
            kind: IdentityKind::Mac,
            randomized,
            site: "HQ".into(),
            policy_id,
            rule_id: None,
            client: "nas".into(),
            address: None,
            at,
        }
    }

    /// Computers not seen within their retention go; randomised MACs sooner; a sighting
    /// of a known computer only moves its last-seen time forward.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn purging_keeps_what_was_seen_within_its_retention() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let default = store.computer_policies().unwrap()[0].id;
        let day = 86_400;
        let now = 200 * day;
        store
            .write(vec![WriteOp::Policy(PolicyOp::Sightings(vec![
                seen("00-00-00-00-00-01", false, now - 100 * day, default),
                seen("00-00-00-00-00-02", false, now - 10 * day, default),
                seen("02-00-00-00-00-03", true, now - 10 * day, default),
                seen("02-00-00-00-00-04", true, now - day, default),
                // Seen again earlier than recorded: last-seen does not go back.
                seen("02-00-00-00-00-04", true, now - 50 * day, default),
            ]))])
            .await
            .unwrap();
        store
            .write(vec![WriteOp::Policy(PolicyOp::PurgeComputers {
                before: now - 90 * day,
                randomized_before: now - 7 * day,
            })])
            .await
            .unwrap();
        let left: Vec<String> = store
            .computers()
            .unwrap()
            .into_iter()
            .map(|c| c.identity)
            .collect();
        assert_eq!(left, vec!["00-00-00-00-00-02", "02-00-00-00-00-04"]);
    }

    /// Computers and rules name their site: a renamed site takes them along; a site a
    /// rule names cannot be deleted; a deleted site's computers go with it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn computers_and_rules_follow_their_site() {
        use crate::model::SiteRecord;
        use crate::store::admin::AdminOp;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let site = |name: &str| SiteRecord {
            name: name.into(),
            subnets: vec![],
            timezone: "UTC".into(),
            created_by: "t".into(),
            created_at: 0,
        };
        let default = store.computer_policies().unwrap()[0].id;
        store
            .write(vec![
                WriteOp::Admin(AdminOp::PutSite {
                    site: site("HQ"),
                    current_name: None,
                }),
                WriteOp::Policy(PolicyOp::Sightings(vec![seen(
                    "00-00-00-00-00-01",
                    false,
                    5,
                    default,
                )])),
                WriteOp::Policy(PolicyOp::AddRule {
                    rule: Rule {
                        id: 0,
                        name: "r".into(),
                        policy: 0,
                        site: Some("HQ".into()),
                        identity: None,
                        address: None,
                        client: None,
                    },
                    policy: DEFAULT_POLICY.into(),
                    position: None,
                    created_by: "t".into(),
                }),
            ])
            .await
            .unwrap();
        store
            .write(vec![WriteOp::Admin(AdminOp::PutSite {
                site: site("Head Office"),
                current_name: Some("HQ".into()),
            })])
            .await
            .unwrap();
        assert_eq!(store.computers().unwrap()[0].site, "Head Office");
        assert_eq!(
            store.computer_rules().unwrap()[0].rule.site.as_deref(),
            Some("Head Office")
        );
        let refused = store
            .write(vec![WriteOp::Admin(AdminOp::DeleteSite {
                name: "Head Office".into(),
            })])
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("computer rules: r"),
            "{refused}"
        );
        store
            .write(vec![
                WriteOp::Policy(PolicyOp::DeleteRule { name: "r".into() }),
                WriteOp::Admin(AdminOp::DeleteSite {
                    name: "Head Office".into(),
                }),
            ])
            .await
            .unwrap();
        assert!(store.computers().unwrap().is_empty());
    }
}
