//! Decoding: serde visitors that read each document straight from the bytes into the model,
//! with no intermediate value tree, borrowing keys and strings from the input until a field
//! keeps them.
//!
//! What is accepted, and what each error says, is described on each `decode_*` function. When
//! a visitor finds a value the document may not hold, the rest of the input has not been read
//! yet; since a syntax error, a repeated key or too deep a nesting anywhere in the body
//! outranks such a value (the body is not JSON at all), that rare error path reads the whole
//! body once more, only checking it, before reporting the value. A document with several bad
//! values reports the first in document order.
//!
//! Files: `value.rs` (scalars, repeated keys, the generic seeds), `instance.rs` (an instance
//! and its parts), `documents.rs` (applications, application, replication batch and answer).

mod documents;
mod instance;
mod value;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::lenient::{quoted, Path};
use crate::replication::{ReplicationList, ReplicationListResponse};
use crate::{Application, Applications, DecodeError, InstanceInfo};
use documents::{ApplicationReader, ApplicationsReader, ReplicationItemReader, ResponseItemReader};
use instance::InstanceReader;
use value::{check, required, Ctx, Fault, KeySeed, KeySet, ListSeed, NodeSeed, ObjectReader, Skip};

/// Nesting depth at which serde_json gives up (its built-in recursion limit).
const JSON_MAX_DEPTH: usize = 128;

/// Decodes a register body, `{"instance":{...}}`, leniently.
///
/// Accepted beyond the Java encoder's own output: numbers as numeric strings and vice versa,
/// booleans as JSON booleans or `"true"`/`"false"` in any case, `port.$` as number or string,
/// `@enabled` as boolean or string, a bare number as a port, `overriddenStatus` or
/// `overriddenstatus` (camelCase wins if both), unknown status names (→ `UNKNOWN`), `null` as
/// missing, missing fields (Java defaults; missing timestamps stay 0), unknown fields of any
/// shape (ignored), `dataCenterInfo` without or with an unknown `@class` (inferred from `name`),
/// the legacy lease key `renewalTimestamp`, negative numbers (clamped to 0), an empty string
/// for a number or boolean (the default is kept). `sid` values `na`/`unknown` decode to `None`.
/// Values are kept as sent: `app` is not upper-cased here (see [`InstanceInfo::normalize`]).
///
/// Errors: malformed JSON, a root other than `instance`, a port outside `0..=65535` or not a
/// number, an unknown `dataCenterInfo.name`, a structured value where a scalar is expected
/// (e.g. an object as a metadata value), nesting deeper than serde_json's limit of 128.
pub fn decode_instance(body: &[u8]) -> Result<InstanceInfo, DecodeError> {
    decode_object(body, "instance", InstanceReader)
}

/// Decodes `{"application":{"name":...,"instance":[...]}}`; `instance` may be one object.
pub fn decode_application(body: &[u8]) -> Result<Application, DecodeError> {
    decode_object(body, "application", ApplicationReader)
}

/// Decodes `{"applications":{...}}`; `application` may be missing (empty), one object or a list.
///
/// The version and hash keys are also accepted with single underscores (`versions_delta`), as
/// written by clients configured with another `escapeCharReplacement`; numbers are accepted for
/// both. A missing key decodes to the empty string.
pub fn decode_applications(body: &[u8]) -> Result<Applications, DecodeError> {
    decode_object(body, "applications", ApplicationsReader)
}

/// Decodes a peer replication batch, `{"replicationList":[...]}`.
///
/// `action` is required and must be an exact action name; unknown item keys are ignored.
pub fn decode_replication_list(body: &[u8]) -> Result<ReplicationList, DecodeError> {
    let replication_list = decode_list(body, "replicationList", ReplicationItemReader)?;
    Ok(ReplicationList { replication_list })
}

/// Decodes the answer to a batch, `{"responseList":[...]}`; `statusCode` is required.
pub fn decode_replication_list_response(
    body: &[u8],
) -> Result<ReplicationListResponse, DecodeError> {
    let response_list = decode_list(body, "responseList", ResponseItemReader)?;
    Ok(ReplicationListResponse { response_list })
}

/// A document whose root holds one object, read by `reader`.
fn decode_object<'de, R: ObjectReader<'de>>(
    body: &'de [u8],
    root: &'static str,
    reader: R,
) -> Result<R::Output, DecodeError> {
    let ctx = Ctx::default();
    let path = Path::root(root);
    decode(body, &ctx, root, ObjectSeed { ctx: &ctx, path: &path, reader })
}

/// A document whose root holds one object or a list of them, each read by `reader`.
fn decode_list<'de, R: ObjectReader<'de>>(
    body: &'de [u8],
    root: &'static str,
    reader: R,
) -> Result<Vec<R::Output>, DecodeError> {
    let ctx = Ctx::default();
    let path = Path::root(root);
    decode(body, &ctx, root, ListSeed { ctx: &ctx, path: &path, reader })
}

/// Reads `{"<root>": value}` with `seed` reading the value, then makes sure nothing follows.
fn decode<'de, S: DeserializeSeed<'de>>(
    body: &'de [u8],
    ctx: &Ctx,
    root: &'static str,
    seed: S,
) -> Result<S::Value, DecodeError> {
    let body = strip_bom(body);
    let mut de = serde_json::Deserializer::from_slice(body);
    let read = RootSeed { ctx, root, seed }.deserialize(&mut de).and_then(|value| {
        de.end()?;
        Ok(value)
    });
    read.map_err(|e| match ctx.take() {
        // A malformed body outranks a bad value in it, wherever each sits.
        Some(Fault::Invalid(invalid)) => check_syntax(body).err().unwrap_or(invalid),
        fault => parse_error(&e, fault),
    })
}

fn strip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body)
}

/// Reads the whole body only to find a syntax error, a repeated key or too deep a nesting.
fn check_syntax(body: &[u8]) -> Result<(), DecodeError> {
    let ctx = Ctx::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    Skip { ctx: &ctx }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| parse_error(&e, ctx.take()))
}

/// The error for a body that is not (acceptable) JSON.
fn parse_error(e: &serde_json::Error, fault: Option<Fault>) -> DecodeError {
    match fault {
        Some(Fault::Duplicate(key)) => DecodeError::Duplicate {
            name: format!("key {}", quoted(&key)),
            location: format!("line {} column {}", e.line(), e.column()),
        },
        Some(Fault::Invalid(invalid)) => invalid,
        None => {
            let detail = e.to_string();
            if detail.starts_with("recursion limit exceeded") {
                DecodeError::TooDeep(JSON_MAX_DEPTH)
            } else {
                DecodeError::Syntax { format: "JSON", detail }
            }
        }
    }
}

/// Reads an object required at `path` (`null` and other values are errors).
struct ObjectSeed<'c, 'p, R> {
    ctx: &'c Ctx,
    path: &'p Path<'p>,
    reader: R,
}

impl<'de, R: ObjectReader<'de>> DeserializeSeed<'de> for ObjectSeed<'_, '_, R> {
    type Value = R::Output;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<R::Output, D::Error> {
        let node = NodeSeed { ctx: self.ctx, path: self.path, reader: self.reader };
        let node = node.deserialize(deserializer)?;
        Ok(check!(self.ctx, required(node, self.path)))
    }
}

/// Reads the document's outer object and its mandatory key `root` (other keys are ignored).
struct RootSeed<'c, S> {
    ctx: &'c Ctx,
    root: &'static str,
    seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for RootSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> RootSeed<'_, S> {
    /// The root is not an object: name what it is instead.
    fn not_object<T, E: de::Error>(self, found: &str) -> Result<T, E> {
        Err(self.ctx.fail(DecodeError::WrongRoot { expected: self.root, found: found.into() }))
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for RootSeed<'_, S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with key {:?}", self.root)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<S::Value, A::Error> {
        let mut seed = Some(self.seed);
        let mut value = None;
        let mut keys = KeySet::default();
        // Named when the root is missing: the first other key in sorted order.
        let mut first: Option<Cow<'de, str>> = None;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !keys.insert(&key) {
                return Err(self.ctx.duplicate(&key));
            }
            match seed.take() {
                Some(root) if key == self.root => value = Some(map.next_value_seed(root)?),
                unused => {
                    seed = unused;
                    map.next_value_seed(Skip { ctx: self.ctx })?;
                    if first.as_ref().is_none_or(|f| key < *f) {
                        first = Some(key);
                    }
                }
            }
        }
        value.ok_or_else(|| {
            let found = first.map_or_else(|| "(empty object)".to_owned(), Cow::into_owned);
            self.ctx.fail(DecodeError::WrongRoot { expected: self.root, found })
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<S::Value, A::Error> {
        self.not_object("(array)")
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<S::Value, E> {
        self.not_object("(string)")
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<S::Value, E> {
        self.not_object("(number)")
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<S::Value, E> {
        self.not_object("(number)")
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<S::Value, E> {
        self.not_object("(number)")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<S::Value, E> {
        self.not_object("(boolean)")
    }

    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        self.not_object("(null)")
    }
}
