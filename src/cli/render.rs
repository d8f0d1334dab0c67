//! Human-readable rendering of admin results. `--json` bypasses all of this (and keeps
//! times as numbers); here times read as local ISO 8601 and tables fit the terminal.
//! Every command picks its rendering in one exhaustive match: a new command does not
//! compile until it says how it is shown.

use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use serde_json::Value;

use crate::admin::command::Command;

/// Fields that hold seconds since the epoch.
const UNIX_TIMES: &[&str] = &[
    "created_at",
    "updated_at",
    "last_login",
    "started_at",
    "ended_at",
    "not_before",
    "not_after",
    "last_full_at",
    "at",
    "first_seen",
    "last_seen",
    "last_hit",
    "locked_until",
];

/// Seconds since the epoch as local ISO 8601 (`2026-12-01T09:00:00+01:00`).
#[must_use]
pub fn local_time(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds).map_or_else(
        |_| seconds.to_string(),
        |t| {
            t.to_zoned_datetime(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        },
    )
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A field's value for a person: times as local time.
fn field(key: &str, v: &Value) -> String {
    match (v.as_i64(), key) {
        (Some(secs), k) if UNIX_TIMES.contains(&k) && secs > 0 => local_time(secs),
        (Some(micros), "time_micros") => local_time(micros.div_euclid(1_000_000)),
        _ => cell(v),
    }
}

fn new_table() -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
    // Wraps cells to the terminal's width when there is a terminal.
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t
}

fn table(rows: &[Value], columns: &[&str]) -> String {
    table_within(rows, columns, None)
}

/// A table; `width` stands in for the terminal's (tests have none).
fn table_within(rows: &[Value], columns: &[&str], width: Option<u16>) -> String {
    let mut t = new_table();
    if let Some(w) = width {
        t.set_width(w);
    }
    t.set_header(columns.iter().map(|c| c.replace('_', " ")));
    for r in rows {
        t.add_row(columns.iter().map(|c| field(c, &r[*c])));
    }
    t.to_string()
}

fn rows<'a>(result: &'a Value, key: &str) -> &'a [Value] {
    result[key].as_array().map_or(&[][..], Vec::as_slice)
}

fn fields(obj: &Value) -> String {
    let Some(map) = obj.as_object() else {
        return cell(obj);
    };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    map.iter()
        .map(|(k, v)| format!("{:width$}  {}", k.replace('_', " "), field(k, v)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn warnings(result: &Value) -> String {
    result["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|m| format!("warning: {}\n", cell(m)))
                .collect()
        })
        .unwrap_or_default()
}

/// Says when a list was cut, and how to see the rest.
fn cut_note(result: &Value, shown: usize, next: &str) -> String {
    if result["more"] != true {
        return String::new();
    }
    match result["total"].as_u64() {
        Some(total) => {
            let offset = result["offset"].as_u64().unwrap_or(0);
            format!(
                "\n{shown} of {total} shown; the next page: {next} {}",
                offset + shown as u64
            )
        }
        None => format!("\n{shown} shown; there may be more: {next}"),
    }
}

/// Renders the result of `command` for a person.
#[must_use]
pub fn human(command: &Command, result: &Value) -> String {
    let body = match command {
        Command::Status(_) => status(result),
        Command::ClientList(_) => table(
            rows(result, "clients"),
            &[
                "name",
                "address",
                "site",
                "require_message_authenticator",
                "rate_limit",
                "created_by",
            ],
        ),
        Command::ClientAdd(_) | Command::ClientShow(_) | Command::ClientEdit(_) => {
            fields(&result["client"])
        }
        Command::UserList(_) => {
            let users = rows(result, "users");
            table(
                users,
                &[
                    "domain",
                    "name",
                    "status",
                    "display_name",
                    "email",
                    "password",
                    "last_login",
                ],
            ) + &cut_note(result, users.len(), "--offset")
        }
        Command::UserAdd(_)
        | Command::UserShow(_)
        | Command::UserEdit(_)
        | Command::UserEnable(_)
        | Command::UserDisable(_) => fields(&result["user"]),
        Command::AuditList(_) => {
            let records = rows(result, "records");
            table(
                records,
                &[
                    "seq",
                    "time_micros",
                    "kind",
                    "actor",
                    "operation",
                    "target",
                    "outcome",
                    "detail",
                ],
            )
            .replacen("time micros", "time", 1)
                + &cut_note(result, records.len(), "--until (the oldest time shown)")
        }
        Command::AuditVerify(_) => format!(
            "audit log intact: {} records verified",
            cell(&result["records"])
        ),
        Command::DirectoryList(_) => table(
            rows(result, "directories"),
            &[
                "name",
                "urls",
                "base_dns",
                "schedule",
                "users",
                "created_by",
            ],
        ),
        Command::DirectoryAdd(_) | Command::DirectoryEdit(_) | Command::DirectoryShow(_) => {
            fields(&result["directory"])
        }
        Command::DirectoryTest(_) => {
            format!("directory test passed\n{}", fields(&result["test"]))
        }
        Command::DirectoryPreview(_) => sync_plan(false, result),
        Command::DirectorySync(_) => sync_plan(true, result),
        Command::DirectoryStatus(_) => directory_status(result),
        Command::CertList(_) => table(
            rows(result, "certs"),
            &[
                "name",
                "subject",
                "not_after",
                "is_ca",
                "sha256_fingerprint",
            ],
        ),
        Command::CertTrust(_) | Command::CertShow(_) => fields(&result["cert"]),
        Command::RoleOps(_) => table(
            rows(result, "operations"),
            &["id", "category", "description"],
        ),
        Command::RoleList(_) => table(
            rows(result, "roles"),
            &["name", "parent", "holders", "template", "description"],
        ),
        Command::RoleShow(_) | Command::RoleCreate(_) | Command::RoleEdit(_) => {
            role_view(&result["role"])
        }
        Command::RoleExplain(_) => format!(
            "{}: {} {} {}\n{}",
            if result["allowed"] == true {
                "ALLOWED"
            } else {
                "DENIED"
            },
            cell(&result["administrator"]),
            cell(&result["operation"]),
            cell(&result["target"]),
            cell(&result["why"])
        ),
        Command::AdminList(_) => table(
            rows(result, "admins"),
            &["name", "unix_user", "uid", "role", "enabled", "created_by"],
        ),
        Command::AdminAdd(_)
        | Command::AdminSetRole(_)
        | Command::AdminDisable(_)
        | Command::AdminEnable(_) => fields(&result["admin"]),
        Command::SiteList(_) => table(
            rows(result, "sites"),
            &["name", "subnets", "timezone", "created_by"],
        ),
        Command::SiteAdd(_) | Command::SiteShow(_) | Command::SiteEdit(_) => {
            fields(&result["site"])
        }
        Command::PendingList(_) => table(
            rows(result, "users"),
            &["domain", "name", "email", "display_name", "ou_path"],
        ),
        Command::ClientDelete(_)
        | Command::UserImport(_)
        | Command::UserDelete(_)
        | Command::UserSetPassword(_)
        | Command::DirectoryDelete(_)
        | Command::CertDelete(_)
        | Command::PendingImport(_)
        | Command::PendingUpdate(_)
        | Command::PendingDelete(_)
        | Command::PendingApprove(_)
        | Command::RoleDelete(_)
        | Command::AdminRemove(_)
        | Command::SiteDelete(_)
        | Command::SystemLockdown(_) => fields(result),
        Command::UserUnlock(_) => fields(&result["user"]),
        Command::UserPolicyCreate(_) | Command::UserPolicyEdit(_) | Command::UserPolicyShow(_) => {
            policy_fields(&result["user_policy"])
        }
        Command::ComputerPolicyCreate(_)
        | Command::ComputerPolicyEdit(_)
        | Command::ComputerPolicyShow(_) => policy_fields(&result["computer_policy"]),
        Command::UserPolicyList(_) => table(
            rows(result, "user_policies"),
            &[
                "name",
                "methods",
                "second_factor",
                "lockout_threshold",
                "reply",
                "mode",
                "assignments",
                "created_by",
            ],
        ),
        Command::ComputerPolicyList(_) => table(
            rows(result, "computer_policies"),
            &[
                "name",
                "methods",
                "second_factor",
                "hours",
                "reply",
                "mode",
                "created_by",
            ],
        ),
        Command::ComputerRuleAdd(_)
        | Command::ComputerRuleEdit(_)
        | Command::ComputerRuleMove(_)
        | Command::ComputerRuleList(_) => table(
            rows(result, "rules"),
            &[
                "position", "name", "policy", "site", "identity", "address", "client",
            ],
        ),
        Command::ComputerRuleRun(_) => rule_run(result),
        Command::ComputerList(_) => {
            let computers = rows(result, "computers");
            table(
                computers,
                &[
                    "id",
                    "identity",
                    "kind",
                    "site",
                    "policy",
                    "pinned",
                    "rule",
                    "last_seen",
                ],
            ) + &cut_note(result, computers.len(), "--offset")
        }
        Command::ComputerShow(_) | Command::ComputerEdit(_) | Command::ComputerAssignPolicy(_) => {
            fields(&result["computer"])
        }
        Command::PolicyExplain(_) => explain(&result["explain"]),
        Command::RadiusTrace(_) => {
            let t = &result["trace_ended"];
            format!(
                "trace ended after {}s: {} request(s) shown, {} missed",
                cell(&t["seconds"]),
                cell(&t["requests"]),
                cell(&t["missed"])
            )
        }
        Command::UserPolicyDelete(_)
        | Command::ComputerPolicyDelete(_)
        | Command::UserPolicyAssign(_)
        | Command::UserPolicyUnassign(_)
        | Command::ComputerRuleDelete(_)
        | Command::ComputerDelete(_) => fields(result),
    };
    format!("{}{body}", warnings(result))
}

/// A policy's fields, its counters and assignments spelled out.
fn policy_fields(p: &Value) -> String {
    let mut flat = p.clone();
    if let Some(map) = flat.as_object_mut() {
        if let Some(c) = map.remove("counters") {
            map.insert("hits".into(), c["hits"].clone());
            map.insert("would_deny".into(), c["would_deny"].clone());
            map.insert("last_hit".into(), c["last_hit"].clone());
        }
        if let Some(list) = map.remove("assignments") {
            let text: Vec<String> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    format!(
                        "{} {} (priority {})",
                        cell(&a["kind"]),
                        cell(&a["subject"]),
                        cell(&a["priority"])
                    )
                })
                .collect();
            map.insert("assignments".into(), Value::from(text));
        }
    }
    fields(&flat)
}

/// The diff a rule run shows (and, without `--dry-run`, applied).
fn rule_run(r: &Value) -> String {
    let changes = rows(r, "changes");
    let mut out = format!(
        "{}: {} computer(s) examined, {} change(s), {} pinned computer(s) left alone\n",
        if r["dry_run"] == true {
            "dry run, nothing written"
        } else {
            "rules applied"
        },
        cell(&r["examined"]),
        changes.len(),
        cell(&r["pinned_left_alone"]),
    );
    for c in changes {
        out.push_str(&format!(
            "{} {}: {} -> {} (rule {})\n",
            cell(&c["computer"]),
            cell(&c["identity"]),
            cell(&c["old"]),
            cell(&c["new"]),
            cell(&c["rule"]),
        ));
    }
    out
}

/// `policy explain`: one line per step, then the decision and the reply.
fn explain(e: &Value) -> String {
    let mut out = format!(
        "at {} (site {}, {})\n",
        cell(&e["at"]),
        cell(&e["site"]),
        cell(&e["zone"])
    );
    for s in rows(e, "steps") {
        out.push_str(&format!("{:16} {}", cell(&s["step"]), cell(&s["result"])));
        if !s["detail"].is_null() {
            out.push_str(&format!(" — {}", cell(&s["detail"])));
        }
        out.push('\n');
    }
    let d = &e["decision"];
    out.push_str(&format!(
        "decision         {} ({})\n",
        cell(&d["outcome"]),
        cell(&d["reason"])
    ));
    for a in rows(e, "reply") {
        out.push_str(&format!("reply            {}\n", cell(a)));
    }
    out
}

/// One traced request, as `radius trace` prints it.
#[must_use]
pub fn trace(t: &Value) -> String {
    let mut out = format!(
        "{} {} from {} (site {}): {} ({})\n",
        field("at", &t["at"]),
        cell(&t["user_name"]),
        cell(&t["client"]),
        cell(&t["site"]),
        cell(&t["outcome"]),
        cell(&t["reason"]),
    );
    for s in rows(t, "steps") {
        out.push_str(&format!("  {:16} {}", cell(&s["step"]), cell(&s["result"])));
        if !s["detail"].is_null() {
            out.push_str(&format!(" — {}", cell(&s["detail"])));
        }
        out.push('\n');
    }
    for a in rows(t, "reply") {
        out.push_str(&format!("  reply            {}\n", cell(a)));
    }
    out
}

fn status(s: &Value) -> String {
    let mut out = format!(
        "appliance   {}\nversion     {}\nuptime      {}s\nadministrator {} ({})\n",
        cell(&s["appliance"]),
        cell(&s["version"]),
        cell(&s["uptime_seconds"]),
        cell(&s["administrator"]["name"]),
        cell(&s["administrator"]["role"]),
    );
    for l in s["listeners"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "listening   {} {}\n",
            cell(&l["kind"]),
            cell(&l["address"])
        ));
    }
    out.push_str(&format!("users       {}\n", s["store"]["users"]));
    if !s["store"]["accounting_records"].is_null() {
        out.push_str(&format!(
            "accounting  {} records\nradius      {}\n",
            cell(&s["store"]["accounting_records"]),
            s["radius"]["global"],
        ));
    }
    let rows: Vec<Value> = s["radius"]["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let k = &c["counters"];
            serde_json::json!({
                "client": c["name"], "site": c["site"], "requests": k["requests"],
                "accepts": k["accepts"], "rejects": k["rejects"],
                "accounting": k["accounting_responses"], "status": k["status_server"],
                "duplicates": k["duplicates_answered"], "drops": k["drops"],
            })
        })
        .collect();
    if !rows.is_empty() {
        out.push_str(&table(
            &rows,
            &[
                "client",
                "site",
                "requests",
                "accepts",
                "rejects",
                "accounting",
                "status",
                "duplicates",
                "drops",
            ],
        ));
    }
    out
}

/// One line of progress for a long command.
#[must_use]
pub fn progress(p: &Value) -> String {
    format!(
        "fetched {} entries ({} pages)",
        cell(&p["entries"]),
        cell(&p["pages"])
    )
}

fn sync_plan(applied: bool, r: &Value) -> String {
    let c = &r["counts"];
    let mut out = format!(
        "{} ({} run, {} entries fetched): {} added, {} updated, {} disabled, {} re-enabled, {} purged, {} unchanged\n",
        if applied {
            "sync applied"
        } else {
            "preview, nothing written"
        },
        cell(&r["mode"]),
        cell(&r["entries"]),
        cell(&c["added"]),
        cell(&c["updated"]),
        cell(&c["disabled"]),
        cell(&c["reenabled"]),
        cell(&c["purged"]),
        cell(&c["unchanged"]),
    );
    for ch in r["changes"].as_array().into_iter().flatten().take(200) {
        let who = ch["user"]["username"]
            .as_str()
            .or_else(|| ch["name"].as_str())
            .unwrap_or("?");
        let extra = match ch["change"].as_str() {
            Some("update") => format!(
                " ({})",
                ch["fields"]
                    .as_array()
                    .map(|f| f.iter().map(cell).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            ),
            Some("disable") => format!(" ({})", cell(&ch["reason"]).replace('_', " ")),
            _ => String::new(),
        };
        out.push_str(&format!("  {:<9} {who}{extra}\n", cell(&ch["change"])));
    }
    out
}

fn directory_status(r: &Value) -> String {
    let mut out = format!(
        "directory {}: {} users\n",
        cell(&r["directory"]),
        cell(&r["users"])
    );
    if !r["running"].is_null() {
        out.push_str(&format!("running: {}\n", progress(&r["running"])));
    }
    out.push_str(&table(
        rows(r, "runs"),
        &[
            "trigger",
            "mode",
            "started_at",
            "ended_at",
            "entries",
            "added",
            "updated",
            "disabled",
            "reenabled",
            "purged",
            "error",
        ],
    ));
    out
}

fn role_view(r: &Value) -> String {
    let mut out = format!(
        "role        {}\nparent      {}\nancestry    {}\nholders     {}\n",
        cell(&r["name"]),
        cell(&r["parent"]),
        r["ancestry"]
            .as_array()
            .map(|a| a.iter().map(cell).collect::<Vec<_>>().join(" < "))
            .unwrap_or_default(),
        r["holders"]
            .as_array()
            .map(|a| a.iter().map(cell).collect::<Vec<_>>().join(", "))
            .unwrap_or_default(),
    );
    // Operations one per line: a role can hold sixty of them.
    let list = |v: &Value| match v.as_array() {
        Some(a) if a.is_empty() => "(none)".to_string(),
        Some(a) => a.iter().map(cell).collect::<Vec<_>>().join("\n"),
        None => "same as parent".into(),
    };
    let scope = |v: &Value| {
        if v.is_null() {
            "same as parent".to_string()
        } else {
            v.to_string()
        }
    };
    let mut t = new_table();
    t.set_header(vec!["", "own", "effective"]);
    t.add_row(vec![
        "operations".to_string(),
        list(&r["own"]["ops"]),
        list(&r["effective"]["ops"]),
    ]);
    t.add_row(vec![
        "user scope".to_string(),
        scope(&r["own"]["user_scope"]),
        scope(&r["effective"]["user_scope"]),
    ]);
    t.add_row(vec![
        "computer scope".to_string(),
        scope(&r["own"]["computer_scope"]),
        scope(&r["effective"]["computer_scope"]),
    ]);
    out.push_str(&t.to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_fit_the_width_they_are_given() {
        let long = "a rather long description that would not fit ".repeat(4);
        let rows = [json!({"name": "Help Desk", "description": long, "holders": 3})];
        let text = table_within(&rows, &["name", "description", "holders"], Some(60));
        for line in text.lines() {
            assert!(line.chars().count() <= 60, "{line:?} in\n{text}");
        }
        assert!(text.contains("Help Desk"));
    }

    #[test]
    fn a_role_lists_its_operations_one_per_line() {
        let role = json!({
            "name": "Help Desk", "parent": "Super Administrator",
            "ancestry": ["Help Desk", "Super Administrator"], "holders": [],
            "own": {"ops": ["user.edit", "user.enable", "user.unlock"]},
            "effective": {"ops": ["user.edit", "user.enable", "user.unlock"]},
        });
        let text = role_view(&role);
        for op in ["user.edit", "user.enable", "user.unlock"] {
            assert!(
                text.lines()
                    .any(|l| l.matches(op).count() == 2 && !l.contains(',')),
                "{op} on a line of its own (own and effective columns):\n{text}"
            );
        }
    }
}
