//! How a password is checked, decided before any work is done: against the user's stored
//! hash, by a bind to the user's directory, or — when nothing can match — against the
//! dummy hash alone.
//!
//! Rejections must not tell a user that exists from one that does not, nor an argon2id
//! user from a legacy-hash or directory user. So every rejection costs at least one
//! argon2id verification: unknown, inactive and credential-less users pay the dummy
//! verification, and a check cheaper than argon2id (a salted SHA, sha-crypt, a directory
//! bind) that fails pays the dummy verification on top, unless it already took longer
//! than one (a directory check that waited out its pool or a timeout). The request path
//! also pads rejections to the slowest configured directory's bind time (see
//! `radius::verifier`), so that the remaining difference is not a network round trip.
//! Accepts are not padded: whoever gets one already knows the password.

use super::decision::Identified;
use super::password::{self, HashKind};
use crate::model::{LOCAL_DOMAIN, UserStatus};

/// The check to run for an identified user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<'a> {
    /// Against the user's stored hash.
    Hash(&'a str),
    /// By binding as the user's DN to the user's directory.
    Bind { domain: &'a str, dn: &'a str },
    /// Nothing can match: the dummy verification only.
    Dummy,
}

/// The check for `who`. Only active users get a real check.
#[must_use]
pub fn check_for(who: Identified<'_>) -> Check<'_> {
    let Identified::User(user) = who else {
        return Check::Dummy;
    };
    if user.status != UserStatus::Active {
        return Check::Dummy;
    }
    if user.domain.eq_ignore_ascii_case(LOCAL_DOMAIN) {
        return user
            .password_hash
            .as_deref()
            .map_or(Check::Dummy, Check::Hash);
    }
    match &user.dn {
        Some(dn) => Check::Bind {
            domain: &user.domain,
            dn,
        },
        None => Check::Dummy,
    }
}

impl Check<'_> {
    /// Whether a failure of this check must also pay the dummy verification: a check
    /// cheaper than argon2id would otherwise tell its users apart.
    #[must_use]
    pub fn pads_failure(&self) -> bool {
        match self {
            Check::Hash(stored) => password::check_hash(stored) != Ok(HashKind::Argon2id),
            Check::Bind { .. } => true,
            Check::Dummy => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserRecord;

    fn user(domain: &str, status: UserStatus, hash: Option<&str>, dn: Option<&str>) -> UserRecord {
        UserRecord {
            id: 1,
            domain: domain.into(),
            name: "u".into(),
            dn: dn.map(String::from),
            ou_path: None,
            ou_key: None,
            display_name: None,
            email: None,
            status,
            password_hash: hash.map(String::from),
            created_by: String::new(),
            created_at: 0,
            updated_at: 0,
            last_login: None,
            groups: Vec::new(),
            group_keys: Vec::new(),
        }
    }

    #[test]
    fn only_active_users_with_a_credential_get_a_real_check() {
        let ssha = "{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=";
        let local = user("local", UserStatus::Active, Some(ssha), None);
        assert_eq!(check_for(Identified::User(&local)), Check::Hash(ssha));
        assert!(Check::Hash(ssha).pads_failure());
        let argon = password::dummy_hash();
        assert!(!Check::Hash(argon).pads_failure());
        let dir = user("CORP", UserStatus::Active, None, Some("uid=u,dc=corp"));
        assert_eq!(
            check_for(Identified::User(&dir)),
            Check::Bind {
                domain: "CORP",
                dn: "uid=u,dc=corp"
            }
        );
        assert!(check_for(Identified::User(&dir)).pads_failure());
        for u in [
            user("local", UserStatus::Disabled, Some(ssha), None),
            user("local", UserStatus::Active, None, None),
            user("CORP", UserStatus::Pending, None, Some("uid=u,dc=corp")),
            user("CORP", UserStatus::Active, None, None),
        ] {
            assert_eq!(check_for(Identified::User(&u)), Check::Dummy, "{u:?}");
        }
        assert_eq!(check_for(Identified::Nobody), Check::Dummy);
        assert_eq!(check_for(Identified::Ambiguous), Check::Dummy);
    }
}
