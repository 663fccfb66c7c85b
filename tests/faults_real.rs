//! The fault suite on the real stack (issue 12, point 6): 50 connectors on the two real
//! Connect workers, one fault per case, each case ending with every connector converged,
//! no connector created twice or deleted, no panic, and the conditions seen while the fault
//! lasted recorded:
//!
//! - `real-a`: the group's leader worker SIGKILLed during a rollout of 50, restarted 20 s later;
//! - `real-b`: worker 2 stopped and started in a loop for 2 minutes while 50 roll out and
//!   configs change (the group rebalances at every leave and join);
//! - `real-c`: kube-apiserver stopped for 20 s during a rollout of 50, then started again;
//! - `real-d`: the operator SIGKILLed 5 times (every 4 s) during a rollout of 50;
//! - `real-e`: both workers down for 3 minutes (10 KafkaConnectors applied meanwhile), then back;
//! - `real-f`: kube-apiserver stopped for 2 minutes during a rollout of 50 (a long control-plane
//!   upgrade), then started again.
//!
//! One test runs the cases one after another (they kill workers and the apiserver, so nothing
//! may run beside them; cargo runs test binaries one at a time), and puts the stack back after
//! each case, passed or failed. Each case writes `target/reliability/<case>.json`; at the end
//! `docs/RELIABILITY.md` is rendered from them. `KCO_FAULT_CASES=real-a,real-c` runs some.

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
use common::{Scenario, env, eventually, metrics, stack_ctl};
use logs::log_time;
use observe::{Sampler, Seen};
use serde_json::json;
use suite::Suite;

const SUITE: Suite = Suite {
    name: "faults_real",
    kind: "real workers",
    cases: &CASES,
    restores_stack: true,
};
const N: usize = 50;
const CONVERGE: Duration = Duration::from_secs(360);

const CASES: [(&str, &str); 6] = [
    (
        "real-a",
        "the Connect group's leader worker SIGKILLed during a rollout of 50, restarted after 20 s",
    ),
    (
        "real-b",
        "worker 2 SIGKILLed and restarted in a loop for 2 min (rebalances) during a rollout of 50 and config changes",
    ),
    (
        "real-c",
        "kube-apiserver stopped for 20 s during a rollout of 50, then started again",
    ),
    (
        "real-d",
        "the operator SIGKILLed 5 times, every 4 s, during a rollout of 50",
    ),
    (
        "real-e",
        "both Connect workers down for 3 min (10 KafkaConnectors applied meanwhile), then back",
    ),
    (
        "real-f",
        "kube-apiserver stopped for 2 min during a rollout of 50, then started again",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_suite_on_the_real_stack() {
    SUITE.run(run).await;
}

async fn run(id: &'static str, fault: &'static str) -> record::Record {
    let s = Scenario::new(&format!("fault-{}", &id[5..]), &[]).await;
    let c = Case::new(id, SUITE.name, SUITE.kind, fault, s);
    match id {
        "real-a" => leader_killed(c).await,
        "real-b" => rebalance_loop(c).await,
        "real-c" => apiserver_restarted(c, Duration::from_secs(20)).await,
        "real-f" => apiserver_restarted(c, Duration::from_secs(120)).await,
        "real-d" => operator_killed(c).await,
        _ => connect_down(c).await,
    }
}

/// The reasons that name a fault of the workers.
const WORKER_FAULT: [&str; 3] = ["Rebalancing", "ConnectUnavailable", "ConnectServerError"];

/// A fault under way: the KafkaConnectors' conditions sampled since it began, and when it
/// began (the clock, and the workers' log time).
struct During {
    sampler: Sampler,
    t: Instant,
    from: String,
}

impl During {
    fn start(c: &Case) -> Self {
        let sampler = Sampler::start(&c.s.connectors);
        let (t, from) = (Instant::now(), log_time());
        During { sampler, t, from }
    }

    /// The fault is over: how long it lasted (s) and what the sampler saw; what Connect
    /// answered meanwhile goes to the case's notes.
    fn end(self, c: &mut Case) -> (f64, Seen) {
        let fault = self.t.elapsed().as_secs_f64();
        note_answers(c, &self.from);
        (fault, self.sampler.stop())
    }
}

/// Waits until the case converged after the fault (`fault` seconds, `seen` meanwhile), then
/// counts from the workers' request logs since the case began; then the KafkaConnectors are
/// deleted (outside the counted window).
async fn finish(
    mut c: Case,
    (fault, seen): (f64, Seen),
    expected: &[&str],
    evidence: Option<String>,
) -> record::Record {
    let converged = c.converge("after the fault", CONVERGE).await;
    c.note_errors().await;
    let to = log_time();
    let rest = logs::rest_counts(&c.from, &to, &c.prefix);
    let counts = Counts {
        creates: rest.creates_201,
        refused: rest.creates_409,
        deletes: rest.deletes,
    };
    let mut r = c.record(fault, converged, counts, &seen, expected, evidence);
    if !rest.creates_other.is_empty() {
        r.notes.push(format!(
            "other answers to creates: {:?}",
            rest.creates_other
        ));
    }
    c.cleanup(Duration::from_secs(180)).await;
    r
}

/// What Connect answered to requests (not forwarded between workers) while the fault lasted.
fn note_answers(c: &mut Case, from: &str) {
    let answers = logs::rest_answers(from, &log_time());
    c.note(format!(
        "Connect's answers to REST requests while the fault lasted (workers' logs, by code): {answers:?}"
    ));
}

/// Waits until `at_least` of the case's connectors exist in Connect: the rollout is under way.
async fn mid_rollout(c: &Case, at_least: usize) {
    eventually(
        &format!("{at_least} connectors created in Connect"),
        Duration::from_secs(180),
        || async { (c.in_connect().await >= at_least).then_some(()) },
    )
    .await;
}

/// (a) The leader is the worker every write goes through: killing it mid-rollout makes the
/// creates fail until the group has a new leader (the worker the operator calls, if it was
/// the leader, refuses connections instead).
async fn leader_killed(mut c: Case) -> record::Record {
    let leader = logs::leader_url().unwrap_or_default();
    let victim: u8 = if leader == env("CONNECT_URL") { 1 } else { 2 };
    c.note(format!(
        "leader before the kill: {leader}; killed worker {victim} (the operator calls worker 1)"
    ));
    c.apply(0, N).await;
    mid_rollout(&c, 10).await;
    c.note(format!(
        "at the kill: {} connectors in Connect, {} Ready",
        c.in_connect().await,
        c.ready().await
    ));
    let during = During::start(&c);
    stack_ctl(&["worker-stop", &victim.to_string()]).await;
    // Down past the group's session timeout (10 s) and the delay before a departed worker's
    // connectors move (5 s): the survivor becomes leader and takes every connector.
    tokio::time::sleep(Duration::from_secs(20)).await;
    stack_ctl(&["worker-start", &victim.to_string()]).await;
    let fault = during.end(&mut c);
    finish(c, fault, &WORKER_FAULT, None).await
}

/// (b) Worker 2 leaves and rejoins again and again: every leave and join is a rebalance,
/// during which the group answers writes with 409.
async fn rebalance_loop(mut c: Case) -> record::Record {
    c.apply(0, N).await;
    let during = During::start(&c);
    let mut round = 0;
    while during.t.elapsed() < Duration::from_secs(120) {
        round += 1;
        // Ten config changes per round, so the operator has writes to make in every rebalance.
        for i in 0..10 {
            let name = c.names[(round * 10 + i) % N].clone();
            let mut spec = common::healthy_mock(&format!("{}{name}", c.prefix));
            spec["config"]["kco.fault.round"] = json!(round.to_string());
            c.s.apply(&name, spec).await;
        }
        stack_ctl(&["worker-stop", "2"]).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        stack_ctl(&["worker-start", "2"]).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let fault = during.end(&mut c);
    c.note(format!(
        "{round} rounds of worker 2 killed, 5 s down, restarted (each restart waits until it serves), 10 configs changed per round"
    ));
    finish(c, fault, &WORKER_FAULT, None).await
}

/// (c, f) While the apiserver is down (`down`) the operator can neither read nor write a
/// condition: what it saw is in its metrics (reconcile errors by reason) and its log.
async fn apiserver_restarted(mut c: Case, down: Duration) -> record::Record {
    c.apply(0, N).await;
    mid_rollout(&c, 10).await;
    c.note(format!(
        "at the stop: {} connectors in Connect, {} Ready",
        c.in_connect().await,
        c.ready().await
    ));
    let before = observe::operator_errors(&c.s.operator).await;
    let during = During::start(&c);
    stack_ctl(&["apiserver-stop"]).await;
    // `down` counts from the moment it stopped serving: its graceful stop takes seconds,
    // which counted in `down` before, so a "20 s" stop was 11 s without an apiserver.
    let stopped = Instant::now();
    let in_connect_stop = c.in_connect().await;
    let mut healthz = vec![];
    while stopped.elapsed() < down {
        healthz.push(c.s.operator.get("/healthz").await.map_or(0, |r| r.0));
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let meanwhile = observe::operator_errors(&c.s.operator).await;
    let in_connect_during = c.in_connect().await;
    stack_ctl(&["apiserver-start"]).await;
    let fault = during.end(&mut c);
    let errors: Vec<String> = metrics::growth(&meanwhile, &before)
        .iter()
        .map(|(k, d)| format!("{k} {d}"))
        .collect();
    c.note(format!(
        "Connect held {in_connect_stop} of the connectors when the apiserver stopped, {in_connect_during} when it started again; the operator's /healthz answered {healthz:?} meanwhile"
    ));
    let evidence = (!errors.is_empty()).then(|| {
        format!(
            "no condition can be written while the apiserver is down; the operator counted reconcile errors {} in `kco_reconcile_errors_total` meanwhile",
            errors.join(", ")
        )
    });
    finish(c, fault, &[], evidence).await
}

/// (d) The operator SIGKILLed mid-rollout, five times: each new process must pick up where
/// the last one died, creating nothing twice.
async fn operator_killed(mut c: Case) -> record::Record {
    c.apply(0, N).await;
    let during = During::start(&c);
    let mut at = vec![];
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(4)).await;
        at.push(format!("{}/{}", c.in_connect().await, c.ready().await));
        c.kill_operator().await;
    }
    let fault = during.end(&mut c);
    c.note(format!(
        "at each kill, connectors in Connect / KafkaConnectors Ready: {}",
        at.join(", ")
    ));
    let evidence = explained_by_progress(&fault.1);
    finish(c, fault, &[], evidence).await
}

/// (e) Connect down for 3 minutes: every connector says ConnectUnavailable, nothing is deleted,
/// KafkaConnectors applied meanwhile are created once it is back.
async fn connect_down(mut c: Case) -> record::Record {
    c.apply(0, N).await;
    let setup = c.converge("before the outage", CONVERGE).await;
    c.note(format!(
        "the first 50 converged in {setup:?} before the outage"
    ));
    let during = During::start(&c);
    stack_ctl(&["connect-stop"]).await;
    c.apply(N, 10).await;
    tokio::time::sleep(Duration::from_secs(90)).await;
    if let Ok(k) = c.s.clusters.get("local").await {
        let ready = k
            .status
            .and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready"));
        c.note(format!(
            "KafkaConnectCluster half-way through the outage: Ready={:?} {:?}",
            ready.as_ref().map(|r| r.status.clone()),
            ready.as_ref().map(|r| r.reason.clone())
        ));
    }
    let left = Duration::from_secs(180).saturating_sub(during.t.elapsed());
    tokio::time::sleep(left).await;
    stack_ctl(&["connect-start"]).await;
    let fault = during.end(&mut c);
    finish(c, fault, &["ConnectUnavailable"], None).await
}
