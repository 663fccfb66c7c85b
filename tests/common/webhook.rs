//! The operator's validating webhook as a test serves it: a ValidatingWebhookConfiguration
//! that the real apiserver uses to call `https://127.0.0.1:<port>/validate`, for one
//! namespace only (tests beside it share the apiserver), and the operator's flags to serve it.

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::PostParams;
use kube::{Api, Client};
use std::time::Duration;

use serde_json::{Value, json};

use super::{Scenario, env, eventually, free_port, uuid_suffix};

use super::lines::FILE_SOURCE as SOURCE;

/// Creates configuration `name` calling `port` for the KafkaConnectors of namespace `ns`, as
/// the chart renders it but with a URL (there is no Service to route through). Its CA bundle
/// is left for the operator to inject.
pub async fn webhook_configuration(client: &Client, name: &str, ns: &str, port: u16) {
    let vwc = json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": [{
            "name": "kafkaconnectors.kafkaconnect.dev",
            "clientConfig": {"url": format!("https://127.0.0.1:{port}/validate")},
            "rules": [{"apiGroups": ["kafkaconnect.dev"], "apiVersions": ["*"],
                       "operations": ["CREATE", "UPDATE"], "resources": ["kafkaconnectors"]}],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
            "failurePolicy": "Ignore", "sideEffects": "None", "timeoutSeconds": 5,
            "admissionReviewVersions": ["v1"]}]});
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let vwc = serde_json::from_value(vwc).unwrap();
    api.create(&PostParams::default(), &vwc).await.unwrap();
}

/// The operator's flags to serve the webhook on `port` for configuration `name`.
pub fn webhook_args(port: u16, name: &str) -> Vec<String> {
    let addr = format!("127.0.0.1:{port}");
    [
        "--webhook-addr",
        &addr,
        "--webhook-names",
        "127.0.0.1",
        "--webhook-configuration",
        name,
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

/// A Scenario whose operator serves the webhook, and the webhook configuration's name.
pub async fn webhook_scenario(prefix: &str, extra: &[&str]) -> (Scenario, String, u16) {
    let port = free_port();
    let vwc = format!("kco-test-{}", uuid_suffix());
    let mut args = webhook_args(port, &vwc);
    args.extend(extra.iter().map(|a| a.to_string()));
    let name = vwc.clone();
    let s = Scenario::custom(prefix, |client, ns| async move {
        webhook_configuration(&client, &name, &ns, port).await;
        (args, vec![])
    })
    .await;
    s.apply_cluster(json!({"url": env("CONNECT_URL")})).await;
    (s, vwc, port)
}

/// The CA bundle the operator injected, once it has.
pub async fn injected_bundle(client: &Client, vwc: &str) -> String {
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    eventually(
        "the CA bundle is injected",
        Duration::from_secs(60),
        || async {
            let v = api.get(vwc).await.ok()?;
            let hook = v.webhooks?.into_iter().next()?;
            let bundle = hook.client_config.ca_bundle?;
            Some(String::from_utf8(bundle.0).unwrap()).filter(|b| !b.is_empty())
        },
    )
    .await
}

/// `kubectl apply -f -` of a KafkaConnector `name` with `spec`: whether it succeeded, and
/// everything kubectl printed (warnings go to stderr).
pub fn kubectl_apply(s: &Scenario, name: &str, spec: Value, extra: &[&str]) -> (bool, String) {
    let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
        "metadata": {"name": name, "namespace": s.ns}, "spec": spec});
    let mut args = vec!["apply", "-f", "-"];
    args.extend(extra);
    let input = serde_json::to_vec(&obj).unwrap();
    let out = super::run_status(&env("KUBECTL"), &args, Some(&input), &[]);
    (out.code == 0, format!("{}{}", out.stdout, out.stderr))
}

/// A FileStreamSource KafkaConnector spec on cluster `local` with `config`.
pub fn webhook_file_source(s: &Scenario, config: Value) -> Value {
    json!({"clusterRef": {"name": "local"}, "class": SOURCE, "connectorName": s.unique("webhook"),
        "config": config})
}
