//! The daemon's life: parse → build (bind, open, migrate) → run → drain.

pub mod logging;
pub mod os_identity;
pub mod run;
pub mod systemd;
