//! The connectors and their asynchronous lifecycle.
//!
//! Every pending transition is a deadline on the connector (the connector starts, a pause
//! takes effect, task configs are generated, a task restarts or fails). `Store::settle`
//! applies the deadlines that are due, in time order, then queues the next one; a single
//! scheduler task (`run_scheduler`) wakes at the earliest queued deadline. Each connector
//! keeps its status and info answers serialized, so the bulk `expand` answer is a
//! concatenation whatever the number of connectors.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::plugins::{self, Failure, PluginId};

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

    fn of(target: Target) -> State {
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
    fn connector_start(&self) -> Duration {
        Duration::from_millis(self.connector_start_ms)
    }
    fn task_start(&self) -> Duration {
        Duration::from_millis(self.task_start_ms)
    }
    fn state_change(&self) -> Duration {
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
    start_at: Option<Instant>,
    fail_at: Option<(Instant, String)>,
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
    start_at: Option<Instant>,
    applied_at: Option<Instant>,
    tasks_at: Option<Instant>,
    fail_at: Option<(Instant, String)>,
    /// The earliest deadline queued for it (so that one is not queued twice).
    queued: Option<Instant>,
    name_json: String,
    status_json: Option<String>,
    info_json: String,
}

#[derive(Clone, Copy)]
enum Due {
    Start,
    Applied,
    Tasks,
    Fail,
    TaskStart(usize),
    TaskFail(usize),
}

impl Connector {
    fn new(
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

    /// The earliest deadline, if any, and what it is.
    fn next_due(&self) -> Option<(Instant, Due)> {
        let mut next: Option<(Instant, Due)> = None;
        let mut consider = |at: Option<Instant>, due: Due| {
            if let Some(at) = at
                && next.is_none_or(|(n, _)| at < n)
            {
                next = Some((at, due));
            }
        };
        consider(self.start_at, Due::Start);
        consider(self.applied_at, Due::Applied);
        consider(self.tasks_at, Due::Tasks);
        // A failure only strikes what is running (a paused mock fails once resumed).
        if self.state == Some(State::Running) {
            consider(self.fail_at.as_ref().map(|f| f.0), Due::Fail);
        }
        for (i, t) in self.tasks.iter().enumerate() {
            consider(t.start_at, Due::TaskStart(i));
            if t.state == State::Running {
                consider(t.fail_at.as_ref().map(|f| f.0), Due::TaskFail(i));
            }
        }
        next
    }

    /// Applies every deadline due at `now`; returns the next one.
    fn advance(&mut self, now: Instant, timings: &Timings) -> Option<Instant> {
        loop {
            match self.next_due() {
                Some((at, due)) if at <= now => self.apply(due, at, timings),
                next => return next.map(|n| n.0),
            }
        }
    }

    fn apply(&mut self, due: Due, at: Instant, timings: &Timings) {
        match due {
            Due::Start => {
                self.start_at = None;
                self.state = Some(State::of(self.target));
                self.trace = None;
                self.fail_at = None;
                if self.target == Target::Running {
                    if let Some(failure) = plugins::connector_failure(self.plugin, &self.config) {
                        self.fail_at = Some(failure_at(failure, at));
                    }
                    if self.tasks.is_empty() && self.tasks_at.is_none() {
                        self.tasks_at = Some(at + timings.task_start());
                    }
                }
            }
            Due::Applied => {
                self.applied_at = None;
                match (self.target, self.state) {
                    // Not started yet: it starts in its target state.
                    (_, None) => {}
                    (Target::Stopped, _) => {
                        self.state = Some(State::Stopped);
                        self.trace = None;
                        self.tasks.clear();
                        self.tasks_at = None;
                    }
                    (Target::Paused, Some(state)) => {
                        // A FAILED connector cannot be paused (Connect only logs it).
                        if state != State::Failed {
                            self.state = Some(State::Paused);
                        }
                        for t in &mut self.tasks {
                            if t.state != State::Failed {
                                t.state = State::Paused;
                            }
                        }
                    }
                    (Target::Running, Some(state)) => {
                        if matches!(state, State::Paused | State::Stopped) {
                            self.state = Some(State::Running);
                        }
                        for t in &mut self.tasks {
                            if t.state == State::Paused {
                                t.state = State::Running;
                            }
                        }
                        if self.tasks.is_empty() && self.tasks_at.is_none() {
                            self.tasks_at = Some(at + timings.task_start());
                        }
                    }
                }
            }
            Due::Tasks => {
                self.tasks_at = None;
                // Stopped, not started or failed: a connector that does not run makes no tasks.
                if self.target == Target::Stopped
                    || matches!(self.state, None | Some(State::Failed))
                {
                    return;
                }
                let count = plugins::task_count(self.plugin, &self.config);
                self.tasks = (0..count)
                    .map(|id| Task {
                        id,
                        state: State::Running,
                        trace: None,
                        start_at: None,
                        fail_at: None,
                    })
                    .collect();
                for i in 0..count {
                    self.task_started(i, at);
                }
                self.topics = plugins::topics(self.plugin, &self.config);
            }
            Due::Fail => {
                if let Some((_, trace)) = self.fail_at.take() {
                    self.state = Some(State::Failed);
                    self.trace = Some(trace);
                }
            }
            Due::TaskStart(i) => {
                self.tasks[i].start_at = None;
                self.task_started(i, at);
            }
            Due::TaskFail(i) => {
                let t = &mut self.tasks[i];
                if let Some((_, trace)) = t.fail_at.take() {
                    t.state = State::Failed;
                    t.trace = Some(trace);
                }
            }
        }
    }

    /// Task `i` (re)started at `at`: RUNNING or PAUSED, and its failure scheduled.
    fn task_started(&mut self, i: usize, at: Instant) {
        let failure = plugins::task_failure(self.plugin, &self.config);
        let paused = self.target == Target::Paused;
        let t = &mut self.tasks[i];
        t.state = if paused {
            State::Paused
        } else {
            State::Running
        };
        t.trace = None;
        t.fail_at = None;
        match failure {
            Some(Failure::AtStart(trace)) => {
                t.state = State::Failed;
                t.trace = Some(trace.to_string());
            }
            Some(f @ Failure::After(..)) => t.fail_at = Some(failure_at(f, at)),
            None => {}
        }
    }

    fn refresh(&mut self, worker: &Worker) {
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

fn failure_at(failure: Failure, at: Instant) -> (Instant, String) {
    match failure {
        Failure::After(ms, trace) => (at + Duration::from_millis(ms), trace.to_string()),
        Failure::AtStart(trace) => (at, trace.to_string()),
    }
}

/// Which parts a restart with flags restarts.
pub struct RestartPlan {
    pub connector: bool,
    pub tasks: Vec<usize>,
}

pub struct Store {
    pub connectors: BTreeMap<String, Connector>,
    pub worker: Worker,
    pub timings: Timings,
    queue: BinaryHeap<Reverse<(Instant, String)>>,
}

/// The store behind its lock, and the scheduler's wake-up.
#[derive(Clone)]
pub struct Shared {
    pub store: Arc<RwLock<Store>>,
    pub wake: Arc<Notify>,
}

impl Shared {
    pub fn new(worker: Worker, timings: Timings) -> Self {
        Shared {
            store: Arc::new(RwLock::new(Store {
                connectors: BTreeMap::new(),
                worker,
                timings,
                queue: BinaryHeap::new(),
            })),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the store; the scheduler is woken afterwards for any new deadline.
    pub fn write<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let out = {
            let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        };
        self.wake.notify_one();
        out
    }
}

/// Applies due deadlines as they come; runs until the process ends.
pub async fn run_scheduler(shared: Shared) {
    loop {
        let next = {
            let mut store = shared.store.write().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            while let Some(Reverse((at, _))) = store.queue.peek() {
                if *at > now {
                    break;
                }
                let Some(Reverse((at, name))) = store.queue.pop() else {
                    break;
                };
                if let Some(c) = store.connectors.get_mut(&name)
                    && c.queued == Some(at)
                {
                    c.queued = None;
                }
                store.settle(&name, now);
            }
            store.queue.peek().map(|Reverse((at, _))| *at)
        };
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = shared.wake.notified() => {}
                }
            }
            None => shared.wake.notified().await,
        }
    }
}

impl Store {
    /// Applies what is due for `name`, refreshes its answers and queues its next deadline.
    pub fn settle(&mut self, name: &str, now: Instant) {
        let timings = self.timings;
        let Some(c) = self.connectors.get_mut(name) else {
            return;
        };
        let next = c.advance(now, &timings);
        c.refresh(&self.worker);
        if let Some(at) = next
            && c.queued.is_none_or(|queued| at < queued)
        {
            c.queued = Some(at);
            self.queue.push(Reverse((at, name.to_string())));
        }
    }

    pub fn get(&self, name: &str) -> Option<&Connector> {
        self.connectors.get(name)
    }

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
        let worker_plan = {
            let c = self.connectors.get_mut(name)?;
            let state = c.state.unwrap_or(State::Unassigned);
            let plan = RestartPlan {
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
            };
            let planned: Vec<(usize, State, Option<String>)> = c
                .tasks
                .iter()
                .map(|t| {
                    let state = if plan.tasks.contains(&t.id) {
                        State::Restarting
                    } else {
                        t.state
                    };
                    (t.id, state, t.trace.clone())
                })
                .collect();
            let connector_state = if plan.connector {
                State::Restarting
            } else {
                state
            };
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
            (connector_state, planned)
        };
        let (connector_state, planned) = worker_plan;
        let c = self.connectors.get(name)?;
        let tasks: Vec<(usize, State, Option<&str>)> = planned
            .iter()
            .map(|(id, s, trace)| (*id, *s, trace.as_deref()))
            .collect();
        let plan = c.status_with(&self.worker, connector_state, &tasks);
        self.settle(name, now);
        Some(plan)
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

    /// `GET /connectors?expand=...`: the answers are already serialized.
    pub fn expanded(&self, status: bool, info: bool) -> String {
        let mut out = String::with_capacity(self.connectors.len() * 600 + 2);
        out.push('{');
        let mut first = true;
        for c in self.connectors.values() {
            let status_json = c.status_json();
            if status && status_json.is_none() {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&c.name_json);
            out.push_str(":{");
            if let (true, Some(s)) = (status, status_json) {
                out.push_str("\"status\":");
                out.push_str(s);
                if info {
                    out.push(',');
                }
            }
            if info {
                out.push_str("\"info\":");
                out.push_str(&c.info_json);
            }
            out.push('}');
        }
        out.push('}');
        out
    }

    pub fn names(&self) -> String {
        let names: Vec<&str> = self.connectors.keys().map(String::as_str).collect();
        serde_json::to_string(&names).expect("strings serialize")
    }
}
