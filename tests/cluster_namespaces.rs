//! Many teams, one Connect: KafkaConnectors in two team namespaces attach to one
//! KafkaConnectCluster in a platform namespace that allows them by label
//! (`allowedNamespaces.from: Selector`); a third team's namespace is refused and nothing is
//! written for it; one Connect has one poller however many cluster objects name it; and a
//! namespace taken off the allow-list keeps its connector in Connect, even when its
//! KafkaConnector is then deleted. The operator watches every namespace, as installed
//! cluster-wide, and manages only this test's cluster objects (`--watch-label-selector`).

mod common;

use std::time::Duration;

use common::teams::{apply_cluster_in, apply_in, label_namespace, wait_in};
use common::{
    HEALTHY_MS, Operator, condition, condition_reason, eventually, install_operator_crds, is_ready,
    kube, mock, namespace,
};
use k8s_openapi::api::events::v1::Event;
use kco::api::KafkaConnector;
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(90);

#[tokio::test]
async fn teams_attach_to_a_shared_cluster_only_where_it_allows_them() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let platform = namespace(&client, "xns-platform").await;
    let (team_a, team_b, team_c) = (
        namespace(&client, "xns-team-a").await,
        namespace(&client, "xns-team-b").await,
        namespace(&client, "xns-team-c").await,
    );
    let attach = json!({"kco-attach": platform});
    label_namespace(&client, &team_a, attach.clone()).await;
    label_namespace(&client, &team_b, attach).await;
    label_namespace(&client, &team_c, json!({"kco-attach": "elsewhere"})).await;
    let operator = Operator::start_cluster_wide(&platform, &[]).await;

    let url = common::env("CONNECT_URL");
    apply_cluster_in(&client, &platform, "shared", &platform, json!({"url": url,
        "allowedNamespaces": {"from": "Selector", "selector": {"matchLabels": {"kco-attach": platform}}}}))
    .await;
    // Team b also keeps a cluster object of its own for the same Connect (the way teams
    // worked before they could attach): the same URL and settings, one poller.
    apply_cluster_in(&client, &team_b, "own", &platform, json!({"url": url})).await;

    let shared = json!({"clusterRef": {"name": "shared", "namespace": platform}});
    let (a, b, c) = (
        Api::<KafkaConnector>::namespaced(client.clone(), &team_a),
        Api::<KafkaConnector>::namespaced(client.clone(), &team_b),
        Api::<KafkaConnector>::namespaced(client.clone(), &team_c),
    );
    let suffix = common::uuid_suffix();
    let names = [
        format!("xns-a-{suffix}"),
        format!("xns-b-{suffix}"),
        format!("xns-own-{suffix}"),
        format!("xns-c-{suffix}"),
    ];
    apply_in(&a, "a", mock(&names[0], HEALTHY_MS, shared.clone())).await;
    apply_in(&b, "b", mock(&names[1], HEALTHY_MS, shared.clone())).await;
    apply_in(
        &b,
        "own",
        mock(
            &names[2],
            HEALTHY_MS,
            json!({"clusterRef": {"name": "own"}}),
        ),
    )
    .await;
    apply_in(&c, "c", mock(&names[3], HEALTHY_MS, shared.clone())).await;

    wait_in(&a, "a", "team a's connector Ready", is_ready).await;
    wait_in(&b, "b", "team b's connector Ready", is_ready).await;
    wait_in(&b, "own", "team b's own cluster object works too", is_ready).await;
    let refused = wait_in(&c, "c", "team c refused", |o| {
        condition_reason(o, "Ready") == Some("NamespaceNotAllowed")
    })
    .await;
    let message = &condition(&refused, "Ready").unwrap().message;
    println!("team c: {message}");
    assert!(
        message.contains(&format!("{platform}/shared")) && message.contains(&team_c),
        "names the cluster object and the namespace: {message}"
    );
    let connect = common::Connect::worker(1);
    assert!(
        connect.status(&names[3]).await.is_none(),
        "nothing was written for the refused namespace"
    );

    // Two cluster objects, three namespaces of KafkaConnectors: one poller.
    let metrics = operator.metrics().await.expect("metrics");
    let pollers = common::metrics::sum(&metrics, "kco_connect_pollers", "");
    assert_eq!(pollers, 1.0, "one Connect, one poller:\n{metrics}");

    // Team a leaves the allow-list: management stops (a condition), the connector stays,
    // and deleting its KafkaConnector leaves the connector in Connect.
    label_namespace(&client, &team_a, json!({"kco-attach": null})).await;
    wait_in(&a, "a", "team a refused once unlabelled", |o| {
        condition_reason(o, "Ready") == Some("NamespaceNotAllowed")
    })
    .await;
    assert!(
        connect.status(&names[0]).await.is_some(),
        "still in Connect"
    );
    a.delete("a", &DeleteParams::default()).await.unwrap();
    eventually("team a's object is gone", WAIT, || async {
        a.get_opt("a").await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(
        connect.status(&names[0]).await.is_some(),
        "deleting an object whose namespace is no longer allowed leaves its connector"
    );
    let events: Api<Event> = Api::namespaced(client.clone(), &team_a);
    let said: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|e| e.note)
        .collect();
    assert!(
        said.iter()
            .any(|n| n.contains("left connector") && n.contains(&names[0])),
        "an Event says the connector was left: {said:?}"
    );

    // Team b is still managed, through both cluster objects.
    apply_in(&b, "b", mock(&names[1], 7_200_000, shared)).await;
    eventually("team b's change reaches Connect", WAIT, || async {
        (connect.config(&names[1]).await["delay_ms"] == "7200000").then_some(())
    })
    .await;
    for (api, name) in [(&b, "b"), (&b, "own"), (&c, "c")] {
        api.delete(name, &DeleteParams::default()).await.unwrap();
    }
    connect
        .wait_deleted(&names[1], "team b's connector deleted with its object")
        .await;
    connect
        .wait_deleted(&names[2], "team b's own connector deleted with its object")
        .await;
    connect.delete(&names[0]).await;
}
