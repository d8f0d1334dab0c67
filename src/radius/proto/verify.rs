//! Checks of what a received packet proves: its Request or Response Authenticator and its
//! Message-Authenticator, on a decoded view. Built on the primitives of [`super::crypto`],
//! which know nothing of packets.

use subtle::{Choice, ConstantTimeEq};

use super::code::Code;
use super::crypto::{self, BLOCK, MacKey, ZEROS};
use super::packet::PacketView;

/// Result of checking a Message-Authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaCheck {
    Valid,
    /// The packet carries none; whether that is acceptable is policy
    /// (BlastRADIUS: refuse Access-Requests without one from clients that
    /// are known to send it).
    Missing,
    Invalid,
}

/// Checks the Request Authenticator of an Accounting-Request (also right
/// for CoA-Request and Disconnect-Request). Only the Length octets are
/// hashed, so UDP padding does not break it.
pub fn accounting_request(view: &PacketView<'_>, secret: &[u8]) -> bool {
    let expected = crypto::accounting_request_authenticator(view.raw(), secret);
    expected.ct_eq(view.authenticator()).into()
}

/// Checks the Response Authenticator of a response to the request that
/// carried `request_authenticator`.
pub fn response(view: &PacketView<'_>, request_authenticator: &[u8; 16], secret: &[u8]) -> bool {
    let expected = crypto::response_authenticator(view.raw(), request_authenticator, secret);
    expected.ct_eq(view.authenticator()).into()
}

/// Checks the Message-Authenticator of a decoded packet.
///
/// Pass `None` for a request (its own authenticator, or zeros for
/// Accounting/CoA/Disconnect requests, is used) and the original request's
/// authenticator for a response. For Accounting-Response and the CoA and
/// Disconnect ACK/NAKs both the zero and the request-authenticator form
/// are accepted: deployed servers disagree on which one they send, and
/// either still proves knowledge of the secret.
pub fn message_authenticator(
    view: &PacketView<'_>,
    secret: &[u8],
    request_authenticator: Option<&[u8; 16]>,
) -> MaCheck {
    match MacKey::new(secret) {
        Some(key) => message_authenticator_keyed(view, &key, request_authenticator),
        None if view.message_authenticator_offset().is_none() => MaCheck::Missing,
        None => MaCheck::Invalid,
    }
}

/// [`message_authenticator`] with the secret already keyed.
pub fn message_authenticator_keyed(
    view: &PacketView<'_>,
    key: &MacKey,
    request_authenticator: Option<&[u8; 16]>,
) -> MaCheck {
    let Some(offset) = view.message_authenticator_offset() else {
        return MaCheck::Missing;
    };
    let raw = view.raw();
    let Some(received) = raw.get(offset..offset + BLOCK) else {
        return MaCheck::Invalid;
    };
    let check = |auth: &[u8; 16]| -> Choice {
        match crypto::message_authenticator_keyed(raw, offset, auth, key) {
            Some(mac) => mac.ct_eq(received),
            None => Choice::from(0),
        }
    };
    let code = view.code();
    let ok = match request_authenticator {
        None if code.has_hashed_request_authenticator() => check(&ZEROS),
        None => check(view.authenticator()),
        Some(req) => match code {
            Code::AccountingResponse
            | Code::DisconnectAck
            | Code::DisconnectNak
            | Code::CoaAck
            | Code::CoaNak => check(req) | check(&ZEROS),
            _ => check(req),
        },
    };
    if bool::from(ok) {
        MaCheck::Valid
    } else {
        MaCheck::Invalid
    }
}
