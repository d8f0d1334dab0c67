//! Typed admin commands and the requirement each one declares.
//!
//! `requirement()` matches every variant with no `_` arm: a new command does not compile
//! until it says which operations it needs and which object it touches.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub mod policy;

pub use policy::{
    AssignArgs, ComputerArg, ComputerAssignArgs, ComputerEditArgs, ComputerListArgs,
    ComputerPolicyArgs, PolicyExplainArgs, RuleArgs, RuleMoveArgs, RuleRunArgs, TraceArgs,
    UserPolicyArgs,
};

use crate::model::operation::{Family, Operation};
use crate::model::{LOCAL_DOMAIN, Secret, UserRef, names};
use crate::policy::assign::Subject;
pub use crate::policy::stored::PolicyKind;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NameArg {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientAddArgs {
    pub name: String,
    pub address: String,
    pub secret: Secret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_message_authenticator: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// Accept an address inside another client's network (a more specific client), with
    /// a scope that covers both; audited.
    #[serde(default)]
    pub allow_overlap: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientEditArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_message_authenticator: Option<bool>,
    /// 0 removes the client's own limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    /// As for `client.add`.
    #[serde(default)]
    pub allow_overlap: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserArg {
    pub user: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserAddArgs {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// `name:hash` lines (or `name,hash`), all-or-nothing.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserImportArgs {
    pub domain: Option<String>,
    pub lines: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct UserListArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Users to skip (for the next page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserEditArgs {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordArgs {
    pub user: String,
    pub password: Secret,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditListArgs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// A user (`name`, `DOMAIN\name`): records about that user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// A RADIUS client: its authentication decisions and the changes made to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// `allowed`, `denied`, `failed`, `accept`, `reject`, `would_deny` or `info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Records at or after this time (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// Records before this time (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

/// A directory connection as given on the command line; unset fields keep their
/// defaults (add) or their current values (edit).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct DirectoryArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urls: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_password: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_dns: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_attribute: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_flag: Option<crate::directory::map::DisabledFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starttls: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certs: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ous: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_schedule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_threshold_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_pool_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn_suffixes: Option<Vec<String>>,
    /// Allow `ldap://` without StartTLS: passwords cross the network in the clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_plaintext: Option<bool>,
    /// Search groups under this DN; empty turns group search off (users' `memberOf`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_base_dn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_member_attribute: Option<crate::directory::map::MemberAttribute>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nested_groups: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SyncArgs {
    pub name: String,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub incremental: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeleteDirectoryArgs {
    pub name: String,
    /// The operator confirmed (--yes or the interactive prompt).
    #[serde(default)]
    pub confirmed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CertTrustArgs {
    pub name: String,
    /// The file's bytes, base64.
    pub data_base64: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PendingImportArgs {
    pub csv: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PendingUpdateArgs {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A role's own restriction as given on the command line. `None` fields mean "same as
/// the parent" on create and "unchanged" on edit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct RoleArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `op` or `op:own`; the string `same` (or an absent field) means "as the parent".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<String>>,
    /// `DOMAIN` or `DOMAIN:OU_DN`; `*` for everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_scope: Option<Vec<String>>,
    /// Site names; `*` for everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computer_scope: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExplainArgs {
    pub admin: String,
    pub operation: String,
    /// `user:DOMAIN\name`, `client:NAME`, `directory:NAME`, `site:NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdminAddArgs {
    pub name: String,
    pub unix_user: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdminRoleArgs {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteArgs {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LockdownArgs {
    pub on: bool,
}

/// The command catalogue: every command's variant, argument type and wire name, spelled
/// once. The daemon parses these, `gatehousectl` builds them, and the CLI path is the wire
/// name's words (`user.set-password` is `gatehousectl user set-password`).
macro_rules! commands {
    ($( $variant:ident($args:ty) = $wire:literal, $kind:ident; )*) => {
        #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
        #[serde(tag = "op", content = "args")]
        pub enum Command {
            $( #[serde(rename = $wire)] $variant($args), )*
        }

        impl Command {
            /// Every command's wire name, in catalogue order.
            pub const ALL_NAMES: &'static [&'static str] = &[ $( $wire, )* ];

            /// The wire name, used in the audit trail.
            #[must_use]
            pub fn name(&self) -> &'static str {
                match self { $( Command::$variant(_) => $wire, )* }
            }

            /// Whether the command only reads: such commands run on the blocking pool, off
            /// the runtime RADIUS is answered on (a 10,000-row list, the whole audit chain).
            #[must_use]
            pub fn is_read(&self) -> bool {
                match self { $( Command::$variant(_) => commands!(@read $kind), )* }
            }
        }
    };
    (@read read) => { true };
    (@read write) => { false };
    // Waits on live events rather than computing: runs on the runtime, where waiting
    // costs nothing, not on the few blocking readers.
    (@read stream) => { false };
    (@read $other:ident) => { compile_error!("a command is `read`, `write` or `stream`") };
}

commands! {
    Status(Empty) = "status", read;
    ClientAdd(ClientAddArgs) = "client.add", write;
    ClientList(Empty) = "client.list", read;
    ClientShow(NameArg) = "client.show", read;
    ClientEdit(ClientEditArgs) = "client.edit", write;
    ClientDelete(NameArg) = "client.delete", write;
    UserAdd(UserAddArgs) = "user.add", write;
    UserImport(UserImportArgs) = "user.import", write;
    UserList(UserListArgs) = "user.list", read;
    UserShow(UserArg) = "user.show", read;
    UserEdit(UserEditArgs) = "user.edit", write;
    UserEnable(UserArg) = "user.enable", write;
    UserDisable(UserArg) = "user.disable", write;
    UserDelete(UserArg) = "user.delete", write;
    UserSetPassword(SetPasswordArgs) = "user.set-password", write;
    AuditList(AuditListArgs) = "audit.list", read;
    AuditVerify(Empty) = "audit.verify", read;
    DirectoryAdd(DirectoryArgs) = "directory.add", write;
    DirectoryEdit(DirectoryArgs) = "directory.edit", write;
    DirectoryList(Empty) = "directory.list", read;
    DirectoryShow(NameArg) = "directory.show", read;
    DirectoryStatus(NameArg) = "directory.status", read;
    DirectoryTest(NameArg) = "directory.test", write;
    DirectoryPreview(SyncArgs) = "directory.preview", write;
    DirectorySync(SyncArgs) = "directory.sync", write;
    DirectoryDelete(DeleteDirectoryArgs) = "directory.delete", write;
    CertTrust(CertTrustArgs) = "cert.trust", write;
    CertList(Empty) = "cert.list", read;
    CertShow(NameArg) = "cert.show", read;
    CertDelete(NameArg) = "cert.delete", write;
    PendingImport(PendingImportArgs) = "pending.import", write;
    PendingList(Empty) = "pending.list", read;
    PendingUpdate(PendingUpdateArgs) = "pending.update", write;
    PendingDelete(UserArg) = "pending.delete", write;
    PendingApprove(UserArg) = "pending.approve", write;
    RoleOps(Empty) = "role.ops", read;
    RoleList(Empty) = "role.list", read;
    RoleShow(NameArg) = "role.show", read;
    RoleCreate(RoleArgs) = "role.create", write;
    RoleEdit(RoleArgs) = "role.edit", write;
    RoleDelete(NameArg) = "role.delete", write;
    RoleExplain(ExplainArgs) = "role.explain", read;
    AdminList(Empty) = "admin.list", read;
    AdminAdd(AdminAddArgs) = "admin.add", write;
    AdminSetRole(AdminRoleArgs) = "admin.set-role", write;
    AdminDisable(NameArg) = "admin.disable", write;
    AdminEnable(NameArg) = "admin.enable", write;
    AdminRemove(NameArg) = "admin.remove", write;
    SiteAdd(SiteArgs) = "site.add", write;
    SiteList(Empty) = "site.list", read;
    SiteShow(NameArg) = "site.show", read;
    SiteEdit(SiteArgs) = "site.edit", write;
    SiteDelete(NameArg) = "site.delete", write;
    SystemLockdown(LockdownArgs) = "system.lockdown", write;
    UserUnlock(UserArg) = "user.unlock", write;
    UserPolicyCreate(UserPolicyArgs) = "user-policy.create", write;
    UserPolicyEdit(UserPolicyArgs) = "user-policy.edit", write;
    UserPolicyList(Empty) = "user-policy.list", read;
    UserPolicyShow(NameArg) = "user-policy.show", read;
    UserPolicyDelete(NameArg) = "user-policy.delete", write;
    UserPolicyAssign(AssignArgs) = "user-policy.assign", write;
    UserPolicyUnassign(AssignArgs) = "user-policy.unassign", write;
    ComputerPolicyCreate(ComputerPolicyArgs) = "computer-policy.create", write;
    ComputerPolicyEdit(ComputerPolicyArgs) = "computer-policy.edit", write;
    ComputerPolicyList(Empty) = "computer-policy.list", read;
    ComputerPolicyShow(NameArg) = "computer-policy.show", read;
    ComputerPolicyDelete(NameArg) = "computer-policy.delete", write;
    ComputerRuleAdd(RuleArgs) = "computer-rule.add", write;
    ComputerRuleEdit(RuleArgs) = "computer-rule.edit", write;
    ComputerRuleMove(RuleMoveArgs) = "computer-rule.move", write;
    ComputerRuleDelete(NameArg) = "computer-rule.delete", write;
    ComputerRuleList(Empty) = "computer-rule.list", read;
    ComputerRuleRun(RuleRunArgs) = "computer-rule.run", write;
    ComputerList(ComputerListArgs) = "computer.list", read;
    ComputerShow(ComputerArg) = "computer.show", read;
    ComputerEdit(ComputerEditArgs) = "computer.edit", write;
    ComputerAssignPolicy(ComputerAssignArgs) = "computer.assign-policy", write;
    ComputerDelete(ComputerArg) = "computer.delete", write;
    PolicyExplain(PolicyExplainArgs) = "policy.explain", read;
    RadiusTrace(TraceArgs) = "radius.trace", stream;
}

/// What an admin request touches, for its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSubject {
    pub kind: &'static str,
    pub id: String,
    pub domain: Option<String>,
    pub site: Option<String>,
}

impl std::fmt::Display for AuditSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.domain, self.kind) {
            (Some(d), "user") => write!(f, "user:{d}\\{}", self.id),
            _ => write!(f, "{}:{}", self.kind, self.id),
        }
    }
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
    /// Users about to be created wherever each of them says (an import naming a domain
    /// and an OU per user): every place must be within scope.
    PlacedUsers,
    /// A listing; results are cut to the caller's scope.
    Listing,
    /// An existing directory connection (its domain is what scope checks).
    Directory(String),
    /// A directory connection about to be created.
    NewDirectory(String),
    Role(String),
    NewRole(String),
    Admin(String),
    /// An administrator about to be added (the role assigned is a fact).
    NewAdmin(String),
    Site(String),
    /// An existing site being renamed: the new name must be within scope too (scopes name
    /// sites, so a rename could otherwise move the site into another delegate's scope).
    SiteRename {
        name: String,
        new_name: String,
    },
    NewSite(String),
    /// An existing user or computer policy (appliance-wide objects: the operation and its
    /// access level decide).
    Policy {
        kind: PolicyKind,
        name: String,
    },
    NewPolicy {
        kind: PolicyKind,
        name: String,
    },
    /// A user policy assigned to (or taken from) what `subject` names, which must lie in
    /// the caller's user scope.
    Assignment {
        policy: String,
        subject: Subject,
    },
    /// An existing computer rule (its site is what scope checks; a rule for every site
    /// is for callers who see every site).
    ComputerRule(String),
    NewComputerRule {
        site: Option<String>,
    },
    /// An existing computer, by id or identity (its site is what scope checks).
    Computer(String),
    /// An existing computer being moved to another site: both must be in scope.
    ComputerMove {
        id: String,
        site: String,
    },
    /// The decision a user would get through a client: both must be in scope.
    Explanation {
        domain: String,
        name: String,
        client: String,
    },
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
        Ok(r) => (r.domain_or_local().to_string(), names::nfc(r.name())),
        Err(_) => (LOCAL_DOMAIN.to_string(), user.to_string()),
    }
}

fn policy_target(kind: PolicyKind, name: &str) -> Target {
    Target::Policy {
        kind,
        name: name.to_string(),
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
        if let Command::UserPolicyAssign(a) | Command::UserPolicyUnassign(a) = &command {
            a.subject().map_err(|e| ParseError(format!("{op}: {e}")))?;
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
            | Command::PendingApprove(UserArg { user })
            | Command::UserUnlock(UserArg { user })
            | Command::PolicyExplain(PolicyExplainArgs { user, .. }) => Some(user),
            _ => None,
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
                Target::PlacedUsers,
            ),
            Command::PendingList(_) => Requirement::read(Family::Pending, Target::Listing),
            Command::RoleOps(_) => Requirement {
                all_of: &[],
                read_family: None,
                target: Target::Appliance,
            },
            Command::RoleList(_) => Requirement::read(Family::Role, Target::Listing),
            // Only administrators below the caller can be explained.
            Command::RoleExplain(a) => {
                Requirement::read(Family::Role, Target::Admin(a.admin.clone()))
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
            Command::AdminAdd(a) => {
                Requirement::ops(&[O::RoleEdit], Target::NewAdmin(a.name.clone()))
            }
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
            Command::SiteEdit(a) => {
                let target = match &a.new_name {
                    Some(new_name) => Target::SiteRename {
                        name: a.name.clone(),
                        new_name: new_name.clone(),
                    },
                    None => Target::Site(a.name.clone()),
                };
                Requirement::ops(&[O::SiteEdit], target)
            }
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
            Command::UserUnlock(a) => Requirement::ops(&[O::UserUnlock], user_target(&a.user)),
            Command::UserPolicyCreate(a) => Requirement::ops(
                &[O::UserPolicyEdit],
                Target::NewPolicy {
                    kind: PolicyKind::User,
                    name: a.name.clone(),
                },
            ),
            Command::UserPolicyEdit(a) => Requirement::ops(
                &[O::UserPolicyEdit],
                policy_target(PolicyKind::User, &a.name),
            ),
            Command::UserPolicyList(_) => Requirement::read(Family::UserPolicy, Target::Listing),
            Command::UserPolicyShow(a) => {
                Requirement::read(Family::UserPolicy, policy_target(PolicyKind::User, &a.name))
            }
            Command::UserPolicyDelete(a) => Requirement::ops(
                &[O::UserPolicyDelete],
                policy_target(PolicyKind::User, &a.name),
            ),
            Command::UserPolicyAssign(a) | Command::UserPolicyUnassign(a) => {
                // `parse` checked the subject; one that fails here names nothing.
                let subject = a.subject().unwrap_or(Subject::Domain {
                    domain: String::new(),
                });
                Requirement::ops(
                    &[O::UserPolicyAssign],
                    Target::Assignment {
                        policy: a.name.clone(),
                        subject,
                    },
                )
            }
            Command::ComputerPolicyCreate(a) => Requirement::ops(
                &[O::ComputerPolicyUpdate],
                Target::NewPolicy {
                    kind: PolicyKind::Computer,
                    name: a.name.clone(),
                },
            ),
            Command::ComputerPolicyEdit(a) => Requirement::ops(
                &[O::ComputerPolicyUpdate],
                policy_target(PolicyKind::Computer, &a.name),
            ),
            Command::ComputerPolicyList(_) => {
                Requirement::read(Family::ComputerPolicy, Target::Listing)
            }
            Command::ComputerPolicyShow(a) => Requirement::read(
                Family::ComputerPolicy,
                policy_target(PolicyKind::Computer, &a.name),
            ),
            Command::ComputerPolicyDelete(a) => Requirement::ops(
                &[O::ComputerPolicyDelete],
                policy_target(PolicyKind::Computer, &a.name),
            ),
            Command::ComputerRuleAdd(a) => Requirement::ops(
                &[O::ComputerRuleEdit],
                Target::NewComputerRule {
                    site: a.site.clone(),
                },
            ),
            Command::ComputerRuleEdit(RuleArgs { name, .. })
            | Command::ComputerRuleMove(RuleMoveArgs { name, .. })
            | Command::ComputerRuleDelete(NameArg { name }) => {
                Requirement::ops(&[O::ComputerRuleEdit], Target::ComputerRule(name.clone()))
            }
            Command::ComputerRuleList(_) => {
                Requirement::read(Family::ComputerRule, Target::Listing)
            }
            // Runs only over the computers in scope (the query is cut to it).
            Command::ComputerRuleRun(_) => Requirement::ops(&[O::ComputerRuleRun], Target::Listing),
            Command::ComputerList(_) => Requirement::read(Family::Computer, Target::Listing),
            Command::ComputerShow(a) => {
                Requirement::read(Family::Computer, Target::Computer(a.id.clone()))
            }
            Command::ComputerEdit(a) => {
                let target = match &a.site {
                    Some(site) => Target::ComputerMove {
                        id: a.id.clone(),
                        site: site.clone(),
                    },
                    None => Target::Computer(a.id.clone()),
                };
                Requirement::ops(&[O::ComputerUpdate], target)
            }
            Command::ComputerAssignPolicy(a) => {
                Requirement::ops(&[O::ComputerAssignPolicy], Target::Computer(a.id.clone()))
            }
            Command::ComputerDelete(a) => {
                Requirement::ops(&[O::ComputerDelete], Target::Computer(a.id.clone()))
            }
            Command::PolicyExplain(a) => {
                let (domain, name) = parse_user(&a.user);
                Requirement::read(
                    Family::User,
                    Target::Explanation {
                        domain,
                        name,
                        client: a.client.clone(),
                    },
                )
            }
            // Cut to scope as it streams.
            Command::RadiusTrace(_) => Requirement::ops(&[O::ReportView], Target::Listing),
        }
    }

    /// What the request touches, as the audit trail names it: the kind and id of the
    /// object, and the domain or site it lies in when the request itself says so.
    #[must_use]
    pub fn audit_subject(&self) -> Option<AuditSubject> {
        let subject = |kind, id: &str| AuditSubject {
            kind,
            id: id.to_string(),
            domain: None,
            site: None,
        };
        Some(match self.requirement().target {
            Target::Appliance | Target::Listing | Target::PlacedUsers => return None,
            Target::Client(n) | Target::ClientMove { name: n, .. } => subject("client", &n),
            Target::NewClient { site } => AuditSubject {
                site,
                ..match self {
                    Command::ClientAdd(a) => subject("client", &a.name),
                    _ => return None,
                }
            },
            Target::User { domain, name } => AuditSubject {
                domain: Some(domain),
                ..subject("user", &name)
            },
            Target::NewUsers { domain } => match self {
                Command::UserAdd(a) => {
                    let (d, n) = parse_user(&a.user);
                    AuditSubject {
                        domain: Some(d),
                        ..subject("user", &n)
                    }
                }
                _ => AuditSubject {
                    domain: Some(domain.clone()),
                    ..subject("domain", &domain)
                },
            },
            Target::Directory(n) | Target::NewDirectory(n) => AuditSubject {
                domain: Some(n.clone()),
                ..subject("directory", &n)
            },
            Target::Role(n) | Target::NewRole(n) => subject("role", &n),
            Target::Admin(n) | Target::NewAdmin(n) => subject("admin", &n),
            Target::Site(n) | Target::SiteRename { name: n, .. } | Target::NewSite(n) => {
                AuditSubject {
                    site: Some(n.clone()),
                    ..subject("site", &n)
                }
            }
            Target::Policy { kind, name } | Target::NewPolicy { kind, name } => {
                subject(kind.audit_kind(), &name)
            }
            Target::Assignment { policy, subject: s } => AuditSubject {
                domain: Some(s.domain().to_string()),
                ..subject("user_policy", &policy)
            },
            Target::ComputerRule(n) => subject("computer_rule", &n),
            Target::NewComputerRule { site } => AuditSubject {
                site,
                ..match self {
                    Command::ComputerRuleAdd(a) => subject("computer_rule", &a.name),
                    _ => return None,
                }
            },
            Target::Computer(id) | Target::ComputerMove { id, .. } => subject("computer", &id),
            Target::Explanation { domain, name, .. } => AuditSubject {
                domain: Some(domain),
                ..subject("user", &name)
            },
        })
    }

    /// What the audit trail records as the target (`user:DOMAIN\name`, `client:nas1`).
    #[must_use]
    pub fn audit_target(&self) -> String {
        self.audit_subject()
            .map_or_else(String::new, |s| s.to_string())
    }

    /// The non-secret facts of the request, for the audit trail.
    #[must_use]
    pub fn audit_detail(&self) -> Value {
        match self {
            Command::ClientAdd(a) => json!({
                "address": a.address, "site": a.site,
                "require_message_authenticator": a.require_message_authenticator,
                "rate_limit": a.rate_limit, "allow_overlap": a.allow_overlap,
            }),
            Command::ClientEdit(a) => json!({
                "new_name": a.new_name, "address": a.address, "site": a.site,
                "secret_changed": a.secret.is_some(),
                "require_message_authenticator": a.require_message_authenticator,
                "rate_limit": a.rate_limit, "allow_overlap": a.allow_overlap,
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
                "upn_suffixes": a.upn_suffixes, "insecure_plaintext": a.insecure_plaintext,
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
            Command::UserList(a) => {
                json!({ "domain": a.domain, "limit": a.limit, "offset": a.offset })
            }
            Command::AuditList(a) => json!({
                "limit": a.limit, "operation": a.operation, "user": a.user, "client": a.client,
                "outcome": a.outcome, "since": a.since, "until": a.until,
            }),
            Command::PendingUpdate(a) => {
                json!({ "display_name": a.display_name, "email": a.email })
            }
            Command::UserPolicyCreate(a) | Command::UserPolicyEdit(a) => json!({
                "methods": a.methods, "second_factor": a.second_factor,
                "lockout_threshold": a.lockout_threshold, "lockout_window": a.lockout_window,
                "lockout_duration": a.lockout_duration, "tempcode_max_ttl": a.tempcode_max_ttl,
                "reply": a.reply, "vlan": a.vlan, "mode": a.mode,
            }),
            Command::ComputerPolicyCreate(a) | Command::ComputerPolicyEdit(a) => json!({
                "methods": a.methods, "second_factor": a.second_factor, "hours": a.hours,
                "reply": a.reply, "vlan": a.vlan, "mode": a.mode,
            }),
            Command::UserPolicyAssign(a) | Command::UserPolicyUnassign(a) => json!({
                "user": a.user, "group": a.group, "ou": a.ou, "domain": a.domain,
                "priority": a.priority,
            }),
            Command::ComputerRuleAdd(a) | Command::ComputerRuleEdit(a) => json!({
                "policy": a.policy, "site": a.site, "identity": a.identity,
                "address": a.address, "client": a.client, "position": a.position,
            }),
            Command::ComputerRuleMove(a) => json!({ "position": a.position }),
            Command::ComputerRuleRun(a) => json!({
                "all": a.all, "computers": a.computers, "dry_run": a.dry_run,
                "override_manual": a.override_manual,
            }),
            Command::ComputerList(a) => json!({
                "site": a.site, "policy": a.policy, "limit": a.limit, "offset": a.offset,
            }),
            Command::ComputerEdit(a) => json!({ "site": a.site, "description": a.description }),
            Command::ComputerAssignPolicy(a) => json!({ "policy": a.policy, "rules": a.rules }),
            Command::PolicyExplain(a) => json!({
                "client": a.client, "calling_station_id": a.calling_station_id,
                "at": a.at, "at_local": a.at_local,
            }),
            Command::RadiusTrace(a) => json!({
                "client": a.client, "user": a.user, "duration_secs": a.duration_secs,
            }),
            // The target says it all.
            Command::UserUnlock(_)
            | Command::UserPolicyList(_)
            | Command::UserPolicyShow(_)
            | Command::UserPolicyDelete(_)
            | Command::ComputerPolicyList(_)
            | Command::ComputerPolicyShow(_)
            | Command::ComputerPolicyDelete(_)
            | Command::ComputerRuleDelete(_)
            | Command::ComputerRuleList(_)
            | Command::ComputerShow(_)
            | Command::ComputerDelete(_)
            | Command::Status(_)
            | Command::ClientList(_)
            | Command::ClientShow(_)
            | Command::ClientDelete(_)
            | Command::UserShow(_)
            | Command::UserEnable(_)
            | Command::UserDisable(_)
            | Command::UserDelete(_)
            | Command::UserSetPassword(_)
            | Command::AuditVerify(_)
            | Command::DirectoryList(_)
            | Command::DirectoryShow(_)
            | Command::DirectoryStatus(_)
            | Command::DirectoryTest(_)
            | Command::CertList(_)
            | Command::CertShow(_)
            | Command::CertDelete(_)
            | Command::PendingList(_)
            | Command::PendingDelete(_)
            | Command::PendingApprove(_)
            | Command::RoleOps(_)
            | Command::RoleList(_)
            | Command::RoleShow(_)
            | Command::RoleDelete(_)
            | Command::AdminList(_)
            | Command::AdminDisable(_)
            | Command::AdminEnable(_)
            | Command::AdminRemove(_)
            | Command::SiteList(_)
            | Command::SiteShow(_)
            | Command::SiteDelete(_) => json!({}),
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
        // A secret of the wrong type is refused without being quoted back.
        let err = Command::parse(
            "client.add",
            json!({"name":"a","address":"::1","secret":98765432}),
        )
        .unwrap_err();
        assert!(!err.0.contains("98765432"), "{err}");
    }
}
