//! Errors of decoding and validating wire documents.

use thiserror::Error;

/// A document could not be decoded; the message says where and why, for a 400 body.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes are not well-formed JSON or XML.
    #[error("malformed {format}: {detail}")]
    Syntax {
        /// `JSON` or `XML`.
        format: &'static str,
        /// What the parser reported.
        detail: String,
    },
    /// The document is well-formed but its root is not the expected one.
    #[error("expected root '{expected}', found '{found}'")]
    WrongRoot {
        /// The root name required here (`instance`, `application`, `applications`).
        expected: &'static str,
        /// The root actually found.
        found: String,
    },
    /// A field has a value of the wrong type or out of range.
    #[error("invalid value for '{field}': {detail}")]
    InvalidField {
        /// Dotted path of the field, e.g. `instance.port.$`.
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A field appears twice in one object or element, so which value counts would be a guess.
    #[error("duplicate {name} at {location}: each field may appear only once")]
    Duplicate {
        /// What is repeated, e.g. `key "app"` or `element <app>`.
        name: String,
        /// Where: `line 1 column 40` (JSON) or the enclosing element's path (XML).
        location: String,
    },
    /// The document nests deeper than the decoder allows.
    #[error("document nested deeper than {0} levels")]
    TooDeep(usize),
}

/// A decoded registration is missing something the server requires (Java's 400 texts).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// No `instanceId`, AWS instance id or `hostName` to identify the instance.
    #[error("Missing instanceId")]
    MissingInstanceId,
    /// `hostName` is blank.
    #[error("Missing hostname")]
    MissingHostName,
    /// `ipAddr` is blank.
    #[error("Missing ip address")]
    MissingIpAddr,
    /// `app` is blank.
    #[error("Missing appName")]
    MissingAppName,
    /// The body's `app` differs from the application in the URL.
    #[error("Mismatched appName, expecting {expected} but was {actual}")]
    MismatchedAppName {
        /// The app named in the URL path.
        expected: String,
        /// The app named in the body.
        actual: String,
    },
    /// No `dataCenterInfo` object.
    #[error("Missing dataCenterInfo")]
    MissingDataCenterInfo,
    /// `dataCenterInfo` has no `name`.
    #[error("Missing dataCenterInfo Name")]
    MissingDataCenterName,
    /// The instance id or app name holds control characters: no request path could name it
    /// (the router refuses them) and XML cannot carry most of them.
    #[error("Invalid {field}: control characters are not allowed")]
    ControlCharacters {
        /// `instanceId` or `app`.
        field: &'static str,
    },
}
