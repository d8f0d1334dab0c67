//! A directory group selects a user policy, with real slapd: by `memberOf` and by group
//! search; taking the user out of the group changes the policy after the next sync.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::directory::add_directory;
use common::slapd::{Slapd, SlapdOptions};
use common::{Daemon, assert_reply_lines, radclient, reply_value, window_around_now};

fn login(d: &Daemon, user: &str, password: &str) -> String {
    let (_, out) = radclient(
        d.auth,
        "auth",
        &format!(
            "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00, Calling-Station-Id = \"00-10-A4-23-19-C0\"\n"
        ),
    );
    assert!(out.contains("Received Access-Accept"), "{user}: {out}");
    out
}

fn filter_of(out: &str) -> Option<String> {
    reply_value(out, "Filter-Id").map(|v| v.trim_matches('"').to_string())
}

#[test]
fn a_directory_group_selects_the_user_policy_until_the_user_leaves_it() {
    let s = Slapd::start(SlapdOptions {
        users: 3,
        size_limit: None,
        tls: false,
    });
    let member = s.user_dn("u00001");
    // groupOfNames needs a member left when u00001 goes.
    let stays = s.user_dn("u00003");
    s.add_group("vpn", "groupOfNames", "member", &[&member, &stays]);
    let d = Daemon::start();
    d.add_client("nas1", true);
    let groups_dn = s.groups_dn();
    for (name, extra) in [
        ("MO", vec![]),
        ("GS", vec!["--group-base-dn", groups_dn.as_str()]),
    ] {
        let out = add_directory(&d, &s, name, &s.ldap_url(), &extra);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        d.ctl_ok(&["directory", "sync", name], "");
    }
    d.ctl_ok(
        &["user-policy", "create", "vpn", "--reply", "Filter-Id=vpn"],
        "",
    );
    d.ctl_ok(
        &[
            "user-policy",
            "create",
            "staff",
            "--reply",
            "Filter-Id=staff",
        ],
        "",
    );
    for domain in ["MO", "GS"] {
        d.ctl_ok(
            &[
                "user-policy",
                "assign",
                "vpn",
                "--group",
                &format!("{domain}\\vpn"),
                "--priority",
                "10",
            ],
            "",
        );
        d.ctl_ok(
            &[
                "user-policy",
                "assign",
                "staff",
                "--domain",
                domain,
                "--priority",
                "50",
            ],
            "",
        );
    }
    // The site's computers get a VLAN and office hours from a rule.
    d.ctl_ok(
        &["site", "add", "Office", "--timezone", "Europe/Berlin"],
        "",
    );
    d.ctl_ok(&["client", "edit", "nas1", "--site", "Office"], "");
    let (hours, closes) = window_around_now("Europe/Berlin", 60, 30);
    d.ctl_ok(
        &[
            "computer-policy",
            "create",
            "office",
            "--vlan",
            "120",
            "--hours",
            &hours,
        ],
        "",
    );
    d.ctl_ok(
        &[
            "computer-rule",
            "add",
            "office",
            "--site",
            "Office",
            "--policy",
            "office",
        ],
        "",
    );
    let pw = s.password_of("u00001");
    let sent = jiff::Timestamp::now();
    let out = login(&d, "MO\\u00001", &pw);
    assert_reply_lines(
        &out,
        &[
            "Tunnel-Type:0 = VLAN",
            "Tunnel-Medium-Type:0 = IEEE-802",
            "Tunnel-Private-Group-Id:0 = \"120\"",
            "Filter-Id = \"vpn\"",
        ],
    );
    let timeout: i64 = reply_value(&out, "Session-Timeout")
        .unwrap()
        .parse()
        .unwrap();
    let left = closes.as_second() - sent.as_second();
    assert!(
        (left - 5..=left + 1).contains(&timeout),
        "{timeout} vs {left}\n{out}"
    );
    for domain in ["MO", "GS"] {
        let shown = d.ctl_json(&["user", "show", &format!("{domain}\\u00001")], "");
        assert_eq!(shown["user"]["user_policy"], "vpn", "{shown}");
        let out = login(&d, &format!("{domain}\\u00001"), &pw);
        assert_eq!(filter_of(&out).as_deref(), Some("vpn"), "{domain}: {out}");
        let other = login(&d, &format!("{domain}\\u00002"), &s.password_of("u00002"));
        assert_eq!(
            filter_of(&other).as_deref(),
            Some("staff"),
            "{domain}: {other}"
        );
    }

    s.remove_member("vpn", "member", &member);
    for domain in ["MO", "GS"] {
        // Before the sync the appliance still knows the old membership.
        let out = login(&d, &format!("{domain}\\u00001"), &pw);
        assert_eq!(filter_of(&out).as_deref(), Some("vpn"), "{domain}: {out}");
        d.ctl_ok(&["directory", "sync", domain], "");
        let out = login(&d, &format!("{domain}\\u00001"), &pw);
        assert_eq!(filter_of(&out).as_deref(), Some("staff"), "{domain}: {out}");
    }
}
