//! What the operator tells about itself, on the real stack: /healthz flips to 503 when
//! reconciles hang (fault injected with the hidden `--fault-stall-file`); after a scenario,
//! its metrics, Events and JSON logs (with reconcile spans) describe what happened.

mod common;

use std::time::Duration;

use common::{HEALTHY_MS, Scenario, eventually, is_ready_in, mock};
use serde_json::json;

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
    s.apply("h", mock(&name, HEALTHY_MS, json!({"state": "running"})))
        .await;
    s.wait_ready("h").await;
    let (code, body) = s.operator.get("/healthz").await.unwrap();
    assert_eq!(code, 200, "healthy before the fault: {body}");
    assert_eq!(s.operator.get("/readyz").await.unwrap().0, 200);

    std::fs::write(&stall, "stall").unwrap();
    s.poke("h", "1").await;
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
    s.apply("m", mock(&name, HEALTHY_MS, json!({"state": "running"})))
        .await;
    s.wait_ready("m").await;
    s.apply("m", mock(&name, HEALTHY_MS, json!({"state": "paused"})))
        .await;
    s.wait("m", "PAUSED", |o| is_ready_in(o, "PAUSED")).await;
    metrics_describe(&s).await;

    let reasons = s.event_reasons().await;
    assert!(
        reasons.contains(&"Created".to_string()) && reasons.contains(&"Paused".to_string()),
        "{reasons:?}"
    );
    json_logs_with_spans(&s, &name);
}

/// /metrics after a create and a pause: requests, durations, reconciles, the leader and the
/// connectors gauge.
async fn metrics_describe(s: &Scenario) {
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
    let reconciles = s
        .operator
        .metric(
            "kco_reconciles_total",
            "kind=\"KafkaConnector\",result=\"ok\"",
        )
        .await
        .unwrap_or_default();
    assert!(reconciles >= 2.0);
    eventually(
        "the connectors gauge counts the paused connector",
        Duration::from_secs(30),
        || async {
            let labels = format!("namespace=\"{}\",cluster=\"local\",state=\"PAUSED\"", s.ns);
            let connectors = s.operator.metric("kco_connectors", &labels).await;
            (connectors.unwrap_or_default() >= 1.0).then_some(())
        },
    )
    .await;
}

/// Every log line is JSON, and a line inside the reconcile span of `name` names it, its
/// namespace, cluster and KafkaConnector.
fn json_logs_with_spans(s: &Scenario, name: &str) {
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

/// A KafkaConnectCluster that goes away takes its `kco_connectors` series with it.
#[tokio::test]
async fn the_connectors_gauge_of_a_deleted_cluster_goes_away() {
    let s = Scenario::new("obs-stale", &[]).await;
    let name = s.unique("g");
    s.apply("g", common::healthy_mock(&name)).await;
    s.wait_ready("g").await;
    let series = format!("kco_connectors{{namespace=\"{}\",cluster=\"local\"", s.ns);
    let has_series = || async {
        let (_, text) = s.operator.get("/metrics").await.unwrap_or_default();
        text.lines().any(|l| l.starts_with(&series))
    };
    common::eventually("the gauge series", Duration::from_secs(20), || async {
        has_series().await.then_some(())
    })
    .await;
    // As a prune does: the cluster and its KafkaConnector (the cluster object waits for it).
    s.clusters
        .delete("local", &Default::default())
        .await
        .unwrap();
    s.delete_and_wait("g").await;
    common::eventually("no gauge series", Duration::from_secs(60), || async {
        (!has_series().await).then_some(())
    })
    .await;
}
