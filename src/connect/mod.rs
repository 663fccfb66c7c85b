//! A typed client for the Kafka Connect REST API: endpoints (`client.rs`), sending and
//! retrying (`transport.rs`), what answers mean (`answers.rs`), wire types (`types.rs`).

mod answers;
mod capabilities;
mod client;
mod endpoint;
#[cfg(test)]
pub(crate) mod recorded;
mod retry;
mod settings;
mod state_action;
mod tls;
mod transport;
pub mod types;

pub use capabilities::Capabilities;
pub use client::{ConnectClient, RestartOptions};
pub use endpoint::Endpoint;
pub use settings::ClientSettings;
pub use state_action::StateAction;
