//! Wire types of the Connect REST API, parsed tolerantly: any optional field may be absent
//! or `null`, unknown fields are ignored (Kafka 4.1 added `version` to status entries;
//! plugins such as Debezium answer validate with `null` values). What identifies an answer
//! as Connect's (a status's `connector`, an info's `config`) stays required: a body without
//! it proves nothing about a connector.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::vocabulary::ConnectState;

/// `null` reads as the type's default, like an absent field.
fn nullable<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// Required: a `GET /` answer without it is not Connect's.
    pub version: String,
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub kafka_cluster_id: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorTaskId {
    #[serde(default, deserialize_with = "nullable")]
    pub connector: String,
    pub task: i32,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    pub config: BTreeMap<String, String>,
    /// The tasks the connector has generated (their status may not be reported yet).
    #[serde(default, deserialize_with = "nullable")]
    pub tasks: Vec<ConnectorTaskId>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectorState {
    #[serde(default)]
    pub state: ConnectState,
    #[serde(default)]
    pub worker_id: Option<String>,
    #[serde(default)]
    pub trace: Option<String>,
    /// The plugin version it runs (Kafka 4.1+).
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    pub id: i32,
    #[serde(default)]
    pub state: ConnectState,
    #[serde(default)]
    pub worker_id: Option<String>,
    #[serde(default)]
    pub trace: Option<String>,
    /// The plugin version it runs (Kafka 4.1+): after a rolling plugin upgrade, tasks can run
    /// different versions.
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorStateInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    pub connector: ConnectorState,
    #[serde(default, deserialize_with = "nullable")]
    pub tasks: Vec<TaskState>,
    /// `source` or `sink` (empty when the worker does not say).
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub type_: String,
}

impl ConnectorStateInfo {
    /// The connector or one of its tasks is FAILED.
    pub fn any_failed(&self) -> bool {
        self.connector.state == ConnectState::Failed
            || self.tasks.iter().any(|t| t.state == ConnectState::Failed)
    }
}

/// One entry of `GET /connectors?expand=status&expand=info`.
#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ExpandedConnector {
    #[serde(default)]
    pub status: Option<ConnectorStateInfo>,
    #[serde(default)]
    pub info: Option<ConnectorInfo>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: ConnectorTaskId,
}

/// `GET /admin/loggers/{logger}`.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LoggerLevel {
    #[serde(default, deserialize_with = "nullable")]
    pub level: String,
    /// Milliseconds since the epoch of the last change (Kafka 3.7+; null before any).
    #[serde(default)]
    pub last_modified: Option<i64>,
}

/// A worker's verdict on itself, `GET /health` (Kafka 3.9+, KIP-1017), with its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerHealth {
    Healthy(String),
    /// Answered 503: still starting or joining its group.
    Starting(String),
    /// Answered 500: its herder is stuck.
    Unhealthy(String),
}

impl WorkerHealth {
    /// The verdict of an answer whose status code and body agree, as Connect's do (200
    /// healthy, 503 starting, 500 unhealthy); anything else proves nothing.
    pub fn from_answer(code: u16, body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "nullable")]
            status: String,
            #[serde(default, deserialize_with = "nullable")]
            message: String,
        }
        let b: Body = serde_json::from_slice(body).ok()?;
        match (code, b.status.as_str()) {
            (200, "healthy") => Some(Self::Healthy(b.message)),
            (503, "starting") => Some(Self::Starting(b.message)),
            (500, "unhealthy") => Some(Self::Unhealthy(b.message)),
            _ => None,
        }
    }
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub class: String,
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub type_: String,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInfos {
    /// Required: a validate answer without it says nothing about the config.
    pub error_count: i32,
    #[serde(default, deserialize_with = "nullable")]
    pub configs: Vec<ConfigInfo>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInfo {
    #[serde(default)]
    pub value: Option<ConfigValueInfo>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigValueInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub errors: Vec<String>,
}

/// Body of `POST /connectors`.
#[derive(Serialize, Clone, Debug)]
pub struct CreateConnectorRequest<'a> {
    pub name: &'a str,
    pub config: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_state: Option<&'a str>,
}

/// `GET/PATCH /connectors/{c}/offsets` (Connect 3.6+).
#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct ConnectorOffsets {
    #[serde(default, deserialize_with = "nullable")]
    pub offsets: Vec<ConnectorOffset>,
}

#[derive(Deserialize, Serialize, Clone, Debug, Default, PartialEq)]
pub struct ConnectorOffset {
    #[serde(default, deserialize_with = "nullable")]
    pub partition: serde_json::Map<String, serde_json::Value>,
    /// `null` in a PATCH removes the partition's offset.
    pub offset: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `{message}` answers (offsets alter and reset).
#[derive(Deserialize, Clone, Debug, Default)]
pub struct MessageBody {
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct TopicsEntry {
    #[serde(default, deserialize_with = "nullable")]
    pub topics: Vec<String>,
}

/// Connect's error body, `{"error_code": 404, "message": "..."}`: what tells Connect's own
/// errors from a proxy's.
#[derive(Deserialize, Clone, Debug)]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_absent_fields_read_as_empty() {
        let v: ConfigInfos = serde_json::from_str(
            r#"{"name":"x","error_count":1,"groups":[],"configs":[
                {"definition":null,"value":null},
                {"definition":{"name":"a"},"value":{"name":"a","value":null,"errors":null}},
                {"value":{"name":"b","value":"1","errors":["bad b"],"visible":true}}]}"#,
        )
        .unwrap();
        assert_eq!(v.configs.len(), 3);
        assert!(v.configs[0].value.is_none());
        assert_eq!(v.configs[2].value.as_ref().unwrap().errors, ["bad b"]);

        let s: ConnectorStateInfo = serde_json::from_str(
            r#"{"name":"c","connector":{"state":"RUNNING","worker_id":null},"tasks":null,"type":null}"#,
        )
        .unwrap();
        assert_eq!(s.connector.state, ConnectState::Running);
        assert!(s.tasks.is_empty());
    }

    #[test]
    fn a_body_without_what_identifies_it_is_refused() {
        assert!(serde_json::from_str::<ConnectorStateInfo>(r#"{"name":"c"}"#).is_err());
        assert!(serde_json::from_str::<ConnectorInfo>(r#"{"name":"c"}"#).is_err());
        assert!(serde_json::from_str::<ConfigInfos>(r#"{"configs":[]}"#).is_err());
        assert!(serde_json::from_str::<ServerInfo>(r#"{"commit":"x"}"#).is_err());
    }

    #[test]
    fn a_health_verdict_needs_code_and_body_to_agree() {
        let body = |status: &str| format!(r#"{{"status":"{status}","message":"m"}}"#);
        let verdict = |code, b: &str| WorkerHealth::from_answer(code, b.as_bytes());
        assert_eq!(
            verdict(200, &body("healthy")),
            Some(WorkerHealth::Healthy("m".into()))
        );
        assert_eq!(
            verdict(503, &body("starting")),
            Some(WorkerHealth::Starting("m".into()))
        );
        assert_eq!(
            verdict(500, &body("unhealthy")),
            Some(WorkerHealth::Unhealthy("m".into()))
        );
        // A proxy's 503, an older worker's 404, a mismatch: no verdict.
        assert_eq!(verdict(503, "<html>Service Unavailable</html>"), None);
        assert_eq!(
            verdict(404, r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#),
            None
        );
        assert_eq!(verdict(200, &body("starting")), None);
        assert_eq!(verdict(200, r#"{"status":null}"#), None);
    }
}
