//! A DNS server for tests: one zone on `127.0.0.1` (UDP and TCP, one port) whose A, AAAA, SRV
//! and TXT records a test sets and changes while servers under test query it (their
//! `eureka.server.peer-dns-server`).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hickory_server::proto::rr::rdata::{A, AAAA, SOA, SRV, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Records live this long in caches that honour TTLs (ours caches nothing).
const TTL: u32 = 1;

/// A running DNS server for one zone; stopped by [`TestDns::stop`] or on drop.
pub struct TestDns {
    /// Where it listens, UDP and TCP: `HOST:PORT` for `eureka.server.peer-dns-server`.
    pub addr: SocketAddr,
    zone: Arc<InMemoryZoneHandler>,
    serial: AtomicU32,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl TestDns {
    /// Serves the zone `origin` (e.g. `test.`) with no records but its SOA.
    pub async fn start(origin: &str) -> TestDns {
        let origin = Name::from_ascii(origin).expect("zone name");
        let zone = InMemoryZoneHandler::empty(origin.clone(), ZoneType::Primary, AxfrPolicy::Deny);
        let soa = SOA::new(
            Name::from_ascii("ns").unwrap().append_domain(&origin).unwrap(),
            Name::from_ascii("admin").unwrap().append_domain(&origin).unwrap(),
            1,
            60,
            60,
            600,
            TTL,
        );
        let zone = Arc::new(zone);
        assert!(zone.upsert(Record::from_rdata(origin.clone(), TTL, RData::SOA(soa)), 1).await);
        let mut catalog = Catalog::new();
        catalog.upsert(LowerName::new(&origin), vec![zone.clone() as Arc<dyn ZoneHandler>]);

        let (udp, tcp) = bind_pair().await;
        let addr = udp.local_addr().expect("udp address");
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 64);
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            tokio::select! {
                _ = stopped.cancelled() => { let _ = server.shutdown_gracefully().await; }
                _ = server.block_until_done() => {}
            }
        });
        TestDns { addr, zone, serial: AtomicU32::new(1), stop, task: Some(task) }
    }

    /// Makes `ips` the A and AAAA records of `name` (none: the name has no addresses).
    pub async fn set_addresses(&self, name: &str, ips: &[IpAddr]) {
        let v4 = ips.iter().filter_map(|ip| match ip {
            IpAddr::V4(v4) => Some(RData::A(A(*v4))),
            IpAddr::V6(_) => None,
        });
        self.set(name, RecordType::A, v4.collect()).await;
        let v6 = ips.iter().filter_map(|ip| match ip {
            IpAddr::V6(v6) => Some(RData::AAAA(AAAA(*v6))),
            IpAddr::V4(_) => None,
        });
        self.set(name, RecordType::AAAA, v6.collect()).await;
    }

    /// Makes `targets` (host name, port) the SRV records of `name`.
    pub async fn set_srv(&self, name: &str, targets: &[(&str, u16)]) {
        let records = targets
            .iter()
            .map(|(host, port)| {
                RData::SRV(SRV::new(0, 10, *port, Name::from_ascii(host).expect("target")))
            })
            .collect();
        self.set(name, RecordType::SRV, records).await;
    }

    /// Makes one TXT record of `name` holding `words` joined by spaces, as Java's scheme
    /// expects (no words: no record).
    pub async fn set_txt(&self, name: &str, words: &[&str]) {
        let records = if words.is_empty() {
            Vec::new()
        } else {
            vec![RData::TXT(TXT::new(vec![words.join(" ")]))]
        };
        self.set(name, RecordType::TXT, records).await;
    }

    /// Replaces the record set of `name` and `kind` with `data`.
    pub async fn set(&self, name: &str, kind: RecordType, data: Vec<RData>) {
        let name = Name::from_ascii(name).expect("record name");
        self.zone.records_mut().await.remove(&RrKey::new(LowerName::new(&name), kind));
        let serial = self.serial.fetch_add(1, Ordering::Relaxed) + 1;
        for rdata in data {
            assert!(self.zone.upsert(Record::from_rdata(name.clone(), TTL, rdata), serial).await);
        }
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A UDP socket and a TCP listener on the same free loopback port.
async fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
        let addr = udp.local_addr().expect("udp address");
        if let Ok(tcp) = TcpListener::bind(addr).await {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}
