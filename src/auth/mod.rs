//! Authentication logic that needs no I/O: password hashes and the decisions built on them.

pub mod password;
