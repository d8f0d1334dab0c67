//! The RADIUS service: a pure codec ([`proto`]) and the I/O that serves it.
//!
//! A transport ([`udp`]) finds the client a request came from and hands the request to
//! the executor ([`exec`]); the one request function ([`request`]) checks integrity,
//! rate and duplicates and dispatches to [`access`] (identify → site → verify → decide →
//! persist → reply) or [`accounting`]. [`context`] holds what requests share.

pub mod access;
pub mod accounting;
pub mod clients;
pub mod context;
pub mod counters;
pub mod dedup;
pub mod directories;
pub mod display;
pub mod exec;
pub mod policies;
pub mod proto;
pub mod ratelimit;
pub mod request;
pub mod trace;
pub mod udp;
pub mod verifier;
