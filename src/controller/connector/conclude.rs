//! The end of a reconcile that got as far as acting: what acting, observing and the watches
//! of drift and progress found, turned into status (`Report::conclude`), the Events of what
//! started or ended, and when to look again.

use std::time::Duration;

use kube::runtime::controller::Action;

use super::acting::Outcome;
use super::decide::Plan;
use super::observe::Observed;
use super::report::{Ending, Report};
use super::verdict::{Finding, InFlight};
use super::{auto_restart, drift, progress, status};
use crate::api::KafkaConnector;
use crate::controller::context::Context;
use crate::controller::events::publish;
use crate::error::Result;

/// What a reconcile that acted found besides Connect's view: what drifted, whether Connect
/// holds the desired config now, whether the connector moves data, and when to look again
/// for that.
pub struct Extras {
    pub drift: Option<crate::api::connector::DriftStatus>,
    pub applied: bool,
    pub progress: Option<crate::api::progress::ProgressStatus>,
    pub look_again: Option<Duration>,
}

/// How soon a reconcile that read back a config other than the desired one looks again.
const DRIFT_SEEN: Duration = Duration::from_secs(2);

/// The report of a reconcile that got as far as acting.
pub async fn conclude(
    report: &Report<'_>,
    plan: &Plan,
    outcome: Outcome,
    observed: Observed,
    topics: Option<Vec<String>>,
    fault: Option<crate::vocabulary::Reason>,
    extras: Extras,
) -> Result<Action> {
    let (obj, ctx) = (report.obj, report.ctx);
    let mut status = report.carried_over();
    outcome.served.write_into(&mut status);
    let prev = report.prev;
    let notes = [
        drift::transition(report.name, prev.drift.as_ref(), extras.drift.as_ref()),
        progress::transition(
            report.name,
            prev.progress.as_ref(),
            extras.progress.as_ref(),
        ),
    ];
    for note in notes.into_iter().flatten() {
        publish(&ctx.recorder, obj, note).await;
    }
    status.drift = extras.drift;
    status.progress = extras.progress;
    if extras.applied {
        status.applied_generation = obj.metadata.generation;
    }
    let drifted = observed.drifted;
    let live = observed.live.as_ref();
    if let Some(errors) = outcome.refused {
        // Nothing was written: the view from before acting, and Connect's errors.
        status.validation_errors = errors;
        let finding = Finding::InvalidConfig {
            errors: status.validation_errors.len(),
        };
        let ending = Ending {
            live,
            finding: Some(finding),
            fault: None,
        };
        return report.conclude(status, ending).await.map(Action::requeue);
    }
    if let Some(topics) = topics {
        status::set_topics(&mut status, topics);
    }
    // The plan saw Connect before this reconcile acted. A count to reset once the connector
    // stays healthy (after a config fix, say) is timed from what Connect became: no status
    // change wakes a reconcile (see `caches::spec_controller`), so the requeue must.
    let next_auto = live.map(|l| {
        auto_restart::auto_restart_plan(
            &obj.spec,
            &status,
            l,
            jiff::Timestamp::now(),
            ctx.config.auto_restart_base,
        )
    });
    let finding = finding(plan, report.name, outcome.in_flight, observed.stale);
    let ending = Ending {
        live,
        finding,
        fault,
    };
    let requeue = report.conclude(status, ending).await?;
    let requeue = sooner(obj, requeue, plan, next_auto, ctx);
    let requeue = extras.look_again.map_or(requeue, |l| requeue.min(l));
    Ok(Action::requeue(match drifted {
        true => requeue.min(DRIFT_SEEN),
        false => requeue,
    }))
}

/// What the verdict must know besides the live view once every step ran: auto-restart
/// given up, else a write not confirmed yet, else a failed read back, else a state change
/// left to Connect's workers.
fn finding(
    plan: &Plan,
    connector: &str,
    in_flight: Option<InFlight>,
    stale: bool,
) -> Option<Finding> {
    if plan.auto_restart.exhausted {
        let connector = connector.to_string();
        return Some(Finding::AutoRestartExhausted { connector });
    }
    let awaiting = matches!(in_flight, Some(InFlight::AwaitingWorker { .. }));
    let waiting = match in_flight {
        Some(sent) if !awaiting => Some(sent),
        _ if stale => Some(InFlight::ReadBack),
        awaiting => awaiting,
    };
    waiting.map(|waiting| Finding::InFlight { waiting })
}

/// The verdict's requeue, or sooner: when an auto-restart is due (or its count resets, as
/// planned or as planned again after acting: `next`), and when topics are due — they appear
/// without any status change (Debezium creates them lazily), so an idle connector is looked
/// at again then, not only at the resync.
fn sooner(
    obj: &KafkaConnector,
    requeue: Duration,
    plan: &Plan,
    next: Option<auto_restart::AutoRestartPlan>,
    ctx: &Context,
) -> Duration {
    let next_wait = next.and_then(|n| match n.reset || n.restart_now {
        true => Some(Duration::from_secs(1)),
        false => n.wait_seconds.map(Duration::from_secs),
    });
    let wait = plan.auto_restart.wait_seconds.map(Duration::from_secs);
    let requeue = [wait, next_wait]
        .into_iter()
        .flatten()
        .fold(requeue, Duration::min);
    match ctx.memory.topics_wait(obj) {
        Some(topics) => requeue.min(topics.max(Duration::from_secs(1))),
        None => requeue,
    }
}
