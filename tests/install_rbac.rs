//! Installing the way users do, proven on the real apiserver: the operator runs with the
//! Helm chart's ServiceAccount identity (a TokenRequest token) and nothing but the chart's
//! RBAC, through a whole scenario; each rule is shown to be needed by removing it; the Argo
//! CD health scripts read real status objects taken from the stack.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Scenario, env, is_ready, repo_root, state};
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

const SA: &str = "kco-kafka-connect-operator";
const LEASE: &str = "kco-kafka-connect-operator";
const MOCK: &str = "org.apache.kafka.connect.tools.MockSourceConnector";

fn helm_template(ns: &str) -> String {
    let out = Command::new(env("HELM"))
        .args([
            "template",
            "kco",
            "charts/kafka-connect-operator",
            "--namespace",
            ns,
        ])
        .args([
            "--set",
            &format!("watchNamespaces={{{ns}}}"),
            "--set",
            "leaderElection.enabled=true",
        ])
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
        let mut docs = rbac_docs(&helm_template(&ns));
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

fn mock(connector: &str, state: &str, restart: Option<&str>) -> Value {
    let mut spec = json!({"connectorName": connector, "class": MOCK, "tasksMax": 1, "state": state,
        "config": {"mock_mode": "task-failure", "delay_ms": 3_600_000}});
    if let Some(id) = restart {
        spec["restart"] = json!({"id": id});
    }
    spec
}

#[tokio::test]
async fn the_charts_rbac_is_enough_for_the_whole_scenario() {
    let s = scenario_as_chart("rbac-ok", |_| {}).await;
    let password = env("CONNECT_BASIC_PASSWORD");
    let cluster = s.install_tls_material(&password).await;
    s.apply_cluster(cluster).await;
    let name = s.unique("rbac");
    s.apply("rbac", mock(&name, "running", None)).await;
    s.wait_ready("rbac").await;
    s.apply("rbac", mock(&name, "paused", Some("r1"))).await;
    s.wait("rbac", "PAUSED, restart r1 served", |o| {
        is_ready(o)
            && state(o) == Some("PAUSED")
            && o.status.as_ref().unwrap().last_restart_id.as_deref() == Some("r1")
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

/// Static minimality: no wildcards, Secrets and ConfigMaps read-only, every rule explained,
/// and the cluster-wide variant grants exactly what the namespaced one does.
#[test]
fn the_charts_rbac_has_no_wildcards_no_secret_writes_and_a_reason_per_rule() {
    let rendered = helm_template("minimal");
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
        if resources
            .iter()
            .any(|r| r == "secrets" || r == "configmaps")
        {
            assert_eq!(
                rule["verbs"],
                json!(["get"]),
                "Secrets and ConfigMaps are only read: {rule}"
            );
        }
    }
    // Every rule in the rendered YAML is preceded by a comment saying why it exists.
    let lines: Vec<&str> = rendered.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("- apiGroups:") {
            assert!(
                lines[i - 1].trim_start().starts_with('#'),
                "rule without a comment at line {i}: {line}"
            );
        }
    }
    // Cluster-wide install: the same rules in a ClusterRole.
    let out = Command::new(env("HELM"))
        .args([
            "template",
            "kco",
            "charts/kafka-connect-operator",
            "--namespace",
            "minimal",
            "--set",
            "leaderElection.enabled=true",
        ])
        .current_dir(repo_root())
        .output()
        .unwrap();
    let cluster_docs = rbac_docs(&String::from_utf8(out.stdout).unwrap());
    let mut a: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    let mut b: Vec<String> = cluster_docs
        .iter()
        .filter_map(|d| d["rules"].as_array())
        .flatten()
        .map(|r| r.to_string())
        .collect();
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
    let template = rbac_docs(&helm_template("probe"));
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
        s.apply("drop", mock(&name, "running", None)).await;
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
        let _ = s.connect.delete(&name).await;
        println!("rule {rule}: needed (403 on {resource} without it)");
    });
    futures::future::join_all(runs).await;
}

fn argocd_health(object: &Value, expect: &str) {
    let file = repo_root().join(format!(
        "target/test-logs/argocd-{}.json",
        common::uuid_suffix()
    ));
    std::fs::write(&file, object.to_string()).unwrap();
    let out = Command::new(repo_root().join("deploy/argocd/test/run.sh"))
        .args(["--object", file.to_str().unwrap(), "--expect", expect])
        .output()
        .expect("run deploy/argocd/test/run.sh (needs lua5.4)");
    assert!(
        out.status.success(),
        "Argo CD health of a real {} is not {expect}:\n{}{}",
        object["kind"],
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn argocd_health_reads_real_status_objects() {
    let mut s = Scenario::new("argocd", &[]).await;
    let healthy = s.unique("healthy");
    s.apply("healthy", mock(&healthy, "running", None)).await;
    s.wait_ready("healthy").await;
    let failing = s.unique("failing");
    s.apply(
        "failing",
        json!({"connectorName": failing, "class": MOCK, "tasksMax": 1,
        "config": {"mock_mode": "task-failure", "delay_ms": 300}}),
    )
    .await;
    s.wait("failing", "a FAILED task", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.tasks.iter().any(|t| t.state == "FAILED"))
    })
    .await;

    let get = |name: &str| {
        let out = Command::new(env("KUBECTL"))
            .args(["-n", &s.ns, "get", "kctr", name, "-o", "json"])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    argocd_health(&get("healthy"), "Healthy");
    argocd_health(&get("failing"), "Degraded");
    let cluster = Command::new(env("KUBECTL"))
        .args(["-n", &s.ns, "get", "kcc", "local", "-o", "json"])
        .output()
        .unwrap();
    argocd_health(&serde_json::from_slice(&cluster.stdout).unwrap(), "Healthy");

    // A spec change the operator has not seen yet: Ready=True from an older generation.
    s.operator.kill().await;
    s.apply("healthy", mock(&healthy, "paused", None)).await;
    let stale = get("healthy");
    assert_eq!(stale["status"]["conditions"][0]["status"], "True");
    assert!(
        stale["metadata"]["generation"].as_i64() > stale["status"]["observedGeneration"].as_i64()
    );
    argocd_health(&stale, "Progressing");
}

fn run(cmd: &str, args: &[&str], stdin: Option<&[u8]>) -> String {
    let mut child = Command::new(cmd)
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd} {args:?} failed:\n{text}");
    text
}

#[tokio::test]
async fn helm_lint_and_server_side_dry_runs_of_the_chart_and_the_manifests_pass() {
    let (helm, kubectl) = (env("HELM"), env("KUBECTL"));
    let lint = run(
        &helm,
        &["lint", "--strict", "charts/kafka-connect-operator"],
        None,
    );
    assert!(lint.contains("0 chart(s) failed"), "{lint}");
    let client = common::kube().await;
    let ns = common::namespace(&client, "chart-dry-run").await;
    for sets in [
        vec![],
        vec![
            "--set",
            "replicas=2",
            "--set",
            "podDisruptionBudget.enabled=true",
        ],
    ] {
        let mut args = vec![
            "template",
            "kco",
            "charts/kafka-connect-operator",
            "--namespace",
            ns.as_str(),
        ];
        args.extend(sets);
        let rendered = run(&helm, &args, None);
        run(
            &kubectl,
            &["apply", "--dry-run=server", "-f", "-"],
            Some(rendered.as_bytes()),
        );
    }
    // deploy/ creates its own namespace; a server dry run of objects inside a namespace that
    // does not exist yet fails, so make sure it exists (namespaces never go away here).
    let _ = Command::new(&kubectl)
        .args(["create", "namespace", "kafka-connect-operator"])
        .output();
    run(
        &kubectl,
        &[
            "apply",
            "--dry-run=server",
            "--server-side",
            "--force-conflicts",
            "-k",
            "deploy",
        ],
        None,
    );
}

#[test]
fn argocd_health_scripts_pass_their_fixtures() {
    let out = run(
        repo_root()
            .join("deploy/argocd/test/run.sh")
            .to_str()
            .unwrap(),
        &[],
        None,
    );
    assert!(out.contains(" 0 failed"), "{out}");
}
