//! Rebalance on the real two-worker Connect cluster: kill the worker that runs a connector,
//! watch the connector move to the other one, restart the worker and watch it rejoin.
//! Its own test binary, so no other test runs while a worker is down.

mod common;

use std::time::Duration;

use common::{Connect, eventually, stack_ctl};
use serde_json::json;

#[tokio::test]
async fn a_killed_workers_connector_moves_and_the_worker_rejoins() {
    let (w1, w2) = (Connect::worker(1), Connect::worker(2));
    let name = format!("rebalance-{}", common::uuid_suffix());
    w1.create_mock(&name, common::HEALTHY_MS).await;
    let before = eventually("connector RUNNING", Duration::from_secs(60), || async {
        let s = w1.status(&name).await?;
        (s["connector"]["state"] == "RUNNING")
            .then(|| s["connector"]["worker_id"].as_str().unwrap().to_string())
    })
    .await;
    let (victim, survivor) = if before.ends_with(&w1.url.rsplit(':').next().unwrap().to_string()) {
        (1u8, w2.clone())
    } else {
        (2u8, w1.clone())
    };
    stack_ctl(&["worker-stop", &victim.to_string()]).await;
    let after = eventually(
        "the connector RUNNING on the surviving worker",
        Duration::from_secs(90),
        || async {
            let s = survivor.status(&name).await?;
            let worker = s["connector"]["worker_id"].as_str()?.to_string();
            (s["connector"]["state"] == "RUNNING" && worker != before).then_some(worker)
        },
    )
    .await;
    assert_ne!(after, before, "the connector moved off the killed worker");

    stack_ctl(&["worker-start", &victim.to_string()]).await;
    let restarted = Connect::worker(victim);
    // A worker answers GET /connectors only after it joined the group; then it sees our connector.
    eventually(
        "the restarted worker serves the group's connectors",
        Duration::from_secs(90),
        || async {
            let (code, list) = restarted.get("/connectors").await;
            (code == 200 && list.as_array()?.iter().any(|n| n == &json!(name))).then_some(())
        },
    )
    .await;
    assert_eq!(
        restarted.delete(&name).await,
        204,
        "a write through the rejoined worker is forwarded to the leader"
    );
}
