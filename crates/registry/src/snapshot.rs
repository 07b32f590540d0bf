//! Immutable, versioned views of the registry that every read is served from.

use std::sync::Arc;

use eureka_model::{reconcile_hash_code, Application, Applications};

use crate::Millis;

/// The whole registry at one version: applications sorted by name, instances by id.
///
/// Built once per version and shared, so reads never walk the live maps and encoders can
/// cache their bytes by [`Snapshot::version`].
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The registry version this view was taken at; advances with every visible change.
    pub version: u64,
    /// The full registry document (`versions__delta` "1", hash of all instances).
    pub apps: Arc<Applications>,
    /// Per application of `apps`, in the same order: when its content was taken.
    pub(crate) stamps: Arc<[AppStamp]>,
}

/// When a snapshot took an application's content: registry version and lease time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppStamp {
    pub(crate) version: u64,
    pub(crate) taken_at: Millis,
}

/// `versions__delta` of a full fetch, always "1" in Java.
pub const FULL_FETCH_VERSION: &str = "1";
/// `versions__delta` of a VIP fetch, always "-1" in Java.
pub const VIP_FETCH_VERSION: &str = "-1";

impl Snapshot {
    /// The registry version at which the `index`-th application's content was taken. Equal
    /// numbers for the same name mean identical content, so its encoding can be reused.
    pub fn app_version(&self, index: usize) -> Option<u64> {
        self.stamps.get(index).map(|s| s.version)
    }

    /// One application by its upper-case name; `None` if it has no instances.
    pub fn application(&self, name: &str) -> Option<&Application> {
        let apps = &self.apps.applications;
        apps.binary_search_by(|a| a.name.as_str().cmp(name)).ok().map(|i| &apps[i])
    }

    /// Instances whose (secure) VIP list contains `vip` exactly, see [`by_vip`].
    pub fn by_vip(&self, vip: &str, secure: bool) -> Applications {
        by_vip(&self.apps, vip, secure)
    }
}

/// Instances of `apps` whose (secure) VIP list contains `vip` exactly, case-sensitive per
/// element, as Java matches; the hash covers the subset and `versions__delta` is "-1".
pub fn by_vip(apps: &Applications, vip: &str, secure: bool) -> Applications {
    let applications: Vec<Application> = apps
        .applications
        .iter()
        .filter_map(|app| {
            let instances: Vec<_> = app
                .instances
                .iter()
                .filter(|i| {
                    if secure {
                        i.secure_vips().any(|v| v == vip)
                    } else {
                        i.vips().any(|v| v == vip)
                    }
                })
                .cloned()
                .collect();
            (!instances.is_empty()).then(|| Application { name: app.name.clone(), instances })
        })
        .collect();
    let hash =
        reconcile_hash_code(applications.iter().flat_map(|a| &a.instances).map(|i| i.status));
    Applications {
        versions_delta: VIP_FETCH_VERSION.to_string(),
        apps_hashcode: hash,
        applications,
    }
}
