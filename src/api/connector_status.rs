//! A KafkaConnector's status: what Connect shows for the connector, and how far the
//! operator got (conditions, served requests, refusals).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::{Deserialize, Serialize};

use super::connector::{ClusterRef, OffsetEntry};
use crate::vocabulary::ConnectState;

/// What Connect shows for the connector, and how far the operator got.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaConnectorStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready, Reconciling and Stalled (kstatus), each with a reason and a message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The connector's name in Connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_name: Option<String>,
    /// The connector's state as Connect reports it (RUNNING, PAUSED, STOPPED, FAILED, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<ConnectState>,
    /// The worker running the connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// The connector's error trace when FAILED (trimmed, secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// Each task as Connect reports it: at most 100, those not RUNNING first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tasks: Vec<TaskStatus>,
    /// Tasks Connect reported that `tasks` leaves out (over 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_omitted: Option<u32>,
    /// Running tasks out of all tasks, e.g. "2/2".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_ready: Option<String>,
    /// Tasks RUNNING: the scale subresource's replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tasks_running: Option<i32>,
    /// The scale subresource's label selector (HPA and KEDA read it; no Pods carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// Topics the connector used, as Connect tracks them: the first 100 in name order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Topics Connect reported that `topics` leaves out (over 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics_omitted: Option<u32>,
    /// Automatic restarts since the connector was last healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_restart: Option<AutoRestartStatus>,
    /// The last `spec.restart.id` served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_id: Option<String>,
    /// Why Connect answered the last restart it was asked for (a `spec.restart`, or one owed
    /// after a config fix) with a failure; cleared by the next restart that succeeds. A
    /// restart answered so counts as served: it is not sent again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_error: Option<String>,
    /// A restart of the FAILED connector and tasks is owed since the config changed while
    /// they were FAILED (Connect keeps them FAILED until restarted): kept here until served,
    /// so that neither a failed restart call nor an operator restart forgets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_owed: Option<String>,
    /// Why Connect (or the operator) refused the config, per key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validation_errors: Vec<ValidationError>,
    /// The last offsets request served, and the offsets Connect had right after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets: Option<OffsetsStatus>,
    /// How this object came to manage its connector: it created it, or adopted one that
    /// existed. Absent while it never has; deleting the object then deletes nothing in
    /// Connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// A one-shot request written here before it was sent ("restart r1", "offsets o1", "owed
    /// restart", "auto restart"), cleared with its answer. Found here later, its answer was
    /// never recorded: it counts as served and is not sent again. A request whose marker
    /// cannot be written is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_in_flight: Option<String>,
    /// The spec generation whose config Connect was last seen to hold (written, or found
    /// equal). With `driftPolicy: Report`, a difference while it equals the object's
    /// generation is drift; a newer generation is a change to write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_generation: Option<i64>,
    /// The plugin version the connector runs (Connect 4.1+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `source` or `sink`, as Connect reports it.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// How the connector handles records that fail conversion or a transform, as its config
    /// in Connect says (Connect's defaults where it says nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handling: Option<ErrorHandling>,
    /// Known traps in the connector's config, in words (`errorHandling`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With `progress` watched: whether the connector moves data (the `Flowing` condition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<crate::api::progress::ProgressStatus>,
    /// `driftPolicy: Report`: how the connector's config in Connect differs from the spec
    /// (values masked), since when. Absent while they agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftStatus>,
    /// The KafkaConnectCluster the connector lives on, recorded once this object created or
    /// adopted it. While it differs from `spec.clusterRef`, the connector is being moved
    /// there (`move`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterRef>,
    /// The move to the KafkaConnectCluster `spec.clusterRef` names, while it is under way:
    /// the last step begun (recorded before it is taken).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "move")]
    pub move_: Option<MoveStatus>,
}

/// A move between Connect clusters under way.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MoveStatus {
    /// The last step begun.
    pub phase: MovePhase,
    /// How many offsets were copied to the new cluster (once they were).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets_copied: Option<u32>,
}

// The steps of a move, in order: stopping the connector on the old cluster, creating it
// STOPPED on the new one (from here on the connector there is this object's), starting it
// there once the offsets are written, removing it from the old cluster.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, schemars::JsonSchema,
)]
pub enum MovePhase {
    Stopping,
    Creating,
    Starting,
    RemovingOld,
}

/// `errors.*` of a connector's config: whether bad records stop the task, are dropped, logged,
/// or sent to a dead-letter topic.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorHandling {
    /// `errors.tolerance`: `none` (the default: the task fails) or `all` (the record is
    /// skipped).
    pub tolerance: String,
    /// `errors.deadletterqueue.topic.name` (sink connectors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
    /// `errors.log.enable`: failed records are logged.
    pub log_errors: bool,
    /// `errors.log.include.messages`: the log lines include the record.
    pub log_messages: bool,
}

/// A config in Connect that differs from the spec, left as it is (`driftPolicy: Report`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftStatus {
    /// When the difference was first seen.
    pub since: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
    /// The keys that differ, sorted.
    pub keys: Vec<DriftedKey>,
}

/// One key whose value in Connect differs from the spec's. A value from a Secret, or under a
/// key named like a credential, shows as `[hidden]`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftedKey {
    /// The config key.
    pub key: String,
    /// The spec's value; absent: the spec does not set the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    /// Connect's value; absent: Connect does not have the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
}

/// How, and when, a KafkaConnector came to manage its connector.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// Created (this object's create made the connector) or Adopted (it existed).
    pub how: ProvenanceHow,
    /// When.
    pub time: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time,
}

// Created: this object's create made the connector. Adopted: the connector existed when
// this object first found it (made by someone else, or by this object before its status was
// lost): the one-shot requests then in its spec counted as served.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum ProvenanceHow {
    Created,
    Adopted,
}

/// The outcome of the last `spec.offsets` request.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OffsetsStatus {
    /// The last `spec.offsets.id` served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_request_id: Option<String>,
    /// Reset, Altered, or Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<OffsetsResult>,
    /// Connect's message about the request (secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The offsets Connect reported right after the request, at most 20.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub current: Vec<OffsetEntry>,
    /// How many offsets Connect reported in all (more than `current` holds when truncated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u32>,
}

// What became of an offsets request (the field says it in the schema).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
pub enum OffsetsResult {
    Reset,
    Altered,
    // Connect refused it (see `message`); not sent again.
    Failed,
    // In the spec when this object adopted an existing connector: counted as served without
    // being sent (a restored or re-created object must not reset again); a new id is sent.
    TakenAsServed,
    // Sent, but its answer was never recorded (status could not be written, or the operator
    // stopped): not sent again; set a new id to send another.
    Unconfirmed,
}

impl OffsetsResult {
    /// The word status shows.
    pub fn as_str(self) -> &'static str {
        match self {
            OffsetsResult::Reset => "Reset",
            OffsetsResult::Altered => "Altered",
            OffsetsResult::Failed => "Failed",
            OffsetsResult::TakenAsServed => "TakenAsServed",
            OffsetsResult::Unconfirmed => "Unconfirmed",
        }
    }
}

/// One task as Connect reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// Task number.
    pub id: i32,
    /// RUNNING, PAUSED, FAILED, UNASSIGNED, RESTARTING...
    pub state: ConnectState,
    /// The worker running the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<String>,
    /// The task's error trace when FAILED (trimmed, secrets masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
    /// The plugin version the task runs (Connect 4.1+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// Automatic restarts so far.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoRestartStatus {
    /// Restarts since the connector was last healthy for the whole last backoff.
    pub count: i32,
    /// When the last automatic restart happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_restart_time: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
}

/// One refused config key.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
pub struct ValidationError {
    /// The config key (or `class`, `config`).
    pub key: String,
    /// Why, in Connect's words (secrets masked).
    pub message: String,
}

impl crate::api::conditions::Conditioned for KafkaConnectorStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.conditions
    }
}
