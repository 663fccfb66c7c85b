//! Who owns a connector in Connect, on the real stack: a second KafkaConnector claiming the
//! same connector gets a Conflict and never writes, and takes over (hand-over) when the owner
//! is deleted; `deletionPolicy: Orphan` leaves the connector behind for a new KafkaConnector
//! to adopt; an object that never created nor adopted its connector deletes nothing.

mod common;

use std::time::Duration;

use common::{HEALTHY_MS, Scenario, condition, condition_reason, eventually, healthy_mock, mock};
use kube::api::DeleteParams;
use serde_json::json;

#[tokio::test]
async fn a_second_claim_on_a_connector_gets_a_conflict_and_never_writes() {
    let s = Scenario::new("e2e-conflict", &[]).await;
    conflict_then_handover(&s, json!({})).await;
}

/// The stack's two workers (8083 and 8084) are one Connect group: two KafkaConnectCluster
/// objects, one per worker URL, are one Connect cluster for ownership, so the same rules
/// hold as through one URL (no PUT fight, no delete of the other's connector).
#[tokio::test]
async fn two_urls_of_one_connect_group_are_one_cluster() {
    let s = Scenario::new("e2e-conflict-urls", &[]).await;
    s.try_apply_cluster("worker2", json!({"url": common::env("CONNECT_URL_2")}))
        .await
        .unwrap();
    conflict_then_handover(&s, json!({"clusterRef": {"name": "worker2"}})).await;
}

/// `first` owns a connector; `second` (with `extra` in its spec) claims it later with
/// another config: Conflict, no write; deleting `first` hands it over to `second`.
async fn conflict_then_handover(s: &Scenario, extra: serde_json::Value) {
    let name = s.unique("shared");
    s.apply("first", healthy_mock(&name)).await;
    s.wait_ready("first").await;
    // Same connector name, other config; created later, so it loses.
    // Healthy too (its task would fail only after 90 minutes), just a different config.
    s.apply("second", mock(&name, 5_400_000, extra)).await;
    let obj = s
        .wait("second", "Conflict", |o| {
            condition_reason(o, "Ready") == Some("Conflict")
        })
        .await;
    assert!(
        condition(&obj, "Ready").unwrap().message.contains("first"),
        "names the owner"
    );
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "True");
    let config = s.connect.config(&name).await;
    assert_eq!(
        config["delay_ms"], "3600000",
        "the loser never wrote its config"
    );

    // Deleting the owner while another CR claims the connector hands it over: the
    // connector is not deleted, and the next claimant takes it over with its own config.
    s.delete_and_wait("first").await;
    assert!(
        s.connect.status(&name).await.is_some(),
        "the connector was handed over, not deleted"
    );
    s.wait_ready("second").await;
    eventually(
        "the heir's config applied",
        Duration::from_secs(60),
        || async {
            let config = s.connect.config(&name).await;
            (config["delay_ms"] == "5400000").then_some(())
        },
    )
    .await;
    let reasons = s.event_reasons().await;
    assert!(reasons.iter().any(|r| r == "HandedOver"), "{reasons:?}");
    // The last claimant deletes it.
    s.delete_and_wait("second").await;
    s.connect
        .wait_deleted(&name, "deleted with its last claimant")
        .await;
}

#[tokio::test]
async fn orphan_policy_keeps_the_connector_and_a_new_cr_adopts_it() {
    let s = Scenario::new("e2e-orphan", &[]).await;
    let name = s.unique("orphan");
    s.apply(
        "orphan",
        mock(&name, HEALTHY_MS, json!({"deletionPolicy": "Orphan"})),
    )
    .await;
    s.wait_ready("orphan").await;
    s.delete_and_wait("orphan").await;
    assert!(
        s.connect.status(&name).await.is_some(),
        "Orphan left the connector running"
    );

    // Adoption: a new CR naming the existing connector takes it over without re-creating it.
    s.apply("adopter", mock(&name, 7_200_000, json!({}))).await;
    s.wait_ready("adopter").await;
    let config = s.connect.config(&name).await;
    assert_eq!(
        config["delay_ms"], "7200000",
        "the adopter's config is applied"
    );
    s.connectors
        .delete("adopter", &DeleteParams::default())
        .await
        .unwrap();
    s.connect.wait_deleted(&name, "deleted from Connect").await;
}

/// Another team's connector, made through REST, shares a name with a KafkaConnector stuck
/// before its first write (a Secret it reads is missing): deleting the KafkaConnector leaves
/// that connector alone, and says so. Before provenance, the cleanup deleted it.
#[tokio::test]
async fn deleting_an_object_that_never_reached_its_connector_deletes_nothing() {
    let s = Scenario::new("e2e-neverowned", &[]).await;
    let name = s.unique("theirs");
    s.connect.create_mock(&name, HEALTHY_MS).await;
    let mut spec = healthy_mock(&name);
    spec["configFrom"] = json!([{"key": "mock.secret",
        "valueFrom": {"secretKeyRef": {"name": "not-there", "key": "k"}}}]);
    s.apply("stuck", spec).await;
    s.wait("stuck", "MissingReference", |o| {
        condition_reason(o, "Ready") == Some("MissingReference")
    })
    .await;
    s.delete_and_wait("stuck").await;
    assert!(
        s.connect.status(&name).await.is_some(),
        "the other team's connector is still in Connect"
    );
    let events = s.events().await;
    assert!(
        events
            .iter()
            .any(|(r, n)| r == "NeverOwned" && n.contains(&name)),
        "{events:?}"
    );
    assert_eq!(s.connect.delete(&name).await, 204);
}
