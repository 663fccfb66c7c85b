//! The three requests that move a connector between states (pause, resume, stop), and the
//! state that shows each one was carried out.

use serde::{Deserialize, Serialize};

use super::ConnectClient;
use crate::error::Result;
use crate::vocabulary::ConnectState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StateAction {
    Pause,
    Resume,
    Stop,
}

impl StateAction {
    /// The connector state that confirms the transition.
    pub fn target(self) -> ConnectState {
        match self {
            StateAction::Pause => ConnectState::Paused,
            StateAction::Resume => ConnectState::Running,
            StateAction::Stop => ConnectState::Stopped,
        }
    }
}

impl ConnectClient {
    /// `PUT .../pause`, `.../resume` or `.../stop`: accepted, not yet carried out.
    pub async fn change_state(&self, name: &str, action: StateAction) -> Result<()> {
        match action {
            StateAction::Pause => self.pause(name).await,
            StateAction::Resume => self.resume(name).await,
            StateAction::Stop => self.stop(name).await,
        }
    }
}
