//! [`Metadata`]: an instance's free-form string pairs, compact in memory.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// String pairs sorted by key, each key once, held in one exact-size vector.
///
/// A registry holds one per instance, usually with one to five entries: a `BTreeMap` spends a
/// 544-byte node on that, this a few dozen bytes. Lookups are binary searches; iteration is in
/// key order, as Java's sorted output and our encoders expect.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Metadata(Vec<(String, String)>);

impl Metadata {
    /// No entries.
    pub fn new() -> Self {
        Metadata(Vec::new())
    }

    /// Takes entries already sorted by key, each key once (a decoder that sorted them).
    pub(crate) fn from_sorted(entries: Vec<(String, String)>) -> Self {
        debug_assert!(entries.windows(2).all(|w| w[0].0 < w[1].0), "sorted, unique keys");
        Metadata(entries)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    /// Whether `key` has a value.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> + '_ {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(k, _)| k)
    }

    /// Values in key order.
    pub fn values(&self) -> impl Iterator<Item = &String> + '_ {
        self.0.iter().map(|(_, v)| v)
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives back spare capacity (after decoding, before the instance is stored).
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl fmt::Debug for Metadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Extend<(String, String)> for Metadata {
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl FromIterator<(String, String)> for Metadata {
    /// Later entries win over earlier ones with the same key, as when collecting a map.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut m = Metadata::new();
        m.extend(iter);
        m.shrink_to_fit();
        m
    }
}

impl<const N: usize> From<[(String, String); N]> for Metadata {
    fn from(entries: [(String, String); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl From<BTreeMap<String, String>> for Metadata {
    fn from(map: BTreeMap<String, String>) -> Self {
        // Already sorted and unique.
        Metadata(map.into_iter().collect())
    }
}

impl IntoIterator for Metadata {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Metadata {
    type Item = (&'a String, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, String)>,
        fn(&'a (String, String)) -> (&'a String, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl std::ops::Index<&str> for Metadata {
    type Output = String;

    /// The value under `key`; panics when there is none, as a map's index does.
    fn index(&self, key: &str) -> &String {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no metadata entry {key:?}"),
        }
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut m: Metadata = [
            ("b".to_string(), "2".to_string()),
            ("a".into(), "1".into()),
            ("b".into(), "3".into()),
        ]
        .into();
        assert_eq!(m.len(), 2);
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m["b"], "3", "a later entry wins");
        assert_eq!(m.insert("c".into(), "4".into()), None);
        assert_eq!(m.insert("a".into(), "5".into()), Some("1".into()));
        assert_eq!(m.remove("b"), Some("3".into()));
        assert_eq!(m.get("b"), None);
        let pairs: Vec<(&String, &String)> = m.iter().collect();
        assert_eq!(pairs, [(&"a".to_string(), &"5".to_string()), (&"c".into(), &"4".into())]);
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":"5","c":"4"}"#);
    }
}
