//! Builds a KafkaConnector's status from what Connect reports and from the verdict, with
//! secrets masked. Writing it is `status_writer`'s job.

use super::desired::desired_config;
use super::error_handling::error_handling;
use super::live::Live;
use super::verdict::Verdict;
use crate::api::conditions::{self, READY, RECONCILING, STALLED, condition};
use crate::api::connector::{DriftPolicy, KafkaConnectorSpec, KafkaConnectorStatus, TaskStatus};

/// `driftPolicy: Report`'s condition: True while the config in Connect differs from the spec.
pub const DRIFTED: &str = "Drifted";
/// `progress`'s condition: False while a RUNNING connector's offsets stand still.
pub const FLOWING: &str = "Flowing";
use crate::mask::Masks;
use crate::vocabulary::{ConnectState, Reason};

/// Most tasks and topics status lists; the rest are counted (`tasksOmitted`,
/// `topicsOmitted`). Status lives in etcd with the object (1.5 MiB at most) and is read by
/// every `kubectl get`: it must not grow with whatever Connect reports.
pub const STATUS_MAX_ITEMS: usize = 100;

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
    status.version = st.and_then(|s| s.connector.version.clone());
    status.trace = st.and_then(|s| trace(s.connector.trace.as_deref()));
    let mut tasks: Vec<_> = st.map(|s| s.tasks.iter().collect()).unwrap_or_default();
    // What needs a reader's eyes first: a task not RUNNING.
    tasks.sort_by_key(|t| (t.state == ConnectState::Running, t.id));
    let omitted = tasks.len().saturating_sub(STATUS_MAX_ITEMS);
    tasks.truncate(STATUS_MAX_ITEMS);
    tasks.sort_by_key(|t| t.id);
    status.tasks = tasks
        .into_iter()
        .map(|t| TaskStatus {
            id: t.id,
            state: t.state.clone(),
            worker_id: t.worker_id.clone(),
            trace: trace(t.trace.as_deref()),
            version: t.version.clone(),
        })
        .collect();
    status.tasks_omitted = (omitted > 0).then_some(omitted as u32);
    let running = |s: &crate::connect::types::ConnectorStateInfo| {
        let n = s.tasks.iter().filter(|t| t.state == ConnectState::Running);
        n.count()
    };
    status.tasks_ready = st.map(|s| format!("{}/{}", running(s), s.tasks.len()));
    status.tasks_running = st.map(|s| running(s) as i32);
}

/// The connector's type and error handling (`errorHandling`, `warnings`) from its config in
/// Connect, else from the spec.
pub fn set_error_handling(
    status: &mut KafkaConnectorStatus,
    live: Option<&Live>,
    spec: &KafkaConnectorSpec,
    name: &str,
) {
    let desired;
    let config = match live {
        Some(l) => &l.config,
        None => {
            desired = desired_config(spec, name);
            &desired
        }
    };
    let reported = live
        .and_then(|l| l.status.as_ref())
        .map(|s| s.type_.clone());
    let kind = reported.filter(|t| !t.is_empty()).or(status.type_.clone());
    let (handling, mut warnings) = error_handling(config, kind.as_deref());
    warnings.extend(version_warnings(status, spec.version.as_deref()));
    status.type_ = kind;
    status.error_handling = Some(handling);
    status.warnings = warnings;
}

/// Versions that disagree (Connect 4.1+ reports them): a task on another version than its
/// connector (a rolling plugin upgrade not through yet, or stuck), or either on another one
/// than `spec.version` pins.
fn version_warnings(status: &KafkaConnectorStatus, pinned: Option<&str>) -> Vec<String> {
    let mut warnings = vec![];
    let connector = status.version.as_deref();
    if let (Some(pin), Some(runs)) = (pinned, connector)
        && pin != runs
    {
        warnings.push(format!(
            "the connector runs version {runs}, not {pin} as spec.version says"
        ));
    }
    for t in &status.tasks {
        let Some(v) = t.version.as_deref() else {
            continue;
        };
        match (connector, pinned) {
            (Some(c), _) if c != v => warnings.push(format!(
                "task {} runs version {v}, its connector {c} (a rolling plugin upgrade not through?)",
                t.id
            )),
            (None, Some(pin)) if pin != v => warnings.push(format!(
                "task {} runs version {v}, not {pin} as spec.version says",
                t.id
            )),
            _ => {}
        }
    }
    warnings
}

/// Keeps the last known view of Connect (when this reconcile could not look).
pub fn keep_view(status: &mut KafkaConnectorStatus, prev: &KafkaConnectorStatus) {
    status.state = prev.state.clone();
    status.worker_id = prev.worker_id.clone();
    status.version = prev.version.clone();
    status.trace = prev.trace.clone();
    status.tasks = prev.tasks.clone();
    status.tasks_omitted = prev.tasks_omitted;
    status.tasks_ready = prev.tasks_ready.clone();
    status.tasks_running = prev.tasks_running;
}

/// The three kstatus conditions from one verdict, and with `driftPolicy: Report` the
/// `Drifted` condition from `status.drift` (transition times kept where unchanged).
pub fn set_conditions(
    status: &mut KafkaConnectorStatus,
    v: &Verdict,
    generation: Option<i64>,
    policy: DriftPolicy,
) {
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
    if let Some(p) = &status.progress {
        new.push(match &p.last_movement {
            Some(t) if !p.flowing => condition(
                FLOWING,
                false,
                Reason::NoProgress,
                format!(
                    "RUNNING, but its offsets have not moved since {}: no input to read, or stuck (offsets cannot tell these apart)",
                    t.0
                ),
                generation,
            ),
            _ => condition(
                FLOWING,
                true,
                Reason::OffsetsMoving,
                "its offsets moved within its progress window",
                generation,
            ),
        });
    }
    if policy == DriftPolicy::Report {
        new.push(match &status.drift {
            Some(d) => condition(
                DRIFTED,
                true,
                Reason::DriftReported,
                format!(
                    "the config in Connect differs from the spec in {}, left as it is; see status.drift",
                    super::drift::key_list(d)
                ),
                generation,
            ),
            None => condition(
                DRIFTED,
                false,
                Reason::InSync,
                "the config in Connect is the spec's",
                generation,
            ),
        });
    }
    conditions::carry_transition_times(&mut new, &old);
    status.conditions = new;
}

/// Topics as status shows them: the first `STATUS_MAX_ITEMS` (sorted), and how many more.
pub fn set_topics(status: &mut KafkaConnectorStatus, mut topics: Vec<String>) {
    topics.sort();
    let omitted = topics.len().saturating_sub(STATUS_MAX_ITEMS);
    topics.truncate(STATUS_MAX_ITEMS);
    status.topics = topics;
    status.topics_omitted = (omitted > 0).then_some(omitted as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_and_topics_are_capped_and_counted() {
        let tasks: Vec<_> = (0..150)
            .map(|id| {
                let state = if id == 140 { "FAILED" } else { "RUNNING" };
                serde_json::json!({"id": id, "state": state, "worker_id": "w"})
            })
            .collect();
        let live: Live = serde_json::from_value(serde_json::json!({"config": {},
            "status": {"name": "c", "connector": {"state": "RUNNING"}, "tasks": tasks}}))
        .unwrap();
        let mut st = KafkaConnectorStatus::default();
        apply_live(&mut st, Some(&live), &Masks::default());
        assert_eq!(st.tasks.len(), STATUS_MAX_ITEMS);
        assert_eq!(st.tasks_omitted, Some(50));
        assert!(
            st.tasks.iter().any(|t| t.id == 140),
            "the FAILED task is kept"
        );
        assert_eq!(
            st.tasks_ready.as_deref(),
            Some("149/150"),
            "counts cover all"
        );
        set_topics(&mut st, (0..120).map(|i| format!("t{i:03}")).collect());
        assert_eq!(
            (st.topics.len(), st.topics_omitted),
            (STATUS_MAX_ITEMS, Some(20))
        );
        set_topics(&mut st, vec!["b".into(), "a".into()]);
        assert_eq!(
            (st.topics, st.topics_omitted),
            (vec!["a".into(), "b".into()], None)
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

    #[test]
    fn versions_that_disagree_are_flagged() {
        let live: Live = serde_json::from_value(serde_json::json!({"config": {},
            "status": {"name": "c", "connector": {"state": "RUNNING", "version": "2.0"},
                "tasks": [{"id": 0, "state": "RUNNING", "version": "2.0"},
                          {"id": 1, "state": "RUNNING", "version": "1.9"}]}}))
        .unwrap();
        let mut st = KafkaConnectorStatus::default();
        apply_live(&mut st, Some(&live), &Masks::default());
        assert_eq!(st.version.as_deref(), Some("2.0"));
        assert_eq!(st.tasks[1].version.as_deref(), Some("1.9"));
        let w = version_warnings(&st, None);
        assert!(
            w.len() == 1 && w[0].starts_with("task 1 runs version 1.9"),
            "{w:?}"
        );
        let w = version_warnings(&st, Some("2.1"));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("not 2.1 as spec.version says"), "{w:?}");
        // Workers before 4.1 report no versions: nothing to flag.
        st.version = None;
        st.tasks.iter_mut().for_each(|t| t.version = None);
        assert!(version_warnings(&st, Some("2.1")).is_empty());
    }
}
