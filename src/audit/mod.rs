//! The audit trail: typed events and the hash chain that makes tampering evident.

pub mod chain;
pub mod event;

pub use chain::{ChainBreak, ChainedRecord, GENESIS};
pub use event::{AuditEvent, EventKind, Outcome, TagFields, Tags};
