//! The DNS interface's metrics: queries by type and answer code, truncated answers, and how
//! long answers take. Every series is made at start-up, so counting a query is two atomic
//! adds and a histogram observation, with no label lookup.

use std::time::Duration;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `type` label values: the types we answer, then everything else as `other`.
const TYPES: [&str; 7] = ["A", "AAAA", "SRV", "TXT", "SOA", "ANY", "other"];
/// The `rcode` label values: the codes we send, then anything else as `other`.
const RCODES: [&str; 8] =
    ["NOERROR", "NXDOMAIN", "REFUSED", "FORMERR", "NOTIMP", "SERVFAIL", "BADVERS", "other"];
/// Upper bounds of the answer-duration buckets, seconds: an answer from the index takes
/// microseconds; one that rebuilds the index after a change of a large registry, milliseconds.
const BUCKETS: [f64; 14] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 1.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct QueryLabels {
    r#type: &'static str,
    rcode: &'static str,
}

/// Counters and histogram of the DNS interface, registered only when it is enabled.
#[derive(Debug)]
pub struct DnsMetrics {
    /// By type, then answer code.
    queries: [[Counter; RCODES.len()]; TYPES.len()],
    truncated: Counter,
    duration: Histogram,
}

impl DnsMetrics {
    /// Makes every series and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let family = Family::<QueryLabels, Counter>::default();
        registry.register(
            "eureka_dns_queries",
            "DNS queries answered, by query type and answer code (malformed packets that \
             hickory answers FORMERR or drops before they reach us are not counted)",
            family.clone(),
        );
        let queries = TYPES.map(|r#type| {
            RCODES.map(|rcode| family.get_or_create_owned(&QueryLabels { r#type, rcode }))
        });
        let truncated = Counter::default();
        registry.register(
            "eureka_dns_truncated_answers",
            "DNS answers sent with the TC bit because they did not fit the UDP payload size \
             (the client retries over TCP)",
            truncated.clone(),
        );
        let duration = Histogram::new(BUCKETS);
        registry.register_with_unit(
            "eureka_dns_answer_duration",
            "Time from a decoded DNS query to its answer handed to the socket",
            Unit::Seconds,
            duration.clone(),
        );
        DnsMetrics { queries, truncated, duration }
    }

    /// Counts one answer of type `qtype` (`None`: the query had no single question).
    pub fn observe(
        &self,
        qtype: Option<RecordType>,
        rcode: ResponseCode,
        truncated: bool,
        took: Duration,
    ) {
        self.queries[type_index(qtype)][rcode_index(rcode)].inc();
        if truncated {
            self.truncated.inc();
        }
        self.duration.observe(took.as_secs_f64());
    }
}

fn type_index(qtype: Option<RecordType>) -> usize {
    match qtype {
        Some(RecordType::A) => 0,
        Some(RecordType::AAAA) => 1,
        Some(RecordType::SRV) => 2,
        Some(RecordType::TXT) => 3,
        Some(RecordType::SOA) => 4,
        Some(RecordType::ANY) => 5,
        _ => TYPES.len() - 1,
    }
}

fn rcode_index(rcode: ResponseCode) -> usize {
    match rcode {
        ResponseCode::NoError => 0,
        ResponseCode::NXDomain => 1,
        ResponseCode::Refused => 2,
        ResponseCode::FormErr => 3,
        ResponseCode::NotImp => 4,
        ResponseCode::ServFail => 5,
        ResponseCode::BADVERS => 6,
        _ => RCODES.len() - 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_type_and_code() {
        assert_eq!(TYPES[type_index(Some(RecordType::SRV))], "SRV");
        assert_eq!(TYPES[type_index(Some(RecordType::MX))], "other");
        assert_eq!(TYPES[type_index(None)], "other");
        assert_eq!(RCODES[rcode_index(ResponseCode::NXDomain)], "NXDOMAIN");
        assert_eq!(RCODES[rcode_index(ResponseCode::BADVERS)], "BADVERS");
        assert_eq!(RCODES[rcode_index(ResponseCode::YXDomain)], "other");
    }
}
