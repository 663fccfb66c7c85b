//! A KafkaConnectCluster outlives the KafkaConnectors that use it (finalizer
//! `kafkaconnect.dev/cluster-in-use`), as Kubernetes keeps a PVC in use: deleting the cluster
//! object and its KafkaConnectors together (a GitOps prune, a namespace deletion) still
//! deletes each connector from Connect.

mod common;

use std::time::Duration;

use common::{Scenario, eventually, healthy_mock};
use kube::api::DeleteParams;

/// Whether the KafkaConnectCluster `local` is gone from the apiserver.
async fn cluster_gone(s: &Scenario) -> Option<()> {
    match s.clusters.get("local").await {
        Err(kube::Error::Api(e)) if e.code == 404 => Some(()),
        _ => None,
    }
}

#[tokio::test]
async fn a_cluster_deleted_with_its_connectors_waits_for_them() {
    let s = Scenario::new("e2e-cluster-del", &[]).await;
    let names = [s.unique("one"), s.unique("two")];
    for (obj, name) in ["one", "two"].iter().zip(&names) {
        s.apply(obj, healthy_mock(name)).await;
    }
    for obj in ["one", "two"] {
        s.wait_ready(obj).await;
    }
    // The cluster first (as a prune may order it): it stays, and says why.
    s.clusters
        .delete("local", &DeleteParams::default())
        .await
        .unwrap();
    let kept = eventually(
        "the cluster says it is in use",
        Duration::from_secs(60),
        || async {
            let c = s.clusters.get("local").await.ok()?;
            let ready = c
                .status?
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")?;
            (ready.reason == "ClusterInUse").then_some(ready.message)
        },
    )
    .await;
    println!("{kept}");
    assert!(kept.contains("2 KafkaConnector(s)"), "{kept}");
    assert!(kept.contains(&format!("{}/one", s.ns)), "{kept}");
    // The connectors still converge while their cluster is being deleted.
    s.wait_ready("one").await;

    // Then its KafkaConnectors: each one's deletion reaches Connect.
    for obj in ["one", "two"] {
        s.connectors
            .delete(obj, &DeleteParams::default())
            .await
            .unwrap();
    }
    for name in &names {
        s.connect
            .wait_deleted(name, "the connector is deleted from Connect")
            .await;
    }
    eventually(
        "the cluster object goes once no KafkaConnector uses it",
        Duration::from_secs(60),
        || cluster_gone(&s),
    )
    .await;
    let reasons = s.event_reasons().await;
    assert!(
        !reasons.iter().any(|r| r == "ClusterGone"),
        "no connector was left behind: {reasons:?}"
    );
}
