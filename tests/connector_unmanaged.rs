//! `unmanagedConnectors`: Ignore (the default) never touches a connector no KafkaConnector
//! claims; Delete removes it and keeps the claimed ones, and the connectors left by
//! `deletionPolicy: Orphan`, even after the cluster object is deleted and re-created. Its own test binary: Delete acts on
//! every unclaimed connector of the shared Connect cluster, so nothing else may run beside it.

mod common;

use std::time::Duration;

use common::{HEALTHY_MS, Scenario, eventually, mock};
use serde_json::json;

#[tokio::test]
async fn unmanaged_connectors_are_ignored_unless_the_cluster_says_delete() {
    let s = Scenario::new("e2e-unmanaged", &["--cluster-refresh", "2s"]).await;
    let managed = s.unique("managed");
    let stray = s.unique("stray");
    s.connect.create_mock(&stray, HEALTHY_MS).await;
    s.apply(
        "managed",
        mock(&managed, HEALTHY_MS, json!({"tasksMax": null})),
    )
    .await;
    s.wait_ready("managed").await;

    // Ignore: the cluster has seen the stray connector (counted, not managed) and left it.
    eventually(
        "the cluster counts the stray connector",
        Duration::from_secs(60),
        || async {
            let c = s.clusters.get("local").await.ok()?.status?.connectors?;
            (c.total >= 2 && c.managed == 1).then_some(())
        },
    )
    .await;
    assert!(
        s.connect.status(&stray).await.is_some(),
        "Ignore never deletes"
    );

    sweeps_only_for_the_namespaces_it_allows(&s, &stray).await;

    s.apply_cluster(
        json!({"url": common::env("CONNECT_URL"), "unmanagedConnectors": "Delete",
        "allowedNamespaces": {"from": "All"}}),
    )
    .await;
    s.connect
        .wait_deleted(&stray, "the stray connector is deleted")
        .await;
    assert!(
        s.connect.status(&managed).await.is_some(),
        "the claimed connector stays"
    );
    let reasons = s.event_reasons().await;
    assert!(
        reasons.iter().any(|r| r == "DeletedUnmanaged"),
        "{reasons:?}"
    );
    orphan_is_never_undone(&s).await;
}

/// Delete on a cluster object that allows only its own namespace, while a cluster object in
/// another namespace names the same Connect: that team may have connectors there made
/// outside Kubernetes, which are not this object's to sweep. Refused, naming it; nothing is
/// deleted. (Other tests' namespaces name the stack's Connect too: the one made here is
/// certain to be there.)
async fn sweeps_only_for_the_namespaces_it_allows(s: &Scenario, stray: &str) {
    // Named to sort first: the condition names the first five.
    let other = common::namespace(&s.client, "0-unmanaged-other").await;
    let theirs = common::cluster_object("theirs", json!({"url": common::env("CONNECT_URL")}));
    let api: kube::Api<kco::api::KafkaConnectCluster> =
        kube::Api::namespaced(s.client.clone(), &other);
    let pp = kube::api::PatchParams::apply("kco-tests");
    api.patch("theirs", &pp, &kube::api::Patch::Apply(&theirs))
        .await
        .unwrap();
    s.apply_cluster(json!({"url": common::env("CONNECT_URL"), "unmanagedConnectors": "Delete"}))
        .await;
    let why = eventually(
        "Delete refused for the other namespace",
        Duration::from_secs(60),
        || async {
            let status = s.clusters.get("local").await.ok()?.status?;
            let cond = status
                .conditions
                .into_iter()
                .find(|c| c.type_ == "UnmanagedConnectors")?;
            (cond.reason == "UnmanagedDeleteRefused" && cond.message.contains(&other))
                .then_some(cond.message)
        },
    )
    .await;
    println!("{why}");
    assert!(why.contains(&format!("{other}/theirs")), "{why}");
    assert!(
        s.connect.status(stray).await.is_some(),
        "a refused Delete deletes nothing"
    );
}

/// `deletionPolicy: Orphan` leaves the connector in Connect, and Delete must not take it
/// for unmanaged afterwards: the cluster object records it.
async fn orphan_is_never_undone(s: &Scenario) {
    let kept = s.unique("orphan");
    let mut spec = mock(&kept, HEALTHY_MS, json!({"tasksMax": null}));
    spec["deletionPolicy"] = json!("Orphan");
    s.apply("orphan", spec).await;
    s.wait_ready("orphan").await;
    s.delete_and_wait("orphan").await;
    let recorded = s.clusters.get("local").await.unwrap();
    assert!(
        recorded
            .metadata
            .annotations
            .unwrap_or_default()
            .iter()
            .any(|(k, v)| k.starts_with("orphaned.kafkaconnect.dev/") && *v == kept),
        "the cluster records the orphaned connector"
    );
    // A delete pass that runs after the orphan: an unclaimed connector created now goes...
    swept(
        s,
        "bait",
        "an unclaimed connector created after the orphan is deleted",
    )
    .await;
    // ...and the orphan stays.
    assert!(
        s.connect.status(&kept).await.is_some(),
        "unmanagedConnectors: Delete undid deletionPolicy: Orphan"
    );
    survives_the_cluster_object(s, &kept).await;
    s.connect.delete(&kept).await;
}

/// The cluster object deleted and applied again (a restore, a GitOps replace): its
/// annotations are gone, and the Orphan record is not. Before the record was kept outside
/// the cluster object, the re-created object's Delete removed the orphan.
async fn survives_the_cluster_object(s: &Scenario, kept: &str) {
    // The cluster object waits for its last KafkaConnector.
    s.delete_and_wait("managed").await;
    s.clusters
        .delete("local", &kube::api::DeleteParams::default())
        .await
        .unwrap();
    eventually(
        "the cluster object is gone",
        Duration::from_secs(60),
        || async {
            s.clusters
                .get_opt("local")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    s.apply_cluster(
        json!({"url": common::env("CONNECT_URL"), "unmanagedConnectors": "Delete",
        "allowedNamespaces": {"from": "All"}}),
    )
    .await;
    let fresh = s.clusters.get("local").await.unwrap();
    assert!(
        !fresh
            .metadata
            .annotations
            .unwrap_or_default()
            .keys()
            .any(|k| k.starts_with("orphaned.kafkaconnect.dev/")),
        "a new object: no record on it"
    );
    swept(
        s,
        "bait-again",
        "the re-created cluster object deletes unclaimed connectors",
    )
    .await;
    assert!(
        s.connect.status(kept).await.is_some(),
        "the re-created cluster object undid deletionPolicy: Orphan"
    );
    let records: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(s.client.clone(), &s.ns);
    let cm = records.get("kafka-connect-operator-orphans").await.unwrap();
    assert!(
        cm.data.unwrap_or_default().values().any(|v| v == kept),
        "the record is in the operator's namespace"
    );
}

/// A connector nobody claims, made through REST now: a delete pass that runs after this
/// point deletes it (`what` says why the test expects so).
async fn swept(s: &Scenario, base: &str, what: &str) {
    let bait = s.unique(base);
    s.connect.create_mock(&bait, HEALTHY_MS).await;
    s.connect.wait_deleted(&bait, what).await;
}
