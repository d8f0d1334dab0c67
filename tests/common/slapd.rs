//! Test harness: a real OpenLDAP `slapd` (Debian's package) in a temporary directory, on
//! loopback ports picked by the kernel, seeded with a deterministic directory by `slapadd`
//! before it starts, and stopped by PID when dropped (SIGTERM, then SIGKILL).
//!
//! The directory (suffix `dc=example,dc=com`):
//!
//! ```text
//! dc=example,dc=com
//! ├── cn=sync                      read-only sync account (simpleSecurityObject)
//! ├── ou=People
//! │   ├── uid=u00005, u00010, …    n % 5 == 0 live directly in ou=People
//! │   ├── ou=Sales                 n % 5 == 1
//! │   │   └── ou=East              n % 5 == 2
//! │   ├── ou=Engineering           n % 5 == 3
//! │   └── ou=Support               n % 5 == 4
//! ├── ou=Groups                    groupOfNames with `member`; users get `memberOf`
//! │   ├── cn=vpn-users             n % 3 != 0
//! │   ├── cn=admins                u00001, u00002
//! │   └── cn=helpdesk              n % 10 == 4
//! └── ou=Empty                     no entries below it
//! ```
//!
//! Users are `uid=u00001` … (`u{n:05}`), objectClass inetOrgPerson + gatehouseTestAccount
//! (tests/fixtures/ldap/gatehouse-test.schema), password `pw-<uid>` stored as `{SSHA}`.
//! u00003 is disabled by `nsAccountLock: TRUE`, u00004 by `userAccountControl: 514`;
//! u00005 carries `userAccountControl: 66048` and u00006 `nsAccountLock: FALSE` (both
//! enabled), u00007 has a non-ASCII displayName. Seeded entries carry
//! `createTimestamp`/`modifyTimestamp` [`SEED_TIMESTAMP`], so anything a test changes later
//! is strictly newer.
//!
//! Access: the sync account reads everything except `userPassword`; a user reads only its
//! own entry; anonymous can only bind (and read the root DSE and the subschema). The
//! rootdn (admin) is unrestricted and has no size limit.

#![allow(unreachable_pub, dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha1::{Digest, Sha1};

pub const BASE_DN: &str = "dc=example,dc=com";
pub const ADMIN_DN: &str = "cn=admin,dc=example,dc=com";
pub const ADMIN_PASSWORD: &str = "admin-secret-0123";
pub const SYNC_DN: &str = "cn=sync,dc=example,dc=com";
pub const SYNC_PASSWORD: &str = "sync-secret-0123";
/// `createTimestamp` and `modifyTimestamp` of every seeded entry.
pub const SEED_TIMESTAMP: &str = "20240101000000Z";

/// Decides from a user's number whether it belongs to a group.
type Membership = fn(usize) -> bool;

/// Group cn → which user numbers belong to it.
const GROUPS: &[(&str, Membership)] = &[
    ("vpn-users", |n| n % 3 != 0),
    ("admins", |n| n <= 2),
    ("helpdesk", |n| n % 10 == 4),
];

#[derive(Clone, Debug)]
pub struct SlapdOptions {
    /// Number of seeded users (`u00001` … ).
    pub users: usize,
    /// Hard size limit for non-paged searches (everyone but the rootdn). Paged searches
    /// (RFC 2696) still return everything. `None`: unlimited.
    pub size_limit: Option<usize>,
    /// Also listen on ldaps:// and accept StartTLS, with a per-test CA.
    pub tls: bool,
}

impl Default for SlapdOptions {
    fn default() -> Self {
        SlapdOptions {
            users: 300,
            size_limit: None,
            tls: false,
        }
    }
}

/// One seeded user, as written to the directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeededUser {
    pub uid: String,
    pub dn: String,
    /// DN of the OU holding the user, e.g. `ou=East,ou=Sales,ou=People,dc=example,dc=com`.
    pub ou_dn: String,
    /// OU names from ou=People down, e.g. `["People", "Sales", "East"]`.
    pub ou_path: Vec<String>,
    pub cn: String,
    pub sn: String,
    pub given_name: String,
    pub display_name: String,
    pub mail: String,
    pub password: String,
    /// Group cns (`vpn-users`, `admins`, `helpdesk`).
    pub groups: Vec<String>,
    /// Group DNs, as `memberOf` returns them.
    pub member_of: Vec<String>,
    /// Disabled by either convention below.
    pub disabled: bool,
    pub ns_account_lock: Option<&'static str>,
    pub user_account_control: Option<u32>,
}

/// How long the phases of [`Slapd::start`] took.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartupTimings {
    pub generate: Duration,
    pub tls: Duration,
    pub slapadd: Duration,
    pub start: Duration,
}

pub struct Slapd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    port: u16,
    tls_port: Option<u16>,
    opts: SlapdOptions,
    users: Vec<SeededUser>,
    timings: StartupTimings,
}

fn sbin(tool: &str) -> PathBuf {
    let p = Path::new("/usr/sbin").join(tool);
    if p.exists() { p } else { PathBuf::from(tool) }
}

fn schema_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ldap/gatehouse-test.schema")
}

/// Two distinct free loopback ports (bound together, then released).
fn pick_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

fn output_text(out: &Output) -> String {
    format!(
        "status: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `{SSHA}` with a salt derived from the uid, so the LDIF is deterministic.
pub fn ssha(password: &str, salt_seed: &str) -> String {
    let salt = Sha1::digest(format!("gatehouse-test-salt:{salt_seed}").as_bytes());
    let salt = &salt[..8];
    let mut h = Sha1::new();
    h.update(password.as_bytes());
    h.update(salt);
    let mut raw = h.finalize().to_vec();
    raw.extend_from_slice(salt);
    format!(
        "{{SSHA}}{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// An LDIF `attr: value` line, base64 (`attr:: …`) when the value is not a SAFE-STRING.
fn ldif_line(out: &mut String, attr: &str, value: &str) {
    let safe = value
        .bytes()
        .all(|b| b.is_ascii() && b != 0 && b != b'\n' && b != b'\r')
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe {
        let _ = writeln!(out, "{attr}: {value}");
    } else {
        let _ = writeln!(
            out,
            "{attr}:: {}",
            base64::engine::general_purpose::STANDARD.encode(value)
        );
    }
}

fn ou_path_of(n: usize) -> Vec<&'static str> {
    match n % 5 {
        1 => vec!["People", "Sales"],
        2 => vec!["People", "Sales", "East"],
        3 => vec!["People", "Engineering"],
        4 => vec!["People", "Support"],
        _ => vec!["People"],
    }
}

fn ou_dn_of(path: &[&str]) -> String {
    let mut dn = String::new();
    for ou in path.iter().rev() {
        let _ = write!(dn, "ou={ou},");
    }
    dn.push_str(BASE_DN);
    dn
}

pub fn uid_of(n: usize) -> String {
    format!("u{n:05}")
}

fn group_dn_of(cn: &str) -> String {
    format!("cn={cn},ou=Groups,{BASE_DN}")
}

fn seeded_user(n: usize) -> SeededUser {
    let uid = uid_of(n);
    let path = ou_path_of(n);
    let ou_dn = ou_dn_of(&path);
    let groups: Vec<String> = GROUPS
        .iter()
        .filter(|(_, f)| f(n))
        .map(|(cn, _)| cn.to_string())
        .collect();
    let (ns_account_lock, user_account_control) = match n {
        3 => (Some("TRUE"), None),
        4 => (None, Some(514)),
        5 => (None, Some(66048)),
        6 => (Some("FALSE"), None),
        _ => (None, None),
    };
    SeededUser {
        dn: format!("uid={uid},{ou_dn}"),
        ou_dn,
        ou_path: path.iter().map(|s| s.to_string()).collect(),
        cn: format!("User {n:05}"),
        sn: format!("{n:05}"),
        given_name: "User".to_string(),
        display_name: if n == 7 {
            "Zoë Ångström-Øre".to_string()
        } else {
            format!("User {n:05}")
        },
        mail: format!("{uid}@example.com"),
        password: format!("pw-{uid}"),
        member_of: groups.iter().map(|g| group_dn_of(g)).collect(),
        groups,
        disabled: ns_account_lock == Some("TRUE")
            || user_account_control.is_some_and(|v| v & 2 != 0),
        ns_account_lock,
        user_account_control,
        uid,
    }
}

fn write_entry(w: &mut impl Write, entry: &str) {
    w.write_all(entry.as_bytes()).unwrap();
    w.write_all(b"\n").unwrap();
}

fn timestamps(e: &mut String) {
    ldif_line(e, "createTimestamp", SEED_TIMESTAMP);
    ldif_line(e, "modifyTimestamp", SEED_TIMESTAMP);
}

fn simple_entry(w: &mut impl Write, dn: &str, classes: &[&str], attrs: &[(&str, &str)]) {
    let mut e = String::new();
    ldif_line(&mut e, "dn", dn);
    for c in classes {
        ldif_line(&mut e, "objectClass", c);
    }
    for (a, v) in attrs {
        ldif_line(&mut e, a, v);
    }
    timestamps(&mut e);
    write_entry(w, &e);
}

/// Writes the seed LDIF and returns the seeded users.
fn generate_ldif(path: &Path, users: usize) -> Vec<SeededUser> {
    let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(path).unwrap());
    let mut e = String::new();
    simple_entry(
        &mut w,
        BASE_DN,
        &["dcObject", "organization"],
        &[("dc", "example"), ("o", "Example Corp")],
    );
    simple_entry(
        &mut w,
        SYNC_DN,
        &["organizationalRole", "simpleSecurityObject"],
        &[
            ("cn", "sync"),
            ("description", "Gatehouse read-only sync account"),
            ("userPassword", &ssha(SYNC_PASSWORD, "sync")),
        ],
    );
    let ous: &[&[&str]] = &[
        &["People"],
        &["People", "Sales"],
        &["People", "Sales", "East"],
        &["People", "Engineering"],
        &["People", "Support"],
        &["Groups"],
        &["Empty"],
    ];
    for path in ous {
        let name = path[path.len() - 1];
        simple_entry(
            &mut w,
            &ou_dn_of(path),
            &["organizationalUnit"],
            &[("ou", name)],
        );
    }

    let mut members: Vec<Vec<String>> = vec![Vec::new(); GROUPS.len()];
    let mut seeded = Vec::with_capacity(users);
    for n in 1..=users {
        let u = seeded_user(n);
        e.clear();
        ldif_line(&mut e, "dn", &u.dn);
        ldif_line(&mut e, "objectClass", "inetOrgPerson");
        ldif_line(&mut e, "objectClass", "gatehouseTestAccount");
        ldif_line(&mut e, "uid", &u.uid);
        ldif_line(&mut e, "cn", &u.cn);
        ldif_line(&mut e, "sn", &u.sn);
        ldif_line(&mut e, "givenName", &u.given_name);
        ldif_line(&mut e, "displayName", &u.display_name);
        ldif_line(&mut e, "mail", &u.mail);
        ldif_line(&mut e, "employeeNumber", &n.to_string());
        ldif_line(&mut e, "userPassword", &ssha(&u.password, &u.uid));
        if let Some(v) = u.ns_account_lock {
            ldif_line(&mut e, "nsAccountLock", v);
        }
        if let Some(v) = u.user_account_control {
            ldif_line(&mut e, "userAccountControl", &v.to_string());
        }
        // slapadd bypasses overlays: memberOf is written here, the memberof overlay keeps
        // it up to date for changes made over LDAP afterwards.
        for g in &u.member_of {
            ldif_line(&mut e, "memberOf", g);
        }
        timestamps(&mut e);
        write_entry(&mut w, &e);
        for (i, (_, f)) in GROUPS.iter().enumerate() {
            if f(n) {
                members[i].push(u.dn.clone());
            }
        }
        seeded.push(u);
    }
    for ((cn, _), m) in GROUPS.iter().zip(&members) {
        if m.is_empty() {
            continue; // groupOfNames MUST have a member
        }
        e.clear();
        ldif_line(&mut e, "dn", &group_dn_of(cn));
        ldif_line(&mut e, "objectClass", "groupOfNames");
        ldif_line(&mut e, "cn", cn);
        for dn in m {
            ldif_line(&mut e, "member", dn);
        }
        timestamps(&mut e);
        write_entry(&mut w, &e);
    }
    w.flush().unwrap();
    seeded
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?} failed\n{}",
        output_text(&out)
    );
}

/// A CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA.
/// EC P-256 keys (PKCS#8 PEM), which GnuTLS (Debian's slapd), rustls and OpenSSL all accept.
fn generate_tls(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    for (key, pem, cn) in [
        ("ca.key", "ca.pem", "Gatehouse Test CA"),
        (
            "other-ca.key",
            "other-ca.pem",
            "Gatehouse Untrusted Test CA",
        ),
    ] {
        let subj = format!("/O=Gatehouse Tests/CN={cn}");
        let mut args = vec!["req", "-x509", "-new"];
        args.extend(ec);
        args.extend([
            "-keyout",
            key,
            "-out",
            pem,
            "-days",
            "3650",
            "-subj",
            &subj,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(dir, &args);
    }
    let mut args = vec!["req", "-new"];
    args.extend(ec);
    args.extend([
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/O=Gatehouse Tests/CN=127.0.0.1",
    ]);
    openssl(dir, &args);
    fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n\
         subjectKeyIdentifier=hash\n\
         authorityKeyIdentifier=keyid,issuer\n\
         subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "3650",
            "-extfile",
            "server.ext",
        ],
    );
}

fn slapd_conf(dir: &Path, opts: &SlapdOptions) -> String {
    let d = dir.display();
    let mut c = String::new();
    for s in ["core", "cosine", "inetorgperson", "nis"] {
        let _ = writeln!(c, "include /etc/ldap/schema/{s}.schema");
    }
    let _ = writeln!(c, "include \"{}\"", schema_fixture().display());
    let _ = writeln!(c, "pidfile \"{d}/slapd.pid\"");
    let _ = writeln!(c, "argsfile \"{d}/slapd.args\"");
    c.push_str("modulepath /usr/lib/ldap\nmoduleload back_mdb\nmoduleload memberof\n");
    c.push_str("password-hash {SSHA}\ntool-threads 2\n");
    if opts.tls {
        let _ = writeln!(c, "TLSCACertificateFile \"{d}/tls/ca.pem\"");
        let _ = writeln!(c, "TLSCertificateFile \"{d}/tls/server.pem\"");
        let _ = writeln!(c, "TLSCertificateKeyFile \"{d}/tls/server.key\"");
    }
    // Frontend ACLs: the root DSE (supportedControl etc.) and the subschema for everyone.
    c.push_str("access to dn.base=\"\" by * read\n");
    c.push_str("access to dn.base=\"cn=Subschema\" by * read\n");
    c.push_str("\ndatabase mdb\n");
    let _ = writeln!(c, "suffix \"{BASE_DN}\"");
    let _ = writeln!(c, "rootdn \"{ADMIN_DN}\"");
    let _ = writeln!(c, "rootpw {ADMIN_PASSWORD}");
    let _ = writeln!(c, "directory \"{d}/db\"");
    c.push_str("maxsize 1073741824\ndbnosync\n");
    c.push_str(
        "index objectClass eq\n\
         index uid,mail,cn eq\n\
         index member,memberOf eq\n\
         index entryUUID eq\n",
    );
    match opts.size_limit {
        // Applies to everyone but the rootdn, the sync account included. prtotal=unlimited
        // lets paged searches go past the hard limit; size.pr is left unset on purpose
        // (setting it makes slapd reject bigger page sizes with adminLimitExceeded
        // instead of capping them the way AD's MaxPageSize does).
        Some(n) => {
            let _ = writeln!(
                c,
                "sizelimit size.soft={n} size.hard={n} size.prtotal=unlimited"
            );
        }
        // The built-in default is a soft limit of 500.
        None => c.push_str("sizelimit unlimited\n"),
    }
    let _ = write!(
        c,
        "access to attrs=userPassword\n\
         \tby self =xw\n\
         \tby anonymous auth\n\
         \tby * none\n\
         access to *\n\
         \tby dn.exact=\"{SYNC_DN}\" read\n\
         \tby self read\n\
         \tby anonymous auth\n\
         \tby * none\n"
    );
    c.push_str("overlay memberof\nmemberof-refint TRUE\n");
    c
}

enum SpawnError {
    PortClash(String),
}

impl Slapd {
    /// Seeds the directory with `slapadd` (slapd not running yet), starts slapd and waits
    /// until an `ldapsearch` of the root DSE succeeds.
    pub fn start(opts: SlapdOptions) -> Slapd {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut timings = StartupTimings::default();

        let t = Instant::now();
        let ldif = dir.path().join("seed.ldif");
        let users = generate_ldif(&ldif, opts.users);
        timings.generate = t.elapsed();

        if opts.tls {
            let t = Instant::now();
            generate_tls(&dir.path().join("tls"));
            timings.tls = t.elapsed();
        }

        let conf = dir.path().join("slapd.conf");
        fs::write(&conf, slapd_conf(dir.path(), &opts)).unwrap();
        fs::create_dir_all(dir.path().join("db")).unwrap();

        let t = Instant::now();
        let out = Command::new(sbin("slapadd"))
            .arg("-q")
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif)
            .output()
            .expect("run slapadd");
        assert!(
            out.status.success(),
            "slapadd failed\n{}",
            output_text(&out)
        );
        timings.slapadd = t.elapsed();

        let t = Instant::now();
        let mut s = Slapd {
            dir,
            child: None,
            port: 0,
            tls_port: None,
            opts,
            users,
            timings,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (p, q) = pick_ports();
            s.port = p;
            s.tls_port = s.opts.tls.then_some(q);
            match s.spawn() {
                Ok(()) => break,
                Err(SpawnError::PortClash(log)) => {
                    assert!(attempt < 10, "slapd: no free port after 10 tries\n{log}");
                }
            }
        }
        s.timings.start = t.elapsed();
        s
    }

    fn conf_path(&self) -> PathBuf {
        self.dir.path().join("slapd.conf")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("slapd.log")
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn spawn(&mut self) -> Result<(), SpawnError> {
        assert!(self.child.is_none(), "slapd already running");
        let mut urls = format!("ldap://127.0.0.1:{}/", self.port);
        if let Some(q) = self.tls_port {
            let _ = write!(urls, " ldaps://127.0.0.1:{q}/");
        }
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let log_start = log.metadata().unwrap().len() as usize;
        // `-d stats`: stay in the foreground (the Child is slapd itself, so we stop it by
        // PID) and log connections/operations and startup errors (bind failures are
        // silent with `-d 0`) to slapd.log.
        let child = Command::new(sbin("slapd"))
            .arg("-f")
            .arg(self.conf_path())
            .arg("-h")
            .arg(&urls)
            .arg("-d")
            .arg("stats")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn slapd");
        self.child = Some(child);

        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            if let Some(status) = exited {
                self.child = None;
                let text = self.log_text();
                let text = text.get(log_start..).unwrap_or(&text).to_string();
                if text.contains("Address already in use") {
                    return Err(SpawnError::PortClash(text));
                }
                panic!("slapd exited during startup ({status}); log:\n{text}");
            }
            let out = Command::new("ldapsearch")
                .args(["-x", "-LLL", "-o", "nettimeout=2", "-H"])
                .arg(self.ldap_url())
                .args(["-b", "", "-s", "base", "namingContexts"])
                .output()
                .expect("run ldapsearch");
            let ldaps_ok = self
                .tls_port
                .is_none_or(|q| std::net::TcpStream::connect(("127.0.0.1", q)).is_ok());
            if out.status.success() && ldaps_ok {
                return Ok(());
            }
            if Instant::now() > deadline {
                let log = self.log_text();
                self.kill();
                panic!(
                    "slapd not answering after 30 s\n{}\nlog:\n{log}",
                    output_text(&out)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(c) = self.child.take() {
            super::terminate(c, Duration::from_secs(10));
        }
    }

    /// SIGTERM (SIGKILL after 10 s) and wait. The data stays for [`Slapd::restart`].
    pub fn stop(&mut self) {
        assert!(self.child.is_some(), "slapd is not running");
        self.kill();
    }

    /// Starts slapd again (stopping it first if running): same data, same ports.
    pub fn restart(&mut self) {
        self.kill();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.spawn() {
                Ok(()) => return,
                Err(SpawnError::PortClash(log)) => {
                    assert!(attempt < 50, "slapd: ports taken on restart\n{log}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("slapd is not running").id()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn tls_port(&self) -> u16 {
        self.tls_port.expect("slapd started without tls")
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.tls_port())
    }

    fn tls_file(&self, name: &str) -> PathBuf {
        assert!(self.opts.tls, "slapd started without tls");
        self.dir.path().join("tls").join(name)
    }

    /// The CA that signed the server certificate (PEM).
    pub fn ca_pem(&self) -> PathBuf {
        self.tls_file("ca.pem")
    }

    /// An unrelated CA (PEM): verifying the server against it must fail.
    pub fn other_ca_pem(&self) -> PathBuf {
        self.tls_file("other-ca.pem")
    }

    /// The server certificate (PEM), for pinning tests.
    pub fn server_cert_pem(&self) -> PathBuf {
        self.tls_file("server.pem")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn options(&self) -> &SlapdOptions {
        &self.opts
    }

    pub fn timings(&self) -> StartupTimings {
        self.timings
    }

    pub fn base_dn(&self) -> &str {
        BASE_DN
    }

    pub fn people_dn(&self) -> String {
        format!("ou=People,{BASE_DN}")
    }

    pub fn groups_dn(&self) -> String {
        format!("ou=Groups,{BASE_DN}")
    }

    pub fn group_dn(&self, cn: &str) -> String {
        group_dn_of(cn)
    }

    /// `ou=Empty,dc=example,dc=com`: an OU with nothing below it.
    pub fn empty_ou_dn(&self) -> String {
        format!("ou=Empty,{BASE_DN}")
    }

    pub fn sync_dn(&self) -> &str {
        SYNC_DN
    }

    pub fn sync_password(&self) -> &str {
        SYNC_PASSWORD
    }

    pub fn admin_dn(&self) -> &str {
        ADMIN_DN
    }

    pub fn admin_password(&self) -> &str {
        ADMIN_PASSWORD
    }

    fn user_index(&self, uid: &str) -> Option<usize> {
        let n: usize = uid.strip_prefix('u')?.parse().ok()?;
        (n >= 1 && n <= self.users.len() && self.users[n - 1].uid == uid).then_some(n - 1)
    }

    /// The seeded user `uid`; panics if it was not seeded.
    pub fn user(&self, uid: &str) -> &SeededUser {
        let i = self
            .user_index(uid)
            .unwrap_or_else(|| panic!("{uid} is not a seeded user"));
        &self.users[i]
    }

    /// DN of the seeded user `uid` (in its OU); panics if it was not seeded.
    pub fn user_dn(&self, uid: &str) -> String {
        self.user(uid).dn.clone()
    }

    /// The password of user `uid` as seeded: `pw-<uid>`.
    pub fn password_of(&self, uid: &str) -> String {
        format!("pw-{uid}")
    }

    pub fn seeded_users(&self) -> Vec<SeededUser> {
        self.users.clone()
    }

    /// Runs an OpenLDAP client tool (`ldapsearch`, `ldapwhoami`, …) against the plain
    /// ldap:// URL with simple binds (`-x -H url`), followed by `args`.
    pub fn ldap_tool(&self, tool: &str, args: &[&str]) -> Output {
        Command::new(tool)
            .args(["-x", "-o", "nettimeout=10", "-H"])
            .arg(self.ldap_url())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {tool}: {e}"))
    }

    /// `ldapmodify -a` as the rootdn; records without `changetype` are adds.
    pub fn try_modify(&self, ldif: &str) -> Output {
        let mut child = Command::new("ldapmodify")
            .args(["-x", "-a", "-o", "nettimeout=10", "-H"])
            .arg(self.ldap_url())
            .args(["-D", ADMIN_DN, "-w", ADMIN_PASSWORD])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ldapmodify");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Like [`Slapd::try_modify`]; panics with the tool's output on failure.
    pub fn modify(&self, ldif: &str) {
        let out = self.try_modify(ldif);
        assert!(
            out.status.success(),
            "ldapmodify failed\nldif:\n{ldif}\n{}",
            output_text(&out)
        );
    }

    /// Adds group `cn` under ou=Groups as the rootdn: objectClass `class`
    /// (`groupOfNames`, `groupOfUniqueNames` or `posixGroup`, which gets a gidNumber)
    /// listing `members` in `attr`. Returns its DN.
    pub fn add_group(&self, cn: &str, class: &str, attr: &str, members: &[&str]) -> String {
        let dn = group_dn_of(cn);
        let mut e = String::new();
        ldif_line(&mut e, "dn", &dn);
        ldif_line(&mut e, "objectClass", class);
        ldif_line(&mut e, "cn", cn);
        if class == "posixGroup" {
            let gid = 10_000 + cn.bytes().map(usize::from).sum::<usize>();
            ldif_line(&mut e, "gidNumber", &gid.to_string());
        }
        for m in members {
            ldif_line(&mut e, attr, m);
        }
        self.modify(&e);
        dn
    }

    /// Adds `value` to `attr` of group `cn` (under ou=Groups), as the rootdn.
    pub fn add_member(&self, cn: &str, attr: &str, value: &str) {
        self.change_member(cn, "add", attr, value);
    }

    /// Removes `value` from `attr` of group `cn` (under ou=Groups), as the rootdn.
    pub fn remove_member(&self, cn: &str, attr: &str, value: &str) {
        self.change_member(cn, "delete", attr, value);
    }

    fn change_member(&self, cn: &str, op: &str, attr: &str, value: &str) {
        let mut e = String::new();
        ldif_line(&mut e, "dn", &group_dn_of(cn));
        e.push_str("changetype: modify\n");
        let _ = writeln!(e, "{op}: {attr}");
        ldif_line(&mut e, attr, value);
        self.modify(&e);
    }

    /// `ldapsearch -LLL` as the rootdn (no ACLs, no size limit), unwrapped LDIF output.
    /// Panics on failure.
    pub fn admin_search(&self, base: &str, scope: &str, filter: &str, attrs: &[&str]) -> String {
        let mut args = vec![
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-D",
            ADMIN_DN,
            "-w",
            ADMIN_PASSWORD,
            "-b",
            base,
            "-s",
            scope,
            filter,
        ];
        args.extend_from_slice(attrs);
        let out = self.ldap_tool("ldapsearch", &args);
        assert!(
            out.status.success(),
            "ldapsearch failed\n{}",
            output_text(&out)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Slapd {
    /// Stops slapd by PID. When the test is failing, prints where slapd's log is and its
    /// tail; with `GATEHOUSE_KEEP_SLAPD=1` the temporary directory is kept for inspection.
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = self.log_text();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            eprintln!(
                "slapd log ({}), last lines:\n{tail}",
                self.log_path().display()
            );
        }
        if std::env::var_os("GATEHOUSE_KEEP_SLAPD").is_some_and(|v| v == "1") {
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
            eprintln!("slapd: kept {}", dir.keep().display());
        }
    }
}
