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
];

/// The schema version this build writes.
pub(crate) const CURRENT: i64 = MIGRATIONS.len() as i64;

pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
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
        .skip(usize::try_from(version).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(CURRENT)
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
}
