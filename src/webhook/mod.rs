//! The validating admission webhook: Connect's own `PUT /connector-plugins/{class}/config/validate`
//! run when a KafkaConnector is created or its spec changes, so a bad key or an unknown class
//! is refused by `kubectl apply` (and by a server-side dry run) instead of surfacing later as a
//! FAILED task. Served by every replica, leader or not: admission must not wait for an election.
//!
//! `certs.rs` issues, rotates and loads the serving certificate, `ca_bundle.rs` keeps the
//! ValidatingWebhookConfiguration's CA bundle current, `server.rs` serves HTTPS, `check.rs`
//! reads what a review needs (the cluster object, Secrets, Connect's answer) and `verdict.rs`
//! turns that into the admission response (pure). It never blocks an apply on doubt: when
//! Connect cannot be asked, the apply goes through with a warning that says why.

mod ca_bundle;
mod certs;
mod check;
mod server;
mod verdict;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use verdict::{Outcome, respond, spec_changed};

/// Who writes the serving certificate.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertSource {
    /// The operator issues and rotates it and injects its CA bundle.
    Operator,
    /// cert-manager (or anyone else) writes the Secret and injects the CA bundle.
    External,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    pub addr: SocketAddr,
    /// The Secret holding the serving certificate, and its namespace.
    pub secret: String,
    pub namespace: String,
    pub certs: CertSource,
    /// The ValidatingWebhookConfiguration whose CA bundle is kept current.
    pub configuration: String,
    /// What the certificate is issued for (DNS names, IP addresses).
    pub names: Vec<String>,
    pub validity: Duration,
    /// `--allowed-urls`: the webhook calls no URL the reconciles would not.
    pub allowed_urls: Vec<String>,
}

/// Binds the webhook's address (failing to is fatal, as for the metrics server), then serves
/// it and keeps its certificate current for as long as the process runs.
pub async fn start(client: kube::Client, settings: WebhookSettings) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot bind the webhook to {}: {e}", settings.addr))?;
    let serving = Arc::new(certs::Serving::default());
    tokio::spawn(certs::keep_current(
        client.clone(),
        settings.clone(),
        serving.clone(),
    ));
    let reviewer = Arc::new(check::Reviewer::new(client, settings.allowed_urls.clone()));
    tokio::spawn(server::serve(listener, serving, reviewer));
    tracing::info!(addr = %settings.addr, certs = ?settings.certs, "admission webhook serving");
    Ok(())
}
