//! No confused deputy at apply time, on the real stack: the admission policy shipped beside the
//! CRDs refuses a KafkaConnector whose `configFrom` names a Secret (or ConfigMap) its author may
//! not read, naming it; the operator would otherwise read it with its own rights and send the
//! value to Connect. Tried as a user who may write KafkaConnectors but read no Secret.

mod common;
#[allow(dead_code)]
#[path = "bad_input_parts/corpus.rs"]
mod corpus;

use std::time::Duration;

use common::{Scenario, condition, eventually, install_operator_crds, kube, namespace, repo_root};
use corpus::{apply, apply_with, bind_policy_to};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Api, Client};
use serde::Deserialize;
use serde_json::{Value, json};

#[tokio::test]
async fn an_author_who_may_not_read_a_secret_cannot_make_the_operator_read_it() {
    let admin = kube().await;
    install_operator_crds(&admin).await;
    let ns = namespace(&admin, "authz").await;
    let binding = bind_policy_to(&admin, &ns).await;
    // alice may write KafkaConnectors and read the ConfigMap `open`, nothing else.
    let open = json!({"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["open"],
        "verbs": ["get"]});
    common::grant_connector_author(&admin, &ns, "alice", &[open]).await;
    let alice = as_user("alice").await;

    let reads = |kind: &str, name: &str| {
        let source = match kind {
            "Secret" => json!({"secretKeyRef": {"name": name, "key": "password"}}),
            _ => json!({"configMapKeyRef": {"name": name, "key": "url"}}),
        };
        json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
            "metadata": {"name": format!("reads-{}", name)},
            "spec": {"clusterRef": {"name": "local"}, "class": "X",
                "configFrom": [{"key": "connection.password", "valueFrom": source}]}})
    };
    let secret = reads("Secret", "db-password");
    let refused = eventually(
        "the policy refuses alice",
        Duration::from_secs(30),
        || async {
            let dry = PatchParams::apply("kco-tests").force().dry_run();
            apply_with(&alice, Some(&ns), &secret, dry).await.err()
        },
    )
    .await;
    let message = refused.to_string();
    println!("refused: {message}");
    assert!(message.contains("a Secret you may not read"), "{message}");
    assert!(message.contains("among: db-password."), "{message}");
    let e = apply(&alice, Some(&ns), &reads("ConfigMap", "private"))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("ConfigMap you may not read (get), among: private."),
        "{e}"
    );

    // What alice may read she may use; and whoever may read the Secret may name it.
    apply(&alice, Some(&ns), &reads("ConfigMap", "open"))
        .await
        .expect("a ConfigMap alice may read");
    apply(&admin, Some(&ns), &secret)
        .await
        .expect("the admin may read the Secret");

    let bindings: Api<DynamicObject> = Api::all_with(
        admin.clone(),
        &admission("ValidatingAdmissionPolicyBinding"),
    );
    let _ = bindings.delete(&binding, &Default::default()).await;
}

/// A client of the test's kubeconfig impersonating `user` (what `kubectl --as` does).
async fn as_user(user: &str) -> Client {
    let mut config = kube::Config::infer().await.expect("KUBECONFIG");
    config.auth_info.impersonate = Some(user.into());
    Client::try_from(config).unwrap()
}

fn admission(kind: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk("admissionregistration.k8s.io", "v1", kind);
    ApiResource::from_gvk_with_plural(&gvk, "validatingadmissionpolicybindings")
}
