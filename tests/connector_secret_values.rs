//! Config values from Kubernetes Secrets and ConfigMaps (`spec.configFrom`) on the real
//! stack: written to Connect resolved, re-applied at once when the Secret rotates (with an
//! Event naming the Secret), a missing Secret is a condition and nothing is written, and the
//! Secret's values never reach status, Events or the operator's log whatever their key.
//! Connect's own `${file:...}` placeholders stay as they are, and a value Connect resolved
//! from one is never shown.

mod common;

use std::time::Duration;

use common::{Scenario, condition, condition_reason, eventually, healthy_mock};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::{Value, json};

/// A Secret every KafkaConnector of the namespace may read: no admission policy is bound here,
/// so `configFrom` Secrets must opt in (`a_config_from_secret_must_opt_in`).
async fn apply_secret(s: &Scenario, name: &str, data: Value) {
    let obj = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name,
        "annotations": {"kafkaconnect.dev/connectors": "*"}}, "stringData": data});
    s.secrets()
        .patch(
            name,
            &PatchParams::apply("kco-tests").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap();
}

/// Everything the operator wrote about the scenario: statuses, Event notes, its log.
async fn everything_written(s: &Scenario, name: &str) -> String {
    let obj = s.connectors.get(name).await.unwrap();
    let events: Vec<String> = s
        .events()
        .await
        .into_iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect();
    format!(
        "{}\n{}\n{}",
        serde_json::to_string(&obj.status).unwrap(),
        events.join("\n"),
        s.operator.logs()
    )
}

#[tokio::test]
async fn values_from_a_secret_are_written_rotated_and_never_shown() {
    let s = Scenario::new("e2e-secretvals", &[]).await;
    let name = s.unique("from-secret");
    // Distinctive values, and keys that do not look secret: masked because of where they come from.
    let (first, second) = (
        format!("sentinel-one-{}", s.ns),
        format!("sentinel-two-{}", s.ns),
    );
    written_resolved(&s, &name, &first).await;
    rotated(&s, &name, &second).await;
    secret_gone(&s, &name, &second).await;

    let written = everything_written(&s, "vals").await;
    for sentinel in [&first, &second] {
        assert!(!written.contains(sentinel.as_str()), "{sentinel} leaked");
    }
}

/// `vals` takes `connection.user` from the Secret `creds` (`user`) and `mode.setting` from a
/// ConfigMap: Connect gets the values resolved.
async fn written_resolved(s: &Scenario, name: &str, user: &str) {
    apply_secret(s, "creds", json!({"user": user})).await;
    let cms: Api<ConfigMap> = Api::namespaced(s.client.clone(), &s.ns);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}});
    cms.patch(
        "settings",
        &PatchParams::apply("kco-tests").force(),
        &Patch::Apply(&cm),
    )
    .await
    .unwrap();
    let mut spec = healthy_mock(name);
    spec["configFrom"] = json!([
        {"key": "connection.user", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "user"}}},
        {"key": "mode.setting", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}},
    ]);
    s.apply("vals", spec).await;
    s.wait_ready("vals").await;
    let config = s.connect.config(name).await;
    assert_eq!(config["connection.user"], user, "resolved value in Connect");
    assert_eq!(config["mode.setting"], "fast");
}

/// Rotation: the new value reaches Connect without touching the KafkaConnector.
async fn rotated(s: &Scenario, name: &str, user: &str) {
    apply_secret(s, "creds", json!({"user": user})).await;
    eventually(
        "the rotated value in Connect",
        Duration::from_secs(20),
        || async { (s.connect.config(name).await["connection.user"] == user).then_some(()) },
    )
    .await;
    // The Event is published right after Connect answered the PUT: await it too.
    eventually(
        "an Event naming the Secret",
        Duration::from_secs(20),
        || async {
            let notes = s.events().await;
            notes
                .iter()
                .any(|(_, n)| n.contains("connection.user from Secret creds"))
                .then_some(())
        },
    )
    .await;
    s.wait_ready("vals").await;
}

/// A Secret that goes away: a condition, and Connect keeps what it had (`user`).
async fn secret_gone(s: &Scenario, name: &str, user: &str) {
    s.secrets()
        .delete("creds", &DeleteParams::default())
        .await
        .unwrap();
    s.poke("vals", "after-delete").await;
    let obj = s
        .wait("vals", "MissingReference", |o| {
            condition_reason(o, "Ready") == Some("MissingReference")
        })
        .await;
    let msg = &condition(&obj, "Ready").unwrap().message;
    assert!(msg.contains("Secret creds not found"), "{msg}");
    assert_eq!(s.connect.config(name).await["connection.user"], user);
}

/// A value Connect resolves itself through its config provider stays a placeholder: it is
/// what Connect stores, so nothing is ever rewritten while idle.
#[tokio::test]
async fn connect_config_provider_placeholders_stay_as_they_are() {
    let s = Scenario::new("e2e-placeholder", &[]).await;
    let name = s.unique("placeholder");
    let placeholder = "${file:/nonexistent/secrets.properties:password}";
    let mut spec = healthy_mock(&name);
    spec["config"]["connection.password"] = json!(placeholder);
    s.apply("ph", spec).await;
    s.wait_ready("ph").await;
    assert_eq!(
        s.connect.config(&name).await["connection.password"],
        placeholder
    );
    // Idle for several polls (2 s each in tests): no config write, still Ready.
    let puts = || async {
        s.operator
            .metric("kco_connect_requests_total", "endpoint=\"put_config\"")
            .await
            .unwrap_or_default()
    };
    let before = puts().await;
    s.poke("ph", "1").await;
    tokio::time::sleep(Duration::from_secs(7)).await; // the idle window being measured
    assert_eq!(puts().await, before, "no config PUT while idle");
    // Still Ready, or soon again: a rebalance (other tests' connectors coming and going on
    // the same workers) can leave the task UNASSIGNED for a moment.
    s.wait_ready("ph").await;
    assert_eq!(puts().await, before, "nor one to get Ready again");
}

/// Connect resolves a `${file:...}` placeholder before it validates, and quotes the value
/// it refused ("Invalid value <the secret> for configuration batch.size"): the operator never
/// saw that value, and still shows none of it.
#[tokio::test]
async fn a_value_connect_resolved_from_a_placeholder_is_never_shown() {
    let s = Scenario::new("e2e-resolved", &[]).await;
    let sentinel = format!("resolved-sentinel-{}", s.ns);
    let dir = format!("{}/data/connect-secrets", common::env("KCO_STACK_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = format!("{dir}/{}.properties", s.ns);
    std::fs::write(&file, format!("batch={sentinel}\n")).unwrap();
    let name = s.unique("resolved");
    let spec = json!({
        "clusterRef": {"name": "local"}, "connectorName": name,
        "class": "org.apache.kafka.connect.file.FileStreamSourceConnector", "tasksMax": 1,
        "config": {"topic": s.unique("t"), "file": "/dev/null",
                   "batch.size": format!("${{file:{file}:batch}}")},
    });
    s.apply("resolved", spec).await;
    let obj = s
        .wait("resolved", "Ready=False InvalidConfig", |o| {
            condition_reason(o, "Ready") == Some("InvalidConfig")
        })
        .await;
    let errors = &obj.status.as_ref().unwrap().validation_errors;
    let on_batch = errors.iter().find(|e| e.key == "batch.size");
    let on_batch = on_batch.unwrap_or_else(|| panic!("Connect's error on batch.size: {errors:?}"));
    // Connect quoted the value it resolved; what status shows has it hidden.
    assert!(
        on_batch.message.contains("[hidden]"),
        "{}",
        on_batch.message
    );
    let written = everything_written(&s, "resolved").await;
    assert!(!written.contains(&sentinel), "the resolved value leaked");
    assert!(s.connect.status(&name).await.is_none(), "nothing created");
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn a_key_in_both_config_and_config_from_is_reported() {
    let s = Scenario::new("e2e-cfgdup", &[]).await;
    let name = s.unique("dup");
    let mut spec = healthy_mock(&name);
    spec["config"]["connection.user"] = json!("plain");
    spec["configFrom"] = json!([{"key": "connection.user",
        "valueFrom": {"secretKeyRef": {"name": "nope", "key": "user"}}}]);
    s.apply("dup", spec).await;
    let obj = s
        .wait("dup", "InvalidSpec", |o| {
            condition_reason(o, "Ready") == Some("InvalidSpec")
        })
        .await;
    let errors = &obj.status.unwrap().validation_errors;
    assert!(
        errors.iter().any(|e| e.key == "connection.user"),
        "{errors:?}"
    );
    assert!(s.connect.status(&name).await.is_none(), "nothing created");
    // The schema refuses what it can say: both sources at once, a reserved key.
    let bad = json!({"clusterRef": {"name": "local"}, "class": common::MOCK, "configFrom": [
        {"key": "tasks.max", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "k"}}}]});
    let err = s.try_apply("bad1", bad).await.unwrap_err().to_string();
    assert!(err.contains("configFrom cannot set"), "{err}");
    let both = json!({"clusterRef": {"name": "local"}, "class": common::MOCK, "configFrom": [
        {"key": "a", "valueFrom": {"configMapKeyRef": {"name": "m", "key": "k"},
                                   "secretKeyRef": {"name": "s", "key": "k"}}}]});
    let err = s.try_apply("bad2", both).await.unwrap_err().to_string();
    assert!(
        err.contains("exactly one of secretKeyRef or configMapKeyRef"),
        "{err}"
    );
}

/// Without the admission policy (none is bound in the test namespaces), nobody checked that
/// the author may read a `configFrom` Secret: the operator reads it only once the Secret names
/// the KafkaConnector, and says which Secret does not.
#[tokio::test]
async fn a_config_from_secret_must_opt_in() {
    let s = Scenario::new("e2e-optin", &[]).await;
    let obj = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "private"},
        "stringData": {"user": "someone-else"}});
    let params = PatchParams::apply("kco-tests").force();
    s.secrets()
        .patch("private", &params, &Patch::Apply(&obj))
        .await
        .unwrap();
    let name = s.unique("optin");
    let mut spec = healthy_mock(&name);
    spec["configFrom"] = json!([{"key": "connection.user",
        "valueFrom": {"secretKeyRef": {"name": "private", "key": "user"}}}]);
    s.apply("optin", spec).await;
    let obj = s
        .wait("optin", "SecretNotShared", |o| {
            condition_reason(o, "Ready") == Some("SecretNotShared")
        })
        .await;
    let message = &condition(&obj, "Ready").unwrap().message;
    assert!(message.contains("Secret private"), "{message}");
    assert!(s.connect.status(&name).await.is_none(), "nothing written");
    let shared = json!({"metadata": {"annotations": {"kafkaconnect.dev/connectors": "optin"}}});
    s.secrets()
        .patch("private", &PatchParams::default(), &Patch::Merge(&shared))
        .await
        .unwrap();
    s.wait_ready("optin").await;
    assert_eq!(
        s.connect.config(&name).await["connection.user"],
        "someone-else"
    );
}
