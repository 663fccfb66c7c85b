//! HTTPS for the apiserver: `POST /validate` takes an AdmissionReview and answers one.
//! Each connection's TLS handshake runs in its own task, so a slow or broken client never
//! holds up another review.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview};
use tokio::net::TcpListener;

use super::certs::Serving;
use super::check::Reviewer;
use super::verdict::{Outcome, respond, spec_changed};
use crate::api::KafkaConnector;
use crate::telemetry::metrics;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn serve(listener: TcpListener, serving: Arc<Serving>, reviewer: Arc<Reviewer>) {
    let mut tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_cert_resolver(serving);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let app = Router::new().route(
        "/validate",
        post(move |body: Bytes| {
            let reviewer = reviewer.clone();
            async move { review(&reviewer, &body).await }
        }),
    );
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                tracing::warn!(error = %e, "webhook accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e, "webhook TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
            {
                tracing::debug!(error = %e, "webhook connection ended");
            }
        });
    }
}

async fn review(reviewer: &Reviewer, body: &[u8]) -> Response {
    let review: AdmissionReview<DynamicObject> = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not an AdmissionReview: {e}"),
            )
                .into_response();
        }
    };
    let request: AdmissionRequest<DynamicObject> = match review.try_into() {
        Ok(r) => r,
        Err(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "an AdmissionReview without a request",
            )
                .into_response();
        }
    };
    let response = decide(reviewer, &request).await;
    let skipped = response
        .warnings
        .iter()
        .flatten()
        .find(|w| w.contains("was skipped"));
    let verdict = match (response.allowed, skipped) {
        (false, _) => "refused",
        (true, Some(_)) => "skipped",
        (true, None) => "allowed",
    };
    metrics::webhook_review(verdict);
    tracing::info!(
        namespace = request.namespace.as_deref().unwrap_or_default(),
        name = %request.name,
        operation = ?request.operation,
        dry_run = request.dry_run,
        verdict,
        why = skipped.map(String::as_str).unwrap_or_default(),
        "admission review"
    );
    let body = serde_json::to_vec(&response.into_review()).unwrap_or_default();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn decide(
    reviewer: &Reviewer,
    request: &AdmissionRequest<DynamicObject>,
) -> AdmissionResponse {
    let allowed = AdmissionResponse::from(request);
    if !spec_changed(request) {
        return allowed;
    }
    let Some(object) = &request.object else {
        return allowed;
    };
    // The schema already passed (the apiserver validates it before any webhook); an object
    // these types still cannot read is left to the reconcile, which reports it in status.
    let obj: KafkaConnector = match serde_json::to_value(object).and_then(serde_json::from_value) {
        Ok(o) => o,
        Err(e) => {
            let why = format!("the operator cannot read this object: {e}");
            return respond(allowed, Outcome::Skipped(why), vec![]);
        }
    };
    let (outcome, warnings) = reviewer.check(&obj, &request.user_info).await;
    respond(allowed, outcome, warnings)
}
