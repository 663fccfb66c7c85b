//! Deleting a KafkaConnector (behind the finalizer): delete the connector from Connect,
//! unless the policy is Orphan, another KafkaConnector owns it, or another claims it too
//! (then it is handed over). A cluster object that is gone releases the KafkaConnector.

use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use super::attach::cluster_handle;
use crate::api::KafkaConnector;
use crate::api::connector::DeletionPolicy;
use crate::controller::context::Context;
use crate::controller::events::{Note, publish};
use crate::controller::unmanaged::record_orphan;
use crate::error::{Error, Result};
use crate::vocabulary::{EventAction, EventReason};

pub async fn cleanup(obj: &KafkaConnector, ctx: &Context) -> Result<Action> {
    ctx.forget(obj);
    wake_cluster(obj, ctx);
    let name = obj.connector_name();
    let note = match release(obj, ctx, &name).await? {
        Some(note) => note,
        // A CR that never owned the connector must not delete it.
        None => return Ok(Action::await_change()),
    };
    publish(ctx, obj, note).await;
    wake_other_claimants(obj, ctx, &name);
    Ok(Action::await_change())
}

/// A cluster object being deleted waits for its last KafkaConnector: tell it one went.
fn wake_cluster(obj: &KafkaConnector, ctx: &Context) {
    let ns = obj.namespace().unwrap_or_default();
    let cluster = ObjectRef::new(&obj.spec.cluster_ref.name).within(&ns);
    ctx.clusters.wake_cluster(cluster);
}

/// Does what deleting `obj` means for its connector; `None` when it means nothing.
async fn release(obj: &KafkaConnector, ctx: &Context, name: &str) -> Result<Option<Note>> {
    if obj.spec.deletion_policy == DeletionPolicy::Orphan {
        // So that `unmanagedConnectors: Delete` never undoes the Orphan.
        let ns = obj.namespace().unwrap_or_default();
        record_orphan(ctx, &ns, &obj.spec.cluster_ref.name, name).await?;
        let text = format!("left connector {name} in Connect (deletionPolicy Orphan)");
        return Ok(Some(Note::normal(
            EventReason::Orphaned,
            EventAction::Delete,
            text,
        )));
    }
    let handle = match cluster_handle(obj, ctx).await {
        Ok(h) => h,
        Err(Error::ClusterNotFound(c)) => {
            // Nothing left to talk to: do not hold the object hostage.
            let text = format!(
                "KafkaConnectCluster {c} is gone: connector {name} could not be deleted from Connect"
            );
            let note = Note::warning(EventReason::ClusterGone, EventAction::Delete, text);
            publish(ctx, obj, note).await;
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
    match handle.client.delete(name).await {
        Ok(()) | Err(Error::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    handle.set_entry(name, None);
    let text = format!("deleted connector {name}");
    Ok(Some(Note::normal(
        EventReason::Deleted,
        EventAction::Delete,
        text,
    )))
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
