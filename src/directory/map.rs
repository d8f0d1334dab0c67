//! Directory entries → directory users, by the connection's attribute map. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An entry as fetched: DN and attributes (names lower-cased, values as text).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawEntry {
    pub dn: String,
    pub attrs: BTreeMap<String, Vec<String>>,
}

impl RawEntry {
    fn first(&self, name: &str) -> Option<&str> {
        self.attrs
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    fn all(&self, name: &str) -> &[String] {
        self.attrs
            .get(&name.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// How the "disabled" flag is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledFlag {
    /// Active Directory: bit 0x2 (ACCOUNTDISABLE) of `userAccountControl`.
    UserAccountControl,
    /// 389-DS / FreeIPA style `nsAccountLock: TRUE`.
    NsAccountLock,
    /// Either of the two, whichever the entry carries.
    Auto,
    None,
}

/// The attribute of a group entry that lists its members, for directories searched for
/// groups (see [`crate::directory::spec::DirectorySpec::group_base_dn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MemberAttribute {
    /// `groupOfNames` and Active Directory `group`: member DNs.
    #[default]
    #[serde(rename = "member")]
    Member,
    /// `groupOfUniqueNames`: member DNs, each optionally followed by `#'…'B`.
    #[serde(rename = "uniqueMember")]
    UniqueMember,
    /// `posixGroup` (RFC 2307): member usernames, not DNs, so such groups cannot nest.
    #[serde(rename = "memberUid")]
    MemberUid,
}

impl MemberAttribute {
    /// The attribute name to request.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            MemberAttribute::Member => "member",
            MemberAttribute::UniqueMember => "uniqueMember",
            MemberAttribute::MemberUid => "memberUid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMap {
    pub username: String,
    pub email: String,
    pub display_name: String,
    /// Attribute listing group DNs on the user (`memberOf`).
    pub groups: String,
    pub disabled: DisabledFlag,
}

impl Default for AttributeMap {
    fn default() -> Self {
        Self {
            username: "uid".into(),
            email: "mail".into(),
            display_name: "displayName".into(),
            groups: "memberOf".into(),
            disabled: DisabledFlag::Auto,
        }
    }
}

impl AttributeMap {
    /// Attributes to request in the search.
    #[must_use]
    pub fn requested(&self) -> Vec<String> {
        let mut v = vec![
            self.username.clone(),
            self.email.clone(),
            self.display_name.clone(),
            self.groups.clone(),
            "cn".into(),
            "modifyTimestamp".into(),
        ];
        match self.disabled {
            DisabledFlag::UserAccountControl => v.push("userAccountControl".into()),
            DisabledFlag::NsAccountLock => v.push("nsAccountLock".into()),
            DisabledFlag::Auto => {
                v.push("userAccountControl".into());
                v.push("nsAccountLock".into());
            }
            DisabledFlag::None => {}
        }
        v
    }
}

/// A user as the directory describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    pub username: String,
    pub dn: String,
    /// The DN of the user's container (its OU path).
    pub ou_path: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub groups: Vec<String>,
    pub disabled: bool,
    pub modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("{dn}: no `{attribute}` attribute (the username attribute)")]
    NoUsername { dn: String, attribute: String },
}

/// The parent of a DN: everything after the first unescaped comma.
#[must_use]
pub fn parent_dn(dn: &str) -> String {
    let bytes = dn.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b',' => return dn[i + 1..].trim().to_string(),
            _ => i += 1,
        }
    }
    String::new()
}

/// Maps one entry.
///
/// # Errors
/// [`MapError::NoUsername`] when the entry has no username attribute.
pub fn map_entry(entry: &RawEntry, map: &AttributeMap) -> Result<DirectoryUser, MapError> {
    let username = entry
        .first(&map.username)
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| MapError::NoUsername {
            dn: entry.dn.clone(),
            attribute: map.username.clone(),
        })?;
    let uac_disabled = || {
        entry
            .first("userAccountControl")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .is_some_and(|v| v & 0x2 != 0)
    };
    let lock_disabled = || {
        entry
            .first("nsAccountLock")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    };
    let disabled = match map.disabled {
        DisabledFlag::UserAccountControl => uac_disabled(),
        DisabledFlag::NsAccountLock => lock_disabled(),
        DisabledFlag::Auto => uac_disabled() || lock_disabled(),
        DisabledFlag::None => false,
    };
    let mut groups: Vec<String> = entry.all(&map.groups).to_vec();
    groups.sort_by_key(|g| g.to_ascii_lowercase());
    Ok(DirectoryUser {
        username: username.to_string(),
        dn: entry.dn.clone(),
        ou_path: parent_dn(&entry.dn),
        email: entry.first(&map.email).map(str::to_string),
        display_name: entry
            .first(&map.display_name)
            .or_else(|| entry.first("cn"))
            .map(str::to_string),
        groups,
        disabled,
        modified: entry.first("modifyTimestamp").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, attrs: &[(&str, &str)]) -> RawEntry {
        let mut e = RawEntry {
            dn: dn.into(),
            ..RawEntry::default()
        };
        for (k, v) in attrs {
            e.attrs
                .entry(k.to_ascii_lowercase())
                .or_default()
                .push((*v).to_string());
        }
        e
    }

    #[test]
    fn maps_openldap_and_ad_entries() {
        let m = AttributeMap::default();
        let u = map_entry(
            &entry(
                "uid=a,ou=East,ou=Sales,dc=ex",
                &[
                    ("uid", "a"),
                    ("mail", "a@ex"),
                    ("cn", "A"),
                    ("memberOf", "cn=vpn,dc=ex"),
                    ("nsAccountLock", "TRUE"),
                ],
            ),
            &m,
        )
        .unwrap();
        assert_eq!(u.ou_path, "ou=East,ou=Sales,dc=ex");
        assert_eq!(u.display_name.as_deref(), Some("A"));
        assert!(u.disabled);
        let ad = AttributeMap {
            username: "sAMAccountName".into(),
            ..AttributeMap::default()
        };
        let u = map_entry(
            &entry(
                "CN=Bob\\, Jr,OU=Staff,DC=corp",
                &[("sAMAccountName", "bob"), ("userAccountControl", "514")],
            ),
            &ad,
        )
        .unwrap();
        assert_eq!(u.ou_path, "OU=Staff,DC=corp");
        assert!(u.disabled);
        let u = map_entry(
            &entry(
                "CN=C,DC=corp",
                &[("sAMAccountName", "c"), ("userAccountControl", "512")],
            ),
            &ad,
        )
        .unwrap();
        assert!(!u.disabled);
        assert!(map_entry(&entry("cn=x,dc=ex", &[("cn", "x")]), &m).is_err());
    }
}
