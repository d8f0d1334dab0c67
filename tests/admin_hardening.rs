//! The administration hardening found in review, through the real dispatcher on a real
//! store: scoped reads that return what exists in scope (and nothing else), client
//! addresses that cannot be shadowed, the Site Administrator template, reserved and
//! confusable names, break-glass rules, bounded hash parameters, LDAP pass-back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::inproc::Admin;
use gatehouse::admin::proto::ErrorCode;
use serde_json::{Value, json};

/// Root makes `role` (under Super Administrator) and binds `admin` to Unix user `unix`.
async fn delegate(a: &Admin, admin: &str, unix: &str, role: Value) {
    let mut role = role;
    role["parent"] = json!("Super Administrator");
    let name = role["name"].clone();
    a.ok("role.create", role).await;
    a.ok(
        "admin.add",
        json!({"name": admin, "unix_user": unix, "role": name}),
    )
    .await;
}

async fn ok_as(a: &Admin, who: &str, op: &str, args: Value) -> Value {
    let r = a.call(Some(who), op, args).await;
    assert!(r.ok, "{who} {op}: {r:?}");
    r.result.unwrap_or(Value::Null)
}

fn records(v: &Value) -> Vec<Value> {
    v["records"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_audit_list_returns_limit_records_when_that_many_exist_in_scope() {
    let a = Admin::start();
    a.ok("site.add", json!({"name": "Branch"})).await;
    for i in 1..=5 {
        a.ok(
            "client.add",
            json!({"name": format!("hq{i}"), "address": format!("10.0.0.{i}"), "secret": "a-long-enough-secret", "site": "HQ"}),
        )
        .await;
    }
    a.ok(
        "client.add",
        json!({"name": "b1", "address": "10.9.0.1", "secret": "a-long-enough-secret", "site": "Branch"}),
    )
    .await;
    delegate(
        &a,
        "aud",
        "daemon",
        json!({"name": "HQ Auditor", "ops": ["report.view"], "computer_scope": ["HQ"]}),
    )
    .await;
    // Far more newer records out of scope than any window over the in-scope ones.
    for i in 0..300 {
        a.ok("client.edit", json!({"name": "b1", "rate_limit": i + 1}))
            .await;
    }

    let got = records(&ok_as(&a, "aud", "audit.list", json!({"limit": 5})).await);
    assert_eq!(got.len(), 5, "{got:#?}");
    for r in &got {
        assert_eq!(r["tags"]["site"], "HQ", "{r}");
        assert_eq!(r["operation"], "client.add", "{r}");
    }
    // Everything in scope: the five clients and the site's own record, and no more.
    let all = ok_as(&a, "aud", "audit.list", json!({"limit": 1000})).await;
    let targets: Vec<String> = records(&all)
        .iter()
        .map(|r| r["target"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !targets
            .iter()
            .any(|t| t.contains("b1") || t.contains("Branch"))
    );
    assert_eq!(
        targets
            .iter()
            .filter(|t| t.starts_with("client:hq"))
            .count(),
        5
    );
    assert_eq!(all["more"], false);
    // Root sees the out-of-scope records and is told there are more.
    let root = a
        .ok(
            "audit.list",
            json!({"limit": 5, "operation": "client.edit"}),
        )
        .await;
    assert!(records(&root).iter().all(|r| r["target"] == "client:b1"));
    assert_eq!(root["more"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_list_filters_by_user_client_outcome_and_time() {
    let a = Admin::start();
    a.ok(
        "client.add",
        json!({"name": "nas1", "address": "10.0.0.1", "secret": "a-long-enough-secret"}),
    )
    .await;
    a.ok(
        "user.add",
        json!({"user": "alice", "password": "alice-long-pw"}),
    )
    .await;
    a.ok(
        "user.add",
        json!({"user": "bob", "password": "bob-long-pw1"}),
    )
    .await;
    let before = gatehouse::time::system().now_unix();
    a.err(None, "user.delete", json!({"user": "nosuch"})).await;

    let alice = records(&a.ok("audit.list", json!({"user": "alice"})).await);
    assert_eq!(alice.len(), 1);
    assert_eq!(alice[0]["operation"], "user.add");
    let nas = records(&a.ok("audit.list", json!({"client": "nas1"})).await);
    assert_eq!(nas.len(), 1);
    assert_eq!(nas[0]["operation"], "client.add");
    let denied = records(&a.ok("audit.list", json!({"outcome": "denied"})).await);
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["operation"], "user.delete");
    let since = records(&a.ok("audit.list", json!({"since": before})).await);
    assert!(since.iter().any(|r| r["operation"] == "user.delete"));
    let until = records(&a.ok("audit.list", json!({"until": before - 3600})).await);
    assert!(until.is_empty(), "{until:?}");
    let e = a.err(None, "audit.list", json!({"outcome": "maybe"})).await;
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    let e = a
        .err(None, "audit.list", json!({"limit": 10_000_000}))
        .await;
    assert_eq!(e.code, ErrorCode::InvalidArgument);
    assert!(e.message.contains("at most"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_scope_targets_look_missing_and_reads_are_cut() {
    let a = Admin::start();
    a.ok("site.add", json!({"name": "Branch"})).await;
    a.ok(
        "client.add",
        json!({"name": "bnas", "address": "10.9.0.1", "secret": "a-long-enough-secret", "site": "Branch"}),
    )
    .await;
    a.ok(
        "user.add",
        json!({"user": "ceo", "password": "ceo-long-pw1"}),
    )
    .await;
    a.ok(
        "pending.import",
        json!({"csv": "username,domain\nsales1,CORP\nother1,LAB\n"}),
    )
    .await;
    delegate(
        &a,
        "aud",
        "daemon",
        json!({"name": "HQ Auditor", "ops": ["report.view", "role.edit"], "computer_scope": ["HQ"], "user_scope": ["CORP"]}),
    )
    .await;
    a.ok(
        "role.create",
        json!({"name": "Helpdesk", "parent": "HQ Auditor", "ops": ["report.view"], "computer_scope": ["HQ"], "user_scope": ["CORP"]}),
    )
    .await;
    a.ok(
        "admin.add",
        json!({"name": "desk", "unix_user": "bin", "role": "Helpdesk"}),
    )
    .await;
    a.ok(
        "role.create",
        json!({"name": "Elsewhere", "parent": "Super Administrator", "ops": ["report.view"]}),
    )
    .await;
    a.ok(
        "admin.add",
        json!({"name": "other", "unix_user": "sys", "role": "Elsewhere"}),
    )
    .await;

    // role explain: an existing out-of-scope target and a missing one are answered alike.
    for (existing, missing) in [
        ("client:bnas", "client:nosuch"),
        ("site:Branch", "site:Nowhere"),
        ("user:ceo", "user:nosuch"),
        ("user:LAB\\other1", "user:LAB\\nosuch"),
    ] {
        let explain =
            |target: &str| json!({"admin": "desk", "operation": "report.view", "target": target});
        let answer = |target: &str, r: gatehouse::admin::proto::Response| {
            let name = target.split_once(':').unwrap().1;
            let name = name.rsplit('\\').next().unwrap();
            serde_json::to_string(&r).unwrap().replace(name, "X")
        };
        let r1 = a.call(Some("aud"), "role.explain", explain(existing)).await;
        let r2 = a.call(Some("aud"), "role.explain", explain(missing)).await;
        assert!(!format!("{r1:?}").contains("out of scope"), "{r1:?}");
        assert_eq!(answer(existing, r1), answer(missing, r2));
    }

    // status: counts cut to the reader's domains; global facts only for global readers.
    let status = ok_as(&a, "aud", "status", json!({})).await;
    let text = status.to_string();
    assert!(!text.contains("gatehouse.db"), "{text}");
    let users = &status["store"]["users"];
    let total: u64 = users
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(total, 1, "only CORP's pending user: {status:#}");

    // admin list and role list/show: only what is below the reader.
    let admins = ok_as(&a, "aud", "admin.list", json!({})).await.to_string();
    assert!(admins.contains("desk"), "{admins}");
    assert!(
        !admins.contains("\"other\"") && !admins.contains("\"name\":\"root\""),
        "{admins}"
    );
    let roles = ok_as(&a, "aud", "role.list", json!({})).await;
    let names: Vec<&str> = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["HQ Auditor", "Helpdesk"]);
    let e = a
        .err(Some("aud"), "role.show", json!({"name": "Elsewhere"}))
        .await;
    assert_eq!(e.code, ErrorCode::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_addresses_cannot_shadow_one_another() {
    let a = Admin::start();
    a.ok(
        "site.add",
        json!({"name": "Branch", "subnets": ["10.9.0.0/16"]}),
    )
    .await;
    let add = |name: &str, address: &str, site: &str| json!({"name": name, "address": address, "secret": "a-long-enough-secret", "site": site});
    a.ok("client.add", add("hqnet", "10.0.0.0/24", "HQ")).await;
    a.ok("client.add", add("bnas", "10.9.0.1", "Branch")).await;
    delegate(
        &a,
        "bra",
        "daemon",
        json!({"name": "Branch Admin", "ops": ["radius.client.update"], "computer_scope": ["Branch"]}),
    )
    .await;

    // Inside another site's network: refused, naming the holder only to those who see it.
    let e = a
        .err(None, "client.add", add("shadow", "10.0.0.7", "HQ"))
        .await;
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert!(e.message.contains("hqnet"), "{}", e.message);
    let e = a
        .err(
            Some("bra"),
            "client.add",
            add("shadow", "10.0.0.7", "Branch"),
        )
        .await;
    assert!(
        matches!(e.code, ErrorCode::Conflict | ErrorCode::PermissionDenied),
        "{e:?}"
    );
    assert!(!e.message.contains("hqnet"), "{}", e.message);
    // The same address exactly, or a network covering an existing client: refused.
    let e = a
        .err(Some("bra"), "client.add", add("dup", "10.9.0.1", "Branch"))
        .await;
    assert_eq!(e.code, ErrorCode::Conflict);
    let e = a
        .err(
            Some("bra"),
            "client.add",
            add("wide", "10.9.0.0/24", "Branch"),
        )
        .await;
    assert_eq!(e.code, ErrorCode::Conflict);
    // The site's subnets bound a scoped administrator's addresses.
    let e = a
        .err(Some("bra"), "client.add", add("far", "192.0.2.1", "Branch"))
        .await;
    assert!(e.message.contains("10.9.0.0/16"), "{}", e.message);
    ok_as(&a, "bra", "client.add", add("bnas2", "10.9.0.2", "Branch")).await;
    // An explicit more-specific override by someone whose scope covers both, audited.
    a.ok(
        "client.add",
        json!({"name": "specific", "address": "10.0.0.9", "secret": "a-long-enough-secret", "site": "HQ", "allow_overlap": true}),
    )
    .await;
    let last = a
        .ok("audit.list", json!({"limit": 1, "operation": "client.add"}))
        .await;
    assert_eq!(records(&last)[0]["detail"]["allow_overlap"], true);
    let e = a
        .err(
            Some("bra"),
            "client.add",
            json!({"name": "sneak", "address": "10.0.0.10", "secret": "a-long-enough-secret", "site": "Branch", "allow_overlap": true}),
        )
        .await;
    assert_ne!(e.code, ErrorCode::Conflict, "{e:?}");
    // Editing an address onto another client's is refused the same way.
    let e = a
        .err(
            None,
            "client.edit",
            json!({"name": "bnas2", "address": "10.9.0.1"}),
        )
        .await;
    assert!(e.message.contains("bnas"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_administrator_template_derives_site_roles() {
    let a = Admin::start();
    a.ok("site.add", json!({"name": "Branch"})).await;
    let made = a.ok(
            "role.create",
            json!({"name": "Branch Admins", "parent": "Site Administrator", "computer_scope": ["Branch"]}),
        )
        .await;
    assert_ne!(
        made["role"]["effective"]["user_scope"], "everything",
        "{made:#}"
    );
    let shown = a
        .ok("role.show", json!({"name": "Branch Admins"}))
        .await
        .to_string();
    assert!(shown.contains("Branch"), "{shown}");
    a.ok(
        "admin.add",
        json!({"name": "bra", "unix_user": "daemon", "role": "Branch Admins"}),
    )
    .await;
    let explain = |op: &str, target: Option<&str>| {
        let mut args = json!({"admin": "bra", "operation": op});
        if let Some(t) = target {
            args["target"] = json!(t);
        }
        args
    };
    a.ok(
        "user.add",
        json!({"user": "alice", "password": "alice-long-pw"}),
    )
    .await;
    let r = a
        .ok("role.explain", explain("user.edit", Some("user:alice")))
        .await;
    assert_eq!(r["allowed"], false, "no user scope unless named: {r}");
    let r = a
        .ok(
            "role.explain",
            explain("radius.client.update", Some("site:Branch")),
        )
        .await;
    assert_eq!(r["allowed"], true, "{r}");
    let r = a
        .ok(
            "role.explain",
            explain("radius.client.update", Some("site:HQ")),
        )
        .await;
    assert_eq!(r["allowed"], false, "{r}");
    for op in [
        "directory.delete",
        "directory.edit",
        "system.lockdown",
        "site.edit",
    ] {
        let r = a.ok("role.explain", explain(op, None)).await;
        assert_eq!(r["allowed"], false, "{op}: {r}");
    }

    // Deriving must name a site; the template itself is never assigned.
    let e = a
        .err(
            None,
            "role.create",
            json!({"name": "Nowhere Admins", "parent": "Site Administrator"}),
        )
        .await;
    assert!(e.message.contains("computer"), "{}", e.message);
    let e = a
        .err(
            None,
            "admin.add",
            json!({"name": "tmpl", "unix_user": "daemon", "role": "Site Administrator"}),
        )
        .await;
    assert!(e.message.contains("template"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_and_confusable_names_are_refused() {
    let a = Admin::start();
    for name in ["root", "sync:CORP", "a:b"] {
        let e = a
            .err(
                None,
                "admin.add",
                json!({"name": name, "unix_user": "daemon", "role": "Super Administrator"}),
            )
            .await;
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{name}: {e:?}");
    }
    let roles_before = a.ok("role.list", json!({})).await;
    for role in [
        " Super Administrator",
        "Super Administrator ",
        "super administrator",
        "Super Adm\u{0456}nistrator",
        "Super\u{200b}Administrator",
        "Super Administrator\u{301}",
    ] {
        let e = a
            .err(
                None,
                "role.create",
                json!({"name": role, "parent": "Super Administrator", "ops": ["report.view"]}),
            )
            .await;
        assert_ne!(e.code, ErrorCode::Internal, "{role:?}: {e:?}");
    }
    assert_eq!(a.ok("role.list", json!({})).await, roles_before);
    a.ok(
        "user.add",
        json!({"user": "\u{e9}va", "password": "eva-long-pw1"}),
    )
    .await;
    a.ok(
        "user.add",
        json!({"user": "\u{c5}SA", "password": "asa-long-pw1"}),
    )
    .await;
    a.ok(
        "user.add",
        json!({"user": "alice", "password": "alice-long-pw"}),
    )
    .await;
    for user in [
        "e\u{301}va",
        "\u{e5}sa",
        "\u{430}lice",
        " alice",
        "zw\u{200b}j",
        "al\u{7}ice",
    ] {
        let e = a
            .err(
                None,
                "user.add",
                json!({"user": user, "password": "long-enough-pw"}),
            )
            .await;
        assert!(
            matches!(e.code, ErrorCode::InvalidArgument | ErrorCode::Conflict),
            "{user:?}: {e:?}"
        );
    }
    // The NFC spelling finds the account made from either spelling.
    a.ok("user.show", json!({"user": "e\u{301}va"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_is_not_break_glass_when_switched_off() {
    let a = Admin::start_with("[admin]\nroot_is_super_admin = false\n");
    let e = a.err(None, "status", json!({})).await;
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    let e = a.err(None, "client.list", json!({})).await;
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_hashes_with_unbounded_parameters_are_refused_by_line() {
    let a = Admin::start();
    let good = "ok1:{SSHA}7Ee/p3jzu1492MTAWVJHMsj4P55zYWx0c2FsdA==";
    let huge_argon = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$2nAeHWZAcwIjfWdW6nWuL5bJjQfHqhRfmJ0Bq9cH3mY";
    let slow_crypt = "$6$rounds=999999999$saltsalt$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./abcdefghijklmnopqrstuv";
    for (hash, what) in [(huge_argon, "memory"), (slow_crypt, "rounds")] {
        let lines = format!("{good}\nbad:{hash}\n");
        let e = a.err(None, "user.import", json!({"lines": lines})).await;
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{e:?}");
        assert!(
            e.message.contains("line 2") && e.message.contains(what),
            "{}",
            e.message
        );
        // All or nothing: the good line before it was not imported either.
        let e = a.err(None, "user.show", json!({"user": "ok1"})).await;
        assert_eq!(e.code, ErrorCode::NotFound);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_cannot_be_repointed_without_its_password() {
    let a = Admin::start();
    let base = json!({"name": "CORP", "urls": ["ldap://127.0.0.1:1"], "starttls": true, "bind_dn": "cn=x", "bind_password": "stored-pw", "base_dns": ["dc=x"]});
    a.ok("directory.add", base.clone()).await;
    for change in [
        json!({"name": "CORP", "urls": ["ldap://attacker.example:389"]}),
        json!({"name": "CORP", "starttls": false, "insecure_plaintext": true}),
        json!({"name": "CORP", "bind_dn": "cn=y"}),
    ] {
        let e = a.err(None, "directory.edit", change.clone()).await;
        assert_eq!(e.code, ErrorCode::InvalidArgument, "{change}: {e:?}");
        assert!(e.message.contains("bind password"), "{}", e.message);
    }
    let with_pw =
        json!({"name": "CORP", "urls": ["ldap://127.0.0.2:1"], "bind_password": "stored-pw"});
    a.ok("directory.edit", with_pw).await;
    // Other settings need no password.
    a.ok("directory.edit", json!({"name": "CORP", "page_size": 100}))
        .await;

    // Plain ldap:// without StartTLS needs saying so, and is then warned about.
    let mut plain = base.clone();
    plain["name"] = json!("LAB");
    plain["starttls"] = json!(false);
    let e = a.err(None, "directory.add", plain.clone()).await;
    assert!(e.message.contains("insecure"), "{}", e.message);
    plain["insecure_plaintext"] = json!(true);
    a.ok("directory.add", plain).await;
    let shown = a
        .ok("directory.show", json!({"name": "LAB"}))
        .await
        .to_string();
    assert!(
        shown.contains("plaintext") || shown.contains("insecure"),
        "{shown}"
    );
    let status = a.ok("status", json!({})).await.to_string();
    assert!(status.contains("LAB"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_with_its_private_key_is_refused() {
    let a = Admin::start();
    let cert = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs/ca.pem"),
    )
    .unwrap();
    let with_key = format!(
        "{cert}-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
    );
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(with_key);
    let e = a
        .err(
            None,
            "cert.trust",
            json!({"name": "ca", "data_base64": b64}),
        )
        .await;
    assert!(e.message.contains("private key"), "{}", e.message);
    let listed = a.ok("cert.list", json!({})).await.to_string();
    assert!(!listed.contains("\"ca\""), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ou_scope_compares_parsed_dns() {
    let a = Admin::start();
    a.ok(
        "pending.import",
        json!({"csv": "username,domain,ou\nsneaky,CORP,\"ou=NotSales\\,ou=Sales,dc=corp\"\nspaced,CORP,\"ou=East, ou=Sales, dc=corp\"\nupper,CORP,\"OU=West,OU=Sales,DC=Corp\"\n"}),
    )
    .await;
    delegate(
        &a,
        "sales",
        "daemon",
        json!({"name": "Sales", "ops": ["report.view"], "user_scope": ["CORP:ou=Sales,dc=corp"]}),
    )
    .await;
    let listed = ok_as(&a, "sales", "pending.list", json!({}))
        .await
        .to_string();
    assert!(
        listed.contains("spaced") && listed.contains("upper"),
        "{listed}"
    );
    assert!(!listed.contains("sneaky"), "{listed}");
}

/// Scopes name sites, so a rename is a move: the new name must be within scope too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_site_cannot_move_it_out_of_scope() {
    let a = Admin::start();
    a.ok("site.add", json!({"name": "Branch"})).await;
    delegate(
        &a,
        "sites",
        "daemon",
        json!({"name": "Sites", "ops": ["site.edit"], "computer_scope": ["Branch"]}),
    )
    .await;
    let e = a
        .err(
            Some("sites"),
            "site.edit",
            json!({"name": "Branch", "new_name": "Elsewhere"}),
        )
        .await;
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    a.ok("site.show", json!({"name": "Branch"})).await;
    // Editing the site in place is still allowed.
    ok_as(
        &a,
        "sites",
        "site.edit",
        json!({"name": "Branch", "timezone": "Europe/Paris"}),
    )
    .await;
}

/// An import says where each user goes: every place is decided before anything runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_import_is_decided_on_every_place_it_creates_users() {
    let a = Admin::start();
    delegate(
        &a,
        "corp",
        "daemon",
        json!({"name": "Corp Onboarding", "ops": ["pending.update", "pending.delete", "pending.approve"], "user_scope": ["CORP"]}),
    )
    .await;
    ok_as(
        &a,
        "corp",
        "pending.import",
        json!({"csv": "username,domain\nnew1,CORP\n"}),
    )
    .await;
    let e = a
        .err(
            Some("corp"),
            "pending.import",
            json!({"csv": "username,domain\nnew2,CORP\nspy,LAB\n"}),
        )
        .await;
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    assert!(e.message.contains("LAB"), "{}", e.message);
    let last = a
        .ok(
            "audit.list",
            json!({"limit": 1, "operation": "pending.import"}),
        )
        .await;
    assert_eq!(records(&last)[0]["outcome"], "denied");
    let e = a
        .err(None, "user.show", json!({"user": "CORP\\new2"}))
        .await;
    assert_eq!(e.code, ErrorCode::NotFound);
}

/// A look-alike of an administrator the caller cannot see is refused all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrator_look_alikes_are_refused_even_when_unseen() {
    let a = Admin::start();
    a.ok(
        "admin.add",
        json!({"name": "alice", "unix_user": "bin", "role": "Super Administrator"}),
    )
    .await;
    delegate(
        &a,
        "hr",
        "daemon",
        json!({"name": "HR", "ops": ["role.edit", "report.view"]}),
    )
    .await;
    a.ok(
        "role.create",
        json!({"name": "Clerk", "parent": "HR", "ops": ["report.view"]}),
    )
    .await;
    let seen = ok_as(&a, "hr", "admin.list", json!({})).await.to_string();
    assert!(!seen.contains("\"alice\""), "{seen}");
    let e = a
        .err(
            Some("hr"),
            "admin.add",
            json!({"name": "\u{430}lice", "unix_user": "sys", "role": "Clerk"}),
        )
        .await;
    assert_eq!(e.code, ErrorCode::InvalidArgument, "{e:?}");
}
