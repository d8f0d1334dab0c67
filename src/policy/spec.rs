//! What a user policy and a computer policy say (product §6). Stored as JSON definitions;
//! the RADIUS path reads them from a snapshot, never from SQL.

use serde::{Deserialize, Serialize};

use super::hours::Hours;
use super::method::Methods;
use super::reply::ReplyAttr;

/// `enforce` applies the policy's restrictions; `monitor` accepts what they would deny and
/// audits it as `would_deny` (credentials are checked the same either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Enforce,
    Monitor,
}

impl Mode {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Monitor => "monitor",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "enforce" => Some(Mode::Enforce),
            "monitor" => Some(Mode::Monitor),
            _ => None,
        }
    }
}

/// How a second factor is asked for: not at all, in the same User-Password after the
/// password (one-pass), or in a second round after an Access-Challenge (two-step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecondFactor {
    #[default]
    Off,
    OnePass,
    TwoStep,
}

impl SecondFactor {
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SecondFactor::Off => "off",
            SecondFactor::OnePass => "one-pass",
            SecondFactor::TwoStep => "two-step",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<SecondFactor> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" => Some(SecondFactor::Off),
            "one-pass" => Some(SecondFactor::OnePass),
            "two-step" => Some(SecondFactor::TwoStep),
            _ => None,
        }
    }
}

/// Failed logins counted per user: `threshold` failures within `window_secs` lock the
/// user for `duration_secs` (0: until an administrator unlocks). A threshold of 0 never
/// locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lockout {
    pub threshold: u32,
    pub window_secs: u32,
    pub duration_secs: u32,
}

impl Lockout {
    /// What the built-in policy ships with, and what a new policy starts from: an online
    /// guesser gets ten tries a quarter of an hour, a user who mistypes is not stopped.
    pub const DEFAULT: Lockout = Lockout {
        threshold: 10,
        window_secs: 15 * 60,
        duration_secs: 15 * 60,
    };

    #[must_use]
    pub const fn is_on(self) -> bool {
        self.threshold > 0
    }
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout::DEFAULT
    }
}

/// Eight hours, the product's default temporary-code lifetime.
pub const DEFAULT_TEMPCODE_MAX_TTL_SECS: u32 = 8 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPolicy {
    pub methods: Methods,
    pub second_factor: SecondFactor,
    pub lockout: Lockout,
    pub tempcode_max_ttl_secs: u32,
    pub reply: Vec<ReplyAttr>,
    pub mode: Mode,
}

impl Default for UserPolicy {
    /// The built-in `default` and every policy created without options: every method, no
    /// second factor, the default lockout, no reply attributes, enforced.
    fn default() -> Self {
        UserPolicy {
            methods: Methods::ALL,
            second_factor: SecondFactor::Off,
            lockout: Lockout::DEFAULT,
            tempcode_max_ttl_secs: DEFAULT_TEMPCODE_MAX_TTL_SECS,
            reply: Vec::new(),
            mode: Mode::Enforce,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputerPolicy {
    pub methods: Methods,
    pub second_factor_required: bool,
    /// In the site's time zone; `None`: any time.
    pub hours: Option<Hours>,
    pub reply: Vec<ReplyAttr>,
    pub mode: Mode,
}

impl Default for ComputerPolicy {
    fn default() -> Self {
        ComputerPolicy {
            methods: Methods::ALL,
            second_factor_required: false,
            hours: None,
            reply: Vec::new(),
            mode: Mode::Enforce,
        }
    }
}
