//! Stopping the operator while it takes its Lease, on the real stack: a SIGTERM while the
//! Lease is being taken, or right after, stops the process at once with the Lease released;
//! controllers told to stop before they start, or while their first list is under way (the
//! apiserver cut off), return at once instead of waiting for a cache that never fills.

mod common;

use std::time::{Duration, Instant};

use common::{Operator, Scenario, eventually, partition::Partition};

/// A SIGTERM that comes while the operator takes the Lease (a rollout that replaces a pod
/// just started) stops it within the grace, with the Lease released, instead of leaving a
/// leader that never stops: the signal once landed between "waiting to become leader" and
/// "became leader" and was lost.
#[tokio::test]
async fn a_sigterm_while_taking_the_lease_stops_the_operator_and_releases_it() {
    let mut s = Scenario::without_cluster("ha-earlyterm", &[]).await;
    s.operator.terminate().await;
    let ns = s.ns.clone();
    let args = ["--leader-election", "--lease-namespace", ns.as_str()];
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(s.client.clone(), &ns);
    // Signalled while it takes the Lease, then right after it took it (before its caches
    // are filled: the signal that came within the taking is seen there).
    for (round, moment) in ["waiting to become leader", "became leader"]
        .into_iter()
        .enumerate()
    {
        let mut op = Operator::start_with_env(&ns, &args, &[]).await;
        eventually(moment, Duration::from_secs(60), || async {
            op.logs().contains(moment).then_some(())
        })
        .await;
        let signalled = Instant::now();
        let status = op.terminate().await;
        let took = signalled.elapsed();
        println!("round {round} ({moment}): exited {took:?} after SIGTERM ({status})");
        assert!(
            took < Duration::from_secs(25),
            "round {round}: took {took:?}"
        );
        let lease = leases.get("kafka-connect-operator").await.unwrap();
        let holder = lease
            .spec
            .and_then(|s| s.holder_identity)
            .unwrap_or_default();
        assert!(holder.is_empty(), "round {round}: still held by {holder}");
    }
}

/// The controllers, handed a shutdown that has already come (a SIGTERM while the Lease was
/// being taken), return at once: they once never ended, and the process, holding its Lease,
/// waited for the kubelet's SIGKILL.
#[tokio::test]
async fn controllers_told_to_stop_before_they_start_return_at_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = common::kube().await;
    common::install_operator_crds(&client).await;
    let ns = common::namespace(&client, "early-stop").await;
    let config = kco::config::OperatorConfig {
        namespace: Some(ns),
        ..Default::default()
    };
    let health = std::sync::Arc::new(kco::telemetry::health::Health::new(Duration::from_secs(60)));
    let run = kco::controller::run(client, config, health, async {});
    let returned = tokio::time::timeout(Duration::from_secs(20), run).await;
    assert!(returned.is_ok(), "still running 20 s after the stop");
}

/// The controllers, stopped while their first list is still under way (a SIGTERM right after
/// the Lease was taken, seen on a loaded machine; here an apiserver that stopped answering),
/// return at once: kube-runtime's runner waits for a cache that the stop keeps from filling,
/// and the leader once held its Lease until the shutdown grace ran out.
#[tokio::test]
async fn controllers_stopped_during_their_first_list_return_at_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let direct = common::kube().await;
    common::install_operator_crds(&direct).await;
    let ns = common::namespace(&direct, "list-stop").await;
    let partition = Partition::start().await;
    partition.cut();
    let kubeconfig = kube::config::Kubeconfig::read_from(partition.kubeconfig(&ns)).unwrap();
    let options = kube::config::KubeConfigOptions::default();
    let proxied = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .unwrap();
    let client = kube::Client::try_from(proxied).unwrap();
    let config = kco::config::OperatorConfig {
        namespace: Some(ns),
        ..Default::default()
    };
    let health = std::sync::Arc::new(kco::telemetry::health::Health::new(Duration::from_secs(60)));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(kco::controller::run(
        client,
        config,
        health.clone(),
        async {
            let _ = stop_rx.await;
        },
    ));
    // A list has been sent (it hangs): the controllers run, their caches are empty.
    eventually(
        "a first list under way",
        Duration::from_secs(10),
        || async { (partition.accepted() > 0).then_some(()) },
    )
    .await;
    assert!(!health.ready(), "nothing listed, nothing ready");
    stop_tx.send(()).unwrap();
    let returned = tokio::time::timeout(Duration::from_secs(10), run).await;
    assert!(returned.is_ok(), "still running 10 s after the stop");
}
