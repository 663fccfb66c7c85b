//! Leader election with a Lease on the real stack: two operator replicas, one leader; after
//! SIGKILL the follower takes over within 15 seconds and a change made meanwhile converges;
//! after SIGTERM the Lease is released, so the follower takes over at once; a leader cut off
//! from the apiserver (a proxy that stops forwarding) exits before its Lease can expire; a
//! second replica started without election refuses to run beside the first; a leader keeps
//! renewing its Lease for as long as it runs; a process that takes over an unreleased Lease
//! holds its creates. Stopping while the Lease is taken is in `leader_shutdown.rs`.

mod common;

use std::time::{Duration, Instant};

use common::{HEALTHY_MS, Operator, Scenario, eventually, healthy_mock, is_ready_in, mock};
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
    // SIGTERM: it releases the Lease it held as the only replica.
    s.operator.terminate().await;
    let a = Operator::start_with_env(&s.ns, args, &[("POD_NAME", "replica-a")]).await;
    wait_leader(&a, 1.0).await;
    let b = Operator::start_with_env(&s.ns, args, &[("POD_NAME", "replica-b")]).await;
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

/// When the Lease was last renewed and for how long it is held, as the apiserver has it.
async fn lease_times(s: &Scenario) -> (String, jiff::Timestamp, i64) {
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(s.client.clone(), &s.ns);
    let spec = leases
        .get("kafka-connect-operator")
        .await
        .unwrap()
        .spec
        .unwrap();
    (
        spec.holder_identity.unwrap_or_default(),
        spec.renew_time.expect("a renewed Lease").0,
        spec.lease_duration_seconds.unwrap_or_default().into(),
    )
}

/// A leader left alone keeps its Lease renewal after renewal, with a follower waiting: the
/// renewal watchdog once cancelled the renewal it was waiting for (both fell due at the same
/// moment), after which the leader never renewed and counted its Lease lost.
#[tokio::test]
async fn a_leader_keeps_renewing_its_lease() {
    let mut s = Scenario::without_cluster("ha-renew", &[]).await;
    let ns = s.ns.clone();
    // The shortest Lease: a renewal every second, so many in a short test.
    let args = [
        "--leader-election",
        "--lease-namespace",
        ns.as_str(),
        "--lease-duration",
        "3s",
    ];
    let (mut a, b) = leader_and_follower(&mut s, &args).await;
    let mut renewals = std::collections::BTreeSet::new();
    let watched = Instant::now();
    // Watched at a quarter of the renewal interval, so no renewal goes unseen.
    while renewals.len() < 12 {
        let (holder, renewed, _) = lease_times(&s).await;
        assert_eq!(
            holder, "replica-a",
            "the Lease changed hands after {renewals:?}"
        );
        renewals.insert(renewed);
        assert!(
            watched.elapsed() < Duration::from_secs(60),
            "renewals: {renewals:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!(
        "{} renewals in {:.1}s",
        renewals.len(),
        watched.elapsed().as_secs_f64()
    );
    assert!(
        a.exited_within(Duration::ZERO).await.is_none(),
        "the leader runs"
    );
    assert!(!a.logs().contains("Lease lost"), "{}", a.logs());
    assert_eq!(a.metric("kco_leader", "").await, Some(1.0));
    assert_eq!(b.metric("kco_leader", "").await, Some(0.0));
}

/// A leader cut off from the apiserver (a partition: its requests hang) stops before its
/// Lease can expire, so it never writes to Connect while another replica leads; the follower
/// takes over once the Lease expires and converges a change.
#[tokio::test]
async fn a_leader_cut_from_the_apiserver_stops_before_its_lease_expires() {
    let mut s = Scenario::without_cluster("ha-fence", &[]).await;
    s.operator.terminate().await;
    let ns = s.ns.clone();
    let args = ["--leader-election", "--lease-namespace", ns.as_str()];
    let partition = common::partition::Partition::start().await;
    let kubeconfig = partition.kubeconfig(&ns);
    let envs = [
        ("KUBECONFIG", kubeconfig.as_str()),
        ("POD_NAME", "leader-a"),
    ];
    let mut a = Operator::start_with_env(&ns, &args, &envs).await;
    wait_leader(&a, 1.0).await;
    let b = Operator::start_with_env(&ns, &args, &[("POD_NAME", "leader-b")]).await;
    s.apply_cluster(json!({"url": common::env("CONNECT_URL")}))
        .await;
    let name = s.unique("fenced");
    s.apply(
        "fenced",
        mock(&name, HEALTHY_MS, json!({"state": "running"})),
    )
    .await;
    s.wait_ready("fenced").await;
    assert_eq!(b.metric("kco_leader", "").await, Some(0.0));

    partition.cut();
    let cut_at = Instant::now();
    let exited = a.exited_within(Duration::from_secs(60)).await;
    let exited_at = jiff::Timestamp::now();
    assert!(
        exited.is_some_and(|e| !e.success()),
        "the cut-off leader exits"
    );
    let (holder, renewed, duration) = lease_times(&s).await;
    let expires = renewed + jiff::SignedDuration::from_secs(duration);
    println!(
        "cut-off leader exited {:.1}s after the cut, {:.1}s before its Lease ({holder}) expired",
        cut_at.elapsed().as_secs_f64(),
        expires.duration_since(exited_at).as_secs_f64()
    );
    assert_eq!(holder, "leader-a", "nobody else led yet");
    assert!(
        exited_at < expires,
        "the old leader was still running at {exited_at}, after its Lease expired at {expires}"
    );
    wait_leader(&b, 1.0).await;
    let taken = cut_at.elapsed();
    println!(
        "the follower leads {:.1}s after the cut",
        taken.as_secs_f64()
    );
    assert!(
        taken < Duration::from_secs(2 * duration as u64 + 5),
        "the follower took over only after {taken:?}"
    );
    s.apply(
        "fenced",
        mock(&name, HEALTHY_MS, json!({"state": "paused"})),
    )
    .await;
    s.wait("fenced", "PAUSED by the new leader", |o| {
        is_ready_in(o, "PAUSED")
    })
    .await;
}

/// `kubectl scale --replicas=2` on an install without leader election: the second replica
/// refuses to start and says why; the first goes on; once the first has stopped cleanly (its
/// Lease released), a replacement starts at once.
#[tokio::test]
async fn a_second_replica_without_election_refuses_to_start() {
    let mut s = Scenario::new("ha-single", &[]).await;
    let name = s.unique("one");
    s.apply("one", healthy_mock(&name)).await;
    s.wait_ready("one").await;

    let mut second = Operator::start_with_env(&s.ns, &[], &[("POD_NAME", "second")]).await;
    let exited = second.exited_within(Duration::from_secs(60)).await;
    let logs = second.logs();
    assert!(
        exited.is_some_and(|e| !e.success()),
        "the second replica exits with an error: {exited:?}\n{logs}"
    );
    let first = format!("another replica of the operator (operator-{})", s.ns);
    assert!(logs.contains(&first), "names the first replica: {logs}");
    assert!(
        logs.contains("--leader-election"),
        "says what to do: {logs}"
    );
    assert!(!logs.contains("reconcile{"), "reconciled nothing: {logs}");

    s.apply("one", mock(&name, HEALTHY_MS, json!({"state": "paused"})))
        .await;
    s.wait("one", "PAUSED by the first replica", |o| {
        is_ready_in(o, "PAUSED")
    })
    .await;

    assert!(s.operator.terminate().await.success());
    let t = Instant::now();
    let third = Operator::start_with_env(&s.ns, &[], &[("POD_NAME", "third")]).await;
    wait_leader(&third, 1.0).await;
    println!(
        "a replacement ran {:?} after the first stopped",
        t.elapsed()
    );
    s.apply("one", mock(&name, HEALTHY_MS, json!({"state": "running"})))
        .await;
    s.wait("one", "RUNNING by the replacement", |o| {
        is_ready_in(o, "RUNNING")
    })
    .await;
}

/// An operator that takes over a Lease its last holder did not release (this pod's previous
/// container, SIGKILLed) sends no create for `leader::SETTLE`: a create the dead process sent
/// just before may still reach Connect, and Connect accepts two creates of one name that
/// arrive close together (the fault suite's operator-kill case once saw one connector created
/// twice). A first start, with no holder, holds nothing.
#[tokio::test]
async fn creates_wait_after_taking_over_a_lease_a_killed_process_held() {
    let mut s = Scenario::new("ha-settle", &[]).await;
    wait_leader(&s.operator, 1.0).await;
    assert!(
        !s.operator.logs().contains("was not released"),
        "a first start takes over nothing"
    );
    s.operator.kill().await;
    // The same POD_NAME, as a restarted container has: it takes its own Lease back at once.
    s.operator = Operator::start(&s.ns, &[]).await;
    eventually("the takeover noticed", Duration::from_secs(60), || async {
        s.operator.logs().contains("was not released").then_some(())
    })
    .await;
    let noticed = Instant::now();
    let name = s.unique("settle");
    s.apply("settle", healthy_mock(&name)).await;
    s.wait_ready("settle").await;
    let took = noticed.elapsed();
    println!("created and Ready {took:?} after the takeover");
    assert!(
        took >= kco::leader::SETTLE - Duration::from_millis(500),
        "created {took:?} after taking over an unreleased Lease"
    );
}
