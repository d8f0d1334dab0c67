//! gatehouse-bench: a RADIUS load generator and micro-benchmarks, used by `bench/run.sh` to
//! compare Gatehouse with FreeRADIUS on the same machine with the same client.
//!
//! ```text
//! gatehouse-bench load --server 127.0.0.1:1812 --secret-file F --mode pap|status|acct
//!                      [--users FILE] [--calling-station-ids N] [--concurrency 64]
//!                      [--sockets S] [--requests N] [--duration-secs S] [--timeout-ms 2000]
//!                      [--pid PID] [--json]
//! gatehouse-bench hash --hash '$6$…' --password P [--iterations N] [--threads T] [--json]
//! gatehouse-bench rss  --pid PID [--json]
//! ```
//!
//! `load` is a closed loop: every socket keeps its share of `--concurrency` requests
//! outstanding, one thread per socket, each socket on its own source port so that its 256
//! Identifiers are its own. A reply is matched by (socket, Identifier), its Response
//! Authenticator (and Message-Authenticator, when present) is verified, and its latency is
//! recorded. A request that gets no answer within `--timeout-ms` counts as a timeout and is
//! not retransmitted. The run stops when `--requests` have been sent or `--duration-secs`
//! have passed (whichever comes first), then waits at most `--timeout-ms` for stragglers.
//!
//! With `--calling-station-ids N`, every Access-Request (pap) also carries a
//! Calling-Station-Id from a pool of N MAC addresses, `00-10-A4-00-00-00` onwards in the
//! RFC 3580 spelling: the computers a policy benchmark registers and looks up. Request i
//! of a worker names MAC (start + i) mod N, so any N consecutive requests of one worker
//! name all N.
//!
//! With `--pid`, the server's CPU time (utime + stime of all its threads, from
//! `/proc/PID/stat`) over the run is divided by the replies received, and its VmRSS/VmHWM
//! are read after the run. The load generator's own CPU and the CPU used by everything else
//! on the machine over the same interval are reported too, to judge the noise.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail, ensure};
use clap::{Args, Parser, Subcommand, ValueEnum};
use gatehouse::auth::password;
use gatehouse::radius::proto::crypto;
use gatehouse::radius::proto::verify::{self, MaCheck};
use gatehouse::radius::proto::{Code, HEADER_LEN, MAX_PACKET_LEN, Packet, PacketView, attr};
use serde::Serialize;

/// RADIUS Identifiers per socket.
const IDS: usize = 256;
/// Without `--requests` or `--duration-secs`, this many requests.
const DEFAULT_REQUESTS: u64 = 10_000;
/// Without `--duration-secs`, sending stops after this long whatever `--requests` says.
const MAX_RUN: Duration = Duration::from_secs(600);
/// `--calling-station-ids` at most: the MACs vary in their last three octets.
const MAX_MACS: i64 = 1 << 24;
/// The first three octets of the pool's MACs: a universally administered OUI, so that no
/// computer is taken for a phone's randomised MAC.
const MAC_OUI: [u8; 3] = [0x00, 0x10, 0xA4];

#[derive(Parser)]
#[command(
    name = "gatehouse-bench",
    version,
    about = "RADIUS load generator and micro-benchmarks"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Closed-loop RADIUS load over UDP; reports throughput, latency and server cost.
    Load(LoadArgs),
    /// Time password verification on the daemon's code path (`auth::password::verify`).
    Hash(HashArgs),
    /// Resident memory of a running process (VmRSS, VmHWM).
    Rss(RssArgs),
    /// Wait until the machine is quiet (other load below a threshold), or give up.
    Quiet(QuietArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    /// Access-Request with User-Name and User-Password (PAP); needs --users.
    Pap,
    /// Status-Server (RFC 5997).
    Status,
    /// Accounting-Request Start/Stop pairs, one new Acct-Session-Id per pair.
    Acct,
}

#[derive(Args)]
struct LoadArgs {
    /// Server address (IP:port).
    #[arg(long)]
    server: SocketAddr,
    /// File whose first line is the shared secret.
    #[arg(long)]
    secret_file: PathBuf,
    #[arg(long, value_enum)]
    mode: Mode,
    /// `user:password` lines, used round-robin (required for pap; user names for acct).
    #[arg(long)]
    users: Option<PathBuf>,
    /// pap: add a Calling-Station-Id from a pool of this many MACs (computers), round-robin.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_MACS))]
    calling_station_ids: Option<u32>,
    /// Requests kept outstanding (closed loop).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// UDP sockets (one thread each) sharing the concurrency; default one per 128.
    #[arg(long)]
    sockets: Option<usize>,
    /// Requests to send [default: 10000 when --duration-secs is not given].
    #[arg(long)]
    requests: Option<u64>,
    /// Stop sending after this many seconds.
    #[arg(long)]
    duration_secs: Option<f64>,
    /// A request unanswered this long is a timeout (never retransmitted).
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    /// Server process to measure: CPU time over the run, VmRSS/VmHWM after it.
    #[arg(long)]
    pid: Option<u32>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct HashArgs {
    /// Stored hash, e.g. `$6$rounds=5000$salt$…` or `{SSHA}…`.
    #[arg(long)]
    hash: String,
    /// The password that matches it.
    #[arg(long)]
    password: String,
    /// Verifications to time (per thread).
    #[arg(long, default_value_t = 200)]
    iterations: u32,
    /// Also time this many threads verifying at once (measured parallel throughput).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct RssArgs {
    #[arg(long)]
    pid: u32,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct QuietArgs {
    /// Quiet means at most this many cores busy, averaged over one window.
    #[arg(long, default_value_t = 0.25)]
    max_cores: f64,
    /// Length of one measurement window.
    #[arg(long, default_value_t = 1000)]
    window_ms: u64,
    /// Give up (still exiting 0, with `"quiet": false`) after this long.
    #[arg(long, default_value_t = 30.0)]
    timeout_secs: f64,
    #[arg(long)]
    json: bool,
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Load(a) => load(&a),
        Cmd::Hash(a) => hash(&a),
        Cmd::Rss(a) => rss(&a),
        Cmd::Quiet(a) => quiet(&a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gatehouse-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------
// /proc

/// Clock ticks per second of `/proc/*/stat` times (`getconf CLK_TCK`; 100 if unknown).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime (ticks) and thread count of a process, all threads, dead ones included.
fn proc_cpu(pid: &str) -> anyhow::Result<(u64, u64)> {
    let path = format!("/proc/{pid}/stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or_else(|| anyhow!("{path}: unexpected format"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field n of proc(5) is fields[n - 3]: utime 14, stime 15, num_threads 20.
    let field = |n: usize| -> anyhow::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| anyhow!("{path}: field {n} missing"))
    };
    Ok((field(14)? + field(15)?, field(20)?))
}

/// Busy ticks of the whole machine (all CPUs) from `/proc/stat`.
fn machine_busy() -> anyhow::Result<u64> {
    let text = std::fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let line = text
        .lines()
        .next()
        .filter(|l| l.starts_with("cpu "))
        .ok_or_else(|| anyhow!("/proc/stat: no cpu line"))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is already in user).
    let get = |i: usize| v.get(i).copied().unwrap_or(0);
    Ok(get(0) + get(1) + get(2) + get(5) + get(6) + get(7))
}

#[derive(Debug, Serialize)]
struct Memory {
    vm_rss_kb: u64,
    vm_hwm_kb: u64,
    threads: u64,
}

fn proc_memory(pid: u32) -> anyhow::Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let get = |key: &str| -> anyhow::Result<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow!("{path}: no {key}"))
    };
    Ok(Memory {
        vm_rss_kb: get("VmRSS:")?,
        vm_hwm_kb: get("VmHWM:")?,
        threads: get("Threads:")?,
    })
}

/// CPU counters at one instant: the server (if any), this process, the machine.
struct CpuSnapshot {
    server: Option<u64>,
    own: u64,
    machine: u64,
}

fn cpu_snapshot(pid: Option<u32>) -> anyhow::Result<CpuSnapshot> {
    Ok(CpuSnapshot {
        server: pid
            .map(|p| proc_cpu(&p.to_string()))
            .transpose()?
            .map(|c| c.0),
        own: proc_cpu("self")?.0,
        machine: machine_busy()?,
    })
}

// ---------------------------------------------------------------------------------------
// load

/// What every worker shares: the request budget and the send deadline.
struct Budget {
    limit: u64,
    issued: AtomicU64,
    send_until: Instant,
}

impl Budget {
    fn take(&self) -> bool {
        Instant::now() < self.send_until && self.issued.fetch_add(1, Ordering::Relaxed) < self.limit
    }
}

/// Builds the requests of one worker.
struct Generator {
    mode: Mode,
    secret: Arc<[u8]>,
    users: Arc<[(String, String)]>,
    next_user: usize,
    /// The Calling-Station-Id pool's size, and the next one to send.
    macs: Option<u32>,
    next_mac: u32,
    /// Accounting: requests built so far (a session is two of them).
    acct_seq: u64,
    /// Accounting: makes this run's Acct-Session-Ids unique.
    acct_prefix: String,
}

impl Generator {
    /// Encodes the next request with `id` into `out`; returns its Request Authenticator.
    fn next(&mut self, id: u8, out: &mut Vec<u8>) -> anyhow::Result<[u8; 16]> {
        let packet = match self.mode {
            Mode::Pap => {
                let (name, pw) = self
                    .users
                    .get(self.next_user)
                    .ok_or_else(|| anyhow!("no users"))?;
                self.next_user = (self.next_user + 1) % self.users.len();
                let mut p = Packet::new(Code::AccessRequest, id);
                p.authenticator = crypto::random_authenticator()?;
                p.add_str(attr::USER_NAME, name)
                    .set_user_password(pw.as_bytes())
                    .add_ipv4(attr::NAS_IP_ADDRESS, Ipv4Addr::LOCALHOST)
                    .add_u32(attr::NAS_PORT, u32::from(id));
                if let Some(n) = self.macs {
                    p.add_str(attr::CALLING_STATION_ID, &mac(self.next_mac));
                    self.next_mac = (self.next_mac + 1) % n;
                }
                p.add_message_authenticator();
                p
            }
            Mode::Status => {
                let mut p = Packet::new(Code::StatusServer, id);
                p.authenticator = crypto::random_authenticator()?;
                p.add_message_authenticator();
                p
            }
            Mode::Acct => {
                let session = self.acct_seq / 2;
                let start = self.acct_seq.is_multiple_of(2);
                self.acct_seq += 1;
                let name = match self.users.get(self.next_user) {
                    Some((n, _)) => n.as_str(),
                    None => "bench",
                };
                if !start && !self.users.is_empty() {
                    self.next_user = (self.next_user + 1) % self.users.len();
                }
                let mut p = Packet::new(Code::AccountingRequest, id);
                p.add_u32(attr::ACCT_STATUS_TYPE, if start { 1 } else { 2 })
                    .add_str(
                        attr::ACCT_SESSION_ID,
                        &format!("{}{session:08x}", self.acct_prefix),
                    )
                    .add_str(attr::USER_NAME, name)
                    .add_ipv4(attr::NAS_IP_ADDRESS, Ipv4Addr::LOCALHOST)
                    .add_u32(attr::NAS_PORT, u32::try_from(session % 65_536).unwrap_or(0))
                    .add_u32(attr::ACCT_DELAY_TIME, 0);
                if !start {
                    p.add_u32(attr::ACCT_SESSION_TIME, 60)
                        .add_u32(attr::ACCT_INPUT_OCTETS, 123_456)
                        .add_u32(attr::ACCT_OUTPUT_OCTETS, 654_321)
                        .add_u32(attr::ACCT_TERMINATE_CAUSE, 1);
                }
                p
            }
        };
        packet.encode_request_into(&self.secret, out)?;
        let auth = out
            .get(4..HEADER_LEN)
            .and_then(|a| <[u8; 16]>::try_from(a).ok())
            .ok_or_else(|| anyhow!("encoded request shorter than a header"))?;
        Ok(auth)
    }
}

/// MAC `i` of the Calling-Station-Id pool, as RFC 3580 writes it: `00-10-A4-00-00-2A`.
fn mac(i: u32) -> String {
    let [_, a, b, c] = i.to_be_bytes();
    let [x, y, z] = MAC_OUI;
    format!("{x:02X}-{y:02X}-{z:02X}-{a:02X}-{b:02X}-{c:02X}")
}

#[derive(Default, Debug, Clone, Copy, Serialize)]
struct Counts {
    sent: u64,
    access_accept: u64,
    access_reject: u64,
    accounting_response: u64,
    other_code: u64,
    timeouts: u64,
    /// Undecodable replies and replies whose authenticators do not verify.
    bad_replies: u64,
    /// Replies for an Identifier with nothing outstanding (e.g. after its timeout).
    late_replies: u64,
    send_errors: u64,
    recv_errors: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.sent += o.sent;
        self.access_accept += o.access_accept;
        self.access_reject += o.access_reject;
        self.accounting_response += o.accounting_response;
        self.other_code += o.other_code;
        self.timeouts += o.timeouts;
        self.bad_replies += o.bad_replies;
        self.late_replies += o.late_replies;
        self.send_errors += o.send_errors;
        self.recv_errors += o.recv_errors;
    }

    fn replies(&self) -> u64 {
        self.access_accept + self.access_reject + self.accounting_response + self.other_code
    }
}

#[derive(Clone, Copy)]
struct Slot {
    sent_at: Instant,
    authenticator: [u8; 16],
}

struct WorkerResult {
    counts: Counts,
    latencies_us: Vec<u32>,
    last_event: Instant,
}

struct Worker {
    socket: UdpSocket,
    window: usize,
    timeout: Duration,
    secret: Arc<[u8]>,
    budget: Arc<Budget>,
    generator: Generator,
    slots: [Option<Slot>; IDS],
    /// Free Identifiers, oldest-freed first, so a late reply rarely meets a reused one.
    free: VecDeque<u8>,
    outstanding: usize,
    counts: Counts,
    latencies_us: Vec<u32>,
    last_event: Instant,
}

impl Worker {
    fn send_one(&mut self, out: &mut Vec<u8>) -> anyhow::Result<()> {
        let Some(id) = self.free.pop_front() else {
            bail!("no free Identifier (window above {IDS})");
        };
        let authenticator = self.generator.next(id, out)?;
        let sent_at = Instant::now();
        match self.socket.send(out) {
            Ok(_) => {
                self.counts.sent += 1;
                self.slots[usize::from(id)] = Some(Slot {
                    sent_at,
                    authenticator,
                });
                self.outstanding += 1;
            }
            Err(_) => {
                // Counted and given up on, like a timeout, but without waiting for it.
                self.counts.sent += 1;
                self.counts.send_errors += 1;
                self.free.push_back(id);
            }
        }
        Ok(())
    }

    fn on_reply(&mut self, bytes: &[u8], now: Instant) {
        let Ok(view) = PacketView::decode(bytes) else {
            self.counts.bad_replies += 1;
            return;
        };
        let id = view.identifier();
        let Some(slot) = self.slots[usize::from(id)] else {
            self.counts.late_replies += 1;
            return;
        };
        let auth_ok = verify::response(&view, &slot.authenticator, &self.secret);
        let ma_ok = !matches!(
            verify::message_authenticator(&view, &self.secret, Some(&slot.authenticator)),
            MaCheck::Invalid
        );
        if !(auth_ok && ma_ok) {
            // Not the answer to what is outstanding (or forged): keep waiting for it.
            self.counts.bad_replies += 1;
            return;
        }
        self.slots[usize::from(id)] = None;
        self.free.push_back(id);
        self.outstanding -= 1;
        self.last_event = now;
        match view.code() {
            Code::AccessAccept => self.counts.access_accept += 1,
            Code::AccessReject => self.counts.access_reject += 1,
            Code::AccountingResponse => self.counts.accounting_response += 1,
            _ => self.counts.other_code += 1,
        }
        let us = now.saturating_duration_since(slot.sent_at).as_micros();
        self.latencies_us
            .push(u32::try_from(us).unwrap_or(u32::MAX));
    }

    fn expire(&mut self, now: Instant) {
        for id in 0..IDS {
            if let Some(slot) = self.slots[id]
                && now.saturating_duration_since(slot.sent_at) >= self.timeout
            {
                self.slots[id] = None;
                self.free.push_back(u8::try_from(id).unwrap_or(u8::MAX));
                self.outstanding -= 1;
                self.counts.timeouts += 1;
                self.last_event = now;
            }
        }
    }

    fn run(mut self) -> anyhow::Result<WorkerResult> {
        let poll = (self.timeout / 4).clamp(Duration::from_millis(1), Duration::from_millis(50));
        self.socket.set_read_timeout(Some(poll))?;
        let mut out = Vec::with_capacity(MAX_PACKET_LEN);
        let mut buf = vec![0u8; MAX_PACKET_LEN + 1];
        let mut next_scan = Instant::now() + poll;
        loop {
            while self.outstanding < self.window && self.budget.take() {
                self.send_one(&mut out)?;
            }
            if self.outstanding == 0 {
                break;
            }
            match self.socket.recv(&mut buf) {
                Ok(len) => {
                    let now = Instant::now();
                    if let Some(bytes) = buf.get(..len) {
                        self.on_reply(bytes, now);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                // ICMP port unreachable and the like: the request stays outstanding.
                Err(_) => self.counts.recv_errors += 1,
            }
            let now = Instant::now();
            if now >= next_scan {
                self.expire(now);
                next_scan = now + poll;
            }
        }
        Ok(WorkerResult {
            counts: self.counts,
            latencies_us: self.latencies_us,
            last_event: self.last_event,
        })
    }
}

fn read_secret(path: &Path) -> anyhow::Result<Arc<[u8]>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    ensure!(!line.is_empty(), "{}: empty secret", path.display());
    Ok(Arc::from(line.as_bytes()))
}

fn read_users(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut users = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, pw) = line
            .split_once(':')
            .ok_or_else(|| anyhow!("{}:{}: expected user:password", path.display(), i + 1))?;
        users.push((name.to_string(), pw.to_string()));
    }
    ensure!(!users.is_empty(), "{}: no users", path.display());
    Ok(users)
}

/// Percentile (nearest rank) of sorted microsecond latencies, in milliseconds.
fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).map_or(0.0, |v| f64::from(*v) / 1000.0)
}

#[derive(Debug, Serialize)]
struct Latency {
    mean_ms: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct ServerCost {
    pid: u32,
    cpu_s: f64,
    /// Server CPU time per reply received.
    cpu_us_per_req: f64,
    /// Average cores the server kept busy.
    cpu_cores: f64,
    #[serde(flatten)]
    memory_after: Memory,
}

#[derive(Debug, Serialize)]
struct LoadReport {
    mode: Mode,
    server: SocketAddr,
    concurrency: usize,
    sockets: usize,
    /// The Calling-Station-Id pool's size, if requests carried one.
    calling_station_ids: Option<u32>,
    #[serde(flatten)]
    counts: Counts,
    replies: u64,
    elapsed_s: f64,
    /// Replies per second.
    rps: f64,
    latency: Latency,
    server_cost: Option<ServerCost>,
    /// This load generator's CPU time per reply.
    client_cpu_us_per_req: f64,
    /// Average cores used by everything except the server and this tool during the run.
    other_cpu_cores: f64,
    clock_ticks: f64,
}

fn load(a: &LoadArgs) -> anyhow::Result<()> {
    ensure!(
        a.server.ip().is_loopback(),
        "--server must be a loopback address (benchmarks stay on this machine)"
    );
    ensure!(a.concurrency >= 1, "--concurrency must be at least 1");
    let sockets = a
        .sockets
        .unwrap_or_else(|| a.concurrency.div_ceil(128))
        .max(1);
    ensure!(
        sockets <= a.concurrency,
        "--sockets must not exceed --concurrency"
    );
    ensure!(
        a.concurrency.div_ceil(sockets) <= IDS,
        "at most {IDS} outstanding per socket: raise --sockets"
    );
    ensure!(a.timeout_ms >= 1, "--timeout-ms must be at least 1");
    let duration = a
        .duration_secs
        .map(|s| {
            ensure!(s.is_finite() && s > 0.0, "--duration-secs must be positive");
            Ok(Duration::from_secs_f64(s))
        })
        .transpose()?;
    let limit = match (a.requests, duration) {
        (Some(n), _) => n,
        (None, Some(_)) => u64::MAX,
        (None, None) => DEFAULT_REQUESTS,
    };
    ensure!(limit >= 1, "--requests must be at least 1");
    ensure!(
        a.calling_station_ids.is_none() || a.mode == Mode::Pap,
        "--calling-station-ids is for --mode pap"
    );
    let secret = read_secret(&a.secret_file)?;
    let users: Arc<[(String, String)]> = match &a.users {
        Some(p) => read_users(p)?.into(),
        None if a.mode == Mode::Pap => bail!("--mode pap needs --users"),
        None => Arc::from(Vec::new()),
    };
    let mut nonce = [0u8; 4];
    getrandom::fill(&mut nonce).map_err(|e| anyhow!("getrandom: {e}"))?;
    let run_id: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let ticks = clock_ticks();

    // Sockets are set up before the clock starts.
    let mut workers = Vec::with_capacity(sockets);
    for w in 0..sockets {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a UDP socket")?;
        socket
            .connect(a.server)
            .with_context(|| format!("connecting to {}", a.server))?;
        let window = a.concurrency / sockets + usize::from(w < a.concurrency % sockets);
        let generator = Generator {
            mode: a.mode,
            secret: Arc::clone(&secret),
            users: Arc::clone(&users),
            next_user: if users.is_empty() {
                0
            } else {
                w * users.len() / sockets
            },
            macs: a.calling_station_ids,
            next_mac: a.calling_station_ids.map_or(0, |n| {
                // Spread like the users: worker w starts w/sockets of the way into the pool.
                let of = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
                u32::try_from(u64::from(n) * of(w) / of(sockets)).unwrap_or(0)
            }),
            acct_seq: 0,
            acct_prefix: format!("{run_id}-{w}-"),
        };
        workers.push((socket, window, generator));
    }

    let before = cpu_snapshot(a.pid)?;
    let started = Instant::now();
    let budget = Arc::new(Budget {
        limit,
        issued: AtomicU64::new(0),
        send_until: started + duration.unwrap_or(MAX_RUN),
    });
    let timeout = Duration::from_millis(a.timeout_ms);
    let handles: Vec<_> = workers
        .into_iter()
        .enumerate()
        .map(|(w, (socket, window, generator))| {
            let worker = Worker {
                socket,
                window,
                timeout,
                secret: Arc::clone(&secret),
                budget: Arc::clone(&budget),
                generator,
                slots: [None; IDS],
                free: (0..=u8::MAX).collect(),
                outstanding: 0,
                counts: Counts::default(),
                latencies_us: Vec::new(),
                last_event: started,
            };
            std::thread::Builder::new()
                .name(format!("bench-{w}"))
                .spawn(move || worker.run())
                .context("spawning a worker thread")
        })
        .collect::<anyhow::Result<_>>()?;
    let mut counts = Counts::default();
    let mut latencies = Vec::new();
    let mut last_event = started;
    for h in handles {
        let r = h
            .join()
            .map_err(|_| anyhow!("a worker thread panicked"))??;
        counts.add(&r.counts);
        latencies.extend_from_slice(&r.latencies_us);
        last_event = last_event.max(r.last_event);
    }
    let after = cpu_snapshot(a.pid)?;
    let elapsed = last_event.saturating_duration_since(started).as_secs_f64();
    latencies.sort_unstable();

    let replies = counts.replies();
    #[allow(clippy::cast_precision_loss)]
    let per_reply = |ticks_used: u64| -> f64 {
        if replies == 0 {
            0.0
        } else {
            ticks_used as f64 / ticks * 1e6 / replies as f64
        }
    };
    #[allow(clippy::cast_precision_loss)]
    let cores = |ticks_used: u64| -> f64 {
        if elapsed > 0.0 {
            ticks_used as f64 / ticks / elapsed
        } else {
            0.0
        }
    };
    let server_ticks = match (before.server, after.server) {
        (Some(b), Some(e)) => e.saturating_sub(b),
        _ => 0,
    };
    let own_ticks = after.own.saturating_sub(before.own);
    let other_ticks = after
        .machine
        .saturating_sub(before.machine)
        .saturating_sub(server_ticks + own_ticks);
    let server_cost = match a.pid {
        Some(pid) => Some(ServerCost {
            pid,
            #[allow(clippy::cast_precision_loss)]
            cpu_s: server_ticks as f64 / ticks,
            cpu_us_per_req: per_reply(server_ticks),
            cpu_cores: cores(server_ticks),
            memory_after: proc_memory(pid)?,
        }),
        None => None,
    };
    #[allow(clippy::cast_precision_loss)]
    let mean_ms = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().map(|v| f64::from(*v)).sum::<f64>() / latencies.len() as f64 / 1000.0
    };
    #[allow(clippy::cast_precision_loss)]
    let rps = if elapsed > 0.0 {
        replies as f64 / elapsed
    } else {
        0.0
    };
    let report = LoadReport {
        mode: a.mode,
        server: a.server,
        concurrency: a.concurrency,
        sockets,
        calling_station_ids: a.calling_station_ids,
        counts,
        replies,
        elapsed_s: elapsed,
        rps,
        latency: Latency {
            mean_ms,
            p50_ms: percentile_ms(&latencies, 50.0),
            p90_ms: percentile_ms(&latencies, 90.0),
            p99_ms: percentile_ms(&latencies, 99.0),
            max_ms: latencies.last().map_or(0.0, |v| f64::from(*v) / 1000.0),
        },
        server_cost,
        client_cpu_us_per_req: per_reply(own_ticks),
        other_cpu_cores: cores(other_ticks),
        clock_ticks: ticks,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_load(&report);
    }
    Ok(())
}

fn print_load(r: &LoadReport) {
    let c = &r.counts;
    println!(
        "{:?} load on {}: concurrency {} over {} socket(s)",
        r.mode, r.server, r.concurrency, r.sockets
    );
    if let Some(n) = r.calling_station_ids {
        println!("  Calling-Station-Id from a pool of {n} MACs");
    }
    println!(
        "  sent {}  replies {} (accept {}, reject {}, accounting-response {}, other {})",
        c.sent, r.replies, c.access_accept, c.access_reject, c.accounting_response, c.other_code
    );
    println!(
        "  timeouts {}  bad replies {}  late replies {}  send errors {}  recv errors {}",
        c.timeouts, c.bad_replies, c.late_replies, c.send_errors, c.recv_errors
    );
    println!(
        "  elapsed {:.3} s  throughput {:.0} replies/s",
        r.elapsed_s, r.rps
    );
    let l = &r.latency;
    println!(
        "  latency ms: mean {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        l.mean_ms, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms
    );
    if let Some(s) = &r.server_cost {
        println!(
            "  server pid {}: cpu {:.2} s = {:.1} µs/request ({:.2} cores); VmRSS {} kB, VmHWM {} kB, {} threads",
            s.pid,
            s.cpu_s,
            s.cpu_us_per_req,
            s.cpu_cores,
            s.memory_after.vm_rss_kb,
            s.memory_after.vm_hwm_kb,
            s.memory_after.threads
        );
    }
    println!(
        "  load generator {:.1} µs/request; everything else on the machine {:.2} cores",
        r.client_cpu_us_per_req, r.other_cpu_cores
    );
}

// ---------------------------------------------------------------------------------------
// hash

#[derive(Debug, Serialize)]
struct HashReport {
    kind: &'static str,
    iterations: u32,
    /// Median over batches of `iterations / 10` verifications (what the bound uses).
    us_per_verify: f64,
    /// Fastest and slowest batch, to show the noise.
    us_per_verify_min: f64,
    us_per_verify_max: f64,
    cores: usize,
    /// Average cores used by everything else on the machine during the single-thread timing.
    other_cpu_cores: f64,
    /// `cores / time per verification`: the most verifications per second the machine can do.
    bound_per_s: f64,
    threads: usize,
    /// Verifications per second measured with `threads` threads (when above 1).
    measured_parallel_per_s: Option<f64>,
}

fn time_verifies(stored: &str, password: &[u8], n: u32) -> anyhow::Result<Duration> {
    let t = Instant::now();
    for _ in 0..n {
        ensure!(
            password::verify(stored, std::hint::black_box(password)).is_match(),
            "password does not match the hash"
        );
    }
    Ok(t.elapsed())
}

fn hash(a: &HashArgs) -> anyhow::Result<()> {
    ensure!(a.iterations >= 1, "--iterations must be at least 1");
    ensure!(a.threads >= 1, "--threads must be at least 1");
    let kind = password::check_hash(&a.hash).map_err(|e| anyhow!("--hash: {e}"))?;
    let pw = a.password.as_bytes();
    time_verifies(&a.hash, pw, 3.min(a.iterations))?; // warm-up, and checks the password
    // Ten batches (fewer when there are fewer iterations): the median resists a burst of
    // noise from elsewhere on the machine better than one long average.
    let batches = a.iterations.min(10);
    let mut per_batch = Vec::new();
    let mut done = 0;
    let before = cpu_snapshot(None)?;
    let timing = Instant::now();
    for b in 0..batches {
        let n = (a.iterations - done) / (batches - b);
        let t = time_verifies(&a.hash, pw, n)?;
        per_batch.push(t.as_secs_f64() * 1e6 / f64::from(n));
        done += n;
    }
    let after = cpu_snapshot(None)?;
    let other_ticks = after
        .machine
        .saturating_sub(before.machine)
        .saturating_sub(after.own.saturating_sub(before.own));
    #[allow(clippy::cast_precision_loss)]
    let other_cpu_cores = other_ticks as f64 / clock_ticks() / timing.elapsed().as_secs_f64();
    per_batch.sort_by(f64::total_cmp);
    let us_per_verify = match per_batch.len() {
        0 => bail!("no batches timed"),
        n if n % 2 == 1 => per_batch[n / 2],
        n => f64::midpoint(per_batch[n / 2 - 1], per_batch[n / 2]),
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    #[allow(clippy::cast_precision_loss)]
    let bound_per_s = cores as f64 * 1e6 / us_per_verify;
    let measured_parallel_per_s = if a.threads > 1 {
        let t = Instant::now();
        std::thread::scope(|s| -> anyhow::Result<()> {
            let hs: Vec<_> = (0..a.threads)
                .map(|_| s.spawn(|| time_verifies(&a.hash, pw, a.iterations)))
                .collect();
            for h in hs {
                h.join()
                    .map_err(|_| anyhow!("a hashing thread panicked"))??;
            }
            Ok(())
        })?;
        #[allow(clippy::cast_precision_loss)]
        Some(f64::from(a.iterations) * a.threads as f64 / t.elapsed().as_secs_f64())
    } else {
        None
    };
    let report = HashReport {
        kind: kind.as_str(),
        iterations: a.iterations,
        us_per_verify,
        us_per_verify_min: per_batch.first().copied().unwrap_or_default(),
        us_per_verify_max: per_batch.last().copied().unwrap_or_default(),
        cores,
        other_cpu_cores,
        bound_per_s,
        threads: a.threads,
        measured_parallel_per_s,
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{}: {:.1} µs per verification (1 thread, {} iterations, median of {} batches; \
             fastest {:.1}, slowest {:.1})",
            report.kind,
            report.us_per_verify,
            report.iterations,
            batches,
            report.us_per_verify_min,
            report.us_per_verify_max
        );
        println!(
            "bound: {} cores / {:.1} µs = {:.0} verifications/s",
            report.cores, report.us_per_verify, report.bound_per_s
        );
        if let Some(m) = report.measured_parallel_per_s {
            println!(
                "measured with {} threads: {m:.0} verifications/s",
                a.threads
            );
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// rss

fn rss(a: &RssArgs) -> anyhow::Result<()> {
    let m = proc_memory(a.pid)?;
    if a.json {
        println!("{}", serde_json::to_string(&m)?);
    } else {
        println!(
            "pid {}: VmRSS {} kB, VmHWM {} kB, {} threads",
            a.pid, m.vm_rss_kb, m.vm_hwm_kb, m.threads
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// quiet

#[derive(Debug, Serialize)]
struct QuietReport {
    quiet: bool,
    /// Busy cores in the last window.
    busy_cores: f64,
    waited_s: f64,
}

fn quiet(a: &QuietArgs) -> anyhow::Result<()> {
    ensure!(a.window_ms >= 100, "--window-ms must be at least 100");
    ensure!(
        a.timeout_secs.is_finite() && a.timeout_secs >= 0.0,
        "--timeout-secs must not be negative"
    );
    let ticks = clock_ticks();
    let window = Duration::from_millis(a.window_ms);
    let give_up = Duration::from_secs_f64(a.timeout_secs);
    let started = Instant::now();
    let report = loop {
        let before = machine_busy()?;
        let t = Instant::now();
        std::thread::sleep(window);
        let used = machine_busy()?.saturating_sub(before);
        #[allow(clippy::cast_precision_loss)]
        let busy_cores = used as f64 / ticks / t.elapsed().as_secs_f64();
        let quiet = busy_cores <= a.max_cores;
        if quiet || started.elapsed() >= give_up {
            break QuietReport {
                quiet,
                busy_cores,
                waited_s: started.elapsed().as_secs_f64(),
            };
        }
    };
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{} after {:.1} s: {:.2} cores busy",
            if report.quiet { "quiet" } else { "NOT quiet" },
            report.waited_s,
            report.busy_cores
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_macs_are_rfc_3580_and_universally_administered() {
        assert_eq!(mac(0), "00-10-A4-00-00-00");
        assert_eq!(mac(42), "00-10-A4-00-00-2A");
        assert_eq!(mac(9_999), "00-10-A4-00-27-0F");
        let last = u32::try_from(MAX_MACS - 1).unwrap_or(0);
        assert_eq!(mac(last), "00-10-A4-FF-FF-FF");
        // The locally administered bit (0x02 of the first octet) marks randomised MACs.
        assert_eq!(MAC_OUI[0] & 0x02, 0);
    }
}
