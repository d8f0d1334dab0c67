//! Property tests: totality of decoding and the encode/decode/verify
//! round trips.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::attr::{self, MESSAGE_AUTHENTICATOR, PROXY_STATE};
use super::crypto;
use super::verify::{self, MaCheck};
use super::{Code, HEADER_LEN, MAX_PACKET_LEN, Packet, PacketView};

fn exercise(view: &PacketView<'_>) {
    let _ = (view.code(), view.identifier(), view.authenticator());
    let _ = view.message_authenticator();
    assert!(view.raw().len() >= HEADER_LEN && view.raw().len() <= MAX_PACKET_LEN);
    let mut walked = HEADER_LEN;
    for (typ, value) in view.attributes() {
        walked += 2 + value.len();
        let _ = attr::as_string(value);
        let _ = attr::as_u32(value);
        let _ = attr::as_ipv4(value);
        let _ = attr::as_ipv6(value);
        let _ = attr::as_ipv6_prefix(value);
        let _ = attr::decode_tagged_string(value);
        let _ = attr::decode_tagged_u32(value);
        if let Ok(subs) = attr::decode_vsa(value) {
            for sub in subs {
                let _ = sub.value.len();
            }
        }
        let _ = crypto::unhide_user_password(value, b"s", view.authenticator());
        let _ = crypto::unhide_tunnel_password(value, b"s", view.authenticator());
        assert!(view.attr(typ).is_some());
    }
    assert_eq!(walked, view.raw().len());
    assert_eq!(view.attributes().count(), view.attribute_count());
    let _ = verify::message_authenticator(view, b"s", None);
    let _ = verify::message_authenticator(view, b"s", Some(&[0; 16]));
    let _ = verify::accounting_request(view, b"s");
    let _ = verify::response(view, &[0; 16], b"s");
}

fn code() -> impl Strategy<Value = Code> {
    any::<u8>().prop_map(Code::from_u8)
}

/// Attributes whose encoding fits in 4096 octets, excluding
/// Message-Authenticator (its length is constrained).
fn attributes(budget: usize) -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec(
        (
            any::<u8>().prop_filter("MA", |t| *t != MESSAGE_AUTHENTICATOR),
            prop::collection::vec(any::<u8>(), 0..=253),
        ),
        0..40,
    )
    .prop_map(move |mut attrs| {
        let mut total = 0;
        attrs.retain(|(_, v)| {
            total += 2 + v.len();
            total <= budget
        });
        attrs
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(view) = PacketView::decode(&buf) {
            exercise(&view);
        }
        let auth = [1u8; 16];
        let _ = crypto::unhide_user_password(&buf, b"secret", &auth);
        let _ = crypto::unhide_tunnel_password(&buf, b"secret", &auth);
        let _ = crypto::unhide_mppe_key(&buf, b"secret", &auth);
        let _ = attr::decode_vsa(&buf).map(Iterator::count);
    }

    #[test]
    fn structured_garbage_never_panics(
        code in any::<u8>(),
        id in any::<u8>(),
        len in 0u16..5000,
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut buf = vec![code, id];
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(&[0; 16]);
        buf.extend_from_slice(&body);
        if let Ok(view) = PacketView::decode(&buf) {
            exercise(&view);
            prop_assert_eq!(view.raw().len(), usize::from(len));
        }
    }

    #[test]
    fn raw_round_trip(
        code in code(),
        id in any::<u8>(),
        auth in any::<[u8; 16]>(),
        attrs in attributes(MAX_PACKET_LEN - HEADER_LEN),
    ) {
        let mut p = Packet::new(code, id);
        p.authenticator = auth;
        p.attributes = attrs;
        let wire = p.encode_raw().unwrap();
        let view = PacketView::decode(&wire).unwrap();
        prop_assert_eq!(view.code(), code);
        prop_assert_eq!(view.identifier(), id);
        prop_assert_eq!(view.authenticator(), &auth);
        prop_assert_eq!(Packet::from_view(&view), p);
    }

    #[test]
    fn request_round_trip(
        request_code in prop::sample::select(vec![
            Code::AccessRequest, Code::StatusServer, Code::AccountingRequest,
            Code::CoaRequest, Code::DisconnectRequest,
        ]),
        id in any::<u8>(),
        auth in any::<[u8; 16]>(),
        attrs in attributes(MAX_PACKET_LEN - HEADER_LEN - 18),
        secret in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let mut p = Packet::new(request_code, id);
        p.authenticator = auth;
        p.attributes = attrs.clone();
        let wire = p.encode_request(&secret).unwrap();
        let view = PacketView::decode(&wire).unwrap();
        prop_assert_eq!(view.code(), request_code);
        let decoded: Vec<(u8, Vec<u8>)> = view
            .attributes()
            .filter(|(t, _)| *t != MESSAGE_AUTHENTICATOR)
            .map(|(t, v)| (t, v.to_vec()))
            .collect();
        prop_assert_eq!(decoded, attrs);
        let ma = verify::message_authenticator(&view, &secret, None);
        if request_code.has_hashed_request_authenticator() {
            prop_assert!(verify::accounting_request(&view, &secret));
            prop_assert_eq!(ma, MaCheck::Missing);
        } else {
            prop_assert_eq!(view.authenticator(), &auth);
            prop_assert_eq!(ma, MaCheck::Valid);
        }
    }

    #[test]
    fn keyed_and_plain_secrets_sign_and_verify_alike(
        attrs in attributes(600),
        req_auth in any::<[u8; 16]>(),
        secret in prop::collection::vec(any::<u8>(), 1..80),
    ) {
        let key = crypto::MacKey::new(&secret).unwrap();
        let mut req = Packet::new(Code::AccessRequest, 7);
        req.authenticator = req_auth;
        let req_wire = req.encode_raw().unwrap();
        let req_view = PacketView::decode(&req_wire).unwrap();
        let mut resp = Packet::new(Code::AccessAccept, 0);
        resp.attributes = attrs.into_iter().filter(|(t, _)| *t != PROXY_STATE).collect();
        let plain = resp.encode_response(&req_view, &secret).unwrap();
        let mut keyed = Vec::new();
        resp.encode_response_keyed(&req_view, &secret, &key, &mut keyed).unwrap();
        prop_assert_eq!(&plain, &keyed);
        let view = PacketView::decode(&keyed).unwrap();
        prop_assert_eq!(
            verify::message_authenticator_keyed(&view, &key, Some(&req_auth)),
            verify::message_authenticator(&view, &secret, Some(&req_auth))
        );
        let other = crypto::MacKey::new(b"another secret").unwrap();
        prop_assert_eq!(
            verify::message_authenticator_keyed(&view, &other, Some(&req_auth)),
            MaCheck::Invalid
        );
    }

    #[test]
    fn response_verifies_and_every_bit_flip_is_caught(
        response_code in prop::sample::select(vec![
            Code::AccessAccept, Code::AccessReject, Code::AccessChallenge,
            Code::AccountingResponse, Code::CoaAck, Code::DisconnectNak,
        ]),
        request_code in prop::sample::select(vec![
            Code::AccessRequest, Code::StatusServer, Code::AccountingRequest,
        ]),
        req_id in any::<u8>(),
        req_auth in any::<[u8; 16]>(),
        proxy_states in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..4),
        attrs in attributes(1500),
        secret in prop::collection::vec(any::<u8>(), 1..32),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut req = Packet::new(request_code, req_id);
        req.authenticator = req_auth;
        for ps in &proxy_states {
            req.add(PROXY_STATE, ps.clone());
        }
        let req_wire = req.encode_raw().unwrap();
        let req_view = PacketView::decode(&req_wire).unwrap();

        let mut resp = Packet::new(response_code, 0);
        resp.attributes = attrs
            .into_iter()
            .filter(|(t, _)| *t != PROXY_STATE)
            .collect();
        let wire = resp.encode_response(&req_view, &secret).unwrap();
        let view = PacketView::decode(&wire).unwrap();
        prop_assert_eq!(view.identifier(), req_id);
        prop_assert_eq!(view.message_authenticator_offset(), Some(HEADER_LEN + 2));
        prop_assert!(verify::response(&view, &req_auth, &secret));
        prop_assert_eq!(
            verify::message_authenticator(&view, &secret, Some(&req_auth)),
            MaCheck::Valid
        );
        let copied: Vec<&[u8]> = view.attrs(PROXY_STATE).collect();
        let expected: Vec<&[u8]> = proxy_states.iter().map(Vec::as_slice).collect();
        prop_assert_eq!(copied, expected);

        let mut tampered = wire.clone();
        let i = flip.index(tampered.len());
        tampered[i] ^= 1 << bit;
        if let Ok(t) = PacketView::decode(&tampered) {
            let auth_ok = verify::response(&t, &req_auth, &secret);
            let ma_ok = verify::message_authenticator(&t, &secret, Some(&req_auth))
                == MaCheck::Valid;
            prop_assert!(!(auth_ok && ma_ok), "bit {} of octet {} went unnoticed", bit, i);
        }
    }
}
