//! A KafkaConnectCluster that is not there or does not answer, on the real stack: a missing
//! cluster is reported and recovers once it exists; an unreachable one makes connectors and
//! the cluster not Ready but deletes nothing; a hanging one does not delay connectors on
//! another cluster.

mod common;

use std::time::Duration;

use common::{HEALTHY_MS, Scenario, condition_reason, healthy_mock, is_ready, mock};
use serde_json::json;

#[tokio::test]
async fn a_missing_cluster_is_reported_and_recovers() {
    let s = Scenario::without_cluster("e2e-nocluster", &[]).await;
    let name = s.unique("waiting");
    s.apply("waiting", healthy_mock(&name)).await;
    s.wait("waiting", "ClusterNotFound", |o| {
        condition_reason(o, "Ready") == Some("ClusterNotFound")
    })
    .await;
    assert!(s.connect.status(&name).await.is_none());
    s.apply_cluster(json!({"url": common::env("CONNECT_URL_2")}))
        .await;
    s.wait_ready("waiting").await;
}

#[tokio::test]
async fn an_unreachable_cluster_is_not_ready_and_nothing_is_deleted() {
    let s = Scenario::new("e2e-unreach", &[]).await;
    let name = s.unique("steady");
    s.apply("steady", healthy_mock(&name)).await;
    s.wait_ready("steady").await;
    // Point the cluster at a port where nothing listens: connectors keep their connector.
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{}", common::free_port()), "requestTimeoutSeconds": 2})).await;
    s.wait("steady", "ConnectUnavailable", |o| {
        condition_reason(o, "Ready") == Some("ConnectUnavailable")
    })
    .await;
    s.wait_cluster_ready("False", None).await;
    let reasons = s.event_reasons().await;
    assert!(
        reasons.iter().any(|r| r == "ConnectUnavailable"),
        "a Warning Event says Connect is unavailable: {reasons:?}"
    );
    assert!(
        s.connect.status(&name).await.is_some(),
        "an unreachable cluster never leads to a delete"
    );
    s.apply_cluster(json!({"url": common::env("CONNECT_URL")}))
        .await;
    s.wait_ready("steady").await;
}

#[tokio::test]
async fn a_hanging_cluster_does_not_delay_connectors_elsewhere() {
    // A "Connect" that accepts connections and never answers: every request to it hangs
    // until the client's timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut open = vec![];
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock);
        }
    });
    let s = Scenario::new("e2e-hang", &[]).await;
    s.try_apply_cluster(
        "hang",
        json!({"url": format!("http://127.0.0.1:{port}"), "requestTimeoutSeconds": 60}),
    )
    .await
    .unwrap();
    for i in 0..3 {
        let connector = s.unique(&format!("stuck-{i}"));
        let spec = mock(
            &connector,
            HEALTHY_MS,
            json!({"clusterRef": {"name": "hang"}}),
        );
        s.apply(&format!("stuck-{i}"), spec).await;
    }
    // Applied after the hanging ones, on the working cluster: Ready as quickly as ever.
    let t = std::time::Instant::now();
    let name = s.unique("free");
    s.apply("free", healthy_mock(&name)).await;
    s.wait_ready("free").await;
    let took = t.elapsed();
    println!("a connector beside 3 hanging ones was Ready in {took:?}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    for i in 0..3 {
        let o = s.connectors.get(&format!("stuck-{i}")).await.unwrap();
        assert!(
            !is_ready(&o),
            "a connector on the hanging cluster is not Ready"
        );
    }
    hold.abort();
}
