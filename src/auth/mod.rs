//! Authentication that needs no I/O: password hashes and their cost policy, which check a
//! credential gets, and the access decision built on what the checks found.

pub mod credential;
pub mod decision;
pub mod password;
