//! KafkaConnectCluster `spec.loggers` on the real 4.3.1 group: a declared level reaches both
//! workers (`?scope=cluster`) and shows in status; a time-boxed override holds, then the
//! level it replaced comes back by itself, once.

mod common;

use std::time::Duration;

use common::{Connect, Scenario, env, eventually};
use reqwest::Method;
use serde_json::json;

/// The level worker `n` reports for `logger`.
async fn level(n: u8, logger: &str) -> Option<String> {
    let (code, body) = Connect::worker(n)
        .call(Method::GET, &format!("/admin/loggers/{logger}"), None)
        .await;
    (code == 200).then(|| body["level"].as_str().unwrap_or_default().to_string())
}

/// Waits until both workers of the group report `want` for `logger`.
async fn on_both_workers(logger: &str, want: &str) {
    eventually(
        &format!("{logger} at {want} on both workers"),
        Duration::from_secs(60),
        || async {
            for n in [1, 2] {
                if level(n, logger).await.as_deref() != Some(want) {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;
}

#[tokio::test]
async fn declared_levels_reach_every_worker_and_an_override_reverts_by_itself() {
    let s = Scenario::new("e2e-loggers", &["--cluster-refresh", "2s"]).await;
    // A logger of this test's own: nothing else sets it.
    let logger = format!("kco.test.{}", s.ns.replace('-', "_"));
    let url = env("CONNECT_URL");
    s.apply_cluster(json!({"url": url, "loggers": {&logger: {"level": "DEBUG"}}}))
        .await;
    on_both_workers(&logger, "DEBUG").await;
    let status = |want: &'static str| {
        let logger = logger.clone();
        let clusters = s.clusters.clone();
        move || {
            let (logger, clusters) = (logger.clone(), clusters.clone());
            async move {
                let c = clusters.get("local").await.ok()?;
                let l = c.status?.loggers.get(&logger)?.clone();
                (l.level.as_deref() == Some(want)).then_some(l)
            }
        }
    };
    let shown = eventually("DEBUG in status", Duration::from_secs(30), status("DEBUG")).await;
    assert!(shown.last_modified.is_some(), "{shown:?}");

    // TRACE for 5 s: set on both workers, then DEBUG, what it replaced, comes back.
    let trace = json!({"level": "TRACE", "expiresAfter": "5s"});
    s.apply_cluster(json!({"url": url, "loggers": {&logger: trace}}))
        .await;
    on_both_workers(&logger, "TRACE").await;
    on_both_workers(&logger, "DEBUG").await;
    let shown = eventually("the override served", Duration::from_secs(30), || async {
        let l = status("DEBUG")().await?;
        l.override_
            .as_ref()
            .filter(|o| o.reverted)
            .map(|_| l.clone())
    })
    .await;
    let served = shown.override_.unwrap();
    assert_eq!(
        (served.setting.as_str(), served.revert_to.as_str()),
        ("TRACE for 5s", "DEBUG")
    );
    assert_eq!((served.until.0 - served.since.0).get_seconds(), 5);

    // Served once: cluster reconciles go on (every 2 s) and TRACE does not come back.
    let reconciles = || async {
        let kind = "kind=\"KafkaConnectCluster\"";
        s.operator.metric("kco_reconciles_total", kind).await
    };
    let before = reconciles().await.unwrap_or_default();
    eventually(
        "two more cluster reconciles",
        Duration::from_secs(30),
        || async { (reconciles().await? >= before + 2.0).then_some(()) },
    )
    .await;
    for n in [1, 2] {
        assert_eq!(
            level(n, &logger).await.as_deref(),
            Some("DEBUG"),
            "worker {n}"
        );
    }
}
