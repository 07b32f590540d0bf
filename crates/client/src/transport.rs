//! One Eureka server's REST API over HTTP: what peers and clients call.

use std::io::Write;
use std::time::Duration;

use eureka_model::json;
use eureka_model::replication::{ReplicationList, ReplicationListResponse};
use eureka_model::{Applications, DecodeError, Format};
use percent_encoding::percent_decode_str;
use reqwest::header::{ACCEPT, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use thiserror::Error;

/// Header that marks a call as a peer replication (`x-netflix-discovery-replication`).
pub const HEADER_REPLICATION: &str = "x-netflix-discovery-replication";
/// Header Java servers and clients use to name their kind (`DiscoveryIdentity-Name`).
pub const HEADER_IDENTITY_NAME: &str = "DiscoveryIdentity-Name";
/// Header Java servers and clients use to give their version (`DiscoveryIdentity-Version`).
pub const HEADER_IDENTITY_VERSION: &str = "DiscoveryIdentity-Version";
/// Header naming the sending node on replication batches, so a server can tell that a
/// configured "peer" is in fact itself.
pub const HEADER_NODE_ID: &str = "x-eureka-node-id";
/// Media type of every JSON request and answer.
const JSON: &str = "application/json";

/// Why a call to a Eureka server failed, sorted by what the caller should do about it.
#[derive(Debug, Error)]
pub enum TransportError {
    /// The base URL cannot be used (not http(s), or unparsable).
    #[error("invalid Eureka URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No connection could be made (refused, unreachable, DNS). Retrying later can help.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The server did not answer in time. Java treats this as congestion: retry after a pause.
    #[error("timed out")]
    Timeout,
    /// The connection broke mid-call. Retrying can help.
    #[error("connection error: {0}")]
    Io(String),
    /// The server answered with an unexpected status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the answer's body, for the log.
        body: String,
    },
    /// The answer could not be decoded.
    #[error("undecodable answer: {0}")]
    Decode(#[from] DecodeError),
}

impl TransportError {
    /// Whether the same call may succeed later: connection problems, timeouts and 503.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::Connect(_) | TransportError::Timeout | TransportError::Io(_) => true,
            TransportError::Status { status, .. } => *status == 503,
            TransportError::InvalidUrl { .. } | TransportError::Decode(_) => false,
        }
    }

    /// Whether the peer is overloaded rather than gone (timeouts and 503), which asks for a
    /// longer pause than a refused connection.
    pub fn is_congestion(&self) -> bool {
        matches!(self, TransportError::Timeout | TransportError::Status { status: 503, .. })
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            TransportError::Timeout
        } else if e.is_connect() {
            TransportError::Connect(root_cause(&e))
        } else if e.is_decode() {
            TransportError::Io(format!("body: {}", root_cause(&e)))
        } else {
            TransportError::Io(root_cause(&e))
        }
    }
}

/// The innermost error message: reqwest's outer ones only say "error sending request".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Timeouts for calls to one server.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Time to establish a connection.
    pub connect: Duration,
    /// Time for the whole call once connected.
    pub request: Duration,
}

/// One Eureka server's API, addressed by its service URL (e.g. `http://host:8761/eureka/`).
///
/// Credentials in the URL (`http://user:pass@host/eureka/`, as Spring users write them) are
/// sent as HTTP Basic auth and never appear in [`EurekaHttp::url`].
#[derive(Debug, Clone)]
pub struct EurekaHttp {
    base: Url,
    display: String,
    credentials: Option<(String, String)>,
    http: reqwest::Client,
    request_timeout: Duration,
    node_id: Option<String>,
}

impl EurekaHttp {
    /// A transport for `service_url` with its own connection pool and timeouts.
    pub fn new(service_url: &str, timeouts: Timeouts) -> Result<Self, TransportError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .user_agent(concat!("eureka-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::InvalidUrl {
                url: service_url.to_string(),
                reason: root_cause(&e),
            })?;
        Self::with_client(service_url, http, timeouts.request)
    }

    /// A transport for `service_url` over an existing client (shared pool).
    pub fn with_client(
        service_url: &str,
        http: reqwest::Client,
        request_timeout: Duration,
    ) -> Result<Self, TransportError> {
        let invalid = |reason: &str| TransportError::InvalidUrl {
            url: redact(service_url),
            reason: reason.to_string(),
        };
        let mut base = Url::parse(service_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(invalid("expected an http:// or https:// URL with a host"));
        }
        let credentials = (!base.username().is_empty()).then(|| {
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            (decode(base.username()), decode(base.password().unwrap_or("")))
        });
        let _ = base.set_username("");
        let _ = base.set_password(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let display = base.to_string();
        Ok(EurekaHttp { base, display, credentials, http, request_timeout, node_id: None })
    }

    /// Sends `id` as [`HEADER_NODE_ID`] with every replication batch.
    pub fn with_node_id(mut self, id: impl Into<String>) -> Self {
        self.node_id = Some(id.into());
        self
    }

    /// The service URL without credentials, ending in `/`.
    pub fn url(&self) -> &str {
        &self.display
    }

    /// The parsed service URL without credentials.
    pub fn base(&self) -> &Url {
        &self.base
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.display);
        let mut req = self.http.request(method, url).timeout(self.request_timeout);
        if let Some((user, pass)) = &self.credentials {
            req = req.basic_auth(user, Some(pass));
        }
        req
    }

    /// `GET apps`: the full registry, as JSON (gzip on the wire).
    pub async fn applications(&self) -> Result<Applications, TransportError> {
        let resp = self
            .request(reqwest::Method::GET, "apps/")
            .header(ACCEPT, JSON)
            .header(HEADER_IDENTITY_NAME, "DefaultServer")
            .send()
            .await
            .map_err(TransportError::from_reqwest)?;
        let body = expect_success(resp, StatusCode::OK).await?;
        Ok(Format::Json.decode_applications(&body)?)
    }

    /// `POST peerreplication/batch/`: sends a replication batch as Java peers do (JSON, the
    /// replication header; gzip body when `compress`) and decodes the per-item answers.
    pub async fn replicate(
        &self,
        batch: &ReplicationList,
        compress: bool,
    ) -> Result<ReplicationListResponse, TransportError> {
        let mut body = json::encode_replication_list(batch);
        let mut req = self
            .request(reqwest::Method::POST, "peerreplication/batch/")
            .header(CONTENT_TYPE, JSON)
            .header(ACCEPT, JSON)
            .header(HEADER_REPLICATION, "true")
            .header(HEADER_IDENTITY_NAME, "DefaultServer")
            .header(HEADER_IDENTITY_VERSION, env!("CARGO_PKG_VERSION"));
        if let Some(id) = &self.node_id {
            req = req.header(HEADER_NODE_ID, id);
        }
        if compress {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            if gz.write_all(&body).is_ok() {
                if let Ok(compressed) = gz.finish() {
                    body = compressed;
                    req = req.header(CONTENT_ENCODING, "gzip");
                }
            }
        }
        let resp = req.body(body).send().await.map_err(TransportError::from_reqwest)?;
        let body = expect_success(resp, StatusCode::OK).await?;
        Ok(json::decode_replication_list_response(&body)?)
    }
}

/// Reads the body of a successful answer, or turns any other status into an error carrying
/// the start of the body.
async fn expect_success(
    resp: reqwest::Response,
    expected: StatusCode,
) -> Result<bytes::Bytes, TransportError> {
    let status = resp.status();
    let body = resp.bytes().await.map_err(TransportError::from_reqwest)?;
    if status == expected {
        return Ok(body);
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    Err(TransportError::Status { status: status.as_u16(), body: text })
}

/// A URL fit for logs: `user:pass@` removed.
pub fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts =
        Timeouts { connect: Duration::from_millis(100), request: Duration::from_millis(100) };

    #[test]
    fn credentials_leave_the_url_and_become_basic_auth() {
        let h = EurekaHttp::new("http://user:p%40ss@peer1:8761/eureka", T).unwrap();
        assert_eq!(h.url(), "http://peer1:8761/eureka/");
        assert_eq!(h.credentials, Some(("user".to_string(), "p@ss".to_string())));
    }

    #[test]
    fn rejects_non_http_urls() {
        assert!(matches!(
            EurekaHttp::new("ftp://peer1/eureka/", T),
            Err(TransportError::InvalidUrl { .. })
        ));
        assert!(matches!(EurekaHttp::new("peer1:8761", T), Err(TransportError::InvalidUrl { .. })));
    }

    #[test]
    fn redact_hides_passwords() {
        assert_eq!(redact("http://a:b@h:1/eureka/"), "http://h:1/eureka/");
        assert_eq!(redact("http://h:1/eureka/"), "http://h:1/eureka/");
    }

    #[tokio::test]
    async fn refused_connection_is_retryable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let h = EurekaHttp::new(&format!("http://127.0.0.1:{port}/eureka/"), T).unwrap();
        let err = h.applications().await.unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
        assert!(!err.is_congestion(), "{err:?}");
    }
}
