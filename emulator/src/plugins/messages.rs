//! Connect's error messages about classes and configs, word for word.

use std::collections::BTreeMap;

use super::classes::{PLUGINS, Plugin};

/// `PluginDesc{...}` of every class, as the "Failed to find any class" message lists them.
pub fn plugin_descs(version: &str) -> String {
    let mut sorted: Vec<&Plugin> = PLUGINS.iter().collect();
    sorted.sort_by_key(|p| p.class);
    sorted
        .iter()
        .map(|p| {
            format!(
                "PluginDesc{{klass=class {c}, name='{c}', version='{version}', encodedVersion={version}, type={t}, typeName='{t}', location='classpath'}}",
                c = p.class,
                t = p.kind.as_str()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The message of Connect's `ConnectException` for a class it does not have.
pub fn unknown_class_message(class: &str, version: &str) -> String {
    format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        plugin_descs(version)
    )
}

/// `{k=v, k2=v2}`, as Java prints a map (in the messages of Connect's errors).
pub fn java_map(config: &BTreeMap<String, String>) -> String {
    let inner = config
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{{inner}}}")
}

/// The message of a create or config write refused by validation.
pub fn invalid_config_message(errors: &[String]) -> String {
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        errors.len(),
        errors.join("\n")
    )
}
