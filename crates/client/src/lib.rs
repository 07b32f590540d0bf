//! A Eureka discovery client for Rust services, and the HTTP transport it shares with the
//! server's peer replication.
//!
//! A service registers itself, keeps its lease alive, and finds other services by name from a
//! local copy of the registry that is refreshed by deltas in the background:
//!
//! ```no_run
//! use eureka_client::{DiscoveryClient, Instance, InstanceStatus, Strategy};
//!
//! # async fn run() -> Result<(), eureka_client::ClientError> {
//! let client = DiscoveryClient::builder("http://localhost:8761/eureka/")
//!     .register(Instance::new("orders", 8080).metadata("version", "1.4.2"))
//!     .start()
//!     .await?;
//!
//! // Lookups read the local copy: no network call.
//! let billing = client.chooser("billing", Strategy::RoundRobin);
//! if let Some(instance) = billing.choose() {
//!     println!("calling {}", eureka_client::base_url(&instance));
//! }
//!
//! // Report trouble, take this instance out of traffic, then leave the registry for good.
//! client.set_status(InstanceStatus::Down);
//! client.take_out_of_service().await?;
//! client.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! - [`client`]: [`DiscoveryClient`] and its builder: registration, heartbeats with
//!   back-off, re-registration on 404, rate-limited status pushes, health checks, shutdown.
//! - [`cache`]: the local registry copy, kept by deltas and reconciled with `apps__hashcode`;
//!   [`Snapshot`] answers lookups by app and VIP.
//! - [`config`]: [`ClientConfig`] (Java's defaults) and [`Instance`], what to register.
//! - [`failover`]: [`Failover`], several servers called as one, with quarantine.
//! - [`api`]: [`EurekaApi`], the calls the client makes, so tests can script them.
//! - [`stream`]: [`stream::WatchStream`], an open `GET watch` change stream.
//! - [`sse`]: a bounded server-sent events parser for the `watch` stream.
//! - [`supervise`]: timed repetition with back-off (Java's `TimedSupervisorTask`).
//! - [`transport`]: [`EurekaHttp`], one server's REST API (JSON or XML, gzip), with typed
//!   [`TransportError`]s that say whether a retry can help; [`TlsOptions`] for private CAs
//!   and client certificates.

#![warn(missing_docs)]

pub mod api;
pub mod cache;
pub mod client;
pub mod config;
pub mod failover;
pub mod sse;
pub mod stream;
pub mod supervise;
pub mod transport;

pub use api::EurekaApi;
pub use cache::{Change, Snapshot};
pub use client::{
    base_url, Chooser, ClientBuilder, ClientError, DiscoveryClient, HealthCheck, Strategy,
};
pub use config::{instance_zone, ClientConfig, Instance, DEFAULT_SERVICE_URL};
pub use eureka_model::{Format, InstanceInfo, InstanceStatus};
pub use failover::Failover;
pub use reqwest::Url;
pub use transport::{EurekaHttp, Renewal, Timeouts, TlsConfigError, TlsOptions, TransportError};
