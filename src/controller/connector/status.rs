//! Builds a KafkaConnector's status from what Connect reports and from the verdict, with
//! secrets masked. Writing it is `status_writer`'s job.

use super::live::Live;
use super::verdict::Verdict;
use crate::api::conditions::{self, READY, RECONCILING, STALLED, condition};
use crate::api::connector::{KafkaConnectorStatus, TaskStatus};
use crate::mask::Masks;
use crate::vocabulary::{ConnectState, Reason};

/// Longest trace kept in status; the full one stays in Connect's logs and REST API.
const TRACE_MAX_CHARS: usize = 2000;
const TRACE_MAX_LINES: usize = 12;

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
pub fn apply_live(status: &mut KafkaConnectorStatus, live: Option<&Live>, masks: &Masks) {
    let st = live.and_then(|l| l.status.as_ref());
    // Masked before trimmed: a cut could leave half a secret that no longer matches.
    let trace = |t: Option<&str>| t.map(|t| trim_trace(&masks.apply(t)));
    status.state = st.map(|s| s.connector.state.clone());
    status.worker_id = st.and_then(|s| s.connector.worker_id.clone());
    status.trace = st.and_then(|s| trace(s.connector.trace.as_deref()));
    status.tasks = st
        .map(|s| {
            s.tasks
                .iter()
                .map(|t| TaskStatus {
                    id: t.id,
                    state: t.state.clone(),
                    worker_id: t.worker_id.clone(),
                    trace: trace(t.trace.as_deref()),
                })
                .collect()
        })
        .unwrap_or_default();
    let running = |s: &crate::connect::types::ConnectorStateInfo| {
        let n = s.tasks.iter().filter(|t| t.state == ConnectState::Running);
        n.count()
    };
    status.tasks_ready = st.map(|s| format!("{}/{}", running(s), s.tasks.len()));
    status.tasks_running = st.map(|s| running(s) as i32);
}

/// Keeps the last known view of Connect (when this reconcile could not look).
pub fn keep_view(status: &mut KafkaConnectorStatus, prev: &KafkaConnectorStatus) {
    status.state = prev.state.clone();
    status.worker_id = prev.worker_id.clone();
    status.trace = prev.trace.clone();
    status.tasks = prev.tasks.clone();
    status.tasks_ready = prev.tasks_ready.clone();
    status.tasks_running = prev.tasks_running;
}

/// The three kstatus conditions from one verdict (transition times kept where unchanged).
pub fn set_conditions(status: &mut KafkaConnectorStatus, v: &Verdict, generation: Option<i64>) {
    let old = std::mem::take(&mut status.conditions);
    let when = |on: bool, otherwise: Reason| if on { v.reason } else { otherwise };
    let text = |on: bool| if on { v.message.clone() } else { String::new() };
    let mut new = vec![
        condition(READY, v.ready, v.reason, v.message.clone(), generation),
        condition(
            RECONCILING,
            v.reconciling,
            when(v.reconciling, Reason::Idle),
            text(v.reconciling),
            generation,
        ),
        condition(
            STALLED,
            v.stalled,
            when(v.stalled, Reason::Progressing),
            text(v.stalled),
            generation,
        ),
    ];
    conditions::carry_transition_times(&mut new, &old);
    status.conditions = new;
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn traces_are_masked_before_they_are_trimmed() {
        let secret = "hunter2-sentinel-value";
        let trace = format!("{}{secret}", "x".repeat(TRACE_MAX_CHARS - 8));
        let live: Live = serde_json::from_value(serde_json::json!({"config": {},
            "status": {"name": "c", "connector": {"state": "FAILED", "trace": trace}}}))
        .unwrap();
        let masks = Masks::default().with([secret.to_string()]);
        let mut st = KafkaConnectorStatus::default();
        apply_live(&mut st, Some(&live), &masks);
        let shown = st.trace.unwrap();
        assert!(
            !shown.contains("hunter2"),
            "a cut secret leaked: ...{}",
            &shown[shown.len() - 20..]
        );
    }
}
