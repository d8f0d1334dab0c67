//! Versioned, forward-only schema migrations, tracked in `PRAGMA user_version`.
//!
//! A database written by a newer Gatehouse is refused rather than guessed at.

use rusqlite::Connection;

use super::StoreError;

/// Each entry moves the schema from version `index` to `index + 1`. Never edit a shipped
/// entry: add a new one.
const MIGRATIONS: &[&str] = &[
    // 1: foundation
    r"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
    CREATE TABLE radius_client (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        address TEXT NOT NULL,
        secret_sealed BLOB NOT NULL,
        site TEXT NOT NULL,
        require_message_authenticator INTEGER NOT NULL,
        rate_limit INTEGER,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE user (
        id INTEGER PRIMARY KEY,
        domain TEXT NOT NULL COLLATE NOCASE,
        name TEXT NOT NULL COLLATE NOCASE,
        dn TEXT,
        ou_path TEXT,
        display_name TEXT,
        email TEXT,
        status TEXT NOT NULL,
        password_hash TEXT,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_login INTEGER,
        UNIQUE (domain, name)
    );
    CREATE TABLE acct_event (
        id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        client TEXT NOT NULL,
        status_type INTEGER,
        session_id TEXT,
        user_name TEXT,
        attributes TEXT NOT NULL
    );
    CREATE INDEX acct_event_session ON acct_event (client, session_id);
    CREATE TABLE acct_session (
        client TEXT NOT NULL,
        session_id TEXT NOT NULL,
        user_name TEXT,
        started_at INTEGER,
        updated_at INTEGER NOT NULL,
        stopped_at INTEGER,
        session_time INTEGER,
        input_octets INTEGER,
        output_octets INTEGER,
        PRIMARY KEY (client, session_id)
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        time_micros INTEGER NOT NULL,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        operation TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    ",
    // 2: directories, trusted certificates, sync runs, directory users' extra fields
    r"
    CREATE TABLE trusted_cert (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        der BLOB NOT NULL,
        subject TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial TEXT NOT NULL,
        not_before INTEGER NOT NULL,
        not_after INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        is_ca INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE directory (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        spec TEXT NOT NULL,
        bind_password_sealed BLOB NOT NULL,
        high_water TEXT,
        last_full_at INTEGER,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE sync_run (
        id INTEGER PRIMARY KEY,
        directory TEXT NOT NULL COLLATE NOCASE,
        trigger TEXT NOT NULL,
        mode TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        added INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        disabled INTEGER NOT NULL,
        reenabled INTEGER NOT NULL,
        purged INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        error TEXT
    );
    CREATE INDEX sync_run_directory ON sync_run (directory, id);
    ALTER TABLE user ADD COLUMN groups TEXT;
    ALTER TABLE user ADD COLUMN missing_since INTEGER;
    ",
    // 3: delegated administration
    r"
    CREATE TABLE role (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        def TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE administrator (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        unix_user TEXT NOT NULL,
        uid INTEGER NOT NULL UNIQUE,
        role TEXT NOT NULL COLLATE NOCASE,
        enabled INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE TABLE site (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        subnets TEXT NOT NULL,
        timezone TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX user_domain_ou ON user (domain, ou_path);
    ",
    // 4: typed audit columns (format 2 records hash them too), canonical OU keys for
    // scope queries, and roles that carry their parent and a version for edits that must
    // not overwrite each other
    r"
    ALTER TABLE audit ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE audit ADD COLUMN admin_id INTEGER;
    ALTER TABLE audit ADD COLUMN target_kind TEXT;
    ALTER TABLE audit ADD COLUMN target_id TEXT;
    ALTER TABLE audit ADD COLUMN site TEXT COLLATE NOCASE;
    ALTER TABLE audit ADD COLUMN domain TEXT COLLATE NOCASE;
    ALTER TABLE audit ADD COLUMN ou_key TEXT;
    ALTER TABLE audit ADD COLUMN client TEXT COLLATE NOCASE;
    ALTER TABLE audit ADD COLUMN reason_code TEXT;
    CREATE INDEX audit_time ON audit (time_micros);
    ALTER TABLE user ADD COLUMN ou_key TEXT;
    CREATE INDEX user_domain_ou_key ON user (domain, ou_key);
    ALTER TABLE user ADD COLUMN name_key TEXT;
    CREATE INDEX user_domain_name_key ON user (domain, name_key);
    ALTER TABLE role ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE role ADD COLUMN parent TEXT COLLATE NOCASE;
    UPDATE role SET parent = json_extract(def, '$.parent');
    ",
    // 5: a bare User-Name is looked up across domains (to find it, or find it ambiguous);
    // without an index the lookup scanned every user on each cache miss. The audit time
    // index goes: every decision paid for it (0.5 µs of the writer's 3.5 µs per request),
    // while time-bounded audit reads walk back from the newest record and stop at their
    // limit without it
    r"
    CREATE INDEX user_name ON user (name);
    DROP INDEX audit_time;
    ",
];

/// Data a migration cannot express in SQL, run in the same transaction right after the
/// SQL of the version it belongs to.
fn after(version: usize, tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    if version == 4 {
        backfill_ou_keys(tx)?;
        backfill_name_keys(tx)?;
        backfill_audit_tags(tx)?;
        refresh_site_template(tx)?;
    }
    Ok(())
}

/// The shipped Site Administrator became a template (derived roles must name their sites,
/// and it lost the enterprise-wide operations): an appliance that never edited it gets
/// the new definition.
fn refresh_site_template(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    for def in crate::model::role::builtin_roles() {
        if def.requires_scope {
            let json = super::admin::json(&def)?;
            tx.execute(
                "UPDATE role SET def = ?2 WHERE name = ?1 AND created_by = 'system' AND version = 1",
                rusqlite::params![def.name, json],
            )?;
        }
    }
    Ok(())
}

/// `user.ou_key`: the canonical form of `ou_path`, which scope queries match.
fn backfill_ou_keys(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT id, ou_path FROM user WHERE ou_path IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE user SET ou_key = ?2 WHERE id = ?1")?;
    for (id, ou) in rows {
        update.execute(rusqlite::params![
            id,
            crate::model::scope::canonical_dn(&ou)
        ])?;
    }
    Ok(())
}

/// `user.name_key`: what the look-alike check on adding a user matches, so that users
/// added before the column existed are found by it too.
fn backfill_name_keys(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT id, name FROM user")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE user SET name_key = ?2 WHERE id = ?1")?;
    for (id, name) in rows {
        update.execute(rusqlite::params![id, crate::model::names::key(&name)])?;
    }
    Ok(())
}

/// Tags for records written before events carried them, read once from their actor and
/// target text (format-1 hashes do not cover tags, so this changes no hash): scoped
/// readers then filter every record the same way, in SQL.
fn backfill_audit_tags(tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
    let admins: Vec<(i64, String)> = tx
        .prepare("SELECT id, name FROM administrator")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let client_sites: Vec<(String, String)> = tx
        .prepare("SELECT name, site FROM radius_client")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let rows: Vec<(i64, String, String, String)> = tx
        .prepare("SELECT seq, kind, actor, target FROM audit")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare(
        "UPDATE audit SET admin_id = ?2, target_kind = ?3, target_id = ?4, site = ?5,
           domain = ?6, ou_key = ?7, client = ?8 WHERE seq = ?1",
    )?;
    let mut user_ou = tx.prepare("SELECT ou_key FROM user WHERE domain = ?1 AND name = ?2")?;
    let site_of = |client: &str| {
        client_sites
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(client))
            .map(|(_, s)| s.clone())
    };
    for (seq, kind, actor, target) in rows {
        // `NAME (uid N)`, `root as NAME`, `radius:CLIENT`.
        let acting = actor
            .split_once(" as ")
            .map(|(_, n)| n)
            .or_else(|| actor.split_once(" (").map(|(n, _)| n));
        let admin_id = acting.and_then(|n| {
            admins
                .iter()
                .find(|(_, name)| name.eq_ignore_ascii_case(n))
                .map(|(id, _)| *id)
        });
        let client = actor.strip_prefix("radius:").map(str::to_string);
        let mut site = client.as_deref().and_then(site_of);
        let (mut target_kind, mut target_id, mut domain, mut ou) = (None, None, None, None);
        if kind == "auth_decision" {
            target_kind = Some("user".to_string());
            target_id = Some(target.clone());
        } else if let Some((k, id)) = target.split_once(':') {
            target_kind = Some(k.to_string());
            target_id = Some(id.to_string());
            match k {
                "client" => site = site_of(id),
                "site" => site = Some(id.to_string()),
                "directory" | "domain" => domain = Some(id.to_string()),
                "user" => {
                    let (d, n) = id
                        .split_once('\\')
                        .unwrap_or((crate::model::LOCAL_DOMAIN, id));
                    domain = Some(d.to_string());
                    ou = user_ou
                        .query_row(rusqlite::params![d, n], |r| r.get::<_, Option<String>>(0))
                        .ok()
                        .flatten();
                }
                _ => {}
            }
        }
        update.execute(rusqlite::params![
            seq,
            admin_id,
            target_kind,
            target_id,
            site,
            domain,
            ou,
            client
        ])?;
    }
    Ok(())
}

/// The schema version this build writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    migrate_to(conn, CURRENT)
}

/// Migrates up to `target` (tests stop short of [`CURRENT`] to build an older database).
fn migrate_to(conn: &mut Connection, target: i64) -> Result<i64, StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > CURRENT {
        return Err(StoreError::SchemaTooNew {
            found: version,
            supported: CURRENT,
        });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(usize::try_from(target).unwrap_or(0))
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        after(i + 1, &tx)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(target.min(CURRENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut c).unwrap(), CURRENT);
        assert_eq!(migrate(&mut c).unwrap(), CURRENT);
        c.pragma_update(None, "user_version", CURRENT + 1).unwrap();
        assert!(matches!(
            migrate(&mut c),
            Err(StoreError::SchemaTooNew { .. })
        ));
    }

    /// Users added before migration 4 get the look-alike key that adding a user matches.
    #[test]
    fn migration_4_gives_existing_users_their_name_key() {
        let mut c = Connection::open_in_memory().unwrap();
        assert_eq!(migrate_to(&mut c, 3).unwrap(), 3);
        c.execute(
            "INSERT INTO user (domain, name, status, created_by, created_at, updated_at)
             VALUES ('local', 'alice', 'active', 'test', 0, 0)",
            [],
        )
        .unwrap();
        migrate(&mut c).unwrap();
        let key: Option<String> = c
            .query_row("SELECT name_key FROM user WHERE name = 'alice'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(key, Some(crate::model::names::key("alice")));
        // What the look-alike check asks finds her.
        let found: i64 = c
            .query_row(
                "SELECT count(*) FROM user WHERE domain = 'local' AND name_key = ?1",
                [crate::model::names::key("ALICE")],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(found, 1);
    }

    /// The lookups a RADIUS request makes on a cache miss never scan the user table.
    #[test]
    fn login_lookups_use_an_index() {
        let mut c = Connection::open_in_memory().unwrap();
        migrate(&mut c).unwrap();
        for sql in [
            "SELECT id FROM user WHERE name = 'x' LIMIT 2",
            "SELECT id FROM user WHERE domain = 'x' AND name = 'y'",
        ] {
            let plan: Vec<String> = c
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                plan.iter().all(|step| !step.starts_with("SCAN")),
                "{sql}: {plan:?}"
            );
        }
    }
}
