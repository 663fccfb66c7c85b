//! The version matrix: one KafkaConnector lifecycle (create running, paused and stopped,
//! config update, pause, resume, restart, delete) through the operator against real Connect
//! workers of each release users run — the stack's 4.3.1 and the older workers started
//! next to it from Maven Central jars (`CONNECT_URL_V362`, `CONNECT_URL_V302`), all on the
//! same 4.3.1 broker. What an older worker cannot do is checked to degrade as documented:
//! created RUNNING then paused or stopped before 3.7 (no `initial_state`), `stopped`
//! reported `Unsupported` before 3.5 with nothing written; plugin versions in status from
//! 4.1 only.

mod common;

use common::{Connect, Scenario, condition_reason, env, is_ready_in, last_restart_id};
use kco::connect::Capabilities;
use serde_json::{Value, json};

const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

#[tokio::test]
async fn connect_4_3_1() {
    lifecycle(&env("CONNECT_URL"), "4.3.1").await;
}

#[tokio::test]
async fn connect_3_6_2() {
    lifecycle(&env("CONNECT_URL_V362"), "3.6.2").await;
}

/// The oldest 3.x release: it still works with a 4.x broker.
#[tokio::test]
async fn connect_3_0_2() {
    lifecycle(&env("CONNECT_URL_V302"), "3.0.2").await;
}

/// A FileStreamSource reading a file of a few lines into a topic of its own.
fn file_source(s: &Scenario, connector: &str, extra: Value) -> Value {
    let file = std::env::temp_dir().join(format!("{connector}.txt"));
    std::fs::write(&file, "one\ntwo\nthree\n").unwrap();
    let mut spec = json!({"connectorName": connector, "class": FILE_SOURCE, "tasksMax": 1,
        "config": {"file": file.to_string_lossy(), "topic": s.unique("versions")}});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    spec
}

async fn lifecycle(url: &str, version: &str) {
    let caps = Capabilities::from_version(version);
    let s = Scenario::without_cluster(&format!("v{}", version.replace('.', "")), &[]).await;
    s.apply_cluster(json!({"url": url})).await;
    let connect = Connect::new(url);
    let root = connect.get("/").await.1;
    assert_eq!(root["version"], version, "{url} runs Connect {version}");
    let name = running_then_stopped(&s, &connect, caps).await;
    let paused = created_paused(&s, caps).await;
    let stopped = created_stopped(&s, &connect, caps, version).await;
    for (obj, connector) in [("life", &name), ("paused", &paused), ("stopped", &stopped)] {
        s.delete_and_wait(obj).await;
        connect
            .wait_deleted(connector, "the connector deleted from Connect")
            .await;
    }
}

/// Create running, update the config, pause, resume, restart, then stop (supported from
/// 3.5; before that reported, and nothing written). Returns the connector's name.
async fn running_then_stopped(s: &Scenario, connect: &Connect, caps: Capabilities) -> String {
    // Create running, update the config, pause, resume, restart.
    let name = s.unique("life");
    let mut spec = file_source(s, &name, json!({}));
    s.apply("life", spec.clone()).await;
    let o = s
        .wait("life", "RUNNING", |o| is_ready_in(o, "RUNNING"))
        .await;
    // Plugin versions in status where the worker reports them (4.1+), none before.
    let st = o.status.unwrap();
    let reports = caps.plugin_version();
    assert_eq!(
        st.version.is_some(),
        reports,
        "connector version: {:?}",
        st.version
    );
    assert!(
        st.tasks.iter().all(|t| t.version.is_some() == reports) && !st.tasks.is_empty(),
        "task versions: {:?}",
        st.tasks
    );
    assert!(st.warnings.is_empty(), "versions agree: {:?}", st.warnings);
    assert_eq!(st.type_.as_deref(), Some("source"));
    spec["config"]["batch.size"] = json!(100);
    s.apply("life", spec.clone()).await;
    s.wait("life", "Ready after the config update", |o| {
        is_ready_in(o, "RUNNING")
    })
    .await;
    assert_eq!(connect.config(&name).await["batch.size"], "100");
    for (state, shown) in [("paused", "PAUSED"), ("running", "RUNNING")] {
        spec["state"] = json!(state);
        s.apply("life", spec.clone()).await;
        s.wait("life", shown, |o| is_ready_in(o, shown)).await;
        let live = connect.status(&name).await.expect("the connector exists");
        assert_eq!(live["connector"]["state"], shown);
    }
    spec["restart"] = json!({"id": "r1", "includeTasks": true});
    s.apply("life", spec.clone()).await;
    s.wait("life", "restart r1 recorded", |o| {
        last_restart_id(o) == Some("r1")
    })
    .await;

    // Stop: supported from 3.5; before that reported, and nothing written.
    spec["state"] = json!("stopped");
    spec.as_object_mut().unwrap().remove("restart");
    s.apply("life", spec.clone()).await;
    if caps.stop() {
        s.wait("life", "STOPPED", |o| is_ready_in(o, "STOPPED"))
            .await;
    } else {
        let obj = s
            .wait("life", "Unsupported", |o| {
                condition_reason(o, "Ready") == Some("Unsupported")
            })
            .await;
        let msg = &common::condition(&obj, "Ready").unwrap().message;
        assert!(msg.contains("3.5"), "{msg}");
        let live = connect.status(&name).await.expect("still there");
        assert_eq!(live["connector"]["state"], "RUNNING", "nothing written");
    }

    name
}

/// Created paused: with initial_state from 3.7, else created and paused at once.
async fn created_paused(s: &Scenario, caps: Capabilities) -> String {
    let paused = s.unique("paused");
    s.apply(
        "paused",
        file_source(s, &paused, json!({"state": "paused"})),
    )
    .await;
    s.wait("paused", "PAUSED", |o| is_ready_in(o, "PAUSED"))
        .await;
    let created = s
        .events()
        .await
        .into_iter()
        .find(|(reason, note)| reason == "Created" && note.contains(&paused))
        .expect("a Created Event");
    assert_eq!(
        created.1.contains("takes no initial state"),
        !caps.initial_state(),
        "{}",
        created.1
    );

    paused
}

/// Created stopped with an offsets request: from 3.7 with initial_state, 3.5-3.6 created
/// then stopped, before 3.5 refused with nothing created (offsets need 3.6).
async fn created_stopped(
    s: &Scenario,
    connect: &Connect,
    caps: Capabilities,
    version: &str,
) -> String {
    let stopped = s.unique("stopped");
    let offsets = json!({"state": "stopped", "offsets": {"id": "o1", "reset": true}});
    s.apply("stopped", file_source(s, &stopped, offsets)).await;
    if caps.offsets() {
        s.wait("stopped", "STOPPED", |o| is_ready_in(o, "STOPPED"))
            .await;
        let live = connect.status(&stopped).await.expect("created");
        assert_eq!(live["connector"]["state"], "STOPPED");
    } else {
        let obj = s
            .wait("stopped", "Unsupported", |o| {
                condition_reason(o, "Ready") == Some("Unsupported")
            })
            .await;
        let msg = &common::condition(&obj, "Ready").unwrap().message;
        assert!(
            msg.contains("3.") && msg.contains(version.rsplit_once('.').unwrap().0),
            "{msg}"
        );
        assert!(connect.status(&stopped).await.is_none(), "nothing created");
    }

    stopped
}
