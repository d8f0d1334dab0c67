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
    // not overwrite each other. `parent` is read from the definition rather than stored
    // beside it, so that no write of `def` can leave the two disagreeing
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
    ALTER TABLE user ADD COLUMN ou_key TEXT;
    CREATE INDEX user_domain_ou_key ON user (domain, ou_key);
    ALTER TABLE user ADD COLUMN name_key TEXT;
    CREATE INDEX user_domain_name_key ON user (domain, name_key);
    ALTER TABLE role ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE role ADD COLUMN parent TEXT COLLATE NOCASE
      GENERATED ALWAYS AS (json_extract(def, '$.parent')) VIRTUAL;
    ",
    // 5: a bare User-Name is looked up across domains (to find it, or find it ambiguous);
    // without an index the lookup scanned every user on each cache miss. (The audit log
    // has no time index on purpose: every decision would pay for it, 0.5 µs of the
    // writer's 3.5 µs per request, while time-bounded reads walk back from the newest
    // record and stop at their limit.)
    r"
    CREATE INDEX user_name ON user (name);
    ",
    // 6: policies per site: user policies and their assignments, computer policies,
    // assignment rules, computers, and lockout counts. Hit counters live beside what they
    // count; the request path adds to them in batches.
    r"
    CREATE TABLE user_policy (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        def TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0,
        would_deny INTEGER NOT NULL DEFAULT 0,
        last_hit INTEGER
    );
    CREATE TABLE user_policy_assignment (
        id INTEGER PRIMARY KEY,
        policy_id INTEGER NOT NULL REFERENCES user_policy (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        domain TEXT NOT NULL COLLATE NOCASE,
        subject TEXT NOT NULL COLLATE NOCASE,
        priority INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (policy_id, kind, domain, subject)
    );
    CREATE TABLE computer_policy (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        def TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0,
        would_deny INTEGER NOT NULL DEFAULT 0,
        last_hit INTEGER
    );
    CREATE TABLE computer_rule (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        position INTEGER NOT NULL,
        policy_id INTEGER NOT NULL REFERENCES computer_policy (id),
        site TEXT COLLATE NOCASE,
        identity TEXT,
        address TEXT,
        client TEXT COLLATE NOCASE,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        hits INTEGER NOT NULL DEFAULT 0,
        last_hit INTEGER
    );
    CREATE TABLE computer (
        id INTEGER PRIMARY KEY,
        identity TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        randomized INTEGER NOT NULL,
        site TEXT NOT NULL COLLATE NOCASE,
        policy_id INTEGER NOT NULL REFERENCES computer_policy (id),
        pinned INTEGER NOT NULL DEFAULT 0,
        rule_id INTEGER REFERENCES computer_rule (id) ON DELETE SET NULL,
        client TEXT,
        address TEXT,
        description TEXT,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE INDEX computer_site ON computer (site);
    CREATE INDEX computer_policy_id ON computer (policy_id);
    CREATE INDEX computer_last_seen ON computer (last_seen);
    CREATE TABLE lockout (
        user_id INTEGER PRIMARY KEY REFERENCES user (id) ON DELETE CASCADE,
        failures INTEGER NOT NULL,
        window_start INTEGER NOT NULL,
        locked_until INTEGER
    );
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
    if version == 6 {
        super::policy::seed_defaults(tx)?;
        // The template now holds policy changes at `own` level.
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
    // Authentication decisions are nearly the whole log and all read alike, so one
    // statement tags them instead of a round trip per row.
    tx.execute(AUTH_DECISION_TAGS, [])?;
    let admins: Vec<(i64, String)> = tx
        .prepare("SELECT id, name FROM administrator")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let client_sites: Vec<(String, String)> = tx
        .prepare("SELECT name, site FROM radius_client")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // Read in chunks: however long the log, start-up never holds all of it.
    let mut chunk = tx.prepare(
        "SELECT seq, actor, target FROM audit
         WHERE seq > ?1 AND kind <> 'auth_decision' ORDER BY seq LIMIT 1000",
    )?;
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
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String, String)> = chunk
            .query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _, _)) = rows.last() else {
            return Ok(());
        };
        after = last;
        for (seq, actor, target) in rows {
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
            if let Some((k, id)) = target.split_once(':') {
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
    }
}

/// The tags of an authentication decision: its target is the user's name as given; its
/// actor `radius:CLIENT` names the client, and through it the site (the first client of
/// that name in any case, as the rows were read). The actor is parsed as every other
/// record's is (`root as NAME`, `NAME (uid N)`), so that an unusual one tags the same.
const AUTH_DECISION_TAGS: &str = "
UPDATE audit SET
  admin_id = (
    SELECT a.id FROM administrator a
    WHERE a.name = CASE
      WHEN instr(audit.actor, ' as ') > 0
        THEN substr(audit.actor, instr(audit.actor, ' as ') + 4)
      WHEN instr(audit.actor, ' (') > 0
        THEN substr(audit.actor, 1, instr(audit.actor, ' (') - 1)
    END
    ORDER BY a.id LIMIT 1),
  target_kind = 'user',
  target_id = audit.target,
  site = CASE WHEN substr(audit.actor, 1, 7) = 'radius:' THEN (
    SELECT c.site FROM radius_client c
    WHERE c.name = substr(audit.actor, 8) COLLATE NOCASE
    ORDER BY c.id LIMIT 1) END,
  domain = NULL,
  ou_key = NULL,
  client = CASE WHEN substr(audit.actor, 1, 7) = 'radius:' THEN substr(audit.actor, 8) END
WHERE kind = 'auth_decision'";

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

    /// The tagging as it was before authentication decisions were tagged in SQL: every
    /// record read into memory and tagged in Rust. The reference the new one must match.
    fn backfill_audit_tags_row_by_row(tx: &rusqlite::Transaction<'_>) {
        let admins: Vec<(i64, String)> = tx
            .prepare("SELECT id, name FROM administrator")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let client_sites: Vec<(String, String)> = tx
            .prepare("SELECT name, site FROM radius_client")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let rows: Vec<(i64, String, String, String)> = tx
            .prepare("SELECT seq, kind, actor, target FROM audit")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut update = tx
            .prepare(
                "UPDATE audit SET admin_id = ?2, target_kind = ?3, target_id = ?4, site = ?5,
                   domain = ?6, ou_key = ?7, client = ?8 WHERE seq = ?1",
            )
            .unwrap();
        let mut user_ou = tx
            .prepare("SELECT ou_key FROM user WHERE domain = ?1 AND name = ?2")
            .unwrap();
        let site_of = |client: &str| {
            client_sites
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(client))
                .map(|(_, s)| s.clone())
        };
        for (seq, kind, actor, target) in rows {
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
            update
                .execute(rusqlite::params![
                    seq,
                    admin_id,
                    target_kind,
                    target_id,
                    site,
                    domain,
                    ou,
                    client
                ])
                .unwrap();
        }
    }

    /// A version-3 database with administrators, clients (two differing only in case),
    /// users and audit records of every shape the tagging reads.
    fn v3_with_audit_log() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        migrate_to(&mut c, 3).unwrap();
        c.execute_batch(
            r"
            INSERT INTO administrator (id, name, unix_user, uid, role, enabled, created_by, created_at, updated_at)
              VALUES (7, 'Alice', 'alice', 1000, 'Super Administrator', 1, 'root', 0, 0),
                     (8, 'bob', 'bob', 1001, 'Helpdesk', 1, 'root', 0, 0);
            INSERT INTO radius_client (id, name, address, secret_sealed, site, require_message_authenticator, created_by, created_at, updated_at)
              VALUES (1, 'sw1', '10.0.0.1', x'00', 'HQ', 1, 'root', 0, 0),
                     (2, 'SW1', '10.0.0.2', x'00', 'Branch', 1, 'root', 0, 0),
                     (3, 'ap', '10.0.0.3', x'00', 'Branch', 1, 'root', 0, 0);
            INSERT INTO user (domain, name, ou_path, status, created_by, created_at, updated_at)
              VALUES ('CORP', 'dave', 'OU=Sales, DC=corp', 'active', 'sync:CORP', 0, 0),
                     ('local', 'erin', NULL, 'active', 'root', 0, 0);
            ",
        )
        .unwrap();
        let records = [
            ("auth_decision", "radius:sw1", "dave"),
            ("auth_decision", "radius:Sw1", "CORP\\dave"),
            ("auth_decision", "radius:AP", "erin"),
            ("auth_decision", "radius:gone", "x"),
            ("auth_decision", "radius:", ""),
            ("auth_decision", "root as alice", "user:erin"),
            ("auth_decision", "bob (uid 1001)", "client:ap"),
            ("auth_decision", "radius:bob (uid 1001)", "erin"),
            ("auth_decision", "Ünïcode as bob", "ü"),
            ("admin", "alice (uid 1000)", "client:SW1"),
            ("admin", "root as BOB", "site:Branch"),
            ("admin", "root", "directory:CORP"),
            ("admin", "root", "domain:CORP"),
            ("admin", "alice (uid 1000)", "user:CORP\\dave"),
            ("admin", "alice (uid 1000)", "user:erin"),
            ("admin", "alice (uid 1000)", "user:CORP\\nobody"),
            ("admin", "radius:ap", "role:Helpdesk"),
            ("system", "system", "no colon"),
            ("system", "carol (uid 5)", "cert:ca:x"),
        ];
        let mut insert = c
            .prepare(
                "INSERT INTO audit (time_micros, kind, actor, operation, target, outcome, detail,
                   prev_hash, hash) VALUES (0, ?1, ?2, 'op', ?3, 'info', '{}', x'', x'')",
            )
            .unwrap();
        // Enough rows that the record-by-record pass reads more than one chunk.
        for round in 0..120 {
            for (kind, actor, target) in records {
                let target = if round == 0 {
                    target.to_string()
                } else {
                    format!("{target}{round}")
                };
                insert
                    .execute(rusqlite::params![kind, actor, target])
                    .unwrap();
            }
        }
        drop(insert);
        c
    }

    fn tags(c: &Connection) -> Vec<Vec<rusqlite::types::Value>> {
        let mut stmt = c
            .prepare(
                "SELECT seq, admin_id, target_kind, target_id, site, domain, ou_key, client,
                   reason_code FROM audit ORDER BY seq",
            )
            .unwrap();
        stmt.query_map([], |r| (0..9).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Tagging authentication decisions in SQL tags every record as the row-by-row pass
    /// did.
    #[test]
    fn audit_tags_are_backfilled_as_before() {
        let mut now = v3_with_audit_log();
        migrate(&mut now).unwrap();

        let mut before = v3_with_audit_log();
        let tx = before.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[3]).unwrap();
        backfill_ou_keys(&tx).unwrap();
        backfill_audit_tags_row_by_row(&tx);
        tx.commit().unwrap();

        let (now, before) = (tags(&now), tags(&before));
        assert_eq!(now.len(), 19 * 120);
        assert_eq!(now, before);
        // The fixture reaches what it is meant to: a client's site, an administrator, a
        // user's OU.
        use rusqlite::types::Value::{Integer, Null, Text};
        assert_eq!(now[0][4], Text("HQ".into()));
        assert_eq!(now[5][1], Integer(7));
        assert_eq!(now[13][6], Text("ou=sales,dc=corp".into()));
        assert_eq!(now[3][4], Null);
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
