//! kafka-connect-operator: Kafka Connect connectors as Kubernetes custom resources.
//!
//! `api` holds the CRD types, `connect` the REST client, `controller` the reconcilers
//! (fetch → decide → act), `telemetry` logs, metrics and the probe/metrics HTTP server.
//! `main.rs` is only the CLI.

pub mod api;
pub mod cli;
pub mod connect;
pub mod controller;
pub mod error;
pub mod telemetry;

pub use error::{Error, Result};

/// Runs the operator until SIGTERM or Ctrl-C.
pub async fn run(args: cli::RunArgs) -> anyhow::Result<()> {
    telemetry::logging::init(args.log_format, &args.log_level);
    // One TLS provider for the whole process: kube's client and the Connect clients.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = kube::Client::try_default().await?;
    let config = args.operator_config();
    tracing::info!(?config, "starting kafka-connect-operator");
    let server = telemetry::server::serve(args.http_addr);
    tokio::spawn(server);
    controller::run(client, config, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutdown requested");
}
