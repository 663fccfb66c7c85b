//! The status and info answers of a connector, serialized (each connector keeps its own, so
//! listings are concatenations).

use std::collections::BTreeMap;

use serde::Serialize;

use super::connector::{Connector, State, Worker};

impl Connector {
    pub(super) fn refresh(&mut self, worker: &Worker) {
        self.info_json = self.info();
        self.status_json = self.state.map(|_| self.status(worker));
    }

    /// `ConnectorInfo`, serialized.
    pub fn info(&self) -> String {
        let out = InfoOut {
            name: &self.name,
            config: &self.config,
            tasks: self
                .tasks
                .iter()
                .map(|t| TaskIdOut {
                    connector: &self.name,
                    task: t.id,
                })
                .collect(),
            type_: self.kind(),
        };
        serde_json::to_string(&out).expect("an info serializes")
    }

    /// `ConnectorStateInfo` with the states given (a restart plan), serialized.
    pub fn status_with(
        &self,
        worker: &Worker,
        connector: State,
        tasks: &[(usize, State, Option<&str>)],
    ) -> String {
        let out = StatusOut {
            name: &self.name,
            connector: EntryOut::new(worker, connector, self.trace.as_deref()),
            tasks: tasks
                .iter()
                .map(|(id, state, trace)| TaskOut {
                    id: *id,
                    entry: EntryOut::new(worker, *state, *trace),
                })
                .collect(),
            type_: self.kind(),
        };
        serde_json::to_string(&out).expect("a status serializes")
    }

    /// The current `ConnectorStateInfo`, serialized.
    fn status(&self, worker: &Worker) -> String {
        let tasks: Vec<(usize, State, Option<&str>)> = self
            .tasks
            .iter()
            .map(|t| (t.id, t.state, t.trace.as_deref()))
            .collect();
        self.status_with(worker, self.state.unwrap_or(State::Unassigned), &tasks)
    }

    pub fn status_json(&self) -> Option<&str> {
        self.status_json.as_deref()
    }

    pub fn info_json(&self) -> &str {
        &self.info_json
    }

    /// `GET .../tasks/{t}/status`, serialized.
    pub fn task_status(&self, worker: &Worker, id: usize) -> Option<String> {
        self.state?;
        let t = self.tasks.iter().find(|t| t.id == id)?;
        let out = TaskOut {
            id: t.id,
            entry: EntryOut::new(worker, t.state, t.trace.as_deref()),
        };
        Some(serde_json::to_string(&out).expect("a task status serializes"))
    }
}

// The answers, with their fields in the order Connect writes them.

#[derive(Serialize)]
struct EntryOut<'a> {
    state: &'static str,
    worker_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace: Option<&'a str>,
}

impl<'a> EntryOut<'a> {
    fn new(worker: &'a Worker, state: State, trace: Option<&'a str>) -> Self {
        EntryOut {
            state: state.as_str(),
            worker_id: &worker.worker_id,
            version: worker.status_version.then_some(worker.version.as_str()),
            trace,
        }
    }
}

#[derive(Serialize)]
struct TaskOut<'a> {
    id: usize,
    #[serde(flatten)]
    entry: EntryOut<'a>,
}

#[derive(Serialize)]
struct StatusOut<'a> {
    name: &'a str,
    connector: EntryOut<'a>,
    tasks: Vec<TaskOut<'a>>,
    #[serde(rename = "type")]
    type_: &'static str,
}

#[derive(Serialize)]
struct TaskIdOut<'a> {
    connector: &'a str,
    task: usize,
}

#[derive(Serialize)]
struct InfoOut<'a> {
    name: &'a str,
    config: &'a BTreeMap<String, String>,
    tasks: Vec<TaskIdOut<'a>>,
    #[serde(rename = "type")]
    type_: &'static str,
}
