//! The KafkaConnector reconciler, in three steps a reader can follow in this folder:
//! fetch (`fetch.rs`: Kubernetes and Connect read into one `Snapshot`) → decide (pure:
//! `decide.rs` for the plan, `verdict.rs` for the conditions) → act (`act.rs`, one function
//! per write to Connect, sequenced by `acting.rs`); then one status write
//! (`status_writer.rs`). Deletion is `cleanup.rs`.

mod act;
mod acting;
pub mod auto_restart;
mod cleanup;
mod config_values;
pub mod decide;
mod failures;
mod fetch;
pub mod live;
mod offsets;
mod status;
pub mod verdict;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, ResourceExt};

use acting::Acting;
use decide::DecideInput;
use failures::{report_failure, stale_cache};
use fetch::{Seen, Snapshot};
use live::Live;
use verdict::{Finding, VerdictInput, verdict};

pub use failures::error_policy;

use super::FINALIZER;
use super::context::Context;
use super::events::publish;
use super::status_writer::write_connector_status;
use crate::api::KafkaConnector;
use crate::api::connector::KafkaConnectorStatus;
use crate::error::{Error, Result};
use crate::mask::Masks;
use crate::telemetry::health::connector_key;
use crate::telemetry::metrics;
use crate::vocabulary::Reason;

const KIND: &str = "KafkaConnector";

#[tracing::instrument(skip_all, fields(namespace = %obj.namespace().unwrap_or_default(), kafkaconnector = %obj.name_any(),
    connector = %obj.connector_name(), cluster = %obj.spec.cluster_ref.name))]
pub async fn reconcile(obj: Arc<KafkaConnector>, ctx: Arc<Context>) -> Result<Action> {
    let start = Instant::now();
    let key = connector_key(&obj.namespace().unwrap_or_default(), &obj.name_any());
    ctx.health.started(&key);
    if let Some(file) = &ctx.config.fault_stall_file
        && file.exists()
    {
        tracing::warn!(file = %file.display(), "fault injection: this reconcile hangs");
        std::future::pending::<()>().await;
    }
    // Ownership and cleanup read the KafkaConnectCluster cache: with a partial cache another
    // CR's claim would be invisible, and a missing cluster would release the finalizer.
    if !ctx.clusters_synced() {
        ctx.health.finished(&key);
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let cluster = (
        obj.namespace().unwrap_or_default(),
        obj.spec.cluster_ref.name.clone(),
    );
    let Some(_slot) = ctx.clusters.slot(
        &cluster,
        &kube::runtime::reflector::ObjectRef::from_obj(obj.as_ref()),
    ) else {
        // Its cluster's slots are all taken (a slow or hanging cluster): step aside.
        ctx.health.finished(&key);
        metrics::deferred(KIND);
        let jitter = Duration::from_millis(rand::random_range(0..2000));
        return Ok(Action::requeue(Duration::from_secs(1) + jitter));
    };
    let result = run_finalizer(obj.clone(), &ctx).await;
    ctx.count_failure(&obj, result.is_err());
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::reconciled(KIND, outcome, start.elapsed());
    if let Err(e) = &result {
        metrics::error(KIND, e.label());
        report_failure(&obj, &ctx, e).await;
    }
    ctx.health.finished(&key);
    result
}

/// Apply or cleanup behind the finalizer, within the reconcile timeout.
async fn run_finalizer(obj: Arc<KafkaConnector>, ctx: &Context) -> Result<Action> {
    use kube::runtime::finalizer::Error as F;
    let api: Api<KafkaConnector> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    let budget = ctx.config.timeouts.reconcile;
    let fut = finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Event::Apply(o) => apply(&o, ctx).await,
            Event::Cleanup(o) => cleanup::cleanup(&o, ctx).await,
        }
    });
    match tokio::time::timeout(budget, fut).await {
        Err(_) => Err(Error::Timeout(budget)),
        Ok(Ok(a)) => Ok(a),
        Ok(Err(F::ApplyFailed(e) | F::CleanupFailed(e))) => Err(e),
        // The finalizer patch tests the finalizers it read from the cache; a failed test is a
        // bare 422 (no causes, no policy named): the cache is behind the apiserver (this CR's
        // own earlier patch, not seen yet). Not a failure to report: the watch event that
        // catches the cache up starts the next reconcile, and this requeue is the backstop.
        // A 422 that says why (schema, admission policy) is reported as before.
        Ok(Err(F::AddFinalizer(kube::Error::Api(s)) | F::RemoveFinalizer(kube::Error::Api(s))))
            if stale_cache(&s) =>
        {
            tracing::debug!(message = %s.message, "finalizer patch on a stale cache; retrying");
            Ok(Action::requeue(Duration::from_secs(1)))
        }
        Ok(Err(e)) => Err(Error::Finalizer(e.to_string())),
    }
}

/// fetch → decide → act → one status write.
async fn apply(obj: &KafkaConnector, ctx: &Context) -> Result<Action> {
    if obj.reconciliation_paused() {
        // Hands off: nothing read from or written to Connect; status says why.
        let prev = ctx.statuses.last(obj);
        let status = carried_over(obj, &obj.connector_name(), &prev);
        let masks = Masks::default();
        let end = Ending::new(&prev, None, &masks, Some(Finding::ReconciliationPaused));
        return conclude(obj, ctx, status, end).await.map(Action::requeue);
    }
    let snapshot = fetch::gather(obj, ctx).await?;
    let masks = snapshot.masks.clone();
    // Connect's errors may echo a value that came from a Secret: hide it before anyone sees.
    act_on(obj, ctx, snapshot)
        .await
        .map_err(|e| e.masked(&masks))
}

async fn act_on(obj: &KafkaConnector, ctx: &Context, snapshot: Snapshot) -> Result<Action> {
    let Snapshot {
        name,
        desired,
        masks,
        alter_offsets,
        prev,
        seen,
    } = snapshot;
    let mut status = carried_over(obj, &name, &prev);
    let (handle, live, capabilities) = match seen {
        Seen::Live {
            handle,
            live,
            capabilities,
        } => (handle, live, capabilities),
        Seen::Blocked(blocked) => {
            if let Some(note) = blocked.note {
                publish(ctx, obj, note).await;
            }
            status.validation_errors = blocked.validation_errors;
            let end = Ending::new(&prev, None, &masks, Some(blocked.finding));
            return conclude(obj, ctx, status, end).await.map(Action::requeue);
        }
        Seen::NotPolledYet => return Ok(Action::requeue(Duration::from_secs(10))),
    };
    let plan = decide::decide(&DecideInput {
        spec: &obj.spec,
        desired: &desired,
        live: live.as_ref(),
        status: &prev,
        now: jiff::Timestamp::now(),
        auto_restart_base: ctx.config.auto_restart_base,
        capabilities,
    });
    tracing::debug!(?plan, "plan");
    if plan.state.is_none() && plan.offsets.is_none() {
        // The state is what the spec asks: nothing is pending any more.
        ctx.set_state_pending(obj, None);
    }
    if let Some(message) = plan.unsupported {
        let end = Ending::new(
            &prev,
            live.as_ref(),
            &masks,
            Some(Finding::Unsupported { message }),
        );
        return conclude(obj, ctx, status, end).await.map(Action::requeue);
    }
    let mut run = Acting {
        obj,
        ctx,
        handle: &handle,
        name: &name,
        desired: &desired,
        masks: &masks,
        status,
        acted: false,
        in_flight: None,
        hold_state: false,
        awaiting: None,
    };
    if let Some(invalid) = run.config(&plan.config, &obj.spec.class).await? {
        let end = Ending::new(&prev, live.as_ref(), &masks, Some(invalid));
        return conclude(obj, ctx, run.status, end)
            .await
            .map(Action::requeue);
    }
    if let Some(action) = &plan.offsets {
        run.offsets(action, alter_offsets.as_ref()).await?;
    }
    if let Some(action) = plan.state.filter(|_| !run.hold_state) {
        run.change_state(action).await?;
    }
    if let Some(restart) = &plan.restart {
        run.restart(restart).await?;
    }
    if plan.owed_restart {
        run.restart_owed().await?;
    } else if run.status.restart_owed.is_some() && !live.as_ref().is_some_and(Live::any_failed) {
        // Nothing FAILED any more (restarted some other way): nothing is owed.
        run.status.restart_owed = None;
    }
    run.auto_restart(&plan.auto_restart, &prev).await?;
    let live = run.read_back(live).await;
    run.topics(live.as_ref(), &prev).await;
    // The plan saw Connect before this reconcile acted. A count to reset once the connector
    // stays healthy (after a config fix, say) is timed from what Connect became: no status
    // change wakes a reconcile (see `caches::spec_controller`), so the requeue must.
    let next_auto = live.as_ref().map(|l| {
        auto_restart::auto_restart_plan(
            &obj.spec,
            &run.status,
            l,
            jiff::Timestamp::now(),
            ctx.config.auto_restart_base,
        )
    });
    let finding = run.finding(&plan.auto_restart);
    let mut end = Ending::new(&prev, live.as_ref(), &masks, finding);
    end.fault = handle.client.recent_fault(RECENT_FAULT);
    let requeue = conclude(obj, ctx, run.status, end).await?;
    Ok(Action::requeue(sooner(obj, requeue, &plan, next_auto, ctx)))
}

/// The verdict's requeue, or sooner: when an auto-restart is due (or its count resets, as
/// planned or as planned again after acting: `next`), and when topics are due — they appear
/// without any status change (Debezium creates them lazily), so an idle connector is looked
/// at again then, not only at the resync.
fn sooner(
    obj: &KafkaConnector,
    requeue: Duration,
    plan: &decide::Plan,
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
    match ctx.topics_wait(obj) {
        Some(topics) => requeue.min(topics.max(Duration::from_secs(1))),
        None => requeue,
    }
}

/// What status keeps from the last one written, whatever this reconcile sees.
fn carried_over(
    obj: &KafkaConnector,
    name: &str,
    prev: &KafkaConnectorStatus,
) -> KafkaConnectorStatus {
    KafkaConnectorStatus {
        observed_generation: obj.metadata.generation,
        connector_name: Some(name.to_string()),
        conditions: prev.conditions.clone(),
        last_restart_id: prev.last_restart_id.clone(),
        last_restart_error: prev.last_restart_error.clone(),
        restart_owed: prev.restart_owed.clone(),
        auto_restart: prev.auto_restart.clone(),
        topics: prev.topics.clone(),
        offsets: prev.offsets.clone(),
        // The scale subresource's selector: nothing carries it, HPA and KEDA need one.
        selector: obj
            .metadata
            .uid
            .as_ref()
            .map(|uid| format!("kafkaconnect.dev/kafkaconnector-uid={uid}")),
        ..Default::default()
    }
}

/// How a reconcile ends: what it saw and what it found.
/// How long a retried momentary fault of Connect still explains a connector not Ready yet.
const RECENT_FAULT: Duration = Duration::from_secs(30);

struct Ending<'a> {
    prev: &'a KafkaConnectorStatus,
    live: Option<&'a Live>,
    masks: &'a Masks,
    finding: Option<Finding>,
    /// A momentary fault the cluster's requests were retried for lately (a rebalance).
    fault: Option<Reason>,
}

impl<'a> Ending<'a> {
    fn new(
        prev: &'a KafkaConnectorStatus,
        live: Option<&'a Live>,
        masks: &'a Masks,
        finding: Option<Finding>,
    ) -> Self {
        Self {
            prev,
            live,
            masks,
            finding,
            fault: None,
        }
    }
}

/// Fills status from the live view and the verdict, writes it if it changed, and returns
/// when to look again.
async fn conclude(
    obj: &KafkaConnector,
    ctx: &Context,
    mut st: KafkaConnectorStatus,
    end: Ending<'_>,
) -> Result<Duration> {
    if end.live.is_some() || end.finding.is_none() {
        status::apply_live(&mut st, end.live, end.masks);
    } else {
        // We could not look, or found nothing to show: keep the last known view.
        status::keep_view(&mut st, end.prev);
    }
    let mut v = verdict(&VerdictInput {
        state: obj.spec.state,
        auto_restart: obj.spec.auto_restart.as_ref().is_some_and(|a| a.enabled),
        live: end.live,
        finding: end.finding.as_ref(),
        idle: ctx.config.resync,
        not_ready_for: not_ready_for(end.prev),
    });
    v.message = end.masks.apply(&v.message);
    if let Some(fault) = end.fault
        && !v.ready
        && matches!(
            v.reason,
            Reason::Starting | Reason::TasksStarting | Reason::Progressing
        )
    {
        // Not there yet, and Connect had a momentary fault: say which (the retries that
        // hid it succeeded, so nothing else would).
        v.message = format!(
            "Connect answered {fault} lately (requests retried); {}",
            v.message
        );
        v.reason = fault;
    }
    status::set_conditions(&mut st, &v, obj.metadata.generation);
    write_connector_status(&ctx.client, &ctx.statuses, obj, &st).await?;
    Ok(v.requeue)
}

/// How long the connector has not been Ready: since the Ready condition we last wrote turned
/// False; zero without one; `None` while it is True.
fn not_ready_for(prev: &KafkaConnectorStatus) -> Option<Duration> {
    let Some(ready) = prev.conditions.iter().find(|c| c.type_ == "Ready") else {
        return Some(Duration::ZERO);
    };
    if ready.status == "True" {
        return None;
    }
    let since = jiff::Timestamp::now().duration_since(ready.last_transition_time.0);
    Duration::try_from(since).ok()
}
