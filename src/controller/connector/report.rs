//! The report step: assembles a KafkaConnector's status (what status keeps from the last
//! one, Connect's view, the verdict's conditions) and writes it — the one writer of this
//! kind's status, by server-side apply with field manager `MANAGER`, only when something
//! other than a timestamp changed. Fields left out of an apply are removed (we own all of
//! them), so no compensating patch is needed (objects last written by an older version are
//! the one exception: `legacy_auto_restart`). Every status write remembers what it wrote in
//! `ConnectorMemory`, which later reconciles prefer over a stale cached object.

use std::time::Duration;

use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use super::fetch::Blocked;
use super::live::Live;
use super::status;
use super::verdict::{Finding, VerdictInput, verdict};
use crate::api::KafkaConnector;
use crate::api::conditions::{Conditioned, READY, TRUE};
use crate::api::connector::{
    AutoRestartStatus, ClusterRef, KafkaConnectorStatus, MoveStatus, OffsetsStatus, Provenance,
};
use crate::controller::context::Context;
use crate::controller::events::publish;
use crate::controller::status_writer::apply_status;
use crate::error::Result;
use crate::mask::Masks;
use crate::vocabulary::Reason;

/// How long the first status after a create may wait for Ready (`first_status_held`).
pub const FIRST_STATUS_GRACE: Duration = Duration::from_secs(3);

/// How long a retried momentary fault of Connect still explains a connector not Ready yet.
pub const RECENT_FAULT: Duration = Duration::from_secs(30);

/// What must be served once (a restart id, an owed restart, the auto-restart count, an
/// offsets request), and the provenance that decides what counts as served, as status
/// records them. Written at once whenever it changes (`record_served`), so a reconcile that
/// fails later cannot serve it twice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Served {
    pub last_restart_id: Option<String>,
    pub last_restart_error: Option<String>,
    pub restart_owed: Option<String>,
    pub auto_restart: Option<AutoRestartStatus>,
    pub offsets: Option<OffsetsStatus>,
    pub provenance: Option<Provenance>,
    pub request_in_flight: Option<String>,
    pub cluster: Option<ClusterRef>,
    pub move_: Option<MoveStatus>,
}

impl Served {
    pub fn of(status: &KafkaConnectorStatus) -> Self {
        Self {
            last_restart_id: status.last_restart_id.clone(),
            last_restart_error: status.last_restart_error.clone(),
            restart_owed: status.restart_owed.clone(),
            auto_restart: status.auto_restart.clone(),
            offsets: status.offsets.clone(),
            provenance: status.provenance.clone(),
            request_in_flight: status.request_in_flight.clone(),
            cluster: status.cluster.clone(),
            move_: status.move_.clone(),
        }
    }

    pub fn write_into(&self, status: &mut KafkaConnectorStatus) {
        status.last_restart_id = self.last_restart_id.clone();
        status.last_restart_error = self.last_restart_error.clone();
        status.restart_owed = self.restart_owed.clone();
        status.auto_restart = self.auto_restart.clone();
        status.offsets = self.offsets.clone();
        status.provenance = self.provenance.clone();
        status.request_in_flight = self.request_in_flight.clone();
        status.cluster = self.cluster.clone();
        status.move_ = self.move_.clone();
    }
}

/// One reconcile's report: the object, the status it started from, and what to mask.
pub struct Report<'a> {
    pub obj: &'a KafkaConnector,
    pub ctx: &'a Context,
    pub name: &'a str,
    pub prev: &'a KafkaConnectorStatus,
    pub masks: &'a Masks,
}

/// How a reconcile ends: what it saw, what it found, and a momentary fault the cluster's
/// requests were retried for lately (a rebalance).
pub struct Ending<'a> {
    pub live: Option<&'a Live>,
    pub finding: Option<Finding>,
    pub fault: Option<Reason>,
}

impl Report<'_> {
    /// What status keeps from the last one written, whatever this reconcile sees.
    pub fn carried_over(&self) -> KafkaConnectorStatus {
        let (obj, prev) = (self.obj, self.prev);
        KafkaConnectorStatus {
            observed_generation: obj.metadata.generation,
            connector_name: Some(self.name.to_string()),
            conditions: prev.conditions.clone(),
            topics: prev.topics.clone(),
            topics_omitted: prev.topics_omitted,
            applied_generation: prev.applied_generation,
            progress: prev.progress.clone(),
            type_: prev.type_.clone(),
            drift: prev.drift.clone(),
            // The scale subresource's selector: nothing carries it, HPA and KEDA need one.
            selector: obj
                .metadata
                .uid
                .as_ref()
                .map(|uid| format!("kafkaconnect.dev/kafkaconnector-uid={uid}")),
            ..with_served(&Served::of(prev))
        }
    }

    /// A reconcile stopped before acting: the Event it found worth publishing, then the
    /// finding in status (with the last known view of Connect).
    pub async fn blocked(&self, blocked: Blocked) -> Result<Duration> {
        if let Some(note) = blocked.note {
            publish(&self.ctx.recorder, self.obj, note).await;
        }
        let mut status = self.carried_over();
        status.validation_errors = blocked.validation_errors;
        let ending = Ending {
            live: None,
            finding: Some(blocked.finding),
            fault: None,
        };
        self.conclude(status, ending).await
    }

    /// A reconcile that ends on a finding before acting (reconciliation paused, a worker
    /// that cannot do what the spec asks): status as carried over, with the finding.
    pub async fn found(&self, live: Option<&Live>, finding: Finding) -> Result<Duration> {
        let ending = Ending {
            live,
            finding: Some(finding),
            fault: None,
        };
        self.conclude(self.carried_over(), ending).await
    }

    /// Fills status from the live view and the verdict, writes it if it changed, and returns
    /// when to look again.
    pub async fn conclude(
        &self,
        mut st: KafkaConnectorStatus,
        end: Ending<'_>,
    ) -> Result<Duration> {
        if st.provenance.is_some() && self.obj.moving_from(&st).is_none() {
            // Created or adopted, and not moving: the connector lives where the spec says.
            // Moving (a step refused or waiting included), it lives where status said. A move
            // given up (clusterRef set back) leaves no step behind: a later move must not take
            // a connector on its new cluster for one this object created.
            st.cluster = Some(self.obj.cluster_ref());
            st.move_ = None;
        }
        if end.live.is_some() || end.finding.is_none() {
            status::apply_live(&mut st, end.live, self.masks);
        } else {
            // We could not look, or found nothing to show: keep the last known view.
            status::keep_view(&mut st, self.prev);
        }
        status::set_error_handling(&mut st, end.live, &self.obj.spec, self.name);
        let mut v = verdict(&VerdictInput {
            state: self.obj.spec.state,
            auto_restart: self
                .obj
                .spec
                .auto_restart
                .as_ref()
                .is_some_and(|a| a.enabled),
            live: end.live,
            finding: end.finding.as_ref(),
            idle: self.ctx.config.resync,
            not_ready_for: not_ready_for(self.prev),
        });
        v.message = self.masks.shown(&v.message);
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
        let policy = self.obj.spec.drift_policy;
        status::set_conditions(&mut st, &v, self.obj.metadata.generation, policy);
        if let Some(wait) = self.first_status_held(&v) {
            self.ctx.memory.hold_status(self.obj, &st);
            return Ok(wait);
        }
        write_status(self.ctx, self.obj, &st).await?;
        Ok(v.requeue)
    }

    /// Right after this process created the connector, a first status saying "starting" is
    /// usually followed by Ready within a poll or two: hold it back for up to
    /// `FIRST_STATUS_GRACE`, so that the first status written is Ready (one apiserver write
    /// per connector saved in a rollout). A worker slower than that gets its "starting"
    /// status then. `Some(wait)`: nothing written, look again within `wait` (the poll that
    /// sees the connector running wakes it sooner). The held status is what the next
    /// reconcile starts from (`ConnectorMemory::hold_status`), so its provenance `Created`
    /// counts at once (a spec changed within the grace is served, not taken as adopted). It
    /// is lost only if the process dies within the grace: the next one then adopts the
    /// connector it finds, and nothing is served twice.
    fn first_status_held(&self, v: &super::verdict::Verdict) -> Option<Duration> {
        let starting = matches!(
            v.reason,
            Reason::Starting | Reason::TasksStarting | Reason::Progressing
        );
        let written = self.ctx.memory.last_written(self.obj);
        if v.ready || !starting || !written.conditions.is_empty() {
            return None;
        }
        let ago = self.ctx.memory.created_ago(self.obj)?;
        let left = FIRST_STATUS_GRACE.checked_sub(ago)?;
        Some(left.max(Duration::from_millis(500)))
    }
}

fn with_served(served: &Served) -> KafkaConnectorStatus {
    let mut status = KafkaConnectorStatus::default();
    served.write_into(&mut status);
    status
}

/// Writes `served` at once, on top of the status last written, so that it survives a
/// failure later in this reconcile.
pub async fn record_served(ctx: &Context, obj: &KafkaConnector, served: &Served) -> Result<()> {
    let mut kept = ctx.memory.last_status(obj);
    served.write_into(&mut kept);
    write_status(ctx, obj, &kept).await.map(drop)
}

/// How long the connector has not been Ready: since the Ready condition we last wrote turned
/// False; zero without one; `None` while it is True.
fn not_ready_for(prev: &KafkaConnectorStatus) -> Option<Duration> {
    let Some(ready) = prev.conditions.iter().find(|c| c.type_ == READY) else {
        return Some(Duration::ZERO);
    };
    if ready.status == TRUE {
        return None;
    }
    let since = jiff::Timestamp::now().duration_since(ready.last_transition_time.0);
    Duration::try_from(since).ok()
}

/// Writes a KafkaConnector's status unless it equals, timestamps aside, the last one we
/// wrote (or the object's). Returns whether it wrote.
async fn write_status(
    ctx: &Context,
    obj: &KafkaConnector,
    status: &KafkaConnectorStatus,
) -> Result<bool> {
    let last = ctx.memory.last_written(obj);
    if status.same_ignoring_time(&last) {
        return Ok(false);
    }
    apply_status(&ctx.client, obj, status).await?;
    if status.auto_restart.is_none() && last.auto_restart.is_some() && legacy_auto_restart(obj) {
        // Upgrade path only, see `legacy_auto_restart`.
        let api: Api<KafkaConnector> =
            Api::namespaced(ctx.client.clone(), &obj.namespace().unwrap_or_default());
        let reset = json!({"status": {"autoRestart": null}});
        api.patch_status(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(reset),
        )
        .await?;
    }
    ctx.memory.remember_status(obj, status);
    Ok(true)
}

/// Versions before this writer also wrote `status.autoRestart` with a merge patch, so a
/// second field manager (an `Update` entry) may co-own it, and leaving it out of an apply
/// would not remove it. Only for such objects is a reset followed by an explicit removal.
fn legacy_auto_restart(obj: &KafkaConnector) -> bool {
    obj.metadata.managed_fields.iter().flatten().any(|m| {
        m.operation.as_deref() == Some("Update")
            && m.subresource.as_deref() == Some("status")
            && m.fields_v1
                .as_ref()
                .and_then(|f| f.0.get("f:status"))
                .and_then(|s| s.get("f:autoRestart"))
                .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patched_auto_restart_is_recognised_as_legacy() {
        let mut obj = KafkaConnector::new("c", Default::default());
        obj.metadata.uid = Some("u".into());
        assert!(!legacy_auto_restart(&obj));
        obj.metadata.managed_fields = Some(
            serde_json::from_value(serde_json::json!([
                {"manager": "kafka-connect-operator", "operation": "Apply", "subresource": "status",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:autoRestart": {}}}},
            ]))
            .unwrap(),
        );
        assert!(!legacy_auto_restart(&obj), "our own apply owns it alone");
        obj.metadata.managed_fields = Some(serde_json::from_value(serde_json::json!([
            {"manager": "kafka-connect-operator", "operation": "Update", "subresource": "status",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:autoRestart": {"f:count": {}}}}},
        ])).unwrap());
        assert!(legacy_auto_restart(&obj));
    }

    #[test]
    fn served_bookkeeping_round_trips_through_status() {
        let status = KafkaConnectorStatus {
            last_restart_id: Some("r1".into()),
            restart_owed: Some("owed".into()),
            last_restart_error: Some("e".into()),
            topics: vec!["t".into()],
            ..Default::default()
        };
        let served = Served::of(&status);
        let mut other = KafkaConnectorStatus::default();
        served.write_into(&mut other);
        assert_eq!(Served::of(&other), served);
        assert!(
            other.topics.is_empty(),
            "only the served fields are carried"
        );
    }
}
