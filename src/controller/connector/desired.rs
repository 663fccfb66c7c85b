//! The desired config, as Connect would store it, and how it differs from what Connect
//! stores: fetch builds it, decide compares it, failures mask with it.

use std::collections::{BTreeMap, BTreeSet};

use crate::api::connector::KafkaConnectorSpec;

/// Connect's view of what the spec asks for: the config map exactly as Connect stores it
/// (all values strings, first-class fields folded in, `name` added).
pub fn desired_config(spec: &KafkaConnectorSpec, connector_name: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = spec
        .config
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), stringify(v)))
        .collect();
    out.insert("connector.class".into(), spec.class.clone());
    if let Some(t) = spec.tasks_max {
        out.insert("tasks.max".into(), t.to_string());
    }
    if let Some(v) = &spec.version {
        out.insert("connector.plugin.version".into(), v.clone());
    }
    out.insert("name".into(), connector_name.to_string());
    out
}

fn stringify(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The keys whose value differs between desired and live (added, removed or changed),
/// sorted; a live config without `name` is not drift.
pub fn drift(desired: &BTreeMap<String, String>, live: &BTreeMap<String, String>) -> Vec<String> {
    let keys: BTreeSet<&String> = desired.keys().chain(live.keys()).collect();
    keys.into_iter()
        .filter(|k| k.as_str() != "name" || live.contains_key(*k))
        .filter(|k| desired.get(*k) != live.get(*k))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal as Connect sees them. Connect adds only `name` to a stored config, so every other
    /// difference, out-of-band additions included, is drift to revert.
    pub fn configs_equal(
        desired: &BTreeMap<String, String>,
        live: &BTreeMap<String, String>,
    ) -> bool {
        drift(desired, live).is_empty()
    }

    #[test]
    fn config_comparison_stringifies_and_ignores_name() {
        let spec: KafkaConnectorSpec = serde_json::from_value(serde_json::json!({
            "clusterRef": {"name": "c"}, "class": "X", "tasksMax": 2,
            "config": {"a": 1, "b": true, "c": "s"}
        }))
        .unwrap();
        let desired = desired_config(&spec, "n");
        let mut live: BTreeMap<String, String> = [
            ("a", "1"),
            ("b", "true"),
            ("c", "s"),
            ("connector.class", "X"),
            ("tasks.max", "2"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert!(configs_equal(&desired, &live), "live without name");
        live.insert("name".into(), "n".into());
        assert!(configs_equal(&desired, &live), "live with name");
        live.insert("extra".into(), "oob".into());
        assert!(
            !configs_equal(&desired, &live),
            "an out-of-band key is drift"
        );
        live.remove("extra");
        live.insert("a".into(), "2".into());
        assert!(!configs_equal(&desired, &live), "a changed value is drift");
    }
}
