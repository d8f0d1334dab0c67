//! Access hours in a site's time zone: when a computer policy admits a login, and when
//! that changes next (the RADIUS reply caps Session-Timeout at the close).
//!
//! # Text form
//!
//! Comma-separated items, each `DAYS HH:MM-HH:MM`, for example
//! `Mon-Fri 07:00-19:00, Sat 08:00-12:00`:
//! - `DAYS` is a day (`Mon` … `Sun`, any case), a range (`Mon-Fri`; `Fri-Mon` wraps over the
//!   weekend), `Any` or `Daily` (every day), or a list of these joined by `|`
//!   (`Mon|Wed|Fri`, `Mon-Wed|Sat`).
//! - The time range starts inclusive and ends exclusive. An end at or before the start
//!   crosses midnight and belongs to its start day: `Fri 22:00-06:00` is Friday 22:00 to
//!   Saturday 06:00, and `Mon 07:00-07:00` is 24 hours. `24:00` may end a range;
//!   `00:00-24:00` is the whole day.
//! - Items may overlap or touch, and several may name the same day. At most [`MAX_ITEMS`].
//!
//! No restriction at all is not an `Hours` (callers hold an `Option<Hours>`), so empty
//! text is an error.
//!
//! # Invariants owned here
//! - Windows are matched by the site's *wall clock*: an instant is converted to local time
//!   and its weekday and minute are looked up. Both instances of a repeated local time
//!   (fall-back) therefore get the same answer, and a local time skipped by spring-forward
//!   never occurs, so a window made only of skipped minutes never opens that day.
//! - `closes_at`/`opens_at` are exact: the first instant after the checked one at which the
//!   answer flips, found by walking the zone's offset transitions, so a window can close at
//!   a DST jump (not only at a minute boundary) and reopen when a fall-back repeats it.
//! - `Display` is canonical and parses back to an equal value; serde uses that text.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The most items one `Hours` text may have. It bounds the work done on untrusted text,
/// and no real schedule comes near it.
pub const MAX_ITEMS: usize = 64;

/// How far ahead `closes_at`/`opens_at` look. More than a week, so that the next opening
/// of any weekly window is found even when a DST change puts it a little over 7 days away.
const HORIZON_SECONDS: i64 = 8 * 86_400;

const DAY_MINUTES: u16 = 1440;
const WEEK_MINUTES: usize = 7 * DAY_MINUTES as usize;
const WORDS: usize = WEEK_MINUTES.div_ceil(64);
const ALL_DAYS: u8 = 0x7f;
const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Access hours: a set of weekly windows in wall-clock time. See the module docs for the
/// text form; `FromStr` fails with an [`HoursError`] naming the bad item and part, and
/// `Display` writes the items in their given order, joined by `, `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    /// As written (normalised), so that `policy explain` can name the item that admitted
    /// a login and `Display` keeps the operator's layout.
    items: Vec<Item>,
    /// The union of the items, one bit per minute of the week, so that `check` is a
    /// lookup and a scan, not a walk over the items.
    week: WeekSet,
}

/// What `Hours` say about an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoursCheck {
    /// Inside the hours. `closes_at` is the first later instant that is outside them, or
    /// `None` if that is more than 8 days away (`Any 00:00-24:00` never closes).
    Open { closes_at: Option<Timestamp> },
    /// Outside the hours. `opens_at` is the first later instant that is inside them, or
    /// `None` if that is more than 8 days away.
    Closed { opens_at: Option<Timestamp> },
}

impl HoursCheck {
    #[must_use]
    pub fn is_open(self) -> bool {
        matches!(self, HoursCheck::Open { .. })
    }
}

/// Why a text is not access hours. One line, naming the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("no access hours given (expected e.g. `Mon-Fri 07:00-19:00`)")]
    Empty,
    #[error("item {position} is empty (a stray comma?)")]
    EmptyItem { position: usize },
    #[error("more than {max} items")]
    TooManyItems { max: usize },
    #[error("`{item}`: {reason}")]
    Item { item: String, reason: ItemError },
}

/// What is wrong inside one item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("expected `DAYS HH:MM-HH:MM`, e.g. `Mon-Fri 07:00-19:00`")]
    Shape,
    #[error("no days before the times (write `Any` for every day)")]
    MissingDays,
    #[error("unknown day `{0}` (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")]
    UnknownDay(String),
    #[error("bad time range `{0}` (expected HH:MM-HH:MM)")]
    BadRange(String),
    #[error("bad time `{0}` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)")]
    BadTime(String),
    #[error("a range cannot start at 24:00 (write 00:00)")]
    StartsAt24,
}

impl Hours {
    /// Whether `at` is inside the hours in zone `tz`, and when that changes next.
    ///
    /// Allocation-free: one offset lookup for `at`, a scan of the week set, and one
    /// transition lookup for each offset change met before the answer flips (usually one
    /// lookup in all).
    #[must_use]
    pub fn check(&self, at: Timestamp, tz: &TimeZone) -> HoursCheck {
        let second = floor_second(at);
        let offset = offset_seconds(tz, at);
        let open = self.week.contains(week_minute(second + offset));
        let change = self.next_change(at, second, offset, tz, open);
        if open {
            HoursCheck::Open { closes_at: change }
        } else {
            HoursCheck::Closed { opens_at: change }
        }
    }

    /// The canonical text of the first item that admits `at` in zone `tz`, or `None` when
    /// the hours are closed then. For `policy explain`.
    #[must_use]
    pub fn matching_item(&self, at: Timestamp, tz: &TimeZone) -> Option<String> {
        let minute = week_minute(floor_second(at) + offset_seconds(tz, at));
        self.items
            .iter()
            .find(|item| item.covers(minute))
            .map(Item::to_string)
    }

    /// The hours outside these ones, or `None` when these cover the whole week.
    ///
    /// The result is built from the set of minutes, not from the items, so it may need
    /// more than [`MAX_ITEMS`] items for pathological input (many slivers on different
    /// days); it then checks correctly but its text is longer than `FromStr` accepts.
    #[must_use]
    pub fn complement(&self) -> Option<Hours> {
        let rest = self.week.complement();
        if rest.is_empty() {
            return None;
        }
        Some(Hours::from_items(items_covering(&rest)))
    }

    fn from_items(items: Vec<Item>) -> Hours {
        let mut week = WeekSet::EMPTY;
        for item in &items {
            item.add_to(&mut week);
        }
        Hours { items, week }
    }

    /// The first instant after `at` whose answer is not `open`, if within the horizon.
    /// `second` and `offset` are `at`'s floor second and zone offset.
    ///
    /// Between two offset transitions wall time runs in step with real time, so the next
    /// flip in that stretch is the next minute boundary where the week set changes. A
    /// transition moves the wall clock, so the answer right at it is looked up afresh.
    fn next_change(
        &self,
        at: Timestamp,
        mut second: i64,
        mut offset: i64,
        tz: &TimeZone,
        open: bool,
    ) -> Option<Timestamp> {
        let horizon = second.saturating_add(HORIZON_SECONDS);
        let mut from = at;
        loop {
            let local = second + offset;
            let Some(minutes) = self.week.distance_to(week_minute(local), !open) else {
                // Every minute of the week answers `open`, so no jump of the wall clock
                // can change the answer.
                return None;
            };
            let boundary = local - local.rem_euclid(60) + minutes as i64 * 60 - offset;
            // Transitions fall on whole seconds, so `as_second` loses nothing.
            let transition = tz.following(from).next().map(|t| t.timestamp().as_second());
            match transition {
                Some(t) if t <= boundary => {
                    if t > horizon {
                        return None;
                    }
                    from = Timestamp::from_second(t).ok()?;
                    second = t;
                    offset = offset_seconds(tz, from);
                    if self.week.contains(week_minute(second + offset)) != open {
                        return Some(from);
                    }
                }
                _ if boundary <= horizon => return Timestamp::from_second(boundary).ok(),
                _ => return None,
            }
        }
    }
}

/// Seconds since the epoch, rounded down (jiff truncates towards zero, which is up for
/// instants before 1970).
fn floor_second(at: Timestamp) -> i64 {
    let second = at.as_second();
    if at.subsec_nanosecond() < 0 {
        second - 1
    } else {
        second
    }
}

fn offset_seconds(tz: &TimeZone, at: Timestamp) -> i64 {
    i64::from(tz.to_offset(at).seconds())
}

/// The minute of the week (Monday 00:00 = 0) of a local time given as seconds since the
/// local epoch.
fn week_minute(local: i64) -> usize {
    // 1970-01-01 was a Thursday, day 3 when Monday is 0.
    let weekday = (local.div_euclid(86_400) + 3).rem_euclid(7);
    let minute = local.rem_euclid(86_400) / 60;
    (weekday * i64::from(DAY_MINUTES) + minute) as usize
}

/// One `DAYS HH:MM-HH:MM` item, normalised: `end` is in `1..=1440` (an end of `00:00` is
/// the same instant as `24:00`, so it is stored as 1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item {
    /// Bit 0 is Monday.
    days: u8,
    start: u16,
    end: u16,
}

impl Item {
    fn minutes(self) -> usize {
        let len = if self.end > self.start {
            self.end - self.start
        } else {
            DAY_MINUTES - self.start + self.end
        };
        usize::from(len)
    }

    fn starts(self) -> impl Iterator<Item = usize> {
        (0..7usize)
            .filter(move |d| self.days & (1 << d) != 0)
            .map(move |d| d * usize::from(DAY_MINUTES) + usize::from(self.start))
    }

    fn covers(self, minute: usize) -> bool {
        let len = self.minutes();
        self.starts()
            .any(|start| (minute + WEEK_MINUTES - start) % WEEK_MINUTES < len)
    }

    fn add_to(self, week: &mut WeekSet) {
        let len = self.minutes();
        for start in self.starts() {
            let end = start + len;
            if end <= WEEK_MINUTES {
                week.fill(start, end);
            } else {
                // Sunday's window running into Monday.
                week.fill(start, WEEK_MINUTES);
                week.fill(0, end - WEEK_MINUTES);
            }
        }
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_days(self.days, f)?;
        write!(f, " ")?;
        fmt_time(self.start, f)?;
        write!(f, "-")?;
        fmt_time(self.end, f)
    }
}

fn fmt_time(minutes: u16, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `Any`, or the cyclic runs of days from Monday on: `Mon-Fri`, `Fri-Mon`, `Mon|Wed-Thu`.
fn fmt_days(days: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if days == ALL_DAYS {
        return f.write_str("Any");
    }
    let has = |d: usize| days & (1 << (d % 7)) != 0;
    let mut first = true;
    for (d, name) in DAY_NAMES.iter().enumerate() {
        if !has(d) || has(d + 6) {
            continue;
        }
        let mut last = d;
        while has(last + 1) {
            last += 1;
        }
        if !first {
            f.write_str("|")?;
        }
        first = false;
        f.write_str(name)?;
        if last != d {
            write!(f, "-{}", DAY_NAMES[last % 7])?;
        }
    }
    Ok(())
}

/// Items covering exactly the minutes of `week`, which is neither empty nor full.
///
/// Each cyclic run of minutes becomes at most two items: whole days from the run's start
/// time (`Fri-Sat 19:00-19:00`) and the rest (`Sun 19:00-07:00`). Runs with the same
/// times then share one item, so the complement of `Mon-Fri 07:00-19:00` reads
/// `Sun-Thu 19:00-07:00, Fri-Sat 19:00-19:00`.
fn items_covering(week: &WeekSet) -> Vec<Item> {
    let day = usize::from(DAY_MINUTES);
    let mut items: Vec<Item> = Vec::new();
    let mut add = |day_index: usize, count: usize, start: usize, len: usize| {
        let start = (start % day) as u16;
        let end = ((usize::from(start) + len) % day) as u16;
        let end = if end == 0 { DAY_MINUTES } else { end };
        let days = (0..count).fold(0u8, |acc, i| acc | 1 << ((day_index + i) % 7));
        match items.iter_mut().find(|i| i.start == start && i.end == end) {
            Some(item) => item.days |= days,
            None => items.push(Item { days, start, end }),
        }
    };
    for (start, len) in week.runs() {
        let (whole, rest) = (len / day, len % day);
        if whole > 0 {
            add(start / day, whole, start, day);
        }
        if rest > 0 {
            add(start / day + whole, 1, start, rest);
        }
    }
    items.sort_by_key(|i| (i.days.trailing_zeros(), i.start, i.end));
    items
}

/// A set of minutes of the week, Monday 00:00 first.
#[derive(Clone, PartialEq, Eq)]
struct WeekSet([u64; WORDS]);

impl WeekSet {
    const EMPTY: WeekSet = WeekSet([0; WORDS]);

    fn contains(&self, minute: usize) -> bool {
        self.0[minute / 64] & (1 << (minute % 64)) != 0
    }

    /// Adds the minutes `from..to` (`to <= WEEK_MINUTES`).
    fn fill(&mut self, mut from: usize, to: usize) {
        while from < to {
            let bit = from % 64;
            let n = (64 - bit).min(to - from);
            let mask = if n == 64 {
                u64::MAX
            } else {
                ((1u64 << n) - 1) << bit
            };
            self.0[from / 64] |= mask;
            from += n;
        }
    }

    fn complement(&self) -> WeekSet {
        let mut out = WeekSet(self.0.map(|w| !w));
        // The bits past the end of the week are not minutes.
        let tail = WEEK_MINUTES % 64;
        if tail != 0 {
            out.0[WORDS - 1] &= (1u64 << tail) - 1;
        }
        out
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The first minute in `from..WEEK_MINUTES` that is (`want`) or is not in the set.
    fn next_with(&self, from: usize, want: bool) -> Option<usize> {
        let word = |w: usize| if want { self.0[w] } else { !self.0[w] };
        let mut w = from / 64;
        if w >= WORDS {
            return None;
        }
        let mut bits = word(w) & (u64::MAX << (from % 64));
        loop {
            if bits != 0 {
                let minute = w * 64 + bits.trailing_zeros() as usize;
                // Past the week only when `want` is false and the rest is padding.
                return (minute < WEEK_MINUTES).then_some(minute);
            }
            w += 1;
            if w == WORDS {
                return None;
            }
            bits = word(w);
        }
    }

    /// How many minutes after `minute`, going round the week, the next minute that is
    /// (`want`) or is not in the set comes; `None` when there is none.
    fn distance_to(&self, minute: usize, want: bool) -> Option<usize> {
        let next = self
            .next_with(minute + 1, want)
            .or_else(|| self.next_with(0, want).filter(|&m| m <= minute))?;
        Some(if next > minute {
            next - minute
        } else {
            next + WEEK_MINUTES - minute
        })
    }

    /// The maximal runs of the set, going round the week (a run may cross from Sunday into
    /// Monday), as (first minute, length). Empty when the set is empty or full.
    fn runs(&self) -> Vec<(usize, usize)> {
        let Some(gap) = self.next_with(0, false) else {
            return Vec::new();
        };
        let mut runs = Vec::new();
        let mut current: Option<(usize, usize)> = None;
        // Starting just after a gap minute and ending on it closes every run.
        for k in 1..=WEEK_MINUTES {
            let minute = (gap + k) % WEEK_MINUTES;
            if self.contains(minute) {
                current = Some(current.map_or((minute, 1), |(s, len)| (s, len + 1)));
            } else if let Some(run) = current.take() {
                runs.push(run);
            }
        }
        runs
    }
}

impl fmt::Debug for WeekSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes: u32 = self.0.iter().map(|w| w.count_ones()).sum();
        write!(f, "WeekSet({minutes} minutes)")
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{item}")?;
        }
        Ok(())
    }
}

impl FromStr for Hours {
    type Err = HoursError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().is_empty() {
            return Err(HoursError::Empty);
        }
        let mut items = Vec::new();
        for (i, raw) in text.split(',').enumerate() {
            if i == MAX_ITEMS {
                return Err(HoursError::TooManyItems { max: MAX_ITEMS });
            }
            let raw = raw.trim();
            if raw.is_empty() {
                return Err(HoursError::EmptyItem { position: i + 1 });
            }
            let item = parse_item(raw).map_err(|reason| HoursError::Item {
                item: excerpt(raw),
                reason,
            })?;
            items.push(item);
        }
        Ok(Hours::from_items(items))
    }
}

/// Untrusted text quoted in an error, cut short so that the message stays one line.
fn excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    if text.chars().count() <= MAX_CHARS {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX_CHARS).collect();
        cut.push('…');
        cut
    }
}

fn parse_item(raw: &str) -> Result<Item, ItemError> {
    let mut parts = raw.split_whitespace();
    let (Some(days), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(if raw.contains(':') && !raw.contains(char::is_whitespace) {
            ItemError::MissingDays
        } else {
            ItemError::Shape
        });
    };
    let days = parse_days(days)?;
    let (start, end) = times
        .split_once('-')
        .ok_or_else(|| ItemError::BadRange(excerpt(times)))?;
    let start = parse_time(start)?;
    if start == DAY_MINUTES {
        return Err(ItemError::StartsAt24);
    }
    let end = match parse_time(end)? {
        0 => DAY_MINUTES,
        end => end,
    };
    Ok(Item { days, start, end })
}

fn parse_days(text: &str) -> Result<u8, ItemError> {
    let mut days = 0u8;
    for part in text.split('|') {
        days |= if part.eq_ignore_ascii_case("any") || part.eq_ignore_ascii_case("daily") {
            ALL_DAYS
        } else if let Some((first, last)) = part.split_once('-') {
            let (first, last) = (parse_day(first)?, parse_day(last)?);
            // `Fri-Mon` wraps: count forward from the first day.
            let count = (last + 7 - first) % 7 + 1;
            (0..count).fold(0u8, |acc, i| acc | 1 << ((first + i) % 7))
        } else {
            1 << parse_day(part)?
        };
    }
    Ok(days)
}

fn parse_day(text: &str) -> Result<usize, ItemError> {
    DAY_NAMES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
        .ok_or_else(|| ItemError::UnknownDay(excerpt(text)))
}

/// `H:MM` or `HH:MM`, as minutes after midnight; `24:00` is 1440.
fn parse_time(text: &str) -> Result<u16, ItemError> {
    let bad = || ItemError::BadTime(excerpt(text));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 1, 2) || !digits(m, 2, 2) {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl serde::Serialize for Hours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Hours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hours(text: &str) -> Hours {
        text.parse().unwrap()
    }

    /// An instant written as UTC wall time, `2027-03-28 00:59:59`.
    fn utc(text: &str) -> Timestamp {
        let civil: jiff::civil::DateTime = text.parse().unwrap();
        civil.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn open(closes_at: &str) -> HoursCheck {
        HoursCheck::Open {
            closes_at: Some(utc(closes_at)),
        }
    }

    fn closed(opens_at: &str) -> HoursCheck {
        HoursCheck::Closed {
            opens_at: Some(utc(opens_at)),
        }
    }

    const BERLIN: &str = "Europe/Berlin";
    const NEW_YORK: &str = "America/New_York";
    const UTC: &str = "UTC";

    /// (hours, zone, instant, expected), every instant in UTC; the comments give the
    /// local times they stand for.
    #[test]
    // One case per line reads as a table; rustfmt would spread each over six lines.
    #[rustfmt::skip]
    fn check_table() {
        let never_closes = HoursCheck::Open { closes_at: None };
        let table = [
            // Berlin spring-forward, Sunday 2027-03-28: 02:00 CET becomes 03:00 CEST at 01:00Z.
            // 01:59:59 CET: 02:00-02:59 never happen that day, so it opens the next night.
            ("Any 02:00-03:00", BERLIN, "2027-03-28 00:59:59", closed("2027-03-29 00:00")),
            // 03:00:00 CEST: the end is exclusive.
            ("Any 02:00-03:00", BERLIN, "2027-03-28 01:00:00", closed("2027-03-29 00:00")),
            // 01:59:59 CET inside 01:00-03:00: one second later the wall clock reads 03:00.
            ("Any 01:00-03:00", BERLIN, "2027-03-28 00:59:59", open("2027-03-28 01:00")),
            // 03:00:00 CEST: closed until 01:00 CEST on Monday.
            ("Any 01:00-03:00", BERLIN, "2027-03-28 01:00:00", closed("2027-03-28 23:00")),
            // A window crossing midnight into the jump: Saturday 22:00 to Sunday 03:00.
            ("Sat 22:00-03:00", BERLIN, "2027-03-28 00:30:00", open("2027-03-28 01:00")),
            // Berlin fall-back, Sunday 2027-10-31: 03:00 CEST becomes 02:00 CET at 01:00Z,
            // so 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
            // Both 02:30s are inside 02:00-03:00, which stays open until the second 03:00.
            ("Any 02:00-03:00", BERLIN, "2027-10-31 00:30:00", open("2027-10-31 02:00")),
            ("Any 02:00-03:00", BERLIN, "2027-10-31 01:30:00", open("2027-10-31 02:00")),
            // A window ending 02:30 closes at the first 02:30 and reopens at the second 02:00
            // (02:00 CEST, first 02:30, second 02:00, second 02:30).
            ("Any 01:00-02:30", BERLIN, "2027-10-31 00:00:00", open("2027-10-31 00:30")),
            ("Any 01:00-02:30", BERLIN, "2027-10-31 00:30:00", closed("2027-10-31 01:00")),
            ("Any 01:00-02:30", BERLIN, "2027-10-31 01:00:00", open("2027-10-31 01:30")),
            ("Any 01:00-02:30", BERLIN, "2027-10-31 01:30:00", closed("2027-11-01 00:00")),
            // A window starting 02:30 is cut by the jump back to 02:00, then opens again
            // (first 02:30, second 02:00).
            ("Any 02:30-03:00", BERLIN, "2027-10-31 00:30:00", open("2027-10-31 01:00")),
            ("Any 02:30-03:00", BERLIN, "2027-10-31 01:00:00", closed("2027-10-31 01:30")),
            // 22:00-06:00 on Tuesday 2027-06-15 (CEST): 05:59:59 and 06:00:00 local.
            ("Any 22:00-06:00", BERLIN, "2027-06-15 03:59:59", open("2027-06-15 04:00")),
            ("Any 22:00-06:00", BERLIN, "2027-06-15 04:00:00", closed("2027-06-15 20:00")),
            // One UTC instant, two sites: 14:00 in Berlin, 08:00 in New York.
            ("Mon-Fri 09:00-17:00", BERLIN, "2027-06-15 12:00:00", open("2027-06-15 15:00")),
            ("Mon-Fri 09:00-17:00", NEW_YORK, "2027-06-15 12:00:00", closed("2027-06-15 13:00")),
            // Contiguous windows do not close at midnight: Monday 23:00 → Tuesday 06:00.
            ("Mon 22:00-24:00, Tue 00:00-06:00", UTC, "2027-06-14 23:00:00", open("2027-06-15 06:00")),
            // Nor do overlapping ones: Monday 09:00 → 14:00.
            ("Mon 08:00-12:00, Mon 11:00-14:00", UTC, "2027-06-14 09:00:00", open("2027-06-14 14:00")),
            // Sunday's night window runs into Monday (the week wraps).
            ("Sun 22:00-06:00", UTC, "2027-06-14 05:00:00", open("2027-06-14 06:00")),
            // Fri-Mon wraps over the weekend: open Saturday and Monday, not Tuesday-Thursday.
            ("Fri-Mon 08:00-17:00", UTC, "2027-06-12 10:00:00", open("2027-06-12 17:00")),
            ("Fri-Mon 08:00-17:00", UTC, "2027-06-14 10:00:00", open("2027-06-14 17:00")),
            ("Fri-Mon 08:00-17:00", UTC, "2027-06-14 17:00:00", closed("2027-06-18 08:00")),
            ("Fri-Mon 08:00-17:00", UTC, "2027-06-16 10:00:00", closed("2027-06-18 08:00")),
            // A weekly window seen just after it closed opens again 7 days later.
            ("Mon 10:00-11:00", UTC, "2027-06-14 11:00:00", closed("2027-06-21 10:00")),
            ("Any 00:00-24:00", BERLIN, "2027-03-28 01:00:00", never_closes),
            ("Daily 00:00-00:00", UTC, "2027-06-14 11:00:00", never_closes),
            // Open all week but Tuesday 10:00-10:01: seen on Wednesday, it closes 6 days on.
            ("Wed-Mon 00:00-24:00, Tue 00:00-10:00, Tue 10:01-24:00", UTC, "2027-06-16 00:00:00", open("2027-06-22 10:00")),
        ];
        for (text, tz, at, expected) in table {
            let got = hours(text).check(utc(at), &zone(tz));
            assert_eq!(got, expected, "{text} in {tz} at {at}");
        }
    }

    #[test]
    fn session_timeout_is_the_time_to_the_close() {
        let hours = hours("Mon-Fri 07:00-19:00,Sat 08:00-12:00");
        // Tuesday 2027-06-15 18:50 CEST.
        let at = utc("2027-06-15 16:50:00");
        let HoursCheck::Open {
            closes_at: Some(closes_at),
        } = hours.check(at, &zone("Europe/Berlin"))
        else {
            panic!("expected open");
        };
        assert_eq!(closes_at.duration_since(at).as_secs(), 600);
    }

    #[test]
    fn fractional_instants_count_from_their_second() {
        let at = utc("2027-06-15 03:59:59.75");
        assert_eq!(
            hours("Any 22:00-06:00").check(at, &zone("Europe/Berlin")),
            open("2027-06-15 04:00")
        );
    }

    #[test]
    fn instants_before_1970_round_down() {
        // Half a second before the epoch is still Wednesday 1969-12-31.
        let at = Timestamp::from_nanosecond(-500_000_000).unwrap();
        assert_eq!(
            hours("Thu 00:00-24:00").check(at, &TimeZone::UTC),
            closed("1970-01-01 00:00")
        );
    }

    #[test]
    fn matching_item_names_the_first_admitting_item() {
        let hours = hours("sat 08:00-12:00, mon-FRI 7:00-19:00, Tue 09:00-10:00");
        let berlin = zone("Europe/Berlin");
        assert_eq!(
            hours.matching_item(utc("2027-06-15 07:30:00"), &berlin),
            Some("Mon-Fri 07:00-19:00".to_owned())
        );
        assert_eq!(
            hours.matching_item(utc("2027-06-19 07:30:00"), &berlin),
            Some("Sat 08:00-12:00".to_owned())
        );
        assert_eq!(
            hours.matching_item(utc("2027-06-20 07:30:00"), &berlin),
            None
        );
    }

    #[test]
    fn display_is_canonical() {
        let table = [
            (
                "Mon-Fri 07:00-19:00,Sat 08:00-12:00",
                "Mon-Fri 07:00-19:00, Sat 08:00-12:00",
            ),
            (
                "  mon|WED 7:05-8:00 ,  daily 22:00-00:00 ",
                "Mon|Wed 07:05-08:00, Any 22:00-24:00",
            ),
            ("Fri-Mon 00:00-24:00", "Fri-Mon 00:00-24:00"),
            ("Sun|Mon|Wed 01:00-02:00", "Wed|Sun-Mon 01:00-02:00"),
            ("Sat|Sun 00:00-00:00", "Sat-Sun 00:00-24:00"),
            ("Mon-Sun 07:00-07:00", "Any 07:00-07:00"),
            ("Wed-Wed 07:00-08:00", "Wed 07:00-08:00"),
            ("Mon-Tue|Thu-Fri|Any 07:00-08:00", "Any 07:00-08:00"),
            (
                "Mon 07:00-08:00, Mon 07:00-08:00",
                "Mon 07:00-08:00, Mon 07:00-08:00",
            ),
        ];
        for (text, canonical) in table {
            let parsed = hours(text);
            assert_eq!(parsed.to_string(), canonical, "{text}");
            assert_eq!(hours(canonical), parsed, "{text}");
        }
    }

    #[test]
    fn serde_uses_the_canonical_text() {
        let parsed = hours("mon-fri 7:00-19:00");
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(json, r#""Mon-Fri 07:00-19:00""#);
        assert_eq!(serde_json::from_str::<Hours>(&json).unwrap(), parsed);
        let err = serde_json::from_str::<Hours>(r#""Mon-Fro 07:00-19:00""#).unwrap_err();
        assert!(err.to_string().contains("unknown day `Fro`"), "{err}");
    }

    #[test]
    fn parse_errors_name_the_bad_part() {
        let table = [
            (
                "Mon-Fro 07:00-19:00",
                "`Mon-Fro 07:00-19:00`: unknown day `Fro` (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
            ),
            (
                "",
                "no access hours given (expected e.g. `Mon-Fri 07:00-19:00`)",
            ),
            (
                "  ",
                "no access hours given (expected e.g. `Mon-Fri 07:00-19:00`)",
            ),
            ("Mon 07:00-08:00,", "item 2 is empty (a stray comma?)"),
            (",Mon 07:00-08:00", "item 1 is empty (a stray comma?)"),
            (
                "Mon 07:00-08:00,,Tue 07:00-08:00",
                "item 2 is empty (a stray comma?)",
            ),
            (
                "07:00-19:00",
                "`07:00-19:00`: no days before the times (write `Any` for every day)",
            ),
            (
                "Mon-Fri",
                "`Mon-Fri`: expected `DAYS HH:MM-HH:MM`, e.g. `Mon-Fri 07:00-19:00`",
            ),
            (
                "Mon 07:00 - 19:00",
                "`Mon 07:00 - 19:00`: expected `DAYS HH:MM-HH:MM`, e.g. `Mon-Fri 07:00-19:00`",
            ),
            (
                "Mon 07:00",
                "`Mon 07:00`: bad time range `07:00` (expected HH:MM-HH:MM)",
            ),
            (
                "Mon 07:00-",
                "`Mon 07:00-`: bad time `` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon 25:00-26:00",
                "`Mon 25:00-26:00`: bad time `25:00` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon 07:60-08:00",
                "`Mon 07:60-08:00`: bad time `07:60` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon 07:00-24:30",
                "`Mon 07:00-24:30`: bad time `24:30` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon 7-8",
                "`Mon 7-8`: bad time `7` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon +7:00-08:00",
                "`Mon +7:00-08:00`: bad time `+7:00` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon 007:00-08:00",
                "`Mon 007:00-08:00`: bad time `007:00` (expected HH:MM from 00:00 to 23:59, or 24:00 as an end)",
            ),
            (
                "Mon 24:00-08:00",
                "`Mon 24:00-08:00`: a range cannot start at 24:00 (write 00:00)",
            ),
            (
                "Mon| 07:00-08:00",
                "`Mon| 07:00-08:00`: unknown day `` (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
            ),
            (
                "Monday 07:00-08:00",
                "`Monday 07:00-08:00`: unknown day `Monday` (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
            ),
            (
                "Mon 07:00-08:00, Tue 0123456789012345678901234567890123456789extra",
                "`Tue 012345678901234567890123456789012345…`: bad time range `0123456789012345678901234567890123456789…` (expected HH:MM-HH:MM)",
            ),
        ];
        for (text, message) in table {
            let err = text.parse::<Hours>().unwrap_err();
            assert_eq!(err.to_string(), message, "{text:?}");
        }
    }

    #[test]
    fn at_most_max_items() {
        let items = |n: usize| vec!["Mon 07:00-08:00"; n].join(",");
        assert!(items(MAX_ITEMS).parse::<Hours>().is_ok());
        assert_eq!(
            items(MAX_ITEMS + 1).parse::<Hours>(),
            Err(HoursError::TooManyItems { max: MAX_ITEMS })
        );
    }

    #[test]
    fn complement_reads_as_the_closed_hours() {
        let table = [
            (
                "Mon-Fri 07:00-19:00",
                Some("Sun-Thu 19:00-07:00, Fri-Sat 19:00-19:00"),
            ),
            ("Any 22:00-06:00", Some("Any 06:00-22:00")),
            ("Mon-Sat 00:00-24:00", Some("Sun 00:00-24:00")),
            ("Any 00:00-24:00", None),
            (
                "Mon-Thu 00:00-24:00, Fri 12:00-12:00, Sat 12:00-24:00, Sun 00:00-24:00, Fri 00:00-12:00",
                None,
            ),
            (
                "Mon-Thu 00:00-24:00, Fri 12:00-12:00, Sat 12:00-24:00, Sun 00:00-24:00",
                Some("Fri 00:00-12:00"),
            ),
        ];
        for (text, expected) in table {
            let complement = hours(text).complement().map(|c| c.to_string());
            assert_eq!(complement.as_deref(), expected, "{text}");
        }
    }

    // ---- properties ----

    const ZONES: &[&str] = &[
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        // DST of 30 minutes.
        "Australia/Lord_Howe",
        // Offsets of +12:45/+13:45.
        "Pacific/Chatham",
        // Skipped all of Friday 2011-12-30 when it moved across the date line.
        "Pacific/Apia",
        // Southern hemisphere DST, and -03:30 offsets.
        "America/St_Johns",
        // -00:44:30 until 1972: minute boundaries fall on half seconds of UTC.
        "Africa/Monrovia",
    ];

    /// Zones whose offsets and transitions are whole minutes from 1990 on, so that every
    /// change happens on a whole UTC minute.
    const MINUTE_ZONES: &[&str] = &[
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Pacific/Apia",
    ];

    fn items() -> impl Strategy<Value = Vec<Item>> {
        let item = (1u8..=ALL_DAYS, 0u16..DAY_MINUTES, 1u16..=DAY_MINUTES)
            .prop_map(|(days, start, end)| Item { days, start, end });
        // Mostly whole or half hours, as people write them, so that windows touch and
        // overlap; sometimes any minute.
        let rounded = (1u8..=ALL_DAYS, 0u16..48, 1u16..=48).prop_map(|(days, start, end)| Item {
            days,
            start: start * 30,
            end: end * 30,
        });
        proptest::collection::vec(prop_oneof![item, rounded], 1..8)
    }

    fn any_hours() -> impl Strategy<Value = Hours> {
        items().prop_map(Hours::from_items)
    }

    /// A zone from `zones` and an instant in it: uniform over 1955 to 2040 (pre-1970 ones
    /// included), or in the 8 days before and the day after one of the zone's offset
    /// transitions, where `closes_at`/`opens_at` have to cross it. With `whole_minutes`,
    /// instants are whole UTC minutes from 1990 on.
    fn zoned_instants(
        zones: &'static [&'static str],
        whole_minutes: bool,
    ) -> impl Strategy<Value = (TimeZone, Timestamp)> {
        let from = if whole_minutes {
            631_152_000
        } else {
            -473_385_600
        };
        (
            0..zones.len(),
            from..2_208_988_800i64,
            0..1_000_000_000i64,
            any::<bool>(),
            -8 * 86_400..86_400i64,
        )
            .prop_map(move |(z, second, nanos, near, delta)| {
                let tz = zone(zones[z]);
                let uniform = Timestamp::from_second(second).unwrap();
                let at = match tz.following(uniform).next() {
                    Some(transition) if near => transition.timestamp() + seconds(delta),
                    _ => uniform,
                };
                let at = if whole_minutes {
                    // Not the transition itself: some zones carry a no-op one at
                    // 2038-01-19T03:14:07Z, where 32-bit TZif data ends.
                    let second = at.as_second();
                    Timestamp::from_second(second - second.rem_euclid(60)).unwrap()
                } else {
                    at + jiff::SignedDuration::from_nanos(nanos)
                };
                (tz, at)
            })
    }

    fn is_open(hours: &Hours, at: Timestamp, tz: &TimeZone) -> bool {
        hours
            .week
            .contains(week_minute(floor_second(at) + offset_seconds(tz, at)))
    }

    fn seconds(n: i64) -> jiff::SignedDuration {
        jiff::SignedDuration::from_secs(n)
    }

    proptest! {
        #[test]
        fn complement_is_exactly_the_rest(
            hours in any_hours(),
            (tz, at) in zoned_instants(ZONES, false),
        ) {
            let inside = hours.check(at, &tz).is_open();
            match hours.complement() {
                Some(rest) => {
                    prop_assert_ne!(rest.check(at, &tz).is_open(), inside);
                    prop_assert_eq!(&rest.week, &hours.week.complement());
                    prop_assert!(rest.complement().is_some_and(|back| back.week == hours.week));
                }
                None => prop_assert!(inside),
            }
        }

        #[test]
        fn display_parses_back(hours in any_hours()) {
            let text = hours.to_string();
            prop_assert_eq!(text.parse::<Hours>(), Ok(hours.clone()));
            if let Some(rest) = hours.complement()
                && rest.items.len() <= MAX_ITEMS
            {
                prop_assert_eq!(rest.to_string().parse::<Hours>(), Ok(rest));
            }
        }

        #[test]
        fn the_answer_flips_exactly_at_the_change(
            hours in any_hours(),
            (tz, at) in zoned_instants(ZONES, false),
        ) {
            let (open, change) = match hours.check(at, &tz) {
                HoursCheck::Open { closes_at } => (true, closes_at),
                HoursCheck::Closed { opens_at } => (false, opens_at),
            };
            prop_assert_eq!(hours.matching_item(at, &tz).is_some(), open);
            if let Some(t) = change {
                prop_assert!(t > at);
                prop_assert!(t.duration_since(at) <= seconds(HORIZON_SECONDS));
                let before = t - seconds(1);
                let expected_before = if open {
                    HoursCheck::Open { closes_at: change }
                } else {
                    HoursCheck::Closed { opens_at: change }
                };
                prop_assert_eq!(hours.check(before, &tz), expected_before);
                prop_assert_eq!(hours.check(t, &tz).is_open(), !open);
            }
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,80}") {
            if let Ok(hours) = text.parse::<Hours>() {
                prop_assert_eq!(hours.to_string().parse::<Hours>(), Ok(hours));
            }
        }

        #[test]
        fn parsing_near_miss_text_never_panics(
            text in "([A-Za-z|-]{0,12} [0-9:+-]{0,12}[ ,]{0,3}){0,4}",
        ) {
            if let Ok(hours) = text.parse::<Hours>() {
                prop_assert_eq!(hours.to_string().parse::<Hours>(), Ok(hours));
            }
        }

        /// Against a minute-by-minute walk over the next 8 days.
        #[test]
        fn change_matches_a_minute_walk(
            hours in any_hours(),
            (tz, at) in zoned_instants(MINUTE_ZONES, true),
        ) {
            let open = is_open(&hours, at, &tz);
            let walked = (1..=HORIZON_SECONDS / 60)
                .map(|k| at + seconds(k * 60))
                .find(|&t| is_open(&hours, t, &tz) != open);
            let expected = if open {
                HoursCheck::Open { closes_at: walked }
            } else {
                HoursCheck::Closed { opens_at: walked }
            };
            prop_assert_eq!(hours.check(at, &tz), expected);
        }
    }
}
