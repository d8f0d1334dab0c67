//! Invariants two administrators' requests could race, decided inside the writer's
//! transaction: every race here runs two requests at once, many times over, through the
//! real dispatcher and store, and checks the invariant after every round.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::inproc::Admin;
use gatehouse::admin::proto::Response;
use serde_json::{Value, json};

const ROUNDS: usize = 40;

/// Runs two requests at the same moment on the multi-threaded runtime.
async fn race(admin: &Admin, a: (&str, Value), b: (&str, Value)) -> (Response, Response) {
    let (ctx1, ctx2) = (admin.ctx.clone(), admin.ctx.clone());
    let (a, b) = ((a.0.to_string(), a.1), (b.0.to_string(), b.1));
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let (b1, b2) = (barrier.clone(), barrier);
    let one = tokio::spawn(async move {
        b1.wait().await;
        gatehouse::admin::dispatch::dispatch(
            &ctx1,
            0,
            gatehouse::admin::proto::Request {
                id: 1,
                op: a.0,
                args: a.1,
                act_as: None,
            },
            gatehouse::admin::handlers::Progress::default(),
        )
        .await
    });
    let two = tokio::spawn(async move {
        b2.wait().await;
        gatehouse::admin::dispatch::dispatch(
            &ctx2,
            0,
            gatehouse::admin::proto::Request {
                id: 2,
                op: b.0,
                args: b.1,
                act_as: None,
            },
            gatehouse::admin::handlers::Progress::default(),
        )
        .await
    });
    (one.await.unwrap(), two.await.unwrap())
}

async fn enabled_supers(admin: &Admin) -> usize {
    admin.ok("admin.list", json!({})).await["admins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["enabled"] == true && a["role"] == "Super Administrator")
        .count()
}

/// Two super administrators bound to accounts every Debian system has.
async fn two_supers(admin: &Admin) {
    for (name, unix) in [("sa1", "daemon"), ("sa2", "bin")] {
        let r = admin
            .call(
                None,
                "admin.add",
                json!({"name": name, "unix_user": unix, "role": "Super Administrator"}),
            )
            .await;
        if !r.ok {
            admin.ok("admin.enable", json!({"name": name})).await;
            admin
                .ok(
                    "admin.set-role",
                    json!({"name": name, "role": "Super Administrator"}),
                )
                .await;
        }
    }
    assert_eq!(enabled_supers(admin).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_enabled_super_administrator_survives_every_race() {
    let admin = Admin::start();
    for round in 0..ROUNDS {
        two_supers(&admin).await;
        let (a, b) = race(
            &admin,
            (
                "admin.set-role",
                json!({"name": "sa1", "role": "Help Desk"}),
            ),
            (
                "admin.set-role",
                json!({"name": "sa2", "role": "Help Desk"}),
            ),
        )
        .await;
        assert_eq!(
            enabled_supers(&admin).await,
            1,
            "demotions, round {round}: {a:?} {b:?}"
        );
        assert!(a.ok != b.ok, "exactly one demotion is refused: {a:?} {b:?}");

        two_supers(&admin).await;
        let (a, b) = race(
            &admin,
            ("admin.disable", json!({"name": "sa1"})),
            ("admin.disable", json!({"name": "sa2"})),
        )
        .await;
        assert_eq!(
            enabled_supers(&admin).await,
            1,
            "disables, round {round}: {a:?} {b:?}"
        );

        two_supers(&admin).await;
        let (a, b) = race(
            &admin,
            ("admin.remove", json!({"name": "sa1"})),
            ("admin.remove", json!({"name": "sa2"})),
        )
        .await;
        assert_eq!(
            enabled_supers(&admin).await,
            1,
            "removals, round {round}: {a:?} {b:?}"
        );
        let refused = if a.ok { &b } else { &a };
        assert!(
            refused
                .error
                .as_ref()
                .is_some_and(|e| e.message.contains("last enabled Super Administrator")),
            "{refused:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_parent_edits_never_make_a_cycle_and_never_report_a_committed_change_as_failed()
{
    let admin = Admin::start();
    for round in 0..ROUNDS {
        let (ra, rb) = (format!("RA{round}"), format!("RB{round}"));
        for r in [&ra, &rb] {
            admin
                .ok(
                    "role.create",
                    json!({"name": r, "parent": "Super Administrator", "ops": ["report.view"]}),
                )
                .await;
        }
        let (a, b) = race(
            &admin,
            ("role.edit", json!({"name": ra, "parent": rb})),
            ("role.edit", json!({"name": rb, "parent": ra})),
        )
        .await;
        assert!(
            !(a.ok && b.ok),
            "both parent edits succeeded: a cycle, round {round}"
        );
        // Both roles still resolve, and what each reply said is what was committed.
        for (role, reply, other) in [(&ra, &a, &rb), (&rb, &b, &ra)] {
            let shown = admin.ok("role.show", json!({"name": role})).await;
            assert!(shown["role"]["effective"].is_object(), "{shown}");
            let parent = shown["role"]["parent"].as_str().unwrap();
            if reply.ok {
                assert_eq!(parent, other.as_str(), "round {round}");
            } else {
                assert_eq!(parent, "Super Administrator", "round {round}: {reply:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowing_is_never_lost_to_a_concurrent_edit() {
    let admin = Admin::start();
    for round in 0..ROUNDS {
        let name = format!("LU{round}");
        admin
            .ok("role.create", json!({"name": name, "parent": "Super Administrator", "ops": ["report.view,user.edit,user.delete"]}))
            .await;
        let narrowing = ("role.edit", json!({"name": name, "ops": ["report.view"]}));
        let describing = ("role.edit", json!({"name": name, "description": "x"}));
        // Either may reach the writer first: alternate who starts.
        let (narrow, describe) = if round % 2 == 0 {
            race(&admin, narrowing, describing).await
        } else {
            let (d, n) = race(&admin, describing, narrowing).await;
            (n, d)
        };
        let shown = admin.ok("role.show", json!({"name": name})).await;
        let ops = shown["role"]["own"]["ops"].to_string();
        if narrow.ok {
            assert!(
                !ops.contains("user.delete"),
                "round {round}: the narrowing was lost: {ops} ({describe:?})"
            );
        } else {
            // Refused as a conflict, never silently: the caller repeats it.
            assert!(
                narrow
                    .error
                    .as_ref()
                    .is_some_and(|e| e.message.contains("changed by someone else")),
                "{narrow:?}"
            );
        }
        if !describe.ok {
            assert!(
                describe
                    .error
                    .as_ref()
                    .is_some_and(|e| e.message.contains("changed by someone else")),
                "{describe:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_is_never_deleted_while_it_is_being_assigned() {
    let admin = Admin::start();
    admin
        .ok(
            "admin.add",
            json!({"name": "holder", "unix_user": "sys", "role": "Help Desk"}),
        )
        .await;
    for round in 0..ROUNDS {
        let name = format!("RD{round}");
        admin
            .ok(
                "role.create",
                json!({"name": name, "parent": "Super Administrator", "ops": ["report.view"]}),
            )
            .await;
        let (delete, assign) = race(
            &admin,
            ("role.delete", json!({"name": name})),
            ("admin.set-role", json!({"name": "holder", "role": name})),
        )
        .await;
        assert!(
            !(delete.ok && assign.ok),
            "round {round}: an administrator holds a deleted role"
        );
        let holder = admin.ok("admin.list", json!({})).await["admins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "holder")
            .cloned()
            .unwrap();
        let role = holder["role"].as_str().unwrap().to_string();
        let shown = admin.call(None, "role.show", json!({"name": role})).await;
        assert!(
            shown.ok,
            "round {round}: holder's role {role} does not exist"
        );
        admin
            .ok(
                "admin.set-role",
                json!({"name": "holder", "role": "Help Desk"}),
            )
            .await;
    }
}
