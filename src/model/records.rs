//! Records as the rest of the daemon sees them, independent of the SQL that holds them.

use serde::{Deserialize, Serialize};

use super::secret::Secret;
use crate::time::UnixTime;

/// The domain of users created on the appliance itself.
pub const LOCAL_DOMAIN: &str = "local";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Disabled,
    Locked,
    Pending,
}

impl UserStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
            UserStatus::Locked => "locked",
            UserStatus::Pending => "pending",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(UserStatus::Active),
            "disabled" => Some(UserStatus::Disabled),
            "locked" => Some(UserStatus::Locked),
            "pending" => Some(UserStatus::Pending),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub name: String,
    pub address: String,
    pub secret: Secret,
    pub site: String,
    pub require_message_authenticator: bool,
    pub rate_limit: Option<u32>,
    pub created_by: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: i64,
    pub domain: String,
    pub name: String,
    pub dn: Option<String>,
    pub ou_path: Option<String>,
    /// `ou_path` in canonical form (see `scope::canonical_dn`), as scopes match it.
    pub ou_key: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub created_by: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    pub last_login: Option<UnixTime>,
    /// The DNs (or names) of the directory groups the user was in at the last sync.
    pub groups: Vec<String>,
    /// `groups` as policy assignments match them (`scope::group_key`).
    pub group_keys: Vec<String>,
}

/// A user as an administrator or import creates it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    pub domain: String,
    pub name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub status: UserStatus,
    pub password_hash: Option<String>,
    pub ou_path: Option<String>,
}

/// Optional changes to a user's descriptive fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<String>,
}

/// A client as an administrator creates or replaces it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpec {
    pub name: String,
    pub address: String,
    pub secret: Secret,
    pub site: String,
    pub require_message_authenticator: bool,
    pub rate_limit: Option<u32>,
}

/// One Accounting-Request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AcctRecord {
    pub received_at: UnixTime,
    pub client: String,
    pub status_type: Option<u32>,
    pub session_id: Option<String>,
    pub user_name: Option<String>,
    pub session_time: Option<u32>,
    pub input_octets: Option<u32>,
    pub output_octets: Option<u32>,
    /// Attributes as `Name=value` text, one per line, for later reports.
    pub attributes: String,
}

/// An administrator: a Unix account bound to one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminRecord {
    /// Stable for the administrator's lifetime (names can be reused after a removal).
    pub id: i64,
    pub name: String,
    pub unix_user: String,
    pub uid: u32,
    pub role: String,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteRecord {
    pub name: String,
    pub subnets: Vec<String>,
    pub timezone: String,
    pub created_by: String,
    pub created_at: UnixTime,
}
