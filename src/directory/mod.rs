//! Directory sync: users from LDAP/AD as fetch (I/O) → map (pure) → plan (pure) → apply
//! (one transaction), pass-through password checks over a bounded bind pool, and the
//! scheduler that runs syncs on their schedules.

pub mod ldap;
pub mod map;
pub mod passthrough;
pub mod plan;
pub mod schedule;
pub mod scheduler;
pub mod service;
pub mod spec;
