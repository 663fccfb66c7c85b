//! KafkaConnector specs the tests apply, and what they read back from its status.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kco::api::KafkaConnector;
use serde_json::{Value, json};

pub const MOCK: &str = "org.apache.kafka.connect.tools.MockSourceConnector";

/// A mock task that fails only after an hour: healthy for any test.
pub const HEALTHY_MS: u64 = 3_600_000;

/// A KafkaConnector spec for a MockSourceConnector with one task that fails `delay_ms`
/// after it starts. `extra` is laid over the spec's top-level fields (e.g. `state`,
/// `restart`, `autoRestart`, `deletionPolicy`); a `null` there removes the field.
pub fn mock(connector: &str, delay_ms: u64, extra: Value) -> Value {
    let mut spec = json!({"connectorName": connector, "class": MOCK, "tasksMax": 1,
        "config": {"mock_mode": "task-failure", "delay_ms": delay_ms}});
    let fields = spec.as_object_mut().unwrap();
    for (key, value) in extra.as_object().expect("extra is a JSON object") {
        if value.is_null() {
            fields.remove(key);
        } else {
            fields.insert(key.clone(), value.clone());
        }
    }
    spec
}

/// A KafkaConnector named `name` with `spec`, as a server-side apply sends it.
pub fn connector_object(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
        "metadata": {"name": name}, "spec": spec})
}

/// A KafkaConnectCluster named `name` with `spec`, as a server-side apply sends it.
pub fn cluster_object(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
        "metadata": {"name": name}, "spec": spec})
}

/// [`mock`] with a task that fails only after an hour, and nothing else set.
pub fn healthy_mock(connector: &str) -> Value {
    mock(connector, HEALTHY_MS, json!({}))
}

pub fn condition<'a>(o: &'a KafkaConnector, type_: &str) -> Option<&'a Condition> {
    o.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

/// The `reason` of condition `type_`, if the status has that condition.
pub fn condition_reason<'a>(o: &'a KafkaConnector, type_: &str) -> Option<&'a str> {
    condition(o, type_).map(|c| c.reason.as_str())
}

/// The `status` ("True", "False", "Unknown") of condition `type_`, if the status has it.
pub fn condition_status<'a>(o: &'a KafkaConnector, type_: &str) -> Option<&'a str> {
    condition(o, type_).map(|c| c.status.as_str())
}

pub fn is_ready(o: &KafkaConnector) -> bool {
    let current = o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation;
    current
        && condition(o, "Ready")
            .is_some_and(|c| c.status == "True" && c.observed_generation == o.metadata.generation)
}

/// Ready at the current generation, and Connect reports `connect_state` (e.g. "PAUSED").
pub fn is_ready_in(o: &KafkaConnector, connect_state: &str) -> bool {
    is_ready(o) && state(o) == Some(connect_state)
}

pub fn state(o: &KafkaConnector) -> Option<&str> {
    o.status.as_ref()?.state.as_deref()
}

pub fn last_restart_id(o: &KafkaConnector) -> Option<&str> {
    o.status.as_ref()?.last_restart_id.as_deref()
}
