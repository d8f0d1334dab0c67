//! Test harness: runs the real `gatehoused` on loopback ports chosen by the kernel, in a
//! temporary directory, and drives it with the real `gatehousectl`, `radclient` and raw
//! UDP sockets. Daemons are stopped by PID when the harness is dropped.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod directory;
pub mod inproc;
pub mod slapd;

use gatehouse::radius::proto::{Code, Packet, PacketView, attr, crypto, verify};

pub const SECRET: &str = "integration-secret-0123";

pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub auth: SocketAddr,
    pub acct: SocketAddr,
    pub auth6: Option<SocketAddr>,
    pub log: Arc<Mutex<Vec<String>>>,
    extra_config: String,
}

/// The test config. `extra` holds lines for `[radius]` first and then whole sections
/// other than `[appliance]`, `[radius]`, `[admin]` and `[log]` (e.g. `[auth]`).
pub fn config_text(dir: &Path, extra: &str, ipv6: bool) -> String {
    let (auth, acct) = if ipv6 {
        (
            r#"["127.0.0.1:0", "[::1]:0"]"#,
            r#"["127.0.0.1:0", "[::1]:0"]"#,
        )
    } else {
        (r#"["127.0.0.1:0"]"#, r#"["127.0.0.1:0"]"#)
    };
    format!(
        "[appliance]\nname = \"test\"\nsite = \"HQ\"\nstate_dir = \"{state}\"\n\n\
         [admin]\nsocket = \"{sock}\"\nsocket_group = \"\"\n\n[log]\nlevel = \"info\"\n\n\
         [radius]\nauth_listen = {auth}\nacct_listen = {acct}\n{extra}\n",
        state = dir.join("state").display(),
        sock = dir.join("admin.sock").display(),
    )
}

impl Daemon {
    pub fn start() -> Self {
        Self::start_with("", false)
    }

    pub fn start_with(extra_config: &str, ipv6: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_in(dir, extra_config, ipv6)
    }

    pub fn start_in(dir: tempfile::TempDir, extra_config: &str, ipv6: bool) -> Self {
        Self::start_edited_in(dir, extra_config, ipv6, |text| text)
    }

    /// Like [`Daemon::start_with`], with `edit` applied to the whole config text first:
    /// for keys of `[appliance]`, `[admin]` or `[log]`, which `extra` cannot reach.
    pub fn start_edited(extra_config: &str, edit: impl FnOnce(String) -> String) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        Self::start_edited_in(dir, extra_config, false, edit)
    }

    fn start_edited_in(
        dir: tempfile::TempDir,
        extra_config: &str,
        ipv6: bool,
        edit: impl FnOnce(String) -> String,
    ) -> Self {
        let cfg = dir.path().join("gatehouse.toml");
        std::fs::write(&cfg, edit(config_text(dir.path(), extra_config, ipv6))).unwrap();
        let mut d = Daemon {
            dir,
            child: None,
            auth: "127.0.0.1:0".parse().unwrap(),
            acct: "127.0.0.1:0".parse().unwrap(),
            auth6: None,
            log: Arc::new(Mutex::new(Vec::new())),
            extra_config: extra_config.to_string(),
        };
        d.spawn();
        d
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gatehouse.toml")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("admin.sock")
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("state").join("gatehouse.db")
    }

    /// Starts the daemon process on the current config and waits for "ready".
    pub fn spawn(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
            .arg("--config")
            .arg(self.config_path())
            .env_remove("NOTIFY_SOCKET")
            .env_remove("JOURNAL_STREAM")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn gatehoused");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let log = Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut auth = Vec::new();
        let mut acct = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = rx.recv_timeout(left) else {
                panic!(
                    "gatehoused did not become ready:
{}",
                    self.log.lock().unwrap().join(
                        "
"
                    )
                );
            };
            if let Some(a) = line.split("listening on auth ").nth(1) {
                auth.push(a.trim().parse::<SocketAddr>().unwrap());
            }
            if let Some(a) = line.split("listening on acct ").nth(1) {
                acct.push(a.trim().parse::<SocketAddr>().unwrap());
            }
            if line.contains(" ready") {
                break;
            }
        }
        self.auth = auth.iter().copied().find(SocketAddr::is_ipv4).unwrap();
        self.auth6 = auth.iter().copied().find(SocketAddr::is_ipv6);
        self.acct = acct.iter().copied().find(SocketAddr::is_ipv4).unwrap();
        self.child = Some(child);
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill_hard(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait; returns the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                panic!("gatehoused did not stop after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Runs gatehousectl with `args`, feeding `stdin`.
    pub fn ctl(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehousectl"))
            .arg("--socket")
            .arg(self.socket())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// gatehousectl that must succeed; returns stdout.
    pub fn ctl_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.ctl(args, stdin);
        assert!(
            out.status.success(),
            "gatehousectl {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn ctl_json(&self, args: &[&str], stdin: &str) -> serde_json::Value {
        let mut a = vec!["--json"];
        a.extend_from_slice(args);
        serde_json::from_str(&self.ctl_ok(&a, stdin)).unwrap()
    }

    pub fn add_client(&self, name: &str, require_ma: bool) {
        let f = self.dir.path().join(format!("{name}.secret"));
        std::fs::write(&f, SECRET).unwrap();
        self.ctl_ok(
            &[
                "client",
                "add",
                name,
                "--address",
                "127.0.0.1",
                "--secret-file",
                f.to_str().unwrap(),
                "--require-message-authenticator",
                if require_ma { "true" } else { "false" },
            ],
            "",
        );
    }

    /// The newest `limit` authentication decisions in the audit log.
    pub fn auth_records(&self, limit: u32) -> Vec<serde_json::Value> {
        let limit = limit.to_string();
        self.ctl_json(
            &[
                "audit",
                "list",
                "--operation",
                "radius.access",
                "--limit",
                &limit,
            ],
            "",
        )["records"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The counters `status` reports for client `name`.
    pub fn client_counters(&self, name: &str) -> serde_json::Value {
        let status = self.ctl_json(&["status"], "");
        status["radius"]["clients"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == name))
            .unwrap_or_else(|| panic!("no client {name} in status: {status}"))["counters"]
            .clone()
    }

    pub fn add_user(&self, name: &str, password: &str) {
        self.ctl_ok(
            &["user", "add", name, "--password-stdin"],
            &format!("{password}\n"),
        );
    }
}

/// SIGTERM, then SIGKILL when `grace` passes: how every server a test starts is stopped.
pub fn terminate(mut child: Child, grace: Duration) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(c) = self.child.take() {
            terminate(c, Duration::from_secs(5));
        }
    }
}

/// Runs radclient against `server`; returns (exit success, stdout+stderr).
pub fn radclient(server: SocketAddr, kind: &str, attrs: &str) -> (bool, String) {
    let mut child = Command::new("radclient")
        .args([
            "-x",
            "-r",
            "1",
            "-t",
            "2",
            &server.to_string(),
            kind,
            SECRET,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient (freeradius-utils) must be installed: tests/run.sh installs it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(attrs.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// An Access-Request for `user`/`password`, with or without Message-Authenticator.
pub fn access_request(id: u8, user: &str, password: &str, with_ma: bool) -> (Vec<u8>, [u8; 16]) {
    let mut p = Packet::new(Code::AccessRequest, id);
    p.authenticator = crypto::random_authenticator().unwrap();
    p.add_str(attr::USER_NAME, user);
    let auth = p.authenticator;
    if with_ma {
        p.set_user_password(password.as_bytes().to_vec());
        (p.encode_request(SECRET.as_bytes()).unwrap(), auth)
    } else {
        // The encoder always signs Access-Requests; a legacy NAS does not.
        let hidden =
            crypto::hide_user_password(password.as_bytes(), SECRET.as_bytes(), &auth).unwrap();
        p.add(attr::USER_PASSWORD, hidden);
        (p.encode_raw().unwrap(), auth)
    }
}

/// Sends `bytes` from a fresh socket and waits for one reply (None on timeout).
pub fn exchange(server: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(wait)).unwrap();
    sock.send_to(bytes, server).unwrap();
    recv(&sock)
}

pub fn recv(sock: &UdpSocket) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 4096];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

/// Checks a reply as a careful NAS would: authenticator, Message-Authenticator valid and first.
pub fn check_reply(reply: &[u8], request_auth: &[u8; 16]) -> Code {
    let view = PacketView::decode(reply).expect("reply decodes");
    assert!(
        verify::response(&view, request_auth, SECRET.as_bytes()),
        "response authenticator"
    );
    assert_eq!(
        verify::message_authenticator(&view, SECRET.as_bytes(), Some(request_auth)),
        verify::MaCheck::Valid,
        "Message-Authenticator must be valid"
    );
    let first = view.attributes().next().expect("at least one attribute");
    assert_eq!(
        first.0,
        attr::MESSAGE_AUTHENTICATOR,
        "Message-Authenticator must come first"
    );
    view.code()
}

/// Polls `f` every 20 ms until it holds (true) or `limit` passes (false).
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `Any HH:MM-HH:MM` in `zone`, from `before` minutes ago to `after` minutes from now
/// (minutes rounded down), and the instant the window closes.
pub fn window_around_now(zone: &str, before: i64, after: i64) -> (String, jiff::Timestamp) {
    let tz = jiff::tz::TimeZone::get(zone).unwrap();
    let now = jiff::Timestamp::now();
    let at = |mins: i64| {
        let t = now + jiff::SignedDuration::from_mins(mins);
        let z = t.to_zoned_datetime(tz.clone());
        (format!("{:02}:{:02}", z.hour(), z.minute()), t)
    };
    let (start, _) = at(-before);
    let (end, end_t) = at(after);
    let end_t =
        jiff::Timestamp::from_second(end_t.as_second() - end_t.as_second().rem_euclid(60)).unwrap();
    (format!("Any {start}-{end}"), end_t)
}

/// The value radclient printed for attribute `name` in the reply it received.
pub fn reply_value(out: &str, name: &str) -> Option<String> {
    let received = out.split("Received Access-").nth(1)?;
    received
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(" = "))
        .map(str::to_string)
}

/// Every one of `lines` is a line radclient printed for the reply it received.
pub fn assert_reply_lines(out: &str, lines: &[&str]) {
    let received = out.split("Received Access-").nth(1).unwrap_or_default();
    for line in lines {
        assert!(
            received.lines().any(|l| l.trim() == *line),
            "{line} missing in\n{out}"
        );
    }
}
