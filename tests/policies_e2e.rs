//! Policies on the RADIUS path, end to end: the real daemon, the real gatehousectl,
//! radclient and raw UDP sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{
    Daemon, SECRET, access_request, assert_reply_lines, check_reply, exchange, radclient,
    reply_value, wait_until, window_around_now,
};
use gatehouse::radius::proto::{Code, Packet, PacketView, attr, crypto};

fn pap(user: &str, password: &str, extra: &str) -> String {
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00{extra}\n"
    )
}

/// A user policy assigned to a user, a computer policy with a VLAN and office hours given
/// by an assignment rule, merged into the Accept exactly as radclient decodes it; a
/// switch-admin policy's Cisco-AVPair likewise.
#[test]
fn policies_shape_the_accept_as_radclient_decodes_it() {
    let d = Daemon::start();
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    d.add_user("bob", "bob-pw-1");
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "staff",
            "--reply",
            "Filter-Id=staff",
            "--reply",
            "Session-Timeout=28800",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "user-policy",
            "assign",
            "staff",
            "--user",
            "alice",
            "--priority",
            "10",
        ],
        "",
    );
    let (hours, closes) = window_around_now("UTC", 120, 20);
    d.ctl_ok(
        &[
            "computer-policy",
            "create",
            "office",
            "--vlan",
            "120",
            "--hours",
            &hours,
        ],
        "",
    );
    d.ctl_ok(
        &[
            "computer-rule",
            "add",
            "office-macs",
            "--policy",
            "office",
            "--identity",
            "00-10-A4-*",
        ],
        "",
    );

    let mac = ", Calling-Station-Id = \"00:10:a4:23:19:c0\"";
    let sent = jiff::Timestamp::now();
    let (ok, out) = radclient(d.auth, "auth", &pap("alice", "alice-pw-1", mac));
    assert!(ok && out.contains("Received Access-Accept"), "{out}");
    assert_reply_lines(
        &out,
        &[
            "Tunnel-Type:0 = VLAN",
            "Tunnel-Medium-Type:0 = IEEE-802",
            "Tunnel-Private-Group-Id:0 = \"120\"",
            "Filter-Id = \"staff\"",
        ],
    );
    // Capped at the window's end, not the policy's eight hours.
    let timeout: i64 = reply_value(&out, "Session-Timeout")
        .unwrap()
        .parse()
        .unwrap();
    let left = closes.as_second() - sent.as_second();
    assert!(
        (left - 5..=left + 1).contains(&timeout),
        "Session-Timeout {timeout}, window closes in {left}s\n{out}"
    );

    // The computer was registered with the rule's policy.
    let c = d.ctl_json(&["computer", "show", "00-10-a4-23-19-c0"], "");
    assert_eq!(c["computer"]["policy"], "office");
    assert_eq!(c["computer"]["rule"], "office-macs");

    // A switch administrator's privilege level, by vendor attribute name.
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "switch-admin",
            "--reply",
            "Cisco-AVPair=shell:priv-lvl=15",
        ],
        "",
    );
    d.ctl_ok(
        &["user-policy", "assign", "switch-admin", "--user", "bob"],
        "",
    );
    let (ok, out) = radclient(d.auth, "auth", &pap("bob", "bob-pw-1", ""));
    assert!(ok && out.contains("Received Access-Accept"), "{out}");
    assert_reply_lines(&out, &["Cisco-AVPair = \"shell:priv-lvl=15\""]);

    // Hits are counted and written.
    assert!(wait_until(Duration::from_secs(15), || {
        let p = d.ctl_json(&["user-policy", "show", "staff"], "");
        p["user_policy"]["counters"]["hits"].as_u64() == Some(1)
    }));
    let audit = d.auth_records(5);
    let accept = audit
        .iter()
        .find(|r| r["target"] == "alice")
        .expect("alice's decision is audited");
    assert_eq!(
        accept["detail"]["computer"], "00-10-A4-23-19-C0",
        "{accept}"
    );
    assert!(accept["detail"]["user_policy"].is_number(), "{accept}");
}

/// Two sites in different zones, one instant, opposite answers; and a window that has
/// less than a minute left is refused as outside the hours.
#[test]
fn access_hours_follow_the_site_zone() {
    let d = Daemon::start();
    d.ctl_ok(&["site", "add", "Tokyo", "--timezone", "Asia/Tokyo"], "");
    d.ctl_ok(&["site", "add", "Paris", "--timezone", "Europe/Paris"], "");
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    // Open now in Paris's wall time: never open at the same wall time in Tokyo, which is
    // seven or eight hours ahead.
    let (hours, _) = window_around_now("Europe/Paris", 60, 60);
    d.ctl_ok(
        &["computer-policy", "edit", "default", "--hours", &hours],
        "",
    );

    let login = |site: &str| {
        d.ctl_ok(&["client", "edit", "nas1", "--site", site], "");
        let (_, out) = radclient(d.auth, "auth", &pap("alice", "alice-pw-1", ""));
        out
    };
    assert!(login("Paris").contains("Received Access-Accept"));
    let out = login("Tokyo");
    assert!(out.contains("Received Access-Reject"), "{out}");
    let audit = d.auth_records(1);
    assert_eq!(audit[0]["detail"]["code"], "outside_hours", "{audit:?}");

    // Less than a minute left in the window: refused.
    let (hours, _) = window_around_now("Europe/Paris", 60, 0);
    d.ctl_ok(
        &["computer-policy", "edit", "default", "--hours", &hours],
        "",
    );
    let out = login("Paris");
    assert!(out.contains("Received Access-Reject"), "{out}");
}

/// Windows crossing midnight and Berlin's daylight-saving days, decided by the daemon:
/// fixed instants through `policy explain --at`, and the live request now through radclient.
#[test]
fn access_hours_cross_midnight_and_follow_berlin_dst_days() {
    let d = Daemon::start();
    d.ctl_ok(
        &["site", "add", "Berlin", "--timezone", "Europe/Berlin"],
        "",
    );
    d.add_client("nas1", true);
    d.ctl_ok(&["client", "edit", "nas1", "--site", "Berlin"], "");
    d.add_user("alice", "alice-pw-1");
    let hours_at = |hours: &str, at: &str| -> String {
        d.ctl_ok(
            &["computer-policy", "edit", "default", "--hours", hours],
            "",
        );
        let v = d.ctl_json(
            &[
                "policy", "explain", "--user", "alice", "--client", "nas1", "--at", at,
            ],
            "",
        );
        let steps = v["explain"]["steps"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let hours = steps.iter().find(|s| s["step"] == "hours");
        hours
            .map(|s| s["result"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no hours step in {v}"))
    };
    // (hours, instant in UTC, expected result); the comments give Berlin wall time.
    let table = [
        // Friday night into Saturday: 2027-06-18 is a Friday (CEST, UTC+2).
        ("Fri 22:00-06:00", "2027-06-18T19:30:00Z", "fail"), // Fri 21:30
        ("Fri 22:00-06:00", "2027-06-18T20:30:00Z", "pass"), // Fri 22:30
        ("Fri 22:00-06:00", "2027-06-19T03:30:00Z", "pass"), // Sat 05:30
        ("Fri 22:00-06:00", "2027-06-19T04:30:00Z", "fail"), // Sat 06:30
        ("Fri 22:00-06:00", "2027-06-19T20:30:00Z", "fail"), // Sat 22:30
        // Spring-forward, 2027-03-28: 02:00 CET becomes 03:00 CEST at 01:00Z, so a window
        // of only skipped minutes never opens, and 01:00-03:00 closes at the jump.
        ("Any 02:00-03:00", "2027-03-28T00:59:00Z", "fail"), // 01:59 CET
        ("Any 02:00-03:00", "2027-03-28T01:00:00Z", "fail"), // 03:00 CEST
        ("Any 01:00-03:00", "2027-03-28T00:59:00Z", "pass"), // 01:59 CET
        ("Any 01:00-03:00", "2027-03-28T01:00:00Z", "fail"), // 03:00 CEST
        // Fall-back, 2027-10-31: 03:00 CEST becomes 02:00 CET at 01:00Z; 02:30 happens twice.
        ("Any 02:30-03:00", "2027-10-31T00:30:00Z", "pass"), // first 02:30 (CEST)
        ("Any 02:30-03:00", "2027-10-31T01:10:00Z", "fail"), // second 02:10 (CET)
        ("Any 02:30-03:00", "2027-10-31T01:30:00Z", "pass"), // second 02:30 (CET)
    ];
    for (hours, at, want) in table {
        assert_eq!(hours_at(hours, at), want, "{hours} at {at}");
    }

    // Now, live: a window crossing midnight that holds the present instant (from an hour
    // ago to two hours ago, the next day) accepts; one that leaves out the hour around
    // now (from half an hour ahead to half an hour ago, the next day) rejects.
    let login = || radclient(d.auth, "auth", &pap("alice", "alice-pw-1", "")).1;
    let (open, _) = window_around_now("Europe/Berlin", 60, -120);
    d.ctl_ok(
        &["computer-policy", "edit", "default", "--hours", &open],
        "",
    );
    let out = login();
    assert!(out.contains("Received Access-Accept"), "{open}: {out}");
    let (closed, _) = window_around_now("Europe/Berlin", -30, -30);
    d.ctl_ok(
        &["computer-policy", "edit", "default", "--hours", &closed],
        "",
    );
    let out = login();
    assert!(out.contains("Received Access-Reject"), "{closed}: {out}");
    assert_eq!(d.auth_records(1)[0]["detail"]["code"], "outside_hours");
}

/// Monitor mode relaxes the hours but never the password.
#[test]
fn monitor_mode_accepts_out_of_hours_and_still_rejects_wrong_passwords() {
    let d = Daemon::start();
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    let (closed_hours, _) = window_around_now("UTC", -120, 180);
    d.ctl_ok(
        &[
            "computer-policy",
            "edit",
            "default",
            "--hours",
            &closed_hours,
            "--mode",
            "monitor",
        ],
        "",
    );
    let (ok, out) = radclient(d.auth, "auth", &pap("alice", "alice-pw-1", ""));
    assert!(ok && out.contains("Received Access-Accept"), "{out}");
    let (_, out) = radclient(d.auth, "auth", &pap("alice", "wrong-pw", ""));
    assert!(out.contains("Received Access-Reject"), "{out}");
    let audit = d.auth_records(2);
    let outcomes: Vec<(String, String)> = audit
        .iter()
        .map(|r| {
            (
                r["outcome"].as_str().unwrap().to_string(),
                r["detail"]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        outcomes.contains(&("would_deny".into(), "outside_hours".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("reject".into(), "bad_password".into())),
        "{outcomes:?}"
    );
    let monitored = d.ctl_json(&["audit", "list", "--outcome", "would_deny"], "");
    assert_eq!(
        monitored["records"].as_array().unwrap().len(),
        1,
        "{monitored}"
    );
    // Enforced, the same login is refused.
    d.ctl_ok(
        &["computer-policy", "edit", "default", "--mode", "enforce"],
        "",
    );
    let (_, out) = radclient(d.auth, "auth", &pap("alice", "alice-pw-1", ""));
    assert!(out.contains("Received Access-Reject"), "{out}");
}

fn login_raw(d: &Daemon, id: u8, user: &str, password: &str) -> Vec<u8> {
    let (req, auth) = access_request(id, user, password, true);
    let reply = exchange(d.auth, &req, Duration::from_secs(5)).expect("a reply");
    check_reply(&reply, &auth);
    reply
}

/// The code and attributes of a reply, without what differs per reply anyway (its
/// authenticator and the Message-Authenticator signed with it).
fn shape(reply: &[u8]) -> (Code, Vec<(u8, Vec<u8>)>) {
    let v = PacketView::decode(reply).unwrap();
    (
        v.code(),
        v.attributes()
            .filter(|(t, _)| *t != attr::MESSAGE_AUTHENTICATOR)
            .map(|(t, val)| (t, val.to_vec()))
            .collect(),
    )
}

/// The threshold-th failure locks; a locked user with the right password gets the reject a
/// wrong password gets; `user unlock` and expiry restore; a SIGKILL right after a failure's
/// reject loses no count.
#[test]
fn lockout_counts_durably_locks_at_the_threshold_and_unlocks() {
    let mut d = Daemon::start();
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "strict",
            "--lockout-threshold",
            "3",
            "--lockout-window",
            "15m",
            "--lockout-duration",
            "0s",
        ],
        "",
    );
    d.ctl_ok(&["user-policy", "assign", "strict", "--user", "alice"], "");

    let wrong = login_raw(&d, 1, "alice", "wrong-1");
    assert_eq!(shape(&wrong).0, Code::AccessReject);
    assert_eq!(
        shape(&login_raw(&d, 2, "alice", "wrong-2")).0,
        Code::AccessReject
    );
    // Two failures: not locked yet, the right password still opens (and clears the count).
    assert_eq!(
        shape(&login_raw(&d, 3, "alice", "alice-pw-1")).0,
        Code::AccessAccept
    );
    for id in 4..7 {
        assert_eq!(
            shape(&login_raw(&d, id, "alice", "wrong")).0,
            Code::AccessReject
        );
    }
    // The third failure locked: the right password now gets exactly a wrong one's reject.
    let locked = login_raw(&d, 7, "alice", "alice-pw-1");
    assert_eq!(shape(&locked), shape(&wrong));
    assert_eq!(d.auth_records(1)[0]["detail"]["code"], "locked");
    let u = d.ctl_json(&["user", "show", "alice"], "");
    assert_eq!(u["user"]["lockout"]["locked"], true, "{u}");

    d.ctl_ok(&["user", "unlock", "alice"], "");
    assert_eq!(
        shape(&login_raw(&d, 8, "alice", "alice-pw-1")).0,
        Code::AccessAccept
    );

    // Two failures, then SIGKILL right after the second reject: after the restart the
    // next failure is the third.
    login_raw(&d, 9, "alice", "wrong");
    login_raw(&d, 10, "alice", "wrong");
    d.kill_hard();
    d.spawn();
    login_raw(&d, 11, "alice", "wrong");
    assert_eq!(
        shape(&login_raw(&d, 12, "alice", "alice-pw-1")).0,
        Code::AccessReject
    );
    assert_eq!(d.auth_records(1)[0]["detail"]["code"], "locked");

    // A lock with a duration expires by itself.
    d.ctl_ok(&["user", "unlock", "alice"], "");
    d.ctl_ok(
        &["user-policy", "edit", "strict", "--lockout-duration", "2s"],
        "",
    );
    for id in 13..16 {
        login_raw(&d, id, "alice", "wrong");
    }
    assert_eq!(
        shape(&login_raw(&d, 16, "alice", "alice-pw-1")).0,
        Code::AccessReject
    );
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(
        shape(&login_raw(&d, 17, "alice", "alice-pw-1")).0,
        Code::AccessAccept
    );
}

fn request_from(id: u8, user: &str, password: &str, calling_station: &str) -> (Vec<u8>, [u8; 16]) {
    let mut p = Packet::new(Code::AccessRequest, id);
    p.authenticator = crypto::random_authenticator().unwrap();
    p.add_str(attr::USER_NAME, user);
    p.add_str(attr::CALLING_STATION_ID, calling_station);
    p.set_user_password(password.as_bytes().to_vec());
    let auth = p.authenticator;
    (p.encode_request(SECRET.as_bytes()).unwrap(), auth)
}

/// Five spellings of one MAC are one computer; a flood of random stations from one client
/// stores at most the site's cap, and every request is answered.
#[test]
fn computers_are_one_per_mac_and_registration_is_bounded() {
    // Kept {SSHA} (no rehash to argon2id) so that 10,000 logins take seconds.
    let d = Daemon::start_with(
        "\n[auth]\nrehash_on_login = false\n\n[policy]\ncomputers_per_site = 200\n",
        false,
    );
    d.add_client("nas1", true);
    let hash = common::slapd::ssha("carol-pw-1", "carol");
    d.ctl_ok(
        &["user", "add", "carol", "--password-hash-stdin"],
        &format!("{hash}\n"),
    );
    for (i, spelling) in [
        "00:10:a4:23:19:c0",
        "0010.a423.19c0",
        "0010-a423-19c0",
        "0010a42319c0",
        "00-10-A4-23-19-C0",
    ]
    .iter()
    .enumerate()
    {
        let (req, auth) = request_from(i as u8, "carol", "carol-pw-1", spelling);
        let reply = exchange(d.auth, &req, Duration::from_secs(5)).unwrap();
        assert_eq!(check_reply(&reply, &auth), Code::AccessAccept);
    }
    let list = d.ctl_json(&["computer", "list"], "");
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["computers"][0]["identity"], "00-10-A4-23-19-C0");

    // 10,000 random MACs from one client, 100 in flight at a time.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    let mut answered = 0;
    let mut n: u32 = 0;
    while n < 10_000 {
        let batch = 100.min(10_000 - n);
        for k in 0..batch {
            let x = (n + k).wrapping_mul(2_654_435_761);
            let mac = format!(
                "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                (x >> 24) as u8,
                (x >> 16) as u8,
                (x >> 8) as u8,
                x as u8,
                (n + k) as u8
            );
            let (req, _) = request_from(((n + k) % 256) as u8, "carol", "carol-pw-1", &mac);
            sock.send_to(&req, d.auth).unwrap();
        }
        for _ in 0..batch {
            if common::recv(&sock).is_some() {
                answered += 1;
            }
        }
        n += batch;
    }
    eprintln!(
        "10,000 requests answered {answered} in {:?}",
        started.elapsed()
    );
    assert_eq!(answered, 10_000, "every request is answered");
    assert!(wait_until(Duration::from_secs(10), || {
        let list = d.ctl_json(&["computer", "list", "--limit", "1"], "");
        list["total"].as_u64().is_some_and(|t| t >= 150)
    }));
    std::thread::sleep(Duration::from_millis(300));
    let total = d.ctl_json(&["computer", "list", "--limit", "1"], "")["total"]
        .as_u64()
        .unwrap();
    assert!(total <= 200, "{total} computers stored past the cap of 200");
    // The randomised ones are flagged.
    let list = d.ctl_json(&["computer", "list", "--limit", "5", "--offset", "1"], "");
    assert_eq!(list["computers"][0]["kind"], "mac");
}

/// `computer-rule run --dry-run` writes nothing, and the run after it applies exactly the
/// printed diff; a pinned computer is left alone unless overridden.
#[test]
fn rule_runs_preview_exactly_and_leave_pinned_computers_alone() {
    let d = Daemon::start();
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    for (i, mac) in [
        "00-10-A4-00-00-01",
        "00-10-A4-00-00-02",
        "00-20-00-00-00-03",
    ]
    .iter()
    .enumerate()
    {
        let (req, auth) = request_from(i as u8, "alice", "alice-pw-1", mac);
        let reply = exchange(d.auth, &req, Duration::from_secs(5)).unwrap();
        check_reply(&reply, &auth);
    }
    assert!(wait_until(Duration::from_secs(10), || {
        d.ctl_json(&["computer", "list"], "")["total"] == 3
    }));
    d.ctl_ok(&["computer-policy", "create", "lab"], "");
    d.ctl_ok(&["computer-policy", "create", "pinned"], "");
    d.ctl_ok(
        &["computer", "assign-policy", "00-10-A4-00-00-02", "pinned"],
        "",
    );
    d.ctl_ok(
        &[
            "computer-rule",
            "add",
            "lab-macs",
            "--policy",
            "lab",
            "--identity",
            "00-10-A4-*",
        ],
        "",
    );
    let before = d.ctl_json(&["computer", "list"], "");
    let preview = d.ctl_json(&["computer-rule", "run", "--all", "--dry-run"], "");
    assert_eq!(
        d.ctl_json(&["computer", "list"], ""),
        before,
        "a dry run writes nothing"
    );
    let changes = preview["changes"].as_array().unwrap().clone();
    assert_eq!(changes.len(), 1, "{preview}");
    assert_eq!(changes[0]["identity"], "00-10-A4-00-00-01");
    assert_eq!(changes[0]["old"], "default");
    assert_eq!(changes[0]["new"], "lab");
    assert_eq!(changes[0]["rule"], "lab-macs");
    assert_eq!(preview["pinned_left_alone"], 1);

    let run = d.ctl_json(&["computer-rule", "run", "--all"], "");
    assert_eq!(run["changes"], json(&changes));
    let after = d.ctl_json(&["computer", "list"], "");
    let policy_of = |id: &str| {
        after["computers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["identity"] == id)
            .unwrap()["policy"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(policy_of("00-10-A4-00-00-01"), "lab");
    assert_eq!(policy_of("00-10-A4-00-00-02"), "pinned");
    assert_eq!(policy_of("00-20-00-00-00-03"), "default");

    let forced = d.ctl_json(&["computer-rule", "run", "--all", "--override-manual"], "");
    assert_eq!(forced["changes"].as_array().unwrap().len(), 1, "{forced}");
    let c = d.ctl_json(&["computer", "show", "00-10-A4-00-00-02"], "");
    assert_eq!(c["computer"]["policy"], "lab");
    assert_eq!(c["computer"]["pinned"], false);
}

fn json(v: &[serde_json::Value]) -> serde_json::Value {
    serde_json::Value::Array(v.to_vec())
}

/// `radius trace --user` shows the steps of a live request and ends after its duration.
#[test]
fn radius_trace_streams_the_steps_of_live_requests() {
    let d = Daemon::start();
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    d.add_user("bob", "bob-pw-1");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehousectl"))
        .arg("--socket")
        .arg(d.socket())
        .args(["radius", "trace", "--user", "alice", "--duration", "3s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(800));
    let (_, out) = radclient(d.auth, "auth", &pap("bob", "bob-pw-1", ""));
    assert!(out.contains("Access-Accept"), "{out}");
    let (_, out) = radclient(d.auth, "auth", &pap("alice", "alice-pw-1", ""));
    assert!(out.contains("Access-Accept"), "{out}");
    let output = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "{took:?}"
    );
    for step in [
        "client",
        "user_policy",
        "computer_policy",
        "hours",
        "methods",
        "lockout",
        "verdict",
    ] {
        assert!(text.contains(step), "{step} missing:\n{text}");
    }
    assert!(text.contains("alice") && text.contains("accept"), "{text}");
    assert!(
        !text.contains("bob"),
        "another user's request was shown:\n{text}"
    );
    assert!(
        !text.contains("alice-pw-1"),
        "a password was shown:\n{text}"
    );
    assert!(text.contains("trace ended"), "{text}");
}

/// `policy explain` prints the steps of a fixture exactly as its golden file has them, and
/// the Access-Request with the same inputs gets exactly that decision and those attributes.
#[test]
fn policy_explain_matches_its_golden_file_and_the_request_agrees() {
    let d = Daemon::start();
    d.ctl_ok(
        &["site", "add", "Berlin", "--timezone", "Europe/Berlin"],
        "",
    );
    d.add_client("nas1", true);
    d.ctl_ok(&["client", "edit", "nas1", "--site", "Berlin"], "");
    d.add_user("alice", "alice-pw-1");
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "staff",
            "--reply",
            "Filter-Id=staff",
            "--reply",
            "Class=0x7374616666",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "user-policy",
            "assign",
            "staff",
            "--user",
            "alice",
            "--priority",
            "10",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "everyone",
            "--reply",
            "Filter-Id=everyone",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "user-policy",
            "assign",
            "everyone",
            "--domain",
            "local",
            "--priority",
            "10",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "computer-policy",
            "create",
            "office",
            "--vlan",
            "300",
            "--hours",
            "Mon-Sun 00:00-24:00",
            "--reply",
            "Class=0x6f6666696365",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "computer-rule",
            "add",
            "office-macs",
            "--policy",
            "office",
            "--identity",
            "00-10-A4-*",
            "--site",
            "Berlin",
        ],
        "",
    );
    let args = [
        "policy",
        "explain",
        "--user",
        "alice",
        "--client",
        "nas1",
        "--calling-station-id",
        "00:10:a4:23:19:c0",
        "--at",
        "2026-12-01T08:00:00Z",
    ];
    let text = d.ctl_ok(&args, "");
    let golden_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/policy_explain.golden");
    let golden = std::fs::read_to_string(&golden_path).unwrap_or_default();
    assert_eq!(
        text,
        golden,
        "policy explain output differs from {}",
        golden_path.display()
    );

    let explained = d.ctl_json(&args, "")["explain"].clone();
    assert_eq!(explained["decision"]["outcome"], "accept");
    let (ok, out) = radclient(
        d.auth,
        "auth",
        &pap(
            "alice",
            "alice-pw-1",
            ", Calling-Station-Id = \"00:10:a4:23:19:c0\"",
        ),
    );
    assert!(ok && out.contains("Received Access-Accept"), "{out}");
    // What radclient decoded of the reply (its dump starts with what it sent).
    let received = out
        .split("Received Access-Accept")
        .nth(1)
        .unwrap_or_default();
    let mut got: Vec<String> = received
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| l.contains(" = ") && !l.starts_with("Message-Authenticator"))
        .map(str::to_string)
        .collect();
    let mut want: Vec<String> = explained["reply"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{out}");
}

fn as_admin(d: &Daemon, admin: &str, args: &[&str]) -> std::process::Output {
    let mut a = vec!["--as", admin];
    a.extend_from_slice(args);
    d.ctl(&a, "")
}

/// A site administrator (derived from the shipped template) sees and changes only its
/// site's computers, edits only the computer policies it made, and every denial is
/// audited.
#[test]
fn a_site_administrator_reaches_only_its_sites_computers_and_its_own_policies() {
    let d = Daemon::start();
    d.ctl_ok(&["site", "add", "Branch"], "");
    d.ctl_ok(&["site", "add", "Depot"], "");
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    for (site, mac) in [
        ("Branch", "00-10-A4-00-00-0B"),
        ("Depot", "00-10-A4-00-00-0D"),
    ] {
        d.ctl_ok(&["client", "edit", "nas1", "--site", site], "");
        let (req, auth) = request_from(1, "alice", "alice-pw-1", mac);
        let reply = exchange(d.auth, &req, Duration::from_secs(5)).unwrap();
        assert_eq!(check_reply(&reply, &auth), Code::AccessAccept);
    }
    assert!(wait_until(Duration::from_secs(10), || {
        d.ctl_json(&["computer", "list"], "")["total"] == 2
    }));
    d.ctl_ok(
        &[
            "role",
            "create",
            "Branch Admins",
            "--parent",
            "Site Administrator",
            "--computer-scope",
            "Branch",
            "--user-scope",
            "local",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "admin",
            "add",
            "branchadmin",
            "--unix-user",
            "bin",
            "--role",
            "Branch Admins",
        ],
        "",
    );
    d.ctl_ok(&["computer-policy", "create", "root-made"], "");

    // Computers: its site's only.
    let listed = as_admin(&d, "branchadmin", &["--json", "computer", "list"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["computers"][0]["identity"], "00-10-A4-00-00-0B");
    let ok = as_admin(
        &d,
        "branchadmin",
        &[
            "computer",
            "edit",
            "00-10-A4-00-00-0B",
            "--description",
            "till",
        ],
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for args in [
        vec!["computer", "show", "00-10-A4-00-00-0D"],
        vec![
            "computer",
            "edit",
            "00-10-A4-00-00-0D",
            "--description",
            "x",
        ],
        vec!["computer", "delete", "00-10-A4-00-00-0D"],
    ] {
        let out = as_admin(&d, "branchadmin", &args);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Moving its computer to a site it does not see is refused.
    let out = as_admin(
        &d,
        "branchadmin",
        &["computer", "edit", "00-10-A4-00-00-0B", "--site", "Depot"],
    );
    assert_eq!(out.status.code(), Some(3));

    // Computer policies: its own only.
    let out = as_admin(
        &d,
        "branchadmin",
        &["computer-policy", "edit", "root-made", "--mode", "monitor"],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("only for objects you created"));
    let made = as_admin(
        &d,
        "branchadmin",
        &[
            "computer-policy",
            "create",
            "branch-hours",
            "--hours",
            "Mon-Fri 07:00-19:00",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let edited = as_admin(
        &d,
        "branchadmin",
        &["computer-policy", "edit", "branch-hours", "--vlan", "42"],
    );
    assert!(
        edited.status.success(),
        "{}",
        String::from_utf8_lossy(&edited.stderr)
    );
    // A rule for its site, not for every site.
    let rule = as_admin(
        &d,
        "branchadmin",
        &[
            "computer-rule",
            "add",
            "b",
            "--policy",
            "branch-hours",
            "--site",
            "Branch",
        ],
    );
    assert!(
        rule.status.success(),
        "{}",
        String::from_utf8_lossy(&rule.stderr)
    );
    let everywhere = as_admin(
        &d,
        "branchadmin",
        &["computer-rule", "add", "all", "--policy", "branch-hours"],
    );
    assert_eq!(everywhere.status.code(), Some(3));

    // Every denial is in the audit log as such.
    let audit = d.ctl_json(
        &["audit", "list", "--outcome", "denied", "--limit", "50"],
        "",
    );
    let denied: Vec<String> = audit["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["operation"].as_str().unwrap().to_string())
        .collect();
    for op in [
        "computer.show",
        "computer.edit",
        "computer.delete",
        "computer-policy.edit",
        "computer-rule.add",
    ] {
        assert!(
            denied.iter().any(|d| d == op),
            "{op} not audited as denied: {denied:?}"
        );
    }
}

/// `[radius] dictionary_dir` is read at start-up: a file that is not a dictionary stops
/// `--check-config` (and start-up) with its name and line; a good one makes its
/// attributes available to `--reply` by name.
#[test]
fn dictionaries_from_the_configured_directory_are_checked_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let dicts = dir.path().join("dictionary.d");
    std::fs::create_dir(&dicts).unwrap();
    std::fs::write(
        dicts.join("dictionary.acme"),
        "VENDOR Acme 55555\nBEGIN-VENDOR Acme\nATTRIBUTE Acme-Role 1 string\nEND-VENDOR Acme\n",
    )
    .unwrap();
    std::fs::write(
        dicts.join("dictionary.broken"),
        "# fine\nATTRIBUTE Broken-Attr x string\n",
    )
    .unwrap();
    let extra = format!("dictionary_dir = \"{}\"", dicts.display());
    let config = dir.path().join("g.toml");
    std::fs::write(&config, common::config_text(dir.path(), &extra, false)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gatehoused"))
        .args(["--check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("radius.dictionary_dir") && err.contains("dictionary.broken:2"),
        "{err}"
    );

    std::fs::remove_file(dicts.join("dictionary.broken")).unwrap();
    let d = Daemon::start_with(&extra, false);
    d.add_client("nas1", true);
    d.add_user("alice", "alice-pw-1");
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "acme",
            "--reply",
            "Acme-Role=operator",
        ],
        "",
    );
    d.ctl_ok(&["user-policy", "assign", "acme", "--user", "alice"], "");
    let shown = d.ctl_json(&["user-policy", "show", "acme"], "");
    assert_eq!(
        shown["user_policy"]["reply"][0], "Acme-Role = \"operator\"",
        "{shown}"
    );
    let out = d.ctl(
        &["user-policy", "edit", "acme", "--reply", "Nonesuch=1"],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, out) = radclient(d.auth, "auth", &pap("alice", "alice-pw-1", ""));
    assert!(ok && out.contains("Received Access-Accept"), "{out}");
    // radclient does not know the vendor: it shows the raw vendor attribute ("operator").
    assert!(
        out.contains("Attr-26.55555.1 = 0x6f70657261746f72"),
        "{out}"
    );
}
