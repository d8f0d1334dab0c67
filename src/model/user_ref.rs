//! How a user is named wherever a person or a NAS names one: `name` (plain), `DOMAIN\name`
//! or `name@SUFFIX`. Parsing only splits and checks syntax; which user a reference means
//! (a local user, a directory user found by UPN suffix, the one user of a plain name) is
//! decided by the RADIUS access stage and the admin handlers, against the store.
//!
//! A reference that cannot name any user (an empty or `*` domain, a control character)
//! is an error, never a lookup: user names arrive from the network, and a malformed one
//! must not reach a cache key or a log line.

use super::records::LOCAL_DOMAIN;

/// Longest user name (RFC 2865 caps User-Name at 253 octets).
pub const MAX_NAME_LEN: usize = 253;
/// Longest domain or UPN suffix.
pub const MAX_DOMAIN_LEN: usize = 253;

/// Which way the reference named its domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameForm {
    /// `name`: a local user, or the one user of that name in any domain.
    Plain,
    /// `DOMAIN\name`: the domain by its name.
    Qualified,
    /// `name@SUFFIX`: a domain by its name or one of its UPN suffixes.
    Suffixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRef<'a> {
    domain: Option<&'a str>,
    name: &'a str,
    form: NameForm,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserRefError {
    #[error("empty user name")]
    EmptyName,
    #[error("user name longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error("user names cannot hold control characters")]
    ControlCharacter,
    #[error("`{0}` is not a domain (letters, digits, `-`, `_` or `.`)")]
    BadDomain(String),
}

/// Whether `s` may name a domain or a UPN suffix: 1-253 letters, digits, `-`, `_` or `.`.
#[must_use]
pub fn is_domain_syntax(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_DOMAIN_LEN
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_name(name: &str) -> Result<(), UserRefError> {
    if name.is_empty() {
        return Err(UserRefError::EmptyName);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(UserRefError::NameTooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(UserRefError::ControlCharacter);
    }
    Ok(())
}

impl<'a> UserRef<'a> {
    /// Splits `DOMAIN\name`, `name@SUFFIX` (at the last `@`) or a plain `name`.
    ///
    /// # Errors
    /// An empty or over-long name, a control character, or a domain part that is not a
    /// domain (empty, `*`, punctuation).
    pub fn parse(given: &'a str) -> Result<Self, UserRefError> {
        let (domain, name, form) = if let Some((domain, name)) = given.split_once('\\') {
            (Some(domain), name, NameForm::Qualified)
        } else if let Some((name, suffix)) = given.rsplit_once('@') {
            (Some(suffix), name, NameForm::Suffixed)
        } else {
            (None, given, NameForm::Plain)
        };
        check_name(name)?;
        if let Some(d) = domain
            && !is_domain_syntax(d)
        {
            return Err(UserRefError::BadDomain(d.chars().take(64).collect()));
        }
        Ok(Self { domain, name, form })
    }

    /// The domain part as written (a domain name, or for `name@SUFFIX` possibly a UPN
    /// suffix); `None` for a plain name.
    #[must_use]
    pub fn domain(&self) -> Option<&'a str> {
        self.domain
    }

    #[must_use]
    pub fn name(&self) -> &'a str {
        self.name
    }

    #[must_use]
    pub fn form(&self) -> NameForm {
        self.form
    }

    /// The domain an administrator means: as written, or `local` for a plain name.
    #[must_use]
    pub fn domain_or_local(&self) -> &'a str {
        self.domain.unwrap_or(LOCAL_DOMAIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let r = UserRef::parse("alice").unwrap();
        assert_eq!(
            (r.domain(), r.name(), r.form()),
            (None, "alice", NameForm::Plain)
        );
        assert_eq!(r.domain_or_local(), "local");
        let r = UserRef::parse("CORP\\alice").unwrap();
        assert_eq!((r.domain(), r.name()), (Some("CORP"), "alice"));
        let r = UserRef::parse("alice@corp.example").unwrap();
        assert_eq!(
            (r.domain(), r.name(), r.form()),
            (Some("corp.example"), "alice", NameForm::Suffixed)
        );
        let r = UserRef::parse("a@b@CORP").unwrap();
        assert_eq!((r.domain(), r.name()), (Some("CORP"), "a@b"));
    }

    #[test]
    fn malformed_references_name_no_user() {
        for bad in [
            "", "\\alice", "*\\alice", "alice@", "alice@*", "CORP\\", "a\nb", "x y\\bob",
        ] {
            assert!(UserRef::parse(bad).is_err(), "{bad:?}");
        }
        assert!(UserRef::parse(&"x".repeat(254)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsing_is_total(s in "\\PC{0,40}") {
            if let Ok(r) = UserRef::parse(&s) {
                proptest::prop_assert!(!r.name().is_empty());
                proptest::prop_assert!(r.domain().is_none_or(is_domain_syntax));
            }
        }
    }
}
