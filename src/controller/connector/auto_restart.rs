//! The auto-restart part of the plan (pure): Strimzi's backoff schedule, when a FAILED
//! connector or task is restarted, when the count resets, and when it gives up.

use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::live::Live;
use crate::api::connector::{DesiredState, KafkaConnectorSpec, KafkaConnectorStatus};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRestartPlan {
    /// Restart now; the count becomes `count + 1`.
    #[serde(default)]
    pub restart_now: bool,
    /// A restart is due later: requeue after this many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_seconds: Option<u64>,
    /// `maxRestarts` reached: nothing more will be tried.
    #[serde(default)]
    pub exhausted: bool,
    /// Healthy for longer than the last backoff: forget past restarts.
    #[serde(default)]
    pub reset: bool,
}

/// Strimzi's schedule: min(n² + n, 60) base intervals after the n-th restart
/// (0, 2, 6, 12, 20, 30, 42, 56, then 60 minutes with a one-minute base).
pub fn auto_restart_backoff(count: i32, base: Duration) -> Duration {
    let n = count.max(0) as u64;
    base.saturating_mul((n * n + n).min(60) as u32)
}

/// When to restart, wait, give up or forget, from the spec, the count in status and `now`
/// (`base`: `--auto-restart-base`).
pub fn auto_restart_plan(
    spec: &KafkaConnectorSpec,
    status: &KafkaConnectorStatus,
    live: &Live,
    now: Timestamp,
    base: Duration,
) -> AutoRestartPlan {
    let enabled = spec.auto_restart.as_ref().is_some_and(|a| a.enabled);
    let prev = status.auto_restart.clone().unwrap_or_default();
    let last = prev.last_restart_time.as_ref().map(|t| t.0);
    let since_last = |now: Timestamp| {
        last.map(|l| Duration::try_from(now.duration_since(l)).unwrap_or(Duration::ZERO))
    };
    let mut plan = AutoRestartPlan::default();
    if live.healthy() {
        let backoff = auto_restart_backoff(prev.count, base);
        plan.reset = prev.count > 0 && since_last(now).is_none_or(|s| s >= backoff);
        if prev.count > 0 && !plan.reset {
            plan.wait_seconds = Some(
                (backoff - since_last(now).unwrap_or_default())
                    .as_secs()
                    .max(1),
            );
        }
        return plan;
    }
    if !enabled || !live.any_failed() || spec.state != DesiredState::Running {
        return plan;
    }
    if let Some(max) = spec.auto_restart.as_ref().and_then(|a| a.max_restarts)
        && prev.count >= max
    {
        plan.exhausted = true;
        return plan;
    }
    let backoff = auto_restart_backoff(prev.count, base);
    match since_last(now) {
        Some(elapsed) if elapsed < backoff => {
            plan.wait_seconds = Some((backoff - elapsed).as_secs().max(1));
        }
        _ => plan.restart_now = true,
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strimzi_backoff_schedule() {
        let minutes: Vec<u64> = (0..10)
            .map(|n| auto_restart_backoff(n, Duration::from_secs(60)).as_secs() / 60)
            .collect();
        assert_eq!(minutes, [0, 2, 6, 12, 20, 30, 42, 56, 60, 60]);
    }
}
