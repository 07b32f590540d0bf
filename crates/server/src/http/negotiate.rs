//! Content negotiation exactly as the Java server does it.

use axum::http::{header, HeaderMap};
use eureka_model::Format;

use super::error::ApiError;

/// Response format: JSON when `Accept` contains `json` anywhere, otherwise XML (a missing
/// `Accept`, `*/*` and `application/xml` all get XML; py-eureka-client relies on this).
pub fn response_format(headers: &HeaderMap) -> Format {
    let json = headers
        .get_all(header::ACCEPT)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.to_ascii_lowercase().contains("json")));
    if json {
        Format::Json
    } else {
        Format::Xml
    }
}

/// Whether the client accepts a gzip body.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .any(|v| v.to_str().is_ok_and(|s| s.to_ascii_lowercase().contains("gzip")))
}

/// How a request body is encoded: its format and whether it is Latin-1 rather than UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyType {
    /// JSON or XML.
    pub format: Format,
    /// `charset=ISO-8859-1` was given.
    pub latin1: bool,
}

/// The request body type from `Content-Type`; anything but JSON or XML is a 415.
pub fn body_type(headers: &HeaderMap) -> Result<BodyType, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(ApiError::unsupported_media_type(
            "missing Content-Type: send application/json or application/xml",
        ));
    };
    let value = value.to_str().unwrap_or("").to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    let format = match media {
        "application/json" | "text/json" => Format::Json,
        "application/xml" | "text/xml" => Format::Xml,
        other => {
            return Err(ApiError::unsupported_media_type(format!(
                "unsupported Content-Type '{other}': send application/json or application/xml"
            )))
        }
    };
    let mut latin1 = false;
    for param in parts {
        if let Some(charset) = param.strip_prefix("charset=") {
            match charset.trim_matches('"') {
                "utf-8" | "utf8" => {}
                "iso-8859-1" | "latin1" => latin1 = true,
                other => {
                    return Err(ApiError::unsupported_media_type(format!(
                        "unsupported charset '{other}': send UTF-8 or ISO-8859-1"
                    )))
                }
            }
        }
    }
    Ok(BodyType { format, latin1 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn json_only_when_accept_mentions_json() {
        assert_eq!(response_format(&headers(&[])), Format::Xml);
        assert_eq!(response_format(&headers(&[(header::ACCEPT, "*/*")])), Format::Xml);
        assert_eq!(response_format(&headers(&[(header::ACCEPT, "application/xml")])), Format::Xml);
        assert_eq!(
            response_format(&headers(&[(header::ACCEPT, "application/json")])),
            Format::Json
        );
        assert_eq!(
            response_format(&headers(&[(
                header::ACCEPT,
                "text/plain, application/vnd+json;q=0.1"
            )])),
            Format::Json
        );
    }

    #[test]
    fn body_types() {
        let t = body_type(&headers(&[(header::CONTENT_TYPE, "application/json; charset=UTF-8")]))
            .unwrap();
        assert_eq!((t.format, t.latin1), (Format::Json, false));
        let t =
            body_type(&headers(&[(header::CONTENT_TYPE, "application/xml;charset=ISO-8859-1")]))
                .unwrap();
        assert_eq!((t.format, t.latin1), (Format::Xml, true));
        assert!(body_type(&headers(&[])).is_err());
        assert!(body_type(&headers(&[(header::CONTENT_TYPE, "text/plain")])).is_err());
        assert!(body_type(&headers(&[(header::CONTENT_TYPE, "application/json; charset=utf-16")]))
            .is_err());
    }

    #[test]
    fn gzip_detection() {
        assert!(accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "gzip, deflate")])));
        assert!(!accepts_gzip(&headers(&[(header::ACCEPT_ENCODING, "deflate")])));
    }
}
