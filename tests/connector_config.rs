//! What a KafkaConnector may say and how the operator holds Connect to it, on the real
//! stack: a config Connect's validation rejects goes to status and nothing is created; the
//! apiserver rejects what the CRD schema can say; out-of-band edits, pauses and deletes made
//! directly in Connect are reverted; the error handling a config sets, and its traps, show in
//! status.

mod common;

use std::time::Duration;

use common::{
    HEALTHY_MS, MOCK, Scenario, condition_reason, condition_status, eventually, healthy_mock, mock,
};
use reqwest::Method;
use serde_json::json;

const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

#[tokio::test]
async fn invalid_config_goes_to_status_and_nothing_is_created() {
    let s = Scenario::new("e2e-invalid", &[]).await;
    let name = s.unique("invalid");
    // FileStreamSource declares `topic` required and `batch.size` an INT: Connect's validate says so.
    s.apply("invalid", json!({"connectorName": name, "class": FILE_SOURCE, "config": {"batch.size": "not-a-number"}})).await;
    let obj = s
        .wait("invalid", "validation errors in status", |o| {
            o.status
                .as_ref()
                .is_some_and(|st| !st.validation_errors.is_empty())
                && condition_status(o, "Stalled") == Some("True")
        })
        .await;
    let st = obj.status.as_ref().unwrap();
    let keys: Vec<&str> = st
        .validation_errors
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert!(
        keys.contains(&"topic") && keys.contains(&"batch.size"),
        "per-key errors: {:?}",
        st.validation_errors
    );
    assert_eq!(condition_reason(&obj, "Ready"), Some("InvalidConfig"));
    let (code, _) = s.connect.get(&format!("/connectors/{name}")).await;
    assert_eq!(code, 404, "nothing was created while invalid");

    // An unknown class is reported the same way.
    s.apply(
        "unknown",
        json!({"connectorName": s.unique("unknown"), "class": "com.example.Nope"}),
    )
    .await;
    let obj = s
        .wait("unknown", "class error", |o| {
            o.status
                .as_ref()
                .is_some_and(|st| st.validation_errors.iter().any(|e| e.key == "class"))
        })
        .await;
    assert_eq!(condition_status(&obj, "Ready"), Some("False"));

    // Fixing the config creates it.
    s.apply(
        "invalid",
        json!({"connectorName": name, "class": FILE_SOURCE,
        "config": {"topic": s.unique("t"), "batch.size": 10, "file": "/dev/null"}}),
    )
    .await;
    let obj = s.wait_ready("invalid").await;
    assert!(obj.status.unwrap().validation_errors.is_empty());
}

/// A few of the schema's refusals; tests/bad_input.rs holds the whole corpus (and
/// `config: {tasks.max: ...}`, which only the admission policy refuses).
#[tokio::test]
async fn the_apiserver_rejects_what_the_schema_can_say() {
    let s = Scenario::new("e2e-cel", &[]).await;
    let cases = [
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "tasksMax": 0}),
            "tasksMax",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": " "}),
            "class must not be empty",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "state": "sleeping"}),
            "state",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "restart": {"id": "x", "taskId": 0, "includeTasks": true}}),
            "restart.taskId",
        ),
    ];
    for (spec, needle) in cases {
        let err = s
            .try_apply("bad", spec.clone())
            .await
            .expect_err(&format!("{spec} must be rejected"));
        assert!(
            err.to_string().contains(needle),
            "{spec}: error mentions {needle}: {err}"
        );
    }
    let err = s
        .try_apply_cluster("ftp", json!({"url": "ftp://x"}))
        .await
        .expect_err("a non-http url is rejected");
    assert!(err.to_string().contains("http"), "{err}");

    // clusterRef may change (a move), but one naming no cluster object moves nothing: the
    // connector keeps running where it is, and status says why.
    s.apply("ok", healthy_mock(&s.unique("ok"))).await;
    s.wait_ready("ok").await;
    let moved = mock(
        &s.unique("ok"),
        HEALTHY_MS,
        json!({"clusterRef": {"name": "elsewhere"}}),
    );
    s.apply("ok", moved).await;
    s.wait("ok", "ClusterNotFound", |o| {
        common::condition_reason(o, "Ready") == Some("ClusterNotFound")
    })
    .await;
    let live = s.connect.status(&s.unique("ok")).await.unwrap();
    assert_eq!(live["connector"]["state"], "RUNNING", "left as it was");
}

#[tokio::test]
async fn out_of_band_edits_are_reverted_and_deletes_recreated() {
    let s = Scenario::new("e2e-drift", &[]).await;
    let name = s.unique("drift");
    s.apply("drift", healthy_mock(&name)).await;
    s.wait_ready("drift").await;

    // Replace the whole config out of band: another value and an extra key.
    let (code, body) = s
        .connect
        .call(Method::PUT, &format!("/connectors/{name}/config"), Some(json!({
            "connector.class": MOCK, "tasks.max": "1", "mock_mode": "task-failure", "delay_ms": "999", "injected": "yes"})))
        .await;
    assert_eq!(code, 200, "{body}");
    eventually(
        "the operator reverts the config",
        Duration::from_secs(60),
        || async {
            let c = s.connect.config(&name).await;
            (c["delay_ms"] == "3600000" && c.get("injected").is_none()).then_some(())
        },
    )
    .await;

    // Pause out of band: the spec says running, so it is resumed.
    let (code, _) = s
        .connect
        .call(Method::PUT, &format!("/connectors/{name}/pause"), None)
        .await;
    assert_eq!(code, 202);
    eventually(
        "the operator resumes it",
        Duration::from_secs(60),
        || async {
            let st = s.connect.status(&name).await?;
            (st["connector"]["state"] == "RUNNING" && st["tasks"][0]["state"] == "RUNNING")
                .then_some(())
        },
    )
    .await;

    // Delete out of band: it is created again.
    assert_eq!(s.connect.delete(&name).await, 204);
    eventually(
        "the operator re-creates it",
        Duration::from_secs(60),
        || async {
            let st = s.connect.status(&name).await?;
            (st["connector"]["state"] == "RUNNING").then_some(())
        },
    )
    .await;
    s.wait_ready("drift").await;
}

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

#[tokio::test]
async fn error_handling_and_its_traps_show_in_status() {
    let s = Scenario::new("e2e-errors", &[]).await;
    let topic = s.unique("in");
    let handling = |o: &kco::api::KafkaConnector| {
        let st = o.status.as_ref()?;
        Some((
            st.type_.clone()?,
            st.error_handling.clone()?,
            st.warnings.clone(),
        ))
    };
    // A sink that skips every bad record, with neither a dead-letter topic nor a log.
    let silent = json!({"connectorName": s.unique("silent"), "class": FILE_SINK, "tasksMax": 1,
        "config": {"topics": topic, "file": "/dev/null", "errors.tolerance": "all"}});
    s.apply("silent", silent).await;
    let o = s
        .wait("silent", "a sink's error handling", |o| {
            handling(o).is_some_and(|(t, _, w)| t == "sink" && !w.is_empty())
        })
        .await;
    let (_, h, warnings) = handling(&o).unwrap();
    assert_eq!((h.tolerance.as_str(), h.log_errors), ("all", false));
    assert!(
        warnings.len() == 1 && warnings[0].contains("without a trace"),
        "{warnings:?}"
    );
    // The same sink with a dead-letter topic and logging: no warning.
    let kept = json!({"connectorName": s.unique("kept"), "class": FILE_SINK, "tasksMax": 1,
        "config": {"topics": topic, "file": "/dev/null", "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": s.unique("dlq"),
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.log.enable": "true"}});
    s.apply("kept", kept).await;
    let o = s
        .wait("kept", "a sink with a dead-letter topic", |o| {
            handling(o).is_some_and(|(t, h, _)| t == "sink" && h.dead_letter_topic.is_some())
        })
        .await;
    let (_, h, warnings) = handling(&o).unwrap();
    assert!(h.log_errors && warnings.is_empty(), "{h:?} {warnings:?}");
    // A source with a dead-letter topic: Connect ignores it, status says so.
    let source = json!({"connectorName": s.unique("source"), "class": FILE_SOURCE, "tasksMax": 1,
        "config": {"topic": topic, "file": "/dev/null",
            "errors.deadletterqueue.topic.name": s.unique("dlq2")}});
    s.apply("source", source).await;
    let o = s
        .wait("source", "a source's dead-letter topic flagged", |o| {
            handling(o).is_some_and(|(t, _, w)| t == "source" && !w.is_empty())
        })
        .await;
    let (_, h, warnings) = handling(&o).unwrap();
    assert_eq!(h.tolerance, "none");
    assert!(warnings[0].contains("source connector"), "{warnings:?}");
}
