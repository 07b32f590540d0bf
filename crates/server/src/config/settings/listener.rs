//! `server.*`: the listener's TLS (`server.ssl.*`) and what one connection or request may cost.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::defaults;

/// `server.ssl.*`, Spring Boot's keys: PEM files for the listener's certificate and for
/// verifying clients' certificates (mTLS).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SslSettings {
    /// `server.ssl.enabled`, default unset: false turns TLS off even with a certificate; true
    /// without `server.ssl.certificate` is refused. Unset: TLS when a certificate is set, as
    /// in Spring.
    pub enabled: Option<bool>,
    /// `server.ssl.certificate`, default unset: PEM file with the server's certificate chain,
    /// leaf first.
    pub certificate: Option<PathBuf>,
    /// `server.ssl.certificate-private-key`, default unset: PEM file with the certificate's
    /// private key (PKCS#8, PKCS#1 or SEC1); required with a certificate.
    pub certificate_private_key: Option<PathBuf>,
    /// `server.ssl.trust-certificate`, default unset: PEM bundle of the CAs whose client
    /// certificates are accepted; required when `client-auth` is want or need.
    pub trust_certificate: Option<PathBuf>,
    /// `server.ssl.client-auth`, default none: whether clients must present a certificate.
    pub client_auth: ClientAuth,
}

impl SslSettings {
    /// Whether the listener speaks TLS: a certificate is set and TLS is not turned off.
    pub fn is_enabled(&self) -> bool {
        self.certificate.is_some() && self.enabled != Some(false)
    }
}

/// `server.ssl.client-auth`: whether a TLS client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No certificate is asked for.
    #[default]
    None,
    /// A certificate is asked for and verified if sent; clients without one are served.
    Want,
    /// A verified certificate is required: the handshake fails without one (peers' mTLS).
    Need,
}

/// Limits on what one connection or request may cost the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `server.max-http-request-header-size`, default 8 KiB, at least 1 KiB: the largest
    /// request line plus headers; larger heads are answered 431.
    pub max_http_request_header_size: usize,
    /// `server.max-connections`, default 10 000, > 0: open connections; at the limit the
    /// server stops accepting (new ones wait in the kernel's backlog) until one closes.
    pub max_connections: usize,
    /// `server.connection-timeout`, default 60 s, > 0: time allowed for the TLS handshake and
    /// for each request head, from the connection's opening or its previous answer; also the
    /// keep-alive idle limit. Protects against clients that connect and send slowly.
    pub connection_timeout: Duration,
    /// `server.request-timeout`, default 30 s, > 0: time for a request's body to arrive once
    /// its head has; then 408. Handling needs no bound (it never waits on the client), and
    /// long polls, drains and change streams have their own.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_http_request_header_size: defaults::MAX_HTTP_REQUEST_HEADER_SIZE,
            max_connections: defaults::MAX_CONNECTIONS,
            connection_timeout: defaults::CONNECTION_TIMEOUT,
            request_timeout: defaults::REQUEST_TIMEOUT,
        }
    }
}
