//! No action on doubt, with faults the real workers cannot be made to show on demand, so on
//! the Connect emulator (which passes the same conformance suite as the real worker): a
//! state change Connect accepted but no worker carries out is sent once, not in a loop.

mod common;

use std::time::Duration;

use common::{Emulator, HEALTHY_MS, Scenario, condition, mock};
use reqwest::Method;
use serde_json::{Value, json};

/// A scenario whose cluster `emu` is a fresh emulator.
async fn on_emulator(prefix: &str) -> (Scenario, Emulator) {
    let emu = Emulator::start(&[]).await;
    let s = Scenario::new(prefix, &[]).await;
    s.try_apply_cluster("emu", json!({"url": emu.url}))
        .await
        .unwrap();
    (s, emu)
}

fn on_emu(connector: &str) -> Value {
    mock(
        connector,
        HEALTHY_MS,
        json!({"clusterRef": {"name": "emu"}}),
    )
}

/// How many requests the emulator answered on `endpoint`, all codes together.
async fn requests(emu: &Emulator, endpoint: &str) -> u64 {
    emu.requests(endpoint).await.values().sum()
}

#[tokio::test]
async fn a_pause_no_worker_carries_out_is_sent_once() {
    let (s, emu) = on_emulator("e2e-doubt-pause").await;
    let name = s.unique("held");
    s.apply("held", on_emu(&name)).await;
    s.wait_ready("held").await;
    // From now on no worker acts on a state change (as while the group rebalances or the
    // worker running the connector has left): Connect accepts it and nothing happens.
    let (code, _) = emu
        .admin(
            Method::PUT,
            "settings",
            Some(json!({"state_change_ms": 600_000})),
        )
        .await;
    assert_eq!(code, 200);
    let mut spec = on_emu(&name);
    spec["state"] = json!("paused");
    s.apply("held", spec).await;
    let o = s
        .wait("held", "the wait explained", |o| {
            condition(o, "Ready")
                .is_some_and(|c| c.message.contains("no worker has carried it out"))
        })
        .await;
    println!("{}", condition(&o, "Ready").unwrap().message);
    let sent = requests(&emu, "pause").await;
    // A window to count in: three times the 3 s requeue of an unconfirmed change.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let later = requests(&emu, "pause").await;
    println!("pause requests: {sent} when the wait was explained, {later} 30 s later");
    assert_eq!(sent, 1, "one pause request");
    assert_eq!(later, 1, "not sent again while no worker acts");
    // Once a worker acts, the connector is Ready without another request.
    let (code, _) = emu
        .admin(Method::PUT, "settings", Some(json!({"state_change_ms": 0})))
        .await;
    assert_eq!(code, 200);
    let mut spec = on_emu(&name);
    spec["state"] = json!("running");
    s.apply("held", spec).await;
    s.wait_ready("held").await;
}

/// `spec.restart` answered with Connect's own 500: served (the id recorded, the failure in
/// status and an Event), never sent again in a loop.
#[tokio::test]
async fn a_restart_connect_answers_with_a_500_is_served_once() {
    let (s, emu) = on_emulator("e2e-doubt-restart").await;
    let name = s.unique("boom");
    s.apply("boom", on_emu(&name)).await;
    s.wait_ready("boom").await;
    emu.set_faults(
        json!([{"kind": "error", "endpoint": "restart", "status": 500,
        "message": "the connector threw while restarting"}]),
    )
    .await;
    let mut spec = on_emu(&name);
    spec["restart"] = json!({"id": "r1"});
    s.apply("boom", spec).await;
    let o = s
        .wait("boom", "restart r1 served with its failure", |o| {
            let st = o.status.as_ref();
            st.and_then(|s| s.last_restart_id.as_deref()) == Some("r1")
                && st.is_some_and(|s| s.last_restart_error.is_some())
        })
        .await;
    let error = o.status.unwrap().last_restart_error.unwrap();
    println!("status.lastRestartError: {error}");
    assert!(error.contains("threw while restarting"), "{error}");
    let reasons = common::eventually(
        "a RestartFailed Warning",
        Duration::from_secs(30),
        || async {
            let r = s.event_reasons().await;
            r.iter().any(|r| r == "RestartFailed").then_some(r)
        },
    )
    .await;
    println!("events: {reasons:?}");
    let sent = requests(&emu, "restart").await;
    // A window to count in: several requeues of a failed reconcile (5 s each).
    tokio::time::sleep(Duration::from_secs(20)).await;
    let later = requests(&emu, "restart").await;
    println!("restart requests: {sent}, then {later} 20 s later");
    assert_eq!((sent, later), (1, 1), "one restart request, never repeated");
}

/// A config fixed while the connector is FAILED owes a restart; a restart call that gets no
/// answer and an operator SIGKILLed after it do not lose it: the next operator serves it.
#[tokio::test]
async fn a_restart_owed_after_a_config_fix_survives_a_failed_call_and_an_operator_restart() {
    let (mut s, emu) = on_emulator("e2e-doubt-owed").await;
    let name = s.unique("owed");
    s.apply("owed", on_emu(&name)).await;
    s.wait_ready("owed").await;
    let (_, settings) = emu.admin(Method::GET, "settings", None).await;
    let start_ms = settings["connector_start_ms"].clone();
    emu.set_faults(json!([{"kind": "reset", "endpoint": "restart"}]))
        .await;
    let path = format!("connectors/{name}/fail");
    let (code, body) = emu
        .admin(
            Method::POST,
            &path,
            Some(json!({"trace": "broken by its config"})),
        )
        .await;
    assert_eq!(code, 204, "{body}");
    s.wait("owed", "FAILED seen", |o| {
        common::condition_reason(o, "Ready") == Some("ConnectorFailed")
    })
    .await;
    fixed_while_failed(&s, &emu, &name).await;
    // The operator dies with the restart still owed; the next one serves it.
    s.operator.kill().await;
    emu.set_faults(json!([])).await;
    let back = json!({"connector_start_ms": start_ms});
    assert_eq!(emu.admin(Method::PUT, "settings", Some(back)).await.0, 200);
    s.operator = common::Operator::start(&s.ns, &[]).await;
    let o = s
        .wait("owed", "the owed restart served by the new operator", |o| {
            common::is_ready_in(o, "RUNNING")
                && o.status.as_ref().is_some_and(|s| s.restart_owed.is_none())
        })
        .await;
    assert!(o.status.unwrap().last_restart_error.is_none());
    let calls = requests(&emu, "restart").await;
    println!("restart requests: {calls} (reset while owed, then the one served)");
    assert!(calls >= 2, "the reset call(s), then the served one");
}

/// The config of the FAILED connector `owed` fixed: the restart owed shows in status, and the
/// fix reaches Connect.
async fn fixed_while_failed(s: &Scenario, emu: &Emulator, name: &str) {
    // Connect keeps the connector FAILED after the fix (it restarts it only much later):
    // only the restart owed after the fix brings it back.
    let slow = json!({"connector_start_ms": 600_000});
    assert_eq!(emu.admin(Method::PUT, "settings", Some(slow)).await.0, 200);
    let mut fixed = on_emu(name);
    fixed["config"]["delay_ms"] = json!(HEALTHY_MS + 1);
    s.apply("owed", fixed).await;
    let o = s
        .wait("owed", "the restart owed, in status", |o| {
            o.status.as_ref().is_some_and(|s| s.restart_owed.is_some())
        })
        .await;
    println!(
        "status.restartOwed: {}",
        o.status.unwrap().restart_owed.unwrap()
    );
    let connect = common::Connect::new(emu.url.clone());
    common::eventually(
        "the fix written to Connect",
        Duration::from_secs(30),
        || async {
            let delay = connect.config(name).await["delay_ms"].clone();
            (delay == json!((HEALTHY_MS + 1).to_string())).then_some(())
        },
    )
    .await;
}

/// A secret echoed in Connect's error while a request is retried reaches no log line, Event
/// or status: the retry log carries the reason only, the final error is masked.
#[tokio::test]
async fn a_secret_echoed_while_retrying_is_never_written() {
    let (s, emu) = on_emulator("e2e-doubt-retrylog").await;
    let sentinel = format!("sentinel-{}", common::uuid_suffix());
    // Connect refusing the create momentarily (409), its message echoing the config.
    let message = format!("Cannot complete request momentarily: database.password={sentinel}");
    emu.set_faults(
        json!([{"kind": "error", "endpoint": "create", "status": 409,
        "message": message}]),
    )
    .await;
    let name = s.unique("echo");
    let mut spec = on_emu(&name);
    spec["config"]["database.password"] = json!(sentinel);
    s.apply("echo", spec).await;
    s.wait("echo", "the failure reported", |o| {
        common::condition_reason(o, "Ready") == Some("Rebalancing")
    })
    .await;
    assert!(
        requests(&emu, "create").await >= 2,
        "the create was retried"
    );
    let status = serde_json::to_string(&s.connectors.get("echo").await.unwrap().status).unwrap();
    let everything = format!("{status}{:?}{}", s.events().await, s.operator.logs());
    assert!(
        !everything.contains(&sentinel),
        "the secret was written somewhere"
    );
    emu.set_faults(json!([])).await;
    s.wait_ready("echo").await;
}
