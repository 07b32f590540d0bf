//! TLS material read at start-up: the listener's rustls configuration (`server.ssl.*`) and
//! the client options for calls to peers (`eureka.server.peer-tls.*`).
//!
//! Files are read once, before the listener is bound, so a missing or unusable file stops
//! start-up with an error naming the key and the path. rustls runs on the `ring` provider (the
//! one reqwest already uses), with its safe defaults: TLS 1.2 and 1.3, no renegotiation.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use eureka_client::TlsOptions;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::config::{ClientAuth, PeerTlsSettings, SslSettings};

/// Why the TLS configuration cannot be used; every variant names the key and file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("cannot read {key} file {}: {source}", .path.display())]
    Read {
        /// The configuration key that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file holds no usable PEM item of the kind the key asks for.
    #[error("{key} file {} {problem}", .path.display())]
    Content {
        /// The configuration key that names the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong, e.g. "holds no PEM certificate".
        problem: String,
    },
    /// A file the others need is not configured (only when validation was bypassed).
    #[error("{key} is not set: {reason}")]
    Missing {
        /// The configuration key that must be set.
        key: &'static str,
        /// Why it is needed.
        reason: &'static str,
    },
    /// rustls refused the combination (e.g. the key does not match the certificate).
    #[error("{key} file {} cannot be used: {reason}", .path.display())]
    Rejected {
        /// The configuration key of the file that was refused.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// rustls' or reqwest's reason.
        reason: String,
    },
}

const KEY_CERTIFICATE: &str = "server.ssl.certificate";
const KEY_PRIVATE_KEY: &str = "server.ssl.certificate-private-key";
const KEY_TRUST: &str = "server.ssl.trust-certificate";
const KEY_PEER_TRUST: &str = "eureka.server.peer-tls.trust-certificate";
const KEY_PEER_CERTIFICATE: &str = "eureka.server.peer-tls.certificate";
const KEY_PEER_PRIVATE_KEY: &str = "eureka.server.peer-tls.certificate-private-key";

/// The listener's TLS configuration, or `None` when `server.ssl` does not enable TLS.
pub fn server_config(ssl: &SslSettings) -> Result<Option<Arc<rustls::ServerConfig>>, TlsError> {
    let Some(cert_path) = ssl.certificate.as_deref().filter(|_| ssl.is_enabled()) else {
        return Ok(None);
    };
    let chain = certificates(KEY_CERTIFICATE, cert_path)?;
    // Validation guarantees the key is set with a certificate; say so if it was bypassed.
    let key_path = ssl.certificate_private_key.as_deref().ok_or(TlsError::Missing {
        key: KEY_PRIVATE_KEY,
        reason: "server.ssl.certificate needs its key",
    })?;
    let key = private_key(KEY_PRIVATE_KEY, key_path)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| rejected(KEY_CERTIFICATE, cert_path, e))?;
    let builder = match (ssl.client_auth, ssl.trust_certificate.as_deref()) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (_, None) => {
            return Err(TlsError::Missing {
                key: KEY_TRUST,
                reason: "server.ssl.client-auth want or need verifies client certificates \
                         against it",
            })
        }
        (auth, Some(trust_path)) => {
            let roots = root_store(KEY_TRUST, trust_path)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier =
                if auth == ClientAuth::Want { verifier.allow_unauthenticated() } else { verifier };
            let verifier = verifier.build().map_err(|e| rejected(KEY_TRUST, trust_path, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config =
        builder.with_single_cert(chain, key).map_err(|e| rejected(KEY_PRIVATE_KEY, key_path, e))?;
    // HTTP/1.1 only: a client that offers only h2 is told so in the handshake.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(Arc::new(config)))
}

/// The client options for calls to peers: extra trusted CAs and a client certificate.
pub fn peer_options(peer: &PeerTlsSettings) -> Result<TlsOptions, TlsError> {
    let mut options = TlsOptions::default();
    if let Some(path) = peer.trust_certificate.as_deref() {
        let pem = read(KEY_PEER_TRUST, path)?;
        options = options.add_root_pem(&pem).map_err(|e| rejected(KEY_PEER_TRUST, path, e))?;
    }
    if let (Some(cert_path), Some(key_path)) =
        (peer.certificate.as_deref(), peer.certificate_private_key.as_deref())
    {
        // Checked apart first so an error names the file at fault.
        certificates(KEY_PEER_CERTIFICATE, cert_path)?;
        private_key(KEY_PEER_PRIVATE_KEY, key_path)?;
        let mut pem = read(KEY_PEER_CERTIFICATE, cert_path)?;
        pem.push(b'\n');
        pem.extend(read(KEY_PEER_PRIVATE_KEY, key_path)?);
        options =
            options.identity_pem(&pem).map_err(|e| rejected(KEY_PEER_CERTIFICATE, cert_path, e))?;
    }
    Ok(options)
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { key, path: path.to_path_buf(), source })
}

fn rejected(key: &'static str, path: &Path, reason: impl std::fmt::Display) -> TlsError {
    TlsError::Rejected { key, path: path.to_path_buf(), reason: reason.to_string() }
}

fn content(key: &'static str, path: &Path, problem: impl Into<String>) -> TlsError {
    TlsError::Content { key, path: path.to_path_buf(), problem: problem.into() }
}

/// Every certificate in a PEM file, in order; at least one.
fn certificates(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(key, path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| content(key, path, format!("is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(content(key, path, "holds no PEM certificate (BEGIN CERTIFICATE)"));
    }
    Ok(certs)
}

/// The first private key in a PEM file (PKCS#8, PKCS#1 or SEC1).
fn private_key(key: &'static str, path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(key, path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            content(key, path, "holds no PEM private key (BEGIN PRIVATE KEY)")
        }
        e => content(key, path, format!("is not valid PEM: {e}")),
    })
}

/// A root store of every certificate in a PEM bundle.
fn root_store(key: &'static str, path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(key, path)? {
        roots.add(cert).map_err(|e| rejected(key, path, e))?;
    }
    Ok(roots)
}
