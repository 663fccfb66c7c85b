//! The offsets step of `Acting`: serving a `spec.offsets` request once. Connect changes
//! offsets only of a STOPPED connector, so the step stops it first (confirmed), then writes
//! ahead, resets or alters, and records the outcome; what serving takes is `offsets.rs`.

use super::act;
use super::acting::{Acting, Done};
use super::in_flight;
use super::offsets::{self, OffsetsAction};
use super::report::{Served, record_served};
use super::verdict::InFlight;
use crate::connect::StateAction;
use crate::connect::types::ConnectorOffsets;
use crate::error::Result;

impl Acting<'_> {
    /// Serves an offsets request once: stop (confirmed), reset or alter, record. A stop not
    /// confirmed yet leaves the request pending; the next reconcile goes on.
    pub(super) async fn offsets(
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
                created: None,
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
}
