//! The building blocks of the streaming decoder: the fault a visitor leaves for the error
//! message, scalars as they come off the parser, repeated-key detection, and the seeds that
//! read "an object of this shape, or any other value" ([`NodeSeed`]), "one object or a list of
//! them" ([`ListSeed`]) and "anything, checked and dropped" ([`Skip`]).

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

use super::super::lenient::{parse_bool_text, parse_integer_text, quoted, Path};
use crate::instance::InstanceStatus;
use crate::DecodeError;

/// Why a visitor stopped, kept beside the deserializer's own error (which can only carry text).
pub(super) enum Fault {
    /// A key repeated in one object; serde_json's error gives the position.
    Duplicate(String),
    /// A well-formed value the document may not hold here.
    Invalid(DecodeError),
}

/// Shared by every visitor of one decode: where the first fault is left.
#[derive(Default)]
pub(super) struct Ctx {
    fault: Cell<Option<Fault>>,
    /// A list reused by every map the decode reads, so that each map allocates only its
    /// exact-size result.
    scratch: Cell<Vec<(String, String)>>,
}

impl Ctx {
    /// The scratch list, empty (give it back with [`Ctx::put_scratch`]).
    pub(super) fn take_scratch(&self) -> Vec<(String, String)> {
        self.scratch.take()
    }

    /// Returns the scratch list for the next map.
    pub(super) fn put_scratch(&self, mut list: Vec<(String, String)>) {
        list.clear();
        self.scratch.set(list);
    }

    /// Records `err` and returns the deserializer error that unwinds the visitors.
    pub(super) fn fail<E: de::Error>(&self, err: DecodeError) -> E {
        self.fault.set(Some(Fault::Invalid(err)));
        E::custom("invalid value")
    }

    /// Records a repeated key: raised right after the key is read, so that serde_json's
    /// position names it.
    pub(super) fn duplicate<E: de::Error>(&self, key: &str) -> E {
        let message = format!("duplicate key {}", quoted(key));
        self.fault.set(Some(Fault::Duplicate(key.to_owned())));
        E::custom(message)
    }

    /// The fault recorded, if any.
    pub(super) fn take(&self) -> Option<Fault> {
        self.fault.take()
    }
}

/// The value of a decoding step's `Result<T, DecodeError>`, or a return of its error (recorded in
/// the [`Ctx`]) from the visitor.
macro_rules! check {
    ($ctx:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(err) => return Err($ctx.fail(err)),
        }
    };
}
pub(super) use check;

/// Any JSON value where a scalar is expected; arrays and objects are read (checked for
/// repeated keys) and dropped, only their kind is kept for the error message.
#[derive(Debug)]
pub(super) enum Scalar<'de> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl<'de> Scalar<'de> {
    fn from_f64(f: f64) -> Self {
        // serde_json never yields a non-finite float, so the fallback is unreachable in practice.
        Number::from_f64(f).map_or(Scalar::Null, Scalar::Number)
    }

    /// Whether the value is `null` (read as missing).
    pub(super) fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }

    /// The value's kind, for error messages.
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "a boolean",
            Scalar::Number(_) => "a number",
            Scalar::Str(_) => "a string",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }
}

/// A scalar as text: strings as they are, numbers and booleans in their JSON spelling.
pub(super) fn text<'de>(value: Scalar<'de>, path: &Path<'_>) -> Result<Cow<'de, str>, DecodeError> {
    match value {
        Scalar::Str(s) => Ok(s),
        Scalar::Number(n) => Ok(Cow::Owned(n.to_string())),
        Scalar::Bool(b) => Ok(Cow::Owned(b.to_string())),
        other => Err(path.invalid(format!("expected a string, found {}", other.kind()))),
    }
}

/// [`text`], owned.
pub(super) fn string_value(value: Scalar<'_>, path: &Path<'_>) -> Result<String, DecodeError> {
    text(value, path).map(Cow::into_owned)
}

/// A status in an instance document: a JSON string, any unknown text read as `UNKNOWN` as
/// Java's codec does; a number, boolean or structure is refused (no client sends one).
pub(super) fn status_value(
    value: Scalar<'_>,
    path: &Path<'_>,
) -> Result<InstanceStatus, DecodeError> {
    match value {
        Scalar::Str(s) => Ok(InstanceStatus::parse_lenient(&s)),
        other => Err(path.invalid(format!("expected a status string, found {}", other.kind()))),
    }
}

/// A status in a replication item: Java's receiver calls `InstanceStatus.valueOf` on it, so an
/// unknown name is an error there too (case and surrounding blanks are forgiven).
pub(super) fn strict_status_value(
    value: Scalar<'_>,
    path: &Path<'_>,
) -> Result<InstanceStatus, DecodeError> {
    let text = match value {
        Scalar::Str(s) => s,
        other => {
            return Err(path.invalid(format!("expected a status string, found {}", other.kind())))
        }
    };
    InstanceStatus::parse(&text.trim().to_ascii_uppercase()).ok_or_else(|| {
        path.invalid(format!(
            "unknown status {}: expected UP, DOWN, STARTING, OUT_OF_SERVICE or UNKNOWN",
            quoted(&text)
        ))
    })
}

/// An integer given as a JSON number or numeric string; `None` for an empty string.
pub(super) fn integer_value(
    value: Scalar<'_>,
    path: &Path<'_>,
) -> Result<Option<i128>, DecodeError> {
    match value {
        Scalar::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Ok(Some(i128::from(u)))
            } else {
                match n.as_f64() {
                    // Integral floats such as `1e3` or `30.0` are accepted; the bound keeps the
                    // cast exact enough and far from i128's limits.
                    Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30 => {
                        Ok(Some(f as i128))
                    }
                    _ => Err(path.invalid(format!("expected an integer, found {n}"))),
                }
            }
        }
        Scalar::Str(s) => parse_integer_text(&s).map_err(|detail| path.invalid(detail)),
        other => Err(path.invalid(format!("expected an integer, found {}", other.kind()))),
    }
}

/// A boolean given as a JSON boolean or a string; `None` for an empty string.
pub(super) fn bool_value(value: Scalar<'_>, path: &Path<'_>) -> Result<Option<bool>, DecodeError> {
    match value {
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Str(s) => Ok(parse_bool_text(&s)),
        other => Err(path.invalid(format!("expected a boolean, found {}", other.kind()))),
    }
}

/// Keys already seen in one object. Small objects compare a few keys; large ones (hostile
/// input, or big metadata maps) switch to a hash set so that checking stays linear.
#[derive(Default)]
pub(super) struct KeySet<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> KeySet<'de> {
    const FEW: usize = 16;

    /// Adds `key`; false if it was already there.
    // A `Cow` rather than `&str`: cloned into the set, a borrowed key costs a pointer copy.
    #[allow(clippy::ptr_arg)]
    pub(super) fn insert(&mut self, key: &Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(key.clone());
        }
        if self.few.iter().any(|k| k == key) {
            return false;
        }
        if self.few.len() < Self::FEW {
            self.few.push(key.clone());
        } else {
            let mut many: HashSet<_> = self.few.drain(..).collect();
            many.insert(key.clone());
            self.many = Some(many);
        }
        true
    }
}

/// The keys a reader knows, as bits, plus a [`KeySet`] for the others (which are ignored, but
/// may not repeat either).
#[derive(Default)]
pub(super) struct Seen<'de> {
    known: u64,
    others: KeySet<'de>,
}

impl<'de> Seen<'de> {
    /// Notes `key` (known as `bit`, if it is); false if it was already seen.
    #[allow(clippy::ptr_arg)] // See `KeySet::insert`.
    pub(super) fn note(&mut self, bit: Option<u64>, key: &Cow<'de, str>) -> bool {
        match bit {
            Some(bit) => {
                let first = self.known & bit == 0;
                self.known |= bit;
                first
            }
            None => self.others.insert(key),
        }
    }
}

/// Declares the keys a reader knows: an enum with `of(key)` and a distinct `bit()` each.
macro_rules! fields {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $key:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum $name {
            $($variant),*
        }

        impl $name {
            /// The field named `key`, if this reader knows it.
            fn of(key: &str) -> Option<Self> {
                match key {
                    $($key => Some(Self::$variant),)*
                    _ => None,
                }
            }

            /// This field's bit in a `Seen`.
            fn bit(self) -> u64 {
                1 << (self as u32)
            }
        }
    };
}
pub(super) use fields;

/// Reads an object key, borrowed from the input when it has no escapes.
pub(super) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(s))
    }
}

/// Defines the scalar `visit_*` methods of a visitor as calls to its `scalar` method.
macro_rules! scalar_visits {
    () => {
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
            self.scalar(Scalar::Bool(b))
        }

        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            self.scalar(Scalar::Number(n.into()))
        }

        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            self.scalar(Scalar::Number(n.into()))
        }

        fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
            self.scalar(Scalar::from_f64(f))
        }

        fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
            self.scalar(Scalar::Str(Cow::Borrowed(s)))
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            self.scalar(Scalar::Str(Cow::Owned(s.to_owned())))
        }

        fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
            self.scalar(Scalar::Str(Cow::Owned(s)))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            self.scalar(Scalar::Null)
        }
    };
}

/// Reads any value and drops it, refusing repeated keys at any depth as the rest of the
/// decoder does (serde_json's nesting limit still applies).
#[derive(Clone, Copy)]
pub(super) struct Skip<'c> {
    pub(super) ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = KeySet::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if !keys.insert(&key) {
                return Err(self.ctx.duplicate(&key));
            }
            map.next_value_seed(self)?;
        }
        Ok(())
    }

    scalar_visits!();
}

impl Skip<'_> {
    fn scalar<E>(self, _: Scalar<'_>) -> Result<(), E> {
        Ok(())
    }
}

/// Reads the entries of one kind of object (an instance, a port, ...).
pub(super) trait ObjectReader<'de>: Copy {
    /// What the object decodes to.
    type Output;

    /// Reads every entry of `map`, the object at `path`.
    fn read<A: MapAccess<'de>>(
        self,
        map: A,
        ctx: &Ctx,
        path: &Path<'_>,
    ) -> Result<Self::Output, A::Error>;
}

/// An object read by its reader, or any other value.
pub(super) enum Node<'de, T> {
    Object(T),
    Other(Scalar<'de>),
}

/// An object required at `path`: any other value (`null` included) is an error.
pub(super) fn required<T>(node: Node<'_, T>, path: &Path<'_>) -> Result<T, DecodeError> {
    match node {
        Node::Object(value) => Ok(value),
        Node::Other(other) => Err(expected_object(&other, path)),
    }
}

/// An object at `path` that `null` leaves out; any other value is an error.
pub(super) fn optional<T>(node: Node<'_, T>, path: &Path<'_>) -> Result<Option<T>, DecodeError> {
    match node {
        Node::Object(value) => Ok(Some(value)),
        Node::Other(Scalar::Null) => Ok(None),
        Node::Other(other) => Err(expected_object(&other, path)),
    }
}

fn expected_object(found: &Scalar<'_>, path: &Path<'_>) -> DecodeError {
    path.invalid(format!("expected an object, found {}", found.kind()))
}

/// Reads a value at `path` as a [`Node`]: objects by `reader`, other values as scalars.
pub(super) struct NodeSeed<'c, 'p, R> {
    pub(super) ctx: &'c Ctx,
    pub(super) path: &'p Path<'p>,
    pub(super) reader: R,
}

impl<'de, R: ObjectReader<'de>> DeserializeSeed<'de> for NodeSeed<'_, '_, R> {
    type Value = Node<'de, R::Output>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, R: ObjectReader<'de>> Visitor<'de> for NodeSeed<'_, '_, R> {
    type Value = Node<'de, R::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip { ctx: self.ctx }.visit_seq(seq)?;
        Ok(Node::Other(Scalar::Array))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.reader.read(map, self.ctx, self.path).map(Node::Object)
    }

    scalar_visits!();
}

impl<R> NodeSeed<'_, '_, R> {
    fn scalar<'de, T, E>(self, value: Scalar<'de>) -> Result<Node<'de, T>, E> {
        Ok(Node::Other(value))
    }
}

/// Reads any value as a [`Scalar`].
#[derive(Clone, Copy)]
pub(super) struct ScalarSeed<'c> {
    pub(super) ctx: &'c Ctx,
}

impl<'de> DeserializeSeed<'de> for ScalarSeed<'_> {
    type Value = Scalar<'de>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed<'_> {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Skip { ctx: self.ctx }.visit_seq(seq)?;
        Ok(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Skip { ctx: self.ctx }.visit_map(map)?;
        Ok(Scalar::Object)
    }

    scalar_visits!();
}

impl ScalarSeed<'_> {
    fn scalar<'de, E>(self, value: Scalar<'de>) -> Result<Scalar<'de>, E> {
        Ok(value)
    }
}

/// Reads a list of objects at `path` (items at `path[i]`): an array, or a single object as a
/// one-item list, `null` as an empty one. Any other item is an error.
pub(super) struct ListSeed<'c, 'p, R> {
    pub(super) ctx: &'c Ctx,
    pub(super) path: &'p Path<'p>,
    pub(super) reader: R,
}

impl<'de, R: ObjectReader<'de>> DeserializeSeed<'de> for ListSeed<'_, '_, R> {
    type Value = Vec<R::Output>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, R: ObjectReader<'de>> Visitor<'de> for ListSeed<'_, '_, R> {
    type Value = Vec<R::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object or an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let path = self.path.index(items.len());
            let seed = NodeSeed { ctx: self.ctx, path: &path, reader: self.reader };
            match seq.next_element_seed(seed)? {
                Some(node) => items.push(check!(self.ctx, required(node, &path))),
                None => return Ok(items),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(vec![self.reader.read(map, self.ctx, &self.path.index(0))?])
    }

    scalar_visits!();
}

impl<R> ListSeed<'_, '_, R> {
    fn scalar<T, E: de::Error>(self, value: Scalar<'_>) -> Result<Vec<T>, E> {
        match value {
            Scalar::Null => Ok(Vec::new()),
            other => Err(self.ctx.fail(expected_object(&other, &self.path.index(0)))),
        }
    }
}
