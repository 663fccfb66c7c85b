//! The Helm chart's RBAC, proven on the real apiserver: the operator runs with the chart's
//! ServiceAccount identity (a TokenRequest token) and nothing but the chart's RBAC through a
//! whole scenario, and each rule is shown to be needed by removing it. What can be read
//! without running the operator (no wildcards, a reason per rule, `deploy/` equal to the
//! chart) is in `install_rbac_static.rs`.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{HEALTHY_MS, Scenario, env, is_ready_in, last_restart_id, mock, repo_root};
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

const SA: &str = "kco-kafka-connect-operator";
const LEASE: &str = "kco-kafka-connect-operator";

#[path = "install_rbac_parts/chart.rs"]
mod chart;

use chart::{helm_template, rbac_docs};

fn kubectl_apply(docs: &[Value]) {
    let mut child = Command::new(env("KUBECTL"))
        .args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let list = json!({"apiVersion": "v1", "kind": "List", "items": docs});
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), list.to_string().as_bytes()).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "kubectl apply of the chart's RBAC"
    );
}

/// A kubeconfig for the chart's ServiceAccount: the admin kubeconfig's server and CA, a
/// token from the TokenRequest API, nothing else.
async fn service_account_kubeconfig(client: &kube::Client, ns: &str) -> PathBuf {
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let req: TokenRequest =
        serde_json::from_value(json!({"spec": {"expirationSeconds": 3600}})).unwrap();
    let token = sas
        .create_token_request(SA, &PostParams::default(), &req)
        .await
        .unwrap()
        .status
        .unwrap()
        .token
        .unwrap();
    let admin: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(env("KUBECONFIG")).unwrap()).unwrap();
    let cluster = &admin["clusters"][0]["cluster"];
    let config = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster}],
        "users": [{"name": SA, "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "local", "user": SA, "namespace": ns}}],
        "current-context": "sa",
    });
    let path = repo_root().join(format!("target/test-logs/kubeconfig-{ns}"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

/// A scenario whose operator runs as the chart's ServiceAccount with `docs` as its RBAC.
async fn scenario_as_chart(
    prefix: &str,
    edit: impl FnOnce(&mut Vec<Value>) + Send + 'static,
) -> Scenario {
    Scenario::custom(prefix, |client, ns| async move {
        let mut docs = rbac_docs(&helm_template(&ns, true));
        edit(&mut docs);
        kubectl_apply(&docs);
        let kubeconfig = service_account_kubeconfig(&client, &ns).await;
        // The chart's webhook (on by default) with its names: the configuration its
        // ClusterRole names, and the Secret its Role names. Certificates valid 30 s, so that
        // one is re-issued (a Secret update) within the scenario.
        let port = common::free_port();
        let vwc = format!("kco-kafka-connect-operator-{ns}");
        common::webhook_configuration(&client, &vwc, &ns, port).await;
        let mut args = vec![
            "--leader-election".into(),
            "--lease-name".into(),
            LEASE.into(),
            "--lease-namespace".into(),
            ns.clone(),
            "--webhook-secret".into(),
            "kco-kafka-connect-operator-webhook-tls".into(),
            "--webhook-cert-validity".into(),
            "30s".into(),
        ];
        args.extend(common::webhook_args(port, &vwc));
        (
            args,
            vec![(
                "KUBECONFIG".to_string(),
                kubeconfig.to_string_lossy().to_string(),
            )],
        )
    })
    .await
}

#[tokio::test]
async fn the_charts_rbac_is_enough_for_the_whole_scenario() {
    let s = scenario_as_chart("rbac-ok", |_| {}).await;
    let password = env("CONNECT_BASIC_PASSWORD");
    let cluster = s.install_tls_material(&password).await;
    s.apply_cluster(cluster).await;
    let name = s.unique("rbac");
    s.apply("rbac", mock(&name, HEALTHY_MS, json!({"state": "running"})))
        .await;
    s.wait_ready("rbac").await;
    s.apply(
        "rbac",
        mock(
            &name,
            HEALTHY_MS,
            json!({"state": "paused", "restart": {"id": "r1"}}),
        ),
    )
    .await;
    s.wait("rbac", "PAUSED, restart r1 served", |o| {
        is_ready_in(o, "PAUSED") && last_restart_id(o) == Some("r1")
    })
    .await;
    let c = s.clusters.get("local").await.unwrap();
    assert!(
        c.status.unwrap().version.is_some(),
        "the cluster's status was written"
    );
    assert!(!s.events().await.is_empty(), "Events were published");
    s.delete_and_wait("rbac").await;
    let logs = s.operator.logs();
    assert!(
        !logs.contains("forbidden"),
        "no request was forbidden:\n{}",
        s.operator_log_tail()
    );
}

/// `unmanagedConnectors: Delete` with the chart's namespaced install: the operator cannot
/// list KafkaConnectors in other namespaces, where claims on the same Connect cluster may
/// be, so it refuses (a condition on the cluster) and deletes nothing.
#[tokio::test]
async fn a_namespaced_install_refuses_unmanaged_delete() {
    let s = scenario_as_chart("rbac-unmanaged", |_| {}).await;
    let stray = s.unique("stray");
    s.connect.create_mock(&stray, HEALTHY_MS).await;
    s.apply_cluster(json!({"url": env("CONNECT_URL"), "unmanagedConnectors": "Delete"}))
        .await;
    let why = common::eventually(
        "the cluster says Delete is refused",
        Duration::from_secs(60),
        || async {
            let c = s.clusters.get("local").await.ok()?.status?;
            let cond = c
                .conditions
                .into_iter()
                .find(|c| c.type_ == "UnmanagedConnectors")?;
            (cond.reason == "UnmanagedDeleteRefused" && cond.status == "False")
                .then_some(cond.message)
        },
    )
    .await;
    println!("{why}");
    assert!(why.contains("Nothing was deleted"), "{why}");
    assert!(
        s.connect.status(&stray).await.is_some(),
        "a refused Delete deletes nothing"
    );
    s.connect.delete(&stray).await;
}

/// Dynamic minimality: with any one rule removed, the operator hits a 403 for what that
/// rule grants. Every rule is exercised in its own namespace, all at once.

#[tokio::test]
async fn every_rule_of_the_chart_is_needed() {
    let template = rbac_docs(&helm_template("probe", true));
    let mut cases = vec![];
    for (d, doc) in template.iter().enumerate() {
        for (r, rule) in doc["rules"].as_array().into_iter().flatten().enumerate() {
            cases.push((d, r, rule.clone()));
        }
    }
    let runs = cases.into_iter().map(|(d, r, rule)| async move {
        let resource = rule["resources"][0].as_str().unwrap().to_string();
        let s = scenario_as_chart("rbac-drop", move |docs| {
            docs[d]["rules"].as_array_mut().unwrap().remove(r);
        })
        .await;
        let cluster = s.install_tls_material(&env("CONNECT_BASIC_PASSWORD")).await;
        s.apply_cluster(cluster).await;
        let name = s.unique("drop");
        s.apply("drop", mock(&name, HEALTHY_MS, json!({"state": "running"})))
            .await;
        // A configFrom Secret: the webhook asks who may read it (an access review). The
        // apiserver calls the webhook only once it has the injected CA bundle, so the spec
        // changes every 2 s (each change is a review) until this case is decided.
        let asks_name = s.unique("asks");
        let asks_api = s.connectors.clone();
        let asking = tokio::spawn(async move {
            for i in 0..60 {
                let mut asks = mock(&asks_name, HEALTHY_MS, json!({}));
                asks["config"]["round"] = json!(i);
                asks["clusterRef"] = json!({"name": "local"});
                asks["configFrom"] = json!([{"key": "k",
                    "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k"}}}]);
                let obj = common::connector_object("asks", asks);
                let pp = kube::api::PatchParams::apply("kco-tests").force();
                if let Err(e) = asks_api
                    .patch("asks", &pp, &kube::api::Patch::Apply(obj))
                    .await
                {
                    println!("asks: {e}");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        // An Orphan delete: its record is written in the operator's namespace.
        let kept = s.unique("kept");
        let orphan = json!({"deletionPolicy": "Orphan"});
        s.apply("kept", mock(&kept, HEALTHY_MS, orphan)).await;
        // Deleted once it holds the finalizer, which a dropped rule may prevent: then this
        // case's 403 comes from elsewhere, and the task gives up quietly.
        let api = s.connectors.clone();
        let orphaning = tokio::spawn(async move {
            for _ in 0..120 {
                let fin = api
                    .get("kept")
                    .await
                    .ok()
                    .and_then(|o| o.metadata.finalizers);
                if fin.is_some_and(|f| !f.is_empty()) {
                    let _ = api.delete("kept", &Default::default()).await;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        let singular = resource.trim_end_matches('s').to_string();
        let seen = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let logs = s.operator.logs();
                if logs
                    .lines()
                    .any(|l| l.contains("forbidden") && l.contains(&singular))
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
        .await;
        assert!(
            seen.is_ok(),
            "without the rule {rule} the operator never hit a 403 on {resource}:\n{}",
            s.operator_log_tail()
        );
        orphaning.abort();
        asking.abort();
        // Created on the TLS worker (its own Connect group): deleted there, not left behind.
        let _ = common::Connect::tls().delete(&name).await;
        let _ = common::Connect::tls().delete(&kept).await;
        println!("rule {rule}: needed (403 on {resource} without it)");
    });
    futures::future::join_all(runs).await;
}

/// The rule only a cluster-wide install has (namespace labels, for `allowedNamespaces`) is
/// needed: without it, the operator's watch of namespaces is refused.
#[tokio::test]
async fn a_cluster_wide_install_needs_its_namespaces_rule() {
    let client = common::kube().await;
    common::install_operator_crds(&client).await;
    let ns = common::namespace(&client, "rbac-all").await;
    let mut docs = rbac_docs(&helm_template(&ns, false));
    let mut dropped = 0;
    for rules in docs.iter_mut().filter_map(|d| d["rules"].as_array_mut()) {
        let before = rules.len();
        rules.retain(|r| r["resources"][0] != "namespaces");
        dropped += before - rules.len();
    }
    assert_eq!(
        dropped, 1,
        "the cluster-wide ClusterRole has the namespaces rule"
    );
    kubectl_apply(&docs);
    let kubeconfig = service_account_kubeconfig(&client, &ns).await;
    let operator = common::Operator::start_cluster_wide_with_env(
        &ns,
        &[],
        &[("KUBECONFIG", &kubeconfig.to_string_lossy())],
    )
    .await;
    common::eventually("a 403 on namespaces", Duration::from_secs(60), || async {
        let logs = operator.logs();
        logs.lines()
            .any(|l| l.contains("forbidden") && l.contains("namespaces"))
            .then_some(())
    })
    .await;
}
