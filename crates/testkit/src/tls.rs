//! Throwaway certificates for TLS tests, made at test time (no key is ever committed): a
//! certificate authority, server certificates for `localhost` and `127.0.0.1`, client
//! certificates for peers, written as PEM files into a directory removed on drop.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use eureka_server::config::{ClientAuth, ServerConfig};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its private key, as PEM files.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate chain (the leaf only: the CA is what the other side trusts).
    pub cert: PathBuf,
    /// The private key (PKCS#8).
    pub key: PathBuf,
}

impl Issued {
    /// The certificate and key in one PEM buffer, as reqwest's `Identity::from_pem` and
    /// `TlsOptions::identity_pem` take them.
    pub fn identity_pem(&self) -> Vec<u8> {
        let mut pem = std::fs::read(&self.cert).expect("read test certificate");
        pem.extend(std::fs::read(&self.key).expect("read test key"));
        pem
    }
}

/// A test certificate authority with its files in a fresh temporary directory.
pub struct TestCa {
    dir: PathBuf,
    name: String,
    cert: rcgen::Certificate,
    key: KeyPair,
    /// The CA certificate, PEM: what clients and servers are told to trust.
    pub ca_pem: PathBuf,
}

impl TestCa {
    /// A new CA named `name` (its common name, and part of its files' names).
    pub fn new(name: &str) -> TestCa {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "eureka-tls-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create certificate directory");
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.distinguished_name.push(DnType::CommonName, format!("eureka-rs test CA {name}"));
        let cert = params.self_signed(&key).expect("self-signed CA");
        let ca_pem = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&ca_pem, cert.pem()).expect("write CA certificate");
        TestCa { dir, name: name.to_string(), cert, key, ca_pem }
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A certificate for `localhost` and `127.0.0.1`, usable as a server's and as a client's
    /// (peers are both).
    pub fn server(&self, name: &str) -> Issued {
        self.issue(name, &["localhost", "127.0.0.1"])
    }

    /// A certificate for the given host names and IPs, for server and client use.
    pub fn issue(&self, name: &str, names: &[&str]) -> Issued {
        let key = KeyPair::generate().expect("leaf key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        let cert = params.signed_by(&key, &self.cert, &self.key).expect("signed leaf");
        let issued = Issued {
            cert: self.dir.join(format!("{}-{name}.pem", self.name)),
            key: self.dir.join(format!("{}-{name}.key", self.name)),
        };
        std::fs::write(&issued.cert, cert.pem()).expect("write certificate");
        std::fs::write(&issued.key, key.serialize_pem()).expect("write key");
        issued
    }

    /// Sets `server.ssl.*` to serve `server` and check client certificates against this CA
    /// as `client_auth` says.
    pub fn configure(&self, config: &mut ServerConfig, server: &Issued, client_auth: ClientAuth) {
        config.ssl.certificate = Some(server.cert.clone());
        config.ssl.certificate_private_key = Some(server.key.clone());
        if client_auth != ClientAuth::None {
            config.ssl.trust_certificate = Some(self.ca_pem.clone());
        }
        config.ssl.client_auth = client_auth;
    }

    /// An HTTP client that trusts this CA (and presents `identity`, if given).
    pub fn client(&self, identity: Option<&Issued>) -> reqwest::Client {
        let ca = std::fs::read(&self.ca_pem).expect("read CA");
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA PEM"));
        if let Some(identity) = identity {
            let pem = identity.identity_pem();
            builder = builder.identity(reqwest::Identity::from_pem(&pem).expect("identity PEM"));
        }
        builder.build().expect("TLS test client")
    }

    /// The client options of the Rust client and the replicator: trust this CA, present
    /// `identity` if given.
    pub fn tls_options(&self, identity: Option<&Issued>) -> eureka_client::TlsOptions {
        let ca = std::fs::read(&self.ca_pem).expect("read CA");
        let options = eureka_client::TlsOptions::default().add_root_pem(&ca).expect("CA PEM");
        match identity {
            Some(identity) => options.identity_pem(&identity.identity_pem()).expect("identity"),
            None => options,
        }
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
