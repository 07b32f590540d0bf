//! One Eureka server's REST API over HTTP: what peers and clients call.

use std::io::Write;
use std::time::Duration;

use eureka_model::json;
use eureka_model::replication::{ReplicationList, ReplicationListResponse};
use eureka_model::{Application, Applications, DecodeError, Format, InstanceInfo, InstanceStatus};
use percent_encoding::{
    percent_decode_str, utf8_percent_encode, AsciiSet, PercentEncode, CONTROLS,
};
use reqwest::header::{ACCEPT, CONTENT_ENCODING, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use thiserror::Error;

use crate::stream::WatchStream;

/// Header that marks a call as a peer replication (`x-netflix-discovery-replication`).
pub const HEADER_REPLICATION: &str = "x-netflix-discovery-replication";
/// Header Java servers and clients use to name their kind (`DiscoveryIdentity-Name`).
pub const HEADER_IDENTITY_NAME: &str = "DiscoveryIdentity-Name";
/// Header Java servers and clients use to give their version (`DiscoveryIdentity-Version`).
pub const HEADER_IDENTITY_VERSION: &str = "DiscoveryIdentity-Version";
/// Header naming the sending node on replication batches, so a server can tell that a
/// configured "peer" is in fact itself.
pub const HEADER_NODE_ID: &str = "x-eureka-node-id";
/// Header on a eureka-rs server's answer to a replication batch: `on` or `off`, whether it
/// checks instances itself. Its presence says the server reads batch items' `healthCheck`
/// notes (Java servers send no such header and refuse unknown item fields).
pub const HEADER_HEALTH_CHECKS: &str = "x-eureka-health-checks";
/// Header on a eureka-rs server's answer to a replication batch: the name it goes by in the
/// cluster (the same string on every node), for sharing health checks out.
pub const HEADER_NODE_NAME: &str = "x-eureka-node-name";
/// Header a client names itself with on fetches and its change stream (ours, not Eureka's),
/// so a server can tell a drain which clients have seen a change.
pub const HEADER_CLIENT_ID: &str = "x-eureka-client-id";
/// Media type of every JSON request and answer.
const JSON: &str = "application/json";
/// What clients send as [`HEADER_IDENTITY_NAME`], as Java's `DiscoveryClient` does.
const CLIENT_IDENTITY: &str = "DefaultClient";
/// What peer servers send as [`HEADER_IDENTITY_NAME`].
const SERVER_IDENTITY: &str = "DefaultServer";

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

    /// Whether the server refused our credentials (401) or their rights (403): retrying the
    /// same call helps only once its configuration changes.
    pub fn is_auth_refused(&self) -> bool {
        matches!(self, TransportError::Status { status: 401 | 403, .. })
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

/// TLS settings for `https://` servers beyond the public web roots every certificate is
/// checked against: extra trusted CAs (a private cluster CA) and a client certificate for
/// servers that require one (mTLS).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    roots: Vec<reqwest::Certificate>,
    identity: Option<reqwest::Identity>,
}

/// Why PEM text cannot be used as a CA or a client certificate.
#[derive(Debug, Error)]
pub enum TlsConfigError {
    /// The CA bundle does not parse.
    #[error("invalid CA certificate PEM: {0}")]
    Roots(String),
    /// The CA bundle holds no certificate.
    #[error("no certificate (BEGIN CERTIFICATE) in the CA PEM")]
    NoRoots,
    /// The client certificate or its key does not parse.
    #[error("invalid client certificate PEM (certificate chain and private key): {0}")]
    Identity(String),
}

impl TlsOptions {
    /// Also trusts every CA certificate in a PEM bundle.
    pub fn add_root_pem(mut self, pem: &[u8]) -> Result<Self, TlsConfigError> {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| TlsConfigError::Roots(root_cause(&e)))?;
        if certs.is_empty() {
            return Err(TlsConfigError::NoRoots);
        }
        self.roots.extend(certs);
        Ok(self)
    }

    /// Presents a client certificate: `pem` holds the certificate chain (leaf first) and
    /// its private key.
    pub fn identity_pem(mut self, pem: &[u8]) -> Result<Self, TlsConfigError> {
        let identity = reqwest::Identity::from_pem(pem)
            .map_err(|e| TlsConfigError::Identity(root_cause(&e)))?;
        self.identity = Some(identity);
        Ok(self)
    }

    /// Applies these settings to a reqwest client (a server's other HTTP clients, such as its
    /// health checks, trust what its peer calls trust).
    pub fn apply(&self, mut builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.clone());
        }
        builder
    }
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
    client_id: Option<String>,
    identity: &'static str,
    format: Format,
    /// `?regions=` for registry fetches (remote regions to merge in), empty for none.
    regions: String,
}

/// The system resolver, which reqwest uses when given none: names the `None` of
/// [`EurekaHttp::with_tls_resolver`]'s type parameter.
enum SystemResolver {}

impl reqwest::dns::Resolve for SystemResolver {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        match *self {}
    }
}

impl EurekaHttp {
    /// A transport for `service_url` with its own connection pool and timeouts.
    pub fn new(service_url: &str, timeouts: Timeouts) -> Result<Self, TransportError> {
        Self::with_tls(service_url, timeouts, &TlsOptions::default())
    }

    /// [`EurekaHttp::new`] with extra trusted CAs or a client certificate for `https://`.
    pub fn with_tls(
        service_url: &str,
        timeouts: Timeouts,
        tls: &TlsOptions,
    ) -> Result<Self, TransportError> {
        Self::with_tls_resolver::<SystemResolver>(service_url, timeouts, tls, None)
    }

    /// [`EurekaHttp::with_tls`] resolving host names with `resolver` instead of the system's
    /// (a server whose peers are named by its own DNS server).
    pub fn with_tls_resolver<R: reqwest::dns::Resolve + 'static>(
        service_url: &str,
        timeouts: Timeouts,
        tls: &TlsOptions,
        resolver: Option<std::sync::Arc<R>>,
    ) -> Result<Self, TransportError> {
        let mut builder = tls.apply(reqwest::Client::builder());
        if let Some(resolver) = resolver {
            builder = builder.dns_resolver(resolver);
        }
        let http = builder
            .connect_timeout(timeouts.connect)
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .user_agent(concat!("eureka-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::InvalidUrl {
                url: redact(service_url),
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
        Ok(EurekaHttp {
            base,
            display,
            credentials,
            http,
            request_timeout,
            node_id: None,
            client_id: None,
            identity: CLIENT_IDENTITY,
            format: Format::Json,
            regions: String::new(),
        })
    }

    /// Sends `user` and `password` as HTTP Basic credentials when the service URL carried none
    /// of its own (a server's configured replication user; URL credentials win).
    pub fn with_default_credentials(mut self, user: &str, password: &str) -> Self {
        if self.credentials.is_none() {
            self.credentials = Some((user.to_string(), password.to_string()));
        }
        self
    }

    /// Whether calls carry HTTP Basic credentials.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// Marks this transport as a peer server's: it sends `id` as [`HEADER_NODE_ID`] with every
    /// replication batch and names itself `DefaultServer`, as Java peers do.
    pub fn with_node_id(mut self, id: impl Into<String>) -> Self {
        self.node_id = Some(id.into());
        self.identity = SERVER_IDENTITY;
        self
    }

    /// Names this client with [`HEADER_CLIENT_ID`] on every client call and the change
    /// stream, so our server can report it in a drain.
    pub fn with_client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The id sent as [`HEADER_CLIENT_ID`], if any.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The service URL without credentials, ending in `/`.
    pub fn url(&self) -> &str {
        &self.display
    }

    /// The parsed service URL without credentials.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Asks for the remote regions in `regions` (comma-separated) to be merged into full and
    /// delta fetches, as Java's `fetch-remote-regions-registry` does; empty for none.
    pub fn with_regions(mut self, regions: &str) -> Self {
        self.regions = form_urlencoded::byte_serialize(regions.as_bytes()).collect();
        self
    }

    /// Sends and accepts `format` on registry calls (JSON by default).
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The format this transport speaks.
    pub fn format(&self) -> Format {
        self.format
    }

    /// A request to `path` with the credentials and no time limit (for streams).
    fn untimed(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, format!("{}{path}", self.display));
        match &self.credentials {
            Some((user, pass)) => req.basic_auth(user, Some(pass)),
            None => req,
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.untimed(method, path).timeout(self.request_timeout)
    }

    /// Who is calling: the identity headers, and the client id drain waits for.
    fn identified(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let req = req
            .header(HEADER_IDENTITY_NAME, self.identity)
            .header(HEADER_IDENTITY_VERSION, env!("CARGO_PKG_VERSION"));
        match &self.client_id {
            Some(id) => req.header(HEADER_CLIENT_ID, id),
            None => req,
        }
    }

    /// A client call: identity headers and the negotiated format.
    fn call(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.identified(self.request(method, path)).header(ACCEPT, self.format.media_type())
    }

    /// A client call without a body that succeeds with `expected`; returns the answer's body.
    async fn call_expecting(
        &self,
        method: reqwest::Method,
        path: &str,
        expected: StatusCode,
    ) -> Result<bytes::Bytes, TransportError> {
        expect_success(self.send(self.call(method, path)).await?, expected).await
    }

    /// `GET path`: a registry document and the format it came in.
    async fn document(&self, path: &str) -> Result<(Format, bytes::Bytes), TransportError> {
        expect_document(self.send(self.call(reqwest::Method::GET, path)).await?).await
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, TransportError> {
        req.send().await.map_err(TransportError::from_reqwest)
    }

    /// `POST apps/{APP}`: registers (or re-registers) `info`. Succeeds on 204 only, as Java's
    /// client does.
    pub async fn register(&self, info: &InstanceInfo) -> Result<(), TransportError> {
        let body = self.format.encode_instance(info);
        let req = self
            .call(reqwest::Method::POST, &format!("apps/{}", segment(&info.app)))
            .header(CONTENT_TYPE, self.format.media_type())
            .body(body);
        expect_success(self.send(req).await?, StatusCode::NO_CONTENT).await.map(drop)
    }

    /// `PUT apps/{APP}/{ID}?status=..&lastDirtyTimestamp=..`: renews a lease. A 404 is an
    /// answer, not a failure: it tells the caller to register again.
    pub async fn heartbeat(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<Renewal, TransportError> {
        let path = format!(
            "{}?status={}&lastDirtyTimestamp={last_dirty_timestamp}",
            instance_path(app, id),
            status.as_str()
        );
        let resp = self.send(self.call(reqwest::Method::PUT, &path)).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(Renewal::NotFound);
        }
        expect_success(resp, StatusCode::OK).await.map(|_| Renewal::Renewed)
    }

    /// `DELETE apps/{APP}/{ID}`: cancels a lease.
    pub async fn cancel(&self, app: &str, id: &str) -> Result<(), TransportError> {
        self.call_expecting(reqwest::Method::DELETE, &instance_path(app, id), StatusCode::OK)
            .await
            .map(drop)
    }

    /// `PUT apps/{APP}/{ID}/status?value=..`: sets an operator status override.
    pub async fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        let path = format!(
            "{}/status?value={}&lastDirtyTimestamp={last_dirty_timestamp}",
            instance_path(app, id),
            status.as_str()
        );
        self.call_expecting(reqwest::Method::PUT, &path, StatusCode::OK).await.map(drop)
    }

    /// `POST apps/{APP}/{ID}/drain?wait=S` (our server only): takes the instance out of
    /// service and waits up to `wait` (whole seconds, rounded up) until the server's watchers
    /// and identified pollers have seen it. Returns the server's JSON report as is.
    pub async fn drain(
        &self,
        app: &str,
        id: &str,
        wait: Duration,
    ) -> Result<bytes::Bytes, TransportError> {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let path = format!("{}/drain?wait={secs}", instance_path(app, id));
        // The server holds the answer for up to `wait`: the call's limit comes on top.
        let req = self
            .call(reqwest::Method::POST, &path)
            .timeout(self.request_timeout + Duration::from_secs(secs));
        let resp = self.send(req).await?;
        expect_success(resp, StatusCode::OK).await
    }

    /// `DELETE apps/{APP}/{ID}/status`: removes an override, leaving the instance at `status`
    /// (Java's `value` parameter; `None` lets the server choose, which is UNKNOWN).
    pub async fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        status: Option<InstanceStatus>,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        let mut path =
            format!("{}/status?lastDirtyTimestamp={last_dirty_timestamp}", instance_path(app, id));
        if let Some(status) = status {
            path.push_str("&value=");
            path.push_str(status.as_str());
        }
        self.call_expecting(reqwest::Method::DELETE, &path, StatusCode::OK).await.map(drop)
    }

    /// `PUT apps/{APP}/{ID}/metadata?k=v..`: merges `entries` into the instance's metadata.
    pub async fn update_metadata(
        &self,
        app: &str,
        id: &str,
        entries: &[(String, String)],
    ) -> Result<(), TransportError> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in entries {
            query.append_pair(k, v);
        }
        let path = format!("{}/metadata?{}", instance_path(app, id), query.finish());
        self.call_expecting(reqwest::Method::PUT, &path, StatusCode::OK).await.map(drop)
    }

    /// `GET apps`: the full registry.
    pub async fn applications(&self) -> Result<Applications, TransportError> {
        let (format, body) = self.document(&self.with_regions_query("apps/")).await?;
        Ok(format.decode_applications(&body)?)
    }

    fn with_regions_query(&self, path: &str) -> String {
        if self.regions.is_empty() {
            path.to_string()
        } else {
            format!("{path}?regions={}", self.regions)
        }
    }

    /// `GET apps/delta`: the changes of the last few minutes, with the hash of the whole
    /// registry to reconcile against.
    pub async fn delta(&self) -> Result<Applications, TransportError> {
        let (format, body) = self.document(&self.with_regions_query("apps/delta")).await?;
        Ok(format.decode_applications(&body)?)
    }

    /// `GET watch`: our server's change stream, resumed after `last_event_id` when given.
    /// `Ok(None)` when the server offers no stream (a 4xx, or an answer that is not
    /// `text/event-stream`: a Java server), so the caller polls instead.
    pub async fn watch(
        &self,
        last_event_id: Option<u64>,
    ) -> Result<Option<WatchStream>, TransportError> {
        // No per-request timeout: the body lasts as long as the stream. Only the answer's
        // head is bounded; the stream itself by an idle limit (see `WatchStream::next`).
        let mut req = self
            .identified(self.untimed(reqwest::Method::GET, "watch"))
            .header(ACCEPT, crate::stream::EVENT_STREAM);
        if let Some(id) = last_event_id {
            req = req.header(crate::stream::LAST_EVENT_ID, id.to_string());
        }
        let resp = tokio::time::timeout(self.request_timeout, self.send(req))
            .await
            .map_err(|_| TransportError::Timeout)??;
        let is_stream = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(crate::stream::EVENT_STREAM));
        let status = resp.status();
        if status == StatusCode::OK && is_stream {
            return Ok(Some(crate::stream::WatchStream::new(resp)));
        }
        if status.is_client_error() || status.is_success() {
            return Ok(None);
        }
        expect_success(resp, StatusCode::OK).await.map(|_| None)
    }

    /// `GET status`: the server's status document as JSON, as it came (ours adds the
    /// registry's self-preservation state and every peer's link to Java's fields).
    pub async fn status(&self) -> Result<bytes::Bytes, TransportError> {
        let req =
            self.identified(self.request(reqwest::Method::GET, "status")).header(ACCEPT, JSON);
        expect_success(self.send(req).await?, StatusCode::OK).await
    }

    /// `GET leases[?apps=A,B]` (our server only): live lease timings as JSON, as it came.
    /// Registry documents carry lease timestamps that may be a minute old; this does not.
    /// A server without it (Java's) answers 404.
    pub async fn leases(&self, apps: &[&str]) -> Result<bytes::Bytes, TransportError> {
        let path = match apps {
            [] => "leases".to_string(),
            apps => {
                let list: Vec<String> = apps
                    .iter()
                    .map(|a| form_urlencoded::byte_serialize(a.as_bytes()).collect())
                    .collect();
                format!("leases?apps={}", list.join(","))
            }
        };
        let req = self.identified(self.request(reqwest::Method::GET, &path)).header(ACCEPT, JSON);
        expect_success(self.send(req).await?, StatusCode::OK).await
    }

    /// `GET apps/{APP}`: one application.
    pub async fn application(&self, app: &str) -> Result<Application, TransportError> {
        let (format, body) = self.document(&format!("apps/{}", segment(app))).await?;
        Ok(format.decode_application(&body)?)
    }

    /// `GET apps/{APP}/{ID}`: one instance of one application.
    pub async fn instance(&self, app: &str, id: &str) -> Result<InstanceInfo, TransportError> {
        let (format, body) = self.document(&instance_path(app, id)).await?;
        Ok(format.decode_instance(&body)?)
    }

    /// `GET instances/{ID}`: an instance by id, whatever its application.
    pub async fn instance_by_id(&self, id: &str) -> Result<InstanceInfo, TransportError> {
        let path = format!("instances/{}", segment(id));
        let (format, body) = self.document(&path).await?;
        Ok(format.decode_instance(&body)?)
    }

    /// `GET vips/{VIP}` (or `svips/` when `secure`): the instances behind a VIP address.
    pub async fn vip(&self, vip: &str, secure: bool) -> Result<Applications, TransportError> {
        let path = format!("{}/{}", if secure { "svips" } else { "vips" }, segment(vip));
        let (format, body) = self.document(&path).await?;
        Ok(format.decode_applications(&body)?)
    }

    /// `POST peerreplication/batch/`: sends a replication batch as Java peers do (JSON, the
    /// replication header; gzip body when `compress`) and decodes the per-item answers.
    pub async fn replicate(
        &self,
        batch: &ReplicationList,
        compress: bool,
    ) -> Result<BatchAnswer, TransportError> {
        let mut body = json::encode_replication_list(batch);
        let mut req = self
            .identified(self.request(reqwest::Method::POST, "peerreplication/batch/"))
            .header(CONTENT_TYPE, JSON)
            .header(ACCEPT, JSON)
            .header(HEADER_REPLICATION, "true");
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
        let header =
            |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let health_checks = header(HEADER_HEALTH_CHECKS).map(|v| v.eq_ignore_ascii_case("on"));
        let node_name = header(HEADER_NODE_NAME).filter(|n| !n.is_empty());
        let body = expect_success(resp, StatusCode::OK).await?;
        Ok(BatchAnswer {
            list: json::decode_replication_list_response(&body)?,
            health_checks,
            node_name,
        })
    }
}

/// A peer's answer to a replication batch, with what a eureka-rs peer says of itself.
#[derive(Debug, Clone)]
pub struct BatchAnswer {
    /// One outcome per item, in order.
    pub list: ReplicationListResponse,
    /// [`HEADER_HEALTH_CHECKS`]: `None` from a server that does not send it (Java).
    pub health_checks: Option<bool>,
    /// [`HEADER_NODE_NAME`], if sent.
    pub node_name: Option<String>,
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// The lease was renewed (200).
    Renewed,
    /// The server does not know the instance (404): register again.
    NotFound,
}

/// Characters that cannot appear raw in one path segment. Ids such as `host:app:8080` keep
/// their colons, which every Eureka server accepts, while `/`, `?`, `#` and `%` are escaped.
const SEGMENT: &AsciiSet =
    &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'/').add(b'?').add(b'<').add(b'>');

fn segment(s: &str) -> PercentEncode<'_> {
    utf8_percent_encode(s, SEGMENT)
}

fn instance_path(app: &str, id: &str) -> String {
    format!("apps/{}/{}", segment(app), segment(id))
}

/// Reads a registry document, with the format the server actually answered in (servers may
/// ignore `Accept`).
async fn expect_document(
    resp: reqwest::Response,
) -> Result<(Format, bytes::Bytes), TransportError> {
    let is_xml = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("xml"));
    let body = expect_success(resp, StatusCode::OK).await?;
    let sniffed_xml = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<');
    Ok((if is_xml || sniffed_xml { Format::Xml } else { Format::Json }, body))
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
