//! A typed client for the Kafka Connect REST API.

mod client;
mod retry;
mod settings;
mod tls;
pub mod types;

pub use client::{ConnectClient, RestartOptions};
pub use retry::RetryPolicy;
pub use settings::{ClientSettings, resolve_settings};
