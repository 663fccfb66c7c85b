//! One fault case: its scenario (namespace, operator, cluster `local`), the connectors it
//! applies, the operator processes it ran, and the record it ends with.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::common::{Connect, Operator, Scenario, delete_all};
use super::logs;
use super::observe::{self, Sampler, Seen};
use super::record::{self, Record};

pub struct Case {
    pub id: &'static str,
    pub suite: &'static str,
    pub connect_kind: &'static str,
    pub fault: String,
    pub s: Scenario,
    /// KafkaConnector names; Connect names are `{prefix}{name}`.
    pub names: Vec<String>,
    pub prefix: String,
    pub t0: Instant,
    /// The start of the case in the workers' log time (see `observe::log_time`).
    pub from: String,
    /// Every operator log of the case (one per process).
    pub op_logs: Vec<PathBuf>,
    pub notes: Vec<String>,
}

/// Creates, refused creates and deletes, as Connect saw them.
#[derive(Default, Debug)]
pub struct Counts {
    pub creates: u64,
    pub refused: u64,
    pub deletes: u64,
}

impl Case {
    pub fn new(
        id: &'static str,
        suite: &'static str,
        connect_kind: &'static str,
        fault: &str,
        s: Scenario,
    ) -> Self {
        Case {
            id,
            suite,
            connect_kind,
            fault: fault.to_string(),
            prefix: format!("{}-", s.ns),
            op_logs: vec![s.operator.log.clone()],
            s,
            names: vec![],
            t0: Instant::now(),
            from: logs::log_time(),
            notes: vec![],
        }
    }

    /// Applies KafkaConnectors `c{first:03}`.. (`count` of them), 16 at a time.
    pub async fn apply(&mut self, first: usize, count: usize) {
        let names: Vec<String> = (first..first + count).map(|i| format!("c{i:03}")).collect();
        observe::apply_all(&self.s.connectors, &self.s.ns, &names).await;
        self.names.extend(names);
    }

    /// SIGKILLs the operator and starts a new one (same namespace and flags).
    pub async fn kill_operator(&mut self) {
        self.s.operator.kill().await;
        self.s.operator = Operator::start(&self.s.ns, &[]).await;
        self.op_logs.push(self.s.operator.log.clone());
    }

    pub fn note(&mut self, n: impl Into<String>) {
        let n = n.into();
        println!("{}: {n}", self.id);
        self.notes.push(n);
    }

    /// How many of the case's connectors Connect lists.
    pub async fn in_connect(&self) -> usize {
        observe::connect_count(&self.s.connect, &self.prefix).await
    }

    pub async fn ready(&self) -> usize {
        observe::ready_count(&self.s.connectors).await
    }

    /// Waits until every applied connector has converged (`timeout`), noting the reasons
    /// seen meanwhile (`when`: "after the fault", ...); the time it took.
    pub async fn converge(&mut self, when: &str, timeout: Duration) -> Option<Duration> {
        let sampler = Sampler::start(&self.s.connectors);
        let took = observe::wait_converged(
            &self.s.connectors,
            &self.s.connect,
            &self.prefix,
            self.names.len(),
            timeout,
        )
        .await;
        let seen = sampler.stop();
        self.note(format!("while converging {when}: {}", reasons(&seen)));
        if took.is_none() {
            self.diagnose().await;
        }
        took
    }

    /// Notes the last operator process's reconcile errors by reason.
    pub async fn note_errors(&mut self) {
        let errors = observe::operator_errors(&self.s.operator).await;
        if !errors.is_empty() {
            self.note(format!(
                "kco_reconcile_errors_total by reason (the last operator process): {errors:?}"
            ));
        }
    }

    /// The record: `counts` from Connect, panics from the operator logs, `explained` from the
    /// reasons `seen` during the fault (any of `expected`) unless `evidence` says otherwise.
    pub fn record(
        &self,
        fault_seconds: f64,
        converged: Option<Duration>,
        counts: Counts,
        seen: &Seen,
        expected: &[&str],
        evidence: Option<String>,
    ) -> Record {
        let mut r = Record {
            case: self.id.to_string(),
            suite: self.suite.to_string(),
            connect: self.connect_kind.to_string(),
            fault: self.fault.clone(),
            connectors: self.names.len(),
            fault_seconds,
            converged_after: converged.map(|d| d.as_secs_f64()),
            case_seconds: self.t0.elapsed().as_secs_f64(),
            creates: counts.creates,
            creates_refused: counts.refused,
            duplicate_creates: counts.creates.saturating_sub(self.names.len() as u64),
            deletes: counts.deletes,
            panics: logs::panics(&self.op_logs),
            conditions: seen.reasons.clone(),
            messages: seen.messages.clone(),
            explained: explained(seen, expected, evidence),
            notes: self.notes.clone(),
            outcome: String::new(),
            date: record::now(),
            commit: record::commit(),
        };
        let retried = logs::retries(&self.op_logs);
        if !retried.is_empty() {
            r.notes.push(format!(
                "requests the operator retried (its log), by Connect's error: {retried:?}"
            ));
        }
        if seen.unanswered > 0 {
            r.notes.push(format!(
                "{} of {} samples during the fault got no answer from the apiserver",
                seen.unanswered, seen.samples
            ));
        }
        let failures = r.failures();
        r.outcome = if failures.is_empty() {
            "pass".to_string()
        } else {
            format!("FAIL: {}", failures.join(", "))
        };
        r
    }

    /// Deletes the case's KafkaConnectors (the operator deletes their connectors), after the
    /// record was taken; a new operator does it if the case's one no longer answers.
    pub async fn cleanup(mut self, timeout: Duration) {
        if !self.operator_answers().await {
            self.kill_operator().await;
        }
        delete_all(&self.s.connectors, timeout).await;
    }

    /// The operator's `/healthz` answers (whatever it says) within 5 s.
    pub async fn operator_answers(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(5), self.s.operator.get("/healthz"))
            .await
            .is_ok_and(|r| r.is_some())
    }

    /// When the case did not converge: whether the operator still answers, and if not, its
    /// threads' stacks (gdb, when installed) in `target/reliability/<case>-stacks.txt`, the
    /// operator's own frames noted.
    pub async fn diagnose(&mut self) {
        if self.operator_answers().await {
            self.note("the operator still answered /healthz when the case gave up");
            return;
        }
        let pid = self.s.operator.pid().to_string();
        let out = tokio::time::timeout(
            Duration::from_secs(90),
            tokio::process::Command::new("gdb")
                .args(["-p", &pid, "-batch", "-ex", "thread apply all bt 40"])
                .output(),
        )
        .await;
        let text = match out {
            Ok(Ok(o)) => String::from_utf8_lossy(&o.stdout).to_string(),
            _ => String::new(),
        };
        let path = record::dir().join(format!("{}-stacks.txt", self.id));
        std::fs::write(&path, &text).unwrap();
        let frames: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("Thread ") || l.contains(" at src/"))
            .map(|l| {
                l.rsplit_once(" in ")
                    .map_or(l, |(_, f)| f)
                    .chars()
                    .take(160)
                    .collect()
            })
            .collect();
        self.note(format!(
            "the operator (pid {pid}) no longer answered /healthz: its threads' stacks are in target/reliability/{}-stacks.txt; its own frames: {}",
            self.id,
            frames.join(" | ")
        ));
    }

    pub fn connect(&self) -> &Connect {
        &self.s.connect
    }
}

/// What explained the fault: `evidence` when the case has some, else the reasons of
/// `expected` that were `seen` while it lasted (empty: nothing did).
fn explained(seen: &Seen, expected: &[&str], evidence: Option<String>) -> String {
    let shown: Vec<String> = expected
        .iter()
        .filter_map(|r| {
            seen.reasons
                .get(*r)
                .map(|n| format!("`{r}` ({n} connectors)"))
        })
        .collect();
    match evidence {
        Some(e) => e,
        None if !shown.is_empty() => {
            format!("Ready=False with {} while it lasted", shown.join(", "))
        }
        None => String::new(),
    }
}

/// A dead operator cannot write why it is dead: what the conditions must say meanwhile is
/// that the connectors are not converged yet (never Ready before Connect runs them). A
/// connector with no condition yet says so too: its first status waits up to 3 s for Ready
/// (`report::first_status_held`), and an operator killed every 5 s often dies within them.
pub fn explained_by_progress(seen: &Seen) -> Option<String> {
    let progress: Vec<String> = [
        "Starting",
        "Progressing",
        "TasksStarting",
        super::observe::NO_CONDITION,
    ]
    .iter()
    .filter_map(|r| seen.reasons.get(*r).map(|n| format!("`{r}` ({n})")))
    .collect();
    (!progress.is_empty()).then(|| {
        format!(
            "a killed operator cannot write a condition; the connectors not yet converged said so meanwhile: {}",
            progress.join(", ")
        )
    })
}

/// "Reason (n), ..." of what a sampler saw.
pub fn reasons(seen: &Seen) -> String {
    if seen.reasons.is_empty() {
        return "none sampled".to_string();
    }
    seen.reasons
        .iter()
        .map(|(k, v)| format!("{k} ({v})"))
        .collect::<Vec<_>>()
        .join(", ")
}
