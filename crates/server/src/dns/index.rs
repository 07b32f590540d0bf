//! The registry as DNS records, built from a [`Snapshot`] once per registry version and
//! shared by every query of that version.
//!
//! An application's records ([`AppIndex`]) are rebuilt only when its content changed
//! ([`Snapshot::app_version`]); the rest of a new version's index is a map of application
//! labels and one of VIP names, so a change costs what the changed application holds, not
//! the whole registry. Records are made once here and answers only borrow them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use eureka_model::{Application, InstanceInfo, InstanceStatus};
use eureka_registry::{Registry, Snapshot};
use hickory_proto::rr::rdata::{A, AAAA, SOA, SRV, TXT};
use hickory_proto::rr::{LowerName, Name, RData, Record};
use parking_lot::{Mutex, RwLock};

use super::names::{self, Names};
use crate::config::DnsSettings;

/// SRV priority and weight of every instance: all equal, resolvers pick at random.
const SRV_PRIORITY: u16 = 1;
const SRV_WEIGHT: u16 = 1;
/// The longest character-string a TXT record can hold.
const TXT_STRING_MAX: usize = 255;
/// SOA refresh, retry and expire, seconds: only secondaries read them, and there are none.
const SOA_REFRESH: i32 = 3600;
const SOA_RETRY: i32 = 600;
const SOA_EXPIRE: i32 = 86_400;

/// What the index is built with: the names and the settings records depend on.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The domain and its fixed names.
    pub names: Names,
    /// TTL of every record, seconds.
    pub ttl: u32,
    /// Metadata keys shown in TXT records.
    pub txt_metadata: Vec<String>,
}

impl Shape {
    /// The shape configured by `settings`; fails only on a domain the configuration would
    /// not have accepted.
    pub fn new(settings: &DnsSettings) -> Result<Shape, hickory_proto::ProtoError> {
        Ok(Shape {
            names: Names::new(&settings.domain)?,
            ttl: u32::try_from(settings.ttl.as_secs()).unwrap_or(u32::MAX),
            txt_metadata: settings.txt_metadata.clone(),
        })
    }
}

/// The records of one name, by type.
#[derive(Debug, Default)]
pub struct Node {
    /// A records.
    pub a: Vec<Record>,
    /// AAAA records.
    pub aaaa: Vec<Record>,
    /// SRV records, each with its target's address record.
    pub srv: Vec<Srv>,
    /// TXT records (instance names only).
    pub txt: Vec<Record>,
}

/// An SRV record and the A or AAAA record of its target, for the additional section.
#[derive(Debug)]
pub struct Srv {
    /// The SRV record.
    pub record: Record,
    /// The target's address record, shared by every SRV record naming the instance.
    pub target: Arc<Record>,
}

impl Node {
    fn add_address(&mut self, owner: &Name, ttl: u32, address: &RData) {
        let record = Record::from_rdata(owner.clone(), ttl, address.clone());
        match address {
            RData::AAAA(_) => self.aaaa.push(record),
            _ => self.a.push(record),
        }
    }

    fn add_srv(&mut self, owner: &Name, ttl: u32, port: u16, target: &Arc<Record>) {
        let srv = SRV::new(SRV_PRIORITY, SRV_WEIGHT, port, target.name.clone());
        let record = Record::from_rdata(owner.clone(), ttl, RData::SRV(srv));
        self.srv.push(Srv { record, target: target.clone() });
    }
}

/// Everything one application contributes, by the name's place under the application.
#[derive(Debug, Default)]
pub struct AppIndex {
    /// The snapshot's version of this application's content: reused while it is the same.
    version: u64,
    /// `<app>.service`: addresses and SRV with the plain port.
    pub service: Node,
    /// `_<app>._tcp.service`: SRV with the plain port.
    pub tcp: Node,
    /// `_<app>._https.service`: SRV with the secure port.
    pub https: Node,
    /// `<zone>.<app>.service`, by zone label.
    pub zones: HashMap<Vec<u8>, Node>,
    /// `<instance>.<app>.instance`, by instance label.
    pub instances: HashMap<Vec<u8>, Node>,
    /// This application's share of `<vip>.vip` and `<svip>.svip` names.
    vips: Vec<(LowerName, Node)>,
}

impl AppIndex {
    /// The records of `app` (whose label is `label`); `None` when its names do not fit.
    fn build(app: &Application, label: &[u8], version: u64, shape: &Shape) -> Option<AppIndex> {
        let names = &shape.names;
        let ttl = shape.ttl;
        let service = names.service(label)?;
        // `_<app>` is one byte longer than `<app>`: a 63-byte name has no SRV names.
        let tcp = names.srv(label, names::TCP);
        let https = names.srv(label, names::HTTPS);
        let mut index = AppIndex { version, ..AppIndex::default() };
        let mut vips: HashMap<LowerName, Node> = HashMap::new();
        for instance in &app.instances {
            let Some(target) = names.instance(label, instance.id()) else { continue };
            let instance_label = target.iter().next().unwrap_or_default().to_vec();
            let node = index.instances.entry(instance_label).or_default();
            if !node.txt.is_empty() {
                // Two ids with one label (a CRC-32 collision within an application): the first
                // keeps the name.
                continue;
            }
            node.txt.push(txt_record(&target, ttl, instance, &shape.txt_metadata));
            if instance.status != InstanceStatus::Up {
                continue;
            }
            let Some(address) = address(instance) else { continue };
            node.add_address(&target, ttl, &address);
            let target = Arc::new(Record::from_rdata(target, ttl, address.clone()));
            let port = instance.port.enabled.then_some(instance.port.port);
            let secure_port = instance.secure_port.enabled.then_some(instance.secure_port.port);

            index.service.add_address(&service, ttl, &address);
            if let Some(port) = port {
                index.service.add_srv(&service, ttl, port, &target);
                if let Some(tcp) = &tcp {
                    index.tcp.add_srv(tcp, ttl, port, &target);
                }
            }
            if let (Some(https), Some(port)) = (&https, secure_port) {
                index.https.add_srv(https, ttl, port, &target);
            }
            let zone = instance.zone().map(|z| z.as_bytes().to_ascii_lowercase());
            if let Some((zone, owner)) = zone.and_then(|z| names.zone(&z, label).map(|n| (z, n))) {
                let node = index.zones.entry(zone).or_default();
                node.add_address(&owner, ttl, &address);
                if let Some(port) = port {
                    node.add_srv(&owner, ttl, port, &target);
                }
            }
            let plain = instance.vips().map(|v| (v, false, port));
            let secure = instance.secure_vips().map(|v| (v, true, secure_port));
            let mut seen: Vec<LowerName> = Vec::new();
            for (vip, is_secure, port) in plain.chain(secure) {
                let Some(owner) = names.vip(vip, is_secure) else { continue };
                let key = LowerName::new(&owner);
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key.clone());
                let node = vips.entry(key).or_default();
                node.add_address(&owner, ttl, &address);
                if let Some(port) = port {
                    node.add_srv(&owner, ttl, port, &target);
                }
            }
        }
        index.vips = vips.into_iter().collect();
        Some(index)
    }
}

/// Where a query's name led: what [`Index::lookup`] found.
#[derive(Debug)]
pub enum Found<'a> {
    /// No such name: NXDOMAIN.
    Nothing,
    /// The domain itself (its SOA).
    Apex,
    /// A name that exists only because names below it do (`service.<domain>`): no records.
    Empty,
    /// One name's records.
    Node(&'a Node),
    /// A VIP name: the share of each application that has instances with it.
    Vip(&'a [VipShare]),
}

/// One application's records for a VIP name.
#[derive(Debug, Clone)]
pub struct VipShare {
    app: Arc<AppIndex>,
    at: usize,
}

impl VipShare {
    /// The records.
    pub fn node(&self) -> &Node {
        &self.app.vips[self.at].1
    }
}

/// The whole registry as records, at one registry version.
#[derive(Debug)]
pub struct Index {
    /// The registry version it was built from.
    pub version: u64,
    /// The domain's SOA record (answers and negative answers).
    pub soa: Record,
    apex_labels: usize,
    apps: HashMap<Vec<u8>, Arc<AppIndex>>,
    /// VIP and secure-VIP names (and the names between them and `vip.<domain>`, empty).
    vips: HashMap<LowerName, Vec<VipShare>>,
}

impl Index {
    /// The index of `snapshot`, reusing `previous`'s applications whose content is unchanged.
    pub fn build(snapshot: &Snapshot, shape: &Shape, previous: Option<&Index>) -> Index {
        let names = &shape.names;
        let mut apps = HashMap::with_capacity(snapshot.apps.applications.len());
        for (i, app) in snapshot.apps.applications.iter().enumerate() {
            let Some(label) = names::app_label(&app.name) else { continue };
            let version = snapshot.app_version(i).unwrap_or(snapshot.version);
            let reused = previous.and_then(|p| p.apps.get(&label)).filter(|a| a.version == version);
            let index = match reused {
                Some(index) => index.clone(),
                None => match AppIndex::build(app, &label, version, shape) {
                    Some(index) => Arc::new(index),
                    None => continue,
                },
            };
            apps.insert(label, index);
        }
        let vip_base = 1 + names.apex.num_labels() as usize;
        let mut vips: HashMap<LowerName, Vec<VipShare>> = HashMap::new();
        for app in apps.values() {
            for (at, (name, _)) in app.vips.iter().enumerate() {
                vips.entry(name.clone()).or_default().push(VipShare { app: app.clone(), at });
                let labels = name.num_labels() as usize;
                for keep in vip_base + 1..labels {
                    vips.entry(LowerName::new(&name.trim_to(keep))).or_default();
                }
            }
        }
        let soa = soa_record(names, shape.ttl, snapshot.version);
        Index {
            version: snapshot.version,
            soa,
            apex_labels: names.apex.num_labels() as usize,
            apps,
            vips,
        }
    }

    /// The records of `name`, which must be under the domain (else [`Found::Nothing`]).
    pub fn lookup(&self, name: &LowerName) -> Found<'_> {
        let labels = name.num_labels() as usize;
        if labels < self.apex_labels {
            return Found::Nothing;
        }
        // Right to left below the domain: the kind of name, then what it names.
        let mut below = name.iter().rev().skip(self.apex_labels);
        let Some(kind) = below.next() else { return Found::Apex };
        let one = below.next();
        let two = below.next();
        let more = below.next().is_some();
        match kind {
            names::SERVICE if !more => self.service(one, two),
            names::INSTANCE if !more => match (one.and_then(|app| self.apps.get(app)), two) {
                (None, _) if one.is_none() => Found::Empty,
                (None, _) => Found::Nothing,
                (Some(_), None) => Found::Empty,
                (Some(app), Some(id)) => app.instances.get(id).map_or(Found::Nothing, Found::Node),
            },
            names::VIP | names::SVIP => match one {
                None => Found::Empty,
                Some(_) => match self.vips.get(name) {
                    Some(shares) if shares.is_empty() => Found::Empty,
                    Some(shares) => Found::Vip(shares),
                    None => Found::Nothing,
                },
            },
            _ => Found::Nothing,
        }
    }

    /// `[two.]one.service.<domain>`.
    fn service(&self, one: Option<&[u8]>, two: Option<&[u8]>) -> Found<'_> {
        let Some(one) = one else { return Found::Empty };
        let app = |label: &[u8]| self.apps.get(label);
        match two {
            None => match app(one) {
                Some(app) => Found::Node(&app.service),
                None if one == names::TCP || one == names::HTTPS => Found::Empty,
                None => Found::Nothing,
            },
            Some(two) => {
                // `_<app>._tcp` first; an application named `_tcp` with a zone `_<x>` is
                // reached only when no application `<x>` exists.
                let srv = two.strip_prefix(b"_").and_then(app).and_then(|a| match one {
                    names::TCP => Some(&a.tcp),
                    names::HTTPS => Some(&a.https),
                    _ => None,
                });
                let zone = || app(one).and_then(|a| a.zones.get(two));
                srv.or_else(zone).map_or(Found::Nothing, Found::Node)
            }
        }
    }
}

/// The index of the registry's current version, built on the first query after a change.
#[derive(Debug)]
pub struct IndexCache {
    shape: Shape,
    current: RwLock<Option<Arc<Index>>>,
    /// Held while building, so a burst of queries after a change builds once.
    building: Mutex<()>,
}

impl IndexCache {
    /// An empty cache for indexes of `shape`.
    pub fn new(shape: Shape) -> IndexCache {
        IndexCache { shape, current: RwLock::new(None), building: Mutex::new(()) }
    }

    /// What the index is built with.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The index of `registry`'s current version (or a newer one): a read lock and an `Arc`
    /// clone, or the build after a change. Never locks the registry except to take its
    /// snapshot, which is itself cached per version.
    pub fn index(&self, registry: &Registry) -> Arc<Index> {
        let version = registry.version();
        if let Some(index) = self.fresh(version) {
            return index;
        }
        let _building = self.building.lock();
        if let Some(index) = self.fresh(version) {
            return index;
        }
        let snapshot = registry.snapshot();
        let previous = self.current.read().clone();
        let index = Arc::new(Index::build(&snapshot, &self.shape, previous.as_deref()));
        *self.current.write() = Some(index.clone());
        index
    }

    fn fresh(&self, version: u64) -> Option<Arc<Index>> {
        self.current.read().as_ref().filter(|i| i.version >= version).cloned()
    }
}

/// The instance's address, when `ipAddr` is an IP address.
fn address(instance: &InstanceInfo) -> Option<RData> {
    match instance.ip_addr.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(RData::A(A(v4))),
        IpAddr::V6(v6) => Some(RData::AAAA(AAAA(v6))),
    }
}

/// `id=…`, `status=…` and the listed metadata keys that are set, as `key=value` strings.
fn txt_record(owner: &Name, ttl: u32, instance: &InstanceInfo, keys: &[String]) -> Record {
    let mut strings =
        vec![format!("id={}", instance.id()), format!("status={}", instance.status.as_str())];
    for key in keys {
        if let Some(value) = instance.metadata.get(key) {
            strings.push(format!("{key}={value}"));
        }
    }
    for s in &mut strings {
        truncate_at_char(s, TXT_STRING_MAX);
    }
    Record::from_rdata(owner.clone(), ttl, RData::TXT(TXT::new(strings)))
}

fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// The domain's SOA: serial from the registry version, negative answers cached for `ttl`.
fn soa_record(names: &Names, ttl: u32, version: u64) -> Record {
    let apex = &names.apex;
    let ns = names.under_apex([b"ns".as_slice()]).unwrap_or_else(|| apex.clone());
    let mailbox = names.under_apex([b"hostmaster".as_slice()]).unwrap_or_else(|| apex.clone());
    // Serial numbers wrap (RFC 1982): the low 32 bits still advance with every change.
    let serial = version as u32;
    let soa = SOA::new(ns, mailbox, serial, SOA_REFRESH, SOA_RETRY, SOA_EXPIRE, ttl);
    Record::from_rdata(apex.clone(), ttl, RData::SOA(soa))
}

#[cfg(test)]
mod tests {
    use eureka_model::Port;
    use eureka_registry::{Origin, RegistrySettings};

    use super::*;

    fn shape() -> Shape {
        Shape::new(&DnsSettings { enabled: true, ..DnsSettings::default() }).unwrap()
    }

    fn instance(app: &str, id: &str, ip: &str) -> InstanceInfo {
        InstanceInfo {
            instance_id: Some(id.to_string()),
            host_name: id.to_string(),
            app: app.to_string(),
            ip_addr: ip.to_string(),
            port: Port { port: 8080, enabled: true },
            vip_address: Some(format!("{}.example.com", app.to_lowercase())),
            ..Default::default()
        }
    }

    fn key(name: &str) -> LowerName {
        LowerName::new(&Name::from_ascii(name).unwrap())
    }

    fn a_count(found: Found<'_>) -> usize {
        match found {
            Found::Node(node) => node.a.len(),
            Found::Vip(shares) => shares.iter().map(|s| s.node().a.len()).sum(),
            other => panic!("records expected, found {other:?}"),
        }
    }

    #[test]
    fn a_new_version_rebuilds_only_the_changed_application() {
        let registry = Registry::new(RegistrySettings::default());
        registry.register(instance("ORDERS", "o-1", "10.0.0.1"), Origin::Client, 1);
        registry.register(instance("PAYMENTS", "p-1", "10.0.1.1"), Origin::Client, 1);
        let cache = IndexCache::new(shape());
        let first = cache.index(&registry);
        assert!(Arc::ptr_eq(&first, &cache.index(&registry)), "one build per version");

        registry.register(instance("ORDERS", "o-2", "10.0.0.2"), Origin::Client, 2);
        let second = cache.index(&registry);
        assert!(second.version > first.version);
        assert!(Arc::ptr_eq(
            &first.apps[&b"payments".to_vec()],
            &second.apps[&b"payments".to_vec()]
        ));
        assert!(!Arc::ptr_eq(&first.apps[&b"orders".to_vec()], &second.apps[&b"orders".to_vec()]));
        assert_eq!(a_count(second.lookup(&key("orders.service.eureka."))), 2);
        assert_eq!(a_count(first.lookup(&key("orders.service.eureka."))), 1, "old index unchanged");
        assert_eq!(a_count(second.lookup(&key("payments.example.com.vip.eureka."))), 1);
    }

    #[test]
    fn lookups_tell_missing_names_from_names_without_records() {
        let registry = Registry::new(RegistrySettings::default());
        registry.register(instance("ORDERS", "o-1", "10.0.0.1"), Origin::Client, 1);
        let mut odd = instance("ORDERS", "o-2", "not-an-ip");
        odd.metadata.insert("zone".into(), "z1".into());
        registry.register(odd, Origin::Client, 1);
        let index = Index::build(&registry.snapshot(), &shape(), None);
        let found = |name: &str| index.lookup(&key(name));
        assert!(matches!(found("eureka."), Found::Apex));
        for empty in [
            "service.eureka.",
            "_tcp.service.eureka.",
            "vip.eureka.",
            "example.com.vip.eureka.",
            "com.vip.eureka.",
            "instance.eureka.",
            "orders.instance.eureka.",
        ] {
            assert!(matches!(found(empty), Found::Empty), "{empty}: {:?}", found(empty));
        }
        for missing in [
            "nope.service.eureka.",
            "a.b.orders.service.eureka.",
            "_nope._tcp.service.eureka.",
            "x.orders.instance.eureka.",
            "nope.vip.eureka.",
            "other.eureka.",
            "z1.orders.service.eureka.",
        ] {
            assert!(matches!(found(missing), Found::Nothing), "{missing}: {:?}", found(missing));
        }
        assert_eq!(a_count(found("orders.service.eureka.")), 1, "an ipAddr that is no IP: no A");
        let odd_name = format!("{}.orders.instance.eureka.", names::instance_label("o-2"));
        let Found::Node(odd) = found(&odd_name) else { panic!("the instance name exists") };
        assert_eq!((odd.a.len(), odd.txt.len()), (0, 1), "TXT only");
        let Found::Node(tcp) = found("_orders._tcp.service.eureka.") else { panic!("SRV name") };
        assert_eq!(tcp.srv.len(), 1);
        assert_eq!(
            tcp.srv[0].target.name,
            Name::from_ascii(format!("{}.orders.instance.eureka.", names::instance_label("o-1")))
                .unwrap()
        );
    }
}
