//! Eureka wire model: the types Eureka servers and clients exchange, and their codecs.
//!
//! Every quirk of the Java wire format lives in this crate and nowhere else: string-typed
//! timestamps, `$`/`@enabled` ports, `@class` markers, arrays even for one element, the
//! `_` → `__` XML name coding and the `apps__hashcode` reconcile hash.
//!
//! - [`instance`]: `InstanceInfo` and its parts (status, ports, lease, data center).
//! - [`apps`]: `Application`, `Applications` and the reconcile hash code.
//! - [`json`]: the JSON codec, field-for-field what Java's `EurekaJacksonCodec` writes, and the
//!   peer replication batch codec (JSON only).
//! - [`xml`]: the XML codec, what Java's XStream converters write.
//! - [`compact`]: the compact instance form (`X-Eureka-Accept: compact`), JSON and XML.
//! - [`replication`]: the peer replication batch messages.
//! - [`error`]: the decode and validation errors.

#![warn(missing_docs)]

pub mod apps;
pub mod compact;
pub mod error;
pub mod instance;
pub mod json;
pub mod replication;
pub mod xml;

pub use apps::{reconcile_hash_code, Application, Applications};
pub use error::{DecodeError, ValidationError};
pub use instance::{
    ActionType, AppName, DataCenterClass, DataCenterInfo, DataCenterName, InstanceInfo,
    InstanceStatus, LeaseInfo, Port,
};

/// The two wire formats Eureka speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `application/json`, the legacy Jackson codec shape.
    Json,
    /// `application/xml`, the XStream shape.
    Xml,
}

/// The parts of an `applications` document around its applications, see
/// [`Format::applications_frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFrame {
    /// Everything before the first application (root, version, hash).
    pub head: Vec<u8>,
    /// Written between two applications.
    pub separator: &'static [u8],
    /// Everything after the last application (the compact form ends with version and hash).
    pub tail: Vec<u8>,
}

impl Format {
    /// The media type to send in `Content-Type` for this format.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => "application/xml",
        }
    }

    /// Encodes a single instance wrapped in its `instance` root.
    pub fn encode_instance(self, info: &InstanceInfo) -> Vec<u8> {
        match self {
            Format::Json => json::encode_instance(info),
            Format::Xml => xml::encode_instance(info),
        }
    }

    /// Encodes one application wrapped in its `application` root.
    pub fn encode_application(self, app: &Application) -> Vec<u8> {
        match self {
            Format::Json => json::encode_application(app),
            Format::Xml => xml::encode_application(app),
        }
    }

    /// Encodes a registry (full, delta or VIP subset) wrapped in its `applications` root.
    pub fn encode_applications(self, apps: &Applications) -> Vec<u8> {
        match self {
            Format::Json => json::encode_applications(apps),
            Format::Xml => xml::encode_applications(apps),
        }
    }

    /// The frame of an `applications` document, for caches that re-encode only the
    /// applications that changed: `head`, then each [`Format::encode_application_entry`]
    /// joined by `separator`, then `tail`, is exactly [`Format::encode_applications`].
    pub fn applications_frame(self, versions_delta: &str, apps_hashcode: &str) -> DocumentFrame {
        match self {
            Format::Json => DocumentFrame {
                head: json::applications_head(versions_delta, apps_hashcode),
                separator: json::APPLICATIONS_SEPARATOR,
                tail: json::APPLICATIONS_TAIL.to_vec(),
            },
            Format::Xml => DocumentFrame {
                head: xml::applications_head(versions_delta, apps_hashcode),
                separator: xml::APPLICATIONS_SEPARATOR,
                tail: xml::APPLICATIONS_TAIL.to_vec(),
            },
        }
    }

    /// One application as it appears inside an `applications` document (no root of its own
    /// in JSON; the `application` element in XML).
    pub fn encode_application_entry(self, app: &Application) -> Vec<u8> {
        match self {
            Format::Json => json::encode_application_entry(app),
            Format::Xml => xml::encode_application(app),
        }
    }

    /// Decodes a register body (`instance` root).
    pub fn decode_instance(self, body: &[u8]) -> Result<InstanceInfo, DecodeError> {
        match self {
            Format::Json => json::decode_instance(body),
            Format::Xml => xml::decode_instance(body),
        }
    }

    /// Decodes one application (`application` root).
    pub fn decode_application(self, body: &[u8]) -> Result<Application, DecodeError> {
        match self {
            Format::Json => json::decode_application(body),
            Format::Xml => xml::decode_application(body),
        }
    }

    /// Decodes a registry document (`applications` root).
    pub fn decode_applications(self, body: &[u8]) -> Result<Applications, DecodeError> {
        match self {
            Format::Json => json::decode_applications(body),
            Format::Xml => xml::decode_applications(body),
        }
    }
}

/// How much of each instance a registry document carries: Java's `EurekaAccept`, asked for
/// with the `X-Eureka-Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Detail {
    /// Every field (the default).
    #[default]
    Full,
    /// The compact instance form, see [`compact`].
    Compact,
}

impl Detail {
    /// `X-Eureka-Accept: compact` (any case) is compact; a missing or other value is full.
    pub fn from_header(value: Option<&[u8]>) -> Detail {
        match value {
            Some(v) if v.trim_ascii().eq_ignore_ascii_case(b"compact") => Detail::Compact,
            _ => Detail::Full,
        }
    }
}

/// What a registry document is encoded with: a wire format and a level of detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Codec {
    /// JSON or XML.
    pub format: Format,
    /// Full or compact instances.
    pub detail: Detail,
}

impl Codec {
    /// A codec of `format` at `detail`.
    pub const fn new(format: Format, detail: Detail) -> Self {
        Codec { format, detail }
    }

    /// Encodes one application wrapped in its `application` root.
    pub fn encode_application(self, app: &Application) -> Vec<u8> {
        match self.detail {
            Detail::Full => self.format.encode_application(app),
            Detail::Compact => compact::encode_application(self.format, app),
        }
    }

    /// Encodes a registry document wrapped in its `applications` root.
    pub fn encode_applications(self, apps: &Applications) -> Vec<u8> {
        match self.detail {
            Detail::Full => self.format.encode_applications(apps),
            Detail::Compact => compact::encode_applications(self.format, apps),
        }
    }

    /// The frame of an `applications` document, see [`Format::applications_frame`].
    pub fn applications_frame(self, versions_delta: &str, apps_hashcode: &str) -> DocumentFrame {
        match self.detail {
            Detail::Full => self.format.applications_frame(versions_delta, apps_hashcode),
            Detail::Compact => {
                compact::applications_frame(self.format, versions_delta, apps_hashcode)
            }
        }
    }

    /// One application as it appears inside an `applications` document.
    pub fn encode_application_entry(self, app: &Application) -> Vec<u8> {
        match self.detail {
            Detail::Full => self.format.encode_application_entry(app),
            Detail::Compact => compact::encode_application_entry(self.format, app),
        }
    }
}
