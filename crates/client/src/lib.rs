//! Talking to Eureka servers over HTTP, with the wire types of `eureka-model`.
//!
//! - [`transport`]: [`EurekaHttp`], one server's REST API (registry fetches and peer
//!   replication batches), with typed [`TransportError`]s that say whether a retry can help.
//!
//! The server's peer replication uses this crate as its transport, as Java's does.

#![warn(missing_docs)]

pub mod transport;

pub use reqwest::Url;
pub use transport::{EurekaHttp, Timeouts, TransportError};
