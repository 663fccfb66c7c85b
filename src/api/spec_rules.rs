//! What `spec.config` may not hold that the CRD schema cannot refuse (CEL in the CRD cannot
//! see into the free-form `config`): the same rules, with the same messages, as the admission
//! policy `crds/kafkaconnect.dev-admission.yaml`, reported in status where the policy is not
//! installed.

use super::connector::KafkaConnectorSpec;
use super::connector_status::ValidationError;

/// Keys that are first-class spec fields; setting them in `config` as well would make two
/// sources of truth (Strimzi #6438: `tasks.max` in config restarted the connector every pass).
pub const RESERVED_CONFIG_KEYS: [&str; 4] = [
    "name",
    "connector.class",
    "tasks.max",
    "connector.plugin.version",
];

/// The spec field that replaces a reserved config key.
pub fn reserved_key_field(key: &str) -> Option<&'static str> {
    match key {
        "name" => Some("spec.connectorName (default metadata.name)"),
        "connector.class" => Some("spec.class"),
        "tasks.max" => Some("spec.tasksMax"),
        "connector.plugin.version" => Some("spec.version"),
        _ => None,
    }
}

/// What the apiserver cannot check without the admission policy: value types, a key both in
/// `config` and `configFrom` (CEL in the CRD cannot see into `config`), and reserved keys.
/// The messages are the policy's. Empty when the spec is acceptable.
pub fn spec_errors(spec: &KafkaConnectorSpec) -> Vec<ValidationError> {
    let mut out = Vec::new();
    for from in &spec.config_from {
        if spec.config.contains_key(&from.key) {
            out.push(ValidationError {
                key: from.key.clone(),
                message: format!(
                    "spec.configFrom key {} is also set in spec.config: keep it in one of them",
                    from.key
                ),
            });
        }
    }
    for (k, v) in &spec.config {
        if let Some(field) = reserved_key_field(k) {
            out.push(ValidationError {
                key: k.clone(),
                message: format!("spec.config must not set {k}: set {field} instead"),
            });
        }
        if v.is_object() || v.is_array() {
            out.push(ValidationError {
                key: k.clone(),
                message: format!(
                    "spec.config.{k}: config values must be strings, numbers or booleans, not objects or lists"
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the operator reports in status says the same as the admission policy.
    #[test]
    fn spec_errors_name_the_key_and_what_to_do() {
        let spec: KafkaConnectorSpec = serde_json::from_value(json!({
            "clusterRef": {"name": "c"}, "class": "X",
            "config": {"tasks.max": 1, "transforms": {"a": 1}, "topics": ["a"], "ok": true,
                "database.password": "x"},
            "configFrom": [{"key": "database.password",
                "valueFrom": {"secretKeyRef": {"name": "s", "key": "p"}}}]
        }))
        .unwrap();
        let got: Vec<(String, String)> = spec_errors(&spec)
            .into_iter()
            .map(|e| (e.key, e.message))
            .collect();
        let want = [
            (
                "database.password",
                "spec.configFrom key database.password is also set in spec.config: keep it in one of them",
            ),
            (
                "tasks.max",
                "spec.config must not set tasks.max: set spec.tasksMax instead",
            ),
            (
                "topics",
                "spec.config.topics: config values must be strings, numbers or booleans, not objects or lists",
            ),
            (
                "transforms",
                "spec.config.transforms: config values must be strings, numbers or booleans, not objects or lists",
            ),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, m)| (k.to_string(), m.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
