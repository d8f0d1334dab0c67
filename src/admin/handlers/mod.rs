//! Command handlers, one file per noun. Each gets its command's arguments and a [`Call`]
//! — made by the dispatcher only for an authorized command — through which it reads (cut
//! to the permit's scope) and commits (with the request's audit record).

mod audit;
mod cert;
mod client;
mod computer;
mod directory;
mod explain;
pub(crate) mod pending;
mod policy;
mod role;
mod site;
mod status;
mod user;

use serde_json::Value;

use super::command::{Command, PolicyKind};
use super::context::Call;
use super::proto::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    pub code: ErrorCode,
    pub message: String,
}

impl AdminError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::InvalidArgument,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::NotFound,
            message: format!("{what} not found"),
        }
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Conflict,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: message.into(),
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Conflict(msg) => Self {
                code: ErrorCode::Conflict,
                message: msg,
            },
            other => {
                tracing::error!(error = %other, "admin command failed in the store");
                Self {
                    code: ErrorCode::Internal,
                    message: "the store could not complete the request (see the daemon log)".into(),
                }
            }
        }
    }
}

pub type HandlerResult = Result<Value, AdminError>;

/// Names of clients, sites and certificates: short, and safe in logs, tables and paths.
pub(crate) fn check_name(kind: &str, name: &str) -> Result<(), AdminError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AdminError::invalid(format!(
            "{kind} name `{name}`: use 1-64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// Progress updates for long commands, sent to the client as `{"id":N,"progress":…}`
/// lines before the response. Dropped when the client reads too slowly.
#[derive(Debug, Default, Clone)]
pub struct Progress(Option<tokio::sync::mpsc::Sender<Value>>);

impl Progress {
    #[must_use]
    pub fn new(tx: tokio::sync::mpsc::Sender<Value>) -> Self {
        Self(Some(tx))
    }

    pub fn send(&self, v: Value) {
        if let Some(tx) = &self.0 {
            let _ = tx.try_send(v);
        }
    }
}

/// Routes an authorized command to its handler.
pub(super) async fn run(command: Command, call: &Call<'_>) -> HandlerResult {
    match command {
        Command::Status(_) => status::status(call),
        Command::ClientAdd(a) => client::add(call, a).await,
        Command::ClientList(_) => client::list(call),
        Command::ClientShow(a) => client::show(call, &a.name),
        Command::ClientEdit(a) => client::edit(call, a).await,
        Command::ClientDelete(a) => client::delete(call, &a.name).await,
        Command::UserAdd(a) => user::add(call, a).await,
        Command::UserImport(a) => user::import(call, a).await,
        Command::UserList(a) => user::list(call, &a),
        Command::UserShow(a) => user::show(call, &a.user),
        Command::UserEdit(a) => user::edit(call, a).await,
        Command::UserEnable(a) => user::set_status(call, &a.user, true).await,
        Command::UserDisable(a) => user::set_status(call, &a.user, false).await,
        Command::UserDelete(a) => user::delete(call, &a.user).await,
        Command::UserSetPassword(a) => user::set_password(call, a).await,
        Command::AuditList(a) => audit::list(call, &a),
        Command::AuditVerify(_) => audit::verify(call),
        Command::DirectoryAdd(a) => directory::add(call, a).await,
        Command::DirectoryEdit(a) => directory::edit(call, a).await,
        Command::DirectoryList(_) => directory::list(call),
        Command::DirectoryShow(a) => directory::show(call, &a.name),
        Command::DirectoryStatus(a) => directory::status(call, &a.name),
        Command::DirectoryTest(a) => directory::test(call, &a.name).await,
        Command::DirectoryPreview(a) => directory::preview(call, &a).await,
        Command::DirectorySync(a) => directory::sync(call, &a).await,
        Command::DirectoryDelete(a) => directory::delete(call, &a).await,
        Command::CertTrust(a) => cert::trust(call, a).await,
        Command::CertList(_) => cert::list(call),
        Command::CertShow(a) => cert::show(call, &a.name),
        Command::CertDelete(a) => cert::delete(call, &a.name).await,
        Command::PendingImport(a) => pending::import(call, &a.csv).await,
        Command::PendingList(_) => pending::list(call),
        Command::PendingUpdate(a) => pending::update(call, a).await,
        Command::PendingDelete(a) => pending::delete(call, &a.user).await,
        Command::PendingApprove(a) => pending::approve(call, &a.user).await,
        Command::RoleOps(_) => role::ops(),
        Command::RoleList(_) => role::list(call),
        Command::RoleShow(a) => role::show(call, &a.name),
        Command::RoleCreate(_) => role::save(call).await,
        Command::RoleEdit(_) => role::save(call).await,
        Command::RoleDelete(a) => role::delete(call, &a.name).await,
        Command::RoleExplain(a) => role::explain(call, &a),
        Command::AdminList(_) => role::admin_list(call),
        Command::AdminAdd(a) => role::admin_add(call, a).await,
        Command::AdminSetRole(a) => role::admin_set_role(call, a).await,
        Command::AdminDisable(a) => role::admin_set_enabled(call, &a.name, false).await,
        Command::AdminEnable(a) => role::admin_set_enabled(call, &a.name, true).await,
        Command::AdminRemove(a) => role::admin_remove(call, &a.name).await,
        Command::SiteAdd(a) => site::add(call, a).await,
        Command::SiteList(_) => site::list(call),
        Command::SiteShow(a) => site::show(call, &a.name),
        Command::SiteEdit(a) => site::edit(call, a).await,
        Command::SiteDelete(a) => site::delete(call, &a.name).await,
        Command::SystemLockdown(a) => site::lockdown(call, a.on).await,
        Command::UserUnlock(a) => user::unlock(call, &a.user).await,
        Command::UserPolicyCreate(a) => policy::save_user(call, a, true).await,
        Command::UserPolicyEdit(a) => policy::save_user(call, a, false).await,
        Command::UserPolicyList(_) => policy::list_user(call),
        Command::UserPolicyShow(a) => policy::show_user(call, &a.name),
        Command::UserPolicyDelete(a) => policy::delete(call, PolicyKind::User, &a.name).await,
        Command::UserPolicyAssign(a) => policy::assign(call, a, true).await,
        Command::UserPolicyUnassign(a) => policy::assign(call, a, false).await,
        Command::ComputerPolicyCreate(a) => policy::save_computer(call, a, true).await,
        Command::ComputerPolicyEdit(a) => policy::save_computer(call, a, false).await,
        Command::ComputerPolicyList(_) => policy::list_computer(call),
        Command::ComputerPolicyShow(a) => policy::show_computer(call, &a.name),
        Command::ComputerPolicyDelete(a) => {
            policy::delete(call, PolicyKind::Computer, &a.name).await
        }
        Command::ComputerRuleAdd(a) => computer::rule_add(call, a).await,
        Command::ComputerRuleEdit(a) => computer::rule_edit(call, a).await,
        Command::ComputerRuleMove(a) => computer::rule_move(call, a).await,
        Command::ComputerRuleDelete(a) => computer::rule_delete(call, &a.name).await,
        Command::ComputerRuleList(_) => computer::rule_list(call),
        Command::ComputerRuleRun(a) => computer::rule_run(call, a).await,
        Command::ComputerList(a) => computer::list(call, &a),
        Command::ComputerShow(a) => computer::show(call, &a.id),
        Command::ComputerEdit(a) => computer::edit(call, a).await,
        Command::ComputerAssignPolicy(a) => computer::assign_policy(call, a).await,
        Command::ComputerDelete(a) => computer::delete(call, &a.id).await,
        Command::PolicyExplain(a) => explain::explain(call, &a),
        Command::RadiusTrace(a) => explain::trace(call, &a).await,
    }
}
