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
#[path = "faults_parts/observe.rs"]
mod observe;
#[path = "faults_parts/record.rs"]
mod record;

use std::time::{Duration, Instant};

use case::{Case, Counts};
use common::{Connect, Emulator, Scenario};
use observe::Sampler;
use serde_json::json;

const SUITE: &str = "faults_emulator";
const KIND: &str = "emulator";
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
    let t0 = Instant::now();
    let (mut failed, mut ran) = (vec![], 0);
    for (id, fault) in CASES {
        if !case::selected(id) {
            continue;
        }
        ran += 1;
        println!("=== {id}: {fault}");
        let r = match tokio::spawn(run(id, fault)).await {
            Ok(r) => r,
            Err(e) => case::failed_record(id, SUITE, KIND, fault, &case::panic_message(e)),
        };
        println!(
            "=== {id}: {}\n{}",
            r.outcome,
            serde_json::to_string(&r).unwrap()
        );
        if r.outcome != "pass" {
            failed.push(format!("{id}: {}", r.outcome));
        }
        record::write(&r);
    }
    // `KCO_FAULT_CASES=none` runs nothing and only renders the records there are.
    if ran == CASES.len() {
        record::write_suite(SUITE, t0.elapsed().as_secs_f64());
    }
    record::render();
    assert!(failed.is_empty(), "fault cases failed: {failed:#?}");
}

async fn run(id: &'static str, fault: &'static str) -> record::Record {
    // A little latency, as a network has: a SIGKILL then often lands while a request is out.
    let emu = Emulator::start(&["--latency-ms", "5", "--latency-jitter-ms", "10"]).await;
    let mut s = Scenario::without_cluster(&format!("fault-emu-{}", &id[9..]), &[]).await;
    s.apply_cluster(json!({"url": emu.url})).await;
    s.connect = Connect::new(emu.url.clone());
    let c = Case::new(id, SUITE, KIND, fault, s);
    match id {
        "emulator-d" => operator_killed(c, &emu).await,
        _ => connect_down(c, &emu).await,
    }
}

async fn finish(
    c: Case,
    emu: &Emulator,
    fault_seconds: f64,
    converged: Option<Duration>,
    seen: &observe::Seen,
    expected: &[&str],
    evidence: Option<String>,
) -> record::Record {
    let mut c = c;
    c.note_errors().await;
    let creates = observe::emulator_counts(emu, "create").await;
    let deletes = observe::emulator_counts(emu, "delete").await;
    let counts = Counts {
        creates: creates.get("201").copied().unwrap_or(0),
        refused: creates.get("409").copied().unwrap_or(0),
        deletes: deletes.values().sum(),
    };
    let mut r = c.record(fault_seconds, converged, counts, seen, expected, evidence);
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
    let progress: Vec<String> = ["Starting", "Progressing", "TasksStarting"]
        .iter()
        .filter_map(|r| seen.reasons.get(*r).map(|n| format!("`{r}` ({n})")))
        .collect();
    let evidence = (!progress.is_empty()).then(|| {
        format!(
            "a killed operator cannot write a condition; the connectors not yet converged said so meanwhile: {}",
            progress.join(", ")
        )
    });
    let converged = c.converge("after the fault", CONVERGE).await;
    finish(c, emu, fault, converged, &seen, &[], evidence).await
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
    let converged = c.converge("after the fault", CONVERGE).await;
    finish(
        c,
        emu,
        fault,
        converged,
        &seen,
        &["ConnectUnavailable"],
        None,
    )
    .await
}
