//! The lenient scalar rules both decoders share (JSON and XML), and [`Path`], where in a
//! document a value sits, for error messages.

use crate::instance::{DataCenterClass, DataCenterName, LeaseInfo};
use crate::DecodeError;

/// Parses decimal integer text (surrounding whitespace and a sign allowed); `None` if blank.
pub(crate) fn parse_integer_text(text: &str) -> Result<Option<i128>, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    // Timestamps and ports fit an i64, which parses faster than an i128 (same syntax).
    if let Ok(n) = trimmed.parse::<i64>() {
        return Ok(Some(i128::from(n)));
    }
    trimmed
        .parse::<i128>()
        .map(Some)
        .map_err(|_| format!("expected an integer, found {}", quoted(trimmed)))
}

/// Java's `Boolean.parseBoolean`: `true` in any case is true, other text false; `None` if blank.
pub(crate) fn parse_bool_text(text: &str) -> Option<bool> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.eq_ignore_ascii_case("true"))
    }
}

/// A timestamp or other unsigned value: negatives clamp to 0, overflow is an error.
pub(crate) fn clamp_u64(n: i128, path: &Path<'_>) -> Result<u64, DecodeError> {
    u64::try_from(n.max(0)).map_err(|_| path.invalid("out of range"))
}

/// A lease interval in seconds: negatives clamp to 0, overflow is an error.
pub(crate) fn clamp_u32(n: i128, path: &Path<'_>) -> Result<u32, DecodeError> {
    u32::try_from(n.max(0)).map_err(|_| path.invalid("out of range"))
}

/// A port number, which must lie in `0..=65535`.
pub(crate) fn port_number(n: i128, path: &Path<'_>) -> Result<u16, DecodeError> {
    u16::try_from(n).map_err(|_| path.invalid(format!("port {n} is outside 0..=65535")))
}

/// Whether `sid` is one of the Java placeholders `na`/`unknown`, which mean "not set".
pub(crate) fn is_placeholder_sid(sid: &str) -> bool {
    sid == "na" || sid == "unknown"
}

/// `sid` as decoded: the Java placeholders `na`/`unknown` mean "not set".
pub(crate) fn decode_sid(sid: String) -> Option<String> {
    if is_placeholder_sid(&sid) {
        None
    } else {
        Some(sid)
    }
}

/// A data center name: exact or case-insensitive match; blank is `None`, anything else an error.
pub(crate) fn parse_data_center_name(
    text: &str,
    path: &Path<'_>,
) -> Result<Option<DataCenterName>, DecodeError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if let Some(name) = DataCenterName::parse(trimmed) {
        return Ok(Some(name));
    }
    [DataCenterName::MyOwn, DataCenterName::Amazon, DataCenterName::Netflix]
        .into_iter()
        .find(|n| n.as_str().eq_ignore_ascii_case(trimmed))
        .map(Some)
        .ok_or_else(|| path.invalid(format!("unknown data center name {}", quoted(trimmed))))
}

/// The data center class: the given Java class if it is one of the three known, else inferred
/// from the name (`Amazon` → `AmazonInfo`, anything else → `DefaultDataCenterInfo`).
pub(crate) fn data_center_class(
    java_class: Option<&str>,
    name: Option<DataCenterName>,
) -> DataCenterClass {
    java_class.map(str::trim).and_then(DataCenterClass::from_java_class).unwrap_or(
        if name == Some(DataCenterName::Amazon) {
            DataCenterClass::Amazon
        } else {
            DataCenterClass::Default
        },
    )
}

/// Collects `leaseInfo` fields by name; `renewalTimestamp` is the legacy alias of
/// `lastRenewalTimestamp`, which wins when both are present. Missing fields keep the defaults.
#[derive(Debug, Default)]
pub(crate) struct LeaseBuilder {
    lease: LeaseInfo,
    last_renewal: Option<u64>,
    legacy_renewal: Option<u64>,
}

impl LeaseBuilder {
    /// Whether `name` is a lease field this builder reads (others are ignored).
    pub(crate) fn is_field(name: &str) -> bool {
        Self::field_index(name).is_some()
    }

    /// A distinct number below 8 for each lease field this builder reads.
    pub(crate) fn field_index(name: &str) -> Option<u32> {
        Some(match name {
            "renewalIntervalInSecs" => 0,
            "durationInSecs" => 1,
            "registrationTimestamp" => 2,
            "lastRenewalTimestamp" => 3,
            "renewalTimestamp" => 4,
            "evictionTimestamp" => 5,
            "serviceUpTimestamp" => 6,
            _ => return None,
        })
    }

    /// Sets field `name` from an integer (negatives clamp to 0, overflow is an error).
    pub(crate) fn set(&mut self, name: &str, n: i128, path: &Path<'_>) -> Result<(), DecodeError> {
        let lease = &mut self.lease;
        match name {
            "renewalIntervalInSecs" => lease.renewal_interval_in_secs = clamp_u32(n, path)?,
            "durationInSecs" => lease.duration_in_secs = clamp_u32(n, path)?,
            "registrationTimestamp" => lease.registration_timestamp = clamp_u64(n, path)?,
            "lastRenewalTimestamp" => self.last_renewal = Some(clamp_u64(n, path)?),
            "renewalTimestamp" => self.legacy_renewal = Some(clamp_u64(n, path)?),
            "evictionTimestamp" => lease.eviction_timestamp = clamp_u64(n, path)?,
            "serviceUpTimestamp" => lease.service_up_timestamp = clamp_u64(n, path)?,
            _ => {}
        }
        Ok(())
    }

    /// The lease read so far.
    pub(crate) fn finish(mut self) -> LeaseInfo {
        if let Some(ts) = self.last_renewal.or(self.legacy_renewal) {
            self.lease.last_renewal_timestamp = ts;
        }
        self.lease
    }
}

/// Quotes input text for an error message, cut to a readable length.
pub(crate) fn quoted(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((cut, _)) => format!("{:?}…", &text[..cut]),
        None => format!("{text:?}"),
    }
}

/// Where in a document a value sits, rendered only when an error needs it
/// (e.g. `applications.application[0].instance[2].port.$`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    segment: Segment<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Path<'a> {
    /// The path of a document's root element.
    pub(crate) fn root(name: &'a str) -> Self {
        Path { parent: None, segment: Segment::Key(name) }
    }

    /// The path of a child field.
    pub(crate) fn key(&'a self, key: &'a str) -> Path<'a> {
        Path { parent: Some(self), segment: Segment::Key(key) }
    }

    /// The path of a list item.
    pub(crate) fn index(&'a self, index: usize) -> Path<'a> {
        Path { parent: Some(self), segment: Segment::Index(index) }
    }

    /// An [`DecodeError::InvalidField`] at this path.
    pub(crate) fn invalid(&self, detail: impl Into<String>) -> DecodeError {
        DecodeError::InvalidField { field: self.render(), detail: detail.into() }
    }

    /// The dotted path as text, e.g. `instance.leaseInfo`.
    pub(crate) fn render(&self) -> String {
        let mut out = match self.parent {
            Some(parent) => parent.render(),
            None => String::new(),
        };
        match self.segment {
            Segment::Key(key) => {
                if self.parent.is_some() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
        out
    }
}
