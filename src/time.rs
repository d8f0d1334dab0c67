//! The clock. Everything that decides on time (duplicate windows, rate limits, stale
//! requests, schedules, retention) reads it through a [`Clock`], so that tests drive
//! time with a [`ManualClock`] instead of sleeping. [`SystemClock`] is the only place
//! that reads the real clocks.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, as stored in the database.
pub type UnixTime = i64;

/// Wall time (for records and calendars) and monotonic time (for windows and ages).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Microseconds since the Unix epoch.
    fn now_micros(&self) -> i64;

    /// A monotonic instant, for measuring ages and windows.
    fn instant(&self) -> Instant;

    /// Whole seconds since the Unix epoch.
    fn now_unix(&self) -> UnixTime {
        self.now_micros().div_euclid(1_000_000)
    }
}

/// The clocks of the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_micros(&self) -> i64 {
        now_micros()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// The system clock, shared.
#[must_use]
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock that moves only when told to: both its wall time and its instants advance by
/// [`ManualClock::advance`].
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    wall_start_micros: i64,
    elapsed_micros: AtomicI64,
}

impl ManualClock {
    /// A clock whose wall time starts at `unix` seconds.
    #[must_use]
    pub fn starting_at(unix: UnixTime) -> Self {
        Self {
            start: Instant::now(),
            wall_start_micros: unix.saturating_mul(1_000_000),
            elapsed_micros: AtomicI64::new(0),
        }
    }

    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.elapsed_micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_micros(&self) -> i64 {
        self.wall_start_micros
            .saturating_add(self.elapsed_micros.load(Ordering::SeqCst))
    }

    fn instant(&self) -> Instant {
        let elapsed = u64::try_from(self.elapsed_micros.load(Ordering::SeqCst)).unwrap_or(0);
        self.start + Duration::from_micros(elapsed)
    }
}

/// Current time in whole seconds since the epoch, from the system clock.
#[must_use]
pub fn now_unix() -> UnixTime {
    SystemClock.now_unix()
}

/// Current time in microseconds since the epoch, from the system clock.
#[must_use]
pub fn now_micros() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::starting_at(1_000);
        let t0 = c.instant();
        assert_eq!(c.now_unix(), 1_000);
        c.advance(Duration::from_millis(2_500));
        assert_eq!(c.now_unix(), 1_002);
        assert_eq!(c.now_micros(), 1_002_500_000);
        assert_eq!(c.instant() - t0, Duration::from_millis(2_500));
    }
}
