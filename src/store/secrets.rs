//! Secrets at rest: RADIUS shared secrets (and later token seeds and bind passwords) are
//! sealed with AES-256-GCM under a key kept in a 0600 file in the state directory. The
//! object's identity is the associated data, so a sealed value cannot be moved to another
//! object unnoticed.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::StoreError;
use crate::model::Secret;

pub(crate) struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    /// Loads the key file, creating it (0600, 32 random bytes) when it does not exist.
    pub(crate) fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => {
                let mode = std::fs::metadata(path)
                    .map_err(|e| StoreError::KeyFile(format!("{}: {e}", path.display())))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    return Err(StoreError::KeyFile(format!(
                        "{}: mode {:o} lets others read the key; chmod 600 it",
                        path.display(),
                        mode & 0o777
                    )));
                }
                b
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path)?,
            Err(e) => return Err(StoreError::KeyFile(format!("{}: {e}", path.display()))),
        };
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| StoreError::KeyFile(format!("{}: not a 32-byte key", path.display())))?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    fn create(path: &Path) -> Result<Vec<u8>, StoreError> {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).map_err(|e| StoreError::KeyFile(format!("random: {e}")))?;
        let err = |e: std::io::Error| StoreError::KeyFile(format!("{}: {e}", path.display()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(err)?;
        f.write_all(&key).map_err(err)?;
        f.sync_all().map_err(err)?;
        Ok(key)
    }

    pub(crate) fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::Crypto(format!("random: {e}")))?;
        let mut out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut out,
            )
            .map_err(|_| StoreError::Crypto("seal failed".into()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        Ok(sealed)
    }

    pub(crate) fn open(&self, aad: &str, sealed: &[u8]) -> Result<Secret, StoreError> {
        let bad = || {
            StoreError::Crypto(format!(
                "sealed secret of {aad} does not open (wrong key file?)"
            ))
        };
        if sealed.len() < NONCE_LEN {
            return Err(bad());
        }
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| bad())?;
        let mut buf = ct.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| bad())?;
        Ok(Secret::new(plain.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let s = Sealer::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let sealed = s.seal("client:a", b"testing123").unwrap();
        assert_eq!(s.open("client:a", &sealed).unwrap().expose(), b"testing123");
        assert!(s.open("client:b", &sealed).is_err());
        let again = Sealer::load_or_create(&path).unwrap();
        assert_eq!(
            again.open("client:a", &sealed).unwrap().expose(),
            b"testing123"
        );
    }
}
