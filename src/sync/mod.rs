//! Directory sync runs: fetch (LDAP) → map → plan → one committed job, one run per
//! directory at a time, and the scheduler that starts runs on their schedules.

pub mod groups;
pub mod scheduler;
pub mod service;
