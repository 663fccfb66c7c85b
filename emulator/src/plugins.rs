//! The connector classes the emulator knows: Kafka's test and file connectors, with the task
//! counts, failures and validation answers of the real ones (Kafka 4.3.1).
//!
//! Validation starts from answers recorded from a real 4.3.1 worker (`templates/`, one
//! `PUT /connector-plugins/{class}/config/validate` with only `connector.class` per class):
//! their definitions, groups and recommended values are kept, and values and errors are
//! computed from the submitted config with the rules of Connect's `ConfigDef`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Source,
    Sink,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Source => "source",
            Kind::Sink => "sink",
        }
    }
}

/// How a class behaves once running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behavior {
    /// `MockSourceConnector` / `MockSinkConnector`: one task; `mock_mode` =
    /// `connector-failure` | `task-failure` fails it `delay_ms` (default 15000) after start.
    Mock,
    /// `VerifiableSource/SinkConnector`: `tasks.max` tasks; a source task without a numeric
    /// `throughput` fails at start.
    Verifiable,
    /// `SchemaSourceConnector`: `tasks.max` tasks.
    Schema,
    /// `FileStreamSourceConnector` (1 task), `FileStreamSinkConnector` (`tasks.max` tasks).
    FileStream,
}

pub struct Plugin {
    pub class: &'static str,
    pub kind: Kind,
    pub behavior: Behavior,
    pub task_class: &'static str,
    /// `Some(1)`: at most one task whatever `tasks.max`; `None`: `tasks.max` tasks.
    pub max_tasks: Option<usize>,
    template: &'static str,
}

/// In the order a real worker lists them (`GET /connector-plugins`: sinks, then sources).
pub const PLUGINS: [Plugin; 7] = [
    Plugin {
        class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
        kind: Kind::Sink,
        behavior: Behavior::FileStream,
        task_class: "org.apache.kafka.connect.file.FileStreamSinkTask",
        max_tasks: None,
        template: include_str!("../templates/validate-FileStreamSinkConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.MockSinkConnector",
        kind: Kind::Sink,
        behavior: Behavior::Mock,
        task_class: "org.apache.kafka.connect.tools.MockSinkTask",
        max_tasks: Some(1),
        template: include_str!("../templates/validate-MockSinkConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.VerifiableSinkConnector",
        kind: Kind::Sink,
        behavior: Behavior::Verifiable,
        task_class: "org.apache.kafka.connect.tools.VerifiableSinkTask",
        max_tasks: None,
        template: include_str!("../templates/validate-VerifiableSinkConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::FileStream,
        task_class: "org.apache.kafka.connect.file.FileStreamSourceTask",
        max_tasks: Some(1),
        template: include_str!("../templates/validate-FileStreamSourceConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.MockSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::Mock,
        task_class: "org.apache.kafka.connect.tools.MockSourceTask",
        max_tasks: Some(1),
        template: include_str!("../templates/validate-MockSourceConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.SchemaSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::Schema,
        task_class: "org.apache.kafka.connect.tools.SchemaSourceTask",
        max_tasks: None,
        template: include_str!("../templates/validate-SchemaSourceConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::Verifiable,
        task_class: "org.apache.kafka.connect.tools.VerifiableSourceTask",
        max_tasks: None,
        template: include_str!("../templates/validate-VerifiableSourceConnector.json"),
    },
];

pub type PluginId = usize;

pub fn plugin(id: PluginId) -> &'static Plugin {
    &PLUGINS[id]
}

/// Resolves `connector.class` as Connect does: the full class name, the simple name, or the
/// simple name without its `Connector` suffix.
pub fn resolve(class: &str) -> Option<PluginId> {
    let class = class.trim();
    PLUGINS.iter().position(|p| {
        let simple = p.class.rsplit('.').next().unwrap_or(p.class);
        p.class == class || simple == class || simple.strip_suffix("Connector") == Some(class)
    })
}

/// `tasks.max` as Connect reads it (default 1).
pub fn tasks_max(config: &BTreeMap<String, String>) -> usize {
    config
        .get("tasks.max")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
}

/// How many task configs the connector generates: min(tasks.max, 1) or tasks.max.
pub fn task_count(id: PluginId, config: &BTreeMap<String, String>) -> usize {
    let max = tasks_max(config).max(1);
    match plugin(id).max_tasks {
        Some(limit) => max.min(limit),
        None => max,
    }
}

/// The config of task `task` (`GET /connectors/{c}/tasks`): the connector's plus `task.class`
/// (and `id` for the verifiable connectors).
pub fn task_config(
    id: PluginId,
    config: &BTreeMap<String, String>,
    task: usize,
) -> BTreeMap<String, String> {
    let p = plugin(id);
    let mut out = config.clone();
    out.insert("task.class".into(), p.task_class.into());
    if p.behavior == Behavior::Verifiable {
        out.insert("id".into(), task.to_string());
    }
    out
}

/// The topics a running connector of this class reports (`GET /connectors/{c}/topics`).
pub fn topics(id: PluginId, config: &BTreeMap<String, String>) -> Vec<String> {
    let p = plugin(id);
    if p.behavior == Behavior::Mock {
        return Vec::new();
    }
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    match p.kind {
        Kind::Sink => config.get("topics").map(|v| list(v)).unwrap_or_default(),
        // A file source without a file reads stdin, which never has data.
        Kind::Source if p.behavior == Behavior::FileStream && !config.contains_key("file") => {
            Vec::new()
        }
        Kind::Source => config.get("topic").map(|v| list(v)).unwrap_or_default(),
    }
}

/// What a class does once started: when and how it fails.
pub enum Failure {
    /// Fails `delay` ms after it started, with this trace.
    After(u64, &'static str),
    /// Fails as it starts.
    AtStart(&'static str),
}

pub fn connector_failure(id: PluginId, config: &BTreeMap<String, String>) -> Option<Failure> {
    (plugin(id).behavior == Behavior::Mock
        && config.get("mock_mode").map(|m| m.trim()) == Some("connector-failure"))
    .then(|| Failure::After(mock_delay(config), MOCK_CONNECTOR_TRACE))
}

pub fn task_failure(id: PluginId, config: &BTreeMap<String, String>) -> Option<Failure> {
    let p = plugin(id);
    match p.behavior {
        Behavior::Mock if config.get("mock_mode").map(|m| m.trim()) == Some("task-failure") => {
            let trace = match p.kind {
                Kind::Source => MOCK_SOURCE_TASK_TRACE,
                Kind::Sink => MOCK_SINK_TASK_TRACE,
            };
            Some(Failure::After(mock_delay(config), trace))
        }
        Behavior::Verifiable
            if p.kind == Kind::Source
                && config
                    .get("throughput")
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .is_none() =>
        {
            Some(Failure::AtStart(VERIFIABLE_SOURCE_TASK_TRACE))
        }
        _ => None,
    }
}

fn mock_delay(config: &BTreeMap<String, String>) -> u64 {
    config
        .get("delay_ms")
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(15_000)
}

pub const MOCK_CONNECTOR_TRACE: &str = "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockConnector.lambda$start$0(MockConnector.java:80)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask.run(ScheduledThreadPoolExecutor.java:304)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

pub const MOCK_SOURCE_TASK_TRACE: &str = "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockSourceTask.poll(MockSourceTask.java:66)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.poll(AbstractWorkerSourceTask.java:483)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.execute(AbstractWorkerSourceTask.java:366)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:243)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.run(AbstractWorkerSourceTask.java:83)\n\tat org.apache.kafka.connect.runtime.isolation.Plugins.lambda$withClassLoader$0(Plugins.java:252)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

pub const MOCK_SINK_TASK_TRACE: &str = "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockSinkTask.put(MockSinkTask.java:62)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:606)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.poll(WorkerSinkTask.java:345)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.iteration(WorkerSinkTask.java:247)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.execute(WorkerSinkTask.java:216)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:243)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

pub const VERIFIABLE_SOURCE_TASK_TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: Invalid VerifiableSourceTask configuration\n\tat org.apache.kafka.connect.tools.VerifiableSourceTask.start(VerifiableSourceTask.java:93)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.initializeAndStart(AbstractWorkerSourceTask.java:288)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doStart(WorkerTask.java:191)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:242)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.run(AbstractWorkerSourceTask.java:83)\n\tat org.apache.kafka.connect.runtime.isolation.Plugins.lambda$withClassLoader$0(Plugins.java:252)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\nCaused by: java.lang.NumberFormatException: Cannot parse null string\n\tat java.base/java.lang.Long.parseLong(Long.java:674)\n\tat java.base/java.lang.Long.parseLong(Long.java:836)\n\tat org.apache.kafka.connect.tools.VerifiableSourceTask.start(VerifiableSourceTask.java:91)\n\t... 11 more\n";

/// The trace of a failure injected through the admin endpoint without one.
pub const INJECTED_TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: failure injected by kco-connect-emulator\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:243)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

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

impl Catalog {
    /// `version` replaces 4.3.1 in the plugin-version defaults of the recorded answers.
    pub fn new(version: &str) -> Self {
        let templates = PLUGINS
            .iter()
            .map(|p| {
                let answer: Value = serde_json::from_str(p.template).expect("a recorded template");
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
                    .map(|c| {
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
                    })
                    .collect();
                (groups, defs)
            })
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
        if plugin(id).kind == Kind::Sink {
            let set = |key: &str| {
                config
                    .get(key)
                    .map(|v| !v.trim().is_empty())
                    .unwrap_or(false)
            };
            let message = match (set("topics"), set("topics.regex")) {
                (false, false) => Some("Must configure one of topics or topics.regex"),
                (true, true) => Some(
                    "topics and topics.regex are mutually exclusive options, but both are set.",
                ),
                _ => None,
            };
            if let Some(message) = message {
                for (d, v) in defs.iter().zip(values.iter_mut()) {
                    if d.name == "topics" || d.name == "topics.regex" {
                        v.1.push(message.to_string());
                    }
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
    let trimmed = raw.trim();
    let invalid = |why: &str| format!("Invalid value {raw} for configuration {name}: {why}");
    let parsed: Result<String, String> = match d.type_.as_str() {
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
    };
    match parsed {
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
            let mut errors = Vec::new();
            match name.as_str() {
                "name" if value.is_empty() => {
                    errors.push(invalid("String may not be empty"));
                }
                "tasks.max" if value.parse::<i32>().map(|n| n < 1).unwrap_or(false) => {
                    errors.push(invalid("Value must be at least 1"));
                }
                "errors.tolerance"
                    if !["none", "all"].contains(&value.to_ascii_lowercase().as_str()) =>
                {
                    errors.push(invalid("String must be one of: none, all"));
                }
                _ => {}
            }
            (Some(value), errors)
        }
    }
}

/// The message of a create or config write refused by validation.
pub fn invalid_config_message(errors: &[String]) -> String {
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        errors.len(),
        errors.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn classes_resolve_by_alias() {
        let mock = resolve("org.apache.kafka.connect.tools.MockSourceConnector").unwrap();
        assert_eq!(resolve("MockSourceConnector"), Some(mock));
        assert_eq!(resolve("MockSource"), Some(mock));
        assert_eq!(resolve("com.example.Nope"), None);
    }

    #[test]
    fn task_counts_follow_the_real_classes() {
        let three = cfg(&[("tasks.max", "3")]);
        let count = |class: &str| task_count(resolve(class).unwrap(), &three);
        assert_eq!(count("MockSourceConnector"), 1);
        assert_eq!(count("MockSinkConnector"), 1);
        assert_eq!(count("FileStreamSourceConnector"), 1);
        assert_eq!(count("FileStreamSinkConnector"), 3);
        assert_eq!(count("VerifiableSourceConnector"), 3);
        assert_eq!(count("VerifiableSinkConnector"), 3);
        assert_eq!(count("SchemaSourceConnector"), 3);
    }

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
