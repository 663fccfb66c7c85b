//! What makes two URLs one Connect group, and what cannot: the workers a cluster object's
//! polls showed are kept in its status, so after an operator restart a KafkaConnector that
//! lost a name on one URL of the group still loses it before the other URL has been polled;
//! and a server that reports another group's worker ids, from another namespace, joins
//! nothing: it can neither hold a name against the group's own KafkaConnectors nor block
//! their deletes.

mod common;

use common::teams::{apply_cluster_in, apply_in, recorded_workers, wait_in};
use common::{
    HEALTHY_MS, MOCK, Operator, Proxy, Scenario, condition_reason, eventually, fake_connect,
    install_operator_crds, is_ready, kube, mock, namespace,
};
use kco::api::KafkaConnector;
use kube::Api;
use kube::api::DeleteParams;
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

fn conflict_at_generation(o: &KafkaConnector) -> bool {
    let current = o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation;
    current && condition_reason(o, "Ready") == Some("Conflict")
}

/// Worker 1 through a proxy (`first`) and worker 2 (`second`): one group, two cluster
/// objects. `loser` is in Conflict on `second`. The operator restarts while `first` is
/// unreachable, so only `second` can be polled: the recorded workers still make the two one
/// Connect, and `loser` writes nothing and deletes nothing.
#[tokio::test]
async fn two_urls_of_one_group_stay_one_across_a_restart() {
    let worker1 = common::env("CONNECT_URL");
    let proxy = Proxy::start(worker1.trim_start_matches("http://").trim_end_matches('/')).await;
    let mut s = Scenario::without_cluster("e2e-identity", &[]).await;
    s.try_apply_cluster("first", json!({"url": proxy.url()}))
        .await
        .unwrap();
    s.try_apply_cluster("second", json!({"url": common::env("CONNECT_URL_2")}))
        .await
        .unwrap();
    let name = s.unique("one-group");
    let on = |cluster: &str| json!({"clusterRef": {"name": cluster}});
    s.apply("winner", mock(&name, HEALTHY_MS, on("first")))
        .await;
    s.wait_ready("winner").await;
    eventually("first recorded the group's workers", WAIT, || async {
        let recorded = recorded_workers(&s.client, &s.ns, "first").await;
        (!recorded.is_empty()).then_some(())
    })
    .await;
    s.apply("loser", mock(&name, 5_400_000, on("second"))).await;
    s.wait("loser", "Conflict", conflict_at_generation).await;
    eventually(
        "both cluster objects recorded a common worker",
        WAIT,
        || async {
            let a = recorded_workers(&s.client, &s.ns, "first").await;
            let b = recorded_workers(&s.client, &s.ns, "second").await;
            a.iter().any(|w| b.contains(w)).then_some(())
        },
    )
    .await;

    s.operator.kill().await;
    proxy.cut();
    s.operator = Operator::start(&s.ns, &[]).await;
    // A new generation, reconciled by the new process while `first` cannot be polled.
    s.apply("loser", mock(&name, 5_500_000, on("second"))).await;
    s.wait(
        "loser",
        "Conflict after the restart",
        conflict_at_generation,
    )
    .await;
    assert_eq!(
        s.connect.config(&name).await["delay_ms"],
        "3600000",
        "the loser wrote its config after the restart"
    );
    s.delete_and_wait("loser").await;
    assert!(
        s.connect.status(&name).await.is_some(),
        "deleting the loser deleted the winner's connector"
    );
    let reasons = s.event_reasons().await;
    assert!(reasons.iter().any(|r| r == "NeverOwned"), "{reasons:?}");

    proxy.restore().await;
    s.wait_ready("winner").await;
    s.delete_and_wait("winner").await;
    s.connect
        .wait_deleted(&name, "deleted with its owner")
        .await;
}

/// A fake server, named by a cluster object in another namespace, lists the name the victim
/// will claim and reports the real group's worker for it. Its KafkaConnector is older (and
/// its namespace sorts first, so a tie on the second would go its way too). The victim on
/// the real Connect creates, owns and deletes its connector all the same.
#[tokio::test]
async fn a_server_reporting_another_groups_workers_takes_nothing_over() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let evil_ns = namespace(&client, "xid-a-evil").await;
    let victim_ns = namespace(&client, "xid-b-victim").await;
    let connect = common::Connect::worker(1);
    let suffix = common::uuid_suffix();
    // A connector of the real group, running for the whole test: the real cluster object's
    // polls show its worker, the one the fake claims too.
    let probe = format!("xid-probe-{suffix}");
    connect.create_mock(&probe, HEALTHY_MS).await;
    let worker = eventually("the probe runs on a worker", WAIT, || async {
        let status = connect.status(&probe).await?;
        status["connector"]["worker_id"].as_str().map(String::from)
    })
    .await;
    let name = format!("xid-victim-{suffix}");
    let listing = json!({&name: {
        "status": {"name": name, "type": "source",
            "connector": {"state": "RUNNING", "worker_id": worker},
            "tasks": [{"id": 0, "state": "RUNNING", "worker_id": worker}]},
        "info": {"name": name, "type": "source", "tasks": [],
            "config": {"connector.class": MOCK, "name": name}}}});
    let (port, _) = fake_connect(listing.to_string()).await;

    let id = victim_ns.clone();
    let _operator = Operator::start_cluster_wide(&id, &[]).await;
    let fake_url = format!("http://127.0.0.1:{port}");
    apply_cluster_in(&client, &evil_ns, "fake", &id, json!({"url": fake_url})).await;
    let evil: Api<KafkaConnector> = Api::namespaced(client.clone(), &evil_ns);
    let fake_ref = json!({"clusterRef": {"name": "fake"}});
    apply_in(&evil, "squatter", mock(&name, HEALTHY_MS, fake_ref)).await;
    eventually("the fake's workers are recorded", WAIT, || async {
        let recorded = recorded_workers(&client, &evil_ns, "fake").await;
        recorded.contains(&worker).then_some(())
    })
    .await;

    apply_cluster_in(
        &client,
        &victim_ns,
        "real",
        &id,
        json!({"url": common::env("CONNECT_URL")}),
    )
    .await;
    let victim: Api<KafkaConnector> = Api::namespaced(client.clone(), &victim_ns);
    let real_ref = json!({"clusterRef": {"name": "real"}});
    apply_in(&victim, "victim", mock(&name, HEALTHY_MS, real_ref.clone())).await;
    wait_in(&victim, "victim", "the victim owns its connector", is_ready).await;
    eventually("the real group's workers are recorded", WAIT, || async {
        let recorded = recorded_workers(&client, &victim_ns, "real").await;
        recorded.contains(&worker).then_some(())
    })
    .await;
    // Reconciled again with both sides' workers known: still the owner, and it writes.
    apply_in(&victim, "victim", mock(&name, 7_200_000, real_ref)).await;
    wait_in(&victim, "victim", "the victim's change applied", |o| {
        is_ready(o)
            && o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation
    })
    .await;
    assert_eq!(connect.config(&name).await["delay_ms"], "7200000");

    victim
        .delete("victim", &DeleteParams::default())
        .await
        .unwrap();
    connect
        .wait_deleted(&name, "the victim's delete is not blocked by the squatter")
        .await;
    evil.delete("squatter", &DeleteParams::default())
        .await
        .unwrap();
    connect.delete(&probe).await;
}
