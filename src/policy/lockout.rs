//! Lockout bookkeeping (product §4, §6), pure: the writer applies [`after_failure`]
//! inside the transaction that stores the count, so two failures racing each other are
//! counted one after the other, and the request path asks [`LockState::locked_at`] before
//! it looks at a password.

use super::spec::Lockout;

/// A user's failures and lock, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Failures counted in the current window.
    pub failures: u32,
    /// When the current window began (Unix seconds).
    pub window_start: i64,
    /// Locked until then (Unix seconds); `i64::MAX`: until an administrator unlocks.
    pub locked_until: Option<i64>,
}

impl LockState {
    /// Whether the user is locked at `now`.
    #[must_use]
    pub fn locked_at(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }
}

/// The state after one more failure at `now` under `policy`, and whether this failure
/// locked the user. The `threshold`-th failure within the window locks, not one later;
/// a failure after the window starts a new one; failures while locked change nothing.
#[must_use]
pub fn after_failure(state: LockState, policy: Lockout, now: i64) -> (LockState, bool) {
    if state.locked_at(now) || !policy.is_on() {
        return (state, false);
    }
    let in_window = state.failures > 0
        && now.saturating_sub(state.window_start) < i64::from(policy.window_secs.max(1));
    let (failures, window_start) = if in_window {
        (state.failures.saturating_add(1), state.window_start)
    } else {
        (1, now)
    };
    if failures >= policy.threshold {
        let until = if policy.duration_secs == 0 {
            i64::MAX
        } else {
            now.saturating_add(i64::from(policy.duration_secs))
        };
        let locked = LockState {
            failures,
            window_start,
            locked_until: Some(until),
        };
        return (locked, true);
    }
    (
        LockState {
            failures,
            window_start,
            locked_until: None,
        },
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const P: Lockout = Lockout {
        threshold: 3,
        window_secs: 60,
        duration_secs: 300,
    };

    #[test]
    fn the_threshold_th_failure_locks() {
        let (s, locked) = after_failure(LockState::default(), P, 1000);
        assert!(!locked && s.failures == 1);
        let (s, locked) = after_failure(s, P, 1010);
        assert!(!locked && s.failures == 2);
        let (s, locked) = after_failure(s, P, 1020);
        assert!(locked);
        assert!(s.locked_at(1020) && s.locked_at(1319) && !s.locked_at(1320));
        // While locked, more failures neither extend nor count.
        assert_eq!(after_failure(s, P, 1100), (s, false));
    }

    #[test]
    fn a_failure_after_the_window_starts_over() {
        let (s, _) = after_failure(LockState::default(), P, 1000);
        let (s, _) = after_failure(s, P, 1010);
        let (s, locked) = after_failure(s, P, 1060);
        assert!(!locked);
        assert_eq!((s.failures, s.window_start), (1, 1060));
    }

    #[test]
    fn no_duration_locks_until_unlocked_and_no_threshold_never() {
        let forever = Lockout {
            threshold: 1,
            duration_secs: 0,
            ..P
        };
        let (s, locked) = after_failure(LockState::default(), forever, 5);
        assert!(locked && s.locked_at(i64::MAX - 1));
        let off = Lockout { threshold: 0, ..P };
        assert_eq!(
            after_failure(LockState::default(), off, 5),
            (LockState::default(), false)
        );
    }

    proptest! {
        /// However failures are spaced, a lock happens exactly when `threshold` of them
        /// fall within one window.
        #[test]
        fn locks_exactly_at_the_threshold(gaps in prop::collection::vec(0i64..100, 1..20)) {
            let mut s = LockState::default();
            let mut now = 10_000;
            let mut window: Vec<i64> = Vec::new();
            for gap in gaps {
                now += gap;
                let was_locked = s.locked_at(now);
                let (next, locked) = after_failure(s, P, now);
                if !was_locked {
                    if window.first().is_none_or(|start| now - start >= 60) {
                        window.clear();
                    }
                    window.push(now);
                    prop_assert_eq!(locked, window.len() as u32 >= P.threshold);
                    if locked { window.clear(); }
                } else {
                    prop_assert!(!locked);
                }
                s = next;
            }
        }
    }
}
