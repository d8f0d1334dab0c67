//! Every policy, assignment and rule of the appliance, indexed for one request's
//! questions: which user policy, which computer policy for a new computer, which zone
//! a site's hours are in. Built from the store whenever policies or sites change, then
//! shared read-only by every request.

use std::collections::HashMap;

use jiff::tz::TimeZone;

use super::assign::{Assignment, Assignments, UserFacts};
use super::rules::{ComputerFacts, Rule, first_match};
use super::stored::{DEFAULT_POLICY, StoredComputerPolicy, StoredUserPolicy};
use crate::model::UserRecord;

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("the built-in {0} `default` is missing from the store")]
    NoDefault(&'static str),
}

#[derive(Debug)]
pub struct PolicySet {
    user: HashMap<i64, StoredUserPolicy>,
    default_user: StoredUserPolicy,
    assignments: Assignments,
    computer: HashMap<i64, StoredComputerPolicy>,
    default_computer: StoredComputerPolicy,
    rules: Vec<Rule>,
    /// By lower-cased site name.
    zones: HashMap<String, TimeZone>,
}

impl PolicySet {
    /// `rules` in their order; `sites` as (name, IANA zone) — a zone that no longer
    /// resolves counts as UTC.
    ///
    /// # Errors
    /// A built-in default policy is missing.
    pub fn new(
        user: Vec<StoredUserPolicy>,
        assignments: Vec<Assignment>,
        computer: Vec<StoredComputerPolicy>,
        rules: Vec<Rule>,
        sites: &[(String, String)],
    ) -> Result<Self, SetError> {
        let default_user = user
            .iter()
            .find(|p| p.builtin && p.name.eq_ignore_ascii_case(DEFAULT_POLICY))
            .cloned()
            .ok_or(SetError::NoDefault("user policy"))?;
        let default_computer = computer
            .iter()
            .find(|p| p.builtin && p.name.eq_ignore_ascii_case(DEFAULT_POLICY))
            .cloned()
            .ok_or(SetError::NoDefault("computer policy"))?;
        let zones = sites
            .iter()
            .map(|(name, tz)| {
                (
                    name.to_ascii_lowercase(),
                    TimeZone::get(tz).unwrap_or(TimeZone::UTC),
                )
            })
            .collect();
        Ok(PolicySet {
            user: user.into_iter().map(|p| (p.id, p)).collect(),
            default_user,
            assignments: Assignments::new(assignments),
            computer: computer.into_iter().map(|p| (p.id, p)).collect(),
            default_computer,
            rules,
            zones,
        })
    }

    /// The user policy for `user` and the assignment that chose it (`None`: the default
    /// applies).
    #[must_use]
    pub fn user_policy(&self, user: &UserRecord) -> (&StoredUserPolicy, Option<&Assignment>) {
        let facts = UserFacts {
            domain: &user.domain,
            name: &user.name,
            groups: &user.group_keys,
            ou_key: user.ou_key.as_deref(),
        };
        let chosen = self.assignments.resolve(facts);
        match chosen.and_then(|a| self.user.get(&a.policy)) {
            Some(p) => (p, chosen),
            None => (self.default_user_policy(), None),
        }
    }

    /// Every assignment that applies to `user`, the deciding one first.
    #[must_use]
    pub fn assignments_of(&self, user: &UserRecord) -> Vec<&Assignment> {
        self.assignments.matching(UserFacts {
            domain: &user.domain,
            name: &user.name,
            groups: &user.group_keys,
            ou_key: user.ou_key.as_deref(),
        })
    }

    #[must_use]
    pub fn default_user_policy(&self) -> &StoredUserPolicy {
        &self.default_user
    }

    /// A computer policy by id; a computer whose policy went away gets the default.
    #[must_use]
    pub fn computer_policy(&self, id: i64) -> &StoredComputerPolicy {
        self.computer.get(&id).unwrap_or(&self.default_computer)
    }

    #[must_use]
    pub fn user_policy_by_id(&self, id: i64) -> Option<&StoredUserPolicy> {
        self.user.get(&id)
    }

    #[must_use]
    pub fn default_computer_policy_id(&self) -> i64 {
        self.default_computer.id
    }

    /// The policy the rules give a computer, and the rule that gave it.
    #[must_use]
    pub fn rule_for(&self, computer: ComputerFacts<'_>) -> (i64, Option<&Rule>) {
        match first_match(&self.rules, computer) {
            Some(rule) => (rule.policy, Some(rule)),
            None => (self.default_computer.id, None),
        }
    }

    #[must_use]
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The site's time zone (UTC for a site that is not known).
    #[must_use]
    pub fn zone(&self, site: &str) -> &TimeZone {
        static UTC: TimeZone = TimeZone::UTC;
        if self.zones.is_empty() {
            return &UTC;
        }
        self.zones.get(&site.to_ascii_lowercase()).unwrap_or(&UTC)
    }
}
