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
    Info,
}

impl Outcome {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
            Outcome::Accept => "accept",
            Outcome::Reject => "reject",
            Outcome::Info => "info",
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
    tracing::info!(
        target: "gatehouse::audit",
        kind = kind.as_str(),
        actor = %actor,
        operation = %operation,
        audit_target = %target,
        outcome = outcome.as_str(),
        detail = %detail,
        "audit"
    );
}
