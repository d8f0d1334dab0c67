//! Password hashes: argon2id for everything Gatehouse creates, and the imported formats
//! (`$6$` sha512-crypt, `$5$` sha256-crypt, `{SSHA}`, `{SSHA512}`) verified until the
//! next successful login rehashes them.
//!
//! Invariants: every comparison is constant-time; an unknown user is checked against
//! [`dummy_hash`] so that it costs what a known argon2id user costs; empty passwords never
//! match; a stored hash whose parameters exceed the cost policy below is refused at
//! import and never verified (a login prompt must not make the daemon allocate gigabytes
//! or spend seconds on one attempt).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha1::Sha1;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// Most memory an argon2 hash may ask for (KiB): 64 MiB, three times the default.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 64 * 1024;
/// Most argon2 passes.
pub const MAX_ARGON2_TIME: u32 = 10;
/// Most argon2 lanes.
pub const MAX_ARGON2_LANES: u32 = 4;
/// Most sha-crypt rounds (the default is 5,000; 100,000 cost about 17 ms here).
pub const MAX_SHA_CRYPT_ROUNDS: u32 = 100_000;
/// Fewest sha-crypt rounds the format allows.
const MIN_SHA_CRYPT_ROUNDS: u32 = 1_000;

/// The hash formats Gatehouse understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Argon2id,
    Sha512Crypt,
    Sha256Crypt,
    Ssha,
    Ssha512,
}

impl HashKind {
    /// Only argon2id hashes are kept as they are; every other kind is rehashed on login.
    #[must_use]
    pub fn is_legacy(self) -> bool {
        !matches!(self, HashKind::Argon2id)
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            HashKind::Argon2id => "argon2id",
            HashKind::Sha512Crypt => "sha512-crypt",
            HashKind::Sha256Crypt => "sha256-crypt",
            HashKind::Ssha => "ssha",
            HashKind::Ssha512 => "ssha512",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    #[error(
        "unrecognised password hash format (expected $6$, $5$, {{SSHA}}, {{SSHA512}} or $argon2id$)"
    )]
    UnknownFormat,
    #[error("malformed {kind} hash")]
    Malformed { kind: &'static str },
    #[error("{kind} hash too costly to verify: {what} (at most {max})")]
    TooCostly {
        kind: &'static str,
        what: String,
        max: u32,
    },
    #[error("password must not be empty")]
    EmptyPassword,
    #[error("could not hash the password: {0}")]
    Hashing(String),
}

/// Outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Match { kind: HashKind },
    Mismatch,
}

impl Verification {
    #[must_use]
    pub fn is_match(self) -> bool {
        matches!(self, Verification::Match { .. })
    }
}

/// Whether checking this hash costs microseconds rather than milliseconds.
#[must_use]
pub fn is_cheap(stored: &str) -> bool {
    matches!(kind_of(stored), Ok(HashKind::Ssha | HashKind::Ssha512))
}

/// Identifies a stored hash's format and checks that it is well formed and within the
/// cost policy, by parsing alone (no verification runs), so that imports are refused up
/// front instead of failing — or costing minutes — at the first login.
///
/// # Errors
/// [`HashError::UnknownFormat`], [`HashError::Malformed`] or [`HashError::TooCostly`].
pub fn check_hash(stored: &str) -> Result<HashKind, HashError> {
    let kind = kind_of(stored)?;
    match kind {
        HashKind::Argon2id => check_argon2(stored)?,
        HashKind::Sha512Crypt => check_sha_crypt(stored, kind, 86)?,
        HashKind::Sha256Crypt => check_sha_crypt(stored, kind, 43)?,
        HashKind::Ssha | HashKind::Ssha512 => {
            split_salted(stored, kind)?;
        }
    }
    Ok(kind)
}

fn check_argon2(stored: &str) -> Result<(), HashError> {
    let malformed = HashError::Malformed { kind: "argon2id" };
    let hash = PasswordHash::new(stored).map_err(|_| malformed.clone())?;
    let params = argon2::Params::try_from(&hash).map_err(|_| malformed)?;
    for (what, value, max) in [
        ("m (memory, KiB)", params.m_cost(), MAX_ARGON2_MEMORY_KIB),
        ("t (passes)", params.t_cost(), MAX_ARGON2_TIME),
        ("p (lanes)", params.p_cost(), MAX_ARGON2_LANES),
    ] {
        if value > max {
            return Err(HashError::TooCostly {
                kind: "argon2id",
                what: format!("{what} = {value}"),
                max,
            });
        }
    }
    Ok(())
}

/// `$5$` / `$6$` `[rounds=N$]salt$digest`, with the crypt alphabet and lengths.
fn check_sha_crypt(stored: &str, kind: HashKind, digest_len: usize) -> Result<(), HashError> {
    let malformed = || HashError::Malformed {
        kind: kind.as_str(),
    };
    let crypt_alphabet = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
    };
    let rest = stored.get(3..).ok_or_else(malformed)?;
    let mut parts: Vec<&str> = rest.split('$').collect();
    let rounds = match parts.first().and_then(|p| p.strip_prefix("rounds=")) {
        Some(n) => {
            let n: u32 = n.parse().map_err(|_| malformed())?;
            parts.remove(0);
            n
        }
        None => 5_000,
    };
    let [salt, digest] = parts.as_slice() else {
        return Err(malformed());
    };
    if salt.len() > 16
        || salt.contains(char::is_whitespace)
        || digest.len() != digest_len
        || !crypt_alphabet(digest)
    {
        return Err(malformed());
    }
    if rounds < MIN_SHA_CRYPT_ROUNDS {
        return Err(malformed());
    }
    if rounds > MAX_SHA_CRYPT_ROUNDS {
        return Err(HashError::TooCostly {
            kind: kind.as_str(),
            what: format!("rounds = {rounds}"),
            max: MAX_SHA_CRYPT_ROUNDS,
        });
    }
    Ok(())
}

fn kind_of(stored: &str) -> Result<HashKind, HashError> {
    if stored.starts_with("$argon2id$") {
        Ok(HashKind::Argon2id)
    } else if stored.starts_with("$6$") {
        Ok(HashKind::Sha512Crypt)
    } else if stored.starts_with("$5$") {
        Ok(HashKind::Sha256Crypt)
    } else if has_prefix_ignore_case(stored, "{SSHA512}") {
        Ok(HashKind::Ssha512)
    } else if has_prefix_ignore_case(stored, "{SSHA}") {
        Ok(HashKind::Ssha)
    } else {
        Err(HashError::UnknownFormat)
    }
}

fn has_prefix_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Splits `{SSHA}base64(digest || salt)` into its digest and salt.
fn split_salted(stored: &str, kind: HashKind) -> Result<(Vec<u8>, usize), HashError> {
    let (prefix_len, digest_len) = match kind {
        HashKind::Ssha => ("{SSHA}".len(), 20),
        _ => ("{SSHA512}".len(), 64),
    };
    let encoded = stored.get(prefix_len..).unwrap_or_default();
    let raw = B64
        .decode(encoded.trim())
        .map_err(|_| HashError::Malformed {
            kind: kind.as_str(),
        })?;
    if raw.len() <= digest_len {
        return Err(HashError::Malformed {
            kind: kind.as_str(),
        });
    }
    Ok((raw, digest_len))
}

/// Checks `password` against `stored`. A malformed stored hash never matches.
#[must_use]
pub fn verify(stored: &str, password: &[u8]) -> Verification {
    if password.is_empty() {
        return Verification::Mismatch;
    }
    // A hash outside the cost policy (planted before the policy, or written straight
    // into the database) never matches and costs nothing here.
    let Ok(kind) = check_hash(stored) else {
        return Verification::Mismatch;
    };
    let ok = match kind {
        HashKind::Argon2id => PasswordHash::new(stored)
            .is_ok_and(|h| Argon2::default().verify_password(password, &h).is_ok()),
        HashKind::Sha512Crypt | HashKind::Sha256Crypt => sha_crypt::ShaCrypt::default()
            .verify_password(password, stored)
            .is_ok(),
        HashKind::Ssha => verify_salted::<Sha1>(stored, kind, password),
        HashKind::Ssha512 => verify_salted::<Sha512>(stored, kind, password),
    };
    if ok {
        Verification::Match { kind }
    } else {
        Verification::Mismatch
    }
}

fn verify_salted<D: Digest>(stored: &str, kind: HashKind, password: &[u8]) -> bool {
    let Ok((raw, digest_len)) = split_salted(stored, kind) else {
        return false;
    };
    let (expected, salt) = raw.split_at(digest_len);
    let mut d = D::new();
    d.update(password);
    d.update(salt);
    bool::from(d.finalize().as_slice().ct_eq(expected))
}

/// Hashes a new password as argon2id with the library's recommended parameters.
///
/// # Errors
/// [`HashError::EmptyPassword`], or a failure of the random source.
pub fn hash_password(password: &[u8]) -> Result<String, HashError> {
    if password.is_empty() {
        return Err(HashError::EmptyPassword);
    }
    Argon2::default()
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hashing(e.to_string()))
}

/// A real argon2id hash of a random password, made once: unknown users are checked against
/// it so that they cost the same as known ones and cannot be told apart by timing.
#[must_use]
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut pw = [0u8; 24];
        if getrandom::fill(&mut pw).is_err() {
            pw = [0x5a; 24];
        }
        hash_password(&pw).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // `openssl passwd -6 -salt saltsalt secret` and `-5`.
    const SHA512: &str = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";
    const SHA256: &str = "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA";

    #[test]
    fn sha_crypt_imports_verify() {
        assert_eq!(
            verify(SHA512, b"secret"),
            Verification::Match {
                kind: HashKind::Sha512Crypt
            }
        );
        assert_eq!(verify(SHA512, b"Secret"), Verification::Mismatch);
        assert!(verify(SHA256, b"secret").is_match());
        assert!(!verify(SHA256, b"secreT").is_match());
        assert_eq!(check_hash(SHA512), Ok(HashKind::Sha512Crypt));
    }

    #[test]
    fn ssha_verifies() {
        let salt = b"NaCl";
        let mut d = Sha1::new();
        d.update(b"secret");
        d.update(salt);
        let mut raw = d.finalize().to_vec();
        raw.extend_from_slice(salt);
        let stored = format!("{{SSHA}}{}", B64.encode(&raw));
        assert!(verify(&stored, b"secret").is_match());
        assert!(!verify(&stored, b"secreu").is_match());
        let mut d = Sha512::new();
        d.update(b"secret");
        d.update(salt);
        let mut raw = d.finalize().to_vec();
        raw.extend_from_slice(salt);
        let stored = format!("{{SSHA512}}{}", B64.encode(&raw));
        assert_eq!(check_hash(&stored), Ok(HashKind::Ssha512));
        assert!(verify(&stored, b"secret").is_match());
    }

    #[test]
    fn argon2_round_trip_and_empty_refused() {
        let h = hash_password(b"pw").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, b"pw").is_match());
        assert!(!verify(&h, b"").is_match());
        assert_eq!(hash_password(b""), Err(HashError::EmptyPassword));
        assert!(!verify(dummy_hash(), b"").is_match());
    }

    #[test]
    fn costly_parameters_are_refused_by_parsing_and_never_verified() {
        let b64 = |n: usize| B64.encode(vec![7u8; n]).trim_end_matches('=').to_string();
        let argon = |m: u32, t: u32, p: u32| {
            format!("$argon2id$v=19$m={m},t={t},p={p}${}${}", b64(16), b64(32))
        };
        assert_eq!(check_hash(&argon(19_456, 2, 1)), Ok(HashKind::Argon2id));
        for (m, t, p) in [
            (1_048_576, 1, 1),
            (8, 1_000_000, 1),
            (4_294_967_295, 4_294_967_295, 16_777_215),
            (19_456, 2, 8),
        ] {
            let h = argon(m, t, p);
            assert!(
                matches!(
                    check_hash(&h),
                    Err(HashError::TooCostly { .. } | HashError::Malformed { .. })
                ),
                "{h}"
            );
            let started = std::time::Instant::now();
            assert_eq!(verify(&h, b"x"), Verification::Mismatch);
            assert!(started.elapsed() < std::time::Duration::from_millis(50));
        }
        let rounds = format!("$6$rounds=10000000$saltsalt${}", &SHA512[12..]);
        assert!(
            matches!(check_hash(&rounds), Err(HashError::TooCostly { .. })),
            "{rounds}"
        );
        let started = std::time::Instant::now();
        assert_eq!(verify(&rounds, b"secret"), Verification::Mismatch);
        assert!(started.elapsed() < std::time::Duration::from_millis(50));
        let ok = format!("$6$rounds=6000$saltsalt${}", &SHA512[12..]);
        assert_eq!(check_hash(&ok), Ok(HashKind::Sha512Crypt));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(check_hash("plain"), Err(HashError::UnknownFormat));
        assert!(check_hash("{SSHA}!!!").is_err());
        assert!(check_hash("{SSHA}AAAA").is_err());
        assert!(check_hash("$6$salt").is_err());
        assert!(!verify("$6$", b"x").is_match());
    }

    proptest::proptest! {
        #[test]
        fn verify_never_panics(stored in ".{0,120}", pw in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let _ = verify(&stored, &pw);
            let _ = check_hash(&stored);
        }
    }
}
