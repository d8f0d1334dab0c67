//! The daemon's life: parse → build (bind, open, migrate) → run → drain.

pub mod logging;
pub mod run;
pub mod systemd;
