//! `ConnectClient`: one method per REST endpoint the operator uses, typed errors, a
//! per-request timeout, and retries for the faults Connect documents as momentary.

use std::collections::BTreeMap;
use std::time::Instant;

use reqwest::{Method, StatusCode, header::HeaderValue};
use serde::de::DeserializeOwned;
use url::Url;

use super::retry::RetryPolicy;
use super::types::*;
use crate::error::{Error, Result};
use crate::telemetry::metrics;

#[derive(Clone)]
pub struct ConnectClient {
    base: Url,
    http: reqwest::Client,
    auth: Option<HeaderValue>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for ConnectClient {
    // Hand-written so that the auth header can never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// No retry starts after this long: one reconcile (2 minutes) must outlive its calls.
const RETRY_BUDGET: std::time::Duration = std::time::Duration::from_secs(45);

/// Query of `POST /connectors/{name}/restart`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestartOptions {
    pub include_tasks: bool,
    pub only_failed: bool,
}

impl RestartOptions {
    /// Restart whatever is FAILED, connector or tasks (auto-restart, config fixes).
    pub const FAILED_PARTS: RestartOptions = RestartOptions {
        include_tasks: true,
        only_failed: true,
    };
}

impl ConnectClient {
    pub fn new(base: Url, http: reqwest::Client, auth: Option<HeaderValue>) -> Self {
        Self {
            base,
            http,
            auth,
            retry: RetryPolicy::default(),
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().expect("http(s) urls have a path");
            path.pop_if_empty();
            for s in segments {
                path.push(s);
            }
        }
        url
    }

    /// Sends one request with retries. `endpoint` is the low-cardinality label for metrics.
    async fn send(
        &self,
        endpoint: &'static str,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, bytes::Bytes)> {
        // Restarts are not idempotent: after a timeout Connect may have restarted already, so
        // only a 409 (refused during a rebalance, nothing done) is retried for them.
        let idempotent = !matches!(endpoint, "restart" | "restart_task");
        let started = std::time::Instant::now();
        let mut retry = 0;
        loop {
            let result = self
                .send_once(endpoint, method.clone(), url.clone(), body)
                .await;
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
                        && started.elapsed() < RETRY_BUDGET =>
                {
                    retry += 1;
                    let delay = self.retry.delay(retry);
                    tracing::debug!(%endpoint, error = %e, ?delay, "retrying Connect request");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        endpoint: &'static str,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, bytes::Bytes)> {
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
                metrics::rest_request(endpoint, "error", start.elapsed());
                let e = e.without_url();
                let what = if e.is_timeout() {
                    "request timed out"
                } else {
                    "request failed"
                };
                return Err(Error::Unavailable(format!(
                    "{method} {endpoint}: {what}: {}",
                    error_chain(&e)
                )));
            }
        };
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| Error::Unavailable(format!("{method} {endpoint}: reading body: {e}")))?;
        metrics::rest_request(endpoint, status.as_str(), start.elapsed());
        if status.is_success() {
            return Ok((status, bytes));
        }
        Err(classify(status, &bytes))
    }

    async fn json<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<T> {
        let (status, bytes) = self.send(endpoint, method, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Unexpected {
            status: status.as_u16(),
            message: format!("{endpoint}: cannot parse body: {e}"),
        })
    }

    /// `GET /`
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.json("root", Method::GET, self.url(&[]), None).await
    }

    /// `GET /connectors`
    pub async fn list(&self) -> Result<Vec<String>> {
        self.json("list", Method::GET, self.url(&["connectors"]), None)
            .await
    }

    /// `GET /connectors?expand=status&expand=info`: every connector's status and config in one call.
    /// Connect drops a connector that has no status yet from this map.
    pub async fn list_expanded(&self) -> Result<BTreeMap<String, ExpandedConnector>> {
        let mut url = self.url(&["connectors"]);
        url.query_pairs_mut()
            .append_pair("expand", "status")
            .append_pair("expand", "info");
        self.json("list_expanded", Method::GET, url, None).await
    }

    /// `POST /connectors`
    pub async fn create(
        &self,
        name: &str,
        config: &BTreeMap<String, String>,
        initial_state: Option<&str>,
    ) -> Result<ConnectorInfo> {
        let body = serde_json::to_value(CreateConnectorRequest {
            name,
            config,
            initial_state,
        })?;
        self.json(
            "create",
            Method::POST,
            self.url(&["connectors"]),
            Some(&body),
        )
        .await
    }

    /// `GET /connectors/{name}`
    pub async fn get(&self, name: &str) -> Result<ConnectorInfo> {
        self.json("get", Method::GET, self.url(&["connectors", name]), None)
            .await
    }

    /// `GET /connectors/{name}/config`
    pub async fn get_config(&self, name: &str) -> Result<BTreeMap<String, String>> {
        self.json(
            "get_config",
            Method::GET,
            self.url(&["connectors", name, "config"]),
            None,
        )
        .await
    }

    /// `PUT /connectors/{name}/config` (an upsert: 201 created, 200 updated).
    pub async fn put_config(
        &self,
        name: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<ConnectorInfo> {
        let body = serde_json::to_value(config)?;
        self.json(
            "put_config",
            Method::PUT,
            self.url(&["connectors", name, "config"]),
            Some(&body),
        )
        .await
    }

    /// `GET /connectors/{name}/status`. 404 also right after creation, before the connector started.
    pub async fn status(&self, name: &str) -> Result<ConnectorStateInfo> {
        self.json(
            "status",
            Method::GET,
            self.url(&["connectors", name, "status"]),
            None,
        )
        .await
    }

    /// `GET /connectors/{name}/tasks`
    pub async fn tasks(&self, name: &str) -> Result<Vec<TaskInfo>> {
        self.json(
            "tasks",
            Method::GET,
            self.url(&["connectors", name, "tasks"]),
            None,
        )
        .await
    }

    /// `GET /connectors/{name}/tasks/{id}/status`
    pub async fn task_status(&self, name: &str, task: i32) -> Result<TaskState> {
        let url = self.url(&["connectors", name, "tasks", &task.to_string(), "status"]);
        self.json("task_status", Method::GET, url, None).await
    }

    /// `PUT /connectors/{name}/pause` (202: asynchronous, read the status back to confirm).
    pub async fn pause(&self, name: &str) -> Result<()> {
        self.send(
            "pause",
            Method::PUT,
            self.url(&["connectors", name, "pause"]),
            None,
        )
        .await
        .map(drop)
    }

    /// `PUT /connectors/{name}/resume` (202: asynchronous).
    pub async fn resume(&self, name: &str) -> Result<()> {
        self.send(
            "resume",
            Method::PUT,
            self.url(&["connectors", name, "resume"]),
            None,
        )
        .await
        .map(drop)
    }

    /// `PUT /connectors/{name}/stop` (204).
    pub async fn stop(&self, name: &str) -> Result<()> {
        self.send(
            "stop",
            Method::PUT,
            self.url(&["connectors", name, "stop"]),
            None,
        )
        .await
        .map(drop)
    }

    /// `POST /connectors/{name}/restart[?includeTasks=&onlyFailed=]`. With either flag Connect
    /// answers 202 with the restart plan; without, 204 and no body.
    pub async fn restart(
        &self,
        name: &str,
        opts: RestartOptions,
    ) -> Result<Option<ConnectorStateInfo>> {
        let mut url = self.url(&["connectors", name, "restart"]);
        if opts.include_tasks || opts.only_failed {
            url.query_pairs_mut()
                .append_pair("includeTasks", &opts.include_tasks.to_string())
                .append_pair("onlyFailed", &opts.only_failed.to_string());
        }
        let (_, bytes) = self.send("restart", Method::POST, url, None).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// `POST /connectors/{name}/tasks/{id}/restart`
    pub async fn restart_task(&self, name: &str, task: i32) -> Result<()> {
        let url = self.url(&["connectors", name, "tasks", &task.to_string(), "restart"]);
        self.send("restart_task", Method::POST, url, None)
            .await
            .map(drop)
    }

    /// `DELETE /connectors/{name}`
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.send(
            "delete",
            Method::DELETE,
            self.url(&["connectors", name]),
            None,
        )
        .await
        .map(drop)
    }

    /// `GET /connector-plugins` (connector plugins of the answering worker).
    pub async fn plugins(&self) -> Result<Vec<PluginInfo>> {
        self.json(
            "plugins",
            Method::GET,
            self.url(&["connector-plugins"]),
            None,
        )
        .await
    }

    /// `PUT /connector-plugins/{class}/config/validate`: 200 even when invalid (`error_count` > 0).
    pub async fn validate(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<ConfigInfos> {
        let body = serde_json::to_value(config)?;
        let url = self.url(&["connector-plugins", class, "config", "validate"]);
        self.json("validate", Method::PUT, url, Some(&body)).await
    }

    /// `GET /connectors/{name}/topics`. A worker with topic tracking disabled answers 403:
    /// that is "no topics known", not an authorisation failure.
    pub async fn topics(&self, name: &str) -> Result<Vec<String>> {
        let url = self.url(&["connectors", name, "topics"]);
        match self
            .json::<BTreeMap<String, TopicsEntry>>("topics", Method::GET, url, None)
            .await
        {
            Ok(map) => Ok(map.into_values().flat_map(|e| e.topics).collect()),
            Err(Error::Unauthorized(403)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// Maps a non-2xx answer to the error kinds the reconciler acts on
/// (see `shared/reference/connect-rest-api.md` for where each comes from).
fn classify(status: StatusCode, body: &[u8]) -> Error {
    let message = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .and_then(|b| b.message)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(500).collect());
    match status.as_u16() {
        404 => Error::NotFound(message),
        409 if message.contains("already exists") => Error::AlreadyExists(message),
        409 => Error::Rebalancing(message),
        401 | 403 => Error::Unauthorized(status.as_u16()),
        400 => Error::Rejected(message),
        500 if is_momentary_500(&message) => Error::Rebalancing(message),
        500 if is_config_500(&message) => Error::Rejected(message),
        500 | 502 | 503 | 504 => Error::Unavailable(format!("HTTP {}: {message}", status.as_u16())),
        code => Error::Unexpected {
            status: code,
            message,
        },
    }
}

fn is_momentary_500(message: &str) -> bool {
    [
        "timed out",
        "rebalance",
        "Cannot complete request",
        "no known leader",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// 500s that carry a problem with what we sent, which a retry will not cure.
fn is_config_500(message: &str) -> bool {
    [
        "Failed to find any class",
        "ConfigException",
        "must specify",
        "contains no connector type",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, message: &str) -> Error {
        let body = serde_json::json!({"error_code": status, "message": message}).to_string();
        classify(StatusCode::from_u16(status).unwrap(), body.as_bytes())
    }

    #[test]
    fn classifies_connect_errors() {
        assert!(matches!(
            err(404, "Connector x not found"),
            Error::NotFound(_)
        ));
        assert!(matches!(
            err(409, "Connector x already exists"),
            Error::AlreadyExists(_)
        ));
        assert!(matches!(
            err(
                409,
                "Cannot complete request momentarily due to no known leader URL"
            ),
            Error::Rebalancing(_)
        ));
        assert!(matches!(
            err(500, "Request timed out. The worker is currently ..."),
            Error::Rebalancing(_)
        ));
        assert!(matches!(
            err(
                500,
                "Failed to find any class that implements Connector and which name matches x"
            ),
            Error::Rejected(_)
        ));
        assert!(matches!(err(500, "boom"), Error::Unavailable(_)));
        assert!(matches!(err(401, ""), Error::Unauthorized(401)));
        assert!(matches!(
            err(400, "Connector configuration is invalid"),
            Error::Rejected(_)
        ));
        assert!(err(409, "conflicting operation (e.g. worker rebalance)").is_transient());
        assert!(!err(400, "bad").is_transient());
    }

    #[test]
    fn connector_names_are_path_encoded() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let c = ConnectClient::new(
            Url::parse("http://h:8083/base/").unwrap(),
            reqwest::Client::new(),
            None,
        );
        assert_eq!(
            c.url(&["connectors", "a b/c", "status"]).as_str(),
            "http://h:8083/base/connectors/a%20b%2Fc/status"
        );
    }
}
