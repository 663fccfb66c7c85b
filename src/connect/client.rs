//! `ConnectClient`: one method per REST endpoint the operator uses. How a request is sent
//! and retried is in `transport.rs`; how an answer is classified, in `answers.rs`.

use std::collections::BTreeMap;

use reqwest::header::HeaderValue;

use super::endpoint::Endpoint;
use crate::mask::Masks;
use url::Url;

use crate::vocabulary::Reason;

use super::retry::RetryPolicy;
use super::types::*;
use crate::error::{Error, Result};

#[derive(Clone)]
pub struct ConnectClient {
    pub(super) base: Url,
    pub(super) http: reqwest::Client,
    pub(super) auth: Option<HeaderValue>,
    /// The credentials this client sends: hidden in every error it returns, whatever
    /// echoed them (a proxy's error page, a misconfigured gateway).
    pub(super) own_secrets: Masks,
    pub(super) retry: RetryPolicy,
    /// The last momentary fault a request met, retried or not (when, and its error's
    /// reason): a retried call that succeeded in the end, or a read-back sent once, still
    /// says what Connect was going through.
    pub(super) last_fault: std::sync::Arc<std::sync::Mutex<Option<(std::time::Instant, Reason)>>>,
    /// Set once the settings this client was built from are no longer valid (a Secret taken
    /// back): every copy of the client refuses to send from then on, retries included.
    pub(super) retired: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl std::fmt::Debug for ConnectClient {
    // Hand-written so that the auth header can never reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

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
            own_secrets: auth
                .as_ref()
                .and_then(|a| a.to_str().ok())
                .map(Masks::of_authorization)
                .unwrap_or_default(),
            auth,
            retry: RetryPolicy::default(),
            last_fault: Default::default(),
            retired: Default::default(),
        }
    }

    /// A copy that sends each request once, without retries: for reads whose failure has a
    /// fallback, where waiting out a rebalance would only hold the caller up.
    pub fn once(&self) -> Self {
        let mut once = self.clone();
        once.retry.attempts = 1;
        once
    }

    /// No request is sent by this client (or any copy of it) from now on, not even a retry
    /// of a request under way: its credentials were taken back.
    pub fn retire(&self) {
        self.retired
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The reason of the last momentary fault (a rebalance's 409 or 500, an outage) a request
    /// had to be retried for, if within `within`.
    pub fn recent_fault(&self, within: std::time::Duration) -> Option<Reason> {
        let last = *self.last_fault.lock().expect("fault lock");
        last.filter(|(at, _)| at.elapsed() < within).map(|(_, r)| r)
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

    /// `GET /`
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.json(Endpoint::Root, self.url(&[]), None).await
    }

    /// `GET /health` (Kafka 3.9+), sent once: the worker's own verdict, or `None` when the
    /// answer is not one (an older worker's 404, a proxy's page).
    pub async fn health(&self) -> Result<Option<WorkerHealth>> {
        let url = self.url(&["health"]);
        let (status, bytes) = self.exchange(Endpoint::Health, url, None).await?;
        Ok(WorkerHealth::from_answer(status.as_u16(), &bytes))
    }

    /// `GET /admin/loggers/{logger}`: its level, `None` when the worker has no such logger.
    pub async fn logger(&self, logger: &str) -> Result<Option<LoggerLevel>> {
        let url = self.url(&["admin", "loggers", logger]);
        match self.json(Endpoint::Logger, url, None).await {
            Ok(level) => Ok(Some(level)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /admin/loggers/{logger}`, with `?scope=cluster` (Kafka 3.7+: every worker, those
    /// that join later included) or on this worker only.
    pub async fn set_logger(&self, logger: &str, level: &str, cluster: bool) -> Result<()> {
        let mut url = self.url(&["admin", "loggers", logger]);
        if cluster {
            url.query_pairs_mut().append_pair("scope", "cluster");
        }
        let body = serde_json::json!({"level": level});
        self.send(Endpoint::SetLogger, url, Some(&body))
            .await
            .map(drop)
    }

    /// The same client for another worker of the group (`host:port` as it advertises
    /// itself), with the scheme, credentials and TLS of this one.
    pub fn at_worker(&self, worker: &str) -> Option<Self> {
        let base = Url::parse(&format!("{}://{worker}/", self.base.scheme())).ok()?;
        Some(Self {
            base,
            ..self.clone()
        })
    }

    /// `GET /connectors`
    pub async fn list(&self) -> Result<Vec<String>> {
        self.json(Endpoint::List, self.url(&["connectors"]), None)
            .await
    }

    /// `GET /connectors?expand=status&expand=info`: every connector's status and config in one call.
    /// Connect drops a connector that has no status yet from this map.
    pub async fn list_expanded(&self) -> Result<BTreeMap<String, ExpandedConnector>> {
        let mut url = self.url(&["connectors"]);
        url.query_pairs_mut()
            .append_pair("expand", "status")
            .append_pair("expand", "info");
        self.json(Endpoint::ListExpanded, url, None).await
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
        self.json(Endpoint::Create, self.url(&["connectors"]), Some(&body))
            .await
    }

    /// `GET /connectors/{name}`: config and generated tasks.
    pub async fn get(&self, name: &str) -> Result<ConnectorInfo> {
        self.json(Endpoint::Get, self.url(&["connectors", name]), None)
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
            Endpoint::PutConfig,
            self.url(&["connectors", name, "config"]),
            Some(&body),
        )
        .await
    }

    /// `GET /connectors/{name}/status`. 404 also right after creation, before the connector started.
    pub async fn status(&self, name: &str) -> Result<ConnectorStateInfo> {
        self.json(
            Endpoint::Status,
            self.url(&["connectors", name, "status"]),
            None,
        )
        .await
    }

    /// `GET /connectors/{name}/tasks`
    pub async fn tasks(&self, name: &str) -> Result<Vec<TaskInfo>> {
        self.json(
            Endpoint::Tasks,
            self.url(&["connectors", name, "tasks"]),
            None,
        )
        .await
    }

    /// `GET /connectors/{name}/tasks/{id}/status`
    pub async fn task_status(&self, name: &str, task: i32) -> Result<TaskState> {
        let url = self.url(&["connectors", name, "tasks", &task.to_string(), "status"]);
        self.json(Endpoint::TaskStatus, url, None).await
    }

    /// `PUT /connectors/{name}/pause` (202: asynchronous, read the status back to confirm).
    pub async fn pause(&self, name: &str) -> Result<()> {
        self.send(
            Endpoint::Pause,
            self.url(&["connectors", name, "pause"]),
            None,
        )
        .await
        .map(drop)
    }

    /// `PUT /connectors/{name}/resume` (202: asynchronous).
    pub async fn resume(&self, name: &str) -> Result<()> {
        self.send(
            Endpoint::Resume,
            self.url(&["connectors", name, "resume"]),
            None,
        )
        .await
        .map(drop)
    }

    /// `PUT /connectors/{name}/stop` (204).
    pub async fn stop(&self, name: &str) -> Result<()> {
        self.send(
            Endpoint::Stop,
            self.url(&["connectors", name, "stop"]),
            None,
        )
        .await
        .map(drop)
    }

    /// `POST /connectors/{name}/restart[?includeTasks=&onlyFailed=]`. With either flag Connect
    /// answers 202 with the restart plan; without, 204 and no body. Neither is needed: the
    /// next poll shows what happened.
    pub async fn restart(&self, name: &str, opts: RestartOptions) -> Result<()> {
        let mut url = self.url(&["connectors", name, "restart"]);
        if opts.include_tasks || opts.only_failed {
            url.query_pairs_mut()
                .append_pair("includeTasks", &opts.include_tasks.to_string())
                .append_pair("onlyFailed", &opts.only_failed.to_string());
        }
        self.send(Endpoint::Restart, url, None).await.map(drop)
    }

    /// `POST /connectors/{name}/tasks/{id}/restart`
    pub async fn restart_task(&self, name: &str, task: i32) -> Result<()> {
        let url = self.url(&["connectors", name, "tasks", &task.to_string(), "restart"]);
        self.send(Endpoint::RestartTask, url, None).await.map(drop)
    }

    /// `DELETE /connectors/{name}`
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.send(Endpoint::Delete, self.url(&["connectors", name]), None)
            .await
            .map(drop)
    }

    /// `GET /connector-plugins` (connector plugins of the answering worker).
    pub async fn plugins(&self) -> Result<Vec<PluginInfo>> {
        self.json(Endpoint::Plugins, self.url(&["connector-plugins"]), None)
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
        self.json(Endpoint::Validate, url, Some(&body)).await
    }

    /// `GET /connectors/{name}/offsets` (Connect 3.6+).
    pub async fn offsets(&self, name: &str) -> Result<ConnectorOffsets> {
        let url = self.url(&["connectors", name, "offsets"]);
        self.json(Endpoint::GetOffsets, url, None).await
    }

    /// `PATCH /connectors/{name}/offsets`: the connector must be STOPPED. Returns Connect's message.
    pub async fn alter_offsets(&self, name: &str, offsets: &ConnectorOffsets) -> Result<String> {
        let url = self.url(&["connectors", name, "offsets"]);
        let body = serde_json::to_value(offsets)?;
        let answer: MessageBody = self.json(Endpoint::AlterOffsets, url, Some(&body)).await?;
        Ok(answer.message.unwrap_or_default())
    }

    /// `DELETE /connectors/{name}/offsets`: the connector must be STOPPED. Returns Connect's message.
    pub async fn reset_offsets(&self, name: &str) -> Result<String> {
        let url = self.url(&["connectors", name, "offsets"]);
        let answer: MessageBody = self.json(Endpoint::ResetOffsets, url, None).await?;
        Ok(answer.message.unwrap_or_default())
    }

    /// `GET /connectors/{name}/topics`. A worker with topic tracking disabled answers 403:
    /// that is "no topics known", not an authorisation failure.
    pub async fn topics(&self, name: &str) -> Result<Vec<String>> {
        let url = self.url(&["connectors", name, "topics"]);
        match self
            .json::<BTreeMap<String, TopicsEntry>>(Endpoint::Topics, url, None)
            .await
        {
            Ok(map) => Ok(map.into_values().flat_map(|e| e.topics).collect()),
            Err(Error::Unauthorized(403)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
