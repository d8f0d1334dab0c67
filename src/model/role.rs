//! Roles as stored: each one's own restriction and its parent, and the roles shipped
//! with a new appliance. How restrictions combine down the hierarchy is the authorization
//! layer's business (`admin::authz::role`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::operation::Operation;
use super::scope::{AccessLevel, ComputerScope, UserScope};

/// The one role above all others.
pub const SUPER_ADMINISTRATOR: &str = "Super Administrator";

/// Deepest allowed hierarchy: guards against cycles in a damaged store.
pub const MAX_DEPTH: usize = 32;

/// A role as stored: its own restriction. `None` means "same as the parent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDef {
    pub name: String,
    pub parent: Option<String>,
    pub description: String,
    pub ops: Option<BTreeMap<Operation, AccessLevel>>,
    pub user_scope: Option<UserScope>,
    pub computer_scope: Option<ComputerScope>,
    /// A template for deriving site roles: not assigned itself; a role derived from it
    /// must name its sites, and reaches no users unless it names them.
    #[serde(default)]
    pub requires_scope: bool,
}

/// A role as the store holds it: its definition, who created it, and a version that every
/// edit bumps (an edit names the version it read, so two edits never overwrite each
/// other).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRole {
    pub def: RoleDef,
    pub created_by: String,
    pub version: i64,
}

/// Operations that act on the whole enterprise rather than on a site: not in the site
/// template (appliance settings and lockdown, the site layout and its subnets — which
/// bound where a site's clients may be — the audit log's life cycle, directories,
/// trusted certificates, proxies, enterprise-wide switches and workflows).
#[must_use]
pub fn is_enterprise_wide(op: Operation) -> bool {
    use Operation as O;
    matches!(
        op,
        O::SystemUpdate
            | O::SystemLockdown
            | O::AuditArchive
            | O::AuditDelete
            | O::NotificationTemplateEdit
            | O::TempcodeToggle
            | O::RadiusProxyUpdate
            | O::RadiusProxyDelete
            | O::RadiusProxyToggle
            | O::SiteEdit
            | O::DirectoryEdit
            | O::DirectoryPreview
            | O::DirectorySync
            | O::DirectoryDelete
            | O::CertTrust
            | O::CertDelete
            | O::WorkflowUpdate
            | O::ProtectedScopeEdit
    )
}

/// The roles shipped with a new appliance.
#[must_use]
pub fn builtin_roles() -> Vec<RoleDef> {
    use Operation as O;
    let ops = |list: &[Operation]| Some(list.iter().map(|o| (*o, AccessLevel::All)).collect());
    let sup = Some(SUPER_ADMINISTRATOR.to_string());
    vec![
        RoleDef {
            name: SUPER_ADMINISTRATOR.into(),
            parent: None,
            description: "All operations everywhere; cannot be changed".into(),
            ops: None,
            user_scope: None,
            computer_scope: None,
            requires_scope: false,
        },
        RoleDef {
            name: "Site Administrator".into(),
            parent: sup.clone(),
            description: "Template: everything for the sites a derived role names (role create NAME --parent \"Site Administrator\" --computer-scope SITE --user-scope DOMAIN)"
                .into(),
            // Policies are appliance-wide objects: a site's administrator changes only
            // the ones they made (and assigns any within the site's users).
            ops: Some(
                Operation::ALL
                    .iter()
                    .filter(|o| !is_enterprise_wide(**o))
                    .map(|o| {
                        let own = matches!(
                            o,
                            O::UserPolicyEdit
                                | O::UserPolicyDelete
                                | O::ComputerPolicyUpdate
                                | O::ComputerPolicyDelete
                        );
                        (*o, if own { AccessLevel::Own } else { AccessLevel::All })
                    })
                    .collect(),
            ),
            user_scope: None,
            computer_scope: None,
            requires_scope: true,
        },
        RoleDef {
            name: "Integration Owner".into(),
            parent: sup.clone(),
            description: "Directory connections, certificates, RADIUS clients and proxies".into(),
            ops: ops(&[
                O::DirectoryEdit,
                O::DirectoryPreview,
                O::DirectorySync,
                O::DirectoryDelete,
                O::CertTrust,
                O::CertDelete,
                O::RadiusClientUpdate,
                O::RadiusClientDelete,
                O::RadiusProxyUpdate,
                O::RadiusProxyDelete,
                O::RadiusProxyToggle,
            ]),
            user_scope: None,
            computer_scope: None,
            requires_scope: false,
        },
        RoleDef {
            name: "Help Desk".into(),
            parent: sup.clone(),
            description:
                "Unlock, reset, temporary codes and token help, after verifying the caller".into(),
            ops: ops(&[
                O::UserUnlock,
                O::UserResetPassword,
                O::TempcodeGenerate,
                O::VerifyRun,
                O::TokenReset,
                O::TokenPin,
                O::TokenUnlock,
                O::TokenVirtualOtp,
                O::TokenStatus,
            ]),
            user_scope: None,
            computer_scope: None,
            requires_scope: false,
        },
        RoleDef {
            name: "Compliance Auditor".into(),
            parent: sup,
            description: "Reports and the audit log, read-only".into(),
            ops: ops(&[O::ReportView, O::ReportExport]),
            user_scope: None,
            computer_scope: None,
            requires_scope: false,
        },
    ]
}
