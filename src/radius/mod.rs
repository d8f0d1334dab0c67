//! The RADIUS service: a pure codec ([`proto`]) and the I/O that serves it.

pub mod clients;
pub mod counters;
pub mod dedup;
pub mod display;
pub mod hashing;
pub mod pipeline;
pub mod proto;
pub mod ratelimit;
pub mod server;
