//! The deadlines of a connector and the transitions they apply: it starts, a pause,
//! resume or stop takes effect, its tasks are generated, a task (re)starts or fails.

use std::time::{Duration, Instant};

use super::connector::{Connector, State, Target, Task, Timings};
use crate::plugins::{self, Failure};

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
    pub(super) fn advance(&mut self, now: Instant, timings: &Timings) -> Option<Instant> {
        loop {
            match self.next_due() {
                Some((at, due)) if at <= now => self.apply(due, at, timings),
                next => return next.map(|n| n.0),
            }
        }
    }

    fn apply(&mut self, due: Due, at: Instant, timings: &Timings) {
        match due {
            Due::Start => self.started(at, timings),
            Due::Applied => self.target_applied(at, timings),
            Due::Tasks => self.generate_tasks(at),
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

    /// The connector (re)started at `at`, in its target state.
    fn started(&mut self, at: Instant, timings: &Timings) {
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

    /// A pause, resume or stop takes effect at `at`.
    fn target_applied(&mut self, at: Instant, timings: &Timings) {
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

    /// The task configs generated at `at`, and every task started.
    fn generate_tasks(&mut self, at: Instant) {
        self.tasks_at = None;
        // Stopped, not started or failed: a connector that does not run makes no tasks.
        if self.target == Target::Stopped || matches!(self.state, None | Some(State::Failed)) {
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
}

fn failure_at(failure: Failure, at: Instant) -> (Instant, String) {
    match failure {
        Failure::After(ms, trace) => (at + Duration::from_millis(ms), trace.to_string()),
        Failure::AtStart(trace) => (at, trace.to_string()),
    }
}
