//! Carries out a plan, step by step: config (validated first), state, restarts, then the
//! read back and topics. Each step calls one `act` function, publishes the Event it returns
//! and records in the status being built what status must keep; served restarts are
//! written at once so that a reconcile failing later cannot serve them twice.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::act;
use super::auto_restart::AutoRestartPlan;
use super::decide::{ConfigAction, RestartAction, StateAction};
use super::fetch::read_connector;
use super::live::Live;
use super::offsets::{self, OffsetsAction};
use super::verdict::Finding;
use crate::api::KafkaConnector;
use crate::api::connector::{AutoRestartStatus, KafkaConnectorStatus};
use crate::connect::RestartOptions;
use crate::connect::types::{ConnectorInfo, ConnectorOffsets, ConnectorTaskId, ExpandedConnector};
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::context::{Context, STATE_RESEND};
use crate::controller::events::{Note, publish};
use crate::controller::status_writer::write_connector_status;
use crate::error::Result;
use crate::mask::Masks;
use crate::telemetry::metrics;

pub struct Acting<'a> {
    pub obj: &'a KafkaConnector,
    pub ctx: &'a Context,
    pub handle: &'a ClusterHandle,
    pub name: &'a str,
    pub desired: &'a BTreeMap<String, String>,
    pub masks: &'a Masks,
    /// The status being built.
    pub status: KafkaConnectorStatus,
    /// Something was written to Connect.
    pub acted: bool,
    /// Why the reconcile must look again soon, if it must.
    pub in_flight: Option<String>,
    /// An offsets request could not stop the connector yet: leave its state alone.
    pub hold_state: bool,
    /// A state change Connect accepted earlier and no worker carried out yet: why nothing
    /// was sent again (looked at again later, or when the poll sees the state change).
    pub awaiting: Option<String>,
}

impl Acting<'_> {
    async fn publish(&self, note: Note) {
        publish(self.ctx, self.obj, note).await;
    }

    /// Writes the bookkeeping of what must be served once (restart id, auto-restart count,
    /// offsets request) at once, on top of the status last written, so that it survives a
    /// failure later in this reconcile.
    async fn record_restarts(&self) -> Result<()> {
        let mut kept = self.ctx.statuses.last(self.obj);
        kept.last_restart_id = self.status.last_restart_id.clone();
        kept.auto_restart = self.status.auto_restart.clone();
        kept.last_restart_error = self.status.last_restart_error.clone();
        kept.restart_owed = self.status.restart_owed.clone();
        kept.offsets = self.status.offsets.clone();
        write_connector_status(&self.ctx.client, &self.ctx.statuses, self.obj, &kept).await?;
        Ok(())
    }

    /// Validates, then creates or updates. `Some(InvalidConfig)` when Connect refused the
    /// config: nothing was written, the errors are in `status.validationErrors`.
    pub async fn config(&mut self, action: &ConfigAction, class: &str) -> Result<Option<Finding>> {
        if *action == ConfigAction::None {
            return Ok(None);
        }
        let client = &self.handle.client;
        let errors = act::validate(client, class, self.desired, self.masks).await?;
        if !errors.is_empty() {
            let count = errors.len();
            self.status.validation_errors = errors;
            let text =
                format!("Connect rejected the config with {count} error(s); nothing was written");
            let reason = crate::vocabulary::EventReason::ValidationFailed;
            self.publish(Note::warning(reason, "Validate", text)).await;
            return Ok(Some(Finding::InvalidConfig { errors: count }));
        }
        self.acted = true;
        match action {
            ConfigAction::Create { initial_state } => {
                let note =
                    act::create(client, self.name, self.desired, initial_state.as_ref()).await?;
                self.publish(note).await;
            }
            ConfigAction::Update {
                restart_failed,
                changed,
            } => {
                let why = self.what_changed(changed);
                if *restart_failed {
                    // Owed from now on, in status before the PUT: once the config is right,
                    // nothing else would remember that a restart must follow.
                    self.status.restart_owed = Some(format!(
                        "the config changed ({why}) while the connector or a task was FAILED"
                    ));
                    self.record_restarts().await?;
                }
                let note = act::update_config(client, self.name, self.desired, &why).await?;
                self.publish(note).await;
                if *restart_failed {
                    self.restart_owed().await?;
                }
            }
            ConfigAction::None => {}
        }
        Ok(None)
    }

    /// "keys a, b; b from Secret s": the keys written again, and where `configFrom` ones
    /// come from (a rotated Secret shows here).
    fn what_changed(&self, changed: &[String]) -> String {
        let sources: Vec<String> = self
            .obj
            .spec
            .config_from
            .iter()
            .filter(|f| changed.contains(&f.key))
            .map(|f| {
                match (
                    &f.value_from.secret_key_ref,
                    &f.value_from.config_map_key_ref,
                ) {
                    (Some(r), _) => format!("{} from Secret {}", f.key, r.name),
                    (None, Some(r)) => format!("{} from ConfigMap {}", f.key, r.name),
                    (None, None) => f.key.clone(),
                }
            })
            .collect();
        let mut why = format!("keys {}", changed.join(", "));
        if !sources.is_empty() {
            why.push_str(&format!("; {}", sources.join(", ")));
        }
        why
    }

    /// Serves an offsets request once: stop (confirmed), reset or alter, record. A stop not
    /// confirmed yet leaves the request pending and the state alone; the next reconcile goes on.
    pub async fn offsets(
        &mut self,
        action: &OffsetsAction,
        alter: Option<&ConnectorOffsets>,
    ) -> Result<()> {
        let (client, id) = (&self.handle.client, action.id());
        let budget = self.ctx.config.timeouts.confirm;
        let send = self
            .ctx
            .state_pending(self.obj, StateAction::Stop)
            .is_none();
        let (stop, stopped) = act::ensure_stopped(client, self.name, budget, send).await?;
        if let Some(note) = stop {
            self.publish(note).await;
            self.acted = true;
        }
        self.ctx
            .set_state_pending(self.obj, (!stopped).then_some(StateAction::Stop));
        if !stopped {
            self.hold_state = true;
            let why = format!(
                "waiting for connector {} to stop before offsets request {id}",
                self.name
            );
            self.in_flight = Some(why);
            return Ok(());
        }
        let alter = match action {
            OffsetsAction::Alter { .. } => Some(alter.cloned().unwrap_or_default()),
            _ => None,
        };
        let done = act::change_offsets(client, self.name, id, alter.as_ref(), self.masks).await?;
        self.status.offsets = Some(offsets::served(id, done.result, done.message, done.current));
        self.record_restarts().await?;
        self.publish(done.note).await;
        self.acted = true;
        Ok(())
    }

    /// Pause, resume or stop: sent once, then left to Connect for `STATE_RESEND` while no
    /// worker carries it out (UNASSIGNED in a rebalance, a departed worker).
    pub async fn change_state(&mut self, action: StateAction) -> Result<()> {
        if self.await_state(action) {
            return Ok(());
        }
        let budget = self.ctx.config.timeouts.confirm;
        let (note, confirmed) =
            act::change_state(&self.handle.client, self.name, action, budget).await?;
        self.ctx
            .set_state_pending(self.obj, (!confirmed).then_some(action));
        if !confirmed {
            let target = action.target();
            self.in_flight = Some(format!(
                "waiting for connector {} to become {target}",
                self.name
            ));
        }
        self.publish(note).await;
        self.acted = true;
        Ok(())
    }

    /// Whether `action` was sent recently and is still pending: then `awaiting` says so.
    fn await_state(&mut self, action: StateAction) -> bool {
        if self.ctx.state_pending(self.obj, action).is_none() {
            return false;
        }
        // No "seconds ago" here: a message that changes at each look would be a status
        // write (and a watch event, and a reconcile) each time.
        let target = action.target();
        self.awaiting = Some(format!(
            "Connect accepted the request to make connector {} {target} and no worker has carried it out yet (a rebalance, or a worker that left); it is sent again only if still pending after {}s",
            self.name,
            STATE_RESEND.as_secs()
        ));
        true
    }

    /// Serves `status.restartOwed`: restarts the FAILED parts. Connect's answered failure
    /// serves it too (recorded in `lastRestartError`); a call that got no answer leaves it
    /// owed for the next reconcile.
    pub async fn restart_owed(&mut self) -> Result<()> {
        let done = act::restart_after_fix(&self.handle.client, self.name).await;
        let note = match done {
            Ok(note) => {
                self.status.last_restart_error = None;
                note
            }
            Err(e) if e.is_answered_failure() => self.restart_failed(&e, "owed restart"),
            Err(e) => return Err(e),
        };
        self.status.restart_owed = None;
        self.record_restarts().await?;
        self.publish(note).await;
        self.acted = true;
        Ok(())
    }

    /// Records Connect's answer to a restart that failed; returns the Warning to publish.
    fn restart_failed(&mut self, e: &crate::error::Error, what: &str) -> Note {
        let message = self.masks.apply(&e.to_string());
        self.status.last_restart_error = Some(message.clone());
        let text = format!(
            "{what} of connector {}: Connect answered with a failure, not sent again: {message}",
            self.name
        );
        Note::warning(
            crate::vocabulary::EventReason::RestartFailed,
            "Restart",
            text,
        )
    }

    /// Serves `spec.restart` once: the id is recorded (at once when something restarted).
    pub async fn restart(&mut self, action: &RestartAction) -> Result<()> {
        let client = &self.handle.client;
        self.status.last_restart_id = Some(action.id().to_string());
        let note = match action {
            // Created in this reconcile: nothing to restart, the id only counts as served.
            RestartAction::RecordOnly { .. } => return Ok(()),
            RestartAction::Connector {
                id,
                include_tasks,
                only_failed,
            } => {
                let opts = RestartOptions {
                    include_tasks: *include_tasks,
                    only_failed: *only_failed,
                };
                match act::restart_connector(client, self.name, id, opts).await {
                    Ok(note) => {
                        self.status.last_restart_error = None;
                        note
                    }
                    Err(e) if e.is_answered_failure() => {
                        self.restart_failed(&e, &format!("restart {id}"))
                    }
                    Err(e) => return Err(e),
                }
            }
            RestartAction::Task { id, task_id } => {
                match act::restart_task(client, self.name, id, *task_id).await {
                    Ok(Err(no_such_task)) => no_such_task,
                    Ok(Ok(())) => {
                        self.status.last_restart_error = None;
                        act::task_restarted(client, self.name, id, *task_id).await
                    }
                    Err(e) if e.is_answered_failure() => {
                        self.restart_failed(&e, &format!("restart {id} of task {task_id}"))
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        self.record_restarts().await?;
        self.publish(note).await;
        self.acted = true;
        Ok(())
    }

    pub async fn auto_restart(
        &mut self,
        plan: &AutoRestartPlan,
        prev: &KafkaConnectorStatus,
    ) -> Result<()> {
        if plan.reset {
            self.status.auto_restart = None;
        }
        if !plan.restart_now {
            return Ok(());
        }
        let count = prev.auto_restart.as_ref().map_or(0, |a| a.count) + 1;
        let note = act::auto_restart(&self.handle.client, self.name, count).await?;
        self.status.auto_restart = Some(AutoRestartStatus {
            count,
            last_restart_time: Some(Time(jiff::Timestamp::now())),
        });
        metrics::METRICS.auto_restarts.inc();
        self.record_restarts().await?;
        self.publish(note).await;
        self.acted = true;
        Ok(())
    }

    /// After a write: reads the connector back and shares it with the next reconcile through
    /// the cluster's view. The writes happened, so a failed read keeps `live` and asks for
    /// a quick look again rather than failing the reconcile (and its bookkeeping).
    pub async fn read_back(&mut self, live: Option<Live>) -> Option<Live> {
        if !self.acted {
            return live;
        }
        let live = match read_connector(&self.handle.client, self.name).await {
            Ok(l) => l,
            Err(e) => {
                let error = self.masks.apply(&e.to_string());
                tracing::debug!(%error, "read-back failed");
                self.in_flight
                    .get_or_insert_with(|| "waiting to read the connector back".into());
                live
            }
        };
        let entry = live.as_ref().map(|l| ExpandedConnector {
            status: l.status.clone(),
            info: Some(ConnectorInfo {
                name: self.name.to_string(),
                config: l.config.clone(),
                tasks: l
                    .tasks
                    .iter()
                    .map(|&task| ConnectorTaskId {
                        connector: self.name.to_string(),
                        task,
                    })
                    .collect(),
            }),
        });
        self.handle.set_entry(self.name, entry);
        live
    }

    /// Topics: when the live status moved (state, task count), else at most every
    /// `--topics-refresh`, within the cluster's budget of such refreshes (idle cost flat in
    /// the number of connectors). Not right after a write: a connector only just created or
    /// reconfigured has used no new topic yet. A failed read keeps the last list.
    pub async fn topics(&mut self, live: Option<&Live>, prev: &KafkaConnectorStatus) {
        let Some(live) = live else { return };
        let st = live.status.as_ref();
        // Moved to where topics are worth reading: every task running (a connector still
        // starting has used none yet).
        let moved = (st.map(|s| s.connector.state.to_string()) != prev.state
            || st.map_or(0, |s| s.tasks.len()) != prev.tasks.len())
            && live.every_task_running();
        let due = || self.ctx.topics_due(self.obj) && self.handle.topics_refresh_allowed();
        if !(moved || due()) {
            return;
        }
        match act::topics(&self.handle.client, self.name).await {
            Ok(t) => {
                self.ctx.mark_topics_read(self.obj, moved && t.is_empty());
                self.status.topics = t;
            }
            Err(e) => tracing::debug!(error = %e, "reading topics failed; keeping the last list"),
        }
    }

    /// What the verdict must know besides the live view once every step ran.
    pub fn finding(&self, plan: &AutoRestartPlan) -> Option<Finding> {
        if plan.exhausted {
            return Some(Finding::AutoRestartExhausted {
                connector: self.name.to_string(),
            });
        }
        if let Some(message) = self.in_flight.clone() {
            return Some(Finding::InFlight { message });
        }
        self.awaiting
            .clone()
            .map(|message| Finding::AwaitingWorker { message })
    }
}
