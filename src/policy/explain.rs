//! An evaluation in words, step by step: what `policy explain` prints and `radius trace`
//! streams. Built from the same [`Evaluation`] the request path decides with.

use serde::Serialize;

use super::combine::{Check, Imposed, Verdict};
use super::evaluate::Evaluation;
use super::hours::HoursCheck;
use crate::model::duration;

/// One step of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub step: &'static str,
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Step {
    #[must_use]
    pub fn new(step: &'static str, result: impl Into<String>) -> Step {
        Step {
            step,
            result: result.into(),
            detail: None,
        }
    }

    #[must_use]
    pub fn with(mut self, detail: impl Into<String>) -> Step {
        self.detail = Some(detail.into());
        self
    }
}

fn when(t: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> String {
    t.to_zoned_datetime(zone.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

fn check_text(c: Check) -> &'static str {
    match c {
        Check::NotApplicable => "not applicable",
        Check::Pass => "pass",
        Check::Fail { enforced: true } => "fail",
        Check::Fail { enforced: false } => "fail (monitored: would deny)",
    }
}

fn imposed_by(i: Imposed, user: &str, computer: &str) -> String {
    match (i.by_user, i.by_computer) {
        (true, true) => format!("user policy {user} and computer policy {computer}"),
        (true, false) => format!("user policy {user}"),
        (false, true) => format!("computer policy {computer}"),
        (false, false) => "neither policy".into(),
    }
}

/// The policy steps of `eval` (the user and computer steps are the caller's, who knows
/// how they were found), in the documented order.
#[must_use]
pub fn steps(eval: &Evaluation<'_>, zone: &jiff::tz::TimeZone, now: jiff::Timestamp) -> Vec<Step> {
    let user = eval.user_policy.name.as_str();
    let computer = eval.computer_policy.name.as_str();
    let mut out = Vec::with_capacity(8);
    let via = eval.assignment.map_or_else(
        || "no assignment applies: the built-in default".to_string(),
        |a| {
            format!(
                "assigned to {} {} with priority {}",
                a.subject.kind(),
                a.subject.display(),
                a.priority
            )
        },
    );
    out.push(Step::new("user_policy", user).with(format!(
        "{via}; mode {}",
        eval.user_policy.policy.mode.as_str()
    )));
    out.push(Step::new("computer_policy", computer).with(format!(
        "mode {}",
        eval.computer_policy.policy.mode.as_str()
    )));
    let hours = match (&eval.computer_policy.policy.hours, eval.hours) {
        (Some(h), Some(check)) => {
            let state = match check {
                HoursCheck::Open { closes_at: Some(t) } => format!("open until {}", when(t, zone)),
                HoursCheck::Open { closes_at: None } => "open".into(),
                HoursCheck::Closed { opens_at: Some(t) } => {
                    format!("closed until {}", when(t, zone))
                }
                HoursCheck::Closed { opens_at: None } => "closed".into(),
            };
            let matched = h
                .matching_item(now, zone)
                .map_or_else(String::new, |i| format!("; matched `{i}`"));
            Step::new("hours", check_text(eval.constraints.hours)).with(format!(
                "`{h}` in {} at {}: {state}{matched}",
                zone.iana_name().unwrap_or("UTC"),
                when(now, zone)
            ))
        }
        _ => Step::new("hours", check_text(eval.constraints.hours)).with("no access hours"),
    };
    out.push(hours);
    out.push(
        Step::new("methods", check_text(eval.constraints.method)).with(format!(
            "allowed: {} (user policy {user}: {}; computer policy {computer}: {}){}",
            eval.effective.methods,
            eval.user_policy.policy.methods,
            eval.computer_policy.policy.methods,
            if matches!(eval.constraints.method, Check::Fail { .. }) {
                format!(
                    "; refused by {}",
                    imposed_by(eval.constraints.method_imposed, user, computer)
                )
            } else {
                String::new()
            }
        )),
    );
    out.push(
        Step::new("second_factor", check_text(eval.constraints.second_factor)).with(format!(
            "{}{}",
            eval.effective.second_factor.as_str(),
            if eval.constraints.second_factor == Check::NotApplicable {
                String::new()
            } else {
                format!(
                    "; required by {}",
                    imposed_by(eval.constraints.second_factor_imposed, user, computer)
                )
            }
        )),
    );
    let lockout = eval.effective.lockout();
    out.push(
        Step::new("lockout", if eval.locked { "locked" } else { "not locked" }).with(
            if lockout.is_on() {
                format!(
                    "{} failures within {} lock for {}",
                    lockout.threshold,
                    duration::format(u64::from(lockout.window_secs)),
                    if lockout.duration_secs == 0 {
                        "until unlocked".to_string()
                    } else {
                        duration::format(u64::from(lockout.duration_secs))
                    }
                )
            } else {
                "off".into()
            },
        ),
    );
    out.push(Step::new(
        "verdict",
        match eval.verdict {
            _ if eval.locked => "reject: locked".to_string(),
            Verdict::Allow => "accept if the credentials are right".to_string(),
            Verdict::Deny(r) => format!("reject: {}", r.code()),
            Verdict::WouldDeny(r) => format!(
                "accept if the credentials are right, audited would_deny: {}",
                r.code()
            ),
        },
    ));
    out
}
