//! `gatehoused`: the Gatehouse daemon.

// One audited FFI call (see `purge_freed_memory_at_once`); everything else is safe code.
#![deny(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gatehouse::config::{self, Config};
use gatehouse::service::{logging, run};

/// mimalloc frees memory allocated by another thread without taking that thread's lock:
/// every request's buffers and audit record are made on a RADIUS worker and freed on the
/// store writer, which under glibc malloc contended on the arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v3); the bindings do not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Its default in mimalloc v3 (milliseconds), which tells us the index above is right.
const MI_DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;

/// mimalloc hands freed pages back to the OS only when the allocator is next used after
/// a delay, so a thread that goes idle after a big free (an argon2id verification frees
/// 19 MiB) keeps it resident indefinitely. Purging at once costs a little throughput and
/// keeps the idle footprint what it is with glibc.
fn purge_freed_memory_at_once() {
    // SAFETY: mi_option_get/mi_option_set take plain integers, are thread-safe, and are
    // called here before any other thread exists.
    #[allow(unsafe_code)]
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == MI_DEFAULT_PURGE_DELAY {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "gatehoused",
    version,
    about = "Gatehouse authentication daemon"
)]
struct Args {
    /// Configuration file.
    #[arg(long, default_value = config::DEFAULT_PATH)]
    config: PathBuf,
    /// Validate the configuration and exit (0 valid, 1 invalid).
    #[arg(long)]
    check_config: bool,
}

fn main() -> ExitCode {
    purge_freed_memory_at_once();
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gatehoused: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.check_config {
        if let Err(e) = run::preflight(&config, &args.config) {
            eprintln!("gatehoused: {e:#}");
            return ExitCode::FAILURE;
        }
        println!("{}: configuration is valid", args.config.display());
        return ExitCode::SUCCESS;
    }
    let log = logging::init(&config.log.level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatehoused: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let built = run::build(config, &args.config)?;
        run::run(built, log).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("gatehoused: {e:#}");
            ExitCode::FAILURE
        }
    }
}
