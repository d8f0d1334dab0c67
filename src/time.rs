//! The one place that reads the wall clock, so that windows and expiries stay testable.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, as stored in the database.
pub type UnixTime = i64;

/// Current time in whole seconds since the epoch.
#[must_use]
pub fn now_unix() -> UnixTime {
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Current time in microseconds since the epoch (audit records keep sub-second order).
#[must_use]
pub fn now_micros() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
