//! Live membership with real `eureka-server` processes: peers found in DNS (A records, SRV
//! records, Java's TXT scheme) from a DNS server the test runs and changes, and a static peer
//! list reloaded on SIGHUP.
//!
//! The scale tests run 3 nodes, add records for a 4th and 5th (which start, copy the registry
//! and take part), then remove them, while clients register, renew and cancel throughout.
//! They print when each node saw each change (`-- --nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eureka_model::Applications;
use eureka_testkit::dns::TestDns;
use eureka_testkit::fixtures::{java_json_lease, now_ms};
use eureka_testkit::node::NodeProcess;
use eureka_testkit::real::{free_port, free_port_on};
use eureka_testkit::{fetch_apps, find_instance, scrape};
use futures_util::future::join_all;
use parking_lot::Mutex;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};
use tokio_util::sync::CancellationToken;

/// How often nodes re-read DNS in these tests.
const REFRESH: Duration = Duration::from_millis(400);
/// Scheduling slack on a loaded 2-core machine, added to bounds stated in refresh intervals.
const SLACK: Duration = Duration::from_millis(1500);
const NODE_READY: Duration = Duration::from_secs(20);
const CONVERGE: Duration = Duration::from_secs(10);
const APP: &str = "SCALE";
/// Renew every second, expire after 30 s: nothing expires during a test unless cancelled.
const LEASE: (u32, u32) = (1, 30);

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(3)).build().unwrap()
}

fn log_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("membership");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn node(port: u16, name: &str, settings: &[String]) -> NodeProcess {
    let log = log_dir().join(format!("{name}.log"));
    let _ = std::fs::remove_file(&log);
    let settings: Vec<&str> = settings.iter().map(String::as_str).collect();
    NodeProcess::new(env!("CARGO_BIN_EXE_eureka-server"), port, Vec::new(), log, &settings)
}

fn cluster_settings(dns: SocketAddr, refresh: Duration) -> Vec<String> {
    vec![
        "eureka.server.enable-self-preservation=false".into(),
        "eureka.server.eviction-interval-timer-in-ms=300".into(),
        "eureka.server.peer-node-connect-timeout-ms=300".into(),
        "eureka.server.peer-node-read-timeout-ms=1000".into(),
        "eureka.server.peer-heartbeat-batch-delay-ms=100".into(),
        format!("eureka.server.peer-dns-server={dns}"),
        format!("eureka.server.peer-eureka-nodes-update-interval-ms={}", refresh.as_millis()),
    ]
}

/// `GET status` as JSON.
async fn status(base: &str) -> Value {
    let resp = http().get(format!("{base}status")).header(ACCEPT, "application/json").send().await;
    let resp = resp.unwrap_or_else(|e| panic!("GET {base}status: {e}"));
    resp.json().await.unwrap()
}

/// The peer URLs a node replicates to now, sorted.
async fn peers_of(base: &str) -> BTreeSet<String> {
    status(base).await["replication"]["peers"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["url"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Polls `base`'s peer set until it equals `want`; returns how long that took from `since`.
async fn wait_for_peers(base: String, want: BTreeSet<String>, since: Instant) -> Duration {
    let deadline = Instant::now() + CONVERGE;
    loop {
        let have = peers_of(&base).await;
        if have == want {
            return since.elapsed();
        }
        assert!(Instant::now() < deadline, "{base} peers {have:?}, want {want:?}");
        sleep(Duration::from_millis(25)).await;
    }
}

/// (hash, instance ids): what converged nodes agree on.
fn summary(apps: &Applications) -> (String, BTreeSet<String>) {
    let ids = apps
        .applications
        .iter()
        .flat_map(|a| a.instances.iter())
        .map(|i| i.id().to_string())
        .collect();
    (apps.apps_hashcode.clone(), ids)
}

/// Waits until every node in `bases` holds the same instances and hash; returns them.
async fn converge_equal(bases: &[String]) -> (String, BTreeSet<String>) {
    let deadline = Instant::now() + CONVERGE;
    loop {
        let views = join_all(bases.iter().map(|b| fetch_apps(b))).await;
        let summaries: Vec<_> = views.iter().map(summary).collect();
        if summaries.windows(2).all(|w| w[0] == w[1]) {
            return summaries.into_iter().next().unwrap();
        }
        assert!(Instant::now() < deadline, "nodes disagree: {summaries:#?}");
        sleep(Duration::from_millis(50)).await;
    }
}

async fn register(base: &str, id: &str) -> bool {
    let body = java_json_lease(APP, id, 8080, LEASE, now_ms());
    let sent = http()
        .post(format!("{base}apps/{APP}"))
        .header(CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await;
    sent.is_ok_and(|r| r.status() == StatusCode::NO_CONTENT)
}

/// What the clients did: instances registered and still wanted (and where they renew), and
/// those they cancelled.
#[derive(Debug, Default)]
struct Book {
    alive: BTreeMap<String, String>,
    cancelled: BTreeSet<String>,
    writes: u64,
}

/// Clients writing throughout: a registration every 150 ms on the next routable node, a cancel
/// of an earlier instance every 5th, every instance renewed every second on its node (moved to
/// another when its node leaves; registered again on a 404, as real clients do).
struct Writers {
    routable: Arc<Mutex<Vec<String>>>,
    paused: Arc<AtomicBool>,
    stop: CancellationToken,
    task: JoinHandle<Book>,
}

impl Writers {
    fn start(routable: Vec<String>) -> Writers {
        let routable = Arc::new(Mutex::new(routable));
        let paused = Arc::new(AtomicBool::new(false));
        let stop = CancellationToken::new();
        let task = tokio::spawn(write_loop(routable.clone(), paused.clone(), stop.clone()));
        Writers { routable, paused, stop, task }
    }

    fn set_routable(&self, bases: Vec<String>) {
        *self.routable.lock() = bases;
    }

    /// Stops writing and waits until nothing is in flight.
    async fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        sleep(Duration::from_millis(400)).await;
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    async fn finish(self) -> Book {
        self.stop.cancel();
        self.task.await.unwrap()
    }
}

async fn write_loop(
    routable: Arc<Mutex<Vec<String>>>,
    paused: Arc<AtomicBool>,
    stop: CancellationToken,
) -> Book {
    let mut book = Book::default();
    let mut n = 0usize;
    let mut last_renew = Instant::now();
    while !stop.is_cancelled() {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = sleep(Duration::from_millis(150)) => {}
        }
        if paused.load(Ordering::SeqCst) {
            continue;
        }
        let live = routable.lock().clone();
        n += 1;
        let id = format!("w-{n}");
        let base = live[n % live.len()].clone();
        if register(&base, &id).await {
            book.alive.insert(id, base);
            book.writes += 1;
        }
        if n.is_multiple_of(5) {
            let victim = format!("w-{}", n - 3);
            if let Some(base) = book.alive.get(&victim).cloned() {
                let base = if live.contains(&base) { base } else { live[0].clone() };
                let gone = http().delete(format!("{base}apps/{APP}/{victim}")).send().await;
                if gone.is_ok_and(|r| r.status() == StatusCode::OK) {
                    book.alive.remove(&victim);
                    book.cancelled.insert(victim);
                    book.writes += 1;
                }
            }
        }
        if last_renew.elapsed() >= Duration::from_secs(1) {
            last_renew = Instant::now();
            let ids: Vec<String> = book.alive.keys().cloned().collect();
            for (k, id) in ids.iter().enumerate() {
                let mut base = book.alive[id].clone();
                if !live.contains(&base) {
                    base = live[k % live.len()].clone();
                    book.alive.insert(id.clone(), base.clone());
                }
                let renewed = http().put(format!("{base}apps/{APP}/{id}?status=UP")).send().await;
                if renewed.is_ok_and(|r| r.status() == StatusCode::NOT_FOUND) {
                    register(&base, id).await;
                }
                book.writes += 1;
            }
        }
    }
    book
}

/// How a scale test publishes its nodes in DNS.
#[derive(Debug, Clone, Copy)]
enum Published {
    /// `eureka.test` A records, one per node address (a headless Service).
    ARecords,
    /// Java's scheme: `txt.us-east-1.eureka.test` names two zones, each zone's TXT record its
    /// nodes' host names, which have A records.
    JavaTxt,
}

impl Published {
    fn settings(self) -> Vec<String> {
        match self {
            Published::ARecords => vec!["eureka.server.peer-dns-name=eureka.test".into()],
            Published::JavaTxt => vec![
                "eureka.client.use-dns-for-fetching-service-urls=true".into(),
                "eureka.client.eureka-server-d-n-s-name=eureka.test".into(),
            ],
        }
    }

    /// Publishes exactly the nodes at `addresses` (indexes into `all`).
    async fn publish(self, dns: &TestDns, all: &[IpAddr], nodes: &[usize]) {
        match self {
            Published::ARecords => {
                let ips: Vec<IpAddr> = nodes.iter().map(|i| all[*i]).collect();
                dns.set_addresses("eureka.test.", &ips).await;
            }
            Published::JavaTxt => {
                for (i, ip) in all.iter().enumerate() {
                    dns.set_addresses(&format!("n{i}.test."), &[*ip]).await;
                }
                let zone = |i: &usize| if i.is_multiple_of(2) { "zone-a" } else { "zone-b" };
                let mut zones: BTreeMap<&str, Vec<String>> = BTreeMap::new();
                for i in nodes {
                    zones.entry(zone(i)).or_default().push(format!("n{i}.test"));
                }
                for z in ["zone-a", "zone-b"] {
                    let hosts = zones.get(z).cloned().unwrap_or_default();
                    let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
                    dns.set_txt(&format!("txt.{z}.eureka.test."), &hosts).await;
                }
                let names: Vec<String> = zones.keys().map(|z| format!("{z}.eureka.test")).collect();
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                dns.set_txt("txt.us-east-1.eureka.test.", &names).await;
            }
        }
    }

    /// The URL under which the other nodes know node `i`.
    fn url(self, all: &[IpAddr], port: u16, i: usize) -> String {
        match self {
            Published::ARecords => format!("http://{}:{port}/eureka/", all[i]),
            Published::JavaTxt => format!("http://n{i}.test:{port}/eureka/"),
        }
    }
}

/// 3 nodes, then 5, then 3, with clients writing throughout. `first` is the last byte of the
/// first node's loopback address (tests running at once use different ones).
async fn scale_up_and_down(published: Published, first: u8) {
    let dns = TestDns::start("test.").await;
    let all: Vec<IpAddr> =
        (0..5).map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, first + i))).collect();
    let port = free_port_on(&all);
    let mut settings = cluster_settings(dns.addr, REFRESH);
    settings.extend(published.settings());
    let name = format!("{published:?}").to_lowercase();
    let mut nodes: Vec<NodeProcess> =
        (0..5).map(|i| node(port, &format!("{name}-node{i}"), &settings).at(all[i])).collect();
    let bases: Vec<String> = nodes.iter().map(NodeProcess::base).collect();
    let url = |i: usize| published.url(&all, port, i);
    let others = |of: usize, among: &[usize]| -> BTreeSet<String> {
        among.iter().filter(|j| **j != of).map(|j| url(*j)).collect()
    };
    let mut timeline: Vec<String> = Vec::new();

    // Three nodes find each other by name.
    published.publish(&dns, &all, &[0, 1, 2]).await;
    for n in &mut nodes[..3] {
        n.start(NODE_READY).await;
    }
    let t = Instant::now();
    for (i, base) in bases.iter().enumerate().take(3) {
        wait_for_peers(base.clone(), others(i, &[0, 1, 2]), t).await;
    }
    let writers = Writers::start(bases[..3].to_vec());
    sleep(Duration::from_secs(1)).await;

    // Records for a 4th and 5th node: the three see them, the two start, copy and take part.
    let added = Instant::now();
    published.publish(&dns, &all, &[0, 1, 2, 3, 4]).await;
    let watchers: Vec<JoinHandle<Duration>> = (0..3)
        .map(|i| tokio::spawn(wait_for_peers(bases[i].clone(), others(i, &[0, 1, 2, 3, 4]), added)))
        .collect();
    let mut new_watchers = Vec::new();
    for i in [3, 4] {
        nodes[i].start(NODE_READY).await;
        timeline.push(format!(
            "node{i} ready (copied the registry) {:?} after the records were added",
            added.elapsed()
        ));
        new_watchers.push(tokio::spawn(wait_for_peers(
            bases[i].clone(),
            others(i, &[0, 1, 2, 3, 4]),
            added,
        )));
        let copied = status(&bases[i]).await["replication"]["instancesCopiedAtStartup"].as_u64();
        assert!(copied.unwrap_or(0) > 0, "node{i} copied nothing at start");
    }
    for (i, w) in watchers.into_iter().enumerate() {
        let took = w.await.unwrap();
        timeline.push(format!(
            "node{i} replicates to node3 and node4 {took:?} after the records were added"
        ));
        assert!(took <= 2 * REFRESH + SLACK, "node{i} saw the new nodes after {took:?}");
    }
    for (i, w) in [3, 4].into_iter().zip(new_watchers) {
        let took = w.await.unwrap();
        timeline.push(format!(
            "node{i} replicates to the 4 others {took:?} after the records were added"
        ));
    }
    writers.set_routable(bases.clone());
    // A write on an old node reaches the new ones.
    let marker = Instant::now();
    assert!(register(&bases[0], "joined-marker").await);
    for i in [3, 4] {
        let deadline = Instant::now() + CONVERGE;
        while find_instance(&fetch_apps(&bases[i]).await, "joined-marker").is_none() {
            assert!(Instant::now() < deadline, "node{i} never got a write made on node0");
            sleep(Duration::from_millis(20)).await;
        }
        timeline.push(format!("node{i} holds a write made on node0 {:?} later", marker.elapsed()));
    }
    sleep(Duration::from_secs(2)).await;
    writers.pause().await;
    let five = converge_equal(&bases).await;
    timeline.push(format!("all 5 nodes agree: {} instances, hash {}", five.1.len(), five.0));
    writers.resume();
    sleep(Duration::from_secs(1)).await;

    // The 4th and 5th leave DNS (clients stop using them first, as a Service does): the
    // others stop replicating to them.
    writers.set_routable(bases[..3].to_vec());
    sleep(Duration::from_millis(300)).await;
    let removed = Instant::now();
    published.publish(&dns, &all, &[0, 1, 2]).await;
    let took =
        join_all((0..3).map(|i| wait_for_peers(bases[i].clone(), others(i, &[0, 1, 2]), removed)))
            .await;
    for (i, took) in took.iter().enumerate() {
        timeline.push(format!(
            "node{i} dropped node3 and node4 {took:?} after the records were removed"
        ));
        assert!(*took <= 2 * REFRESH + SLACK, "node{i} dropped them after {took:?}");
    }
    assert!(register(&bases[0], "after-removal").await);
    converge_on(&bases[..3], "after-removal").await;
    sleep(2 * REFRESH).await;
    for i in [3, 4] {
        let apps = fetch_apps(&bases[i]).await;
        assert!(find_instance(&apps, "after-removal").is_none(), "node{i} still gets writes");
    }
    // Gone from status, metrics and the console of the others.
    let st = status(&bases[0]).await;
    let replicas = st["applicationStats"]["registered-replicas"].as_str().unwrap().to_string();
    assert!(!replicas.contains(&url(3)) && !replicas.contains(&url(4)), "{replicas}");
    assert_eq!(st["applicationStats"]["unavailable-replicas"], "", "{st}");
    let metrics = scrape(&format!("{}metrics", bases[0].trim_end_matches("eureka/"))).await;
    let stale: Vec<_> = metrics
        .samples
        .iter()
        .filter(|s| s.labels.get("peer").is_some_and(|p| *p == url(3) || *p == url(4)))
        .map(|s| s.name.clone())
        .collect();
    assert!(stale.is_empty(), "stale peer series: {stale:?}");
    assert_eq!(metrics.get("eureka_peers", &[]), Some(2.0));
    let console: Value = http()
        .get(format!("{}api/console", bases[0].trim_end_matches("eureka/")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let console_peers: BTreeSet<String> = console["replicas"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(console_peers, others(0, &[0, 1, 2]));

    for i in [3, 4] {
        nodes[i].terminate(Duration::from_secs(15)).await;
    }
    sleep(Duration::from_secs(1)).await;
    let book = writers.finish().await;

    // No instance lost, none cancelled left, the same everywhere.
    let (hash, ids) = converge_equal(&bases[..3]).await;
    let mut want: BTreeSet<String> = book.alive.keys().cloned().collect();
    want.extend(["joined-marker".to_string(), "after-removal".to_string()]);
    assert_eq!(ids, want, "instances differ from what clients registered and did not cancel");
    assert!(book.cancelled.iter().all(|id| !ids.contains(id)));
    timeline.push(format!(
        "end: {} writes by clients; nodes 0-2 agree on {} instances ({} cancelled), hash {hash}",
        book.writes,
        ids.len(),
        book.cancelled.len()
    ));
    println!("{published:?} scale-up/scale-down, refresh every {REFRESH:?}:");
    for line in &timeline {
        println!("  {line}");
    }
    for n in &mut nodes[..3] {
        n.kill().await;
    }
    dns.stop().await;
}

async fn converge_on(bases: &[String], id: &str) {
    let deadline = Instant::now() + CONVERGE;
    for base in bases {
        while find_instance(&fetch_apps(base).await, id).is_none() {
            assert!(Instant::now() < deadline, "{base} never got {id}");
            sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_scale_up_and_down_with_clients_writing() {
    scale_up_and_down(Published::ARecords, 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn java_txt_records_scale_up_and_down_with_clients_writing() {
    scale_up_and_down(Published::JavaTxt, 21).await;
}

/// SRV records name host and port; with a refresh interval far longer than the test, the old
/// nodes still learn of a new one at once: it probes them on start, and a sender they have not
/// heard from makes them look again.
#[tokio::test]
async fn srv_records_and_a_new_node_is_noticed_before_the_next_refresh() {
    let dns = TestDns::start("test.").await;
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    for i in 0..3 {
        dns.set_addresses(&format!("n{i}.test."), &[IpAddr::V4(Ipv4Addr::LOCALHOST)]).await;
    }
    let srv = |n: usize| -> Vec<(String, u16)> {
        (0..n).map(|i| (format!("n{i}.test."), ports[i])).collect()
    };
    let publish = |n: usize| {
        let targets = srv(n);
        let dns = &dns;
        async move {
            let targets: Vec<(&str, u16)> = targets.iter().map(|(h, p)| (h.as_str(), *p)).collect();
            dns.set_srv("_http._tcp.eureka.test.", &targets).await;
        }
    };
    let mut settings = cluster_settings(dns.addr, Duration::from_secs(600));
    settings.push("eureka.server.peer-dns-name=_http._tcp.eureka.test".into());
    settings.push("eureka.server.peer-dns-srv=true".into());
    let mut nodes: Vec<NodeProcess> =
        (0..3).map(|i| node(ports[i], &format!("srv-node{i}"), &settings)).collect();
    let url = |i: usize| format!("http://n{i}.test:{}/eureka/", ports[i]);

    publish(2).await;
    for n in &mut nodes[..2] {
        n.start(NODE_READY).await;
    }
    let t = Instant::now();
    wait_for_peers(nodes[0].base(), BTreeSet::from([url(1)]), t).await;
    wait_for_peers(nodes[1].base(), BTreeSet::from([url(0)]), t).await;

    publish(3).await;
    let added = Instant::now();
    nodes[2].start(NODE_READY).await;
    for (i, n) in nodes.iter().enumerate().take(2) {
        let want: BTreeSet<String> = (0..3).filter(|j| *j != i).map(url).collect();
        let took = wait_for_peers(n.base(), want, added).await;
        println!("srv: node{i} replicates to node2 {took:?} after its records were added (refresh: 600 s)");
    }
    assert!(register(&nodes[0].base(), "srv-1").await);
    converge_on(&[nodes[2].base()], "srv-1").await;
    // Peers addressed by name are available replicas once reachable.
    let st = status(&nodes[2].base()).await;
    assert_eq!(st["applicationStats"]["unavailable-replicas"], "", "{st}");
    for n in &mut nodes {
        n.kill().await;
    }
    dns.stop().await;
}

/// A static peer list edited in the configuration file is applied on SIGHUP; a broken file
/// changes nothing; the process keeps serving throughout.
#[tokio::test]
async fn sighup_reloads_the_static_peer_list() {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let url = |i: usize| format!("http://127.0.0.1:{}/eureka/", ports[i]);
    let file = log_dir().join("sighup-a.yml");
    let write = |peers: &[usize]| {
        let list: Vec<String> = peers.iter().map(|i| url(*i)).collect();
        std::fs::write(
            &file,
            format!(
                "eureka:\n  client:\n    service-url:\n      defaultZone: {}\n",
                list.join(",")
            ),
        )
        .unwrap();
    };
    write(&[1]);
    let quick = ["eureka.server.peer-heartbeat-batch-delay-ms=100".to_string()];
    let file_arg = file.to_str().unwrap().to_string();
    let mut a = node(ports[0], "sighup-a", &quick).with_args(&["--config", &file_arg]);
    let mut b = node(ports[1], "sighup-b", &quick);
    let mut c = node(ports[2], "sighup-c", &quick);
    for n in [&mut a, &mut b, &mut c] {
        n.start(NODE_READY).await;
    }
    let t = Instant::now();
    wait_for_peers(a.base(), BTreeSet::from([url(1)]), t).await;

    // A replicates to B only.
    assert!(register(&a.base(), "before").await);
    converge_on(&[b.base()], "before").await;
    sleep(Duration::from_millis(300)).await;
    assert!(find_instance(&fetch_apps(&c.base()).await, "before").is_none());

    // B and C: C joins without a restart.
    write(&[1, 2]);
    let hup = Instant::now();
    a.signal("HUP");
    let took = wait_for_peers(a.base(), BTreeSet::from([url(1), url(2)]), hup).await;
    println!("sighup: C added {took:?} after SIGHUP");
    assert!(register(&a.base(), "after-add").await);
    converge_on(&[b.base(), c.base()], "after-add").await;

    // Only C: B is dropped.
    write(&[2]);
    a.signal("HUP");
    wait_for_peers(a.base(), BTreeSet::from([url(2)]), Instant::now()).await;
    assert!(register(&a.base(), "after-drop").await);
    converge_on(&[c.base()], "after-drop").await;
    sleep(Duration::from_millis(300)).await;
    assert!(find_instance(&fetch_apps(&b.base()).await, "after-drop").is_none());
    let metrics = scrape(&format!("http://127.0.0.1:{}/metrics", ports[0])).await;
    assert_eq!(metrics.get("eureka_peers", &[]), Some(1.0));
    assert_eq!(metrics.get("eureka_peers_added_total", &[]), Some(1.0));
    assert_eq!(metrics.get("eureka_peers_removed_total", &[]), Some(1.0));

    // A broken file: nothing changes, the error is logged.
    std::fs::write(&file, "eureka:\n  server:\n    peer-replication-batch-size: many\n").unwrap();
    a.signal("HUP");
    sleep(Duration::from_millis(500)).await;
    assert_eq!(peers_of(&a.base()).await, BTreeSet::from([url(2)]));
    let log = std::fs::read_to_string(&a.log).unwrap();
    assert!(log.contains("configuration not reloaded"), "{log}");

    a.terminate(Duration::from_secs(15)).await;
    for n in [&mut b, &mut c] {
        n.kill().await;
    }
}
