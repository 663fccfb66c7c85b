//! Logs (tracing) and metrics (prometheus-client).

pub mod health;
pub mod logging;
pub mod metrics;
pub mod server;
