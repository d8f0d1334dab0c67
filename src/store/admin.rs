//! Store access for roles, administrators, sites and the lockdown switch.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::model::role::{RoleDef, SUPER_ADMINISTRATOR, builtin_roles};
use crate::model::{AdminRecord, SiteRecord};

#[derive(Debug)]
pub enum AdminOp {
    PutRole {
        def: RoleDef,
        created_by: String,
        create: bool,
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

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Crypto(e.to_string()))
}

pub(crate) fn apply(tx: &Connection, op: &AdminOp) -> Result<u64, StoreError> {
    use super::writer::{conflict, one_row};
    match op {
        AdminOp::PutRole {
            def,
            created_by,
            create: true,
        } => {
            tx.execute(
                "INSERT INTO role (name, def, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, strftime('%s','now'), strftime('%s','now'))",
                params![def.name, json(def)?, created_by],
            )
            .map_err(|e| conflict(e, || format!("role {} already exists", def.name)))?;
            Ok(1)
        }
        AdminOp::PutRole {
            def, create: false, ..
        } => {
            let n = tx.execute(
                "UPDATE role SET def = ?2, updated_at = strftime('%s','now') WHERE name = ?1",
                params![def.name, json(def)?],
            )?;
            one_row(n, || format!("role {}", def.name))
        }
        AdminOp::DeleteRole { name } => {
            let n = tx.execute(
                "DELETE FROM role WHERE name = ?1 AND builtin = 0",
                params![name],
            )?;
            one_row(n, || format!("role {name}"))
        }
        AdminOp::AddAdmin { record: r } => {
            tx.execute(
                "INSERT INTO administrator (name, unix_user, uid, role, enabled, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%s','now'), strftime('%s','now'))",
                params![r.name, r.unix_user, r.uid, r.role, r.enabled, r.created_by],
            )
            .map_err(|e| conflict(e, || format!("administrator {} (or Unix user {}) already exists", r.name, r.unix_user)))?;
            Ok(1)
        }
        AdminOp::SetAdminRole { name, role } => {
            let n = tx.execute("UPDATE administrator SET role = ?2, updated_at = strftime('%s','now') WHERE name = ?1", params![name, role])?;
            one_row(n, || format!("administrator {name}"))
        }
        AdminOp::SetAdminEnabled { name, enabled } => {
            let n = tx.execute("UPDATE administrator SET enabled = ?2, updated_at = strftime('%s','now') WHERE name = ?1", params![name, enabled])?;
            one_row(n, || format!("administrator {name}"))
        }
        AdminOp::RemoveAdmin { name } => {
            let n = tx.execute("DELETE FROM administrator WHERE name = ?1", params![name])?;
            one_row(n, || format!("administrator {name}"))
        }
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
            let n = tx
                .execute(
                    "UPDATE site SET name = ?2, subnets = ?3, timezone = ?4, updated_at = strftime('%s','now') WHERE name = ?1",
                    params![cur, site.name, json(&site.subnets)?, site.timezone],
                )
                .map_err(|e| conflict(e, || format!("site {} already exists", site.name)))?;
            one_row(n, || format!("site {cur}"))
        }
        AdminOp::DeleteSite { name } => {
            let n = tx.execute("DELETE FROM site WHERE name = ?1", params![name])?;
            one_row(n, || format!("site {name}"))
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
    })
}

const ADMIN_SELECT: &str =
    "SELECT name, unix_user, uid, role, enabled, created_by, created_at FROM administrator";

fn site_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SiteRecord> {
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
    /// Every role, keyed by lower-cased name, with who created it.
    ///
    /// # Errors
    /// Database errors or an unreadable stored role.
    pub fn roles(&self) -> Result<HashMap<String, (RoleDef, String)>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached("SELECT def, created_by FROM role")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = HashMap::new();
            for row in rows {
                let (def, by) = row?;
                let def: RoleDef = serde_json::from_str(&def)
                    .map_err(|e| StoreError::Crypto(format!("stored role: {e}")))?;
                out.insert(def.name.to_lowercase(), (def, by));
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
            Ok(c.prepare_cached(
                "SELECT name, subnets, timezone, created_by, created_at FROM site ORDER BY name",
            )?
            .query_map([], site_row)?
            .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// # Errors
    /// Database errors.
    pub fn site(&self, name: &str) -> Result<Option<SiteRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(
                "SELECT name, subnets, timezone, created_by, created_at FROM site WHERE name = ?1",
            )?
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
