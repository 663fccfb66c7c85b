//! The Helm chart's RBAC, proven on the real apiserver: the operator runs with the chart's
//! ServiceAccount identity (a TokenRequest token) and nothing but the chart's RBAC through a
//! whole scenario; the rules have no wildcards, only read Secrets and ConfigMaps and each
//! say why they exist; each rule is shown to be needed by removing it. `deploy/` grants
//! exactly the chart's rules (it is rendered from them by hack/render-deploy.sh).

mod common;

use std::collections::BTreeMap;
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

/// `helm template` of the chart installed in `ns` with leader election: watching only `ns`
/// when `namespaced`, else the cluster-wide install.
fn helm_template(ns: &str, namespaced: bool) -> String {
    let watch = format!("watchNamespaces={{{ns}}}");
    let sets: &[&str] = if namespaced { &["--set", &watch] } else { &[] };
    helm_render("kco", ns, sets)
}

/// `helm template` of the chart as release `release` in `ns`, leader election on, plus `sets`.
fn helm_render(release: &str, ns: &str, sets: &[&str]) -> String {
    let mut args = vec![
        "template",
        release,
        "charts/kafka-connect-operator",
        "--namespace",
        ns,
        "--set",
        "leaderElection.enabled=true",
    ];
    args.extend(sets);
    let out = Command::new(env("HELM"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn rbac_docs(rendered: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(rendered)
        .unwrap()
        .into_iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some(
                    "ServiceAccount"
                        | "Role"
                        | "RoleBinding"
                        | "ClusterRole"
                        | "ClusterRoleBinding"
                )
            )
        })
        .collect()
}

/// In the Roles and ClusterRoles of the YAML stream `text` (other kinds, e.g. an admission
/// policy's `resourceRules`, are not RBAC), every rule is preceded by a comment line.
fn assert_every_rule_is_explained(what: &str, text: &str) {
    let is_rbac = |doc: &str| {
        doc.lines()
            .any(|l| l == "kind: Role" || l == "kind: ClusterRole")
    };
    for doc in text.split("\n---").filter(|d| is_rbac(d)) {
        let lines: Vec<&str> = doc.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("- apiGroups:") {
                assert!(
                    i > 0 && lines[i - 1].trim_start().starts_with('#'),
                    "{what}: a rule without a comment saying why: {line}\nin:\n{doc}"
                );
            }
        }
    }
}

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
        let args = vec![
            "--leader-election".into(),
            "--lease-name".into(),
            LEASE.into(),
            "--lease-namespace".into(),
            ns.clone(),
        ];
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

/// Static minimality: no wildcards, Secrets and ConfigMaps read-only, every rule explained,
/// and the cluster-wide variant grants exactly what the namespaced one does.
#[test]
fn the_charts_rbac_has_no_wildcards_no_secret_writes_and_a_reason_per_rule() {
    let rendered = helm_template("minimal", true);
    let docs = rbac_docs(&rendered);
    let rules: Vec<&Value> = docs
        .iter()
        .filter_map(|d| d["rules"].as_array())
        .flatten()
        .collect();
    assert!(rules.len() >= 7, "{rules:?}");
    for rule in &rules {
        for field in ["apiGroups", "resources", "verbs"] {
            let values = rule[field].as_array().unwrap();
            assert!(
                values.iter().all(|v| v != "*"),
                "wildcard in {field}: {rule}"
            );
        }
        let resources = rule["resources"].as_array().unwrap();
        let verbs = rule["verbs"].as_array().unwrap();
        let reads = verbs
            .iter()
            .all(|v| ["get", "list", "watch"].contains(&v.as_str().unwrap()));
        if resources.iter().any(|r| r == "secrets") {
            // Read by name, or watched by metadata for configFrom rotations; never written.
            assert!(reads, "Secrets are only read: {rule}");
        }
        if resources.iter().any(|r| r == "configmaps") && !reads {
            // Written only in the operator's own namespace (the Lease's Role): the Orphan
            // records' ConfigMap, by name once it exists.
            assert!(
                rule["resourceNames"] == json!(["kafka-connect-operator-orphans"])
                    || verbs == &[json!("create")],
                "ConfigMaps are written only as the Orphan records: {rule}"
            );
        }
    }
    // Every rule in the rendered YAML is preceded by a comment saying why it exists.
    assert_every_rule_is_explained("the chart", &rendered);
    // Cluster-wide install: the same rules in a ClusterRole, plus the one only it needs
    // (namespace labels, for allowedNamespaces; proven needed below).
    let cluster_docs = rbac_docs(&helm_template("minimal", false));
    let mut a: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    let (namespaces, mut b): (Vec<String>, Vec<String>) = cluster_docs
        .iter()
        .filter_map(|d| d["rules"].as_array())
        .flatten()
        .map(|r| r.to_string())
        .partition(|r| r.contains(r#""namespaces""#));
    assert_eq!(
        namespaces,
        [r#"{"apiGroups":[""],"resources":["namespaces"],"verbs":["list","watch"]}"#],
        "only a cluster-wide install reads namespaces, and only their list and watch"
    );
    a.sort();
    b.sort();
    assert_eq!(
        a, b,
        "cluster-wide and namespaced installs grant the same rules"
    );
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

/// `deploy/` grants Lease access as the chart does: only in the operator's namespace, and
/// only to its Lease by name (create aside, which cannot be restricted by name).
#[test]
fn deploy_grants_leases_only_in_its_namespace_and_by_name() {
    let rendered = common::run(&env("KUBECTL"), &["kustomize", "deploy"], None);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&rendered).unwrap();
    let lease_rules = |doc: &Value| -> Vec<Value> {
        doc["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "leases"))
            })
            .cloned()
            .collect()
    };
    for doc in docs.iter().filter(|d| d["kind"] == "ClusterRole") {
        assert!(
            lease_rules(doc).is_empty(),
            "a ClusterRole grants Leases: {doc}"
        );
    }
    let role = docs
        .iter()
        .find(|d| d["kind"] == "Role" && !lease_rules(d).is_empty())
        .expect("a Role for the leader-election Lease");
    assert_eq!(role["metadata"]["namespace"], "kafka-connect-operator");
    for rule in lease_rules(role) {
        let verbs = rule["verbs"].as_array().unwrap();
        if verbs.iter().any(|v| v != "create") {
            assert_eq!(
                rule["resourceNames"],
                json!(["kafka-connect-operator"]),
                "{rule}"
            );
        }
    }
}

/// The rules of every Role and ClusterRole in `docs`, by (kind, namespace), in order.
fn rules_by_role(docs: &[Value]) -> BTreeMap<(String, String), Value> {
    docs.iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Role" | "ClusterRole")))
        .map(|d| {
            let key = (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
            (key, d["rules"].clone())
        })
        .collect()
}

fn deploy_docs(files: &[&str]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(repo_root().join("deploy").join(f)).unwrap();
            // Every rule users read in deploy/ says why it exists, as in the chart.
            assert_every_rule_is_explained(&format!("deploy/{f}"), &text);
            serde_saphyr::from_multiple::<Value>(&text).unwrap()
        })
        .filter(|d| !d.is_null())
        .collect()
}

/// `deploy/` grants exactly what the chart grants when installed as release
/// `kafka-connect-operator` in namespace `kafka-connect-operator`: the same rules, in the same
/// Roles and ClusterRoles, cluster-wide (clusterrole.yaml + leader-election-role.yaml) and for
/// one watched namespace (role-namespaced.yaml + leader-election-role.yaml, watching
/// `kafka-connect`). `make test` also diffs the text (hack/render-deploy.sh --check).
#[test]
fn deploy_grants_exactly_the_charts_rules() {
    let ns = "kafka-connect-operator";
    for (files, sets) in [
        (
            &["clusterrole.yaml", "leader-election-role.yaml"][..],
            &[][..],
        ),
        (
            &["role-namespaced.yaml", "leader-election-role.yaml"][..],
            &["--set", "watchNamespaces={kafka-connect}"][..],
        ),
    ] {
        let chart = rules_by_role(&rbac_docs(&helm_render(ns, ns, sets)));
        let deploy = rules_by_role(&deploy_docs(files));
        assert_eq!(
            deploy.len(),
            chart.len(),
            "deploy/{files:?} and the chart ({sets:?}) have different Roles: {:?} vs {:?}",
            deploy.keys(),
            chart.keys()
        );
        assert_eq!(
            deploy, chart,
            "deploy/{files:?} grants other rules than the chart ({sets:?}): run `make render-deploy`"
        );
    }
}
