//! `progress` on the real stack: a FileStreamSource → topic → FileStreamSink pipeline with a
//! short window (the source's own, the sink's from its cluster's default). While lines are
//! appended both are `Flowing=True`; once the file stops growing both turn `Flowing=False,
//! reason NoProgress`, `Ready` untouched; appending again brings them back.

mod common;

use std::io::Write;
use std::time::Duration;

use common::{Scenario, condition_reason, condition_status, env, eventually, is_ready};
use kco::api::KafkaConnector;
use serde_json::json;

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

fn append(path: &std::path::Path, from: usize, n: usize) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    for i in from..from + n {
        writeln!(f, "line {i}").unwrap();
    }
}

fn flowing(o: &KafkaConnector) -> Option<&str> {
    condition_reason(o, "Flowing")
}

#[tokio::test]
async fn a_pipeline_that_stops_moving_shows_no_progress_then_recovers() {
    let s = Scenario::new("e2e-progress", &[]).await;
    // The sink is watched through the cluster's default window, the source by its own.
    s.apply_cluster(json!({"url": env("CONNECT_URL"), "progress": {"stallAfter": "15s"}}))
        .await;
    let dir = std::env::temp_dir();
    let (input, output) = (
        dir.join(format!("{}-in.txt", s.ns)),
        dir.join(format!("{}-out.txt", s.ns)),
    );
    append(&input, 0, 3);
    let topic = s.unique("lines");
    s.apply(
        "source",
        json!({"connectorName": s.unique("source"), "class": SOURCE, "tasksMax": 1,
        "progress": {"stallAfter": "15s"},
        "config": {"file": input.to_string_lossy(), "topic": topic}}),
    )
    .await;
    s.apply(
        "sink",
        json!({"connectorName": s.unique("sink"), "class": SINK, "tasksMax": 1,
        "config": {"file": output.to_string_lossy(), "topics": topic}}),
    )
    .await;
    for name in ["source", "sink"] {
        s.wait(name, "Ready and Flowing", |o| {
            is_ready(o) && flowing(o) == Some("OffsetsMoving")
        })
        .await;
    }
    eventually("3 lines through", Duration::from_secs(60), || async {
        let text = std::fs::read_to_string(&output).ok()?;
        (text.lines().count() == 3).then_some(())
    })
    .await;

    // Nothing more to read: after the window both say so, and stay Ready.
    for name in ["source", "sink"] {
        let o = s
            .wait(name, "NoProgress", |o| flowing(o) == Some("NoProgress"))
            .await;
        assert!(is_ready(&o), "{name}: not moving is not a failure");
        assert_eq!(condition_status(&o, "Flowing"), Some("False"));
        let st = o.status.as_ref().unwrap().progress.clone().unwrap();
        assert!(st.last_movement.is_some(), "{name}: {st:?}");
    }
    let reasons = s.event_reasons().await;
    assert!(reasons.contains(&"NoProgress".to_string()), "{reasons:?}");
    let last_progress = s
        .operator
        .metric(
            "kco_connector_last_progress_timestamp_seconds",
            "kafkaconnector=\"source\"",
        )
        .await
        .unwrap_or_default();
    assert!(last_progress > 1.7e9, "metric: {last_progress}");

    // Lines again: both move, and say so.
    append(&input, 3, 3);
    for name in ["source", "sink"] {
        s.wait(name, "Flowing again", |o| {
            flowing(o) == Some("OffsetsMoving")
        })
        .await;
    }
    let reasons = s.event_reasons().await;
    assert!(
        reasons.contains(&"ProgressResumed".to_string()),
        "{reasons:?}"
    );
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
}
