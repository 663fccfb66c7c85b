//! The connector classes the emulator knows: Kafka's test and file connectors, with the task
//! counts, failures and validation answers of the real ones (Kafka 4.3.1).
//!
//! - `classes`: the catalogue (which classes, how many tasks, which topics);
//! - `failures`: when and how a class fails, with the real traces;
//! - `validation`: the recorded validate answers and Connect's `ConfigDef` rules;
//! - `messages`: Connect's error messages about classes and configs.

mod classes;
mod failures;
mod messages;
mod validation;

pub use classes::{
    Behavior, Kind, PLUGINS, Plugin, PluginId, plugin, resolve, task_config, task_count, tasks_max,
    topics,
};
pub use failures::{
    Failure, INJECTED_TRACE, MOCK_CONNECTOR_TRACE, MOCK_SINK_TASK_TRACE, MOCK_SOURCE_TASK_TRACE,
    VERIFIABLE_SOURCE_TASK_TRACE, connector_failure, task_failure,
};
pub use messages::{invalid_config_message, java_map, plugin_descs, unknown_class_message};
pub use validation::Catalog;

/// A config map from pairs (the plugins' unit tests).
#[cfg(test)]
pub(crate) fn cfg(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
