//! Sending one request: auth header, per-request timeout (set on the HTTP client), metrics,
//! and retries of the faults Connect documents as momentary, within `TIMEOUTS.retry_budget`.

use std::time::Instant;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use url::Url;

use super::answers::{classify, error_chain};
use super::client::ConnectClient;
use super::endpoint::Endpoint;
use crate::config::TIMEOUTS;
use crate::error::{Error, Result};
use crate::telemetry::metrics;

impl ConnectClient {
    /// Sends one request with retries: every momentary fault for an idempotent endpoint,
    /// only a rebalance's refusal for the others (see `Endpoint::idempotent`).
    pub(super) async fn send(
        &self,
        endpoint: Endpoint,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, bytes::Bytes)> {
        let idempotent = endpoint.idempotent();
        let started = std::time::Instant::now();
        let mut retry = 0;
        loop {
            if self.retired.load(std::sync::atomic::Ordering::SeqCst) {
                let why =
                    "the client was retired: the credentials it was built with were taken back";
                return Err(Error::Unavailable(format!("{endpoint}: {why}")));
            }
            let result = self.send_once(endpoint, url.clone(), body).await;
            let retriable = |e: &Error| match e {
                Error::Rebalancing(m) if !idempotent => !m.contains("timed out"),
                _ if !idempotent => false,
                e => e.is_transient(),
            };
            match result {
                // The overall budget keeps a retried call well inside one reconcile's timeout.
                Err(e)
                    if retriable(&e)
                        && retry + 1 < self.retry.attempts
                        && started.elapsed() < TIMEOUTS.retry_budget =>
                {
                    retry += 1;
                    *self.last_fault.lock().expect("fault lock") =
                        Some((Instant::now(), e.reason()));
                    let delay = self.retry.delay(retry);
                    // The reason only: Connect's message may echo config values.
                    tracing::debug!(%endpoint, reason = e.label(), ?delay, "retrying Connect request");
                    tokio::time::sleep(delay).await;
                }
                // Not retried (out of attempts, or a client that sends once): still a fault
                // that explains a connector not Ready yet (`recent_fault`).
                Err(e @ (Error::Rebalancing(_) | Error::Unavailable(_) | Error::Timeout(_))) => {
                    *self.last_fault.lock().expect("fault lock") =
                        Some((Instant::now(), e.reason()));
                    return Err(e);
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        endpoint: Endpoint,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, bytes::Bytes)> {
        let (status, bytes) = self.exchange(endpoint, url, body).await?;
        if status.is_success() {
            return Ok((status, bytes));
        }
        Err(classify(status, &bytes).masked(&self.own_secrets))
    }

    /// One request, answered with any status: only a failure to get an answer is an error
    /// (`GET /health` says "starting" with a 503 and a body that says so).
    pub(super) async fn exchange(
        &self,
        endpoint: Endpoint,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, bytes::Bytes)> {
        let method = endpoint.method();
        let mut req = self
            .http
            .request(method.clone(), url)
            .header("Accept", "application/json");
        if let Some(auth) = &self.auth {
            req = req.header("Authorization", auth.clone());
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let start = Instant::now();
        let resp = req.send().await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                metrics::rest_request(endpoint.label(), "error", start.elapsed());
                let e = e.without_url();
                let what = if e.is_timeout() {
                    "request timed out"
                } else {
                    "request failed"
                };
                let chain = error_chain(&e);
                let error = Error::Unavailable(format!("{method} {endpoint}: {what}: {chain}"));
                return Err(error.masked(&self.own_secrets));
            }
        };
        let status = resp.status();
        let bytes = read_capped(resp).await.map_err(|e| match e {
            Read::TooLarge => Error::Unexpected {
                status: status.as_u16(),
                message: format!(
                    "{method} {endpoint}: the answer is larger than {} MiB, not read further",
                    MAX_BODY >> 20
                ),
            },
            Read::Failed(e) => {
                Error::Unavailable(format!("{method} {endpoint}: reading body: {e}"))
            }
        })?;
        metrics::rest_request(endpoint.label(), status.as_str(), start.elapsed());
        Ok((status, bytes))
    }

    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let (status, bytes) = self.send(endpoint, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
            status: status.as_u16(),
            message: format!("{endpoint}: cannot parse body: {e}"),
        })
    }
}

/// The largest answer read from Connect: a bulk read of thousands of connectors is a few
/// MiB; more is not Connect (or not safe to hold in memory).
pub const MAX_BODY: usize = 32 << 20;

enum Read {
    TooLarge,
    Failed(reqwest::Error),
}

/// The body, chunk by chunk, refused once it passes `MAX_BODY`.
async fn read_capped(mut resp: reqwest::Response) -> std::result::Result<bytes::Bytes, Read> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(Read::TooLarge);
    }
    // Sized up front when Connect says how much comes: a bulk read of every connector grown
    // by doubling held up to twice its size at the peak.
    let expected = resp.content_length().unwrap_or(0) as usize;
    let mut body = bytes::BytesMut::with_capacity(expected);
    while let Some(chunk) = resp.chunk().await.map_err(Read::Failed)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Read::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
