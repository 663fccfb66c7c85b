//! The KafkaConnector reconciler, a one-way pipeline a reader can follow in this folder:
//! fetch (`fetch.rs`: Kubernetes and Connect read into one `Snapshot`) → decide (pure:
//! `decide.rs` for the `Plan`) → act (`acting.rs` sequences the plan's writes, `act.rs` has
//! one function per write to Connect; it returns an `Outcome`) → observe (`observe.rs`:
//! read back, topics; `drift.rs` and `progress.rs`: what drifted, whether data moves) →
//! report (`conclude.rs` gathers what was found, `report.rs` assembles status with the
//! verdict's conditions and writes it once). Deletion is `cleanup.rs`; failed reconciles
//! `failures.rs`; a changed `clusterRef` goes to `moving.rs` (`move_plan.rs` decides) instead of
//! decide and act.

mod act;
mod acting;
mod attach;
pub mod auto_restart;
mod cleanup;
mod conclude;
mod config_values;
pub mod decide;
mod desired;
mod drift;
mod error_handling;
mod failures;
mod fetch;
mod in_flight;
pub mod live;
mod live_verdict;
mod move_plan;
mod moving;
mod observe;
mod offsets;
pub mod progress;
mod provenance;
mod report;
mod restarting;
mod serving_offsets;
mod status;
pub mod verdict;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event, finalizer};
use kube::{Api, ResourceExt};

use acting::Acting;
use decide::{ConfigAction, DecideInput, Plan};
use failures::{apiserver_fault, report_failure, stale_cache};
use fetch::{Seen, Snapshot};
use observe::Observed;
use report::{RECENT_FAULT, Report, Served};
use verdict::Finding;

pub use failures::error_policy;
// What the admission webhook runs before a spec is stored: the same desired config,
// `configFrom` resolution, validate call and error-handling warnings as a reconcile.
pub use act::validate;
pub use config_values::resolve as resolve_config_from;
pub use desired::{desired_config, drift, masked_value};
pub use error_handling::error_handling;

use super::context::Context;
use crate::api::KafkaConnector;
use crate::api::connector::KafkaConnectorStatus;
use crate::controller::events::{Note, publish};
use crate::error::{Error, Result};
use crate::mask::Masks;
use crate::telemetry::health::connector_key;
use crate::telemetry::metrics;
use crate::vocabulary::{EventAction, Reason};

const KIND: &str = "KafkaConnector";

/// Held on every KafkaConnector this operator manages until its connector was dealt with.
pub const FINALIZER: &str = "kafkaconnect.dev/connector";

#[tracing::instrument(skip_all, fields(namespace = %obj.namespace().unwrap_or_default(), kafkaconnector = %obj.name_any(),
    connector = %obj.connector_name(), cluster = %obj.spec.cluster_ref.name, cluster_namespace = ?obj.spec.cluster_ref.namespace))]
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
    // A namespace's labels decide whether it may attach (`allowedNamespaces`): unknown
    // labels would read as "not allowed" for a moment after every start.
    if !(ctx.clusters_synced() && ctx.namespaces_synced()) {
        ctx.health.finished(&key);
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let cluster = obj.cluster_key();
    if !ctx.manages(&cluster).await {
        // Another shard's cluster object: that process reconciles this KafkaConnector.
        ctx.health.finished(&key);
        return Ok(Action::await_change());
    }
    // A reconcile that only adds the finalizer (its watch event starts the next) reaches no
    // Connect: it takes no slot of its cluster, so a rollout's finalizer patches do not
    // queue behind its creates.
    let _slot = match needs_finalizer(&obj) {
        true => None,
        false => {
            let wanted = kube::runtime::reflector::ObjectRef::from_obj(obj.as_ref());
            let Some(slot) = ctx.clusters.slot(&cluster, &wanted) else {
                // Its cluster's slots are all taken (a slow or hanging cluster): step aside.
                ctx.health.finished(&key);
                metrics::deferred(KIND);
                let jitter = Duration::from_millis(rand::random_range(0..2000));
                return Ok(Action::requeue(Duration::from_secs(1) + jitter));
            };
            Some(slot)
        }
    };
    let result = run_finalizer(obj.clone(), &ctx).await;
    ctx.memory.count_failure(&obj, result.is_err());
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::reconciled(KIND, outcome, start.elapsed());
    if let Err(e) = &result {
        metrics::error(KIND, e.label());
        let budget = ctx.config.timeouts.report;
        if tokio::time::timeout(budget, report_failure(&obj, &ctx, e))
            .await
            .is_err()
        {
            tracing::debug!(?budget, "reporting the failure timed out");
        }
    }
    ctx.health.finished(&key);
    result
}

/// Whether `obj` lacks this operator's finalizer and is not being deleted: its reconcile
/// only adds the finalizer (kube-runtime's `finalizer` calls neither apply nor cleanup then).
fn needs_finalizer(obj: &KafkaConnector) -> bool {
    obj.metadata.deletion_timestamp.is_none() && !obj.finalizers().iter().any(|f| f == FINALIZER)
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
        // The apiserver did not answer the finalizer patch (down, restarting): a fault of the
        // apiserver like any other, retried within seconds once it serves again, not a
        // refusal backed off for minutes.
        Ok(Err(F::AddFinalizer(e) | F::RemoveFinalizer(e))) if apiserver_fault(&e) => {
            Err(Error::Kube(e))
        }
        Ok(Err(e)) => Err(Error::Finalizer(e.to_string())),
    }
}

/// fetch → decide → act → observe → report.
async fn apply(obj: &KafkaConnector, ctx: &Context) -> Result<Action> {
    if obj.reconciliation_paused() {
        // Hands off: nothing read from or written to Connect; status says why.
        let prev = ctx.memory.last_status(obj);
        let (name, masks) = (obj.connector_name(), Masks::default());
        let report = Report {
            obj,
            ctx,
            name: &name,
            prev: &prev,
            masks: &masks,
        };
        let requeue = report.found(None, Finding::ReconciliationPaused).await?;
        return Ok(Action::requeue(requeue));
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
    let report = Report {
        obj,
        ctx,
        name: &name,
        prev: &prev,
        masks: &masks,
    };
    let (handle, live, capabilities) = match seen {
        Seen::Live {
            handle,
            live,
            capabilities,
        } => (handle, live, capabilities),
        Seen::Blocked(blocked) => return report.blocked(blocked).await.map(Action::requeue),
        Seen::NotPolledYet => return Ok(Action::requeue(Duration::from_secs(10))),
    };
    if let Some(from) = obj.moving_from(&prev) {
        let step = moving::Move {
            report: &report,
            new: &handle,
            new_caps: capabilities,
            desired: &desired,
            from,
        };
        return step.step().await;
    }
    let plan = decide::decide(&DecideInput {
        spec: &obj.spec,
        desired: &desired,
        live: live.as_ref(),
        status: &prev,
        now: jiff::Timestamp::now(),
        auto_restart_base: ctx.config.auto_restart_base,
        capabilities,
        desired_moved: drift::desired_moved(obj, &prev, &ctx.memory, &desired),
    });
    tracing::debug!(?plan, "plan");
    if plan.state.is_none() && plan.offsets.is_none() {
        // The state is what the spec asks: nothing is pending any more.
        ctx.memory.set_state_pending(obj, None);
    }
    if let Some(message) = plan.unsupported.clone() {
        let finding = Finding::Unsupported { message };
        return report
            .found(live.as_ref(), finding)
            .await
            .map(Action::requeue);
    }
    if let Some(finding) = contested(obj, ctx, &plan, &prev, &name) {
        if let Finding::Contested {
            keys, hold_secs, ..
        } = &finding
        {
            let text = format!(
                "connector {name} keeps being changed from outside (keys {}): not reverted for {hold_secs}s",
                keys.join(", ")
            );
            let note = Note {
                warning: true,
                reason: Reason::Contested.as_str(),
                action: EventAction::Update,
                text,
            };
            publish(&ctx.recorder, obj, note).await;
        }
        return report
            .found(live.as_ref(), finding)
            .await
            .map(Action::requeue);
    }
    if let (ConfigAction::Create { .. }, Some(after)) = (&plan.config, ctx.config.creates_after)
        && let Some(wait) = after.checked_duration_since(Instant::now())
    {
        // The previous holder of the Lease may have sent this very create just before it
        // died: look again once it would have landed (then it is adopted, not sent twice).
        tracing::debug!(?wait, "create held after taking over an unreleased Lease");
        return Ok(Action::requeue(wait));
    }
    let acting = Acting {
        obj,
        ctx,
        handle: &handle,
        name: &name,
        desired: &desired,
        masks: &masks,
        validate_first: !prev.validation_errors.is_empty(),
    };
    let served = Served::of(&prev);
    let mut outcome = acting
        .carry_out(&plan, served, live.as_ref(), alter_offsets.as_ref())
        .await?;
    let refused = outcome.refused.is_some();
    let (drift, applied) =
        drift::after_acting(obj, ctx, &plan, refused, &desired, live.as_ref(), &masks);
    let observed = match (outcome.wrote, outcome.created.take()) {
        (true, Some(answer)) => observe::created(&handle, &name, answer, &desired, &masks).await,
        (true, None) => observe::read_back(&handle, &name, live, &desired, &masks).await,
        (false, _) => Observed {
            live,
            stale: false,
            drifted: false,
        },
    };
    let topics = observe::topics(ctx, obj, &handle, observed.live.as_ref(), &prev).await;
    let seen = observed.live.as_ref();
    let shown = prev.progress.as_ref();
    let (progress, look_again) = progress::look(ctx, obj, &handle, seen, capabilities, shown).await;
    let fault = handle.client.recent_fault(RECENT_FAULT);
    let extras = conclude::Extras {
        drift,
        applied,
        progress,
        look_again,
    };
    conclude::conclude(&report, &plan, outcome, observed, topics, fault, extras).await
}

/// A config write that reverts an outside change (the spec did not change since the last
/// status) while reverts are held: the `Contested` finding instead of the write.
fn contested(
    obj: &KafkaConnector,
    ctx: &Context,
    plan: &Plan,
    prev: &KafkaConnectorStatus,
    name: &str,
) -> Option<Finding> {
    let ConfigAction::Update { changed, .. } = &plan.config else {
        return None;
    };
    if obj.metadata.generation != prev.observed_generation || prev.provenance.is_none() {
        return None;
    }
    let hold = ctx.memory.outside_change(obj, std::time::Instant::now())?;
    Some(Finding::Contested {
        connector: name.to_string(),
        keys: changed.clone(),
        hold_secs: hold.as_secs().max(1),
    })
}
