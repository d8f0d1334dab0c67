//! Names people read: administrators, roles, users. A name is stored in one form (Unicode
//! NFC), never with spaces around it, control characters or invisible format characters
//! (zero-width spaces, bidi overrides), and a new name must not be confusable with one
//! that exists: `Super Administrator ` next to `Super Administrator`, Cyrillic `аlice`
//! next to `alice`, `ÅSA` next to `åsa`. Confusability is decided on the Unicode TR39
//! skeleton of the lower-cased name, which [`key`] gives.

use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{kind} name: 1-{max} characters")]
    Length { kind: &'static str, max: usize },
    #[error("{kind} name `{name}`: no spaces before or after it")]
    Spaces { kind: &'static str, name: String },
    #[error("{kind} name: no control or invisible (format) characters")]
    Invisible { kind: &'static str },
    #[error("{kind} name `{name}`: `{ch}` is not allowed in it")]
    Reserved {
        kind: &'static str,
        name: String,
        ch: char,
    },
    #[error("{kind} name `{name}` is reserved")]
    ReservedName { kind: &'static str, name: String },
    #[error("{kind} name `{name}` looks like the existing `{existing}`")]
    Confusable {
        kind: &'static str,
        name: String,
        existing: String,
    },
}

/// `name` in NFC, checked: 1-`max` characters, no surrounding whitespace, no control or
/// format characters, none of `forbidden`.
///
/// # Errors
/// What is wrong with it.
pub fn normalise(
    kind: &'static str,
    name: &str,
    max: usize,
    forbidden: &[char],
) -> Result<String, NameError> {
    let nfc: String = name.nfc().collect();
    if nfc.is_empty() || nfc.chars().count() > max {
        return Err(NameError::Length { kind, max });
    }
    if nfc.trim() != nfc {
        return Err(NameError::Spaces {
            kind,
            name: nfc.trim().to_string(),
        });
    }
    if nfc.chars().any(|c| c.is_control() || is_invisible(c)) {
        return Err(NameError::Invisible { kind });
    }
    if let Some(ch) = nfc.chars().find(|c| forbidden.contains(c)) {
        return Err(NameError::Reserved {
            kind,
            name: nfc.clone(),
            ch,
        });
    }
    Ok(nfc)
}

/// Format characters (Unicode category Cf, such as U+200B ZERO WIDTH SPACE, U+202E
/// RIGHT-TO-LEFT OVERRIDE) and other default-ignorable code points: they print as
/// nothing.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// `name` in the one form names are stored in, for looking one up however it was typed.
#[must_use]
pub fn nfc(name: &str) -> String {
    name.nfc().collect()
}

/// What two names that look alike have in common: the TR39 confusable skeleton of the
/// lower-cased NFC form.
#[must_use]
pub fn key(name: &str) -> String {
    let lower: String = name.nfc().collect::<String>().to_lowercase();
    unicode_security::skeleton(&lower).collect()
}

/// [`key`] without accents and other combining marks: `Super Administratoŕ` and
/// `Super Administrator` read alike at a glance. Too strict to keep user names apart
/// (`éva` and `eva` are different people), right for the few names that carry rights.
fn loose_key(name: &str) -> String {
    key(name)
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// Refuses a role or administrator `name` when it looks like one of `existing` (other
/// than itself, exactly), accents aside.
///
/// # Errors
/// [`NameError::Confusable`] naming the existing look-alike.
pub fn check_not_confusable<'a>(
    kind: &'static str,
    name: &str,
    existing: impl IntoIterator<Item = &'a str>,
) -> Result<(), NameError> {
    let k = loose_key(name);
    for other in existing {
        if other != name && loose_key(other) == k {
            return Err(NameError::Confusable {
                kind,
                name: name.to_string(),
                existing: other.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_and_refused() {
        let n = |s: &str| normalise("role", s, 64, &[]);
        assert_eq!(n("Help Desk").unwrap(), "Help Desk");
        // NFD é becomes NFC é.
        assert_eq!(n("e\u{301}va").unwrap(), "\u{e9}va");
        assert!(matches!(
            n(" Super Administrator"),
            Err(NameError::Spaces { .. })
        ));
        assert!(matches!(
            n("Super Administrator "),
            Err(NameError::Spaces { .. })
        ));
        assert!(matches!(n("zw\u{200b}j"), Err(NameError::Invisible { .. })));
        assert!(matches!(n("a\u{202e}b"), Err(NameError::Invisible { .. })));
        assert!(matches!(n("a\nb"), Err(NameError::Invisible { .. })));
        assert!(matches!(n(""), Err(NameError::Length { .. })));
        assert!(matches!(
            normalise("administrator", "sync:CORP", 64, &[':']),
            Err(NameError::Reserved { ch: ':', .. })
        ));
    }

    #[test]
    fn look_alikes_are_confusable() {
        let existing = ["alice", "åsa", "Super Administrator"];
        for (name, like) in [
            ("\u{430}lice", "alice"),
            ("ALICE", "alice"),
            ("ÅSA", "åsa"),
            ("a\u{30a}sa", "åsa"),
            ("Super Administrat\u{43e}r", "Super Administrator"),
            ("Super Administrator\u{301}", "Super Administrator"),
        ] {
            match check_not_confusable("user", name, existing) {
                Err(NameError::Confusable { existing, .. }) => assert_eq!(existing, like, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(check_not_confusable("user", "bob", existing).is_ok());
        assert!(check_not_confusable("user", "alice", existing).is_ok());
    }
}
