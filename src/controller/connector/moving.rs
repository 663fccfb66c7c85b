//! Moving a connector to another Connect cluster when `clusterRef` changes, the way KIP-980
//! describes it: stop it on the old cluster, read its offsets, create it STOPPED on the new
//! one, write the offsets there, start it, delete it from the old cluster. No record is
//! read twice and none is skipped, as long as nothing else writes to the connector meanwhile.
//!
//! `status.cluster` says where the connector lives; while it differs from `clusterRef` the
//! move is under way. Each step is recorded in `status.move` before it is taken, and each
//! can be repeated, so a restart anywhere repeats at most the step it was in. The connector
//! on the new cluster counts as this object's only once `Creating` was recorded: a
//! connector of that name found there before is someone else's, and the move is refused.
//! `move_plan::next` decides (pure); `Move::step` reads both sides and carries it out.

use std::collections::BTreeMap;
use std::time::Duration;

use kube::runtime::controller::Action;

use super::act;
use super::attach::cluster_handle_at;
use super::fetch::capabilities;
use super::live::settled_in;
use super::move_plan::{Side, Step, next, unsupported};
use super::report::{Report, Served, record_served};
use super::verdict::Finding;
use crate::api::connector::{DesiredState, MovePhase, MoveStatus};
use crate::connect::{Capabilities, ConnectClient, StateAction};
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::events::{Note, publish};
use crate::error::{Error, Result};
use crate::vocabulary::{ConnectState, EventAction, EventReason};

/// The parts of a reconcile a move uses: the report, the new cluster's handle and what it
/// can do, the desired config, and the cluster the connector leaves.
pub struct Move<'a> {
    pub report: &'a Report<'a>,
    pub new: &'a ClusterHandle,
    pub new_caps: Capabilities,
    pub desired: &'a BTreeMap<String, String>,
    pub from: (String, String),
}

/// At most this many steps in one reconcile (a move has six).
const STEPS_PER_RECONCILE: usize = 8;

impl Move<'_> {
    /// Takes the move as far as it goes now; status says where it is.
    pub async fn step(&self) -> Result<Action> {
        let (obj, ctx) = (self.report.obj, self.report.ctx);
        let from = format!("{}/{}", self.from.0, self.from.1);
        let old = match cluster_handle_at(obj, self.from.clone(), ctx).await {
            Ok(h) => h,
            Err(Error::ClusterNotFound(_)) if ctx.another_shards(&self.from).await => {
                // One process writes to each Connect: the other shard's could not stop or
                // delete the old connector while this one writes, so nothing starts.
                return self.refuse(format!(
                    "the KafkaConnectCluster {from} the connector lives on belongs to another shard of the operator: a connector moves only between cluster objects of one shard, and nothing was written; give {from} this shard's label first, or set clusterRef back"
                )).await;
            }
            Err(Error::ClusterNotFound(_)) => {
                return self.refuse(format!(
                    "the KafkaConnectCluster {from} the connector lives on is gone: its offsets cannot be read, so nothing was created on the new cluster; re-create that cluster object, or set clusterRef back"
                )).await;
            }
            Err(Error::NamespaceNotAllowed(why)) => {
                return self
                    .refuse(format!("the connector cannot be moved from {from}: {why}"))
                    .await;
            }
            Err(e) => return Err(e),
        };
        let same = ctx.with_caches(|c| c.identity(&old.url) == c.identity(&self.new.url));
        let mut served = Served::of(self.report.prev);
        if same {
            // Two cluster objects for one Connect group: nothing moves.
            return self
                .done(
                    &mut served,
                    &format!("{from} reaches the same Connect cluster"),
                )
                .await;
        }
        if let Some(why) = unsupported(capabilities(&old).await?, self.new_caps) {
            return self.refuse(why).await;
        }
        let name = self.report.name;
        for _ in 0..STEPS_PER_RECONCILE {
            let old_side = side(&old.client, name).await?;
            let new_side = side(&self.new.client, name).await?;
            let phase = served.move_.as_ref().map(|m| m.phase);
            let step = next(phase, &old_side, &new_side, obj.spec.state);
            tracing::debug!(?phase, ?old_side, ?new_side, ?step, "move");
            match step {
                Step::Refuse(why) => return self.refuse(why).await,
                Step::Done if phase.is_none() => {
                    let how = format!("it was not on {from}: created there as a new connector");
                    return self.done(&mut served, &how).await;
                }
                Step::Done => return self.done(&mut served, &format!("from {from}")).await,
                Step::WaitOld => {
                    return self
                        .moving(&format!("waiting for {from} to stop connector {name}"))
                        .await;
                }
                Step::WaitNew => {
                    return self
                        .moving("waiting for the new cluster to show it STOPPED")
                        .await;
                }
                Step::StopOld => {
                    self.record(&mut served, MovePhase::Stopping, None).await?;
                    let (note, stopped) =
                        act::change_state(&old.client, name, StateAction::Stop, CONFIRM).await?;
                    publish(&ctx.recorder, obj, note).await;
                    if !stopped {
                        let what = format!("waiting for {from} to stop connector {name}");
                        return self.moving(&what).await;
                    }
                }
                Step::Create => {
                    // Recorded first: from here on, a connector of this name on the new
                    // cluster is the one this object created.
                    self.record(&mut served, MovePhase::Creating, None).await?;
                    let stopped = ConnectState::Stopped;
                    let (note, _, _) =
                        act::create(&self.new.client, name, self.desired, Some(&stopped)).await?;
                    publish(&ctx.recorder, obj, note).await;
                }
                Step::CopyOffsets => {
                    let copied = copy_offsets(&old.client, &self.new.client, name).await?;
                    self.record(&mut served, MovePhase::Starting, Some(copied))
                        .await?;
                }
                Step::Start => {
                    let action = match obj.spec.state {
                        DesiredState::Running => StateAction::Resume,
                        DesiredState::Paused => StateAction::Pause,
                        DesiredState::Stopped => StateAction::Stop,
                    };
                    let (note, started) =
                        act::change_state(&self.new.client, name, action, CONFIRM).await?;
                    publish(&ctx.recorder, obj, note).await;
                    if !started {
                        return self.moving("waiting for the new cluster to start it").await;
                    }
                }
                Step::RemoveOld => {
                    self.record(&mut served, MovePhase::RemovingOld, None)
                        .await?;
                    match old.client.delete(name).await {
                        Ok(()) | Err(Error::NotFound(_)) => old.set_entry(name, None),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        self.moving("under way").await
    }

    /// Records the step about to be taken (`offsets_copied` once they were).
    async fn record(
        &self,
        served: &mut Served,
        phase: MovePhase,
        copied: Option<u32>,
    ) -> Result<()> {
        let last = served.move_.as_ref();
        let offsets_copied = copied.or(last.and_then(|m| m.offsets_copied));
        // Never back: a connector created on the new cluster stays this object's.
        let phase = last.map_or(phase, |m| m.phase.max(phase));
        let next = Some(MoveStatus {
            phase,
            offsets_copied,
        });
        if served.move_ == next {
            return Ok(());
        }
        served.move_ = next;
        let (ctx, obj) = (self.report.ctx, self.report.obj);
        record_served(ctx, obj, served).await
    }

    /// The connector lives on the new cluster now: status says so, and an Event.
    async fn done(&self, served: &mut Served, how: &str) -> Result<Action> {
        let (obj, ctx) = (self.report.obj, self.report.ctx);
        let copied = served.move_.as_ref().and_then(|m| m.offsets_copied);
        served.move_ = None;
        served.cluster = Some(obj.cluster_ref());
        record_served(ctx, obj, served).await?;
        let to = obj.cluster_key();
        let offsets = copied
            .map(|n| format!(", {n} offset(s) copied"))
            .unwrap_or_default();
        let text = format!(
            "moved connector {} to {}/{} ({how}{offsets})",
            self.report.name, to.0, to.1
        );
        publish(
            &ctx.recorder,
            obj,
            Note::normal(EventReason::Moved, EventAction::Update, text),
        )
        .await;
        // The next reconcile is an ordinary one on the new cluster.
        Ok(Action::requeue(Duration::from_millis(200)))
    }

    async fn moving(&self, what: &str) -> Result<Action> {
        let (from, name) = (&self.from, self.report.name);
        let message = format!(
            "moving connector {name} from {}/{} with its offsets: {what}",
            from.0, from.1
        );
        let wait = self.found(Finding::Moving { message }).await?;
        Ok(Action::requeue(wait))
    }

    async fn refuse(&self, message: String) -> Result<Action> {
        let wait = self.found(Finding::MoveRefused { message }).await?;
        Ok(Action::requeue(wait))
    }

    /// Status from the last one written (this move's records included), with the finding.
    async fn found(&self, finding: Finding) -> Result<Duration> {
        let prev = self.report.ctx.memory.last_status(self.report.obj);
        let report = Report {
            prev: &prev,
            ..*self.report
        };
        report.found(None, finding).await
    }
}

/// How long a state change is waited for before the reconcile looks again.
const CONFIRM: Duration = Duration::from_secs(5);

/// The connector on one side, from its status (a connector without one yet counts as not
/// settled).
async fn side(client: &ConnectClient, name: &str) -> Result<Side> {
    match client.status(name).await {
        Ok(s) => Ok(Side::Present {
            state: s.connector.state.clone(),
            settled: settled_in(&s, &s.connector.state),
        }),
        // Right after a create the config is there before any status.
        Err(Error::NotFound(_)) => match client.get(name).await {
            Ok(_) => Ok(Side::Present {
                state: ConnectState::Unknown,
                settled: false,
            }),
            Err(Error::NotFound(_)) => Ok(Side::Absent),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    }
}

/// Writes the old cluster's offsets to the new one, then reads the old ones again: a task
/// still shutting down can commit after the first read (seen with DeleteAndResetOffsets), and
/// the copy must hold the last. Returns how many were copied.
async fn copy_offsets(old: &ConnectClient, new: &ConnectClient, name: &str) -> Result<u32> {
    let read = old.offsets(name).await?;
    if !read.offsets.is_empty() {
        new.alter_offsets(name, &read).await?;
    }
    let again = old.offsets(name).await?;
    if again != read {
        return Err(Error::NotYet(format!(
            "connector {name}: offsets were committed on the old cluster while they were copied; copying again"
        )));
    }
    Ok(u32::try_from(read.offsets.len()).unwrap_or(u32::MAX))
}
