//! `Live`: one connector as Connect shows it, and the rules read from it (failed, healthy,
//! settled in a state). Both the verdict and the confirmation of a state change use
//! `settled_in`, so "done" means the same thing in both places.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::connect::types::{ConnectorInfo, ConnectorStateInfo, TaskState};
use crate::vocabulary::ConnectState;

/// What Connect shows for one connector: its stored config, the ids of the tasks it has
/// generated, and, once it started, its status.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Live {
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub tasks: Vec<i32>,
    #[serde(default)]
    pub status: Option<ConnectorStateInfo>,
}

impl Live {
    pub fn from_info(info: ConnectorInfo, status: Option<ConnectorStateInfo>) -> Self {
        Self {
            tasks: info.tasks.iter().map(|t| t.task).collect(),
            config: info.config,
            status,
        }
    }

    /// Every generated task reported RUNNING: the status lists tasks as their workers start
    /// them, so a connector with two tasks can show one RUNNING task and nothing else yet.
    pub fn every_task_running(&self) -> bool {
        let Some(s) = &self.status else { return false };
        let running = |id: &i32| {
            s.tasks
                .iter()
                .any(|t| t.id == *id && t.state == ConnectState::Running)
        };
        // No task at all (neither generated nor reported) is legitimate: a connector may
        // generate none (nothing to copy yet). Right after a write, `Acting` waits once.
        s.tasks.iter().all(|t| t.state == ConnectState::Running) && self.tasks.iter().all(running)
    }
}

impl Live {
    pub fn state(&self) -> Option<&ConnectState> {
        self.status.as_ref().map(|s| &s.connector.state)
    }

    /// RUNNING with no task generated nor reported.
    pub fn running_without_tasks(&self) -> bool {
        self.tasks.is_empty()
            && self
                .status
                .as_ref()
                .is_some_and(|s| s.connector.state == ConnectState::Running && s.tasks.is_empty())
    }

    pub fn any_failed(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(ConnectorStateInfo::any_failed)
    }

    /// Connector and every task RUNNING.
    pub fn healthy(&self) -> bool {
        self.status.as_ref().is_some_and(|s| {
            s.connector.state == ConnectState::Running
                && s.tasks.iter().all(|t| t.state == ConnectState::Running)
        })
    }
}

/// Connect shows the connector in `target` and its tasks have followed. Connect reports the
/// connector's new state before its tasks move: a stopped connector is done once its tasks
/// are gone, a paused or running one once every task is in that state or FAILED (a FAILED
/// task does not take part in a transition; it is reported on its own).
pub fn settled_in(s: &ConnectorStateInfo, target: &ConnectState) -> bool {
    s.connector.state == *target && tasks_followed(&s.tasks, target)
}

pub fn tasks_followed(tasks: &[TaskState], target: &ConnectState) -> bool {
    match target {
        ConnectState::Stopped => tasks.is_empty(),
        t => tasks
            .iter()
            .all(|task| task.state == *t || task.state == ConnectState::Failed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(connector: &str, tasks: &[&str]) -> ConnectorStateInfo {
        serde_json::from_value(serde_json::json!({
            "name": "c",
            "connector": {"state": connector},
            "tasks": tasks.iter().enumerate()
                .map(|(i, s)| serde_json::json!({"id": i, "state": s}))
                .collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    #[test]
    fn stopped_waits_for_the_tasks_to_go() {
        assert!(!settled_in(
            &status("STOPPED", &["RUNNING"]),
            &ConnectState::Stopped
        ));
        assert!(settled_in(&status("STOPPED", &[]), &ConnectState::Stopped));
    }

    #[test]
    fn paused_waits_for_every_task_but_a_failed_one() {
        let p = ConnectState::Paused;
        assert!(!settled_in(&status("PAUSED", &["PAUSED", "RUNNING"]), &p));
        assert!(settled_in(&status("PAUSED", &["PAUSED", "PAUSED"]), &p));
        assert!(settled_in(&status("PAUSED", &["PAUSED", "FAILED"]), &p));
        assert!(!settled_in(&status("RUNNING", &["PAUSED"]), &p));
    }

    #[test]
    fn running_waits_for_every_generated_task() {
        let live = Live {
            tasks: vec![0, 1],
            status: Some(status("RUNNING", &["RUNNING"])),
            ..Default::default()
        };
        assert!(
            !live.every_task_running(),
            "task 1 generated, not reported yet"
        );
        let live = Live {
            status: Some(status("RUNNING", &["RUNNING", "RUNNING"])),
            ..live
        };
        assert!(live.every_task_running());
    }

    #[test]
    fn running_with_no_task_at_all_is_running() {
        let live = Live {
            status: Some(status("RUNNING", &[])),
            ..Default::default()
        };
        assert!(
            live.every_task_running(),
            "a connector may generate no task"
        );
        let live = Live {
            tasks: vec![0],
            ..live
        };
        assert!(!live.every_task_running(), "task 0 generated, not reported");
    }

    #[test]
    fn failed_and_healthy() {
        let live = |s| Live {
            status: Some(s),
            ..Default::default()
        };
        assert!(live(status("RUNNING", &["FAILED"])).any_failed());
        assert!(!live(status("RUNNING", &["RUNNING"])).any_failed());
        assert!(live(status("RUNNING", &["RUNNING"])).healthy());
        assert!(!live(status("RUNNING", &["UNASSIGNED"])).healthy());
    }
}
