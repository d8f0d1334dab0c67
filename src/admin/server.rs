//! The admin socket: identity from SO_PEERCRED, checked when a connection is accepted and
//! again on every request; one JSON request per line; everything bounded.
//!
//! Any member of the socket's group can connect, administrator or not, so nothing a
//! connection holds may grow without limit: a uid that is no administrator is answered
//! once and disconnected; connections are capped in total and per uid; a connection must
//! say hello promptly, finish a line it started within a deadline, and is closed when
//! idle; the bytes all connections buffer share one budget; and accept errors (out of
//! file descriptors) back off instead of spinning.

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, SemaphorePermit, watch};
use tokio::task::JoinSet;

use super::context::AdminContext;
use super::dispatch::{dispatch, record, resolve_actor};
use super::handlers::Progress;
use super::proto::{ErrorCode, MAX_LINE, PROTOCOL_VERSION, Request, Response};
use crate::audit::{AuditEvent, EventKind, Outcome, Tags};

/// Connections open at once, in all.
pub const MAX_CONNECTIONS: usize = 64;
/// Connections open at once per uid.
pub const MAX_PER_UID: usize = 8;
/// Bytes of unfinished lines all connections may hold together.
pub const BUFFER_BUDGET: usize = 64 << 20;
/// The budget is taken in steps of this many bytes.
const BUDGET_STEP: usize = 64 << 10;
/// A connection says hello within this.
pub const HELLO_WITHIN: Duration = Duration::from_secs(5);
/// A line once started arrives whole within this.
pub const LINE_WITHIN: Duration = Duration::from_secs(30);
/// A connection with no request for this long is closed.
pub const IDLE_CLOSE: Duration = Duration::from_secs(300);
/// Refused uids are audited at most once per this interval each.
const REFUSAL_AUDIT_INTERVAL_MICROS: i64 = 60_000_000;

/// Creates the socket file, mode 0660, group-owned by `gid` when given. An existing socket
/// (left by a daemon that died) is replaced; anything else at that path is an error,
/// never deleted.
///
/// # Errors
/// Binding or permission failures, naming the path.
pub fn bind(path: &Path, gid: Option<u32>) -> anyhow::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("{}: cannot create directory: {e}", dir.display()))?;
    }
    check_socket_path(path).map_err(anyhow::Error::msg)?;
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => anyhow::bail!("{}: cannot remove stale socket: {e}", path.display()),
    }
    let listener = UnixListener::bind(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot bind admin socket: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let Some(gid) = gid {
        std::os::unix::fs::chown(path, None, Some(gid))
            .map_err(|e| anyhow::anyhow!("{}: chown to gid {gid}: {e}", path.display()))?;
    }
    Ok(listener)
}

/// Whether the admin socket may be created at `path`: nothing is there, or a socket
/// (left by a daemon that died, to be replaced). Anything else is never deleted. Shared
/// by `bind` and the start-up preflight, so that `--check-config` refuses what start-up
/// would; a path that cannot be examined is left for `bind` to report.
///
/// # Errors
/// Something other than a socket is at `path`, named.
pub fn check_socket_path(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_socket() => Err(format!(
            "{}: exists and is not a socket; refusing to replace it",
            path.display()
        )),
        _ => Ok(()),
    }
}

/// What bounds the connections.
struct Limits {
    connections: Semaphore,
    per_uid: Mutex<HashMap<u32, usize>>,
    buffered: Semaphore,
    /// When each refused uid was last audited (bounded: cleared when it grows large).
    refused: Mutex<HashMap<u32, i64>>,
}

/// A connection's claim on its uid's share; returned when the connection ends.
struct UidSlot<'a> {
    limits: &'a Limits,
    uid: u32,
}

impl Drop for UidSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.limits.per_uid.lock()
            && let Some(n) = m.get_mut(&self.uid)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.uid);
            }
        }
    }
}

impl Limits {
    fn take_uid(&self, uid: u32) -> Option<UidSlot<'_>> {
        let mut m = self.per_uid.lock().ok()?;
        let n = m.entry(uid).or_default();
        if *n >= MAX_PER_UID {
            return None;
        }
        *n += 1;
        Some(UidSlot { limits: self, uid })
    }
}

/// Accepts connections until `shutdown`.
pub async fn serve(
    listener: UnixListener,
    ctx: Arc<AdminContext>,
    mut shutdown: watch::Receiver<bool>,
    path: PathBuf,
) {
    let limits = Arc::new(Limits {
        connections: Semaphore::new(MAX_CONNECTIONS),
        per_uid: Mutex::new(HashMap::new()),
        buffered: Semaphore::new(BUFFER_BUDGET),
        refused: Mutex::new(HashMap::new()),
    });
    let mut conns = JoinSet::new();
    let mut backoff = Duration::from_millis(100);
    let mut accept_errors = 0u64;
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    backoff = Duration::from_millis(100);
                    let ctx = Arc::clone(&ctx);
                    let limits = Arc::clone(&limits);
                    conns.spawn(async move { connection(stream, ctx, limits).await });
                }
                Err(e) => {
                    // Out of descriptors (or another transient failure): wait before the
                    // next accept instead of spinning, and say so once in a while.
                    accept_errors += 1;
                    if accept_errors.is_power_of_two() {
                        tracing::warn!(error = %e, failures = accept_errors, "admin accept failed; backing off");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    // Requests in progress finish; idle connections are closed with the listener.
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}

/// A reply may be a list of 10,000 users: it is serialised (and freed) on the blocking
/// pool, never on the runtime threads that also answer RADIUS.
async fn send(write: &mut OwnedWriteHalf, r: Response) -> std::io::Result<()> {
    let bytes = tokio::task::spawn_blocking(move || {
        let mut bytes = serde_json::to_vec(&r).unwrap_or_else(|_| b"{}".to_vec());
        bytes.push(b'\n');
        bytes
    })
    .await
    .unwrap_or_else(|_| b"{}\n".to_vec());
    write.write_all(&bytes).await
}

/// Audits a refused connection, at most once a minute per uid.
async fn audit_refusal(ctx: &AdminContext, limits: &Limits, uid: u32, why: &str) {
    let now = ctx.clock.now_micros();
    let due = match limits.refused.lock() {
        Ok(mut m) => {
            if m.len() > 4096 {
                m.clear();
            }
            let last = m.entry(uid).or_insert(0);
            let due = now.saturating_sub(*last) >= REFUSAL_AUDIT_INTERVAL_MICROS;
            if due {
                *last = now;
            }
            due
        }
        Err(_) => false,
    };
    if due {
        record(
            ctx,
            AuditEvent {
                time_micros: now,
                kind: EventKind::AdminRequest,
                actor: format!("uid {uid}"),
                operation: "connect".into(),
                target: String::new(),
                outcome: Outcome::Denied,
                detail: json!({"reason": why}).to_string(),
                tags: Tags::default(),
            },
        )
        .await;
    }
}

/// Reads one line into `line` (cleared first), holding budget for what it buffers.
/// `Ok(None)` at end of stream.
async fn read_line<'a>(
    reader: &mut BufReader<tokio::net::unix::OwnedReadHalf>,
    line: &mut Vec<u8>,
    budget: &'a Semaphore,
    held: &mut Option<SemaphorePermit<'a>>,
) -> Result<Option<()>, &'static str> {
    line.clear();
    *held = None;
    loop {
        let chunk = reader.fill_buf().await.map_err(|_| "read error")?;
        if chunk.is_empty() {
            return Ok(None);
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if line.len() + take > MAX_LINE + 1 {
            return Err("request too long");
        }
        line.extend_from_slice(chunk.get(..take).unwrap_or_default());
        reader.consume(take);
        let needed = line.len().div_ceil(BUDGET_STEP) * BUDGET_STEP;
        let have = held.as_ref().map_or(0, SemaphorePermit::num_permits);
        if needed > have {
            let more = u32::try_from(needed - have).map_err(|_| "request too long")?;
            match budget.try_acquire_many(more) {
                Ok(p) => match held {
                    Some(h) => h.merge(p),
                    None => *held = Some(p),
                },
                Err(_) => return Err("the daemon is busy: too many large requests at once"),
            }
        }
        if done {
            return Ok(Some(()));
        }
    }
}

async fn connection(stream: UnixStream, ctx: Arc<AdminContext>, limits: Arc<Limits>) {
    let uid = match stream.peer_cred() {
        Ok(c) => c.uid(),
        Err(e) => {
            tracing::warn!(error = %e, "admin peer credentials unavailable");
            return;
        }
    };
    let (read, mut write) = stream.into_split();
    let Ok(_slot) = limits.connections.try_acquire() else {
        let _ = send(
            &mut write,
            Response::err(
                0,
                ErrorCode::Internal,
                "too many admin connections; try again",
            ),
        )
        .await;
        return;
    };
    let Some(_uid_slot) = limits.take_uid(uid) else {
        let _ = send(
            &mut write,
            Response::err(
                0,
                ErrorCode::Internal,
                format!("too many admin connections from uid {uid}"),
            ),
        )
        .await;
        return;
    };
    // A uid that cannot act is told once and disconnected: it holds nothing here.
    if let Err(why) = resolve_actor(&ctx, uid, None) {
        audit_refusal(&ctx, &limits, uid, &why).await;
        let _ = send(
            &mut write,
            Response::err(0, ErrorCode::PermissionDenied, why),
        )
        .await;
        return;
    }
    let mut reader = BufReader::with_capacity(BUDGET_STEP, read);
    let mut line = Vec::new();
    let mut hello_done = false;
    let budget = &limits.buffered;
    loop {
        let mut held = None;
        // Before hello, a short wait; then an idle timeout for the next request, and a
        // deadline for the rest of a line once its first bytes arrived.
        let first = if hello_done { IDLE_CLOSE } else { HELLO_WITHIN };
        let started = tokio::time::timeout(first, reader.fill_buf()).await;
        match started {
            Err(_) => return,
            Ok(Err(_)) => return,
            Ok(Ok([])) => return,
            Ok(Ok(_)) => {}
        }
        let got = tokio::time::timeout(
            LINE_WITHIN,
            read_line(&mut reader, &mut line, budget, &mut held),
        )
        .await;
        let response = match got {
            Err(_) => {
                let _ = send(
                    &mut write,
                    Response::err(0, ErrorCode::InvalidArgument, "request line timed out"),
                )
                .await;
                return;
            }
            Ok(Ok(None)) => return,
            Ok(Err(why)) => {
                let _ = send(
                    &mut write,
                    Response::err(0, ErrorCode::InvalidArgument, why),
                )
                .await;
                return;
            }
            Ok(Ok(Some(()))) => match serde_json::from_slice::<Request>(&line) {
                Err(e) => Response::err(
                    0,
                    ErrorCode::InvalidArgument,
                    format!("malformed request: {e}"),
                ),
                Ok(req) if req.op == "hello" => {
                    let version = req.args.get("version").and_then(serde_json::Value::as_u64);
                    if version == Some(u64::from(PROTOCOL_VERSION)) {
                        hello_done = true;
                        Response::ok(
                            req.id,
                            json!({"version": PROTOCOL_VERSION, "server": concat!("gatehoused ", env!("CARGO_PKG_VERSION"))}),
                        )
                    } else {
                        Response::err(
                            req.id,
                            ErrorCode::UnsupportedVersion,
                            format!("this daemon speaks protocol version {PROTOCOL_VERSION}"),
                        )
                    }
                }
                Ok(req) if !hello_done => {
                    Response::err(req.id, ErrorCode::InvalidArgument, "send hello first")
                }
                Ok(req) => {
                    // The request is parsed: the line's budget goes back before it runs.
                    line = Vec::new();
                    drop(held.take());
                    let id = req.id;
                    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
                    let work = dispatch(&ctx, uid, req, Progress::new(tx));
                    tokio::pin!(work);
                    loop {
                        tokio::select! {
                            r = &mut work => break r,
                            Some(p) = rx.recv() => {
                                let line = json!({"id": id, "progress": p});
                                let mut bytes = line.to_string().into_bytes();
                                bytes.push(b'\n');
                                if write.write_all(&bytes).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
            },
        };
        drop(held);
        if send(&mut write, response).await.is_err() {
            return;
        }
    }
}
