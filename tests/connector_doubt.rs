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
    let (_, stats) = emu.admin(Method::GET, "stats", None).await;
    stats["requests"][endpoint]
        .as_object()
        .map_or(0, |codes| codes.values().filter_map(Value::as_u64).sum())
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
