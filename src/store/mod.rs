//! The store: SQLite in WAL mode behind a narrow interface.
//!
//! Writes go to the single [`writer`] thread and are acknowledged only after COMMIT (with
//! `synchronous = FULL`, after the WAL is synced). Reads use a small pool of read-only
//! connections and run on the caller's thread: they are short indexed lookups, and WAL lets
//! them proceed while the writer commits. A later PostgreSQL backend replaces this module's
//! internals, not its interface.

pub mod admin;
mod audit_stage;
pub mod directory;
pub mod feed;
pub mod migrations;
pub mod policy;
pub mod scoped;
pub mod secrets;
mod user_cache;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{mpsc, oneshot};

pub use audit_stage::StagedRecord;
pub use user_cache::NamedUser;
pub use writer::{WriteOp, WriteSummary};

use crate::audit::Tags;
use crate::audit::chain::{ChainBreak, ChainedRecord, GENESIS, StoredEvent, Verifier};
use crate::model::{ClientRecord, Secret, UserRecord, UserStatus};
use secrets::Sealer;
use writer::{Job, Writer, WriterSignal};

/// Jobs waiting for the writer; senders wait (back-pressure) beyond it.
const WRITE_QUEUE: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("key file: {0}")]
    KeyFile(String),
    #[error("{0}")]
    Crypto(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("commit failed: {0}")]
    CommitFailed(String),
    #[error("the store is shutting down")]
    Closed,
    #[error("{path}: {reason}")]
    Open { path: String, reason: String },
}

pub(crate) fn client_aad(name: &str) -> String {
    format!("radius_client:{name}")
}

/// A detached job counted in [`WriterSignal`] until it is known to be queued.
struct DetachedCount<'a> {
    signal: &'a WriterSignal,
    queued: bool,
}

impl<'a> DetachedCount<'a> {
    fn new(signal: &'a WriterSignal) -> Self {
        signal.detached_job_queued();
        Self {
            signal,
            queued: false,
        }
    }

    fn queued(mut self) {
        self.queued = true;
    }
}

impl Drop for DetachedCount<'_> {
    fn drop(&mut self) {
        if !self.queued {
            self.signal.detached_job_lost();
        }
    }
}

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.inner.path.display())
    }
}

struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    sealer: Arc<Sealer>,
    tx: mpsc::Sender<Job>,
    signal: Arc<WriterSignal>,
    stage: Arc<audit_stage::AuditStage>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    users: user_cache::UserCache,
    feed: Arc<feed::ChangeFeed>,
    appliance_site: Arc<OnceLock<String>>,
}

/// The database holds password hashes: it is created 0600 whatever the umask (SQLite gives
/// its `-wal` and `-shm` files the database's mode), and a copy left readable by an older
/// version is tightened.
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |e: std::io::Error| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(failed(e)),
    }
    let mut companions = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        companions.push(p.into());
    }
    for file in companions {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(failed)?;
        }
    }
    Ok(())
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    if !read_only {
        owner_only(path)?;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: the WAL is synced at every commit, which is what an acknowledgement promises.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    Ok(conn)
}

impl Store {
    /// Opens (creating and migrating) the database at `path` and the key file at `key_path`,
    /// and starts the writer thread.
    ///
    /// # Errors
    /// Any failure to open, migrate or read the key, naming the file.
    pub fn open(path: &Path, key_path: &Path) -> Result<Self, StoreError> {
        let sealer = Arc::new(Sealer::load_or_create(key_path)?);
        let mut conn = open_conn(path, false)?;
        migrations::migrate(&mut conn)?;
        admin::seed_roles(&conn)?;
        let feed = Arc::new(feed::ChangeFeed::default());
        let users = user_cache::UserCache::new(Arc::clone(&feed));
        let signal = Arc::new(WriterSignal::default());
        let stage = Arc::new(audit_stage::AuditStage::default());
        let appliance_site = Arc::new(OnceLock::new());
        let writer = Writer::new(
            conn,
            Arc::clone(&signal),
            Arc::clone(&stage),
            Arc::clone(&sealer),
            Arc::clone(&appliance_site),
            Arc::clone(&feed),
        )?;
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let handle = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: format!("cannot start writer thread: {e}"),
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                readers: Mutex::new(Vec::new()),
                sealer,
                tx,
                signal,
                stage,
                writer_thread: Mutex::new(Some(handle)),
                users,
                feed,
                appliance_site,
            }),
        })
    }

    /// Tells the writer the appliance's own site (config `appliance.site`), which RADIUS
    /// clients may use without a `site` row; from then on a client can only be added at,
    /// or moved to, a site that exists. Told once: the site changes only on restart.
    ///
    /// # Errors
    /// `Conflict` when the store was already told another site.
    pub fn set_appliance_site(&self, name: &str) -> Result<(), StoreError> {
        let told = self.inner.appliance_site.get_or_init(|| name.to_string());
        if told == name {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!(
                "the store already serves appliance site {told}, not {name}"
            )))
        }
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// What changed, for caches and snapshots to follow (see [`feed`]).
    #[must_use]
    pub fn feed(&self) -> &feed::ChangeFeed {
        &self.inner.feed
    }

    /// Applies `ops` all-or-nothing and returns once they are durable.
    ///
    /// # Errors
    /// The first failing operation's error (nothing of the job is applied), or a commit failure.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<WriteSummary, StoreError> {
        self.write_waited(ops, true).await
    }

    async fn write_waited(
        &self,
        ops: Vec<WriteOp>,
        durable: bool,
    ) -> Result<WriteSummary, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.inner
            .tx
            .send(Job {
                ops,
                reply: Some(reply),
                durable,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        self.inner.signal.waited_job_queued();
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Queues `ops` without waiting for the commit: for records nobody is told about
    /// (the audit of an authentication decision, a last-login time). When the queue is full
    /// this waits for room rather than dropping the record.
    pub async fn write_detached(&self, ops: Vec<WriteOp>) {
        let job = Job {
            ops,
            reply: None,
            durable: false,
        };
        // Counted before it is queued (the writer may commit it at once), and uncounted
        // if it never is, even when this future is dropped while waiting for room.
        let counted = DetachedCount::new(&self.inner.signal);
        let sent = match self.inner.tx.try_send(job) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(job)) => self.inner.tx.send(job).await.is_ok(),
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        };
        if sent {
            counted.queued();
        } else {
            tracing::warn!("store closed: a background record was not written");
        }
    }

    /// Stages the audit record of an authentication decision for the writer's next commit
    /// without allocating or waiting (see `audit_stage`). When the stage is full the
    /// record comes back whole, for the caller to queue with [`write_detached`]
    /// (Self::write_detached), which waits for room.
    #[must_use]
    pub fn audit_detached(
        &self,
        rec: &StagedRecord<'_>,
        detail: &dyn std::fmt::Display,
    ) -> Option<crate::audit::AuditEvent> {
        match self.inner.stage.stage(rec, format_args!("{detail}")) {
            audit_stage::Staged::Behind => None,
            audit_stage::Staged::Enough => {
                self.inner.signal.waited_job_queued();
                None
            }
            audit_stage::Staged::First => {
                // The doorbell: an empty job. When the queue is full the writer is busy
                // and takes the stage with its next commit anyway.
                self.inner.signal.detached_job_queued();
                let doorbell = Job {
                    ops: Vec::new(),
                    reply: None,
                    durable: false,
                };
                if self.inner.tx.try_send(doorbell).is_err() {
                    self.inner.signal.detached_job_lost();
                }
                None
            }
            audit_stage::Staged::Full => Some(crate::audit::AuditEvent {
                time_micros: rec.time_micros,
                kind: rec.kind,
                actor: rec.actor.to_string(),
                operation: rec.operation.to_string(),
                target: rec.target.to_string(),
                outcome: rec.outcome,
                detail: detail.to_string(),
                tags: rec.tags.owned(),
            }),
        }
    }

    /// Waits until everything queued before this call is committed and synced.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.write(Vec::new()).await.map(|_| ())
    }

    /// Waits until detached records queued before this call (which the writer may be
    /// holding back to commit in bulk) are visible to readers; free when there are none.
    /// Readers that must see the effects of earlier requests (an administrator's
    /// `audit list` right after a login) call this first.
    pub async fn settle(&self) -> Result<(), StoreError> {
        if self.inner.signal.pending_detached() == 0
            && self.inner.stage.is_empty()
            && !self.inner.signal.staged_in_commit()
        {
            return Ok(());
        }
        self.write_waited(Vec::new(), false).await.map(|_| ())
    }

    /// Stops the writer after it has committed everything queued. Other clones of the
    /// store must be dropped first for the thread to end; this waits at most `grace`.
    pub fn close(self, grace: Duration) {
        let handle = self
            .inner
            .writer_thread
            .lock()
            .ok()
            .and_then(|mut h| h.take());
        drop(self);
        if let Some(h) = handle {
            let deadline = std::time::Instant::now() + grace;
            while !h.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }

    pub(crate) fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = match self.inner.readers.lock().ok().and_then(|mut p| p.pop()) {
            Some(c) => c,
            None => open_conn(&self.inner.path, true)?,
        };
        let result = f(&conn);
        if let Ok(mut pool) = self.inner.readers.lock()
            && pool.len() < 16
        {
            pool.push(conn);
        }
        result
    }

    /// All RADIUS clients with their secrets unsealed.
    ///
    /// # Errors
    /// Database errors, or a secret that does not open with the key file.
    pub fn clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(&format!("{CLIENT_SELECT} ORDER BY name"))?;
            let rows = stmt.query_map([], client_row)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(self.unseal_client(row?)?);
            }
            Ok(out)
        })
    }

    /// One client by name.
    ///
    /// # Errors
    /// Database errors, or a secret that does not open.
    pub fn client(&self, name: &str) -> Result<Option<ClientRecord>, StoreError> {
        self.with_reader(|c| {
            let row = c
                .prepare_cached(&format!("{CLIENT_SELECT} WHERE name = ?1"))?
                .query_row(params![name], client_row)
                .optional()?;
            row.map(|r| self.unseal_client(r)).transpose()
        })
    }

    fn unseal_client(
        &self,
        (mut rec, sealed): (ClientRecord, Vec<u8>),
    ) -> Result<ClientRecord, StoreError> {
        rec.secret = self.inner.sealer.open(&client_aad(&rec.name), &sealed)?;
        Ok(rec)
    }

    /// A user by domain and name, from the cache when user data has not changed since it
    /// was read (the RADIUS path uses this).
    ///
    /// # Errors
    /// Database errors.
    pub fn user_cached(
        &self,
        domain: &str,
        name: &str,
    ) -> Result<Option<Arc<UserRecord>>, StoreError> {
        if let Some(hit) = self.inner.users.get(domain, name) {
            return Ok(hit);
        }
        let read_at = self.inner.users.current();
        let rec = self.user(domain, name)?.map(Arc::new);
        self.inner.users.put(domain, name, read_at, rec.clone());
        Ok(rec)
    }

    /// The users of any domain with this bare name, through the cache: a plain
    /// User-Name must not cost an uncached read on every request.
    ///
    /// # Errors
    /// Database errors.
    pub fn user_named_cached(&self, name: &str) -> Result<NamedUser, StoreError> {
        if let Some(hit) = self.inner.users.get_named(name) {
            return Ok(hit);
        }
        let read_at = self.inner.users.current();
        let mut found = self.users_named(name)?;
        let named = match (found.pop(), found.is_empty()) {
            (None, _) => NamedUser::Nobody,
            (Some(one), true) => NamedUser::One(Arc::new(one)),
            (Some(_), false) => NamedUser::Several,
        };
        self.inner.users.put_named(name, read_at, named.clone());
        Ok(named)
    }

    /// Tells the cache about a last-login time that is being written.
    pub fn note_login(&self, domain: &str, name: &str, at: crate::time::UnixTime) {
        self.inner.users.touch_login(domain, name, at);
    }

    /// A user by domain and name (case-insensitive).
    ///
    /// # Errors
    /// Database errors.
    pub fn user(&self, domain: &str, name: &str) -> Result<Option<UserRecord>, StoreError> {
        self.with_reader(|c| {
            Ok(c.prepare_cached(USER_BY_NAME)?
                .query_row(params![domain, name], user_row)
                .optional()?)
        })
    }

    /// Number of stored accounting events.
    ///
    /// # Errors
    /// Database errors.
    pub fn acct_event_count(&self) -> Result<i64, StoreError> {
        self.with_reader(|c| Ok(c.query_row("SELECT count(*) FROM acct_event", [], |r| r.get(0))?))
    }

    /// The newest `limit` audit records, newest first, optionally of one operation,
    /// whoever may read them: for tests (integration tests included), which look at what
    /// was recorded; administrators read through the scoped `audit_in`.
    ///
    /// # Errors
    /// Database errors.
    pub fn audit_records(
        &self,
        limit: u32,
        operation: Option<&str>,
    ) -> Result<Vec<ChainedRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "{AUDIT_SELECT} WHERE (?2 IS NULL OR operation = ?2) ORDER BY seq DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map(params![limit, operation], audit_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Walks the whole audit chain and compares its end with the recorded head.
    ///
    /// # Errors
    /// `Ok(Err(break))` for a broken chain; `Err` for a database failure.
    pub fn verify_audit(&self) -> Result<Result<u64, ChainBreak>, StoreError> {
        self.with_reader(|c| {
            let head: Option<Vec<u8>> = c
                .query_row("SELECT value FROM meta WHERE key = 'audit_head'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let head = head.and_then(|v| {
                let (seq, hash) = v.split_at_checked(8)?;
                Some((i64::from_be_bytes(seq.try_into().ok()?), hash.to_vec()))
            });
            let mut verifier = Verifier::new(&GENESIS, 1);
            let mut stmt = c.prepare(&format!("{AUDIT_SELECT} ORDER BY seq"))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                if let Err(b) = verifier.push(&audit_row(row)?) {
                    return Ok(Err(b));
                }
            }
            // An empty log with no head is intact; an empty log with a head was emptied.
            Ok(verifier.finish(head.filter(|(seq, _)| *seq > 0)))
        })
    }
}

const CLIENT_SELECT: &str =
    "SELECT name, address, secret_sealed, site, require_message_authenticator,
    rate_limit, created_by, created_at, updated_at FROM radius_client";

fn client_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ClientRecord, Vec<u8>)> {
    Ok((
        ClientRecord {
            name: r.get(0)?,
            address: r.get(1)?,
            secret: Secret::default(),
            site: r.get(3)?,
            require_message_authenticator: r.get(4)?,
            rate_limit: r.get(5)?,
            created_by: r.get(6)?,
            created_at: r.get(7)?,
            updated_at: r.get(8)?,
        },
        r.get(2)?,
    ))
}

macro_rules! user_select {
    () => {
        "SELECT id, domain, name, dn, ou_path, display_name, email, status,
    password_hash, created_by, created_at, updated_at, last_login, ou_key, groups FROM user"
    };
}

pub(crate) const USER_SELECT: &str = user_select!();
/// Spelled out rather than formatted: it runs on every Access-Request.
const USER_BY_NAME: &str = concat!(user_select!(), " WHERE domain = ?1 AND name = ?2");

pub(crate) fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let status: String = r.get(7)?;
    let groups: Vec<String> = r
        .get::<_, Option<String>>(14)?
        .and_then(|g| serde_json::from_str(&g).ok())
        .unwrap_or_default();
    Ok(UserRecord {
        id: r.get(0)?,
        domain: r.get(1)?,
        name: r.get(2)?,
        dn: r.get(3)?,
        ou_path: r.get(4)?,
        display_name: r.get(5)?,
        email: r.get(6)?,
        // An unknown status (a newer build's) is treated as the safest one.
        status: UserStatus::parse(&status).unwrap_or(UserStatus::Disabled),
        password_hash: r.get(8)?,
        created_by: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        last_login: r.get(12)?,
        ou_key: r.get(13)?,
        group_keys: groups
            .iter()
            .map(|g| crate::model::scope::group_key(g))
            .collect(),
        groups,
    })
}

const AUDIT_SELECT: &str = "SELECT seq, time_micros, kind, actor, operation, target, outcome,
    detail, prev_hash, hash, format, admin_id, target_kind, target_id, site, domain, ou_key,
    client, reason_code FROM audit";

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ChainedRecord> {
    Ok(ChainedRecord {
        seq: r.get(0)?,
        event: StoredEvent {
            time_micros: r.get(1)?,
            kind: r.get(2)?,
            actor: r.get(3)?,
            operation: r.get(4)?,
            target: r.get(5)?,
            outcome: r.get(6)?,
            detail: r.get(7)?,
            tags: match r.get::<_, i64>(10)? {
                1 => None,
                _ => Some(Tags {
                    admin_id: r.get(11)?,
                    target_kind: r.get(12)?,
                    target_id: r.get(13)?,
                    site: r.get(14)?,
                    domain: r.get(15)?,
                    ou: r.get(16)?,
                    client: r.get(17)?,
                    reason: r.get(18)?,
                }),
            },
        },
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditEvent, EventKind, Outcome};
    use crate::model::ClientSpec;

    fn ev(i: i64) -> AuditEvent {
        AuditEvent {
            time_micros: i,
            kind: EventKind::System,
            actor: "system".into(),
            operation: "test".into(),
            target: format!("t{i}"),
            outcome: Outcome::Info,
            detail: "{}".into(),
            tags: crate::audit::Tags::default(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_group_commit_and_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let mut handles = Vec::new();
        for i in 0..200 {
            let s = store.clone();
            handles.push(tokio::spawn(async move {
                s.write(vec![WriteOp::Audit(ev(i))]).await
            }));
        }
        for h in handles {
            h.await.unwrap().unwrap();
        }
        assert_eq!(store.verify_audit().unwrap(), Ok(200));
        // A failing job rolls back alone, audit record included.
        let err = store
            .write(vec![
                WriteOp::Audit(ev(1000)),
                WriteOp::DeleteUser {
                    domain: "local".into(),
                    name: "nobody".into(),
                },
            ])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert_eq!(store.verify_audit().unwrap(), Ok(200));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn detached_records_are_visible_after_settle_and_waited_writes_join_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        for i in 0..300 {
            store.write_detached(vec![WriteOp::Audit(ev(i))]).await;
        }
        store.settle().await.unwrap();
        assert_eq!(store.verify_audit().unwrap(), Ok(300));
        assert_eq!(store.inner.signal.pending_detached(), 0);
        // Nothing pending: settling is free and changes nothing.
        store.settle().await.unwrap();
        // A waited write queued behind lingering detached ones commits them too.
        store.write_detached(vec![WriteOp::Audit(ev(300))]).await;
        store.write(vec![WriteOp::Audit(ev(301))]).await.unwrap();
        assert_eq!(store.verify_audit().unwrap(), Ok(302));
        // Staged records: the first rings the doorbell, settling makes them all visible,
        // and they chain like any other.
        for i in 0..50 {
            let rec = StagedRecord {
                time_micros: i,
                kind: EventKind::AuthDecision,
                actor: "radius:sw1",
                operation: "radius.access",
                target: "alice",
                outcome: Outcome::Accept,
                tags: crate::audit::TagFields::default(),
            };
            assert!(
                store
                    .audit_detached(&rec, &format_args!("{{\"n\":{i}}}"))
                    .is_none()
            );
        }
        store.settle().await.unwrap();
        assert!(store.inner.stage.is_empty());
        assert_eq!(store.verify_audit().unwrap(), Ok(352));
        let last = store.audit_records(1, None).unwrap();
        assert_eq!(last[0].event.detail, "{\"n\":49}");
        // Staged without anyone settling: the doorbell alone gets it committed.
        let rec = StagedRecord {
            time_micros: 99,
            kind: EventKind::AuthDecision,
            actor: "radius:sw1",
            operation: "radius.access",
            target: "bob",
            outcome: Outcome::Reject,
            tags: crate::audit::TagFields::default(),
        };
        assert!(store.audit_detached(&rec, &"{}").is_none());
        for _ in 0..200 {
            if store.verify_audit().unwrap() == Ok(353) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("a staged record was not committed without a settle");
    }

    #[tokio::test]
    async fn tampering_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let store = Store::open(&db, &dir.path().join("key")).unwrap();
        for i in 0..5 {
            store.write(vec![WriteOp::Audit(ev(i))]).await.unwrap();
        }
        let raw = Connection::open(&db).unwrap();
        raw.execute("UPDATE audit SET target = 'x' WHERE seq = 3", [])
            .unwrap();
        assert_eq!(
            store.verify_audit().unwrap(),
            Err(ChainBreak::Altered { seq: 3 })
        );
        raw.execute("DELETE FROM audit WHERE seq >= 3", []).unwrap();
        assert!(matches!(
            store.verify_audit().unwrap(),
            Err(ChainBreak::Truncated { .. })
        ));
    }

    #[tokio::test]
    async fn clients_round_trip_with_sealed_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let store = Store::open(&db, &dir.path().join("key")).unwrap();
        let spec = ClientSpec {
            name: "sw1".into(),
            address: "10.0.0.0/8".into(),
            secret: Secret::new(b"s3cret-value".to_vec()),
            site: "HQ".into(),
            require_message_authenticator: true,
            rate_limit: None,
        };
        store
            .write(vec![WriteOp::AddClient {
                spec: spec.clone(),
                created_by: "root".into(),
                allow_more_specific: false,
            }])
            .await
            .unwrap();
        let got = store.client("sw1").unwrap().unwrap();
        assert_eq!(got.secret.expose(), b"s3cret-value");
        let raw = std::fs::read(&db).unwrap_or_default();
        let wal = std::fs::read(dir.path().join("db-wal")).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(
                !bytes.windows(12).any(|w| w == b"s3cret-value"),
                "secret stored in clear"
            );
        }
        let dup = store
            .write(vec![WriteOp::AddClient {
                spec,
                created_by: "root".into(),
                allow_more_specific: false,
            }])
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)));
    }

    /// A RADIUS client's site exists when the writer adds the client or moves it: the
    /// appliance's own site (which has no row) or one added with `site add`.
    #[tokio::test]
    async fn clients_are_added_and_moved_only_to_sites_that_exist() {
        use crate::model::SiteRecord;
        use admin::AdminOp;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        store.set_appliance_site("HQ").unwrap();
        store.set_appliance_site("HQ").unwrap();
        assert!(matches!(
            store.set_appliance_site("Elsewhere"),
            Err(StoreError::Conflict(_))
        ));
        let spec = |name: &str, address: &str, site: &str| ClientSpec {
            name: name.into(),
            address: address.into(),
            secret: Secret::new(b"a-long-enough-secret".to_vec()),
            site: site.into(),
            require_message_authenticator: true,
            rate_limit: None,
        };
        let add = |s: ClientSpec| WriteOp::AddClient {
            spec: s,
            created_by: "root".into(),
            allow_more_specific: false,
        };
        let refused = |r: Result<WriteSummary, StoreError>| match r {
            Err(StoreError::Conflict(m)) => assert!(m.contains("no site named"), "{m}"),
            other => panic!("expected a refusal: {other:?}"),
        };

        store
            .write(vec![add(spec("sw1", "10.0.0.1", "hq"))])
            .await
            .unwrap();
        refused(
            store
                .write(vec![add(spec("sw2", "10.0.0.2", "Branch"))])
                .await,
        );
        assert!(store.client("sw2").unwrap().is_none());
        store
            .write(vec![WriteOp::Admin(AdminOp::PutSite {
                site: SiteRecord {
                    name: "Branch".into(),
                    subnets: Vec::new(),
                    timezone: "UTC".into(),
                    created_by: "root".into(),
                    created_at: 0,
                },
                current_name: None,
            })])
            .await
            .unwrap();
        store
            .write(vec![add(spec("sw2", "10.0.0.2", "branch"))])
            .await
            .unwrap();
        let update = |s: ClientSpec| WriteOp::UpdateClient {
            current_name: s.name.clone(),
            spec: s,
            allow_more_specific: false,
        };
        refused(
            store
                .write(vec![update(spec("sw1", "10.0.0.1", "Nowhere"))])
                .await,
        );
        store
            .write(vec![update(spec("sw1", "10.0.0.1", "Branch"))])
            .await
            .unwrap();
        assert_eq!(store.client("sw1").unwrap().unwrap().site, "Branch");
        // Deleting the site it is at stays refused (the reverse rule).
        let err = store
            .write(vec![WriteOp::Admin(AdminOp::DeleteSite {
                name: "Branch".into(),
            })])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    }

    /// `flush` leaves what was committed under `synchronous = NORMAL` synced even when it
    /// commits nothing itself; commits that wrote rows are synced by SQLite and cost no
    /// sync of the writer's own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flush_syncs_what_detached_commits_left_unsynced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let syncs = || {
            store
                .inner
                .signal
                .explicit_wal_syncs
                .load(std::sync::atomic::Ordering::SeqCst)
        };
        store.flush().await.unwrap();
        assert_eq!(syncs(), 0, "nothing was left unsynced");
        // Committed under NORMAL: settling promises visibility only.
        store.write_detached(vec![WriteOp::Audit(ev(1))]).await;
        store.settle().await.unwrap();
        store.flush().await.unwrap();
        assert_eq!(syncs(), 1);
        store.flush().await.unwrap();
        assert_eq!(syncs(), 1, "paid once");
        // A durable write with rows of its own: SQLite syncs it and what came before.
        store.write_detached(vec![WriteOp::Audit(ev(2))]).await;
        store.settle().await.unwrap();
        store.write(vec![WriteOp::Audit(ev(3))]).await.unwrap();
        store.flush().await.unwrap();
        assert_eq!(syncs(), 1);
        assert_eq!(store.verify_audit().unwrap(), Ok(3));
    }
}
