//! `gatehousectl`: grammar (clap) and rendering. It holds no logic of its own beyond
//! turning arguments into one admin request and its reply into text.

pub mod render;

use std::io::Read as _;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

/// Default socket, overridden by `--socket` or `GATEHOUSE_ADMIN_SOCKET`.
pub const DEFAULT_SOCKET: &str = "/run/gatehouse/admin.sock";

#[derive(Debug, Parser)]
#[command(
    name = "gatehousectl",
    version,
    about = "Administer a running gatehoused"
)]
pub struct Cli {
    /// Path of the daemon's admin socket.
    #[arg(long, global = true, env = "GATEHOUSE_ADMIN_SOCKET", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
    /// Print the daemon's JSON result instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Act as this administrator (root only; audited as root acting as NAME).
    #[arg(long = "as", global = true, value_name = "ADMIN")]
    pub act_as: Option<String>,
    #[command(subcommand)]
    pub noun: Noun,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Noun {
    /// Daemon health, listeners and per-client counters.
    Status,
    /// RADIUS clients (NAS devices).
    #[command(subcommand)]
    Client(ClientVerb),
    /// Users.
    #[command(subcommand)]
    User(UserVerb),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditVerb),
    /// LDAP / Active Directory connections and their syncs.
    #[command(subcommand)]
    Directory(DirectoryVerb),
    /// Trusted certificates (roots for LDAPS/StartTLS).
    #[command(subcommand)]
    Cert(CertVerb),
    /// Users imported from CSV awaiting approval.
    #[command(subcommand)]
    Pending(PendingVerb),
    /// Delegated administrator roles.
    #[command(subcommand)]
    Role(RoleVerb),
    /// Administrators (each bound to a Unix user and one role).
    #[command(subcommand)]
    Admin(AdminVerb),
    /// Sites (RADIUS clients and computers belong to one).
    #[command(subcommand)]
    Site(SiteVerb),
    /// Appliance-wide switches.
    #[command(subcommand)]
    System(SystemVerb),
}

/// A role's own restriction; options left out mean "same as the parent".
#[derive(Debug, Args, Default)]
pub struct RoleFields {
    #[arg(long)]
    pub parent: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Operations, comma-separated, each optionally `:own` (`same` = as the parent).
    #[arg(long)]
    pub ops: Option<String>,
    /// `DOMAIN[:OU_DN];…`, `*` for everything, `same` = as the parent.
    #[arg(long)]
    pub user_scope: Option<String>,
    /// `SITE,…`, `*` for everything, `same` = as the parent.
    #[arg(long)]
    pub computer_scope: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RoleVerb {
    /// The operations catalogue.
    Ops,
    List,
    /// Own and effective rights, ancestry, holders and warnings.
    Show {
        name: String,
    },
    Create {
        name: String,
        #[command(flatten)]
        fields: RoleFields,
    },
    Edit {
        name: String,
        #[command(flatten)]
        fields: RoleFields,
    },
    Delete {
        name: String,
    },
    /// Would ADMIN be allowed OPERATION on TARGET (user:D\\N, client:N, directory:N, site:N)?
    Explain {
        admin: String,
        operation: String,
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminVerb {
    List,
    Add {
        name: String,
        #[arg(long)]
        unix_user: String,
        #[arg(long)]
        role: String,
    },
    SetRole {
        name: String,
        #[arg(long)]
        role: String,
    },
    Disable {
        name: String,
    },
    Enable {
        name: String,
    },
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteVerb {
    Add {
        name: String,
        #[arg(long = "subnet")]
        subnets: Vec<String>,
        #[arg(long)]
        timezone: Option<String>,
    },
    List,
    Show {
        name: String,
    },
    Edit {
        name: String,
        #[arg(long)]
        new_name: Option<String>,
        #[arg(long = "subnet")]
        subnets: Vec<String>,
        #[arg(long)]
        timezone: Option<String>,
    },
    Delete {
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum SystemVerb {
    /// Refuse every admin request except from holders of system.lockdown.
    Lockdown { state: OnOff },
}

fn role_args(name: &str, f: &RoleFields) -> Value {
    let mut a = json!({"name": name});
    set(&mut a, "parent", f.parent.clone());
    set(&mut a, "description", f.description.clone());
    set(&mut a, "ops", f.ops.as_ref().map(|o| vec![o.clone()]));
    set(
        &mut a,
        "user_scope",
        f.user_scope.as_ref().map(|o| vec![o.clone()]),
    );
    set(
        &mut a,
        "computer_scope",
        f.computer_scope.as_ref().map(|o| vec![o.clone()]),
    );
    a
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DisabledFlagArg {
    Auto,
    UserAccountControl,
    NsAccountLock,
    None,
}

/// Directory settings shared by `add` and `edit`.
#[derive(Debug, Args, Default)]
pub struct DirectoryFields {
    /// LDAP URL, tried in the order given (repeat for failover).
    #[arg(long = "url")]
    pub urls: Vec<String>,
    #[arg(long)]
    pub bind_dn: Option<String>,
    /// File holding the bind password (`-` for stdin).
    #[arg(long)]
    pub bind_password_file: Option<PathBuf>,
    /// Search base (repeatable).
    #[arg(long = "base-dn")]
    pub base_dns: Vec<String>,
    #[arg(long)]
    pub user_filter: Option<String>,
    /// `uid` (OpenLDAP) or `sAMAccountName` (Active Directory).
    #[arg(long)]
    pub username_attribute: Option<String>,
    #[arg(long)]
    pub email_attribute: Option<String>,
    #[arg(long)]
    pub display_name_attribute: Option<String>,
    #[arg(long)]
    pub groups_attribute: Option<String>,
    #[arg(long, value_enum)]
    pub disabled_flag: Option<DisabledFlagArg>,
    /// Upgrade ldap:// connections with StartTLS (`--starttls` or `--starttls false`).
    #[arg(long, num_args = 0..=1)]
    pub starttls: Option<Option<Bool>>,
    /// Trusted certificate to verify the server with (repeatable).
    #[arg(long = "ca")]
    pub ca_certs: Vec<String>,
    /// Keep only users inside this OU subtree (repeatable).
    #[arg(long = "ou")]
    pub ous: Vec<String>,
    /// RFC 2696 page size (0 = no paging).
    #[arg(long)]
    pub page_size: Option<u32>,
    #[arg(long)]
    pub connect_timeout: Option<u64>,
    #[arg(long)]
    pub search_timeout: Option<u64>,
    /// `every 15m`, `daily 02:00`, a cron expression, or `manual`.
    #[arg(long)]
    pub schedule: Option<String>,
    /// When full runs (which find deletions) happen; default `daily 03:00`.
    #[arg(long)]
    pub full_schedule: Option<String>,
    /// Abort a sync that would disable more than this percentage of the domain.
    #[arg(long)]
    pub disable_threshold: Option<f64>,
    #[arg(long)]
    pub retention_days: Option<u32>,
    #[arg(long)]
    pub bind_pool_size: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub enum DirectoryVerb {
    /// Add a directory connection (its name becomes the users' domain).
    Add {
        name: String,
        #[command(flatten)]
        fields: DirectoryFields,
    },
    /// Change a directory connection.
    Edit {
        name: String,
        #[command(flatten)]
        fields: DirectoryFields,
    },
    List,
    Show {
        name: String,
    },
    /// Check connect, TLS, bind and a sample search.
    Test {
        name: String,
    },
    /// Show what a sync would change, without writing.
    Preview {
        name: String,
        #[arg(long)]
        incremental: bool,
    },
    /// Run a sync now.
    Sync {
        name: String,
        /// Apply even when more users would be disabled than the threshold allows.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        incremental: bool,
    },
    /// Recent runs and the one in progress.
    Status {
        name: String,
    },
    /// Delete the connection and every user of its domain.
    Delete {
        name: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CertVerb {
    /// Trust a PEM or DER certificate.
    Trust {
        file: PathBuf,
        #[arg(long)]
        name: String,
    },
    List,
    Show {
        name: String,
    },
    Delete {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PendingVerb {
    /// Import users from CSV (header: username,email,display_name[,domain,ou]).
    Import {
        file: PathBuf,
    },
    List,
    Update {
        #[command(flatten)]
        user: UserName,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    Delete(UserName),
    Approve(UserName),
}

fn directory_args(name: &str, f: &DirectoryFields) -> Result<Value, UsageError> {
    let mut a = json!({"name": name});
    set(&mut a, "urls", (!f.urls.is_empty()).then(|| f.urls.clone()));
    set(&mut a, "bind_dn", f.bind_dn.clone());
    set(
        &mut a,
        "bind_password",
        f.bind_password_file.as_ref().map(read_secret).transpose()?,
    );
    set(
        &mut a,
        "base_dns",
        (!f.base_dns.is_empty()).then(|| f.base_dns.clone()),
    );
    set(&mut a, "user_filter", f.user_filter.clone());
    set(&mut a, "username_attribute", f.username_attribute.clone());
    set(&mut a, "email_attribute", f.email_attribute.clone());
    set(
        &mut a,
        "display_name_attribute",
        f.display_name_attribute.clone(),
    );
    set(&mut a, "groups_attribute", f.groups_attribute.clone());
    set(
        &mut a,
        "disabled_flag",
        f.disabled_flag.map(|d| match d {
            DisabledFlagArg::Auto => "auto",
            DisabledFlagArg::UserAccountControl => "user_account_control",
            DisabledFlagArg::NsAccountLock => "ns_account_lock",
            DisabledFlagArg::None => "none",
        }),
    );
    set(
        &mut a,
        "starttls",
        f.starttls.map(|b| b.is_none_or(bool::from)),
    );
    set(
        &mut a,
        "ca_certs",
        (!f.ca_certs.is_empty()).then(|| f.ca_certs.clone()),
    );
    set(&mut a, "ous", (!f.ous.is_empty()).then(|| f.ous.clone()));
    set(&mut a, "page_size", f.page_size);
    set(&mut a, "connect_timeout_secs", f.connect_timeout);
    set(&mut a, "search_timeout_secs", f.search_timeout);
    set(&mut a, "schedule", f.schedule.clone());
    set(&mut a, "full_schedule", f.full_schedule.clone());
    set(&mut a, "disable_threshold_percent", f.disable_threshold);
    set(&mut a, "retention_days", f.retention_days);
    set(&mut a, "bind_pool_size", f.bind_pool_size);
    Ok(a)
}

fn read_file(path: &PathBuf) -> Result<Vec<u8>, UsageError> {
    if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin()
            .read_to_end(&mut v)
            .map_err(|e| UsageError(format!("stdin: {e}")))?;
        Ok(v)
    } else {
        std::fs::read(path).map_err(|e| UsageError(format!("{}: {e}", path.display())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bool {
    True,
    False,
}

impl From<Bool> for bool {
    fn from(b: Bool) -> bool {
        b == Bool::True
    }
}

#[derive(Debug, Subcommand)]
pub enum ClientVerb {
    /// Add a client.
    Add {
        name: String,
        /// Address or CIDR network the client sends from.
        #[arg(long)]
        address: String,
        /// File holding the shared secret (`-` for stdin).
        #[arg(long)]
        secret_file: PathBuf,
        #[arg(long)]
        site: Option<String>,
        /// Drop Access-Requests without a valid Message-Authenticator (BlastRADIUS).
        #[arg(long)]
        require_message_authenticator: Option<Bool>,
        /// Requests per second (0 = no limit of its own).
        #[arg(long)]
        rate_limit: Option<u32>,
    },
    /// List clients.
    List,
    /// Show one client.
    Show { name: String },
    /// Change a client.
    Edit {
        name: String,
        #[arg(long)]
        new_name: Option<String>,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        secret_file: Option<PathBuf>,
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        require_message_authenticator: Option<Bool>,
        #[arg(long)]
        rate_limit: Option<u32>,
    },
    /// Delete a client.
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct UserName {
    /// `name`, `DOMAIN\name` or `name@DOMAIN`.
    pub name: String,
    #[arg(long)]
    pub domain: Option<String>,
}

impl UserName {
    fn qualified(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}\\{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserVerb {
    /// Add a local user.
    Add {
        #[command(flatten)]
        user: UserName,
        /// Read the password from standard input.
        #[arg(
            long,
            conflicts_with = "password_hash_stdin",
            required_unless_present = "password_hash_stdin"
        )]
        password_stdin: bool,
        /// Read an imported hash ($6$, $5$, {SSHA}, {SSHA512}, argon2) from standard input.
        #[arg(long)]
        password_hash_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Import `name:hash` lines from a file (`-` for stdin), all or nothing.
    Import {
        file: PathBuf,
        #[arg(long)]
        domain: Option<String>,
    },
    /// List users.
    List {
        #[arg(long)]
        domain: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show one user.
    Show(UserName),
    /// Change a user's descriptive fields.
    Edit {
        #[command(flatten)]
        user: UserName,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        email: Option<String>,
    },
    /// Enable a user.
    Enable(UserName),
    /// Disable a user.
    Disable(UserName),
    /// Delete a user.
    Delete(UserName),
    /// Set a local user's password.
    SetPassword {
        #[command(flatten)]
        user: UserName,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditVerb {
    /// Show recent audit records.
    List {
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        operation: Option<String>,
    },
    /// Prove that no record was altered, removed or reordered.
    Verify,
}

/// Asks on the terminal; anything but the expected answer (or no terminal) is a no.
fn confirm(prompt: &str, expected: &str) -> bool {
    use std::io::{IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == expected
}

/// A request ready to send, or a local usage problem.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn read_secret(path: &PathBuf) -> Result<String, UsageError> {
    let mut s = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| UsageError(format!("cannot read stdin: {e}")))?;
    } else {
        s = std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("{}: {e}", path.display())))?;
    }
    let s = s.trim_end_matches(['\n', '\r']).to_string();
    if s.is_empty() {
        return Err(UsageError(format!("{}: empty", path.display())));
    }
    Ok(s)
}

fn read_stdin_line(what: &str) -> Result<String, UsageError> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| UsageError(format!("cannot read {what} from stdin: {e}")))?;
    let line = s.lines().next().unwrap_or_default().to_string();
    if line.is_empty() {
        return Err(UsageError(format!("no {what} on stdin")));
    }
    Ok(line)
}

fn set(obj: &mut Value, key: &str, v: Option<impl Into<Value>>) {
    if let (Some(v), Some(map)) = (v, obj.as_object_mut()) {
        map.insert(key.to_string(), v.into());
    }
}

impl Noun {
    /// The wire operation and arguments for this command line.
    ///
    /// # Errors
    /// Files or stdin that cannot be read.
    pub fn to_request(&self) -> Result<(&'static str, Value), UsageError> {
        Ok(match self {
            Noun::Status => ("status", json!({})),
            Noun::Client(v) => match v {
                ClientVerb::Add {
                    name,
                    address,
                    secret_file,
                    site,
                    require_message_authenticator,
                    rate_limit,
                } => {
                    let mut a = json!({"name": name, "address": address, "secret": read_secret(secret_file)?});
                    set(&mut a, "site", site.clone());
                    set(
                        &mut a,
                        "require_message_authenticator",
                        require_message_authenticator.map(bool::from),
                    );
                    set(&mut a, "rate_limit", *rate_limit);
                    ("client.add", a)
                }
                ClientVerb::List => ("client.list", json!({})),
                ClientVerb::Show { name } => ("client.show", json!({"name": name})),
                ClientVerb::Edit {
                    name,
                    new_name,
                    address,
                    secret_file,
                    site,
                    require_message_authenticator,
                    rate_limit,
                } => {
                    let mut a = json!({"name": name});
                    set(&mut a, "new_name", new_name.clone());
                    set(&mut a, "address", address.clone());
                    set(
                        &mut a,
                        "secret",
                        secret_file.as_ref().map(read_secret).transpose()?,
                    );
                    set(&mut a, "site", site.clone());
                    set(
                        &mut a,
                        "require_message_authenticator",
                        require_message_authenticator.map(bool::from),
                    );
                    set(&mut a, "rate_limit", *rate_limit);
                    ("client.edit", a)
                }
                ClientVerb::Delete { name } => ("client.delete", json!({"name": name})),
            },
            Noun::User(v) => match v {
                UserVerb::Add {
                    user,
                    password_stdin,
                    password_hash_stdin,
                    display_name,
                    email,
                } => {
                    let mut a = json!({"user": user.qualified()});
                    if *password_stdin {
                        set(&mut a, "password", Some(read_stdin_line("password")?));
                    } else if *password_hash_stdin {
                        set(
                            &mut a,
                            "password_hash",
                            Some(read_stdin_line("password hash")?),
                        );
                    }
                    set(&mut a, "display_name", display_name.clone());
                    set(&mut a, "email", email.clone());
                    ("user.add", a)
                }
                UserVerb::Import { file, domain } => {
                    let lines = if file.as_os_str() == "-" {
                        let mut s = String::new();
                        std::io::stdin()
                            .read_to_string(&mut s)
                            .map_err(|e| UsageError(format!("stdin: {e}")))?;
                        s
                    } else {
                        std::fs::read_to_string(file)
                            .map_err(|e| UsageError(format!("{}: {e}", file.display())))?
                    };
                    let mut a = json!({"lines": lines});
                    set(&mut a, "domain", domain.clone());
                    ("user.import", a)
                }
                UserVerb::List { domain, limit } => {
                    let mut a = json!({});
                    set(&mut a, "domain", domain.clone());
                    set(&mut a, "limit", *limit);
                    ("user.list", a)
                }
                UserVerb::Show(u) => ("user.show", json!({"user": u.qualified()})),
                UserVerb::Edit {
                    user,
                    display_name,
                    email,
                } => {
                    let mut a = json!({"user": user.qualified()});
                    set(&mut a, "display_name", display_name.clone());
                    set(&mut a, "email", email.clone());
                    ("user.edit", a)
                }
                UserVerb::Enable(u) => ("user.enable", json!({"user": u.qualified()})),
                UserVerb::Disable(u) => ("user.disable", json!({"user": u.qualified()})),
                UserVerb::Delete(u) => ("user.delete", json!({"user": u.qualified()})),
                UserVerb::SetPassword { user, .. } => (
                    "user.set-password",
                    json!({"user": user.qualified(), "password": read_stdin_line("password")?}),
                ),
            },
            Noun::Audit(v) => match v {
                AuditVerb::List { limit, operation } => {
                    let mut a = json!({});
                    set(&mut a, "limit", *limit);
                    set(&mut a, "operation", operation.clone());
                    ("audit.list", a)
                }
                AuditVerb::Verify => ("audit.verify", json!({})),
            },
            Noun::Directory(v) => match v {
                DirectoryVerb::Add { name, fields } => {
                    ("directory.add", directory_args(name, fields)?)
                }
                DirectoryVerb::Edit { name, fields } => {
                    ("directory.edit", directory_args(name, fields)?)
                }
                DirectoryVerb::List => ("directory.list", json!({})),
                DirectoryVerb::Show { name } => ("directory.show", json!({"name": name})),
                DirectoryVerb::Test { name } => ("directory.test", json!({"name": name})),
                DirectoryVerb::Preview { name, incremental } => (
                    "directory.preview",
                    json!({"name": name, "incremental": incremental}),
                ),
                DirectoryVerb::Sync {
                    name,
                    force,
                    incremental,
                } => (
                    "directory.sync",
                    json!({"name": name, "force": force, "incremental": incremental}),
                ),
                DirectoryVerb::Status { name } => ("directory.status", json!({"name": name})),
                DirectoryVerb::Delete { name, yes } => {
                    let confirmed = *yes
                        || confirm(
                            &format!(
                                "Delete directory {name} and every user of its domain? Type the name to confirm: "
                            ),
                            name,
                        );
                    (
                        "directory.delete",
                        json!({"name": name, "confirmed": confirmed}),
                    )
                }
            },
            Noun::Cert(v) => match v {
                CertVerb::Trust { file, name } => {
                    use base64::Engine as _;
                    let data = base64::engine::general_purpose::STANDARD.encode(read_file(file)?);
                    ("cert.trust", json!({"name": name, "data_base64": data}))
                }
                CertVerb::List => ("cert.list", json!({})),
                CertVerb::Show { name } => ("cert.show", json!({"name": name})),
                CertVerb::Delete { name } => ("cert.delete", json!({"name": name})),
            },
            Noun::Pending(v) => match v {
                PendingVerb::Import { file } => {
                    let csv = String::from_utf8(read_file(file)?)
                        .map_err(|_| UsageError(format!("{}: not UTF-8 text", file.display())))?;
                    ("pending.import", json!({"csv": csv}))
                }
                PendingVerb::List => ("pending.list", json!({})),
                PendingVerb::Update {
                    user,
                    display_name,
                    email,
                } => {
                    let mut a = json!({"user": user.qualified()});
                    set(&mut a, "display_name", display_name.clone());
                    set(&mut a, "email", email.clone());
                    ("pending.update", a)
                }
                PendingVerb::Delete(u) => ("pending.delete", json!({"user": u.qualified()})),
                PendingVerb::Approve(u) => ("pending.approve", json!({"user": u.qualified()})),
            },
            Noun::Role(v) => match v {
                RoleVerb::Ops => ("role.ops", json!({})),
                RoleVerb::List => ("role.list", json!({})),
                RoleVerb::Show { name } => ("role.show", json!({"name": name})),
                RoleVerb::Create { name, fields } => ("role.create", role_args(name, fields)),
                RoleVerb::Edit { name, fields } => ("role.edit", role_args(name, fields)),
                RoleVerb::Delete { name } => ("role.delete", json!({"name": name})),
                RoleVerb::Explain {
                    admin,
                    operation,
                    target,
                } => {
                    let mut a = json!({"admin": admin, "operation": operation});
                    set(&mut a, "target", target.clone());
                    ("role.explain", a)
                }
            },
            Noun::Admin(v) => match v {
                AdminVerb::List => ("admin.list", json!({})),
                AdminVerb::Add {
                    name,
                    unix_user,
                    role,
                } => (
                    "admin.add",
                    json!({"name": name, "unix_user": unix_user, "role": role}),
                ),
                AdminVerb::SetRole { name, role } => {
                    ("admin.set-role", json!({"name": name, "role": role}))
                }
                AdminVerb::Disable { name } => ("admin.disable", json!({"name": name})),
                AdminVerb::Enable { name } => ("admin.enable", json!({"name": name})),
                AdminVerb::Remove { name } => ("admin.remove", json!({"name": name})),
            },
            Noun::Site(v) => match v {
                SiteVerb::Add {
                    name,
                    subnets,
                    timezone,
                } => {
                    let mut a = json!({"name": name, "subnets": subnets});
                    set(&mut a, "timezone", timezone.clone());
                    ("site.add", a)
                }
                SiteVerb::List => ("site.list", json!({})),
                SiteVerb::Show { name } => ("site.show", json!({"name": name})),
                SiteVerb::Edit {
                    name,
                    new_name,
                    subnets,
                    timezone,
                } => {
                    let mut a = json!({"name": name});
                    set(&mut a, "new_name", new_name.clone());
                    set(
                        &mut a,
                        "subnets",
                        (!subnets.is_empty()).then(|| subnets.clone()),
                    );
                    set(&mut a, "timezone", timezone.clone());
                    ("site.edit", a)
                }
                SiteVerb::Delete { name } => ("site.delete", json!({"name": name})),
            },
            Noun::System(SystemVerb::Lockdown { state }) => {
                ("system.lockdown", json!({"on": *state == OnOff::On}))
            }
        })
    }
}
