//! `driftPolicy: Report` on the real stack: a config changed in Connect while the spec did
//! not is left as it is and shown (`status.drift`, `Drifted`, Events); it ends when Connect
//! agrees again; a spec change is written whatever drifted; switching to `Revert` reverts.

mod common;

use std::time::Duration;

use common::{MOCK, Scenario, condition_reason, condition_status, eventually, healthy_mock};
use reqwest::Method;
use serde_json::json;

/// The operator's config PUTs so far.
async fn puts(s: &Scenario) -> f64 {
    let labels = "endpoint=\"put_config\"";
    s.operator
        .metric("kco_connect_requests_total", labels)
        .await
        .unwrap_or_default()
}

/// The drifted keys status shows.
fn drifted(o: &kco::api::KafkaConnector) -> Vec<String> {
    let drift = o.status.as_ref().and_then(|st| st.drift.as_ref());
    drift
        .map(|d| d.keys.iter().map(|k| k.key.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn reported_drift_is_left_alone_until_the_spec_changes() {
    let s = Scenario::new("e2e-driftreport", &[]).await;
    let name = s.unique("rep");
    let mut spec = healthy_mock(&name);
    spec["driftPolicy"] = json!("Report");
    s.apply("rep", spec.clone()).await;
    s.wait("rep", "Ready and Drifted=False InSync", |o| {
        common::is_ready(o) && condition_reason(o, "Drifted") == Some("InSync")
    })
    .await;
    let spec_config = s.connect.config(&name).await;

    // Someone edits the connector through REST: another value and an extra key.
    let mut edited = spec_config.clone();
    edited["delay_ms"] = json!("999");
    edited["injected"] = json!("yes");
    let path = format!("/connectors/{name}/config");
    let (code, body) = s.connect.call(Method::PUT, &path, Some(edited)).await;
    assert_eq!(code, 200, "{body}");
    let puts_before = puts(&s).await;
    let o = s
        .wait("rep", "the drift in status", |o| {
            drifted(o) == ["delay_ms", "injected"] && condition_status(o, "Drifted") == Some("True")
        })
        .await;
    let drift = o.status.as_ref().unwrap().drift.clone().unwrap();
    let delay = drift.keys.iter().find(|k| k.key == "delay_ms").unwrap();
    assert_eq!(delay.live.as_deref(), Some("999"), "{drift:?}");
    assert_eq!(delay.desired.as_deref(), spec_config["delay_ms"].as_str());
    assert!(
        common::is_ready(&o),
        "the connector runs: drift is not a failure"
    );
    // Left as it is: reconciled again (a poke changes no spec), Connect still has the edit
    // and no PUT was sent.
    let reconciles = || async {
        let kind = "kind=\"KafkaConnector\"";
        s.operator.metric("kco_reconciles_total", kind).await
    };
    let before = reconciles().await.unwrap_or_default();
    s.poke("rep", "after-drift").await;
    eventually(
        "a reconcile after the poke",
        Duration::from_secs(30),
        || async { (reconciles().await? > before).then_some(()) },
    )
    .await;
    assert_eq!(s.connect.config(&name).await["delay_ms"], "999");
    assert_eq!(
        puts(&s).await,
        puts_before,
        "driftPolicy Report wrote a config"
    );
    let reasons = s.event_reasons().await;
    assert!(
        reasons.contains(&"DriftDetected".to_string()),
        "{reasons:?}"
    );

    // Connect agrees again (the editor undid it): the drift ends.
    let (code, body) = s
        .connect
        .call(Method::PUT, &path, Some(spec_config.clone()))
        .await;
    assert_eq!(code, 200, "{body}");
    s.wait("rep", "the drift ended", |o| {
        drifted(o).is_empty() && condition_reason(o, "Drifted") == Some("InSync")
    })
    .await;
    let reasons = s.event_reasons().await;
    assert!(reasons.contains(&"DriftEnded".to_string()), "{reasons:?}");

    // Drift again, then a spec change: the spec is written whole, the drift with it.
    let mut edited = spec_config.clone();
    edited["injected"] = json!("again");
    let (code, _) = s.connect.call(Method::PUT, &path, Some(edited)).await;
    assert_eq!(code, 200);
    s.wait("rep", "the drift in status", |o| drifted(o) == ["injected"])
        .await;
    spec["config"]["note"] = json!("v2");
    s.apply("rep", spec.clone()).await;
    eventually("the new spec written", Duration::from_secs(60), || async {
        let c = s.connect.config(&name).await;
        (c["note"] == "v2" && c.get("injected").is_none()).then_some(())
    })
    .await;
    s.wait("rep", "no drift after the spec change", |o| {
        drifted(o).is_empty() && common::is_ready(o)
    })
    .await;

    // Drift, then the policy switched to Revert: the spec goes back to Connect.
    let mut edited = s.connect.config(&name).await;
    edited["delay_ms"] = json!("1234");
    let (code, _) = s.connect.call(Method::PUT, &path, Some(edited)).await;
    assert_eq!(code, 200);
    s.wait("rep", "the drift in status", |o| drifted(o) == ["delay_ms"])
        .await;
    spec["driftPolicy"] = json!("Revert");
    s.apply("rep", spec).await;
    eventually("reverted under Revert", Duration::from_secs(60), || async {
        let c = s.connect.config(&name).await;
        (c["delay_ms"] == spec_config["delay_ms"]).then_some(())
    })
    .await;
    let o = s
        .wait("rep", "no drift and no Drifted condition", |o| {
            drifted(o).is_empty() && condition_status(o, "Drifted").is_none()
        })
        .await;
    assert!(!o.spec.config.contains_key("injected"));
    assert_eq!(s.connect.config(&name).await["connector.class"], MOCK);
}
