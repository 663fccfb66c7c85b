//! What the endpoints ask of the store: create, reconfigure, delete, pause / resume / stop,
//! restart, and the admin's injected failures. Each one sets deadlines, then settles.

use std::collections::BTreeMap;
use std::time::Instant;

use super::connector::{Connector, State, Target, Worker};
use super::shared::Store;
use crate::plugins::PluginId;

/// Which parts a restart with flags restarts.
pub struct RestartPlan {
    pub connector: bool,
    pub tasks: Vec<usize>,
}

impl RestartPlan {
    fn of(c: &Connector, include_tasks: bool, only_failed: bool) -> Self {
        let state = c.state.unwrap_or(State::Unassigned);
        RestartPlan {
            connector: !only_failed || state == State::Failed,
            tasks: if include_tasks {
                c.tasks
                    .iter()
                    .filter(|t| !only_failed || t.state == State::Failed)
                    .map(|t| t.id)
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The `ConnectorStateInfo` answered: RESTARTING where the plan restarts.
    fn answer(&self, c: &Connector, worker: &Worker) -> String {
        let connector_state = if self.connector {
            State::Restarting
        } else {
            c.state.unwrap_or(State::Unassigned)
        };
        let tasks: Vec<(usize, State, Option<&str>)> = c
            .tasks
            .iter()
            .map(|t| {
                let state = if self.tasks.contains(&t.id) {
                    State::Restarting
                } else {
                    t.state
                };
                (t.id, state, t.trace.as_deref())
            })
            .collect();
        c.status_with(worker, connector_state, &tasks)
    }
}

impl Store {
    pub fn create(
        &mut self,
        name: &str,
        plugin: PluginId,
        config: BTreeMap<String, String>,
        target: Target,
    ) -> String {
        let now = Instant::now();
        let mut c = Connector::new(name.to_string(), plugin, config, target);
        c.start_at = Some(now + self.timings.connector_start());
        let info = c.info();
        self.connectors.insert(name.to_string(), c);
        self.settle(name, now);
        info
    }

    /// A new config for an existing connector: it restarts with it, keeping its target state;
    /// its tasks are regenerated. Returns the info answered (the tasks still the old ones).
    pub fn update_config(
        &mut self,
        name: &str,
        plugin: PluginId,
        config: BTreeMap<String, String>,
    ) -> Option<String> {
        let now = Instant::now();
        let timings = self.timings;
        let c = self.connectors.get_mut(name)?;
        c.plugin = plugin;
        c.config = config;
        let info = c.info();
        if c.state.is_some() {
            c.start_at = Some(now + timings.connector_start());
            if c.target != Target::Stopped {
                c.tasks_at = Some(now + timings.connector_start() + timings.task_start());
            }
        }
        self.settle(name, now);
        Some(info)
    }

    pub fn delete(&mut self, name: &str) -> bool {
        self.connectors.remove(name).is_some()
    }

    /// pause / resume / stop. Stop drops the task configs at once; the states follow.
    pub fn set_target(&mut self, name: &str, target: Target) -> bool {
        let now = Instant::now();
        let timings = self.timings;
        let Some(c) = self.connectors.get_mut(name) else {
            return false;
        };
        c.target = target;
        c.applied_at = Some(now + timings.state_change());
        if target == Target::Stopped {
            c.tasks.clear();
            c.tasks_at = None;
        }
        self.settle(name, now);
        true
    }

    /// `POST .../restart`: with flags, the plan (states RESTARTING where it applies);
    /// without, the connector alone. `None` if the connector is unknown.
    pub fn restart(
        &mut self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Option<String> {
        let now = Instant::now();
        let timings = self.timings;
        let c = self.connectors.get_mut(name)?;
        let plan = RestartPlan::of(c, include_tasks, only_failed);
        // The answer shows the plan before the restart takes effect (traces kept).
        let answer = plan.answer(c, &self.worker);
        if plan.connector && c.state.is_some() {
            c.state = Some(State::Restarting);
            c.fail_at = None;
            c.start_at = Some(now + timings.connector_start());
        }
        for t in &mut c.tasks {
            if plan.tasks.contains(&t.id) {
                t.state = State::Restarting;
                t.fail_at = None;
                t.start_at = Some(now + timings.task_start());
            }
        }
        self.settle(name, now);
        Some(answer)
    }

    /// `POST .../tasks/{t}/restart`. `None`: no such connector; `Some(false)`: no such task.
    pub fn restart_task(&mut self, name: &str, task: usize) -> Option<bool> {
        let now = Instant::now();
        let timings = self.timings;
        let c = self.connectors.get_mut(name)?;
        let Some(t) = c.tasks.iter_mut().find(|t| t.id == task) else {
            return Some(false);
        };
        t.state = State::Restarting;
        t.fail_at = None;
        t.start_at = Some(now + timings.task_start());
        self.settle(name, now);
        Some(true)
    }

    /// Admin: connector (task `None`) or task FAILED now, with `trace`. False if absent.
    pub fn fail(&mut self, name: &str, task: Option<usize>, trace: String) -> bool {
        let now = Instant::now();
        let Some(c) = self.connectors.get_mut(name) else {
            return false;
        };
        match task {
            None => {
                if c.state.is_none() {
                    return false;
                }
                c.state = Some(State::Failed);
                c.trace = Some(trace);
                c.fail_at = None;
                c.start_at = None;
            }
            Some(id) => {
                let Some(t) = c.tasks.iter_mut().find(|t| t.id == id) else {
                    return false;
                };
                t.state = State::Failed;
                t.trace = Some(trace);
                t.fail_at = None;
                t.start_at = None;
            }
        }
        self.settle(name, now);
        true
    }
}
