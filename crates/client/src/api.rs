//! The calls a discovery client makes to a Eureka cluster, as a trait so the client's
//! algorithms can be driven by a scripted transport in tests.

use std::future::Future;

use eureka_model::{Applications, InstanceInfo, InstanceStatus};

use crate::stream::WatchStream;
use crate::transport::{EurekaHttp, Renewal, TransportError};

/// What [`crate::DiscoveryClient`] needs from the servers: implemented by one server
/// ([`EurekaHttp`]) and by a fail-over set of them ([`crate::Failover`]).
pub trait EurekaApi: Send + Sync + 'static {
    /// Registers (or re-registers) an instance; succeeds on 204.
    fn register(
        &self,
        info: &InstanceInfo,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Renews a lease; [`Renewal::NotFound`] asks for a new registration.
    fn heartbeat(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> impl Future<Output = Result<Renewal, TransportError>> + Send;

    /// Cancels a lease.
    fn cancel(
        &self,
        app: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Sets an operator status override (sticks across re-registrations).
    fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Removes the status override, leaving the instance at `status`.
    fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        status: Option<InstanceStatus>,
        last_dirty_timestamp: u64,
    ) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Fetches the full registry.
    fn applications(&self) -> impl Future<Output = Result<Applications, TransportError>> + Send;

    /// Fetches the recent changes and the hash of the whole registry.
    fn delta(&self) -> impl Future<Output = Result<Applications, TransportError>> + Send;

    /// Opens the change stream (ours, not Eureka's), resumed after `last_event_id`;
    /// `Ok(None)` when the server has none, and by default, so implementations that do
    /// not stream (scripted tests, Java servers) are polled as before.
    fn watch(
        &self,
        last_event_id: Option<u64>,
    ) -> impl Future<Output = Result<Option<WatchStream>, TransportError>> + Send {
        let _ = last_event_id;
        async { Ok(None) }
    }
}

impl EurekaApi for EurekaHttp {
    async fn register(&self, info: &InstanceInfo) -> Result<(), TransportError> {
        EurekaHttp::register(self, info).await
    }

    async fn heartbeat(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<Renewal, TransportError> {
        EurekaHttp::heartbeat(self, app, id, status, last_dirty_timestamp).await
    }

    async fn cancel(&self, app: &str, id: &str) -> Result<(), TransportError> {
        EurekaHttp::cancel(self, app, id).await
    }

    async fn set_status_override(
        &self,
        app: &str,
        id: &str,
        status: InstanceStatus,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        EurekaHttp::set_status_override(self, app, id, status, last_dirty_timestamp).await
    }

    async fn delete_status_override(
        &self,
        app: &str,
        id: &str,
        status: Option<InstanceStatus>,
        last_dirty_timestamp: u64,
    ) -> Result<(), TransportError> {
        EurekaHttp::delete_status_override(self, app, id, status, last_dirty_timestamp).await
    }

    async fn applications(&self) -> Result<Applications, TransportError> {
        EurekaHttp::applications(self).await
    }

    async fn delta(&self) -> Result<Applications, TransportError> {
        EurekaHttp::delta(self).await
    }

    async fn watch(
        &self,
        last_event_id: Option<u64>,
    ) -> Result<Option<WatchStream>, TransportError> {
        EurekaHttp::watch(self, last_event_id).await
    }
}
