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
/// sorted. Not differences: what Connect or a distribution adds to a stored config (`name`,
/// `__internal.*` such as Confluent Platform 8.2's `__internal.config.version`) when the
/// spec does not set it, and a value Connect answered masked (`masked_value`): it cannot be
/// compared, so it proves nothing. Comparing key by key without these loops on such workers
/// or never converges.
pub fn drift(desired: &BTreeMap<String, String>, live: &BTreeMap<String, String>) -> Vec<String> {
    let keys: BTreeSet<&String> = desired.keys().chain(live.keys()).collect();
    keys.into_iter()
        .filter(|k| match (desired.get(*k), live.get(*k)) {
            (Some(d), Some(l)) => d != l && !masked_value(l),
            (Some(_), None) => k.as_str() != "name",
            (None, Some(_)) => !k.starts_with("__internal."),
            (None, None) => false,
        })
        .cloned()
        .collect()
}

/// A value as some workers answer a PASSWORD config in `GET .../config`: Connect's own
/// `[hidden]`, or a run of asterisks.
pub fn masked_value(v: &str) -> bool {
    v == "[hidden]" || (v.len() >= 3 && v.chars().all(|c| c == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::config;

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

    /// Answers recorded in `tests/fixtures/connect/distributions/`, written from what the
    /// distributions are reported to answer: Confluent Platform 8.2 adds
    /// `__internal.config.version`; some workers answer a PASSWORD masked.
    fn distribution_answer(file: &str) -> BTreeMap<String, String> {
        let path = format!(
            "{}/tests/fixtures/connect/distributions/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn what_a_distribution_adds_or_masks_is_not_drift() {
        let desired = config(&[
            (
                "connector.class",
                "io.confluent.connect.jdbc.JdbcSourceConnector",
            ),
            ("connection.url", "jdbc:postgresql://db:5432/app"),
            ("connection.user", "app"),
            ("connection.password", "s3cret"),
            ("tasks.max", "1"),
            ("topic.prefix", "app-"),
            ("name", "jdbc-app"),
        ]);
        let cp82 = distribution_answer("config-cp-8.2-internal-version.json");
        assert_eq!(drift(&desired, &cp82), Vec::<String>::new(), "{cp82:?}");
        let masked = distribution_answer("config-password-masked.json");
        assert_eq!(drift(&desired, &masked), Vec::<String>::new(), "{masked:?}");
        // Set by the spec, an __internal key is compared like any other.
        let mut pinned = desired.clone();
        pinned.insert("__internal.config.version".into(), "2".into());
        assert_eq!(drift(&pinned, &cp82), vec!["__internal.config.version"]);
        // A masked value hides only itself: a real change beside it is still drift.
        let mut changed = masked.clone();
        changed.insert("topic.prefix".into(), "other-".into());
        assert_eq!(drift(&desired, &changed), vec!["topic.prefix"]);
        // A key the spec sets that the worker lacks is drift, masked or not.
        let mut lost = masked;
        lost.remove("connection.password");
        assert_eq!(drift(&desired, &lost), vec!["connection.password"]);
    }

    #[test]
    fn only_whole_masks_count_as_masked() {
        for v in ["[hidden]", "***", "********"] {
            assert!(masked_value(v), "{v}");
        }
        for v in ["", "**", "a***", "[hidden] ", "hidden"] {
            assert!(!masked_value(v), "{v}");
        }
    }
}
