//! A KafkaConnectCluster's `Ready` from the worker's own verdict where it has one
//! (`GET /health`, Connect 3.9+): the real 4.3.1 group says healthy; the 3.6.2 worker has
//! no `/health` and `GET /` decides; a worker that says it is starting or unhealthy (the
//! emulator, told so through its admin API) makes the cluster `Starting` or `Unhealthy`
//! with Connect's message, and healthy again `Available`.

mod common;

use std::time::Duration;

use common::{Emulator, Scenario, env, eventually};
use reqwest::Method;
use serde_json::json;

/// Waits until cluster object `name` has `Ready` with `reason`; returns its message.
async fn ready_reason(s: &Scenario, name: &str, status: &str, reason: &str) -> String {
    let what = format!("{name}: Ready={status} {reason}");
    eventually(&what, Duration::from_secs(60), || async {
        let c = s.clusters.get(name).await.ok()?;
        let ready = c
            .status?
            .conditions
            .into_iter()
            .find(|c| c.type_ == "Ready")?;
        (ready.status == status && ready.reason == reason).then_some(ready.message)
    })
    .await
}

#[tokio::test]
async fn ready_follows_the_workers_own_health_where_it_has_one() {
    // Clusters looked at every 2 s, so a change of health shows without waiting a minute.
    let s = Scenario::new("e2e-health", &["--cluster-refresh", "2s"]).await;
    let message = ready_reason(&s, "local", "True", "Available").await;
    assert!(
        message.contains("GET /health says healthy"),
        "4.3.1: {message}"
    );

    s.try_apply_cluster("old", json!({"url": env("CONNECT_URL_V362")}))
        .await
        .unwrap();
    let message = ready_reason(&s, "old", "True", "Available").await;
    assert!(
        !message.contains("/health"),
        "3.6.2 has no /health: {message}"
    );

    let emu = Emulator::start(&[]).await;
    s.try_apply_cluster("emu", json!({"url": emu.url}))
        .await
        .unwrap();
    ready_reason(&s, "emu", "True", "Available").await;
    let say = |status: &str, message: &str| json!({"status": status, "message": message});
    let joining = "Worker is still joining the group";
    let (code, _) = emu
        .admin(Method::PUT, "health", Some(say("starting", joining)))
        .await;
    assert_eq!(code, 204);
    let message = ready_reason(&s, "emu", "False", "Starting").await;
    assert!(message.contains(joining), "{message}");
    let stuck = "Herder thread is blocked";
    emu.admin(Method::PUT, "health", Some(say("unhealthy", stuck)))
        .await;
    let message = ready_reason(&s, "emu", "False", "Unhealthy").await;
    assert!(message.contains(stuck), "{message}");
    emu.admin(Method::PUT, "health", Some(say("healthy", "")))
        .await;
    ready_reason(&s, "emu", "True", "Available").await;
}
