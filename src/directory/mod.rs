//! Directories (LDAP / Active Directory) as data and wire: connection specs, schedules,
//! entry mapping, group membership and sync planning (pure), the paged LDAP client and
//! the pass-through bind pool (I/O). Nothing here reads or writes the store: the sync runs that do are in
//! `crate::sync`.

pub mod groups;
pub mod ldap;
pub mod map;
pub mod passthrough;
pub mod plan;
pub mod schedule;
pub mod spec;
