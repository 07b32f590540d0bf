//! The DNS interface end to end: `dig` (Debian's bind9-dnsutils, required: these tests fail
//! without it) and hickory-resolver query a running server whose registry is filled through
//! the Eureka API; hostile packets in [`hostile`].

mod dig;
mod hostile;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use eureka_model::{json, InstanceInfo, InstanceStatus, Port};
use eureka_testkit::{fixtures, TestServer};
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;

use dig::dig;

/// A server with DNS on a free loopback port and `settings` on top.
async fn server(settings: &[(&str, &str)]) -> TestServer {
    let mut all = vec![("eureka.dns.enabled", "true")];
    all.extend_from_slice(settings);
    TestServer::start_with(fixtures::config(&all), eureka_server::Clock::System).await
}

fn dns(server: &TestServer) -> SocketAddr {
    server.dns_addr().expect("DNS is enabled")
}

/// An UP instance of `app` at `ip`, port 8080, secure port 8443 (disabled).
fn instance(app: &str, id: &str, ip: &str) -> InstanceInfo {
    InstanceInfo {
        instance_id: Some(id.to_string()),
        host_name: format!("host-{id}"),
        app: app.to_string(),
        ip_addr: ip.to_string(),
        status: InstanceStatus::Up,
        port: Port { port: 8080, enabled: true },
        secure_port: Port { port: 8443, enabled: false },
        vip_address: Some(app.to_lowercase()),
        last_dirty_timestamp: fixtures::now_ms(),
        ..Default::default()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap()
}

async fn register(server: &TestServer, info: &InstanceInfo) {
    let response = http()
        .post(server.url(&format!("apps/{}", info.app)))
        .header("Content-Type", "application/json")
        .body(json::encode_instance(info))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "register {}", info.id());
}

async fn call(server: &TestServer, method: reqwest::Method, path: &str) {
    let response = http().request(method.clone(), server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{method} {path}");
}

/// The instance name of `id` under `app` (the documented naming scheme).
fn instance_name(app: &str, id: &str) -> String {
    let label = eureka_server::dns::names::instance_label(id);
    format!("{label}.{}.instance.eureka.", app.to_lowercase())
}

fn set(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// A resolver that asks only `addr`, over UDP or TCP, without a cache (each lookup is a query).
fn resolver(addr: SocketAddr, tcp: bool) -> TokioResolver {
    let mut connection = if tcp { ConnectionConfig::tcp() } else { ConnectionConfig::udp() };
    connection.port = addr.port();
    let server = NameServerConfig::new(addr.ip(), true, vec![connection]);
    let config = ResolverConfig::from_name_servers(vec![server]);
    let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
    let options = builder.options_mut();
    options.cache_size = 0;
    options.use_hosts_file = ResolveHosts::Never;
    options.attempts = 1;
    options.timeout = Duration::from_secs(2);
    builder.build().expect("resolver")
}

#[tokio::test(flavor = "multi_thread")]
async fn dig_reads_every_kind_of_name_and_code() {
    let s = server(&[("eureka.dns.ttl", "7"), ("eureka.dns.txt-metadata", "version")]).await;
    let addr = dns(&s);
    let mut o1 = instance("ORDERS", "10.0.0.1:orders:8080", "10.0.0.1");
    o1.metadata = [("zone", "zone-a"), ("version", "1.2"), ("secret", "hunter2")]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into();
    o1.secure_port.enabled = true;
    o1.vip_address = Some("orders.example.com,shared".into());
    o1.secure_vip_address = Some("orders-secure".into());
    let mut o2 = instance("ORDERS", "10.0.0.2:orders:8080", "10.0.0.2");
    o2.metadata = [("zone".to_string(), "zone-b".to_string())].into();
    o2.port.port = 9090;
    let mut o3 = instance("ORDERS", "orders-v6", "fd00::3");
    o3.metadata = [("zone".to_string(), "Zone-A".to_string())].into();
    let mut down = instance("ORDERS", "10.0.0.4:orders:8080", "10.0.0.4");
    down.status = InstanceStatus::Down;
    let mut p1 = instance("PAYMENTS", "10.0.1.1:payments:8080", "10.0.1.1");
    p1.vip_address = Some("shared".into());
    for info in [&o1, &o2, &o3, &down, &p1] {
        register(&s, info).await;
    }

    // A and AAAA: the UP instances' addresses, authoritative, with the configured TTL.
    let a = dig(addr, &["orders.service.eureka", "A"]).await;
    assert_eq!(a.status, "NOERROR", "{}", a.text);
    assert!(a.has_flag("aa") && !a.has_flag("tc"), "{}", a.text);
    assert_eq!(a.data("A"), set(&["10.0.0.1", "10.0.0.2"]), "DOWN is not served: {}", a.text);
    assert!(a.answers.iter().all(|r| r.ttl == 7), "{}", a.text);
    let aaaa = dig(addr, &["ORDERS.Service.Eureka.", "AAAA"]).await;
    assert_eq!(aaaa.data("AAAA"), set(&["fd00::3"]), "names compare without case: {}", aaaa.text);

    // SRV: the port, and each target's address in the additional section.
    for name in ["_orders._tcp.service.eureka", "orders.service.eureka"] {
        let srv = dig(addr, &[name, "SRV"]).await;
        let expected = [
            (instance_name("ORDERS", o1.id()), "8080", "10.0.0.1"),
            (instance_name("ORDERS", o2.id()), "9090", "10.0.0.2"),
            (instance_name("ORDERS", o3.id()), "8080", "fd00::3"),
        ];
        assert_eq!(srv.answers.len(), 3, "{}", srv.text);
        for (target, port, ip) in &expected {
            assert!(srv.data("SRV").contains(&format!("1 1 {port} {target}")), "{}", srv.text);
            assert!(
                srv.additional.iter().any(|r| &r.name == target && r.data == *ip),
                "{target} resolves to {ip} in the additional section: {}",
                srv.text
            );
        }
        // The target name resolves on its own too.
        let target = dig(addr, &[&expected[0].0, "A"]).await;
        assert_eq!(target.data("A"), set(&["10.0.0.1"]), "{}", target.text);
    }
    let https = dig(addr, &["_orders._https.service.eureka", "SRV"]).await;
    assert_eq!(
        https.data("SRV"),
        vec![format!("1 1 8443 {}", instance_name("ORDERS", o1.id()))],
        "only instances with the secure port enabled, on that port: {}",
        https.text
    );

    // Zones (metadata, compared without case), VIPs (across applications) and secure VIPs.
    let zone = dig(addr, &["zone-a.orders.service.eureka", "A"]).await;
    assert_eq!(zone.data("A"), set(&["10.0.0.1"]), "{}", zone.text);
    let zone6 = dig(addr, &["zone-a.orders.service.eureka", "AAAA"]).await;
    assert_eq!(zone6.data("AAAA"), set(&["fd00::3"]), "{}", zone6.text);
    let vip = dig(addr, &["orders.example.com.vip.eureka", "A"]).await;
    assert_eq!(vip.data("A"), set(&["10.0.0.1"]), "{}", vip.text);
    let shared = dig(addr, &["shared.vip.eureka", "A"]).await;
    assert_eq!(shared.data("A"), set(&["10.0.0.1", "10.0.1.1"]), "{}", shared.text);
    let svip = dig(addr, &["orders-secure.svip.eureka", "SRV"]).await;
    assert_eq!(svip.data("SRV"), vec![format!("1 1 8443 {}", instance_name("ORDERS", o1.id()))]);

    // TXT on an instance name: id, status and only the listed metadata; a DOWN instance keeps
    // its TXT (so an operator sees why) but no address.
    let txt = dig(addr, &[&instance_name("ORDERS", o1.id()), "TXT"]).await;
    assert_eq!(
        txt.data("TXT"),
        vec![r#""id=10.0.0.1:orders:8080" "status=UP" "version=1.2""#.to_string()],
        "{}",
        txt.text
    );
    let down_name = instance_name("ORDERS", down.id());
    let down_txt = dig(addr, &[&down_name, "TXT"]).await;
    assert!(down_txt.data("TXT")[0].contains("status=DOWN"), "{}", down_txt.text);
    let down_a = dig(addr, &[&down_name, "A"]).await;
    assert_eq!((down_a.status.as_str(), down_a.answers.len()), ("NOERROR", 0), "{}", down_a.text);

    // Negative answers carry the SOA; names between the domain and the records exist.
    let nx = dig(addr, &["nope.service.eureka", "A"]).await;
    assert_eq!(nx.status, "NXDOMAIN", "{}", nx.text);
    assert!(nx.has_flag("aa"), "{}", nx.text);
    assert_eq!(nx.authority.first().map(|r| r.rtype.as_str()), Some("SOA"), "{}", nx.text);
    for empty in
        ["service.eureka", "vip.eureka", "example.com.vip.eureka", "orders.instance.eureka"]
    {
        let d = dig(addr, &[empty, "A"]).await;
        assert_eq!((d.status.as_str(), d.answers.len()), ("NOERROR", 0), "{empty}: {}", d.text);
    }
    let nodata = dig(addr, &["orders.service.eureka", "MX"]).await;
    assert_eq!((nodata.status.as_str(), nodata.answers.len()), ("NOERROR", 0));
    assert_eq!(nodata.authority.first().map(|r| r.rtype.as_str()), Some("SOA"));
    let soa = dig(addr, &["eureka", "SOA"]).await;
    assert_eq!(soa.answers.first().map(|r| r.rtype.as_str()), Some("SOA"), "{}", soa.text);

    // Not ours: refused, not authoritative, no recursion offered.
    let refused = dig(addr, &["example.org", "A"]).await;
    assert_eq!(refused.status, "REFUSED", "{}", refused.text);
    assert!(!refused.has_flag("aa") && !refused.has_flag("ra"), "{}", refused.text);
    let chaos = dig(addr, &["version.bind", "CH", "TXT"]).await;
    assert_eq!(chaos.status, "REFUSED", "{}", chaos.text);

    // TCP answers the same.
    let tcp = dig(addr, &["+tcp", "orders.service.eureka", "A"]).await;
    assert_eq!(tcp.data("A"), set(&["10.0.0.1", "10.0.0.2"]), "{}", tcp.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_next_answer_follows_status_changes_and_cancels() {
    let s = server(&[]).await;
    let addr = dns(&s);
    let ids = ["10.0.0.1:orders:1", "10.0.0.2:orders:1", "10.0.0.3:orders:1"];
    for (i, id) in ids.iter().enumerate() {
        register(&s, &instance("ORDERS", id, &format!("10.0.0.{}", i + 1))).await;
    }
    let resolver = resolver(addr, false);
    let addresses = async || -> Result<BTreeSet<IpAddr>, hickory_resolver::net::NetError> {
        Ok(resolver.lookup_ip("orders.service.eureka.").await?.iter().collect())
    };
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let all: BTreeSet<IpAddr> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"].map(ip).into();
    assert_eq!(addresses().await.unwrap(), all);

    let path = format!("apps/ORDERS/{}/status?value=OUT_OF_SERVICE", ids[0]);
    call(&s, reqwest::Method::PUT, &path).await;
    assert_eq!(addresses().await.unwrap(), ["10.0.0.2", "10.0.0.3"].map(ip).into());
    call(&s, reqwest::Method::DELETE, &format!("apps/ORDERS/{}/status?value=UP", ids[0])).await;
    assert_eq!(addresses().await.unwrap(), all, "the override removed, UP again");
    let path = format!("apps/ORDERS/{}/status?value=DOWN", ids[2]);
    call(&s, reqwest::Method::PUT, &path).await;
    assert_eq!(
        addresses().await.unwrap(),
        ["10.0.0.1", "10.0.0.2"].map(ip).into(),
        "DOWN override"
    );
    call(&s, reqwest::Method::DELETE, &format!("apps/ORDERS/{}/status?value=UP", ids[2])).await;
    assert_eq!(addresses().await.unwrap(), all);

    call(&s, reqwest::Method::DELETE, &format!("apps/ORDERS/{}", ids[1])).await;
    assert_eq!(addresses().await.unwrap(), ["10.0.0.1", "10.0.0.3"].map(ip).into());
    let d = dig(addr, &["orders.service.eureka"]).await;
    assert_eq!(d.data("A"), set(&["10.0.0.1", "10.0.0.3"]), "dig agrees: {}", d.text);
    for id in [ids[0], ids[2]] {
        call(&s, reqwest::Method::DELETE, &format!("apps/ORDERS/{id}")).await;
    }
    let gone = addresses().await.expect_err("no instances left");
    assert!(gone.is_nx_domain(), "the application is gone: {gone}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn udp_answers_truncate_to_the_payload_size_and_tcp_carries_them_whole() {
    let s = server(&[("eureka.dns.max-answers", "100")]).await;
    let addr = dns(&s);
    let count = 60;
    for i in 0..count {
        register(&s, &instance("WIDE", &format!("wide-{i}"), &format!("10.1.0.{i}"))).await;
    }
    let name = "wide.service.eureka";
    // 60 A records (16 bytes each) overflow 512 bytes without EDNS0: truncated, TC set.
    let plain = dig(addr, &["+noedns", "+ignore", name]).await;
    assert!(plain.has_flag("tc"), "{}", plain.text);
    assert!(plain.answers.len() < count, "{}", plain.text);
    // The client's EDNS0 size is honoured: smaller still truncates, 1232 holds them all.
    let small = dig(addr, &["+bufsize=700", "+ignore", name]).await;
    assert!(small.has_flag("tc") && small.answers.len() < count, "{}", small.text);
    assert!(small.answers.len() > plain.answers.len(), "700 bytes hold more than 512");
    let big = dig(addr, &["+bufsize=1232", "+ignore", name]).await;
    assert!(!big.has_flag("tc"), "{}", big.text);
    assert_eq!(big.answers.len(), count, "{}", big.text);
    // Over TCP nothing is cut, and dig retries a truncated UDP answer over TCP on its own.
    let tcp = dig(addr, &["+tcp", "+noedns", name]).await;
    assert!(!tcp.has_flag("tc") && tcp.answers.len() == count, "{}", tcp.text);
    let retried = dig(addr, &["+noedns", name]).await;
    assert_eq!(retried.answers.len(), count, "{}", retried.text);
    let truncated = s.scrape().await.sum("eureka_dns_truncated_answers_total", &[]);
    assert!(truncated >= 3.0, "truncations counted: {truncated}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_are_shuffled_and_bounded_by_max_answers() {
    let s = server(&[("eureka.dns.max-answers", "5")]).await;
    let addr = dns(&s);
    let mut registered = BTreeSet::new();
    for i in 0..20 {
        let ip = format!("10.2.0.{i}");
        register(&s, &instance("MANY", &format!("many-{i}"), &ip)).await;
        registered.insert(ip.parse::<IpAddr>().unwrap());
    }
    let resolver = resolver(addr, false);
    let (mut firsts, mut seen) = (BTreeSet::new(), BTreeSet::new());
    for _ in 0..30 {
        let answer: Vec<IpAddr> =
            resolver.lookup_ip("many.service.eureka.").await.unwrap().iter().collect();
        assert_eq!(answer.len(), 5, "max-answers bounds every answer");
        assert_eq!(answer.iter().collect::<BTreeSet<_>>().len(), 5, "no address twice");
        assert!(answer.iter().all(|ip| registered.contains(ip)));
        firsts.insert(answer[0]);
        seen.extend(answer);
    }
    // 30 answers of 5 random addresses of 20: the chance of fewer than 3 distinct first
    // addresses, or of never seeing more than 10 addresses, is below 1e-20.
    assert!(firsts.len() >= 3, "the order changes between answers: {firsts:?}");
    assert!(seen.len() > 10, "different subsets: {seen:?}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hickory_resolver_reads_a_srv_and_txt_over_udp_and_tcp() {
    let s = server(&[]).await;
    let addr = dns(&s);
    let mut info = instance("ORDERS", "10.0.0.1:orders:8080", "10.0.0.1");
    info.secure_port.enabled = true;
    register(&s, &info).await;
    let target = instance_name("ORDERS", info.id());
    for tcp in [false, true] {
        let resolver = resolver(addr, tcp);
        let ips: Vec<IpAddr> =
            resolver.lookup_ip("orders.service.eureka.").await.unwrap().iter().collect();
        assert_eq!(ips, vec!["10.0.0.1".parse::<IpAddr>().unwrap()], "tcp: {tcp}");

        let srv = resolver.srv_lookup("_orders._https.service.eureka.").await.unwrap();
        let [answer] = srv.answers() else { panic!("one SRV record: {:?}", srv.answers()) };
        let RData::SRV(record) = &answer.data else { panic!("an SRV record: {answer:?}") };
        assert_eq!((record.port, record.target.to_string()), (8443, target.clone()));
        let glue = srv.additionals().iter().find(|r| r.name == record.target);
        assert_eq!(
            glue.map(|r| r.data.clone()),
            Some(RData::A("10.0.0.1".parse::<std::net::Ipv4Addr>().unwrap().into())),
            "the target's address is in the additional section, tcp: {tcp}"
        );

        let txt = resolver.txt_lookup(target.as_str()).await.unwrap();
        let text: Vec<String> = txt.answers().iter().map(|r| r.data.to_string()).collect();
        assert!(text[0].contains("id=10.0.0.1:orders:8080"), "{text:?}");

        let nx = resolver.lookup("nope.service.eureka.", RecordType::A).await.unwrap_err();
        assert!(nx.is_nx_domain(), "{nx}");
        let refused = resolver.lookup("example.org.", RecordType::A).await.unwrap_err();
        assert!(!refused.is_nx_domain() && !refused.is_no_records_found(), "{refused}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_queries_by_type_and_answer_code() {
    let s = server(&[]).await;
    let addr = dns(&s);
    register(&s, &instance("ORDERS", "o-1", "10.0.0.1")).await;
    for _ in 0..3 {
        dig(addr, &["orders.service.eureka", "A"]).await;
    }
    dig(addr, &["_orders._tcp.service.eureka", "SRV"]).await;
    dig(addr, &["nope.service.eureka", "A"]).await;
    dig(addr, &["example.org", "AAAA"]).await;
    dig(addr, &["orders.service.eureka", "MX"]).await;
    let scrape = s.scrape().await;
    let queries = |t: &str, rcode: &str| {
        scrape.get("eureka_dns_queries_total", &[("type", t), ("rcode", rcode)])
    };
    assert_eq!(queries("A", "NOERROR"), Some(3.0));
    assert_eq!(queries("SRV", "NOERROR"), Some(1.0));
    assert_eq!(queries("A", "NXDOMAIN"), Some(1.0));
    assert_eq!(queries("AAAA", "REFUSED"), Some(1.0));
    assert_eq!(queries("other", "NOERROR"), Some(1.0));
    assert_eq!(queries("TXT", "NOERROR"), Some(0.0), "every series exists from the start");
    assert_eq!(scrape.get("eureka_dns_answer_duration_seconds_count", &[]), Some(7.0));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dns_is_off_by_default_and_its_port_is_released_on_stop() {
    let plain = TestServer::start().await;
    assert_eq!(plain.dns_addr(), None);
    assert!(
        !plain.scrape().await.names().iter().any(|n| n.starts_with("eureka_dns")),
        "no DNS series when DNS is off"
    );
    plain.stop().await;

    let s = server(&[]).await;
    let addr = dns(&s);
    assert_eq!(dig(addr, &["eureka", "SOA"]).await.status, "NOERROR");
    s.stop().await;
    // Both sockets are closed: the port can be bound again, for UDP and for TCP.
    let udp = tokio::net::UdpSocket::bind(addr).await;
    assert!(udp.is_ok(), "UDP port still held after stop: {udp:?}");
    let tcp = tokio::net::TcpListener::bind(addr).await;
    assert!(tcp.is_ok(), "TCP port still held after stop: {tcp:?}");
}
