//! The single writer: one thread owns the write connection and commits jobs in batches.
//!
//! Group commit: every job that arrives while a commit is being synced joins the next
//! transaction, so N concurrent acknowledgements cost one fsync, not N. Each job runs in
//! its own savepoint, so one failing job never takes the rest of its batch down, and a job
//! is all-or-nothing (an admin change and its audit record commit together). A job's reply
//! is sent only after COMMIT returned: that is the "persist, then reply" guarantee.
//!
//! The audit chain head lives here too: the writer is the only appender, so the chain is
//! extended in commit order without locks.
//!
//! After each commit, and before any reply, the writer publishes which tables changed on
//! the change feed (see `feed`), so that whoever is told a change is done finds every
//! cache already following it.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::{mpsc, oneshot};

use super::feed::{ChangeFeed, Table, Tables};
use super::secrets::Sealer;
use super::{StoreError, client_aad};
use crate::audit::AuditEvent;
use crate::audit::chain::{EventFields, GENESIS, record_hash};
use crate::model::IpNet;
use crate::model::names;
use crate::model::scope::canonical_dn;
use crate::model::{AcctRecord, ClientSpec, NewUser, UserChanges, UserStatus};
use crate::time::now_unix;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 1024;

/// How long a batch that nobody waits for (auth-decision audit rows, last-login times)
/// may gather more before it is committed. A transaction has a fixed cost (locks, WAL
/// frames for every page it touches, the chain head) that a lone audit row would pay in
/// full. A job somebody waits for ends the linger at once, so acknowledgements are not
/// delayed by it; so does [`STAGED_ENOUGH`], which keeps busy-time commits small (one
/// commit of thousands of rows takes the writer long enough to delay replies).
const DETACHED_LINGER: Duration = Duration::from_millis(25);

pub(crate) use super::audit_stage::STAGED_ENOUGH;

/// One mutation. A job is a list of them, applied all-or-nothing.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // short-lived, moved once into the writer
pub enum WriteOp {
    /// `allow_more_specific`: the address may lie strictly inside another client's
    /// network (the administrator asked for it, with a scope covering both).
    AddClient {
        spec: ClientSpec,
        created_by: String,
        allow_more_specific: bool,
    },
    UpdateClient {
        current_name: String,
        spec: ClientSpec,
        allow_more_specific: bool,
    },
    DeleteClient {
        name: String,
    },
    AddUsers {
        users: Vec<NewUser>,
        created_by: String,
    },
    UpdateUser {
        domain: String,
        name: String,
        changes: UserChanges,
    },
    SetUserStatus {
        domain: String,
        name: String,
        status: UserStatus,
    },
    SetPasswordHash {
        domain: String,
        name: String,
        hash: String,
    },
    DeleteUser {
        domain: String,
        name: String,
    },
    /// A successful login; `rehash` replaces a legacy hash when it is still the one verified.
    RecordLogin {
        user_id: i64,
        verified_hash: String,
        rehash: Option<String>,
    },
    Accounting(AcctRecord),
    Audit(AuditEvent),
    Directory(super::directory::DirectoryOp),
    Admin(super::admin::AdminOp),
    Policy(super::policy::PolicyOp),
}

impl WriteOp {
    /// The tables whose followers must see this op. A last-login update without a rehash
    /// does not count: the request path updates the cached record itself.
    fn tables(&self) -> Tables {
        use super::admin::AdminOp as A;
        use super::directory::DirectoryOp as D;
        use super::policy::PolicyOp as P;
        match self {
            WriteOp::AddUsers { .. }
            | WriteOp::UpdateUser { .. }
            | WriteOp::SetUserStatus { .. }
            | WriteOp::SetPasswordHash { .. }
            | WriteOp::DeleteUser { .. } => Tables::of(&[Table::Users]),
            WriteOp::RecordLogin { rehash, .. } => {
                if rehash.is_some() {
                    Tables::of(&[Table::Users])
                } else {
                    Tables::NONE
                }
            }
            WriteOp::AddClient { .. }
            | WriteOp::UpdateClient { .. }
            | WriteOp::DeleteClient { .. } => Tables::of(&[Table::Clients]),
            WriteOp::Accounting(_) | WriteOp::Audit(_) => Tables::NONE,
            WriteOp::Directory(op) => match op {
                D::AddCert { .. } | D::DeleteCert { .. } => Tables::of(&[Table::Certs]),
                D::AddDirectory { .. } | D::UpdateDirectory { .. } => {
                    Tables::of(&[Table::Directories])
                }
                D::DeleteDirectory { .. } => Tables::of(&[Table::Directories, Table::Users]),
                D::ApplySync { .. } => Tables::of(&[Table::Users]),
                D::RecordRun(_) => Tables::NONE,
            },
            WriteOp::Admin(op) => match op {
                A::PutRole { .. } | A::DeleteRole { .. } => Tables::of(&[Table::Roles]),
                A::AddAdmin { .. }
                | A::SetAdminRole { .. }
                | A::SetAdminEnabled { .. }
                | A::RemoveAdmin { .. } => Tables::of(&[Table::Admins]),
                A::PutSite { .. } | A::DeleteSite { .. } => {
                    Tables::of(&[Table::Sites, Table::Computers])
                }
                A::SetLockdown(_) => Tables::of(&[Table::Settings]),
            },
            // Sightings, failures and hit counts are written through by the request path
            // that made them: its caches already hold them, and a flood of new computers
            // must not make every request rebuild a table.
            WriteOp::Policy(op) => match op {
                P::PutPolicy { .. }
                | P::DeletePolicy { .. }
                | P::Assign { .. }
                | P::Unassign { .. }
                | P::AddRule { .. }
                | P::EditRule { .. }
                | P::MoveRule { .. }
                | P::DeleteRule { .. } => Tables::of(&[Table::Policies]),
                P::EditComputer { .. }
                | P::AssignComputer { .. }
                | P::ApplyRuleRun { .. }
                | P::DeleteComputer { .. }
                | P::PurgeComputers { .. } => Tables::of(&[Table::Computers]),
                P::Unlock { .. } => Tables::of(&[Table::Lockouts, Table::Users]),
                P::Sightings(_)
                | P::RecordFailure { .. }
                | P::ClearFailures { .. }
                | P::AddHits(_) => Tables::NONE,
            },
        }
    }

    /// Whether applying this op executes exactly one SQL statement.
    fn is_single_statement(&self) -> bool {
        matches!(
            self,
            WriteOp::Audit(_)
                | WriteOp::RecordLogin { .. }
                | WriteOp::SetUserStatus { .. }
                | WriteOp::SetPasswordHash { .. }
                | WriteOp::DeleteUser { .. }
                | WriteOp::UpdateUser { .. }
                | WriteOp::DeleteClient { .. }
        )
    }
}

/// What a job changed, for replies such as "3 users imported".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteSummary {
    pub rows: u64,
}

pub(crate) struct Job {
    pub(crate) ops: Vec<WriteOp>,
    pub(crate) reply: Option<oneshot::Sender<Result<WriteSummary, StoreError>>>,
    /// Whether the reply promises durability (the WAL synced), or only visibility.
    pub(crate) durable: bool,
}

/// Shared between the writer and the store's senders: lets a job somebody waits for cut a
/// linger short, and tells readers whether detached jobs are still on their way.
#[derive(Debug, Default)]
pub(crate) struct WriterSignal {
    lingering: AtomicBool,
    thread: OnceLock<std::thread::Thread>,
    pending_detached: AtomicU64,
    /// Staged audit records have been taken into a commit that has not finished.
    staged_in_commit: AtomicBool,
    /// WAL syncs the writer made itself (see [`WalDebt`]), for tests to count.
    #[cfg(test)]
    pub(crate) explicit_wal_syncs: AtomicU64,
}

impl WriterSignal {
    /// Called after queueing a job somebody waits for, or when the stage has filled up.
    pub(crate) fn waited_job_queued(&self) {
        // Pairs with the fence in `linger`: the channel's own ordering is only
        // acquire/release, and either this side sees the flag or the writer sees the job.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.lingering.load(Ordering::SeqCst)
            && let Some(t) = self.thread.get()
        {
            t.unpark();
        }
    }

    pub(crate) fn detached_job_queued(&self) {
        self.pending_detached.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn detached_job_lost(&self) {
        self.pending_detached.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether records taken from the audit stage are in a commit still running. Read
    /// after the stage itself: the flag is raised before the stage is taken.
    pub(crate) fn staged_in_commit(&self) -> bool {
        self.staged_in_commit.load(Ordering::SeqCst)
    }

    /// Detached jobs queued but not yet committed.
    pub(crate) fn pending_detached(&self) -> u64 {
        self.pending_detached.load(Ordering::SeqCst)
    }
}

pub(crate) struct Writer {
    conn: Connection,
    signal: Arc<WriterSignal>,
    stage: Arc<super::audit_stage::AuditStage>,
    /// The buffer the stage gets back when it is taken, so neither side reallocates.
    spare_stage: Vec<u8>,
    sealer: std::sync::Arc<Sealer>,
    appliance_site: Arc<OnceLock<String>>,
    head: ChainHead,
    synced_commits: bool,
    wal_debt: WalDebt,
    feed: Arc<ChangeFeed>,
}

/// Whether commits made with `synchronous = NORMAL` may have left WAL frames unsynced.
///
/// A commit under FULL syncs the WAL only when it writes frames of its own; one that
/// changed nothing (a [`flush`](super::Store::flush), a batch whose jobs all failed)
/// writes none, and SQLite then syncs nothing, leaving earlier NORMAL frames where a
/// power cut loses them although the reply says they are durable. The writer syncs the
/// WAL itself in exactly that case, so a commit that wrote frames (every acknowledged
/// accounting record, every admin change) pays nothing more than it did.
#[derive(Debug, Default)]
struct WalDebt {
    unsynced: bool,
}

impl WalDebt {
    /// Notes a commit (`full`: under FULL; `wrote`: it changed rows, which is taken for
    /// having written frames — an update to identical bytes may write none, and then
    /// vouches for nothing that was not already synced or in its own frames). True when
    /// the WAL must now be synced explicitly, then [`paid`](Self::paid).
    fn committed(&mut self, full: bool, wrote: bool) -> bool {
        match (full, wrote) {
            (false, wrote) => {
                self.unsynced |= wrote;
                false
            }
            // SQLite synced the WAL, earlier frames with this commit's.
            (true, true) => {
                self.unsynced = false;
                false
            }
            (true, false) => self.unsynced,
        }
    }

    fn paid(&mut self) {
        self.unsynced = false;
    }
}

/// Syncs the database's WAL file, as SQLite does at a commit under FULL.
fn sync_wal(conn: &Connection) -> Result<(), StoreError> {
    let Some(db) = conn.path().filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let wal = format!("{db}-wal");
    let failed = |e: std::io::Error| StoreError::CommitFailed(format!("syncing {wal}: {e}"));
    match std::fs::File::open(&wal) {
        Ok(f) => f.sync_data().map_err(failed),
        // Only a checkpoint that synced its frames into the database removes it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(failed(e)),
    }
}

#[derive(Clone, Copy, Debug)]
struct ChainHead {
    seq: i64,
    hash: [u8; 32],
}

/// A stored hash as the next record's link. One of another length (only an edited
/// database has one) links as zero-padded, so the next record fails verification there
/// instead of the daemon refusing to start.
fn hash_array(stored: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if stored.len() != out.len() {
        tracing::warn!(
            len = stored.len(),
            "the last audit record's hash has the wrong length; audit verify will report it"
        );
    }
    for (o, b) in out.iter_mut().zip(stored) {
        *o = *b;
    }
    out
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        signal: Arc<WriterSignal>,
        stage: Arc<super::audit_stage::AuditStage>,
        sealer: std::sync::Arc<Sealer>,
        appliance_site: Arc<OnceLock<String>>,
        feed: Arc<ChangeFeed>,
    ) -> Result<Self, StoreError> {
        let head = conn
            .query_row(
                "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(ChainHead {
                        seq: r.get(0)?,
                        hash: hash_array(&r.get::<_, Vec<u8>>(1)?),
                    })
                },
            )
            .optional()?
            .unwrap_or(ChainHead {
                seq: 0,
                hash: GENESIS,
            });
        Ok(Self {
            conn,
            signal,
            stage,
            spare_stage: Vec::new(),
            sealer,
            appliance_site,
            head,
            synced_commits: true,
            wal_debt: WalDebt::default(),
            feed,
        })
    }

    /// Runs until every sender is gone, then returns (after committing what it received).
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        let _ = self.signal.thread.set(std::thread::current());
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            let closed = drain(&mut rx, &mut batch);
            if !closed && batch.len() < MAX_BATCH && batch.iter().all(|j| j.reply.is_none()) {
                self.linger(&mut rx, &mut batch);
            }
            self.commit_batch(batch);
        }
    }

    /// Gathers more jobs into a batch nobody waits for, until [`DETACHED_LINGER`] has
    /// passed, the batch is full, enough audit records are staged, a waited-for job
    /// arrives or the senders are gone.
    fn linger(&self, rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
        let deadline = Instant::now() + DETACHED_LINGER;
        // Set before draining: a waited job queued after the drain sees the flag and
        // unparks us (the unpark token outlives a park that has not started yet).
        self.signal.lingering.store(true, Ordering::SeqCst);
        std::sync::atomic::fence(Ordering::SeqCst);
        loop {
            let seen = batch.len();
            let closed = drain(rx, batch);
            if closed
                || batch.len() >= MAX_BATCH
                || batch
                    .get(seen..)
                    .is_some_and(|new| new.iter().any(|j| j.reply.is_some()))
            {
                break;
            }
            // The request path unparks us when the stage fills up (see `audit_detached`).
            if self.stage.staged_bytes() >= STAGED_ENOUGH {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            std::thread::park_timeout(deadline - now);
        }
        self.signal.lingering.store(false, Ordering::SeqCst);
    }

    /// Makes this batch's commit sync the WAL only when someone waits for it. A later
    /// synced commit flushes the earlier frames too, so records nobody was told about
    /// (auth-decision audit rows, last-login times) reach the disk with the next
    /// acknowledged write, or at the next checkpoint, instead of costing an fsync each.
    fn set_sync(&mut self, full: bool) -> Result<(), StoreError> {
        if self.synced_commits != full {
            self.conn
                .pragma_update(None, "synchronous", if full { "FULL" } else { "NORMAL" })?;
            self.synced_commits = full;
        }
        Ok(())
    }

    fn commit_batch(&mut self, batch: Vec<Job>) {
        let detached = batch.iter().filter(|j| j.reply.is_none()).count() as u64;
        let head_before = self.head;
        let changes_before = self.conn.total_changes();
        let mut results = Vec::with_capacity(batch.len());
        let someone_waits = batch.iter().any(|j| j.reply.is_some() && j.durable);
        // Taken after the batch's jobs were gathered: a record staged before any of them
        // (a doorbell, a settle) is in it.
        self.signal.staged_in_commit.store(true, Ordering::SeqCst);
        let staged = self.stage.take(std::mem::take(&mut self.spare_stage));
        let mut staged_written = staged.is_empty();
        let outcome = (|| -> Result<(), StoreError> {
            self.set_sync(someone_waits)?;
            let mut tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if !staged.is_empty() {
                let records = super::audit_stage::records(&staged);
                let staged_head = self.head;
                let sp = tx.savepoint()?;
                match insert_audit_rows(&sp, &mut self.head, &records) {
                    Ok(()) => {
                        sp.commit()?;
                        staged_written = true;
                    }
                    Err(e) => {
                        drop(sp);
                        self.head = staged_head;
                        tracing::error!(error = %e, records = records.len(), "staged audit records not written; kept for the next commit");
                        still_in_transaction(&tx)?;
                    }
                }
            }
            let mut next = 0;
            while let Some(job) = batch.get(next) {
                // Runs of lone audit records (every authentication decision is one) go in
                // multi-row INSERTs: one statement execution per chunk instead of per row.
                let run = batch
                    .get(next..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|j| lone_audit(j).is_some())
                    .count();
                if run >= 2 {
                    let events: Vec<EventFields<'_>> = batch
                        .get(next..next + run)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(lone_audit)
                        .map(AuditEvent::fields)
                        .collect();
                    let run_head = self.head;
                    // A failure in a later chunk must undo the earlier ones too.
                    let sp = tx.savepoint()?;
                    match insert_audit_rows(&sp, &mut self.head, &events) {
                        Ok(()) => {
                            sp.commit()?;
                            results.extend(events.iter().map(|_| Ok(WriteSummary { rows: 1 })));
                        }
                        Err(e) => {
                            drop(sp);
                            self.head = run_head;
                            still_in_transaction(&tx)?;
                            let why = e.to_string();
                            results.extend(
                                events
                                    .iter()
                                    .map(|_| Err(StoreError::CommitFailed(why.clone()))),
                            );
                        }
                    }
                    next += run;
                    continue;
                }
                next += 1;
                let job_head = self.head;
                // A single statement is atomic by itself; several need a savepoint so
                // that a failure undoes the ones before it.
                if job.ops.len() <= 1 && job.ops.iter().all(WriteOp::is_single_statement) {
                    let r = apply_all(
                        &tx,
                        &Rules::of(&self.sealer, &self.appliance_site),
                        &mut self.head,
                        &job.ops,
                    );
                    if r.is_err() {
                        self.head = job_head;
                        still_in_transaction(&tx)?;
                    }
                    results.push(r);
                    continue;
                }
                let sp = tx.savepoint()?;
                let r = apply_all(
                    &sp,
                    &Rules::of(&self.sealer, &self.appliance_site),
                    &mut self.head,
                    &job.ops,
                );
                match r {
                    Ok(summary) => {
                        sp.commit()?;
                        results.push(Ok(summary));
                    }
                    Err(e) => {
                        drop(sp); // rolls the savepoint back
                        self.head = job_head;
                        still_in_transaction(&tx)?;
                        results.push(Err(e));
                    }
                }
            }
            if self.head.seq != head_before.seq {
                update_head_meta(&mut tx, &self.head)?;
            }
            tx.commit()?;
            let wrote = self.conn.total_changes() != changes_before;
            if self.wal_debt.committed(someone_waits, wrote) {
                sync_wal(&self.conn)?;
                self.wal_debt.paid();
                #[cfg(test)]
                self.signal
                    .explicit_wal_syncs
                    .fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        })();
        // Before any reply: whoever is told this batch is done may rely on these.
        self.signal
            .pending_detached
            .fetch_sub(detached, Ordering::SeqCst);
        if outcome.is_ok() && staged_written {
            self.spare_stage = staged;
        } else {
            // Nobody was told about these records: they go back to the front of the
            // stage, for the next commit.
            self.stage.put_back(staged);
        }
        self.signal.staged_in_commit.store(false, Ordering::SeqCst);
        if let Err(e) = outcome {
            tracing::error!(error = %e, jobs = batch.len(), "store commit failed");
            self.head = head_before;
            for job in batch {
                if let Some(reply) = job.reply {
                    let _ = reply.send(Err(StoreError::CommitFailed(e.to_string())));
                }
            }
            return;
        }
        let changed = batch
            .iter()
            .zip(&results)
            .filter(|(_, r)| r.is_ok())
            .flat_map(|(j, _)| j.ops.iter().map(WriteOp::tables))
            .fold(Tables::NONE, Tables::with);
        if !changed.is_empty() {
            self.feed.publish(changed);
        }
        for (job, result) in batch.into_iter().zip(results) {
            match job.reply {
                Some(reply) => {
                    let _ = reply.send(result);
                }
                None => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "background write failed");
                    }
                }
            }
        }
    }
}

/// Rows per multi-row audit INSERT (19 parameters each, far below SQLite's limit).
const AUDIT_ROWS_PER_INSERT: usize = 32;

/// Parameters per audit row.
const AUDIT_PARAMS: usize = 19;

const AUDIT_COLUMNS: &str = "INSERT INTO audit (seq, time_micros, kind, actor, operation,
   target, outcome, detail, prev_hash, hash, format, admin_id, target_kind, target_id, site,
   domain, ou_key, client, reason_code) VALUES ";
const AUDIT_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

fn audit_insert_sql(rows: usize) -> String {
    let mut sql = String::from(AUDIT_COLUMNS);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(AUDIT_ROW);
    }
    sql
}

/// The event of a job that is exactly one audit record.
fn lone_audit(job: &Job) -> Option<&AuditEvent> {
    match job.ops.as_slice() {
        [WriteOp::Audit(event)] => Some(event),
        _ => None,
    }
}

/// Appends `events` to the chain after `head`, advancing it.
fn insert_audit_rows(
    tx: &Connection,
    head: &mut ChainHead,
    events: &[EventFields<'_>],
) -> Result<(), StoreError> {
    static FULL_CHUNK_SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let full_sql = FULL_CHUNK_SQL.get_or_init(|| audit_insert_sql(AUDIT_ROWS_PER_INSERT));
    for chunk in events.chunks(AUDIT_ROWS_PER_INSERT) {
        let sql = if chunk.len() == AUDIT_ROWS_PER_INSERT {
            full_sql.as_str()
        } else {
            audit_insert_one()
        };
        if chunk.len() < AUDIT_ROWS_PER_INSERT {
            for event in chunk {
                let mut stmt = tx.prepare_cached(sql)?;
                bind_audit_row(&mut stmt, 0, head, *event)?;
                stmt.raw_execute()?;
            }
            continue;
        }
        let mut stmt = tx.prepare_cached(sql)?;
        for (row, event) in chunk.iter().enumerate() {
            bind_audit_row(&mut stmt, row, head, *event)?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

fn audit_insert_one() -> &'static str {
    static ONE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ONE.get_or_init(|| audit_insert_sql(1))
}

/// Binds `event` as row `row` of an audit INSERT and advances the chain head to it.
fn bind_audit_row(
    stmt: &mut rusqlite::CachedStatement<'_>,
    row: usize,
    head: &mut ChainHead,
    fields: EventFields<'_>,
) -> Result<(), StoreError> {
    let seq = head.seq + 1;
    // Every record written now is format 2, its tags hashed; format 1 is only ever read.
    let tags = fields.tags.unwrap_or_default();
    let fields = EventFields {
        tags: Some(tags),
        ..fields
    };
    let hash = record_hash(&head.hash, seq, fields);
    let first = row * AUDIT_PARAMS + 1;
    stmt.raw_bind_parameter(first, seq)?;
    stmt.raw_bind_parameter(first + 1, fields.time_micros)?;
    stmt.raw_bind_parameter(first + 2, fields.kind)?;
    stmt.raw_bind_parameter(first + 3, fields.actor)?;
    stmt.raw_bind_parameter(first + 4, fields.operation)?;
    stmt.raw_bind_parameter(first + 5, fields.target)?;
    stmt.raw_bind_parameter(first + 6, fields.outcome)?;
    stmt.raw_bind_parameter(first + 7, fields.detail)?;
    stmt.raw_bind_parameter(first + 8, head.hash.as_slice())?;
    stmt.raw_bind_parameter(first + 9, hash.as_slice())?;
    stmt.raw_bind_parameter(first + 10, 2)?;
    stmt.raw_bind_parameter(first + 11, tags.admin_id)?;
    for (i, tag) in tags.texts().into_iter().enumerate() {
        stmt.raw_bind_parameter(first + 12 + i, tag)?;
    }
    *head = ChainHead { seq, hash };
    Ok(())
}

/// Moves whatever is queued into `batch` (up to [`MAX_BATCH`]); true when every sender is
/// gone.
fn drain(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) -> bool {
    while batch.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(mpsc::error::TryRecvError::Empty) => return false,
            Err(mpsc::error::TryRecvError::Disconnected) => return true,
        }
    }
    false
}

/// Some errors (disk full, I/O, out of memory) make SQLite roll the whole transaction
/// back. Going on would run every later statement in autocommit, each committing alone,
/// with the chain head no longer matching the rows: the batch must fail as a whole.
fn still_in_transaction(tx: &Connection) -> Result<(), StoreError> {
    if tx.is_autocommit() {
        return Err(StoreError::CommitFailed(
            "SQLite rolled the transaction back".into(),
        ));
    }
    Ok(())
}

fn update_head_meta(tx: &mut Transaction<'_>, head: &ChainHead) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('audit_head', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![encode_head(head.seq, &head.hash)],
    )?;
    Ok(())
}

pub(crate) fn encode_head(seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut v = seq.to_be_bytes().to_vec();
    v.extend_from_slice(hash);
    v
}

/// What applying an op needs besides the transaction.
struct Rules<'a> {
    sealer: &'a Sealer,
    /// The appliance's own site, which clients may use without a `site` row; `None`
    /// until the store is told it (see [`Store::set_appliance_site`](super::Store::set_appliance_site)).
    appliance_site: Option<&'a str>,
}

impl<'a> Rules<'a> {
    fn of(sealer: &'a Sealer, appliance_site: &'a OnceLock<String>) -> Self {
        Self {
            sealer,
            appliance_site: appliance_site.get().map(String::as_str),
        }
    }
}

fn apply_all(
    tx: &Connection,
    rules: &Rules<'_>,
    head: &mut ChainHead,
    ops: &[WriteOp],
) -> Result<WriteSummary, StoreError> {
    let mut summary = WriteSummary::default();
    for op in ops {
        summary.rows += apply(tx, rules, head, op)?;
    }
    Ok(summary)
}

pub(crate) fn one_row(n: usize, what: impl FnOnce() -> String) -> Result<u64, StoreError> {
    if n == 0 {
        Err(StoreError::NotFound(what()))
    } else {
        Ok(n as u64)
    }
}

fn apply(
    tx: &Connection,
    rules: &Rules<'_>,
    head: &mut ChainHead,
    op: &WriteOp,
) -> Result<u64, StoreError> {
    let sealer = rules.sealer;
    let now = now_unix();
    match op {
        WriteOp::AddClient {
            spec,
            created_by,
            allow_more_specific,
        } => {
            check_site_exists(tx, &spec.site, rules.appliance_site)?;
            check_address_free(tx, &spec.address, None, *allow_more_specific)?;
            let sealed = sealer.seal(&client_aad(&spec.name), spec.secret.expose())?;
            tx.execute(
                "INSERT INTO radius_client (name, address, secret_sealed, site,
                   require_message_authenticator, rate_limit, created_by, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    spec.name,
                    spec.address,
                    sealed,
                    spec.site,
                    spec.require_message_authenticator,
                    spec.rate_limit,
                    created_by,
                    now
                ],
            )
            .map_err(|e| conflict(e, || format!("client {} already exists", spec.name)))?;
            Ok(1)
        }
        WriteOp::UpdateClient {
            current_name,
            spec,
            allow_more_specific,
        } => {
            let site_now: Option<String> = tx
                .prepare_cached("SELECT site FROM radius_client WHERE name = ?1")?
                .query_row(params![current_name], |r| r.get(0))
                .optional()?;
            // A client may stay at a site that has since stopped being one (the
            // appliance's own, renamed in the configuration); it may not move to one.
            if site_now.is_some_and(|now| !now.eq_ignore_ascii_case(&spec.site)) {
                check_site_exists(tx, &spec.site, rules.appliance_site)?;
            }
            check_address_free(tx, &spec.address, Some(current_name), *allow_more_specific)?;
            let sealed = sealer.seal(&client_aad(&spec.name), spec.secret.expose())?;
            let n = tx
                .execute(
                    "UPDATE radius_client SET name = ?2, address = ?3, secret_sealed = ?4,
                       site = ?5, require_message_authenticator = ?6, rate_limit = ?7,
                       updated_at = ?8
                     WHERE name = ?1",
                    params![
                        current_name,
                        spec.name,
                        spec.address,
                        sealed,
                        spec.site,
                        spec.require_message_authenticator,
                        spec.rate_limit,
                        now
                    ],
                )
                .map_err(|e| conflict(e, || format!("client {} already exists", spec.name)))?;
            one_row(n, || format!("client {current_name}"))
        }
        WriteOp::DeleteClient { name } => {
            let n = tx.execute("DELETE FROM radius_client WHERE name = ?1", params![name])?;
            one_row(n, || format!("client {name}"))
        }
        WriteOp::AddUsers { users, created_by } => {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO user (domain, name, display_name, email, status, password_hash,
                   created_by, created_at, updated_at, ou_path, ou_key, name_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)",
            )?;
            let mut alike = tx.prepare_cached(
                "SELECT name FROM user WHERE domain = ?1 AND name_key = ?2 AND name <> ?3 LIMIT 1",
            )?;
            for u in users {
                // A name that looks like an existing one (case, script, composition) is
                // refused: people would take one for the other.
                let key = names::key(&u.name);
                if let Some(existing) = alike
                    .query_row(params![u.domain, key, u.name], |r| r.get::<_, String>(0))
                    .optional()?
                {
                    return Err(StoreError::Conflict(format!(
                        "user {}\\{} looks like the existing user {existing}",
                        u.domain, u.name
                    )));
                }
                stmt.execute(params![
                    u.domain,
                    u.name,
                    u.display_name,
                    u.email,
                    u.status.as_str(),
                    u.password_hash,
                    created_by,
                    now,
                    u.ou_path,
                    u.ou_path.as_deref().and_then(canonical_dn),
                    key
                ])
                .map_err(|e| {
                    conflict(e, || {
                        format!("user {}\\{} already exists", u.domain, u.name)
                    })
                })?;
            }
            Ok(users.len() as u64)
        }
        WriteOp::UpdateUser {
            domain,
            name,
            changes,
        } => {
            let n = tx.execute(
                "UPDATE user SET display_name = COALESCE(?3, display_name),
                   email = COALESCE(?4, email), updated_at = ?5
                 WHERE domain = ?1 AND name = ?2",
                params![domain, name, changes.display_name, changes.email, now],
            )?;
            one_row(n, || format!("user {domain}\\{name}"))
        }
        WriteOp::SetUserStatus {
            domain,
            name,
            status,
        } => {
            let n = tx.execute(
                "UPDATE user SET status = ?3, updated_at = ?4 WHERE domain = ?1 AND name = ?2",
                params![domain, name, status.as_str(), now],
            )?;
            one_row(n, || format!("user {domain}\\{name}"))
        }
        WriteOp::SetPasswordHash { domain, name, hash } => {
            let n = tx.execute(
                "UPDATE user SET password_hash = ?3, updated_at = ?4
                 WHERE domain = ?1 AND name = ?2",
                params![domain, name, hash, now],
            )?;
            one_row(n, || format!("user {domain}\\{name}"))
        }
        WriteOp::DeleteUser { domain, name } => {
            let n = tx.execute(
                "DELETE FROM user WHERE domain = ?1 AND name = ?2",
                params![domain, name],
            )?;
            one_row(n, || format!("user {domain}\\{name}"))
        }
        WriteOp::RecordLogin {
            user_id,
            verified_hash,
            rehash,
        } => {
            // The hash is replaced only if it is still the one that was verified, so a
            // password set meanwhile by an administrator is never overwritten.
            let n = tx.execute(
                "UPDATE user SET last_login = ?2,
                   password_hash = CASE WHEN password_hash = ?3 AND ?4 IS NOT NULL
                                        THEN ?4 ELSE password_hash END
                 WHERE id = ?1",
                params![user_id, now, verified_hash, rehash],
            )?;
            Ok(n as u64)
        }
        WriteOp::Accounting(rec) => {
            tx.prepare_cached(
                "INSERT INTO acct_event (received_at, client, status_type, session_id,
                   user_name, attributes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                rec.received_at,
                rec.client,
                rec.status_type,
                rec.session_id,
                rec.user_name,
                rec.attributes
            ])?;
            if let Some(session_id) = &rec.session_id {
                upsert_session(tx, rec, session_id)?;
            }
            Ok(1)
        }
        WriteOp::Directory(op) => super::directory::apply(tx, sealer, op),
        WriteOp::Admin(op) => super::admin::apply(tx, op),
        WriteOp::Policy(op) => super::policy::apply(tx, op),
        WriteOp::Audit(event) => {
            let mut stmt = tx.prepare_cached(audit_insert_one())?;
            bind_audit_row(&mut stmt, 0, head, event.fields())?;
            stmt.raw_execute()?;
            Ok(1)
        }
    }
}

/// A client belongs to a site that exists: one added with `site add`, or the appliance's
/// own, which has no row. Decided here, against committed rows, so that a client cannot
/// be added at a site that is being deleted (the delete refuses a site that has clients,
/// the same way). Until the store is told the appliance's site there is nothing to tell
/// its clients from others by, and any site is taken: the daemon tells it before it
/// serves anything; a store opened by itself (tools, tests) is not told.
fn check_site_exists(
    tx: &Connection,
    site: &str,
    appliance_site: Option<&str>,
) -> Result<(), StoreError> {
    let Some(own) = appliance_site else {
        return Ok(());
    };
    if site.eq_ignore_ascii_case(own)
        || tx
            .prepare_cached("SELECT 1 FROM site WHERE name = ?1")?
            .exists(params![site])?
    {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "site: no site named {site} (gatehousectl site add {site})"
    )))
}

/// A client's address must not be another client's, nor overlap another's network —
/// unless it lies strictly inside it and that was asked for — so that every source
/// address belongs to exactly one client. Decided here, against committed rows, so that
/// two concurrent additions cannot both take one address.
fn check_address_free(
    tx: &Connection,
    address: &str,
    except: Option<&str>,
    allow_more_specific: bool,
) -> Result<(), StoreError> {
    let Ok(new) = address.parse::<IpNet>() else {
        return Err(StoreError::Conflict(format!(
            "`{address}` is not an address"
        )));
    };
    let mut stmt = tx.prepare_cached("SELECT name, address FROM radius_client")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (name, other) = row?;
        if except.is_some_and(|e| e.eq_ignore_ascii_case(&name)) {
            continue;
        }
        let Ok(other_net) = other.parse::<IpNet>() else {
            continue;
        };
        if !new.overlaps(&other_net) {
            continue;
        }
        let nested = other_net.covers(&new) && other_net != new;
        if !(nested && allow_more_specific) {
            return Err(StoreError::Conflict(format!(
                "address {address} overlaps another client's ({other})"
            )));
        }
    }
    Ok(())
}

/// RFC 2866 Acct-Status-Type values.
const ACCT_START: u32 = 1;
const ACCT_STOP: u32 = 2;

fn upsert_session(tx: &Connection, rec: &AcctRecord, session_id: &str) -> Result<(), StoreError> {
    let started = (rec.status_type == Some(ACCT_START)).then_some(rec.received_at);
    let stopped = (rec.status_type == Some(ACCT_STOP)).then_some(rec.received_at);
    tx.prepare_cached(
        "INSERT INTO acct_session (client, session_id, user_name, started_at, updated_at,
           stopped_at, session_time, input_octets, output_octets)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (client, session_id) DO UPDATE SET
           user_name = COALESCE(excluded.user_name, user_name),
           started_at = COALESCE(started_at, excluded.started_at),
           updated_at = excluded.updated_at,
           stopped_at = COALESCE(excluded.stopped_at, stopped_at),
           session_time = COALESCE(excluded.session_time, session_time),
           input_octets = COALESCE(excluded.input_octets, input_octets),
           output_octets = COALESCE(excluded.output_octets, output_octets)",
    )?
    .execute(params![
        rec.client,
        session_id,
        rec.user_name,
        started,
        rec.received_at,
        stopped,
        rec.session_time,
        rec.input_octets,
        rec.output_octets
    ])?;
    Ok(())
}

pub(crate) fn conflict(e: rusqlite::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(what())
        }
        _ => StoreError::Sqlite(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_commit_that_wrote_nothing_owes_the_sync_of_earlier_normal_ones() {
        let mut debt = WalDebt::default();
        // Nothing committed under NORMAL yet: an empty durable commit owes nothing.
        assert!(!debt.committed(true, false));
        // An empty NORMAL commit leaves no frames behind.
        assert!(!debt.committed(false, false));
        assert!(!debt.committed(true, false));
        // NORMAL frames, then an empty durable commit: it must sync them.
        assert!(!debt.committed(false, true));
        assert!(debt.committed(true, false));
        // Until the sync is made, the debt stands.
        assert!(debt.committed(true, false));
        debt.paid();
        assert!(!debt.committed(true, false));
        // A durable commit that wrote frames was synced by SQLite, earlier frames too.
        assert!(!debt.committed(false, true));
        assert!(!debt.committed(true, true));
        assert!(!debt.committed(true, false));
    }
}
