//! Gatehouse: an authentication appliance daemon.
//!
//! Network devices send RADIUS; Gatehouse answers from local users and users
//! synchronised from LDAP directories, and records every decision in a hash-chained audit
//! log. Administrators drive it through a local Unix socket where every command passes a
//! single authorization choke point.
//!
//! # Architecture map
//!
//! Modules marked *pure* never touch sockets, files, the clock or tokio; they are property
//! tested and fuzzed. Modules marked *io* wire the pure parts to the outside world;
//! *mixed* ones hold both, each file one or the other. Floors, lowest first: a module
//! imports only modules below it (`tests/layering.rs` checks the floors, the labels and
//! that no two modules import each other).
//!
//! ```text
//! time          pure   Clock: the system clocks, and a manual clock for tests
//! model         pure   records and statuses, Secret, UserRef, scopes (parsed DNs), CIDR,
//!                      the operations catalogue, stored roles, names (NFC, look-alikes)
//! audit         pure   typed audit events and tags, the SHA-256 hash chain
//! policy        pure   user and computer policies: methods, factors, lockout, reply
//!                      attributes, access hours (IANA zones), merge, assignment
//! auth          pure   password hashes and their cost policy, the credential plan,
//!                      the access decision (Accept / Reject(reason) / Challenge)
//! tls           mixed  certs (pure x509 inspection), client (rustls configurations)
//! config        io     TOML + GATEHOUSE_ environment overrides → Config
//! directory     mixed  spec, schedule, map, plan, groups (pure); ldap (paged client) and
//!                      passthrough (bounded bind pool with a breaker) (io)
//! store         io     SQLite behind `Store`: migrations, the group-commit writer, the
//!                      change feed, scoped queries, secrets at rest
//! radius        mixed  proto (pure codec); context, request (the one request function),
//!                      access, accounting, exec (CPU threads), udp, clients, dedup,
//!                      verifier, directories, policies (the policy set, computers,
//!                      lockouts, hit counters) and trace (io)
//! sync          io     directory sync runs (fetch → map → plan → one commit), scheduler
//! admin         mixed  proto (wire types), command (the catalogue), authz (the choke
//!                      point: decide → Permit) (pure); context, facts, read (scoped
//!                      reads), dispatch, server, handlers, client (io)
//! cli           mixed  render (pure); the gatehousectl grammar and its inputs (io)
//! service       io     build → run → drain, signals, systemd notify, logging, accounts
//! ```
//!
//! # Invariants owned here
//! - Persist, then reply: accounting, admin changes and (later) OTP counters are committed
//!   before the packet or socket reply that acknowledges them.
//! - Every admin command reaches a handler only through `admin::dispatch`, the only
//!   caller of `admin::authz::decide`; handlers read through a reader cut to the permit's
//!   scope and write through the call that carries the request's audit record.
//! - Caches follow the store's change feed; nothing reloads them by hand.

#![forbid(unsafe_code)]

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod directory;
pub mod model;
pub mod policy;
pub mod radius;
pub mod service;
pub mod store;
pub mod sync;
pub mod time;
pub mod tls;
