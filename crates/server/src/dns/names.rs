//! The names the DNS interface answers, and how registry entries become DNS labels.
//!
//! Under the domain (`eureka.` by default):
//!
//! | Name | Records |
//! |---|---|
//! | `<app>.service.<domain>` | A / AAAA of the app's UP instances; SRV with their port |
//! | `_<app>._tcp.service.<domain>` | SRV with the port |
//! | `_<app>._https.service.<domain>` | SRV with the secure port |
//! | `<zone>.<app>.service.<domain>` | A / AAAA / SRV of the instances in that zone |
//! | `<vip>.vip.<domain>`, `<svip>.svip.<domain>` | A / AAAA / SRV by (secure) VIP address |
//! | `<instance>.<app>.instance.<domain>` | A / AAAA (UP only) and TXT of one instance |
//!
//! An application's label is its name in lower case (DNS compares names without case). A VIP
//! address's dots separate labels, so `orders.example.com` is asked as
//! `orders.example.com.vip.eureka.`. An instance's label ([`instance_label`]) is made from its
//! id, because ids such as `10.0.0.5:orders:8080` hold characters a host name cannot:
//! the id in lower case with every run of other characters than `a-z`, `0-9` made one `-`,
//! cut to 54 characters, then `-` and the CRC-32 of the exact id in 8 hex digits. The same id
//! gives the same label on every server and after every restart; ids that differ only in
//! punctuation or case still get different labels.

use hickory_proto::rr::{LowerName, Name};

/// The label under the domain that holds application names.
pub const SERVICE: &[u8] = b"service";
/// The label under the domain that holds VIP addresses.
pub const VIP: &[u8] = b"vip";
/// The label under the domain that holds secure VIP addresses.
pub const SVIP: &[u8] = b"svip";
/// The label under the domain that holds instance names.
pub const INSTANCE: &[u8] = b"instance";
/// The protocol label of SRV names that carry the plain port.
pub const TCP: &[u8] = b"_tcp";
/// The protocol label of SRV names that carry the secure port.
pub const HTTPS: &[u8] = b"_https";

/// Longest part of an instance label taken from the id: 63 (a label's limit) less the dash
/// and eight hex digits of the hash.
const INSTANCE_TEXT_MAX: usize = 63 - 9;

/// The domain and the fixed names below it, built once from the configuration.
#[derive(Debug, Clone)]
pub struct Names {
    /// The domain itself (the zone apex), e.g. `eureka.`.
    pub apex: Name,
    /// The apex as a lookup key.
    pub apex_key: LowerName,
}

impl Names {
    /// The names under `domain` (validated by the configuration: `eureka.`, `a.b.`).
    pub fn new(domain: &str) -> Result<Names, hickory_proto::ProtoError> {
        let mut apex = Name::from_ascii(domain)?.to_lowercase();
        apex.set_fqdn(true);
        Ok(Names { apex_key: LowerName::new(&apex), apex })
    }

    /// `<labels…>.<domain>`, where `labels` are raw bytes (any byte but none empty or longer
    /// than 63); `None` when they do not make a name (too long overall, a bad label).
    pub fn under_apex<'a>(&self, labels: impl IntoIterator<Item = &'a [u8]>) -> Option<Name> {
        Name::from_labels(labels).ok()?.append_domain(&self.apex).ok()
    }

    /// `<app>.service.<domain>`.
    pub fn service(&self, app: &[u8]) -> Option<Name> {
        self.under_apex([app, SERVICE])
    }

    /// `_<app>._tcp.service.<domain>` or `_<app>._https.service.<domain>`.
    pub fn srv(&self, app: &[u8], proto: &[u8]) -> Option<Name> {
        let underscored = [b"_", app].concat();
        self.under_apex([underscored.as_slice(), proto, SERVICE])
    }

    /// `<zone>.<app>.service.<domain>`.
    pub fn zone(&self, zone: &[u8], app: &[u8]) -> Option<Name> {
        self.under_apex([zone, app, SERVICE])
    }

    /// `<vip>.vip.<domain>` (or `.svip.`); the VIP's dots separate labels.
    pub fn vip(&self, vip: &str, secure: bool) -> Option<Name> {
        let kind = if secure { SVIP } else { VIP };
        let labels = vip.trim_end_matches('.').split('.').map(str::as_bytes);
        self.under_apex(labels.chain([kind]))
    }

    /// `<instance label>.<app>.instance.<domain>`.
    pub fn instance(&self, app: &[u8], id: &str) -> Option<Name> {
        self.under_apex([instance_label(id).as_bytes(), app, INSTANCE])
    }
}

/// An application's label: its name in ASCII lower case; `None` if it cannot be one label
/// (empty, or longer than 63 bytes).
pub fn app_label(app: &str) -> Option<Vec<u8>> {
    (1..=63).contains(&app.len()).then(|| app.as_bytes().to_ascii_lowercase())
}

/// An instance's label: a readable form of its id and a hash of the exact id (see the module
/// documentation), at most 63 characters of `a-z`, `0-9` and `-`.
pub fn instance_label(id: &str) -> String {
    let mut text = String::with_capacity(INSTANCE_TEXT_MAX);
    for c in id.chars() {
        if text.len() == INSTANCE_TEXT_MAX {
            break;
        }
        if c.is_ascii_alphanumeric() {
            text.push(c.to_ascii_lowercase());
        } else if !text.is_empty() && !text.ends_with('-') {
            text.push('-');
        }
    }
    let text = text.trim_end_matches('-');
    let hash = crc32fast::hash(id.as_bytes());
    if text.is_empty() {
        format!("{hash:08x}")
    } else {
        format!("{text}-{hash:08x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_labels_are_readable_stable_and_distinct() {
        let label = instance_label("10.0.0.5:orders:8080");
        assert_eq!(
            label,
            format!("10-0-0-5-orders-8080-{:08x}", crc32fast::hash(b"10.0.0.5:orders:8080"))
        );
        assert_eq!(label, instance_label("10.0.0.5:orders:8080"), "a function of the id alone");
        // The readable parts agree; the hash keeps them apart.
        assert_ne!(instance_label("a:b"), instance_label("a-b"));
        assert_ne!(instance_label("Host:1"), instance_label("host:1"));
        assert!(instance_label("::").chars().all(|c| c.is_ascii_hexdigit()));
        let long = instance_label(&"x".repeat(300));
        assert_eq!(long.len(), 63);
        for id in ["a:b", "::", "é-ü", &"y".repeat(100), "-lead-", "i-0abc"] {
            let label = instance_label(id);
            assert!(label.len() <= 63 && !label.starts_with('-'), "{label}");
            assert!(label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        }
    }

    #[test]
    fn names_sit_under_the_domain_in_lower_case() {
        let names = Names::new("Eureka.Example.").unwrap();
        assert_eq!(names.apex.to_string(), "eureka.example.");
        assert_eq!(names.service(b"orders").unwrap().to_string(), "orders.service.eureka.example.");
        assert_eq!(
            names.srv(b"orders", TCP).unwrap().to_string(),
            "_orders._tcp.service.eureka.example."
        );
        assert_eq!(
            names.zone(b"zone-a", b"orders").unwrap().to_string(),
            "zone-a.orders.service.eureka.example."
        );
        assert_eq!(
            names.vip("orders.example.com", false).unwrap().to_string(),
            "orders.example.com.vip.eureka.example."
        );
        assert_eq!(names.vip("orders", true).unwrap().to_string(), "orders.svip.eureka.example.");
        assert!(names.vip("a..b", false).is_none(), "an empty label is no name");
        assert!(names.vip(&"v".repeat(64), false).is_none(), "a label over 63 bytes");
        let instance = names.instance(b"orders", "10.0.0.5:orders:8080").unwrap();
        assert!(instance.to_string().starts_with("10-0-0-5-orders-8080-"));
        assert!(instance.to_string().ends_with(".orders.instance.eureka.example."));
        assert_eq!(app_label("ORDERS").unwrap(), b"orders");
        assert!(app_label("").is_none() && app_label(&"A".repeat(64)).is_none());
    }
}
