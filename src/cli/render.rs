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
