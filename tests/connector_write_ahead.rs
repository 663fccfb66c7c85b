//! Served once even when status cannot be written, on the real stack: a one-shot request is
//! written to status before it is sent (write-ahead), so an admission policy that refuses
//! every status update of the KafkaConnectors of a namespace makes no restart at all, where
//! one went out on every retried reconcile (every 10–30 s) before. Lifting the policy serves
//! the restart once.

mod common;
#[path = "faults_parts/logs.rs"]
mod logs;

use std::time::Duration;

use common::{Scenario, eventually, healthy_mock, last_restart_id};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::core::DynamicObject;
use kube::discovery::ApiResource;
use serde_json::json;

#[tokio::test]
async fn a_refused_status_write_sends_no_restart() {
    let s = Scenario::new("e2e-writeahead", &[]).await;
    let name = s.unique("wa");
    s.apply("wa", healthy_mock(&name)).await;
    s.wait_ready("wa").await;
    let policy = RefuseStatus::install(&s).await;

    let before = errors(&s).await.unwrap_or_default();
    let from = logs::log_time();
    let mut spec = healthy_mock(&name);
    spec["restart"] = json!({"id": "r1"});
    s.apply("wa", spec).await;
    // Each refused write is a failed reconcile, retried with backoff: three of them is time
    // for three restarts by the old code.
    eventually(
        "three reconciles refused",
        Duration::from_secs(120),
        || async { (errors(&s).await? >= before + 3.0).then_some(()) },
    )
    .await;
    let sent = restarts(&from, &name);
    println!("restarts sent while status could not be written: {sent}");
    assert_eq!(sent, 0, "a restart went out without its write-ahead");

    policy.remove(&s).await;
    s.wait("wa", "r1 served once the policy is gone", |o| {
        last_restart_id(o) == Some("r1")
    })
    .await;
    assert_eq!(restarts(&from, &name), 1, "served exactly once");
}

/// Failed KafkaConnector reconciles the operator counted.
async fn errors(s: &Scenario) -> Option<f64> {
    let labels = r#"kind="KafkaConnector""#;
    s.operator
        .metric("kco_reconcile_errors_total", labels)
        .await
}

/// Restart requests to connector `name` in the workers' request logs since `from`.
fn restarts(from: &str, name: &str) -> usize {
    let to = logs::log_time();
    let path = format!("POST /connectors/{name}/restart");
    logs::rest_lines(from, &to)
        .iter()
        .filter(|l| l.starts_with(&path))
        .count()
}

/// A ValidatingAdmissionPolicy (and its binding, limited to the scenario's namespace) that
/// refuses every update of a KafkaConnector's status.
struct RefuseStatus {
    name: String,
}

impl RefuseStatus {
    async fn install(s: &Scenario) -> Self {
        let name = format!("refuse-status-{}", s.ns);
        let policy = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [{
                    "apiGroups": ["kafkaconnect.dev"], "apiVersions": ["*"],
                    "operations": ["UPDATE"], "resources": ["kafkaconnectors/status"]}]},
                "validations": [{"expression": "false",
                    "message": "status updates refused (write-ahead test)"}]
            }
        });
        let binding = json!({
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {"policyName": name, "validationActions": ["Deny"],
                "matchResources": {"namespaceSelector":
                    {"matchLabels": {"kubernetes.io/metadata.name": s.ns}}}}
        });
        for (kind, body) in [
            ("ValidatingAdmissionPolicy", policy),
            ("ValidatingAdmissionPolicyBinding", binding),
        ] {
            let obj: DynamicObject = serde_json::from_value(body).unwrap();
            api(s, kind)
                .create(&PostParams::default(), &obj)
                .await
                .unwrap();
        }
        // In effect once a dry-run status write is refused.
        let probe = PatchParams::default().dry_run();
        let patch = Patch::Merge(json!({"status": {"connectorName": "probe"}}));
        eventually(
            "the policy takes effect",
            Duration::from_secs(30),
            || async {
                s.connectors
                    .patch_status("wa", &probe, &patch)
                    .await
                    .is_err()
                    .then_some(())
            },
        )
        .await;
        RefuseStatus { name }
    }

    async fn remove(self, s: &Scenario) {
        for kind in [
            "ValidatingAdmissionPolicyBinding",
            "ValidatingAdmissionPolicy",
        ] {
            api(s, kind)
                .delete(&self.name, &DeleteParams::default())
                .await
                .unwrap();
        }
    }
}

fn api(s: &Scenario, kind: &str) -> kube::Api<DynamicObject> {
    let gvk = kube::core::GroupVersionKind::gvk("admissionregistration.k8s.io", "v1", kind);
    let plural = match kind {
        "ValidatingAdmissionPolicy" => "validatingadmissionpolicies",
        _ => "validatingadmissionpolicybindings",
    };
    kube::Api::all_with(
        s.client.clone(),
        &ApiResource::from_gvk_with_plural(&gvk, plural),
    )
}
