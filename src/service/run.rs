//! Build, run and drain the daemon.
//!
//! `build` binds every socket and opens the store, spawning nothing, and fails with the
//! config key responsible. `run` starts the tasks and only then tells systemd READY=1.
//! SIGHUP reloads what can change at run time and keeps the old config if the new one
//! is invalid; SIGTERM stops intake, drains in-flight requests with a deadline, flushes
//! the store and returns.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::logging::LogHandle;
use super::systemd;
use crate::admin::context::{AdminContext, AdminParts, IdentitySettings};
use crate::admin::server as admin_server;
use crate::config::{Config, ConfigError};
use crate::radius::context::{Limits, RadiusContext, Settings};
use crate::radius::policies::ComputerLimits;
use crate::radius::proto::Dictionary;
use crate::radius::request::Service;
use crate::radius::udp::{self as radius_udp, Listener};
use crate::store::Store;
use crate::sync::service::DirectoryService;
use crate::time::Clock;

/// Everything bound and opened, nothing running yet.
pub struct Built {
    config: Config,
    config_path: PathBuf,
    store: Store,
    listeners: Vec<Listener>,
    admin: tokio::net::UnixListener,
}

fn config_err(config_path: &Path, key: &str, reason: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(ConfigError {
        file: config_path.display().to_string(),
        key: key.into(),
        reason: reason.to_string(),
    })
}

/// Binds the listeners and the admin socket and opens the store. Must run inside the
/// tokio runtime (the Unix listener registers with it).
///
/// # Errors
/// Naming the config key and the reason.
pub fn build(config: Config, config_path: &Path) -> anyhow::Result<Built> {
    let gid = preflight(&config, config_path)?;
    let Config {
        appliance,
        radius: _,
        auth: _,
        admin,
        store: _,
        log: _,
        policy: _,
    } = &config;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(&appliance.state_dir)
        .map_err(|e| {
            config_err(
                config_path,
                "appliance.state_dir",
                format!("{}: {e}", appliance.state_dir.display()),
            )
        })?;
    let store_path = config.store_path();
    let store = Store::open(&store_path, &key_path(&config))
        .map_err(|e| config_err(config_path, "store.path", e))?;
    warn_if_exposed(&store_path);
    let mut listeners = Vec::new();
    for (key, addrs, service) in [
        (
            "radius.auth_listen",
            config.auth_addrs(config_path)?,
            Service::Auth,
        ),
        (
            "radius.acct_listen",
            config.acct_addrs(config_path)?,
            Service::Acct,
        ),
    ] {
        for (i, addr) in addrs.into_iter().enumerate() {
            let l = radius_udp::bind(addr, service).map_err(|e| {
                config_err(
                    config_path,
                    &format!("{key}[{i}]"),
                    format!("cannot bind {addr}: {e}"),
                )
            })?;
            listeners.push(l);
        }
    }
    let admin_listener = admin_server::bind(&admin.socket, gid)
        .map_err(|e| config_err(config_path, "admin.socket", e))?;
    Ok(Built {
        config,
        config_path: config_path.to_path_buf(),
        store,
        listeners,
        admin: admin_listener,
    })
}

fn key_path(config: &Config) -> PathBuf {
    config.appliance.state_dir.join("secret.key")
}

/// Everything start-up checks short of binding and opening, so that `--check-config`
/// refuses what start-up would: a state directory that is a file, an unknown socket
/// group, an admin socket path holding another file, a store or key owned by another uid
/// (whoever owns them could read every secret; break-glass never follows file ownership).
/// Returns the socket group's gid.
///
/// # Errors
/// Naming the config key and the reason.
pub fn preflight(config: &Config, config_path: &Path) -> anyhow::Result<Option<u32>> {
    use std::os::unix::fs::MetadataExt;
    let state_dir = &config.appliance.state_dir;
    if let Ok(m) = std::fs::metadata(state_dir)
        && !m.is_dir()
    {
        return Err(config_err(
            config_path,
            "appliance.state_dir",
            format!("{}: not a directory", state_dir.display()),
        ));
    }
    let group = &config.admin.socket_group;
    let gid = if group.is_empty() {
        None
    } else {
        Some(super::os_identity::group_id(group).ok_or_else(|| {
            config_err(
                config_path,
                "admin.socket_group",
                format!("no group named `{group}`"),
            )
        })?)
    };
    admin_server::check_socket_path(&config.admin.socket)
        .map_err(|e| config_err(config_path, "admin.socket", e))?;
    load_dictionary(config, config_path)?;
    let me = super::os_identity::effective_uid();
    for (key, file) in [
        ("store.path", config.store_path()),
        ("appliance.state_dir", key_path(config)),
    ] {
        let Ok(m) = std::fs::symlink_metadata(&file) else {
            continue;
        };
        if !m.is_file() {
            return Err(config_err(
                config_path,
                key,
                format!("{}: not a regular file", file.display()),
            ));
        }
        if m.uid() != me {
            return Err(config_err(
                config_path,
                key,
                format!(
                    "{}: owned by uid {}, not by the daemon's uid {me}; chown it back or \
                     run the daemon as its owner",
                    file.display(),
                    m.uid()
                ),
            ));
        }
    }
    Ok(gid)
}

/// A store outside the state directory may sit in a directory others can enter; the file
/// itself is 0600, but say so.
fn warn_if_exposed(store_path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = store_path.parent()
        && let Ok(m) = std::fs::metadata(dir)
        && m.permissions().mode() & 0o007 != 0
    {
        tracing::warn!(
            directory = ?dir,
            "the store's directory is open to other users; keep it 0750 or tighter"
        );
    }
}

fn computer_limits(config: &Config) -> ComputerLimits {
    ComputerLimits {
        per_site: config.policy.computers_per_site,
        per_client_per_second: config.policy.computer_registrations_per_second,
    }
}

/// The built-in dictionary with every file of `[radius] dictionary_dir` loaded (in name
/// order); a file that does not load stops start-up with its name and line.
///
/// # Errors
/// The directory or a file cannot be read, or a file is not a dictionary.
pub fn load_dictionary(config: &Config, config_path: &Path) -> anyhow::Result<Dictionary> {
    let mut dictionary = Dictionary::new();
    let Some(dir) = &config.radius.dictionary_dir else {
        return Ok(dictionary);
    };
    let key = "radius.dictionary_dir";
    let entries = std::fs::read_dir(dir)
        .map_err(|e| config_err(config_path, key, format!("{}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| config_err(config_path, key, format!("{}: {e}", file.display())))?;
        dictionary
            .load(&file.display().to_string(), &text)
            .map_err(|e| config_err(config_path, key, e))?;
    }
    Ok(dictionary)
}

/// Every 10 s the policy hit counters are written; every hour computers not seen within
/// their retention are purged.
async fn policy_upkeep(
    radius: Arc<RadiusContext>,
    store: Store,
    policy: crate::config::PolicyConfig,
    mut stop: watch::Receiver<bool>,
) {
    let mut hits = tokio::time::interval(Duration::from_secs(10));
    let mut purge = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = hits.tick() => radius.policies().flush_hits().await,
            _ = purge.tick() => {
                let now = crate::time::now_unix();
                let day = 86_400;
                let op = crate::store::policy::PolicyOp::PurgeComputers {
                    before: now - i64::from(policy.computer_retention_days) * day,
                    randomized_before: now
                        - i64::from(policy.randomized_computer_retention_days) * day,
                };
                match store.write(vec![crate::store::WriteOp::Policy(op)]).await {
                    Ok(s) if s.rows > 0 => tracing::info!(purged = s.rows, "computers purged after their retention"),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "computers not purged"),
                }
            }
        }
    }
    // What was counted since the last tick.
    radius.policies().flush_hits().await;
}

fn settings_of(config: &Config) -> Settings {
    Settings {
        rehash_on_login: config.auth.rehash_on_login,
        default_client_rate_limit: config.radius.default_client_rate_limit,
        stale_after: Duration::from_millis(config.radius.stale_request_ms),
    }
}

/// The RADIUS and admin contexts of a daemon on `store`, as `run` builds them; also the
/// seam through which tests and benchmarks drive the real dispatcher in-process.
///
/// # Errors
/// A store that cannot be read (roles, clients).
pub fn contexts(
    config: &Config,
    config_path: &Path,
    store: Store,
    listeners: Vec<(&'static str, std::net::SocketAddr)>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<RadiusContext>, Arc<AdminContext>)> {
    store
        .set_appliance_site(&config.appliance.site)
        .context("appliance.site")?;
    let directories = Arc::new(DirectoryService::new(store.clone(), Arc::clone(&clock)));
    let radius_ctx = Arc::new(
        RadiusContext::new(
            store.clone(),
            settings_of(config),
            &Limits {
                duplicate_window: Duration::from_secs(config.radius.duplicate_cache_seconds),
                duplicate_entries: config.radius.duplicate_cache_entries,
                cpu_threads: config.auth.hash_workers,
                computers: computer_limits(config),
            },
            Arc::clone(&clock),
        )
        .with_dictionary(load_dictionary(config, config_path)?),
    );
    let admin_ctx = Arc::new(AdminContext::new(AdminParts {
        store: store.clone(),
        sync: directories,
        radius: Arc::clone(&radius_ctx),
        accounts: Arc::new(super::os_identity::SystemAccounts),
        clock,
        appliance: config.appliance.name.clone(),
        site: config.appliance.site.clone(),
        listeners,
        identity: IdentitySettings {
            root_is_super_admin: config.admin.root_is_super_admin,
        },
        daemon_uid: super::os_identity::effective_uid(),
    }));
    // Read once now, so that a store that cannot be read stops start-up here.
    store.clients().context("loading RADIUS clients")?;
    Ok((radius_ctx, admin_ctx))
}

/// Serves until SIGTERM/SIGINT, then drains.
///
/// # Errors
/// Failures to start (signal handlers, the client table).
pub async fn run(built: Built, log: LogHandle) -> anyhow::Result<()> {
    let Built {
        config,
        config_path,
        store,
        listeners,
        admin,
    } = built;
    // Built once now so the first unknown-user check does not pay for it.
    let _ = crate::auth::password::dummy_hash();
    let listener_addrs: Vec<(&'static str, std::net::SocketAddr)> = listeners
        .iter()
        .map(|l| (l.service.as_str(), l.local))
        .collect();
    let (radius_ctx, admin_ctx) = contexts(
        &config,
        &config_path,
        store.clone(),
        listener_addrs.clone(),
        crate::time::system(),
    )?;
    let directories = admin_ctx.sync_service();

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let in_flight = Arc::new(Semaphore::new(config.radius.max_in_flight));
    let mut tasks = JoinSet::new();
    let readers = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    radius_udp::serve(
        listeners,
        Arc::clone(&radius_ctx),
        Arc::clone(&in_flight),
        readers,
        shutdown_rx.clone(),
        &mut tasks,
    )
    .context("starting RADIUS listeners")?;
    tasks.spawn(admin_server::serve(
        admin,
        Arc::clone(&admin_ctx),
        shutdown_rx.clone(),
        config.admin.socket.clone(),
    ));
    tasks.spawn(policy_upkeep(
        Arc::clone(&radius_ctx),
        store.clone(),
        config.policy.clone(),
        shutdown_rx.clone(),
    ));
    tasks.spawn(crate::sync::scheduler::run(
        Arc::clone(&directories),
        store.clone(),
        shutdown_rx.clone(),
    ));
    if let Some(every) = systemd::watchdog_interval() {
        let mut stop = shutdown_rx.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    _ = tick.tick() => systemd::watchdog(),
                }
            }
        });
    }

    let mut hup = signal(SignalKind::hangup()).context("installing SIGHUP handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing SIGINT handler")?;
    for (kind, addr) in &listener_addrs {
        tracing::info!("listening on {kind} {addr}");
    }
    tracing::info!(socket = %config.admin.socket.display(), "admin socket ready");
    tracing::info!(appliance = %config.appliance.name, "ready");
    systemd::ready("serving RADIUS");

    let mut current = config;
    loop {
        tokio::select! {
            _ = hup.recv() => {
                systemd::reloading();
                current = reload(&config_path, current, &radius_ctx, &admin_ctx, &log);
                systemd::reloaded("serving RADIUS");
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }

    tracing::info!("stopping: draining in-flight requests");
    systemd::stopping();
    let _ = shutdown_tx.send(true);
    let max = u32::try_from(current.radius.max_in_flight).unwrap_or(u32::MAX);
    let grace = Duration::from_secs(current.radius.drain_seconds);
    if tokio::time::timeout(grace, in_flight.acquire_many(max))
        .await
        .is_err()
    {
        tracing::warn!(
            available = in_flight.available_permits(),
            "drain deadline passed with requests in flight"
        );
    }
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if let Err(e) = store.flush().await {
        tracing::error!(error = %e, "final store flush failed");
    }
    drop(admin_ctx);
    drop(radius_ctx);
    drop(directories);
    store.close(grace);
    tracing::info!("stopped");
    Ok(())
}

/// Applies a new config where it can change at run time; keeps `old` when invalid.
fn reload(
    path: &Path,
    old: Config,
    radius: &RadiusContext,
    admin: &AdminContext,
    log: &LogHandle,
) -> Config {
    let new = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "reload refused: keeping the running configuration");
            return old;
        }
    };
    if new.radius.auth_listen != old.radius.auth_listen
        || new.radius.acct_listen != old.radius.acct_listen
        || new.admin.socket != old.admin.socket
        || new.appliance.state_dir != old.appliance.state_dir
        || new.store != old.store
    {
        tracing::warn!("listeners, socket, state_dir and store change only on restart");
    }
    if let Err(e) = log.set_level(&new.log.level) {
        tracing::error!(error = %e, "log level not changed");
    }
    radius.set_settings(settings_of(&new));
    radius.policies().set_limits(computer_limits(&new));
    admin.set_identity(IdentitySettings {
        root_is_super_admin: new.admin.root_is_super_admin,
    });
    tracing::info!("configuration reloaded");
    new
}
