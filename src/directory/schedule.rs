//! Sync schedules: `every 15m`, `daily 02:00` (UTC) or a five-field cron expression, and
//! the retry backoff. Pure: "now" is always a parameter.

use std::fmt;
use std::str::FromStr;

use crate::time::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// Every `seconds`, counted from the previous run.
    Every {
        seconds: u64,
    },
    /// Once a day at this UTC time.
    Daily {
        hour: u8,
        minute: u8,
    },
    Cron(Cron),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "schedule `{input}`: {reason} (use `every 15m`, `daily 02:00` or a cron expression like `*/15 * * * *`)"
)]
pub struct ScheduleError {
    pub input: String,
    pub reason: String,
}

const MIN_INTERVAL: u64 = 10;

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| ScheduleError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        if let Some(rest) = t.strip_prefix("every ") {
            let seconds = crate::model::duration::parse(rest).map_err(|r| err(&r))?;
            if seconds < MIN_INTERVAL {
                return Err(err("interval must be at least 10s"));
            }
            return Ok(Schedule::Every { seconds });
        }
        if let Some(rest) = t.strip_prefix("daily ") {
            let (h, m) = rest
                .trim()
                .split_once(':')
                .ok_or_else(|| err("expected HH:MM"))?;
            let hour: u8 = h
                .parse()
                .ok()
                .filter(|h| *h < 24)
                .ok_or_else(|| err("hour must be 00-23"))?;
            let minute: u8 = m
                .parse()
                .ok()
                .filter(|m| *m < 60)
                .ok_or_else(|| err("minute must be 00-59"))?;
            return Ok(Schedule::Daily { hour, minute });
        }
        Cron::parse(t)
            .map(Schedule::Cron)
            .map_err(|reason| err(&reason))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every { seconds } if seconds % 86_400 == 0 => {
                write!(f, "every {}d", seconds / 86_400)
            }
            Schedule::Every { seconds } if seconds % 3600 == 0 => {
                write!(f, "every {}h", seconds / 3600)
            }
            Schedule::Every { seconds } if seconds % 60 == 0 => {
                write!(f, "every {}m", seconds / 60)
            }
            Schedule::Every { seconds } => write!(f, "every {seconds}s"),
            Schedule::Daily { hour, minute } => write!(f, "daily {hour:02}:{minute:02}"),
            Schedule::Cron(c) => f.write_str(&c.source),
        }
    }
}

impl Schedule {
    /// The first run time strictly after `last` (or after `now` when there was no run).
    #[must_use]
    pub fn next_after(&self, last: Option<UnixTime>, now: UnixTime) -> UnixTime {
        match self {
            Schedule::Every { seconds } => {
                let step = i64::try_from(*seconds).unwrap_or(i64::MAX);
                match last {
                    Some(l) => l.saturating_add(step),
                    None => now,
                }
            }
            Schedule::Daily { hour, minute } => {
                let from = last.unwrap_or(now).max(now.saturating_sub(1));
                let day = from.div_euclid(86_400) * 86_400;
                let at = day + i64::from(*hour) * 3600 + i64::from(*minute) * 60;
                if at > from { at } else { at + 86_400 }
            }
            Schedule::Cron(c) => c.next_after(last.unwrap_or(now).max(now.saturating_sub(1))),
        }
    }
}

/// A five-field cron expression (minute hour day-of-month month day-of-week), UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    source: String,
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    day_restricted: bool,
    weekday_restricted: bool,
}

fn parse_field(field: &str, min: u32, max: u32, name: &str) -> Result<(u64, bool), String> {
    let mut bits = 0u64;
    let restricted = field != "*";
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let s: u32 = s
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or(format!("{name}: bad step `{s}`"))?;
                (r, s)
            }
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a: u32 = a
                .parse()
                .map_err(|_| format!("{name}: `{a}` is not a number"))?;
            let b: u32 = b
                .parse()
                .map_err(|_| format!("{name}: `{b}` is not a number"))?;
            (a, b)
        } else {
            let v: u32 = range
                .parse()
                .map_err(|_| format!("{name}: `{range}` is not a number"))?;
            (v, if step > 1 { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("{name}: {lo}-{hi} is outside {min}-{max}"));
        }
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, restricted))
}

impl Cron {
    fn parse(s: &str) -> Result<Self, String> {
        let fields: Vec<&str> = s.split_whitespace().collect();
        let [mi, h, dom, mon, dow] = fields[..] else {
            return Err("expected 5 cron fields".into());
        };
        let (minutes, _) = parse_field(mi, 0, 59, "minute")?;
        let (hours, _) = parse_field(h, 0, 23, "hour")?;
        let (days, day_restricted) = parse_field(dom, 1, 31, "day of month")?;
        let (months, _) = parse_field(mon, 1, 12, "month")?;
        let (mut weekdays, weekday_restricted) = parse_field(dow, 0, 7, "day of week")?;
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1; // 7 is Sunday too
        }
        Ok(Self {
            source: s.to_string(),
            minutes,
            hours,
            days,
            months,
            weekdays,
            day_restricted,
            weekday_restricted,
        })
    }

    fn day_matches(&self, day: u32, weekday: u32) -> bool {
        let d = self.days & (1 << day) != 0;
        let w = self.weekdays & (1 << weekday) != 0;
        // Classic cron: when both are restricted, either may match.
        match (self.day_restricted, self.weekday_restricted) {
            (true, true) => d || w,
            (true, false) => d,
            (false, true) => w,
            (false, false) => true,
        }
    }

    /// The first matching minute strictly after `t`.
    #[must_use]
    pub fn next_after(&self, t: UnixTime) -> UnixTime {
        let mut m = t.div_euclid(60) + 1;
        // Walk day by day, then minute by minute: at most ~4 years of days to find a match.
        for _ in 0..(366 * 5) {
            let day_start = m.div_euclid(1440);
            let (_, month, dom) = civil_from_days(day_start);
            let weekday = u32::try_from((day_start + 4).rem_euclid(7)).unwrap_or(0);
            if self.months & (1 << month) != 0 && self.day_matches(dom, weekday) {
                let mut minute_of_day = m.rem_euclid(1440);
                while minute_of_day < 1440 {
                    let h = minute_of_day / 60;
                    let mi = minute_of_day % 60;
                    if self.hours & (1 << h) != 0 && self.minutes & (1 << mi) != 0 {
                        return (day_start * 1440 + minute_of_day) * 60;
                    }
                    minute_of_day += 1;
                }
            }
            m = (day_start + 1) * 1440;
        }
        i64::MAX
    }
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Exponential backoff for failed runs: `base · 2^failures`, capped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: u64,
    cap: u64,
}

impl Backoff {
    /// # Errors
    /// When `base` is zero or greater than `cap`.
    pub fn try_new(base_seconds: u64, cap_seconds: u64) -> Result<Self, String> {
        if base_seconds == 0 || base_seconds > cap_seconds {
            return Err(format!(
                "backoff base {base_seconds}s must be positive and at most the cap {cap_seconds}s"
            ));
        }
        Ok(Self {
            base: base_seconds,
            cap: cap_seconds,
        })
    }

    #[must_use]
    pub fn delay(&self, failures: u32) -> u64 {
        let factor = 1u64.checked_shl(failures.min(63)).unwrap_or(u64::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // 2026-11-22 00:00:00 UTC was a Sunday.
    const SUNDAY: i64 = 1_795_305_600;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(
            "every 15m".parse::<Schedule>().unwrap(),
            Schedule::Every { seconds: 900 }
        );
        assert_eq!(
            "daily 02:00".parse::<Schedule>().unwrap(),
            Schedule::Daily { hour: 2, minute: 0 }
        );
        assert!("*/15 * * * *".parse::<Schedule>().is_ok());
        for bad in [
            "every",
            "every 5",
            "every 5x",
            "every 1s",
            "daily 25:00",
            "daily 2",
            "* * *",
            "61 * * * *",
            "*/0 * * * *",
            "banana",
        ] {
            let e = bad.parse::<Schedule>().unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
        }
        assert_eq!(
            "every 2h".parse::<Schedule>().unwrap().to_string(),
            "every 2h"
        );
    }

    #[test]
    fn next_times() {
        let every = Schedule::Every { seconds: 900 };
        assert_eq!(every.next_after(None, SUNDAY), SUNDAY);
        assert_eq!(every.next_after(Some(SUNDAY), SUNDAY + 10), SUNDAY + 900);
        let daily = Schedule::Daily { hour: 2, minute: 0 };
        assert_eq!(daily.next_after(None, SUNDAY), SUNDAY + 7200);
        assert_eq!(
            daily.next_after(Some(SUNDAY + 7200), SUNDAY + 7201),
            SUNDAY + 86_400 + 7200
        );
        let cron: Schedule = "30 3 * * 1".parse().unwrap(); // Mondays 03:30
        assert_eq!(
            cron.next_after(None, SUNDAY),
            SUNDAY + 86_400 + 3 * 3600 + 1800
        );
        let q: Schedule = "*/15 * * * *".parse().unwrap();
        assert_eq!(q.next_after(None, SUNDAY + 60), SUNDAY + 900);
        assert_eq!(civil_from_days(SUNDAY / 86_400), (2026, 11, 22));
    }

    proptest! {
        #[test]
        fn cron_next_is_later_and_matches(min in 0u32..60, hour in 0u32..24, t in 0i64..4_000_000_000) {
            let c: Schedule = format!("{min} {hour} * * *").parse().unwrap();
            let n = c.next_after(Some(t), t);
            prop_assert!(n > t);
            prop_assert!(n - t <= 86_400);
            prop_assert_eq!(n.rem_euclid(86_400), i64::from(hour) * 3600 + i64::from(min) * 60);
        }

        #[test]
        fn backoff_grows_and_is_capped(base in 1u64..100, cap in 100u64..10_000, f in 0u32..100) {
            let b = Backoff::try_new(base, cap).unwrap();
            prop_assert!(b.delay(f) <= cap);
            prop_assert!(b.delay(f + 1) >= b.delay(f));
        }

        #[test]
        fn parsing_never_panics(s in ".{0,40}") {
            let _ = s.parse::<Schedule>();
        }
    }
}
