//! What a Connect worker says of itself, as a KafkaConnectCluster's status shows it: its
//! `Ready` verdict (`GET /health` where it has one, else `GET /` answering) and its plugins,
//! one entry per class with every installed version.

use crate::api::KafkaConnectClusterStatus;
use crate::api::cluster::PluginStatus;
use crate::api::conditions::READY;
use crate::connect::types::{PluginInfo, WorkerHealth};
use crate::vocabulary::Reason;

/// The `Ready` condition last written, when it said Available.
pub fn still_available(prev: &KafkaConnectClusterStatus) -> Option<(bool, Reason, String)> {
    let ready = prev.conditions.iter().find(|c| c.type_ == READY)?;
    (ready.reason == Reason::Available.as_str())
        .then(|| (true, Reason::Available, ready.message.clone()))
}

/// `Ready` from the worker's own verdict where it gives one (`GET /health`, Kafka 3.9+),
/// else from its REST API answering (`GET /`).
pub fn health_verdict(health: Option<&WorkerHealth>) -> (bool, Reason, String) {
    let cut = crate::mask::cut;
    match health {
        Some(WorkerHealth::Starting(m)) => (
            false,
            Reason::Starting,
            cut(&format!(
                "the worker is starting (GET /health answers 503): {m}"
            )),
        ),
        Some(WorkerHealth::Unhealthy(m)) => (
            false,
            Reason::Unhealthy,
            cut(&format!(
                "the worker is unhealthy (GET /health answers 500): {m}"
            )),
        ),
        Some(WorkerHealth::Healthy(_)) => (
            true,
            Reason::Available,
            "the Connect REST API answers and GET /health says healthy".to_string(),
        ),
        None => (
            true,
            Reason::Available,
            "the Connect REST API answers".to_string(),
        ),
    }
}

/// One entry per plugin class, with every version the workers offer (Kafka 4.1+ lists a
/// class once per installed version; KIP-891), newest last as Connect lists them; `version`
/// is the last of them.
pub fn plugin_versions(plugins: Vec<PluginInfo>) -> Vec<PluginStatus> {
    let mut by_class: std::collections::BTreeMap<String, PluginStatus> = Default::default();
    for p in plugins {
        let entry = by_class
            .entry(p.class.clone())
            .or_insert_with(|| PluginStatus {
                class: p.class,
                type_: p.type_,
                ..Default::default()
            });
        if let Some(v) = p.version
            && !entry.versions.contains(&v)
        {
            entry.versions.push(v.clone());
            entry.version = Some(v);
        }
    }
    by_class
        .into_values()
        .map(|mut p| {
            if p.versions.len() < 2 {
                p.versions.clear();
            }
            p
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_installed_in_several_versions_lists_them_all() {
        let answer = r#"[{"class":"a.Jdbc","type":"sink","version":"1.0"},
            {"class":"a.Jdbc","type":"sink","version":"2.0"},
            {"class":"b.File","type":"source","version":"4.3.1"},
            {"class":"c.NoVersion","type":"source","version":null}]"#;
        let plugins: Vec<PluginInfo> = serde_json::from_str(answer).unwrap();
        let listed = plugin_versions(plugins);
        let by_class: std::collections::BTreeMap<_, _> =
            listed.iter().map(|p| (p.class.as_str(), p)).collect();
        assert_eq!(by_class["a.Jdbc"].versions, ["1.0", "2.0"]);
        assert_eq!(by_class["a.Jdbc"].version.as_deref(), Some("2.0"));
        assert!(
            by_class["b.File"].versions.is_empty(),
            "one version: `version` says it"
        );
        assert_eq!(by_class["b.File"].version.as_deref(), Some("4.3.1"));
        assert_eq!(by_class["c.NoVersion"].version, None);
        assert_eq!(listed.len(), 3);
    }
}
