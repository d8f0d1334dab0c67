//! User policies, computer policies and user-policy assignments (product §6, §11b).

use serde_json::{Value, json};

use super::{AdminError, HandlerResult, check_name};
use crate::admin::command::policy::DEFAULT_PRIORITY;
use crate::admin::command::{AssignArgs, ComputerPolicyArgs, PolicyKind, UserPolicyArgs};
use crate::admin::context::Call;
use crate::model::duration;
use crate::policy::reply::{AttrKey, ReplyAttr};
use crate::policy::stored::{Hits, Stored, StoredAssignment};
use crate::policy::{ComputerPolicy, Methods, Mode, SecondFactor, UserPolicy};
use crate::store::WriteOp;
use crate::store::policy::PolicyOp;

/// The three VLAN attributes' keys (RFC 3580 §3.31): what `--vlan` replaces.
const VLAN_KEYS: [AttrKey; 3] = [
    AttrKey { vendor: 0, typ: 64 },
    AttrKey { vendor: 0, typ: 65 },
    AttrKey { vendor: 0, typ: 81 },
];

fn hits_view(h: Hits) -> Value {
    json!({"hits": h.hits, "would_deny": h.would_deny, "last_hit": h.last_hit})
}

fn reply_view(reply: &[ReplyAttr]) -> Vec<&str> {
    reply.iter().map(|a| a.text.as_str()).collect()
}

fn user_view(p: &Stored<UserPolicy>) -> Value {
    let u = &p.policy;
    json!({
        "name": p.name,
        "builtin": p.builtin,
        "methods": u.methods.to_string(),
        "second_factor": u.second_factor.as_str(),
        "lockout_threshold": u.lockout.threshold,
        "lockout_window": duration::format(u64::from(u.lockout.window_secs)),
        "lockout_duration": duration::format(u64::from(u.lockout.duration_secs)),
        "tempcode_max_ttl": duration::format(u64::from(u.tempcode_max_ttl_secs)),
        "reply": reply_view(&u.reply),
        "mode": u.mode.as_str(),
        "created_by": p.created_by,
        "counters": hits_view(p.hits),
    })
}

fn computer_view(p: &Stored<ComputerPolicy>) -> Value {
    let c = &p.policy;
    json!({
        "name": p.name,
        "builtin": p.builtin,
        "methods": c.methods.to_string(),
        "second_factor": if c.second_factor_required { "required" } else { "off" },
        "hours": c.hours.as_ref().map(ToString::to_string),
        "reply": reply_view(&c.reply),
        "mode": c.mode.as_str(),
        "created_by": p.created_by,
        "counters": hits_view(p.hits),
    })
}

fn assignment_view(a: &StoredAssignment) -> Value {
    json!({
        "policy": a.policy,
        "kind": a.subject.kind(),
        "subject": a.subject.display(),
        "priority": a.priority,
        "created_by": a.created_by,
    })
}

fn seconds(field: &str, text: &str, allow_zero: bool) -> Result<u32, AdminError> {
    let secs = duration::parse(text)
        .map_err(|e| AdminError::invalid(format!("{field}: `{text}`: {e}")))?;
    if secs == 0 && !allow_zero {
        return Err(AdminError::invalid(format!(
            "{field}: must be longer than 0s"
        )));
    }
    u32::try_from(secs).map_err(|_| AdminError::invalid(format!("{field}: `{text}`: too long")))
}

fn methods(text: &str) -> Result<Methods, AdminError> {
    let m: Methods = text
        .parse()
        .map_err(|e| AdminError::invalid(format!("methods: {e}")))?;
    if m.is_empty() {
        return Err(AdminError::invalid("methods: name at least one method"));
    }
    Ok(m)
}

fn mode(text: &str) -> Result<Mode, AdminError> {
    Mode::parse(text)
        .ok_or_else(|| AdminError::invalid(format!("mode: `{text}`: use enforce or monitor")))
}

/// `current` with `--reply` (replacing every attribute but the VLAN's) and `--vlan`
/// (replacing the VLAN's; 0 removes them) applied, each checked against the dictionary.
fn reply(
    call: &Call<'_>,
    current: &[ReplyAttr],
    given: Option<&[String]>,
    vlan: Option<u16>,
) -> Result<Vec<ReplyAttr>, AdminError> {
    let dictionary = call.dictionary();
    let is_vlan = |a: &ReplyAttr| VLAN_KEYS.contains(&a.key());
    let mut out: Vec<ReplyAttr> = match given {
        Some(list) => {
            let mut attrs: Vec<ReplyAttr> =
                current.iter().filter(|a| is_vlan(a)).cloned().collect();
            for text in list {
                let encoded = dictionary
                    .encode(text)
                    .map_err(|e| AdminError::invalid(format!("reply `{text}`: {e}")))?;
                attrs.push(ReplyAttr {
                    text: dictionary.describe(encoded.typ, &encoded.value),
                    typ: encoded.typ,
                    value: encoded.value,
                });
            }
            attrs
        }
        None => current.to_vec(),
    };
    if let Some(id) = vlan {
        out.retain(|a| !is_vlan(a));
        if id != 0 {
            let triple = crate::radius::proto::reply::vlan(id)
                .map_err(|e| AdminError::invalid(format!("vlan: {e}")))?;
            for encoded in triple {
                out.push(ReplyAttr {
                    text: dictionary.describe(encoded.typ, &encoded.value),
                    typ: encoded.typ,
                    value: encoded.value,
                });
            }
        }
    }
    if out.len() > 64 {
        return Err(AdminError::invalid("reply: at most 64 attributes"));
    }
    Ok(out)
}

fn user_policy_from(
    call: &Call<'_>,
    mut p: UserPolicy,
    a: &UserPolicyArgs,
) -> Result<UserPolicy, AdminError> {
    if let Some(m) = &a.methods {
        p.methods = methods(m)?;
    }
    if let Some(sf) = &a.second_factor {
        p.second_factor = SecondFactor::parse(sf).ok_or_else(|| {
            AdminError::invalid(format!(
                "second_factor: `{sf}`: use off, one-pass or two-step"
            ))
        })?;
    }
    if let Some(t) = a.lockout_threshold {
        p.lockout.threshold = t;
    }
    if let Some(w) = &a.lockout_window {
        p.lockout.window_secs = seconds("lockout_window", w, false)?;
    }
    if let Some(d) = &a.lockout_duration {
        p.lockout.duration_secs = seconds("lockout_duration", d, true)?;
    }
    if let Some(t) = &a.tempcode_max_ttl {
        p.tempcode_max_ttl_secs = seconds("tempcode_max_ttl", t, false)?;
    }
    p.reply = reply(call, &p.reply, a.reply.as_deref(), a.vlan)?;
    if let Some(m) = &a.mode {
        p.mode = mode(m)?;
    }
    Ok(p)
}

fn computer_policy_from(
    call: &Call<'_>,
    mut p: ComputerPolicy,
    a: &ComputerPolicyArgs,
) -> Result<ComputerPolicy, AdminError> {
    if let Some(m) = &a.methods {
        p.methods = methods(m)?;
    }
    if let Some(sf) = &a.second_factor {
        p.second_factor_required = match sf.trim().to_ascii_lowercase().as_str() {
            "required" => true,
            "off" => false,
            _ => {
                return Err(AdminError::invalid(format!(
                    "second_factor: `{sf}`: use required or off"
                )));
            }
        };
    }
    if let Some(h) = &a.hours {
        p.hours = if h.trim().eq_ignore_ascii_case("any") {
            None
        } else {
            Some(
                h.parse()
                    .map_err(|e| AdminError::invalid(format!("hours: {e}")))?,
            )
        };
    }
    p.reply = reply(call, &p.reply, a.reply.as_deref(), a.vlan)?;
    if let Some(m) = &a.mode {
        p.mode = mode(m)?;
    }
    Ok(p)
}

fn def_json<T: serde::Serialize>(p: &T) -> Result<String, AdminError> {
    serde_json::to_string(p).map_err(|e| AdminError::internal(e.to_string()))
}

pub(super) async fn save_user(call: &Call<'_>, a: UserPolicyArgs, create: bool) -> HandlerResult {
    check_name("user policy", &a.name)?;
    let base = if create {
        UserPolicy::default()
    } else {
        call.read()
            .user_policy(&a.name)?
            .ok_or_else(|| AdminError::not_found(format!("user policy {}", a.name)))?
            .policy
    };
    let policy = user_policy_from(call, base, &a)?;
    call.commit(vec![WriteOp::Policy(PolicyOp::PutPolicy {
        kind: PolicyKind::User,
        name: a.name.clone(),
        def: def_json(&policy)?,
        created_by: call.actor_name().to_string(),
        create,
    })])
    .await?;
    show_user(call, &a.name)
}

pub(super) async fn save_computer(
    call: &Call<'_>,
    a: ComputerPolicyArgs,
    create: bool,
) -> HandlerResult {
    check_name("computer policy", &a.name)?;
    let base = if create {
        ComputerPolicy::default()
    } else {
        call.read()
            .computer_policy(&a.name)?
            .ok_or_else(|| AdminError::not_found(format!("computer policy {}", a.name)))?
            .policy
    };
    let policy = computer_policy_from(call, base, &a)?;
    call.commit(vec![WriteOp::Policy(PolicyOp::PutPolicy {
        kind: PolicyKind::Computer,
        name: a.name.clone(),
        def: def_json(&policy)?,
        created_by: call.actor_name().to_string(),
        create,
    })])
    .await?;
    show_computer(call, &a.name)
}

pub(super) fn list_user(call: &Call<'_>) -> HandlerResult {
    let read = call.read();
    let assignments = read.assignments()?;
    let policies: Vec<Value> = read
        .user_policies()?
        .iter()
        .map(|p| {
            let mut v = user_view(p);
            v["assignments"] = json!(assignments.iter().filter(|a| a.policy_id == p.id).count());
            v
        })
        .collect();
    Ok(json!({ "user_policies": policies }))
}

pub(super) fn show_user(call: &Call<'_>, name: &str) -> HandlerResult {
    let read = call.read();
    let p = read
        .user_policy(name)?
        .ok_or_else(|| AdminError::not_found(format!("user policy {name}")))?;
    let mut v = user_view(&p);
    v["assignments"] = json!(
        read.assignments()?
            .iter()
            .filter(|a| a.policy_id == p.id)
            .map(assignment_view)
            .collect::<Vec<_>>()
    );
    Ok(json!({ "user_policy": v }))
}

pub(super) fn list_computer(call: &Call<'_>) -> HandlerResult {
    let policies: Vec<Value> = call
        .read()
        .computer_policies()?
        .iter()
        .map(computer_view)
        .collect();
    Ok(json!({ "computer_policies": policies }))
}

pub(super) fn show_computer(call: &Call<'_>, name: &str) -> HandlerResult {
    let p = call
        .read()
        .computer_policy(name)?
        .ok_or_else(|| AdminError::not_found(format!("computer policy {name}")))?;
    Ok(json!({ "computer_policy": computer_view(&p) }))
}

pub(super) async fn delete(call: &Call<'_>, kind: PolicyKind, name: &str) -> HandlerResult {
    call.commit(vec![WriteOp::Policy(PolicyOp::DeletePolicy {
        kind,
        name: name.to_string(),
    })])
    .await?;
    Ok(json!({ "deleted": name, "kind": kind.audit_kind() }))
}

pub(super) async fn assign(call: &Call<'_>, a: AssignArgs, on: bool) -> HandlerResult {
    let subject = a.subject().map_err(|e| AdminError::invalid(e.0))?;
    let op = if on {
        PolicyOp::Assign {
            policy: a.name.clone(),
            subject: subject.clone(),
            priority: a.priority.unwrap_or(DEFAULT_PRIORITY),
            created_by: call.actor_name().to_string(),
        }
    } else {
        PolicyOp::Unassign {
            policy: a.name.clone(),
            subject: subject.clone(),
        }
    };
    call.commit(vec![WriteOp::Policy(op)]).await?;
    Ok(json!({
        "policy": a.name,
        "kind": subject.kind(),
        "subject": subject.display(),
        "assigned": on,
        "priority": on.then_some(a.priority.unwrap_or(DEFAULT_PRIORITY)),
    }))
}
