//! A command line turned into the typed [`Command`] the daemon parses: the same types on
//! both sides, so a renamed argument does not compile instead of failing at run time.

use std::path::Path;

use base64::Engine as _;

use super::input::{certificate_only, parse_time, read_secret, read_stdin_line, read_text};
use super::{
    AdminVerb, AuditVerb, CertVerb, ClientVerb, DirectoryFields, DirectoryVerb, DisabledFlagArg,
    MemberAttributeArg, Noun, OnOff, PendingVerb, RoleFields, RoleVerb, SiteVerb, SystemVerb,
    UsageError, UserName, UserVerb, confirm,
};
use crate::admin::command::{
    AdminAddArgs, AdminRoleArgs, AuditListArgs, CertTrustArgs, ClientAddArgs, ClientEditArgs,
    Command, DeleteDirectoryArgs, DirectoryArgs, Empty, ExplainArgs, LockdownArgs, NameArg,
    PendingImportArgs, PendingUpdateArgs, RoleArgs, SetPasswordArgs, SiteArgs, SyncArgs,
    UserAddArgs, UserArg, UserEditArgs, UserImportArgs, UserListArgs,
};
use crate::directory::map::{DisabledFlag, MemberAttribute};
use crate::model::Secret;

impl UserName {
    fn qualified(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}\\{}", self.name),
            None => self.name.clone(),
        }
    }

    fn arg(&self) -> UserArg {
        UserArg {
            user: self.qualified(),
        }
    }
}

fn name(name: &str) -> NameArg {
    NameArg {
        name: name.to_string(),
    }
}

fn secret(path: &Path) -> Result<Secret, UsageError> {
    Ok(Secret::from_text(&read_secret(path)?))
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

fn role_args(name: &str, f: &RoleFields) -> RoleArgs {
    RoleArgs {
        name: name.to_string(),
        parent: f.parent.clone(),
        description: f.description.clone(),
        ops: f.ops.clone().map(|o| vec![o]),
        user_scope: f.user_scope.clone().map(|o| vec![o]),
        computer_scope: f.computer_scope.clone().map(|o| vec![o]),
    }
}

fn directory_args(name: &str, f: &DirectoryFields) -> Result<DirectoryArgs, UsageError> {
    Ok(DirectoryArgs {
        name: name.to_string(),
        new_name: None,
        urls: non_empty(&f.urls),
        bind_dn: f.bind_dn.clone(),
        bind_password: f.bind_password_file.as_deref().map(secret).transpose()?,
        base_dns: non_empty(&f.base_dns),
        user_filter: f.user_filter.clone(),
        username_attribute: f.username_attribute.clone(),
        email_attribute: f.email_attribute.clone(),
        display_name_attribute: f.display_name_attribute.clone(),
        groups_attribute: f.groups_attribute.clone(),
        disabled_flag: f.disabled_flag.map(|d| match d {
            DisabledFlagArg::Auto => DisabledFlag::Auto,
            DisabledFlagArg::UserAccountControl => DisabledFlag::UserAccountControl,
            DisabledFlagArg::NsAccountLock => DisabledFlag::NsAccountLock,
            DisabledFlagArg::None => DisabledFlag::None,
        }),
        starttls: f.starttls.map(|b| b.is_none_or(bool::from)),
        ca_certs: non_empty(&f.ca_certs),
        ous: non_empty(&f.ous),
        page_size: f.page_size,
        connect_timeout_secs: f.connect_timeout,
        search_timeout_secs: f.search_timeout,
        schedule: f.schedule.clone(),
        full_schedule: f.full_schedule.clone(),
        disable_threshold_percent: f.disable_threshold,
        retention_days: f.retention_days,
        bind_pool_size: f.bind_pool_size,
        upn_suffixes: non_empty(&f.upn_suffixes),
        insecure_plaintext: f.insecure_plaintext.then_some(true),
        group_base_dn: f.group_base_dn.clone(),
        group_filter: f.group_filter.clone(),
        group_member_attribute: f.group_member_attribute.map(|m| match m {
            MemberAttributeArg::Member => MemberAttribute::Member,
            MemberAttributeArg::UniqueMember => MemberAttribute::UniqueMember,
            MemberAttributeArg::MemberUid => MemberAttribute::MemberUid,
        }),
        nested_groups: f.nested_groups.map(|b| b.is_none_or(bool::from)),
    })
}

impl Noun {
    /// The command this command line asks for.
    ///
    /// # Errors
    /// Files or stdin that cannot be read, times that do not parse.
    pub fn to_command(&self) -> Result<Command, UsageError> {
        Ok(match self {
            Noun::Status => Command::Status(Empty {}),
            Noun::Client(v) => match v {
                ClientVerb::Add {
                    name,
                    address,
                    secret_file,
                    site,
                    require_message_authenticator,
                    rate_limit,
                    allow_overlap,
                } => Command::ClientAdd(ClientAddArgs {
                    name: name.clone(),
                    address: address.clone(),
                    secret: secret(secret_file)?,
                    site: site.clone(),
                    require_message_authenticator: require_message_authenticator.map(bool::from),
                    rate_limit: *rate_limit,
                    allow_overlap: *allow_overlap,
                }),
                ClientVerb::List => Command::ClientList(Empty {}),
                ClientVerb::Show { name: n } => Command::ClientShow(name(n)),
                ClientVerb::Edit {
                    name,
                    new_name,
                    address,
                    secret_file,
                    site,
                    require_message_authenticator,
                    rate_limit,
                    allow_overlap,
                } => Command::ClientEdit(ClientEditArgs {
                    name: name.clone(),
                    new_name: new_name.clone(),
                    address: address.clone(),
                    secret: secret_file.as_deref().map(secret).transpose()?,
                    site: site.clone(),
                    require_message_authenticator: require_message_authenticator.map(bool::from),
                    rate_limit: *rate_limit,
                    allow_overlap: *allow_overlap,
                }),
                ClientVerb::Delete { name: n } => Command::ClientDelete(name(n)),
            },
            Noun::User(v) => match v {
                UserVerb::Add {
                    user,
                    password_stdin,
                    password_hash_stdin,
                    display_name,
                    email,
                } => {
                    let (password, password_hash) = if *password_stdin {
                        (Some(Secret::from_text(&read_stdin_line("password")?)), None)
                    } else if *password_hash_stdin {
                        (
                            None,
                            Some(Secret::from_text(&read_stdin_line("password hash")?)),
                        )
                    } else {
                        (None, None)
                    };
                    Command::UserAdd(UserAddArgs {
                        user: user.qualified(),
                        password,
                        password_hash,
                        display_name: display_name.clone(),
                        email: email.clone(),
                    })
                }
                UserVerb::Import { file, domain } => Command::UserImport(UserImportArgs {
                    domain: domain.clone(),
                    lines: Secret::new(read_text(file)?.into_bytes()),
                }),
                UserVerb::List {
                    domain,
                    limit,
                    offset,
                } => Command::UserList(UserListArgs {
                    domain: domain.clone(),
                    limit: *limit,
                    offset: *offset,
                }),
                UserVerb::Show(u) => Command::UserShow(u.arg()),
                UserVerb::Edit {
                    user,
                    display_name,
                    email,
                } => Command::UserEdit(UserEditArgs {
                    user: user.qualified(),
                    display_name: display_name.clone(),
                    email: email.clone(),
                }),
                UserVerb::Enable(u) => Command::UserEnable(u.arg()),
                UserVerb::Disable(u) => Command::UserDisable(u.arg()),
                UserVerb::Delete(u) => Command::UserDelete(u.arg()),
                UserVerb::Unlock(u) => Command::UserUnlock(u.arg()),
                UserVerb::SetPassword { user, .. } => Command::UserSetPassword(SetPasswordArgs {
                    user: user.qualified(),
                    password: Secret::from_text(&read_stdin_line("password")?),
                }),
            },
            Noun::Audit(v) => match v {
                AuditVerb::List {
                    limit,
                    operation,
                    user,
                    client,
                    outcome,
                    since,
                    until,
                } => Command::AuditList(AuditListArgs {
                    limit: *limit,
                    operation: operation.clone(),
                    user: user.clone(),
                    client: client.clone(),
                    outcome: outcome.clone(),
                    since: since.as_deref().map(parse_time).transpose()?,
                    until: until.as_deref().map(parse_time).transpose()?,
                }),
                AuditVerb::Verify => Command::AuditVerify(Empty {}),
            },
            Noun::Directory(v) => match v {
                DirectoryVerb::Add { name, fields } => {
                    Command::DirectoryAdd(directory_args(name, fields)?)
                }
                DirectoryVerb::Edit { name, fields } => {
                    Command::DirectoryEdit(directory_args(name, fields)?)
                }
                DirectoryVerb::List => Command::DirectoryList(Empty {}),
                DirectoryVerb::Show { name: n } => Command::DirectoryShow(name(n)),
                DirectoryVerb::Test { name: n } => Command::DirectoryTest(name(n)),
                DirectoryVerb::Preview {
                    name,
                    force,
                    incremental,
                } => Command::DirectoryPreview(sync_args(name, *force, *incremental)),
                DirectoryVerb::Sync {
                    name,
                    force,
                    incremental,
                } => Command::DirectorySync(sync_args(name, *force, *incremental)),
                DirectoryVerb::Status { name: n } => Command::DirectoryStatus(name(n)),
                DirectoryVerb::Delete { name, yes } => {
                    let confirmed = *yes
                        || confirm(
                            &format!(
                                "Delete directory {name} and every user of its domain? Type the name to confirm: "
                            ),
                            name,
                        );
                    Command::DirectoryDelete(DeleteDirectoryArgs {
                        name: name.clone(),
                        confirmed,
                    })
                }
            },
            Noun::Cert(v) => match v {
                CertVerb::Trust { file, name } => Command::CertTrust(CertTrustArgs {
                    name: name.clone(),
                    data_base64: base64::engine::general_purpose::STANDARD
                        .encode(certificate_only(file)?),
                }),
                CertVerb::List => Command::CertList(Empty {}),
                CertVerb::Show { name: n } => Command::CertShow(name(n)),
                CertVerb::Delete { name: n } => Command::CertDelete(name(n)),
            },
            Noun::Pending(v) => match v {
                PendingVerb::Import { file } => Command::PendingImport(PendingImportArgs {
                    csv: read_text(file)?,
                }),
                PendingVerb::List => Command::PendingList(Empty {}),
                PendingVerb::Update {
                    user,
                    display_name,
                    email,
                } => Command::PendingUpdate(PendingUpdateArgs {
                    user: user.qualified(),
                    display_name: display_name.clone(),
                    email: email.clone(),
                }),
                PendingVerb::Delete(u) => Command::PendingDelete(u.arg()),
                PendingVerb::Approve(u) => Command::PendingApprove(u.arg()),
            },
            Noun::Role(v) => match v {
                RoleVerb::Ops => Command::RoleOps(Empty {}),
                RoleVerb::List => Command::RoleList(Empty {}),
                RoleVerb::Show { name: n } => Command::RoleShow(name(n)),
                RoleVerb::Create { name, fields } => Command::RoleCreate(role_args(name, fields)),
                RoleVerb::Edit { name, fields } => Command::RoleEdit(role_args(name, fields)),
                RoleVerb::Delete { name: n } => Command::RoleDelete(name(n)),
                RoleVerb::Explain {
                    admin,
                    operation,
                    target,
                } => Command::RoleExplain(ExplainArgs {
                    admin: admin.clone(),
                    operation: operation.clone(),
                    target: target.clone(),
                }),
            },
            Noun::Admin(v) => match v {
                AdminVerb::List => Command::AdminList(Empty {}),
                AdminVerb::Add {
                    name,
                    unix_user,
                    role,
                } => Command::AdminAdd(AdminAddArgs {
                    name: name.clone(),
                    unix_user: unix_user.clone(),
                    role: role.clone(),
                }),
                AdminVerb::SetRole { name, role } => Command::AdminSetRole(AdminRoleArgs {
                    name: name.clone(),
                    role: role.clone(),
                }),
                AdminVerb::Disable { name: n } => Command::AdminDisable(name(n)),
                AdminVerb::Enable { name: n } => Command::AdminEnable(name(n)),
                AdminVerb::Remove { name: n } => Command::AdminRemove(name(n)),
            },
            Noun::Site(v) => match v {
                SiteVerb::Add {
                    name,
                    subnets,
                    timezone,
                } => Command::SiteAdd(SiteArgs {
                    name: name.clone(),
                    new_name: None,
                    subnets: Some(subnets.clone()),
                    timezone: timezone.clone(),
                }),
                SiteVerb::List => Command::SiteList(Empty {}),
                SiteVerb::Show { name: n } => Command::SiteShow(name(n)),
                SiteVerb::Edit {
                    name,
                    new_name,
                    subnets,
                    timezone,
                } => Command::SiteEdit(SiteArgs {
                    name: name.clone(),
                    new_name: new_name.clone(),
                    subnets: non_empty(subnets),
                    timezone: timezone.clone(),
                }),
                SiteVerb::Delete { name: n } => Command::SiteDelete(name(n)),
            },
            Noun::System(SystemVerb::Lockdown { state }) => Command::SystemLockdown(LockdownArgs {
                on: *state == OnOff::On,
            }),
            Noun::UserPolicy(v) => v.to_command(),
            Noun::ComputerPolicy(v) => v.to_command(),
            Noun::ComputerRule(v) => v.to_command(),
            Noun::Computer(v) => v.to_command(),
            Noun::Policy(v) => v.to_command(),
            Noun::Radius(v) => v.to_command()?,
        })
    }
}

fn sync_args(name: &str, force: bool, incremental: bool) -> SyncArgs {
    SyncArgs {
        name: name.to_string(),
        force,
        incremental,
    }
}
