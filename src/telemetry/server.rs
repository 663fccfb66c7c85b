//! The HTTP server for Prometheus and the kubelet: `/metrics`, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Router, http::StatusCode, routing::get};

use super::health::Health;

/// Binds the server's address: failing to is fatal for the caller (an operator without probes
/// or metrics would be restarted by nobody and watched by nothing).
pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}

pub async fn serve(listener: tokio::net::TcpListener, health: Arc<Health>) {
    let live = health.clone();
    let app = Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        "content-type",
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    super::metrics::encode(),
                )
            }),
        )
        .route(
            "/healthz",
            get(move || async move {
                match live.live() {
                    Ok(()) => (StatusCode::OK, "ok".to_string()),
                    Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("stuck: {why}\n")),
                }
            }),
        )
        .route(
            "/readyz",
            get(move || async move {
                if health.ready() {
                    (StatusCode::OK, "ok")
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "waiting for CRDs and caches",
                    )
                }
            }),
        );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "HTTP server stopped");
    }
}
