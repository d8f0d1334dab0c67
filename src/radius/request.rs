//! The one request function. UDP auth, UDP accounting (and later RadSec) find the client
//! their own way — by source address, by certificate — and then call
//! [`RadiusContext::handle`], which in order: decodes; enforces the request's integrity
//! (Message-Authenticator, accounting authenticator); applies the client's rate limit;
//! consults the duplicate cache; dispatches (Status-Server, [`access`](super::access),
//! [`accounting`](super::accounting)); and encodes the reply, which the stages have
//! already made durable where it acknowledges something.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::clients::Client;
use super::context::RadiusContext;
use super::counters::{DropReason, bump};
use super::dedup::{Begin, RequestKey};
use super::proto::verify::{self, MaCheck};
use super::proto::{Code, EncodeError, Packet, PacketView, attr};

/// What a listener serves. A copy of a request sent to the other service's port is a
/// different request (its reply differs), so this is part of the duplicate key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Auth,
    Acct,
}

impl Service {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Auth => "auth",
            Service::Acct => "acct",
        }
    }
}

/// Where a request came from: the peer's address and the service it reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub addr: SocketAddr,
    pub service: Service,
}

/// How often one client's drops of one kind are logged.
const DROP_LOG_INTERVAL_MICROS: i64 = 10_000_000;

impl RadiusContext {
    /// Handles one request from `client`, received at `arrived`; `None` means drop it
    /// silently.
    pub async fn handle(
        &self,
        bytes: &[u8],
        client: &Client,
        peer: Peer,
        arrived: Instant,
    ) -> Option<Arc<[u8]>> {
        bump(&client.counters.requests);
        let Ok(view) = PacketView::decode(bytes) else {
            bump(&self.global.malformed);
            self.drop_request(client, DropReason::Malformed, peer, None);
            return None;
        };
        if let Err(reason) = check_integrity(&view, client, peer.service) {
            self.drop_request(client, reason, peer, Some(view.code()));
            return None;
        }
        if !client.admit(self.clock.instant()) {
            self.drop_request(client, DropReason::RateLimited, peer, None);
            return None;
        }

        let key = RequestKey {
            peer: peer.addr,
            service: peer.service,
            identifier: view.identifier(),
            authenticator: *view.authenticator(),
        };
        match self.dedup.begin(key, self.clock.instant()) {
            Begin::New => {}
            Begin::InProgress => {
                client.counters.dropped(DropReason::DuplicateInProgress);
                return None;
            }
            Begin::Replay(bytes) => {
                bump(&client.counters.duplicates_answered);
                return Some(bytes);
            }
        }

        let reply = match view.code() {
            Code::StatusServer => {
                bump(&client.counters.status_server);
                let code = match peer.service {
                    Service::Auth => Code::AccessAccept,
                    Service::Acct => Code::AccountingResponse,
                };
                Some(Packet::new(code, view.identifier()))
            }
            Code::AccessRequest => self.access_request(&view, client, peer.addr, arrived).await,
            // Boxed, like every rarely taken branch that waits: a request's future is
            // allocated (and moved) whole, so the common path must stay small.
            Code::AccountingRequest => Box::pin(self.accounting_request(&view, client)).await,
            _ => None,
        };
        let encoded = reply.and_then(|p| self.encode(p, &view, client, peer));
        match &encoded {
            Some(bytes) => self.dedup.complete(&key, Arc::clone(bytes)),
            None => self.dedup.abandon(&key),
        }
        encoded
    }

    /// Encodes a reply. One that would exceed 4096 octets (a request may carry up to that
    /// much Proxy-State, which every reply echoes) loses its Reply-Message first; if it
    /// still does not fit it is not sent, and counted.
    fn encode(
        &self,
        mut reply: Packet,
        view: &PacketView<'_>,
        client: &Client,
        peer: Peer,
    ) -> Option<Arc<[u8]>> {
        let mut out = Vec::with_capacity(64);
        let secret = client.secret.expose();
        let mut result = reply.encode_response_keyed(view, secret, &client.mac_key, &mut out);
        if matches!(result, Err(EncodeError::TooLong { .. })) {
            reply.attributes.retain(|(t, _)| *t != attr::REPLY_MESSAGE);
            result = reply.encode_response_keyed(view, secret, &client.mac_key, &mut out);
        }
        match result {
            Ok(()) => Some(Arc::from(out)),
            Err(EncodeError::TooLong { .. }) => {
                self.drop_request(client, DropReason::ReplyTooLarge, peer, None);
                None
            }
            Err(e) => {
                tracing::error!(client = %client.name, error = %e, "could not encode reply");
                None
            }
        }
    }

    /// Counts a dropped request and, at most once per interval per client and reason,
    /// tells the operator why at info level, with what to do about it.
    pub(super) fn drop_request(
        &self,
        client: &Client,
        reason: DropReason,
        peer: Peer,
        code: Option<Code>,
    ) {
        let total = client.counters.dropped(reason);
        if !client
            .counters
            .should_log(reason, self.clock.now_micros(), DROP_LOG_INTERVAL_MICROS)
        {
            return;
        }
        let name = &client.name;
        let hint = match reason {
            DropReason::MessageAuthenticatorMissing => format!(
                "client {name} sent no Message-Authenticator; require_message_authenticator is on (only if the NAS cannot send one: gatehousectl client edit {name} --require-message-authenticator false)"
            ),
            DropReason::MessageAuthenticatorInvalid => format!(
                "client {name} sent a wrong Message-Authenticator: its shared secret differs from the one configured"
            ),
            DropReason::BadRequestAuthenticator => format!(
                "client {name} sent an Accounting-Request with a wrong authenticator: its shared secret differs from the one configured"
            ),
            DropReason::UnexpectedCode => format!(
                "client {name} sent {} to the {} port, which does not take it",
                code.map_or_else(|| "a packet".to_string(), |c| format!("{c:?}")),
                peer.service.as_str()
            ),
            DropReason::Malformed => {
                format!("client {name} sent a datagram that is not a RADIUS packet")
            }
            DropReason::RateLimited => format!("client {name} exceeds its rate limit"),
            DropReason::Overloaded => format!(
                "request from client {name} dropped: max_in_flight requests are being worked on"
            ),
            DropReason::Stale => format!(
                "a request from client {name} waited longer than stale_request_ms for a CPU thread (overload) and was dropped"
            ),
            DropReason::ReplyTooLarge => format!(
                "a reply to client {name} would exceed 4096 octets (its request carried that much Proxy-State) and was not sent"
            ),
            DropReason::DuplicateInProgress | DropReason::StoreUnavailable => return,
        };
        tracing::info!(client = %name, peer = %peer.addr, reason = reason.as_str(), dropped = total, "request dropped: {hint}");
    }
}

/// Checks what proves the request came from the client: the BlastRADIUS rule for
/// Access-Request, RFC 5997 for Status-Server, RFC 2866 for Accounting-Request. Response
/// codes and anything else are dropped (a server never answers answers).
fn check_integrity(
    view: &PacketView<'_>,
    client: &Client,
    service: Service,
) -> Result<(), DropReason> {
    let key = &client.mac_key;
    match (view.code(), service) {
        (Code::AccessRequest, Service::Auth) => {
            match verify::message_authenticator_keyed(view, key, None) {
                MaCheck::Valid => Ok(()),
                MaCheck::Missing if !client.require_message_authenticator => Ok(()),
                MaCheck::Missing => Err(DropReason::MessageAuthenticatorMissing),
                MaCheck::Invalid => Err(DropReason::MessageAuthenticatorInvalid),
            }
        }
        (Code::StatusServer, _) => match verify::message_authenticator_keyed(view, key, None) {
            MaCheck::Valid => Ok(()),
            MaCheck::Missing => Err(DropReason::MessageAuthenticatorMissing),
            MaCheck::Invalid => Err(DropReason::MessageAuthenticatorInvalid),
        },
        (Code::AccountingRequest, Service::Acct) => {
            if !verify::accounting_request(view, client.secret.expose()) {
                return Err(DropReason::BadRequestAuthenticator);
            }
            match verify::message_authenticator_keyed(view, key, None) {
                MaCheck::Invalid => Err(DropReason::MessageAuthenticatorInvalid),
                _ => Ok(()),
            }
        }
        _ => Err(DropReason::UnexpectedCode),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{ClientSpec, Secret};
    use crate::radius::context::{Limits, Settings};
    use crate::store::{Store, WriteOp};
    use crate::time::{Clock, ManualClock};

    async fn context(dir: &std::path::Path, clock: Arc<ManualClock>) -> RadiusContext {
        let store = Store::open(&dir.join("db"), &dir.join("key")).unwrap();
        store
            .write(vec![WriteOp::AddClient {
                spec: ClientSpec {
                    name: "nas".into(),
                    address: "127.0.0.1".into(),
                    secret: Secret::new(b"a-long-enough-secret".to_vec()),
                    site: "HQ".into(),
                    require_message_authenticator: true,
                    rate_limit: None,
                },
                created_by: "test".into(),
                allow_more_specific: false,
            }])
            .await
            .unwrap();
        RadiusContext::new(
            store,
            Settings {
                rehash_on_login: false,
                default_client_rate_limit: 0,
                stale_after: Duration::from_secs(3),
            },
            &Limits {
                duplicate_window: Duration::from_secs(30),
                duplicate_entries: 1024,
                cpu_threads: 1,
                computers: crate::radius::policies::ComputerLimits::default(),
            },
            clock,
        )
    }

    fn peer() -> Peer {
        Peer {
            addr: "127.0.0.1:40000".parse().unwrap(),
            service: Service::Auth,
        }
    }

    /// Every request allocates its future whole (and a transport may move it to a CPU
    /// thread), so the common path keeps it small: rarely taken branches that wait are
    /// boxed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_request_future_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = context(dir.path(), Arc::new(ManualClock::starting_at(1_000_000))).await;
        let client = Arc::clone(ctx.clients().lookup("127.0.0.1".parse().unwrap()).unwrap());
        let future = ctx.handle(&[], &client, peer(), Instant::now());
        let size = std::mem::size_of_val(&future);
        eprintln!("request future: {size} bytes");
        assert!(size <= 768, "the request future grew to {size} bytes");
    }

    /// A request that waited beyond `stale_after` for its hash is dropped unanswered
    /// (and counted) instead of being hashed for a NAS that gave up on it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stale_request_is_dropped_before_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::starting_at(1_000_000));
        let ctx = context(dir.path(), Arc::clone(&clock)).await;
        let client = Arc::clone(ctx.clients().lookup("127.0.0.1".parse().unwrap()).unwrap());
        let mut p = Packet::new(Code::AccessRequest, 9);
        p.authenticator = [7; 16];
        p.add_str(attr::USER_NAME, "nobody");
        p.set_user_password(b"pw".to_vec());
        let bytes = p.encode_request(b"a-long-enough-secret").unwrap();
        let arrived = clock.instant();
        clock.advance(Duration::from_secs(4));
        assert!(ctx.handle(&bytes, &client, peer(), arrived).await.is_none());
        assert_eq!(client.counters.snapshot().drops.get("stale"), Some(&1));
        // A fresh copy is answered (the stale one left no duplicate entry behind).
        let reply = ctx.handle(&bytes, &client, peer(), clock.instant()).await;
        let reply = reply.expect("a fresh request is answered");
        assert_eq!(
            PacketView::decode(&reply).unwrap().code(),
            Code::AccessReject
        );
    }
}
