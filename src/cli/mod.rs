//! `gatehousectl`: grammar (clap) and rendering. It holds no logic of its own beyond
//! turning arguments into one admin request and its reply into text.

pub mod input;
pub mod policy;
pub mod render;
mod request;

pub use input::UsageError;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// User policies: methods, second factor, lockout, reply attributes, mode.
    #[command(subcommand)]
    UserPolicy(policy::UserPolicyVerb),
    /// Computer policies: methods, second factor, access hours, reply attributes, mode.
    #[command(subcommand)]
    ComputerPolicy(policy::ComputerPolicyVerb),
    /// Ordered rules that give new computers their policy.
    #[command(subcommand)]
    ComputerRule(policy::ComputerRuleVerb),
    /// Computers seen in requests.
    #[command(subcommand)]
    Computer(policy::ComputerVerb),
    /// How the policies decide.
    #[command(subcommand)]
    Policy(policy::PolicyVerb),
    /// The RADIUS service, live.
    #[command(subcommand)]
    Radius(policy::RadiusVerb),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DisabledFlagArg {
    Auto,
    UserAccountControl,
    NsAccountLock,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MemberAttributeArg {
    #[value(name = "member")]
    Member,
    #[value(name = "uniqueMember")]
    UniqueMember,
    #[value(name = "memberUid")]
    MemberUid,
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
    /// UPN suffix whose logins (`name@SUFFIX`) are this directory's users (repeatable).
    #[arg(long = "upn-suffix")]
    pub upn_suffixes: Vec<String>,
    /// Accept ldap:// without StartTLS: passwords cross the network in the clear.
    #[arg(long)]
    pub insecure_plaintext: bool,
    /// Find users' groups by searching the groups under this DN, for directories whose
    /// users carry no memberOf (`""` goes back to memberOf).
    #[arg(long)]
    pub group_base_dn: Option<String>,
    /// Which entries under --group-base-dn are groups (default: groupOfNames,
    /// groupOfUniqueNames, posixGroup and group).
    #[arg(long)]
    pub group_filter: Option<String>,
    /// The group attribute listing members; memberUid lists usernames, not DNs.
    #[arg(long, value_enum)]
    pub group_member_attribute: Option<MemberAttributeArg>,
    /// Also give users the groups their groups belong to (`--nested-groups` or
    /// `--nested-groups false`).
    #[arg(long, num_args = 0..=1)]
    pub nested_groups: Option<Option<Bool>>,
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
        /// Show what a forced sync would do (past the disable threshold).
        #[arg(long)]
        force: bool,
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
        /// Accept an address inside another client's network (a more specific client).
        #[arg(long)]
        allow_overlap: bool,
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
        /// Accept an address inside another client's network (a more specific client).
        #[arg(long)]
        allow_overlap: bool,
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
    /// List users (1,000 by default, at most 10,000; --offset pages).
    List {
        #[arg(long)]
        domain: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        offset: Option<u32>,
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
    /// Clear a user's failed logins and lock (and an administrator's lock).
    Unlock(UserName),
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
    /// Show recent audit records, newest first.
    List {
        #[arg(long)]
        limit: Option<u32>,
        #[arg(long)]
        operation: Option<String>,
        /// Records about this user (`name` or `DOMAIN\\name`).
        #[arg(long)]
        user: Option<String>,
        /// Records of this RADIUS client.
        #[arg(long)]
        client: Option<String>,
        /// allowed, denied, failed, accept, reject, would_deny or info.
        #[arg(long)]
        outcome: Option<String>,
        /// From this time (RFC 3339, or YYYY-MM-DDTHH:MM in this machine's time zone).
        #[arg(long)]
        since: Option<String>,
        /// Before this time.
        #[arg(long)]
        until: Option<String>,
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
