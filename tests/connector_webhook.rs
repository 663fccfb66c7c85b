//! Connect's validation at apply time, on the real stack: the real kube-apiserver calls the
//! operator's webhook at `https://127.0.0.1:<port>` (the CA bundle injected by the operator),
//! which asks the real 4.3.1 worker. A bad key and an unknown class are refused with
//! Connect's words (a Secret's value masked), `kubectl apply --dry-run=server` shows the same,
//! an error-handling trap is a warning, and a Connect that is down or a Secret the author may
//! not read lets the apply through with a warning. How the webhook is served (certificates,
//! replicas) is in `install_webhook_certs.rs`.

mod common;

use std::time::Duration;

use common::{
    env, eventually, free_port, grant_connector_author, injected_bundle, kubectl_apply,
    webhook_file_source, webhook_scenario,
};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

#[tokio::test]
async fn connects_validation_refuses_at_apply_time_and_never_blocks() {
    let (s, vwc, _) = webhook_scenario("e2e-webhook", &[]).await;
    injected_bundle(&s.client, &vwc).await;
    let secrets: Api<Secret> = s.secrets();
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "batch"},
        "stringData": {"size": "s3cr3t-batch"}}))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    // A bad key (from a Secret: its value must not show) and a missing required one.
    let mut bad = webhook_file_source(&s, json!({"file": "/tmp/in.txt"}));
    bad["configFrom"] = json!([{"key": "batch.size",
        "valueFrom": {"secretKeyRef": {"name": "batch", "key": "size"}}}]);

    // The apiserver calls the webhook once it has seen the injected bundle: wait for that
    // with server-side dry runs, which store nothing.
    let refused = eventually(
        "a dry run shows Connect's errors",
        Duration::from_secs(30),
        || {
            let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &["--dry-run=server"]);
            async move { (!ok).then_some(out) }
        },
    )
    .await;
    println!("dry run: {refused}");
    assert!(refused.contains("denied the request"), "{refused}");
    assert!(refused.contains("batch.size: Invalid value"), "{refused}");
    assert!(
        refused.contains("topic: Missing required configuration"),
        "{refused}"
    );
    assert!(
        !refused.contains("s3cr3t"),
        "a Secret's value shown: {refused}"
    );
    assert!(
        s.connectors.get_opt("bad").await.unwrap().is_none(),
        "a dry run stores nothing"
    );

    let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &[]);
    assert!(!ok && out.contains("batch.size: Invalid value"), "{out}");
    assert!(!out.contains("s3cr3t"), "{out}");

    let mut unknown = webhook_file_source(&s, json!({"topic": "t"}));
    unknown["class"] = json!("com.example.NoSuchConnector");
    let (ok, out) = kubectl_apply(&s, "unknown", unknown, &[]);
    println!("unknown class: {out}");
    assert!(!ok, "{out}");
    assert!(
        out.contains("class: Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector"),
        "{out}"
    );
    assert!(
        !out.contains("PluginDesc"),
        "the list of every plugin: {out}"
    );

    // Valid, with a trap: allowed, and warned about.
    let trap = webhook_file_source(
        &s,
        json!({"file": "/tmp/kco-webhook-in.txt", "topic": s.unique("webhook"), "errors.tolerance": "all"}),
    );
    let (ok, out) = kubectl_apply(&s, "trap", trap, &[]);
    println!("trap: {out}");
    assert!(ok, "{out}");
    assert!(out.contains("Warning: errors.tolerance=all"), "{out}");
    assert!(!out.contains("skipped"), "{out}");
    s.wait_ready("trap").await;
    // The operator's own writes (finalizer, status) do not change the spec: not reviewed, so
    // the reviews counted are those of kubectl's requests above.
    let reviews = |verdict: &'static str| {
        let labels = format!("verdict=\"{verdict}\"");
        let op = &s.operator;
        async move {
            op.metric("kco_webhook_reviews_total", &labels)
                .await
                .unwrap_or(0.0)
        }
    };
    // Refused: the dry run, the bad key, the unknown class (attempts made before the
    // apiserver trusted the webhook never reached it). Counted before the 3.x check below.
    assert_eq!(reviews("refused").await, 3.0);

    // A 3.x worker validates the same way.
    s.try_apply_cluster("old", json!({"url": env("CONNECT_URL_V362")}))
        .await
        .unwrap();
    let mut on_old = webhook_file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    on_old["clusterRef"] = json!({"name": "old"});
    let (ok, out) = kubectl_apply(&s, "on-old", on_old, &["--dry-run=server"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("KafkaConnectCluster") && out.contains("/old) refuses"),
        "{out}"
    );
    assert!(out.contains("batch.size: Invalid value x"), "{out}");

    // Connect down: allowed, saying validation was skipped.
    let closed = format!("http://127.0.0.1:{}", free_port());
    s.try_apply_cluster("down", json!({"url": closed}))
        .await
        .unwrap();
    let mut on_down = webhook_file_source(&s, json!({"topic": "t"}));
    on_down["clusterRef"] = json!({"name": "down"});
    let (ok, out) = kubectl_apply(&s, "on-down", on_down, &[]);
    println!("Connect down: {out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("Warning: Connect's validation was skipped: KafkaConnectCluster"),
        "{out}"
    );

    // Connect slow: a server that takes connections and never answers. Allowed within the
    // apiserver's 5 s, with a warning.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    s.try_apply_cluster("slow", json!({"url": silent_url}))
        .await
        .unwrap();
    let mut on_slow = webhook_file_source(&s, json!({"topic": "t"}));
    on_slow["clusterRef"] = json!({"name": "slow"});
    let started = std::time::Instant::now();
    let (ok, out) = kubectl_apply(&s, "on-slow", on_slow, &[]);
    let took = started.elapsed();
    println!("Connect slow ({took:?}): {out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("Warning: Connect's validation was skipped"),
        "{out}"
    );
    drop(silent);

    // A cluster object in another namespace that does not admit this one (its labels read
    // and matched): allowed, saying why, and Connect is not asked for it.
    let platform = common::namespace(&s.client, "e2e-webhook-platform").await;
    let selector = json!({"from": "Selector", "selector": {"matchLabels": {"team": "orders"}}});
    common::teams::apply_cluster_in(
        &s.client,
        &platform,
        "shared",
        "webhook",
        json!({"url": env("CONNECT_URL"), "allowedNamespaces": selector}),
    )
    .await;
    let mut elsewhere = webhook_file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    elsewhere["clusterRef"] = json!({"name": "shared", "namespace": platform});
    let (ok, out) = kubectl_apply(&s, "elsewhere", elsewhere, &[]);
    println!("not admitted: {out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("its labels do not match allowedNamespaces.selector"),
        "{out}"
    );

    // An author who may not read the Secret: allowed unchecked, never validated with it.
    grant_connector_author(&s.client, &s.ns, "alice", &[]).await;
    let (ok, out) = kubectl_apply(&s, "alices", bad, &["--as", "alice"]);
    println!("alice: {out}");
    assert!(ok, "{out}");
    assert!(out.contains("you may not read Secret batch"), "{out}");
    assert!(reviews("skipped").await >= 2.0);
}
