//! What a fault case measured, written to `target/reliability/<case>.json`, and
//! `docs/RELIABILITY.md` rendered from every such record (so the table is the last run's).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct Record {
    /// Sorts the table: `real-a`, ..., `emulator-d`, ...
    pub case: String,
    /// The test binary that wrote it (`faults_real`, `faults_emulator`).
    pub suite: String,
    /// "real workers" or "emulator".
    pub connect: String,
    pub fault: String,
    /// KafkaConnectors the case applied (and expects converged).
    pub connectors: usize,
    /// How long the fault lasted (s).
    pub fault_seconds: f64,
    /// From the fault's end to every connector converged (s); `None`: never converged.
    pub converged_after: Option<f64>,
    /// The whole case, setup and cleanup included (s).
    pub case_seconds: f64,
    /// Creates Connect answered 201 (each connector created once: equal to `connectors`).
    pub creates: u64,
    /// Creates Connect answered 409 (already exists, or a rebalance; never a new connector).
    pub creates_refused: u64,
    /// Creates answered 201 beyond one per connector (a connector created twice).
    pub duplicate_creates: u64,
    /// DELETE requests for the case's connectors (all of them should exist).
    pub deletes: u64,
    /// Lines with `panicked` in the operator logs of the case.
    pub panics: u64,
    /// Ready condition reasons seen on the KafkaConnectors while the fault lasted: reason →
    /// the most connectors that showed it in one sample.
    pub conditions: BTreeMap<String, usize>,
    /// One Ready message per reason seen during the fault (trimmed).
    pub messages: BTreeMap<String, String>,
    /// What explained the fault (the expected reasons seen, or the evidence recorded instead).
    pub explained: String,
    /// Other figures of the case (kills, leader, operator errors by reason...).
    pub notes: Vec<String>,
    /// "pass", or "FAIL: why".
    pub outcome: String,
    pub date: String,
    pub commit: String,
}

impl Record {
    pub fn failures(&self) -> Vec<String> {
        let mut f = vec![];
        if self.converged_after.is_none() {
            f.push("not every connector converged".to_string());
        }
        if self.duplicate_creates > 0 {
            f.push(format!("{} duplicate creates", self.duplicate_creates));
        }
        if self.deletes > 0 {
            f.push(format!("{} deletes", self.deletes));
        }
        if self.panics > 0 {
            f.push(format!("{} panics", self.panics));
        }
        if self.explained.is_empty() {
            f.push("no condition explained the fault".to_string());
        }
        f
    }
}

pub fn dir() -> PathBuf {
    let d = super::common::repo_root().join("target/reliability");
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn write(r: &Record) {
    let path = dir().join(format!("{}.json", r.case));
    std::fs::write(&path, serde_json::to_string_pretty(r).unwrap()).unwrap();
}

/// A suite's own wall time, for the "time added to make test" line.
pub fn write_suite(suite: &str, seconds: f64) {
    let v = serde_json::json!({"suite": suite, "seconds": seconds, "date": now()});
    std::fs::write(dir().join(format!("suite-{suite}.json")), v.to_string()).unwrap();
}

pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

pub fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(super::common::repo_root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn secs(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The top of `docs/RELIABILITY.md`: what the suite does and what it counts.
const INTRO: &str = "# Reliability\n\n\
<!-- Written by tests/faults_real.rs and tests/faults_emulator.rs (make test) from\n\
     target/reliability/*.json: do not edit, the next run rewrites it. -->\n\n\
The fault suite of issue 12 (point 6), as its last run measured it. Each case applies\n\
KafkaConnectors (MockSourceConnector, one task), injects one fault, and ends when every\n\
connector has converged: Ready at its current generation, and Connect lists exactly the\n\
case's connectors, each RUNNING with its task RUNNING (and, where the case changed configs,\n\
with the config of the last generation). The real-worker cases run on the local stack's two\n\
Connect 4.3.1 workers (one group, the operator talks to worker 1); the 500-connector cases on\n\
the Connect emulator. The operator is the debug build `make test` uses, `--poll-interval 2s`,\n\
other flags at their defaults.\n\n\
What is counted:\n\n\
- **creates**: `POST /connectors` answered 201 / 409. Real workers: the workers' own REST\n\
  request log (Jetty, `\"POST /connectors HTTP/1.1\" 201`) over the case's time window, requests\n\
  a worker forwarded to the leader (`?forward=`) left out, every restart's log kept\n\
  (`hack/stack.sh` appends it to `connect-N.previous.log`); the emulator: `/__admin/stats`.\n\
  Connect refuses to create a name twice (409), so a connector answered 201 twice was deleted in\n\
  between: **duplicate creates** are the 201s beyond one per connector. A 409 is a create\n\
  Connect refused (the connector already existed after a create whose answer was lost, or a\n\
  rebalance), never a second connector.\n\
- **deletes**: `DELETE /connectors/<name>` of the case's connectors, all of which should exist,\n\
  in the same logs (the emulator: every `delete` request).\n\
- **panics**: lines containing `panicked` in the operator logs of the case (every operator\n\
  process of it, `target/test-logs/`).\n\
- **conditions during the fault**: the KafkaConnectors' `Ready` reasons, sampled every second\n\
  while the fault lasted, with the most connectors showing each reason in one sample;\n\
  `(no condition yet)` counts KafkaConnectors without any `Ready` condition (no status written\n\
  yet). A case passes when a reason naming the fault was seen (`Rebalancing`,\n\
  `ConnectUnavailable`, `ConnectServerError` for worker faults); for the apiserver and the\n\
  operator itself, which no condition can report while they are down, the evidence recorded\n\
  instead is named under \"explained by\".\n\
- **converged after**: from the fault's end (worker serving again, apiserver serving, the last\n\
  operator started, Connect answering) to every connector converged.\n\n";

/// Renders `docs/RELIABILITY.md` from every record in `target/reliability/`.
pub fn render() {
    let (records, suites) = read_all();
    let mut md = String::from(INTRO);
    md.push_str(&table(&records));
    md.push_str(&per_case(&records));
    md.push_str(&time_added(&suites));
    std::fs::write(super::common::repo_root().join("docs/RELIABILITY.md"), md).unwrap();
}

/// The case records and the suites' wall times in `target/reliability/`, sorted.
fn read_all() -> (Vec<Record>, Vec<serde_json::Value>) {
    let mut records: Vec<Record> = vec![];
    let mut suites: Vec<serde_json::Value> = vec![];
    for entry in std::fs::read_dir(dir()).unwrap().flatten() {
        let path = entry.path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("suite-") {
            suites.extend(serde_json::from_str::<serde_json::Value>(&text).ok());
        } else if name.ends_with(".json") {
            records.extend(serde_json::from_str::<Record>(&text).ok());
        }
    }
    records.sort_by(|a, b| a.case.cmp(&b.case));
    suites.sort_by(|a, b| a["suite"].as_str().cmp(&b["suite"].as_str()));
    (records, suites)
}

/// One row per case.
fn table(records: &[Record]) -> String {
    let mut md = String::new();
    md.push_str("| case | fault | connectors | fault lasted (s) | converged after (s) | creates 201 / 409 | duplicate creates | deletes | panics | conditions during the fault | outcome |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in records {
        let conditions = if r.conditions.is_empty() {
            "none sampled".to_string()
        } else {
            r.conditions
                .iter()
                .map(|(k, v)| format!("{k} ({v})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} / {} | {} | {} | {} | {} | {} |\n",
            r.case,
            r.fault.replace('|', "/"),
            r.connectors,
            secs(r.fault_seconds),
            r.converged_after.map_or("never".to_string(), secs),
            r.creates,
            r.creates_refused,
            r.duplicate_creates,
            r.deletes,
            r.panics,
            conditions,
            r.outcome
        ));
    }
    md
}

/// What explained each case's fault, the messages seen, its notes.
fn per_case(records: &[Record]) -> String {
    let mut md = String::from("\n## Per case\n\n");
    for r in records {
        md.push_str(&format!(
            "**{}** ({}, {}; {} at {}; the case took {} s)\n\n",
            r.case,
            r.connect,
            r.suite,
            r.date,
            r.commit,
            secs(r.case_seconds)
        ));
        let explained = if r.explained.is_empty() {
            "nothing: no Ready reason naming the fault was seen while it lasted"
        } else {
            r.explained.as_str()
        };
        md.push_str(&format!("- explained by: {explained}\n"));
        for (reason, msg) in &r.messages {
            md.push_str(&format!("- `{reason}`: {}\n", msg.replace('|', "/")));
        }
        for n in &r.notes {
            md.push_str(&format!("- {n}\n"));
        }
        md.push('\n');
    }
    md
}

/// The suites' wall times: what they add to `make test`.
fn time_added(suites: &[serde_json::Value]) -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut md = String::from("## Time added to `make test`\n\n");
    let total: f64 = suites.iter().filter_map(|s| s["seconds"].as_f64()).sum();
    for s in suites {
        md.push_str(&format!(
            "- `cargo test --test {}`: {} s ({})\n",
            s["suite"].as_str().unwrap_or_default(),
            secs(s["seconds"].as_f64().unwrap_or_default()),
            s["date"].as_str().unwrap_or_default()
        ));
    }
    md.push_str(&format!(
        "\nIn all {:.1} min on {cores} cores (a suite's time is written only when it ran all its \
cases); cargo runs test binaries one after another, so this is added to `make test`'s \
integration tests as it is. `KCO_FAULT_CASES=none cargo test --test faults_real` renders this \
file again from `target/reliability/` without running a case.\n",
        total / 60.0
    ));
    md
}
