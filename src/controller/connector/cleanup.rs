//! Deleting a KafkaConnector (behind the finalizer): delete the connector from Connect,
//! unless the policy is Orphan, the object never created or adopted it (`provenance`),
//! another KafkaConnector owns it, or another claims it too (then it is handed over). A cluster object that is gone releases the KafkaConnector.
//! With DeleteAndResetOffsets the connector is stopped and its offsets reset first; each step
//! is one that can be repeated, so a restart anywhere in between only repeats it. Deleted
//! during a move, it acts on the cluster the connector still lives on, and deletes the
//! copy the move made on the new one.

use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use super::attach::{cluster_handle, cluster_handle_at};
use super::{act, provenance};
use crate::api::connector::KafkaConnectorStatus;
use crate::api::connector::{DeletionPolicy, MovePhase};
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::controller::context::Context;
use crate::controller::events::{Note, publish};
use crate::controller::unmanaged::record_orphan;
use crate::error::{Error, Result};
use crate::vocabulary::{EventAction, EventReason};

pub async fn cleanup(obj: &KafkaConnector, ctx: &Context) -> Result<Action> {
    // What this process last wrote, fresher than a cached object: the proof of provenance.
    let last = ctx.memory.last_status(obj);
    ctx.forget(obj);
    wake_cluster(obj, ctx);
    let name = obj.connector_name();
    let note = match release(obj, ctx, &name, &last).await? {
        Some(note) => note,
        // A CR that never owned the connector must not delete it.
        None => return Ok(Action::await_change()),
    };
    publish(&ctx.recorder, obj, note).await;
    wake_other_claimants(obj, ctx, &name);
    Ok(Action::await_change())
}

/// A cluster object being deleted waits for its last KafkaConnector: tell it one went.
fn wake_cluster(obj: &KafkaConnector, ctx: &Context) {
    let (ns, name) = obj.cluster_key();
    ctx.clusters.wake_cluster(ObjectRef::new(&name).within(&ns));
}

/// Does what deleting `obj` means for its connector; `None` when it means nothing.
async fn release(
    obj: &KafkaConnector,
    ctx: &Context,
    name: &str,
    last: &KafkaConnectorStatus,
) -> Result<Option<Note>> {
    // Mid-move the connector still lives on the cluster it is leaving; the copy the move
    // made on the new one is this object's, deleted with it, or left with it (Orphan).
    let moving = obj.moving_from(last);
    let copied = moving.is_some()
        && last
            .move_
            .as_ref()
            .is_some_and(|m| m.phase >= MovePhase::Creating);
    let lives_on = moving.unwrap_or_else(|| obj.cluster_key());
    if obj.spec.deletion_policy == DeletionPolicy::Orphan {
        // So that `unmanagedConnectors: Delete` never undoes the Orphan.
        let (ns, cluster) = lives_on.clone();
        record_orphan(ctx, &ns, &cluster, name).await?;
        if copied {
            let (ns, cluster) = obj.cluster_key();
            record_orphan(ctx, &ns, &cluster, name).await?;
        }
        let text = format!("left connector {name} in Connect (deletionPolicy Orphan)");
        return Ok(Some(Note::normal(
            EventReason::Orphaned,
            EventAction::Delete,
            text,
        )));
    }
    // Never created nor adopted (stuck before its first write, or its status lost before it
    // reconciled again): a connector of that name is someone else's, or proof is missing.
    if !provenance::may_delete(Some(last)) {
        let text = format!(
            "left connector {name} in Connect (if there is one): this KafkaConnector never created or adopted it"
        );
        return Ok(Some(Note::normal(
            EventReason::NeverOwned,
            EventAction::Delete,
            text,
        )));
    }
    if copied {
        drop_move_copy(obj, ctx, name).await?;
    }
    let key = lives_on.clone();
    let handle = match cluster_handle_at(obj, lives_on, ctx).await {
        Ok(h) => h,
        Err(Error::ClusterNotFound(c)) if ctx.another_shards(&key).await => {
            // A move refused across shards: the connector is on the other shard's Connect,
            // which this process never writes to.
            let text = format!(
                "left connector {name} in Connect: KafkaConnectCluster {c} belongs to another shard of the operator"
            );
            let note = Note::warning(EventReason::LeftBehind, EventAction::Delete, text);
            publish(&ctx.recorder, obj, note).await;
            return Ok(None);
        }
        Err(Error::ClusterNotFound(c)) => {
            // Nothing left to talk to: do not hold the object hostage.
            let text = format!(
                "KafkaConnectCluster {c} is gone: connector {name} could not be deleted from Connect"
            );
            let note = Note::warning(EventReason::ClusterGone, EventAction::Delete, text);
            publish(&ctx.recorder, obj, note).await;
            return Ok(None);
        }
        Err(Error::NamespaceNotAllowed(why)) => {
            // Management stopped when the namespace left the allow-list: deleting the object
            // must not reach Connect either.
            let text = format!("left connector {name} in Connect: {why}");
            let note = Note::warning(EventReason::LeftBehind, EventAction::Delete, text);
            publish(&ctx.recorder, obj, note).await;
            return Ok(None);
        }
        Err(e) if e.is_missing_setup() && cluster_deleting(obj, ctx) => {
            left_behind(obj, ctx, name, &e).await;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let (owner, heir) = ctx.with_caches(|c| {
        (
            c.conflicting_owner(obj, &handle.url),
            c.other_claimant(obj, &handle.url),
        )
    });
    if owner.is_some() {
        return Ok(None);
    }
    // An owner whose connector is also claimed by a younger CR hands it over.
    if let Some(heir) = heir {
        let text = format!("left connector {name} to KafkaConnector {heir}, which also claims it");
        return Ok(Some(Note::normal(
            EventReason::HandedOver,
            EventAction::Delete,
            text,
        )));
    }
    let reset = match obj.spec.deletion_policy {
        DeletionPolicy::DeleteAndResetOffsets => {
            // A worker without the offsets API (before 3.6) would answer the reset with a 404
            // that reads like "connector gone": never delete on that.
            if let Some(caps) = handle.info.capabilities()
                && !caps.offsets()
            {
                let why = format!(
                    "deletionPolicy DeleteAndResetOffsets needs Kafka Connect 3.6 or later, this cluster runs {caps}"
                );
                return Err(kept(obj, ctx, name, &why).await);
            }
            reset_offsets(obj, ctx, &handle.client, name).await?
        }
        _ => false,
    };
    match handle.client.delete(name).await {
        Ok(()) | Err(Error::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    handle.set_entry(name, None);
    let text = match reset {
        true => format!(
            "deleted connector {name} after resetting its offsets: one re-created with this name starts from the beginning"
        ),
        false => format!("deleted connector {name}"),
    };
    Ok(Some(Note::normal(
        EventReason::Deleted,
        EventAction::Delete,
        text,
    )))
}

/// Stops the connector and resets its offsets (DeleteAndResetOffsets); `false` when there was
/// no connector left to reset (deleted already: a step repeated after a restart). Waits for
/// STOPPED (`Error::NotYet`, retried) because Connect resets only a stopped connector's
/// offsets; a refusal is an error too, so the connector is never deleted with its offsets.
async fn reset_offsets(
    obj: &KafkaConnector,
    ctx: &Context,
    client: &crate::connect::ConnectClient,
    name: &str,
) -> Result<bool> {
    const CONFIRM: std::time::Duration = std::time::Duration::from_secs(10);
    let stopped = match act::ensure_stopped(client, name, CONFIRM, true).await {
        Ok((_, stopped)) => stopped,
        Err(Error::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    };
    if !stopped {
        return Err(Error::NotYet(format!(
            "connector {name} is not STOPPED yet: its offsets are reset (then it is deleted) once it is"
        )));
    }
    match client.reset_offsets(name).await {
        Ok(_) => {}
        Err(Error::NotFound(_)) => return Ok(false),
        Err(Error::Rejected(why)) => {
            let why = format!(
                "Connect refused to reset its offsets ({})",
                crate::mask::cut(&why)
            );
            return Err(kept(obj, ctx, name, &why).await);
        }
        Err(e) => return Err(e),
    }
    // A task that was still shutting down can commit its last offsets after the reset (seen:
    // a re-created FileStreamSource resumed): only offsets seen gone let the delete go ahead.
    match client.offsets(name).await {
        Ok(left) if left.offsets.is_empty() => {}
        Ok(_) => {
            return Err(Error::NotYet(format!(
                "connector {name}: offsets were committed again after the reset; resetting again before deleting"
            )));
        }
        Err(Error::NotFound(_)) => return Ok(false),
        Err(e) => return Err(e),
    }
    let text = format!("reset the offsets of connector {name} before deleting it");
    let note = Note::normal(EventReason::OffsetsReset, EventAction::Delete, text);
    publish(&ctx.recorder, obj, note).await;
    Ok(true)
}

/// Deletes the copy a move created on the new cluster (`Creating` recorded), the object
/// being deleted before the move ended.
async fn drop_move_copy(obj: &KafkaConnector, ctx: &Context, name: &str) -> Result<()> {
    let handle = match cluster_handle(obj, ctx).await {
        Ok(h) => h,
        // Unreachable by this object now: the copy is left, and said so.
        Err(e) if e.is_missing_setup() => {
            let (ns, cluster) = obj.cluster_key();
            let text = format!(
                "left the copy of connector {name} that a move made on {ns}/{cluster}: {e}"
            );
            let note = Note::warning(EventReason::LeftBehind, EventAction::Delete, text);
            publish(&ctx.recorder, obj, note).await;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    // The copy holds the offsets the move wrote: a fresh start resets them there too.
    if obj.spec.deletion_policy == DeletionPolicy::DeleteAndResetOffsets {
        reset_offsets(obj, ctx, &handle.client, name).await?;
    }
    match handle.client.delete(name).await {
        Ok(()) | Err(Error::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The connector stays in Connect, its offsets with it, because they cannot be reset: an
/// `OffsetsFailed` Warning saying `why`, and the error that keeps the finalizer.
async fn kept(obj: &KafkaConnector, ctx: &Context, name: &str, why: &str) -> Error {
    let text = format!(
        "connector {name} is kept: {why}; set deletionPolicy: Delete to delete it with its offsets"
    );
    let note = Note::warning(
        EventReason::OffsetsFailed,
        EventAction::Delete,
        text.clone(),
    );
    publish(&ctx.recorder, obj, note).await;
    Error::Rejected(text)
}

/// Whether the KafkaConnectCluster `obj` names is being deleted too (a namespace deletion,
/// a prune of both): then nobody will fix its settings, and waiting would hold both forever.
fn cluster_deleting(obj: &KafkaConnector, ctx: &Context) -> bool {
    let (ns, name) = obj.cluster_key();
    let cluster = ObjectRef::<KafkaConnectCluster>::new(&name).within(&ns);
    ctx.cluster_store
        .get(&cluster)
        .is_some_and(|c| c.metadata.deletion_timestamp.is_some())
}

/// Releases `obj` without reaching Connect, and says by name what stays there and why: an
/// Event, a log line and `kco_connectors_left_behind_total{reason}`.
async fn left_behind(obj: &KafkaConnector, ctx: &Context, name: &str, why: &Error) {
    let reason = why.reason();
    let error = crate::mask::cut(&why.to_string());
    let ns = obj.namespace().unwrap_or_default();
    tracing::warn!(namespace = %ns, connector = %name, reason = reason.as_str(), %error,
        "connector left in Connect: its KafkaConnectCluster is being deleted and its settings can no longer be read");
    let labels = crate::telemetry::metrics::ErrorLabels {
        kind: "KafkaConnector".into(),
        reason: reason.as_str().into(),
    };
    crate::telemetry::metrics::METRICS
        .left_behind
        .get_or_create(&labels)
        .inc();
    let text = format!(
        "connector {name} was left in Connect: KafkaConnectCluster {}/{} is being deleted and its settings can no longer be read ({error})",
        obj.cluster_key().0,
        obj.cluster_key().1
    );
    let note = Note::warning(EventReason::LeftBehind, EventAction::Delete, text);
    publish(&ctx.recorder, obj, note).await;
}

/// Claims are shared across namespaces (by URL): wake every other claimant of the name.
fn wake_other_claimants(obj: &KafkaConnector, ctx: &Context, name: &str) {
    for other in ctx.connectors.state() {
        if other.meta().uid != obj.meta().uid && other.connector_name_ref() == name {
            ctx.clusters
                .wake_connector(ObjectRef::from_obj(other.as_ref()));
        }
    }
}
