//! A connector and its tasks as the store keeps them, their states, and what every answer
//! of this worker carries.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::plugins::{self, PluginId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Running,
    Paused,
    Stopped,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Failed,
    Restarting,
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
            State::Stopped => "STOPPED",
        }
    }

    pub(super) fn of(target: Target) -> State {
        match target {
            Target::Running => State::Running,
            Target::Paused => State::Paused,
            Target::Stopped => State::Stopped,
        }
    }
}

/// How long the asynchronous steps take (changeable at runtime).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Timings {
    /// From a create (or a connector restart) to its status appearing.
    pub connector_start_ms: u64,
    /// From the connector running to its tasks generated and RUNNING (also a task restart).
    pub task_start_ms: u64,
    /// From pause / resume / stop answered to the status showing it.
    pub state_change_ms: u64,
}

impl Timings {
    pub(super) fn connector_start(&self) -> Duration {
        Duration::from_millis(self.connector_start_ms)
    }
    pub(super) fn task_start(&self) -> Duration {
        Duration::from_millis(self.task_start_ms)
    }
    pub(super) fn state_change(&self) -> Duration {
        Duration::from_millis(self.state_change_ms)
    }
}

/// What every answer of this worker carries.
pub struct Worker {
    pub worker_id: String,
    pub version: String,
    /// Kafka 4.1+ adds `version` to status entries.
    pub status_version: bool,
}

pub struct Task {
    pub id: usize,
    pub state: State,
    pub trace: Option<String>,
    pub(super) start_at: Option<Instant>,
    pub(super) fail_at: Option<(Instant, String)>,
}

pub struct Connector {
    pub name: String,
    pub plugin: PluginId,
    pub config: BTreeMap<String, String>,
    pub target: Target,
    /// `None` until the connector started: no status yet (404, dropped from `expand=status`).
    pub state: Option<State>,
    pub trace: Option<String>,
    /// Generated task configs and their status.
    pub tasks: Vec<Task>,
    pub topics: Vec<String>,
    pub(super) start_at: Option<Instant>,
    pub(super) applied_at: Option<Instant>,
    pub(super) tasks_at: Option<Instant>,
    pub(super) fail_at: Option<(Instant, String)>,
    /// The earliest deadline queued for it (so that one is not queued twice).
    pub(super) queued: Option<Instant>,
    pub(super) name_json: String,
    pub(super) status_json: Option<String>,
    pub(super) info_json: String,
}

impl Connector {
    pub(super) fn new(
        name: String,
        plugin: PluginId,
        config: BTreeMap<String, String>,
        target: Target,
    ) -> Self {
        Connector {
            name_json: serde_json::to_string(&name).expect("a string serializes"),
            name,
            plugin,
            config,
            target,
            state: None,
            trace: None,
            tasks: Vec::new(),
            topics: Vec::new(),
            start_at: None,
            applied_at: None,
            tasks_at: None,
            fail_at: None,
            queued: None,
            status_json: None,
            info_json: String::new(),
        }
    }

    pub fn kind(&self) -> &'static str {
        plugins::plugin(self.plugin).kind.as_str()
    }
}
