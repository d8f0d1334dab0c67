//! Users' groups from a real slapd: from `memberOf`, or by searching the groups
//! (`member`, `uniqueMember`, `memberUid`); a removal reaching the next sync; incremental
//! runs noticing a change made on a group's entry only; nested groups, cycles included.
//! Runs go through the real admin dispatcher onto a real store, which the tests read to
//! see the groups as stored; the options' command-line path runs against the real daemon.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::Daemon;
use common::directory::{FILTER, add_directory};
use common::inproc::Admin;
use common::slapd::{Slapd, SlapdOptions};
use serde_json::{Value, json};

fn slapd(users: usize) -> Slapd {
    Slapd::start(SlapdOptions {
        users,
        size_limit: None,
        tls: false,
    })
}

/// `directory.add NAME` for slapd's ou=People with the sync account, plus `extra`.
async fn add(a: &Admin, slapd: &Slapd, name: &str, extra: Value) {
    let mut args = json!({
        "name": name,
        "urls": [slapd.ldap_url()],
        "bind_dn": slapd.sync_dn(),
        "bind_password": slapd.sync_password(),
        "base_dns": [slapd.people_dn()],
        "user_filter": FILTER,
        "insecure_plaintext": true,
        "page_size": 7,
    });
    for (k, v) in extra.as_object().unwrap() {
        args[k] = v.clone();
    }
    a.ok("directory.add", args).await;
}

async fn sync(a: &Admin, name: &str) -> Value {
    a.ok("directory.sync", json!({"name": name})).await
}

async fn sync_incremental(a: &Admin, name: &str) -> Value {
    a.ok("directory.sync", json!({"name": name, "incremental": true}))
        .await
}

/// The stored groups of every user of `domain`, by username.
fn stored_groups(a: &Admin, domain: &str) -> BTreeMap<String, Vec<String>> {
    a.store
        .domain_users(domain)
        .unwrap()
        .into_iter()
        .map(|u| (u.name, u.groups))
        .collect()
}

/// Group DNs in the order users' groups are stored in.
fn sorted(groups: &[String]) -> Vec<String> {
    let mut g = groups.to_vec();
    g.sort_by_key(|g| g.to_ascii_lowercase());
    g
}

fn counts(v: &Value) -> [u64; 6] {
    let c = &v["counts"];
    [
        "added",
        "updated",
        "disabled",
        "reenabled",
        "purged",
        "unchanged",
    ]
    .map(|k| c[k].as_u64().unwrap())
}

/// Every variant stores group DNs: from `memberOf` and from a search of the groups'
/// `member` the very same ones (the seeded groupOfNames), from `memberUid` (usernames,
/// compared case-insensitively) and `uniqueMember` (with its optional UID) the groups
/// listing the user that way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_stores_the_dns_of_the_users_groups() {
    let users = 20;
    let s = slapd(users);
    let unix = s.add_group(
        "unix-staff",
        "posixGroup",
        "memberUid",
        &["u00001", "U00002", "u09999"],
    );
    let with_uid = format!("{}#'0101'B", s.user_dn("u00003"));
    let auditors = s.add_group(
        "auditors",
        "groupOfUniqueNames",
        "uniqueMember",
        &[&with_uid],
    );
    let a = Admin::start();
    let groups_dn = s.groups_dn();
    add(&a, &s, "MO", json!({})).await;
    add(&a, &s, "GS", json!({"group_base_dn": groups_dn})).await;
    add(
        &a,
        &s,
        "UID",
        json!({"group_base_dn": groups_dn, "group_member_attribute": "memberUid"}),
    )
    .await;
    add(
        &a,
        &s,
        "UNIQ",
        json!({"group_base_dn": groups_dn, "group_member_attribute": "uniqueMember"}),
    )
    .await;
    for d in ["MO", "GS", "UID", "UNIQ"] {
        assert_eq!(counts(&sync(&a, d).await)[0], users as u64, "{d}");
    }

    let mo = stored_groups(&a, "MO");
    assert_eq!(mo.len(), users);
    for u in s.seeded_users() {
        assert_eq!(mo[&u.uid], sorted(&u.member_of), "{} (memberOf)", u.uid);
    }
    assert_eq!(
        mo["u00002"],
        [s.group_dn("admins"), s.group_dn("vpn-users")],
        "the seeded groups are what memberOf says"
    );
    assert_eq!(stored_groups(&a, "GS"), mo, "group search of `member`");

    let by_uid = stored_groups(&a, "UID");
    let by_unique = stored_groups(&a, "UNIQ");
    for u in s.seeded_users() {
        let expected: &[String] = match u.uid.as_str() {
            "u00001" | "u00002" => std::slice::from_ref(&unix),
            _ => &[],
        };
        assert_eq!(by_uid[&u.uid], expected, "{} (memberUid)", u.uid);
        let expected: &[String] = match u.uid.as_str() {
            "u00003" => std::slice::from_ref(&auditors),
            _ => &[],
        };
        assert_eq!(by_unique[&u.uid], expected, "{} (uniqueMember)", u.uid);
    }
}

/// A user taken out of a group loses it at the next sync, full or incremental, in every
/// variant. An incremental run fetches only the users modified since the last run, yet a
/// change made on a group's entry alone (a posixGroup, which nothing mirrors onto users)
/// still reaches the users it concerns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_changes_reach_users_at_the_next_sync_incremental_included() {
    let s = slapd(20);
    let unix = s.add_group("unix-staff", "posixGroup", "memberUid", &["u00005"]);
    // u00020 modified after the seed: the high-water mark moves past the other users,
    // which incremental runs then do not fetch.
    s.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: mail\nmail: moved@example.com\n",
        s.user_dn("u00020")
    ));
    let a = Admin::start();
    let groups_dn = s.groups_dn();
    add(&a, &s, "MO", json!({})).await;
    add(&a, &s, "GS", json!({"group_base_dn": groups_dn})).await;
    add(
        &a,
        &s,
        "UID",
        json!({"group_base_dn": groups_dn, "group_member_attribute": "memberUid"}),
    )
    .await;
    for d in ["MO", "GS", "UID"] {
        sync(&a, d).await;
    }
    let admins = s.group_dn("admins");
    for d in ["MO", "GS"] {
        assert!(stored_groups(&a, d)["u00002"].contains(&admins), "{d}");
    }
    assert_eq!(
        stored_groups(&a, "UID")["u00005"],
        std::slice::from_ref(&unix)
    );

    s.remove_member("unix-staff", "memberUid", "u00005");
    s.add_member("unix-staff", "memberUid", "u00006");

    let inc = sync_incremental(&a, "UID").await;
    assert_eq!(inc["mode"], "incremental", "{inc}");
    assert_eq!(inc["entries"], 1, "only u00020 was fetched: {inc}");
    assert_eq!(counts(&inc), [0, 2, 0, 0, 0, 18], "{inc}");
    let mut changed: Vec<(String, Value)> = inc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["user"]["username"].as_str().unwrap().to_string(),
                c["fields"].clone(),
            )
        })
        .collect();
    changed.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        changed,
        [
            ("u00005".to_string(), json!(["groups"])),
            ("u00006".to_string(), json!(["groups"]))
        ]
    );
    let by_uid = stored_groups(&a, "UID");
    assert!(by_uid["u00005"].is_empty());
    assert_eq!(by_uid["u00006"], [unix]);
    assert_eq!(
        a.store
            .domain_users("UID")
            .unwrap()
            .iter()
            .find(|u| u.name == "u00006")
            .unwrap()
            .email
            .as_deref(),
        Some("u00006@example.com"),
        "a regrouped user keeps its other details"
    );

    // The memberof overlay mirrors this one onto u00002's entry; the group search
    // variant reads it from the group.
    s.remove_member("admins", "member", &s.user_dn("u00002"));
    let inc = sync_incremental(&a, "GS").await;
    assert_eq!(inc["mode"], "incremental");
    assert!(!stored_groups(&a, "GS")["u00002"].contains(&admins));
    let full = sync(&a, "MO").await;
    assert_eq!(counts(&full)[1], 1, "{full}");
    assert_eq!(stored_groups(&a, "MO")["u00002"], [s.group_dn("vpn-users")]);

    // What is stored is what the directory says: nothing left to change.
    for d in ["MO", "GS", "UID"] {
        let again = a.ok("directory.preview", json!({"name": d})).await;
        assert_eq!(counts(&again), [0, 0, 0, 0, 0, 20], "{d}: {again}");
    }
}

/// u00001 is in admins; outer lists admins, top lists outer, and admins lists top (a
/// cycle). With nesting, u00001 gets all three in both variants (the memberof overlay
/// gives groups their `memberOf` too); without, admins only. Users in no nested group
/// are unchanged by nesting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_groups_are_followed_when_asked_and_cycles_end() {
    let s = slapd(20);
    let admins = s.group_dn("admins");
    let outer = s.add_group("outer", "groupOfNames", "member", &[&admins]);
    let top = s.add_group("top", "groupOfNames", "member", &[&outer]);
    s.add_member("admins", "member", &top);
    let a = Admin::start();
    let groups_dn = s.groups_dn();
    add(&a, &s, "MO", json!({})).await;
    add(&a, &s, "MO_NESTED", json!({"nested_groups": true})).await;
    add(&a, &s, "GS", json!({"group_base_dn": groups_dn})).await;
    add(
        &a,
        &s,
        "GS_NESTED",
        json!({"group_base_dn": groups_dn, "nested_groups": true}),
    )
    .await;
    for d in ["MO", "MO_NESTED", "GS", "GS_NESTED"] {
        sync(&a, d).await;
    }
    let vpn = s.group_dn("vpn-users");
    for d in ["MO", "GS"] {
        let g = stored_groups(&a, d);
        assert_eq!(g["u00001"], [admins.clone(), vpn.clone()], "{d}");
    }
    for d in ["MO_NESTED", "GS_NESTED"] {
        let g = stored_groups(&a, d);
        assert_eq!(
            g["u00001"],
            [admins.clone(), outer.clone(), top.clone(), vpn.clone()],
            "{d}"
        );
        for u in s.seeded_users() {
            if !u.groups.iter().any(|g| g == "admins") {
                assert_eq!(g[&u.uid], sorted(&u.member_of), "{d} {}", u.uid);
            }
        }
    }
}

/// The options on the command line: set, shown, checked by name, turned off again; a
/// sync through the daemon reports the groups it stores.
#[test]
fn group_options_on_the_command_line() {
    let s = slapd(5);
    let d = Daemon::start();
    let groups_dn = s.groups_dn();
    let out = add_directory(
        &d,
        &s,
        "CORP",
        &s.ldap_url(),
        &[
            "--group-base-dn",
            &groups_dn,
            "--group-member-attribute",
            "memberUid",
            "--nested-groups",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = &d.ctl_json(&["directory", "show", "CORP"], "")["directory"];
    assert_eq!(shown["group_base_dn"], groups_dn.as_str());
    assert_eq!(shown["group_member_attribute"], "memberUid");
    assert_eq!(shown["nested_groups"], true);
    assert!(
        shown["group_filter"]
            .as_str()
            .unwrap()
            .contains("(objectClass=groupOfNames)"),
        "{shown}"
    );

    let out = d.ctl(
        &["directory", "edit", "CORP", "--group-base-dn", "Groups"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("group_base_dn") && err.contains("`Groups`"),
        "{err}"
    );
    let out = d.ctl(
        &[
            "directory",
            "edit",
            "CORP",
            "--group-filter",
            "objectClass=group",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("group_filter"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    d.ctl_ok(
        &[
            "directory",
            "edit",
            "CORP",
            "--group-member-attribute",
            "member",
            "--nested-groups",
            "false",
            "--group-filter",
            "(objectClass=groupOfNames)",
        ],
        "",
    );
    let sync = d.ctl_json(&["directory", "sync", "CORP"], "");
    let added: BTreeMap<String, Value> = sync["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["user"]["username"].as_str().unwrap().to_string(),
                c["user"]["groups"].clone(),
            )
        })
        .collect();
    assert_eq!(added.len(), 5, "{sync}");
    for u in s.seeded_users() {
        assert_eq!(added[&u.uid], json!(sorted(&u.member_of)), "{}", u.uid);
    }

    d.ctl_ok(&["directory", "edit", "CORP", "--group-base-dn", ""], "");
    let shown = &d.ctl_json(&["directory", "show", "CORP"], "")["directory"];
    assert_eq!(shown["group_base_dn"], Value::Null, "{shown}");
    assert_eq!(shown["group_filter"], "(objectClass=groupOfNames)");
}
