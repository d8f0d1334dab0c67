//! The RADIUS client table: which NAS a source address belongs to (longest prefix wins),
//! with its unsealed secret, its rate limiter and its counters.
//!
//! The table follows the store's change feed: the first request after clients changed
//! rebuilds it from the store and swaps it in whole; counters survive the swap because
//! they are keyed by client name.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use super::counters::ClientCounters;
use super::proto::crypto::MacKey;
use super::ratelimit::TokenBucket;
use crate::model::cidr::{IpNet, canonical};
use crate::model::{ClientRecord, Secret};

#[derive(Debug)]
pub struct Client {
    pub name: String,
    pub network: IpNet,
    pub secret: Secret,
    /// The secret keyed for HMAC-MD5 once, for every Message-Authenticator.
    pub mac_key: MacKey,
    pub site: String,
    pub require_message_authenticator: bool,
    pub counters: Arc<ClientCounters>,
    /// `radius:NAME`, the actor of this client's audit records.
    pub audit_actor: String,
    /// The opening of this client's audit details, `{"client":…,"site":…`, escaped once
    /// here rather than on every request.
    pub audit_detail_prefix: String,
    limiter: Option<Mutex<TokenBucket>>,
}

impl Client {
    /// Whether this request fits in the client's rate limit.
    #[must_use]
    pub fn admit(&self, now: Instant) -> bool {
        match &self.limiter {
            None => true,
            Some(bucket) => bucket.lock().map_or(true, |mut b| b.try_take(now)),
        }
    }
}

#[derive(Debug, Default)]
pub struct ClientTable {
    hosts: HashMap<IpAddr, Arc<Client>>,
    /// Networks, longest prefix first.
    networks: Vec<Arc<Client>>,
}

impl ClientTable {
    #[must_use]
    pub fn lookup(&self, ip: IpAddr) -> Option<&Arc<Client>> {
        let ip = canonical(ip);
        self.hosts
            .get(&ip)
            .or_else(|| self.networks.iter().find(|c| c.network.contains(ip)))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.hosts.values().chain(self.networks.iter())
    }
}

/// The live table plus the counters that outlive rebuilds.
#[derive(Debug)]
pub struct Clients {
    table: RwLock<Arc<ClientTable>>,
    counters: Mutex<HashMap<String, Arc<ClientCounters>>>,
    /// The feed generation the table was built at; `NEVER` forces a rebuild.
    built_at: AtomicU64,
    rebuilding: Mutex<()>,
}

const NEVER: u64 = u64::MAX;

impl Default for Clients {
    fn default() -> Self {
        Self {
            table: RwLock::default(),
            counters: Mutex::default(),
            built_at: AtomicU64::new(NEVER),
            rebuilding: Mutex::new(()),
        }
    }
}

impl Clients {
    #[must_use]
    pub fn current(&self) -> Arc<ClientTable> {
        self.table
            .read()
            .map_or_else(|p| Arc::clone(&p.into_inner()), |t| Arc::clone(&t))
    }

    /// The table as of `generation` of the clients in the store: rebuilt with `records`
    /// first when it was built at another one. One caller rebuilds; others wait for it.
    pub fn at<E>(
        &self,
        generation: u64,
        records: impl FnOnce() -> Result<Vec<ClientRecord>, E>,
        default_rate_limit: u32,
        now: Instant,
    ) -> Result<Arc<ClientTable>, E> {
        if self.built_at.load(Ordering::Acquire) != generation {
            let _one = self.rebuilding.lock();
            if self.built_at.load(Ordering::Acquire) != generation {
                self.replace(records()?, default_rate_limit, now);
                self.built_at.store(generation, Ordering::Release);
            }
        }
        Ok(self.current())
    }

    /// Makes the next [`at`](Self::at) rebuild (a setting the table depends on changed).
    pub fn invalidate(&self) {
        self.built_at.store(NEVER, Ordering::Release);
    }

    /// Replaces the table. Records whose address does not parse are skipped and logged
    /// (the admin handlers validate addresses, so this only guards against a bad store).
    pub fn replace(&self, records: Vec<ClientRecord>, default_rate_limit: u32, now: Instant) {
        let mut counters = match self.counters.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        };
        let mut table = ClientTable::default();
        for rec in records {
            let network = match rec.address.parse::<IpNet>() {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(client = %rec.name, error = %e, "skipping client with a bad address");
                    continue;
                }
            };
            let Some(mac_key) = MacKey::new(rec.secret.expose()) else {
                tracing::error!(client = %rec.name, "client skipped: its secret cannot key HMAC-MD5");
                continue;
            };
            let rate = rec.rate_limit.unwrap_or(default_rate_limit);
            let audit_detail_prefix = format!(
                "{{\"client\":{},\"site\":{}",
                serde_json::Value::from(rec.name.as_str()),
                serde_json::Value::from(rec.site.as_str())
            );
            let client = Arc::new(Client {
                counters: Arc::clone(counters.entry(rec.name.clone()).or_default()),
                audit_actor: format!("radius:{}", rec.name),
                audit_detail_prefix,
                name: rec.name,
                network,
                secret: rec.secret,
                mac_key,
                site: rec.site,
                require_message_authenticator: rec.require_message_authenticator,
                limiter: (rate > 0).then(|| Mutex::new(TokenBucket::new(rate, now))),
            });
            if network.is_host() {
                table.hosts.insert(network.addr(), client);
            } else {
                table.networks.push(client);
            }
        }
        table
            .networks
            .sort_by_key(|c| std::cmp::Reverse(c.network.prefix()));
        let live: std::collections::HashSet<&str> = table.iter().map(|c| c.name.as_str()).collect();
        counters.retain(|name, _| live.contains(name.as_str()));
        match self.table.write() {
            Ok(mut t) => *t = Arc::new(table),
            Err(p) => *p.into_inner() = Arc::new(table),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, addr: &str) -> ClientRecord {
        ClientRecord {
            name: name.into(),
            address: addr.into(),
            secret: Secret::new(b"s".to_vec()),
            site: "HQ".into(),
            require_message_authenticator: true,
            rate_limit: None,
            created_by: "root".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let clients = Clients::default();
        clients.replace(
            vec![
                rec("wide", "10.0.0.0/8"),
                rec("narrow", "10.1.0.0/16"),
                rec("host", "10.1.2.3"),
                rec("v6", "::1"),
            ],
            0,
            Instant::now(),
        );
        let t = clients.current();
        let name = |ip: &str| t.lookup(ip.parse().unwrap()).map(|c| c.name.clone());
        assert_eq!(name("10.9.9.9").as_deref(), Some("wide"));
        assert_eq!(name("10.1.9.9").as_deref(), Some("narrow"));
        assert_eq!(name("10.1.2.3").as_deref(), Some("host"));
        assert_eq!(name("::1").as_deref(), Some("v6"));
        assert_eq!(name("192.0.2.1"), None);
    }

    #[test]
    fn counters_survive_reload() {
        let clients = Clients::default();
        clients.replace(vec![rec("a", "127.0.0.1")], 0, Instant::now());
        let c = Arc::clone(
            &clients
                .current()
                .lookup("127.0.0.1".parse().unwrap())
                .unwrap()
                .counters,
        );
        super::super::counters::bump(&c.requests);
        clients.replace(
            vec![rec("a", "127.0.0.1"), rec("b", "::1")],
            0,
            Instant::now(),
        );
        let t = clients.current();
        let again = &t.lookup("127.0.0.1".parse().unwrap()).unwrap().counters;
        assert_eq!(again.snapshot().requests, 1);
    }
}
