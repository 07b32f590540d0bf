//! The one error type of the HTTP layer and its mapping to responses.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use eureka_model::{DecodeError, ValidationError};
use eureka_registry::RegistryError;

/// The `WWW-Authenticate` challenge of 401 answers.
pub const CHALLENGE: &str = r#"Basic realm="eureka", charset="UTF-8""#;

/// An error answered to the client: a status and a one-line message saying what is wrong.
///
/// Bodies are plain text. Registry kinds map to HTTP here and nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Message for the body; empty means no body (renew 404s must have none).
    pub message: String,
    /// `Allow` header for 405 answers.
    pub allow: Option<&'static str>,
}

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), allow: None }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 413 Payload Too Large.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {limit} bytes (eureka.server.max-request-body-bytes)"),
        )
    }

    /// 408 Request Timeout: the body did not arrive within `server.request-timeout`.
    pub fn request_timeout(limit: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "request body not received within {} ms (server.request-timeout); \
                 send the body without pauses",
                limit.as_millis()
            ),
        )
    }

    /// 415 Unsupported Media Type.
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, message)
    }

    /// 401 Unauthorized with a Basic challenge, so browsers prompt for credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 405 Method Not Allowed with its `Allow` list.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        ApiError {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("method not allowed here; allowed: {allow}"),
            )
        }
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotFound { .. } => ApiError::not_found(e.to_string()),
            RegistryError::Invalid(v) => ApiError::bad_request(v.to_string()),
            RegistryError::NotOwner { .. } => ApiError::forbidden(e.to_string()),
        }
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        ApiError::bad_request(format!("cannot parse request body: {e}"))
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// The longest message body sent, in characters: messages quote what the client sent (paths,
/// ids), which can be as long as the request allows.
pub const MAX_MESSAGE_CHARS: usize = 1024;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = if self.message.is_empty() {
            self.status.into_response()
        } else {
            let message = match self.message.char_indices().nth(MAX_MESSAGE_CHARS) {
                Some((cut, _)) => format!("{}…", &self.message[..cut]),
                None => self.message,
            };
            (
                self.status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("{message}\n"),
            )
                .into_response()
        };
        if let Some(allow) = self.allow {
            response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::REQUEST_TIMEOUT {
            // The rest of a body may still be on its way: the connection cannot be reused.
            let close = header::HeaderValue::from_static("close");
            response.headers_mut().insert(header::CONNECTION, close);
        }
        // Every 401 asks for Basic credentials, so browsers prompt for them.
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static(CHALLENGE));
        }
        response
    }
}
