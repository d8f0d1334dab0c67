//! The access decision: what an Access-Request gets, whatever carried it. Pure: the
//! request path identifies the user and verifies the credential, and this turns what it
//! found into a [`Decision`]. A rejection is a value with a stable reason code for the
//! audit trail, never an error, and never told to the NAS (its Reply-Message stays
//! generic so that a reply never reveals whether the user exists).

use crate::model::{UserRecord, UserStatus};
use crate::policy::{Restriction, Verdict};

/// One attribute of a reply, by RADIUS type: the decision knows attributes, not the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyAttribute {
    pub typ: u8,
    pub value: Vec<u8>,
}

/// What an Access-Request gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Access-Accept with these attributes.
    Accept(Vec<ReplyAttribute>),
    /// Access-Reject; the reason is audited, not sent.
    Reject(RejectReason),
    /// Access-Challenge: the State to echo and the prompt to show (the second step of a
    /// two-step login).
    Challenge { state: Vec<u8>, prompt: String },
}

/// Why an Access-Request was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectReason {
    /// No User-Name, a name no user can have, or no such user.
    NoUser,
    /// A bare name that users of several domains have.
    Ambiguous,
    /// No User-Password: only PAP is offered.
    NoPassword,
    /// The user is disabled or pending.
    Disabled,
    Locked,
    BadPassword,
    /// The user's directory could not be asked.
    DirectoryUnavailable,
    /// An enforced policy restriction.
    Policy(Restriction),
}

impl RejectReason {
    /// The stable code reports and notifications filter on (product §6).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            RejectReason::NoUser => "no_user",
            RejectReason::Ambiguous => "ambiguous",
            RejectReason::NoPassword => "no_password",
            RejectReason::Disabled => "disabled",
            RejectReason::Locked => "locked",
            RejectReason::BadPassword => "bad_password",
            RejectReason::DirectoryUnavailable => "directory_unavailable",
            RejectReason::Policy(r) => r.code(),
        }
    }

    /// The reason in words, for an administrator reading the audit log.
    #[must_use]
    pub const fn text(self) -> &'static str {
        match self {
            RejectReason::NoUser => "unknown user",
            RejectReason::Ambiguous => "user name matches users of several domains",
            RejectReason::NoPassword => "no User-Password (only PAP is offered)",
            RejectReason::Disabled => "user not active",
            RejectReason::Locked => "user locked",
            RejectReason::BadPassword => "wrong password",
            RejectReason::DirectoryUnavailable => "directory unavailable",
            RejectReason::Policy(Restriction::OutsideHours) => "outside the access hours",
            RejectReason::Policy(Restriction::MethodNotAllowed) => "method not allowed by policy",
            RejectReason::Policy(Restriction::SecondFactorMissing) => {
                "policy requires a second factor"
            }
        }
    }
}

/// Which user a User-Name names.
#[derive(Debug, Clone, Copy)]
pub enum Identified<'a> {
    User(&'a UserRecord),
    /// Nobody: no User-Name, a malformed one, or no such user.
    Nobody,
    /// A bare name that several domains have.
    Ambiguous,
}

/// What checking the credential found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    Valid,
    Invalid,
    /// The checker (a directory) could not be asked.
    Unavailable,
}

/// What the policies say before the credential counts: a lockout, or the verdict of the
/// constraints (product §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub locked: bool,
    pub verdict: Verdict,
}

impl Gate {
    /// No lockout, nothing restricted.
    pub const OPEN: Gate = Gate {
        locked: false,
        verdict: Verdict::Allow,
    };

    /// Whether the credential is worth checking for an existing, active user: a locked
    /// user and an enforced restriction are rejected without it.
    #[must_use]
    pub fn admits_credential(self) -> bool {
        !self.locked && !matches!(self.verdict, Verdict::Deny(_))
    }
}

/// The decision for an identified user whose credential was checked (or, when the gate
/// stops the user, was not). When a password was given to an unknown user it is checked
/// all the same (see `auth::credential`), so that rejections of unknown users cost what a
/// wrong password costs; the order here decides only which reason is recorded. Monitor
/// mode's relaxations arrive as [`Verdict::WouldDeny`], which never rejects: wrong
/// credentials, locked and unknown users are rejected whatever the mode.
#[must_use]
pub fn decide(who: Identified<'_>, has_password: bool, gate: Gate, verified: Verified) -> Decision {
    // Without a password nothing was checked, whoever the user is: the same answer for
    // every name, so it tells nothing.
    if !has_password {
        return Decision::Reject(RejectReason::NoPassword);
    }
    let user = match who {
        Identified::Nobody => return Decision::Reject(RejectReason::NoUser),
        Identified::Ambiguous => return Decision::Reject(RejectReason::Ambiguous),
        Identified::User(u) => u,
    };
    match user.status {
        UserStatus::Active => {}
        UserStatus::Locked => return Decision::Reject(RejectReason::Locked),
        UserStatus::Disabled | UserStatus::Pending => {
            return Decision::Reject(RejectReason::Disabled);
        }
    }
    if gate.locked {
        return Decision::Reject(RejectReason::Locked);
    }
    if let Verdict::Deny(restriction) = gate.verdict {
        return Decision::Reject(RejectReason::Policy(restriction));
    }
    match verified {
        Verified::Valid => Decision::Accept(Vec::new()),
        Verified::Invalid => Decision::Reject(RejectReason::BadPassword),
        Verified::Unavailable => Decision::Reject(RejectReason::DirectoryUnavailable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(status: UserStatus) -> UserRecord {
        UserRecord {
            id: 1,
            domain: "local".into(),
            name: "alice".into(),
            dn: None,
            ou_path: None,
            ou_key: None,
            display_name: None,
            email: None,
            status,
            password_hash: None,
            created_by: String::new(),
            created_at: 0,
            updated_at: 0,
            last_login: None,
            groups: Vec::new(),
            group_keys: Vec::new(),
        }
    }

    #[test]
    fn every_path_has_one_reason() {
        use Verified::{Invalid, Unavailable, Valid};
        let active = user(UserStatus::Active);
        let r = |d: Decision| match d {
            Decision::Reject(r) => r.code(),
            Decision::Accept(_) => "accept",
            Decision::Challenge { .. } => "challenge",
        };
        assert_eq!(
            r(decide(Identified::User(&active), true, Gate::OPEN, Valid)),
            "accept"
        );
        assert_eq!(
            r(decide(Identified::User(&active), true, Gate::OPEN, Invalid)),
            "bad_password"
        );
        assert_eq!(
            r(decide(
                Identified::User(&active),
                true,
                Gate::OPEN,
                Unavailable
            )),
            "directory_unavailable"
        );
        assert_eq!(
            r(decide(Identified::User(&active), false, Gate::OPEN, Valid)),
            "no_password"
        );
        assert_eq!(
            r(decide(Identified::Nobody, true, Gate::OPEN, Valid)),
            "no_user"
        );
        assert_eq!(
            r(decide(Identified::Nobody, false, Gate::OPEN, Invalid)),
            "no_password"
        );
        assert_eq!(
            r(decide(Identified::Ambiguous, true, Gate::OPEN, Valid)),
            "ambiguous"
        );
        for (status, code) in [
            (UserStatus::Disabled, "disabled"),
            (UserStatus::Pending, "disabled"),
            (UserStatus::Locked, "locked"),
        ] {
            // A valid credential does not open an inactive account.
            assert_eq!(
                r(decide(
                    Identified::User(&user(status)),
                    true,
                    Gate::OPEN,
                    Valid
                )),
                code
            );
        }
        // The gate: a lockout and an enforced restriction reject whatever the password;
        // a monitored one does not, and never opens a wrong password.
        let locked = Gate {
            locked: true,
            verdict: Verdict::Allow,
        };
        assert_eq!(
            r(decide(Identified::User(&active), true, locked, Valid)),
            "locked"
        );
        let hours = Gate {
            locked: false,
            verdict: Verdict::Deny(Restriction::OutsideHours),
        };
        assert_eq!(
            r(decide(Identified::User(&active), true, hours, Valid)),
            "outside_hours"
        );
        let monitored = Gate {
            locked: false,
            verdict: Verdict::WouldDeny(Restriction::OutsideHours),
        };
        assert_eq!(
            r(decide(Identified::User(&active), true, monitored, Valid)),
            "accept"
        );
        assert_eq!(
            r(decide(Identified::User(&active), true, monitored, Invalid)),
            "bad_password"
        );
        assert_eq!(
            r(decide(Identified::Nobody, true, monitored, Valid)),
            "no_user"
        );
        assert!(!locked.admits_credential() && !hours.admits_credential());
        assert!(monitored.admits_credential() && Gate::OPEN.admits_credential());
    }
}
