//! The operating system's accounts and groups, through the system's resolvers (NSS), so
//! that administrators may be bound to directory-backed Unix accounts too.

use nix::unistd::{Gid, Group, Uid, User};

use crate::admin::context::Accounts;

/// Lookups through `getpwnam_r`/`getpwuid_r`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemAccounts;

impl Accounts for SystemAccounts {
    fn uid_of(&self, user: &str) -> Option<u32> {
        User::from_name(user).ok().flatten().map(|u| u.uid.as_raw())
    }

    fn name_of(&self, uid: u32) -> Option<String> {
        User::from_uid(Uid::from_raw(uid))
            .ok()
            .flatten()
            .map(|u| u.name)
    }
}

/// The gid of group `name`.
#[must_use]
pub fn group_id(name: &str) -> Option<u32> {
    Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| Gid::as_raw(g.gid))
}

/// The daemon's effective uid.
#[must_use]
pub fn effective_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}
