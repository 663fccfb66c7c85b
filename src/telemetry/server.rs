//! The HTTP server for Prometheus and the kubelet: `/metrics`, `/healthz`, `/readyz`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Router, http::StatusCode, routing::get};

use super::health::Health;

pub async fn serve(addr: SocketAddr, health: Arc<Health>) {
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
    match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "HTTP server stopped");
            }
        }
        Err(e) => tracing::error!(error = %e, %addr, "cannot bind the HTTP server"),
    }
}
