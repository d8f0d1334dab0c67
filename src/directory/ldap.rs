//! The LDAP wire side: connect with failover and TLS, bind, and fetch entries with RFC 2696
//! paging. ldap3 panics on malformed entries (`SearchEntry::construct`), so entries are
//! decoded under `catch_unwind` and a bad one fails the fetch instead of the daemon.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use ldap3::adapters::{EntriesOnly, PagedResults};
use ldap3::{
    Ldap, LdapConnAsync, LdapConnSettings, LdapError, ResultEntry, Scope, SearchEntry, SearchResult,
};
use rustls::ClientConfig;

use super::map::RawEntry;
use super::spec::DirectorySpec;
use crate::tls::client::{TlsError, client_config, empty_config};

#[derive(Debug, thiserror::Error)]
pub enum LdapFailure {
    #[error("cannot reach {urls}: {reason}")]
    Connect { urls: String, reason: String },
    #[error("bind as {dn} failed: {reason}")]
    Bind { dn: String, reason: String },
    /// The server answered the bind with an error: wrong password, disabled account…
    #[error("bind as {dn} refused: {reason}")]
    Refused { dn: String, reason: String },
    #[error("search of {base} failed: {reason}")]
    Search { base: String, reason: String },
    #[error(
        "the server's size limit stopped the search of {base} after {entries} entries: turn paging on (--page-size 500)"
    )]
    SizeLimit { base: String, entries: usize },
    #[error("{0} timed out")]
    Timeout(String),
    #[error("the server sent a malformed entry")]
    MalformedEntry,
}

/// How to reach a directory.
#[derive(Clone)]
pub struct Connector {
    pub urls: Vec<String>,
    pub starttls: bool,
    pub tls: Arc<ClientConfig>,
    pub connect_timeout: Duration,
    pub op_timeout: Duration,
}

/// Decodes an entry, attribute names lower-cased. ldap3 panics on a malformed one: caught
/// here, so that it fails the operation and not the daemon.
fn decode(re: ResultEntry) -> Result<RawEntry, LdapFailure> {
    let entry = catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(re)))
        .map_err(|_| LdapFailure::MalformedEntry)?;
    Ok(RawEntry {
        dn: entry.dn,
        attrs: entry
            .attrs
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
    })
}

/// Makes TLS errors readable: rustls's certificate complaints are what operators need.
fn describe(e: &LdapError) -> String {
    let s = e.to_string();
    if s.contains("invalid peer certificate")
        || s.contains("UnknownIssuer")
        || s.contains("certificate")
    {
        format!(
            "TLS: the server certificate is not trusted ({s}); trust its CA with `gatehousectl cert trust` and name it with --ca"
        )
    } else {
        s
    }
}

impl Connector {
    /// A connector for `spec`, trusting `roots` (trusted certificates by name, DER), or
    /// the system roots when none are named and TLS is in play.
    ///
    /// # Errors
    /// A root rustls refuses, or an empty system store.
    pub fn for_spec(spec: &DirectorySpec, roots: &[(String, Vec<u8>)]) -> Result<Self, TlsError> {
        let needs_tls = spec.starttls
            || spec
                .urls
                .iter()
                .any(|u| u.to_ascii_lowercase().starts_with("ldaps://"));
        // Without TLS in play the roots are never consulted: no need for a system store.
        let tls = if roots.is_empty() && !needs_tls {
            empty_config()?
        } else {
            client_config(roots)?
        };
        Ok(Connector {
            urls: spec.urls.clone(),
            starttls: spec.starttls,
            tls,
            connect_timeout: Duration::from_secs(spec.connect_timeout_secs),
            op_timeout: Duration::from_secs(spec.search_timeout_secs),
        })
    }

    /// Connects to the first URL that answers and starts the connection driver.
    ///
    /// # Errors
    /// [`LdapFailure::Connect`] naming every URL tried with the last reason.
    pub async fn connect(&self) -> Result<(Ldap, String), LdapFailure> {
        let mut last = String::from("no URL configured");
        for url in &self.urls {
            let settings = LdapConnSettings::new()
                .set_conn_timeout(self.connect_timeout)
                .set_starttls(self.starttls)
                .set_config(Arc::clone(&self.tls));
            let attempt = tokio::time::timeout(
                self.connect_timeout + Duration::from_secs(1),
                LdapConnAsync::with_settings(settings, url),
            )
            .await;
            match attempt {
                Ok(Ok((conn, ldap))) => {
                    let url_for_log = url.clone();
                    tokio::spawn(async move {
                        if let Err(e) = conn.drive().await {
                            tracing::debug!(url = %url_for_log, error = %e, "LDAP connection ended");
                        }
                    });
                    return Ok((ldap, url.clone()));
                }
                Ok(Err(e)) => {
                    last = describe(&e);
                    tracing::warn!(%url, error = %last, "LDAP server unreachable, trying the next one");
                }
                Err(_) => {
                    last = format!("connect to {url} timed out");
                    tracing::warn!(%url, "LDAP connect timed out, trying the next one");
                }
            }
        }
        Err(LdapFailure::Connect {
            urls: self.urls.join(", "),
            reason: last,
        })
    }

    /// Simple bind. An empty password would be an unauthenticated bind that "succeeds"
    /// (RFC 4513 §5.1.2), so it is refused before anything is sent.
    ///
    /// # Errors
    /// [`LdapFailure::Bind`] or [`LdapFailure::Timeout`].
    pub async fn bind(
        &self,
        ldap: &mut Ldap,
        dn: &str,
        password: &[u8],
    ) -> Result<(), LdapFailure> {
        let pw = std::str::from_utf8(password).map_err(|_| LdapFailure::Refused {
            dn: dn.into(),
            reason: "password is not UTF-8".into(),
        })?;
        if pw.is_empty() {
            return Err(LdapFailure::Refused {
                dn: dn.into(),
                reason: "empty password".into(),
            });
        }
        let res = tokio::time::timeout(
            self.op_timeout,
            ldap.with_timeout(self.op_timeout).simple_bind(dn, pw),
        )
        .await
        .map_err(|_| LdapFailure::Timeout(format!("bind as {dn}")))?
        .map_err(|e| match e {
            // ldap3's own deadline (the same op_timeout) usually fires first: still a
            // timeout, which callers treat apart from a failed bind.
            LdapError::Timeout { .. } => LdapFailure::Timeout(format!("bind as {dn}")),
            e => LdapFailure::Bind {
                dn: dn.into(),
                reason: describe(&e),
            },
        })?;
        if res.rc == 0 {
            Ok(())
        } else {
            let reason = if res.rc == 49 {
                "invalid credentials".to_string()
            } else {
                format!("result code {}: {}", res.rc, res.text)
            };
            Err(LdapFailure::Refused {
                dn: dn.into(),
                reason,
            })
        }
    }

    /// Fetches every entry under `base` matching `filter`, `page_size` at a time (0 = no
    /// paging), handing each to `on_entry` as it arrives (a 100,000-entry directory never
    /// sits in memory twice) and calling `progress(entries)` after each page's worth.
    ///
    /// # Errors
    /// Search failures, size limits (with a hint to page), timeouts, malformed entries.
    #[allow(clippy::too_many_arguments)]
    pub async fn fetch_each(
        &self,
        ldap: &mut Ldap,
        base: &str,
        filter: &str,
        attrs: &[String],
        page_size: u32,
        mut on_entry: impl FnMut(RawEntry),
        mut progress: impl FnMut(usize),
    ) -> Result<usize, LdapFailure> {
        let search_err = |reason: String| LdapFailure::Search {
            base: base.into(),
            reason,
        };
        let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
        let mut stream = if page_size > 0 {
            let adapters: Vec<Box<dyn ldap3::adapters::Adapter<'_, &str, Vec<&str>>>> = vec![
                Box::new(EntriesOnly::new()),
                Box::new(PagedResults::new(i32::try_from(page_size).unwrap_or(1000))),
            ];
            ldap.with_timeout(self.op_timeout)
                .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
                .await
        } else {
            ldap.with_timeout(self.op_timeout)
                .streaming_search(base, Scope::Subtree, filter, attrs)
                .await
        }
        .map_err(|e| search_err(describe(&e)))?;
        let mut count = 0usize;
        loop {
            let next = tokio::time::timeout(self.op_timeout, stream.next())
                .await
                .map_err(|_| LdapFailure::Timeout(format!("search of {base}")))?
                .map_err(|e| search_err(describe(&e)))?;
            let Some(re) = next else { break };
            if re.is_ref() || re.is_intermediate() {
                continue; // referrals are not chased
            }
            on_entry(decode(re)?);
            count += 1;
            let step = usize::try_from(page_size.max(100)).unwrap_or(100);
            if count.is_multiple_of(step) {
                progress(count);
            }
        }
        let res = stream.finish().await;
        progress(count);
        match res.rc {
            0 => Ok(count),
            4 => Err(LdapFailure::SizeLimit {
                base: base.into(),
                entries: count,
            }),
            32 => Err(search_err(format!("no such object: {base} does not exist"))),
            rc => Err(search_err(format!("result code {rc}: {}", res.text))),
        }
    }

    /// The entry `dn` itself (a base search) with `attrs`: to read a group's own groups, or
    /// the next range of an attribute. `None` when this server does not hold it: no such
    /// object, or a referral to another domain of the forest (referrals are not chased).
    ///
    /// # Errors
    /// Search failures, timeouts, a malformed entry.
    pub async fn read_entry(
        &self,
        ldap: &mut Ldap,
        dn: &str,
        attrs: &[String],
    ) -> Result<Option<RawEntry>, LdapFailure> {
        let search_err = |reason: String| LdapFailure::Search {
            base: dn.into(),
            reason,
        };
        let attrs: Vec<&str> = attrs.iter().map(String::as_str).collect();
        let SearchResult(entries, res) = tokio::time::timeout(
            self.op_timeout,
            ldap.with_timeout(self.op_timeout)
                .search(dn, Scope::Base, "(objectClass=*)", attrs),
        )
        .await
        .map_err(|_| LdapFailure::Timeout(format!("read of {dn}")))?
        .map_err(|e| search_err(describe(&e)))?;
        match res.rc {
            0 => entries.into_iter().next().map(decode).transpose(),
            10 | 32 => Ok(None),
            rc => Err(search_err(format!("result code {rc}: {}", res.text))),
        }
    }
}
