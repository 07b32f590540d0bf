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
//! - [`replication`]: the peer replication batch messages.
//! - [`error`]: the decode and validation errors.

#![warn(missing_docs)]

pub mod apps;
pub mod error;
pub mod instance;
pub mod json;
pub mod metadata;
pub mod replication;
pub mod xml;

pub use apps::{hash_code_of_counts, reconcile_hash_code, Application, Applications};
pub use error::{DecodeError, ValidationError};
pub use instance::{
    ActionType, AppName, DataCenterClass, DataCenterInfo, DataCenterName, InstanceInfo,
    InstanceStatus, LeaseInfo, Port,
};
pub use metadata::Metadata;

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
    /// Everything after the last application.
    pub tail: &'static [u8],
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
                tail: json::APPLICATIONS_TAIL,
            },
            Format::Xml => DocumentFrame {
                head: xml::applications_head(versions_delta, apps_hashcode),
                separator: xml::APPLICATIONS_SEPARATOR,
                tail: xml::APPLICATIONS_TAIL,
            },
        }
    }

    /// The parts of one application entry around its instances, so a document can be
    /// assembled from instances encoded one by one (the delta's per-change fragments).
    pub fn application_frame(self, name: &str) -> DocumentFrame {
        match self {
            Format::Json => DocumentFrame {
                head: json::application_head(name),
                separator: b",",
                tail: json::APPLICATION_TAIL,
            },
            Format::Xml => DocumentFrame {
                head: xml::application_head(name),
                separator: b"",
                tail: xml::APPLICATION_TAIL,
            },
        }
    }

    /// One instance as it appears inside an application entry (the JSON object without an
    /// `instance` root; the `instance` element in XML).
    pub fn encode_instance_entry(self, info: &InstanceInfo) -> Vec<u8> {
        match self {
            Format::Json => json::encode_instance_entry(info),
            Format::Xml => xml::encode_instance(info),
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
