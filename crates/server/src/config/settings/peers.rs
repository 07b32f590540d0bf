//! `eureka.client.*` and `eureka.server.peer-tls.*`: which peers this server talks to, and how
//! its calls to them use TLS.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::defaults;

/// `eureka.client.*`: the peers this server talks to and whether it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// `eureka.client.service-url.<zone>`, default empty (unlike Spring's localhost URL): peer URLs
    /// per zone, each ending with '/'.
    pub service_urls: BTreeMap<String, Vec<String>>,
    /// `eureka.client.register-with-eureka`, default false: register ourselves with the peers.
    pub register_with_eureka: bool,
    /// `eureka.client.fetch-registry`, default false: fetch the registry from the peers.
    pub fetch_registry: bool,
    /// `eureka.client.region`, default "us-east-1": our region.
    pub region: String,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            service_urls: BTreeMap::new(),
            register_with_eureka: defaults::REGISTER_WITH_EUREKA,
            fetch_registry: defaults::FETCH_REGISTRY,
            region: defaults::REGION.to_string(),
        }
    }
}

impl ClientSettings {
    /// The peer URLs: the `defaultZone` service-url list (other zones are not used yet).
    pub fn peer_urls(&self) -> Vec<String> {
        self.service_urls.get(defaults::DEFAULT_ZONE).cloned().unwrap_or_default()
    }
}

/// `eureka.server.peer-tls.*`: how this server's calls to peers (replication, start-up
/// sync) use TLS, beyond the public roots every `https://` peer URL is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerTlsSettings {
    /// `eureka.server.peer-tls.trust-certificate`, default unset: PEM bundle of extra CAs
    /// trusted for peers' server certificates (e.g. a private cluster CA).
    pub trust_certificate: Option<PathBuf>,
    /// `eureka.server.peer-tls.certificate`, default unset: PEM certificate chain presented
    /// to peers that ask for one (mTLS); needs the private key below.
    pub certificate: Option<PathBuf>,
    /// `eureka.server.peer-tls.certificate-private-key`, default unset: PEM private key of
    /// the peer client certificate.
    pub certificate_private_key: Option<PathBuf>,
}
