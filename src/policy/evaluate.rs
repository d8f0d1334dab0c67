//! The policy half of one Access-Request's decision, in the documented order: user →
//! user policy → computer policy → combination → constraints (hours in the site's zone,
//! method, second factor) → lockout state. The RADIUS path, `policy explain` and `radius
//! trace` all call [`evaluate`], so what explain prints is what a request gets.

use super::assign::Assignment;
use super::combine::{Constraints, Effective, Presented, Verdict, combine, constrain};
use super::hours::HoursCheck;
use super::lockout::LockState;
use super::set::PolicySet;
use super::stored::{StoredComputerPolicy, StoredUserPolicy};
use crate::model::UserRecord;

/// What the policies look at of one request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The user the User-Name named, if any (nobody: the default user policy shows what
    /// would apply, and the credential check rejects).
    pub user: Option<&'a UserRecord>,
    /// The site of the RADIUS client (and so of the computer).
    pub site: &'a str,
    /// The computer's policy: the one stored with it, or the rules' choice.
    pub computer_policy: i64,
    pub presented: Presented,
    pub lock: LockState,
    pub now: jiff::Timestamp,
}

/// What the policies make of a request.
#[derive(Debug, Clone, Copy)]
pub struct Evaluation<'s> {
    pub user_policy: &'s StoredUserPolicy,
    /// The assignment that chose the user policy (`None`: the default).
    pub assignment: Option<&'s Assignment>,
    pub computer_policy: &'s StoredComputerPolicy,
    pub effective: Effective<'s>,
    /// `None`: the computer policy has no hours.
    pub hours: Option<HoursCheck>,
    pub constraints: Constraints,
    pub verdict: Verdict,
    /// Locked out by failed logins (an administrator's lock is the user's status).
    pub locked: bool,
}

#[must_use]
pub fn evaluate<'s>(set: &'s PolicySet, req: &Request<'_>) -> Evaluation<'s> {
    let (user_policy, assignment) = match req.user {
        Some(u) => set.user_policy(u),
        None => (set.default_user_policy(), None),
    };
    let computer_policy = set.computer_policy(req.computer_policy);
    let effective = combine(&user_policy.policy, &computer_policy.policy);
    let hours = computer_policy
        .policy
        .hours
        .as_ref()
        .map(|h| h.check(req.now, set.zone(req.site)));
    let constraints = constrain(&effective, req.presented, hours, req.now.as_second());
    Evaluation {
        user_policy,
        assignment,
        computer_policy,
        effective,
        hours,
        constraints,
        verdict: constraints.verdict(),
        locked: req.lock.locked_at(req.now.as_second()),
    }
}
