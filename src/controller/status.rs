//! Builds a KafkaConnector's status from what Connect reports, and keeps secrets out of it.

use std::collections::BTreeMap;

use crate::api::conditions::{self, READY, RECONCILING, STALLED};
use crate::api::connector::{KafkaConnectorStatus, TaskStatus};
use crate::controller::decide::Live;

/// Longest trace kept in status; the full one stays in Connect's logs and REST API.
const TRACE_MAX_CHARS: usize = 2000;
const TRACE_MAX_LINES: usize = 12;

/// Key fragments whose values are treated as secrets wherever the operator writes text.
const SECRET_KEY_HINTS: [&str; 10] = [
    "password",
    "secret",
    "token",
    "credential",
    "jaas",
    "apikey",
    "api.key",
    "user.info",
    "userinfo",
    "passphrase",
];

pub const HIDDEN: &str = "[hidden]";

pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEY_HINTS.iter().any(|h| k.contains(h))
        || k.ends_with(".key")
        || k.ends_with("key.password")
}

/// Replaces in `text` every value of a secret-like key of `config` (Connect echoes config
/// values in some error messages: Strimzi #6911 leaked a database password that way).
pub fn mask(text: &str, config: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    let mut secrets: Vec<&str> = config
        .iter()
        .filter(|(k, v)| is_secret_key(k) && v.len() >= 3 && !v.starts_with("${"))
        .map(|(_, v)| v.as_str())
        .collect();
    // Longest first, so a secret that contains another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets {
        out = out.replace(s, HIDDEN);
    }
    out
}

pub fn trim_trace(trace: &str) -> String {
    let mut out: String = trace
        .lines()
        .take(TRACE_MAX_LINES)
        .collect::<Vec<_>>()
        .join("\n");
    if out.chars().count() > TRACE_MAX_CHARS {
        out = out.chars().take(TRACE_MAX_CHARS).collect();
    }
    if out.len() < trace.trim_end().len() {
        out.push_str("\n...");
    }
    out
}

/// Copies Connect's view into `status` (state, worker, tasks, trace), masked.
pub fn apply_live(
    status: &mut KafkaConnectorStatus,
    live: Option<&Live>,
    secrets: &BTreeMap<String, String>,
) {
    let st = live.and_then(|l| l.status.as_ref());
    status.state = st.map(|s| s.connector.state.clone());
    status.worker_id = st.and_then(|s| s.connector.worker_id.clone());
    status.trace = st
        .and_then(|s| s.connector.trace.as_deref())
        .map(|t| mask(&trim_trace(t), secrets));
    status.tasks = st
        .map(|s| {
            s.tasks
                .iter()
                .map(|t| TaskStatus {
                    id: t.id,
                    state: t.state.clone(),
                    worker_id: t.worker_id.clone(),
                    trace: t.trace.as_deref().map(|tr| mask(&trim_trace(tr), secrets)),
                })
                .collect()
        })
        .unwrap_or_default();
    status.tasks_ready = st.map(|s| {
        let running = s.tasks.iter().filter(|t| t.state == "RUNNING").count();
        format!("{running}/{}", s.tasks.len())
    });
}

/// The three kstatus conditions from one verdict.
pub struct Verdict<'a> {
    pub ready: bool,
    pub reason: &'a str,
    pub message: String,
    pub reconciling: bool,
    pub stalled: bool,
}

pub fn set_conditions(status: &mut KafkaConnectorStatus, v: Verdict<'_>, generation: Option<i64>) {
    let old = std::mem::take(&mut status.conditions);
    let mut new = vec![
        conditions::condition(READY, v.ready, v.reason, v.message.clone(), generation),
        conditions::condition(
            RECONCILING,
            v.reconciling,
            if v.reconciling { v.reason } else { "Idle" },
            if v.reconciling {
                v.message.clone()
            } else {
                String::new()
            },
            generation,
        ),
        conditions::condition(
            STALLED,
            v.stalled,
            if v.stalled { v.reason } else { "Progressing" },
            if v.stalled { v.message } else { String::new() },
            generation,
        ),
    ];
    conditions::carry_transition_times(&mut new, &old);
    status.conditions = new;
}

/// Equal as far as a reader cares: timestamps of unchanged conditions do not count.
pub fn status_unchanged(a: &KafkaConnectorStatus, b: &KafkaConnectorStatus) -> bool {
    let mut a2 = a.clone();
    let mut b2 = b.clone();
    let same_conditions = conditions::same_ignoring_time(&a2.conditions, &b2.conditions);
    a2.conditions.clear();
    b2.conditions.clear();
    same_conditions && a2 == b2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secret_values_in_messages() {
        let config: BTreeMap<String, String> = [
            ("database.password", "hunter22"),
            ("connection.url", "jdbc:x"),
            ("ssl.key.password", "${file:/s:k}"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let msg = "Invalid value hunter22 for configuration database.password; url jdbc:x";
        assert_eq!(
            mask(msg, &config),
            "Invalid value [hidden] for configuration database.password; url jdbc:x"
        );
    }

    #[test]
    fn traces_are_trimmed() {
        let trace = (0..100)
            .map(|i| format!("\tat frame{i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let t = trim_trace(&trace);
        assert!(t.lines().count() <= TRACE_MAX_LINES + 1);
        assert!(t.ends_with("..."));
        assert_eq!(trim_trace("short"), "short");
    }
}
