//! End to end over real UDP: the real daemon, the real gatehousectl, radclient and raw
//! sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Daemon, SECRET, access_request, check_reply, exchange, radclient};
use gatehouse::radius::proto::{Code, Packet, attr, crypto};

const SHA512_SECRET: &str = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

fn pap(user: &str, password: &str) -> String {
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00\n"
    )
}

#[test]
fn pap_accept_and_generic_rejects_with_radclient() {
    let d = Daemon::start();
    d.add_client("nas1", true);
    d.add_user("alice", "correct horse");
    d.add_user("bob", "battery staple");
    d.ctl_ok(&["user", "disable", "bob"], "");

    let (ok, out) = radclient(d.auth, "auth", &pap("alice", "correct horse"));
    assert!(ok && out.contains("Received Access-Accept"), "{out}");

    let mut rejects = Vec::new();
    for (user, pw) in [
        ("alice", "wrong"),
        ("mallory", "anything"),
        ("bob", "battery staple"),
    ] {
        let (_, out) = radclient(d.auth, "auth", &pap(user, pw));
        assert!(out.contains("Received Access-Reject"), "{user}: {out}");
        let msg = out
            .lines()
            .find(|l| l.contains("Reply-Message"))
            .unwrap_or_default()
            .trim()
            .to_string();
        rejects.push(msg);
    }
    assert!(
        rejects.iter().all(|m| m == &rejects[0] && !m.is_empty()),
        "rejects must not differ: {rejects:?}"
    );

    // Every decision is in the audit log, with the reason kept for the administrator.
    assert!(common::wait_until(Duration::from_secs(10), || {
        d.auth_records(10).len() == 4
    }));
    let v = d.ctl_json(&["audit", "list", "--operation", "radius.access"], "");
    let reasons: Vec<String> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["detail"]["reason"].to_string())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("unknown user")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("not active")),
        "{reasons:?}"
    );
}

#[test]
fn message_authenticator_required_or_not_and_always_first_in_replies() {
    let d = Daemon::start();
    d.add_user("alice", "pw-alice-1");
    d.add_client("strict", true);

    // Without Message-Authenticator: dropped for a client that requires it.
    let (req, _) = access_request(1, "alice", "pw-alice-1", false);
    assert_eq!(exchange(d.auth, &req, Duration::from_millis(1500)), None);
    let (ok, out) = radclient(
        d.auth,
        "auth",
        "User-Name = \"alice\", User-Password = \"pw-alice-1\"\n",
    );
    assert!(!ok && !out.contains("Received"), "{out}");

    // A wrong Message-Authenticator is dropped whatever the client's setting.
    let (mut bad, _) = access_request(2, "alice", "pw-alice-1", true);
    let len = bad.len();
    bad[len - 1] ^= 0xff;
    assert_eq!(exchange(d.auth, &bad, Duration::from_millis(1500)), None);

    // With it: answered, and the reply carries a valid Message-Authenticator first.
    let (req, auth) = access_request(3, "alice", "pw-alice-1", true);
    let reply = exchange(d.auth, &req, Duration::from_secs(5)).expect("reply");
    assert_eq!(check_reply(&reply, &auth), Code::AccessAccept);
    let (req, auth) = access_request(4, "alice", "nope", true);
    let reply = exchange(d.auth, &req, Duration::from_secs(5)).expect("reply");
    assert_eq!(check_reply(&reply, &auth), Code::AccessReject);

    // Relaxed client: answered without Message-Authenticator, still signed.
    d.ctl_ok(
        &[
            "client",
            "edit",
            "strict",
            "--require-message-authenticator",
            "false",
        ],
        "",
    );
    let (req, auth) = access_request(5, "alice", "pw-alice-1", false);
    let reply = exchange(d.auth, &req, Duration::from_secs(5)).expect("reply");
    assert_eq!(check_reply(&reply, &auth), Code::AccessAccept);
    let (ok, out) = radclient(
        d.auth,
        "auth",
        "User-Name = \"alice\", User-Password = \"pw-alice-1\"\n",
    );
    assert!(ok && out.contains("Access-Accept"), "{out}");

    let status = d.ctl_json(&["status"], "");
    let drops = &status["radius"]["clients"][0]["counters"]["drops"];
    assert!(
        drops["message_authenticator_missing"].as_u64().unwrap() >= 2,
        "{status}"
    );
    assert_eq!(
        drops["message_authenticator_invalid"].as_u64(),
        Some(1),
        "{status}"
    );
}

#[test]
fn retransmission_gets_the_cached_reply_and_is_evaluated_once() {
    let d = Daemon::start();
    d.add_client("nas", true);
    d.add_user("carol", "pw-carol-1");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (req, auth) = access_request(77, "carol", "pw-carol-1", true);
    sock.send_to(&req, d.auth).unwrap();
    let first = common::recv(&sock).expect("first reply");
    assert_eq!(check_reply(&first, &auth), Code::AccessAccept);
    for _ in 0..3 {
        sock.send_to(&req, d.auth).unwrap();
        let again = common::recv(&sock).expect("replayed reply");
        assert_eq!(
            again, first,
            "a retransmission must get the byte-identical reply"
        );
    }
    // Same id and source but a new authenticator is a new request.
    let (req2, auth2) = access_request(77, "carol", "wrong", true);
    sock.send_to(&req2, d.auth).unwrap();
    let other = common::recv(&sock).expect("new request answered");
    assert_eq!(check_reply(&other, &auth2), Code::AccessReject);

    // Decisions are recorded in order: once the last request's reject is there, every
    // evaluation of the retransmitted one would be too.
    let decisions = || d.auth_records(100);
    assert!(common::wait_until(Duration::from_secs(10), || decisions()
        .iter()
        .any(|r| r["target"] == "carol" && r["outcome"] == "reject")));
    let recs = decisions();
    let accepts = recs
        .iter()
        .filter(|r| r["target"] == "carol" && r["outcome"] == "accept")
        .count();
    assert_eq!(
        accepts, 1,
        "the retransmissions must not be evaluated again: {recs:?}"
    );
    let status = d.ctl_json(&["status"], "");
    assert_eq!(
        status["radius"]["clients"][0]["counters"]["duplicates_answered"],
        3
    );
}

#[test]
fn status_server_on_both_ports_and_ipv6() {
    let d = Daemon::start_with("", true);
    d.add_client("nas", true);
    d.ctl_ok(
        &[
            "client",
            "add",
            "nas6",
            "--address",
            "::1",
            "--secret-file",
            d.dir.path().join("nas.secret").to_str().unwrap(),
        ],
        "",
    );
    let (ok, out) = radclient(d.auth, "status", "Message-Authenticator = 0x00\n");
    assert!(ok && out.contains("Received Access-Accept"), "{out}");
    let (ok, out) = radclient(d.acct, "status", "Message-Authenticator = 0x00\n");
    assert!(ok && out.contains("Received Accounting-Response"), "{out}");
    let auth6 = d.auth6.expect("an IPv6 listener");
    let (ok, out) = radclient(auth6, "auth", &{
        d.add_user("dave", "pw-dave-12");
        pap("dave", "pw-dave-12")
    });
    assert!(ok && out.contains("Access-Accept"), "over IPv6: {out}");

    // Our own Status-Server, checked down to the Message-Authenticator position.
    let mut p = Packet::new(Code::StatusServer, 9);
    p.authenticator = crypto::random_authenticator().unwrap();
    p.add_message_authenticator();
    let bytes = p.encode_request(SECRET.as_bytes()).unwrap();
    let reply = exchange(d.auth, &bytes, Duration::from_secs(5)).unwrap();
    assert_eq!(check_reply(&reply, &p.authenticator), Code::AccessAccept);
}

#[test]
fn accounting_start_and_stop_are_stored_and_answered() {
    let d = Daemon::start();
    d.add_client("nas", true);
    let start = "Acct-Status-Type = Start, Acct-Session-Id = \"sess-1\", User-Name = \"erin\", NAS-IP-Address = 127.0.0.1\n";
    let (ok, out) = radclient(d.acct, "acct", start);
    assert!(ok && out.contains("Received Accounting-Response"), "{out}");
    let stop = "Acct-Status-Type = Stop, Acct-Session-Id = \"sess-1\", User-Name = \"erin\", Acct-Session-Time = 42, Acct-Input-Octets = 1000, Acct-Output-Octets = 2000\n";
    let (ok, out) = radclient(d.acct, "acct", stop);
    assert!(ok && out.contains("Received Accounting-Response"), "{out}");
    let status = d.ctl_json(&["status"], "");
    assert_eq!(status["store"]["accounting_records"], 2, "{status}");
    let conn = rusqlite::Connection::open(d.db_path()).unwrap();
    let (user, started, stopped, time): (String, Option<i64>, Option<i64>, i64) = conn
        .query_row(
            "SELECT user_name, started_at, stopped_at, session_time FROM acct_session WHERE session_id = 'sess-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(user, "erin");
    assert!(started.is_some() && stopped.is_some());
    assert_eq!(time, 42);

    // A bad request authenticator (wrong secret) is dropped.
    let mut p = Packet::new(Code::AccountingRequest, 3);
    p.add_u32(attr::ACCT_STATUS_TYPE, 1);
    p.add_str(attr::ACCT_SESSION_ID, "sess-2");
    let bytes = p.encode_request(b"not-the-secret").unwrap();
    assert_eq!(exchange(d.acct, &bytes, Duration::from_millis(1500)), None);
    assert_eq!(
        d.ctl_json(&["status"], "")["store"]["accounting_records"],
        2
    );
}

#[test]
fn imported_sha512_crypt_user_logs_in_and_is_rehashed() {
    let d = Daemon::start();
    d.add_client("nas", true);
    d.ctl_ok(
        &["user", "add", "frank", "--password-hash-stdin"],
        &format!("{SHA512_SECRET}\n"),
    );
    assert_eq!(
        d.ctl_json(&["user", "show", "frank"], "")["user"]["password"],
        "sha512-crypt"
    );
    let (_, out) = radclient(d.auth, "auth", &pap("frank", "wrong"));
    assert!(out.contains("Access-Reject"), "{out}");
    assert_eq!(
        d.ctl_json(&["user", "show", "frank"], "")["user"]["password"],
        "sha512-crypt"
    );
    let (ok, out) = radclient(d.auth, "auth", &pap("frank", "secret"));
    assert!(ok && out.contains("Access-Accept"), "{out}");
    assert!(
        common::wait_until(Duration::from_secs(10), || d
            .ctl_json(&["user", "show", "frank"], "")["user"]["password"]
            == "argon2id"),
        "rehashed to argon2id after the first successful login"
    );
    let (ok, out) = radclient(d.auth, "auth", &pap("frank", "secret"));
    assert!(
        ok && out.contains("Access-Accept"),
        "still logs in after the rehash: {out}"
    );
}

#[test]
fn rehash_on_login_can_be_switched_off() {
    let d = Daemon::start_with("\n[auth]\nrehash_on_login = false\n", false);
    d.add_client("nas", true);
    d.ctl_ok(
        &["user", "add", "gina", "--password-hash-stdin"],
        &format!("{SHA512_SECRET}\n"),
    );
    let (ok, out) = radclient(d.auth, "auth", &pap("gina", "secret"));
    assert!(ok && out.contains("Access-Accept"), "{out}");
    // The login is persisted (with a rehash, when on) in one write after the reply.
    assert!(common::wait_until(Duration::from_secs(10), || {
        d.ctl_json(&["user", "show", "gina"], "")["user"]["last_login"].is_number()
    }));
    assert_eq!(
        d.ctl_json(&["user", "show", "gina"], "")["user"]["password"],
        "sha512-crypt"
    );
}

#[test]
fn unknown_clients_are_dropped_and_counted() {
    let d = Daemon::start();
    let (req, _) = access_request(1, "alice", "x", true);
    assert_eq!(exchange(d.auth, &req, Duration::from_millis(1000)), None);
    // The status warns that nothing is configured, and counts the drop.
    let status = d.ctl_json(&["status"], "");
    assert_eq!(status["radius"]["global"]["unknown_client"], 1, "{status}");
    assert!(
        status["warnings"].to_string().contains("no RADIUS clients"),
        "{status}"
    );
}

#[test]
fn admin_changes_take_effect_on_the_next_request() {
    let d = Daemon::start();
    d.add_client("nas", true);
    d.add_user("hank", "first-password");
    let login = |pw: &str| radclient(d.auth, "auth", &pap("hank", pw)).1;
    assert!(login("first-password").contains("Access-Accept"));
    d.ctl_ok(&["user", "disable", "hank"], "");
    assert!(
        login("first-password").contains("Access-Reject"),
        "a cached record must not outlive a disable"
    );
    d.ctl_ok(&["user", "enable", "hank"], "");
    assert!(login("first-password").contains("Access-Accept"));
    d.ctl_ok(
        &["user", "set-password", "hank", "--password-stdin"],
        "second-password\n",
    );
    assert!(login("first-password").contains("Access-Reject"));
    assert!(login("second-password").contains("Access-Accept"));
    d.ctl_ok(&["user", "delete", "hank"], "");
    assert!(login("second-password").contains("Access-Reject"));
}
