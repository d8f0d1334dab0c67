//! The admin socket and `gatehousectl` as scripts use them: exit codes, JSON, secrets kept
//! out of argv and the audit trail, the audit chain.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use common::Daemon;

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

#[test]
fn exit_codes_follow_the_contract() {
    let d = Daemon::start();
    d.add_client("nas", true);
    // 4: not found
    let out = d.ctl(&["client", "show", "nope"], "");
    assert_eq!(code(&out), 4, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("client nope not found"));
    let out = d.ctl(&["user", "delete", "ghost"], "");
    assert_eq!(code(&out), 4);
    // 2: usage, locally (clap) and from the daemon (bad values)
    assert_eq!(code(&d.ctl(&["client", "frobnicate"], "")), 2);
    assert_eq!(
        code(&d.ctl(&["user", "add", "x"], "")),
        2,
        "a password source is required"
    );
    let f = d.dir.path().join("s");
    std::fs::write(&f, "long-enough-secret").unwrap();
    let out = d.ctl(
        &[
            "client",
            "add",
            "bad",
            "--address",
            "10.0.0.0/33",
            "--secret-file",
            f.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an address or CIDR"));
    let out = d.ctl(
        &["user", "add", "imp", "--password-hash-stdin"],
        "plaintext-is-not-a-hash\n",
    );
    assert_eq!(code(&out), 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognised password hash"));
    // 1: conflict
    let out = d.ctl(
        &[
            "client",
            "add",
            "nas",
            "--address",
            "10.0.0.1",
            "--secret-file",
            f.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code(&out), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    // 3: permission denied (nobody to act as yet)
    let out = d.ctl(&["--as", "alice", "status"], "");
    assert_eq!(code(&out), 3, "{}", String::from_utf8_lossy(&out.stderr));
    // 1: cannot connect
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehousectl"))
        .args(["--socket", "/nonexistent/sock", "status"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
}

#[test]
fn secrets_stay_out_of_the_audit_log_and_lists_render() {
    let d = Daemon::start();
    d.add_client("nas", true);
    d.add_user("alice", "very-secret-password-1");
    d.ctl_ok(
        &["user", "set-password", "alice", "--password-stdin"],
        "another-secret-pw-2\n",
    );
    d.ctl_ok(
        &[
            "user",
            "edit",
            "alice",
            "--display-name",
            "Alice A.",
            "--email",
            "a@example.org",
        ],
        "",
    );
    let table = d.ctl_ok(&["user", "list"], "");
    assert!(
        table.contains("alice") && table.contains("Alice A."),
        "{table}"
    );
    let clients = d.ctl_ok(&["client", "list"], "");
    assert!(
        clients.contains("nas") && clients.contains("127.0.0.1"),
        "{clients}"
    );
    assert!(!clients.contains(common::SECRET));

    let audit = d.ctl_ok(&["--json", "audit", "list", "--limit", "100"], "");
    for secret in [
        "very-secret-password-1",
        "another-secret-pw-2",
        common::SECRET,
    ] {
        assert!(
            !audit.contains(secret),
            "secret {secret} leaked into the audit log"
        );
        assert!(
            !d.log_text().contains(secret),
            "secret {secret} leaked into the daemon log"
        );
    }
    let v: serde_json::Value = serde_json::from_str(&audit).unwrap();
    let ops: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operation"].as_str().unwrap())
        .collect();
    for op in [
        "client.add",
        "user.add",
        "user.set-password",
        "user.edit",
        "user.list",
        "client.list",
    ] {
        assert!(ops.contains(&op), "{op} not audited: {ops:?}");
    }
    // The key file is private and the secret is not stored in clear.
    let key = d.dir.path().join("state/secret.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    for f in ["gatehouse.db", "gatehouse.db-wal"] {
        let bytes = std::fs::read(d.dir.path().join("state").join(f)).unwrap_or_default();
        assert!(
            !bytes
                .windows(common::SECRET.len())
                .any(|w| w == common::SECRET.as_bytes()),
            "{f}"
        );
    }
    assert_eq!(d.ctl_json(&["audit", "verify"], "")["intact"], true);
}

#[test]
fn denied_and_failed_requests_are_audited_and_tampering_detected() {
    let d = Daemon::start();
    let _ = d.ctl(&["--as", "mallory", "user", "list"], "");
    let _ = d.ctl(&["user", "delete", "ghost"], "");
    let v = d.ctl_json(&["audit", "list"], "");
    let recs = v["records"].as_array().unwrap();
    assert!(
        recs.iter()
            .any(|r| r["outcome"] == "denied" && r["operation"] == "user.list"),
        "{v}"
    );
    assert!(
        recs.iter()
            .any(|r| r["outcome"] == "denied" && r["operation"] == "user.delete"),
        "{v}"
    );
    assert_eq!(d.ctl_json(&["audit", "verify"], "")["intact"], true);

    let conn = rusqlite::Connection::open(d.db_path()).unwrap();
    conn.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 1", [])
        .unwrap();
    let out = d.ctl(&["audit", "verify"], "");
    assert_eq!(code(&out), 1);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("record 1"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn user_import_is_all_or_nothing_with_line_numbers() {
    let d = Daemon::start();
    let good = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
    let file = d.dir.path().join("import.txt");
    std::fs::write(&file, format!("u1:{good}\nu2:{good}\nu3:not-a-hash\n")).unwrap();
    let out = d.ctl(&["user", "import", file.to_str().unwrap()], "");
    assert_eq!(code(&out), 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 3"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        code(&d.ctl(&["user", "show", "u1"], "")),
        4,
        "nothing imported"
    );
    std::fs::write(&file, format!("u1:{good}\nu2:{good}\n")).unwrap();
    let v = d.ctl_json(&["user", "import", file.to_str().unwrap()], "");
    assert_eq!(v["imported"], 2);
}

#[test]
fn raw_socket_protocol_needs_hello_and_answers_json_lines() {
    let d = Daemon::start();
    let mut s = UnixStream::connect(d.socket()).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    s.write_all(b"{\"id\":1,\"op\":\"status\"}\n").unwrap();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("send hello first"), "{line}");
    line.clear();
    s.write_all(b"{\"id\":2,\"op\":\"hello\",\"args\":{\"version\":99}}\n")
        .unwrap();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("unsupported_version"), "{line}");
    line.clear();
    s.write_all(b"{\"id\":3,\"op\":\"hello\",\"args\":{\"version\":1}}\n")
        .unwrap();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("\"ok\":true"), "{line}");
    line.clear();
    s.write_all(b"this is not json\n").unwrap();
    r.read_line(&mut line).unwrap();
    assert!(line.contains("invalid_argument"), "{line}");
    line.clear();
    s.write_all(b"{\"id\":4,\"op\":\"status\",\"args\":{}}\n")
        .unwrap();
    r.read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["id"], 4);
    assert_eq!(v["ok"], true);
    assert_eq!(v["result"]["appliance"], "test");
}
