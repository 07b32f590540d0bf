//! The requests real Eureka clients send (Jersey-client JSON, gzip accepted), for instance
//! number `n` of the benchmark registry: app `APP-{n % APPS}`, id `inst-{n}`.

use std::net::SocketAddr;
use std::sync::OnceLock;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};

use crate::load::Body;

/// How many applications the instances are spread over (100 instances each at 10k).
pub const APPS: u64 = 100;

/// The `lastDirtyTimestamp` of the registration bodies, sent back on renewals.
pub const DIRTY: &str = "1700000000000";

/// Instance number `n`'s application name.
pub fn app(n: u64) -> String {
    format!("APP-{:03}", n % APPS)
}

/// Instance number `n`'s id.
pub fn id(n: u64) -> String {
    format!("inst-{n}")
}

/// The user `--auth` runs our server with, and its password.
pub const AUTH_USER: (&str, &str) = ("bench", "bench-pw");
/// `Basic base64("bench:bench-pw")`.
const AUTH_HEADER: &str = "Basic YmVuY2g6YmVuY2gtcHc=";
/// Set by `--auth`: every request carries [`AUTH_HEADER`] (servers without security ignore it).
static SEND_CREDENTIALS: OnceLock<()> = OnceLock::new();

/// From now on, every request carries the credentials of [`AUTH_USER`].
pub fn send_credentials() {
    let _ = SEND_CREDENTIALS.set(());
}

fn request(addr: SocketAddr, method: Method, path: &str) -> hyper::http::request::Builder {
    // Tomcat answers 400 to an HTTP/1.1 request without Host.
    let req = Request::builder().method(method).uri(path).header(HOST, addr.to_string());
    match SEND_CREDENTIALS.get() {
        Some(()) => req.header(AUTHORIZATION, HeaderValue::from_static(AUTH_HEADER)),
        None => req,
    }
}

/// `POST /eureka/apps/APP` with instance `n`'s registration, `lastDirtyTimestamp = dirty`.
pub fn register(addr: SocketAddr, n: u64, dirty: u64) -> Request<Body> {
    register_with_lease(addr, n, dirty, (30, 90))
}

/// [`register`] with a `leaseInfo` of (`renewalIntervalInSecs`, `durationInSecs`).
pub fn register_with_lease(
    addr: SocketAddr,
    n: u64,
    dirty: u64,
    lease: (u32, u32),
) -> Request<Body> {
    let body = eureka_testkit::fixtures::java_json_lease(&app(n), &id(n), 8080, lease, dirty);
    request(addr, Method::POST, &format!("/eureka/apps/{}", app(n)))
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("valid request")
}

/// `PUT /eureka/apps/APP/ID?status=UP&lastDirtyTimestamp=…`, a heartbeat as Java clients send it.
pub fn renew(addr: SocketAddr, n: u64) -> Request<Body> {
    let path = format!("/eureka/apps/{}/{}?status=UP&lastDirtyTimestamp={DIRTY}", app(n), id(n));
    request(addr, Method::PUT, &path)
        .header(ACCEPT, "application/json")
        .body(Full::default())
        .expect("valid request")
}

/// `GET /eureka/apps`, JSON, gzip accepted.
pub fn full_fetch(addr: SocketAddr) -> Request<Body> {
    fetch(addr, "/eureka/apps/")
}

/// `GET /health/ready`: 200 once a server's start-up copy from its peers is done (ours only).
pub fn ready(addr: SocketAddr) -> Request<Body> {
    fetch(addr, "/health/ready")
}

/// `GET /eureka/status`, JSON: the registry's counts and self-preservation state.
pub fn status(addr: SocketAddr) -> Request<Body> {
    request(addr, Method::GET, "/eureka/status")
        .header(ACCEPT, "application/json")
        .body(Full::default())
        .expect("valid request")
}

/// `GET /eureka/apps/delta`, JSON, gzip accepted.
pub fn delta_fetch(addr: SocketAddr) -> Request<Body> {
    fetch(addr, "/eureka/apps/delta")
}

fn fetch(addr: SocketAddr, path: &str) -> Request<Body> {
    request(addr, Method::GET, path)
        .header(ACCEPT, "application/json")
        .header(ACCEPT_ENCODING, "gzip")
        .body(Full::default())
        .expect("valid request")
}

/// A body as sent, inflated when it is gzip (by its magic bytes).
pub fn inflate(body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        if flate2::read::GzDecoder::new(body).read_to_end(&mut out).is_ok() {
            return out;
        }
    }
    body.to_vec()
}
