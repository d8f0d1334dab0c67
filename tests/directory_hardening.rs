//! Directory hardening end to end: a real slapd, the real daemon and gatehousectl, RADIUS
//! over real UDP. A hung directory never delays local users (F13), every rejection costs
//! the same (F15), UPN logins and ambiguous bare names, sync progress as it happens and a
//! forced preview.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use common::directory::{add_directory, add_directory_at};
use common::slapd::{Slapd, SlapdOptions};
use common::{Daemon, access_request, check_reply, exchange};
use gatehouse::directory::passthrough::{BIND_TIMEOUT, POOL_WAIT, TRIP_AFTER};
use gatehouse::radius::proto::Code;
use serde_json::Value;

/// One Access-Request with Message-Authenticator from a fresh socket: the reply's code
/// (checked as a careful NAS would) or `None` when nothing came within `wait`, and how
/// long it took.
fn login(
    server: SocketAddr,
    user: &str,
    password: &str,
    wait: Duration,
) -> (Option<Code>, Duration) {
    let (bytes, auth) = access_request(7, user, password, true);
    let t = Instant::now();
    let reply = exchange(server, &bytes, wait);
    let took = t.elapsed();
    (reply.map(|r| check_reply(&r, &auth)), took)
}

fn median(mut v: Vec<Duration>) -> Duration {
    assert!(!v.is_empty());
    v.sort();
    v[v.len() / 2]
}

fn signal(sig: &str, pid: u32) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(st.success(), "kill -{sig} {pid}");
}

/// slapd frozen by SIGSTOP: the kernel still completes TCP connects, nothing answers.
/// Thawed (SIGCONT) when dropped — declared after the `Slapd`, so it is dropped first and
/// a failing test never leaves a stopped slapd that SIGTERM could not end.
struct Frozen(u32);

impl Frozen {
    fn new(slapd: &Slapd) -> Self {
        let pid = slapd.pid();
        signal("STOP", pid);
        Frozen(pid)
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-CONT")
            .arg(self.0.to_string())
            .status();
    }
}

fn count(counters: &Value, path: &[&str]) -> u64 {
    let mut v = counters;
    for p in path {
        v = &v[*p];
    }
    v.as_u64().unwrap_or(0)
}

/// Directory logins answered before a bind could have timed out: those that gave up
/// waiting for a pooled connection.
fn answered_early(logins: &[(Option<Code>, Duration)]) -> u64 {
    logins
        .iter()
        .filter(|(c, t)| c.is_some() && *t < BIND_TIMEOUT)
        .count() as u64
}

/// Held by the tests that measure time, so that they do not measure each other.
fn timing() -> std::sync::MutexGuard<'static, ()> {
    static TIMING: Mutex<()> = Mutex::new(());
    TIMING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A daemon with client `nas` (127.0.0.1) and directory CORP synced from `slapd`.
fn daemon_with_corp(slapd: &Slapd) -> Daemon {
    let d = Daemon::start();
    d.add_client("nas", true);
    let out = add_directory(&d, slapd, "CORP", &slapd.ldap_url(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.ctl_ok(&["directory", "sync", "CORP"], "");
    d
}

// F13. On the old code a pass-through check waited for a pooled connection without a
// bound and bound with the sync's 60 s search timeout, and a hung directory was asked
// again on every login: none of these directory logins was answered or dropped within
// the bound, and the logins after them hung just the same. With the pool wait and the
// breaker in place it still failed, on two counts: a bind that timed out was tried again
// on a fresh connection (2 × BIND_TIMEOUT, past the bound), and the logins that gave up
// waiting for the pool all paid their dummy argon2id at the same moment, queued ahead of
// the local users' hashes (a local login took 1.04 s).
#[test]
fn a_hung_directory_never_delays_local_users_and_trips_its_breaker() {
    let _timing = timing();
    let slapd = Slapd::start(SlapdOptions {
        users: 60,
        ..SlapdOptions::default()
    });
    let d = daemon_with_corp(&slapd);
    d.add_user("alice", "correct horse");
    let server = d.auth;
    let wait = Duration::from_secs(3);

    // Before the hang: a directory login (its pool and bind time exist) and the cost of a
    // rejection that never reaches the directory.
    let (code, _) = login(server, "CORP\\u00020", &slapd.password_of("u00020"), wait);
    assert_eq!(code, Some(Code::AccessAccept));
    let unknown = median(
        (0..5)
            .map(|_| {
                let (code, took) = login(server, "nobody-at-all", "whatever", wait);
                assert_eq!(code, Some(Code::AccessReject));
                took
            })
            .collect(),
    );
    let before = d.client_counters("nas");

    let frozen = Frozen::new(&slapd);
    let burst = 30;
    // Answered or dropped within the pool wait plus one bind timeout, with slack for a
    // dummy argon2 on a busy 2-core machine.
    let bound = POOL_WAIT + BIND_TIMEOUT + Duration::from_millis(1500);
    let stop = AtomicBool::new(false);
    let (locals, directory) = std::thread::scope(|s| {
        let local = s.spawn(|| {
            let mut seen = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                seen.push(login(server, "alice", "correct horse", wait));
                std::thread::sleep(Duration::from_millis(50));
            }
            seen
        });
        let logins: Vec<_> = (0..burst)
            .map(|i| {
                // u00011…: active users (u00003 and u00004 are disabled in the directory).
                let uid = format!("u{:05}", i + 11);
                let pw = slapd.password_of(&uid);
                s.spawn(move || login(server, &format!("CORP\\{uid}"), &pw, bound))
            })
            .collect();
        let directory: Vec<_> = logins.into_iter().map(|h| h.join().unwrap()).collect();
        stop.store(true, Ordering::SeqCst);
        (local.join().unwrap(), directory)
    });

    // Every local login was answered, each within a second, all through the hang.
    assert!(locals.len() >= 10, "too few local logins: {locals:?}");
    for (code, took) in &locals {
        assert_eq!(*code, Some(Code::AccessAccept), "{locals:?}");
        assert!(
            *took < Duration::from_secs(1),
            "local login took {took:?}: {locals:?}"
        );
    }
    // No directory login was accepted; each was rejected within the bound or dropped.
    assert!(
        directory
            .iter()
            .all(|(c, _)| *c != Some(Code::AccessAccept)),
        "{directory:?}"
    );
    let answered = directory.iter().filter(|(c, _)| c.is_some()).count() as u64;
    assert!(answered > 0, "{directory:?}");
    // "Dropped" is the daemon's word, not a hang: by the bound it counted every one.
    let after = d.client_counters("nas");
    let rejected = count(&after, &["rejects"]) - count(&before, &["rejects"]);
    let stale = count(&after, &["drops", "stale"]) - count(&before, &["drops", "stale"]);
    assert_eq!(rejected, answered, "{after}");
    assert_eq!(
        rejected + stale,
        burst,
        "every login answered or dropped by {bound:?}: {directory:?} {after}"
    );

    // The binds that timed out (TRIP_AFTER of them in a row are enough) took the
    // directory down: its users are now rejected at once, at the cost of any other
    // rejection.
    assert!(burst - answered_early(&directory) >= u64::from(TRIP_AFTER));
    assert!(
        common::wait_until(Duration::from_secs(5), || d
            .log_text()
            .contains("directory taken as down")),
        "{}",
        d.log_text()
    );
    let fast: Vec<Duration> = (0..5)
        .map(|i| {
            let uid = format!("u{:05}", 41 + i);
            let (code, took) = login(
                server,
                &format!("CORP\\{uid}"),
                &slapd.password_of(&uid),
                wait,
            );
            assert_eq!(code, Some(Code::AccessReject), "{uid}");
            assert!(took < POOL_WAIT, "{uid} waited {took:?}");
            took
        })
        .collect();
    let fast = median(fast);
    assert!(
        fast < unknown + Duration::from_millis(100),
        "down directory: {fast:?} against {unknown:?} for an unknown user"
    );
    drop(frozen);
}

// F15. On the old code only unknown users (and local users without a usable hash) paid
// the dummy argon2id: a wrong password for an {SSHA} or sha512-crypt user was answered
// after the cheap hash alone, and a directory user's after the bind alone, both far below
// the argon2id time (0.4 ms, 3 ms and 0.3 ms against 53 ms in the review).
#[test]
fn every_rejection_costs_the_same_unknown_legacy_argon2_and_directory_users() {
    let _timing = timing();
    let slapd = Slapd::start(SlapdOptions {
        users: 30,
        ..SlapdOptions::default()
    });
    let d = daemon_with_corp(&slapd);
    let server = d.auth;
    d.add_user("argon", "right argon");
    let ssha = common::slapd::ssha("right ssha", "legacy");
    assert!(ssha.starts_with("{SSHA}"));
    d.ctl_ok(
        &["user", "add", "legacy-ssha", "--password-hash-stdin"],
        &format!("{ssha}\n"),
    );
    // `openssl passwd -6 -salt saltsalt secret`
    d.ctl_ok(
        &["user", "add", "legacy-crypt", "--password-hash-stdin"],
        "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1\n",
    );
    let dir_pw = slapd.password_of("u00021");
    // (label, user, password, expected reply). The directory user's accept is the bind
    // alone (accepts are not padded): the floor the rejections are measured against.
    let cases: [(&str, &str, &str, Code); 6] = [
        ("unknown", "nobody-here", "wrong", Code::AccessReject),
        ("{SSHA}", "legacy-ssha", "wrong", Code::AccessReject),
        ("sha512-crypt", "legacy-crypt", "wrong", Code::AccessReject),
        ("argon2id", "argon", "wrong", Code::AccessReject),
        ("directory", "CORP\\u00020", "wrong", Code::AccessReject),
        (
            "directory accept",
            "CORP\\u00021",
            &dir_pw,
            Code::AccessAccept,
        ),
    ];
    let wait = Duration::from_secs(3);
    // Warm up: the directory's pool and bind time exist, every path has run once.
    for (label, user, pw, want) in &cases {
        assert_eq!(login(server, user, pw, wait).0, Some(*want), "{label}");
    }
    // Interleaved, so that a noisy moment falls on every kind alike.
    let mut took: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for _ in 0..15 {
        for (i, (label, user, pw, want)) in cases.iter().enumerate() {
            let (code, t) = login(server, user, pw, wait);
            assert_eq!(code, Some(*want), "{label}");
            took[i].push(t);
        }
    }
    let medians: Vec<(&str, Duration)> = cases
        .iter()
        .zip(took)
        .map(|((label, ..), t)| (*label, median(t)))
        .collect();
    eprintln!("medians: {medians:?}");
    let (rejections, accept) = medians.split_at(cases.len() - 1);
    let floor = accept[0].1;
    let slowest = rejections.iter().map(|(_, m)| *m).max().unwrap();
    // What equalise guarantees: every rejection costs at least one argon2id verification
    // (the dummy one on top of a cheaper failed check) and at least the slowest
    // directory's bind time. So none is much cheaper than the dearest, and none is
    // cheaper than a bind.
    for (label, m) in rejections {
        assert!(
            *m * 2 >= slowest,
            "{label} rejected in {m:?}, the slowest in {slowest:?}: {medians:?}"
        );
        assert!(
            *m >= floor,
            "{label} rejected faster than a bind: {medians:?}"
        );
    }
    // The measurement tells an argon2id verification from a bind: the band above means
    // something.
    assert!(
        floor * 3 < slowest,
        "an accepted bind ({floor:?}) is not far below argon2id ({slowest:?}): {medians:?}"
    );
}

/// The newest audit record of an authentication by `target` (the User-Name as sent),
/// waited for: authentication records are committed in the background.
fn auth_record(d: &Daemon, target: &str) -> Value {
    let mut found = Value::Null;
    let seen = common::wait_until(Duration::from_secs(10), || {
        if let Some(r) = d
            .auth_records(100)
            .into_iter()
            .find(|r| r["target"] == target)
        {
            found = r.clone();
            return true;
        }
        false
    });
    assert!(seen, "no authentication record for {target}");
    found
}

fn ldap_user(dn: &str, uid: &str, password: &str) -> String {
    format!(
        "dn: {dn}\nobjectClass: inetOrgPerson\nobjectClass: gatehouseTestAccount\n\
         uid: {uid}\ncn: {uid}\nsn: {uid}\nuserPassword: {password}\n\n"
    )
}

// On the old code `--upn-suffix` did not exist (a UPN's suffix was taken as a domain
// name), and a bare name held by users of two domains named nobody: it was rejected and
// audited as `no_user`.
#[test]
fn upn_suffixes_name_a_directory_and_a_bare_name_in_two_domains_is_ambiguous() {
    let slapd = Slapd::start(SlapdOptions {
        users: 20,
        ..SlapdOptions::default()
    });
    // alice and bob in CORP (ou=People), another bob in LAB (ou=Empty).
    let people = slapd.people_dn();
    let lab_base = slapd.empty_ou_dn();
    slapd.modify(&format!(
        "{}{}{}",
        ldap_user(
            &format!("uid=alice,ou=Engineering,{people}"),
            "alice",
            "pw-corp-alice"
        ),
        ldap_user(&format!("uid=bob,ou=Sales,{people}"), "bob", "pw-corp-bob"),
        ldap_user(&format!("uid=bob,{lab_base}"), "bob", "pw-lab-bob"),
    ));
    let d = Daemon::start();
    d.add_client("nas", true);
    let url = slapd.ldap_url();
    let out = add_directory(&d, &slapd, "CORP", &url, &["--upn-suffix", "corp.example"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = add_directory_at(&d, &slapd, "LAB", &url, &lab_base, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d.ctl_ok(
        &["directory", "edit", "LAB", "--upn-suffix", "lab.example"],
        "",
    );
    let lab = d.ctl_json(&["directory", "show", "LAB"], "");
    assert_eq!(
        lab["directory"]["upn_suffixes"],
        serde_json::json!(["lab.example"])
    );
    for name in ["CORP", "LAB"] {
        d.ctl_ok(&["directory", "sync", name], "");
    }
    let wait = Duration::from_secs(3);
    let answer = |user: &str, pw: &str| login(d.auth, user, pw, wait).0;

    // A UPN names its directory's user, whatever the suffix's case.
    for upn in ["alice@corp.example", "alice@CORP.Example"] {
        assert_eq!(
            answer(upn, "pw-corp-alice"),
            Some(Code::AccessAccept),
            "{upn}"
        );
        let rec = auth_record(&d, upn);
        assert_eq!(rec["outcome"], "accept", "{rec}");
        assert_eq!(
            rec["tags"]["domain"], "CORP",
            "logged in as CORP\\alice: {rec}"
        );
        assert_eq!(rec["tags"]["target_id"], "alice", "{rec}");
    }
    assert_eq!(
        answer("alice@corp.example", "wrong"),
        Some(Code::AccessReject)
    );
    // Each suffix names its own directory's bob.
    assert_eq!(
        answer("bob@lab.example", "pw-lab-bob"),
        Some(Code::AccessAccept)
    );
    assert_eq!(
        answer("bob@lab.example", "pw-corp-bob"),
        Some(Code::AccessReject)
    );
    assert_eq!(
        answer("bob@corp.example", "pw-corp-bob"),
        Some(Code::AccessAccept)
    );

    // A bare bob is in two domains: rejected even with a right password, and audited
    // as ambiguous rather than as nobody.
    assert_eq!(answer("bob", "pw-corp-bob"), Some(Code::AccessReject));
    let rec = auth_record(&d, "bob");
    assert_eq!(rec["outcome"], "reject", "{rec}");
    assert_eq!(rec["tags"]["reason"], "ambiguous", "{rec}");
    assert_eq!(rec["detail"]["code"], "ambiguous", "{rec}");
    assert!(rec["tags"]["domain"].is_null(), "{rec}");
    // Somebody nobody holds is still no_user.
    assert_eq!(answer("carol", "whatever"), Some(Code::AccessReject));
    assert_eq!(auth_record(&d, "carol")["tags"]["reason"], "no_user");
    // Named with its domain, each bob logs in.
    assert_eq!(answer("CORP\\bob", "pw-corp-bob"), Some(Code::AccessAccept));
    let rec = auth_record(&d, "CORP\\bob");
    assert_eq!(rec["tags"]["domain"], "CORP", "{rec}");
    assert_eq!(answer("LAB\\bob", "pw-lab-bob"), Some(Code::AccessAccept));
    // alice is in one domain only: her bare name is hers.
    assert_eq!(answer("alice", "pw-corp-alice"), Some(Code::AccessAccept));
}

/// A TCP relay in front of slapd that passes the daemon's first `let_through` LDAP search
/// requests and holds later ones until [`Gate::open`]: a paged search then has its first
/// pages and cannot get further, however fast the machine is.
struct Gate {
    addr: SocketAddr,
    open: Arc<(Mutex<bool>, Condvar)>,
    closed: Arc<AtomicBool>,
}

/// The length of the BER element at the start of `buf` (tag, length, contents), once
/// `buf` holds its header.
fn ber_len(buf: &[u8]) -> Option<usize> {
    let first = *buf.get(1)?;
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let n = usize::from(first & 0x7f);
    let bytes = buf.get(2..2 + n)?;
    Some(2 + n + bytes.iter().fold(0usize, |a, b| a << 8 | usize::from(*b)))
}

/// The protocolOp tag of the LDAPMessage `msg`: after the SEQUENCE header and the
/// messageID (an INTEGER, short length).
fn ldap_op(msg: &[u8]) -> u8 {
    let header = if msg[1] < 0x80 {
        2
    } else {
        2 + usize::from(msg[1] & 0x7f)
    };
    msg[header + 2 + usize::from(msg[header + 1])]
}

impl Gate {
    fn new(upstream: u16, let_through: usize) -> Gate {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let closed = Arc::new(AtomicBool::new(false));
        let searches = Arc::new(AtomicUsize::new(0));
        let (gate, done) = (Arc::clone(&open), Arc::clone(&closed));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = conn else { continue };
                let server = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let (mut from_server, mut to_client) =
                    (server.try_clone().unwrap(), client.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Both);
                });
                let (gate, searches) = (Arc::clone(&gate), Arc::clone(&searches));
                std::thread::spawn(move || {
                    relay_requests(client, server, &gate, &searches, let_through)
                });
            }
        });
        Gate { addr, open, closed }
    }

    fn url(&self) -> String {
        format!("ldap://{}", self.addr)
    }

    /// Lets every held and later request through.
    fn open(&self) {
        let (lock, cv) = &*self.open;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.open();
        self.closed.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop so that it ends
    }
}

/// Copies LDAP messages from `client` to `server` whole, holding each search request
/// past the first `let_through` until the gate opens.
fn relay_requests(
    mut client: TcpStream,
    mut server: TcpStream,
    gate: &(Mutex<bool>, Condvar),
    searches: &AtomicUsize,
    let_through: usize,
) {
    const SEARCH_REQUEST: u8 = 0x63; // [APPLICATION 3], constructed
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        while let Some(len) = ber_len(&buf).filter(|l| buf.len() >= *l) {
            let msg: Vec<u8> = buf.drain(..len).collect();
            if ldap_op(&msg) == SEARCH_REQUEST
                && searches.fetch_add(1, Ordering::SeqCst) >= let_through
            {
                let (lock, cv) = gate;
                let mut open = lock.lock().unwrap();
                while !*open {
                    open = cv.wait(open).unwrap();
                }
            }
            if server.write_all(&msg).is_err() {
                return;
            }
        }
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => {
                let _ = server.shutdown(std::net::Shutdown::Both);
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// `(entries, pages)` of a progress line `fetched N entries (P pages)`.
fn progress_of(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("fetched ")?;
    let (entries, rest) = rest.split_once(" entries (")?;
    let pages = rest.strip_suffix(" pages)")?;
    Some((entries.parse().ok()?, pages.parse().ok()?))
}

// On the old code gatehousectl dropped the daemon's progress updates (nothing was printed
// until the run ended) and `directory preview` had no --force (a usage error).
#[test]
fn sync_prints_progress_as_pages_arrive_and_preview_force_shows_the_forced_run() {
    let slapd = Slapd::start(SlapdOptions {
        users: 450,
        ..SlapdOptions::default()
    });
    let d = Daemon::start();
    // The first page's request goes through; the second waits for the test. (Dropped
    // before the daemon: a failing test leaves no sync waiting behind the gate.)
    let gate = Gate::new(slapd.port(), 1);
    let out = add_directory(&d, &slapd, "CORP", &gate.url(), &["--page-size", "100"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut sync = Command::new(env!("CARGO_BIN_EXE_gatehousectl"))
        .arg("--socket")
        .arg(d.socket())
        .args(["directory", "sync", "CORP"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = sync.stderr.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let first = lines
        .recv_timeout(Duration::from_secs(20))
        .expect("a progress line");
    assert_eq!(progress_of(&first), Some((100, 1)), "{first}");
    // The run cannot have ended: the rest of the directory is behind the gate. The line
    // was printed while it was going, and `directory status` shows the same.
    assert!(
        sync.try_wait().unwrap().is_none(),
        "sync ended behind a closed gate"
    );
    let status = d.ctl_json(&["directory", "status", "CORP"], "");
    assert_eq!(status["running"]["entries"], 100, "{status}");
    assert_eq!(status["running"]["pages"], 1, "{status}");

    gate.open();
    let out = sync.wait_with_output().unwrap();
    assert!(out.status.success());
    let mut progress = vec![progress_of(&first).unwrap()];
    progress.extend(
        lines
            .iter()
            .map(|l| progress_of(&l).unwrap_or_else(|| panic!("not progress: {l}"))),
    );
    assert!(
        progress.len() >= 5,
        "one line per 100 entries: {progress:?}"
    );
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&(450, 5)), "{progress:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("sync applied (full run, 450 entries fetched): 450 added"),
        "{stdout}"
    );

    // A broken base DN would disable everyone: a sync aborts, and so does its preview.
    d.ctl_ok(
        &[
            "directory",
            "edit",
            "CORP",
            "--base-dn",
            &slapd.empty_ou_dn(),
        ],
        "",
    );
    let preview = d.ctl(&["directory", "preview", "CORP"], "");
    assert_eq!(preview.status.code(), Some(1));
    let err = String::from_utf8_lossy(&preview.stderr);
    assert!(
        err.contains("sync aborted: it would disable 448 of 450 users") && err.contains("--force"),
        "{err}"
    );
    // --force shows what the forced run would do, and writes nothing either.
    let forced = d.ctl(&["directory", "preview", "CORP", "--force"], "");
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let shown = String::from_utf8(forced.stdout).unwrap();
    assert!(
        shown.starts_with("preview, nothing written (full run, 0 entries fetched): 0 added, ")
            && shown.lines().next().unwrap().contains(" 448 disabled,"),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["disable", "u00001", "(missing", "from", "directory)"]),
        "{shown}"
    );
    let json = d.ctl_json(&["directory", "preview", "CORP", "--force"], "");
    assert_eq!(json["applied"], false);
    assert_eq!(json["counts"]["disabled"], 448, "{}", json["counts"]);
    let changes = json["changes"].as_array().unwrap();
    assert_eq!(
        changes.len(),
        450,
        "448 disables and the 2 already disabled marked missing"
    );
    assert_eq!(
        changes.iter().filter(|c| c["change"] == "disable").count(),
        448
    );
    assert!(
        changes
            .iter()
            .filter(|c| c["change"] == "disable")
            .all(|c| c["reason"] == "missing_from_directory")
    );
    let active = |d: &Daemon| {
        d.ctl_json(&["user", "list", "--domain", "CORP", "--limit", "1000"], "")["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["status"] == "active")
            .count()
    };
    assert_eq!(active(&d), 448, "previews write nothing");
    // The forced sync does what its preview showed.
    let done = d.ctl_json(&["directory", "sync", "CORP", "--force"], "");
    assert_eq!(done["counts"], json["counts"]);
    assert_eq!(active(&d), 0);
}
