//! `eureka-bench-dns`: the ceiling of the DNS scenario. A static hickory server (hickory's own
//! in-memory zone and catalog, the same server loop ours runs in) holding one name's A records
//! and the zone's SOA, on UDP and TCP; no registry behind it.
//!
//! `eureka-bench-dns --port P --zone eureka. --name bench.service.eureka. --ttl 5 --address 10.0.0.1 --address …`

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hickory_proto::rr::rdata::{A, SOA};
use hickory_proto::rr::{LowerName, Name, RData, Record};
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

/// A static hickory DNS server answering one name's A records.
#[derive(Debug, Parser)]
struct Args {
    /// Port on 127.0.0.1 (UDP and TCP).
    #[arg(long)]
    port: u16,
    /// The zone (its SOA is served too).
    #[arg(long, default_value = "eureka.")]
    zone: String,
    /// The name holding the A records.
    #[arg(long)]
    name: String,
    /// TTL of every record, seconds.
    #[arg(long, default_value_t = 5)]
    ttl: u32,
    /// One A record per address.
    #[arg(long = "address", required = true)]
    addresses: Vec<Ipv4Addr>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let zone = Name::from_ascii(&args.zone).context("--zone")?;
    let name = Name::from_ascii(&args.name).context("--name")?;
    let mut handler = InMemoryZoneHandler::<TokioRuntimeProvider>::empty(
        zone.clone(),
        ZoneType::Primary,
        AxfrPolicy::Deny,
    );
    let ns = Name::from_ascii("ns")?.append_domain(&zone)?;
    let mailbox = Name::from_ascii("hostmaster")?.append_domain(&zone)?;
    let soa = SOA::new(ns, mailbox, 1, 3600, 600, 86_400, args.ttl);
    handler.upsert_mut(Record::from_rdata(zone.clone(), args.ttl, RData::SOA(soa)), 1);
    for address in &args.addresses {
        let record = Record::from_rdata(name.clone(), args.ttl, RData::A(A(*address)));
        handler.upsert_mut(record, 1);
    }
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::new(&zone), vec![Arc::new(handler)]);

    // One thread, as the hyper baseline: the server gets one core, and a single-threaded
    // runtime is the cheapest way to use it.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
        let mut server = Server::new(catalog);
        server.register_socket(UdpSocket::bind(addr).await.with_context(|| format!("udp {addr}"))?);
        let tcp = TcpListener::bind(addr).await.with_context(|| format!("tcp {addr}"))?;
        server.register_listener(tcp, Duration::from_secs(10), 32);
        server.block_until_done().await.context("dns server")?;
        anyhow::Ok(())
    })
}
