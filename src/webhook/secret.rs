//! The server's webhook signing secret and the Standard Webhooks signature.
//!
//! The secret comes from `BENCHMARK_WEBHOOK_SECRET` (`whsec_<base64>`), else
//! from the file [`SECRET_FILE`] in the data directory, which is generated
//! (32 random bytes, mode 0600) on first start and shown once in the log.
//!
//! A signature is `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed
//! with the secret's decoded bytes, as the Standard Webhooks specification
//! says, so any Standard Webhooks library verifies it.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// The file holding the generated secret, inside the data directory.
pub const SECRET_FILE: &str = "webhook-secret";
/// The prefix of the secret's text form.
const PREFIX: &str = "whsec_";
/// Shortest accepted secret, in bytes.
const MIN_SECRET_BYTES: usize = 16;

/// Why the secret could not be loaded or created.
#[derive(Debug, Error)]
pub enum SecretError {
    /// The text is not `whsec_` followed by base64 of at least 16 bytes.
    #[error(
        "the webhook secret must be whsec_ followed by the base64 of at least {MIN_SECRET_BYTES} bytes; fix BENCHMARK_WEBHOOK_SECRET or delete {SECRET_FILE} in the data directory"
    )]
    Malformed,
    /// The secret file could not be read or written.
    #[error("cannot use the webhook secret file {path}: {reason}")]
    File { path: String, reason: String },
}

/// The signing key. Its `Debug` form never shows the bytes.
#[derive(Clone)]
pub struct Secret {
    key: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// Parses `whsec_<base64>` (the prefix may be omitted).
    pub fn parse(text: &str) -> Result<Secret, SecretError> {
        let text = text.trim();
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed)?;
        if key.len() < MIN_SECRET_BYTES {
            return Err(SecretError::Malformed);
        }
        Ok(Secret { key })
    }

    /// The configured secret, else the stored one, else a new one written to
    /// the data directory with mode 0600 and logged once.
    pub fn load_or_create(
        data_dir: &Path,
        configured: Option<&str>,
    ) -> Result<Secret, SecretError> {
        if let Some(text) = configured {
            return Secret::parse(text);
        }
        let path = data_dir.join(SECRET_FILE);
        let file_error = |reason: String| SecretError::File {
            path: path.display().to_string(),
            reason,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => return Secret::parse(&text),
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(file_error(error.to_string()));
            }
            Err(_) => {}
        }

        let secret = Secret {
            key: random_bytes(32),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(|e| file_error(e.to_string()))?;
        writeln!(file, "{}", secret.encoded())
            .and_then(|_| file.sync_all())
            .map_err(|e| file_error(e.to_string()))?;
        tracing::warn!(
            secret = %secret.encoded(),
            file = %path.display(),
            "webhook signing secret generated; give it to your receivers now, it is not logged again"
        );
        Ok(secret)
    }

    /// `whsec_<base64>`, the form receivers configure.
    pub fn encoded(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// The `webhook-signature` header value for one attempt.
    pub fn sign(&self, webhook_id: &str, timestamp: i64, body: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(format!("{webhook_id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// Random bytes from the operating system's CSPRNG (UUID v4 draws its 122
/// random bits from `getrandom`); 16 bytes per UUID, version bits dropped by
/// taking more UUIDs than needed.
pub fn random_bytes(count: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(count);
    while bytes.len() < count {
        let uuid = uuid::Uuid::new_v4();
        let raw = uuid.as_bytes();
        // Bytes 6 and 8 carry the version and variant bits; skip them.
        bytes.extend(
            raw.iter()
                .enumerate()
                .filter(|(index, _)| *index != 6 && *index != 8)
                .map(|(_, byte)| *byte),
        );
    }
    bytes.truncate(count);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // From the Standard Webhooks specification's reference test vectors.
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_generated_secret_is_stored_with_mode_0600_and_reloaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Secret::load_or_create(dir.path(), None).expect("create");
        let second = Secret::load_or_create(dir.path(), None).expect("load");
        assert_eq!(first.encoded(), second.encoded());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_FILE))
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn short_or_garbled_secrets_are_refused() {
        assert!(Secret::parse("whsec_c2hvcnQ=").is_err());
        assert!(Secret::parse("whsec_not base64!").is_err());
    }
}
