//! Restarts on the real stack: `spec.restart` ids are each served once (connector with
//! tasks, or one task) and recorded in status, however often the spec is re-applied; failed
//! tasks are restarted automatically with backoff until `autoRestart.maxRestarts`.

mod common;

use std::time::Duration;

use common::{
    HEALTHY_MS, Scenario, condition_reason, condition_status, eventually, last_restart_id, mock,
};
use serde_json::json;

/// The task of `restart` FAILED with its trace in status: Ready=False TasksFailed, Stalled.
async fn failed_and_stalled(s: &Scenario) {
    let obj = s
        .wait("restart", "TasksFailed, Stalled", |o| {
            condition_reason(o, "Ready") == Some("TasksFailed")
                && condition_status(o, "Stalled") == Some("True")
        })
        .await;
    let task = &obj.status.as_ref().unwrap().tasks[0];
    assert_eq!(task.state, "FAILED");
    assert!(
        task.trace
            .as_deref()
            .is_some_and(|t| t.contains("Exception")),
        "trimmed trace in status"
    );
}

#[tokio::test]
async fn restart_ids_are_served_once_and_recorded() {
    let s = Scenario::new("e2e-restart", &[]).await;
    let name = s.unique("restart");
    // A task that fails half a second after each start; no auto-restart: stays FAILED.
    let spec = mock(&name, 500, json!({}));
    s.apply("restart", spec.clone()).await;
    failed_and_stalled(&s).await;

    let operator = &s.operator;
    let metric = move |name: &'static str, labels: &'static str| async move {
        operator.metric(name, labels).await.unwrap_or_default()
    };
    // Restarts Connect accepted (2xx): one refused with a rebalance's 409 and retried (other
    // tests' connectors rebalance the shared group) was not a restart.
    let accepted = move |labels: &'static str| async move {
        let by_code = operator
            .metric_by("kco_connect_requests_total", "code", labels)
            .await
            .unwrap_or_default();
        by_code
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .map(|(_, n)| n)
            .sum::<f64>()
    };
    let restarts = || accepted("endpoint=\"restart\"");
    let task_restarts = || accepted("endpoint=\"restart_task\"");
    let reconciles = || metric("kco_reconciles_total", "kind=\"KafkaConnector\"");
    let before = restarts().await;
    let mut with_restart = spec.clone();
    with_restart["restart"] = json!({"id": "r1", "includeTasks": true, "onlyFailed": true});
    s.apply("restart", with_restart.clone()).await;
    s.wait("restart", "lastRestartId r1", |o| {
        last_restart_id(o) == Some("r1")
    })
    .await;
    assert_eq!(restarts().await, before + 1.0, "one restart of r1 accepted");

    with_restart["restart"] = json!({"id": "r2", "taskId": 0});
    s.apply("restart", with_restart.clone()).await;
    s.wait("restart", "lastRestartId r2", |o| {
        last_restart_id(o) == Some("r2")
    })
    .await;
    assert_eq!(task_restarts().await, 1.0, "one task restart for r2");

    // Re-applying the same id (as GitOps does on every sync) restarts nothing: make the
    // operator reconcile three more times (an annotation change is an event), then count again.
    s.apply("restart", with_restart).await;
    for i in 0..3 {
        let before_poke = reconciles().await;
        s.poke("restart", &i.to_string()).await;
        eventually("one more reconcile", Duration::from_secs(60), || async {
            (reconciles().await > before_poke).then_some(())
        })
        .await;
    }
    assert_eq!(restarts().await, before + 1.0);
    assert_eq!(task_restarts().await, 1.0);
    let reasons = s.event_reasons().await;
    assert!(
        reasons.iter().filter(|r| *r == "Restarted").count() >= 1,
        "{reasons:?}"
    );
}

#[tokio::test]
async fn failed_tasks_are_auto_restarted_with_backoff_up_to_the_maximum() {
    let s = Scenario::new("e2e-auto", &["--auto-restart-base", "1s"]).await;
    let name = s.unique("auto");
    let auto_restart = json!({"autoRestart": {"enabled": true, "maxRestarts": 3}});
    s.apply("auto", mock(&name, 300, auto_restart.clone()))
        .await;
    let obj = s
        .wait("auto", "auto-restart exhausted after 3 restarts", |o| {
            condition_status(o, "Stalled") == Some("True")
                && condition_reason(o, "Stalled") == Some("AutoRestartExhausted")
        })
        .await;
    let ar = obj
        .status
        .as_ref()
        .unwrap()
        .auto_restart
        .clone()
        .expect("autoRestart in status");
    assert_eq!(ar.count, 3);
    assert!(ar.last_restart_time.is_some());
    assert_eq!(condition_status(&obj, "Ready"), Some("False"));
    let auto_events = s
        .event_reasons()
        .await
        .into_iter()
        .filter(|r| r == "AutoRestarted")
        .count();
    assert!(auto_events >= 1, "AutoRestarted events published");
    // At least the 3 the count shows. More when the shared workers were slow to restart the
    // task: seen RUNNING for a backoff (2 s after the first restart, with a 1 s base), it
    // counts as healthy, the count resets (as it must), and 3 more follow.
    let performed = s
        .operator
        .metric("kco_auto_restarts_total", "")
        .await
        .unwrap_or_default();
    assert!(performed >= 3.0, "{performed} auto-restarts performed");

    // Fixing the config (a healthy mock) restarts the failed task and the counter resets.
    s.apply("auto", mock(&name, HEALTHY_MS, auto_restart)).await;
    let obj = s.wait_ready("auto").await;
    assert_eq!(obj.status.unwrap().tasks[0].state, "RUNNING");
    s.wait("auto", "auto-restart counter reset", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.auto_restart.is_none())
    })
    .await;
}
