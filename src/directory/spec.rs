//! A directory connection as an administrator defines it. Pure: validation only.

use serde::{Deserialize, Serialize};

use super::map::{AttributeMap, MemberAttribute};
use super::schedule::Schedule;
use crate::model::scope::{canonical_dn, is_canonical_within};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectorySpec {
    /// Also the users' domain.
    pub name: String,
    /// Tried in order until one answers (domain controller failover).
    pub urls: Vec<String>,
    pub starttls: bool,
    /// Names of trusted certificates to verify the server against; empty = system roots.
    pub ca_certs: Vec<String>,
    pub bind_dn: String,
    pub base_dns: Vec<String>,
    pub user_filter: String,
    /// When not empty, only users inside one of these OU subtrees are kept.
    pub ous: Vec<String>,
    pub attributes: AttributeMap,
    /// RFC 2696 page size; 0 turns paging off.
    pub page_size: u32,
    pub connect_timeout_secs: u64,
    pub search_timeout_secs: u64,
    /// Incremental runs (by modifyTimestamp); `None` = manual only.
    pub schedule: Option<String>,
    /// Full runs, which also find deleted users.
    pub full_schedule: String,
    /// A run that would disable more than this share of the domain aborts unless forced.
    pub disable_threshold_percent: f64,
    /// Users missing from the directory are purged this long after they were disabled.
    pub retention_days: u32,
    /// Connections kept for pass-through password checks.
    pub bind_pool_size: u32,
    /// UPN suffixes (`corp.example`): a login as `name@corp.example` is this domain's
    /// user `name`.
    pub upn_suffixes: Vec<String>,
    /// `ldap://` without StartTLS was accepted knowingly: bind passwords and users'
    /// pass-through passwords cross the network in the clear.
    pub insecure_plaintext: bool,
    /// Where groups are searched for, for directories whose users carry no `memberOf`:
    /// a user's groups are then the groups under it that list the user, and every run,
    /// incremental ones included, reads all of them (a group lists its members on its
    /// own entry, which changes no user's modification time). `None`: the users' groups
    /// attribute (`memberOf`); Active Directory does not count a change of it as a
    /// modification of the user, so incremental runs miss it and full runs catch it.
    pub group_base_dn: Option<String>,
    /// Which entries under `group_base_dn` are groups.
    pub group_filter: String,
    /// The attribute of a group that lists its members.
    pub group_member_attribute: MemberAttribute,
    /// Users also get the groups their groups belong to, transitively, over the groups
    /// the run reads: those under `group_base_dn`, or (`memberOf`) those the users'
    /// groups name, read one by one. `memberUid` groups cannot nest: they list names.
    pub nested_groups: bool,
}

/// Every common group class; the member attribute decides which of them list anyone.
pub const DEFAULT_GROUP_FILTER: &str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))";

impl Default for DirectorySpec {
    fn default() -> Self {
        Self {
            name: String::new(),
            urls: Vec::new(),
            starttls: false,
            ca_certs: Vec::new(),
            bind_dn: String::new(),
            base_dns: Vec::new(),
            user_filter: "(objectClass=person)".into(),
            ous: Vec::new(),
            attributes: AttributeMap::default(),
            page_size: 500,
            connect_timeout_secs: 5,
            search_timeout_secs: 60,
            schedule: None,
            full_schedule: "daily 03:00".into(),
            disable_threshold_percent: 10.0,
            retention_days: 30,
            bind_pool_size: 8,
            upn_suffixes: Vec::new(),
            insecure_plaintext: false,
            group_base_dn: None,
            group_filter: DEFAULT_GROUP_FILTER.into(),
            group_member_attribute: MemberAttribute::default(),
            nested_groups: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct SpecError {
    pub field: &'static str,
    pub reason: String,
}

/// Whether `f` looks like an LDAP filter: parenthesised, with balanced parentheses. The
/// server parses it; this catches the forgotten outer parentheses before a run does.
fn is_filter(f: &str) -> bool {
    f.starts_with('(') && f.ends_with(')') && f.matches('(').count() == f.matches(')').count()
}

fn err(field: &'static str, reason: impl Into<String>) -> SpecError {
    SpecError {
        field,
        reason: reason.into(),
    }
}

impl DirectorySpec {
    /// # Errors
    /// The first field that is wrong, and why.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.name.is_empty()
            || self.name.len() > 64
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(err(
                "name",
                "1-64 letters, digits, `-`, `_` or `.` (it becomes the users' domain)",
            ));
        }
        if self.name.eq_ignore_ascii_case(crate::model::LOCAL_DOMAIN) {
            return Err(err(
                "name",
                "`local` is the domain of the appliance's own users",
            ));
        }
        if self.urls.is_empty() {
            return Err(err("url", "at least one --url is required"));
        }
        for u in &self.urls {
            let lower = u.to_ascii_lowercase();
            if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) {
                return Err(err(
                    "url",
                    format!("`{u}` must start with ldap:// or ldaps://"),
                ));
            }
            if self.starttls && lower.starts_with("ldaps://") {
                return Err(err(
                    "starttls",
                    format!("`{u}` is already TLS (ldaps://); StartTLS goes with ldap://"),
                ));
            }
        }
        if let Some(u) = self.plaintext_url()
            && !self.insecure_plaintext
        {
            return Err(err(
                "url",
                format!(
                    "`{u}` without StartTLS sends passwords in the clear: add --starttls, use ldaps://, or accept it with --insecure-plaintext"
                ),
            ));
        }
        if self.bind_dn.trim().is_empty() {
            return Err(err("bind_dn", "required"));
        }
        if self.base_dns.is_empty() || self.base_dns.iter().any(|b| b.trim().is_empty()) {
            return Err(err(
                "base_dn",
                "at least one non-empty --base-dn is required",
            ));
        }
        let f = self.user_filter.trim();
        if !is_filter(f) {
            return Err(err(
                "user_filter",
                format!("`{f}` is not an LDAP filter such as (objectClass=person)"),
            ));
        }
        if let Some(b) = &self.group_base_dn
            && canonical_dn(b).is_none()
        {
            return Err(err(
                "group_base_dn",
                format!("`{b}` is not a distinguished name such as ou=Groups,dc=corp"),
            ));
        }
        let f = self.group_filter.trim();
        if !is_filter(f) {
            return Err(err(
                "group_filter",
                format!("`{f}` is not an LDAP filter such as (objectClass=groupOfNames)"),
            ));
        }
        if let Some(ou) = self.ous.iter().find(|ou| canonical_dn(ou).is_none()) {
            return Err(err(
                "ou",
                format!("`{ou}` is not a distinguished name such as ou=Sales,dc=corp"),
            ));
        }
        if self.page_size > 10_000 {
            return Err(err(
                "page_size",
                "at most 10000 (Active Directory stops at 1000)",
            ));
        }
        if self.connect_timeout_secs == 0 || self.search_timeout_secs == 0 {
            return Err(err("timeout", "timeouts must be at least 1 second"));
        }
        if let Some(s) = &self.schedule {
            s.parse::<Schedule>()
                .map_err(|e| err("schedule", e.to_string()))?;
        }
        self.full_schedule
            .parse::<Schedule>()
            .map_err(|e| err("full_schedule", e.to_string()))?;
        if !(0.0..=100.0).contains(&self.disable_threshold_percent) {
            return Err(err("disable_threshold", "a percentage from 0 to 100"));
        }
        if self.bind_pool_size == 0 || self.bind_pool_size > 256 {
            return Err(err("bind_pool_size", "from 1 to 256"));
        }
        for suffix in &self.upn_suffixes {
            if !crate::model::user_ref::is_domain_syntax(suffix) || !suffix.contains('.') {
                return Err(err(
                    "upn_suffix",
                    format!("`{suffix}` is not a DNS suffix such as corp.example"),
                ));
            }
        }
        let attrs = &self.attributes;
        for (field, a) in [
            ("username_attribute", &attrs.username),
            ("email_attribute", &attrs.email),
        ] {
            if a.is_empty()
                || !a
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';')
            {
                return Err(err(field, format!("`{a}` is not an attribute name")));
            }
        }
        Ok(())
    }

    /// What an operator must know about this connection, shown by `directory show`,
    /// `directory status` and `status`: passwords reaching it in the clear.
    #[must_use]
    pub fn warnings(&self) -> Vec<&'static str> {
        self.plaintext_url()
            .map(|_| "passwords reach this directory in the clear (ldap:// without StartTLS)")
            .into_iter()
            .collect()
    }

    /// The first URL passwords would cross in the clear (`ldap://` without StartTLS):
    /// what `validate` refuses unless accepted and `warnings` reports when accepted.
    fn plaintext_url(&self) -> Option<&str> {
        if self.starttls {
            return None;
        }
        self.urls
            .iter()
            .find(|u| u.to_ascii_lowercase().starts_with("ldap://"))
            .map(String::as_str)
    }

    /// Whether `dn` lies inside the configured OUs (all DNs do when none are configured).
    /// For many DNs, [`ou_filter`](Self::ou_filter) reads the OUs once.
    #[must_use]
    pub fn includes(&self, dn: &str) -> bool {
        self.ou_filter().includes(dn)
    }

    /// The configured OUs, parsed once, to test many DNs against.
    #[must_use]
    pub fn ou_filter(&self) -> OuFilter {
        OuFilter {
            ous: (!self.ous.is_empty())
                .then(|| self.ous.iter().filter_map(|ou| canonical_dn(ou)).collect()),
        }
    }
}

/// The OU subtrees a directory keeps users from, compared as parsed DNs (see
/// [`crate::model::scope`]): spacing and case do not matter, and an escaped comma is
/// part of a value, never an RDN boundary.
#[derive(Debug, Clone)]
pub struct OuFilter {
    /// Canonical DNs; `None` when no OU is configured and every DN is kept.
    ous: Option<Vec<String>>,
}

impl OuFilter {
    /// Whether `dn` lies inside one of the OUs. A DN that does not parse lies nowhere.
    #[must_use]
    pub fn includes(&self, dn: &str) -> bool {
        let Some(ous) = &self.ous else {
            return true;
        };
        canonical_dn(dn).is_some_and(|dn| ous.iter().any(|ou| is_canonical_within(&dn, ou)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> DirectorySpec {
        DirectorySpec {
            name: "CORP".into(),
            urls: vec!["ldap://127.0.0.1:389".into()],
            starttls: true,
            bind_dn: "cn=sync,dc=ex".into(),
            base_dns: vec!["dc=ex".into()],
            ..DirectorySpec::default()
        }
    }

    #[test]
    fn plain_ldap_needs_to_be_accepted_knowingly() {
        let plain = DirectorySpec {
            starttls: false,
            ..good()
        };
        assert_eq!(plain.validate().unwrap_err().field, "url");
        assert_eq!(plain.warnings().len(), 1);
        let accepted = DirectorySpec {
            insecure_plaintext: true,
            ..plain
        };
        assert!(accepted.validate().is_ok());
        assert!(good().warnings().is_empty());
    }

    #[test]
    fn validation_names_the_field() {
        assert!(good().validate().is_ok());
        let e = DirectorySpec {
            schedule: Some("every 5 parsecs".into()),
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "schedule");
        let e = DirectorySpec {
            urls: vec!["http://x".into()],
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "url");
        let e = DirectorySpec {
            starttls: true,
            urls: vec!["ldaps://x".into()],
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "starttls");
        let e = DirectorySpec {
            user_filter: "objectClass=person".into(),
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "user_filter");
        let e = DirectorySpec {
            name: "local".into(),
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "name");
    }

    #[test]
    fn group_search_settings_are_checked_by_name() {
        let with_groups = DirectorySpec {
            group_base_dn: Some("ou=Groups, dc=ex".into()),
            group_member_attribute: MemberAttribute::MemberUid,
            nested_groups: true,
            ..good()
        };
        assert!(with_groups.validate().is_ok());
        let e = DirectorySpec {
            group_base_dn: Some("Groups".into()),
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "group_base_dn");
        assert!(e.to_string().contains("`Groups`"), "{e}");
        let e = DirectorySpec {
            group_filter: "objectClass=group".into(),
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "group_filter");
        assert!(good().group_filter.contains("(objectClass=posixGroup)"));
    }

    /// Specs stored before groups could be searched read back with group search off.
    #[test]
    fn a_spec_stored_without_group_settings_reads_back_with_defaults() {
        let mut v = serde_json::to_value(good()).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in [
            "group_base_dn",
            "group_filter",
            "group_member_attribute",
            "nested_groups",
        ] {
            assert!(o.remove(k).is_some(), "{k}");
        }
        let back: DirectorySpec = serde_json::from_value(v).unwrap();
        assert_eq!(back, good());
        let with = DirectorySpec {
            group_member_attribute: MemberAttribute::UniqueMember,
            ..good()
        };
        let json = serde_json::to_value(&with).unwrap();
        assert_eq!(json["group_member_attribute"], "uniqueMember");
        assert_eq!(serde_json::from_value::<DirectorySpec>(json).unwrap(), with);
    }

    #[test]
    fn ou_inclusion_is_a_subtree_match() {
        let s = DirectorySpec {
            ous: vec!["ou=Sales,dc=ex".into()],
            ..good()
        };
        assert!(s.includes("uid=a,ou=East,OU=Sales,dc=ex"));
        assert!(!s.includes("uid=a,ou=NotSales,dc=ex"));
        assert!(good().includes("anything"));
    }

    /// DNs are compared parsed, as scopes compare them: an OU configured with spaces
    /// after its commas still holds the users the directory returns without them, and an
    /// escaped comma does not make a sibling OU a child.
    #[test]
    fn ou_inclusion_compares_parsed_dns() {
        let s = DirectorySpec {
            ous: vec!["ou=Sales, dc=corp".into()],
            ..good()
        };
        assert!(s.includes("uid=a,ou=Sales,dc=corp"));
        assert!(s.includes("UID=a , OU=sales,DC=Corp"));
        assert!(!s.includes("uid=a,ou=NotSales\\,ou=Sales,dc=corp"));
        assert!(!s.includes("not a dn"));
        let filter = s.ou_filter();
        assert!(filter.includes("uid=b,ou=East,ou=Sales,dc=corp"));
        assert!(!filter.includes("uid=b,ou=Marketing,dc=corp"));
        // An OU that is not a DN would keep nobody: refused by name.
        let e = DirectorySpec {
            ous: vec!["Sales".into()],
            ..good()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "ou");
    }
}
