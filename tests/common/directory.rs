//! Helpers that add directories to a test daemon: the sync account's password file, a
//! trusted CA, and `directory add` against a test slapd.

#![allow(unreachable_pub, dead_code, clippy::unwrap_used, clippy::expect_used)]

use super::Daemon;
use super::slapd::Slapd;

/// The user filter every test directory syncs with.
pub const FILTER: &str = "(objectClass=inetOrgPerson)";

/// Writes the sync account's password to a file in the daemon's directory; returns its path.
pub fn bind_password_file(d: &Daemon, slapd: &Slapd) -> String {
    let f = d.dir.path().join("bind.pw");
    std::fs::write(&f, slapd.sync_password()).unwrap();
    f.to_str().unwrap().to_string()
}

/// `cert trust PEM --name NAME`, which must succeed.
pub fn trust_ca(d: &Daemon, pem: &std::path::Path, name: &str) {
    d.ctl_ok(
        &["cert", "trust", pem.to_str().unwrap(), "--name", name],
        "",
    );
}

/// `directory add NAME --url URL` for `slapd`'s ou=People with the sync account, plus
/// `extra`; plain ldap:// without StartTLS is accepted knowingly (`--insecure-plaintext`).
pub fn add_directory(
    d: &Daemon,
    slapd: &Slapd,
    name: &str,
    url: &str,
    extra: &[&str],
) -> std::process::Output {
    add_directory_at(d, slapd, name, url, &slapd.people_dn(), extra)
}

/// Like [`add_directory`], with the base DN `base`.
pub fn add_directory_at(
    d: &Daemon,
    slapd: &Slapd,
    name: &str,
    url: &str,
    base: &str,
    extra: &[&str],
) -> std::process::Output {
    let pw = bind_password_file(d, slapd);
    let mut args = vec![
        "directory",
        "add",
        name,
        "--url",
        url,
        "--bind-dn",
        slapd.sync_dn(),
        "--bind-password-file",
        &pw,
        "--base-dn",
        base,
        "--user-filter",
        FILTER,
    ];
    args.extend_from_slice(extra);
    // A test directory without TLS is accepted knowingly.
    if url.starts_with("ldap://") && !extra.contains(&"--starttls") {
        args.push("--insecure-plaintext");
    }
    d.ctl(&args, "")
}
