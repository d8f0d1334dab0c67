//! Access-Request, in the order every later stage relies on: identify the user → the
//! site (the client's; computer and policies join here) → verify the credential → decide
//! → persist (last login, rehash, the audit record) → the reply. Whatever transport
//! carried the request, this is the same.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::clients::Client;
use super::context::RadiusContext;
use super::counters::{DropReason, bump};
use super::proto::{Code, Packet, PacketView, attr, crypto};
use crate::audit::{EventKind, Outcome, TagFields};
use crate::auth::credential;
use crate::auth::decision::{self, Decision, Identified, Verified};
use crate::model::user_ref::NameForm;
use crate::model::{UserRecord, UserRef};
use crate::store::{NamedUser, StagedRecord, WriteOp};

/// Seconds between updates of a user's last-login time.
const LAST_LOGIN_RESOLUTION: i64 = 3600;

/// The same text for every rejection, so a reply never tells whether the user exists.
pub(super) const REJECT_MESSAGE: &str = "Authentication failed";

/// Which user a User-Name named, holding the record.
enum Found {
    User(Arc<UserRecord>),
    Nobody,
    Ambiguous,
}

impl Found {
    fn identified(&self) -> Identified<'_> {
        match self {
            Found::User(u) => Identified::User(u),
            Found::Nobody => Identified::Nobody,
            Found::Ambiguous => Identified::Ambiguous,
        }
    }
}

/// The audit detail of an authentication decision, as JSON:
/// `{"client":…,"site":…,"peer":…,"method":…,"reason":…,"code":…}`. Written by hand on
/// the hot path: the client's part is escaped once per client, a socket address and the
/// static `method`, `reason` and `code` strings need no escaping.
struct AuthDetail<'a> {
    client: &'a Client,
    peer: SocketAddr,
    method: &'static str,
    reason: &'static str,
    code: &'static str,
}

impl std::fmt::Display for AuthDetail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            client,
            peer,
            method,
            reason,
            code,
        } = self;
        write!(
            f,
            r#"{},"peer":"{peer}","method":"{method}","reason":"{reason}","code":"{code}"}}"#,
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

impl RadiusContext {
    /// `None` drops the request unanswered (it went stale before its hash could start).
    pub(super) async fn access_request(
        &self,
        view: &PacketView<'_>,
        client: &Client,
        peer: SocketAddr,
        arrived: Instant,
    ) -> Option<Packet> {
        bump(&client.counters.access_requests);
        let settings = self.settings();
        let given = view
            .attr(attr::USER_NAME)
            .and_then(attr::as_string)
            .unwrap_or("");

        // 1. Who.
        let found = self.identify(given);
        let who = found.identified();
        // 2. Where: the client's site. (Computers and policies come in here.)
        // 3. The credential.
        let password = view.attr(attr::USER_PASSWORD).and_then(|hidden| {
            crypto::unhide_user_password(hidden, client.secret.expose(), view.authenticator()).ok()
        });
        let check = credential::check_for(who);
        let outcome = match &password {
            Some(pw) => {
                let now = self
                    .verifier
                    .verify_now(check, pw, settings.rehash_on_login);
                let outcome = match now {
                    Some(outcome) => Some(outcome),
                    // Boxed: whatever waits (a hash thread, a directory, a padding pause)
                    // stays out of the future every request allocates, which the salted-SHA
                    // accept above never needs.
                    None => {
                        Box::pin(self.verifier.verify(
                            check,
                            pw,
                            settings.rehash_on_login,
                            arrived,
                            settings.stale_after,
                        ))
                        .await
                    }
                };
                let Some(outcome) = outcome else {
                    self.drop_request(
                        client,
                        DropReason::Stale,
                        super::request::Peer {
                            addr: peer,
                            service: super::request::Service::Auth,
                        },
                        None,
                    );
                    return None;
                };
                Some(outcome)
            }
            None => None,
        };
        // 4. The decision.
        let verified = outcome.as_ref().map_or(Verified::Invalid, |o| o.verified);
        let decision = decision::decide(who, password.is_some(), verified);
        // 5. Persist, then reply: the login (last-login time, a rehash) and the audit
        // record are written without waiting, being nothing anybody is told about.
        let mut writes = Vec::new();
        if let (Decision::Accept(_), Found::User(user), Some(o), credential::Check::Hash(stored)) =
            (&decision, &found, outcome, check)
        {
            writes.extend(self.login_write(user, stored, o.rehash));
        }
        writes.extend(
            self.stage_audit(&decision, &found, given, client, peer)
                .map(WriteOp::Audit),
        );
        if !writes.is_empty() {
            // Boxed: rarely taken, and a waiting write is large.
            Box::pin(self.store.write_detached(writes)).await;
        }
        Some(reply(decision, view.identifier(), client))
    }

    /// The user a User-Name names: `DOMAIN\name` in that domain; `name@SUFFIX` in the
    /// directory whose UPN suffix it is, or else in the domain called SUFFIX; a bare
    /// `name` is the one user of that name in any domain (`local` included), and
    /// ambiguous when several domains have one. A malformed name names nobody.
    fn identify(&self, given: &str) -> Found {
        let Ok(r) = UserRef::parse(given) else {
            return Found::Nobody;
        };
        let looked_up = match (r.form(), r.domain()) {
            (NameForm::Plain, _) | (_, None) => {
                self.store.user_named_cached(r.name()).map(|n| match n {
                    NamedUser::One(u) => Found::User(u),
                    NamedUser::Nobody => Found::Nobody,
                    NamedUser::Several => Found::Ambiguous,
                })
            }
            (NameForm::Qualified, Some(domain)) => self.by_domain(domain, r.name()),
            (NameForm::Suffixed, Some(suffix)) => {
                match self.directories.domain_for_suffix(suffix) {
                    Some(domain) => self.by_domain(&domain, r.name()),
                    None => self.by_domain(suffix, r.name()),
                }
            }
        };
        looked_up.unwrap_or_else(|e| {
            tracing::error!(error = %e, "user lookup failed");
            Found::Nobody
        })
    }

    fn by_domain(&self, domain: &str, name: &str) -> Result<Found, crate::store::StoreError> {
        Ok(self
            .store
            .user_cached(domain, name)?
            .map_or(Found::Nobody, Found::User))
    }

    /// The write a successful login needs, if any. last_login is kept to the hour:
    /// writing it on every login would double the writes of a busy appliance for no
    /// reader's benefit. A legacy hash that matched is replaced in the same write.
    fn login_write(
        &self,
        user: &UserRecord,
        verified_hash: &str,
        rehash: Option<String>,
    ) -> Option<WriteOp> {
        let now = self.clock.now_unix();
        let stale = user
            .last_login
            .is_none_or(|t| now.saturating_sub(t) >= LAST_LOGIN_RESOLUTION);
        if !stale && rehash.is_none() {
            return None;
        }
        self.store.note_login(&user.domain, &user.name, now);
        Some(WriteOp::RecordLogin {
            user_id: user.id,
            verified_hash: verified_hash.to_owned(),
            rehash,
        })
    }

    /// Stages the decision's audit record; when the stage is full the record comes back
    /// to be queued as a write.
    fn stage_audit(
        &self,
        decision: &Decision,
        found: &Found,
        given: &str,
        client: &Client,
        peer: SocketAddr,
    ) -> Option<crate::audit::AuditEvent> {
        let (outcome, reason, code) = match decision {
            Decision::Accept(_) => (Outcome::Accept, "password accepted", "accepted"),
            Decision::Reject(r) => (Outcome::Reject, r.text(), r.code()),
            Decision::Challenge { .. } => (Outcome::Info, "challenge sent", "challenged"),
        };
        let target = truncated(given, 253);
        let user = match found {
            Found::User(u) => Some(u.as_ref()),
            Found::Nobody | Found::Ambiguous => None,
        };
        let record = StagedRecord {
            time_micros: self.clock.now_micros(),
            kind: EventKind::AuthDecision,
            actor: &client.audit_actor,
            operation: "radius.access",
            target,
            outcome,
            tags: TagFields {
                admin_id: None,
                target_kind: Some("user"),
                target_id: Some(user.map_or(target, |u| u.name.as_str())),
                site: Some(&client.site),
                domain: user.map(|u| u.domain.as_str()),
                ou: user.and_then(|u| u.ou_key.as_deref()),
                client: Some(&client.name),
                reason: Some(code),
            },
        };
        let detail = AuthDetail {
            client,
            peer,
            method: "pap",
            reason,
            code,
        };
        record.log(&detail);
        self.store.audit_detached(&record, &detail)
    }
}

/// The packet a decision is answered with.
fn reply(decision: Decision, identifier: u8, client: &Client) -> Packet {
    match decision {
        Decision::Accept(attrs) => {
            bump(&client.counters.accepts);
            let mut p = Packet::new(Code::AccessAccept, identifier);
            for a in attrs {
                p.add(a.typ, a.value);
            }
            p
        }
        Decision::Reject(_) => {
            bump(&client.counters.rejects);
            let mut p = Packet::new(Code::AccessReject, identifier);
            p.add_str(attr::REPLY_MESSAGE, REJECT_MESSAGE);
            p
        }
        Decision::Challenge { state, prompt } => {
            bump(&client.counters.challenges);
            let mut p = Packet::new(Code::AccessChallenge, identifier);
            p.add(attr::STATE, state);
            p.add_str(attr::REPLY_MESSAGE, &prompt);
            p
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientRecord, Secret};

    fn client() -> Arc<Client> {
        let clients = super::super::clients::Clients::default();
        clients.replace(
            vec![ClientRecord {
                name: "sw \"1\" \\ ü".into(),
                address: "10.0.0.0/8".into(),
                secret: Secret::new(b"s".to_vec()),
                site: "HQ\n2".into(),
                require_message_authenticator: true,
                rate_limit: None,
                created_by: String::new(),
                created_at: 0,
                updated_at: 0,
            }],
            0,
            Instant::now(),
        );
        let table = clients.current();
        Arc::clone(table.lookup("10.1.2.3".parse().unwrap()).unwrap())
    }

    #[test]
    fn auth_detail_is_json_whatever_the_client_is_called() {
        let client = client();
        for peer in ["10.1.2.3:1645", "[fe80::1%2]:1812"] {
            let detail = AuthDetail {
                client: &client,
                peer: peer.parse().unwrap(),
                method: "pap",
                reason: decision::RejectReason::NoPassword.text(),
                code: decision::RejectReason::NoPassword.code(),
            }
            .to_string();
            let v: serde_json::Value = serde_json::from_str(&detail).unwrap();
            assert_eq!(v["client"], "sw \"1\" \\ ü");
            assert_eq!(v["site"], "HQ\n2");
            assert_eq!(v["peer"], peer);
            assert_eq!(v["method"], "pap");
            assert_eq!(v["reason"], "no User-Password (only PAP is offered)");
            assert_eq!(v["code"], "no_password");
        }
    }

    #[test]
    fn a_challenge_carries_state_and_prompt() {
        let client = client();
        let p = reply(
            Decision::Challenge {
                state: b"s-1".to_vec(),
                prompt: "Enter your one-time password".into(),
            },
            7,
            &client,
        );
        assert_eq!(p.code, Code::AccessChallenge);
        let request = {
            let mut r = Packet::new(Code::AccessRequest, 7);
            r.authenticator = [1; 16];
            r.encode_request(b"s").unwrap()
        };
        let view = PacketView::decode(&request).unwrap();
        let out = p.encode_response(&view, b"s").unwrap();
        let answer = PacketView::decode(&out).unwrap();
        assert_eq!(answer.attr(attr::STATE), Some(&b"s-1"[..]));
        assert_eq!(
            answer.attr(attr::REPLY_MESSAGE).and_then(attr::as_string),
            Some("Enter your one-time password")
        );
        assert_eq!(client.counters.snapshot().challenges, 1);
    }
}
