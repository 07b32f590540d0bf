//! Reading a Prometheus / OpenMetrics text exposition, so tests can assert on scraped values.

use std::collections::{BTreeMap, BTreeSet};

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample name as exposed (with `_total`, `_bucket`, … suffixes).
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A parsed exposition.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Every sample, in exposition order.
    pub samples: Vec<Sample>,
}

impl Scrape {
    /// Parses exposition text; comments (`# HELP`, `# TYPE`, `# EOF`, …) are skipped. An error
    /// names the line that could not be read.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let samples = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| parse_sample(l).ok_or_else(|| format!("unreadable sample line: {l}")))
            .collect::<Result<_, _>>()?;
        Ok(Scrape { samples })
    }

    /// The value of the sample with exactly these labels, if there is one.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let want: BTreeMap<String, String> =
            labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.samples.iter().find(|s| s.name == name && s.labels == want).map(|s| s.value)
    }

    /// The sum over samples of `name` whose labels include all of `labels` (0 if none do).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v)))
            .map(|s| s.value)
            .sum()
    }

    /// Every sample name present.
    pub fn names(&self) -> BTreeSet<&str> {
        self.samples.iter().map(|s| s.name.as_str()).collect()
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    // A timestamp may follow the value.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample { name, labels, value })
}

/// Parses `k="v",k2="v2"}` (after the `{`), handling `\\`, `\"` and `\n` escapes; returns the
/// labels and the text after the `}`.
fn parse_labels(text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_string();
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        };
        labels.insert(key, value);
        rest = &rest[eq + 1 + end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_labels_and_escapes() {
        let text = "# HELP x_total Things.\n# TYPE x counter\n\
                    x_total{origin=\"client\",why=\"a \\\"b\\\", c\\\\d\"} 3\n\
                    up 1\n\
                    h_bucket{le=\"+Inf\"} 7 1700000000\n# EOF\n";
        let s = Scrape::parse(text).unwrap();
        assert_eq!(s.get("x_total", &[("origin", "client"), ("why", "a \"b\", c\\d")]), Some(3.0));
        assert_eq!(s.get("x_total", &[("origin", "client")]), None, "labels must match exactly");
        assert_eq!(s.sum("x_total", &[("origin", "client")]), 3.0);
        assert_eq!(s.get("up", &[]), Some(1.0));
        assert_eq!(s.get("h_bucket", &[("le", "+Inf")]), Some(7.0));
        assert!(Scrape::parse("broken{a=\"b\" 1\n").is_err());
    }
}
