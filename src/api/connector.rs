//! KafkaConnector: one connector on one Connect cluster. Field names follow Strimzi's
//! KafkaConnector where it has them, so manifests move over with few edits.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::vocabulary::{ConnectState, Reason};

/// Keys that are first-class spec fields; setting them in `config` as well would make two
/// sources of truth (Strimzi #6438: `tasks.max` in config restarted the connector every pass).
pub const RESERVED_CONFIG_KEYS: [&str; 4] = [
    "name",
    "connector.class",
    "tasks.max",
    "connector.plugin.version",
];

#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kafkaconnect.dev",
    version = "v1alpha1",
    kind = "KafkaConnector",
    namespaced,
    status = "KafkaConnectorStatus",
    shortname = "kctr",
    category = "kafkaconnect",
    printcolumn = r#"{"name":"CLUSTER","type":"string","jsonPath":".spec.clusterRef.name"}"#,
    printcolumn = r#"{"name":"CLASS","type":"string","jsonPath":".spec.class","priority":0}"#,
    printcolumn = r#"{"name":"STATE","type":"string","jsonPath":".status.state"}"#,
    printcolumn = r#"{"name":"TASKS","type":"string","jsonPath":".status.tasksReady"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("has(self.connectorName) == has(oldSelf.connectorName)").message("connectorName is immutable: create a new KafkaConnector to rename a connector"),
)]
#[serde(rename_all = "camelCase")]
pub struct KafkaConnectorSpec {
    /// The KafkaConnectCluster (same namespace) that runs this connector.
    #[x_kube(validation = Rule::new("self == oldSelf").message("clusterRef is immutable: create a new KafkaConnector to move a connector"))]
    pub cluster_ref: ClusterRef,
    /// Name of the connector in Connect (default: metadata.name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("connectorName is immutable"))]
    #[x_kube(validation = Rule::new("self.trim() == self && self.size() > 0").message("connectorName must be non-empty without surrounding spaces"))]
    #[schemars(length(max = 249))]
    pub connector_name: Option<String>,
    /// The connector class (`connector.class`).
    #[x_kube(validation = Rule::new("self.trim().size() > 0").message("class must not be empty"))]
    pub class: String,
    /// `tasks.max`; Connect's default (1) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub tasks_max: Option<i32>,
    /// Plugin version (`connector.plugin.version`, Kafka 4.1+ workers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Connector configuration. Numbers and booleans are sent as strings, as Connect stores them.
    /// Must not contain name, connector.class, tasks.max or connector.plugin.version: use
    /// connectorName, class, tasksMax and version.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "config_schema")]
    pub config: BTreeMap<String, serde_json::Value>,
    /// Desired state (default running).
    #[serde(default)]
    pub state: DesiredState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_restart: Option<AutoRestart>,
    /// A GitOps-safe restart trigger: each new `id` restarts the connector once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartRequest>,
    /// What deleting this object does to the connector (default Delete).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
}

/// Values may be strings, numbers or booleans, which a structural schema cannot express
/// as one type (and CEL cannot type such a map), so value types are checked by the operator.
/// The reserved keys are refused at apply time with a `not: anyOf: required` schema.
fn config_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "Connector configuration. Must not contain name, connector.class, tasks.max or connector.plugin.version (use connectorName, class, tasksMax, version).",
        "maxProperties": 1024,
        "additionalProperties": {
            "x-kubernetes-preserve-unknown-fields": true
        },
        "not": {
            "anyOf": [
                {"required": ["name"]},
                {"required": ["connector.class"]},
                {"required": ["tasks.max"]},
                {"required": ["connector.plugin.version"]}
            ]
        }
    })
}

/// What the apiserver cannot check: value types, and reserved keys for objects that were
/// stored before the schema said so. Empty when the spec is acceptable.
pub fn spec_errors(spec: &KafkaConnectorSpec) -> Vec<ValidationError> {
    let mut out = Vec::new();
    for (k, v) in &spec.config {
        if RESERVED_CONFIG_KEYS.contains(&k.as_str()) {
            out.push(ValidationError {
                key: k.clone(),
                message: format!("{k} is a first-class field of the spec; remove it from config"),
            });
        }
        if v.is_object() || v.is_array() {
            out.push(ValidationError {
                key: k.clone(),
                message: "config values must be strings, numbers or booleans".into(),
            });
        }
    }
    out
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct ClusterRef {
    #[schemars(length(min = 1))]
    pub name: String,
}

#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DesiredState {
    #[default]
    Running,
    Paused,
    Stopped,
}

impl DesiredState {
    /// The Connect state that fulfils this desired state (and the `initial_state` of a create).
    pub fn connect_state(self) -> ConnectState {
        match self {
            DesiredState::Running => ConnectState::Running,
            DesiredState::Paused => ConnectState::Paused,
            DesiredState::Stopped => ConnectState::Stopped,
        }
    }

    /// The reason of `Ready=True` once Connect shows this state.
    pub fn ready_reason(self) -> Reason {
        match self {
            DesiredState::Running => Reason::Running,
            DesiredState::Paused => Reason::Paused,
            DesiredState::Stopped => Reason::Stopped,
        }
    }
}

#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    #[default]
    Delete,
    Orphan,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoRestart {
    /// Restart a FAILED connector or FAILED tasks with a growing backoff.
    #[serde(default)]
    pub enabled: bool,
    /// Give up after this many restarts without recovery (default: never give up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub max_restarts: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.taskId) || (!self.includeTasks && !self.onlyFailed)").message("restart.taskId restarts one task: includeTasks and onlyFailed apply to connector restarts only"))]
pub struct RestartRequest {
    /// Any new value triggers one restart; `status.lastRestartId` records the last one served.
    #[x_kube(validation = Rule::new("self.size() > 0").message("restart.id must not be empty"))]
    #[schemars(length(max = 253))]
    pub id: String,
    #[serde(default)]
    pub include_tasks: bool,
    #[serde(default)]
    pub only_failed: bool,
    /// Restart only this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub task_id: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaConnectorStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_name: Option<String>,
    /// The connector's state as Connect reports it (RUNNING, PAUSED, STOPPED, FAILED, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskStatus>,
    /// Running tasks out of all tasks, e.g. "2/2".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_ready: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_restart: Option<AutoRestartStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<ValidationError>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    pub id: i32,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoRestartStatus {
    pub count: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct ValidationError {
    pub key: String,
    pub message: String,
}

impl KafkaConnector {
    /// The connector's name in Connect.
    pub fn connector_name(&self) -> String {
        self.spec
            .connector_name
            .clone()
            .or_else(|| self.metadata.name.clone())
            .unwrap_or_default()
    }
}

impl crate::api::conditions::Conditioned for KafkaConnectorStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.conditions
    }
}
