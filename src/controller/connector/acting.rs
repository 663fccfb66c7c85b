//! Carries out a plan, step by step — config (validated first), offsets, state, restarts,
//! auto-restart — and returns the `Outcome`: what was written, the served-once bookkeeping
//! as it stands now, and what is still in flight. Each step calls one `act` function and
//! publishes the Event it returns; whatever must be served once is recorded through
//! `report::record_served` as soon as it changes, so a reconcile failing later cannot serve
//! it twice. Reading the connector back is the observe step's job (`observe.rs`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::act;
use super::auto_restart::AutoRestartPlan;
use super::decide::{ConfigAction, Plan, RestartAction};
use super::in_flight;
use super::live::Live;
use super::offsets::{self, OffsetsAction};
use super::provenance;
use super::report::{Served, record_served};
use super::verdict::InFlight;
use crate::api::KafkaConnector;
use crate::api::connector::{AutoRestartStatus, ValidationError};
use crate::connect::types::ConnectorOffsets;
use crate::connect::{RestartOptions, StateAction};
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::context::Context;
use crate::controller::events::{Note, publish};
use crate::error::{Error, Result};
use crate::mask::Masks;
use crate::telemetry::metrics;
use crate::vocabulary::{EventAction, EventReason};

/// What one reconcile acts with: read-only for the whole sequence.
pub struct Acting<'a> {
    pub obj: &'a KafkaConnector,
    pub ctx: &'a Context,
    pub handle: &'a ClusterHandle,
    pub name: &'a str,
    pub desired: &'a BTreeMap<String, String>,
    pub masks: &'a Masks,
}

/// What acting did.
pub struct Outcome {
    /// The served-once bookkeeping after acting (already recorded where it changed).
    pub served: Served,
    /// Connect's validation refused the config: nothing was written, these are its errors.
    pub refused: Option<Vec<ValidationError>>,
    /// Something was written to Connect.
    pub wrote: bool,
    /// Why the reconcile must look again soon, if it must.
    pub in_flight: Option<InFlight>,
}

/// What one step did.
#[derive(Default)]
struct Done {
    wrote: bool,
    in_flight: Option<InFlight>,
}

impl Done {
    const NOTHING: Done = Done {
        wrote: false,
        in_flight: None,
    };
    const WROTE: Done = Done {
        wrote: true,
        in_flight: None,
    };
}

impl Acting<'_> {
    /// The plan's steps in order; `served` starts as the status last written shows it.
    pub async fn carry_out(
        &self,
        plan: &Plan,
        mut served: Served,
        live: Option<&Live>,
        alter: Option<&ConnectorOffsets>,
    ) -> Result<Outcome> {
        let mut steps = Vec::new();
        if let Some(marker) = &plan.unconfirmed {
            in_flight::settle(marker, &mut served);
            record_served(self.ctx, self.obj, &served).await?;
        }
        if plan.adopt {
            self.adopt(&mut served).await?;
        }
        // Offsets to serve on a connector created now: its provenance first, or a reconcile
        // failing in between would adopt it next time and take the offsets as served.
        let record_created = plan.offsets.is_some();
        match self
            .config(&plan.config, &mut served, record_created)
            .await?
        {
            Err(errors) => {
                return Ok(Outcome {
                    served,
                    refused: Some(errors),
                    wrote: false,
                    in_flight: None,
                });
            }
            Ok(done) => steps.push(done),
        }
        // An offsets request that could not stop the connector yet leaves its state alone.
        let mut hold_state = false;
        if let Some(action) = &plan.offsets {
            let done = self.offsets(action, alter, &mut served).await?;
            hold_state = done.in_flight.is_some();
            steps.push(done);
        }
        if let Some(action) = plan.state.filter(|_| !hold_state) {
            steps.push(self.change_state(action).await?);
        }
        if let Some(restart) = &plan.restart {
            steps.push(self.restart(restart, &mut served).await?);
        }
        if plan.owed_restart {
            steps.push(self.restart_owed(&mut served).await?);
        } else if !still_owed(live) {
            served.restart_owed = None;
        }
        steps.push(self.auto_restart(&plan.auto_restart, &mut served).await?);
        Ok(Outcome {
            served,
            refused: None,
            wrote: steps.iter().any(|d| d.wrote),
            in_flight: in_flight(steps),
        })
    }

    /// Adopts the connector found in Connect, recorded before anything is written to it.
    async fn adopt(&self, served: &mut Served) -> Result<()> {
        let taken = provenance::adopt(served, &self.obj.spec, jiff::Timestamp::now());
        record_served(self.ctx, self.obj, served).await?;
        let mut text = format!("adopted connector {}, which existed in Connect", self.name);
        if !taken.is_empty() {
            text.push_str(&format!(
                "; counted as served without sending: {} (change an id to send it)",
                taken.join(", ")
            ));
        }
        let note = Note::normal(EventReason::Adopted, EventAction::Adopt, text);
        self.publish(note).await;
        Ok(())
    }

    /// Write-ahead: `marker` in status before the request goes out. Nothing is sent when
    /// that write fails (an admission policy refusing status updates, the apiserver gone), so
    /// a status that cannot be written never makes a request go out again and again.
    async fn write_ahead(&self, served: &mut Served, marker: String) -> Result<()> {
        served.request_in_flight = Some(marker);
        record_served(self.ctx, self.obj, served).await
    }

    /// A request that got no answer: its marker is taken back, so it is sent again. If even
    /// that write fails, the marker stays and the request counts as served (unconfirmed).
    async fn no_answer(&self, served: &mut Served, e: Error) -> Error {
        served.request_in_flight = None;
        if let Err(w) = record_served(self.ctx, self.obj, served).await {
            tracing::debug!(error = %w, "the request stays marked in flight: not sent again");
        }
        e
    }

    async fn publish(&self, note: Note) {
        publish(&self.ctx.recorder, self.obj, note).await;
    }

    /// Validates, then creates or updates. `Err(errors)` when Connect refused the config:
    /// nothing was written.
    async fn config(
        &self,
        action: &ConfigAction,
        served: &mut Served,
        record_created: bool,
    ) -> Result<std::result::Result<Done, Vec<ValidationError>>> {
        if *action == ConfigAction::None {
            return Ok(Ok(Done::NOTHING));
        }
        let client = &self.handle.client;
        let class = &self.obj.spec.class;
        let errors = act::validate(client, class, self.desired, self.masks).await?;
        if !errors.is_empty() {
            let count = errors.len();
            let text =
                format!("Connect rejected the config with {count} error(s); nothing was written");
            let reason = EventReason::ValidationFailed;
            self.publish(Note::warning(reason, EventAction::Validate, text))
                .await;
            return Ok(Err(errors));
        }
        match action {
            ConfigAction::Create { initial_state } => {
                let (note, how) =
                    act::create(client, self.name, self.desired, initial_state.as_ref()).await?;
                self.ctx.memory.mark_created(self.obj);
                // Else written with this reconcile's status (one write less per create).
                provenance::created(served, how, jiff::Timestamp::now());
                if record_created {
                    record_served(self.ctx, self.obj, served).await?;
                }
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
                    served.restart_owed = Some(format!(
                        "the config changed ({why}) while the connector or a task was FAILED"
                    ));
                    record_served(self.ctx, self.obj, served).await?;
                }
                let note = act::update_config(client, self.name, self.desired, &why).await?;
                self.publish(note).await;
                if *restart_failed {
                    self.restart_owed(served).await?;
                }
            }
            ConfigAction::None => {}
        }
        Ok(Ok(Done::WROTE))
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
    /// confirmed yet leaves the request pending; the next reconcile goes on.
    async fn offsets(
        &self,
        action: &OffsetsAction,
        alter: Option<&ConnectorOffsets>,
        served: &mut Served,
    ) -> Result<Done> {
        let (client, id, memory) = (&self.handle.client, action.id(), &self.ctx.memory);
        let budget = self.ctx.config.timeouts.confirm;
        let send = memory.state_pending(self.obj, StateAction::Stop).is_none();
        let (stop, stopped) = act::ensure_stopped(client, self.name, budget, send).await?;
        let mut wrote = false;
        if let Some(note) = stop {
            self.publish(note).await;
            wrote = true;
        }
        memory.set_state_pending(self.obj, (!stopped).then_some(StateAction::Stop));
        if !stopped {
            let in_flight = InFlight::StopForOffsets {
                connector: self.name.to_string(),
                request: id.to_string(),
            };
            return Ok(Done {
                wrote,
                in_flight: Some(in_flight),
            });
        }
        let alter = match action {
            OffsetsAction::Alter { .. } => Some(alter.cloned().unwrap_or_default()),
            _ => None,
        };
        self.write_ahead(served, in_flight::offsets(id)).await?;
        let done =
            match act::change_offsets(client, self.name, id, alter.as_ref(), self.masks).await {
                Ok(done) => done,
                Err(e) => return Err(self.no_answer(served, e).await),
            };
        served.request_in_flight = None;
        served.offsets = Some(offsets::served(id, done.result, done.message, done.current));
        record_served(self.ctx, self.obj, served).await?;
        self.publish(done.note).await;
        Ok(Done::WROTE)
    }

    /// Pause, resume or stop: sent once, then left to Connect for `STATE_RESEND` while no
    /// worker carries it out (UNASSIGNED in a rebalance, a departed worker).
    async fn change_state(&self, action: StateAction) -> Result<Done> {
        let (memory, connector) = (&self.ctx.memory, self.name.to_string());
        let target = action.target();
        if memory.state_pending(self.obj, action).is_some() {
            let in_flight = InFlight::AwaitingWorker { connector, target };
            return Ok(Done {
                wrote: false,
                in_flight: Some(in_flight),
            });
        }
        let budget = self.ctx.config.timeouts.confirm;
        let (note, confirmed) =
            act::change_state(&self.handle.client, self.name, action, budget).await?;
        memory.set_state_pending(self.obj, (!confirmed).then_some(action));
        self.publish(note).await;
        Ok(Done {
            wrote: true,
            in_flight: (!confirmed).then_some(InFlight::State { connector, target }),
        })
    }

    /// Serves `status.restartOwed`: restarts the FAILED parts. Connect's answered failure
    /// serves it too (recorded in `lastRestartError`); a call that got no answer leaves it
    /// owed for the next reconcile.
    async fn restart_owed(&self, served: &mut Served) -> Result<Done> {
        self.write_ahead(served, in_flight::OWED_RESTART.into())
            .await?;
        let done = act::restart_after_fix(&self.handle.client, self.name).await;
        let note = self.answered(done, served, "owed restart").await?;
        served.request_in_flight = None;
        served.restart_owed = None;
        record_served(self.ctx, self.obj, served).await?;
        self.publish(note).await;
        Ok(Done::WROTE)
    }

    /// A restart's answer: its Event, or Connect's answered failure recorded in
    /// `lastRestartError` (not sent again); no answer at all stays an error.
    async fn answered(&self, done: Result<Note>, served: &mut Served, what: &str) -> Result<Note> {
        match done {
            Ok(note) => {
                served.last_restart_error = None;
                Ok(note)
            }
            Err(e) if e.is_answered_failure() => Ok(self.restart_failed(&e, served, what)),
            Err(e) => Err(self.no_answer(served, e).await),
        }
    }

    /// Records Connect's answer to a restart that failed; returns the Warning to publish.
    fn restart_failed(&self, e: &Error, served: &mut Served, what: &str) -> Note {
        let message = self.masks.shown(&e.to_string());
        served.last_restart_error = Some(message.clone());
        let text = format!(
            "{what} of connector {}: Connect answered with a failure, not sent again: {message}",
            self.name
        );
        Note::warning(EventReason::RestartFailed, EventAction::Restart, text)
    }

    /// Serves `spec.restart` once: the id is recorded once Connect answered (at once).
    async fn restart(&self, action: &RestartAction, served: &mut Served) -> Result<Done> {
        let client = &self.handle.client;
        let note = match action {
            // Created in this reconcile: nothing to restart, the id only counts as served.
            RestartAction::RecordOnly { id } => {
                served.last_restart_id = Some(id.clone());
                return Ok(Done::NOTHING);
            }
            RestartAction::Connector {
                id,
                include_tasks,
                only_failed,
            } => {
                let opts = RestartOptions {
                    include_tasks: *include_tasks,
                    only_failed: *only_failed,
                };
                self.write_ahead(served, in_flight::restart(id)).await?;
                let done = act::restart_connector(client, self.name, id, opts).await;
                self.answered(done, served, &format!("restart {id}"))
                    .await?
            }
            RestartAction::Task { id, task_id } => {
                let what = format!("restart {id} of task {task_id}");
                self.write_ahead(served, in_flight::restart(id)).await?;
                match act::restart_task(client, self.name, id, *task_id).await {
                    Ok(Err(no_such_task)) => no_such_task,
                    Ok(Ok(())) => {
                        served.last_restart_error = None;
                        act::task_restarted(client, self.name, id, *task_id).await
                    }
                    Err(e) => self.answered(Err(e), served, &what).await?,
                }
            }
        };
        // Served only now that Connect answered (a call without an answer returned above).
        served.request_in_flight = None;
        served.last_restart_id = Some(action.id().to_string());
        record_served(self.ctx, self.obj, served).await?;
        self.publish(note).await;
        Ok(Done::WROTE)
    }

    async fn auto_restart(&self, plan: &AutoRestartPlan, served: &mut Served) -> Result<Done> {
        let count = served.auto_restart.as_ref().map_or(0, |a| a.count) + 1;
        if plan.reset {
            served.auto_restart = None;
        }
        if !plan.restart_now {
            return Ok(Done::NOTHING);
        }
        // Counted before it is sent: a status that cannot be written stops the restarts
        // instead of repeating one on every reconcile.
        served.auto_restart = Some(AutoRestartStatus {
            count,
            last_restart_time: Some(Time(jiff::Timestamp::now())),
        });
        self.write_ahead(served, in_flight::AUTO_RESTART.into())
            .await?;
        let note = match act::auto_restart(&self.handle.client, self.name, count).await {
            Ok(note) => note,
            Err(e) => return Err(self.no_answer(served, e).await),
        };
        metrics::METRICS.auto_restarts.inc();
        served.request_in_flight = None;
        record_served(self.ctx, self.obj, served).await?;
        self.publish(note).await;
        Ok(Done::WROTE)
    }
}

/// Whether an owed restart stays owed when none was served: only a connector seen with
/// nothing FAILED (restarted some other way) owes nothing any more. Not seen at all proves
/// nothing.
fn still_owed(live: Option<&Live>) -> bool {
    live.is_none_or(Live::any_failed)
}

/// The step's in-flight reason that matters most: one sent now and unconfirmed before one
/// left to Connect's workers.
fn in_flight(steps: Vec<Done>) -> Option<InFlight> {
    let (awaiting, sent): (Vec<_>, Vec<_>) = steps
        .into_iter()
        .filter_map(|d| d.in_flight)
        .partition(|i| matches!(i, InFlight::AwaitingWorker { .. }));
    sent.into_iter().last().or(awaiting.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(state: &str) -> Live {
        serde_json::from_value(serde_json::json!({"config": {},
            "status": {"name": "c", "connector": {"state": state}, "tasks": []}}))
        .unwrap()
    }

    #[test]
    fn an_owed_restart_is_dropped_only_when_seen_healthy() {
        assert!(still_owed(None), "absent from a poll proves nothing");
        assert!(still_owed(Some(&live("FAILED"))));
        assert!(!still_owed(Some(&live("RUNNING"))));
    }
}
