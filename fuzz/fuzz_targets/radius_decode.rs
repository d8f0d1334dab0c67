//! Feeds arbitrary datagrams to the RADIUS codec. Decoding must never panic,
//! every accessor must be total on a decoded view, and whatever decodes must
//! survive re-encoding: verbatim, as a request and as the request a
//! response answers.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports, unreachable_pub)]
#[path = "../../src/radius/proto/mod.rs"]
mod proto;

use proto::attr::{self, MESSAGE_AUTHENTICATOR, PROXY_STATE};
use proto::{
    Code, EncodeError, HEADER_LEN, MAX_PACKET_LEN, MaCheck, Packet, PacketView, crypto, dict,
    verify,
};

/// The seeds are signed with this secret so the Valid branches are reached.
const SECRET: &[u8] = b"fuzz-secret";

fuzz_target!(|data: &[u8]| {
    let Ok(view) = PacketView::decode(data) else {
        return;
    };
    exercise_accessors(&view);
    raw_round_trip(&view);
    if view.code().is_request() {
        request_round_trip(&view);
    }
    response_round_trip(&view);
});

fn exercise_accessors(view: &PacketView<'_>) {
    let raw = view.raw();
    assert!((HEADER_LEN..=MAX_PACKET_LEN).contains(&raw.len()));
    assert!(raw.len() <= view.raw().len());
    let _ = (view.code().as_u8(), view.identifier(), view.authenticator());
    if let Some(off) = view.message_authenticator_offset() {
        assert_eq!(raw.get(off - 2), Some(&MESSAGE_AUTHENTICATOR));
        assert!(view.message_authenticator().is_some());
    }
    let mut count = 0;
    let mut walked = HEADER_LEN;
    for (typ, value) in view.attributes() {
        count += 1;
        walked += 2 + value.len();
        assert!(view.attr(typ).is_some());
        let _ = dict::by_type(typ);
        let _ = attr::as_string(value);
        let _ = attr::as_u32(value);
        let _ = attr::as_ipv4(value);
        let _ = attr::as_ipv6(value);
        let _ = attr::as_ipv6_prefix(value);
        let _ = attr::decode_tagged_string(value);
        let _ = attr::decode_tagged_u32(value);
        if let Ok(subs) = attr::decode_vsa(value) {
            for sub in subs {
                let _ = dict::vendor_by_type(sub.vendor_id, sub.typ);
                let _ = crypto::unhide_mppe_key(sub.value, SECRET, view.authenticator());
            }
        }
        let _ = crypto::unhide_user_password(value, SECRET, view.authenticator());
        let _ = crypto::unhide_tunnel_password(value, SECRET, view.authenticator());
    }
    assert_eq!(count, view.attribute_count());
    assert_eq!(walked, raw.len());
    let _ = view.attrs(PROXY_STATE).count();
    let _ = verify::message_authenticator(view, SECRET, None);
    let _ = verify::message_authenticator(view, SECRET, Some(view.authenticator()));
    let _ = verify::accounting_request(view, SECRET);
    let _ = verify::response(view, view.authenticator(), SECRET);
}

fn raw_round_trip(view: &PacketView<'_>) {
    let wire = Packet::from_view(view)
        .encode_raw()
        .expect("a decoded packet re-encodes");
    assert_eq!(wire, view.raw());
}

fn without(view: &PacketView<'_>, skip: &[u8]) -> Vec<(u8, Vec<u8>)> {
    view.attributes()
        .filter(|(t, _)| !skip.contains(t))
        .map(|(t, v)| (t, v.to_vec()))
        .collect()
}

fn request_round_trip(view: &PacketView<'_>) {
    let packet = Packet::from_view(view);
    let wire = match packet.encode_request(SECRET) {
        Ok(wire) => wire,
        // Only adding a mandatory Message-Authenticator can push it over.
        Err(EncodeError::TooLong { len }) => {
            assert!(view.message_authenticator_offset().is_none());
            assert_eq!(len, view.raw().len() + 18);
            return;
        }
        Err(e) => panic!("request re-encode failed: {e}"),
    };
    let again = PacketView::decode(&wire).expect("encoded request decodes");
    assert_eq!(again.code(), view.code());
    assert_eq!(again.identifier(), view.identifier());
    assert_eq!(
        without(&again, &[MESSAGE_AUTHENTICATOR]),
        without(view, &[MESSAGE_AUTHENTICATOR])
    );
    let ma = verify::message_authenticator(&again, SECRET, None);
    match view.code() {
        Code::AccessRequest | Code::StatusServer => {
            assert_eq!(again.authenticator(), view.authenticator());
            assert_eq!(again.message_authenticator_offset(), Some(HEADER_LEN + 2));
            assert_eq!(ma, MaCheck::Valid);
        }
        _ => {
            assert!(verify::accounting_request(&again, SECRET));
            let expected = if view.message_authenticator_offset().is_some() {
                MaCheck::Valid
            } else {
                MaCheck::Missing
            };
            assert_eq!(ma, expected);
        }
    }
}

fn response_round_trip(request: &PacketView<'_>) {
    let mut reply = Packet::new(Code::AccessAccept, 0);
    reply.attributes = without(request, &[MESSAGE_AUTHENTICATOR, PROXY_STATE]);
    let wire = match reply.encode_response(request, SECRET) {
        Ok(wire) => wire,
        Err(EncodeError::TooLong { len }) => {
            assert!(len > MAX_PACKET_LEN);
            return;
        }
        Err(e) => panic!("response encode failed: {e}"),
    };
    let resp = PacketView::decode(&wire).expect("encoded response decodes");
    assert_eq!(resp.identifier(), request.identifier());
    assert_eq!(resp.message_authenticator_offset(), Some(HEADER_LEN + 2));
    assert!(verify::response(
        &resp,
        request.authenticator(),
        SECRET
    ));
    assert_eq!(
        verify::message_authenticator(&resp, SECRET, Some(request.authenticator())),
        MaCheck::Valid
    );
    let mut expected = without(request, &[MESSAGE_AUTHENTICATOR, PROXY_STATE]);
    expected.extend(
        request
            .attrs(PROXY_STATE)
            .map(|v| (PROXY_STATE, v.to_vec())),
    );
    assert_eq!(without(&resp, &[MESSAGE_AUTHENTICATOR]), expected);
}
