//! Policies, rules and computers as the store keeps them: the definitions with their
//! names, owners and hit counters.

use serde::Serialize;

use super::assign::Subject;
use super::identity::IdentityKind;
use super::rules::Rule;
use super::spec::{ComputerPolicy, UserPolicy};
use crate::time::UnixTime;

/// The built-in policies' name (one user policy, one computer policy).
pub const DEFAULT_POLICY: &str = "default";

/// Which kind of policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    User,
    Computer,
}

impl PolicyKind {
    #[must_use]
    pub const fn noun(self) -> &'static str {
        match self {
            PolicyKind::User => "user policy",
            PolicyKind::Computer => "computer policy",
        }
    }

    /// The kind as audit records and JSON name it.
    #[must_use]
    pub const fn audit_kind(self) -> &'static str {
        match self {
            PolicyKind::User => "user_policy",
            PolicyKind::Computer => "computer_policy",
        }
    }
}

/// How often a policy or rule decided a request, and when it last did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Hits {
    pub hits: u64,
    /// Requests a monitored restriction of this policy would have denied.
    pub would_deny: u64,
    pub last_hit: Option<UnixTime>,
}

/// A stored policy of either kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored<P> {
    pub id: i64,
    pub name: String,
    pub builtin: bool,
    pub policy: P,
    pub created_by: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    pub hits: Hits,
}

pub type StoredUserPolicy = Stored<UserPolicy>;
pub type StoredComputerPolicy = Stored<ComputerPolicy>;

/// A user-policy assignment with the policy's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAssignment {
    pub id: i64,
    pub policy_id: i64,
    pub policy: String,
    pub subject: Subject,
    pub priority: i64,
    pub created_by: String,
    pub created_at: UnixTime,
}

/// A computer assignment rule with its place in the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub rule: Rule,
    /// 1-based place in the order.
    pub position: i64,
    pub policy: String,
    pub created_by: String,
    pub hits: Hits,
}

/// A computer as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputerRecord {
    pub id: i64,
    pub identity: String,
    pub kind: IdentityKind,
    pub randomized: bool,
    pub site: String,
    pub policy_id: i64,
    pub policy: String,
    /// Assigned by hand: rule runs leave it alone unless told to override.
    pub pinned: bool,
    /// The rule that set the policy, when one did.
    pub rule: Option<String>,
    pub client: Option<String>,
    pub address: Option<String>,
    pub description: Option<String>,
    pub first_seen: UnixTime,
    pub last_seen: UnixTime,
}
