//! KafkaConnector: one connector on one Connect cluster. Field names follow Strimzi's
//! KafkaConnector where it has them, so manifests move over with few edits.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::vocabulary::{ConnectState, Reason};

pub use super::connector_status::{
    AutoRestartStatus, DriftStatus, DriftedKey, ErrorHandling, KafkaConnectorStatus, MovePhase,
    MoveStatus, OffsetsResult, OffsetsStatus, Provenance, ProvenanceHow, TaskStatus,
    ValidationError,
};

/// Set to "true" on a KafkaConnector to make the operator leave its connector alone (no
/// writes to Connect) until the annotation is removed or set to anything else.
pub use super::spec_rules::{RESERVED_CONFIG_KEYS, reserved_key_field, spec_errors};

pub const PAUSE_RECONCILIATION: &str = "kafkaconnect.dev/pause-reconciliation";

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
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#,
    scale(
        spec_replicas_path = ".spec.tasksMax",
        status_replicas_path = ".status.tasksRunning",
        label_selector_path = ".status.selector"
    )
)]
#[x_kube(
    validation = Rule::new("has(self.connectorName) == has(oldSelf.connectorName)").message("connectorName is immutable: create a new KafkaConnector to rename a connector"),
)]
#[serde(rename_all = "camelCase")]
/// The desired connector: which Connect cluster runs it, its class, config and state. The
/// operator creates it in Connect, keeps Connect's copy equal to this spec (reverting
/// out-of-band edits), and reports what Connect shows in status.
pub struct KafkaConnectorSpec {
    /// The KafkaConnectCluster that runs this connector: in this namespace, or in another
    /// one whose cluster object allows this namespace (`allowedNamespaces`). Changing it
    /// moves the connector with its offsets: stopped on the old cluster, created STOPPED on
    /// the new one (Connect 3.7+), its offsets written there, started, then deleted from the
    /// old cluster (`status.move`).
    pub cluster_ref: ClusterRef,
    /// Name of the connector in Connect (default: metadata.name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("connectorName is immutable"))]
    #[x_kube(validation = Rule::new("self.trim() == self && self.size() > 0").message("connectorName must be non-empty without surrounding spaces"))]
    #[x_kube(validation = Rule::new(r"!self.matches(r'[/%;\\]')").message(r"connectorName must not contain '/', '%', ';' or '\': Connect's REST API cannot address such a connector (Jetty answers 400 Ambiguous URI path separator/encoding, and ';' cuts the name short); choose another name (spaces and non-ASCII letters are fine)"))]
    #[x_kube(validation = Rule::new("!(self in ['.', '..'])").message("connectorName must not be '.' or '..': URLs drop such path segments, so Connect's REST API cannot address the connector; choose another name"))]
    #[x_kube(validation = Rule::new(r"!self.matches(r'\p{Cc}')").message("connectorName must not contain control characters (tab, newline...): Connect's REST API refuses them in a URL path; choose another name"))]
    #[schemars(length(max = 249))]
    pub connector_name: Option<String>,
    /// The connector class (`connector.class`).
    #[x_kube(validation = Rule::new("self.trim().size() > 0").message("class must not be empty"))]
    #[x_kube(validation = Rule::new(r"self.matches(r'^[\p{L}_$][\p{L}\p{N}_$]*(\.[\p{L}_$][\p{L}\p{N}_$]*)*$')").message("class must be a Java class name such as org.apache.kafka.connect.file.FileStreamSourceConnector, or a plugin alias such as FileStreamSource (see the KafkaConnectCluster's status.plugins)"))]
    #[schemars(length(max = 1024))]
    pub class: String,
    /// `tasks.max`: the most tasks the connector may run; Connect's default (1) when absent.
    /// The scale subresource's replicas: `kubectl scale kctr NAME --replicas=N` sets it. At
    /// most 1000: Connect starts that many tasks at once, each with its own Kafka clients,
    /// and a typo (an extra zero, an autoscaler gone wrong) would stall the whole group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
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
    /// Config values read from Secrets or ConfigMaps in this namespace, like a container's
    /// `env[].valueFrom`. The operator writes the resolved value to Connect (so it is stored
    /// in Connect's config topic) and re-applies it when the Secret changes; it masks the
    /// value in everything it writes. To keep a secret out of Connect entirely, use Connect's
    /// own config providers (`${file:...}`) in `config` instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["key"]), length(max = 256))]
    pub config_from: Vec<ConfigValueFrom>,
    /// Desired state: running (default), paused (tasks stay assigned but stop processing) or
    /// stopped (tasks are shut down; Connect 3.5+).
    #[serde(default)]
    pub state: DesiredState,
    /// Restart a FAILED connector or FAILED tasks automatically, with a growing backoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_restart: Option<AutoRestart>,
    /// A GitOps-safe restart trigger: each new `id` restarts the connector once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartRequest>,
    /// A GitOps-safe offsets request: each new `id` is served once (Connect 3.6+). The
    /// operator stops the connector, resets or alters its offsets, then restores `state`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets: Option<OffsetsRequest>,
    /// What deleting this object does to the connector (default Delete).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// What to do when the connector's config in Connect differs from this spec although
    /// the spec did not change (someone edited it through REST or a UI): `Revert` (default)
    /// writes the spec's config back; `Report` writes nothing and shows the difference in
    /// `status.drift`, a `Drifted` condition and Events. A changed spec is written either way.
    #[serde(default)]
    pub drift_policy: DriftPolicy,
    /// Watch that this connector keeps moving data while RUNNING (default: the cluster's
    /// `spec.progress`; absent on both: not watched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<crate::api::progress::ProgressWatch>,
}

/// Reset all offsets, or alter them to given values (inline or from a ConfigMap).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("[self.reset, has(self.alter), has(self.alterFrom)].filter(x, x).size() == 1").message("offsets takes exactly one of reset: true, alter or alterFrom"))]
pub struct OffsetsRequest {
    /// Any new value serves the request once; `status.offsets.lastRequestId` records it.
    #[x_kube(validation = Rule::new("self.size() > 0").message("offsets.id must not be empty"))]
    #[schemars(length(max = 253))]
    pub id: String,
    /// Delete every committed offset: a source starts over, a sink re-reads from its
    /// consumer's reset policy.
    #[serde(default)]
    pub reset: bool,
    /// Offsets to write, as Connect's `PATCH .../offsets` takes them: a source connector's
    /// own partition and offset maps (FileStreamSource: `{filename}` and `{position}`), a
    /// sink's `{kafka_topic, kafka_partition}` and `{kafka_offset}`; a `null` offset removes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1000))]
    pub alter: Option<Vec<OffsetEntry>>,
    /// The same list as JSON in a ConfigMap key, for large sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alter_from: Option<KeyRef>,
}

/// One partition's offset.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
pub struct OffsetEntry {
    /// The partition, in the connector's terms.
    #[schemars(schema_with = "any_object")]
    pub partition: serde_json::Map<String, serde_json::Value>,
    /// The offset to store, in the connector's terms; `null` removes it.
    #[serde(default)]
    #[schemars(schema_with = "any_object_or_null")]
    pub offset: Option<serde_json::Map<String, serde_json::Value>>,
}

fn any_object(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

fn any_object_or_null(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "object", "nullable": true, "x-kubernetes-preserve-unknown-fields": true})
}

/// Values may be strings, numbers or booleans, which a structural schema cannot express
/// as one type; and CEL in the CRD cannot see into such an untyped map at all. So the
/// reserved keys, value types and keys also in `configFrom` are refused at apply time by the
/// ValidatingAdmissionPolicy in `crds/kafkaconnect.dev-admission.yaml` (where it is installed)
/// and reported in status by [`spec_errors`] (always). A `not: required` schema would refuse
/// reserved keys without the policy, but its message (`must not validate the schema (not)`)
/// says neither which key nor what to do, and it would hide the policy's clear one.
fn config_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "Connector configuration. Must not contain name, connector.class, tasks.max or connector.plugin.version (use connectorName, class, tasksMax, version); values are strings, numbers or booleans.",
        "maxProperties": 1024,
        "additionalProperties": {
            "x-kubernetes-preserve-unknown-fields": true
        }
    })
}

/// A KafkaConnectCluster: in this namespace, or in `namespace` when that cluster object
/// allows this namespace (its `allowedNamespaces`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct ClusterRef {
    /// Name of the KafkaConnectCluster.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Namespace of the KafkaConnectCluster (default: this KafkaConnector's namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 63))]
    pub namespace: Option<String>,
}

/// One config value from a Secret or ConfigMap key.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(self.key in ['name', 'connector.class', 'tasks.max', 'connector.plugin.version'])").message("configFrom cannot set name, connector.class, tasks.max or connector.plugin.version: use connectorName, class, tasksMax, version"))]
pub struct ConfigValueFrom {
    /// The connector config key, e.g. `database.password`.
    #[schemars(length(min = 1))]
    pub key: String,
    /// Where the value comes from.
    pub value_from: ValueSource,
}

/// Exactly one of `secretKeyRef` or `configMapKeyRef`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretKeyRef) != has(self.configMapKeyRef)").message("valueFrom takes exactly one of secretKeyRef or configMapKeyRef"))]
pub struct ValueSource {
    /// A key of a Secret in this namespace; the value is masked wherever the operator writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<KeyRef>,
    /// A key of a ConfigMap in this namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_key_ref: Option<KeyRef>,
}

/// A key of a named Secret or ConfigMap.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct KeyRef {
    /// Name of the Secret or ConfigMap.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The key in its data.
    #[schemars(length(min = 1))]
    pub key: String,
}

/// The state Connect should keep the connector in.
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

/// Delete (default): deleting the KafkaConnector deletes the connector from Connect (Connect
/// keeps a source connector's offsets: one re-created with the same name resumes from them).
/// DeleteAndResetOffsets: the connector is stopped, its offsets reset, then it is deleted, so
/// that one re-created with the same name starts from the beginning (Connect 3.6+).
/// Orphan: the connector keeps running in Connect.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DeletionPolicy {
    #[default]
    Delete,
    DeleteAndResetOffsets,
    Orphan,
}

/// Revert (default): a config changed outside the spec is written back. Report: it is left
/// as it is and reported in status.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum DriftPolicy {
    #[default]
    Revert,
    Report,
}

/// Automatic restarts of FAILED connectors and tasks, after min(n²+n, 60) × the operator's
/// `--auto-restart-base` (1 minute: 0, 2, 6, 12 ... then every 60 minutes).
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
/// A GitOps-safe restart: each new `id` is served once, re-applying the same one does nothing.
pub struct RestartRequest {
    /// Any new value triggers one restart; `status.lastRestartId` records the last one served.
    #[x_kube(validation = Rule::new("self.size() > 0").message("restart.id must not be empty"))]
    #[schemars(length(max = 253))]
    pub id: String,
    /// Restart the tasks too, not only the connector.
    #[serde(default)]
    pub include_tasks: bool,
    /// Restart only what is FAILED.
    #[serde(default)]
    pub only_failed: bool,
    /// Restart only this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub task_id: Option<i32>,
}

impl KafkaConnector {
    /// (namespace, name) of the KafkaConnectCluster `clusterRef` names.
    pub fn cluster_key(&self) -> (String, String) {
        let ns = match &self.spec.cluster_ref.namespace {
            Some(ns) => ns.clone(),
            None => self.metadata.namespace.clone().unwrap_or_default(),
        };
        (ns, self.spec.cluster_ref.name.clone())
    }

    /// `clusterRef` with its namespace spelled out.
    pub fn cluster_ref(&self) -> ClusterRef {
        let (namespace, name) = self.cluster_key();
        ClusterRef {
            name,
            namespace: Some(namespace),
        }
    }

    /// The cluster a move takes the connector from: the one `status` says it lives on, when
    /// that is not the one `clusterRef` names now. `None` when not moving, or when status
    /// does not say (never created nor adopted, or written by a version before moves).
    pub fn moving_from(&self, status: &KafkaConnectorStatus) -> Option<(String, String)> {
        let at = status
            .cluster
            .as_ref()
            .filter(|_| status.provenance.is_some())?;
        let ns = at
            .namespace
            .clone()
            .or_else(|| self.metadata.namespace.clone());
        let key = (ns.unwrap_or_default(), at.name.clone());
        (key != self.cluster_key()).then_some(key)
    }

    /// Whether `clusterRef` names the KafkaConnectCluster `key` (namespace, name).
    pub fn attached_to(&self, key: &(String, String)) -> bool {
        self.spec.cluster_ref.name == key.1
            && self
                .spec
                .cluster_ref
                .namespace
                .as_ref()
                .or(self.metadata.namespace.as_ref())
                .is_some_and(|ns| *ns == key.0)
    }

    /// The `kafkaconnect.dev/pause-reconciliation: "true"` annotation is set.
    pub fn reconciliation_paused(&self) -> bool {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(PAUSE_RECONCILIATION))
            .is_some_and(|v| v == "true")
    }

    /// The connector's name in Connect.
    pub fn connector_name(&self) -> String {
        self.connector_name_ref().to_string()
    }

    /// `connector_name` without a copy: scans over every cached KafkaConnector (claims,
    /// wake-ups) compare names with it, and allocating there made them O(N) allocations each.
    pub fn connector_name_ref(&self) -> &str {
        self.spec
            .connector_name
            .as_deref()
            .or(self.metadata.name.as_deref())
            .unwrap_or_default()
    }
}
