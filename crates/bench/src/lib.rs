//! The benchmark harness behind `eureka-bench`: our server, the Spring Cloud Eureka server and a
//! bare hyper server (`eureka-bench-hyper`, the ceiling) under the same load, one at a time, on
//! the same machine.
//!
//! - [`load`]: the load generator (keep-alive HTTP/1.1 connections, closed and open loop,
//!   latency histograms).
//! - [`process`]: a server as a separate process pinned to a core, its CPU time and RSS.
//! - [`wire`]: the requests real Eureka clients send, built once per request kind.
//! - [`scenario`]: the seven scenarios of the issue, run against one server.
//! - [`report`]: the table (terminal, `report.md`) and `report.json`, with the targets.
//! - [`health`]: `eureka-health-bench`, detection time and cost of server-side health checks.
//! - [`dns`]: the DNS scenario (ours against a static hickory server) and its UDP load.
//! - [`e2e`]: `eureka-e2e`, Spring Boot callers and instances through kill -9, drain and
//!   SIGTERM under three registry set-ups (how long callers keep sending to a gone instance).
//! - [`soak`]: `eureka-soak`, a peered cluster under renewals and fetches for a long time
//!   (errors, lost registrations, RSS over time).

#![warn(missing_docs)]

pub mod dns;
pub mod e2e;
pub mod health;
pub mod load;
pub mod process;
pub mod report;
pub mod scenario;
pub mod soak;
pub mod wire;
