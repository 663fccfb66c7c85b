//! Watching that a RUNNING connector keeps moving data (`spec.progress`, on a KafkaConnector
//! or as its KafkaConnectCluster's default), and what status shows of it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Serialize};

/// Opt-in: a RUNNING connector whose offsets (`GET /connectors/{c}/offsets`, Connect 3.5+) do
/// not move for `stallAfter` gets `Flowing=False, reason NoProgress`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressWatch {
    /// How long offsets may stand still, e.g. `15m`, `90s`, `2h`.
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,5}(s|m|h)$"), length(max = 8))]
    pub stall_after: String,
}

impl ProgressWatch {
    pub fn window(&self) -> Option<std::time::Duration> {
        humantime::parse_duration(&self.stall_after).ok()
    }
}

/// Whether a watched connector moves data.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProgressStatus {
    /// Its offsets moved within the window (or the window has not passed since the operator
    /// began to watch: a restart of the operator starts it again).
    pub flowing: bool,
    /// While not flowing: when its offsets last moved (or were first read unmoving).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_movement: Option<Time>,
}
