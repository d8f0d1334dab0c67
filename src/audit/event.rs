//! Typed audit events. Every admin request (allowed or denied), every authentication
//! decision and every system event becomes one [`AuditEvent`]; nothing is a format string.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    AdminRequest,
    AuthDecision,
    System,
}

impl EventKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AdminRequest => "admin_request",
            EventKind::AuthDecision => "auth_decision",
            EventKind::System => "system",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin_request" => Some(EventKind::AdminRequest),
            "auth_decision" => Some(EventKind::AuthDecision),
            "system" => Some(EventKind::System),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    Denied,
    Failed,
    Accept,
    Reject,
    /// Accepted, but an enforced policy would have rejected it (monitor mode).
    WouldDeny,
    Info,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Allowed,
        Outcome::Denied,
        Outcome::Failed,
        Outcome::Accept,
        Outcome::Reject,
        Outcome::WouldDeny,
        Outcome::Info,
    ];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
            Outcome::Accept => "accept",
            Outcome::Reject => "reject",
            Outcome::WouldDeny => "would_deny",
            Outcome::Info => "info",
        }
    }
}

/// What an event is about, as typed values kept in columns of their own, so that scoped
/// readers and reports filter in SQL instead of parsing `actor` and `target`: the acting
/// administrator's id, the kind and id of the target, where it is (site, domain,
/// canonical OU DN, RADIUS client), and an authentication decision's reason code. Covered
/// by the hash like every other field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    pub admin_id: Option<i64>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub site: Option<String>,
    pub domain: Option<String>,
    pub ou: Option<String>,
    pub client: Option<String>,
    pub reason: Option<String>,
}

/// [`Tags`] borrowed, as they are hashed and stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagFields<'a> {
    pub admin_id: Option<i64>,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub site: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub ou: Option<&'a str>,
    pub client: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl Tags {
    #[must_use]
    pub fn fields(&self) -> TagFields<'_> {
        TagFields {
            admin_id: self.admin_id,
            target_kind: self.target_kind.as_deref(),
            target_id: self.target_id.as_deref(),
            site: self.site.as_deref(),
            domain: self.domain.as_deref(),
            ou: self.ou.as_deref(),
            client: self.client.as_deref(),
            reason: self.reason.as_deref(),
        }
    }
}

impl TagFields<'_> {
    /// The text tags in column order.
    #[must_use]
    pub fn texts(&self) -> [Option<&str>; 7] {
        [
            self.target_kind,
            self.target_id,
            self.site,
            self.domain,
            self.ou,
            self.client,
            self.reason,
        ]
    }

    #[must_use]
    pub fn owned(&self) -> Tags {
        let own = |s: Option<&str>| s.map(str::to_string);
        Tags {
            admin_id: self.admin_id,
            target_kind: own(self.target_kind),
            target_id: own(self.target_id),
            site: own(self.site),
            domain: own(self.domain),
            ou: own(self.ou),
            client: own(self.client),
            reason: own(self.reason),
        }
    }
}

/// One audit event before it is chained. `detail` is a small JSON object with the facts
/// that matter for this kind (never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub time_micros: i64,
    pub kind: EventKind,
    pub actor: String,
    pub operation: String,
    pub target: String,
    pub outcome: Outcome,
    pub detail: String,
    pub tags: Tags,
}

impl AuditEvent {
    /// Sends the event to the log as structured fields (journald keeps them as fields).
    pub fn log(&self) {
        log_fields(
            self.kind,
            &self.actor,
            &self.operation,
            &self.target,
            self.outcome,
            &self.detail,
        );
    }
}

/// Sends an audit event's fields to the log (journald keeps them as fields); for events
/// held in any form.
pub fn log_fields(
    kind: EventKind,
    actor: &str,
    operation: &str,
    target: &str,
    outcome: Outcome,
    detail: &dyn std::fmt::Display,
) {
    // Debug formatting for what a request supplies (a User-Name is any bytes a NAS
    // sends): control characters come out escaped, so nobody can forge a log line.
    tracing::info!(
        target: "gatehouse::audit",
        kind = kind.as_str(),
        actor = ?actor,
        operation = ?operation,
        audit_target = ?target,
        outcome = outcome.as_str(),
        detail = %detail,
        "audit"
    );
}
