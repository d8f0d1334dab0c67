//! Human-readable rendering of admin results. `--json` bypasses all of this.

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use serde_json::Value;

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn table(rows: &[Value], columns: &[&str]) -> String {
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
    t.set_header(columns.iter().map(|c| c.replace('_', " ")));
    for r in rows {
        t.add_row(columns.iter().map(|c| cell(&r[*c])));
    }
    t.to_string()
}

fn fields(obj: &Value) -> String {
    let Some(map) = obj.as_object() else {
        return cell(obj);
    };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    map.iter()
        .map(|(k, v)| format!("{:width$}  {}", k.replace('_', " "), cell(v)))
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

/// Renders the result of `op` for a person.
#[must_use]
pub fn human(op: &str, result: &Value) -> String {
    let body = match op {
        "status" => status(result),
        "client.list" => table(
            result["clients"].as_array().map_or(&[][..], Vec::as_slice),
            &[
                "name",
                "address",
                "site",
                "require_message_authenticator",
                "rate_limit",
                "created_by",
            ],
        ),
        "client.add" | "client.show" | "client.edit" => fields(&result["client"]),
        "user.list" => table(
            result["users"].as_array().map_or(&[][..], Vec::as_slice),
            &[
                "domain",
                "name",
                "status",
                "display_name",
                "email",
                "password",
                "last_login",
            ],
        ),
        "user.add" | "user.show" | "user.edit" | "user.enable" | "user.disable" => {
            fields(&result["user"])
        }
        "audit.list" => table(
            result["records"].as_array().map_or(&[][..], Vec::as_slice),
            &[
                "seq",
                "kind",
                "actor",
                "operation",
                "target",
                "outcome",
                "detail",
            ],
        ),
        "audit.verify" => format!(
            "audit log intact: {} records verified",
            cell(&result["records"])
        ),
        "directory.list" => table(
            result["directories"]
                .as_array()
                .map_or(&[][..], Vec::as_slice),
            &[
                "name",
                "urls",
                "base_dns",
                "schedule",
                "users",
                "created_by",
            ],
        ),
        "directory.add" | "directory.edit" | "directory.show" => fields(&result["directory"]),
        "directory.test" => format!("directory test passed\n{}", fields(&result["test"])),
        "directory.preview" | "directory.sync" => sync_plan(op, result),
        "directory.status" => directory_status(result),
        "cert.list" => table(
            result["certs"].as_array().map_or(&[][..], Vec::as_slice),
            &[
                "name",
                "subject",
                "not_after",
                "is_ca",
                "sha256_fingerprint",
            ],
        ),
        "cert.trust" | "cert.show" => fields(&result["cert"]),
        "role.ops" => table(
            result["operations"]
                .as_array()
                .map_or(&[][..], Vec::as_slice),
            &["id", "category", "description"],
        ),
        "role.list" => table(
            result["roles"].as_array().map_or(&[][..], Vec::as_slice),
            &["name", "parent", "holders", "description"],
        ),
        "role.show" | "role.create" | "role.edit" => role_view(&result["role"]),
        "role.explain" => format!(
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
        "admin.list" => table(
            result["admins"].as_array().map_or(&[][..], Vec::as_slice),
            &["name", "unix_user", "uid", "role", "enabled", "created_by"],
        ),
        "admin.add" | "admin.set-role" | "admin.disable" | "admin.enable" => {
            fields(&result["admin"])
        }
        "site.list" => table(
            result["sites"].as_array().map_or(&[][..], Vec::as_slice),
            &["name", "subnets", "timezone", "created_by"],
        ),
        "site.add" | "site.show" | "site.edit" => fields(&result["site"]),
        "pending.list" => table(
            result["users"].as_array().map_or(&[][..], Vec::as_slice),
            &["domain", "name", "email", "display_name", "ou_path"],
        ),
        _ => fields(result),
    };
    format!("{}{body}", warnings(result))
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
    out.push_str(&format!(
        "users       {}\naccounting  {} records\nradius      {}\n",
        s["store"]["users"],
        cell(&s["store"]["accounting_records"]),
        s["radius"]["global"],
    ));
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

fn sync_plan(op: &str, r: &Value) -> String {
    let c = &r["counts"];
    let mut out = format!(
        "{} ({} run, {} entries fetched): {} added, {} updated, {} disabled, {} re-enabled, {} purged, {} unchanged\n",
        if op == "directory.sync" {
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
        r["runs"].as_array().map_or(&[][..], Vec::as_slice),
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
    let list = |v: &Value| match v.as_array() {
        Some(a) => a.iter().map(cell).collect::<Vec<_>>().join(", "),
        None => "same as parent".into(),
    };
    let scope = |v: &Value| {
        if v.is_null() {
            "same as parent".to_string()
        } else {
            v.to_string()
        }
    };
    let mut t = Table::new();
    t.load_style(UTF8_BORDERS_ONLY);
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
