//! The one request path. UDP auth, UDP accounting (and later RadSec) all call
//! [`RadiusContext::handle`], which in order: decodes; finds the client (unknown → drop);
//! enforces the request's integrity (Message-Authenticator, accounting authenticator);
//! applies the rate limit; consults the duplicate cache; dispatches; and — persist, then
//! reply — commits whatever the answer acknowledges before encoding it.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use super::clients::{Client, Clients};
use super::counters::{DropReason, GlobalCounters, bump};
use super::dedup::{Begin, DedupCache, RequestKey};
use super::hashing::HashPool;
use super::proto::attr;
use super::proto::crypto;
use super::proto::verify::{self, MaCheck};
use super::proto::{Code, Packet, PacketView};
use crate::audit::{EventKind, Outcome};
use crate::auth::password;
use crate::model::{AcctRecord, LOCAL_DOMAIN, UserRecord, UserRef, UserStatus};
use crate::store::{StagedRecord, Store, WriteOp};
use crate::time::{now_micros, now_unix};

/// Which listener a packet arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Auth,
    Acct,
}

/// Settings that SIGHUP may change while running.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub rehash_on_login: bool,
    pub default_client_rate_limit: u32,
}

/// Seconds between updates of a user's last-login time.
const LAST_LOGIN_RESOLUTION: i64 = 3600;

/// The same text for every rejection, so a reply never tells whether the user exists.
const REJECT_MESSAGE: &str = "Authentication failed";

pub struct RadiusContext {
    pub clients: Arc<Clients>,
    pub directories: Arc<crate::sync::service::DirectoryService>,
    pub dedup: DedupCache,
    pub store: Store,
    pub hashes: HashPool,
    pub settings: RwLock<Arc<Settings>>,
    pub global: GlobalCounters,
}

/// The audit detail of an authentication decision, as JSON:
/// `{"client":…,"site":…,"peer":…,"method":…,"reason":…}`. Written by hand on the hot
/// path: the client's part is escaped once per client, a socket address and the static
/// `method` and `reason` strings need no escaping.
struct AuthDetail<'a> {
    client: &'a Client,
    peer: SocketAddr,
    method: &'static str,
    reason: &'static str,
}

impl std::fmt::Display for AuthDetail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            client,
            peer,
            method,
            reason,
        } = self;
        write!(
            f,
            r#"{},"peer":"{peer}","method":"{method}","reason":"{reason}"}}"#,
            client.audit_detail_prefix
        )
    }
}

/// The first `max` characters of `s`.
fn truncated(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// Why an Access-Request was rejected, for the audit trail only (never sent).
#[derive(Debug, Clone, Copy)]
enum RejectReason {
    NoUserName,
    NoPassword,
    UnknownUser,
    NotActive,
    WrongPassword,
    DirectoryUnavailable,
}

impl RejectReason {
    const fn as_str(self) -> &'static str {
        match self {
            RejectReason::NoUserName => "no User-Name",
            RejectReason::NoPassword => "no User-Password (only PAP is offered)",
            RejectReason::UnknownUser => "unknown user",
            RejectReason::NotActive => "user not active",
            RejectReason::WrongPassword => "wrong password",
            RejectReason::DirectoryUnavailable => "directory unavailable",
        }
    }
}

impl RadiusContext {
    fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |s| Arc::clone(&s))
    }

    /// Handles one datagram; `None` means drop it silently.
    pub async fn handle(
        &self,
        bytes: &[u8],
        peer: SocketAddr,
        transport: Transport,
    ) -> Option<Arc<[u8]>> {
        bump(&self.global.received);
        let Ok(view) = PacketView::decode(bytes) else {
            bump(&self.global.malformed);
            if let Some(c) = self.clients.current().lookup(peer.ip()) {
                c.counters.dropped(DropReason::Malformed);
            }
            return None;
        };
        let table = self.clients.current();
        let Some(client) = table.lookup(peer.ip()) else {
            let n = self.global.unknown_client.fetch_add(1, Ordering::Relaxed);
            // Logged on powers of two so that a flood cannot flood the log too.
            if n.is_power_of_two() || n == 0 {
                tracing::warn!(%peer, dropped = n + 1, "request from unknown client dropped");
            }
            return None;
        };
        let client = Arc::clone(client);
        drop(table);
        bump(&client.counters.requests);

        if let Err(reason) = check_integrity(&view, &client, transport) {
            client.counters.dropped(reason);
            tracing::debug!(client = %client.name, ?reason, "request dropped");
            return None;
        }
        if !client.admit(Instant::now()) {
            client.counters.dropped(DropReason::RateLimited);
            return None;
        }

        let key = RequestKey {
            peer,
            identifier: view.identifier(),
            authenticator: *view.authenticator(),
        };
        match self.dedup.begin(key, Instant::now()) {
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
                let code = match transport {
                    Transport::Auth => Code::AccessAccept,
                    Transport::Acct => Code::AccountingResponse,
                };
                Some(Packet::new(code, view.identifier()))
            }
            Code::AccessRequest => Some(self.access_request(&view, &client, peer).await),
            // Boxed, like every rarely taken branch that waits: a request's future is
            // allocated (and moved) whole, so the common path must stay small.
            Code::AccountingRequest => Box::pin(self.accounting_request(&view, &client)).await,
            _ => None,
        };
        let encoded = reply.and_then(|p| {
            let mut out = Vec::with_capacity(64);
            match p.encode_response_keyed(&view, client.secret.expose(), &client.mac_key, &mut out)
            {
                Ok(()) => Some(Arc::<[u8]>::from(out)),
                Err(e) => {
                    tracing::error!(client = %client.name, error = %e, "could not encode reply");
                    None
                }
            }
        });
        match &encoded {
            Some(bytes) => self.dedup.complete(&key, Arc::clone(bytes)),
            None => self.dedup.abandon(&key),
        }
        encoded
    }

    async fn access_request(
        &self,
        view: &PacketView<'_>,
        client: &Client,
        peer: SocketAddr,
    ) -> Packet {
        bump(&client.counters.access_requests);
        let settings = self.settings();
        let user_name = view
            .attr(attr::USER_NAME)
            .and_then(attr::as_string)
            .unwrap_or("");
        let decision = self
            .authenticate(view, client, user_name, settings.rehash_on_login)
            .await;
        let (code, outcome, reason) = match decision {
            Ok(()) => (Code::AccessAccept, Outcome::Accept, "password accepted"),
            Err(r) => (Code::AccessReject, Outcome::Reject, r.as_str()),
        };
        let record = StagedRecord {
            time_micros: now_micros(),
            kind: EventKind::AuthDecision,
            actor: &client.audit_actor,
            operation: "radius.access",
            target: truncated(user_name, 253),
            outcome,
        };
        let detail = AuthDetail {
            client,
            peer,
            method: "pap",
            reason,
        };
        record.log(&detail);
        if let Some(event) = self.store.audit_detached(&record, &detail) {
            Box::pin(self.store.write_detached(vec![WriteOp::Audit(event)])).await;
        }
        let mut reply = Packet::new(code, view.identifier());
        if code == Code::AccessAccept {
            bump(&client.counters.accepts);
        } else {
            bump(&client.counters.rejects);
            reply.add_str(attr::REPLY_MESSAGE, REJECT_MESSAGE);
        }
        reply
    }

    async fn authenticate(
        &self,
        view: &PacketView<'_>,
        client: &Client,
        user_name: &str,
        rehash_on_login: bool,
    ) -> Result<(), RejectReason> {
        if user_name.is_empty() {
            return Err(RejectReason::NoUserName);
        }
        let password = view
            .attr(attr::USER_PASSWORD)
            .and_then(|hidden| {
                crypto::unhide_user_password(hidden, client.secret.expose(), view.authenticator())
                    .ok()
            })
            .ok_or(RejectReason::NoPassword)?;
        // A name that cannot name a user is treated as an unknown one.
        let user = UserRef::parse(user_name)
            .ok()
            .and_then(|r| self.find_user(r));
        if let Some(u) = &user
            && !u.domain.eq_ignore_ascii_case(LOCAL_DOMAIN)
        {
            return Box::pin(self.authenticate_directory_user(u, &password)).await;
        }
        // Unknown users, users without a hash and inactive users all pay for a full
        // verification so that timing does not tell them apart from real ones.
        let (stored, usable) = match &user {
            Some(u) => match (&u.password_hash, u.status) {
                (Some(h), UserStatus::Active) => (h.clone(), true),
                _ => (password::dummy_hash().to_string(), false),
            },
            None => (password::dummy_hash().to_string(), false),
        };
        let checked = self
            .hashes
            .check(stored.clone(), password, usable && rehash_on_login)
            .await;
        let Some(user) = user else {
            return Err(RejectReason::UnknownUser);
        };
        if user.status != UserStatus::Active {
            return Err(RejectReason::NotActive);
        }
        if !usable || !checked.verification.is_match() {
            return Err(RejectReason::WrongPassword);
        }
        // last_login is kept to the hour: writing it on every login would double the
        // writes of a busy appliance for no reader's benefit.
        let stale = user
            .last_login
            .is_none_or(|t| now_unix().saturating_sub(t) >= LAST_LOGIN_RESOLUTION);
        if stale || checked.rehash.is_some() {
            self.store.note_login(&user.domain, &user.name, now_unix());
            Box::pin(self.store.write_detached(vec![WriteOp::RecordLogin {
                user_id: user.id,
                verified_hash: stored,
                rehash: checked.rehash,
            }]))
            .await;
        }
        Ok(())
    }

    /// `DOMAIN\\name` and `name@DOMAIN` name the domain; a plain name is a local user, or
    /// else the one directory user of that name when exactly one exists.
    fn find_user(&self, given: UserRef<'_>) -> Option<Arc<UserRecord>> {
        let explicit = given.domain().is_some();
        let name = given.name();
        let found = self
            .store
            .user_cached(given.domain_or_local(), name)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "user lookup failed");
                None
            });
        if found.is_some() || explicit {
            return found;
        }
        match self.store.unique_user_named_cached(name) {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "user lookup failed");
                None
            }
        }
    }

    async fn authenticate_directory_user(
        &self,
        user: &UserRecord,
        password: &[u8],
    ) -> Result<(), RejectReason> {
        if user.status != UserStatus::Active {
            return Err(RejectReason::NotActive);
        }
        let Some(dn) = &user.dn else {
            return Err(RejectReason::UnknownUser);
        };
        match self
            .directories
            .check_password(&user.domain, dn, password)
            .await
        {
            Ok(crate::directory::passthrough::BindOutcome::Valid) => Ok(()),
            Ok(crate::directory::passthrough::BindOutcome::Invalid) => {
                Err(RejectReason::WrongPassword)
            }
            Err(e) => {
                tracing::warn!(domain = %user.domain, error = %e, "pass-through authentication failed: directory unavailable");
                Err(RejectReason::DirectoryUnavailable)
            }
        }
    }

    async fn accounting_request(&self, view: &PacketView<'_>, client: &Client) -> Option<Packet> {
        bump(&client.counters.accounting_requests);
        let text = |t| view.attr(t).and_then(attr::as_string).map(str::to_string);
        let int = |t| view.attr(t).and_then(attr::as_u32);
        let record = AcctRecord {
            received_at: now_unix(),
            client: client.name.clone(),
            status_type: int(attr::ACCT_STATUS_TYPE),
            session_id: text(attr::ACCT_SESSION_ID),
            user_name: text(attr::USER_NAME),
            session_time: int(attr::ACCT_SESSION_TIME),
            input_octets: int(attr::ACCT_INPUT_OCTETS),
            output_octets: int(attr::ACCT_OUTPUT_OCTETS),
            attributes: super::display::attributes_text(view),
        };
        // Persist, then reply: the Accounting-Response is the NAS's licence to forget.
        if let Err(e) = self.store.write(vec![WriteOp::Accounting(record)]).await {
            tracing::error!(client = %client.name, error = %e, "accounting not stored; no response sent");
            client.counters.dropped(DropReason::StoreUnavailable);
            return None;
        }
        bump(&client.counters.accounting_responses);
        Some(Packet::new(Code::AccountingResponse, view.identifier()))
    }
}

/// Checks what proves the request came from the client: the BlastRADIUS rule for
/// Access-Request, RFC 5997 for Status-Server, RFC 2866 for Accounting-Request.
fn check_integrity(
    view: &PacketView<'_>,
    client: &Client,
    transport: Transport,
) -> Result<(), DropReason> {
    let key = &client.mac_key;
    match (view.code(), transport) {
        (Code::AccessRequest, Transport::Auth) => {
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
        (Code::AccountingRequest, Transport::Acct) => {
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
    use super::*;

    #[test]
    fn auth_detail_is_json_whatever_the_client_is_called() {
        let records = vec![crate::model::ClientRecord {
            name: "sw \"1\" \\ ü".into(),
            address: "10.0.0.0/8".into(),
            secret: crate::model::Secret::new(b"s".to_vec()),
            site: "HQ\n2".into(),
            require_message_authenticator: true,
            rate_limit: None,
            created_by: String::new(),
            created_at: 0,
            updated_at: 0,
        }];
        let clients = Clients::default();
        clients.replace(records, 0);
        let table = clients.current();
        let client = table.lookup("10.1.2.3".parse().unwrap()).unwrap();
        for peer in ["10.1.2.3:1645", "[fe80::1%2]:1812"] {
            let detail = AuthDetail {
                client,
                peer: peer.parse().unwrap(),
                method: "pap",
                reason: RejectReason::NoPassword.as_str(),
            }
            .to_string();
            let v: serde_json::Value = serde_json::from_str(&detail).unwrap();
            assert_eq!(v["client"], "sw \"1\" \\ ü");
            assert_eq!(v["site"], "HQ\n2");
            assert_eq!(v["peer"], peer);
            assert_eq!(v["method"], "pap");
            assert_eq!(v["reason"], "no User-Password (only PAP is offered)");
        }
    }
}
