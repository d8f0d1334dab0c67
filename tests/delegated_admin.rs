//! Delegated administration through the real socket and CLI: root acts as each
//! administrator with `--as` (audited as root acting as NAME).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Daemon;
use serde_json::Value;

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn as_(d: &Daemon, admin: &str, args: &[&str]) -> std::process::Output {
    let mut a = vec!["--as", admin];
    a.extend_from_slice(args);
    d.ctl(&a, "")
}

fn effective_ops(d: &Daemon, role: &str) -> Vec<String> {
    let v = d.ctl_json(&["role", "show", role], "");
    v["role"]["effective"]["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect()
}

/// Root plus the four-role example of the product documents.
fn four_roles() -> Daemon {
    let d = Daemon::start();
    d.ctl_ok(&["site", "add", "Branch", "--subnet", "10.2.0.0/16"], "");
    d.ctl_ok(
        &[
            "site",
            "add",
            "HQ",
            "--subnet",
            "10.1.0.0/16",
            "--timezone",
            "Europe/Paris",
        ],
        "",
    );
    d.ctl_ok(
        &["role", "create", "HQ Site Administrator", "--parent", "Super Administrator", "--computer-scope", "HQ",
          "--ops", "radius.client.update,radius.client.delete,user.edit,user.enable,user.unlock,report.view,report.update,role.edit,site.edit"],
        "",
    );
    d.ctl_ok(
        &[
            "role",
            "create",
            "HQ Compliance Auditor",
            "--parent",
            "HQ Site Administrator",
            "--ops",
            "report.view,report.update",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "role",
            "create",
            "Enterprise Auditor",
            "--parent",
            "Compliance Auditor",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "admin",
            "add",
            "second-root",
            "--unix-user",
            "daemon",
            "--role",
            "Super Administrator",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "admin",
            "add",
            "hqadmin",
            "--unix-user",
            "bin",
            "--role",
            "HQ Site Administrator",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "admin",
            "add",
            "hqaudit",
            "--unix-user",
            "sys",
            "--role",
            "HQ Compliance Auditor",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "admin",
            "add",
            "auditor",
            "--unix-user",
            "sync",
            "--role",
            "Enterprise Auditor",
        ],
        "",
    );
    d
}

#[test]
fn four_role_example_inheritance_flows_to_children() {
    let d = four_roles();
    assert_eq!(
        effective_ops(&d, "HQ Compliance Auditor"),
        ["report.view", "report.update"]
    );
    let child = d.ctl_json(&["role", "show", "HQ Compliance Auditor"], "");
    assert_eq!(
        child["role"]["effective"]["computer_scope"],
        serde_json::json!({"sites": ["HQ"]}),
        "{child}"
    );

    // Removing an operation from the parent removes it from the child at once.
    d.ctl_ok(
        &[
            "role",
            "edit",
            "HQ Site Administrator",
            "--ops",
            "radius.client.update,user.edit,report.view,role.edit,site.edit",
        ],
        "",
    );
    assert_eq!(effective_ops(&d, "HQ Compliance Auditor"), ["report.view"]);
    let warn = d.ctl_json(&["role", "show", "HQ Compliance Auditor"], "");
    assert!(
        warn["warnings"].to_string().contains("partial bundle"),
        "{warn}"
    );

    // Changing the parent's scope changes the child's.
    d.ctl_ok(
        &[
            "role",
            "edit",
            "HQ Site Administrator",
            "--computer-scope",
            "Branch",
        ],
        "",
    );
    let child = d.ctl_json(&["role", "show", "HQ Compliance Auditor"], "");
    assert_eq!(
        child["role"]["effective"]["computer_scope"],
        serde_json::json!({"sites": ["Branch"]})
    );
    d.ctl_ok(
        &[
            "role",
            "edit",
            "HQ Site Administrator",
            "--computer-scope",
            "HQ",
        ],
        "",
    );

    // No child can be made wider than its parent: asked-for extras are refused by
    // anti-escalation when the editor lacks them, and never become effective anyway.
    d.ctl_ok(
        &[
            "role",
            "edit",
            "HQ Compliance Auditor",
            "--computer-scope",
            "*",
            "--ops",
            "report.view,user.delete",
        ],
        "",
    );
    let child = d.ctl_json(&["role", "show", "HQ Compliance Auditor"], "");
    assert_eq!(
        child["role"]["effective"]["ops"],
        serde_json::json!(["report.view"])
    );
    assert_eq!(
        child["role"]["effective"]["computer_scope"],
        serde_json::json!({"sites": ["HQ"]})
    );

    // Enterprise-wide auditor sees everything, read-only.
    assert_eq!(code(&as_(&d, "auditor", &["audit", "list"])), 0);
    let out = as_(&d, "auditor", &["user", "delete", "ghost"]);
    assert_eq!(code(&out), 3, "{}", err(&out));
}

#[test]
fn scope_own_and_denials_through_the_socket() {
    let d = four_roles();
    let secret = d.dir.path().join("s");
    std::fs::write(&secret, "a-long-enough-secret-1").unwrap();
    let s = secret.to_str().unwrap();
    d.ctl_ok(
        &[
            "client",
            "add",
            "branch-sw",
            "--address",
            "10.2.0.1",
            "--secret-file",
            s,
            "--site",
            "Branch",
        ],
        "",
    );
    // The HQ administrator creates an HQ client, and cannot see or touch the Branch one.
    let out = as_(
        &d,
        "hqadmin",
        &[
            "client",
            "add",
            "hq-sw",
            "--address",
            "10.1.0.1",
            "--secret-file",
            s,
            "--site",
            "HQ",
        ],
    );
    assert_eq!(code(&out), 0, "{}", err(&out));
    let list = as_(&d, "hqadmin", &["--json", "client", "list"]);
    let v: Value = serde_json::from_slice(&list.stdout).unwrap();
    let names: Vec<&str> = v["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hq-sw"]);
    let out = as_(&d, "hqadmin", &["client", "show", "branch-sw"]);
    assert_eq!(
        code(&out),
        4,
        "out of scope looks like not found: {}",
        err(&out)
    );
    let out = as_(
        &d,
        "hqadmin",
        &[
            "client",
            "add",
            "sneaky",
            "--address",
            "10.2.0.9",
            "--secret-file",
            s,
            "--site",
            "Branch",
        ],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    // Moving its own client to a site outside its scope is refused at the choke point.
    let out = as_(
        &d,
        "hqadmin",
        &["client", "edit", "hq-sw", "--site", "Branch"],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    let moved = d.ctl_json(
        &[
            "audit",
            "list",
            "--operation",
            "client.edit",
            "--limit",
            "1",
        ],
        "",
    );
    assert_eq!(moved["records"][0]["outcome"], "denied", "{moved}");
    // Missing operation names the operation.
    let out = as_(&d, "hqadmin", &["client", "delete", "hq-sw"]);
    assert_eq!(code(&out), 0, "{}", err(&out));
    let out = as_(&d, "hqaudit", &["client", "delete", "branch-sw"]);
    assert_eq!(code(&out), 3);
    assert!(err(&out).contains("radius.client.delete"), "{}", err(&out));
    // The out-of-scope attempt is audited as such.
    let audit = d.ctl_json(&["audit", "list", "--operation", "client.show"], "");
    assert!(audit.to_string().contains("out of scope"), "{audit}");
    assert!(audit.to_string().contains("root as hqadmin"), "{audit}");
    // explain says why.
    let e = d.ctl_json(
        &[
            "role",
            "explain",
            "hqadmin",
            "radius.client.update",
            "client:branch-sw",
        ],
        "",
    );
    assert_eq!(e["allowed"], false);
    assert!(e["why"].as_str().unwrap().contains("out of scope"), "{e}");
    let e = d.ctl_json(&["role", "explain", "hqaudit", "report.view"], "");
    assert_eq!(e["allowed"], true, "{e}");
}

#[test]
fn anti_escalation_cannot_be_broken() {
    let d = four_roles();
    // Cannot grant what one does not hold.
    let out = as_(
        &d,
        "hqadmin",
        &[
            "role",
            "create",
            "Sneaky",
            "--parent",
            "HQ Site Administrator",
            "--ops",
            "system.update",
        ],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    assert!(err(&out).contains("system.update"));
    // Cannot widen scope beyond one's own.
    let out = as_(
        &d,
        "hqadmin",
        &[
            "role",
            "create",
            "Wide",
            "--parent",
            "HQ Site Administrator",
            "--computer-scope",
            "*",
        ],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    // Cannot create a role beside or above one's own.
    let out = as_(
        &d,
        "hqadmin",
        &[
            "role",
            "create",
            "Peer",
            "--parent",
            "Super Administrator",
            "--ops",
            "report.view",
        ],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    // Cannot edit one's own role, nor the Super Administrator.
    let out = as_(
        &d,
        "hqadmin",
        &[
            "role",
            "edit",
            "HQ Site Administrator",
            "--ops",
            "report.view",
        ],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    let out = d.ctl(
        &[
            "role",
            "edit",
            "Super Administrator",
            "--ops",
            "report.view",
        ],
        "",
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    assert_eq!(
        code(&d.ctl(&["role", "delete", "Super Administrator"], "")),
        3
    );
    // Can create below, within its rights, and assign only below its own role.
    let out = as_(
        &d,
        "hqadmin",
        &[
            "role",
            "create",
            "HQ Helpdesk",
            "--parent",
            "HQ Site Administrator",
            "--ops",
            "user.unlock",
        ],
    );
    assert_eq!(code(&out), 0, "{}", err(&out));
    let out = as_(
        &d,
        "hqadmin",
        &[
            "admin",
            "add",
            "mallory",
            "--unix-user",
            "games",
            "--role",
            "Super Administrator",
        ],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    let out = as_(
        &d,
        "hqadmin",
        &[
            "admin",
            "add",
            "helper",
            "--unix-user",
            "games",
            "--role",
            "HQ Helpdesk",
        ],
    );
    assert_eq!(code(&out), 0, "{}", err(&out));
    // Cannot promote oneself or touch a peer.
    let out = as_(
        &d,
        "hqadmin",
        &["admin", "set-role", "hqadmin", "--role", "HQ Helpdesk"],
    );
    assert_eq!(code(&out), 3, "{}", err(&out));
    let out = as_(&d, "hqadmin", &["admin", "disable", "second-root"]);
    assert_eq!(code(&out), 3, "{}", err(&out));
}

#[test]
fn last_super_administrator_and_lockdown_are_protected() {
    let d = four_roles();
    // Two enabled super administrators: second-root and… nobody else bound; root is
    // break-glass, not an administrator record. Make second-root the only one.
    let status = d.ctl_json(&["status"], "");
    assert!(
        status["warnings"]
            .to_string()
            .contains("Super Administrator"),
        "{status}"
    );
    for args in [
        vec!["admin", "remove", "second-root"],
        vec!["admin", "disable", "second-root"],
        vec![
            "admin",
            "set-role",
            "second-root",
            "--role",
            "HQ Site Administrator",
        ],
    ] {
        let out = d.ctl(&args, "");
        assert_eq!(code(&out), 1, "{args:?}: {}", err(&out));
        assert!(
            err(&out).contains("last enabled Super Administrator"),
            "{}",
            err(&out)
        );
    }
    d.ctl_ok(
        &[
            "admin",
            "add",
            "third-root",
            "--unix-user",
            "man",
            "--role",
            "Super Administrator",
        ],
        "",
    );
    d.ctl_ok(&["admin", "disable", "second-root"], "");
    let out = as_(&d, "second-root", &["status"]);
    assert_eq!(
        code(&out),
        3,
        "a disabled administrator is refused: {}",
        err(&out)
    );

    // Lockdown: only holders of system.lockdown may administer.
    d.ctl_ok(&["system", "lockdown", "on"], "");
    let out = as_(&d, "hqadmin", &["status"]);
    assert_eq!(code(&out), 3);
    assert!(err(&out).contains("locked down"), "{}", err(&out));
    let out = as_(&d, "third-root", &["user", "list"]);
    assert_eq!(code(&out), 0, "{}", err(&out));
    let out = as_(&d, "hqadmin", &["system", "lockdown", "off"]);
    assert_eq!(code(&out), 3);
    d.ctl_ok(&["system", "lockdown", "off"], "");
    assert_eq!(code(&as_(&d, "hqadmin", &["status"])), 0);
    let denied = d.ctl_json(&["audit", "list", "--limit", "200"], "");
    assert!(
        denied.to_string().contains("locked down"),
        "lockdown refusals are audited"
    );
}

#[test]
fn lists_and_the_audit_log_are_cut_to_the_scope() {
    let d = Daemon::start();
    let csv = d.dir.path().join("users.csv");
    // The header counts 4 columns; an OU with commas must be quoted.
    std::fs::write(
        &csv,
        "username,email,domain,ou\nsales1,s1@example.org,CORP,\"ou=Sales,dc=corp\"\nsales2,s2@example.org,CORP,\"ou=East,ou=Sales,dc=corp\"\neng1,e1@example.org,CORP,\"ou=Eng,dc=corp\"\nloc1,l1@example.org,local,\n",
    )
    .unwrap();
    d.ctl_ok(&["pending", "import", csv.to_str().unwrap()], "");
    for u in ["CORP\\sales1", "CORP\\sales2", "CORP\\eng1", "loc1"] {
        d.ctl_ok(&["pending", "approve", u], "");
    }
    d.ctl_ok(
        &[
            "role",
            "create",
            "Sales Desk",
            "--parent",
            "Super Administrator",
            "--ops",
            "user.enable,report.view,report.update",
            "--user-scope",
            "CORP:ou=Sales,dc=corp",
        ],
        "",
    );
    d.ctl_ok(
        &[
            "admin",
            "add",
            "salesdesk",
            "--unix-user",
            "lp",
            "--role",
            "Sales Desk",
        ],
        "",
    );
    let out = as_(&d, "salesdesk", &["--json", "user", "list", "--limit", "2"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["sales1", "sales2"],
        "the limit counts only visible users"
    );
    assert_eq!(
        code(&as_(&d, "salesdesk", &["user", "disable", "CORP\\eng1"])),
        4
    );
    assert_eq!(
        code(&as_(&d, "salesdesk", &["user", "disable", "CORP\\sales2"])),
        0
    );
    let out = as_(
        &d,
        "salesdesk",
        &["--json", "audit", "list", "--limit", "100"],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // Others' actions on out-of-scope users are hidden; one's own attempts stay visible.
    let others: Vec<&str> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["actor"].as_str().unwrap().contains("salesdesk"))
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert!(
        others
            .iter()
            .all(|t| !t.contains("eng1") && !t.contains("loc1")),
        "{others:?}"
    );
    assert!(
        others.iter().any(|t| t.contains("sales1")),
        "root's approval of an in-scope user is visible: {others:?}"
    );
}
