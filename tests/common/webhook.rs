//! The operator's validating webhook as a test serves it: a ValidatingWebhookConfiguration
//! that the real apiserver uses to call `https://127.0.0.1:<port>/validate`, for one
//! namespace only (tests beside it share the apiserver), and the operator's flags to serve it.

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;

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
