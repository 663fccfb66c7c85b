//! The operator end to end on the real stack: each test gets a namespace, a
//! KafkaConnectCluster pointing at the real Connect workers, and its own operator process.
//! Connector names are unique per test so tests run in parallel on one Connect cluster.

mod common;

use std::time::Duration;

use common::{Scenario, condition, eventually, is_ready, state};
use kube::api::DeleteParams;
use reqwest::Method;
use serde_json::json;

const MOCK: &str = "org.apache.kafka.connect.tools.MockSourceConnector";
const VERIFIABLE: &str = "org.apache.kafka.connect.tools.VerifiableSourceConnector";
const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// A mock source whose task would fail only after an hour: healthy for any test.
fn healthy_mock(connector: &str) -> serde_json::Value {
    json!({"connectorName": connector, "class": MOCK, "tasksMax": 1,
           "config": {"mock_mode": "task-failure", "delay_ms": 3_600_000}})
}

#[tokio::test]
async fn lifecycle_create_pause_stop_resume_delete() {
    let s = Scenario::new("e2e-life", &[]).await;
    let name = s.unique("verifiable");
    let topic = s.unique("topic");
    s.apply(
        "life",
        json!({"connectorName": name, "class": VERIFIABLE, "tasksMax": 2,
        "config": {"topic": topic, "throughput": 10}}),
    )
    .await;

    let obj = s.wait_ready("life").await;
    let st = obj.status.unwrap();
    assert_eq!(st.state.as_deref(), Some("RUNNING"));
    assert_eq!(st.tasks_ready.as_deref(), Some("2/2"));
    assert_eq!(st.connector_name.as_deref(), Some(name.as_str()));
    assert!(st.worker_id.is_some());
    let live = s
        .connect
        .status(&name)
        .await
        .expect("the connector exists in Connect");
    assert_eq!(live["connector"]["state"], "RUNNING");
    let (_, config) = s.connect.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(config["throughput"], "10", "numbers are written as strings");
    assert_eq!(config["tasks.max"], "2");

    // Topics reach status once the source has written (the operator reads GET .../topics).
    s.wait("life", "status.topics lists the topic", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.topics.contains(&topic))
    })
    .await;

    // The cluster's own status: version, plugins, counts, Ready.
    let cluster = eventually("cluster status", Duration::from_secs(60), || async {
        let c = s.clusters.get("local").await.ok()?;
        let st = c.status?;
        (st.version.is_some() && st.connectors.as_ref().is_some_and(|n| n.managed >= 1))
            .then_some(st)
    })
    .await;
    assert!(cluster.plugins.iter().any(|p| p.class == VERIFIABLE));
    assert!(
        cluster
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True")
    );
    assert!(cluster.kafka_cluster_id.is_some());

    for (wanted, connect_state) in [
        ("paused", "PAUSED"),
        ("stopped", "STOPPED"),
        ("running", "RUNNING"),
    ] {
        s.apply(
            "life",
            json!({"connectorName": name, "class": VERIFIABLE, "tasksMax": 2, "state": wanted,
            "config": {"topic": topic, "throughput": 10}}),
        )
        .await;
        let obj = s
            .wait("life", &format!("{connect_state} and Ready"), |o| {
                is_ready(o) && state(o) == Some(connect_state)
            })
            .await;
        let live = s.connect.status(&name).await.unwrap();
        assert_eq!(
            live["connector"]["state"], connect_state,
            "Connect agrees with status"
        );
        let tasks = &obj.status.as_ref().unwrap().tasks;
        match connect_state {
            "STOPPED" => assert!(tasks.is_empty(), "a stopped connector has no tasks"),
            s => assert!(
                tasks.iter().all(|t| t.state == s),
                "tasks follow: {tasks:?}"
            ),
        }
    }
    let reasons: Vec<String> = s.events().await.into_iter().map(|e| e.0).collect();
    for r in ["Created", "Paused", "Stopped", "Resumed"] {
        assert!(
            reasons.iter().any(|x| x == r),
            "event {r} published: {reasons:?}"
        );
    }

    // Delete: the finalizer removes the connector from Connect before the object goes.
    s.delete_and_wait("life").await;
    let (code, _) = s.connect.get(&format!("/connectors/{name}")).await;
    assert_eq!(code, 404, "the connector was deleted from Connect");
}

#[tokio::test]
async fn a_paused_connector_is_created_paused_and_never_runs() {
    let s = Scenario::new("e2e-paused", &[]).await;
    let name = s.unique("paused");
    let mut spec = healthy_mock(&name);
    spec["state"] = json!("paused");
    s.apply("paused", spec).await;
    let first = eventually(
        "Connect reports a status",
        Duration::from_secs(60),
        || async { s.connect.status(&name).await },
    )
    .await;
    assert_eq!(
        first["connector"]["state"], "PAUSED",
        "created with initial_state PAUSED: {first}"
    );
    assert!(
        first["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] != "RUNNING")
    );
    let obj = s
        .wait("paused", "Ready and PAUSED", |o| {
            is_ready(o) && state(o) == Some("PAUSED")
        })
        .await;
    assert_eq!(condition(&obj, "Ready").unwrap().reason, "Paused");
}

#[tokio::test]
async fn invalid_config_goes_to_status_and_nothing_is_created() {
    let s = Scenario::new("e2e-invalid", &[]).await;
    let name = s.unique("invalid");
    // FileStreamSource declares `topic` required and `batch.size` an INT: Connect's validate says so.
    s.apply("invalid", json!({"connectorName": name, "class": FILE_SOURCE, "config": {"batch.size": "not-a-number"}})).await;
    let obj = s
        .wait("invalid", "validation errors in status", |o| {
            o.status
                .as_ref()
                .is_some_and(|st| !st.validation_errors.is_empty())
                && condition(o, "Stalled").is_some_and(|c| c.status == "True")
        })
        .await;
    let st = obj.status.unwrap();
    let keys: Vec<&str> = st
        .validation_errors
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert!(
        keys.contains(&"topic") && keys.contains(&"batch.size"),
        "per-key errors: {:?}",
        st.validation_errors
    );
    assert_eq!(condition_reason(&st.conditions, "Ready"), "InvalidConfig");
    let (code, _) = s.connect.get(&format!("/connectors/{name}")).await;
    assert_eq!(code, 404, "nothing was created while invalid");

    // An unknown class is reported the same way.
    s.apply(
        "unknown",
        json!({"connectorName": s.unique("unknown"), "class": "com.example.Nope"}),
    )
    .await;
    let obj = s
        .wait("unknown", "class error", |o| {
            o.status
                .as_ref()
                .is_some_and(|st| st.validation_errors.iter().any(|e| e.key == "class"))
        })
        .await;
    assert_eq!(condition(&obj, "Ready").unwrap().status, "False");

    // Fixing the config creates it.
    s.apply(
        "invalid",
        json!({"connectorName": name, "class": FILE_SOURCE,
        "config": {"topic": s.unique("t"), "batch.size": 10, "file": "/dev/null"}}),
    )
    .await;
    let obj = s.wait_ready("invalid").await;
    assert!(obj.status.unwrap().validation_errors.is_empty());
}

fn condition_reason(
    conds: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    t: &str,
) -> String {
    conds
        .iter()
        .find(|c| c.type_ == t)
        .map(|c| c.reason.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_apiserver_rejects_what_the_schema_can_say() {
    let s = Scenario::new("e2e-cel", &[]).await;
    let cases = [
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "tasksMax": 0}),
            "tasksMax",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": " "}),
            "class must not be empty",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "config": {"tasks.max": "3"}}),
            "config",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "state": "sleeping"}),
            "state",
        ),
        (
            json!({"clusterRef": {"name": "local"}, "class": MOCK, "restart": {"id": "x", "taskId": 0, "includeTasks": true}}),
            "restart.taskId",
        ),
    ];
    for (spec, needle) in cases {
        let err = s
            .try_apply("bad", spec.clone())
            .await
            .expect_err(&format!("{spec} must be rejected"));
        assert!(
            err.to_string().contains(needle),
            "{spec}: error mentions {needle}: {err}"
        );
    }
    let err = s
        .clusters
        .patch(
            "ftp",
            &kube::api::PatchParams::apply("kco-tests"),
            &kube::api::Patch::Apply(json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
            "metadata": {"name": "ftp"}, "spec": {"url": "ftp://x"}})),
        )
        .await
        .expect_err("a non-http url is rejected");
    assert!(err.to_string().contains("http"), "{err}");

    // clusterRef is immutable.
    s.apply("ok", healthy_mock(&s.unique("ok"))).await;
    let mut moved = healthy_mock(&s.unique("ok"));
    moved["clusterRef"] = json!({"name": "elsewhere"});
    let err = s
        .try_apply("ok", moved)
        .await
        .expect_err("clusterRef cannot change");
    assert!(err.to_string().contains("immutable"), "{err}");
}

#[tokio::test]
async fn out_of_band_edits_are_reverted_and_deletes_recreated() {
    let s = Scenario::new("e2e-drift", &[]).await;
    let name = s.unique("drift");
    s.apply("drift", healthy_mock(&name)).await;
    s.wait_ready("drift").await;

    // Replace the whole config out of band: another value and an extra key.
    let (code, body) = s
        .connect
        .call(Method::PUT, &format!("/connectors/{name}/config"), Some(json!({
            "connector.class": MOCK, "tasks.max": "1", "mock_mode": "task-failure", "delay_ms": "999", "injected": "yes"})))
        .await;
    assert_eq!(code, 200, "{body}");
    eventually(
        "the operator reverts the config",
        Duration::from_secs(60),
        || async {
            let (_, c) = s.connect.get(&format!("/connectors/{name}/config")).await;
            (c["delay_ms"] == "3600000" && c.get("injected").is_none()).then_some(())
        },
    )
    .await;

    // Pause out of band: the spec says running, so it is resumed.
    let (code, _) = s
        .connect
        .call(Method::PUT, &format!("/connectors/{name}/pause"), None)
        .await;
    assert_eq!(code, 202);
    eventually(
        "the operator resumes it",
        Duration::from_secs(60),
        || async {
            let st = s.connect.status(&name).await?;
            (st["connector"]["state"] == "RUNNING" && st["tasks"][0]["state"] == "RUNNING")
                .then_some(())
        },
    )
    .await;

    // Delete out of band: it is created again.
    assert_eq!(s.connect.delete(&name).await, 204);
    eventually(
        "the operator re-creates it",
        Duration::from_secs(60),
        || async {
            let st = s.connect.status(&name).await?;
            (st["connector"]["state"] == "RUNNING").then_some(())
        },
    )
    .await;
    s.wait_ready("drift").await;
}

#[tokio::test]
async fn restart_ids_are_served_once_and_recorded() {
    let s = Scenario::new("e2e-restart", &[]).await;
    let name = s.unique("restart");
    // A task that fails half a second after each start; no auto-restart: stays FAILED.
    let spec = json!({"connectorName": name, "class": MOCK, "tasksMax": 1,
        "config": {"mock_mode": "task-failure", "delay_ms": 500}});
    s.apply("restart", spec.clone()).await;
    let obj = s
        .wait("restart", "TasksFailed, Stalled", |o| {
            condition(o, "Ready").is_some_and(|c| c.reason == "TasksFailed")
                && condition(o, "Stalled").is_some_and(|c| c.status == "True")
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

    let restarts = || s.metric("kco_connect_requests_total", "endpoint=\"restart\"");
    let task_restarts = || s.metric("kco_connect_requests_total", "endpoint=\"restart_task\"");
    let before = restarts().await;
    let mut with_restart = spec.clone();
    with_restart["restart"] = json!({"id": "r1", "includeTasks": true, "onlyFailed": true});
    s.apply("restart", with_restart.clone()).await;
    s.wait("restart", "lastRestartId r1", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.last_restart_id.as_deref() == Some("r1"))
    })
    .await;
    assert_eq!(restarts().await, before + 1.0, "one restart request for r1");

    with_restart["restart"] = json!({"id": "r2", "taskId": 0});
    s.apply("restart", with_restart.clone()).await;
    s.wait("restart", "lastRestartId r2", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.last_restart_id.as_deref() == Some("r2"))
    })
    .await;
    assert_eq!(task_restarts().await, 1.0, "one task restart for r2");

    // Re-applying the same id (as GitOps does on every sync) restarts nothing: make the
    // operator reconcile three more times (an annotation change is an event), then count again.
    s.apply("restart", with_restart).await;
    for i in 0..3 {
        let reconciles = s
            .metric("kco_reconciles_total", "kind=\"KafkaConnector\"")
            .await;
        let patch = json!({"metadata": {"annotations": {"test/poke": i.to_string()}}});
        s.connectors
            .patch(
                "restart",
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(patch),
            )
            .await
            .unwrap();
        eventually("one more reconcile", Duration::from_secs(60), || async {
            (s.metric("kco_reconciles_total", "kind=\"KafkaConnector\"")
                .await
                > reconciles)
                .then_some(())
        })
        .await;
    }
    assert_eq!(restarts().await, before + 1.0);
    assert_eq!(task_restarts().await, 1.0);
    let reasons: Vec<String> = s.events().await.into_iter().map(|e| e.0).collect();
    assert!(
        reasons.iter().filter(|r| *r == "Restarted").count() >= 1,
        "{reasons:?}"
    );
}

#[tokio::test]
async fn failed_tasks_are_auto_restarted_with_backoff_up_to_the_maximum() {
    let s = Scenario::new("e2e-auto", &["--auto-restart-base", "1s"]).await;
    let name = s.unique("auto");
    s.apply(
        "auto",
        json!({"connectorName": name, "class": MOCK, "tasksMax": 1,
        "config": {"mock_mode": "task-failure", "delay_ms": 300},
        "autoRestart": {"enabled": true, "maxRestarts": 3}}),
    )
    .await;
    let obj = s
        .wait("auto", "auto-restart exhausted after 3 restarts", |o| {
            condition(o, "Stalled")
                .is_some_and(|c| c.status == "True" && c.reason == "AutoRestartExhausted")
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
    assert_eq!(condition(&obj, "Ready").unwrap().status, "False");
    let auto_events = s
        .events()
        .await
        .into_iter()
        .filter(|e| e.0 == "AutoRestarted")
        .count();
    assert!(auto_events >= 1, "AutoRestarted events published");
    assert_eq!(s.metric("kco_auto_restarts_total", "").await, 3.0);

    // Fixing the config (a healthy mock) restarts the failed task and the counter resets.
    s.apply(
        "auto",
        json!({"connectorName": name, "class": MOCK, "tasksMax": 1,
        "config": {"mock_mode": "task-failure", "delay_ms": 3_600_000},
        "autoRestart": {"enabled": true, "maxRestarts": 3}}),
    )
    .await;
    let obj = s.wait_ready("auto").await;
    assert_eq!(obj.status.unwrap().tasks[0].state, "RUNNING");
    s.wait("auto", "auto-restart counter reset", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.auto_restart.is_none())
    })
    .await;
}

#[tokio::test]
async fn a_second_claim_on_a_connector_gets_a_conflict_and_never_writes() {
    let s = Scenario::new("e2e-conflict", &[]).await;
    let name = s.unique("shared");
    s.apply("first", healthy_mock(&name)).await;
    s.wait_ready("first").await;
    // Same connector name, other config; created later, so it loses.
    let mut other = healthy_mock(&name);
    // Healthy too (its task would fail only after 90 minutes), just a different config.
    other["config"]["delay_ms"] = json!(5_400_000);
    s.apply("second", other).await;
    let obj = s
        .wait("second", "Conflict", |o| {
            condition(o, "Ready").is_some_and(|c| c.reason == "Conflict")
        })
        .await;
    assert!(
        condition(&obj, "Ready").unwrap().message.contains("first"),
        "names the owner"
    );
    assert_eq!(condition(&obj, "Stalled").unwrap().status, "True");
    let (_, config) = s.connect.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(
        config["delay_ms"], "3600000",
        "the loser never wrote its config"
    );

    // Deleting the owner while another CR claims the connector hands it over: the
    // connector is not deleted, and the next claimant takes it over with its own config.
    s.delete_and_wait("first").await;
    assert!(
        s.connect.status(&name).await.is_some(),
        "the connector was handed over, not deleted"
    );
    s.wait_ready("second").await;
    eventually(
        "the heir's config applied",
        Duration::from_secs(60),
        || async {
            let (_, config) = s.connect.get(&format!("/connectors/{name}/config")).await;
            (config["delay_ms"] == "5400000").then_some(())
        },
    )
    .await;
    let reasons: Vec<String> = s.events().await.into_iter().map(|e| e.0).collect();
    assert!(reasons.iter().any(|r| r == "HandedOver"), "{reasons:?}");
    // The last claimant deletes it.
    s.delete_and_wait("second").await;
    eventually(
        "deleted with its last claimant",
        Duration::from_secs(60),
        || async { s.connect.status(&name).await.is_none().then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn orphan_policy_keeps_the_connector_and_a_new_cr_adopts_it() {
    let s = Scenario::new("e2e-orphan", &[]).await;
    let name = s.unique("orphan");
    let mut spec = healthy_mock(&name);
    spec["deletionPolicy"] = json!("Orphan");
    s.apply("orphan", spec).await;
    s.wait_ready("orphan").await;
    s.delete_and_wait("orphan").await;
    assert!(
        s.connect.status(&name).await.is_some(),
        "Orphan left the connector running"
    );

    // Adoption: a new CR naming the existing connector takes it over without re-creating it.
    let mut spec = healthy_mock(&name);
    spec["config"]["delay_ms"] = json!(7_200_000);
    s.apply("adopter", spec).await;
    s.wait_ready("adopter").await;
    let (_, config) = s.connect.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(
        config["delay_ms"], "7200000",
        "the adopter's config is applied"
    );
    s.connectors
        .delete("adopter", &DeleteParams::default())
        .await
        .unwrap();
    eventually("deleted from Connect", Duration::from_secs(60), || async {
        s.connect.status(&name).await.is_none().then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_missing_cluster_is_reported_and_recovers() {
    let s = Scenario::without_cluster("e2e-nocluster", &[]).await;
    let name = s.unique("waiting");
    s.apply("waiting", healthy_mock(&name)).await;
    s.wait("waiting", "ClusterNotFound", |o| {
        condition(o, "Ready").is_some_and(|c| c.reason == "ClusterNotFound")
    })
    .await;
    assert!(s.connect.status(&name).await.is_none());
    s.apply_cluster(json!({"url": common::env("CONNECT_URL_2")}))
        .await;
    s.wait_ready("waiting").await;
}

#[tokio::test]
async fn an_unreachable_cluster_is_not_ready_and_nothing_is_deleted() {
    let s = Scenario::new("e2e-unreach", &[]).await;
    let name = s.unique("steady");
    s.apply("steady", healthy_mock(&name)).await;
    s.wait_ready("steady").await;
    // Point the cluster at a port where nothing listens: connectors keep their connector.
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{}", common::free_port()), "requestTimeoutSeconds": 2})).await;
    s.wait("steady", "ConnectUnavailable", |o| {
        condition(o, "Ready").is_some_and(|c| c.reason == "ConnectUnavailable")
    })
    .await;
    eventually("cluster not Ready", Duration::from_secs(60), || async {
        let c = s.clusters.get("local").await.ok()?;
        c.status?
            .conditions
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "False")
            .then_some(())
    })
    .await;
    let reasons: Vec<String> = s.events().await.into_iter().map(|e| e.0).collect();
    assert!(
        reasons.iter().any(|r| r == "ConnectUnavailable"),
        "a Warning Event says Connect is unavailable: {reasons:?}"
    );
    assert!(
        s.connect.status(&name).await.is_some(),
        "an unreachable cluster never leads to a delete"
    );
    s.apply_cluster(json!({"url": common::env("CONNECT_URL")}))
        .await;
    s.wait_ready("steady").await;
}

#[tokio::test]
async fn https_with_a_private_ca_a_client_certificate_and_basic_auth() {
    use k8s_openapi::api::core::v1::{ConfigMap, Secret};
    use kube::api::{Api, PostParams};

    let s = Scenario::without_cluster("e2e-tls", &["--cluster-refresh", "2s"]).await;
    let dir = common::env("CONNECT_TLS_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
    let password = common::env("CONNECT_BASIC_PASSWORD");
    let secrets: Api<Secret> = Api::namespaced(s.client.clone(), &s.ns);
    let cms: Api<ConfigMap> = Api::namespaced(s.client.clone(), &s.ns);
    let basic = |pw: &str| -> Secret {
        serde_json::from_value(json!({"metadata": {"name": "connect-basic"},
            "stringData": {"username": common::env("CONNECT_BASIC_USER"), "password": pw}}))
        .unwrap()
    };
    secrets
        .create(&PostParams::default(), &basic(&password))
        .await
        .unwrap();
    secrets
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "connect-client"},
            "type": "kubernetes.io/tls", "stringData": {"tls.crt": read("client.crt"), "tls.key": read("client.key")}})).unwrap())
        .await
        .unwrap();
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "connect-ca"},
        "data": {"ca.crt": read("ca.crt")}}))
        .unwrap(),
    )
    .await
    .unwrap();

    let secure = json!({"url": common::env("CONNECT_URL_TLS"),
        "auth": {"basic": {"secretName": "connect-basic"}},
        "tls": {"ca": {"configMapName": "connect-ca"}, "clientCertificateSecret": "connect-client"}});
    s.apply_cluster(secure.clone()).await;
    let name = s.unique("secure");
    s.apply("secure", healthy_mock(&name)).await;
    s.wait_ready("secure").await;
    assert!(
        s.connect.status(&name).await.is_none(),
        "it runs on the TLS cluster, not on worker 1"
    );
    let cluster_ready = |want: &'static str, reason: Option<&'static str>| {
        let clusters = s.clusters.clone();
        async move {
            eventually(
                &format!("cluster Ready={want} {reason:?}"),
                Duration::from_secs(60),
                || async {
                    let c = clusters.get("local").await.ok()?;
                    c.status?
                        .conditions
                        .iter()
                        .any(|c| {
                            c.type_ == "Ready"
                                && c.status == want
                                && reason.is_none_or(|r| c.reason == r)
                        })
                        .then_some(())
                },
            )
            .await
        }
    };
    cluster_ready("True", None).await;

    // A wrong password: the REST API answers 401, reported as Unauthorized.
    secrets
        .replace(
            "connect-basic",
            &PostParams::default(),
            &basic("wrong-password"),
        )
        .await
        .unwrap();
    cluster_ready("False", Some("Unauthorized")).await;
    secrets
        .replace("connect-basic", &PostParams::default(), &basic(&password))
        .await
        .unwrap();
    cluster_ready("True", None).await;

    // The CA from a Secret (key ca.crt) works the same as from a ConfigMap.
    secrets
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "connect-ca-secret"},
                "stringData": {"ca.crt": read("ca.crt")}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let mut ca_secret = secure.clone();
    ca_secret["tls"]["ca"] = json!({"secretName": "connect-ca-secret"});
    s.apply_cluster(ca_secret).await;
    cluster_ready("True", None).await;
    // A wrong CA is not trusted.
    let mut wrong_ca = secure.clone();
    wrong_ca["tls"]["ca"] = json!({"secretName": "connect-client", "key": "tls.crt"});
    s.apply_cluster(wrong_ca).await;
    cluster_ready("False", Some("ConnectUnavailable")).await;

    // Without the CA the server certificate is not trusted; insecureSkipVerify accepts it.
    let mut no_ca = secure.clone();
    no_ca["tls"] = json!({"clientCertificateSecret": "connect-client"});
    s.apply_cluster(no_ca.clone()).await;
    cluster_ready("False", Some("ConnectUnavailable")).await;
    no_ca["tls"]["insecureSkipVerify"] = json!(true);
    s.apply_cluster(no_ca).await;
    cluster_ready("True", None).await;

    // The password never reaches status, events or the operator's log.
    let everything = format!(
        "{}{:?}{}",
        serde_json::to_string(&s.clusters.get("local").await.unwrap().status).unwrap(),
        s.events().await,
        s.operator.logs()
    );
    assert!(!everything.contains(&password), "the password leaked");
    use base64::Engine;
    let header = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{password}", common::env("CONNECT_BASIC_USER")));
    assert!(
        !everything.contains(&header),
        "the Authorization header leaked"
    );

    s.delete_and_wait("secure").await;
}

#[tokio::test]
async fn a_hanging_cluster_does_not_delay_connectors_elsewhere() {
    // A "Connect" that accepts connections and never answers: every request to it hangs
    // until the client's timeout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = tokio::spawn(async move {
        let mut open = vec![];
        while let Ok((sock, _)) = listener.accept().await {
            open.push(sock);
        }
    });
    let s = Scenario::new("e2e-hang", &[]).await;
    let hang = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
        "metadata": {"name": "hang"}, "spec": {"url": format!("http://127.0.0.1:{port}"), "requestTimeoutSeconds": 60}});
    s.clusters
        .patch(
            "hang",
            &kube::api::PatchParams::apply("kco-tests"),
            &kube::api::Patch::Apply(&hang),
        )
        .await
        .unwrap();
    for i in 0..3 {
        let mut spec = healthy_mock(&s.unique(&format!("stuck-{i}")));
        spec["clusterRef"] = json!({"name": "hang"});
        s.apply(&format!("stuck-{i}"), spec).await;
    }
    // Applied after the hanging ones, on the working cluster: Ready as quickly as ever.
    let t = std::time::Instant::now();
    let name = s.unique("free");
    s.apply("free", healthy_mock(&name)).await;
    s.wait_ready("free").await;
    let took = t.elapsed();
    println!("a connector beside 3 hanging ones was Ready in {took:?}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
    for i in 0..3 {
        let o = s.connectors.get(&format!("stuck-{i}")).await.unwrap();
        assert!(
            !is_ready(&o),
            "a connector on the hanging cluster is not Ready"
        );
    }
    hold.abort();
}
