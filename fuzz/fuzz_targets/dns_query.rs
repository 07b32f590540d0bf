//! The DNS query path: hickory's decoding of a raw packet, our answer from a small registry,
//! and its encoding. The first byte picks UDP or TCP, the rest is the packet. Any outcome but a
//! panic is fine, as long as an answer keeps the query's id and a UDP answer fits the largest
//! payload we send.
#![no_main]

use std::sync::OnceLock;

use eureka_model::{InstanceInfo, InstanceStatus, Port};
use eureka_registry::Origin;
use eureka_server::config::{DnsSettings, ServerConfig};
use eureka_server::dns::answer::MAX_UDP_PAYLOAD;
use eureka_server::dns::{Answerer, Protocol};
use eureka_server::{Clock, ServerState};
use libfuzzer_sys::fuzz_target;

fn answerer() -> &'static Answerer {
    static ANSWERER: OnceLock<Answerer> = OnceLock::new();
    ANSWERER.get_or_init(|| {
        let dns = DnsSettings {
            enabled: true,
            max_answers: 8,
            txt_metadata: vec!["version".into()],
            ..DnsSettings::default()
        };
        let config = ServerConfig { dns, ..ServerConfig::default() };
        let state = ServerState::new(config, Clock::System).expect("state");
        let ips = ["10.0.0.1", "10.0.0.2", "fd00::3", "10.0.0.4", "not-an-ip"];
        for (i, ip) in ips.iter().enumerate() {
            let info = InstanceInfo {
                instance_id: Some(format!("{ip}:orders:{i}")),
                host_name: format!("host-{i}"),
                app: "ORDERS".into(),
                ip_addr: ip.to_string(),
                status: if i == 3 { InstanceStatus::Down } else { InstanceStatus::Up },
                port: Port { port: 8080, enabled: true },
                secure_port: Port { port: 8443, enabled: i % 2 == 0 },
                vip_address: Some("orders,orders.example.com".into()),
                secure_vip_address: Some("orders-secure".into()),
                metadata: [
                    ("zone".to_string(), format!("zone-{}", i % 2)),
                    ("version".into(), "1".into()),
                ]
                .into(),
                ..Default::default()
            };
            state.registry.register(info, Origin::Client, 1);
        }
        Answerer::new(state).expect("answerer")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, packet)) = data.split_first() else { return };
    let protocol = if selector & 1 == 0 { Protocol::Udp } else { Protocol::Tcp };
    let Some(answer) = answerer().answer_raw(packet, protocol) else { return };
    assert!(answer.len() >= 12, "an answer has a header");
    assert_eq!(answer[..2], packet[..2], "the answer keeps the query's id");
    if protocol == Protocol::Udp {
        assert!(answer.len() <= usize::from(MAX_UDP_PAYLOAD), "{} bytes over UDP", answer.len());
    }
});
