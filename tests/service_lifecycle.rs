//! Start-up, reload and shutdown of the real daemon: config errors name file, key and
//! reason; SIGHUP keeps the old config when the new one is bad; SIGTERM exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Daemon, radclient};

#[test]
fn check_config_names_file_key_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, common::config_text(dir.path(), "", false)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .args(["--check-config", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        common::config_text(dir.path(), "duplicate_cache_secs = 3", false),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .args(["--check-config", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml")
            && err.contains("radius.duplicate_cache_secs")
            && err.contains("unknown field"),
        "{err}"
    );

    // The environment overrides scalars, and is named when it is wrong.
    let out = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .args(["--check-config", "--config"])
        .arg(&good)
        .env("GATEHOUSE_RADIUS__MAX_IN_FLIGHT", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_in_flight"));

    // A port in use is reported against its key at start-up.
    let taken = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let clash = dir.path().join("clash.toml");
    let text = common::config_text(dir.path(), "", false).replace(
        "auth_listen = [\"127.0.0.1:0\"]",
        &format!("auth_listen = [\"127.0.0.1:{port}\"]"),
    );
    std::fs::write(&clash, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .arg("--config")
        .arg(&clash)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("radius.auth_listen[0]") && err.contains("cannot bind"),
        "{err}"
    );
}

#[test]
fn sighup_reloads_or_keeps_the_old_config_and_sigterm_exits_zero() {
    let mut d = Daemon::start();
    d.add_client("nas", true);
    d.add_user("alice", "pw-alice-1");
    let original = std::fs::read_to_string(d.config_path()).unwrap();

    std::fs::write(d.config_path(), format!("{original}\nnot valid toml [[[\n")).unwrap();
    d.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert!(d.log_text().contains("reload refused"), "{}", d.log_text());
    let (ok, out) = radclient(
        d.auth,
        "auth",
        "User-Name = \"alice\", User-Password = \"pw-alice-1\", Message-Authenticator = 0x00\n",
    );
    assert!(
        ok && out.contains("Access-Accept"),
        "still serving on the old config: {out}"
    );

    std::fs::write(
        d.config_path(),
        original.replace("level = \"info\"", "level = \"debug\""),
    )
    .unwrap();
    d.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        d.log_text().contains("configuration reloaded"),
        "{}",
        d.log_text()
    );

    let status = d.stop();
    assert_eq!(
        status.code(),
        Some(0),
        "SIGTERM must drain and exit 0:\n{}",
        d.log_text()
    );
    assert!(d.log_text().contains("stopped"));
    assert!(!d.socket().exists(), "the socket file is removed on exit");
}
