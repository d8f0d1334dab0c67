//! A corpus of malformed and hostile datagrams, then a valid request that must still be
//! answered: nothing crashes the daemon, nothing is answered that should not be, and the
//! drops are counted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{Daemon, SECRET, access_request, check_reply, exchange};
use gatehouse::radius::proto::{Code, Packet, attr, crypto};

fn header(code: u8, id: u8, len: u16) -> Vec<u8> {
    let mut v = vec![code, id];
    v.extend_from_slice(&len.to_be_bytes());
    v.extend_from_slice(&[7u8; 16]);
    v
}

fn with_attrs(code: u8, attrs: &[u8]) -> Vec<u8> {
    let len = u16::try_from(20 + attrs.len()).unwrap_or(u16::MAX);
    let mut v = header(code, 1, len);
    v.extend_from_slice(attrs);
    v
}

fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut c: Vec<(&'static str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one byte", vec![1]),
        ("19 bytes", vec![1; 19]),
        ("length 0", header(1, 1, 0)),
        ("length 19", header(1, 1, 19)),
        ("length 65535", header(1, 1, 65535)),
        ("length beyond datagram", header(1, 1, 400)),
        ("attribute length 0", with_attrs(1, &[1, 0, b'a'])),
        ("attribute length 1", with_attrs(1, &[1, 1, b'a'])),
        ("attribute overrun", with_attrs(1, &[1, 40, b'a', b'b'])),
        ("truncated attribute header", with_attrs(1, &[1])),
        (
            "user-password 17 bytes",
            with_attrs(1, &[&[1u8, 3, b'a'][..], &[2, 19], &[0u8; 17]].concat()),
        ),
        ("user-password empty", with_attrs(1, &[1, 3, b'a', 2, 2])),
        (
            "message-authenticator 17 bytes",
            with_attrs(1, &[&[80u8, 19][..], &[0u8; 17]].concat()),
        ),
        (
            "two message-authenticators",
            with_attrs(
                1,
                &[&[80u8, 18][..], &[0u8; 16], &[80u8, 18], &[0u8; 16]].concat(),
            ),
        ),
        (
            "access-accept sent to a server",
            with_attrs(2, &[1, 3, b'a']),
        ),
        ("unknown code 99", with_attrs(99, &[1, 3, b'a'])),
        (
            "status-server without message-authenticator",
            with_attrs(12, &[]),
        ),
    ];
    // 4097 and 5000 byte datagrams (longer than RADIUS allows).
    let mut big = header(1, 1, 4097);
    big.resize(4097, 0x41);
    c.push(("length 4097", big));
    let mut huge = vec![0u8; 5000];
    huge[0] = 1;
    huge[2..4].copy_from_slice(&5000u16.to_be_bytes());
    c.push(("oversized datagram", huge));
    // A flood of 2038 empty attributes fills a legal 4096-byte packet.
    c.push(("attribute flood", with_attrs(1, &[1u8, 2].repeat(2038))));
    // A correctly formed request with a forged Message-Authenticator.
    let mut p = Packet::new(Code::AccessRequest, 5);
    p.authenticator = [9; 16];
    p.add_str(attr::USER_NAME, "alice");
    p.set_user_password(b"pw-alice-1".to_vec());
    let mut forged = p.encode_request(b"wrong secret entirely").unwrap();
    forged[25] ^= 1;
    c.push(("wrong message-authenticator", forged));
    // A 144-byte User-Password (RFC 2865 allows at most 128) with a valid MA.
    let mut p = Packet::new(Code::AccessRequest, 6);
    p.authenticator = [3; 16];
    p.add_str(attr::USER_NAME, "alice");
    p.add(attr::USER_PASSWORD, vec![0x55; 144]);
    p.add_message_authenticator();
    c.push((
        "user-password 144 bytes",
        p.encode_request(SECRET.as_bytes()).unwrap(),
    ));
    c
}

#[test]
fn hostile_corpus_is_dropped_and_service_continues() {
    let mut d = Daemon::start();
    d.add_client("nas", true);
    d.add_user("alice", "pw-alice-1");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (name, bytes) in corpus() {
        // Only the signed over-long User-Password may be answered, after hashing; a reply
        // to anything else would come at once (nothing to hash), well within 100 ms.
        let wait = if name == "user-password 144 bytes" {
            Duration::from_secs(3)
        } else {
            Duration::from_millis(100)
        };
        sock.set_read_timeout(Some(wait)).unwrap();
        sock.send_to(&bytes, d.auth).unwrap();
        sock.send_to(&bytes, d.acct).unwrap();
        let mut buf = [0u8; 4096];
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            // Only the over-long User-Password is a well-formed, signed request: it may be
            // answered, but only with a reject.
            assert_eq!(
                name, "user-password 144 bytes",
                "unexpected reply to {name}"
            );
            let view = gatehouse::radius::proto::PacketView::decode(&buf[..n]).unwrap();
            assert_eq!(view.code(), Code::AccessReject, "{name}");
        }
    }
    // Pseudo-random garbage, bounded in count.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..3000u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = usize::try_from(x % 300).unwrap() + usize::try_from(i % 3).unwrap();
        let mut bytes: Vec<u8> = (0..len).map(|k| (x >> (k % 56)) as u8 ^ k as u8).collect();
        if let Some(b) = bytes.first_mut() {
            *b = [1u8, 4, 12][usize::try_from(i % 3).unwrap()];
        }
        if bytes.len() >= 4 {
            let l = u16::try_from(bytes.len()).unwrap().to_be_bytes();
            bytes[2..4].copy_from_slice(&l);
        }
        let target = if i % 2 == 0 { d.auth } else { d.acct };
        sock.send_to(&bytes, target).unwrap();
    }

    // Still serving.
    let (req, auth) = access_request(42, "alice", "pw-alice-1", true);
    let reply =
        exchange(d.auth, &req, Duration::from_secs(5)).expect("a valid request is still answered");
    assert_eq!(check_reply(&reply, &auth), Code::AccessAccept);
    let mut st = Packet::new(Code::StatusServer, 1);
    st.authenticator = crypto::random_authenticator().unwrap();
    let reply = exchange(
        d.acct,
        &st.encode_request(SECRET.as_bytes()).unwrap(),
        Duration::from_secs(5),
    );
    assert!(reply.is_some(), "accounting port still answers");

    let status = d.ctl_json(&["status"], "");
    let malformed = status["radius"]["global"]["malformed"].as_u64().unwrap();
    assert!(malformed >= 30, "malformed packets are counted: {status}");
    let drops = &status["radius"]["clients"][0]["counters"]["drops"];
    assert!(
        drops["message_authenticator_missing"].as_u64().unwrap_or(0) >= 1,
        "{status}"
    );
    assert!(
        drops["unexpected_code"].as_u64().unwrap_or(0) >= 2,
        "{status}"
    );
    let child = d.child.as_mut().unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the daemon must still be running"
    );
    assert!(!d.log_text().contains("panicked"), "{}", d.log_text());
}
