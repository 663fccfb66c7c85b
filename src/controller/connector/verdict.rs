//! The pure verdict of a KafkaConnector reconcile: from what Connect shows and what the
//! reconcile found, the `Ready`/`Reconciling`/`Stalled` conditions (one reason, one message)
//! and when to look again. Unit-tested from the YAML fixtures in `tests/fixtures/verdict/`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::live::Live;
use super::live_verdict::from_live;
use crate::api::connector::{DesiredState, PAUSE_RECONCILIATION};
use crate::config::STATE_RESEND;
use crate::vocabulary::{ConnectState, Reason};

/// Look again soon: something is in flight (tasks starting, a transition not yet confirmed).
pub const SOON: Duration = Duration::from_secs(3);
/// Connect could not be read: look again after a few polls' worth.
const UNREADABLE: Duration = Duration::from_secs(9);
/// A state change left to Connect's workers: the poll wakes the connector when its state
/// changes, this is the backstop.
const AWAITING_WORKER: Duration = Duration::from_secs(30);
/// While the bulk poll of the cluster fails: the poll that sees it back wakes every
/// connector, so this is only the backstop.
const CLUSTER_DOWN: Duration = Duration::from_secs(60);
/// Something the connector or its cluster names is missing: someone must create it.
const MISSING: Duration = Duration::from_secs(15);
/// A move between clusters looks again this soon (waiting for a worker to stop the connector).
const MOVING: Duration = Duration::from_secs(1);
/// The owner may go away without waking us.
const CONFLICT: Duration = Duration::from_secs(30);
/// Connect refused the config: the spec must change (which wakes us anyway).
const INVALID_CONFIG: Duration = Duration::from_secs(60);

/// What shaped this reconcile besides the live view: why it could not look at Connect, or
/// what acting on it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum Finding {
    /// `spec.config` holds what the schema could not refuse (see `status.validationErrors`).
    InvalidSpec,
    /// The KafkaConnectCluster, or a Secret, ConfigMap or TLS material it or `configFrom`
    /// names, is missing or unusable.
    Missing { reason: Reason, message: String },
    /// Another KafkaConnector owns this connector.
    Conflict {
        connector: String,
        url: String,
        owner: String,
    },
    /// Connect could not be read: unreachable, rebalancing, or refusing our credentials.
    Unreadable { reason: Reason, message: String },
    /// The last bulk poll of the cluster failed: nothing was asked of Connect.
    ClusterDown { reason: Reason, message: String },
    /// Connect's validation refused the desired config; nothing was written.
    InvalidConfig { errors: usize },
    /// The pause-reconciliation annotation is set: nothing is read or written.
    ReconciliationPaused,
    /// The spec asks for what this worker's version cannot do; nothing was written.
    Unsupported { message: String },
    /// Another writer keeps changing the connector's config: its last change stands until
    /// the hold ends (`fight.rs`).
    Contested {
        connector: String,
        keys: Vec<String>,
        hold_secs: u64,
    },
    /// `clusterRef` changed: the move to the new cluster is at the step `message` says.
    Moving { message: String },
    /// `clusterRef` changed and the move cannot be made (`message` says why).
    MoveRefused { message: String },
    /// `autoRestart.maxRestarts` is reached while the connector is FAILED.
    AutoRestartExhausted { connector: String },
    /// What acting left in flight: a state change not confirmed yet, a state change no
    /// worker carried out yet, or a read back that failed.
    InFlight { waiting: InFlight },
    /// The reconcile failed with an error (`reason` is the error's): retried with backoff;
    /// stalled when Connect refused what we sent (a retry would be refused again).
    Failed {
        reason: Reason,
        message: String,
        refused: bool,
    },
}

/// Why a reconcile that acted must look again soon; the verdict says it in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase", tag = "for")]
pub enum InFlight {
    /// An offsets request waits for the connector to stop.
    StopForOffsets { connector: String, request: String },
    /// A state change sent now and not confirmed yet.
    State {
        connector: String,
        target: ConnectState,
    },
    /// A state change Connect accepted earlier that no worker carried out yet: not sent
    /// again until `STATE_RESEND` has passed.
    AwaitingWorker {
        connector: String,
        target: ConnectState,
    },
    /// The writes happened; reading the connector back failed.
    ReadBack,
}

impl InFlight {
    fn words(&self) -> String {
        match self {
            InFlight::StopForOffsets { connector, request } => {
                format!(
                    "waiting for connector {connector} to stop before offsets request {request}"
                )
            }
            InFlight::State { connector, target } => {
                format!("waiting for connector {connector} to become {target}")
            }
            // No "seconds ago" here: a message that changes at each look would be a status
            // write (and a watch event, and a reconcile) each time.
            InFlight::AwaitingWorker { connector, target } => format!(
                "Connect accepted the request to make connector {connector} {target} and no worker has carried it out yet (a rebalance, or a worker that left); it is sent again only if still pending after {}s",
                STATE_RESEND.as_secs()
            ),
            InFlight::ReadBack => "waiting to read the connector back".into(),
        }
    }

    fn requeue(&self) -> Duration {
        match self {
            InFlight::AwaitingWorker { .. } => AWAITING_WORKER,
            _ => SOON,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub ready: bool,
    pub reason: Reason,
    pub message: String,
    pub reconciling: bool,
    pub stalled: bool,
    #[serde(with = "seconds")]
    pub requeue: Duration,
}

pub struct VerdictInput<'a> {
    pub state: DesiredState,
    pub auto_restart: bool,
    pub live: Option<&'a Live>,
    pub finding: Option<&'a Finding>,
    /// The requeue of a connector with nothing left to do (`--resync`).
    pub idle: Duration,
    /// How long the connector has not been Ready (from the Ready condition we last wrote);
    /// `None` while it is Ready.
    pub not_ready_for: Option<Duration>,
}

pub fn verdict(input: &VerdictInput<'_>) -> Verdict {
    match input.finding {
        Some(f) => from_finding(f, input.idle),
        None => from_live(input),
    }
}

/// Not ready, for `reason`: stalled (someone must act) or reconciling (we keep trying).
pub(super) fn not_ready(
    reason: Reason,
    message: String,
    stalled: bool,
    requeue: Duration,
) -> Verdict {
    Verdict {
        ready: false,
        reason,
        message,
        reconciling: !stalled,
        stalled,
        requeue,
    }
}

fn from_finding(f: &Finding, idle: Duration) -> Verdict {
    match f {
        Finding::InvalidSpec => not_ready(
            Reason::InvalidSpec,
            "spec.config is not acceptable, see status.validationErrors; Connect was not changed"
                .into(),
            true,
            idle,
        ),
        Finding::Missing { reason, message } => not_ready(*reason, message.clone(), false, MISSING),
        Finding::Conflict {
            connector,
            url,
            owner,
        } => not_ready(
            Reason::Conflict,
            format!("connector {connector} on {url} is claimed by KafkaConnector {owner}"),
            true,
            CONFLICT,
        ),
        Finding::Unreadable { reason, message } => {
            not_ready(*reason, message.clone(), false, UNREADABLE)
        }
        Finding::ClusterDown { reason, message } => {
            not_ready(*reason, message.clone(), false, CLUSTER_DOWN)
        }
        Finding::InvalidConfig { errors } => not_ready(
            Reason::InvalidConfig,
            format!(
                "the config has {errors} error(s), see status.validationErrors; Connect was not changed"
            ),
            true,
            INVALID_CONFIG,
        ),
        Finding::ReconciliationPaused => Verdict {
            ready: false,
            reason: Reason::ReconciliationPaused,
            message: format!(
                "reconciliation is paused by the annotation {PAUSE_RECONCILIATION}=true: nothing is written to Connect until it is removed"
            ),
            reconciling: false,
            stalled: false,
            requeue: idle,
        },
        Finding::Unsupported { message } => {
            not_ready(Reason::Unsupported, message.clone(), true, idle)
        }
        Finding::Contested {
            connector,
            keys,
            hold_secs,
        } => not_ready(
            Reason::Contested,
            format!(
                "connector {connector} keeps being changed from outside (keys {}): the change stands for {hold_secs}s before it is reverted; run one operator install per Connect cluster and no other writer to its connectors",
                keys.join(", ")
            ),
            false,
            Duration::from_secs(*hold_secs),
        ),
        Finding::Moving { message } => not_ready(Reason::Moving, message.clone(), false, MOVING),
        Finding::MoveRefused { message } => {
            not_ready(Reason::MoveRefused, message.clone(), true, idle)
        }
        Finding::AutoRestartExhausted { connector } => not_ready(
            Reason::AutoRestartExhausted,
            format!(
                "connector {connector} is FAILED and autoRestart.maxRestarts is reached; set spec.restart to try again"
            ),
            true,
            idle,
        ),
        Finding::InFlight { waiting } => not_ready(
            Reason::Progressing,
            waiting.words(),
            false,
            waiting.requeue(),
        ),
        // The requeue is the error policy's (backoff with jitter); this one is not used.
        Finding::Failed {
            reason,
            message,
            refused,
        } => not_ready(*reason, message.clone(), *refused, UNREADABLE),
    }
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason `verdict` can give: all but the cluster's own (`Available`,
    /// `ClusterInUse`, `UnmanagedDeleteRefused`, `PlainHttp`), `Idle`, which only ever stands on
    /// `Reconciling=False`, and the `Drifted` condition's (`status::set_conditions`) (the
    /// fixture test checks each one is covered).
    fn reasons() -> impl Iterator<Item = Reason> {
        Reason::ALL.iter().copied().filter(|r| {
            !matches!(
                r,
                Reason::Available
                    | Reason::Idle
                    | Reason::ClusterInUse
                    | Reason::UnmanagedDeleteRefused
                    | Reason::PlainHttp
                    | Reason::DriftReported
                    | Reason::InSync
                    | Reason::Unhealthy
                    | Reason::OffsetsMoving
                    | Reason::NoProgress
            )
        })
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Fixture {
        description: String,
        #[serde(default)]
        state: DesiredState,
        #[serde(default)]
        auto_restart: bool,
        #[serde(default)]
        live: Option<Live>,
        #[serde(default)]
        finding: Option<Finding>,
        #[serde(default)]
        not_ready_for_seconds: Option<u64>,
        expect: Verdict,
    }

    /// Every `tests/fixtures/verdict/*.yaml`, with a resync (idle requeue) of 300 s; together
    /// they cover every reason the verdict can give.
    #[test]
    fn verdict_fixtures_cover_every_reason() {
        let mut seen = std::collections::BTreeSet::new();
        for (path, f) in crate::fixtures::read::<Fixture>("verdict") {
            let got = verdict(&VerdictInput {
                state: f.state,
                auto_restart: f.auto_restart,
                live: f.live.as_ref(),
                finding: f.finding.as_ref(),
                idle: Duration::from_secs(300),
                not_ready_for: f.not_ready_for_seconds.map(Duration::from_secs),
            });
            assert_eq!(got, f.expect, "{path}: {}", f.description);
            seen.insert(got.reason.as_str());
        }
        let missing: Vec<_> = reasons().filter(|r| !seen.contains(r.as_str())).collect();
        assert!(missing.is_empty(), "no verdict fixture gives {missing:?}");
    }
}
