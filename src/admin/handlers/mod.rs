//! Command handlers, one file per noun. Each receives an [`Authorized`] command — proof
//! that the dispatcher decided — and reaches the store through it.

mod audit;
mod cert;
mod client;
mod directory;
mod pending;
mod role;
mod site;
mod status;
mod user;

use serde_json::Value;

use super::authz::Authorized;
use super::command::Command;
use super::proto::ErrorCode;
use super::server::AdminContext;
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
pub async fn run(
    auth: Authorized<Command>,
    ctx: &AdminContext,
    progress: &Progress,
) -> HandlerResult {
    let (command, permit) = auth.into_parts();
    match command {
        Command::Status(_) => status::status(ctx, &permit),
        Command::ClientAdd(a) => client::add(ctx, &permit, a).await,
        Command::ClientList(_) => client::list(ctx, &permit),
        Command::ClientShow(a) => client::show(ctx, &permit, &a.name),
        Command::ClientEdit(a) => client::edit(ctx, &permit, a).await,
        Command::ClientDelete(a) => client::delete(ctx, &permit, &a.name).await,
        Command::UserAdd(a) => user::add(ctx, &permit, a).await,
        Command::UserImport(a) => user::import(ctx, &permit, a).await,
        Command::UserList(a) => user::list(ctx, &permit, &a),
        Command::UserShow(a) => user::show(ctx, &a.user),
        Command::UserEdit(a) => user::edit(ctx, &permit, a).await,
        Command::UserEnable(a) => user::set_status(ctx, &permit, &a.user, true).await,
        Command::UserDisable(a) => user::set_status(ctx, &permit, &a.user, false).await,
        Command::UserDelete(a) => user::delete(ctx, &permit, &a.user).await,
        Command::UserSetPassword(a) => user::set_password(ctx, &permit, a).await,
        Command::AuditList(a) => audit::list(ctx, &permit, &a),
        Command::AuditVerify(_) => audit::verify(ctx),
        Command::DirectoryAdd(a) => directory::add(ctx, &permit, a).await,
        Command::DirectoryEdit(a) => directory::edit(ctx, &permit, a).await,
        Command::DirectoryList(_) => directory::list(ctx, &permit),
        Command::DirectoryShow(a) => directory::show(ctx, &a.name),
        Command::DirectoryStatus(a) => directory::status(ctx, &a.name),
        Command::DirectoryTest(a) => directory::test(ctx, &a.name).await,
        Command::DirectoryPreview(a) => directory::preview(ctx, &a, progress).await,
        Command::DirectorySync(a) => directory::sync(ctx, &permit, &a, progress).await,
        Command::DirectoryDelete(a) => directory::delete(ctx, &permit, &a).await,
        Command::CertTrust(a) => cert::trust(ctx, &permit, a).await,
        Command::CertList(_) => cert::list(ctx),
        Command::CertShow(a) => cert::show(ctx, &a.name),
        Command::CertDelete(a) => cert::delete(ctx, &permit, &a.name).await,
        Command::PendingImport(a) => pending::import(ctx, &permit, &a.csv).await,
        Command::PendingList(_) => pending::list(ctx, &permit),
        Command::PendingUpdate(a) => pending::update(ctx, &permit, a).await,
        Command::PendingDelete(a) => pending::delete(ctx, &permit, &a.user).await,
        Command::PendingApprove(a) => pending::approve(ctx, &permit, &a.user).await,
        Command::RoleOps(_) => role::ops(),
        Command::RoleList(_) => role::list(ctx),
        Command::RoleShow(a) => role::show(ctx, &a.name),
        Command::RoleCreate(a) => role::create(ctx, &permit, a).await,
        Command::RoleEdit(a) => role::edit(ctx, &permit, a).await,
        Command::RoleDelete(a) => role::delete(ctx, &permit, &a.name).await,
        Command::RoleExplain(a) => role::explain(ctx, &a),
        Command::AdminList(_) => role::admin_list(ctx),
        Command::AdminAdd(a) => role::admin_add(ctx, &permit, a).await,
        Command::AdminSetRole(a) => role::admin_set_role(ctx, &permit, a).await,
        Command::AdminDisable(a) => role::admin_set_enabled(ctx, &permit, &a.name, false).await,
        Command::AdminEnable(a) => role::admin_set_enabled(ctx, &permit, &a.name, true).await,
        Command::AdminRemove(a) => role::admin_remove(ctx, &permit, &a.name).await,
        Command::SiteAdd(a) => site::add(ctx, &permit, a).await,
        Command::SiteList(_) => site::list(ctx, &permit),
        Command::SiteShow(a) => site::show(ctx, &a.name),
        Command::SiteEdit(a) => site::edit(ctx, &permit, a).await,
        Command::SiteDelete(a) => site::delete(ctx, &permit, &a.name).await,
        Command::SystemLockdown(a) => site::lockdown(ctx, &permit, a.on).await,
    }
}
