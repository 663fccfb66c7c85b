//! Static sharding by KafkaConnectCluster (`--watch-label-selector`): two shards, each its
//! own process and Lease; a cluster object relabelled from one shard to the other is handed
//! over: afterwards only the new shard writes to Connect, and it neither creates the
//! connector again nor serves the restart the old shard served. The cluster's status and
//! every metric series name the shard. A connector moves (`clusterRef` changed) only between
//! cluster objects of one shard, so that one process writes to each Connect.

mod common;

use std::time::Duration;

use common::teams::{apply_in, wait_in};
use common::{
    Connect, HEALTHY_MS, Operator, condition, condition_reason, env, eventually,
    install_operator_crds, is_ready, is_ready_in, kube, last_restart_id, mock, namespace,
};
use kco::api::{KafkaConnectCluster, KafkaConnector};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(90);

/// Connect writes `operator` made, by endpoint, from its `/metrics`.
async fn writes(operator: &Operator, endpoint: &str) -> f64 {
    let text = operator.metrics().await.expect("metrics");
    common::metrics::sum(
        &text,
        "kco_connect_requests_total",
        &format!("endpoint=\"{endpoint}\""),
    )
}

async fn shard_of(clusters: &Api<KafkaConnectCluster>) -> Option<String> {
    clusters.get("moving").await.ok()?.status?.shard
}

#[tokio::test]
async fn a_cluster_relabelled_to_another_shard_is_handed_over() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let ns = namespace(&client, "shards").await;
    let a = Operator::start_shard(&ns, "a").await;
    let b = Operator::start_shard(&ns, "b").await;
    let selector = |shard: &str| format!("kco-test={ns},kafkaconnect.dev/shard={shard}");

    let clusters: Api<KafkaConnectCluster> = Api::namespaced(client.clone(), &ns);
    let cluster = |shard: &str| {
        json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
            "metadata": {"name": "moving", "labels": {"kco-test": ns, "kafkaconnect.dev/shard": shard}},
            "spec": {"url": common::env("CONNECT_URL")}})
    };
    let pp = PatchParams::apply("kco-tests").force();
    clusters
        .patch("moving", &pp, &Patch::Apply(cluster("a")))
        .await
        .unwrap();
    let connectors: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let name = format!("{ns}-c");
    let spec = |delay: u64| {
        mock(
            &name,
            delay,
            json!({"clusterRef": {"name": "moving"}, "restart": {"id": "r1"}}),
        )
    };
    apply_in(&connectors, "c", spec(HEALTHY_MS)).await;
    wait_in(
        &connectors,
        "c",
        "Ready on shard a, restart r1 served",
        |o| is_ready(o) && last_restart_id(o) == Some("r1"),
    )
    .await;
    let want_a = selector("a");
    eventually("the cluster names shard a", WAIT, || async {
        (shard_of(&clusters).await.as_deref() == Some(want_a.as_str())).then_some(())
    })
    .await;
    let shard_label = format!("shard=\"{}\"", selector("a"));
    let metrics = a.metrics().await.unwrap();
    assert!(
        common::metrics::samples(&metrics)
            .any(|s| s.name == "kco_reconciles_total" && s.has(&shard_label)),
        "shard a's series carry its selector:\n{metrics}"
    );
    assert_eq!(
        writes(&a, "create").await,
        1.0,
        "shard a created the connector"
    );
    assert_eq!(writes(&b, "create").await, 0.0, "shard b had nothing to do");

    // Relabel: b takes over.
    clusters
        .patch("moving", &pp, &Patch::Apply(cluster("b")))
        .await
        .unwrap();
    let want_b = selector("b");
    eventually("the cluster names shard b", WAIT, || async {
        (shard_of(&clusters).await.as_deref() == Some(want_b.as_str())).then_some(())
    })
    .await;
    let a_before = (
        writes(&a, "put_config").await,
        writes(&a, "create").await,
        writes(&a, "restart").await,
    );
    apply_in(&connectors, "c", spec(7_200_000)).await;
    let connect = common::Connect::worker(1);
    eventually("shard b applied the change", WAIT, || async {
        (connect.config(&name).await["delay_ms"] == "7200000").then_some(())
    })
    .await;
    wait_in(&connectors, "c", "Ready at the new generation", |o| {
        is_ready(o)
            && o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation
    })
    .await;
    let a_after = (
        writes(&a, "put_config").await,
        writes(&a, "create").await,
        writes(&a, "restart").await,
    );
    println!(
        "after the handover: shard a wrote (put_config, create, restart) {a_before:?} -> {a_after:?}; shard b put_config {}, create {}, restart {}",
        writes(&b, "put_config").await,
        writes(&b, "create").await,
        writes(&b, "restart").await
    );
    assert_eq!(a_before, a_after, "the old shard wrote after the handover");
    assert!(
        writes(&b, "put_config").await >= 1.0,
        "the new shard wrote the change"
    );
    assert_eq!(writes(&b, "create").await, 0.0, "no second create");
    assert_eq!(
        writes(&b, "restart").await,
        0.0,
        "restart r1 was not served again"
    );

    connectors
        .delete("c", &DeleteParams::default())
        .await
        .unwrap();
    connect.wait_deleted(&name, "deleted by shard b").await;
}

/// Writes that change where a connector runs, summed over `operator`'s endpoints.
async fn placing_writes(operator: &Operator) -> f64 {
    let mut sum = 0.0;
    for endpoint in ["create", "stop", "delete", "alter_offsets", "resume"] {
        sum += writes(operator, endpoint).await;
    }
    sum
}

fn lives_on(o: &KafkaConnector) -> Option<&str> {
    Some(o.status.as_ref()?.cluster.as_ref()?.name.as_str())
}

/// `clusterRef` changed to a cluster object of the other shard: that shard would have to
/// stop and delete the connector on a Connect the first shard writes to, so the move is
/// refused with nothing written, and the connector keeps running where it is. Once the old
/// cluster object joins the new one's shard, the move goes ahead, carried out by that shard.
#[tokio::test]
async fn a_connector_moves_only_between_cluster_objects_of_one_shard() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let ns = namespace(&client, "shardmove").await;
    let a = Operator::start_shard(&ns, "a").await;
    let b = Operator::start_shard(&ns, "b").await;
    let clusters: Api<KafkaConnectCluster> = Api::namespaced(client.clone(), &ns);
    let pp = PatchParams::apply("kco-tests").force();
    let cluster = |name: &str, url: &str, shard: &str| {
        json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
            "metadata": {"name": name, "labels": {"kco-test": ns, "kafkaconnect.dev/shard": shard}},
            "spec": {"url": url}})
    };
    let (old_url, new_url) = (env("CONNECT_URL_V362"), env("CONNECT_URL"));
    for (name, url, shard) in [("old", &old_url, "a"), ("new", &new_url, "b")] {
        clusters
            .patch(name, &pp, &Patch::Apply(cluster(name, url, shard)))
            .await
            .unwrap();
    }
    let connectors: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let name = format!("{ns}-m");
    // A file source: the 3.6.2 worker has no MockSourceConnector.
    let input = std::env::temp_dir().join(format!("{ns}-shard-move-in.txt"));
    common::lines::append(&input, &["one"]);
    let on = |cluster: &str| {
        json!({"connectorName": name, "class": common::lines::FILE_SOURCE, "tasksMax": 1,
            "clusterRef": {"name": cluster},
            "config": {"file": input.to_string_lossy(), "topic": format!("{ns}-lines")}})
    };
    apply_in(&connectors, "m", on("old")).await;
    wait_in(&connectors, "m", "Ready on old (shard a)", |o| {
        is_ready_in(o, "RUNNING") && lives_on(o) == Some("old")
    })
    .await;
    let (old, new) = (
        Connect::new(old_url.as_str()),
        Connect::new(new_url.as_str()),
    );
    let a_before = placing_writes(&a).await;

    apply_in(&connectors, "m", on("new")).await;
    let o = wait_in(&connectors, "m", "MoveRefused", |o| {
        condition_reason(o, "Ready") == Some("MoveRefused")
    })
    .await;
    let message = condition(&o, "Ready").unwrap().message.clone();
    assert!(message.contains("another shard"), "{message}");
    assert_eq!(lives_on(&o), Some("old"), "still lives on old");
    let live = old.status(&name).await.expect("still on the 3.6.2 worker");
    assert_eq!(live["connector"]["state"], "RUNNING", "left running");
    assert!(new.status(&name).await.is_none(), "nothing created on new");
    assert_eq!(placing_writes(&b).await, 0.0, "shard b wrote nothing");
    assert_eq!(placing_writes(&a).await, a_before, "shard a wrote nothing");

    // The old cluster object joins shard b: b moves the connector.
    clusters
        .patch("old", &pp, &Patch::Apply(cluster("old", &old_url, "b")))
        .await
        .unwrap();
    wait_in(&connectors, "m", "moved to new by shard b", |o| {
        is_ready_in(o, "RUNNING") && lives_on(o) == Some("new")
    })
    .await;
    old.wait_deleted(&name, "deleted from old by the move")
        .await;
    assert_eq!(placing_writes(&a).await, a_before, "shard a took no part");
    assert!(writes(&b, "stop").await >= 1.0, "shard b stopped it on old");

    connectors
        .delete("m", &DeleteParams::default())
        .await
        .unwrap();
    new.wait_deleted(&name, "deleted by shard b").await;
}
