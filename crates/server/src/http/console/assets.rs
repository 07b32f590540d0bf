//! The console's embedded files: the HTML shell, the styles and the script's ES modules.
//!
//! Assets are served under `P/assets/{version}/{file}`, `version` being a hash of all of
//! them: the modules import each other by relative paths (`./format.js`), which resolve
//! under the same version, so a page never mixes files of two builds, and each file can be
//! cached for a year.

use std::sync::{Arc, OnceLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{labelled, LABEL_ASSET, LABEL_PAGE};

/// The HTML shell; `{{BASE}}` becomes the dashboard path without its trailing '/', `{{V}}`
/// the assets' version and `{{EUREKA}}` the Eureka API's path.
pub const PAGE_TEMPLATE: &str = include_str!("../../../assets/console/index.html");

/// Every asset: (file name, content type, content). `app.js` is the entry module.
pub const FILES: [(&str, &str, &str); 10] = [
    ("console.css", CSS, include_str!("../../../assets/console/console.css")),
    ("app.js", JS, include_str!("../../../assets/console/app.js")),
    ("dom.js", JS, include_str!("../../../assets/console/dom.js")),
    ("format.js", JS, include_str!("../../../assets/console/format.js")),
    ("model.js", JS, include_str!("../../../assets/console/model.js")),
    ("live.js", JS, include_str!("../../../assets/console/live.js")),
    ("view.js", JS, include_str!("../../../assets/console/view.js")),
    ("overview.js", JS, include_str!("../../../assets/console/overview.js")),
    ("instance.js", JS, include_str!("../../../assets/console/instance.js")),
    ("actions.js", JS, include_str!("../../../assets/console/actions.js")),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Content-Security-Policy of the page: only its own scripts, styles and connections, so a
/// value a registered instance chose can never run as script even if it reached the DOM as
/// markup.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; form-action 'none'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// The assets' version: a content hash of every file (64-bit FNV-1a), computed once.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let hash = FILES.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, (name, _, body)| {
            name.bytes()
                .chain(body.bytes())
                .fold(h, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
        });
        format!("{hash:016x}")
    })
}

/// The shell for a dashboard at `base`, with the Eureka API at `eureka` (e.g. `/eureka/`).
pub fn page(base: &str, eureka: &str) -> Arc<str> {
    PAGE_TEMPLATE
        .replace("{{BASE}}", base.trim_end_matches('/'))
        .replace("{{V}}", version())
        .replace("{{EUREKA}}", eureka)
        .into()
}

/// The shell: every console address (`P`, `P/apps/A`, `P/apps/A/ID`) answers it and the
/// script shows the view the address names.
pub fn page_response(page: Arc<str>) -> Response {
    let response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
            (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ],
        page.to_string(),
    )
        .into_response();
    labelled(response, LABEL_PAGE)
}

/// `GET P/assets/{version}/{file}`. A file of the current version is cached for a year; one
/// asked under another version (a page from before a restart) is served as it is now but not
/// cached. Unknown files: 404.
pub async fn asset(Path((asked, file)): Path<(String, String)>) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        let response = (StatusCode::NOT_FOUND, format!("no console asset named {file}"));
        return labelled(response.into_response(), LABEL_ASSET);
    };
    let cache = if asked == version() { "public, max-age=31536000, immutable" } else { "no-cache" };
    let response = (
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        *body,
    )
        .into_response();
    labelled(response, LABEL_ASSET)
}
