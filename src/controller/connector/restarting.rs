//! The restart steps of `Acting` (a `spec.restart` id, an owed restart, an automatic
//! restart) and the write-ahead every one-shot request goes through: its marker in status
//! before it is sent, taken back when it got no answer.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::act;
use super::acting::{Acting, Done};
use super::auto_restart::AutoRestartPlan;
use super::decide::RestartAction;
use super::in_flight;
use super::report::{Served, record_served};
use crate::api::connector::AutoRestartStatus;
use crate::connect::RestartOptions;
use crate::controller::events::Note;
use crate::error::{Error, Result};
use crate::telemetry::metrics;
use crate::vocabulary::{EventAction, EventReason};

impl Acting<'_> {
    /// Write-ahead: `marker` in status before the request goes out. Nothing is sent when
    /// that write fails (an admission policy refusing status updates, the apiserver gone), so
    /// a status that cannot be written never makes a request go out again and again.
    pub(super) async fn write_ahead(&self, served: &mut Served, marker: String) -> Result<()> {
        served.request_in_flight = Some(marker);
        record_served(self.ctx, self.obj, served).await
    }

    /// A request that got no answer: its marker is taken back, so it is sent again. If even
    /// that write fails, the marker stays and the request counts as served (unconfirmed).
    pub(super) async fn no_answer(&self, served: &mut Served, e: Error) -> Error {
        served.request_in_flight = None;
        if let Err(w) = record_served(self.ctx, self.obj, served).await {
            tracing::debug!(error = %w, "the request stays marked in flight: not sent again");
        }
        e
    }

    /// Serves `status.restartOwed`: restarts the FAILED parts. Connect's answered failure
    /// serves it too (recorded in `lastRestartError`); a call that got no answer leaves it
    /// owed for the next reconcile.
    pub(super) async fn restart_owed(&self, served: &mut Served) -> Result<Done> {
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
    pub(super) async fn restart(
        &self,
        action: &RestartAction,
        served: &mut Served,
    ) -> Result<Done> {
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

    pub(super) async fn auto_restart(
        &self,
        plan: &AutoRestartPlan,
        served: &mut Served,
    ) -> Result<Done> {
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
