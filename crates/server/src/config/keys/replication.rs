//! The cluster: which peers this server talks to (`eureka.client.*`, `peer-urls`), the
//! start-up copy, replication queues and batches, and how calls to peers authenticate.

use crate::config::check::{
    any, millis, minus_one_or_more, optional_url, positive_count, positive_millis, required_with,
    Rejected,
};
use crate::config::discovery::{check_interval, check_java_txt, check_srv};
use crate::config::kinds::{
    BOOL, DNS_NAME, HOST_PORT, I32, MILLIS, PATH, PORT, SECRET, TEXT, U32, URL, URL_CONTEXT,
    URL_LIST, USIZE,
};
use crate::config::parse::{is_http_url, EXPECT_URL_LIST};

use super::Spring::{Ours, Same};
use super::{bind, set, set_optional, show_optional, Apply, Binding, Group, Shown};

/// The key that binds `eureka.client.service-url.<zone>`.
pub(in crate::config) const SERVICE_URL_KEY: &str = "eureka.client.service-url.*";

pub(super) const GROUP: Group = Group {
    title: "Cluster and replication",
    rows: &[
        Binding {
            key: SERVICE_URL_KEY,
            apply: Apply::Map(|b, zone, raw| {
                let urls = match raw {
                    Some(raw) => (URL_LIST.parse)(raw)?,
                    None => Vec::new(),
                };
                if urls.is_empty() {
                    b.config.client.service_urls.remove(&zone);
                } else {
                    b.config.client.service_urls.insert(zone, urls);
                }
                Ok(())
            }),
            check: |c| {
                for (zone, urls) in &c.client.service_urls {
                    if let Some(bad) = urls.iter().find(|url| !is_http_url(url)) {
                        return Err(Rejected {
                            map_key: Some(zone.clone()),
                            value: bad.clone(),
                            expected: EXPECT_URL_LIST,
                        });
                    }
                }
                Ok(())
            },
            show: |c| {
                let zones = &c.client.service_urls;
                Shown::Entries(zones.iter().map(|(z, u)| (z.clone(), (URL_LIST.show)(u))).collect())
            },
            ty: URL_LIST.ty,
            spring: Same,
            doc: "Peer URLs per zone, comma-separated; `defaultZone` is the cluster (other \
                  zones are not used yet) and our own URL among them is skipped. Empty by \
                  default (standalone), unlike Spring's `http://localhost:8761/eureka/`.",
        },
        bind!("eureka.server.peer-urls" => extra_peer_urls: URL_LIST, any; Ours,
            "More peers, besides `service-url.defaultZone`. Also `--peer URL`, repeatable."),
        bind!("eureka.server.my-url" => optional my_url: URL, optional_url; Same,
            "Our own URL as peers name it, to skip ourselves among the peers (host and port \
             are compared too)."),
        bind!("eureka.server.peer-dns-name" => optional peer_discovery.dns_name: DNS_NAME, any;
            Ours,
            "Peers from DNS: every A/AAAA record of this name (e.g. a headless Service's \
             `eureka-headless.my-ns.svc.cluster.local`) is a peer at \
             `http(s)://IP:PORT/eureka/`, re-read every `peer-eureka-nodes-update-interval-ms`; \
             our own addresses are skipped. Adds to the static peers."),
        bind!("eureka.server.peer-dns-port" => optional peer_discovery.dns_port: PORT, any; Ours,
            "The port of peers found by their A/AAAA records; unset means this node's port."),
        Binding {
            key: "eureka.server.peer-dns-srv",
            apply: Apply::Scalar(|b, raw| {
                set(&mut b.config.peer_discovery.dns_srv, raw, BOOL.parse)
            }),
            check: |c| check_srv(&c.peer_discovery),
            show: |c| Shown::Value((BOOL.show)(&c.peer_discovery.dns_srv)),
            ty: BOOL.ty,
            spring: Ours,
            doc: "Look `peer-dns-name` up as SRV records (give the full SRV name, e.g. \
                  `_http._tcp.eureka-headless.my-ns.svc.cluster.local`): their targets and \
                  ports are the peers.",
        },
        bind!("eureka.server.peer-dns-server"
            => optional peer_discovery.dns_server: HOST_PORT, any; Ours,
            "Send peer lookups to this name server instead of the system resolver (tests, \
             unusual setups)."),
        Binding {
            key: "eureka.server.peer-eureka-nodes-update-interval-ms",
            apply: Apply::Scalar(|b, raw| {
                set_optional(&mut b.config.peer_discovery.refresh_interval, raw, MILLIS.parse)
            }),
            check: |c| check_interval(&c.peer_discovery),
            show: |c| Shown::Value((MILLIS.show)(&c.peer_discovery.refresh_interval())),
            ty: MILLIS.ty,
            spring: Same,
            doc: "How often peers from DNS are looked up again; the peer set then changes \
                  without a restart (the static list changes on SIGHUP). Spring's default is \
                  10 minutes.",
        },
        Binding {
            key: "eureka.client.use-dns-for-fetching-service-urls",
            apply: Apply::Scalar(|b, raw| {
                set(&mut b.config.peer_discovery.java_txt, raw, BOOL.parse)
            }),
            check: |c| check_java_txt(&c.peer_discovery),
            show: |c| Shown::Value((BOOL.show)(&c.peer_discovery.java_txt)),
            ty: BOOL.ty,
            spring: Same,
            doc: "Java's DNS scheme: the TXT record `txt.<region>.<eureka-server-d-n-s-name>` \
                  names the zones, each zone's `txt.<zone>` record its servers; re-read like \
                  `peer-dns-name`.",
        },
        bind!("eureka.client.eureka-server-d-n-s-name"
            => optional peer_discovery.java_dns_name: DNS_NAME, any; Same,
            "The domain of that TXT scheme (required with it)."),
        bind!("eureka.client.eureka-server-port" => optional peer_discovery.java_port: PORT, any;
            Same,
            "The port of the servers the TXT records name; unset means this node's port."),
        bind!("eureka.client.eureka-server-u-r-l-context"
            => optional peer_discovery.java_context: URL_CONTEXT, any; Same,
            "The path of their API; unset means `eureka` (Java builds `/`, where no Spring \
             server answers)."),
        bind!("eureka.client.register-with-eureka" => client.register_with_eureka: BOOL, any;
            Same,
            "Accepted, not acted on: this server does not register itself with its peers (they \
             learn of its instances by replication). Spring's default is true."),
        bind!("eureka.client.fetch-registry" => client.fetch_registry: BOOL, any; Same,
            "Accepted, not acted on: the registry is copied from peers at start-up whenever \
             there are peers. Spring's default is true."),
        bind!("eureka.client.region" => client.region: TEXT, any; Same,
            "This server's region (Netflix's `eureka.region`): shown by `status`; a `regions=` \
             that names it adds nothing."),
        bind!("eureka.server.sync-when-timestamp-differs"
            => sync_when_timestamp_differs: BOOL, any; Same,
            "Compare a renewal's `lastDirtyTimestamp` with ours: a newer one gets 404 (the \
             caller registers again), a peer's older one gets 409 with our copy, and a peer's \
             409 makes us adopt its copy."),
        bind!("eureka.server.registry-sync-retries" => registry_sync_retries: U32, any; Same,
            "Extra rounds of the start-up copy from peers (one round is always tried when there \
             are peers)."),
        bind!("eureka.server.registry-sync-retry-wait-ms"
            => registry_sync_retry_wait: MILLIS, millis; Same,
            "The pause between rounds of the start-up copy."),
        bind!("eureka.server.default-open-for-traffic-count"
            => default_open_for_traffic_count: U32, any; Same,
            "Spring's instance count assumed when the start-up copy found none; 0 restores \
             Java's \"registry not ready\" window (reads get 403 for \
             `wait-time-in-ms-when-sync-empty`)."),
        bind!("eureka.server.wait-time-in-ms-when-sync-empty"
            => wait_time_when_sync_empty: MILLIS, millis; Same,
            "With `default-open-for-traffic-count: 0`: how long reads get 403 after a start-up \
             copy that found nothing."),
        bind!("eureka.server.peer-node-connect-timeout-ms"
            => peer_node_connect_timeout: MILLIS, positive_millis; Same,
            "Connect timeout per call to a peer (Netflix's value; Spring's 200 ms is easy to \
             hit)."),
        bind!("eureka.server.peer-node-read-timeout-ms"
            => peer_node_read_timeout: MILLIS, positive_millis; Same,
            "Time for a peer's answer per call (Netflix's value; Spring's default is 200 ms)."),
        bind!("eureka.server.max-elements-in-peer-replication-pool"
            => max_elements_in_peer_replication_pool: USIZE, positive_count; Same,
            "Queued instances above which an unreachable peer's queue is shed and a resync \
             owed (counted in `eureka_peer_shed_entries_total`); a peer that answers is never \
             dropped a write, its queue holds one entry per instance."),
        bind!("eureka.server.max-threads-for-peer-replication"
            => max_threads_for_peer_replication: USIZE, positive_count; Same,
            "Accepted and checked, not used yet: each peer has one sender with one batch in \
             flight."),
        bind!("eureka.server.max-time-for-replication"
            => max_time_for_replication: MILLIS, positive_millis; Same,
            "How long a peer must have been unreachable before its queue may be shed; queued \
             writes never expire."),
        bind!("eureka.server.peer-replication-batch-delay-ms"
            => peer_replication_batch_delay: MILLIS, millis; Ours,
            "How long a change waits for others to share its batch; changes that arrive while \
             a batch is in flight go together in the next."),
        bind!("eureka.server.peer-heartbeat-batch-delay-ms"
            => peer_heartbeat_batch_delay: MILLIS, millis; Ours,
            "The same for heartbeats (Java's batching window), and the longest any task waits."),
        bind!("eureka.server.peer-replication-batch-size"
            => peer_replication_batch_size: USIZE, positive_count; Ours,
            "Tasks per replication batch (fixed at 250 in Java)."),
        bind!("eureka.server.enable-replicated-request-compression"
            => enable_replicated_request_compression: BOOL, any; Same,
            "Gzip replication batch bodies."),
        bind!("eureka.server.min-available-instances-for-peer-replication"
            => min_available_instances_for_peer_replication: I32, minus_one_or_more; Same,
            "Accepted and checked (-1 or more; -1 disables it), not used yet."),
        bind!("eureka.server.peer-tls.trust-certificate"
            => optional peer_tls.trust_certificate: PATH, any; Ours,
            "PEM bundle of extra CAs trusted for `https://` peer URLs, besides the public web \
             roots."),
        Binding {
            key: "eureka.server.peer-tls.certificate",
            apply: Apply::Scalar(|b, raw| {
                set_optional(&mut b.config.peer_tls.certificate, raw, PATH.parse)
            }),
            check: |c| {
                required_with(
                    &c.peer_tls.certificate,
                    &c.peer_tls.certificate_private_key,
                    "a PEM certificate file: eureka.server.peer-tls.certificate-private-key \
                     needs its certificate",
                )
            },
            show: |c| show_optional(&c.peer_tls.certificate, PATH.show),
            ty: PATH.ty,
            spring: Ours,
            doc: "PEM certificate chain presented to peers that ask for one (`client-auth: \
                  need`); a node's server certificate works if it allows client use.",
        },
        Binding {
            key: "eureka.server.peer-tls.certificate-private-key",
            apply: Apply::Scalar(|b, raw| {
                set_optional(&mut b.config.peer_tls.certificate_private_key, raw, PATH.parse)
            }),
            check: |c| {
                required_with(
                    &c.peer_tls.certificate_private_key,
                    &c.peer_tls.certificate,
                    "a PEM private key file: eureka.server.peer-tls.certificate needs its key",
                )
            },
            show: |c| show_optional(&c.peer_tls.certificate_private_key, PATH.show),
            ty: PATH.ty,
            spring: Ours,
            doc: "PEM private key of that certificate.",
        },
        bind!("eureka.server.peer-username" => optional peer_username: TEXT, any; Ours,
            "The user this node replicates as, for peer URLs without `user:password@`."),
        bind!("eureka.server.peer-password" => optional peer_password: SECRET, any; Ours,
            "That user's password (plain text: it is sent, not checked)."),
    ],
};
