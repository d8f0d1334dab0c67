//! What an administrator reaches: a user scope (domains, optionally OU subtrees), a
//! computer scope (sites) and an access level per operation. Shared by the authorization
//! decision, the scoped read queries and the stored roles.
//!
//! OU subtrees are compared as parsed distinguished names (RFC 4514), never as text:
//! `ou=NotSales\,ou=Sales,dc=corp` is a sibling of `ou=Sales,dc=corp`, not inside it, and
//! `OU=East, OU=Sales,DC=corp` is inside it. [`canonical_dn`] writes a DN in one form in
//! which a `,` only ever separates RDNs, so a stored canonical key can be matched by
//! suffix in SQL too.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessLevel {
    /// Any object in scope.
    All,
    /// Only objects this administrator created.
    Own,
}

/// Which users an administrator reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserScope {
    Everything,
    /// (domain, optional OU subtree DN).
    Domains(Vec<(String, Option<String>)>),
}

/// Which sites (and so which clients and computers) an administrator reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputerScope {
    Everything,
    Sites(Vec<String>),
}

/// Characters escaped in a canonical DN value, as `\xx`.
const SPECIAL: &[char] = &[',', '+', '"', '\\', '<', '>', ';', '=', '#'];

/// A DN in canonical form: attribute types and values lower-cased, spaces around RDNs
/// and values trimmed, multi-valued RDNs sorted, and every special character of a value
/// hex-escaped. `None` when `dn` is not a DN.
#[must_use]
pub fn canonical_dn(dn: &str) -> Option<String> {
    let mut rdns: Vec<Vec<(String, String)>> = vec![Vec::new()];
    let mut chars = dn.chars().peekable();
    loop {
        // attribute type
        let mut typ = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            typ.push(c);
        }
        let typ = typ.trim().to_ascii_lowercase();
        if typ.is_empty()
            || !typ
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return None;
        }
        // value, up to an unescaped `,` or `+`
        let mut value: Vec<u8> = Vec::new();
        let mut trailing_spaces = 0usize;
        let mut end = None;
        while let Some(c) = chars.next() {
            match c {
                ',' | '+' => {
                    end = Some(c);
                    break;
                }
                '\\' => {
                    let next = chars.next()?;
                    if next.is_ascii_hexdigit() {
                        let low = chars.next().filter(char::is_ascii_hexdigit)?;
                        let byte = u8::from_str_radix(&format!("{next}{low}"), 16).ok()?;
                        value.push(byte);
                    } else if SPECIAL.contains(&next) || next == ' ' {
                        let mut buf = [0u8; 4];
                        value.extend_from_slice(next.encode_utf8(&mut buf).as_bytes());
                    } else {
                        return None;
                    }
                    trailing_spaces = 0;
                }
                // RFC 4514 requires these escaped; `=` it does not (`ou=a=b` is the
                // value `a=b`).
                '"' | '<' | '>' | ';' => return None,
                ' ' if value.is_empty() => {}
                c => {
                    let mut buf = [0u8; 4];
                    value.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    trailing_spaces = if c == ' ' { trailing_spaces + 1 } else { 0 };
                }
            }
        }
        value.truncate(value.len() - trailing_spaces);
        let value = String::from_utf8(value).ok()?.to_lowercase();
        if value.is_empty() {
            return None;
        }
        rdns.last_mut()?.push((typ, value));
        match end {
            Some(',') => rdns.push(Vec::new()),
            Some(_) => {}
            None => break,
        }
    }
    let mut out = String::new();
    for (i, rdn) in rdns.iter_mut().enumerate() {
        if i > 0 {
            out.push(',');
        }
        rdn.sort();
        for (j, (typ, value)) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            out.push_str(typ);
            out.push('=');
            let last = value.chars().count().saturating_sub(1);
            for (k, c) in value.chars().enumerate() {
                // Spaces at either end would be trimmed when read back.
                if SPECIAL.contains(&c) || (c == ' ' && (k == 0 || k == last)) {
                    let _ = write!(out, "\\{:02x}", u32::from(c));
                } else {
                    out.push(c);
                }
            }
        }
    }
    Some(out)
}

/// Whether the OU (or any DN) `inner` lies in the subtree of `outer`. A string that is
/// not a DN lies nowhere.
#[must_use]
pub fn ou_within(inner: &str, outer: &str) -> bool {
    match (canonical_dn(inner), canonical_dn(outer)) {
        (Some(i), Some(o)) => is_canonical_within(&i, &o),
        _ => false,
    }
}

/// [`ou_within`] for two DNs already in canonical form.
#[must_use]
pub fn is_canonical_within(inner: &str, outer: &str) -> bool {
    inner == outer
        || inner
            .strip_suffix(outer)
            .is_some_and(|head| head.ends_with(','))
}

/// Whether a user of `domain` at `ou_path` is inside `scope`.
#[must_use]
pub fn in_user_scope(scope: &UserScope, domain: &str, ou_path: Option<&str>) -> bool {
    match scope {
        UserScope::Everything => true,
        UserScope::Domains(list) => list.iter().any(|(d, ou)| {
            d.eq_ignore_ascii_case(domain)
                && ou
                    .as_deref()
                    .is_none_or(|ou| ou_path.is_some_and(|p| ou_within(p, ou)))
        }),
    }
}

/// The name an assignment matches for a group DN (`CN=VPN Users,OU=Groups,DC=corp` →
/// `vpn users`), or the lower-cased text when it is not a DN.
#[must_use]
pub fn group_key(group: &str) -> String {
    match canonical_dn(group) {
        Some(dn) => {
            let first = dn.split(',').next().unwrap_or_default();
            let value = first.split_once('=').map_or(first, |(_, v)| v);
            unescape(value)
        }
        None => group.trim().to_ascii_lowercase(),
    }
}

/// A canonical DN value's `\xx` escapes undone.
fn unescape(value: &str) -> String {
    let mut bytes = Vec::with_capacity(value.len());
    let mut rest = value.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\'
            && let Some(hex) = tail.get(..2)
            && let Some(byte) = std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            bytes.push(byte);
            rest = tail.get(2..).unwrap_or_default();
            continue;
        }
        bytes.push(b);
        rest = tail;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether `site` is inside `scope`.
#[must_use]
pub fn in_site_scope(scope: &ComputerScope, site: &str) -> bool {
    match scope {
        ComputerScope::Everything => true,
        ComputerScope::Sites(sites) => sites.iter().any(|s| s.eq_ignore_ascii_case(site)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ou_subtree_scope() {
        let scope = UserScope::Domains(vec![("CORP".into(), Some("ou=Sales,dc=corp".into()))]);
        assert!(in_user_scope(
            &scope,
            "corp",
            Some("ou=East,ou=Sales,dc=corp")
        ));
        assert!(in_user_scope(&scope, "CORP", Some("OU=Sales,DC=corp")));
        assert!(!in_user_scope(&scope, "CORP", Some("ou=NotSales,dc=corp")));
        assert!(!in_user_scope(&scope, "CORP", None));
        assert!(!in_user_scope(&scope, "local", Some("ou=Sales,dc=corp")));
    }

    #[test]
    fn dns_are_compared_parsed_not_as_text() {
        // An escaped comma is part of a value: this is a sibling, not a child.
        assert!(!ou_within(
            "ou=NotSales\\,ou=Sales,dc=corp",
            "ou=Sales,dc=corp"
        ));
        assert!(!ou_within(
            "ou=NotSales\\2Cou=Sales,dc=corp",
            "ou=Sales,dc=corp"
        ));
        // Spacing and case do not matter.
        assert!(ou_within("ou=East, ou=Sales, dc=corp", "OU=Sales,DC=Corp"));
        assert!(ou_within("OU = East ,OU=Sales,DC=corp", "ou=sales,dc=corp"));
        // Not a suffix at an RDN boundary.
        assert!(!ou_within("ou=XSales,dc=corp", "ou=Sales,dc=corp"));
        // Garbage is nowhere.
        assert!(!ou_within("not a dn", "ou=Sales,dc=corp"));
        assert_eq!(
            canonical_dn("CN=Smith\\, John+UID=js , OU=Sales,DC=corp").as_deref(),
            Some("cn=smith\\2c john+uid=js,ou=sales,dc=corp")
        );
        assert_eq!(canonical_dn("ou=a\\2c b").as_deref(), Some("ou=a\\2c b"));
        assert_eq!(
            canonical_dn("ou=NotSales\\,ou=Sales,dc=corp").as_deref(),
            Some("ou=notsales\\2cou\\3dsales,dc=corp")
        );
        assert_eq!(canonical_dn(""), None);
        assert_eq!(canonical_dn("ou="), None);
        assert_eq!(canonical_dn("ou=a,"), None);
    }

    proptest::proptest! {
        #[test]
        fn canonical_form_is_stable_and_total(s in "[a-zA-Z=,+\\\\ #\"0-9]{0,40}") {
            if let Some(c) = canonical_dn(&s) {
                proptest::prop_assert_eq!(canonical_dn(&c), Some(c.clone()));
                proptest::prop_assert!(ou_within(&s, &s));
            }
        }
    }
}
