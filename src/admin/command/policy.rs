//! Arguments of the policy, rule, computer and trace commands (product §11b).

use serde::{Deserialize, Serialize};

use super::ParseError;
use crate::model::scope::canonical_dn;
use crate::model::{UserRef, names};
use crate::policy::assign::Subject;

/// `user-policy create|edit`. Unset fields keep the defaults (create) or the current
/// values (edit).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct UserPolicyArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<String>,
    /// `off`, `one-pass` or `two-step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_threshold: Option<u32>,
    /// Durations as `15m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout_duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tempcode_max_ttl: Option<String>,
    /// `ATTR=VALUE` by dictionary name; replaces the policy's reply attributes (an empty
    /// list clears them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Vec<String>>,
    /// Shorthand for the three VLAN attributes (tag 0); 0 removes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    /// `enforce` or `monitor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `computer-policy create|edit`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ComputerPolicyArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<String>,
    /// `required` or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_factor: Option<String>,
    /// `Mon-Fri 07:00-19:00,Sat 08:00-12:00`; `any` removes the restriction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vlan: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// `user-policy assign|unassign NAME (--user U | --group D\G | --ou D:OU | --domain D)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AssignArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ou: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Lower wins; default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

/// The priority of an assignment made without `--priority`.
pub const DEFAULT_PRIORITY: i64 = 100;

impl AssignArgs {
    /// What the assignment names, checked: exactly one of the four.
    ///
    /// # Errors
    /// None or several given, or one that does not parse.
    pub fn subject(&self) -> Result<Subject, ParseError> {
        let given = [&self.user, &self.group, &self.ou, &self.domain]
            .iter()
            .filter(|x| x.is_some())
            .count();
        if given != 1 {
            return Err(ParseError(
                "name exactly one of --user USER, --group DOMAIN\\GROUP, --ou DOMAIN:OU_DN, --domain DOMAIN"
                    .into(),
            ));
        }
        if let Some(user) = &self.user {
            let r = UserRef::parse(user).map_err(|e| ParseError(format!("user `{user}`: {e}")))?;
            return Ok(Subject::User {
                domain: r.domain_or_local().to_string(),
                name: names::nfc(r.name()),
            });
        }
        if let Some(group) = &self.group {
            let (domain, name) = group
                .split_once('\\')
                .filter(|(d, g)| !d.trim().is_empty() && !g.trim().is_empty())
                .ok_or_else(|| ParseError(format!("group `{group}`: write DOMAIN\\GROUP")))?;
            return Ok(Subject::Group {
                domain: domain.trim().to_string(),
                group: crate::model::scope::group_key(name),
            });
        }
        if let Some(ou) = &self.ou {
            let (domain, dn) = ou
                .split_once(':')
                .ok_or_else(|| ParseError(format!("ou `{ou}`: write DOMAIN:OU_DN")))?;
            let key = canonical_dn(dn)
                .ok_or_else(|| ParseError(format!("ou `{ou}`: `{dn}` is not a DN")))?;
            return Ok(Subject::Ou {
                domain: domain.trim().to_string(),
                ou: key,
            });
        }
        let domain = self.domain.clone().unwrap_or_default();
        if domain.trim().is_empty() {
            return Err(ParseError("domain: empty".into()));
        }
        Ok(Subject::Domain {
            domain: domain.trim().to_string(),
        })
    }
}

/// `computer-rule add|edit NAME`: conditions and the policy they give.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// 1-based; add appends without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleMoveArgs {
    pub name: String,
    pub position: i64,
}

/// `computer-rule run (--all | --computer ID…) [--dry-run] [--override-manual]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleRunArgs {
    #[serde(default)]
    pub all: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub computers: Vec<String>,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub override_manual: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct ComputerListArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

/// A computer by id (`42`) or identity (`00-10-A4-23-19-C0`, any MAC spelling).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComputerArg {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComputerEditArgs {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `computer assign-policy ID (POLICY | --rules)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComputerAssignArgs {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default)]
    pub rules: bool,
}

/// `policy explain --user U --client C [--calling-station-id M] [--at TIME]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyExplainArgs {
    pub user: String,
    pub client: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calling_station_id: Option<String>,
    /// Seconds since the epoch (the CLI turns RFC 3339 or site-local time into it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// `--at` was given as site-local wall time `YYYY-MM-DDTHH:MM`, to be read in the
    /// client's site's zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_local: Option<String>,
}

/// `radius trace [--client C] [--user U] [--duration DUR]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct TraceArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Seconds; default 60, at most 3600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assign(f: impl FnOnce(&mut AssignArgs)) -> Result<Subject, ParseError> {
        let mut a = AssignArgs {
            name: "p".into(),
            ..AssignArgs::default()
        };
        f(&mut a);
        a.subject()
    }

    #[test]
    fn an_assignment_names_exactly_one_subject() {
        assert!(assign(|_| {}).is_err());
        assert!(
            assign(|a| {
                a.user = Some("alice".into());
                a.domain = Some("CORP".into());
            })
            .is_err()
        );
        assert_eq!(
            assign(|a| a.user = Some("CORP\\alice".into())).unwrap(),
            Subject::User {
                domain: "CORP".into(),
                name: "alice".into()
            }
        );
        assert_eq!(
            assign(|a| a.group = Some("CORP\\VPN Users".into())).unwrap(),
            Subject::Group {
                domain: "CORP".into(),
                group: "vpn users".into()
            }
        );
        assert_eq!(
            assign(|a| a.ou = Some("CORP:OU=Sales, DC=corp".into())).unwrap(),
            Subject::Ou {
                domain: "CORP".into(),
                ou: "ou=sales,dc=corp".into()
            }
        );
        assert!(assign(|a| a.group = Some("vpn".into())).is_err());
        assert!(assign(|a| a.ou = Some("CORP:not a dn".into())).is_err());
    }
}
