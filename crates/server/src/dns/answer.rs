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
use std::sync::Arc;

use hickory_proto::op::{Edns, Header, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{DNSClass, Record, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
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
