//! Store access for roles, administrators, sites and the lockdown switch.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::model::role::{MAX_DEPTH, RoleDef, SUPER_ADMINISTRATOR, StoredRole, builtin_roles};
use crate::model::{AdminRecord, SiteRecord};

/// Role and administrator mutations. The invariants two requests could race are decided
/// here, inside the writer's transaction, against committed rows: a role's parent exists
/// and its ancestry is acyclic and bounded; an edit applies only to the version it read;
/// a role with children or holders is not deleted; an administrator's role exists; and
/// at least one enabled Super Administrator remains once there is one.
#[derive(Debug)]
pub enum AdminOp {
    /// Creates a role (`expected_version` `None`) or replaces one whose version is still
    /// `expected_version`.
    PutRole {
        def: RoleDef,
        created_by: String,
        expected_version: Option<i64>,
    },
    DeleteRole {
        name: String,
    },
    AddAdmin {
        record: AdminRecord,
    },
    SetAdminRole {
        name: String,
        role: String,
    },
    SetAdminEnabled {
        name: String,
        enabled: bool,
    },
    RemoveAdmin {
        name: String,
    },
    PutSite {
        site: SiteRecord,
        current_name: Option<String>,
    },
    DeleteSite {
        name: String,
    },
    SetLockdown(bool),
}

pub(super) fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Crypto(e.to_string()))
}

fn enabled_super_admins(tx: &Connection) -> Result<i64, StoreError> {
    Ok(tx.query_row(
        "SELECT count(*) FROM administrator WHERE enabled = 1 AND role = ?1",
        params![SUPER_ADMINISTRATOR],
        |r| r.get(0),
    )?)
}

/// Applies `change` (which touches administrators) and refuses it, rolling back, when it
/// leaves no enabled Super Administrator where there was one.
fn keeping_a_super_admin(
    tx: &Connection,
    name: &str,
    change: impl FnOnce() -> Result<u64, StoreError>,
) -> Result<u64, StoreError> {
    let before = enabled_super_admins(tx)?;
    let n = change()?;
    if before > 0 && enabled_super_admins(tx)? == 0 {
        return Err(StoreError::Conflict(format!(
            "{name} is the last enabled Super Administrator: add another one first"
        )));
    }
    Ok(n)
}

fn role_exists(tx: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_row("SELECT 1 FROM role WHERE name = ?1", params![name], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// Walks up from `name` through committed parents: every parent exists, the walk reaches
/// the Super Administrator within [`MAX_DEPTH`] steps, and never comes back to `name`.
fn check_ancestry(tx: &Connection, name: &str) -> Result<(), StoreError> {
    let mut current = name.to_string();
    for _ in 0..=MAX_DEPTH {
        let parent: Option<Option<String>> = tx
            .query_row(
                "SELECT parent FROM role WHERE name = ?1",
                params![current],
                |r| r.get(0),
            )
            .optional()?;
        match parent {
            None => {
                return Err(StoreError::Conflict(format!(
                    "role {current} does not exist (it was deleted meanwhile)"
                )));
            }
            Some(None) if current.eq_ignore_ascii_case(SUPER_ADMINISTRATOR) => return Ok(()),
            Some(None) => {
                return Err(StoreError::Conflict(format!(
                    "role {current} has no parent"
                )));
            }
            Some(Some(p)) if p.eq_ignore_ascii_case(name) => {
                return Err(StoreError::Conflict(format!(
                    "parent: {name} would descend from itself (through {current})"
                )));
            }
            Some(Some(p)) => current = p,
        }
    }
    Err(StoreError::Conflict(format!(
        "role {name}: the hierarchy would be deeper than {MAX_DEPTH}"
    )))
}

pub(crate) fn apply(tx: &Connection, op: &AdminOp) -> Result<u64, StoreError> {
    use super::writer::{conflict, one_row};
    match op {
        AdminOp::PutRole {
            def,
            created_by,
            expected_version: None,
        } => {
            tx.execute(
                "INSERT INTO role (name, def, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, strftime('%s','now'), strftime('%s','now'))",
                params![def.name, json(def)?, created_by],
            )
            .map_err(|e| conflict(e, || format!("role {} already exists", def.name)))?;
            check_ancestry(tx, &def.name)?;
            Ok(1)
        }
        AdminOp::PutRole {
            def,
            expected_version: Some(version),
            ..
        } => {
            let n = tx.execute(
                "UPDATE role SET def = ?2, version = version + 1, updated_at = strftime('%s','now')
                 WHERE name = ?1 AND version = ?3 AND builtin = 0",
                params![def.name, json(def)?, version],
            )?;
            if n == 0 {
                return Err(if role_exists(tx, &def.name)? {
                    StoreError::Conflict(format!(
                        "role {} was changed by someone else meanwhile: show it again and repeat your edit",
                        def.name
                    ))
                } else {
                    StoreError::NotFound(format!("role {}", def.name))
                });
            }
            check_ancestry(tx, &def.name)?;
            Ok(n as u64)
        }
        AdminOp::DeleteRole { name } => {
            let child: Option<String> = tx
                .query_row(
                    "SELECT name FROM role WHERE parent = ?1 LIMIT 1",
                    params![name],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(child) = child {
                return Err(StoreError::Conflict(format!(
                    "role {name} has child role {child}; delete or move it first"
                )));
            }
            let holders: Vec<String> = tx
                .prepare("SELECT name FROM administrator WHERE role = ?1 ORDER BY name")?
                .query_map(params![name], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if !holders.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "role {name} is held by {}; give them another role first",
                    holders.join(", ")
                )));
            }
            let n = tx.execute(
                "DELETE FROM role WHERE name = ?1 AND builtin = 0",
                params![name],
            )?;
            one_row(n, || format!("role {name}"))
        }
        AdminOp::AddAdmin { record: r } => {
            if !role_exists(tx, &r.role)? {
                return Err(StoreError::Conflict(format!(
                    "role {} does not exist (it was deleted meanwhile)",
                    r.role
                )));
            }
            tx.execute(
                "INSERT INTO administrator (name, unix_user, uid, role, enabled, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%s','now'), strftime('%s','now'))",
                params![r.name, r.unix_user, r.uid, r.role, r.enabled, r.created_by],
            )
            .map_err(|e| conflict(e, || format!("administrator {} (or Unix user {}) already exists", r.name, r.unix_user)))?;
            Ok(1)
        }
        AdminOp::SetAdminRole { name, role } => {
            if !role_exists(tx, role)? {
                return Err(StoreError::Conflict(format!(
                    "role {role} does not exist (it was deleted meanwhile)"
                )));
            }
            keeping_a_super_admin(tx, name, || {
                let n = tx.execute("UPDATE administrator SET role = ?2, updated_at = strftime('%s','now') WHERE name = ?1", params![name, role])?;
                one_row(n, || format!("administrator {name}"))
            })
        }
        AdminOp::SetAdminEnabled { name, enabled } => keeping_a_super_admin(tx, name, || {
            let n = tx.execute("UPDATE administrator SET enabled = ?2, updated_at = strftime('%s','now') WHERE name = ?1", params![name, enabled])?;
            one_row(n, || format!("administrator {name}"))
        }),
        AdminOp::RemoveAdmin { name } => keeping_a_super_admin(tx, name, || {
            let n = tx.execute("DELETE FROM administrator WHERE name = ?1", params![name])?;
            one_row(n, || format!("administrator {name}"))
        }),
        AdminOp::PutSite {
            site,
            current_name: None,
        } => {
            tx.execute(
                "INSERT INTO site (name, subnets, timezone, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, strftime('%s','now'), strftime('%s','now'))",
                params![site.name, json(&site.subnets)?, site.timezone, site.created_by],
            )
            .map_err(|e| conflict(e, || format!("site {} already exists", site.name)))?;
            Ok(1)
        }
        AdminOp::PutSite {
            site,
            current_name: Some(cur),
        } => {
            if !site.name.eq_ignore_ascii_case(cur) {
                let clients = clients_at(tx, cur)?;
                if !clients.is_empty() {
                    return Err(StoreError::Conflict(format!(
                        "site {cur} has RADIUS clients ({}); move them before renaming",
                        clients.join(", ")
                    )));
                }
            }
            let n = tx
                .execute(
                    "UPDATE site SET name = ?2, subnets = ?3, timezone = ?4, updated_at = strftime('%s','now') WHERE name = ?1",
                    params![cur, site.name, json(&site.subnets)?, site.timezone],
                )
                .map_err(|e| conflict(e, || format!("site {} already exists", site.name)))?;
            // Computers and rules name their site: they follow it.
            if n > 0 && !site.name.eq_ignore_ascii_case(cur) {
                tx.execute(
                    "UPDATE computer SET site = ?2 WHERE site = ?1",
                    params![cur, site.name],
                )?;
                tx.execute(
                    "UPDATE computer_rule SET site = ?2 WHERE site = ?1",
                    params![cur, site.name],
                )?;
            }
            one_row(n, || format!("site {cur}"))
        }
        AdminOp::DeleteSite { name } => {
            let clients = clients_at(tx, name)?;
            if !clients.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "site {name} still has RADIUS clients: {}",
                    clients.join(", ")
                )));
            }
            let rules: Vec<String> = tx
                .prepare("SELECT name FROM computer_rule WHERE site = ?1 ORDER BY position")?
                .query_map(params![name], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if !rules.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "site {name} is named by computer rules: {}",
                    rules.join(", ")
                )));
            }
            let n = tx.execute("DELETE FROM site WHERE name = ?1", params![name])?;
            let n = one_row(n, || format!("site {name}"))?;
            // Its computers go with it (a computer that is seen again is registered anew).
            tx.execute("DELETE FROM computer WHERE site = ?1", params![name])?;
            Ok(n)
        }
        AdminOp::SetLockdown(on) => {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('lockdown', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![if *on { "on" } else { "off" }],
            )?;
            Ok(1)
        }
    }
}

fn clients_at(tx: &Connection, site: &str) -> Result<Vec<String>, StoreError> {
    Ok(tx
        .prepare("SELECT name FROM radius_client WHERE site = ?1 COLLATE NOCASE ORDER BY name")?
        .query_map(params![site], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Seeds the shipped roles once (migration 3 creates the table empty).
pub(crate) fn seed_roles(conn: &Connection) -> Result<(), StoreError> {
    let count: i64 = conn.query_row("SELECT count(*) FROM role", [], |r| r.get(0))?;
    if count > 0 {
        return Ok(());
    }
    for def in builtin_roles() {
        let builtin = i64::from(def.name == SUPER_ADMINISTRATOR);
        conn.execute(
            "INSERT INTO role (name, def, builtin, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, 'system', strftime('%s','now'), strftime('%s','now'))",
            params![def.name, json(&def)?, builtin],
        )?;
    }
    Ok(())
}

fn admin_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AdminRecord> {
    Ok(AdminRecord {
        name: r.get(0)?,
        unix_user: r.get(1)?,
        uid: r.get(2)?,
        role: r.get(3)?,
        enabled: r.get(4)?,
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        id: r.get(7)?,
    })
}

const ADMIN_SELECT: &str =
    "SELECT name, unix_user, uid, role, enabled, created_by, created_at, id FROM administrator";

pub(crate) const SITE_SELECT: &str =
    "SELECT name, subnets, timezone, created_by, created_at FROM site";

pub(crate) fn site_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SiteRecord> {
    let subnets: String = r.get(1)?;
    Ok(SiteRecord {
        name: r.get(0)?,
        subnets: serde_json::from_str(&subnets).unwrap_or_default(),
        timezone: r.get(2)?,
        created_by: r.get(3)?,
        created_at: r.get(4)?,
    })
}

impl Store {
    /// Every role, keyed by lower-cased name, with who created it and its version.
    ///
    /// # Errors
    /// Database errors or an unreadable stored role.
    pub fn roles(&self) -> Result<HashMap<String, StoredRole>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached("SELECT def, created_by, version FROM role")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?;
            let mut out = HashMap::new();
            for row in rows {
                let (def, created_by, version) = row?;
                let def: RoleDef = serde_json::from_str(&def)
                    .map_err(|e| StoreError::Crypto(format!("stored role: {e}")))?;
                out.insert(
                    def.name.to_lowercase(),
                    StoredRole {
                        def,
                        created_by,
                        version,
                    },
                );
            }
            Ok(out)
        })
    }

    /// # Errors
    /// Database errors.
    pub fn admins(&self) -> Result<Vec<AdminRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!("{ADMIN_SELECT} ORDER BY name"))?
                .query_map([], admin_row)?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// # Errors
    /// Database errors.
    pub fn admin_by_uid(&self, uid: u32) -> Result<Option<AdminRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!("{ADMIN_SELECT} WHERE uid = ?1"))?
                .query_row(params![uid], admin_row)
                .optional()?)
        })
    }

    /// # Errors
    /// Database errors.
    pub fn admin(&self, name: &str) -> Result<Option<AdminRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(
                c.prepare_cached(&format!("{ADMIN_SELECT} WHERE name = ?1"))?
                    .query_row(params![name], admin_row)
                    .optional()?,
            )
        })
    }

    /// # Errors
    /// Database errors.
    pub fn sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!("{SITE_SELECT} ORDER BY name"))?
                .query_map([], site_row)?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// # Errors
    /// Database errors.
    pub fn site(&self, name: &str) -> Result<Option<SiteRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!("{SITE_SELECT} WHERE name = ?1"))?
                .query_row(params![name], site_row)
                .optional()?)
        })
    }

    /// Whether the appliance is locked down.
    ///
    /// # Errors
    /// Database errors.
    pub fn lockdown(&self) -> Result<bool, StoreError> {
        self.with_reader(|c| {
            let v: Option<String> = c
                .prepare_cached("SELECT value FROM meta WHERE key = 'lockdown'")?
                .query_row([], |r| r.get(0))
                .optional()?;
            Ok(v.as_deref() == Some("on"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::migrations::migrate(&mut c).unwrap();
        seed_roles(&c).unwrap();
        c
    }

    fn role(name: &str, parent: &str) -> RoleDef {
        RoleDef {
            name: name.into(),
            parent: Some(parent.into()),
            description: String::new(),
            ops: None,
            user_scope: None,
            computer_scope: None,
            requires_scope: false,
        }
    }

    fn parent_of(c: &Connection, name: &str) -> Option<String> {
        c.query_row(
            "SELECT parent FROM role WHERE name = ?1",
            params![name],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// `role.parent` is read from the stored definition, whoever writes it: a role put
    /// through the writer, the shipped ones, and a definition rewritten directly (as
    /// migration 4 refreshes the Site Administrator template).
    #[test]
    fn a_roles_parent_is_the_one_its_definition_names() {
        let c = db();
        assert_eq!(parent_of(&c, SUPER_ADMINISTRATOR), None);
        assert_eq!(
            parent_of(&c, "Help Desk").as_deref(),
            Some(SUPER_ADMINISTRATOR)
        );
        let put = |def: RoleDef, expected_version| {
            apply(
                &c,
                &AdminOp::PutRole {
                    def,
                    created_by: "root".into(),
                    expected_version,
                },
            )
        };
        put(role("Tier 1", "Help Desk"), None).unwrap();
        assert_eq!(parent_of(&c, "Tier 1").as_deref(), Some("Help Desk"));
        put(role("Tier 1", "Compliance Auditor"), Some(1)).unwrap();
        assert_eq!(
            parent_of(&c, "Tier 1").as_deref(),
            Some("Compliance Auditor")
        );
        c.execute(
            "UPDATE role SET def = ?2 WHERE name = ?1",
            params!["Tier 1", json(&role("Tier 1", "Help Desk")).unwrap()],
        )
        .unwrap();
        assert_eq!(parent_of(&c, "Tier 1").as_deref(), Some("Help Desk"));
        // Parents compare without case, as role names do.
        let err = apply(
            &c,
            &AdminOp::DeleteRole {
                name: "HELP DESK".into(),
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("child role Tier 1"), "{err}");
        let err = put(role("Tier 2", "no such role"), None).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
