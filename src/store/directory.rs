//! Store access for directories, trusted certificates, sync runs and directory users.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::secrets::Sealer;
use super::{Store, StoreError};
use crate::directory::map::DirectoryUser;
use crate::directory::plan::{Change, DisableReason, StoredUser};
use crate::directory::spec::DirectorySpec;
use crate::model::Secret;
use crate::model::UserStatus;
use crate::model::scope::canonical_dn;
use crate::time::UnixTime;
use crate::tls::certs::CertInfo;

pub(crate) fn directory_aad(name: &str) -> String {
    format!("directory:{}", name.to_ascii_lowercase())
}

#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryRecord {
    pub spec: DirectorySpec,
    pub high_water: Option<String>,
    pub last_full_at: Option<UnixTime>,
    pub created_by: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertRecord {
    pub name: String,
    #[serde(flatten)]
    pub info: CertInfo,
    pub created_by: String,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncRunRecord {
    pub directory: String,
    pub trigger: String,
    pub mode: String,
    pub started_at: UnixTime,
    pub ended_at: UnixTime,
    pub entries: i64,
    pub added: i64,
    pub updated: i64,
    pub disabled: i64,
    pub reenabled: i64,
    pub purged: i64,
    pub unchanged: i64,
    pub error: Option<String>,
}

impl SyncRunRecord {
    /// A run that ended in `error` before anything was applied.
    #[must_use]
    pub fn failed(
        directory: &str,
        trigger: &str,
        started_at: UnixTime,
        ended_at: UnixTime,
        error: String,
    ) -> Self {
        Self {
            directory: directory.to_string(),
            trigger: trigger.to_string(),
            mode: "-".into(),
            started_at,
            ended_at,
            entries: 0,
            added: 0,
            updated: 0,
            disabled: 0,
            reenabled: 0,
            purged: 0,
            unchanged: 0,
            error: Some(error),
        }
    }
}

/// Directory-related mutations, applied by the writer inside a job's savepoint.
#[derive(Debug)]
pub enum DirectoryOp {
    AddCert {
        name: String,
        info: CertInfo,
        created_by: String,
    },
    DeleteCert {
        name: String,
    },
    AddDirectory {
        spec: DirectorySpec,
        bind_password: Secret,
        created_by: String,
    },
    UpdateDirectory {
        current_name: String,
        spec: DirectorySpec,
        bind_password: Option<Secret>,
    },
    /// Removes the connection and every user of its domain.
    DeleteDirectory {
        name: String,
    },
    ApplySync {
        domain: String,
        changes: Vec<Change>,
        high_water: Option<String>,
        full: bool,
        now: UnixTime,
        created_by: String,
    },
    RecordRun(SyncRunRecord),
}

fn groups_json(groups: &[String]) -> String {
    serde_json::to_string(groups).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn apply(tx: &Connection, sealer: &Sealer, op: &DirectoryOp) -> Result<u64, StoreError> {
    match op {
        DirectoryOp::AddCert {
            name,
            info,
            created_by,
        } => {
            tx.execute(
                "INSERT INTO trusted_cert (name, der, subject, issuer, serial, not_before, not_after,
                   fingerprint, is_ca, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, strftime('%s','now'))",
                params![name, info.der, info.subject, info.issuer, info.serial, info.not_before, info.not_after,
                    info.sha256_fingerprint, info.is_ca, created_by],
            )
            .map_err(|e| super::writer::conflict(e, || format!("certificate {name} already exists")))?;
            Ok(1)
        }
        DirectoryOp::DeleteCert { name } => {
            let users = directories_trusting(tx, name)?;
            if !users.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "certificate {name} is used by directory {}; change its --ca first",
                    users.join(", ")
                )));
            }
            let n = tx.execute("DELETE FROM trusted_cert WHERE name = ?1", params![name])?;
            super::writer::one_row(n, || format!("certificate {name}"))
        }
        DirectoryOp::AddDirectory {
            spec,
            bind_password,
            created_by,
        } => {
            check_ca_certs(tx, spec)?;
            let sealed = sealer.seal(&directory_aad(&spec.name), bind_password.expose())?;
            let json =
                serde_json::to_string(spec).map_err(|e| StoreError::Crypto(e.to_string()))?;
            tx.execute(
                "INSERT INTO directory (name, spec, bind_password_sealed, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, strftime('%s','now'), strftime('%s','now'))",
                params![spec.name, json, sealed, created_by],
            )
            .map_err(|e| super::writer::conflict(e, || format!("directory {} already exists", spec.name)))?;
            Ok(1)
        }
        DirectoryOp::UpdateDirectory {
            current_name,
            spec,
            bind_password,
        } => {
            check_ca_certs(tx, spec)?;
            let json =
                serde_json::to_string(spec).map_err(|e| StoreError::Crypto(e.to_string()))?;
            let n = match bind_password {
                Some(pw) => {
                    let sealed = sealer.seal(&directory_aad(&spec.name), pw.expose())?;
                    tx.execute(
                        "UPDATE directory SET spec = ?2, bind_password_sealed = ?3, updated_at = strftime('%s','now') WHERE name = ?1",
                        params![current_name, json, sealed],
                    )?
                }
                None => tx.execute(
                    "UPDATE directory SET spec = ?2, updated_at = strftime('%s','now') WHERE name = ?1",
                    params![current_name, json],
                )?,
            };
            super::writer::one_row(n, || format!("directory {current_name}"))
        }
        DirectoryOp::DeleteDirectory { name } => {
            let n = tx.execute("DELETE FROM directory WHERE name = ?1", params![name])?;
            super::writer::one_row(n, || format!("directory {name}"))?;
            let users = tx.execute("DELETE FROM user WHERE domain = ?1", params![name])?;
            Ok(users as u64)
        }
        DirectoryOp::ApplySync {
            domain,
            changes,
            high_water,
            full,
            now,
            created_by,
        } => {
            for c in changes {
                apply_change(tx, domain, c, *now, created_by)?;
            }
            tx.execute(
                "UPDATE directory SET high_water = COALESCE(?2, high_water),
                   last_full_at = CASE WHEN ?3 THEN ?4 ELSE last_full_at END WHERE name = ?1",
                params![domain, high_water, full, now],
            )?;
            Ok(changes.len() as u64)
        }
        DirectoryOp::RecordRun(r) => {
            tx.execute(
                "INSERT INTO sync_run (directory, trigger, mode, started_at, ended_at, entries, added,
                   updated, disabled, reenabled, purged, unchanged, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![r.directory, r.trigger, r.mode, r.started_at, r.ended_at, r.entries, r.added,
                    r.updated, r.disabled, r.reenabled, r.purged, r.unchanged, r.error],
            )?;
            Ok(1)
        }
    }
}

/// The directories that verify their server against certificate `name`. Decided in the
/// writer, against committed rows, as [`check_ca_certs`] is: otherwise a certificate
/// could be deleted while a directory naming it is being saved, and the directory would
/// fail every connection from then on.
fn directories_trusting(tx: &Connection, name: &str) -> Result<Vec<String>, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT DISTINCT d.name FROM directory d, json_each(d.spec, '$.ca_certs') ca
             WHERE ca.value = ?1 COLLATE NOCASE ORDER BY d.name",
        )?
        .query_map(params![name], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// Every certificate a directory names exists (see [`directories_trusting`]).
fn check_ca_certs(tx: &Connection, spec: &DirectorySpec) -> Result<(), StoreError> {
    let mut exists = tx.prepare_cached("SELECT 1 FROM trusted_cert WHERE name = ?1")?;
    for name in &spec.ca_certs {
        if !exists.exists(params![name])? {
            return Err(StoreError::Conflict(format!(
                "ca: no trusted certificate named {name} (see `gatehousectl cert list`)"
            )));
        }
    }
    Ok(())
}

fn apply_change(
    tx: &Connection,
    domain: &str,
    c: &Change,
    now: UnixTime,
    created_by: &str,
) -> Result<(), StoreError> {
    let set_fields = |u: &DirectoryUser, status: Option<UserStatus>| -> Result<(), StoreError> {
        tx.prepare_cached(
            "UPDATE user SET name = ?3, dn = ?4, ou_path = ?5, email = ?6, display_name = ?7, groups = ?8,
               status = COALESCE(?9, status), missing_since = NULL, updated_at = ?10, ou_key = ?11
             WHERE domain = ?1 AND name = ?2",
        )?
        .execute(params![domain, u.username, u.username, u.dn, u.ou_path, u.email, u.display_name,
            groups_json(&u.groups), status.map(UserStatus::as_str), now,
            canonical_dn(&u.ou_path)])?;
        Ok(())
    };
    match c {
        Change::Add { user: u } => {
            let status = if u.disabled {
                UserStatus::Disabled
            } else {
                UserStatus::Active
            };
            tx.prepare_cached(
                "INSERT INTO user (domain, name, dn, ou_path, display_name, email, status, groups,
                   created_by, created_at, updated_at, ou_key, name_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)",
            )?
            .execute(params![
                domain,
                u.username,
                u.dn,
                u.ou_path,
                u.display_name,
                u.email,
                status.as_str(),
                groups_json(&u.groups),
                created_by,
                now,
                canonical_dn(&u.ou_path),
                crate::model::names::key(&u.username)
            ])?;
        }
        Change::Update { user, .. } => set_fields(user, None)?,
        Change::Reenable { user } => set_fields(user, Some(UserStatus::Active))?,
        Change::Disable { name, reason } => {
            let missing = matches!(reason, DisableReason::MissingFromDirectory).then_some(now);
            tx.prepare_cached(
                "UPDATE user SET status = 'disabled', missing_since = ?3, updated_at = ?4 WHERE domain = ?1 AND name = ?2",
            )?
            .execute(params![domain, name, missing, now])?;
        }
        Change::MarkMissing { name } => {
            tx.prepare_cached("UPDATE user SET missing_since = ?3, updated_at = ?3 WHERE domain = ?1 AND name = ?2")?
                .execute(params![domain, name, now])?;
        }
        Change::Purge { name } => {
            tx.prepare_cached("DELETE FROM user WHERE domain = ?1 AND name = ?2")?
                .execute(params![domain, name])?;
        }
    }
    Ok(())
}

/// spec, high_water, last_full_at, created_by, created_at, updated_at
type DirectoryRow = (String, Option<String>, Option<i64>, String, i64, i64);

fn directory_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DirectoryRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn to_record(row: DirectoryRow) -> Result<DirectoryRecord, StoreError> {
    let spec: DirectorySpec = serde_json::from_str(&row.0)
        .map_err(|e| StoreError::Crypto(format!("stored directory spec: {e}")))?;
    Ok(DirectoryRecord {
        spec,
        high_water: row.1,
        last_full_at: row.2,
        created_by: row.3,
        created_at: row.4,
        updated_at: row.5,
    })
}

const DIRECTORY_SELECT: &str =
    "SELECT spec, high_water, last_full_at, created_by, created_at, updated_at FROM directory";

fn cert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CertRecord> {
    Ok(CertRecord {
        name: r.get(0)?,
        info: CertInfo {
            der: r.get(1)?,
            subject: r.get(2)?,
            issuer: r.get(3)?,
            serial: r.get(4)?,
            not_before: r.get(5)?,
            not_after: r.get(6)?,
            sha256_fingerprint: r.get(7)?,
            is_ca: r.get(8)?,
            self_signed: false,
        },
        created_by: r.get(9)?,
        created_at: r.get(10)?,
    })
}

const CERT_SELECT: &str = "SELECT name, der, subject, issuer, serial, not_before, not_after, fingerprint, is_ca, created_by, created_at FROM trusted_cert";

impl Store {
    /// # Errors
    /// Database errors or an unreadable stored spec.
    pub fn directories(&self) -> Result<Vec<DirectoryRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(&format!("{DIRECTORY_SELECT} ORDER BY name"))?;
            let rows = stmt
                .query_map([], directory_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(to_record).collect()
        })
    }

    /// # Errors
    /// Database errors or an unreadable stored spec.
    pub fn directory(&self, name: &str) -> Result<Option<DirectoryRecord>, StoreError> {
        self.with_reader(|c| {
            let row = c
                .prepare_cached(&format!("{DIRECTORY_SELECT} WHERE name = ?1"))?
                .query_row(params![name], directory_row)
                .optional()?;
            row.map(to_record).transpose()
        })
    }

    /// The unsealed bind password of a directory.
    ///
    /// # Errors
    /// Database errors, a missing directory, or a sealed value that does not open.
    pub fn directory_bind_password(&self, name: &str) -> Result<Secret, StoreError> {
        let sealed: Vec<u8> = self
            .with_reader(|c| {
                Ok(
                    c.prepare_cached("SELECT bind_password_sealed FROM directory WHERE name = ?1")?
                        .query_row(params![name], |r| r.get(0))
                        .optional()?,
                )
            })?
            .ok_or_else(|| StoreError::NotFound(format!("directory {name}")))?;
        self.sealer().open(&directory_aad(name), &sealed)
    }

    /// # Errors
    /// Database errors.
    pub fn certs(&self) -> Result<Vec<CertRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(&format!("{CERT_SELECT} ORDER BY name"))?;
            Ok(stmt
                .query_map([], cert_row)?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// # Errors
    /// Database errors.
    pub fn cert(&self, name: &str) -> Result<Option<CertRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(&format!("{CERT_SELECT} WHERE name = ?1"))?
                .query_row(params![name], cert_row)
                .optional()?)
        })
    }

    /// Every user of a domain, as the sync planner sees them.
    ///
    /// # Errors
    /// Database errors.
    pub fn domain_users(&self, domain: &str) -> Result<Vec<StoredUser>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, dn, ou_path, email, display_name, groups, status, missing_since FROM user WHERE domain = ?1",
            )?;
            let rows = stmt.query_map(params![domain], |r| {
                let groups: Option<String> = r.get(5)?;
                let status: String = r.get(6)?;
                Ok(StoredUser {
                    name: r.get(0)?,
                    dn: r.get(1)?,
                    ou_path: r.get(2)?,
                    email: r.get(3)?,
                    display_name: r.get(4)?,
                    groups: groups.and_then(|g| serde_json::from_str(&g).ok()).unwrap_or_default(),
                    status: UserStatus::parse(&status).unwrap_or(UserStatus::Disabled),
                    missing_since: r.get(7)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Number of users in a domain.
    ///
    /// # Errors
    /// Database errors.
    pub fn domain_user_count(&self, domain: &str) -> Result<i64, StoreError> {
        self.with_reader(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM user WHERE domain = ?1",
                params![domain],
                |r| r.get(0),
            )?)
        })
    }

    /// Recent sync runs of a directory, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub fn sync_runs(&self, directory: &str, limit: u32) -> Result<Vec<SyncRunRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT directory, trigger, mode, started_at, ended_at, entries, added, updated, disabled,
                   reenabled, purged, unchanged, error FROM sync_run WHERE directory = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![directory, limit], |r| {
                Ok(SyncRunRecord {
                    directory: r.get(0)?,
                    trigger: r.get(1)?,
                    mode: r.get(2)?,
                    started_at: r.get(3)?,
                    ended_at: r.get(4)?,
                    entries: r.get(5)?,
                    added: r.get(6)?,
                    updated: r.get(7)?,
                    disabled: r.get(8)?,
                    reenabled: r.get(9)?,
                    purged: r.get(10)?,
                    unchanged: r.get(11)?,
                    error: r.get(12)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Users of any domain with this name (case-insensitive).
    ///
    /// # Errors
    /// Database errors.
    pub fn users_named(&self, name: &str) -> Result<Vec<super::UserRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{} WHERE name = ?1 LIMIT 2", super::USER_SELECT))?;
            Ok(stmt
                .query_map(params![name], super::user_row)?
                .collect::<Result<Vec<_>, _>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::WriteOp;

    fn cert_info() -> CertInfo {
        CertInfo {
            subject: "CN=Corp CA".into(),
            issuer: "CN=Corp CA".into(),
            serial: "01".into(),
            not_before: 0,
            not_after: 4_000_000_000,
            sha256_fingerprint: "00".into(),
            is_ca: true,
            self_signed: true,
            der: vec![0x30],
        }
    }

    fn spec(ca_certs: &[&str]) -> DirectorySpec {
        DirectorySpec {
            name: "CORP".into(),
            urls: vec!["ldaps://dc.corp:636".into()],
            ca_certs: ca_certs.iter().map(|c| (*c).to_string()).collect(),
            bind_dn: "cn=sync,dc=corp".into(),
            base_dns: vec!["dc=corp".into()],
            ..DirectorySpec::default()
        }
    }

    async fn write(store: &Store, op: DirectoryOp) -> Result<(), StoreError> {
        store.write(vec![WriteOp::Directory(op)]).await.map(|_| ())
    }

    fn conflict(r: Result<(), StoreError>, says: &str) {
        match r {
            Err(StoreError::Conflict(m)) => assert!(m.contains(says), "{m}"),
            other => panic!("expected a conflict saying {says}: {other:?}"),
        }
    }

    /// The certificates a directory trusts are checked by the writer, against committed
    /// rows: a directory naming one that does not exist is refused, and so is deleting
    /// one that a directory names — whatever the handlers saw before.
    #[tokio::test]
    async fn directories_and_their_certificates_stay_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let add = |spec| DirectoryOp::AddDirectory {
            spec,
            bind_password: Secret::from_text("pw"),
            created_by: "root".into(),
        };
        let update = |spec| DirectoryOp::UpdateDirectory {
            current_name: "CORP".into(),
            spec,
            bind_password: None,
        };
        let delete_cert = || DirectoryOp::DeleteCert {
            name: "corp-ca".into(),
        };

        conflict(
            write(&store, add(spec(&["corp-ca"]))).await,
            "no trusted certificate named corp-ca",
        );
        write(
            &store,
            DirectoryOp::AddCert {
                name: "Corp-CA".into(),
                info: cert_info(),
                created_by: "root".into(),
            },
        )
        .await
        .unwrap();
        write(&store, add(spec(&["corp-ca"]))).await.unwrap();
        conflict(write(&store, delete_cert()).await, "used by directory CORP");
        conflict(
            write(&store, update(spec(&["corp-ca", "other-ca"]))).await,
            "no trusted certificate named other-ca",
        );
        assert_eq!(
            store.directory("CORP").unwrap().unwrap().spec.ca_certs,
            ["corp-ca"]
        );
        // Once no directory names it, it goes.
        write(&store, update(spec(&[]))).await.unwrap();
        write(&store, delete_cert()).await.unwrap();
        assert!(store.certs().unwrap().is_empty());
    }
}
