//! KafkaConnector reconciler: fetch (cluster, ownership, live view) → decide (pure, see
//! `decide.rs`) → act (REST writes, each confirmed by reading back) → status (written by
//! server-side apply only when something changed).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Event, finalizer};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::clusters::ClusterHandle;
use super::decide::{self, ConfigAction, DecideInput, Live, RestartAction, StateAction};
use super::ownership::{self, Claim};
use super::status::{self, Verdict};
use super::{Context, FINALIZER, MANAGER, publish};
use crate::api::connector::{
    AutoRestartStatus, DeletionPolicy, DesiredState, KafkaConnectorStatus, ValidationError,
};
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::connect::types::ExpandedConnector;
use crate::connect::{ConnectClient, RestartOptions, resolve_settings};
use crate::error::{Error, Result};
use crate::telemetry::metrics;

const KIND: &str = "KafkaConnector";
/// How long a pause/resume/stop may take to show in the status before we stop waiting
/// and come back later (the requeue, not this wait, is what guarantees convergence).
const CONFIRM_BUDGET: Duration = Duration::from_secs(15);
/// Requeue while something is in flight (tasks starting, a transition not yet confirmed).
const SOON: Duration = Duration::from_secs(3);

#[tracing::instrument(skip_all, fields(namespace = %obj.namespace().unwrap_or_default(), kafkaconnector = %obj.name_any(),
    connector = %obj.connector_name(), cluster = %obj.spec.cluster_ref.name))]
pub async fn reconcile(obj: Arc<KafkaConnector>, ctx: Arc<Context>) -> Result<Action> {
    let start = Instant::now();
    let key = super::clusters::connector_key(&obj.namespace().unwrap_or_default(), &obj.name_any());
    ctx.health.started(&key);
    if let Some(file) = &ctx.config.fault_stall_file
        && file.exists()
    {
        tracing::warn!(file = %file.display(), "fault injection: this reconcile hangs");
        std::future::pending::<()>().await;
    }
    let api: Api<KafkaConnector> =
        Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
    // Ownership and cleanup read the KafkaConnectCluster cache: with a partial cache another
    // CR's claim would be invisible, and a missing cluster would release the finalizer.
    if !super::store_synced(&ctx.cluster_store) {
        ctx.health.finished(&key, None);
        return Ok(Action::requeue(Duration::from_secs(2)));
    }
    let budget = ctx.config.reconcile_timeout;
    let obj_for_events = obj.clone();
    let fut = finalizer(&api, FINALIZER, obj, |event| async {
        match event {
            Event::Apply(o) => apply(&o, &ctx).await,
            Event::Cleanup(o) => cleanup(&o, &ctx).await,
        }
    });
    let result = match tokio::time::timeout(budget, fut).await {
        Err(_) => Err(Error::Timeout(budget)),
        Ok(Ok(a)) => Ok(a),
        Ok(Err(
            kube::runtime::finalizer::Error::ApplyFailed(e)
            | kube::runtime::finalizer::Error::CleanupFailed(e),
        )) => Err(e),
        Ok(Err(e)) => Err(Error::Finalizer(e.to_string())),
    };
    metrics::reconciled(
        KIND,
        if result.is_ok() { "ok" } else { "error" },
        start.elapsed(),
    );
    if let Err(e) = &result {
        metrics::error(KIND, e.label());
        // Connect's messages may echo config values: mask them like everything we write.
        let secrets =
            decide::desired_config(&obj_for_events.spec, &obj_for_events.connector_name());
        let note = status::mask(&e.to_string(), &secrets);
        publish(
            &ctx,
            obj_for_events.as_ref(),
            EventType::Warning,
            e.label(),
            "Reconcile",
            note,
        )
        .await;
    }
    ctx.health.finished(&key, None);
    result
}

pub fn error_policy(obj: Arc<KafkaConnector>, err: &Error, _ctx: Arc<Context>) -> Action {
    // Connect's messages may echo config values: mask them like everything we write.
    let secrets = decide::desired_config(&obj.spec, &obj.connector_name());
    let error = status::mask(&err.to_string(), &secrets);
    tracing::warn!(%error, reason = err.label(), "KafkaConnector reconcile failed");
    // Jitter so that many connectors of one failing cluster do not retry in lockstep.
    let jitter = Duration::from_millis(rand::random_range(0..2000));
    let base = if err.is_transient() {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(30)
    };
    Action::requeue(base + jitter)
}

/// Where a reconcile stands when it returns early, for status and requeue.
struct Outcome {
    verdict_reason: &'static str,
    message: String,
    stalled: bool,
    requeue: Duration,
}

async fn apply(obj: &KafkaConnector, ctx: &Context) -> Result<Action> {
    let name = obj.connector_name();
    let prev = ctx.last_status(obj);
    let mut st = KafkaConnectorStatus {
        observed_generation: obj.metadata.generation,
        connector_name: Some(name.clone()),
        conditions: prev.conditions.clone(),
        last_restart_id: prev.last_restart_id.clone(),
        auto_restart: prev.auto_restart.clone(),
        topics: prev.topics.clone(),
        ..Default::default()
    };
    let desired = decide::desired_config(&obj.spec, &name);

    // 0. What the schema could not refuse: report it, touch nothing.
    let spec_errors = crate::api::connector::spec_errors(&obj.spec);
    if !spec_errors.is_empty() {
        st.validation_errors = spec_errors;
        let o = Outcome {
            verdict_reason: "InvalidSpec",
            message: "spec.config is not acceptable, see status.validationErrors; Connect was not changed".into(),
            stalled: true,
            requeue: ctx.config.resync,
        };
        return finish(obj, ctx, st, &prev, None, &desired, Some(o)).await;
    }

    // 1. The cluster and its credentials.
    let handle = match cluster_handle(obj, ctx).await {
        Ok(h) => h,
        Err(
            e @ (Error::ClusterNotFound(_) | Error::MissingReference(_) | Error::InvalidTls(_)),
        ) => {
            let o = Outcome {
                verdict_reason: e.label(),
                message: e.to_string(),
                stalled: false,
                requeue: Duration::from_secs(15),
            };
            return finish(obj, ctx, st, &prev, None, &desired, Some(o)).await;
        }
        Err(e) => return Err(e),
    };

    // 2. Ownership: the oldest CR naming this connector on this Connect cluster.
    if let Some(owner) = conflicting_owner(obj, ctx, &handle.url) {
        let o = Outcome {
            verdict_reason: "Conflict",
            message: format!(
                "connector {name} on {} is claimed by KafkaConnector {owner}",
                handle.url
            ),
            stalled: true,
            // Look again soon: the owner may go away without waking us.
            requeue: Duration::from_secs(30),
        };
        return finish(obj, ctx, st, &prev, None, &desired, Some(o)).await;
    }

    // 3. The live connector, from the bulk view where it has it.
    let mut live = match fetch_live(&handle, &name).await {
        Ok(l) => l,
        Err(e) if e.is_transient() || matches!(e, Error::Unauthorized(_)) => {
            let note = status::mask(&e.to_string(), &desired);
            publish(ctx, obj, EventType::Warning, e.label(), "Read", note).await;
            let o = Outcome {
                verdict_reason: e.label(),
                message: e.to_string(),
                stalled: false,
                requeue: SOON * 3,
            };
            st.state = prev.state.clone();
            return finish(obj, ctx, st, &prev, None, &desired, Some(o)).await;
        }
        Err(e) => return Err(e),
    };

    // 4. Decide.
    let plan = decide::decide(&DecideInput {
        spec: &obj.spec,
        connector_name: &name,
        live: live.as_ref(),
        status: &prev,
        now: jiff::Timestamp::now(),
        auto_restart_base: ctx.config.auto_restart_base,
    });
    tracing::debug!(?plan, "plan");
    let client = &handle.client;
    let mut acted = false;
    let mut in_flight: Option<String> = None;

    // 5. Act: config first (validated), then state, then restarts.
    if !matches!(plan.config, ConfigAction::None) {
        let errors = validate(client, &obj.spec.class, &desired).await?;
        if !errors.is_empty() {
            let count = errors.len();
            st.validation_errors = errors;
            publish(
                ctx,
                obj,
                EventType::Warning,
                "ValidationFailed",
                "Validate",
                format!("Connect rejected the config with {count} error(s); nothing was written"),
            )
            .await;
            let o = Outcome {
                verdict_reason: "InvalidConfig",
                message: format!(
                    "the config has {count} error(s), see status.validationErrors; Connect was not changed"
                ),
                stalled: true,
                requeue: Duration::from_secs(60),
            };
            return finish(obj, ctx, st, &prev, live.as_ref(), &desired, Some(o)).await;
        }
        match &plan.config {
            ConfigAction::Create { initial_state } => {
                match client.create(&name, &desired, Some(initial_state)).await {
                    // A retried create whose first attempt went through answers 409: not an error.
                    Ok(_) | Err(Error::AlreadyExists(_)) => {}
                    Err(e) => return Err(e),
                }
                publish(
                    ctx,
                    obj,
                    EventType::Normal,
                    "Created",
                    "Create",
                    format!("created connector {name} ({initial_state})"),
                )
                .await;
            }
            ConfigAction::Update { restart_failed } => {
                client.put_config(&name, &desired).await?;
                publish(
                    ctx,
                    obj,
                    EventType::Normal,
                    "ConfigUpdated",
                    "Update",
                    format!("updated the config of connector {name}"),
                )
                .await;
                if *restart_failed {
                    client.restart(&name, RestartOptions::FAILED_PARTS).await?;
                    publish(
                        ctx,
                        obj,
                        EventType::Normal,
                        "Restarted",
                        "Restart",
                        "restarted failed parts after the config changed".to_string(),
                    )
                    .await;
                }
            }
            ConfigAction::None => {}
        }
        acted = true;
    }
    if let Some(action) = plan.state {
        match action {
            StateAction::Pause => client.pause(&name).await?,
            StateAction::Resume => client.resume(&name).await?,
            StateAction::Stop => client.stop(&name).await?,
        }
        let verb = match action {
            StateAction::Pause => "Paused",
            StateAction::Resume => "Resumed",
            StateAction::Stop => "Stopped",
        };
        if !confirm_state(client, &name, action.target()).await {
            in_flight = Some(format!(
                "waiting for connector {name} to become {}",
                action.target()
            ));
        }
        publish(
            ctx,
            obj,
            EventType::Normal,
            verb,
            verb,
            format!("connector {name}: {}", verb.to_lowercase()),
        )
        .await;
        acted = true;
    }
    match &plan.restart {
        Some(RestartAction::Connector {
            id,
            include_tasks,
            only_failed,
        }) => {
            client
                .restart(
                    &name,
                    RestartOptions {
                        include_tasks: *include_tasks,
                        only_failed: *only_failed,
                    },
                )
                .await?;
            st.last_restart_id = Some(id.clone());
            ctx.record_restart(obj, &st).await?;
            publish(
                ctx,
                obj,
                EventType::Normal,
                "Restarted",
                "Restart",
                format!("restarted connector {name} (restart id {id})"),
            )
            .await;
            acted = true;
        }
        Some(RestartAction::Task { id, task_id }) => {
            // A task id that does not exist is the user's mistake: say so, do not retry forever.
            let tasks = client.tasks(&name).await?;
            st.last_restart_id = Some(id.clone());
            if !tasks.iter().any(|t| t.id.task == *task_id) {
                let ids: Vec<String> = tasks.iter().map(|t| t.id.task.to_string()).collect();
                publish(
                    ctx,
                    obj,
                    EventType::Warning,
                    "RestartFailed",
                    "RestartTask",
                    format!(
                        "restart {id}: connector {name} has no task {task_id} (tasks: [{}])",
                        ids.join(", ")
                    ),
                )
                .await;
            } else {
                client.restart_task(&name, *task_id).await?;
                ctx.record_restart(obj, &st).await?;
                // Read the task back: the restart is synchronous, its status shows the result.
                let state = client
                    .task_status(&name, *task_id)
                    .await
                    .map(|t| t.state)
                    .unwrap_or_default();
                tracing::debug!(task = task_id, %state, "task restarted");
                publish(
                    ctx,
                    obj,
                    EventType::Normal,
                    "Restarted",
                    "RestartTask",
                    format!("restarted task {task_id} of {name} (restart id {id}), now {state}"),
                )
                .await;
            }
            acted = true;
        }
        Some(RestartAction::RecordOnly { id }) => st.last_restart_id = Some(id.clone()),
        None => {}
    }
    let ar = &plan.auto_restart;
    if ar.restart_now {
        client.restart(&name, RestartOptions::FAILED_PARTS).await?;
        let count = prev.auto_restart.as_ref().map_or(0, |a| a.count) + 1;
        st.auto_restart = Some(AutoRestartStatus {
            count,
            last_restart_time: Some(Time(jiff::Timestamp::now())),
        });
        metrics::METRICS.auto_restarts.inc();
        ctx.record_restart(obj, &st).await?;
        publish(
            ctx,
            obj,
            EventType::Warning,
            "AutoRestarted",
            "AutoRestart",
            format!("connector {name} or a task was FAILED: restart number {count}"),
        )
        .await;
        acted = true;
    } else if ar.reset {
        st.auto_restart = None;
    }

    // 6. Read back what we changed, and share it with the next reconcile through the view.
    if acted {
        // The writes happened; a failed read-back must not lose what status has to record
        // (a served restart id, an auto-restart count): keep the last view and look again soon.
        match read_back(client, &name).await {
            Ok(l) => live = l,
            Err(e) => {
                tracing::debug!(error = %status::mask(&e.to_string(), &desired), "read-back failed");
                in_flight.get_or_insert_with(|| "waiting to read the connector back".into());
            }
        }
        handle.set_entry(
            &name,
            live.as_ref().map(|l| ExpandedConnector {
                status: l.status.clone(),
                info: Some(crate::connect::types::ConnectorInfo {
                    name: name.clone(),
                    config: l.config.clone(),
                    tasks: vec![],
                    type_: None,
                }),
            }),
        );
    }

    // 7. Topics: on any change of the live status, and otherwise at most every topics_refresh.
    let status_moved = live
        .as_ref()
        .and_then(|l| l.status.as_ref())
        .map(|s| &s.connector.state)
        != prev.state.as_ref()
        || live
            .as_ref()
            .map_or(0, |l| l.status.as_ref().map_or(0, |s| s.tasks.len()))
            != prev.tasks.len();
    if live.is_some() && (acted || status_moved || topics_due(ctx, obj)) {
        match client.topics(&name).await {
            Ok(mut t) => {
                t.sort();
                st.topics = t;
                ctx.mark_topics_read(obj);
            }
            Err(e) => tracing::debug!(error = %e, "reading topics failed; keeping the last list"),
        }
    }

    let in_flight_requeue = in_flight.is_some();
    let mut outcome = None;
    if ar.exhausted {
        outcome = Some(Outcome {
            verdict_reason: "AutoRestartExhausted",
            message: format!(
                "connector {name} is FAILED and autoRestart.maxRestarts is reached; set spec.restart to try again"
            ),
            stalled: true,
            requeue: ctx.config.resync,
        });
    } else if let Some(msg) = in_flight {
        outcome = Some(Outcome {
            verdict_reason: "Progressing",
            message: msg,
            stalled: false,
            requeue: SOON,
        });
    }
    let mut action = finish(obj, ctx, st, &prev, live.as_ref(), &desired, outcome).await?;
    if let Some(wait) = ar.wait_seconds {
        // An unconfirmed transition asked for a quicker look: keep the sooner of the two.
        let soon = if in_flight_requeue {
            SOON
        } else {
            ctx.config.resync
        };
        action = Action::requeue(Duration::from_secs(wait).min(soon));
    }
    Ok(action)
}

/// Fills status from the live view and `outcome`, writes it if it changed, picks the requeue.
async fn finish(
    obj: &KafkaConnector,
    ctx: &Context,
    mut st: KafkaConnectorStatus,
    prev: &KafkaConnectorStatus,
    live: Option<&Live>,
    secrets: &BTreeMap<String, String>,
    outcome: Option<Outcome>,
) -> Result<Action> {
    if live.is_some() || outcome.is_none() {
        status::apply_live(&mut st, live, secrets);
    } else {
        // We could not look (cluster missing, unreachable, conflict): keep the last known view.
        st.state = prev.state.clone();
        st.worker_id = prev.worker_id.clone();
        st.trace = prev.trace.clone();
        st.tasks = prev.tasks.clone();
        st.tasks_ready = prev.tasks_ready.clone();
    }
    let (verdict, requeue) = match outcome {
        Some(o) => (
            Verdict {
                ready: false,
                reason: o.verdict_reason,
                message: status::mask(&o.message, secrets),
                reconciling: !o.stalled,
                stalled: o.stalled,
            },
            o.requeue,
        ),
        None => live_verdict(obj, live, ctx),
    };
    status::set_conditions(&mut st, verdict, obj.metadata.generation);
    if !status::status_unchanged(&st, prev) {
        let api: Api<KafkaConnector> =
            Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
        let patch = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": KIND, "status": st});
        api.patch_status(
            &obj.name_any(),
            &PatchParams::apply(MANAGER).force(),
            &Patch::Apply(patch),
        )
        .await?;
        if st.auto_restart.is_none() && prev.auto_restart.is_some() {
            // `record_restart` wrote autoRestart with a merge patch, so server-side apply
            // does not own it alone and leaving it out does not remove it: delete it here.
            let reset = json!({"status": {"autoRestart": null}});
            api.patch_status(
                &obj.name_any(),
                &PatchParams::default(),
                &Patch::Merge(reset),
            )
            .await?;
        }
        ctx.remember_status(obj, Some(&st));
    }
    Ok(Action::requeue(requeue))
}

/// Ready only when Connect shows exactly what the spec asks for: the right state and, when
/// running, every task RUNNING (Strimzi #6624: a CR stayed Ready with FAILED tasks).
fn live_verdict(
    obj: &KafkaConnector,
    live: Option<&Live>,
    ctx: &Context,
) -> (Verdict<'static>, Duration) {
    let idle = ctx.config.resync;
    let Some(status) = live.and_then(|l| l.status.as_ref()) else {
        return (
            Verdict {
                ready: false,
                reason: "Starting",
                message: "waiting for Connect to report the connector's status".into(),
                reconciling: true,
                stalled: false,
            },
            SOON,
        );
    };
    let state = status.connector.state.as_str();
    let auto = obj.spec.auto_restart.as_ref().is_some_and(|a| a.enabled);
    let failed_tasks: Vec<String> = status
        .tasks
        .iter()
        .filter(|t| t.state == "FAILED")
        .map(|t| t.id.to_string())
        .collect();
    if state == "FAILED" {
        return (
            Verdict {
                ready: false,
                reason: "ConnectorFailed",
                message: format!(
                    "connector is FAILED on worker {}",
                    status.connector.worker_id.clone().unwrap_or_default()
                ),
                reconciling: auto,
                stalled: !auto,
            },
            idle,
        );
    }
    if !failed_tasks.is_empty() {
        return (
            Verdict {
                ready: false,
                reason: "TasksFailed",
                message: format!("task(s) {} FAILED", failed_tasks.join(", ")),
                reconciling: auto,
                stalled: !auto,
            },
            idle,
        );
    }
    let (want, reason) = match obj.spec.state {
        DesiredState::Running => ("RUNNING", "Running"),
        DesiredState::Paused => ("PAUSED", "Paused"),
        DesiredState::Stopped => ("STOPPED", "Stopped"),
    };
    if state != want {
        return (
            Verdict {
                ready: false,
                reason: "Progressing",
                message: format!("connector is {state}, want {want}"),
                reconciling: true,
                stalled: false,
            },
            SOON,
        );
    }
    if want == "RUNNING"
        && (status.tasks.is_empty() || status.tasks.iter().any(|t| t.state != "RUNNING"))
    {
        return (
            Verdict {
                ready: false,
                reason: "TasksStarting",
                message: "waiting for every task to be RUNNING".into(),
                reconciling: true,
                stalled: false,
            },
            SOON,
        );
    }
    // Connect reports the connector's new state before its tasks follow: a stopped connector
    // is done once its tasks are gone, a paused one once every task is PAUSED.
    let tasks_follow = match want {
        "STOPPED" => status.tasks.is_empty(),
        "PAUSED" => status.tasks.iter().all(|t| t.state == "PAUSED"),
        _ => true,
    };
    if !tasks_follow {
        return (
            Verdict {
                ready: false,
                reason: "Progressing",
                message: format!("connector is {state}, waiting for its tasks to follow"),
                reconciling: true,
                stalled: false,
            },
            SOON,
        );
    }
    (
        Verdict {
            ready: true,
            reason,
            message: format!("connector is {state}"),
            reconciling: false,
            stalled: false,
        },
        idle,
    )
}

async fn cleanup(obj: &KafkaConnector, ctx: &Context) -> Result<Action> {
    ctx.forget(obj);
    let name = obj.connector_name();
    // Claims are shared across namespaces (by URL): wake every other claimant of the name.
    let others_wake = || {
        for other in ctx.connectors.state() {
            if other.meta().uid != obj.meta().uid && other.connector_name() == name {
                ctx.clusters
                    .wake_connector(ObjectRef::from_obj(other.as_ref()));
            }
        }
    };
    if obj.spec.deletion_policy == DeletionPolicy::Orphan {
        publish(
            ctx,
            obj,
            EventType::Normal,
            "Orphaned",
            "Delete",
            format!("left connector {name} in Connect (deletionPolicy Orphan)"),
        )
        .await;
        others_wake();
        return Ok(Action::await_change());
    }
    let handle = match cluster_handle(obj, ctx).await {
        Ok(h) => h,
        Err(Error::ClusterNotFound(c)) => {
            // Nothing left to talk to: do not hold the object hostage.
            publish(ctx, obj, EventType::Warning, "ClusterGone", "Delete",
                format!("KafkaConnectCluster {c} is gone: connector {name} could not be deleted from Connect")).await;
            return Ok(Action::await_change());
        }
        Err(e) => return Err(e),
    };
    // A CR that never owned the connector must not delete it; an owner whose connector is
    // also claimed by a younger CR hands it over instead of deleting it under that CR.
    if conflicting_owner(obj, ctx, &handle.url).is_some() {
        return Ok(Action::await_change());
    }
    if let Some(heir) = other_claimant(obj, ctx, &handle.url) {
        publish(
            ctx,
            obj,
            EventType::Normal,
            "HandedOver",
            "Delete",
            format!("left connector {name} to KafkaConnector {heir}, which also claims it"),
        )
        .await;
        others_wake();
        return Ok(Action::await_change());
    }
    match handle.client.delete(&name).await {
        Ok(()) | Err(Error::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    handle.set_entry(&name, None);
    publish(
        ctx,
        obj,
        EventType::Normal,
        "Deleted",
        "Delete",
        format!("deleted connector {name}"),
    )
    .await;
    others_wake();
    Ok(Action::await_change())
}

async fn cluster_handle(obj: &KafkaConnector, ctx: &Context) -> Result<Arc<ClusterHandle>> {
    let ns = obj.namespace().unwrap_or_default();
    let key = (ns.clone(), obj.spec.cluster_ref.name.clone());
    let cluster = ctx
        .cluster_store
        .get(&ObjectRef::<KafkaConnectCluster>::new(&key.1).within(&ns))
        .ok_or_else(|| Error::ClusterNotFound(format!("{ns}/{}", key.1)))?;
    if let Some(h) = ctx.clusters.get(&key)
        && h.url == ownership::normalise_url(&cluster.spec.url)
    {
        return Ok(h);
    }
    let settings = resolve_settings(&ctx.client, &cluster).await?;
    ctx.clusters.ensure(key, &settings)
}

/// Every KafkaConnector's claim on connector `name` at Connect URL `url`, ours included
/// even if the cache has not seen us yet. `live_only` leaves out objects being deleted.
fn claims(obj: &KafkaConnector, ctx: &Context, url: &str, live_only: bool) -> Vec<Claim> {
    let clusters = ctx.cluster_store.state();
    let claim_of = |c: &KafkaConnector| -> Option<Claim> {
        let ns = c.namespace().unwrap_or_default();
        let cluster = clusters.iter().find(|k| {
            k.namespace().as_deref() == Some(ns.as_str()) && k.name_any() == c.spec.cluster_ref.name
        })?;
        Some(Claim {
            namespace: ns,
            name: c.name_any(),
            created: c.meta().creation_timestamp.as_ref().map(|t| t.0),
            cluster_url: ownership::normalise_url(&cluster.spec.url),
            connector: c.connector_name(),
        })
    };
    let name = obj.connector_name();
    let mut out: Vec<Claim> = ctx
        .connectors
        .state()
        .iter()
        .filter(|c| !live_only || c.meta().deletion_timestamp.is_none())
        .filter_map(|c| claim_of(c))
        .filter(|c| c.cluster_url == url && c.connector == name)
        .collect();
    let me = Claim {
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        created: obj.meta().creation_timestamp.as_ref().map(|t| t.0),
        cluster_url: url.to_string(),
        connector: name,
    };
    if !out
        .iter()
        .any(|c| c.namespace == me.namespace && c.name == me.name)
    {
        out.push(me);
    }
    out
}

fn is_me(c: &Claim, obj: &KafkaConnector) -> bool {
    Some(c.namespace.as_str()) == obj.namespace().as_deref() && c.name == obj.name_any()
}

/// `Some(owner)` when another KafkaConnector holds the claim on this connector. A claimant
/// being deleted no longer counts: its cleanup hands the connector over to the next one.
fn conflicting_owner(obj: &KafkaConnector, ctx: &Context, url: &str) -> Option<String> {
    let all = claims(obj, ctx, url, true);
    let w = ownership::winner(&all, url, &obj.connector_name())?;
    (!is_me(w, obj)).then(|| format!("{}/{}", w.namespace, w.name))
}

/// Another live KafkaConnector that claims this connector too (the next owner).
fn other_claimant(obj: &KafkaConnector, ctx: &Context, url: &str) -> Option<String> {
    let all: Vec<Claim> = claims(obj, ctx, url, true)
        .into_iter()
        .filter(|c| !is_me(c, obj))
        .collect();
    ownership::winner(&all, url, &obj.connector_name())
        .map(|w| format!("{}/{}", w.namespace, w.name))
}

/// The connector as Connect shows it: the bulk view when it lists the connector, else
/// per-connector reads (a connector with no status yet is missing from the bulk map).
async fn fetch_live(handle: &ClusterHandle, name: &str) -> Result<Option<Live>> {
    if let Some(e) = handle.entry(name)
        && let (Some(info), Some(status)) = (e.info, e.status)
    {
        return Ok(Some(Live {
            config: info.config,
            status: Some(status),
        }));
    }
    let info = match handle.client.get(name).await {
        Ok(info) => info,
        Err(Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let status = match handle.client.status(name).await {
        Ok(s) => Some(s),
        // Right after creation Connect has no status yet.
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Some(Live {
        config: info.config,
        status,
    }))
}

async fn read_back(client: &ConnectClient, name: &str) -> Result<Option<Live>> {
    let config = match client.get_config(name).await {
        Ok(c) => c,
        Err(Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let status = match client.status(name).await {
        Ok(s) => Some(s),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Some(Live { config, status }))
}

/// Pause and resume answer 202 before anything happened (Strimzi #12795): wait, bounded,
/// until the status shows the target. `false` leaves it to a quick requeue.
async fn confirm_state(client: &ConnectClient, name: &str, target: &str) -> bool {
    let deadline = Instant::now() + CONFIRM_BUDGET;
    let mut delay = Duration::from_millis(100);
    while Instant::now() < deadline {
        if let Ok(s) = client.status(name).await {
            let tasks_ok = match target {
                "STOPPED" => s.tasks.is_empty(),
                t => s
                    .tasks
                    .iter()
                    .all(|task| task.state == t || task.state == "FAILED"),
            };
            if s.connector.state == target && tasks_ok {
                return true;
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    false
}

/// Per-key errors from `PUT /connector-plugins/{class}/config/validate`, masked.
async fn validate(
    client: &ConnectClient,
    class: &str,
    desired: &BTreeMap<String, String>,
) -> Result<Vec<ValidationError>> {
    let infos = match client.validate(class, desired).await {
        Ok(i) => i,
        // Unknown class and similar: Connect answers 500 with the reason.
        Err(Error::Rejected(msg)) => {
            return Ok(vec![ValidationError {
                key: "class".into(),
                message: status::mask(&first_line(&msg), desired),
            }]);
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    if infos.error_count > 0 {
        for c in infos.configs {
            for err in c.value.errors {
                out.push(ValidationError {
                    key: c.value.name.clone(),
                    message: status::mask(&err, desired),
                });
            }
        }
    }
    Ok(out)
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect()
}

fn topics_due(ctx: &Context, obj: &KafkaConnector) -> bool {
    !ctx.config.topics_refresh.is_zero() && ctx.topics_due(obj)
}
