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
        })
    }
}
