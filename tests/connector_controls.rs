//! The controls users of other operators ask for, on the real stack: `kubectl scale` through
//! the scale subresource (tasksMax), the pause-reconciliation annotation, the cluster's
//! connector counts (`kubectl get kcc` CONNECTORS) following within a poll, and a fight with
//! another writer that ends in `Contested` instead of reverting forever.

mod common;

use std::time::Duration;

use common::{Scenario, condition_reason, env, eventually, healthy_mock, is_ready, is_ready_in};
use kube::api::{Patch, PatchParams};
use serde_json::json;

const VERIFIABLE: &str = "org.apache.kafka.connect.tools.VerifiableSourceConnector";

fn kubectl(args: &[&str]) -> String {
    common::run(&env("KUBECTL"), args, None)
}

#[tokio::test]
async fn kubectl_scale_sets_tasks_max_and_status_counts_running_tasks() {
    let s = Scenario::new("e2e-scale", &[]).await;
    let name = s.unique("scaled");
    let spec = json!({"connectorName": name, "class": VERIFIABLE, "tasksMax": 1,
        "config": {"topic": s.unique("scaled"), "throughput": 1}});
    s.apply("scaled", spec).await;
    s.wait("scaled", "1 task running", |o| {
        is_ready(o) && o.status.as_ref().and_then(|st| st.tasks_running) == Some(1)
    })
    .await;

    kubectl(&["scale", "kctr", "scaled", "-n", &s.ns, "--replicas=3"]);
    s.wait("scaled", "3 tasks running", |o| {
        is_ready(o) && o.status.as_ref().and_then(|st| st.tasks_running) == Some(3)
    })
    .await;
    assert_eq!(s.connect.config(&name).await["tasks.max"], "3");
    // The scale subresource reads status.tasksRunning. Right after a reconfiguration Connect
    // may still move a task between workers (3 RUNNING, then 2 and UNASSIGNED, then 3), and
    // status follows it: wait for 3 there rather than read it once.
    let scale = eventually(
        "the scale subresource at 3",
        Duration::from_secs(60),
        || async {
            let args = [
                "get",
                "kctr",
                "scaled",
                "-n",
                &s.ns,
                "--subresource=scale",
                "-o",
                "json",
            ];
            let scale: serde_json::Value = serde_json::from_str(&kubectl(&args)).ok()?;
            (scale["status"]["replicas"] == 3).then_some(scale)
        },
    )
    .await;
    assert_eq!(scale["spec"]["replicas"], 3, "{scale}");
    assert_eq!(scale["status"]["replicas"], 3, "{scale}");
    assert!(
        scale["status"]["selector"]
            .as_str()
            .is_some_and(|s| s.starts_with("kafkaconnect.dev/")),
        "{scale}"
    );
}

async fn annotate(s: &Scenario, value: Option<&str>) {
    let patch =
        json!({"metadata": {"annotations": {"kafkaconnect.dev/pause-reconciliation": value}}});
    s.connectors
        .patch("off", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_pause_reconciliation_annotation_keeps_hands_off_until_removed() {
    let s = Scenario::new("e2e-pausercl", &[]).await;
    let name = s.unique("hands-off");
    let mut spec = healthy_mock(&name);
    s.apply("off", spec.clone()).await;
    s.wait_ready("off").await;
    annotate(&s, Some("true")).await;
    // A spec change and an out-of-band edit while paused: the operator notes the new
    // generation and writes nothing.
    spec["state"] = json!("paused");
    let generation = s.apply("off", spec).await.metadata.generation;
    let mut config = s.connect.config(&name).await;
    config["added.out.of.band"] = json!("1");
    let (code, _) = s
        .connect
        .call(
            reqwest::Method::PUT,
            &format!("/connectors/{name}/config"),
            Some(config),
        )
        .await;
    assert_eq!(code, 200);
    // A worker answers from its own copy of the config topic, which can lag the PUT.
    eventually(
        "Connect shows the edit",
        Duration::from_secs(30),
        || async {
            let config = s.connect.config(&name).await;
            (config["added.out.of.band"] == "1").then_some(())
        },
    )
    .await;
    let obj = s
        .wait("off", "ReconciliationPaused at the new generation", |o| {
            o.status.as_ref().and_then(|st| st.observed_generation) == generation
                && condition_reason(o, "Ready") == Some("ReconciliationPaused")
        })
        .await;
    assert_eq!(
        common::condition(&obj, "Stalled").map(|c| c.status.as_str()),
        Some("False")
    );
    let live = s.connect.status(&name).await.unwrap();
    // RUNNING, or UNASSIGNED while Connect restarts it after the direct config PUT.
    assert_ne!(
        live["connector"]["state"], "PAUSED",
        "not paused while hands off"
    );
    assert_eq!(s.connect.config(&name).await["added.out.of.band"], "1");

    annotate(&s, None).await;
    s.wait("off", "PAUSED once the annotation is gone", |o| {
        is_ready_in(o, "PAUSED")
    })
    .await;
    // Reverted within a poll of the operator seeing it (the edit may postdate the last poll).
    eventually(
        "the out-of-band key reverted",
        Duration::from_secs(10),
        || async {
            let config = s.connect.config(&name).await;
            config.get("added.out.of.band").is_none().then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_clusters_connector_counts_follow_within_a_poll() {
    let s = Scenario::new("e2e-counts", &[]).await;
    let names = [s.unique("count-a"), s.unique("count-b")];
    for (obj, name) in ["ca", "cb"].iter().zip(&names) {
        s.apply(obj, healthy_mock(name)).await;
    }
    for obj in ["ca", "cb"] {
        s.wait_ready(obj).await;
    }
    // The cluster refresh is a minute by default: the count must come from the poller's
    // wake-up (2 s in tests), not from that refresh.
    eventually("managed count 2", Duration::from_secs(10), || async {
        let cluster = s.clusters.get("local").await.ok()?;
        let counts = cluster.status?.connectors?;
        (counts.managed == 2).then_some(())
    })
    .await;
}

/// A script keeps changing a managed connector's config. The operator reverts the first
/// changes, then holds (`Contested`, naming the key, with a Warning Event): the script's last
/// change stands instead of the two writers taking turns forever.
#[tokio::test]
async fn a_fight_with_another_writer_ends_in_contested() {
    let s = Scenario::new("e2e-fight", &[]).await;
    let name = s.unique("fought");
    s.apply("fought", healthy_mock(&name)).await;
    s.wait_ready("fought").await;
    let desired = s.connect.config(&name).await["mock.marker"].clone();
    let mut reverted = 0;
    let mut contested = None;
    for i in 0..20 {
        let mut config = s.connect.config(&name).await;
        let theirs = format!("script-{i}");
        config["mock.marker"] = json!(theirs);
        let path = format!("/connectors/{name}/config");
        let (code, _) = s
            .connect
            .call(reqwest::Method::PUT, &path, Some(config))
            .await;
        assert_eq!(code, 200);
        // Either the operator reverts this change, or it holds and says so.
        let held = eventually(
            "reverted, or Contested",
            Duration::from_secs(60),
            || async {
                let obj = s.connectors.get("fought").await.ok()?;
                if condition_reason(&obj, "Ready") == Some("Contested") {
                    return Some(true);
                }
                let now = s.connect.config(&name).await["mock.marker"].clone();
                (now == desired).then_some(false)
            },
        )
        .await;
        if held {
            contested = Some(theirs);
            break;
        }
        reverted += 1;
    }
    println!("reverted {reverted} outside changes before holding");
    let theirs = contested.expect("Contested within 20 outside changes");
    assert!(reverted > 5, "the first reverts go out at once: {reverted}");
    assert_eq!(
        s.connect.config(&name).await["mock.marker"],
        json!(theirs),
        "the outside change stands while held"
    );
    let obj = s.connectors.get("fought").await.unwrap();
    let message = &common::condition(&obj, "Ready").unwrap().message;
    assert!(message.contains("keys mock.marker"), "{message}");
    let reasons = s.event_reasons().await;
    assert!(reasons.iter().any(|r| r == "Contested"), "{reasons:?}");
}
