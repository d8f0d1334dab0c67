//! Runs syncs on their schedules: one run per directory at a time, a per-directory jitter
//! so that directories sharing a schedule do not start together, and exponential backoff
//! after failures. A failed run never touches stored users (see `service::prepare`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::service::{DirectoryService, SyncError, Trigger};
use crate::audit::{AuditEvent, EventKind, Outcome, Tags};
use crate::directory::schedule::{Backoff, Schedule};
use crate::store::{Store, WriteOp};
use crate::time::UnixTime;

const TICK: Duration = Duration::from_secs(5);

fn jitter(name: &str) -> i64 {
    // Stable per directory, up to 30 s.
    i64::from(
        name.bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            % 30,
    )
}

/// When the directory should next run, from its last runs.
fn next_due(
    schedule: &Schedule,
    runs: &[crate::store::directory::SyncRunRecord],
    name: &str,
    now: UnixTime,
    backoff: Backoff,
) -> UnixTime {
    let failures = runs.iter().take_while(|r| r.error.is_some()).count();
    match runs.first() {
        None => now + jitter(name),
        Some(last) if failures > 0 => {
            last.ended_at
                + i64::try_from(backoff.delay(u32::try_from(failures - 1).unwrap_or(u32::MAX)))
                    .unwrap_or(i64::MAX)
        }
        Some(last) => schedule.next_after(Some(last.started_at), now) + jitter(name),
    }
}

pub async fn run(
    service: Arc<DirectoryService>,
    store: Store,
    mut shutdown: watch::Receiver<bool>,
) {
    let Ok(backoff) = Backoff::try_new(30, 3600) else {
        return;
    };
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tick.tick() => {}
        }
        let Ok(dirs) = store.directories() else {
            continue;
        };
        let now = service.clock().now_unix();
        for d in dirs {
            let Some(schedule) = d
                .spec
                .schedule
                .as_deref()
                .and_then(|s| s.parse::<Schedule>().ok())
            else {
                continue;
            };
            if service.progress(&d.spec.name).is_some() {
                continue;
            }
            let runs = store.sync_runs(&d.spec.name, 16).unwrap_or_default();
            let runs: Vec<_> = runs
                .into_iter()
                .filter(|r| r.trigger != "preview")
                .collect();
            if next_due(&schedule, &runs, &d.spec.name, now, backoff) > now {
                continue;
            }
            let service = Arc::clone(&service);
            let store = store.clone();
            let name = d.spec.name.clone();
            tokio::spawn(async move { scheduled_run(&service, &store, &name).await });
        }
    }
}

async fn scheduled_run(service: &DirectoryService, store: &Store, name: &str) {
    let event = |outcome: Outcome, detail: serde_json::Value| AuditEvent {
        time_micros: service.clock().now_micros(),
        kind: EventKind::System,
        actor: "scheduler".into(),
        operation: "directory.sync".into(),
        target: format!("directory:{name}"),
        outcome,
        detail: detail.to_string(),
        tags: Tags {
            target_kind: Some("directory".into()),
            target_id: Some(name.to_string()),
            domain: Some(name.to_string()),
            ..Tags::default()
        },
    };
    let result: Result<(), SyncError> = async {
        let prepared = service
            .prepare_run(name, Trigger::Scheduled, None, false, &|pages, entries| {
                tracing::debug!(directory = %name, pages, entries, "sync progress");
            })
            .await?;
        let mut ops = prepared.ops;
        let ev = event(
            Outcome::Info,
            serde_json::json!({"counts": prepared.plan.counts, "mode": prepared.plan.mode}),
        );
        ev.log();
        ops.push(WriteOp::Audit(ev));
        store.write(ops).await?;
        tracing::info!(directory = %name, counts = ?prepared.plan.counts, "scheduled sync applied");
        Ok(())
    }
    .await;
    if let Err(e) = result {
        if matches!(e, SyncError::AlreadyRunning(_)) {
            return;
        }
        tracing::warn!(directory = %name, error = %e, "scheduled sync failed; will retry with backoff");
        let ev = event(Outcome::Failed, serde_json::json!({"error": e.to_string()}));
        ev.log();
        if let Err(err) = store.write(vec![WriteOp::Audit(ev)]).await {
            tracing::error!(error = %err, "audit record of a failed sync not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::directory::SyncRunRecord;

    fn run(started: i64, error: bool) -> SyncRunRecord {
        SyncRunRecord {
            directory: "d".into(),
            trigger: "scheduled".into(),
            mode: "full".into(),
            started_at: started,
            ended_at: started + 5,
            entries: 0,
            added: 0,
            updated: 0,
            disabled: 0,
            reenabled: 0,
            purged: 0,
            unchanged: 0,
            error: error.then(|| "down".into()),
        }
    }

    #[test]
    fn due_times_follow_schedule_and_back_off() {
        let s: Schedule = "every 15m".parse().unwrap();
        let b = Backoff::try_new(30, 3600).unwrap();
        let j = jitter("d");
        assert_eq!(next_due(&s, &[], "d", 1000, b), 1000 + j);
        assert_eq!(next_due(&s, &[run(1000, false)], "d", 1100, b), 1900 + j);
        assert_eq!(next_due(&s, &[run(1000, true)], "d", 1100, b), 1005 + 30);
        assert_eq!(
            next_due(&s, &[run(1000, true), run(900, true)], "d", 1100, b),
            1005 + 60
        );
    }
}
