//! `eureka.dns.*`: the DNS interface to the registry.

use crate::config::check::{any, dns_max_answers, dns_ttl};
use crate::config::kinds::{BOOL, DNS_DOMAIN, IP, NAME_LIST, PORT, SECONDS, USIZE};

use super::Spring::Ours;
use super::{bind, Group};

pub(super) const GROUP: Group = Group {
    title: "DNS interface",
    rows: &[
        bind!("eureka.dns.enabled" => dns.enabled: BOOL, any; Ours,
            "Answer DNS queries for the registry's UP instances over UDP and TCP (see the \
             README's DNS section)."),
        bind!("eureka.dns.port" => dns.port: PORT, any; Ours,
            "The DNS port, UDP and TCP; 0 picks a free one."),
        bind!("eureka.dns.address" => optional dns.address: IP, any; Ours,
            "The address DNS listens on. Unset: `server.address`."),
        bind!("eureka.dns.domain" => dns.domain: DNS_DOMAIN, any; Ours,
            "The zone answered (`<app>.service.<domain>` and so on); names outside it are \
             refused."),
        bind!("eureka.dns.ttl" => dns.ttl: SECONDS, dns_ttl; Ours,
            "The TTL of every record and of a negative answer, 0 to 86400 s."),
        bind!("eureka.dns.max-answers" => dns.max_answers: USIZE, dns_max_answers; Ours,
            "Records per answer, 1 to 1024: a random subset of a larger application."),
        bind!("eureka.dns.txt-metadata" => dns.txt_metadata: NAME_LIST, any; Ours,
            "Metadata keys an instance's TXT record shows besides its id and status; none by \
             default, as metadata may hold secrets."),
    ],
};
