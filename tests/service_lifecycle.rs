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

/// Waits (bounded) for the daemon's log to show `text`.
fn log_shows(d: &Daemon, text: &str) -> bool {
    common::wait_until(Duration::from_secs(10), || d.log_text().contains(text))
}

#[test]
fn sighup_reloads_or_keeps_the_old_config_and_sigterm_exits_zero() {
    let mut d = Daemon::start();
    d.add_client("nas", true);
    d.add_user("alice", "pw-alice-1");
    let original = std::fs::read_to_string(d.config_path()).unwrap();

    std::fs::write(d.config_path(), format!("{original}\nnot valid toml [[[\n")).unwrap();
    d.signal("HUP");
    assert!(log_shows(&d, "reload refused"), "{}", d.log_text());
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
    assert!(log_shows(&d, "configuration reloaded"), "{}", d.log_text());

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

fn check(config: &std::path::Path, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .args(["--check-config", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn start(config: &std::path::Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--check-config` refuses what start-up would refuse, and start-up never destroys a file
/// it does not own or trusts one someone else owns.
#[test]
fn check_config_runs_the_start_up_checks_short_of_binding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.toml");
    let write = |extra: &str| {
        std::fs::write(&path, common::config_text(dir.path(), extra, false)).unwrap();
    };

    // Numbers past what the daemon can honour, from the file or the environment.
    write("max_in_flight = 2305843009213693952");
    let (code, err) = check(&path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("radius.max_in_flight") && err.contains("out of range"),
        "{err}"
    );
    write("");
    let (code, err) = check(
        &path,
        &[("GATEHOUSE_RADIUS__MAX_IN_FLIGHT", "2305843009213693952")],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("radius.max_in_flight"), "{err}");
    let (code, err) = check(&path, &[("GATEHOUSE_RADIUS__STALE_REQUEST_MS", "5")]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("radius.stale_request_ms"), "{err}");

    // A state directory that is a file.
    std::fs::write(dir.path().join("state"), "not a directory").unwrap();
    let (code, err) = check(&path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("appliance.state_dir") && err.contains("not a directory"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join("state")).unwrap();

    // An unknown socket group.
    let text = common::config_text(dir.path(), "", false).replace(
        "socket_group = \"\"",
        "socket_group = \"no-such-group-here\"",
    );
    std::fs::write(&path, text).unwrap();
    let (code, err) = check(&path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("admin.socket_group") && err.contains("no-such-group-here"),
        "{err}"
    );
    write("");

    // An admin socket path holding a regular file: refused, and the file survives.
    let sock = dir.path().join("admin.sock");
    std::fs::write(&sock, "precious").unwrap();
    let (code, err) = check(&path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("admin.socket") && err.contains("not a socket"),
        "{err}"
    );
    let (code, err) = start(&path);
    assert_eq!(code, 1, "{err}");
    assert_eq!(std::fs::read_to_string(&sock).unwrap(), "precious");
    std::fs::remove_file(&sock).unwrap();

    assert_eq!(check(&path, &[]).0, 0);
}

/// The database is created 0600 whatever the umask, and a store or key owned by another
/// uid stops start-up (it never makes its owner a Super Administrator).
#[test]
fn store_files_are_private_and_owned_by_the_daemon() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.toml");
    std::fs::write(&path, common::config_text(dir.path(), "", false)).unwrap();
    // A permissive umask, as an init script might leave it; exec keeps the pid.
    let child = Command::new("sh")
        .args(["-c", "umask 022; exec \"$0\" --config \"$1\""])
        .arg(env!("CARGO_BIN_EXE_gatehoused"))
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let db = dir.path().join("state/gatehouse.db");
    let wal = dir.path().join("state/gatehouse.db-wal");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !(db.exists() && wal.exists() && dir.path().join("admin.sock").exists()) {
        assert!(std::time::Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    common::terminate(child, Duration::from_secs(10));
    for file in [
        "gatehouse.db",
        "gatehouse.db-wal",
        "gatehouse.db-shm",
        "secret.key",
    ] {
        let p = dir.path().join("state").join(file);
        if let Ok(m) = std::fs::metadata(&p) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{file}");
        }
    }
    assert!(db.exists());

    // Someone else's store: start-up refuses, naming the owner; so does --check-config.
    let nobody = 65534;
    std::os::unix::fs::chown(&db, Some(nobody), None).unwrap();
    assert_eq!(std::fs::metadata(&db).unwrap().uid(), nobody);
    let (code, err) = check(&path, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("store.path") && err.contains("owned by uid 65534"),
        "{err}"
    );
    let (code, err) = start(&path);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("owned by uid 65534"), "{err}");
}
