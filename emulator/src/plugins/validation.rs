//! Validation, from answers recorded from a real 4.3.1 worker (`templates/`, one
//! `PUT /connector-plugins/{class}/config/validate` with only `connector.class` per class):
//! their definitions, groups and recommended values are kept, and values and errors are
//! computed from the submitted config with the rules of Connect's `ConfigDef`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::classes::{Kind, PLUGINS, PluginId, plugin};

/// One definition of a recorded validate answer.
struct Definition {
    name: String,
    type_: String,
    required: bool,
    default: Option<String>,
    definition: Value,
    recommended: Value,
}

/// The parsed templates, one per class (in `PLUGINS` order).
pub struct Catalog {
    version: String,
    templates: Vec<(Vec<String>, Vec<Definition>)>,
}

impl Definition {
    /// One entry of a recorded answer's `configs`; `version` replaces 4.3.1 where the
    /// recorded answer names the plugin version.
    fn recorded(c: &Value, version: &str) -> Self {
        let mut definition = c["definition"].clone();
        let mut recommended = c["value"]["recommended_values"].clone();
        let name = definition["name"].as_str().unwrap_or_default().to_string();
        if name.ends_with("plugin.version") {
            definition["default_value"] = json!(version);
            recommended = json!([version]);
        }
        Definition {
            type_: definition["type"].as_str().unwrap_or("STRING").to_string(),
            required: definition["required"].as_bool().unwrap_or(false),
            default: definition["default_value"].as_str().map(String::from),
            name,
            definition,
            recommended,
        }
    }
}

/// A recorded answer's groups and definitions.
fn template(text: &str, version: &str) -> (Vec<String>, Vec<Definition>) {
    let answer: Value = serde_json::from_str(text).expect("a recorded template");
    let groups = answer["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g.as_str().map(String::from))
        .collect();
    let defs = answer["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| Definition::recorded(c, version))
        .collect();
    (groups, defs)
}

impl Catalog {
    /// `version` replaces 4.3.1 in the plugin-version defaults of the recorded answers.
    pub fn new(version: &str) -> Self {
        let templates = PLUGINS
            .iter()
            .map(|p| template(p.template, version))
            .collect();
        Catalog {
            version: version.to_string(),
            templates,
        }
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    /// Each definition's (parsed value, errors) for `config`.
    fn check_all(
        &self,
        id: PluginId,
        config: &BTreeMap<String, String>,
    ) -> Vec<(Option<String>, Vec<String>)> {
        let (_, defs) = &self.templates[id];
        let mut values: Vec<(Option<String>, Vec<String>)> =
            defs.iter().map(|d| check(d, config.get(&d.name))).collect();
        if plugin(id).kind == Kind::Sink
            && let Some(message) = sink_topics_error(config)
        {
            for (d, v) in defs.iter().zip(values.iter_mut()) {
                if d.name == "topics" || d.name == "topics.regex" {
                    v.1.push(message.to_string());
                }
            }
        }
        values
    }

    /// The validation errors of `config`, in Connect's order (what a create refuses).
    pub fn errors(&self, id: PluginId, config: &BTreeMap<String, String>) -> Vec<String> {
        self.check_all(id, config)
            .into_iter()
            .flat_map(|(_, errors)| errors)
            .collect()
    }

    /// Connect's `ConfigInfos` for `config`, and the error messages in order.
    pub fn validate(
        &self,
        id: PluginId,
        config: &BTreeMap<String, String>,
    ) -> (Value, Vec<String>) {
        let (groups, defs) = &self.templates[id];
        let values = self.check_all(id, config);
        let errors: Vec<String> = values.iter().flat_map(|v| v.1.iter().cloned()).collect();
        let configs: Vec<Value> = defs
            .iter()
            .zip(values)
            .map(|(d, (value, errs))| {
                json!({
                    "definition": d.definition,
                    "value": {
                        "name": d.name,
                        "value": value,
                        "recommended_values": d.recommended,
                        "errors": errs,
                        "visible": true,
                    }
                })
            })
            .collect();
        let answer = json!({
            "name": plugin(id).class,
            "error_count": errors.len(),
            "groups": groups,
            "configs": configs,
        });
        (answer, errors)
    }
}

/// A sink's connector-level rule: exactly one of `topics` and `topics.regex`.
fn sink_topics_error(config: &BTreeMap<String, String>) -> Option<&'static str> {
    let set = |key: &str| {
        config
            .get(key)
            .map(|v| !v.trim().is_empty())
            .unwrap_or(false)
    };
    match (set("topics"), set("topics.regex")) {
        (false, false) => Some("Must configure one of topics or topics.regex"),
        (true, true) => {
            Some("topics and topics.regex are mutually exclusive options, but both are set.")
        }
        _ => None,
    }
}

/// One key checked as Connect's `ConfigDef` does: (the parsed value, its errors).
fn check(d: &Definition, raw: Option<&String>) -> (Option<String>, Vec<String>) {
    let name = &d.name;
    let Some(raw) = raw else {
        if d.required && d.default.is_none() {
            return (
                None,
                vec![format!(
                    "Missing required configuration \"{name}\" which has no default value."
                )],
            );
        }
        return (d.default.clone(), Vec::new());
    };
    let invalid = |why: &str| format!("Invalid value {raw} for configuration {name}: {why}");
    match parse(&d.type_, raw.trim(), &invalid) {
        Err(e) => {
            let mut errors = vec![e];
            // tasks.max has a validator, which then sees null.
            if name == "tasks.max" {
                errors.push(format!(
                    "Invalid value null for configuration {name}: Value must be non-null"
                ));
            }
            (None, errors)
        }
        Ok(value) => {
            let errors = rule_errors(name, &value, &invalid);
            (Some(value), errors)
        }
    }
}

/// The value parsed as its `ConfigDef` type; `Err` is the message, made by `invalid`.
fn parse(type_: &str, trimmed: &str, invalid: &dyn Fn(&str) -> String) -> Result<String, String> {
    match type_ {
        "INT" => trimmed
            .parse::<i32>()
            .map(|n| n.to_string())
            .map_err(|_| invalid("Not a number of type INT")),
        "SHORT" => trimmed
            .parse::<i16>()
            .map(|n| n.to_string())
            .map_err(|_| invalid("Not a number of type SHORT")),
        "LONG" => trimmed
            .parse::<i64>()
            .map(|n| n.to_string())
            .map_err(|_| invalid("Not a number of type LONG")),
        "DOUBLE" => trimmed
            .parse::<f64>()
            .map(|n| n.to_string())
            .map_err(|_| invalid("Not a number of type DOUBLE")),
        "BOOLEAN" => match trimmed.to_ascii_lowercase().as_str() {
            b @ ("true" | "false") => Ok(b.to_string()),
            _ => Err(invalid("Expected value to be either true or false")),
        },
        "LIST" => Ok(trimmed
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(",")),
        _ => Ok(trimmed.to_string()),
    }
}

/// The validators of the keys that have one, on a value of the right type.
fn rule_errors(name: &str, value: &str, invalid: &dyn Fn(&str) -> String) -> Vec<String> {
    let mut errors = Vec::new();
    match name {
        "name" if value.is_empty() => {
            errors.push(invalid("String may not be empty"));
        }
        "tasks.max" if value.parse::<i32>().map(|n| n < 1).unwrap_or(false) => {
            errors.push(invalid("Value must be at least 1"));
        }
        "errors.tolerance" if !["none", "all"].contains(&value.to_ascii_lowercase().as_str()) => {
            errors.push(invalid("String must be one of: none, all"));
        }
        _ => {}
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::cfg;
    use crate::plugins::classes::resolve;

    #[test]
    fn validation_reports_what_the_real_worker_reports() {
        let catalog = Catalog::new("4.3.1");
        let id = resolve("FileStreamSourceConnector").unwrap();
        let (answer, errors) = catalog.validate(
            id,
            &cfg(&[
                ("connector.class", PLUGINS[id].class),
                ("name", "x"),
                ("tasks.max", "one"),
            ]),
        );
        assert_eq!(answer["error_count"], 3);
        assert_eq!(
            errors,
            [
                "Invalid value one for configuration tasks.max: Not a number of type INT",
                "Invalid value null for configuration tasks.max: Value must be non-null",
                "Missing required configuration \"topic\" which has no default value.",
            ]
        );
        let sink = resolve("FileStreamSinkConnector").unwrap();
        let (_, errors) = catalog.validate(
            sink,
            &cfg(&[("connector.class", PLUGINS[sink].class), ("name", "")]),
        );
        assert_eq!(errors.len(), 3, "{errors:?}");
    }
}
