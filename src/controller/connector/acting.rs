//! Carries out a plan, step by step — config (validated first), offsets (in
//! `serving_offsets.rs`), state, restarts and auto-restart (those two in `restarting.rs`) —
//! and returns the `Outcome`: what was written, the served-once bookkeeping as it stands
//! now, and what is still in flight. Each step calls one `act` function and
//! publishes the Event it returns; whatever must be served once is recorded through
//! `report::record_served` as soon as it changes, so a reconcile failing later cannot serve
//! it twice. Reading the connector back is the observe step's job (`observe.rs`).

use std::collections::BTreeMap;

use super::act;
use super::decide::{ConfigAction, Plan};
use super::in_flight;
use super::live::Live;
use super::provenance;
use super::report::{Served, record_served};
use super::verdict::InFlight;
use crate::api::KafkaConnector;
use crate::api::connector::ValidationError;
use crate::connect::StateAction;
use crate::connect::types::{ConnectorInfo, ConnectorOffsets};
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::context::Context;
use crate::controller::events::{Note, publish};
use crate::error::{Error, Result};
use crate::mask::Masks;
use crate::vocabulary::{EventAction, EventReason};

/// What one reconcile acts with: read-only for the whole sequence.
pub struct Acting<'a> {
    pub obj: &'a KafkaConnector,
    pub ctx: &'a Context,
    pub handle: &'a ClusterHandle,
    pub name: &'a str,
    pub desired: &'a BTreeMap<String, String>,
    pub masks: &'a Masks,
    /// Validate before writing the config: Connect refused this object's config last time
    /// (its status carries the errors), so a write would most likely be refused again.
    pub validate_first: bool,
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
    /// Connect's answer to this reconcile's create, when the create was its only write: it
    /// holds what reading the connector back would.
    pub created: Option<ConnectorInfo>,
}

/// What one step did.
#[derive(Default)]
pub(super) struct Done {
    pub(super) wrote: bool,
    pub(super) in_flight: Option<InFlight>,
    /// Connect's answer to a create this step made.
    pub(super) created: Option<ConnectorInfo>,
}

impl Done {
    pub(super) const NOTHING: Done = Done {
        wrote: false,
        in_flight: None,
        created: None,
    };
    pub(super) const WROTE: Done = Done {
        wrote: true,
        in_flight: None,
        created: None,
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
                    created: None,
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
        // The config step is the first; a later write (a state change a worker without
        // `initial_state` needed) makes the create's answer out of date.
        let created = match steps.iter().skip(1).any(|d| d.wrote) {
            true => None,
            false => steps.first_mut().and_then(|d| d.created.take()),
        };
        Ok(Outcome {
            served,
            refused: None,
            wrote: steps.iter().any(|d| d.wrote),
            in_flight: in_flight(steps),
            created,
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

    pub(super) async fn publish(&self, note: Note) {
        publish(&self.ctx.recorder, self.obj, note).await;
    }

    /// Creates or updates the config. `Err(errors)` when Connect refused the config: nothing
    /// was written.
    ///
    /// Connect validates every create and config PUT itself, and refuses an invalid config
    /// with a 400: a validate call before each write would add the slowest call of a rollout
    /// to every connector. So validate comes first only where the write is expected to be
    /// refused (`validate_first`: re-checking a refused config writes nothing), and after a
    /// refusal, for Connect's per-key errors.
    async fn config(
        &self,
        action: &ConfigAction,
        served: &mut Served,
        record_created: bool,
    ) -> Result<std::result::Result<Done, Vec<ValidationError>>> {
        if *action == ConfigAction::None {
            return Ok(Ok(Done::NOTHING));
        }
        if self.validate_first {
            let errors = self.validate().await?;
            if !errors.is_empty() {
                return Ok(Err(self.refused(errors).await));
            }
        }
        match self.write_config(action, served, record_created).await {
            // A 400, or a 500: Connect 4.3.1 answers some invalid configs (Debezium's) with
            // a NullPointerException thrown while it words the errors. Connect validates
            // before it stores anything, so its validate says whether the config was the
            // cause; if not, the write's own answer stands.
            Err(e @ (Error::Rejected(_) | Error::ServerError(_))) => {
                let errors = self.validate().await?;
                if errors.is_empty() {
                    return Err(e);
                }
                Ok(Err(self.refused(errors).await))
            }
            Err(e) => Err(e),
            Ok(created) => Ok(Ok(Done {
                created,
                ..Done::WROTE
            })),
        }
    }

    /// Connect's per-key errors for the desired config (masked); none when it is valid.
    async fn validate(&self) -> Result<Vec<ValidationError>> {
        let (client, class) = (&self.handle.client, &self.obj.spec.class);
        act::validate(client, class, self.desired, self.masks).await
    }

    /// Says (a Warning Event) that Connect refused the config; the errors go to status.
    async fn refused(&self, errors: Vec<ValidationError>) -> Vec<ValidationError> {
        let count = errors.len();
        let text =
            format!("Connect rejected the config with {count} error(s); nothing was written");
        let reason = EventReason::ValidationFailed;
        self.publish(Note::warning(reason, EventAction::Validate, text))
            .await;
        errors
    }

    /// The create or config PUT of `action`, with what it owes to status; Connect's answer
    /// to a create that made the connector.
    async fn write_config(
        &self,
        action: &ConfigAction,
        served: &mut Served,
        record_created: bool,
    ) -> Result<Option<ConnectorInfo>> {
        let client = &self.handle.client;
        let mut created = None;
        match action {
            ConfigAction::Create { initial_state } => {
                let (note, how, answer) =
                    act::create(client, self.name, self.desired, initial_state.as_ref()).await?;
                created = answer;
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
        Ok(created)
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

    /// Pause, resume or stop: sent once, then left to Connect for `STATE_RESEND` while no
    /// worker carries it out (UNASSIGNED in a rebalance, a departed worker).
    async fn change_state(&self, action: StateAction) -> Result<Done> {
        let (memory, connector) = (&self.ctx.memory, self.name.to_string());
        let target = action.target();
        if memory.state_pending(self.obj, action).is_some() {
            let in_flight = InFlight::AwaitingWorker { connector, target };
            return Ok(Done {
                in_flight: Some(in_flight),
                ..Done::NOTHING
            });
        }
        let budget = self.ctx.config.timeouts.confirm;
        let (note, confirmed) =
            act::change_state(&self.handle.client, self.name, action, budget).await?;
        memory.set_state_pending(self.obj, (!confirmed).then_some(action));
        self.publish(note).await;
        Ok(Done {
            in_flight: (!confirmed).then_some(InFlight::State { connector, target }),
            ..Done::WROTE
        })
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
