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

use super::groups;
use crate::directory::groups::{RangeError, regrouped, sort_groups};
use crate::directory::ldap::{Connector, LdapFailure};
use crate::directory::map::{DirectoryUser, MapError, RawEntry, map_entry};
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
    #[error("{dn}: {error}")]
    Range {
        dn: String,
        #[source]
        error: RangeError,
    },
    #[error("nested groups: more than {max} groups to read")]
    TooManyGroups { max: usize },
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

/// Where a run's entries come from: the directory over LDAP ([`LdapSource`]) when the
/// daemon runs. The seam exists so that unit tests can feed a run from a source that fails
/// after a given page, which a real server cannot be made to do on cue.
pub(crate) trait Source {
    /// Connects and binds as the sync account; returns the URL reached.
    async fn open(&mut self, spec: &DirectorySpec) -> Result<String, SyncError>;

    /// Every entry under `base` matching `filter`, as [`Connector::fetch_each`] hands them
    /// over.
    async fn fetch_each(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[String],
        page_size: u32,
        on_entry: impl FnMut(RawEntry),
        progress: impl FnMut(usize),
    ) -> Result<usize, LdapFailure>;

    /// The entry `dn` itself with `attrs`, as [`Connector::read_entry`] reads it.
    async fn read_entry(
        &mut self,
        dn: &str,
        attrs: &[String],
    ) -> Result<Option<RawEntry>, LdapFailure>;

    /// Ends the session; a failure to end it cleanly changes nothing.
    async fn close(&mut self);
}

/// The directory itself: connected and bound as the sync account when opened.
struct LdapSource<'a> {
    service: &'a DirectoryService,
    session: Option<(Connector, ldap3::Ldap)>,
}

impl Source for LdapSource<'_> {
    async fn open(&mut self, spec: &DirectorySpec) -> Result<String, SyncError> {
        let connector = self.service.connector(spec)?;
        let (mut ldap, url) = connector.connect().await?;
        let pw = self.service.store.directory_bind_password(&spec.name)?;
        connector
            .bind(&mut ldap, &spec.bind_dn, pw.expose())
            .await?;
        self.session = Some((connector, ldap));
        Ok(url)
    }

    async fn fetch_each(
        &mut self,
        base: &str,
        filter: &str,
        attrs: &[String],
        page_size: u32,
        on_entry: impl FnMut(RawEntry),
        progress: impl FnMut(usize),
    ) -> Result<usize, LdapFailure> {
        let Some((connector, ldap)) = &mut self.session else {
            return Err(LdapFailure::Search {
                base: base.into(),
                reason: "not connected".into(),
            });
        };
        connector
            .fetch_each(ldap, base, filter, attrs, page_size, on_entry, progress)
            .await
    }

    async fn read_entry(
        &mut self,
        dn: &str,
        attrs: &[String],
    ) -> Result<Option<RawEntry>, LdapFailure> {
        let Some((connector, ldap)) = &mut self.session else {
            return Err(LdapFailure::Search {
                base: dn.into(),
                reason: "not connected".into(),
            });
        };
        connector.read_entry(ldap, dn, attrs).await
    }

    async fn close(&mut self) {
        if let Some((_, mut ldap)) = self.session.take() {
            let _ = ldap.unbind().await;
        }
    }
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
    /// anything is applied is recorded as such (see
    /// [`recording_failure`](Self::recording_failure)).
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
        let run = self.prepare(name, trigger, mode, force, on_progress);
        self.recording_failure(name, trigger, run).await
    }

    fn ldap_source(&self) -> LdapSource<'_> {
        LdapSource {
            service: self,
            session: None,
        }
    }

    /// Runs `run` (a prepare not yet started) and records it as a failed run of `name`
    /// when it fails — unless it never started: an unknown directory, one already
    /// running. A preview is not a run and is not recorded.
    async fn recording_failure(
        &self,
        name: &str,
        trigger: Trigger,
        run: impl Future<Output = Result<Prepared, SyncError>>,
    ) -> Result<Prepared, SyncError> {
        let started_at = self.clock.now_unix();
        let result = run.await;
        if let Err(error) = &result
            && !matches!(error, SyncError::NotFound(_) | SyncError::AlreadyRunning(_))
        {
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
        result
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
        let mut source = self.ldap_source();
        let url = source.open(spec).await?;
        let mut sample = Vec::new();
        let mut count = 0;
        for base in &spec.base_dns {
            count += source
                .fetch_each(
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
        source.close().await;
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
        let source = self.ldap_source();
        self.prepare_from(source, name, trigger, mode, force, on_progress)
            .await
    }

    /// [`prepare`](Self::prepare) with entries from `source`.
    async fn prepare_from(
        &self,
        mut source: impl Source,
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

        let url = source.open(&spec).await?;
        tracing::info!(directory = %spec.name, %url, ?mode, "sync started");
        let mut fetched: Vec<DirectoryUser> = Vec::new();
        let mut high_water = rec.high_water.clone();
        let page = u64::from(spec.page_size.max(1));
        let mut total = 0usize;
        let ous = spec.ou_filter();
        let mut attrs = spec.attributes.requested();
        if spec.group_base_dn.is_some() {
            // The groups say whom they list; the users' own attribute would go unused.
            attrs.retain(|a| !a.eq_ignore_ascii_case(&spec.attributes.groups));
        }
        // Users whose groups attribute came in ranges: its position in `fetched`, what
        // arrived and what to ask next, completed once the search is over.
        let mut unfinished_groups = Vec::new();
        for base in &spec.base_dns {
            let before = total;
            let progress_ref = &progress;
            // Entries are mapped as they arrive, so the raw directory data of a large
            // domain is never held all at once; a mapping error stops the run afterwards.
            let mut map_error: Option<SyncError> = None;
            let count = source
                .fetch_each(
                    base,
                    &filter,
                    &attrs,
                    spec.page_size,
                    |mut e| {
                        if map_error.is_some() || !ous.includes(&e.dn) {
                            return;
                        }
                        let ranged = match groups::take_ranged(&spec, &mut e) {
                            Ok(r) => r,
                            Err(err) => {
                                map_error = Some(err);
                                return;
                            }
                        };
                        match map_entry(&e, &spec.attributes) {
                            Ok(mut user) => {
                                if let Some(m) = &user.modified
                                    && high_water.as_ref().is_none_or(|h| m > h)
                                {
                                    high_water = Some(m.clone());
                                }
                                match ranged {
                                    Some((r, None)) => {
                                        user.groups = r.into_values();
                                        sort_groups(&mut user.groups);
                                    }
                                    Some((r, Some(next))) => {
                                        unfinished_groups.push((fetched.len(), r, next));
                                    }
                                    None => {}
                                }
                                fetched.push(user);
                            }
                            Err(err) => map_error = Some(err.into()),
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
                return Err(err);
            }
            total += count;
            tracing::info!(directory = %spec.name, %base, entries = count, "fetched");
        }
        groups::complete_users(&mut source, &mut fetched, unfinished_groups).await?;
        let (memberships, mut cut) = groups::resolve(&mut source, &spec, &mut fetched).await?;
        source.close().await;
        let stored = self.store.domain_users(&spec.name)?;
        // An incremental run fetched only the users modified since the last one, but a
        // group lists its members on its own entry: a change there leaves the users'
        // entries as they were. The groups were all read, so every stored user is
        // compared with them.
        if let (Some(memberships), Mode::Incremental) = (&memberships, mode) {
            let (users, regroup_cut) =
                regrouped(&stored, &fetched, memberships, groups::depth(&spec));
            cut += regroup_cut;
            fetched.extend(users);
        }
        drop(memberships);
        if cut > 0 {
            tracing::warn!(
                directory = %spec.name,
                users = cut,
                depth = crate::directory::groups::MAX_NESTING_DEPTH,
                "groups nested deeper than followed: the groups further up were left out"
            );
        }
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
            WriteOp::Directory(DirectoryOp::RecordRun(run)),
        ];
        Ok(Prepared {
            plan,
            entries: total,
            ops,
            _guard: guard,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::plan::StoredUser;
    use crate::model::Secret;
    use crate::time::ManualClock;

    const BASE: &str = "ou=People,dc=example,dc=com";
    const PAGE: usize = 10;

    fn entry(n: usize, mail: &str, modified: &str) -> RawEntry {
        let uid = format!("u{n:03}");
        let attrs = [
            ("uid", uid.clone()),
            ("mail", mail.to_string()),
            ("cn", format!("User {n}")),
            ("modifytimestamp", modified.to_string()),
        ];
        RawEntry {
            dn: format!("uid={uid},{BASE}"),
            attrs: attrs
                .into_iter()
                .map(|(k, v)| (k.into(), vec![v]))
                .collect(),
        }
    }

    /// The directory as a sequence of pages; with `fail_at`, the search fails when that
    /// page is due, after handing over the ones before it (a server that went away
    /// mid-run).
    struct Scripted {
        entries: Vec<RawEntry>,
        fail_at: Option<usize>,
        /// Served to searches of [`GROUP_BASE`], in ranges as [`ranged`] sends them.
        groups: Vec<RawEntry>,
        /// Entries read by DN, in full; sent in ranges as [`ranged`] sends them.
        by_dn: HashMap<String, RawEntry>,
        /// The requests of the reads by DN, in order (shared: the run takes the source).
        reads: Arc<Mutex<Vec<Read>>>,
    }

    impl Scripted {
        fn new(entries: Vec<RawEntry>, fail_at: Option<usize>) -> Self {
            Self {
                entries,
                fail_at,
                groups: Vec::new(),
                by_dn: HashMap::new(),
                reads: Arc::default(),
            }
        }
    }

    /// A read by DN: the DN and the attributes asked for.
    type Read = (String, Vec<String>);

    const GROUP_BASE: &str = "ou=Groups,dc=example,dc=com";
    /// Values per answer, as Active Directory's MaxValRange (1500), smaller.
    const RANGE: usize = 100;

    /// `entry` as Active Directory answers for `attrs`: each attribute asked for with more
    /// than [`RANGE`] values from `low` on (`member;range=LOW-*`, or the plain name for
    /// LOW 0) comes as `member;range=LOW-HIGH`, the last part as `member;range=LOW-*`.
    fn ranged(entry: &RawEntry, attrs: &[String]) -> RawEntry {
        let mut out = RawEntry {
            dn: entry.dn.clone(),
            ..RawEntry::default()
        };
        for a in attrs {
            let a = a.to_ascii_lowercase();
            let (name, low) = match a.split_once(";range=") {
                Some((n, r)) => (n.to_string(), r.trim_end_matches("-*").parse().unwrap()),
                None => (a.clone(), 0usize),
            };
            let Some(values) = entry.attrs.get(&name) else {
                continue;
            };
            if low == 0 && values.len() <= RANGE {
                out.attrs.insert(name, values.clone());
                continue;
            }
            let high = (low + RANGE).min(values.len());
            let key = if high == values.len() {
                format!("{name};range={low}-*")
            } else {
                format!("{name};range={low}-{}", high - 1)
            };
            out.attrs.insert(key, values[low..high].to_vec());
        }
        out
    }

    impl Source for Scripted {
        async fn open(&mut self, _spec: &DirectorySpec) -> Result<String, SyncError> {
            Ok("scripted".into())
        }

        async fn fetch_each(
            &mut self,
            base: &str,
            _filter: &str,
            attrs: &[String],
            page_size: u32,
            mut on_entry: impl FnMut(RawEntry),
            mut progress: impl FnMut(usize),
        ) -> Result<usize, LdapFailure> {
            assert_eq!(page_size as usize, PAGE);
            if base == GROUP_BASE {
                for g in &self.groups {
                    on_entry(ranged(g, attrs));
                }
                progress(self.groups.len());
                return Ok(self.groups.len());
            }
            let mut count = 0;
            for (i, page) in self.entries.chunks(PAGE).enumerate() {
                if self.fail_at == Some(i) {
                    return Err(LdapFailure::Search {
                        base: base.into(),
                        reason: "connection lost".into(),
                    });
                }
                for e in page {
                    on_entry(ranged(e, attrs));
                    count += 1;
                }
                progress(count);
            }
            Ok(count)
        }

        async fn read_entry(
            &mut self,
            dn: &str,
            attrs: &[String],
        ) -> Result<Option<RawEntry>, LdapFailure> {
            self.reads
                .lock()
                .unwrap()
                .push((dn.to_string(), attrs.to_vec()));
            Ok(self.by_dn.get(dn).map(|e| ranged(e, attrs)))
        }

        async fn close(&mut self) {}
    }

    async fn service_with_corp() -> (tempfile::TempDir, Store, DirectoryService) {
        service_with(|spec| spec).await
    }

    /// CORP as `edit` makes it.
    async fn service_with(
        edit: impl FnOnce(DirectorySpec) -> DirectorySpec,
    ) -> (tempfile::TempDir, Store, DirectoryService) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let spec = DirectorySpec {
            name: "CORP".into(),
            urls: vec!["ldap://127.0.0.1:1".into()],
            bind_dn: "cn=sync,dc=example,dc=com".into(),
            base_dns: vec![BASE.into()],
            page_size: u32::try_from(PAGE).unwrap(),
            ..DirectorySpec::default()
        };
        let spec = edit(spec);
        store
            .write(vec![WriteOp::Directory(DirectoryOp::AddDirectory {
                spec,
                bind_password: Secret::from_text("pw"),
                created_by: "test".into(),
            })])
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::starting_at(1_800_000_000));
        let service = DirectoryService::new(store.clone(), clock);
        (dir, store, service)
    }

    /// A manual full run of CORP with entries from `source`, recorded when it fails, as
    /// `prepare_run` runs one from the directory.
    async fn run_full(
        service: &DirectoryService,
        source: Scripted,
        force: bool,
        on_progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Prepared, SyncError> {
        let run = service.prepare_from(
            source,
            "CORP",
            Trigger::Manual,
            Some(Mode::Full),
            force,
            on_progress,
        );
        service
            .recording_failure("CORP", Trigger::Manual, run)
            .await
    }

    /// Commits a prepared run as the handlers do, then lets its run slot go.
    async fn commit(store: &Store, prepared: Prepared) {
        store.write(prepared.ops).await.unwrap();
    }

    fn sorted(mut users: Vec<StoredUser>) -> Vec<StoredUser> {
        users.sort_by(|a, b| a.name.cmp(&b.name));
        users
    }

    /// A run whose fetch fails part-way applies nothing, even forced (so that the disable
    /// guard cannot be what protects the stored users), and is recorded as failed with
    /// the reason; the next good run applies the changes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_fetch_that_fails_after_some_pages_applies_nothing_and_is_recorded() {
        let (_dir, store, service) = service_with_corp().await;
        let t0 = "20260101000000Z";
        let first: Vec<RawEntry> = (1..=100).map(|n| entry(n, "old@example.com", t0)).collect();
        let prepared = run_full(&service, Scripted::new(first, None), false, &|_, _| {})
            .await
            .unwrap();
        commit(&store, prepared).await;
        let before = sorted(store.domain_users("CORP").unwrap());
        assert_eq!(before.len(), 100);
        let high_water = service.record("CORP").unwrap().high_water;
        assert_eq!(high_water.as_deref(), Some(t0));

        // The directory changes: u001 and u002 leave, u003's mail changes, u101 arrives.
        // Read in full, the last page would hold u094…u101.
        let t1 = "20260102000000Z";
        let now: Vec<RawEntry> = (3..=101)
            .map(|n| match n {
                3 => entry(n, "new@example.com", t1),
                101 => entry(n, "u101@example.com", t1),
                _ => entry(n, "old@example.com", t0),
            })
            .collect();

        // The search fails when its tenth page is due: nine pages (90 users) arrived, and
        // a run that took them for the whole directory would disable the other ten.
        let pages = Mutex::new(Vec::new());
        let failed = run_full(
            &service,
            Scripted::new(now.clone(), Some(9)),
            true,
            &|p, n| pages.lock().unwrap().push((p, n)),
        )
        .await;
        let Err(err) = failed else {
            panic!("a failed fetch must fail the run")
        };
        assert!(matches!(err, SyncError::Ldap(_)), "{err}");
        assert_eq!(pages.lock().unwrap().last(), Some(&(9, 90)));
        assert_eq!(sorted(store.domain_users("CORP").unwrap()), before);
        assert_eq!(service.record("CORP").unwrap().high_water, high_water);
        let runs = store.sync_runs("CORP", 10).unwrap();
        assert_eq!(runs.len(), 2, "{runs:?}");
        let last = &runs[0];
        assert_eq!(last.trigger, "manual");
        assert_eq!(
            last.error.as_deref(),
            Some(format!("search of {BASE} failed: connection lost").as_str())
        );
        assert_eq!((last.added, last.updated, last.disabled), (0, 0, 0));
        assert!(runs[1].error.is_none());
        // The run's slot is free again.
        assert!(service.progress("CORP").is_none());

        // The same directory read in full applies.
        let prepared = run_full(&service, Scripted::new(now, None), false, &|_, _| {})
            .await
            .unwrap();
        let c = &prepared.plan.counts;
        assert_eq!((c.added, c.updated, c.disabled), (1, 1, 2), "{c:?}");
        commit(&store, prepared).await;
        let after = sorted(store.domain_users("CORP").unwrap());
        assert_eq!(after.len(), 101);
        let user = |name: &str| after.iter().find(|u| u.name == name).unwrap();
        for gone in ["u001", "u002"] {
            assert_eq!(user(gone).status, crate::model::UserStatus::Disabled);
        }
        assert_eq!(user("u003").email.as_deref(), Some("new@example.com"));
        assert_eq!(user("u101").status, crate::model::UserStatus::Active);
        assert_eq!(
            service.record("CORP").unwrap().high_water.as_deref(),
            Some(t1)
        );
        let runs = store.sync_runs("CORP", 10).unwrap();
        assert_eq!(runs.len(), 3);
        assert!(runs[0].error.is_none());
        assert_eq!(
            (runs[0].added, runs[0].updated, runs[0].disabled),
            (1, 1, 2)
        );
    }

    /// A preview that fails is no run and leaves no record; a run that fails the same way
    /// is recorded with the reason; one that never started (an unknown directory) is not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn failed_runs_are_recorded_and_failed_previews_are_not() {
        let (_dir, store, service) = service_with_corp().await;
        // Nothing listens on port 1: the connection is refused.
        let preview = service
            .prepare("CORP", Trigger::Preview, None, false, &|_, _| {})
            .await;
        assert!(matches!(preview, Err(SyncError::Ldap(_))));
        assert!(store.sync_runs("CORP", 10).unwrap().is_empty());
        let run = service
            .prepare_run("CORP", Trigger::Manual, None, false, &|_, _| {})
            .await;
        assert!(matches!(run, Err(SyncError::Ldap(_))));
        let runs = store.sync_runs("CORP", 10).unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].trigger, "manual");
        assert!(runs[0].error.is_some());
        let unknown = service
            .prepare_run("NOPE", Trigger::Manual, None, false, &|_, _| {})
            .await;
        assert!(matches!(unknown, Err(SyncError::NotFound(_))));
        assert!(store.sync_runs("NOPE", 10).unwrap().is_empty());
    }

    const T0: &str = "20260101000000Z";

    fn user_dn(n: usize) -> String {
        format!("uid=u{n:03},{BASE}")
    }

    fn group(cn: &str, attr: &str, values: Vec<String>) -> RawEntry {
        RawEntry {
            dn: format!("cn={cn},{GROUP_BASE}"),
            attrs: [(attr.to_string(), values)].into_iter().collect(),
        }
    }

    fn reads(r: &Mutex<Vec<Read>>) -> Vec<(String, String)> {
        r.lock()
            .unwrap()
            .iter()
            .map(|(dn, attrs)| (dn.clone(), attrs.join(" ")))
            .collect()
    }

    /// A group listing more members than the server sends at once (Active Directory's
    /// ranges) gives every listed user its DN; the rest is asked for in order, each part
    /// once. The users' own `memberOf` plays no part.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_search_reads_members_sent_in_ranges() {
        let (_dir, store, service) = service_with(|s| DirectorySpec {
            group_base_dn: Some(GROUP_BASE.into()),
            ..s
        })
        .await;
        let users: Vec<RawEntry> = (1..=30)
            .map(|n| {
                let mut e = entry(n, "a@example.com", T0);
                e.attrs.insert(
                    "memberof".into(),
                    vec!["cn=ignored,dc=example,dc=com".into()],
                );
                e
            })
            .collect();
        // 250 members: the 30 users last, after accounts the sync does not know.
        let mut members: Vec<String> = (0..220)
            .map(|i| format!("uid=x{i},ou=Elsewhere,dc=example,dc=com"))
            .collect();
        members.extend((1..=30).map(user_dn));
        let big = group("big", "member", members);
        let small = group("small", "member", vec![user_dn(1)]);
        let nobody = group("nobody", "cn", vec!["nobody".into()]);
        let mut source = Scripted::new(users, None);
        source.groups = vec![big.clone(), small.clone(), nobody];
        source.by_dn.insert(big.dn.clone(), big.clone());
        let log = Arc::clone(&source.reads);
        let prepared = run_full(&service, source, false, &|_, _| {}).await.unwrap();
        assert_eq!(
            reads(&log),
            [
                (big.dn.clone(), "member;range=100-*".to_string()),
                (big.dn.clone(), "member;range=200-*".to_string())
            ]
        );
        commit(&store, prepared).await;
        let stored = sorted(store.domain_users("CORP").unwrap());
        assert_eq!(stored.len(), 30);
        assert_eq!(stored[0].groups, [big.dn.clone(), small.dn]);
        for u in &stored[1..] {
            assert_eq!(u.groups, std::slice::from_ref(&big.dn), "{}", u.name);
        }
    }

    /// A user's own groups attribute sent in ranges is read whole from the user's entry.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn member_of_sent_in_ranges_is_read_whole() {
        let (_dir, store, service) = service_with_corp().await;
        let groups: Vec<String> = (0..250)
            .map(|i| format!("cn=g{i:03},{GROUP_BASE}"))
            .collect();
        let mut many = entry(1, "a@example.com", T0);
        many.attrs.insert("memberof".into(), groups.clone());
        let mut one = entry(2, "b@example.com", T0);
        one.attrs.insert("memberof".into(), vec![groups[7].clone()]);
        let mut source = Scripted::new(vec![many.clone(), one], None);
        source.by_dn.insert(many.dn.clone(), many.clone());
        let log = Arc::clone(&source.reads);
        let prepared = run_full(&service, source, false, &|_, _| {}).await.unwrap();
        assert_eq!(
            reads(&log),
            [
                (many.dn.clone(), "memberof;range=100-*".to_string()),
                (many.dn.clone(), "memberof;range=200-*".to_string())
            ]
        );
        commit(&store, prepared).await;
        let stored = sorted(store.domain_users("CORP").unwrap());
        assert_eq!(stored[0].groups, groups);
        assert_eq!(stored[1].groups, [groups[7].clone()]);
    }

    /// Nesting through `memberOf` reads each group once, by DN, so a cycle (A in B, B in
    /// A) ends; a group this server does not hold (another domain) is kept, with no
    /// groups above it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nesting_through_member_of_reads_each_group_once() {
        let (_dir, store, service) = service_with(|s| DirectorySpec {
            nested_groups: true,
            ..s
        })
        .await;
        let a = format!("cn=a,{GROUP_BASE}");
        let b = format!("cn=b,{GROUP_BASE}");
        let c = format!("cn=c,{GROUP_BASE}");
        let foreign = "CN=Remote,DC=other,DC=example".to_string();
        let mut u1 = entry(1, "a@example.com", T0);
        u1.attrs
            .insert("memberof".into(), vec![a.clone(), foreign.clone()]);
        let mut u2 = entry(2, "b@example.com", T0);
        u2.attrs.insert("memberof".into(), vec![c.clone()]);
        let mut source = Scripted::new(vec![u1, u2], None);
        let a_entry = group("a", "memberof", vec![b.clone()]);
        let b_entry = group("b", "memberof", vec![a.clone()]);
        let c_entry = group("c", "cn", vec!["c".into()]);
        for g in [a_entry, b_entry, c_entry] {
            source.by_dn.insert(g.dn.clone(), g);
        }
        let log = Arc::clone(&source.reads);
        let prepared = run_full(&service, source, false, &|_, _| {}).await.unwrap();
        let mut read: Vec<String> = reads(&log).into_iter().map(|(dn, _)| dn).collect();
        read.sort();
        assert_eq!(read, [foreign.clone(), a.clone(), b.clone(), c.clone()]);
        commit(&store, prepared).await;
        let stored = sorted(store.domain_users("CORP").unwrap());
        assert_eq!(stored[0].groups, [a, b, foreign]);
        assert_eq!(stored[1].groups, [c]);
    }

    /// A group that goes away while its ranges are read fails the run, which applies
    /// nothing: some of its members would lose it and others not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_gone_between_ranges_fails_the_run() {
        let (_dir, store, service) = service_with(|s| DirectorySpec {
            group_base_dn: Some(GROUP_BASE.into()),
            ..s
        })
        .await;
        let mut source = Scripted::new(vec![entry(1, "a@example.com", T0)], None);
        source.groups = vec![group("big", "member", (0..150).map(user_dn).collect())];
        let Err(err) = run_full(&service, source, false, &|_, _| {}).await else {
            panic!("the run must fail");
        };
        assert!(err.to_string().contains("went away"), "{err}");
        assert!(store.domain_users("CORP").unwrap().is_empty());
        assert!(store.sync_runs("CORP", 1).unwrap()[0].error.is_some());
    }
}
