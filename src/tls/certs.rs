//! Inspection of certificates an administrator uploads: PEM or DER in, the facts an
//! operator checks (subject, issuer, serial, validity, SHA-256 fingerprint, CA flag) out,
//! with warnings for expired and non-CA certificates. Malformed input is refused with the
//! reason. Pure: `now` is a parameter.

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::time::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: UnixTime,
    pub not_after: UnixTime,
    pub sha256_fingerprint: String,
    pub is_ca: bool,
    pub self_signed: bool,
    #[serde(skip)]
    pub der: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("not a certificate: the file is neither PEM (-----BEGIN CERTIFICATE-----) nor DER")]
    NotACertificate,
    #[error("PEM block {index}: {reason}")]
    BadPem { index: usize, reason: String },
    #[error("malformed certificate: {0}")]
    Malformed(String),
    #[error("the file holds {0} certificates; trust them one at a time")]
    SeveralCertificates(usize),
    #[error("the PEM file holds no CERTIFICATE block (found {0})")]
    NoCertificateBlock(String),
}

fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Parses one DER certificate.
///
/// # Errors
/// [`CertError::Malformed`] with the parser's reason, or trailing data.
pub fn inspect_der(der: &[u8]) -> Result<CertInfo, CertError> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| CertError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertError::Malformed(format!(
            "{} bytes after the certificate",
            rest.len()
        )));
    }
    let validity = cert.validity();
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: hex_colon(cert.raw_serial()),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        sha256_fingerprint: hex_colon(&Sha256::digest(der)),
        is_ca: cert.is_ca(),
        self_signed: cert.subject() == cert.issuer(),
        der: der.to_vec(),
    })
}

/// Whether a PEM upload carries a private key block (`PRIVATE KEY`, `RSA PRIVATE KEY`,
/// `EC PRIVATE KEY`…): it must never travel to the daemon or into the trust store.
#[must_use]
pub fn holds_private_key(bytes: &[u8]) -> bool {
    const MARK: &[u8] = b"PRIVATE KEY-----";
    bytes.windows(MARK.len()).any(|w| w == MARK)
}

/// Parses a file's bytes as one PEM or DER certificate.
///
/// # Errors
/// A [`CertError`] naming what is wrong.
pub fn inspect(bytes: &[u8]) -> Result<CertInfo, CertError> {
    let text_start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if bytes
        .get(text_start..)
        .is_some_and(|b| b.starts_with(b"-----BEGIN"))
    {
        let mut certs = Vec::new();
        let mut others = Vec::new();
        for (index, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
            let pem = pem.map_err(|e| CertError::BadPem {
                index: index + 1,
                reason: e.to_string(),
            })?;
            if pem.label == "CERTIFICATE" {
                certs.push(pem.contents);
            } else {
                others.push(pem.label);
            }
        }
        return match certs.len() {
            0 => Err(CertError::NoCertificateBlock(others.join(", "))),
            1 => inspect_der(&certs[0]),
            n => Err(CertError::SeveralCertificates(n)),
        };
    }
    // DER starts with a SEQUENCE tag.
    if bytes.first() == Some(&0x30) {
        return inspect_der(bytes);
    }
    Err(CertError::NotACertificate)
}

impl CertInfo {
    /// Things an operator should hear about before trusting this certificate.
    #[must_use]
    pub fn warnings(&self, now: UnixTime) -> Vec<String> {
        let mut w = Vec::new();
        if now > self.not_after {
            w.push("the certificate has expired".to_string());
        } else if self.not_after - now < 30 * 86_400 {
            w.push(format!(
                "the certificate expires in {} days",
                (self.not_after - now) / 86_400
            ));
        }
        if now < self.not_before {
            w.push("the certificate is not valid yet".to_string());
        }
        if !self.is_ca {
            w.push("the certificate is not a CA: it can only be trusted as a pinned server certificate".to_string());
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../../tests/fixtures/certs/ca.pem");
    const LEAF: &str = include_str!("../../tests/fixtures/certs/leaf.pem");
    const EXPIRED: &str = include_str!("../../tests/fixtures/certs/expired.pem");

    #[test]
    fn inspects_pem_and_der() {
        let ca = inspect(CA.as_bytes()).unwrap();
        assert!(ca.is_ca && ca.self_signed);
        assert!(ca.subject.contains("Gatehouse Test CA"), "{}", ca.subject);
        assert_eq!(ca.sha256_fingerprint.len(), 32 * 3 - 1);
        let der = inspect(&ca.der).unwrap();
        assert_eq!(der, ca);
        let leaf = inspect(LEAF.as_bytes()).unwrap();
        assert!(!leaf.is_ca);
        assert!(
            leaf.warnings(1_800_000_000)
                .iter()
                .any(|w| w.contains("not a CA"))
        );
        let expired = inspect(EXPIRED.as_bytes()).unwrap();
        assert!(
            expired
                .warnings(1_800_000_000)
                .iter()
                .any(|w| w.contains("expired"))
        );
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        assert_eq!(inspect(b"hello world"), Err(CertError::NotACertificate));
        assert!(matches!(
            inspect(b"\x30\x03\x02\x01\x01"),
            Err(CertError::Malformed(_))
        ));
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            inspect(key.as_bytes()),
            Err(CertError::NoCertificateBlock(_))
        ));
        let two = format!("{CA}{CA}");
        assert_eq!(
            inspect(two.as_bytes()),
            Err(CertError::SeveralCertificates(2))
        );
        let broken = CA.replace("MII", "!!!");
        assert!(inspect(broken.as_bytes()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = inspect(&bytes);
            let mut pem = b"-----BEGIN CERTIFICATE-----\n".to_vec();
            pem.extend_from_slice(&bytes);
            let _ = inspect(&pem);
        }
    }
}
