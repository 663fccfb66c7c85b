//! `kubectl kafkaconnect import`: the live connectors of a Connect cluster as KafkaConnector
//! manifests ready for Git. Pure: the caller reads Connect and prints.
//!
//! What applying the output must do is adopt every connector without a write to Connect, so
//! each manifest asks for exactly what Connect has: the reserved keys go to their spec fields
//! (`class`, `tasksMax`, `version`, `connectorName` where the name is not a valid object
//! name), the rest to `config` as the strings Connect stores, the state to `state`. A value
//! that looks secret (by its key, or credentials inside a connection URL) is never printed
//! into a KafkaConnector: it becomes a `configFrom` reference to a Secret printed apart.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::mask::Masks;
use crate::vocabulary::ConnectState;

/// One live connector: its name, stored config and state.
pub struct Live {
    pub name: String,
    pub config: BTreeMap<String, String>,
    pub state: Option<ConnectState>,
}

/// What an import prints: the KafkaConnectors, the Secrets their `configFrom` names, and
/// what could not be imported faithfully (said on stderr).
#[derive(Debug, Default)]
pub struct Imported {
    pub connectors: Vec<Value>,
    pub secrets: Vec<Value>,
    pub warnings: Vec<String>,
}

/// Whether `name` matches `glob` (`*` any run of characters, `?` one).
pub fn glob_matches(glob: &str, name: &str) -> bool {
    fn go(g: &[char], n: &[char]) -> bool {
        match (g.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&g[1..], n) || (!n.is_empty() && go(g, &n[1..])),
            (Some('?'), Some(_)) => go(&g[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&g[1..], &n[1..]),
            _ => false,
        }
    }
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    go(&g, &n)
}

/// A Kubernetes object name (RFC 1123 subdomain, at most 63 characters here, since the
/// name also appears in labels and Events) for connector `name`.
pub fn object_name(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    out = out
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    out.truncate(63);
    let out = out
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if out.is_empty() {
        "connector".into()
    } else {
        out
    }
}

/// A Secret key for config key `key` (Secret keys allow `[-._a-zA-Z0-9]`).
fn secret_key(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Whether the value of `key` must not be printed into a KafkaConnector.
fn is_secret(key: &str, value: &str) -> bool {
    let one = BTreeMap::from([(key.to_string(), value.to_string())]);
    Masks::of_config(&one).apply(value) != value
}

/// Manifests for the connectors of `live` that `selector` matches, naming cluster object
/// `cluster` (in `cluster_namespace` when the manifests go elsewhere).
pub fn import(
    live: &[Live],
    cluster: &str,
    cluster_namespace: Option<&str>,
    selector: &str,
) -> Imported {
    let mut out = Imported::default();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for c in live.iter().filter(|c| glob_matches(selector, &c.name)) {
        let mut name = object_name(&c.name);
        if let Some(other) = taken.get(&name) {
            out.warnings.push(format!(
                "connectors {other:?} and {:?} map to the same object name {name}: the second is named {name}-2",
                c.name
            ));
            name = format!("{}-2", name.chars().take(61).collect::<String>());
        }
        taken.insert(name.clone(), c.name.clone());
        let mut spec = serde_json::Map::new();
        spec.insert(
            "clusterRef".into(),
            match cluster_namespace {
                Some(ns) => json!({"name": cluster, "namespace": ns}),
                None => json!({"name": cluster}),
            },
        );
        if name != c.name {
            spec.insert("connectorName".into(), json!(c.name));
        }
        let class = c.config.get("connector.class").cloned().unwrap_or_default();
        spec.insert("class".into(), json!(class));
        if let Some(tasks) = c.config.get("tasks.max") {
            match tasks.trim().parse::<i32>() {
                Ok(n) if n >= 1 => {
                    spec.insert("tasksMax".into(), json!(n));
                }
                _ => out.warnings.push(format!(
                    "{}: tasks.max {tasks:?} is not a positive number: left out (Connect's default, 1)",
                    c.name
                )),
            }
        }
        if let Some(v) = c.config.get("connector.plugin.version") {
            spec.insert("version".into(), json!(v));
        }
        let state = match &c.state {
            Some(ConnectState::Paused) => Some("paused"),
            Some(ConnectState::Stopped) => Some("stopped"),
            _ => None,
        };
        if let Some(state) = state {
            spec.insert("state".into(), json!(state));
        }
        let (mut config, mut from, mut data) =
            (serde_json::Map::new(), vec![], serde_json::Map::new());
        let secret_name = format!("{name}-config");
        for (k, v) in &c.config {
            if crate::api::connector::RESERVED_CONFIG_KEYS.contains(&k.as_str()) {
                continue;
            }
            let masked = crate::controller::connector::masked_value(v);
            if masked {
                out.warnings.push(format!(
                    "{}: Connect shows {k} masked ({v}): put its value into Secret {secret_name}, key {}",
                    c.name,
                    secret_key(k)
                ));
            }
            if masked || is_secret(k, v) {
                let key = secret_key(k);
                from.push(json!({"key": k,
                    "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}}));
                // A masked value is not the value: the Secret's key is left for the user.
                let value = if masked { "" } else { v.as_str() };
                data.insert(key, json!(value));
            } else {
                config.insert(k.clone(), json!(v));
            }
        }
        if !config.is_empty() {
            spec.insert("config".into(), Value::Object(config));
        }
        if !from.is_empty() {
            spec.insert("configFrom".into(), Value::Array(from));
            out.secrets
                .push(json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": secret_name,
                    // The operator reads a configFrom Secret that names its KafkaConnector
                    // where the admission policy is not bound.
                    "annotations": {crate::controller::references::READ_BY: name}},
                "type": "Opaque", "stringData": Value::Object(data)}));
        }
        out.connectors
            .push(json!({"apiVersion": "kafkaconnect.dev/v1alpha1",
            "kind": "KafkaConnector", "metadata": {"name": name}, "spec": Value::Object(spec)}));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::config;

    fn live(name: &str, pairs: &[(&str, &str)], state: Option<ConnectState>) -> Live {
        Live {
            name: name.into(),
            config: config(pairs),
            state,
        }
    }

    #[test]
    fn globs_match_as_shells_do() {
        assert!(glob_matches("*", "anything"));
        assert!(glob_matches("orders-*", "orders-cdc"));
        assert!(!glob_matches("orders-*", "payments-cdc"));
        assert!(glob_matches("o?ders*", "orders"));
        assert!(!glob_matches("orders", "orders-cdc"));
    }

    #[test]
    fn a_connector_becomes_the_spec_that_asks_for_exactly_what_connect_has() {
        let pg = live(
            "Orders CDC",
            &[
                ("name", "Orders CDC"),
                (
                    "connector.class",
                    "io.debezium.connector.postgresql.PostgresConnector",
                ),
                ("tasks.max", "1"),
                ("database.hostname", "db"),
                ("database.password", "s3cret"),
                ("topic.prefix", "orders"),
            ],
            Some(ConnectState::Paused),
        );
        let out = import(&[pg], "main", None, "*");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        let c = &out.connectors[0];
        assert_eq!(c["metadata"]["name"], "orders-cdc");
        let spec = &c["spec"];
        assert_eq!(spec["connectorName"], "Orders CDC");
        assert_eq!(
            spec["class"],
            "io.debezium.connector.postgresql.PostgresConnector"
        );
        assert_eq!(spec["tasksMax"], 1);
        assert_eq!(spec["state"], "paused");
        assert_eq!(
            spec["config"],
            json!({"database.hostname": "db", "topic.prefix": "orders"})
        );
        // The password is nowhere in the KafkaConnector, only in the Secret.
        assert!(!c.to_string().contains("s3cret"));
        assert_eq!(
            spec["configFrom"][0],
            json!({"key": "database.password", "valueFrom": {"secretKeyRef":
                {"name": "orders-cdc-config", "key": "database.password"}}})
        );
        assert_eq!(out.secrets[0]["stringData"]["database.password"], "s3cret");
        // The spec's desired config is Connect's: applying it writes nothing.
        let spec: crate::api::connector::KafkaConnectorSpec =
            serde_json::from_value(spec.clone()).unwrap();
        let mut desired = crate::controller::connector::desired_config(&spec, "Orders CDC");
        desired.insert("database.password".into(), "s3cret".into());
        let stored = config(&[
            ("name", "Orders CDC"),
            (
                "connector.class",
                "io.debezium.connector.postgresql.PostgresConnector",
            ),
            ("tasks.max", "1"),
            ("database.hostname", "db"),
            ("database.password", "s3cret"),
            ("topic.prefix", "orders"),
        ]);
        assert!(crate::controller::connector::drift(&desired, &stored).is_empty());
    }

    #[test]
    fn credentials_in_a_url_and_masked_values_go_to_the_secret_and_the_selector_filters() {
        let jdbc = live(
            "sink",
            &[
                ("connector.class", "JdbcSink"),
                ("connection.url", "jdbc:postgresql://app:pw@db/app"),
                ("connection.password", "[hidden]"),
            ],
            None,
        );
        let other = live("other", &[("connector.class", "X")], None);
        let out = import(&[jdbc, other], "main", Some("platform"), "si*");
        assert_eq!(out.connectors.len(), 1);
        let spec = &out.connectors[0]["spec"];
        assert_eq!(
            spec["clusterRef"],
            json!({"name": "main", "namespace": "platform"})
        );
        assert!(
            spec.get("tasksMax").is_none(),
            "no tasks.max: Connect's default"
        );
        assert!(!out.connectors[0].to_string().contains("app:pw"));
        assert_eq!(spec["configFrom"].as_array().unwrap().len(), 2);
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
        assert!(out.warnings[0].contains("connection.password"));
    }

    #[test]
    fn object_names_are_valid_and_distinct() {
        assert_eq!(object_name("Orders_CDC.v2"), "orders-cdc.v2");
        assert_eq!(object_name("--x--"), "x");
        assert_eq!(object_name("***"), "connector");
        assert!(object_name(&"a".repeat(100)).len() <= 63);
        let twins = [
            live("A_b", &[("connector.class", "X")], None),
            live("a-b", &[("connector.class", "X")], None),
        ];
        let out = import(&twins, "main", None, "*");
        let names: Vec<&str> = out
            .connectors
            .iter()
            .map(|c| c["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a-b", "a-b-2"]);
        assert_eq!(out.warnings.len(), 1);
    }
}
