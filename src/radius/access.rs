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
use super::policies::{ComputerSource, computer_step};
use super::proto::{Code, Packet, PacketView, attr, crypto};
use super::trace::TraceEvent;
use crate::audit::{EventKind, Outcome, TagFields};
use crate::auth::credential;
use crate::auth::decision::{
    self, Decision, Gate, Identified, RejectReason, ReplyAttribute, Verified,
};
use crate::model::user_ref::NameForm;
use crate::model::{UserRecord, UserRef};
use crate::policy::combine::Presented;
use crate::policy::evaluate::{Request as PolicyRequest, evaluate};
use crate::policy::explain::{Step, steps as explain_steps};
use crate::policy::identity::identify as identify_computer;
use crate::policy::lockout::LockState;
use crate::policy::{Lockout, Method, Restriction, Verdict};
use crate::store::policy::{PolicyOp, Sighting};
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
    /// The user policy's and computer policy's ids.
    policies: Option<(i64, i64)>,
    /// The computer's identity.
    computer: Option<&'a str>,
}

impl std::fmt::Display for AuthDetail<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            client,
            peer,
            method,
            reason,
            code,
            policies,
            computer,
        } = self;
        write!(
            f,
            r#"{},"peer":"{peer}","method":"{method}","reason":"{reason}","code":"{code}""#,
            client.audit_detail_prefix
        )?;
        if let Some((user_policy, computer_policy)) = policies {
            write!(
                f,
                r#","user_policy":{user_policy},"computer_policy":{computer_policy}"#
            )?;
        }
        if let Some(computer) = computer {
            let quoted = serde_json::to_string(computer).map_err(|_| std::fmt::Error)?;
            write!(f, r#","computer":{quoted}"#)?;
        }
        f.write_str("}")
    }
}

/// The first `max` characters of `s`.
fn truncated(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// What the policies made of a request before its credential is checked, kept (boxed)
/// across the wait for the credential.
struct Judgement {
    gate: Gate,
    user_policy: i64,
    computer_policy: i64,
    /// The computer's identity, for the audit record.
    computer: Option<String>,
    lockout: Lockout,
    lock: LockState,
    reply: Vec<ReplyAttribute>,
    /// The reply in words, when somebody traces.
    reply_text: Vec<String>,
    /// What learning about the computer writes.
    sighting: Option<Sighting>,
    /// The steps so far, when somebody traces.
    trace: Option<Vec<Step>>,
}

impl RadiusContext {
    /// `None` drops the request unanswered (it went stale before its hash could start,
    /// or the policies could not be read).
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
        let drop_peer = super::request::Peer {
            addr: peer,
            service: super::request::Service::Auth,
        };

        // 1. Who.
        let found = self.identify(given);
        let who = found.identified();
        // 2. Where (the client's site), the computer, the policies and their constraints.
        let Some(mut judged) = self.judge(view, client, &found) else {
            self.drop_request(client, DropReason::StoreUnavailable, drop_peer, None);
            return None;
        };
        // 3. The credential, unless the policies already decided: a locked user, or an
        // enforced restriction, is rejected without looking at the password. It still pays
        // the dummy verification, as an unknown user does, so that the time a reject takes
        // tells nothing about why.
        let password = view.attr(attr::USER_PASSWORD).and_then(|hidden| {
            crypto::unhide_user_password(hidden, client.secret.expose(), view.authenticator()).ok()
        });
        let stopped = matches!(found, Found::User(_)) && !judged.gate.admits_credential();
        let check = if stopped {
            credential::Check::Dummy
        } else {
            credential::check_for(who)
        };
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
                    self.drop_request(client, DropReason::Stale, drop_peer, None);
                    return None;
                };
                Some(outcome)
            }
            _ => None,
        };
        // 4. The decision.
        let verified = outcome.as_ref().map_or(Verified::Invalid, |o| o.verified);
        let mut decision = decision::decide(who, password.is_some(), judged.gate, verified);
        let would_deny = match (&decision, judged.gate.verdict) {
            (Decision::Accept(_), Verdict::WouldDeny(r)) => Some(r),
            _ => None,
        };
        if let Decision::Accept(attrs) = &mut decision {
            attrs.append(&mut judged.reply);
        }
        // 5. Lockout bookkeeping: a failure is counted, durably, before its reject is
        // sent (a crash must not give an attacker free guesses); a success clears the
        // count.
        if let (Decision::Reject(RejectReason::BadPassword), Found::User(user)) =
            (&decision, &found)
            && judged.lockout.is_on()
        {
            Box::pin(self.record_failure(user.id, judged.lockout)).await;
        }
        // 6. Persist, then reply: the login (last-login time, a rehash), the computer
        // seen, and the audit record are written without waiting, being nothing anybody
        // is told about.
        let mut writes = Vec::new();
        if let (Decision::Accept(_), Found::User(user)) = (&decision, &found) {
            if let (Some(o), credential::Check::Hash(stored)) = (outcome, check) {
                writes.extend(self.login_write(user, stored, o.rehash));
            }
            if judged.lock.failures > 0 {
                self.policies.note_lock_state(user.id, LockState::default());
                writes.push(WriteOp::Policy(PolicyOp::ClearFailures {
                    user_id: user.id,
                }));
            }
        }
        if let Some(sighting) = judged.sighting.clone() {
            writes.push(WriteOp::Policy(PolicyOp::Sightings(vec![sighting])));
        }
        writes.extend(
            self.stage_audit(&decision, would_deny, &found, given, client, peer, &judged)
                .map(WriteOp::Audit),
        );
        if !writes.is_empty() {
            // Boxed: rarely taken, and a waiting write is large.
            Box::pin(self.store.write_detached(writes)).await;
        }
        if judged.trace.is_some() {
            self.publish_trace(*judged, &decision, would_deny, &found, given, client);
        }
        Some(reply(decision, view.identifier(), client))
    }

    /// The site, computer and policies of a request, and what they allow (product §6,
    /// in order: client → site → user → user policy → computer → computer policy →
    /// merge → constraints). `None` when the policies cannot be read.
    fn judge(
        &self,
        view: &PacketView<'_>,
        client: &Client,
        found: &Found,
    ) -> Option<Box<Judgement>> {
        let snapshot = self
            .policies
            .snapshot()
            .map_err(|e| tracing::error!(error = %e, "policies could not be read"))
            .ok()?;
        let now = self.clock.now_unix();
        let identity = identify_computer(
            view.attr(attr::CALLING_STATION_ID),
            view.attr(attr::NAS_IDENTIFIER),
            view.attr(attr::NAS_IP_ADDRESS).and_then(attr::as_ipv4),
        );
        let address = view
            .attr(attr::FRAMED_IP_ADDRESS)
            .and_then(attr::as_ipv4)
            .map(std::net::IpAddr::V4);
        let computer = self
            .policies
            .computer(
                &snapshot.set,
                identity.as_ref(),
                &client.site,
                &client.name,
                address,
                now,
                true,
            )
            .map_err(|e| tracing::error!(error = %e, "computers could not be read"))
            .ok()?;
        let user = match found {
            Found::User(u) => Some(u.as_ref()),
            Found::Nobody | Found::Ambiguous => None,
        };
        let lock = match user {
            Some(u) => self
                .policies
                .lock_state(u.id)
                .map_err(|e| tracing::error!(error = %e, "lockouts could not be read"))
                .ok()?,
            None => LockState::default(),
        };
        let at = jiff::Timestamp::from_second(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let eval = evaluate(
            &snapshot.set,
            &PolicyRequest {
                user,
                site: &client.site,
                computer_policy: computer.policy_id,
                presented: Presented {
                    method: Method::Password,
                    second_factor: false,
                },
                lock,
                now: at,
            },
        );
        if user.is_some() {
            let would = matches!(eval.verdict, Verdict::WouldDeny(_));
            if let Some(c) = snapshot.user_counter(eval.user_policy.id) {
                c.hit(now, would);
            }
            if let Some(c) = snapshot.computer_counter(eval.computer_policy.id) {
                c.hit(now, would);
            }
        }
        if computer.source == ComputerSource::Registered
            && let Some(c) = computer.rule_id.and_then(|r| snapshot.rule_counter(r))
        {
            c.hit(now, false);
        }
        let cap = eval.constraints.session_cap();
        let mut reply = Vec::new();
        eval.effective.for_each_reply(cap, |typ, value| {
            reply.push(ReplyAttribute {
                typ,
                value: value.to_vec(),
            });
        });
        let tracing = self.tracer.active();
        let reply_text = if tracing {
            eval.effective
                .reply(cap)
                .into_iter()
                .map(|a| a.text)
                .collect()
        } else {
            Vec::new()
        };
        let trace = tracing.then(|| {
            let mut steps = vec![
                Step::new("client", format!("{} at site {}", client.name, client.site)),
                match user {
                    Some(u) => Step::new("user", format!("{}\\{}", u.domain, u.name))
                        .with(u.status.as_str()),
                    None => Step::new("user", "no such user"),
                },
                computer_step(identity.as_ref(), &computer, &snapshot.set, true),
            ];
            steps.extend(explain_steps(&eval, snapshot.set.zone(&client.site), at));
            steps
        });
        Some(Box::new(Judgement {
            gate: Gate {
                locked: eval.locked,
                verdict: eval.verdict,
            },
            user_policy: eval.user_policy.id,
            computer_policy: eval.computer_policy.id,
            computer: identity.map(|i| i.text),
            lockout: eval.effective.lockout(),
            lock,
            reply,
            reply_text,
            sighting: computer.write,
            trace,
        }))
    }

    /// Sends a traced request's steps, with the decision, to the listeners.
    fn publish_trace(
        &self,
        judged: Judgement,
        decision: &Decision,
        would_deny: Option<Restriction>,
        found: &Found,
        given: &str,
        client: &Client,
    ) {
        let (outcome, reason) = match (decision, would_deny) {
            (Decision::Accept(_), Some(r)) => ("would_deny", r.code()),
            (Decision::Accept(_), None) => ("accept", "accepted"),
            (Decision::Reject(r), _) => ("reject", r.code()),
            (Decision::Challenge { .. }, _) => ("challenge", "challenged"),
        };
        let reply = match decision {
            Decision::Accept(_) => judged.reply_text,
            _ => vec![format!("Reply-Message = \"{REJECT_MESSAGE}\"")],
        };
        self.tracer.publish(TraceEvent {
            at: self.clock.now_unix(),
            client: client.name.clone(),
            site: client.site.clone(),
            user_name: truncated(given, 253).to_string(),
            user: match found {
                Found::User(u) => Some((u.domain.clone(), u.name.clone(), u.ou_key.clone())),
                Found::Nobody | Found::Ambiguous => None,
            },
            steps: judged.trace.unwrap_or_default(),
            outcome,
            reason,
            reply,
        });
    }

    /// Counts a failed login under `lockout` and waits until the count is durable.
    async fn record_failure(&self, user_id: i64, lockout: Lockout) {
        let op = WriteOp::Policy(PolicyOp::RecordFailure {
            user_id,
            lockout,
            at: self.clock.now_unix(),
        });
        match self.store.write(vec![op]).await {
            Ok(summary) => {
                if summary.rows > 0 {
                    tracing::info!(user_id, "user locked out after repeated failed logins");
                }
                match self.store.lock_state(user_id) {
                    Ok(state) => self.policies.note_lock_state(user_id, state),
                    Err(e) => tracing::error!(error = %e, "lockout state could not be read"),
                }
            }
            Err(e) => tracing::error!(error = %e, "a failed login could not be counted"),
        }
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
    #[allow(clippy::too_many_arguments)] // the parts of one decision
    fn stage_audit(
        &self,
        decision: &Decision,
        would_deny: Option<Restriction>,
        found: &Found,
        given: &str,
        client: &Client,
        peer: SocketAddr,
        judged: &Judgement,
    ) -> Option<crate::audit::AuditEvent> {
        let (outcome, reason, code) = match (decision, would_deny) {
            (Decision::Accept(_), Some(r)) => {
                (Outcome::WouldDeny, RejectReason::Policy(r).text(), r.code())
            }
            (Decision::Accept(_), None) => (Outcome::Accept, "password accepted", "accepted"),
            (Decision::Reject(r), _) => (Outcome::Reject, r.text(), r.code()),
            (Decision::Challenge { .. }, _) => (Outcome::Info, "challenge sent", "challenged"),
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
            policies: Some((judged.user_policy, judged.computer_policy)),
            computer: judged.computer.as_deref(),
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
                policies: Some((1, 2)),
                computer: Some("a \"station\""),
            }
            .to_string();
            let v: serde_json::Value = serde_json::from_str(&detail).unwrap();
            assert_eq!(v["client"], "sw \"1\" \\ ü");
            assert_eq!(v["site"], "HQ\n2");
            assert_eq!(v["peer"], peer);
            assert_eq!(v["method"], "pap");
            assert_eq!(v["reason"], "no User-Password (only PAP is offered)");
            assert_eq!(v["code"], "no_password");
            assert_eq!(v["user_policy"], 1);
            assert_eq!(v["computer_policy"], 2);
            assert_eq!(v["computer"], "a \"station\"");
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
