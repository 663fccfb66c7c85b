//! `kco-connect-emulator`: a Kafka Connect REST API emulator, for the operator's tests and
//! benchmarks. It answers like a real distributed Connect 4.3.1 worker (codes, JSON bodies,
//! error messages, the asynchronous lifecycle) for Kafka's test and file connectors, scales
//! to tens of thousands of connectors, and injects faults on demand. It is its own crate:
//! the operator binary never links it.
//!
//! - `args`: the command line; `app`: what every request handler reaches.
//! - `plugins`: the connector classes (task counts, failures, validation).
//! - `store`: connectors, their lifecycle deadlines and the scheduler applying them.
//! - `http`: routing, the Connect endpoints, `/__admin/...` (`admin`) and the server.
//! - `faults`: fault rules, rebalance windows, connection resets.
//!
//! Modules import downwards only (`http` → `app` → `store` → `plugins`); this root declares
//! them and re-exports, so that no module needs to import it.

// A refused request is answered with its response: handlers return `Result<_, Response>`.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod args;
pub mod faults;
pub mod http;
pub mod plugins;
pub mod store;

pub use app::{App, Latency};
pub use args::Args;
pub use http::admin;
pub use http::server::{run, serve};
