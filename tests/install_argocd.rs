//! The Argo CD health scripts (`deploy/argocd/`): they pass their own fixtures, and they read
//! real KafkaConnector and KafkaConnectCluster objects taken from the stack as Healthy,
//! Degraded or Progressing.

mod common;

use std::process::Command;

use common::{HEALTHY_MS, Scenario, env, mock, repo_root, run};
use serde_json::{Value, json};

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

/// `kubectl get <kind> <name> -o json` in `ns`.
fn kubectl_get(ns: &str, kind: &str, name: &str) -> Value {
    let out = Command::new(env("KUBECTL"))
        .args(["-n", ns, "get", kind, name, "-o", "json"])
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap()
}

#[tokio::test]
async fn argocd_health_reads_real_status_objects() {
    let mut s = Scenario::new("argocd", &[]).await;
    let healthy = s.unique("healthy");
    s.apply(
        "healthy",
        mock(&healthy, HEALTHY_MS, json!({"state": "running"})),
    )
    .await;
    s.wait_ready("healthy").await;
    let failing = s.unique("failing");
    s.apply("failing", mock(&failing, 300, json!({}))).await;
    s.wait("failing", "a FAILED task", |o| {
        o.status
            .as_ref()
            .is_some_and(|st| st.tasks.iter().any(|t| t.state == "FAILED"))
    })
    .await;

    argocd_health(&kubectl_get(&s.ns, "kctr", "healthy"), "Healthy");
    argocd_health(&kubectl_get(&s.ns, "kctr", "failing"), "Degraded");
    argocd_health(&kubectl_get(&s.ns, "kcc", "local"), "Healthy");

    // A spec change the operator has not seen yet: Ready=True from an older generation.
    s.operator.kill().await;
    s.apply(
        "healthy",
        mock(&healthy, HEALTHY_MS, json!({"state": "paused"})),
    )
    .await;
    let stale = kubectl_get(&s.ns, "kctr", "healthy");
    assert_eq!(stale["status"]["conditions"][0]["status"], "True");
    assert!(
        stale["metadata"]["generation"].as_i64() > stale["status"]["observedGeneration"].as_i64()
    );
    argocd_health(&stale, "Progressing");
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
