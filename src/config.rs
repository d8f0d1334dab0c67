//! Configuration: TOML files layered with `GATEHOUSE_…` environment overrides.
//!
//! Invariants: unknown keys are errors (every struct denies them), every error names the
//! file, the key and the reason, and scalar keys only come from the environment — lists
//! and secrets are read from files alone (the `config` crate's `try_parsing` would mangle
//! values such as `0123`, so it stays off).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Default location of the production configuration file.
pub const DEFAULT_PATH: &str = "/etc/gatehouse/gatehouse.toml";

/// A configuration problem, always pointing at the file and key responsible.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {reason}")]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    fn new(file: &Path, key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            key: key.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub appliance: ApplianceConfig,
    #[serde(default)]
    pub radius: RadiusConfig,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub policy: PolicyConfig,
}

/// How computers are registered and kept (product §6).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Computers not seen for this many days are purged.
    pub computer_retention_days: u32,
    /// The same for computers with randomised (locally administered) MACs, which phones
    /// change per network and per day.
    pub randomized_computer_retention_days: u32,
    /// Computers stored per site at most; past it requests are decided under the policy
    /// the rules give, and nothing more is stored.
    pub computers_per_site: u32,
    /// New computers one RADIUS client may register per second (twice that in a burst).
    pub computer_registrations_per_second: u32,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            computer_retention_days: 90,
            randomized_computer_retention_days: 7,
            computers_per_site: 100_000,
            computer_registrations_per_second: 100,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApplianceConfig {
    pub name: String,
    #[serde(default = "default_site")]
    pub site: String,
    pub state_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RadiusConfig {
    pub auth_listen: Vec<String>,
    pub acct_listen: Vec<String>,
    /// RFC 5080 duplicate-detection window.
    pub duplicate_cache_seconds: u64,
    /// Upper bound on cached replies, so a flood cannot grow memory without limit.
    pub duplicate_cache_entries: usize,
    /// Requests being worked on at once; past it new requests are dropped (clients retry).
    pub max_in_flight: usize,
    /// Requests per second per client when the client sets no limit of its own; 0 = none.
    pub default_client_rate_limit: u32,
    /// How long SIGTERM waits for in-flight requests.
    pub drain_seconds: u64,
    /// A request that waited longer than this (milliseconds) for a CPU thread is dropped
    /// unanswered: its NAS has retransmitted or given up.
    pub stale_request_ms: u64,
    /// Further RADIUS dictionaries in FreeRADIUS format (every file of the directory),
    /// for reply attributes by name.
    pub dictionary_dir: Option<PathBuf>,
}

impl Default for RadiusConfig {
    fn default() -> Self {
        Self {
            auth_listen: vec!["0.0.0.0:1812".into(), "[::]:1812".into()],
            acct_listen: vec!["0.0.0.0:1813".into(), "[::]:1813".into()],
            duplicate_cache_seconds: 30,
            duplicate_cache_entries: 65_536,
            max_in_flight: 4096,
            default_client_rate_limit: 0,
            drain_seconds: 5,
            stale_request_ms: 3000,
            dictionary_dir: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Imported crypt/SSHA hashes become argon2id on the next successful login.
    pub rehash_on_login: bool,
    /// Threads that verify password hashes; 0 = one per CPU.
    pub hash_workers: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            rehash_on_login: true,
            hash_workers: 0,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub socket: PathBuf,
    /// Group that may connect to the socket (mode 0660); empty = the daemon's own group.
    pub socket_group: String,
    /// uid 0 acts as the built-in break-glass Super Administrator.
    pub root_is_super_admin: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            socket: PathBuf::from("/run/gatehouse/admin.sock"),
            socket_group: String::new(),
            root_is_super_admin: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// SQLite file; empty = `gatehouse.db` in the state directory.
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `gatehouse=debug,info`…
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
        }
    }
}

fn default_site() -> String {
    "default".into()
}

impl Config {
    /// Loads `path`, applies `GATEHOUSE_SECTION__KEY` overrides, and validates the result.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, the key and the reason.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, "-", format!("cannot read: {e}")))?;
        Self::from_toml_with_env(path, &text, std::env::vars())
    }

    /// Parses `text` (read from `path`) with the given environment; the seam for tests.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the file, the key and the reason.
    pub fn from_toml_with_env(
        path: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        // Check the file alone first so that a bad key is blamed on the file, not the env.
        let file_value: toml::Table = toml::from_str(text).map_err(|e| {
            let key = e
                .span()
                .map(|s| {
                    let line = text.get(..s.start).map_or(1, |t| t.lines().count().max(1));
                    format!("line {line}")
                })
                .unwrap_or_else(|| "-".into());
            ConfigError::new(path, key, e.message().to_string())
        })?;
        // Only GATEHOUSE_SECTION__KEY names configuration; other GATEHOUSE_ variables
        // (gatehousectl's GATEHOUSE_ADMIN_SOCKET) belong to other programs.
        let env: std::collections::HashMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("GATEHOUSE_") && k.contains("__"))
            .collect();
        for key in env.keys() {
            check_env_key(key, &file_value)?;
        }
        let built = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("GATEHOUSE")
                    .prefix_separator("_")
                    .separator("__")
                    .source(Some(env)),
            )
            .build()
            .map_err(|e| from_config_error(path, &e))?;
        let cfg: Config = built
            .try_deserialize()
            .map_err(|e| from_config_error(path, &e))?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        if self.appliance.name.trim().is_empty() {
            return Err(ConfigError::new(
                path,
                "appliance.name",
                "must not be empty",
            ));
        }
        if self.appliance.state_dir.as_os_str().is_empty() {
            return Err(ConfigError::new(
                path,
                "appliance.state_dir",
                "must not be empty",
            ));
        }
        self.auth_addrs(path)?;
        self.acct_addrs(path)?;
        // Every number has a range an appliance can honour: a value past it would fail
        // (or panic) only once the daemon runs, so it is refused here by name.
        let r = &self.radius;
        let p = &self.policy;
        let bounds: [(&str, u64, u64, u64); 11] = [
            ("radius.max_in_flight", as_u64(r.max_in_flight), 1, 1 << 20),
            (
                "radius.duplicate_cache_entries",
                as_u64(r.duplicate_cache_entries),
                1,
                1 << 24,
            ),
            (
                "radius.duplicate_cache_seconds",
                r.duplicate_cache_seconds,
                0,
                3600,
            ),
            (
                "radius.default_client_rate_limit",
                u64::from(r.default_client_rate_limit),
                0,
                1_000_000,
            ),
            ("radius.drain_seconds", r.drain_seconds, 0, 300),
            ("radius.stale_request_ms", r.stale_request_ms, 100, 60_000),
            ("auth.hash_workers", as_u64(self.auth.hash_workers), 0, 256),
            (
                "policy.computer_retention_days",
                u64::from(p.computer_retention_days),
                1,
                36_500,
            ),
            (
                "policy.randomized_computer_retention_days",
                u64::from(p.randomized_computer_retention_days),
                1,
                36_500,
            ),
            (
                "policy.computers_per_site",
                u64::from(p.computers_per_site),
                0,
                10_000_000,
            ),
            (
                "policy.computer_registrations_per_second",
                u64::from(p.computer_registrations_per_second),
                0,
                1_000_000,
            ),
        ];
        for (key, value, min, max) in bounds {
            if !(min..=max).contains(&value) {
                return Err(ConfigError::new(
                    path,
                    key,
                    format!("{value} is out of range (allowed {min}..={max})"),
                ));
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(ConfigError::new(
                path,
                "log.level",
                format!(
                    "`{}` is not a log filter (try info or debug)",
                    self.log.level
                ),
            ));
        }
        Ok(())
    }

    /// `radius.auth_listen`, parsed. A config from [`Config::load`] always parses (it
    /// was refused otherwise); `path` names the file in the error all the same.
    ///
    /// # Errors
    /// The first entry that is not an address:port, by key (`radius.auth_listen[1]`).
    pub fn auth_addrs(&self, path: &Path) -> Result<Vec<SocketAddr>, ConfigError> {
        parse_addrs(path, "radius.auth_listen", &self.radius.auth_listen)
    }

    /// `radius.acct_listen`, parsed, as [`auth_addrs`](Self::auth_addrs).
    ///
    /// # Errors
    /// The first entry that is not an address:port, by key.
    pub fn acct_addrs(&self, path: &Path) -> Result<Vec<SocketAddr>, ConfigError> {
        parse_addrs(path, "radius.acct_listen", &self.radius.acct_listen)
    }

    /// The SQLite file: `[store] path`, or `gatehouse.db` in the state directory.
    #[must_use]
    pub fn store_path(&self) -> PathBuf {
        self.store
            .path
            .clone()
            .unwrap_or_else(|| self.appliance.state_dir.join("gatehouse.db"))
    }
}

fn parse_addrs(path: &Path, key: &str, list: &[String]) -> Result<Vec<SocketAddr>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(i, addr)| {
            addr.parse().map_err(|_| {
                ConfigError::new(
                    path,
                    format!("{key}[{i}]"),
                    format!("`{addr}` is not an address:port (use [::]:1812 for IPv6)"),
                )
            })
        })
        .collect()
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Environment keys that are lists or unknown are refused by name rather than ignored.
fn check_env_key(key: &str, file: &toml::Table) -> Result<(), ConfigError> {
    const LIST_KEYS: &[&str] = &["radius.auth_listen", "radius.acct_listen"];
    const SECRET_WORDS: &[&str] = &["secret", "password", "key"];
    let env_path = Path::new("environment");
    let Some(rest) = key.strip_prefix("GATEHOUSE_") else {
        return Ok(());
    };
    let dotted = rest.to_ascii_lowercase().replace("__", ".");
    if LIST_KEYS.contains(&dotted.as_str()) {
        return Err(ConfigError::new(
            env_path,
            key,
            "lists can only be set in the configuration file",
        ));
    }
    if SECRET_WORDS.iter().any(|w| dotted.ends_with(w)) {
        return Err(ConfigError::new(
            env_path,
            key,
            "secrets are never read from the environment",
        ));
    }
    let Some((section, field)) = dotted.split_once('.') else {
        return Err(ConfigError::new(
            env_path,
            key,
            "expected GATEHOUSE_SECTION__KEY",
        ));
    };
    let known = KNOWN_KEYS
        .iter()
        .any(|(s, f)| *s == section && (*f == field));
    let in_file = file
        .get(section)
        .and_then(toml::Value::as_table)
        .is_some_and(|t| t.contains_key(field));
    if !known && !in_file {
        return Err(ConfigError::new(env_path, key, "unknown configuration key"));
    }
    Ok(())
}

const KNOWN_KEYS: &[(&str, &str)] = &[
    ("appliance", "name"),
    ("appliance", "site"),
    ("appliance", "state_dir"),
    ("radius", "duplicate_cache_seconds"),
    ("radius", "duplicate_cache_entries"),
    ("radius", "max_in_flight"),
    ("radius", "default_client_rate_limit"),
    ("radius", "drain_seconds"),
    ("radius", "stale_request_ms"),
    ("auth", "rehash_on_login"),
    ("auth", "hash_workers"),
    ("admin", "socket"),
    ("admin", "socket_group"),
    ("admin", "root_is_super_admin"),
    ("store", "path"),
    ("log", "level"),
];

fn from_config_error(path: &Path, err: &config::ConfigError) -> ConfigError {
    // The config crate folds the key into its message; pull it out so every error has
    // the same three-part shape.
    let msg = err.to_string();
    let quoted_after = |marker: &str| {
        msg.split_once(marker)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(k, _)| k.to_string())
    };
    let section = quoted_after("for key `");
    let field = quoted_after("unknown field `");
    let key = match (section, field) {
        (Some(s), Some(f)) => format!("{s}.{f}"),
        (Some(k), None) | (None, Some(k)) => k,
        (None, None) => "-".to_string(),
    };
    let reason = msg
        .split_once(" for key `")
        .map_or(msg.as_str(), |(r, _)| r)
        .to_string();
    ConfigError::new(path, key, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "[appliance]\nname = \"t\"\nstate_dir = \"/tmp/x\"\n";

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_toml_with_env(
            Path::new("test.toml"),
            text,
            env.iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        )
    }

    #[test]
    fn every_shipped_config_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                Config::from_toml_with_env(&path, &text, std::iter::empty())
                    .unwrap_or_else(|e| panic!("{e}"));
                seen += 1;
            }
        }
        assert!(seen >= 2, "expected conf/gatehouse.toml and conf/dev.toml");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = parse(&format!("{MINIMAL}[radius]\nauth_prot = 5\n"), &[]).unwrap_err();
        assert_eq!(err.key, "radius.auth_prot", "{err}");
        assert_eq!(err.file, "test.toml");
        let err = parse(&format!("{MINIMAL}[radios]\nx = 1\n"), &[]).unwrap_err();
        assert_eq!(err.key, "radios", "{err}");
    }

    #[test]
    fn env_overrides_scalars_but_not_lists_or_unknown_keys() {
        let cfg = parse(MINIMAL, &[("GATEHOUSE_LOG__LEVEL", "debug")]).unwrap();
        assert_eq!(cfg.log.level, "debug");
        let cfg = parse(
            MINIMAL,
            &[("GATEHOUSE_RADIUS__DUPLICATE_CACHE_SECONDS", "7")],
        )
        .unwrap();
        assert_eq!(cfg.radius.duplicate_cache_seconds, 7);
        let err = parse(MINIMAL, &[("GATEHOUSE_RADIUS__AUTH_LISTEN", "1.2.3.4:1")]).unwrap_err();
        assert_eq!(err.file, "environment");
        let err = parse(MINIMAL, &[("GATEHOUSE_LOG__LEVLE", "debug")]).unwrap_err();
        assert!(err.reason.contains("unknown"), "{err}");
        // Another program's variable is not configuration.
        assert!(parse(MINIMAL, &[("GATEHOUSE_ADMIN_SOCKET", "/tmp/x.sock")]).is_ok());
        let err = parse(MINIMAL, &[("GATEHOUSE_NOSUCH__THING", "1")]).unwrap_err();
        assert!(err.reason.contains("unknown"), "{err}");
    }

    #[test]
    fn env_values_stay_byte_exact() {
        let cfg = parse(MINIMAL, &[("GATEHOUSE_APPLIANCE__NAME", "0123")]).unwrap();
        assert_eq!(cfg.appliance.name, "0123");
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = parse(
            &format!("{MINIMAL}[radius]\nauth_listen = [\"nope\"]\n"),
            &[],
        )
        .unwrap_err();
        assert_eq!(err.key, "radius.auth_listen[0]", "{err}");
        let err = parse(&format!("{MINIMAL}[radius]\nmax_in_flight = \"x\"\n"), &[]).unwrap_err();
        assert!(err.key.contains("max_in_flight"), "{err}");
        let err = parse("[appliance]\nname = \"t\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("state_dir"), "{err}");
    }
}
