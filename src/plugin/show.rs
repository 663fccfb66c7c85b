//! What the plugin prints and writes, without a client: the describe screen, a masked diff,
//! and the patches of a restart or offsets request.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::{Value, json};

use crate::api::KafkaConnector;
use crate::mask::Masks;

/// One screen about a KafkaConnector, from its status.
pub fn describe(obj: &KafkaConnector) -> String {
    let mut out = String::new();
    let ns = obj.metadata.namespace.as_deref().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    let spec = &obj.spec;
    let _ = writeln!(out, "KafkaConnector {ns}/{name}");
    let connector = obj.connector_name();
    let (cluster_ns, cluster) = obj.cluster_key();
    let _ = writeln!(
        out,
        "  Connector:   {connector} on KafkaConnectCluster {cluster_ns}/{cluster}"
    );
    let _ = writeln!(
        out,
        "  Class:       {}{}",
        spec.class,
        spec.version
            .as_ref()
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default()
    );
    let Some(st) = &obj.status else {
        let _ = writeln!(
            out,
            "  Status:      none yet (the operator has not reconciled it)"
        );
        return out;
    };
    if let Some((from_ns, from)) = obj.moving_from(st) {
        let phase = st.move_.as_ref().map(|m| format!(" (step {:?})", m.phase));
        let _ = writeln!(
            out,
            "  Moving:      from KafkaConnectCluster {from_ns}/{from}{}",
            phase.unwrap_or_default()
        );
    }
    let state = st
        .state
        .as_ref()
        .map(|s| s.as_str().to_string())
        .unwrap_or("-".into());
    let _ = writeln!(
        out,
        "  State:       {state} (asked: {:?}){}",
        spec.state,
        st.worker_id
            .as_ref()
            .map(|w| format!(" on {w}"))
            .unwrap_or_default()
    );
    if let Some(v) = &st.version {
        let _ = writeln!(out, "  Version:     {v}");
    }
    if let Some(trace) = st.trace.as_deref().and_then(|t| t.lines().next()) {
        let _ = writeln!(out, "  Trace:       {trace}");
    }
    let _ = writeln!(
        out,
        "  Tasks:       {}",
        st.tasks_ready.as_deref().unwrap_or("-")
    );
    for t in &st.tasks {
        let _ = writeln!(
            out,
            "    {:>3}  {:<10} {:<24} {}{}",
            t.id,
            t.state.as_str(),
            t.worker_id.as_deref().unwrap_or("-"),
            t.version
                .as_deref()
                .map(|v| format!("v{v} "))
                .unwrap_or_default(),
            t.trace
                .as_deref()
                .and_then(|x| x.lines().next())
                .unwrap_or_default()
        );
    }
    if let Some(n) = st.tasks_omitted {
        let _ = writeln!(out, "    ... and {n} more");
    }
    let topics = match st.topics.is_empty() {
        true => "-".to_string(),
        false => st.topics.join(", "),
    };
    let _ = writeln!(out, "  Topics:      {topics}");
    let restart = match (&st.last_restart_id, &st.last_restart_error) {
        (None, _) => "-".to_string(),
        (Some(id), None) => format!("{id} (served)"),
        (Some(id), Some(e)) => format!("{id} (failed: {e})"),
    };
    let _ = writeln!(out, "  Restart:     {restart}");
    if let Some(a) = &st.auto_restart {
        let _ = writeln!(out, "  Auto-restart: {} so far", a.count);
    }
    if let Some(o) = &st.offsets {
        let result = o
            .result
            .as_ref()
            .map(|r| format!("{r:?}"))
            .unwrap_or("-".into());
        let _ = writeln!(
            out,
            "  Offsets:     request {} {result}{}",
            o.last_request_id.as_deref().unwrap_or("-"),
            o.message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
    }
    if let Some(d) = &st.drift {
        let keys: Vec<&str> = d.keys.iter().map(|k| k.key.as_str()).collect();
        let _ = writeln!(
            out,
            "  Drift:       since {}: {}",
            d.since.0,
            keys.join(", ")
        );
    }
    if !st.warnings.is_empty() {
        let _ = writeln!(out, "  Warnings:");
        for w in &st.warnings {
            let _ = writeln!(out, "    {w}");
        }
    }
    let _ = writeln!(out, "  Conditions:");
    for c in &st.conditions {
        let _ = writeln!(
            out,
            "    {:<12} {:<6} {:<22} {}",
            c.type_, c.status, c.reason, c.message
        );
    }
    out
}

/// The keys where `desired` and `live` differ (what Connect adds ignored), as a unified-diff
/// like text with secret values masked; empty when they agree.
pub fn diff(
    desired: &BTreeMap<String, String>,
    live: &BTreeMap<String, String>,
    masks: &Masks,
) -> String {
    let mut out = String::new();
    for key in crate::controller::connector::drift(desired, live) {
        let show = |v: Option<&String>| v.map(|v| masks.about_key(&key, v));
        if let Some(l) = show(live.get(&key)) {
            let _ = writeln!(out, "- {key}={l}");
        }
        if let Some(d) = show(desired.get(&key)) {
            let _ = writeln!(out, "+ {key}={d}");
        }
    }
    out
}

/// A request id that is new: the time, to the second, and a short random tail.
pub fn request_id(prefix: &str) -> String {
    let now = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
    let tail: u16 = rand::random();
    format!("{prefix}-{now}-{tail:04x}")
}

/// The merge patch of a restart request.
pub fn restart_patch(id: &str, tasks: bool, failed: bool, task: Option<i32>) -> Value {
    let mut restart = json!({"id": id});
    if let Some(t) = task {
        restart["taskId"] = json!(t);
    } else {
        if tasks {
            restart["includeTasks"] = json!(true);
        }
        if failed {
            restart["onlyFailed"] = json!(true);
        }
    }
    json!({"spec": {"restart": restart}})
}

/// The merge patch of an offsets request: a reset, or these offsets.
pub fn offsets_patch(id: &str, alter: Option<Value>) -> Value {
    match alter {
        None => json!({"spec": {"offsets": {"id": id, "reset": true}}}),
        Some(entries) => json!({"spec": {"offsets": {"id": id, "alter": entries}}}),
    }
}

/// The `{partition, offset}` list of a file: a list, or Connect's `{"offsets": [...]}`.
pub fn offsets_entries(text: &str) -> anyhow::Result<Value> {
    let v: Value = serde_json::from_str(text)?;
    let list = match v {
        Value::Array(_) => v,
        Value::Object(mut o) => o
            .remove("offsets")
            .ok_or_else(|| anyhow::anyhow!("an object without \"offsets\""))?,
        _ => anyhow::bail!("neither a list nor {{\"offsets\": [...]}}"),
    };
    anyhow::ensure!(
        list.as_array().is_some_and(|a| !a.is_empty()),
        "no offsets in the file"
    );
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::config;

    #[test]
    fn a_diff_shows_changed_keys_masked_and_ignores_what_connect_adds() {
        let desired = config(&[("name", "c"), ("topic", "a"), ("db.password", "new")]);
        let live = config(&[
            ("name", "c"),
            ("topic", "b"),
            ("db.password", "old"),
            ("__internal.config.version", "1"),
        ]);
        let masks = Masks::of_config(&desired).and(&Masks::of_config(&live));
        let text = diff(&desired, &live, &masks);
        assert!(text.contains("- topic=b\n+ topic=a\n"), "{text}");
        assert!(text.contains("db.password"), "{text}");
        assert!(!text.contains("new") && !text.contains("old"), "{text}");
        assert!(!text.contains("__internal"), "{text}");
        assert_eq!(diff(&desired, &desired, &masks), "");
    }

    #[test]
    fn restart_and_offsets_patches_ask_once() {
        let id = request_id("kubectl");
        assert!(id.starts_with("kubectl-") && id != request_id("kubectl"));
        assert_eq!(
            restart_patch("r1", true, true, None),
            json!({"spec": {"restart": {"id": "r1", "includeTasks": true, "onlyFailed": true}}})
        );
        assert_eq!(
            restart_patch("r2", false, false, Some(3)),
            json!({"spec": {"restart": {"id": "r2", "taskId": 3}}})
        );
        let entries =
            offsets_entries(r#"{"offsets": [{"partition": {"a": 1}, "offset": {"b": 2}}]}"#)
                .unwrap();
        assert_eq!(
            offsets_patch("o1", Some(entries.clone()))["spec"]["offsets"]["alter"],
            entries
        );
        assert_eq!(
            offsets_patch("o2", None),
            json!({"spec": {"offsets": {"id": "o2", "reset": true}}})
        );
        assert!(offsets_entries("[]").is_err());
    }
}
