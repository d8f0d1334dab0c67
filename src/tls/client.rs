//! rustls client configurations (aws-lc-rs provider) that trust exactly the roots given:
//! the administrator's trusted certificates, or the system store when none are named.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("trusted certificate {name}: {reason}")]
    BadRoot { name: String, reason: String },
    #[error("no usable system root certificates: {0}")]
    NoSystemRoots(String),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// A client configuration trusting `roots` (name, DER). With no roots, the system store.
///
/// # Errors
/// A root that rustls refuses, or an empty system store.
pub fn client_config(roots: &[(String, Vec<u8>)]) -> Result<Arc<ClientConfig>, TlsError> {
    let mut store = RootCertStore::empty();
    if roots.is_empty() {
        let loaded = rustls_native_certs::load_native_certs();
        for cert in loaded.certs {
            let _ = store.add(cert);
        }
        if store.is_empty() {
            return Err(TlsError::NoSystemRoots(loaded.errors.first().map_or_else(
                || "the store is empty".to_string(),
                ToString::to_string,
            )));
        }
    } else {
        for (name, der) in roots {
            store
                .add(CertificateDer::from(der.clone()))
                .map_err(|e| TlsError::BadRoot {
                    name: name.clone(),
                    reason: e.to_string(),
                })?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A configuration that trusts nothing: for connections that never start TLS.
///
/// # Errors
/// Only if the provider cannot build a default configuration.
pub fn empty_config() -> Result<Arc<ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))?
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    ))
}
