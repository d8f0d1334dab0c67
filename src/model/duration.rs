//! Durations as the command line and schedules write them: `30s`, `15m`, `8h`, `7d`.

/// Seconds of `text`: a number and one unit (`s`, `m`, `h`, `d`), nothing else.
///
/// # Errors
/// A one-line reason fit for the operator.
pub fn parse(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| "missing unit (s, m, h or d)".to_string())?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| "expected a number".to_string())?;
    let mult = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("unit must be s, m, h or d".into()),
    };
    n.checked_mul(mult).ok_or_else(|| "too long".into())
}

/// The shortest exact spelling of `secs` (`90` → `90s`, `900` → `15m`).
#[must_use]
pub fn format(secs: u64) -> String {
    match secs {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(parse("30s"), Ok(30));
        assert_eq!(parse("15m"), Ok(900));
        assert_eq!(parse(" 8h "), Ok(28_800));
        assert_eq!(parse("7d"), Ok(604_800));
        assert!(parse("7").is_err());
        assert!(parse("7w").is_err());
        assert!(parse("m").is_err());
        assert!(parse("99999999999999999999d").is_err());
        for s in [0, 59, 60, 900, 3600, 5400, 86_400, 90_000] {
            assert_eq!(parse(&format(s)), Ok(s));
        }
    }
}
