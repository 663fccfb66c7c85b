//! Leader election with a Lease on the real stack: two operator replicas, one leader; after
//! SIGKILL the follower takes over within 15 seconds and a change made meanwhile converges;
//! after SIGTERM the Lease is released, so the follower takes over at once.

mod common;

use std::time::{Duration, Instant};

use common::{HEALTHY_MS, Operator, Scenario, eventually, is_ready_in, mock};
use serde_json::json;

async fn wait_leader(op: &Operator, want: f64) {
    eventually(
        &format!("kco_leader {want}"),
        Duration::from_secs(60),
        || async { (op.metric("kco_leader", "").await? == want).then_some(()) },
    )
    .await;
}

/// Replaces the scenario's own operator (not elected) with two electing replicas started
/// with `args`: the first is the leader, the second a ready follower.
async fn leader_and_follower(s: &mut Scenario, args: &[&str]) -> (Operator, Operator) {
    s.operator.kill().await;
    let a = Operator::start(&s.ns, args).await;
    wait_leader(&a, 1.0).await;
    let b = Operator::start(&s.ns, args).await;
    eventually("the follower is ready", Duration::from_secs(60), || async {
        (b.get("/readyz").await?.0 == 200).then_some(())
    })
    .await;
    (a, b)
}

#[tokio::test]
async fn a_killed_leader_is_replaced_within_15_seconds_and_the_change_converges() {
    let mut s = Scenario::without_cluster("ha-failover", &[]).await;
    let ns = s.ns.clone();
    let (mut a, b) =
        leader_and_follower(&mut s, &["--leader-election", "--lease-namespace", &ns]).await;
    assert_eq!(
        b.metric("kco_leader", "").await,
        Some(0.0),
        "only one leader"
    );

    s.apply_cluster(json!({"url": common::env("CONNECT_URL")}))
        .await;
    let name = s.unique("ha");
    s.apply("ha", mock(&name, HEALTHY_MS, json!({"state": "running"})))
        .await;
    s.wait_ready("ha").await;

    a.kill().await;
    let killed = Instant::now();
    s.apply("ha", mock(&name, HEALTHY_MS, json!({"state": "paused"})))
        .await;
    s.wait("ha", "PAUSED by the new leader", |o| {
        is_ready_in(o, "PAUSED")
    })
    .await;
    let took = killed.elapsed();
    println!("failover: the change made after SIGKILL converged {took:?} after the kill");
    assert!(took < Duration::from_secs(15), "takeover took {took:?}");
    assert_eq!(b.metric("kco_leader", "").await, Some(1.0));
    let live = s.connect.status(&name).await.unwrap();
    assert_eq!(live["connector"]["state"], "PAUSED");
}

#[tokio::test]
async fn sigterm_releases_the_lease_so_the_follower_takes_over_at_once() {
    let mut s = Scenario::without_cluster("ha-term", &[]).await;
    let ns = s.ns.clone();
    // A long Lease: without the release the follower would wait 60 s.
    let args = [
        "--leader-election",
        "--lease-namespace",
        &ns,
        "--lease-duration",
        "60s",
    ];
    let (mut a, b) = leader_and_follower(&mut s, &args).await;
    let t = Instant::now();
    let status = a.terminate().await;
    assert!(status.success(), "graceful exit: {status:?}");
    assert!(a.logs().contains("released the leader Lease"));
    wait_leader(&b, 1.0).await;
    let took = t.elapsed();
    println!("hand-over after SIGTERM: {took:?} (Lease duration 60 s)");
    assert!(took < Duration::from_secs(20), "hand-over took {took:?}");
}
