//! Answering one query: checks that hold without the registry, then the index of the current
//! version, then a shuffled, bounded choice of records.
//!
//! | Query | Answer |
//! |---|---|
//! | opcode other than QUERY | NOTIMP |
//! | EDNS version above 0 | BADVERS |
//! | not exactly one question | FORMERR |
//! | class other than IN (or ANY), a name outside the domain, AXFR/IXFR | REFUSED |
//! | a name under the domain that does not exist | NXDOMAIN, with the SOA |
//! | a name without records of the type | NOERROR, no answers, with the SOA |
//! | otherwise | NOERROR, authoritative, at most `max-answers` records in random order |
//!
//! ANY is answered with the first of A, AAAA, SRV and TXT that the name has (RFC 8482's
//! "subset"). SRV answers carry each target's A or AAAA record in the additional section.
//! UDP answers are cut to the client's EDNS0 payload size (512 bytes without EDNS0), at most
//! [`MAX_UDP_PAYLOAD`], with the TC bit set when records were left out; the registry's state
//! never causes SERVFAIL.

use std::iter;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::FutureExt;
use hickory_proto::op::{Edns, Header, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Record, RecordType};
use hickory_proto::serialize::binary::BinEncoder;
use hickory_server::net::runtime::{Time, TokioTime};
use hickory_server::net::xfer::Protocol;
use hickory_server::net::NetError;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::{MessageResponse, MessageResponseBuilder};
use rand::seq::SliceRandom;
use tokio::time::Instant;

use super::index::{Found, Index, IndexCache, Node, Shape, Srv};
use crate::state::SharedState;

/// The largest UDP answer we send whatever a client's EDNS0 size says: 1232 bytes fit the
/// IPv6 minimum MTU without fragments (DNS Flag Day 2020; BIND's default).
pub const MAX_UDP_PAYLOAD: u16 = 1232;

/// The DNS request handler: answers from the registry of `state`.
#[derive(Debug)]
pub struct Answerer {
    state: SharedState,
    cache: IndexCache,
    max_answers: usize,
}

/// What to send: the code, and the records of each section (borrowed from the index).
struct Reply<'a> {
    code: ResponseCode,
    /// In the domain: the AA bit.
    authoritative: bool,
    answers: Vec<&'a Record>,
    /// The SOA, in the authority section of negative answers.
    soa: Option<&'a Record>,
    additionals: Vec<&'a Record>,
}

impl<'a> Reply<'a> {
    fn refuse(code: ResponseCode) -> Reply<'a> {
        Reply {
            code,
            authoritative: false,
            answers: Vec::new(),
            soa: None,
            additionals: Vec::new(),
        }
    }

    fn negative(code: ResponseCode, index: &'a Index) -> Reply<'a> {
        Reply { authoritative: true, soa: Some(&index.soa), ..Reply::refuse(code) }
    }
}

impl Answerer {
    /// A handler for the server of `state`, configured by its `eureka.dns.*` settings.
    pub fn new(state: SharedState) -> Result<Answerer, hickory_proto::ProtoError> {
        let settings = &state.config.dns;
        let cache = IndexCache::new(Shape::new(settings)?);
        let max_answers = settings.max_answers.max(1);
        Ok(Answerer { state, cache, max_answers })
    }

    /// The index of the registry's current version.
    pub fn index(&self) -> Arc<Index> {
        self.cache.index(&self.state.registry)
    }

    /// Answers the raw query `bytes` as if it had come over `protocol`, without a socket: the
    /// answer as it would be sent, or `None` where the listener sends nothing or FORMERR
    /// before a handler sees the query (undecodable packets). For the fuzz target.
    pub fn answer_raw(&self, bytes: &[u8], protocol: Protocol) -> Option<Vec<u8>> {
        let src = SocketAddr::from(([127, 0, 0, 1], 53_000));
        let request = Request::from_bytes(bytes.to_vec(), src, protocol).ok()?;
        let capture = Capture { protocol, sent: Arc::default() };
        // Nothing in our handler waits: one poll completes it.
        self.handle_request::<_, TokioTime>(&request, capture.clone()).now_or_never()?;
        let sent = capture.sent.lock().take();
        sent
    }

    /// The response code and records for `request`, from `index` (made on demand, so
    /// refused queries never cause a build).
    fn reply<'a>(&self, request: &Request, index: &'a mut Option<Arc<Index>>) -> Reply<'a> {
        if request.metadata.op_code != OpCode::Query {
            return Reply::refuse(ResponseCode::NotImp);
        }
        if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
            return Reply::refuse(ResponseCode::BADVERS);
        }
        let [query] = request.queries.queries() else {
            return Reply::refuse(ResponseCode::FormErr);
        };
        let qtype = query.query_type();
        let in_class = matches!(query.query_class(), DNSClass::IN | DNSClass::ANY);
        let names = &self.cache.shape().names;
        if !in_class
            || !names.apex_key.zone_of(query.name())
            || matches!(qtype, RecordType::AXFR | RecordType::IXFR)
        {
            return Reply::refuse(ResponseCode::Refused);
        }
        let index: &'a Index = index.insert(self.index());
        let found = index.lookup(query.name());
        let mut reply = match found {
            Found::Nothing => return Reply::negative(ResponseCode::NXDomain, index),
            Found::Apex if qtype == RecordType::SOA => {
                let mut reply = Reply::negative(ResponseCode::NoError, index);
                reply.answers.push(&index.soa);
                reply.soa = None;
                reply
            }
            Found::Apex | Found::Empty => Reply::negative(ResponseCode::NoError, index),
            Found::Node(node) => self.records(qtype, iter::once(node), index),
            Found::Vip(shares) => self.records(qtype, shares.iter().map(|s| s.node()), index),
        };
        if reply.answers.is_empty() {
            reply.soa = Some(&index.soa);
        }
        reply
    }

    /// The records of `qtype` held by `nodes` (one name, one or several applications).
    fn records<'a>(
        &self,
        qtype: RecordType,
        nodes: impl Iterator<Item = &'a Node> + Clone,
        index: &'a Index,
    ) -> Reply<'a> {
        let mut reply = Reply { soa: None, ..Reply::negative(ResponseCode::NoError, index) };
        let take = |pick: fn(&'a Node) -> &'a [Record]| -> Vec<&'a Record> {
            self.choose(nodes.clone().flat_map(pick).collect())
        };
        let srv = |reply: &mut Reply<'a>| {
            let chosen: Vec<&'a Srv> = self.choose(nodes.clone().flat_map(|n| &n.srv).collect());
            reply.answers = chosen.iter().map(|s| &s.record).collect();
            reply.additionals = chosen.iter().map(|s| &*s.target).collect();
        };
        match qtype {
            RecordType::A => reply.answers = take(|n| &n.a),
            RecordType::AAAA => reply.answers = take(|n| &n.aaaa),
            RecordType::TXT => reply.answers = take(|n| &n.txt),
            RecordType::SRV => srv(&mut reply),
            RecordType::ANY => {
                reply.answers = take(|n| &n.a);
                if reply.answers.is_empty() {
                    reply.answers = take(|n| &n.aaaa);
                }
                if reply.answers.is_empty() {
                    srv(&mut reply);
                }
                if reply.answers.is_empty() {
                    reply.answers = take(|n| &n.txt);
                }
            }
            _ => {}
        }
        reply
    }

    /// At most `max_answers` of `items`, in random order (a different order per answer, so
    /// clients that take the first address spread over the instances).
    fn choose<T: Copy>(&self, mut items: Vec<T>) -> Vec<T> {
        let mut rng = rand::thread_rng();
        if items.len() > self.max_answers {
            // The chosen part is not necessarily the head of `items`.
            let (chosen, _) = items.partial_shuffle(&mut rng, self.max_answers);
            chosen.to_vec()
        } else {
            items.shuffle(&mut rng);
            items
        }
    }
}

/// The EDNS0 record of the answer to a query that had one: our version (0), the client's DO
/// bit, and the payload size we will fill (the client's, at most [`MAX_UDP_PAYLOAD`]).
fn response_edns(request: &Request) -> Option<Edns> {
    let asked = request.edns.as_ref()?;
    let mut edns = Edns::new();
    edns.set_version(0);
    edns.set_dnssec_ok(asked.flags().dnssec_ok);
    edns.set_max_payload(asked.max_payload().min(MAX_UDP_PAYLOAD));
    Some(edns)
}

#[async_trait::async_trait]
impl RequestHandler for Answerer {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let started = Instant::now();
        let edns = response_edns(request);
        let mut index = None;
        let reply = self.reply(request, &mut index);
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.response_code = reply.code;
        metadata.authoritative = reply.authoritative;
        let response = MessageResponseBuilder::new(&request.queries, edns.as_ref()).build(
            metadata,
            reply.answers.iter().copied(),
            iter::empty(),
            reply.soa,
            reply.additionals.iter().copied(),
        );
        let qtype = match request.queries.queries() {
            [query] => Some(query.query_type()),
            _ => None,
        };
        let info = match response_handle.send_response(response).await {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!(%error, src = %request.src(), "dns answer not sent");
                let mut metadata = Metadata::response_from_request(&request.metadata);
                metadata.response_code = ResponseCode::ServFail;
                return ResponseInfo::from(Header { metadata, counts: Default::default() });
            }
        };
        if let Some(metrics) = &self.state.metrics.dns {
            metrics.observe(qtype, info.response_code, info.truncation, started.elapsed());
        }
        info
    }
}

/// A response handler that keeps the encoded answer (what [`Answerer::answer_raw`] returns),
/// cut to the same sizes the socket's handler uses.
#[derive(Clone)]
struct Capture {
    protocol: Protocol,
    sent: Arc<parking_lot::Mutex<Option<Vec<u8>>>>,
}

#[async_trait::async_trait]
impl ResponseHandler for Capture {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        let max = match self.protocol {
            Protocol::Udp => response.edns().map_or(512, Edns::max_payload),
            _ => u16::MAX,
        };
        let mut bytes = Vec::with_capacity(512);
        let mut encoder = BinEncoder::new(&mut bytes);
        encoder.set_max_size(max);
        let info = response.destructive_emit(&mut encoder)?;
        *self.sent.lock() = Some(bytes);
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use eureka_model::{InstanceInfo, Port};
    use eureka_registry::Origin;
    use hickory_proto::op::{Message, MessageType, Query};
    use hickory_proto::rr::Name;

    use super::*;
    use crate::config::{DnsSettings, ServerConfig};
    use crate::{Clock, ServerState};

    fn answerer(instances: usize, max_answers: usize) -> Answerer {
        let dns = DnsSettings { enabled: true, max_answers, ..DnsSettings::default() };
        let state =
            ServerState::new(ServerConfig { dns, ..ServerConfig::default() }, Clock::System)
                .unwrap();
        for i in 0..instances {
            let info = InstanceInfo {
                instance_id: Some(format!("i-{i}")),
                host_name: format!("h{i}"),
                app: "WIDE".into(),
                ip_addr: format!("10.0.{}.{}", i / 250, i % 250),
                port: Port { port: 8080, enabled: true },
                ..Default::default()
            };
            state.registry.register(info, Origin::Client, 1);
        }
        Answerer::new(state).unwrap()
    }

    fn query(name: &str, qtype: RecordType, payload: Option<u16>) -> Vec<u8> {
        let mut message = Message::new(7, MessageType::Query, OpCode::Query);
        message.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
        if let Some(size) = payload {
            let mut edns = Edns::new();
            edns.set_max_payload(size);
            message.set_edns(edns);
        }
        message.to_vec().unwrap()
    }

    fn ask(answerer: &Answerer, bytes: &[u8], protocol: Protocol) -> (Message, usize) {
        let raw = answerer.answer_raw(bytes, protocol).expect("an answer");
        (Message::from_vec(&raw).unwrap(), raw.len())
    }

    #[test]
    fn udp_answers_fit_the_payload_size_and_set_tc_when_cut() {
        let answerer = answerer(100, 200);
        let name = "wide.service.eureka.";
        let (plain, len) = ask(&answerer, &query(name, RecordType::A, None), Protocol::Udp);
        assert!(len <= 512 && plain.metadata.truncation, "{len} bytes");
        let (asked, len) = ask(&answerer, &query(name, RecordType::A, Some(4096)), Protocol::Udp);
        assert!(len <= usize::from(MAX_UDP_PAYLOAD), "capped at {MAX_UDP_PAYLOAD}: {len}");
        assert!(asked.metadata.truncation && asked.answers.len() > plain.answers.len());
        let (tcp, _) = ask(&answerer, &query(name, RecordType::A, None), Protocol::Tcp);
        assert!(!tcp.metadata.truncation);
        assert_eq!(tcp.answers.len(), 100);
    }

    #[test]
    fn max_answers_bounds_a_and_srv_with_their_additionals() {
        let answerer = answerer(30, 4);
        let name = "wide.service.eureka.";
        let (a, _) = ask(&answerer, &query(name, RecordType::A, None), Protocol::Tcp);
        assert_eq!(a.answers.len(), 4);
        let (srv, _) = ask(&answerer, &query(name, RecordType::SRV, None), Protocol::Tcp);
        assert_eq!((srv.answers.len(), srv.additionals.len()), (4, 4));
        for answer in &srv.answers {
            let hickory_proto::rr::RData::SRV(srv_data) = &answer.data else { panic!() };
            assert!(srv.additionals.iter().any(|r| r.name == srv_data.target));
        }
        assert!(answerer.answer_raw(&[1, 2, 3], Protocol::Udp).is_none(), "no header, no answer");
    }

    /// The fuzz target's seeds (fuzz/corpus/dns_query: a selector byte, then a packet) on
    /// stable, with its checks: each is answered, keeps its id and fits the UDP payload.
    #[test]
    fn the_fuzz_seeds_are_answered_with_their_id() {
        let answerer = answerer(3, 8);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/dns_query");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let (selector, packet) = data.split_first().unwrap();
            let protocol = if selector & 1 == 0 { Protocol::Udp } else { Protocol::Tcp };
            let answer = answerer.answer_raw(packet, protocol).expect("seeds are well formed");
            assert_eq!(answer[..2], packet[..2], "{}", path.display());
            assert!(answer.len() <= usize::from(MAX_UDP_PAYLOAD), "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 10, "{seen} seeds");
    }
}
