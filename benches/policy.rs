//! Policy resolution per request, on the request path's own structures: 200 user policies
//! assigned to 5,000 groups and OUs, 1,000 computer assignment rules, 100,000 computers.
//! Each measured request resolves a user's policy (10,000 users, each in five groups and
//! a nested OU), normalises a Calling-Station-Id and finds its computer among the 100,000,
//! reads the user's lockout state, combines the two policies, checks the access hours in
//! the site's zone, and builds the reply attributes: everything but the credential check.
//! Run with `cargo bench --bench policy`; prints p50/p99/p99.9 in µs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use gatehouse::model::{UserRecord, UserStatus};
use gatehouse::policy::combine::Presented;
use gatehouse::policy::evaluate::{Request, evaluate};
use gatehouse::policy::identity::{IdentityKind, identify};
use gatehouse::policy::stored::PolicyKind;
use gatehouse::policy::{ComputerPolicy, Method, UserPolicy};
use gatehouse::radius::policies::{ComputerLimits, Policies};
use gatehouse::store::policy::{PolicyOp, Sighting};
use gatehouse::store::{Store, WriteOp};

const POLICIES: usize = 200;
const GROUPS: usize = 2_500;
const OUS: usize = 2_500;
const RULES: usize = 1_000;
const COMPUTERS: usize = 100_000;
const USERS: usize = 10_000;
const REQUESTS: usize = 200_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// A small deterministic generator: the bench needs spread, not randomness.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

fn mac(i: usize) -> String {
    format!(
        "00:1b:{:02x}:{:02x}:{:02x}:{:02x}",
        (i >> 24) & 0xff,
        (i >> 16) & 0xff,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

fn ou(i: usize) -> String {
    // Three levels: 25 regions × 10 departments × 10 teams = 2,500 OUs.
    format!(
        "ou=t{},ou=d{},ou=r{},dc=corp",
        i % 10,
        (i / 10) % 10,
        i / 100
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("policy bench: skipped outside `cargo bench --bench policy`");
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), &dir.path().join("key")).unwrap();
        let t = Instant::now();
        let mut ops = vec![WriteOp::Admin(gatehouse::store::admin::AdminOp::PutSite {
            site: gatehouse::model::SiteRecord {
                name: "HQ".into(),
                subnets: vec![],
                timezone: "Europe/Berlin".into(),
                created_by: "bench".into(),
                created_at: 0,
            },
            current_name: None,
        })];
        let attr = |typ: u8, value: &[u8], text: &str| gatehouse::policy::reply::ReplyAttr {
            typ,
            value: value.to_vec(),
            text: text.into(),
        };
        for p in 0..POLICIES {
            let user = UserPolicy {
                reply: vec![attr(11, format!("f{p}").as_bytes(), "Filter-Id"), attr(25, b"c", "Class")],
                ..UserPolicy::default()
            };
            ops.push(WriteOp::Policy(PolicyOp::PutPolicy {
                kind: PolicyKind::User,
                name: format!("up{p}"),
                def: serde_json::to_string(&user).unwrap(),
                created_by: "bench".into(),
                create: true,
            }));
            let computer = ComputerPolicy {
                hours: Some("Mon-Fri 07:00-19:00, Sat 08:00-12:00, Sun 22:00-06:00".parse().unwrap()),
                reply: vec![
                    attr(64, &[0, 0, 0, 13], "Tunnel-Type:0 = VLAN"),
                    attr(65, &[0, 0, 0, 6], "Tunnel-Medium-Type:0 = IEEE-802"),
                    attr(81, format!("\0{}", 100 + p).as_bytes(), "Tunnel-Private-Group-Id"),
                ],
                ..ComputerPolicy::default()
            };
            ops.push(WriteOp::Policy(PolicyOp::PutPolicy {
                kind: PolicyKind::Computer,
                name: format!("cp{p}"),
                def: serde_json::to_string(&computer).unwrap(),
                created_by: "bench".into(),
                create: true,
            }));
        }
        use gatehouse::policy::assign::Subject;
        for g in 0..GROUPS {
            ops.push(WriteOp::Policy(PolicyOp::Assign {
                policy: format!("up{}", g % POLICIES),
                subject: Subject::Group { domain: "CORP".into(), group: format!("g{g}") },
                priority: (g % 50) as i64,
                created_by: "bench".into(),
            }));
        }
        for o in 0..OUS {
            ops.push(WriteOp::Policy(PolicyOp::Assign {
                policy: format!("up{}", o % POLICIES),
                subject: Subject::Ou { domain: "CORP".into(), ou: ou(o) },
                priority: (o % 50) as i64,
                created_by: "bench".into(),
            }));
        }
        for r in 0..RULES {
            ops.push(WriteOp::Policy(PolicyOp::AddRule {
                rule: gatehouse::policy::rules::Rule {
                    id: 0,
                    name: format!("r{r}"),
                    policy: 0,
                    site: Some("HQ".into()),
                    identity: Some(format!("00-1B-00-{:02X}-*", r % 256)),
                    address: None,
                    client: None,
                },
                policy: format!("cp{}", r % POLICIES),
                position: None,
                created_by: "bench".into(),
            }));
        }
        store.write(ops).await.unwrap();
        let computer_policies: Vec<i64> =
            store.computer_policies().unwrap().iter().map(|p| p.id).collect();
        for chunk in (0..COMPUTERS).collect::<Vec<_>>().chunks(10_000) {
            let sightings = chunk
                .iter()
                .map(|&i| {
                    let id = identify(Some(mac(i).as_bytes()), None, None).unwrap();
                    Sighting {
                        identity: id.text,
                        kind: IdentityKind::Mac,
                        randomized: false,
                        site: "HQ".into(),
                        policy_id: computer_policies[i % computer_policies.len()],
                        rule_id: None,
                        client: "nas".into(),
                        address: None,
                        at: 1,
                    }
                })
                .collect();
            store.write(vec![WriteOp::Policy(PolicyOp::Sightings(sightings))]).await.unwrap();
        }
        eprintln!("fixture: {:?}", t.elapsed());

        let mut rng = Lcg(7);
        let users: Vec<UserRecord> = (0..USERS)
            .map(|i| {
                let groups: Vec<String> =
                    (0..5).map(|_| format!("cn=g{},ou=groups,dc=corp", rng.next() % GROUPS)).collect();
                let ou_path = format!("ou=x,{}", ou(rng.next() % OUS));
                UserRecord {
                    id: i as i64 + 1,
                    domain: "CORP".into(),
                    name: format!("user{i}"),
                    dn: None,
                    ou_key: gatehouse::model::scope::canonical_dn(&ou_path),
                    ou_path: Some(ou_path),
                    display_name: None,
                    email: None,
                    status: UserStatus::Active,
                    password_hash: None,
                    created_by: "bench".into(),
                    created_at: 0,
                    updated_at: 0,
                    last_login: None,
                    group_keys: groups.iter().map(|g| gatehouse::model::scope::group_key(g)).collect(),
                    groups,
                }
            })
            .collect();
        let policies = Policies::new(store.clone(), ComputerLimits::default());
        // Build the snapshot and load the computer table before measuring.
        let snapshot = policies.snapshot().unwrap();
        let now = 1_796_112_000; // a Tuesday, 09:00 in Berlin
        let stations: Vec<String> = (0..COMPUTERS).map(mac).collect();
        let one = |u: &UserRecord, station: &str| {
            let snapshot = policies.snapshot().unwrap();
            let identity = identify(Some(station.as_bytes()), None, None);
            let computer = policies
                .computer(&snapshot.set, identity.as_ref(), "HQ", "nas", None, now, true)
                .unwrap();
            let lock = policies.lock_state(u.id).unwrap();
            let eval = evaluate(
                &snapshot.set,
                &Request {
                    user: Some(u),
                    site: "HQ",
                    computer_policy: computer.policy_id,
                    presented: Presented { method: Method::Password, second_factor: false },
                    lock,
                    now: jiff::Timestamp::from_second(now).unwrap(),
                },
            );
            // As the request path builds its Access-Accept: the octets, no display text.
            let mut reply: Vec<(u8, Vec<u8>)> = Vec::new();
            eval.effective
                .for_each_reply(eval.constraints.session_cap(), |t, v| reply.push((t, v.to_vec())));
            std::hint::black_box((eval.verdict, reply.len()))
        };
        // Warm: every computer once (all known), every user once.
        for (i, s) in stations.iter().enumerate() {
            one(&users[i % USERS], s);
        }
        assert_eq!(
            policies.computer(&snapshot.set, identify(Some(stations[5].as_bytes()), None, None).as_ref(), "HQ", "nas", None, now, false).unwrap().source,
            gatehouse::radius::policies::ComputerSource::Known
        );
        let mut times = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let u = &users[rng.next() % USERS];
            let s = &stations[rng.next() % COMPUTERS];
            let t = Instant::now();
            one(u, s);
            times.push(t.elapsed().as_secs_f64() * 1e6);
        }
        times.sort_by(f64::total_cmp);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "policy resolution per request ({REQUESTS} requests; {POLICIES} user policies on {} groups/OUs, {RULES} rules, {COMPUTERS} computers, {USERS} users): mean {mean:.2} µs, p50 {:.2} µs, p99 {:.2} µs, p99.9 {:.2} µs (target p99 < 5 µs)",
            GROUPS + OUS,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 0.999)
        );
        // The rules, as a new computer meets them (registration only, not every request).
        let mut reg = Vec::with_capacity(20_000);
        for i in 0..20_000 {
            let id = identify(Some(mac(COMPUTERS + i).as_bytes()), None, None).unwrap();
            let t = Instant::now();
            let chosen = snapshot.set.rule_for(gatehouse::policy::rules::ComputerFacts {
                site: "HQ",
                identity: &id.text,
                address: None,
                client: "nas",
            });
            reg.push(t.elapsed().as_secs_f64() * 1e6);
            std::hint::black_box(chosen);
        }
        reg.sort_by(f64::total_cmp);
        println!(
            "first-match over {RULES} rules for a new computer: p50 {:.2} µs, p99 {:.2} µs",
            percentile(&reg, 0.5),
            percentile(&reg, 0.99)
        );
    });
}
