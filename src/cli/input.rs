//! What `gatehousectl` reads besides its arguments: secrets from files or stdin (never
//! argv), uploads with a size cap, and times.

use std::io::Read as _;
use std::path::Path;

use crate::admin::proto::MAX_LINE;

/// A local usage problem: one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Largest file one request can carry: a request line is at most [`MAX_LINE`], and JSON
/// may double what it escapes; what is larger is refused here, with a reason.
pub const MAX_UPLOAD: u64 = (MAX_LINE / 2) as u64;

fn open(path: &Path) -> Result<Box<dyn std::io::Read>, UsageError> {
    if path.as_os_str() == "-" {
        Ok(Box::new(std::io::stdin()))
    } else {
        std::fs::File::open(path)
            .map(|f| Box::new(f) as Box<dyn std::io::Read>)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))
    }
}

fn name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

/// The bytes of `path` (`-` for stdin), at most [`MAX_UPLOAD`] of them.
///
/// # Errors
/// Unreadable, or too large (never read past the cap).
pub fn read_capped(path: &Path) -> Result<Vec<u8>, UsageError> {
    let mut bytes = Vec::new();
    open(path)?
        .take(MAX_UPLOAD + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| UsageError(format!("{}: {e}", name(path))))?;
    if bytes.len() as u64 > MAX_UPLOAD {
        return Err(UsageError(format!(
            "{}: larger than {} MiB, too large for one request: split it",
            name(path),
            MAX_UPLOAD >> 20
        )));
    }
    Ok(bytes)
}

/// The text of `path`, capped like [`read_capped`].
///
/// # Errors
/// Unreadable, too large, or not UTF-8.
pub fn read_text(path: &Path) -> Result<String, UsageError> {
    String::from_utf8(read_capped(path)?)
        .map_err(|_| UsageError(format!("{}: not UTF-8 text", name(path))))
}

/// A certificate file, refused here when it also holds a private key: the key must not
/// travel to the daemon (which would refuse it too) or into anyone's shell history of
/// what was uploaded.
///
/// # Errors
/// Unreadable, too large, or holding a `PRIVATE KEY` block.
pub fn certificate_only(path: &Path) -> Result<Vec<u8>, UsageError> {
    let bytes = read_capped(path)?;
    if crate::tls::certs::holds_private_key(&bytes) {
        return Err(UsageError(format!(
            "{}: holds a private key; give the certificate alone (nothing was sent)",
            name(path)
        )));
    }
    Ok(bytes)
}

/// A secret from a file or stdin, one trailing line break dropped; never empty.
///
/// # Errors
/// Unreadable, too large or empty.
pub fn read_secret(path: &Path) -> Result<String, UsageError> {
    let s = read_text(path)?;
    let s = s.trim_end_matches(['\n', '\r']).to_string();
    if s.is_empty() {
        return Err(UsageError(format!("{}: empty", name(path))));
    }
    Ok(s)
}

/// The first line of stdin.
///
/// # Errors
/// Unreadable or empty.
pub fn read_stdin_line(what: &str) -> Result<String, UsageError> {
    let s = read_text(Path::new("-"))
        .map_err(|e| UsageError(format!("cannot read {what} from stdin: {e}")))?;
    let line = s.lines().next().unwrap_or_default().to_string();
    if line.is_empty() {
        return Err(UsageError(format!("no {what} on stdin")));
    }
    Ok(line)
}

/// A time as seconds since the epoch: RFC 3339 (`2026-12-01T08:00:00Z`), or a local
/// `YYYY-MM-DDTHH:MM[:SS]` / `YYYY-MM-DD` in this machine's time zone.
///
/// # Errors
/// Neither.
pub fn parse_time(text: &str) -> Result<i64, UsageError> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let civil = text
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| text.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())))
        .map_err(|_| {
            UsageError(format!(
                "`{text}` is not a time: use RFC 3339 (2026-12-01T08:00:00Z) or local YYYY-MM-DDTHH:MM"
            ))
        })?;
    civil
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .map(|z| z.timestamp().as_second())
        .map_err(|e| UsageError(format!("`{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("2026-12-01T08:00:00Z").unwrap(), 1_796_112_000);
        assert_eq!(
            parse_time("2026-12-01T09:00:00+01:00").unwrap(),
            1_796_112_000
        );
        assert!(parse_time("2026-12-01T08:00").is_ok());
        assert!(parse_time("2026-12-01").is_ok());
        assert!(parse_time("yesterday").is_err());
    }
}
