//! Logs (tracing) and metrics (prometheus-client).

pub mod logging;
pub mod metrics;
pub mod server;
