//! The access decision: what an Access-Request gets, whatever carried it. Pure: the
//! request path identifies the user and verifies the credential, and this turns what it
//! found into a [`Decision`]. A rejection is a value with a stable reason code for the
//! audit trail, never an error, and never told to the NAS (its Reply-Message stays
//! generic so that a reply never reveals whether the user exists).

use crate::model::{UserRecord, UserStatus};

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

/// The decision for an identified user whose credential was checked. When a password was
/// given it is always checked, for every outcome, so that all rejections cost the same
/// (see `auth::credential`); the order here decides only which reason is recorded.
#[must_use]
pub fn decide(who: Identified<'_>, has_password: bool, verified: Verified) -> Decision {
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
        assert_eq!(r(decide(Identified::User(&active), true, Valid)), "accept");
        assert_eq!(
            r(decide(Identified::User(&active), true, Invalid)),
            "bad_password"
        );
        assert_eq!(
            r(decide(Identified::User(&active), true, Unavailable)),
            "directory_unavailable"
        );
        assert_eq!(
            r(decide(Identified::User(&active), false, Valid)),
            "no_password"
        );
        assert_eq!(r(decide(Identified::Nobody, true, Valid)), "no_user");
        assert_eq!(r(decide(Identified::Nobody, false, Invalid)), "no_password");
        assert_eq!(r(decide(Identified::Ambiguous, true, Valid)), "ambiguous");
        for (status, code) in [
            (UserStatus::Disabled, "disabled"),
            (UserStatus::Pending, "disabled"),
            (UserStatus::Locked, "locked"),
        ] {
            // A valid credential does not open an inactive account.
            assert_eq!(
                r(decide(Identified::User(&user(status)), true, Valid)),
                code
            );
        }
    }
}
