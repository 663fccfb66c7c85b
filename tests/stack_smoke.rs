//! Proofs that the local stack is the real thing: the apiserver enforces CEL and RBAC, and
//! the two Connect workers form one distributed cluster that runs and fails connectors.

mod common;

use std::time::Duration;

use common::{Connect, eventually, kube, namespace};
use k8s_openapi::api::authentication::v1::TokenRequest;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::{Client, Config};
use serde_json::json;

const SMOKE_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: smokes.smoke.kafkaconnect.dev
spec:
  group: smoke.kafkaconnect.dev
  names: {kind: Smoke, plural: smokes, singular: smoke}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              min: {type: integer}
              max: {type: integer}
            x-kubernetes-validations:
            - rule: "self.max >= self.min"
              message: "max must not be below min"
          status:
            type: object
            properties:
              seen: {type: integer}
"#;

#[tokio::test]
async fn apiserver_enforces_a_cel_rule_and_serves_the_status_subresource() {
    let client = kube().await;
    common::apply_crds(&client, SMOKE_CRD).await;
    let ns = namespace(&client, "smoke-cel").await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("smoke.kafkaconnect.dev", "v1", "Smoke"),
        "smokes",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);

    let bad: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "smoke.kafkaconnect.dev/v1", "kind": "Smoke",
        "metadata": {"name": "bad"}, "spec": {"min": 5, "max": 1}
    }))
    .unwrap();
    let err = api
        .create(&PostParams::default(), &bad)
        .await
        .expect_err("the CEL rule must reject max < min");
    assert!(
        err.to_string().contains("max must not be below min"),
        "rejection carries the rule's message: {err}"
    );

    let good: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "smoke.kafkaconnect.dev/v1", "kind": "Smoke",
        "metadata": {"name": "good"}, "spec": {"min": 1, "max": 5}
    }))
    .unwrap();
    api.create(&PostParams::default(), &good)
        .await
        .expect("a valid object is accepted");
    let status = kube::api::Patch::Merge(json!({"status": {"seen": 7}}));
    let patched = api
        .patch_status("good", &Default::default(), &status)
        .await
        .expect("status subresource");
    assert_eq!(patched.data["status"]["seen"], 7);
    assert_eq!(
        patched.data["spec"]["max"], 5,
        "a status write leaves spec alone"
    );
}

#[tokio::test]
async fn rbac_denies_a_service_account_without_bindings() {
    let client = kube().await;
    let ns = namespace(&client, "smoke-rbac").await;
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), &ns);
    sas.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "nobody"}})).unwrap(),
    )
    .await
    .unwrap();
    let token = sas
        .create_token_request(
            "nobody",
            &PostParams::default(),
            &TokenRequest {
                spec: serde_json::from_value(json!({"expirationSeconds": 600})).unwrap(),
                ..Default::default()
            },
        )
        .await
        .expect("TokenRequest works with the signing key configured")
        .status
        .expect("token in status")
        .token
        .expect("a token was issued");

    let mut config = Config::infer().await.unwrap();
    config.auth_info = Default::default();
    config.auth_info.token = Some(token.into());
    let as_nobody = Client::try_from(config).unwrap();

    let cms: Api<ConfigMap> = Api::namespaced(as_nobody, &ns);
    let err = cms
        .list(&Default::default())
        .await
        .expect_err("an unbound ServiceAccount may not list ConfigMaps");
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 403, "forbidden, not unauthenticated: {s:?}"),
        other => panic!("expected a 403 from the authorizer, got {other}"),
    }
    // And the admin identity can: the 403 is RBAC, not a broken apiserver.
    let cms: Api<ConfigMap> = Api::namespaced(client, &ns);
    cms.list(&Default::default()).await.expect("admin may list");
}

#[tokio::test]
async fn a_connector_created_on_worker_1_runs_as_seen_from_worker_2() {
    let (w1, w2) = (Connect::worker(1), Connect::worker(2));
    let name = format!("smoke-mock-{}", common::uuid_suffix());
    w1.create_mock(&name, common::HEALTHY_MS).await;
    let status = eventually(
        "connector and task RUNNING, read from worker 2",
        Duration::from_secs(60),
        || async {
            let s = w2.status(&name).await?;
            (s["connector"]["state"] == "RUNNING" && s["tasks"][0]["state"] == "RUNNING")
                .then_some(s)
        },
    )
    .await;
    assert!(
        status["connector"]["worker_id"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(w1.delete(&name).await, 204);
}

#[tokio::test]
async fn a_failing_task_shows_failed_with_a_trace() {
    let w1 = Connect::worker(1);
    let name = format!("smoke-fail-{}", common::uuid_suffix());
    w1.create_mock(&name, 500).await;
    let task = eventually("the mock task FAILED", Duration::from_secs(60), || async {
        let s = w1.status(&name).await?;
        (s["tasks"][0]["state"] == "FAILED").then(|| s["tasks"][0].clone())
    })
    .await;
    let trace = task["trace"]
        .as_str()
        .expect("a FAILED task carries a trace");
    assert!(
        trace.contains("Exception"),
        "trace is a Java stack trace: {trace}"
    );
    assert_eq!(w1.delete(&name).await, 204);
}
