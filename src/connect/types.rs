//! Wire types of the Connect REST API. Unknown fields are tolerated (Kafka 4.1 added
//! `version` to status entries; later releases may add more).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub commit: String,
    pub kafka_cluster_id: String,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorTaskId {
    pub connector: String,
    pub task: i32,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub tasks: Vec<ConnectorTaskId>,
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorState {
    pub state: String,
    #[serde(default)]
    pub worker_id: Option<String>,
    #[serde(default)]
    pub trace: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    pub id: i32,
    pub state: String,
    #[serde(default)]
    pub worker_id: Option<String>,
    #[serde(default)]
    pub trace: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorStateInfo {
    pub name: String,
    pub connector: ConnectorState,
    #[serde(default)]
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
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
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub class: String,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(default)]
    pub version: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInfos {
    pub name: String,
    pub error_count: i32,
    #[serde(default)]
    pub configs: Vec<ConfigInfo>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInfo {
    pub definition: Option<ConfigKeyDefinition>,
    pub value: ConfigValueInfo,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigKeyDefinition {
    pub name: String,
    #[serde(rename = "type", default)]
    pub type_: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigValueInfo {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
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

#[derive(Deserialize, Clone, Debug)]
pub struct TopicsEntry {
    #[serde(default)]
    pub topics: Vec<String>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
}
