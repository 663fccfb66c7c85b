//! The catalogue: the classes a real 4.3.1 worker lists, and what each one makes of its
//! config once running (task count, task configs, topics).

use std::collections::BTreeMap;

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
    pub(super) template: &'static str,
}

/// In the order a real worker lists them (`GET /connector-plugins`: sinks, then sources).
pub const PLUGINS: [Plugin; 7] = [
    Plugin {
        class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
        kind: Kind::Sink,
        behavior: Behavior::FileStream,
        task_class: "org.apache.kafka.connect.file.FileStreamSinkTask",
        max_tasks: None,
        template: include_str!("../../templates/validate-FileStreamSinkConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.MockSinkConnector",
        kind: Kind::Sink,
        behavior: Behavior::Mock,
        task_class: "org.apache.kafka.connect.tools.MockSinkTask",
        max_tasks: Some(1),
        template: include_str!("../../templates/validate-MockSinkConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.VerifiableSinkConnector",
        kind: Kind::Sink,
        behavior: Behavior::Verifiable,
        task_class: "org.apache.kafka.connect.tools.VerifiableSinkTask",
        max_tasks: None,
        template: include_str!("../../templates/validate-VerifiableSinkConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.file.FileStreamSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::FileStream,
        task_class: "org.apache.kafka.connect.file.FileStreamSourceTask",
        max_tasks: Some(1),
        template: include_str!("../../templates/validate-FileStreamSourceConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.MockSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::Mock,
        task_class: "org.apache.kafka.connect.tools.MockSourceTask",
        max_tasks: Some(1),
        template: include_str!("../../templates/validate-MockSourceConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.SchemaSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::Schema,
        task_class: "org.apache.kafka.connect.tools.SchemaSourceTask",
        max_tasks: None,
        template: include_str!("../../templates/validate-SchemaSourceConnector.json"),
    },
    Plugin {
        class: "org.apache.kafka.connect.tools.VerifiableSourceConnector",
        kind: Kind::Source,
        behavior: Behavior::Verifiable,
        task_class: "org.apache.kafka.connect.tools.VerifiableSourceTask",
        max_tasks: None,
        template: include_str!("../../templates/validate-VerifiableSourceConnector.json"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::cfg;

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
}
