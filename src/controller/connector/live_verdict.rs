//! The verdict from what Connect shows, when the reconcile found nothing else to say
//! (`verdict::verdict` without a `Finding`): Ready only on exactly the state the spec asks
//! for, with every task following.

use std::time::Duration;

use super::live::{Live, settled_in};
use super::verdict::{SOON, Verdict, VerdictInput, not_ready};
use crate::vocabulary::{ConnectState, Reason};

/// RUNNING with no task at all: tasks not generated yet, or a connector that generates none
/// (MirrorMaker's source while no topic matches). Connect cannot tell them apart; after this
/// long not Ready it is the connector's own answer, and Ready.
const ZERO_TASKS_SETTLE: Duration = Duration::from_secs(30);

/// Ready only when Connect shows exactly what the spec asks for: the right state, its tasks
/// followed and, when running, every task RUNNING (Strimzi #6624: a CR stayed Ready with
/// FAILED tasks). A FAILED connector or task stalls unless auto-restart will act.
pub(super) fn from_live(input: &VerdictInput<'_>) -> Verdict {
    let idle = input.idle;
    let Some(status) = input.live.and_then(|l| l.status.as_ref()) else {
        let msg = "waiting for Connect to report the connector's status";
        return not_ready(Reason::Starting, msg.into(), false, SOON);
    };
    let state = &status.connector.state;
    if *state == ConnectState::Failed {
        let worker = status.connector.worker_id.clone().unwrap_or_default();
        let msg = format!("connector is FAILED on worker {worker}");
        return not_ready(Reason::ConnectorFailed, msg, !input.auto_restart, idle);
    }
    let failed: Vec<String> = status
        .tasks
        .iter()
        .filter(|t| t.state == ConnectState::Failed)
        .map(|t| t.id.to_string())
        .collect();
    if !failed.is_empty() {
        let msg = format!("task(s) {} FAILED", failed.join(", "));
        return not_ready(Reason::TasksFailed, msg, !input.auto_restart, idle);
    }
    let want = input.state.connect_state();
    if *state != want {
        let msg = format!("connector is {state}, want {want}");
        return not_ready(Reason::Progressing, msg, false, SOON);
    }
    let zero_tasks = input.live.is_some_and(Live::running_without_tasks);
    if want == ConnectState::Running && zero_tasks {
        // Ready already: zero tasks then is what the connector settled on, not a flap.
        let waited = input.not_ready_for.unwrap_or(ZERO_TASKS_SETTLE);
        if waited < ZERO_TASKS_SETTLE {
            let msg = format!(
                "RUNNING with no task yet; a connector that generates none is Ready after {}s",
                ZERO_TASKS_SETTLE.as_secs()
            );
            // One look at the deadline (the poll wakes it sooner if tasks appear).
            let requeue = (ZERO_TASKS_SETTLE - waited).max(SOON);
            return not_ready(Reason::TasksStarting, msg, false, requeue);
        }
    } else if want == ConnectState::Running && !input.live.is_some_and(Live::every_task_running) {
        let msg = "waiting for every task to be RUNNING";
        return not_ready(Reason::TasksStarting, msg.into(), false, SOON);
    }
    if !settled_in(status, &want) {
        let msg = format!("connector is {state}, waiting for its tasks to follow");
        return not_ready(Reason::Progressing, msg, false, SOON);
    }
    Verdict {
        ready: true,
        reason: input.state.ready_reason(),
        message: format!("connector is {state}"),
        reconciling: false,
        stalled: false,
        requeue: idle,
    }
}
