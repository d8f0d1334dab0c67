//! `policy explain` (the decision a request would get, step by step, written nowhere)
//! and `radius trace` (the steps of live requests, as they happen).

use std::time::Duration;

use serde_json::json;

use super::{AdminError, HandlerResult};
use crate::admin::command::{PolicyExplainArgs, TraceArgs, parse_user};
use crate::admin::context::Call;
use crate::policy::combine::Presented;
use crate::policy::evaluate::{Request, evaluate};
use crate::policy::explain::{Step, steps};
use crate::policy::identity::identify;
use crate::policy::{Method, Verdict};
use crate::radius::policies::computer_step;

/// A trace that is not given a duration.
const DEFAULT_TRACE: Duration = Duration::from_secs(60);
/// The longest trace: the command line waits for it in one request.
const MAX_TRACE: Duration = Duration::from_secs(600);

/// The instant `--at` names: seconds since the epoch, or the site's wall time.
fn instant(
    a: &PolicyExplainArgs,
    zone: &jiff::tz::TimeZone,
    now: i64,
) -> Result<jiff::Timestamp, AdminError> {
    if let Some(local) = &a.at_local {
        let civil: jiff::civil::DateTime = local
            .parse()
            .map_err(|_| AdminError::invalid(format!("at: `{local}` is not YYYY-MM-DDTHH:MM")))?;
        return civil
            .to_zoned_datetime(zone.clone())
            .map(|z| z.timestamp())
            .map_err(|e| AdminError::invalid(format!("at: `{local}`: {e}")));
    }
    jiff::Timestamp::from_second(a.at.unwrap_or(now))
        .map_err(|e| AdminError::invalid(format!("at: {e}")))
}

pub(super) fn explain(call: &Call<'_>, a: &PolicyExplainArgs) -> HandlerResult {
    let read = call.read();
    let (domain, name) = parse_user(&a.user);
    let user = read
        .user(&domain, &name)?
        .ok_or_else(|| AdminError::not_found(format!("user {domain}\\{name}")))?;
    let client = read
        .client(&a.client)?
        .ok_or_else(|| AdminError::not_found(format!("client {}", a.client)))?;
    let snapshot = read
        .policy_snapshot()
        .map_err(|e| AdminError::internal(format!("policies could not be read: {e}")))?;
    let set = &snapshot.set;
    let zone = set.zone(&client.site);
    let now = call.clock().now_unix();
    let at = instant(a, zone, now)?;
    let identity = identify(
        a.calling_station_id.as_deref().map(str::as_bytes),
        None,
        None,
    );
    let choice = read.policies().computer(
        set,
        identity.as_ref(),
        &client.site,
        &client.name,
        None,
        at.as_second(),
        false,
    )?;
    let lock = read.lock_state(user.id)?;
    let eval = evaluate(
        set,
        &Request {
            user: Some(&user),
            site: &client.site,
            computer_policy: choice.policy_id,
            presented: Presented {
                method: Method::Password,
                second_factor: false,
            },
            lock,
            now: at,
        },
    );
    let mut all = vec![
        Step::new("client", format!("{} at site {}", client.name, client.site)),
        Step::new("user", format!("{}\\{}", user.domain, user.name)).with(user.status.as_str()),
        computer_step(identity.as_ref(), &choice, set, false),
    ];
    all.extend(steps(&eval, zone, at));
    // What else applied to the user and lost, so a surprising choice can be understood.
    let losers: Vec<String> = set
        .assignments_of(&user)
        .into_iter()
        .skip(1)
        .map(|a| {
            let policy = set
                .user_policy_by_id(a.policy)
                .map_or("?", |p| p.name.as_str());
            format!(
                "{} {} with priority {} → {policy}",
                a.subject.kind(),
                a.subject.display(),
                a.priority
            )
        })
        .collect();
    if !losers.is_empty()
        && let Some(step) = all.iter_mut().find(|s| s.step == "user_policy")
    {
        let detail = step.detail.take().unwrap_or_default();
        step.detail = Some(format!("{detail}; also matched: {}", losers.join(", ")));
    }
    let reply: Vec<String> = eval
        .effective
        .reply(eval.constraints.session_cap())
        .into_iter()
        .map(|r| r.text)
        .collect();
    let decision = match eval.verdict {
        _ if eval.locked => json!({"outcome": "reject", "reason": "locked"}),
        Verdict::Deny(r) => json!({"outcome": "reject", "reason": r.code()}),
        Verdict::WouldDeny(r) => json!({"outcome": "would_deny", "reason": r.code()}),
        Verdict::Allow => json!({"outcome": "accept", "reason": "accepted"}),
    };
    Ok(json!({
        "explain": {
            "at": at.to_string(),
            "site": client.site,
            "zone": zone.iana_name().unwrap_or("UTC"),
            "steps": all,
            "methods": eval.effective.methods.to_string(),
            "second_factor": eval.effective.second_factor.as_str(),
            "lockout": {
                "threshold": eval.effective.lockout().threshold,
                "failures": lock.failures,
                "locked": eval.locked,
            },
            "decision": decision,
            "reply": if eval.locked || matches!(eval.verdict, Verdict::Deny(_)) { Vec::new() } else { reply },
        }
    }))
}

/// Streams the steps of live Access-Requests that match, within the caller's scope, as
/// progress lines; ends after the duration.
pub(super) async fn trace(call: &Call<'_>, a: &TraceArgs) -> HandlerResult {
    let duration = a
        .duration_secs
        .map_or(DEFAULT_TRACE, Duration::from_secs)
        .min(MAX_TRACE);
    let wanted_user = a.user.as_deref().map(parse_user);
    let mut listening = call.tracer().listen();
    let deadline = tokio::time::Instant::now() + duration;
    let (mut shown, mut missed) = (0u64, 0u64);
    loop {
        let next = tokio::time::timeout_at(deadline, listening.rx.recv()).await;
        let event = match next {
            Err(_) => break,
            Ok(Ok(event)) => event,
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(n))) => {
                missed += n;
                continue;
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => break,
        };
        if a.client
            .as_ref()
            .is_some_and(|c| !c.eq_ignore_ascii_case(&event.client))
        {
            continue;
        }
        if let Some((domain, name)) = &wanted_user {
            let named = event.user.as_ref().is_some_and(|(d, n, _)| {
                d.eq_ignore_ascii_case(domain) && n.eq_ignore_ascii_case(name)
            }) || event
                .user_name
                .eq_ignore_ascii_case(&a.user.clone().unwrap_or_default());
            if !named {
                continue;
            }
        }
        if !call.in_trace_scope(&event.site, event.user.as_ref()) {
            continue;
        }
        shown += 1;
        call.progress(json!({ "trace": &*event }));
    }
    Ok(json!({
        "trace_ended": { "seconds": duration.as_secs(), "requests": shown, "missed": missed },
    }))
}
