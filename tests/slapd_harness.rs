//! The slapd harness (tests/common/slapd.rs) itself, checked with the OpenLDAP command-line
//! tools only: binds, ACLs, memberOf, paging and size limits, StartTLS/ldaps with the right
//! and the wrong CA, modifications, stop/restart, and seeding speed. The 50,000-user
//! seeding is checked once in the suite, by the test in `directory_sync.rs` that syncs it;
//! 100,000 users are an ignored test here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use common::slapd::{self, SEED_TIMESTAMP, Slapd, SlapdOptions};

fn text(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn dns(ldif: &str) -> Vec<String> {
    ldif.lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .map(str::to_string)
        .collect()
}

/// Values of `attr` in an unwrapped `-LLL` LDIF (plain `attr: v` lines only).
fn values(ldif: &str, attr: &str) -> Vec<String> {
    let prefix = format!("{attr}: ");
    ldif.lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
        .collect()
}

fn search_as(
    s: &Slapd,
    dn: &str,
    pw: &str,
    base: &str,
    extra: &[&str],
    filter: &str,
    attrs: &[&str],
) -> Output {
    let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-D", dn, "-w", pw, "-b", base];
    args.extend_from_slice(extra);
    args.push(filter);
    args.extend_from_slice(attrs);
    s.ldap_tool("ldapsearch", &args)
}

fn sync_search(s: &Slapd, base: &str, extra: &[&str], filter: &str, attrs: &[&str]) -> Output {
    search_as(
        s,
        s.sync_dn(),
        s.sync_password(),
        base,
        extra,
        filter,
        attrs,
    )
}

fn whoami(s: &Slapd, dn: &str, pw: &str) -> Output {
    s.ldap_tool("ldapwhoami", &["-D", dn, "-w", pw])
}

/// ldapwhoami over TLS (`url` ldaps://, or ldap:// with `-ZZ`) trusting only `ca`.
fn whoami_tls(s: &Slapd, url: &str, starttls: bool, ca: &Path, uid: &str) -> Output {
    let mut cmd = Command::new("ldapwhoami");
    cmd.env("LDAPTLS_CACERT", ca)
        .env("LDAPTLS_REQCERT", "demand")
        .env_remove("LDAPTLS_CACERTDIR")
        .args(["-x", "-o", "nettimeout=10", "-H", url]);
    if starttls {
        cmd.arg("-ZZ");
    }
    cmd.args(["-D", &s.user_dn(uid), "-w", &s.password_of(uid)]);
    cmd.output().unwrap()
}

#[test]
fn seeded_user_binds_with_the_right_password_only() {
    let t = Instant::now();
    let s = Slapd::start(SlapdOptions::default());
    eprintln!("start(300 users): {:?} {:?}", t.elapsed(), s.timings());

    let dn = s.user_dn("u00041");
    assert_eq!(dn, "uid=u00041,ou=Sales,ou=People,dc=example,dc=com");
    let ok = whoami(&s, &dn, &s.password_of("u00041"));
    assert!(ok.status.success(), "{}", text(&ok));
    assert_eq!(stdout(&ok).trim(), format!("dn:{dn}"));

    let bad = whoami(&s, &dn, "wrong-password");
    assert_eq!(bad.status.code(), Some(49), "{}", text(&bad));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Invalid credentials"));

    // Another user's password does not work either.
    let other = whoami(&s, &dn, &s.password_of("u00043"));
    assert_eq!(other.status.code(), Some(49), "{}", text(&other));

    // The sync account and the rootdn bind too.
    let sync = whoami(&s, s.sync_dn(), s.sync_password());
    assert!(sync.status.success(), "{}", text(&sync));
    let admin = whoami(&s, s.admin_dn(), s.admin_password());
    assert!(admin.status.success(), "{}", text(&admin));

    // slapd does not enforce nsAccountLock / userAccountControl: disabled users still bind.
    for uid in ["u00003", "u00004"] {
        assert!(s.user(uid).disabled);
        let out = whoami(&s, &s.user_dn(uid), &s.password_of(uid));
        assert!(out.status.success(), "{}", text(&out));
    }
}

#[test]
fn sync_account_reads_users_and_memberof_but_not_passwords() {
    let s = Slapd::start(SlapdOptions::default());
    let u = s.user("u00001");
    let out = sync_search(
        &s,
        &s.people_dn(),
        &[],
        "(uid=u00001)",
        &[
            "*",
            "memberOf",
            "modifyTimestamp",
            "entryUUID",
            "userPassword",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let ldif = stdout(&out);
    assert_eq!(dns(&ldif), vec![u.dn.clone()]);
    assert_eq!(values(&ldif, "mail"), vec![u.mail.clone()]);
    assert_eq!(values(&ldif, "cn"), vec![u.cn.clone()]);
    assert_eq!(values(&ldif, "displayName"), vec![u.display_name.clone()]);
    let member_of: BTreeSet<String> = values(&ldif, "memberOf").into_iter().collect();
    assert_eq!(member_of, u.member_of.iter().cloned().collect());
    assert!(member_of.contains(&s.group_dn("admins")));
    assert!(member_of.contains(&s.group_dn("vpn-users")));
    assert_eq!(values(&ldif, "modifyTimestamp"), vec![SEED_TIMESTAMP]);
    assert_eq!(values(&ldif, "entryUUID").len(), 1);
    assert!(
        !ldif.contains("userPassword"),
        "sync read a password:\n{ldif}"
    );

    // memberOf is operational in OpenLDAP: only returned when asked for.
    let plain = sync_search(&s, &s.people_dn(), &[], "(uid=u00001)", &[]);
    assert!(!stdout(&plain).contains("memberOf"));

    // Filtering on memberOf works (indexed).
    let vpn = sync_search(
        &s,
        s.base_dn(),
        &[],
        &format!("(memberOf={})", s.group_dn("vpn-users")),
        &["1.1"],
    );
    let expected = s
        .seeded_users()
        .iter()
        .filter(|u| u.groups.iter().any(|g| g == "vpn-users"))
        .count();
    assert_eq!(dns(&stdout(&vpn)).len(), expected);
    assert_eq!(expected, 200);

    // Both disable conventions are readable, with their values.
    let disabled = sync_search(
        &s,
        s.base_dn(),
        &[],
        "(|(nsAccountLock=*)(userAccountControl=*))",
        &["nsAccountLock", "userAccountControl"],
    );
    let ldif = stdout(&disabled);
    assert_eq!(
        dns(&ldif),
        ["u00003", "u00004", "u00005", "u00006"].map(|u| s.user_dn(u))
    );
    assert_eq!(values(&ldif, "nsAccountLock"), ["TRUE", "FALSE"]);
    assert_eq!(values(&ldif, "userAccountControl"), ["514", "66048"]);
    let flagged: Vec<String> = s
        .seeded_users()
        .into_iter()
        .filter(|u| u.disabled)
        .map(|u| u.uid)
        .collect();
    assert_eq!(flagged, ["u00003", "u00004"]);

    // The non-ASCII displayName round-trips (ldapsearch prints it base64-encoded).
    let zoe = sync_search(&s, s.base_dn(), &[], "(uid=u00007)", &["displayName"]);
    let b64 = stdout(&zoe)
        .lines()
        .find_map(|l| l.strip_prefix("displayName:: ").map(str::to_string))
        .expect("base64 displayName");
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        s.user("u00007").display_name
    );

    // Groups are readable with their members.
    let admins = sync_search(
        &s,
        &s.group_dn("admins"),
        &["-s", "base"],
        "(objectClass=*)",
        &["member"],
    );
    assert_eq!(
        values(&stdout(&admins), "member"),
        [s.user_dn("u00001"), s.user_dn("u00002")]
    );

    // Even the rootdn-free paths cannot read hashes: a user cannot read its own password,
    // nor other users; anonymous reads nothing but can still bind.
    let me = s.user("u00002");
    let own = search_as(
        &s,
        &me.dn,
        &me.password,
        &me.dn,
        &["-s", "base"],
        "(objectClass=*)",
        &["*"],
    );
    assert!(own.status.success(), "{}", text(&own));
    assert_eq!(dns(&stdout(&own)), vec![me.dn.clone()], "{}", text(&own));
    assert!(!stdout(&own).contains("userPassword"));
    let others = search_as(
        &s,
        &me.dn,
        &me.password,
        &s.people_dn(),
        &[],
        "(uid=*)",
        &["1.1"],
    );
    // No access to ou=People itself: slapd answers noSuchObject rather than disclose it.
    assert_eq!(others.status.code(), Some(32), "{}", text(&others));
    assert!(dns(&stdout(&others)).is_empty());
    let anon = s.ldap_tool(
        "ldapsearch",
        &["-LLL", "-b", s.base_dn(), "(objectClass=*)", "1.1"],
    );
    assert!(!anon.status.success(), "{}", text(&anon)); // insufficientAccess (50)
    assert!(dns(&stdout(&anon)).is_empty(), "{}", text(&anon));
    // The root DSE is public (clients read supportedControl from it).
    let dse = s.ldap_tool(
        "ldapsearch",
        &["-LLL", "-b", "", "-s", "base", "supportedControl"],
    );
    assert!(
        stdout(&dse).contains("1.2.840.113556.1.4.319"),
        "paged results not advertised\n{}",
        text(&dse)
    );
    // The rootdn sees hashes: {SSHA}.
    let hashed = s.admin_search(&me.dn, "base", "(objectClass=*)", &["userPassword"]);
    assert!(hashed.contains("userPassword:: "), "{hashed}");
}

#[test]
fn ou_layout_and_paged_search_return_every_user() {
    let s = Slapd::start(SlapdOptions::default());
    let all = sync_search(
        &s,
        &s.people_dn(),
        &["-E", "pr=50/noprompt"],
        "(objectClass=inetOrgPerson)",
        &["uid"],
    );
    assert!(all.status.success(), "{}", text(&all));
    let got: BTreeSet<String> = values(&stdout(&all), "uid").into_iter().collect();
    let want: BTreeSet<String> = s.seeded_users().into_iter().map(|u| u.uid).collect();
    assert_eq!(got.len(), 300);
    assert_eq!(got, want);

    // Without a size limit an unpaged search returns everything too.
    let unpaged = sync_search(
        &s,
        s.base_dn(),
        &[],
        "(objectClass=inetOrgPerson)",
        &["1.1"],
    );
    assert!(unpaged.status.success(), "{}", text(&unpaged));
    assert_eq!(dns(&stdout(&unpaged)).len(), 300);

    // Sub-OUs: Sales' subtree includes East; the Empty OU has nothing.
    let count = |base: &str, scope: &str| {
        let out = sync_search(
            &s,
            base,
            &["-s", scope],
            "(objectClass=inetOrgPerson)",
            &["1.1"],
        );
        assert!(out.status.success(), "{}", text(&out));
        dns(&stdout(&out)).len()
    };
    let sales = format!("ou=Sales,{}", s.people_dn());
    assert_eq!(count(&sales, "sub"), 120);
    assert_eq!(count(&sales, "one"), 60);
    assert_eq!(count(&format!("ou=East,{sales}"), "sub"), 60);
    assert_eq!(
        count(&format!("ou=Engineering,{}", s.people_dn()), "sub"),
        60
    );
    assert_eq!(count(&format!("ou=Support,{}", s.people_dn()), "sub"), 60);
    assert_eq!(count(&s.people_dn(), "one"), 60);
    assert_eq!(count(&s.empty_ou_dn(), "sub"), 0);
    let empty = sync_search(
        &s,
        &s.empty_ou_dn(),
        &["-s", "base"],
        "(objectClass=*)",
        &["1.1"],
    );
    assert_eq!(dns(&stdout(&empty)), vec![s.empty_ou_dn()]);
    for u in s.seeded_users().iter().take(10) {
        assert!(u.dn.ends_with(&u.ou_dn));
        assert_eq!(u.ou_path[0], "People");
    }
}

#[test]
fn size_limit_fails_unpaged_searches_but_not_paged_ones() {
    let s = Slapd::start(SlapdOptions {
        users: 300,
        size_limit: Some(100),
        tls: false,
    });
    let unpaged = sync_search(
        &s,
        s.base_dn(),
        &[],
        "(objectClass=inetOrgPerson)",
        &["1.1"],
    );
    assert_eq!(unpaged.status.code(), Some(4), "{}", text(&unpaged));
    assert!(
        String::from_utf8_lossy(&unpaged.stderr).contains("Size limit exceeded"),
        "{}",
        text(&unpaged)
    );
    // slapd sends the first 100 entries before the error.
    assert_eq!(dns(&stdout(&unpaged)).len(), 100);

    // Under the limit: fine.
    let small = sync_search(
        &s,
        &format!("ou=East,ou=Sales,{}", s.people_dn()),
        &[],
        "(objectClass=inetOrgPerson)",
        &["1.1"],
    );
    assert!(small.status.success(), "{}", text(&small));
    assert_eq!(dns(&stdout(&small)).len(), 60);

    // Paged: everything, with pages below, at and above the limit.
    for pr in ["pr=50/noprompt", "pr=100/noprompt", "pr=500/noprompt"] {
        let paged = sync_search(
            &s,
            s.base_dn(),
            &["-E", pr],
            "(objectClass=inetOrgPerson)",
            &["1.1"],
        );
        assert!(paged.status.success(), "{pr}: {}", text(&paged));
        assert_eq!(dns(&stdout(&paged)).len(), 300, "{pr}");
    }

    // The rootdn is not limited.
    let admin = s.admin_search(s.base_dn(), "sub", "(objectClass=inetOrgPerson)", &["1.1"]);
    assert_eq!(dns(&admin).len(), 300);
}

#[test]
fn starttls_and_ldaps_verify_against_the_test_ca() {
    let t = Instant::now();
    let s = Slapd::start(SlapdOptions {
        users: 10,
        size_limit: None,
        tls: true,
    });
    eprintln!("start(10 users, tls): {:?} {:?}", t.elapsed(), s.timings());
    let ldap = s.ldap_url();
    let ldaps = s.ldaps_url();
    assert!(ldaps.starts_with("ldaps://127.0.0.1:"));

    let dn = format!("dn:{}", s.user_dn("u00001"));
    for (url, starttls) in [(&ldap, true), (&ldaps, false)] {
        let good = whoami_tls(&s, url, starttls, &s.ca_pem(), "u00001");
        assert!(
            good.status.success(),
            "{url} starttls={starttls}: {}",
            text(&good)
        );
        assert_eq!(stdout(&good).trim(), dn);

        let bad = whoami_tls(&s, url, starttls, &s.other_ca_pem(), "u00001");
        assert!(
            !bad.status.success(),
            "{url} trusted an unrelated CA: {}",
            text(&bad)
        );
    }
    // Plain ldap:// without TLS still works.
    let plain = whoami(&s, &s.user_dn("u00002"), &s.password_of("u00002"));
    assert!(plain.status.success(), "{}", text(&plain));

    // The server certificate names 127.0.0.1 and localhost and chains to ca.pem.
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(s.ca_pem())
        .args(["-verify_ip", "127.0.0.1"])
        .arg(s.server_cert_pem())
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", text(&verify));
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(s.other_ca_pem())
        .arg(s.server_cert_pem())
        .output()
        .unwrap();
    assert!(!verify.status.success());
}

#[test]
fn modify_adds_changes_and_deletes_entries() {
    let s = Slapd::start(SlapdOptions {
        users: 20,
        size_limit: None,
        tls: false,
    });
    let people = s.people_dn();
    let vpn = s.group_dn("vpn-users");
    let new_dn = format!("uid=newbie,ou=Engineering,{people}");

    // Add a user (no changetype: -a) and put it into a group: memberOf follows.
    s.modify(&format!(
        "dn: {new_dn}\nobjectClass: inetOrgPerson\nobjectClass: gatehouseTestAccount\n\
         uid: newbie\ncn: New Bie\nsn: Bie\nmail: newbie@example.com\nuserPassword: pw-newbie\n\n\
         dn: {vpn}\nchangetype: modify\nadd: member\nmember: {new_dn}\n"
    ));
    let got = sync_search(
        &s,
        &people,
        &[],
        "(uid=newbie)",
        &["mail", "memberOf", "modifyTimestamp"],
    );
    let ldif = stdout(&got);
    assert_eq!(dns(&ldif), vec![new_dn.clone()]);
    assert_eq!(values(&ldif, "memberOf"), vec![vpn.clone()]);
    assert!(values(&ldif, "modifyTimestamp")[0].as_str() > SEED_TIMESTAMP);
    let ok = whoami(&s, &new_dn, &s.password_of("newbie"));
    assert!(ok.status.success(), "{}", text(&ok));

    // Modify attributes of a seeded user, disable one via userAccountControl.
    let u1 = s.user_dn("u00001");
    s.modify(&format!(
        "dn: {u1}\nchangetype: modify\nreplace: mail\nmail: renamed@example.com\n-\n\
         add: userAccountControl\nuserAccountControl: 514\n"
    ));
    let got = stdout(&sync_search(
        &s,
        &u1,
        &["-s", "base"],
        "(objectClass=*)",
        &["mail", "userAccountControl", "modifyTimestamp"],
    ));
    assert_eq!(values(&got, "mail"), ["renamed@example.com"]);
    assert_eq!(values(&got, "userAccountControl"), ["514"]);
    assert!(values(&got, "modifyTimestamp")[0].as_str() > SEED_TIMESTAMP);

    // Delete a user: it disappears from its groups (memberof-refint).
    let u2 = s.user_dn("u00002");
    s.modify(&format!("dn: {u2}\nchangetype: delete\n"));
    let gone = sync_search(&s, &people, &[], "(uid=u00002)", &["1.1"]);
    assert!(dns(&stdout(&gone)).is_empty());
    let admins = stdout(&sync_search(
        &s,
        &s.group_dn("admins"),
        &["-s", "base"],
        "(objectClass=*)",
        &["member"],
    ));
    assert_eq!(values(&admins, "member"), vec![u1.clone()]);

    // Move a user to another OU (modrdn with newsuperior).
    let u5 = s.user_dn("u00005");
    s.modify(&format!(
        "dn: {u5}\nchangetype: modrdn\nnewrdn: uid=u00005\ndeleteoldrdn: 1\nnewsuperior: ou=Support,{people}\n"
    ));
    let moved = sync_search(&s, &people, &[], "(uid=u00005)", &["memberOf"]);
    let moved_dn = format!("uid=u00005,ou=Support,{people}");
    assert_eq!(dns(&stdout(&moved)), vec![moved_dn.clone()]);
    let vpn_members = stdout(&sync_search(
        &s,
        &vpn,
        &["-s", "base"],
        "(objectClass=*)",
        &["member"],
    ));
    assert!(
        values(&vpn_members, "member").contains(&moved_dn),
        "{vpn_members}"
    );
    assert!(!values(&vpn_members, "member").contains(&u5));

    // Failures are reported, not swallowed.
    let dup = s.try_modify(&format!(
        "dn: {new_dn}\nobjectClass: inetOrgPerson\nuid: newbie\ncn: x\nsn: x\n"
    ));
    assert_eq!(dup.status.code(), Some(68), "{}", text(&dup)); // entryAlreadyExists
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.modify("dn: uid=nobody,ou=Nowhere,dc=example,dc=com\nchangetype: delete\n");
    }));
    assert!(r.is_err());
}

#[test]
fn stop_and_restart_keep_data_and_ports() {
    let mut s = Slapd::start(SlapdOptions {
        users: 20,
        size_limit: None,
        tls: true,
    });
    let (url, ldaps, pid) = (s.ldap_url(), s.ldaps_url(), s.pid());
    s.modify(&format!(
        "dn: {}\nchangetype: modify\nreplace: mail\nmail: kept@example.com\n",
        s.user_dn("u00010")
    ));

    s.stop();
    assert!(!s.is_running());
    let down = whoami(&s, s.sync_dn(), s.sync_password());
    assert_eq!(down.status.code(), Some(255), "{}", text(&down)); // can't contact server

    let t = Instant::now();
    s.restart();
    eprintln!("restart: {:?}", t.elapsed());
    assert_ne!(s.pid(), pid);
    assert_eq!(s.ldap_url(), url);
    assert_eq!(s.ldaps_url(), ldaps);
    let got = stdout(&sync_search(
        &s,
        s.base_dn(),
        &[],
        "(uid=u00010)",
        &["mail"],
    ));
    assert_eq!(values(&got, "mail"), ["kept@example.com"]);
    let good = whoami_tls(&s, &ldaps, false, &s.ca_pem(), "u00011");
    assert!(good.status.success(), "{}", text(&good));

    // restart() while running stops it first.
    let pid = s.pid();
    s.restart();
    assert_ne!(s.pid(), pid);
    assert_eq!(
        dns(&s.admin_search(s.base_dn(), "sub", "(objectClass=inetOrgPerson)", &["1.1"])).len(),
        20
    );

    // Drop stops slapd by PID.
    let pid = s.pid();
    drop(s);
    let alive = Command::new("kill")
        .args(["-0", &pid.to_string()])
        .output()
        .unwrap();
    assert!(!alive.status.success(), "slapd {pid} survived drop");
}

fn seed_many(users: usize) {
    let t = Instant::now();
    let s = Slapd::start(SlapdOptions {
        users,
        size_limit: Some(500),
        tls: false,
    });
    let started = t.elapsed();
    let t = Instant::now();
    let paged = sync_search(
        &s,
        &s.people_dn(),
        &["-E", "pr=1000/noprompt"],
        "(objectClass=inetOrgPerson)",
        &["uid", "memberOf"],
    );
    assert!(
        paged.status.success(),
        "{}",
        String::from_utf8_lossy(&paged.stderr)
    );
    let n = dns(&stdout(&paged)).len();
    let searched = t.elapsed();
    assert_eq!(n, users);
    let last = s.user(&slapd::uid_of(users));
    let ok = whoami(&s, &last.dn, &last.password);
    assert!(ok.status.success(), "{}", text(&ok));
    let db = std::fs::read_dir(s.dir().join("db"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().blocks() * 512)
        .sum::<u64>();
    eprintln!(
        "seed {users} users: start {started:?} ({:?}); paged search of all as sync {searched:?}; \
         db on disk {} MiB",
        s.timings(),
        db >> 20
    );
}

#[test]
#[ignore = "slow-ish: 100,000 users; run with --ignored"]
fn seeds_100k_users() {
    seed_many(100_000);
}
