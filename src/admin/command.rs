//! Typed admin commands and the requirement each one declares.
//!
//! `requirement()` matches every variant with no `_` arm: a new command does not compile
//! until it says which operations it needs and which object it touches.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::operation::{Family, Operation};
use crate::model::{LOCAL_DOMAIN, Secret, UserRef};

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NameArg {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientAddArgs {
    pub name: String,
    pub address: String,
    pub secret: Secret,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub require_message_authenticator: Option<bool>,
    #[serde(default)]
    pub rate_limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientEditArgs {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub require_message_authenticator: Option<bool>,
    /// 0 removes the client's own limit.
    #[serde(default)]
    pub rate_limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserArg {
    pub user: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserAddArgs {
    pub user: String,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub password_hash: Option<Secret>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// `name:hash` lines (or `name,hash`), all-or-nothing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserImportArgs {
    pub domain: Option<String>,
    pub lines: Secret,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct UserListArgs {
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserEditArgs {
    pub user: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordArgs {
    pub user: String,
    pub password: Secret,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditListArgs {
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub operation: Option<String>,
}

/// A directory connection as given on the command line; unset fields keep their
/// defaults (add) or their current values (edit).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DirectoryArgs {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub bind_dn: Option<String>,
    #[serde(default)]
    pub bind_password: Option<Secret>,
    #[serde(default)]
    pub base_dns: Option<Vec<String>>,
    #[serde(default)]
    pub user_filter: Option<String>,
    #[serde(default)]
    pub username_attribute: Option<String>,
    #[serde(default)]
    pub email_attribute: Option<String>,
    #[serde(default)]
    pub display_name_attribute: Option<String>,
    #[serde(default)]
    pub groups_attribute: Option<String>,
    #[serde(default)]
    pub disabled_flag: Option<crate::directory::map::DisabledFlag>,
    #[serde(default)]
    pub starttls: Option<bool>,
    #[serde(default)]
    pub ca_certs: Option<Vec<String>>,
    #[serde(default)]
    pub ous: Option<Vec<String>>,
    #[serde(default)]
    pub page_size: Option<u32>,
    #[serde(default)]
    pub connect_timeout_secs: Option<u64>,
    #[serde(default)]
    pub search_timeout_secs: Option<u64>,
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub full_schedule: Option<String>,
    #[serde(default)]
    pub disable_threshold_percent: Option<f64>,
    #[serde(default)]
    pub retention_days: Option<u32>,
    #[serde(default)]
    pub bind_pool_size: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyncArgs {
    pub name: String,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub incremental: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeleteDirectoryArgs {
    pub name: String,
    /// The operator confirmed (--yes or the interactive prompt).
    #[serde(default)]
    pub confirmed: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CertTrustArgs {
    pub name: String,
    /// The file's bytes, base64.
    pub data_base64: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PendingImportArgs {
    pub csv: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PendingUpdateArgs {
    pub user: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A role's own restriction as given on the command line. `None` fields mean "same as
/// the parent" on create and "unchanged" on edit.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RoleArgs {
    pub name: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// `op` or `op:own`; the string `same` (or an absent field) means "as the parent".
    #[serde(default)]
    pub ops: Option<Vec<String>>,
    /// `DOMAIN` or `DOMAIN:OU_DN`; `*` for everything.
    #[serde(default)]
    pub user_scope: Option<Vec<String>>,
    /// Site names; `*` for everything.
    #[serde(default)]
    pub computer_scope: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExplainArgs {
    pub admin: String,
    pub operation: String,
    /// `user:DOMAIN\name`, `client:NAME`, `directory:NAME`, `site:NAME`.
    #[serde(default)]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdminAddArgs {
    pub name: String,
    pub unix_user: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdminRoleArgs {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteArgs {
    pub name: String,
    #[serde(default)]
    pub new_name: Option<String>,
    #[serde(default)]
    pub subnets: Option<Vec<String>>,
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LockdownArgs {
    pub on: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "op", content = "args")]
pub enum Command {
    #[serde(rename = "status")]
    Status(Empty),
    #[serde(rename = "client.add")]
    ClientAdd(ClientAddArgs),
    #[serde(rename = "client.list")]
    ClientList(Empty),
    #[serde(rename = "client.show")]
    ClientShow(NameArg),
    #[serde(rename = "client.edit")]
    ClientEdit(ClientEditArgs),
    #[serde(rename = "client.delete")]
    ClientDelete(NameArg),
    #[serde(rename = "user.add")]
    UserAdd(UserAddArgs),
    #[serde(rename = "user.import")]
    UserImport(UserImportArgs),
    #[serde(rename = "user.list")]
    UserList(UserListArgs),
    #[serde(rename = "user.show")]
    UserShow(UserArg),
    #[serde(rename = "user.edit")]
    UserEdit(UserEditArgs),
    #[serde(rename = "user.enable")]
    UserEnable(UserArg),
    #[serde(rename = "user.disable")]
    UserDisable(UserArg),
    #[serde(rename = "user.delete")]
    UserDelete(UserArg),
    #[serde(rename = "user.set-password")]
    UserSetPassword(SetPasswordArgs),
    #[serde(rename = "audit.list")]
    AuditList(AuditListArgs),
    #[serde(rename = "audit.verify")]
    AuditVerify(Empty),
    #[serde(rename = "directory.add")]
    DirectoryAdd(DirectoryArgs),
    #[serde(rename = "directory.edit")]
    DirectoryEdit(DirectoryArgs),
    #[serde(rename = "directory.list")]
    DirectoryList(Empty),
    #[serde(rename = "directory.show")]
    DirectoryShow(NameArg),
    #[serde(rename = "directory.status")]
    DirectoryStatus(NameArg),
    #[serde(rename = "directory.test")]
    DirectoryTest(NameArg),
    #[serde(rename = "directory.preview")]
    DirectoryPreview(SyncArgs),
    #[serde(rename = "directory.sync")]
    DirectorySync(SyncArgs),
    #[serde(rename = "directory.delete")]
    DirectoryDelete(DeleteDirectoryArgs),
    #[serde(rename = "cert.trust")]
    CertTrust(CertTrustArgs),
    #[serde(rename = "cert.list")]
    CertList(Empty),
    #[serde(rename = "cert.show")]
    CertShow(NameArg),
    #[serde(rename = "cert.delete")]
    CertDelete(NameArg),
    #[serde(rename = "pending.import")]
    PendingImport(PendingImportArgs),
    #[serde(rename = "pending.list")]
    PendingList(Empty),
    #[serde(rename = "pending.update")]
    PendingUpdate(PendingUpdateArgs),
    #[serde(rename = "pending.delete")]
    PendingDelete(UserArg),
    #[serde(rename = "pending.approve")]
    PendingApprove(UserArg),
    #[serde(rename = "role.ops")]
    RoleOps(Empty),
    #[serde(rename = "role.list")]
    RoleList(Empty),
    #[serde(rename = "role.show")]
    RoleShow(NameArg),
    #[serde(rename = "role.create")]
    RoleCreate(RoleArgs),
    #[serde(rename = "role.edit")]
    RoleEdit(RoleArgs),
    #[serde(rename = "role.delete")]
    RoleDelete(NameArg),
    #[serde(rename = "role.explain")]
    RoleExplain(ExplainArgs),
    #[serde(rename = "admin.list")]
    AdminList(Empty),
    #[serde(rename = "admin.add")]
    AdminAdd(AdminAddArgs),
    #[serde(rename = "admin.set-role")]
    AdminSetRole(AdminRoleArgs),
    #[serde(rename = "admin.disable")]
    AdminDisable(NameArg),
    #[serde(rename = "admin.enable")]
    AdminEnable(NameArg),
    #[serde(rename = "admin.remove")]
    AdminRemove(NameArg),
    #[serde(rename = "site.add")]
    SiteAdd(SiteArgs),
    #[serde(rename = "site.list")]
    SiteList(Empty),
    #[serde(rename = "site.show")]
    SiteShow(NameArg),
    #[serde(rename = "site.edit")]
    SiteEdit(SiteArgs),
    #[serde(rename = "site.delete")]
    SiteDelete(NameArg),
    #[serde(rename = "system.lockdown")]
    SystemLockdown(LockdownArgs),
}

/// The object a command acts on, as far as authorization cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The appliance as a whole (status, the audit log).
    Appliance,
    /// An existing RADIUS client, by name.
    Client(String),
    /// An existing client being moved to another site: both sites must be in scope.
    ClientMove {
        name: String,
        site: String,
    },
    /// A client about to be created at a site.
    NewClient {
        site: Option<String>,
    },
    /// An existing user.
    User {
        domain: String,
        name: String,
    },
    /// Users about to be created in a domain.
    NewUsers {
        domain: String,
    },
    /// A listing; results are cut to the caller's scope.
    Listing,
    /// An existing directory connection (its domain is what scope checks).
    Directory(String),
    /// A directory connection about to be created.
    NewDirectory(String),
    Role(String),
    NewRole(String),
    Admin(String),
    Site(String),
    NewSite(String),
}

/// What a command needs: every operation in `all_of`, or — for reads — any operation of
/// `read_family` (or `report.view`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub all_of: &'static [Operation],
    pub read_family: Option<Family>,
    pub target: Target,
}

impl Requirement {
    fn ops(all_of: &'static [Operation], target: Target) -> Self {
        Self {
            all_of,
            read_family: None,
            target,
        }
    }

    fn read(family: Family, target: Target) -> Self {
        Self {
            all_of: &[],
            read_family: Some(family),
            target,
        }
    }
}

/// `DOMAIN\name`, `name@DOMAIN` or `name` (local), as a (domain, name) pair.
#[must_use]
pub fn parse_user(user: &str) -> (String, String) {
    // Commands are validated when parsed (`Command::parse`), so a malformed reference only
    // reaches here from callers that look it up and then report it as not found.
    match UserRef::parse(user) {
        Ok(r) => (r.domain_or_local().to_string(), r.name().to_string()),
        Err(_) => (LOCAL_DOMAIN.to_string(), user.to_string()),
    }
}

fn user_target(user: &str) -> Target {
    let (domain, name) = parse_user(user);
    Target::User { domain, name }
}

/// Parse failures carry a message fit for the operator.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ParseError(pub String);

impl Command {
    /// Builds a command from the wire's `op` and `args`.
    ///
    /// # Errors
    /// Unknown operation or arguments that do not fit it.
    pub fn parse(op: &str, args: Value) -> Result<Self, ParseError> {
        let args = if args.is_null() { json!({}) } else { args };
        let command: Self =
            serde_json::from_value(json!({ "op": op, "args": args })).map_err(|e| {
                let msg = e.to_string();
                if msg.contains("unknown variant") {
                    ParseError(format!("unknown command `{op}`"))
                } else {
                    ParseError(format!("{op}: {msg}"))
                }
            })?;
        if let Some(user) = command.user_arg() {
            UserRef::parse(user).map_err(|e| ParseError(format!("{op}: user `{user}`: {e}")))?;
        }
        Ok(command)
    }

    /// The user a command names, for commands that name one.
    fn user_arg(&self) -> Option<&str> {
        match self {
            Command::UserAdd(UserAddArgs { user, .. })
            | Command::UserShow(UserArg { user })
            | Command::UserEdit(UserEditArgs { user, .. })
            | Command::UserEnable(UserArg { user })
            | Command::UserDisable(UserArg { user })
            | Command::UserDelete(UserArg { user })
            | Command::UserSetPassword(SetPasswordArgs { user, .. })
            | Command::PendingUpdate(PendingUpdateArgs { user, .. })
            | Command::PendingDelete(UserArg { user })
            | Command::PendingApprove(UserArg { user }) => Some(user),
            _ => None,
        }
    }

    /// The wire name, used in the audit trail.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Command::Status(_) => "status",
            Command::ClientAdd(_) => "client.add",
            Command::ClientList(_) => "client.list",
            Command::ClientShow(_) => "client.show",
            Command::ClientEdit(_) => "client.edit",
            Command::ClientDelete(_) => "client.delete",
            Command::UserAdd(_) => "user.add",
            Command::UserImport(_) => "user.import",
            Command::UserList(_) => "user.list",
            Command::UserShow(_) => "user.show",
            Command::UserEdit(_) => "user.edit",
            Command::UserEnable(_) => "user.enable",
            Command::UserDisable(_) => "user.disable",
            Command::UserDelete(_) => "user.delete",
            Command::UserSetPassword(_) => "user.set-password",
            Command::AuditList(_) => "audit.list",
            Command::AuditVerify(_) => "audit.verify",
            Command::DirectoryAdd(_) => "directory.add",
            Command::DirectoryEdit(_) => "directory.edit",
            Command::DirectoryList(_) => "directory.list",
            Command::DirectoryShow(_) => "directory.show",
            Command::DirectoryStatus(_) => "directory.status",
            Command::DirectoryTest(_) => "directory.test",
            Command::DirectoryPreview(_) => "directory.preview",
            Command::DirectorySync(_) => "directory.sync",
            Command::DirectoryDelete(_) => "directory.delete",
            Command::CertTrust(_) => "cert.trust",
            Command::CertList(_) => "cert.list",
            Command::CertShow(_) => "cert.show",
            Command::CertDelete(_) => "cert.delete",
            Command::PendingImport(_) => "pending.import",
            Command::PendingList(_) => "pending.list",
            Command::PendingUpdate(_) => "pending.update",
            Command::PendingDelete(_) => "pending.delete",
            Command::PendingApprove(_) => "pending.approve",
            Command::RoleOps(_) => "role.ops",
            Command::RoleList(_) => "role.list",
            Command::RoleShow(_) => "role.show",
            Command::RoleCreate(_) => "role.create",
            Command::RoleEdit(_) => "role.edit",
            Command::RoleDelete(_) => "role.delete",
            Command::RoleExplain(_) => "role.explain",
            Command::AdminList(_) => "admin.list",
            Command::AdminAdd(_) => "admin.add",
            Command::AdminSetRole(_) => "admin.set-role",
            Command::AdminDisable(_) => "admin.disable",
            Command::AdminEnable(_) => "admin.enable",
            Command::AdminRemove(_) => "admin.remove",
            Command::SiteAdd(_) => "site.add",
            Command::SiteList(_) => "site.list",
            Command::SiteShow(_) => "site.show",
            Command::SiteEdit(_) => "site.edit",
            Command::SiteDelete(_) => "site.delete",
            Command::SystemLockdown(_) => "system.lockdown",
        }
    }

    #[must_use]
    pub fn requirement(&self) -> Requirement {
        use Operation as O;
        match self {
            Command::Status(_) => Requirement {
                all_of: &[],
                read_family: None,
                target: Target::Appliance,
            },
            Command::ClientAdd(a) => Requirement::ops(
                &[O::RadiusClientUpdate],
                Target::NewClient {
                    site: a.site.clone(),
                },
            ),
            Command::ClientList(_) => Requirement::read(Family::RadiusClient, Target::Listing),
            Command::ClientShow(a) => {
                Requirement::read(Family::RadiusClient, Target::Client(a.name.clone()))
            }
            Command::ClientEdit(a) => {
                let target = match &a.site {
                    Some(site) => Target::ClientMove {
                        name: a.name.clone(),
                        site: site.clone(),
                    },
                    None => Target::Client(a.name.clone()),
                };
                Requirement::ops(&[O::RadiusClientUpdate], target)
            }
            Command::ClientDelete(a) => {
                Requirement::ops(&[O::RadiusClientDelete], Target::Client(a.name.clone()))
            }
            Command::UserAdd(a) => Requirement::ops(
                &[O::UserEdit],
                Target::NewUsers {
                    domain: parse_user(&a.user).0,
                },
            ),
            Command::UserImport(a) => Requirement::ops(
                &[O::UserEdit],
                Target::NewUsers {
                    domain: a.domain.clone().unwrap_or_else(|| LOCAL_DOMAIN.into()),
                },
            ),
            Command::UserList(_) => Requirement::read(Family::User, Target::Listing),
            Command::UserShow(a) => Requirement::read(Family::User, user_target(&a.user)),
            Command::UserEdit(a) => Requirement::ops(&[O::UserEdit], user_target(&a.user)),
            Command::UserEnable(a) | Command::UserDisable(a) => {
                Requirement::ops(&[O::UserEnable], user_target(&a.user))
            }
            Command::UserDelete(a) => Requirement::ops(&[O::UserDelete], user_target(&a.user)),
            Command::UserSetPassword(a) => {
                Requirement::ops(&[O::UserResetPassword], user_target(&a.user))
            }
            Command::AuditList(_) | Command::AuditVerify(_) => {
                Requirement::ops(&[O::ReportView], Target::Appliance)
            }
            Command::DirectoryAdd(a) => {
                Requirement::ops(&[O::DirectoryEdit], Target::NewDirectory(a.name.clone()))
            }
            Command::DirectoryEdit(a) => {
                Requirement::ops(&[O::DirectoryEdit], Target::Directory(a.name.clone()))
            }
            Command::DirectoryList(_) => Requirement::read(Family::Directory, Target::Listing),
            Command::DirectoryShow(a) | Command::DirectoryStatus(a) => {
                Requirement::read(Family::Directory, Target::Directory(a.name.clone()))
            }
            Command::DirectoryTest(a) => {
                Requirement::ops(&[O::DirectoryPreview], Target::Directory(a.name.clone()))
            }
            Command::DirectoryPreview(a) => {
                Requirement::ops(&[O::DirectoryPreview], Target::Directory(a.name.clone()))
            }
            Command::DirectorySync(a) => Requirement::ops(
                &[O::DirectoryPreview, O::DirectorySync],
                Target::Directory(a.name.clone()),
            ),
            Command::DirectoryDelete(a) => {
                Requirement::ops(&[O::DirectoryDelete], Target::Directory(a.name.clone()))
            }
            Command::CertTrust(_) | Command::CertDelete(_) => {
                Requirement::ops(&[O::CertTrust, O::CertDelete], Target::Appliance)
            }
            Command::CertList(_) | Command::CertShow(_) => {
                Requirement::read(Family::Cert, Target::Listing)
            }
            Command::PendingImport(_) => Requirement::ops(
                &[O::PendingUpdate, O::PendingDelete, O::PendingApprove],
                Target::NewUsers {
                    domain: LOCAL_DOMAIN.into(),
                },
            ),
            Command::PendingList(_) => Requirement::read(Family::Pending, Target::Listing),
            Command::RoleOps(_) => Requirement {
                all_of: &[],
                read_family: None,
                target: Target::Appliance,
            },
            Command::RoleList(_) | Command::RoleExplain(_) => {
                Requirement::read(Family::Role, Target::Listing)
            }
            Command::RoleShow(a) => Requirement::read(Family::Role, Target::Role(a.name.clone())),
            Command::RoleCreate(a) => {
                Requirement::ops(&[O::RoleEdit], Target::NewRole(a.name.clone()))
            }
            Command::RoleEdit(a) => Requirement::ops(&[O::RoleEdit], Target::Role(a.name.clone())),
            Command::RoleDelete(a) => {
                Requirement::ops(&[O::RoleDelete], Target::Role(a.name.clone()))
            }
            Command::AdminList(_) => Requirement::read(Family::Role, Target::Listing),
            Command::AdminAdd(_) => Requirement::ops(&[O::RoleEdit], Target::Appliance),
            Command::AdminSetRole(AdminRoleArgs { name, .. })
            | Command::AdminDisable(NameArg { name })
            | Command::AdminEnable(NameArg { name })
            | Command::AdminRemove(NameArg { name }) => {
                Requirement::ops(&[O::RoleEdit], Target::Admin(name.clone()))
            }
            Command::SiteAdd(a) => {
                Requirement::ops(&[O::SiteEdit], Target::NewSite(a.name.clone()))
            }
            Command::SiteList(_) => Requirement::read(Family::Site, Target::Listing),
            Command::SiteShow(a) => Requirement::read(Family::Site, Target::Site(a.name.clone())),
            Command::SiteEdit(a) => Requirement::ops(&[O::SiteEdit], Target::Site(a.name.clone())),
            Command::SiteDelete(a) => {
                Requirement::ops(&[O::SiteEdit], Target::Site(a.name.clone()))
            }
            Command::SystemLockdown(_) => Requirement::ops(&[O::SystemLockdown], Target::Appliance),
            Command::PendingUpdate(PendingUpdateArgs { user, .. })
            | Command::PendingDelete(UserArg { user })
            | Command::PendingApprove(UserArg { user }) => Requirement::ops(
                &[O::PendingUpdate, O::PendingDelete, O::PendingApprove],
                user_target(user),
            ),
        }
    }

    /// What the audit trail records as the target.
    #[must_use]
    pub fn audit_target(&self) -> String {
        match self.requirement().target {
            Target::Appliance | Target::Listing => String::new(),
            Target::Client(n) | Target::ClientMove { name: n, .. } => format!("client:{n}"),
            Target::NewClient { .. } => match self {
                Command::ClientAdd(a) => format!("client:{}", a.name),
                _ => String::new(),
            },
            Target::User { domain, name } => format!("user:{domain}\\{name}"),
            Target::Directory(n) | Target::NewDirectory(n) => format!("directory:{n}"),
            Target::Role(n) | Target::NewRole(n) => format!("role:{n}"),
            Target::Admin(n) => format!("admin:{n}"),
            Target::Site(n) | Target::NewSite(n) => format!("site:{n}"),
            Target::NewUsers { domain } => match self {
                Command::UserAdd(a) => {
                    let (d, n) = parse_user(&a.user);
                    format!("user:{d}\\{n}")
                }
                _ => format!("domain:{domain}"),
            },
        }
    }

    /// The non-secret facts of the request, for the audit trail.
    #[must_use]
    pub fn audit_detail(&self) -> Value {
        match self {
            Command::ClientAdd(a) => json!({
                "address": a.address, "site": a.site,
                "require_message_authenticator": a.require_message_authenticator,
                "rate_limit": a.rate_limit,
            }),
            Command::ClientEdit(a) => json!({
                "new_name": a.new_name, "address": a.address, "site": a.site,
                "secret_changed": a.secret.is_some(),
                "require_message_authenticator": a.require_message_authenticator,
                "rate_limit": a.rate_limit,
            }),
            Command::UserAdd(a) => json!({
                "with_password": a.password.is_some(),
                "with_hash": a.password_hash.is_some(),
            }),
            Command::UserEdit(a) => json!({ "display_name": a.display_name, "email": a.email }),
            Command::UserImport(a) => {
                json!({ "lines": a.lines.expose_str().map_or(0, |l| l.lines().count()) })
            }
            Command::DirectoryAdd(a) | Command::DirectoryEdit(a) => json!({
                "urls": a.urls, "bind_dn": a.bind_dn, "base_dns": a.base_dns, "user_filter": a.user_filter,
                "starttls": a.starttls, "ca_certs": a.ca_certs, "page_size": a.page_size, "schedule": a.schedule,
                "bind_password_changed": a.bind_password.is_some(),
            }),
            Command::DirectoryPreview(a) | Command::DirectorySync(a) => {
                json!({ "force": a.force, "incremental": a.incremental })
            }
            Command::DirectoryDelete(a) => json!({ "confirmed": a.confirmed }),
            Command::CertTrust(a) => json!({ "name": a.name }),
            Command::PendingImport(a) => json!({ "lines": a.csv.lines().count() }),
            Command::RoleCreate(a) | Command::RoleEdit(a) => json!({
                "name": a.name, "parent": a.parent, "ops": a.ops, "user_scope": a.user_scope, "computer_scope": a.computer_scope,
            }),
            Command::RoleExplain(a) => {
                json!({ "admin": a.admin, "operation": a.operation, "target": a.target })
            }
            Command::AdminAdd(a) => {
                json!({ "name": a.name, "unix_user": a.unix_user, "role": a.role })
            }
            Command::AdminSetRole(a) => json!({ "role": a.role }),
            Command::SiteAdd(a) | Command::SiteEdit(a) => {
                json!({ "subnets": a.subnets, "timezone": a.timezone, "new_name": a.new_name })
            }
            Command::SystemLockdown(a) => json!({ "on": a.on }),
            _ => json!({}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_wire_commands_and_refuses_unknown_fields() {
        let c = Command::parse(
            "client.add",
            json!({"name":"a","address":"127.0.0.1","secret":"s"}),
        )
        .unwrap();
        assert!(matches!(c, Command::ClientAdd(_)));
        assert_eq!(
            Command::parse("status", Value::Null).unwrap(),
            Command::Status(Empty {})
        );
        let e = Command::parse("user.show", json!({"usr":"a"})).unwrap_err();
        assert!(e.0.contains("usr"), "{e}");
        let e = Command::parse("user.frobnicate", json!({})).unwrap_err();
        assert_eq!(e.0, "unknown command `user.frobnicate`");
    }

    #[test]
    fn secrets_never_show_in_debug_or_audit() {
        let c = Command::parse(
            "user.set-password",
            json!({"user":"a","password":"hunter2"}),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.audit_detail().to_string().contains("hunter2"));
        let c = Command::parse(
            "client.add",
            json!({"name":"a","address":"::1","secret":"topsecret"}),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
        assert!(!c.audit_detail().to_string().contains("topsecret"));
    }
}
