//! The operations catalogue: the only place operation ids are spelled out.
//!
//! Ids are stable — roles stored in the database and scripts name them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Category {
    System,
    Policies,
    Users,
    Reports,
    Tokens,
}

impl Category {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::System => "system",
            Category::Policies => "policies",
            Category::Users => "users",
            Category::Reports => "reports",
            Category::Tokens => "tokens",
        }
    }
}

macro_rules! operations {
    ($( $variant:ident = $id:literal, $cat:ident, $desc:literal; )*) => {
        /// One delegable operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Operation { $( $variant, )* }

        impl Operation {
            pub const ALL: &'static [Operation] = &[ $( Operation::$variant, )* ];

            #[must_use]
            pub fn id(self) -> &'static str {
                match self { $( Operation::$variant => $id, )* }
            }

            #[must_use]
            pub fn category(self) -> Category {
                match self { $( Operation::$variant => Category::$cat, )* }
            }

            #[must_use]
            pub fn description(self) -> &'static str {
                match self { $( Operation::$variant => $desc, )* }
            }

            #[must_use]
            pub fn from_id(id: &str) -> Option<Self> {
                match id { $( $id => Some(Operation::$variant), )* _ => None }
            }
        }
    };
}

operations! {
    SystemUpdate = "system.update", System, "Change appliance settings and apply updates";
    SystemLockdown = "system.lockdown", System, "Lock the appliance down, and keep administering while it is locked down";
    AuditArchive = "audit.archive", System, "Export a range of the audit log and mark it archived";
    AuditDelete = "audit.delete", System, "Delete archived audit records";
    NotificationTemplateEdit = "notification-template.edit", System, "Edit notification templates";
    TempcodeToggle = "tempcode.toggle", System, "Switch temporary codes on or off enterprise-wide";
    RadiusProxyUpdate = "radius.proxy.update", System, "Create and edit RADIUS proxies";
    RadiusProxyDelete = "radius.proxy.delete", System, "Delete RADIUS proxies";
    RadiusProxyToggle = "radius.proxy.toggle", System, "Enable and disable RADIUS proxies";
    RadiusClientUpdate = "radius.client.update", System, "Create and edit RADIUS clients";
    RadiusClientDelete = "radius.client.delete", System, "Delete RADIUS clients";
    SiteEdit = "site.edit", System, "Create, edit and delete sites";
    UserPolicyEdit = "user-policy.edit", Policies, "Create and edit user policies";
    UserPolicyDelete = "user-policy.delete", Policies, "Delete user policies";
    UserPolicyAssign = "user-policy.assign", Policies, "Assign user policies to users, groups, OUs and domains";
    ComputerPolicyUpdate = "computer-policy.update", Policies, "Create and edit computer policies";
    ComputerPolicyDelete = "computer-policy.delete", Policies, "Delete computer policies";
    ComputerRuleEdit = "computer-rule.edit", Policies, "Create and edit computer assignment rules";
    ComputerRuleRun = "computer-rule.run", Policies, "Run computer assignment rules now";
    WorkflowUpdate = "workflow.update", Policies, "Edit workflow policies";
    UserEdit = "user.edit", Users, "Create and edit users";
    UserEnable = "user.enable", Users, "Enable and disable users";
    UserNotify = "user.notify", Users, "Send notifications to users";
    UserDelete = "user.delete", Users, "Delete users";
    UserUnlock = "user.unlock", Users, "Unlock locked-out users";
    UserResetPassword = "user.reset-password", Users, "Set or reset user passwords";
    TempcodeGenerate = "tempcode.generate", Users, "Issue temporary codes";
    DirectoryEdit = "directory.edit", Users, "Create and edit directory connections";
    DirectoryPreview = "directory.preview", Users, "Preview what a directory sync would change";
    DirectorySync = "directory.sync", Users, "Run directory syncs";
    DirectoryDelete = "directory.delete", Users, "Delete directory connections and their users";
    CertTrust = "cert.trust", Users, "Trust certificates";
    CertDelete = "cert.delete", Users, "Delete trusted certificates";
    PendingUpdate = "pending.update", Users, "Import and edit pending users";
    PendingDelete = "pending.delete", Users, "Delete pending users";
    PendingApprove = "pending.approve", Users, "Approve pending users";
    ComputerUpdate = "computer.update", Users, "Register and edit computers";
    ComputerDelete = "computer.delete", Users, "Delete computers";
    ComputerAssignPolicy = "computer.assign-policy", Users, "Assign computer policies to computers";
    RoleEdit = "role.edit", Users, "Create and edit administrator roles and administrators";
    RoleDelete = "role.delete", Users, "Delete administrator roles";
    VerifyRun = "verify.run", Users, "Verify a caller's identity with an OTP or temporary code";
    ProtectedScopeEdit = "protected-scope.edit", Users, "Edit the protected scope";
    ReportView = "report.view", Reports, "View reports and the audit log, read-only, within scope";
    ReportUpdate = "report.update", Reports, "Create and edit saved reports";
    ReportDelete = "report.delete", Reports, "Delete saved reports";
    ReportExport = "report.export", Reports, "Export reports";
    NotificationEdit = "notification.edit", Reports, "Create and edit notification rules";
    NotificationToggle = "notification.toggle", Reports, "Enable and disable notification rules";
    NotificationDelete = "notification.delete", Reports, "Delete notification rules";
    TokenImport = "token.import", Tokens, "Import tokens";
    TokenStatus = "token.status", Tokens, "Change token status";
    TokenDelete = "token.delete", Tokens, "Delete tokens";
    TokenReset = "token.reset", Tokens, "Reset tokens";
    TokenPin = "token.pin", Tokens, "Reset and change token PINs";
    TokenUnlock = "token.unlock", Tokens, "Unlock tokens";
    TokenVirtualOtp = "token.virtual-otp", Tokens, "Generate virtual one-time passwords";
    TokenAssign = "token.assign", Tokens, "Assign and unassign tokens";
}

/// Operations that only work together: holding part of a bundle is allowed but useless,
/// and `role show` warns about it.
pub const BUNDLES: &[&[Operation]] = &[
    &[Operation::DirectoryPreview, Operation::DirectorySync],
    &[Operation::CertTrust, Operation::CertDelete],
    &[
        Operation::PendingUpdate,
        Operation::PendingDelete,
        Operation::PendingApprove,
    ],
    &[Operation::ReportView, Operation::ReportUpdate],
    &[Operation::NotificationEdit, Operation::NotificationToggle],
];

/// Object families for reading: any operation of the family (or `report.view`) lets an
/// administrator list and show that kind of object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    RadiusClient,
    User,
    Audit,
    Directory,
    Cert,
    Pending,
    Role,
    Site,
    UserPolicy,
    ComputerPolicy,
    ComputerRule,
    Computer,
}

impl Family {
    #[must_use]
    pub fn contains(self, op: Operation) -> bool {
        let id = op.id();
        match self {
            Family::RadiusClient => id.starts_with("radius.client."),
            Family::User => id.starts_with("user."),
            Family::Audit => id.starts_with("audit."),
            Family::Directory => id.starts_with("directory."),
            Family::Cert => id.starts_with("cert."),
            Family::Pending => id.starts_with("pending."),
            Family::Role => id.starts_with("role."),
            Family::Site => id.starts_with("site."),
            Family::UserPolicy => id.starts_with("user-policy."),
            Family::ComputerPolicy => id.starts_with("computer-policy."),
            Family::ComputerRule => id.starts_with("computer-rule."),
            Family::Computer => id.starts_with("computer."),
        }
    }
}

impl Serialize for Operation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Operation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        Operation::from_id(&id).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown operation `{id}` (see `gatehousectl role ops`)"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for op in Operation::ALL {
            assert!(seen.insert(op.id()), "duplicate id {}", op.id());
            assert_eq!(Operation::from_id(op.id()), Some(*op));
            assert!(!op.description().is_empty());
        }
        assert_eq!(Operation::ALL.len(), 58);
    }
}
