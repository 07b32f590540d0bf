//! The Eureka route table: which resource a method and path name.
//!
//! Eureka clients reach the API under `/eureka/`, `/eureka/v2/`, or `/eureka/` and any single
//! version-like segment (Java treats unknown versions as V2), with or without a trailing
//! slash, and with instance ids raw (`host:app:8080`) or percent-encoded
//! (`host%3Aapp%3A8080`). Nothing outside [`CONTEXT`] is the API: `/apps` or `/foo/apps` is a
//! 404, so a client configured with a wrong context path finds out at once.

use std::borrow::Cow;

use axum::http::Method;
use eureka_model::AppName;
use percent_encoding::percent_decode_str;

/// A resolved Eureka API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `apps`: full registry.
    Apps,
    /// `apps/delta`: recent changes.
    Delta,
    /// `apps/{APP}`: one application (GET) or register (POST).
    App(AppName),
    /// `apps/{APP}/{ID}`: one instance (GET), renew (PUT), cancel (DELETE).
    Instance(AppName, String),
    /// `apps/{APP}/{ID}/status`: override (PUT) or remove it (DELETE).
    InstanceStatus(AppName, String),
    /// `apps/{APP}/{ID}/drain`: take out of service and wait until watchers and pollers saw
    /// it (POST; ours, not Eureka's).
    InstanceDrain(AppName, String),
    /// `apps/{APP}/{ID}/metadata`: merge metadata (PUT).
    InstanceMetadata(AppName, String),
    /// `instances/{ID}`: instance by id in any application.
    InstanceById(String),
    /// `vips/{vip}`.
    Vip(String),
    /// `svips/{svip}`.
    SecureVip(String),
    /// `status`: server status.
    Status,
    /// `peerreplication/batch`: a peer's replication batch.
    PeerBatch,
    /// `asg/{name}/status`: AWS auto-scaling group status.
    AsgStatus(String),
    /// `watch`: the change stream (ours, not Eureka's).
    Watch,
    /// `leases`: live lease timings (ours, not Eureka's): registry documents carry lease
    /// timestamps that may be up to a minute old, as Java's do.
    Leases,
}

impl Route {
    /// The path template of the route, whatever prefix, case or id the request used: the
    /// `route` label of request metrics (raw paths carry instance ids, an unbounded set).
    pub fn template(&self) -> &'static str {
        match self {
            Route::Apps => "/eureka/apps",
            Route::Delta => "/eureka/apps/delta",
            Route::App(_) => "/eureka/apps/{app}",
            Route::Instance(..) => "/eureka/apps/{app}/{id}",
            Route::InstanceStatus(..) => "/eureka/apps/{app}/{id}/status",
            Route::InstanceMetadata(..) => "/eureka/apps/{app}/{id}/metadata",
            Route::InstanceDrain(..) => "/eureka/apps/{app}/{id}/drain",
            Route::InstanceById(_) => "/eureka/instances/{id}",
            Route::Vip(_) => "/eureka/vips/{vip}",
            Route::SecureVip(_) => "/eureka/svips/{svip}",
            Route::Status => "/eureka/status",
            Route::PeerBatch => "/eureka/peerreplication/batch",
            Route::AsgStatus(_) => "/eureka/asg/{asg}/status",
            Route::Watch => "/eureka/watch",
            Route::Leases => "/eureka/leases",
        }
    }
}

/// The first path segment of every Eureka API path (Spring's and Netflix's `/eureka/`).
pub const CONTEXT: &str = "eureka";

/// The `route` label of a request that matched no route (404, 405 or an undecodable path).
pub const UNMATCHED: &str = "unmatched";

/// Why a path is not a Eureka route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No such resource.
    NotFound,
    /// A segment is not valid percent-encoded UTF-8; carries the raw segment.
    BadEncoding(String),
    /// A segment decodes to something that names no application or instance: a dot segment
    /// (`.`, `..`: a proxy or client would resolve it to another path) or text with control
    /// characters; carries the raw segment and why.
    BadSegment(String, &'static str),
    /// The resource exists but not with this method; carries the allowed methods.
    MethodNotAllowed(&'static str),
}

const RESOURCES: [&str; 9] =
    ["apps", "instances", "vips", "svips", "status", "peerreplication", "asg", "watch", "leases"];

/// Resolves a request path (without query) to a route.
pub fn resolve(method: &Method, path: &str) -> Result<Route, RouteError> {
    let raw: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut segs: &[&str] = match raw.split_first() {
        Some((&CONTEXT, rest)) => rest,
        _ => return Err(RouteError::NotFound),
    };
    if segs.len() >= 2 && !RESOURCES.contains(&segs[0]) && RESOURCES.contains(&segs[1]) {
        segs = &segs[1..];
    }
    let decoded: Vec<Cow<'_, str>> =
        segs.iter().map(|s| decode_segment(s)).collect::<Result<_, _>>()?;
    let d: Vec<&str> = decoded.iter().map(|s| s.as_ref()).collect();
    let allow = |route: Route, ok: &[Method], allowed: &'static str| {
        if ok.contains(method) {
            Ok(route)
        } else {
            Err(RouteError::MethodNotAllowed(allowed))
        }
    };
    use Method as M;
    match d.as_slice() {
        ["apps"] => allow(Route::Apps, &[M::GET], "GET"),
        ["apps", "delta"] if method == M::GET => Ok(Route::Delta),
        ["apps", app] => allow(Route::App(AppName::new(app)), &[M::GET, M::POST], "GET, POST"),
        ["apps", app, id] => allow(
            Route::Instance(AppName::new(app), id.to_string()),
            &[M::GET, M::PUT, M::DELETE],
            "GET, PUT, DELETE",
        ),
        ["apps", app, id, "status"] => allow(
            Route::InstanceStatus(AppName::new(app), id.to_string()),
            &[M::PUT, M::DELETE],
            "PUT, DELETE",
        ),
        ["apps", app, id, "metadata"] => {
            allow(Route::InstanceMetadata(AppName::new(app), id.to_string()), &[M::PUT], "PUT")
        }
        ["apps", app, id, "drain"] => {
            allow(Route::InstanceDrain(AppName::new(app), id.to_string()), &[M::POST], "POST")
        }
        ["instances", id] => allow(Route::InstanceById(id.to_string()), &[M::GET], "GET"),
        ["vips", vip] => allow(Route::Vip(vip.to_string()), &[M::GET], "GET"),
        ["svips", vip] => allow(Route::SecureVip(vip.to_string()), &[M::GET], "GET"),
        ["status"] => allow(Route::Status, &[M::GET], "GET"),
        ["watch"] => allow(Route::Watch, &[M::GET], "GET"),
        ["leases"] => allow(Route::Leases, &[M::GET], "GET"),
        ["peerreplication", "batch"] => allow(Route::PeerBatch, &[M::POST], "POST"),
        ["asg", name, "status"] => allow(Route::AsgStatus(name.to_string()), &[M::PUT], "PUT"),
        _ => Err(RouteError::NotFound),
    }
}

/// Percent-decodes one path segment strictly: every `%` starts two hex digits, the result is
/// UTF-8 without control characters, and is not a dot segment. Borrows when nothing is
/// escaped (every path a renewal sends).
fn decode_segment(raw: &str) -> Result<Cow<'_, str>, RouteError> {
    let bytes = raw.as_bytes();
    let escapes_ok = bytes.iter().enumerate().filter(|(_, &b)| b == b'%').all(|(i, _)| {
        bytes.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !escapes_ok {
        return Err(RouteError::BadEncoding(raw.to_string()));
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| RouteError::BadEncoding(raw.to_string()))?;
    if decoded == "." || decoded == ".." {
        return Err(RouteError::BadSegment(
            raw.to_string(),
            "dot segments name no application or instance",
        ));
    }
    if decoded.chars().any(char::is_control) {
        return Err(RouteError::BadSegment(
            raw.to_string(),
            "an application name or instance id cannot contain control characters",
        ));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(s: &str) -> AppName {
        AppName::new(s)
    }

    #[test]
    fn every_prefix_and_trailing_slash_resolves() {
        for p in [
            "/eureka/apps",
            "/eureka/apps/",
            "/eureka/v2/apps",
            "/eureka/v2/apps/",
            "/eureka/v1/apps",
            "/eureka/V2/apps/",
        ] {
            assert_eq!(resolve(&Method::GET, p), Ok(Route::Apps), "{p}");
        }
        assert_eq!(resolve(&Method::POST, "/eureka/peerreplication/batch/"), Ok(Route::PeerBatch));
    }

    #[test]
    fn paths_outside_the_eureka_context_are_not_the_api() {
        for p in ["/apps", "/apps/", "/v2/apps", "/foo/apps", "/foo/v2/apps", "/eurekaX/apps", "/"]
        {
            assert_eq!(resolve(&Method::GET, p), Err(RouteError::NotFound), "{p}");
        }
        assert_eq!(resolve(&Method::GET, "/status"), Err(RouteError::NotFound));
        assert_eq!(resolve(&Method::GET, "/eureka/x/y/apps"), Err(RouteError::NotFound));
    }

    #[test]
    fn app_names_are_upper_cased_and_ids_percent_decoded() {
        assert_eq!(
            resolve(&Method::PUT, "/eureka/apps/py-harness/py-harness%3A18081"),
            Ok(Route::Instance(app("PY-HARNESS"), "py-harness:18081".into()))
        );
        assert_eq!(
            resolve(&Method::DELETE, "/eureka/v2/apps/orders/web-1:orders:8080/status"),
            Ok(Route::InstanceStatus(app("ORDERS"), "web-1:orders:8080".into()))
        );
    }

    #[test]
    fn templates_do_not_depend_on_prefix_or_ids() {
        let a = resolve(&Method::PUT, "/eureka/v2/apps/orders/web-1%3Aorders").unwrap();
        let b = resolve(&Method::PUT, "/eureka/apps/BILLING/b-2/").unwrap();
        assert_eq!(a.template(), "/eureka/apps/{app}/{id}");
        assert_eq!(a.template(), b.template());
    }

    #[test]
    fn delta_is_only_a_get() {
        assert_eq!(resolve(&Method::GET, "/eureka/apps/delta"), Ok(Route::Delta));
        assert_eq!(resolve(&Method::POST, "/eureka/apps/delta"), Ok(Route::App(app("DELTA"))));
    }

    #[test]
    fn wrong_method_and_unknown_paths_are_told_apart() {
        assert_eq!(
            resolve(&Method::DELETE, "/eureka/apps"),
            Err(RouteError::MethodNotAllowed("GET"))
        );
        assert_eq!(resolve(&Method::GET, "/eureka/nothing/here/at/all"), Err(RouteError::NotFound));
        assert!(matches!(
            resolve(&Method::GET, "/eureka/apps/%FF%FE"),
            Err(RouteError::BadEncoding(_))
        ));
    }

    #[test]
    fn bad_escapes_dot_segments_and_control_characters_are_refused() {
        for bad in ["%ZZ", "a%2", "%", "x%G1"] {
            let path = format!("/eureka/apps/ORDERS/{bad}");
            assert_eq!(
                resolve(&Method::DELETE, &path),
                Err(RouteError::BadEncoding(bad.into())),
                "{bad}"
            );
        }
        for bad in ["..", ".", "%2e%2E", "%2E", "a%00", "a%0Ab", "%7F"] {
            let path = format!("/eureka/apps/ORDERS/{bad}");
            assert!(
                matches!(resolve(&Method::DELETE, &path), Err(RouteError::BadSegment(..))),
                "{bad}"
            );
        }
        // Ids with dots, escaped slashes and non-ASCII text are fine.
        assert_eq!(
            resolve(&Method::DELETE, "/eureka/apps/ORDERS/a.b%2F..%C3%A9"),
            Ok(Route::Instance(app("ORDERS"), "a.b/..é".into()))
        );
    }
}
