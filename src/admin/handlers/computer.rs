//! Computers and the rules that give them their policy (product §6, §11b).

use serde_json::{Value, json};

use super::{AdminError, HandlerResult, check_name};
use crate::admin::command::{
    ComputerAssignArgs, ComputerEditArgs, ComputerListArgs, RuleArgs, RuleMoveArgs, RuleRunArgs,
};
use crate::admin::context::Call;
use crate::model::IpNet;
use crate::policy::rules::{ComputerFacts, Rule, first_match};
use crate::policy::stored::{ComputerRecord, DEFAULT_POLICY, StoredRule};
use crate::store::WriteOp;
use crate::store::policy::{PolicyOp, Reassignment};
use crate::store::scoped::ComputerFilter;

/// Most computers one list returns; `--offset` pages through the rest.
const MAX_LIST: u32 = 10_000;
const DEFAULT_LIST: u32 = 1_000;
/// Most computers one rule run looks at: a bigger run is refused, not cut.
const MAX_RUN: u32 = 250_000;

fn view(c: &ComputerRecord) -> Value {
    json!({
        "id": c.id,
        "identity": c.identity,
        "kind": c.kind.as_str(),
        "randomized": c.randomized,
        "site": c.site,
        "policy": c.policy,
        "pinned": c.pinned,
        "rule": c.rule,
        "client": c.client,
        "address": c.address,
        "description": c.description,
        "first_seen": c.first_seen,
        "last_seen": c.last_seen,
    })
}

fn rule_view(r: &StoredRule) -> Value {
    json!({
        "position": r.position,
        "name": r.rule.name,
        "policy": r.policy,
        "site": r.rule.site,
        "identity": r.rule.identity,
        "address": r.rule.address.map(|a| a.to_string()),
        "client": r.rule.client,
        "created_by": r.created_by,
        "counters": {"hits": r.hits.hits, "last_hit": r.hits.last_hit},
    })
}

fn found(call: &Call<'_>, id: &str) -> Result<ComputerRecord, AdminError> {
    call.read()
        .computer(id)?
        .ok_or_else(|| AdminError::not_found(format!("computer {id}")))
}

pub(super) fn list(call: &Call<'_>, a: &ComputerListArgs) -> HandlerResult {
    let limit = a.limit.unwrap_or(DEFAULT_LIST).clamp(1, MAX_LIST);
    let offset = a.offset.unwrap_or(0);
    let (computers, total) = call.read().computers(&ComputerFilter {
        site: a.site.as_deref(),
        policy: a.policy.as_deref(),
        ids: None,
        limit,
        offset,
    })?;
    let shown = computers.len() as u64;
    Ok(json!({
        "computers": computers.iter().map(view).collect::<Vec<_>>(),
        "total": total,
        "offset": offset,
        "more": u64::from(offset) + shown < total,
    }))
}

pub(super) fn show(call: &Call<'_>, id: &str) -> HandlerResult {
    Ok(json!({ "computer": view(&found(call, id)?) }))
}

pub(super) async fn edit(call: &Call<'_>, a: ComputerEditArgs) -> HandlerResult {
    let c = found(call, &a.id)?;
    if let Some(d) = &a.description
        && (d.chars().count() > 256 || d.chars().any(char::is_control))
    {
        return Err(AdminError::invalid(
            "description: at most 256 characters, no control characters",
        ));
    }
    call.commit(vec![WriteOp::Policy(PolicyOp::EditComputer {
        id: c.id,
        site: a.site.clone(),
        description: a.description.clone(),
    })])
    .await?;
    show(call, &c.id.to_string())
}

pub(super) async fn assign_policy(call: &Call<'_>, a: ComputerAssignArgs) -> HandlerResult {
    let c = found(call, &a.id)?;
    let read = call.read();
    let op = match (&a.policy, a.rules) {
        (Some(name), false) => {
            let policy = read
                .computer_policy(name)?
                .ok_or_else(|| AdminError::invalid(format!("no computer policy named {name}")))?;
            PolicyOp::AssignComputer {
                id: c.id,
                policy_id: policy.id,
                rule_id: None,
                pinned: true,
            }
        }
        (None, true) => {
            let rules = read.rule_order()?;
            let (policy_id, rule_id) = rules_choice(call, &rules, &c)?;
            PolicyOp::AssignComputer {
                id: c.id,
                policy_id,
                rule_id,
                pinned: false,
            }
        }
        _ => {
            return Err(AdminError::invalid(
                "name a computer policy, or --rules to hand the computer back to the rules",
            ));
        }
    };
    call.commit(vec![WriteOp::Policy(op)]).await?;
    show(call, &c.id.to_string())
}

pub(super) async fn delete(call: &Call<'_>, id: &str) -> HandlerResult {
    let c = found(call, id)?;
    call.commit(vec![WriteOp::Policy(PolicyOp::DeleteComputer { id: c.id })])
        .await?;
    Ok(json!({ "deleted": c.id, "identity": c.identity }))
}

/// What the rules give `c`: the first matching rule's policy, else the default.
fn rules_choice(
    call: &Call<'_>,
    rules: &[StoredRule],
    c: &ComputerRecord,
) -> Result<(i64, Option<i64>), AdminError> {
    let order: Vec<Rule> = rules.iter().map(|r| r.rule.clone()).collect();
    let address = c
        .address
        .as_deref()
        .and_then(|a| a.parse().ok())
        .or_else(|| {
            c.identity
                .trim_start_matches("nas:")
                .parse::<std::net::IpAddr>()
                .ok()
        });
    let facts = ComputerFacts {
        site: &c.site,
        identity: &c.identity,
        address,
        client: c.client.as_deref().unwrap_or_default(),
    };
    match first_match(&order, facts) {
        Some(rule) => Ok((rule.policy, Some(rule.id))),
        None => {
            let default = call
                .read()
                .computer_policy(DEFAULT_POLICY)?
                .ok_or_else(|| AdminError::internal("the default computer policy is missing"))?;
            Ok((default.id, None))
        }
    }
}

// --- rules --------------------------------------------------------------------------------

fn rule_from(a: &RuleArgs, current: Option<&Rule>) -> Result<Rule, AdminError> {
    let mut rule = current.cloned().unwrap_or(Rule {
        id: 0,
        name: a.name.clone(),
        policy: 0,
        site: None,
        identity: None,
        address: None,
        client: None,
    });
    let empty_is_none = |v: &String| (!v.trim().is_empty()).then(|| v.trim().to_string());
    if let Some(site) = &a.site {
        rule.site = empty_is_none(site);
    }
    if let Some(glob) = &a.identity {
        if glob.chars().count() > 128 || glob.chars().any(char::is_control) {
            return Err(AdminError::invalid(
                "identity: a glob of at most 128 characters",
            ));
        }
        rule.identity = empty_is_none(glob);
    }
    if let Some(address) = &a.address {
        rule.address = match empty_is_none(address) {
            Some(text) => Some(
                text.parse::<IpNet>()
                    .map_err(|e| AdminError::invalid(format!("address: {e}")))?,
            ),
            None => None,
        };
    }
    if let Some(client) = &a.client {
        rule.client = empty_is_none(client);
    }
    Ok(rule)
}

pub(super) async fn rule_add(call: &Call<'_>, a: RuleArgs) -> HandlerResult {
    check_name("computer rule", &a.name)?;
    let policy = a
        .policy
        .clone()
        .ok_or_else(|| AdminError::invalid("policy: required (--policy POLICY)"))?;
    let rule = rule_from(&a, None)?;
    call.commit(vec![WriteOp::Policy(PolicyOp::AddRule {
        rule,
        policy,
        position: a.position,
        created_by: call.actor_name().to_string(),
    })])
    .await?;
    rule_list(call)
}

pub(super) async fn rule_edit(call: &Call<'_>, a: RuleArgs) -> HandlerResult {
    let current = call
        .read()
        .computer_rules()?
        .into_iter()
        .find(|r| r.rule.name.eq_ignore_ascii_case(&a.name))
        .ok_or_else(|| AdminError::not_found(format!("computer rule {}", a.name)))?;
    let rule = rule_from(&a, Some(&current.rule))?;
    let policy = a.policy.clone().unwrap_or(current.policy.clone());
    let mut ops = vec![WriteOp::Policy(PolicyOp::EditRule {
        name: current.rule.name.clone(),
        rule,
        policy,
    })];
    if let Some(p) = a.position {
        ops.push(WriteOp::Policy(PolicyOp::MoveRule {
            name: current.rule.name.clone(),
            position: p,
        }));
    }
    call.commit(ops).await?;
    rule_list(call)
}

pub(super) async fn rule_move(call: &Call<'_>, a: RuleMoveArgs) -> HandlerResult {
    if a.position < 1 {
        return Err(AdminError::invalid("position: 1 is the first rule"));
    }
    call.commit(vec![WriteOp::Policy(PolicyOp::MoveRule {
        name: a.name.clone(),
        position: a.position,
    })])
    .await?;
    rule_list(call)
}

pub(super) async fn rule_delete(call: &Call<'_>, name: &str) -> HandlerResult {
    call.commit(vec![WriteOp::Policy(PolicyOp::DeleteRule {
        name: name.to_string(),
    })])
    .await?;
    Ok(json!({ "deleted": name }))
}

pub(super) fn rule_list(call: &Call<'_>) -> HandlerResult {
    let rules: Vec<Value> = call
        .read()
        .computer_rules()?
        .iter()
        .map(rule_view)
        .collect();
    Ok(json!({ "rules": rules }))
}

/// Re-applies the rules to the computers named, or to every computer in scope. Pinned
/// computers are left alone unless `override_manual`; `dry_run` writes nothing and shows
/// the same diff the run would apply.
pub(super) async fn rule_run(call: &Call<'_>, a: RuleRunArgs) -> HandlerResult {
    if a.all != a.computers.is_empty() {
        return Err(AdminError::invalid(
            "name the computers (--computer ID…) or --all, not both",
        ));
    }
    let read = call.read();
    let computers: Vec<ComputerRecord> = if a.all {
        let (list, total) = read.computers(&ComputerFilter {
            site: None,
            policy: None,
            ids: None,
            limit: MAX_RUN,
            offset: 0,
        })?;
        if total > u64::from(MAX_RUN) {
            return Err(AdminError::invalid(format!(
                "{total} computers are more than one run takes ({MAX_RUN}); run by --computer"
            )));
        }
        list
    } else {
        let mut list = Vec::with_capacity(a.computers.len());
        for id in &a.computers {
            list.push(found(call, id)?);
        }
        list
    };
    let rules = read.rule_order()?;
    let names: std::collections::HashMap<i64, String> = read
        .computer_policies()?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let rule_names: std::collections::HashMap<i64, String> = rules
        .iter()
        .map(|r| (r.rule.id, r.rule.name.clone()))
        .collect();
    let mut changes = Vec::new();
    let mut diff = Vec::new();
    let mut pinned_left = 0u64;
    for c in &computers {
        let (policy_id, rule_id) = rules_choice(call, &rules, c)?;
        if policy_id == c.policy_id && !c.pinned {
            continue;
        }
        if c.pinned && !a.override_manual {
            if policy_id != c.policy_id {
                pinned_left += 1;
            }
            continue;
        }
        diff.push(json!({
            "computer": c.id,
            "identity": c.identity,
            "old": c.policy,
            "new": names.get(&policy_id).cloned().unwrap_or_else(|| policy_id.to_string()),
            "rule": rule_id.and_then(|r| rule_names.get(&r).cloned()),
        }));
        changes.push(Reassignment {
            computer_id: c.id,
            old_policy_id: c.policy_id,
            new_policy_id: policy_id,
            rule_id,
        });
    }
    call.annotate("changes", json!(changes.len()));
    if a.dry_run {
        return Ok(json!({
            "dry_run": true, "examined": computers.len(), "changes": diff,
            "pinned_left_alone": pinned_left,
        }));
    }
    // A computer changed by someone else since it was read is left as they made it.
    call.commit(vec![WriteOp::Policy(PolicyOp::ApplyRuleRun {
        changes,
        override_manual: a.override_manual,
    })])
    .await?;
    Ok(json!({
        "dry_run": false, "examined": computers.len(), "changes": diff,
        "pinned_left_alone": pinned_left,
    }))
}
