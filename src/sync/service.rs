//! Orchestration of directory work: building connectors from stored specs and trusted
//! certificates, preparing sync runs (fetch → map → plan, one per directory at a time)
//! and testing connections.
//!
//! `prepare` never writes: it returns the plan and the write operations, and the caller
//! commits them in one job — through the admin permit (so the audit record is part of the
//! same transaction) or as the scheduler. A run that fails before the commit changes no
//! stored user.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::directory::ldap::{Connector, LdapFailure};
use crate::directory::map::{DirectoryUser, MapError, map_entry};
use crate::directory::plan::{Guard, Mode, PlanError, SyncPlan, plan};
use crate::directory::spec::DirectorySpec;
use crate::store::directory::{DirectoryOp, DirectoryRecord, SyncRunRecord};
use crate::store::{Store, StoreError, WriteOp};
use crate::time::{Clock, UnixTime};
use crate::tls::client::TlsError;

/// Changes listed in a preview or sync reply; the counts always cover all of them.
pub const PLAN_SAMPLE: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("directory {0} not found")]
    NotFound(String),
    #[error("a sync of {0} is already running")]
    AlreadyRunning(String),
    #[error("trusted certificate {0} not found (see `gatehousectl cert list`)")]
    UnknownCert(String),
    #[error(transparent)]
    Ldap(#[from] LdapFailure),
    #[error(transparent)]
    Map(#[from] MapError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Live progress of a run, readable by `directory status`.
#[derive(Debug, Default)]
pub struct Progress {
    pub entries: AtomicU64,
    pub pages: AtomicU64,
    pub started_at: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Scheduled,
    Preview,
}

impl Trigger {
    fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Scheduled => "scheduled",
            Trigger::Preview => "preview",
        }
    }
}

/// A prepared run: the plan, and — for a sync — what to commit.
pub struct Prepared {
    pub plan: SyncPlan,
    pub entries: usize,
    pub ops: Vec<WriteOp>,
    pub run: SyncRunRecord,
    _guard: RunGuard,
}

struct RunGuard {
    name: String,
    running: Arc<Mutex<HashMap<String, Arc<Progress>>>>,
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        if let Ok(mut r) = self.running.lock() {
            r.remove(&self.name);
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub url: String,
    pub tls: &'static str,
    pub bind: String,
    pub sample: Vec<String>,
    pub sample_count: usize,
}

pub struct DirectoryService {
    store: Store,
    running: Arc<Mutex<HashMap<String, Arc<Progress>>>>,
    clock: Arc<dyn Clock>,
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl DirectoryService {
    #[must_use]
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            running: Arc::new(Mutex::new(HashMap::new())),
            clock,
        }
    }

    /// The clock runs are timed and planned by.
    #[must_use]
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// [`prepare`](Self::prepare) for a run that will be applied: a run that fails before
    /// anything is applied is recorded as such (one that never started — an unknown
    /// directory, one already running — is not).
    ///
    /// # Errors
    /// As `prepare`.
    pub async fn prepare_run(
        &self,
        name: &str,
        trigger: Trigger,
        mode: Option<Mode>,
        force: bool,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Prepared, SyncError> {
        let started = self.clock.now_unix();
        match self.prepare(name, trigger, mode, force, on_progress).await {
            Ok(p) => Ok(p),
            Err(e) => {
                if !matches!(e, SyncError::NotFound(_) | SyncError::AlreadyRunning(_)) {
                    self.record_failure(name, trigger, started, &e).await;
                }
                Err(e)
            }
        }
    }

    /// Progress of a run in flight.
    #[must_use]
    pub fn progress(&self, name: &str) -> Option<Arc<Progress>> {
        self.running
            .lock()
            .ok()
            .and_then(|r| r.get(&key(name)).cloned())
    }

    fn record(&self, name: &str) -> Result<DirectoryRecord, SyncError> {
        self.store
            .directory(name)?
            .ok_or_else(|| SyncError::NotFound(name.to_string()))
    }

    /// A connector for `spec`, trusting its named certificates (or the system roots).
    ///
    /// # Errors
    /// An unknown certificate name or a root rustls refuses.
    pub fn connector(&self, spec: &DirectorySpec) -> Result<Connector, SyncError> {
        let mut roots = Vec::new();
        for name in &spec.ca_certs {
            let cert = self
                .store
                .cert(name)?
                .ok_or_else(|| SyncError::UnknownCert(name.clone()))?;
            roots.push((cert.name, cert.info.der));
        }
        Ok(Connector::for_spec(spec, &roots)?)
    }

    /// Connect, TLS, bind as the sync account, and a sample search of each base.
    ///
    /// # Errors
    /// The first step that fails, with its reason.
    pub async fn test(&self, name: &str) -> Result<TestReport, SyncError> {
        let rec = self.record(name)?;
        let spec = &rec.spec;
        let connector = self.connector(spec)?;
        let (mut ldap, url) = connector.connect().await?;
        let pw = self.store.directory_bind_password(&spec.name)?;
        connector
            .bind(&mut ldap, &spec.bind_dn, pw.expose())
            .await?;
        let mut sample = Vec::new();
        let mut count = 0;
        for base in &spec.base_dns {
            count += connector
                .fetch_each(
                    &mut ldap,
                    base,
                    &spec.user_filter,
                    &spec.attributes.requested(),
                    spec.page_size.min(100),
                    |e| {
                        if sample.len() < 5 {
                            sample.push(e.dn);
                        }
                    },
                    |_| {},
                )
                .await?;
        }
        let _ = ldap.unbind().await;
        let tls = if url.to_ascii_lowercase().starts_with("ldaps://") {
            "ldaps"
        } else if spec.starttls {
            "starttls"
        } else {
            "none"
        };
        Ok(TestReport {
            url,
            tls,
            bind: spec.bind_dn.clone(),
            sample,
            sample_count: count,
        })
    }

    /// Fetches, maps and plans a run of `name`. `mode` `None` lets the schedule decide.
    /// Holds the directory's run slot until the returned value is dropped.
    ///
    /// # Errors
    /// Any failure before a write: nothing has changed.
    pub async fn prepare(
        &self,
        name: &str,
        trigger: Trigger,
        mode: Option<Mode>,
        force: bool,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Prepared, SyncError> {
        let rec = self.record(name)?;
        let spec = rec.spec.clone();
        let progress = Arc::new(Progress::default());
        let now = self.clock.now_unix();
        progress
            .started_at
            .store(u64::try_from(now).unwrap_or(0), Ordering::Relaxed);
        let guard = {
            let mut running = self
                .running
                .lock()
                .map_err(|_| SyncError::AlreadyRunning(name.into()))?;
            if running.contains_key(&key(name)) {
                return Err(SyncError::AlreadyRunning(spec.name.clone()));
            }
            running.insert(key(name), Arc::clone(&progress));
            RunGuard {
                name: key(name),
                running: Arc::clone(&self.running),
            }
        };
        let mode = mode.unwrap_or_else(|| auto_mode(&rec, now));
        let filter = match (&mode, &rec.high_water) {
            (Mode::Incremental, Some(hw)) => {
                format!("(&{}(modifyTimestamp>={hw}))", spec.user_filter)
            }
            _ => spec.user_filter.clone(),
        };
        let mode = if rec.high_water.is_none() {
            Mode::Full
        } else {
            mode
        };

        let connector = self.connector(&spec)?;
        let (mut ldap, url) = connector.connect().await?;
        let pw = self.store.directory_bind_password(&spec.name)?;
        connector
            .bind(&mut ldap, &spec.bind_dn, pw.expose())
            .await?;
        tracing::info!(directory = %spec.name, %url, ?mode, "sync started");
        let mut fetched: Vec<DirectoryUser> = Vec::new();
        let mut high_water = rec.high_water.clone();
        let page = u64::from(spec.page_size.max(1));
        let mut total = 0usize;
        for base in &spec.base_dns {
            let before = total;
            let progress_ref = &progress;
            // Entries are mapped as they arrive, so the raw directory data of a large
            // domain is never held all at once; a mapping error stops the run afterwards.
            let mut map_error = None;
            let count = connector
                .fetch_each(
                    &mut ldap,
                    base,
                    &filter,
                    &spec.attributes.requested(),
                    spec.page_size,
                    |e| {
                        if map_error.is_some() || !spec.includes(&e.dn) {
                            return;
                        }
                        match map_entry(&e, &spec.attributes) {
                            Ok(user) => {
                                if let Some(m) = &user.modified
                                    && high_water.as_ref().is_none_or(|h| m > h)
                                {
                                    high_water = Some(m.clone());
                                }
                                fetched.push(user);
                            }
                            Err(err) => map_error = Some(err),
                        }
                    },
                    |n| {
                        let n = u64::try_from(before + n).unwrap_or(u64::MAX);
                        progress_ref.entries.store(n, Ordering::Relaxed);
                        progress_ref
                            .pages
                            .store(n.div_ceil(page), Ordering::Relaxed);
                        on_progress(n.div_ceil(page), n);
                        // Logged every ten pages so that a long run shows in the journal too.
                        if n % (page * 10) == 0 {
                            tracing::info!(directory = %spec.name, pages = n.div_ceil(page), entries = n, "sync progress");
                        }
                    },
                )
                .await?;
            if let Some(err) = map_error {
                return Err(err.into());
            }
            total += count;
            tracing::info!(directory = %spec.name, %base, entries = count, "fetched");
        }
        let _ = ldap.unbind().await;
        let stored = self.store.domain_users(&spec.name)?;
        let guard_cfg = Guard {
            max_disable_ratio: spec.disable_threshold_percent / 100.0,
            force,
            retention_seconds: i64::from(spec.retention_days) * 86_400,
        };
        let mut plan = plan(&stored, &fetched, mode, guard_cfg, now)?;
        drop(stored);
        drop(fetched);
        // The full change list moves into the write; the plan keeps a sample to show.
        let all_changes = std::mem::take(&mut plan.changes);
        plan.changes = all_changes.iter().take(PLAN_SAMPLE).cloned().collect();
        let c = &plan.counts;
        let run = SyncRunRecord {
            directory: spec.name.clone(),
            trigger: trigger.as_str().into(),
            mode: match mode {
                Mode::Full => "full".into(),
                Mode::Incremental => "incremental".into(),
            },
            started_at: now,
            ended_at: self.clock.now_unix(),
            entries: i64::try_from(total).unwrap_or(i64::MAX),
            added: i64::try_from(c.added).unwrap_or(i64::MAX),
            updated: i64::try_from(c.updated).unwrap_or(i64::MAX),
            disabled: i64::try_from(c.disabled).unwrap_or(i64::MAX),
            reenabled: i64::try_from(c.reenabled).unwrap_or(i64::MAX),
            purged: i64::try_from(c.purged).unwrap_or(i64::MAX),
            unchanged: i64::try_from(c.unchanged).unwrap_or(i64::MAX),
            error: None,
        };
        let ops = vec![
            WriteOp::Directory(DirectoryOp::ApplySync {
                domain: spec.name.clone(),
                changes: all_changes,
                high_water,
                full: mode == Mode::Full,
                now,
                created_by: format!("sync:{}", spec.name),
            }),
            WriteOp::Directory(DirectoryOp::RecordRun(run.clone())),
        ];
        Ok(Prepared {
            plan,
            entries: total,
            ops,
            run,
            _guard: guard,
        })
    }

    /// Records a run that failed before anything was applied.
    async fn record_failure(
        &self,
        name: &str,
        trigger: Trigger,
        started_at: UnixTime,
        error: &SyncError,
    ) {
        let run = SyncRunRecord::failed(
            name,
            trigger.as_str(),
            started_at,
            self.clock.now_unix(),
            error.to_string(),
        );
        if let Err(e) = self
            .store
            .write(vec![WriteOp::Directory(DirectoryOp::RecordRun(run))])
            .await
        {
            tracing::error!(error = %e, "sync run not recorded");
        }
    }
}

/// Full when the full schedule is due (or there never was one), incremental otherwise.
fn auto_mode(rec: &DirectoryRecord, now: UnixTime) -> Mode {
    let Ok(full) = rec
        .spec
        .full_schedule
        .parse::<crate::directory::schedule::Schedule>()
    else {
        return Mode::Full;
    };
    match rec.last_full_at {
        None => Mode::Full,
        Some(last) if full.next_after(Some(last), now) <= now => Mode::Full,
        Some(_) => Mode::Incremental,
    }
}
