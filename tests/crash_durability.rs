//! SIGKILL during an accounting load: every Accounting-Response sent and every admin
//! change acknowledged before the kill is still there after a restart, and the audit
//! chain verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Daemon, SECRET};
use gatehouse::radius::proto::{Code, Packet, PacketView, attr, verify};

fn acct_start(id: u8, session: &str) -> Vec<u8> {
    let mut p = Packet::new(Code::AccountingRequest, id);
    p.add_u32(attr::ACCT_STATUS_TYPE, 1);
    p.add_str(attr::ACCT_SESSION_ID, session);
    p.add_str(attr::USER_NAME, "load");
    p.encode_request(SECRET.as_bytes()).unwrap()
}

#[test]
fn sigkill_during_accounting_load_loses_nothing_acknowledged() {
    let mut d = Daemon::start();
    d.add_client("nas", true);
    for i in 0..5 {
        d.add_user(&format!("user{i}"), "pw-for-everyone");
    }
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let target = d.acct;
    let mut senders = Vec::new();
    for t in 0..8 {
        let acked = Arc::clone(&acked);
        let stop = Arc::clone(&stop);
        senders.push(std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            sock.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut n: u32 = 0;
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let session = format!("t{t}-s{n}");
                let id = (n % 256) as u8;
                let bytes = acct_start(id, &session);
                let auth: [u8; 16] = bytes[4..20].try_into().unwrap();
                if sock.send_to(&bytes, target).is_err() {
                    break;
                }
                let mut buf = [0u8; 4096];
                match sock.recv_from(&mut buf) {
                    Ok((len, _)) => {
                        let view = PacketView::decode(&buf[..len]).unwrap();
                        assert_eq!(view.code(), Code::AccountingResponse);
                        assert_eq!(view.identifier(), id);
                        assert!(verify::response(&view, &auth, SECRET.as_bytes()));
                        acked.lock().unwrap().push(session);
                    }
                    Err(_) => break, // the daemon is gone
                }
                n += 1;
            }
        }));
    }
    // Let the load run, make an admin change in the middle of it, then kill.
    std::thread::sleep(Duration::from_millis(700));
    d.add_user("during-load", "pw-for-everyone");
    std::thread::sleep(Duration::from_millis(700));
    d.kill_hard();
    stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the load must have been running: {} acknowledged",
        acked.len()
    );

    d.spawn();
    let conn = rusqlite::Connection::open(d.db_path()).unwrap();
    let mut stmt = conn.prepare("SELECT session_id FROM acct_event").unwrap();
    let stored: HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let missing: Vec<&String> = acked.iter().filter(|s| !stored.contains(*s)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged records lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );

    for i in 0..5 {
        d.ctl_ok(&["user", "show", &format!("user{i}")], "");
    }
    d.ctl_ok(&["user", "show", "during-load"], "");
    let verify = d.ctl_json(&["audit", "verify"], "");
    assert_eq!(verify["intact"], true, "{verify}");
    // And the restarted daemon keeps serving.
    let (ok, out) = common::radclient(
        d.acct,
        "acct",
        "Acct-Status-Type = Start, Acct-Session-Id = \"after\"\n",
    );
    assert!(ok && out.contains("Accounting-Response"), "{out}");
}
