//! Gatehouse: an authentication appliance daemon.
//!
//! Network devices send RADIUS; Gatehouse answers from local users (and, later, users
//! synchronised from LDAP directories) and records every decision in a hash-chained audit
//! log. Administrators drive it through a local Unix socket where every command passes a
//! single authorization choke point.
//!
//! # Architecture map
//!
//! Modules marked *pure* never touch sockets, files, the clock or tokio; they are property
//! tested and fuzzed. Modules marked *io* wire the pure parts to the outside world.
//!
//! ```text
//! config        io    TOML + GATEHOUSE_ environment overrides → Config (unknown keys rejected)
//! time          pure  the one place that reads the wall clock (Clock)
//! radius/proto  pure  RADIUS codec: packets, attributes, dictionary, authenticators, MA
//! radius/       io    clients (CIDR table), dedup (RFC 5080 cache), ratelimit, counters,
//!                     pipeline (the one request path), server (UDP listeners)
//! auth/         pure  password hashes (argon2id, sha-crypt, {SSHA}); decision logic
//! store/        io    SQLite behind `Store`: migrations, group-commit writer, secrets at rest
//! directory/    mixed spec, schedule, map, plan (pure); ldap, passthrough, service,
//!                     scheduler (io): LDAP sync fetch → map → plan → apply, pass-through binds
//! tls/          mixed certs (pure x509 inspection), client (rustls configurations)
//! audit/        pure  typed audit events and the SHA-256 hash chain
//! admin/        mixed proto (wire types, shared by both binaries), ops (operation catalogue),
//!                     command (typed commands and their requirements), authz (the choke
//!                     point: decide → Permit), server (socket + dispatch), handlers
//! cli/          pure  gatehousectl grammar and rendering
//! service/      io    build → run → drain, signals, systemd notify, logging
//! ```
//!
//! # Invariants owned here
//! - Persist, then reply: accounting, admin changes and (later) OTP counters are committed
//!   before the packet or socket reply that acknowledges them (`radius::pipeline`).
//! - Every admin command reaches a handler only through `admin::server::dispatch`, which is
//!   the only caller of `admin::authz::decide`, and handlers need an `authz::Permit`.

#![forbid(unsafe_code)]

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod directory;
pub mod model;
pub mod radius;
pub mod service;
pub mod store;
pub mod sync;
pub mod time;
pub mod tls;
