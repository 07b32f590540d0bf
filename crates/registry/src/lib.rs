//! The Eureka registry domain, free of HTTP: what the server does with registrations.
//!
//! Time is an input: every operation takes `now` in epoch milliseconds, so lease expiry,
//! eviction and self-preservation are tested by passing times, not by sleeping.
//!
//! - [`registry`]: the [`Registry`]: register, renew, cancel, status overrides, metadata,
//!   lookups, snapshots and deltas, eviction.
//! - [`lease`]: lease arithmetic (expiry, the optional Java double-duration quirk).
//! - [`overrides`]: the status-override rule chain and the override map.
//! - [`health`]: a server-side health check's DOWN mark and its place in the rule chain.
//! - [`meter`]: the renews-per-minute meter that drives self-preservation.
//! - [`snapshot`]: immutable, versioned views of the registry that reads are served from.
//! - [`regions`]: copies of remote regions' registries and the merged reads over them.
//! - [`error`]: the registry's error type.

#![warn(missing_docs)]

pub mod error;
pub mod health;
pub mod lease;
pub mod meter;
pub mod overrides;
pub mod regions;
pub mod registry;
pub mod snapshot;

pub use error::RegistryError;
pub use health::{HealthChange, HealthDown, HealthMark, InstanceHealth};
pub use regions::{RegionConfig, RegionSet, RemoteRegions};
pub use registry::{
    Actor, Change, ChangeListener, ChangesSince, EventKind, LeaseTiming, Origin, RecentEvent,
    Registry, RegistrySettings, RegistryStats, RenewOutcome, RenewRequest, StatusCount,
    APP_REFRESH_MS,
};
pub use snapshot::Snapshot;

/// Epoch milliseconds, the unit of every timestamp on the wire.
pub type Millis = u64;
