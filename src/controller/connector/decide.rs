//! The pure part of a KafkaConnector reconcile: given the desired spec, what Connect shows
//! and what the status remembers, decide what to do. No client, no clock: the caller passes
//! `now`. Unit-tested from the YAML fixtures in `tests/fixtures/decide/`.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::auto_restart::{AutoRestartPlan, auto_restart_plan};
use super::desired::drift;
use super::in_flight;
use super::live::Live;
use super::offsets::{self, OffsetsAction};
use super::provenance;
use crate::api::connector::{
    DeletionPolicy, DesiredState, DriftPolicy, KafkaConnectorSpec, KafkaConnectorStatus,
};
use crate::connect::{Capabilities, StateAction};
use crate::vocabulary::ConnectState;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "action"
)]
pub enum ConfigAction {
    None,
    /// `initial_state` only where the worker takes it (Kafka 3.7+); older workers create
    /// RUNNING and the plan's state action pauses or stops at once.
    Create {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial_state: Option<ConnectState>,
    },
    /// `restart_failed`: the connector or a task is FAILED; a fixed config needs a restart
    /// to take effect (Connect keeps a FAILED connector FAILED until restarted). `changed`:
    /// the keys that differ (for the Event).
    Update {
        restart_failed: bool,
        changed: Vec<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "action"
)]
pub enum RestartAction {
    Connector {
        id: String,
        include_tasks: bool,
        only_failed: bool,
    },
    Task {
        id: String,
        task_id: i32,
    },
    /// A fresh connector needs no restart: remember the id so it is not served later.
    RecordOnly {
        id: String,
    },
}

impl RestartAction {
    /// The `spec.restart.id` this action serves.
    pub fn id(&self) -> &str {
        match self {
            RestartAction::Connector { id, .. }
            | RestartAction::Task { id, .. }
            | RestartAction::RecordOnly { id } => id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The spec asks for what this worker's version cannot do: nothing is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
    pub config: ConfigAction,
    #[serde(default)]
    pub state: Option<StateAction>,
    #[serde(default)]
    pub restart: Option<RestartAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offsets: Option<OffsetsAction>,
    #[serde(default)]
    pub auto_restart: AutoRestartPlan,
    /// Serve `status.restartOwed`: the config is already right, the connector still FAILED.
    #[serde(default)]
    pub owed_restart: bool,
    /// Adopt the connector found in Connect (`provenance`): its spec's one-shot ids count as
    /// served, so `restart` and `offsets` are `None`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopt: bool,
    /// A `status.requestInFlight` marker to settle as served (`in_flight::settle`); the
    /// request it names is not planned again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed: Option<String>,
    /// `driftPolicy: Report`: the keys whose value in Connect differs from the spec's, left
    /// as they are (`config` is then `None`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
}

pub struct DecideInput<'a> {
    pub spec: &'a KafkaConnectorSpec,
    /// The config as Connect would store it (`desired::desired_config` plus `configFrom`
    /// values).
    pub desired: &'a BTreeMap<String, String>,
    pub live: Option<&'a Live>,
    pub status: &'a KafkaConnectorStatus,
    pub now: Timestamp,
    pub auto_restart_base: Duration,
    pub capabilities: Capabilities,
    /// The desired config changed since Connect was last seen to hold it: a newer spec
    /// generation, or a `configFrom` value that changed (`drift::desired_moved`). A
    /// difference without it is drift.
    pub desired_moved: bool,
}

pub fn decide(input: &DecideInput<'_>) -> Plan {
    if let Some(why) = unsupported(input) {
        return Plan {
            unsupported: Some(why),
            config: ConfigAction::None,
            state: None,
            restart: None,
            offsets: None,
            auto_restart: AutoRestartPlan::default(),
            owed_restart: false,
            adopt: false,
            unconfirmed: None,
            drift: vec![],
        };
    }
    let (mut config, drift) = config_action(input);
    let creating = matches!(config, ConfigAction::Create { .. });
    let adopt = provenance::adopting(input.status, input.live);
    let unconfirmed = input.status.request_in_flight.clone();
    let sent = |marker: String| unconfirmed.as_deref() == Some(marker.as_str());
    let offsets = offsets::action(input.spec, input.status)
        .filter(|a| !adopt && !sent(in_flight::offsets(a.id())));
    let stopping = offsets.is_some();
    if let (ConfigAction::Create { initial_state }, true) = (&mut config, stopping) {
        // Offsets of a new connector: created STOPPED (where the worker takes it), reset or
        // altered, then started.
        if initial_state.is_some() {
            *initial_state = Some(ConnectState::Stopped);
        }
    }
    let state = match (&config, input.live.and_then(Live::state)) {
        // Serving offsets leaves the connector STOPPED: restore the desired state after.
        _ if stopping => state_action(input.spec.state, &ConnectState::Stopped),
        // Created in the desired state where the worker takes `initial_state`, else RUNNING.
        (ConfigAction::Create { initial_state }, _) => match initial_state {
            Some(_) => None,
            None => state_action(input.spec.state, &ConnectState::Running),
        },
        (_, None) => None,
        (_, Some(current)) => state_action(input.spec.state, current),
    };
    let restart =
        restart_action(input, creating).filter(|r| !adopt && !sent(in_flight::restart(r.id())));
    let owed_restart = input.status.restart_owed.is_some()
        && !sent(in_flight::OWED_RESTART.into())
        && config == ConfigAction::None
        && restart.is_none()
        && input.spec.state == DesiredState::Running
        && input.live.is_some_and(Live::any_failed);
    let auto_restart = match input.live {
        // A config update that restarts failed parts, an owed or an explicit restart,
        // already acts.
        Some(live)
            if !matches!(
                config,
                ConfigAction::Update {
                    restart_failed: true,
                    ..
                }
            ) && restart.is_none()
                && !owed_restart =>
        {
            auto_restart_plan(
                input.spec,
                input.status,
                live,
                input.now,
                input.auto_restart_base,
            )
        }
        _ => AutoRestartPlan::default(),
    };
    Plan {
        unsupported: None,
        config,
        state,
        restart,
        offsets,
        auto_restart,
        owed_restart,
        adopt,
        unconfirmed,
        drift,
    }
}

/// What the spec asks for that this worker's version cannot do, said so a user can act.
fn unsupported(input: &DecideInput<'_>) -> Option<String> {
    let (spec, caps) = (input.spec, input.capabilities);
    let needs = |what: &str, version: &str| {
        Some(format!(
            "{what} needs Kafka Connect {version} or later; this cluster runs {caps}"
        ))
    };
    if spec.state == DesiredState::Stopped && !caps.stop() {
        return needs("state: stopped", "3.5");
    }
    if offsets::pending(spec, input.status).is_some() && !caps.offsets() {
        return needs("spec.offsets", "3.6");
    }
    if spec.deletion_policy == DeletionPolicy::DeleteAndResetOffsets && !caps.offsets() {
        return needs("deletionPolicy: DeleteAndResetOffsets", "3.6");
    }
    if spec.version.is_some() && !caps.plugin_version() {
        return needs("spec.version (connector.plugin.version)", "4.1");
    }
    let flags = spec
        .restart
        .as_ref()
        .is_some_and(|r| r.include_tasks || r.only_failed);
    let auto = spec.auto_restart.as_ref().is_some_and(|a| a.enabled);
    if (flags || auto) && !caps.restart_flags() {
        return needs(
            "restart with includeTasks/onlyFailed (and autoRestart)",
            "3.0",
        );
    }
    None
}

/// The config write, or (`driftPolicy: Report`) the drifted keys left alone.
fn config_action(input: &DecideInput<'_>) -> (ConfigAction, Vec<String>) {
    let spec = input.spec;
    let Some(live) = input.live else {
        let create = ConfigAction::Create {
            initial_state: input
                .capabilities
                .initial_state()
                .then(|| spec.state.connect_state()),
        };
        return (create, vec![]);
    };
    let changed = drift(input.desired, &live.config);
    if changed.is_empty() {
        return (ConfigAction::None, vec![]);
    }
    // Adopting writes the spec as before: the object has just taken the connector over.
    let adopting = provenance::adopting(input.status, input.live);
    if spec.drift_policy == DriftPolicy::Report && !input.desired_moved && !adopting {
        return (ConfigAction::None, changed);
    }
    let update = ConfigAction::Update {
        restart_failed: live.any_failed() && spec.state == DesiredState::Running,
        changed,
    };
    (update, vec![])
}

/// A new `spec.restart.id` is served once; on a connector created now it is only recorded.
fn restart_action(input: &DecideInput<'_>, creating: bool) -> Option<RestartAction> {
    let r = input.spec.restart.as_ref()?;
    if input.status.last_restart_id.as_deref() == Some(r.id.as_str()) {
        return None;
    }
    let id = r.id.clone();
    Some(if creating {
        RestartAction::RecordOnly { id }
    } else if let Some(task_id) = r.task_id {
        RestartAction::Task { id, task_id }
    } else {
        RestartAction::Connector {
            id,
            include_tasks: r.include_tasks,
            only_failed: r.only_failed,
        }
    })
}

fn state_action(desired: DesiredState, current: &ConnectState) -> Option<StateAction> {
    use ConnectState as S;
    match (desired, current) {
        (DesiredState::Running, S::Paused | S::Stopped) => Some(StateAction::Resume),
        // Connect refuses to pause a FAILED connector; auto-restart or the user must act first.
        (DesiredState::Paused, S::Running | S::Unassigned | S::Restarting | S::Stopped) => {
            Some(StateAction::Pause)
        }
        // Never act on a state Connect did not name or that we do not know: that is doubt.
        (DesiredState::Stopped, s) if *s != S::Stopped && s.is_known() => Some(StateAction::Stop),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::connector::desired::desired_config;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Fixture {
        description: String,
        name: String,
        now: Timestamp,
        #[serde(default)]
        auto_restart_base_seconds: Option<u64>,
        /// The worker's `GET /` version (default: the newest, everything supported).
        #[serde(default)]
        connect_version: Option<String>,
        spec: KafkaConnectorSpec,
        live: Option<Live>,
        #[serde(default)]
        status: KafkaConnectorStatus,
        #[serde(default)]
        desired_moved: bool,
        expect: Plan,
    }

    /// Every `tests/fixtures/decide/*.yaml`: spec + live view + status in, the plan out.
    #[test]
    fn decide_fixtures() {
        for (path, f) in crate::fixtures::read::<Fixture>("decide") {
            let desired = desired_config(&f.spec, &f.name);
            let plan = decide(&DecideInput {
                spec: &f.spec,
                desired: &desired,
                live: f.live.as_ref(),
                status: &f.status,
                now: f.now,
                auto_restart_base: Duration::from_secs(f.auto_restart_base_seconds.unwrap_or(60)),
                capabilities: f
                    .connect_version
                    .as_deref()
                    .map_or(Capabilities::ALL, Capabilities::from_version),
                desired_moved: f.desired_moved,
            });
            assert_eq!(plan, f.expect, "{path}: {}", f.description);
        }
    }
}
