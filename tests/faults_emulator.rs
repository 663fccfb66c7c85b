//! The fault suite's SIGKILL and outage cases at 500 connectors (issue 12, point 6), on the
//! Connect emulator: two real workers on 2 cores take over 10 minutes for 200 connectors.
//! The operator and the KafkaConnectors are on the real kube-apiserver of the local stack.
//!
//! - `emulator-d`: the operator SIGKILLed 5 times (every 5 s) during a rollout of 500;
//! - `emulator-e`: Connect down for 3 minutes (every request's connection reset; 50
//!   KafkaConnectors applied meanwhile), then back.
//!
//! Counted on the emulator (`/__admin/stats`: requests by endpoint and answer); written to
//! `target/reliability/<case>.json` and rendered into `docs/RELIABILITY.md` with the real-stack
//! cases (`tests/faults_real.rs`). `KCO_FAULT_CASES=emulator-d` runs one.

#[path = "faults_parts/case.rs"]
mod case;
mod common;
#[path = "faults_parts/logs.rs"]
mod logs;
#[path = "faults_parts/observe.rs"]
mod observe;
#[path = "faults_parts/record.rs"]
mod record;
#[path = "faults_parts/suite.rs"]
mod suite;

use std::time::{Duration, Instant};

use case::{Case, Counts, explained_by_progress};
use common::{Connect, Emulator, Scenario};
use observe::{Sampler, Seen};
use serde_json::json;
use suite::Suite;

const SUITE: Suite = Suite {
    name: "faults_emulator",
    kind: "emulator",
    cases: &CASES,
    restores_stack: false,
};
const N: usize = 500;
const CONVERGE: Duration = Duration::from_secs(360);

const CASES: [(&str, &str); 2] = [
    (
        "emulator-d",
        "the operator SIGKILLed 5 times, every 5 s, during a rollout of 500",
    ),
    (
        "emulator-e",
        "Connect down for 3 min (connections reset; 50 KafkaConnectors applied meanwhile), then back",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_suite_on_the_emulator() {
    SUITE.run(run).await;
}

async fn run(id: &'static str, fault: &'static str) -> record::Record {
    // A little latency, as a network has: a SIGKILL then often lands while a request is out.
    let emu = Emulator::start(&["--latency-ms", "5", "--latency-jitter-ms", "10"]).await;
    let mut s = Scenario::without_cluster(&format!("fault-emu-{}", &id[9..]), &[]).await;
    s.apply_cluster(json!({"url": emu.url})).await;
    s.connect = Connect::new(emu.url.clone());
    let c = Case::new(id, SUITE.name, SUITE.kind, fault, s);
    match id {
        "emulator-d" => operator_killed(c, &emu).await,
        _ => connect_down(c, &emu).await,
    }
}

/// Waits until the case converged after the fault (`fault` seconds, `seen` meanwhile), then
/// counts on the emulator; then the KafkaConnectors are deleted.
async fn finish(
    mut c: Case,
    emu: &Emulator,
    (fault, seen): (f64, Seen),
    expected: &[&str],
    evidence: Option<String>,
) -> record::Record {
    let converged = c.converge("after the fault", CONVERGE).await;
    c.note_errors().await;
    let creates = emu.requests("create").await;
    let deletes = emu.requests("delete").await;
    let counts = Counts {
        creates: creates.get("201").copied().unwrap_or(0),
        refused: creates.get("409").copied().unwrap_or(0),
        deletes: deletes.values().sum(),
    };
    let mut r = c.record(fault, converged, counts, &seen, expected, evidence);
    let (_, stats) = emu.admin(reqwest::Method::GET, "stats", None).await;
    r.notes.push(format!(
        "the emulator's requests by endpoint and answer over the case (`error`: reset): {}",
        stats["requests"]
    ));
    // The emulator goes with the case: only the KafkaConnectors' finalizers need the operator.
    c.cleanup(Duration::from_secs(180)).await;
    r
}

/// (d) at 500: five operator processes SIGKILLed mid-rollout.
async fn operator_killed(mut c: Case, emu: &Emulator) -> record::Record {
    c.apply(0, N).await;
    let sampler = Sampler::start(&c.s.connectors);
    let tf = Instant::now();
    let mut at = vec![];
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        at.push(format!("{}/{}", c.in_connect().await, c.ready().await));
        c.kill_operator().await;
    }
    let fault = tf.elapsed().as_secs_f64();
    let seen = sampler.stop();
    c.note(format!(
        "at each kill, connectors in Connect / KafkaConnectors Ready: {}",
        at.join(", ")
    ));
    let evidence = explained_by_progress(&seen);
    finish(c, emu, (fault, seen), &[], evidence).await
}

/// (e) at 500: the emulator resets every connection for 3 minutes.
async fn connect_down(mut c: Case, emu: &Emulator) -> record::Record {
    c.apply(0, N).await;
    let setup = c.converge("before the outage", CONVERGE).await;
    c.note(format!(
        "the first 500 converged in {setup:?} before the outage"
    ));
    let sampler = Sampler::start(&c.s.connectors);
    let tf = Instant::now();
    emu.set_faults(json!([{"kind": "reset"}])).await;
    c.apply(N, 50).await;
    tokio::time::sleep(Duration::from_secs(180)).await;
    let (code, _) = emu.admin(reqwest::Method::DELETE, "faults", None).await;
    assert_eq!(code, 204, "clearing the emulator's faults");
    let fault = tf.elapsed().as_secs_f64();
    let seen = sampler.stop();
    finish(c, emu, (fault, seen), &["ConnectUnavailable"], None).await
}
