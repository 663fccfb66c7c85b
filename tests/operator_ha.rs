//! Observability and high availability on the real stack: leader election with a Lease
//! (failover after SIGKILL, instant hand-over after SIGTERM), a /healthz that flips when
//! reconciles hang, metrics and JSON logs after a scenario.

mod common;

use std::time::{Duration, Instant};

use common::{Operator, Scenario, eventually, is_ready, state};
use serde_json::json;

const MOCK: &str = "org.apache.kafka.connect.tools.MockSourceConnector";

fn healthy_mock(connector: &str, state: &str) -> serde_json::Value {
    json!({"connectorName": connector, "class": MOCK, "tasksMax": 1, "state": state,
           "config": {"mock_mode": "task-failure", "delay_ms": 3_600_000}})
}

async fn wait_leader(op: &Operator, want: f64) {
    eventually(
        &format!("kco_leader {want}"),
        Duration::from_secs(60),
        || async { (op.metric("kco_leader", "").await? == want).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn a_killed_leader_is_replaced_within_15_seconds_and_the_change_converges() {
    let lease = |ns: &str| {
        vec![
            "--leader-election".to_string(),
            "--lease-namespace".into(),
            ns.to_string(),
        ]
    };
    let mut s = Scenario::without_cluster("ha-failover", &[]).await;
    // The scenario's own operator is not elected: replace it with two electing replicas.
    s.operator.kill().await;
    let args = lease(&s.ns);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut a = Operator::start(&s.ns, &args).await;
    wait_leader(&a, 1.0).await;
    let b = Operator::start(&s.ns, &args).await;
    eventually("the follower is ready", Duration::from_secs(60), || async {
        (b.get("/readyz").await?.0 == 200).then_some(())
    })
    .await;
    assert_eq!(
        b.metric("kco_leader", "").await,
        Some(0.0),
        "only one leader"
    );

    s.apply_cluster(json!({"url": common::env("CONNECT_URL")}))
        .await;
    let name = s.unique("ha");
    s.apply("ha", healthy_mock(&name, "running")).await;
    s.wait_ready("ha").await;

    a.kill().await;
    let killed = Instant::now();
    s.apply("ha", healthy_mock(&name, "paused")).await;
    s.wait("ha", "PAUSED by the new leader", |o| {
        is_ready(o) && state(o) == Some("PAUSED")
    })
    .await;
    let took = killed.elapsed();
    println!("failover: the change made after SIGKILL converged {took:?} after the kill");
    assert!(took < Duration::from_secs(15), "takeover took {took:?}");
    assert_eq!(b.metric("kco_leader", "").await, Some(1.0));
    let live = s.connect.status(&name).await.unwrap();
    assert_eq!(live["connector"]["state"], "PAUSED");
}

#[tokio::test]
async fn sigterm_releases_the_lease_so_the_follower_takes_over_at_once() {
    let mut s = Scenario::without_cluster("ha-term", &[]).await;
    s.operator.kill().await;
    // A long Lease: without the release the follower would wait 60 s.
    let args = [
        "--leader-election",
        "--lease-namespace",
        &s.ns,
        "--lease-duration",
        "60s",
    ];
    let mut a = Operator::start(&s.ns, &args).await;
    wait_leader(&a, 1.0).await;
    let b = Operator::start(&s.ns, &args).await;
    eventually("the follower is up", Duration::from_secs(60), || async {
        (b.get("/readyz").await?.0 == 200).then_some(())
    })
    .await;
    let t = Instant::now();
    let status = a.terminate().await;
    assert!(status.success(), "graceful exit: {status:?}");
    assert!(a.logs().contains("released the leader Lease"));
    wait_leader(&b, 1.0).await;
    let took = t.elapsed();
    println!("hand-over after SIGTERM: {took:?} (Lease duration 60 s)");
    assert!(took < Duration::from_secs(20), "hand-over took {took:?}");
}

#[tokio::test]
async fn healthz_fails_when_reconciles_hang() {
    let stall = std::env::temp_dir().join(format!("kco-stall-{}", common::uuid_suffix()));
    let stall_arg = stall.to_string_lossy().to_string();
    let s = Scenario::new(
        "ha-health",
        &["--health-deadline", "2s", "--fault-stall-file", &stall_arg],
    )
    .await;
    let name = s.unique("h");
    s.apply("h", healthy_mock(&name, "running")).await;
    s.wait_ready("h").await;
    let (code, body) = s.operator.get("/healthz").await.unwrap();
    assert_eq!(code, 200, "healthy before the fault: {body}");
    assert_eq!(s.operator.get("/readyz").await.unwrap().0, 200);

    std::fs::write(&stall, "stall").unwrap();
    let poke = json!({"metadata": {"annotations": {"test/poke": "1"}}});
    s.connectors
        .patch(
            "h",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(poke),
        )
        .await
        .unwrap();
    let body = eventually(
        "/healthz reports the hang",
        Duration::from_secs(30),
        || async {
            let (code, body) = s.operator.get("/healthz").await?;
            (code == 503).then_some(body)
        },
    )
    .await;
    assert!(
        body.contains("KafkaConnector") && body.contains("has been reconciling"),
        "{body}"
    );
    let _ = std::fs::remove_file(&stall);
}

#[tokio::test]
async fn metrics_events_and_json_logs_describe_a_scenario() {
    let s = Scenario::new("ha-obs", &["--log-format", "json"]).await;
    let name = s.unique("m");
    s.apply("m", healthy_mock(&name, "running")).await;
    s.wait_ready("m").await;
    s.apply("m", healthy_mock(&name, "paused")).await;
    s.wait("m", "PAUSED", |o| is_ready(o) && state(o) == Some("PAUSED"))
        .await;

    let (_, text) = s.operator.get("/metrics").await.unwrap();
    for needle in [
        "kco_connect_requests_total{endpoint=\"create\",code=\"201\"} 1",
        "kco_connect_requests_total{endpoint=\"pause\",code=\"202\"} 1",
        "kco_connect_request_duration_seconds_bucket{",
        "kco_reconcile_duration_seconds_count{kind=\"KafkaConnector\"}",
        "kco_leader 1",
    ] {
        assert!(text.contains(needle), "metrics contain {needle}:\n{text}");
    }
    assert!(
        s.metric(
            "kco_reconciles_total",
            "kind=\"KafkaConnector\",result=\"ok\""
        )
        .await
            >= 2.0
    );
    eventually(
        "the connectors gauge counts the paused connector",
        Duration::from_secs(30),
        || async {
            let labels = format!("namespace=\"{}\",cluster=\"local\",state=\"PAUSED\"", s.ns);
            (s.metric("kco_connectors", &labels).await >= 1.0).then_some(())
        },
    )
    .await;

    let reasons: Vec<String> = s.events().await.into_iter().map(|e| e.0).collect();
    assert!(
        reasons.contains(&"Created".to_string()) && reasons.contains(&"Paused".to_string()),
        "{reasons:?}"
    );

    let logs = s.operator.logs();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        !lines.is_empty() && lines.len() == logs.lines().count(),
        "every log line is JSON"
    );
    let with_span = lines
        .iter()
        .find(|l| l["span"]["connector"] == json!(name))
        .expect("a line inside the reconcile span");
    assert_eq!(with_span["span"]["namespace"], json!(s.ns));
    assert_eq!(with_span["span"]["cluster"], "local");
    assert_eq!(
        with_span["span"]["kafkaconnector"], "m",
        "the span names the object (its own \"name\" is the span name)"
    );
}
