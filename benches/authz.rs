//! Authorization cost: the dispatcher's decision for an administrator whose role sits at
//! the bottom of a 10-deep hierarchy, among 1,000 roles, on a store of 100,000 users.
//! Run with `cargo bench --bench authz`. Prints µs per decision (p50/p99) for the decision
//! alone (administrator lookup, effective rights, target facts, decide) and for a whole
//! read request through `dispatch` (which also commits its audit record).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use gatehouse::admin::authz;
use gatehouse::admin::command::Command;
use gatehouse::admin::dispatch::{dispatch, resolve_actor};
use gatehouse::admin::facts::target_facts;
use gatehouse::admin::handlers::Progress;
use gatehouse::admin::proto::Request;
use gatehouse::config::Config;
use gatehouse::model::AdminRecord;
use gatehouse::model::operation::Operation;
use gatehouse::model::role::{RoleDef, SUPER_ADMINISTRATOR};
use gatehouse::model::{AccessLevel, ComputerScope, UserScope};
use gatehouse::model::{NewUser, UserStatus};
use gatehouse::store::admin::AdminOp;
use gatehouse::store::{Store, WriteOp};
use serde_json::json;

const USERS: usize = 100_000;
const CHAINS: usize = 100;
const DEPTH: usize = 10;
const DECISIONS: usize = 20_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, unoptimised: only `cargo bench`
    // (which passes --bench) measures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("authz bench: skipped outside `cargo bench --bench authz`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("[appliance]\nname = \"bench\"\nsite = \"HQ\"\nstate_dir = \"{}\"\n", dir.path().display());
        let config = Config::from_toml_with_env(Path::new("bench.toml"), &text, std::iter::empty()).unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();

        let t = Instant::now();
        let users: Vec<NewUser> = (0..USERS)
            .map(|i| NewUser {
                domain: "CORP".into(),
                name: format!("u{i:06}"),
                display_name: None,
                email: None,
                status: UserStatus::Active,
                password_hash: None,
                ou_path: Some(format!("ou=Team{},ou=People,dc=corp", i % 50)),
            })
            .collect();
        store.write(vec![WriteOp::AddUsers { users, created_by: "bench".into() }]).await.unwrap();
        let mut ops = Vec::new();
        let all: Vec<Operation> = Operation::ALL.to_vec();
        for c in 0..CHAINS {
            let mut parent = SUPER_ADMINISTRATOR.to_string();
            for d in 0..DEPTH {
                let name = format!("chain{c}-level{d}");
                // Each level drops a few operations and narrows the scope a little.
                let held: BTreeMap<Operation, AccessLevel> =
                    all.iter().skip(d).map(|o| (*o, if d > 7 && o.id().starts_with("token.") { AccessLevel::Own } else { AccessLevel::All })).collect();
                let user_scope = if d == 0 { Some(UserScope::Domains(vec![("CORP".into(), None)])) } else { None };
                let computer_scope = (d == 1).then(|| ComputerScope::Sites(vec!["HQ".into(), format!("S{c}")]));
                ops.push(WriteOp::Admin(AdminOp::PutRole {
                    def: RoleDef { name: name.clone(), parent: Some(parent.clone()), description: String::new(), ops: Some(held), user_scope, computer_scope, requires_scope: false },
                    created_by: "bench".into(),
                    expected_version: None,
                }));
                parent = name;
            }
            ops.push(WriteOp::Admin(AdminOp::AddAdmin {
                record: AdminRecord {
                    id: 0,
                    name: format!("admin{c}"),
                    unix_user: format!("bench{c}"),
                    uid: 200_000 + u32::try_from(c).unwrap(),
                    role: parent,
                    enabled: true,
                    created_by: "bench".into(),
                    created_at: 0,
                },
            }));
        }
        store.write(ops).await.unwrap();
        let (_radius, ctx) = gatehouse::service::run::contexts(&config, std::path::Path::new("bench.toml"), store.clone(), vec![], gatehouse::time::system()).unwrap();
        eprintln!("setup: {USERS} users, {} roles, {CHAINS} administrators in {:?}", CHAINS * DEPTH, t.elapsed());

        // Decision alone, as the dispatcher makes it.
        let mut samples = Vec::with_capacity(DECISIONS);
        let mut allowed = 0usize;
        for i in 0..DECISIONS {
            let admin_name = format!("admin{}", i % CHAINS);
            let user = format!("CORP\\u{:06}", (i * 7919) % USERS);
            let start = Instant::now();
            let actor = resolve_actor(&ctx, 0, Some(&admin_name)).unwrap();
            let cmd = Command::parse("user.enable", json!({"user": user})).unwrap();
            let req = cmd.requirement();
            let roles = ctx.roles().unwrap();
            let facts = target_facts(&ctx, &actor, &cmd, &req.target, &roles).unwrap();
            let gate = authz::Gate { lockdown: false, roles: &roles };
            let decision = authz::explain(&actor, &req, &facts, &gate);
            samples.push(start.elapsed().as_secs_f64() * 1e6);
            allowed += usize::from(decision.is_ok());
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "decision (admin lookup + effective rights over 10 levels + target facts + decide): p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs over {DECISIONS} ({allowed} allowed)",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            samples.iter().sum::<f64>() / samples.len() as f64,
        );

        // A whole read request through dispatch, its audit record committed.
        let mut samples = Vec::with_capacity(2000);
        for i in 0..2000u64 {
            let req = Request {
                id: i,
                op: "user.show".into(),
                args: json!({"user": format!("CORP\\u{:06}", (i as usize * 31) % USERS)}),
                act_as: Some(format!("admin{}", i as usize % CHAINS)),
            };
            let start = Instant::now();
            let r = dispatch(&ctx, 0, req, Progress::default()).await;
            samples.push(start.elapsed().as_secs_f64() * 1e6);
            assert!(r.ok || r.error.is_some());
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "full dispatch of user.show (decision + handler + durable audit commit): p50 {:.1} µs, p99 {:.1} µs",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    });
}
