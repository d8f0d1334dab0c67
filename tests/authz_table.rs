//! Every command × {role holding what it needs, role missing an operation, role with the
//! operation but the target out of scope, role holding it only for its own objects},
//! through the real dispatcher (in-process, on a real SQLite store), checking the outcome
//! and the audit record the dispatcher wrote.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine as _;
use common::inproc::Admin;
use gatehouse::admin::command::{Command, Target};
use gatehouse::admin::proto::{ErrorCode, Response};
use gatehouse::model::operation::Operation;
use gatehouse::policy::identity::IdentityKind;
use gatehouse::store::WriteOp;
use gatehouse::store::policy::{PolicyOp, Sighting};
use serde_json::{Value, json};

const TESTER: &str = "tester";

struct Harness {
    admin: Admin,
}

impl Harness {
    async fn call(&mut self, act_as: Option<&str>, op: &str, args: Value) -> Response {
        self.admin.call(act_as, op, args).await
    }

    async fn root(&mut self, op: &str, args: Value) -> Response {
        self.call(None, op, args).await
    }

    fn last_audit(&self) -> (String, String, String) {
        let r = self
            .admin
            .store
            .audit_records(1, None)
            .unwrap()
            .pop()
            .unwrap();
        (r.event.operation, r.event.outcome, r.event.detail)
    }

    async fn set_role(&mut self, ops: &str, computer: &str, user: &str) {
        let r = self.root("role.edit", json!({"name": "Probe", "ops": [ops], "computer_scope": [computer], "user_scope": [user]})).await;
        assert!(r.ok, "{r:?}");
    }
}

/// Objects every command can act on, recreated before each command (conflicts ignored).
async fn fixtures(h: &mut Harness, ca_b64: &str) {
    for (op, args) in [
        ("system.lockdown", json!({"on": false})),
        ("site.add", json!({"name": "HQ"})),
        ("site.add", json!({"name": "Branch"})),
        (
            "client.add",
            json!({"name": "c1", "address": "10.1.0.1", "secret": "a-long-enough-secret", "site": "HQ"}),
        ),
        ("user.add", json!({"user": "u1", "password": "pw-u1-long"})),
        (
            "directory.add",
            json!({"name": "CORP", "urls": ["ldap://127.0.0.1:1"], "bind_dn": "cn=x", "bind_password": "pw", "base_dns": ["dc=x"], "connect_timeout_secs": 1, "insecure_plaintext": true}),
        ),
        ("cert.trust", json!({"name": "ca1", "data_base64": ca_b64})),
        (
            "pending.import",
            json!({"csv": "username,email\np1,p1@example.org\n"}),
        ),
        (
            "role.create",
            json!({"name": "Victim", "parent": "Probe", "ops": ["report.view"]}),
        ),
        (
            "admin.add",
            json!({"name": "victim", "unix_user": "games", "role": "Victim"}),
        ),
        ("user-policy.create", json!({"name": "up1"})),
        ("user-policy.assign", json!({"name": "up1", "user": "u1"})),
        ("computer-policy.create", json!({"name": "cp1"})),
        (
            "computer-rule.add",
            json!({"name": "r1", "policy": "cp1", "site": "HQ"}),
        ),
    ] {
        let _ = h.root(op, args).await;
    }
    // Computers come from requests: one seen at HQ.
    let default = h
        .admin
        .store
        .computer_policies()
        .unwrap()
        .into_iter()
        .find(|p| p.builtin)
        .unwrap()
        .id;
    h.admin
        .store
        .write(vec![WriteOp::Policy(PolicyOp::Sightings(vec![Sighting {
            identity: COMPUTER.into(),
            kind: IdentityKind::Mac,
            randomized: false,
            site: "HQ".into(),
            policy_id: default,
            rule_id: None,
            client: "c1".into(),
            address: None,
            at: 1,
        }]))])
        .await
        .unwrap();
}

const COMPUTER: &str = "00-10-A4-23-19-C0";

/// A sample request for every command, on the fixtures above.
fn samples(ca_b64: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("status", json!({})),
        (
            "client.add",
            json!({"name": "c-new", "address": "10.1.0.9", "secret": "a-long-enough-secret", "site": "HQ"}),
        ),
        ("client.list", json!({})),
        ("client.show", json!({"name": "c1"})),
        (
            "client.edit",
            json!({"name": "c1", "rate_limit": 5, "site": "HQ"}),
        ),
        ("client.delete", json!({"name": "c1"})),
        (
            "user.add",
            json!({"user": "u-new", "password": "pw-new-long"}),
        ),
        (
            "user.import",
            json!({"lines": "imp1:{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"}),
        ),
        ("user.list", json!({})),
        ("user.show", json!({"user": "u1"})),
        (
            "user.edit",
            json!({"user": "u1", "email": "u1@example.org"}),
        ),
        ("user.enable", json!({"user": "u1"})),
        ("user.disable", json!({"user": "u1"})),
        ("user.delete", json!({"user": "u1"})),
        (
            "user.set-password",
            json!({"user": "u1", "password": "another-long-pw"}),
        ),
        ("audit.list", json!({})),
        ("audit.verify", json!({})),
        (
            "directory.add",
            json!({"name": "LAB", "urls": ["ldap://127.0.0.1:1"], "bind_dn": "cn=x", "bind_password": "pw", "base_dns": ["dc=x"], "insecure_plaintext": true}),
        ),
        ("directory.edit", json!({"name": "CORP", "page_size": 200})),
        ("directory.list", json!({})),
        ("directory.show", json!({"name": "CORP"})),
        ("directory.status", json!({"name": "CORP"})),
        ("directory.test", json!({"name": "CORP"})),
        ("directory.preview", json!({"name": "CORP"})),
        ("directory.sync", json!({"name": "CORP"})),
        (
            "directory.delete",
            json!({"name": "CORP", "confirmed": true}),
        ),
        (
            "cert.trust",
            json!({"name": "ca-new", "data_base64": ca_b64}),
        ),
        ("cert.list", json!({})),
        ("cert.show", json!({"name": "ca1"})),
        ("cert.delete", json!({"name": "ca1"})),
        (
            "pending.import",
            json!({"csv": "username,email\np2,p2@example.org\n"}),
        ),
        ("pending.list", json!({})),
        (
            "pending.update",
            json!({"user": "p1", "email": "p1b@example.org"}),
        ),
        ("pending.delete", json!({"user": "p1"})),
        ("pending.approve", json!({"user": "p1"})),
        ("role.ops", json!({})),
        ("role.list", json!({})),
        ("role.show", json!({"name": "Victim"})),
        (
            "role.create",
            json!({"name": "New Role", "parent": "Probe", "ops": ["role.edit"]}),
        ),
        (
            "role.edit",
            json!({"name": "Victim", "description": "changed"}),
        ),
        ("role.delete", json!({"name": "Victim"})),
        (
            "role.explain",
            json!({"admin": "victim", "operation": "report.view"}),
        ),
        ("admin.list", json!({})),
        (
            "admin.add",
            json!({"name": "newadmin", "unix_user": "man", "role": "Victim"}),
        ),
        (
            "admin.set-role",
            json!({"name": "victim", "role": "Victim"}),
        ),
        ("admin.disable", json!({"name": "victim"})),
        ("admin.enable", json!({"name": "victim"})),
        ("admin.remove", json!({"name": "victim"})),
        ("site.add", json!({"name": "Lab"})),
        ("site.list", json!({})),
        ("site.show", json!({"name": "Branch"})),
        (
            "site.edit",
            json!({"name": "Branch", "timezone": "Europe/Paris"}),
        ),
        ("site.delete", json!({"name": "Branch"})),
        ("system.lockdown", json!({"on": true})),
        ("user.unlock", json!({"user": "u1"})),
        (
            "user-policy.create",
            json!({"name": "up-new", "vlan": 10, "lockout_threshold": 5}),
        ),
        (
            "user-policy.edit",
            json!({"name": "up1", "mode": "monitor"}),
        ),
        ("user-policy.list", json!({})),
        ("user-policy.show", json!({"name": "up1"})),
        ("user-policy.delete", json!({"name": "up1"})),
        (
            "user-policy.assign",
            json!({"name": "up1", "user": "u1", "priority": 5}),
        ),
        ("user-policy.unassign", json!({"name": "up1", "user": "u1"})),
        (
            "computer-policy.create",
            json!({"name": "cp-new", "hours": "Mon-Fri 07:00-19:00"}),
        ),
        ("computer-policy.edit", json!({"name": "cp1", "vlan": 20})),
        ("computer-policy.list", json!({})),
        ("computer-policy.show", json!({"name": "cp1"})),
        ("computer-policy.delete", json!({"name": "cp1"})),
        (
            "computer-rule.add",
            json!({"name": "r-new", "policy": "cp1", "site": "HQ"}),
        ),
        (
            "computer-rule.edit",
            json!({"name": "r1", "identity": "00-*"}),
        ),
        ("computer-rule.move", json!({"name": "r1", "position": 1})),
        ("computer-rule.delete", json!({"name": "r1"})),
        ("computer-rule.list", json!({})),
        ("computer-rule.run", json!({"all": true, "dry_run": true})),
        ("computer.list", json!({})),
        ("computer.show", json!({"id": COMPUTER})),
        (
            "computer.edit",
            json!({"id": COMPUTER, "description": "front desk"}),
        ),
        (
            "computer.assign-policy",
            json!({"id": COMPUTER, "policy": "cp1"}),
        ),
        ("computer.delete", json!({"id": COMPUTER})),
        ("policy.explain", json!({"user": "u1", "client": "c1"})),
        ("radius.trace", json!({"duration_secs": 0})),
    ]
}

/// How to put each kind of target beyond the tester's reach while it holds the operation:
/// the scope to give the role, the request to send instead of the sample (if the sample's
/// own target cannot be made unreachable by scope), and the refusal expected. Exhaustive,
/// so a new kind of target cannot be added without saying how it is confined.
struct Unreachable {
    computer: &'static str,
    user: &'static str,
    args: Option<Value>,
    code: ErrorCode,
}

fn unreachable(target: &Target, sample: &Value, read: bool) -> Option<Unreachable> {
    let scoped = |computer, user, code| Unreachable {
        computer,
        user,
        args: None,
        code,
    };
    let with = |key: &str, value: &str, code| {
        let mut args = sample.clone();
        args[key] = json!(value);
        Unreachable {
            computer: "*",
            user: "*",
            args: Some(args),
            code,
        }
    };
    match target {
        Target::Appliance | Target::Listing => None,
        // Existing objects out of scope look exactly like missing ones.
        Target::Client(_) | Target::ClientMove { .. } => {
            Some(scoped("Branch", "*", ErrorCode::NotFound))
        }
        Target::Site(_) | Target::SiteRename { .. } => Some(scoped("HQ", "*", ErrorCode::NotFound)),
        Target::User { .. } | Target::Directory(_) => {
            Some(scoped("*", "OTHER", ErrorCode::NotFound))
        }
        // Creating outside one's scope is refused outright: there is nothing to hide.
        Target::NewClient { .. } => Some(scoped("Branch", "*", ErrorCode::PermissionDenied)),
        Target::NewUsers { .. } | Target::PlacedUsers | Target::NewDirectory(_) => {
            Some(scoped("*", "OTHER", ErrorCode::PermissionDenied))
        }
        Target::NewSite(_) => Some(scoped("HQ", "*", ErrorCode::PermissionDenied)),
        // Roles and administrators are reachable only below one's own role; reads hide
        // what is above like the listings do, changes say why they are refused.
        Target::Role(_) | Target::Admin(_) => {
            let code = if read {
                ErrorCode::NotFound
            } else {
                ErrorCode::PermissionDenied
            };
            let (key, above) = match target {
                Target::Role(_) => ("name", "Super Administrator"),
                _ if sample.get("admin").is_some() => ("admin", "tester"),
                _ => ("name", "tester"),
            };
            Some(with(key, above, code))
        }
        Target::NewRole(_) => Some(with(
            "parent",
            "Super Administrator",
            ErrorCode::PermissionDenied,
        )),
        Target::NewAdmin(_) => Some(with(
            "role",
            "Super Administrator",
            ErrorCode::PermissionDenied,
        )),
        // Policies are appliance-wide: what confines them is the access level (case 4).
        Target::Policy { .. } | Target::NewPolicy { .. } => None,
        // Assigning to a user outside one's scope looks like assigning to nobody.
        Target::Assignment { .. } | Target::Explanation { .. } => {
            Some(scoped("*", "OTHER", ErrorCode::NotFound))
        }
        Target::ComputerRule(_) | Target::Computer(_) | Target::ComputerMove { .. } => {
            Some(scoped("Branch", "*", ErrorCode::NotFound))
        }
        Target::NewComputerRule { .. } => Some(scoped("Branch", "*", ErrorCode::PermissionDenied)),
    }
}

fn ops_csv(ops: &[Operation]) -> String {
    ops.iter().map(|o| o.id()).collect::<Vec<_>>().join(",")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_times_every_kind_of_role() {
    let mut h = Harness {
        admin: Admin::start(),
    };
    let ca =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs/ca.pem"))
            .unwrap();
    let ca_b64 = base64::engine::general_purpose::STANDARD.encode(ca);

    assert!(
        h.root(
            "role.create",
            json!({"name": "Probe", "parent": "Super Administrator", "ops": ["report.view"]})
        )
        .await
        .ok
    );
    assert!(
        h.root(
            "admin.add",
            json!({"name": TESTER, "unix_user": "daemon", "role": "Probe"})
        )
        .await
        .ok
    );

    let mut covered = BTreeSet::new();
    let mut checked = 0;
    for (name, args) in samples(&ca_b64) {
        let cmd = Command::parse(name, args.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        covered.insert(cmd.name());
        let req = cmd.requirement();
        let needed: Vec<Operation> = if let Some(family) = req.read_family {
            vec![
                *Operation::ALL
                    .iter()
                    .find(|o| family.contains(**o))
                    .unwrap_or(&Operation::ReportView),
            ]
        } else {
            req.all_of.to_vec()
        };

        // 1. Holding exactly what it needs, everywhere: never denied.
        fixtures(&mut h, &ca_b64).await;
        // Roles need role.edit to be edited by the tester; "below" rules still apply.
        h.set_role(
            format!("{},role.edit,role.delete", ops_csv(&needed)).trim_start_matches(','),
            "*",
            "*",
        )
        .await;
        let r = h.call(Some(TESTER), name, args.clone()).await;
        let (op, outcome, detail) = h.last_audit();
        assert_eq!(op, name, "{name}: the dispatcher audits every request");
        assert!(
            !matches!(
                r.error.as_ref().map(|e| e.code),
                Some(ErrorCode::PermissionDenied)
            ),
            "{name}: allowed role was refused: {r:?}"
        );
        assert_ne!(outcome, "denied", "{name}: {detail}");
        checked += 1;

        // 2. Missing the operation (everything else held): refused, naming what is missing.
        if !needed.is_empty() {
            fixtures(&mut h, &ca_b64).await;
            let without: Vec<Operation> = Operation::ALL
                .iter()
                .copied()
                .filter(|o| {
                    !needed.contains(o)
                        && *o != Operation::ReportView
                        && *o != Operation::SystemLockdown
                })
                .filter(|o| req.read_family.is_none_or(|f| !f.contains(*o)))
                .collect();
            h.set_role(&ops_csv(&without), "*", "*").await;
            let r = h.call(Some(TESTER), name, args.clone()).await;
            let err = r
                .error
                .clone()
                .unwrap_or_else(|| panic!("{name}: allowed without {needed:?}"));
            assert_eq!(err.code, ErrorCode::PermissionDenied, "{name}: {err:?}");
            let (op, outcome, _) = h.last_audit();
            assert_eq!((op.as_str(), outcome.as_str()), (name, "denied"));
            checked += 1;
        }

        // 3. Holding it, target beyond reach: refused, audited as denied.
        if let Some(case) = unreachable(&req.target, &args, req.read_family.is_some()) {
            fixtures(&mut h, &ca_b64).await;
            h.set_role(&ops_csv(&needed), case.computer, case.user)
                .await;
            let by_scope = case.args.is_none();
            let sent = case.args.unwrap_or_else(|| args.clone());
            let r = h.call(Some(TESTER), name, sent).await;
            let err = r
                .error
                .clone()
                .unwrap_or_else(|| panic!("{name}: unreachable target allowed"));
            assert_eq!(err.code, case.code, "{name}: {err:?}");
            let (op, outcome, detail) = h.last_audit();
            assert_eq!((op.as_str(), outcome.as_str()), (name, "denied"));
            if by_scope && case.code == ErrorCode::NotFound {
                assert!(detail.contains("out of scope"), "{name}: {detail}");
            }
            checked += 1;
        }

        // 4. Holding it only for its own objects, on root's object: refused.
        let owned_target = matches!(
            req.target,
            Target::Client(_)
                | Target::User { .. }
                | Target::Directory(_)
                | Target::Site(_)
                | Target::Policy { .. }
                | Target::Assignment { .. }
                | Target::ComputerRule(_)
        );
        if owned_target && !req.all_of.is_empty() {
            fixtures(&mut h, &ca_b64).await;
            let own: Vec<String> = needed.iter().map(|o| format!("{}:own", o.id())).collect();
            h.set_role(&own.join(","), "*", "*").await;
            let r = h.call(Some(TESTER), name, args.clone()).await;
            let err = r
                .error
                .clone()
                .unwrap_or_else(|| panic!("{name}: :own allowed on someone else's object"));
            assert_eq!(err.code, ErrorCode::PermissionDenied, "{name}: {err:?}");
            assert!(
                err.message.contains("only for objects you created"),
                "{name}: {}",
                err.message
            );
            checked += 1;
        }
    }
    // Every command of the catalogue is in the table, once.
    assert_eq!(covered.len(), samples(&ca_b64).len(), "duplicate sample");
    let catalogue: BTreeSet<&str> = Command::ALL_NAMES.iter().copied().collect();
    let missing: Vec<_> = catalogue.difference(&covered).collect();
    assert!(missing.is_empty(), "commands without a sample: {missing:?}");
    eprintln!(
        "{checked} command × role cases checked over {} commands",
        covered.len()
    );
    let _ = h.root("system.lockdown", json!({"on": false})).await;
    assert!(h.root("audit.verify", json!({})).await.ok);
}
