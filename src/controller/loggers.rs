//! KafkaConnectCluster `spec.loggers`: each declared level is set where the worker reports
//! another, cluster-wide on Connect 3.7+ (`?scope=cluster`), else on each worker the
//! operator knows. A time-boxed override records in status what it replaced and until when,
//! so that the revert survives an operator restart and is served once. `plan` decides (pure);
//! `converge` reads, writes and reports.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::cluster_handle::{ClusterHandle, ClusterKey};
use crate::api::loggers::{LoggerOverride, LoggerSetting, LoggerStatus, LoggersStatus};
use crate::connect::Capabilities;
use crate::connect::types::LoggerLevel;
use crate::error::Result;

/// The loggers status each cluster object was last given by this process: the cached object
/// may not show it yet, and an override started again from a stale status would take its own
/// level for the one to revert to.
#[derive(Default)]
pub struct LoggersMemory(Mutex<BTreeMap<ClusterKey, LoggersStatus>>);

impl LoggersMemory {
    pub fn last(&self, key: &ClusterKey, object: &LoggersStatus) -> LoggersStatus {
        let remembered = self.0.lock().expect("loggers memory");
        remembered
            .get(key)
            .cloned()
            .unwrap_or_else(|| object.clone())
    }

    pub fn remember(&self, key: &ClusterKey, status: &LoggersStatus) {
        let mut remembered = self.0.lock().expect("loggers memory");
        remembered.insert(key.clone(), status.clone());
    }

    pub fn forget(&self, key: &ClusterKey) {
        self.0.lock().expect("loggers memory").remove(key);
    }
}

/// For one logger: the level to set now (if any) and its override record. `live`: the level
/// the worker reports (`None`: no such logger yet); `root`: the root logger's, what an
/// unknown logger inherits.
pub fn plan(
    setting: &LoggerSetting,
    prev: Option<&LoggerStatus>,
    live: Option<&str>,
    root: Option<&str>,
    now: Timestamp,
) -> (Option<String>, Option<LoggerOverride>) {
    let level = setting.level.as_str();
    let differs = |want: &str| (live != Some(want)).then(|| want.to_string());
    let (Some(signature), Some(hold)) = (setting.signature(), expiry(setting)) else {
        return (differs(level), None);
    };
    let recorded = prev
        .and_then(|p| p.override_.clone())
        .filter(|o| o.setting == signature);
    match recorded {
        None => {
            let revert_to = live.or(root).unwrap_or("INFO").to_string();
            let until = now.checked_add(hold).unwrap_or(now);
            let started = LoggerOverride {
                setting: signature,
                since: Time(now),
                until: Time(until),
                revert_to,
                reverted: false,
            };
            (differs(level), Some(started))
        }
        Some(o) if o.reverted => (None, Some(o)),
        Some(mut o) if now >= o.until.0 => {
            o.reverted = true;
            (differs(&o.revert_to.clone()), Some(o))
        }
        Some(o) => (differs(level), Some(o)),
    }
}

fn expiry(setting: &LoggerSetting) -> Option<jiff::SignedDuration> {
    let text = setting.expires_after.as_deref()?;
    let d = humantime::parse_duration(text).ok()?;
    jiff::SignedDuration::try_from(d).ok()
}

/// Sets the declared levels where they differ and reads them back; returns the loggers
/// status and how soon an override is due to revert.
pub async fn converge(
    handle: &ClusterHandle,
    caps: Capabilities,
    declared: &BTreeMap<String, LoggerSetting>,
    prev: &LoggersStatus,
    workers: &[String],
) -> (LoggersStatus, Option<Duration>) {
    let client = handle.client.once();
    let now = Timestamp::now();
    let mut out = LoggersStatus::new();
    let mut next: Option<Duration> = None;
    let mut root: Option<Option<String>> = None;
    for (name, setting) in declared {
        let before = prev.get(name);
        let live = match client.logger(name).await {
            Ok(l) => l,
            Err(e) => {
                out.insert(name.clone(), failed(before, &e.to_string()));
                continue;
            }
        };
        if root.is_none() && setting.expires_after.is_some() {
            let r = client.logger("root").await.ok().flatten();
            root = Some(r.map(|l| l.level));
        }
        let live_level = live.as_ref().map(|l| l.level.as_str());
        let root_level = root.as_ref().and_then(|r| r.as_deref());
        let (set, mut record) = plan(setting, before, live_level, root_level, now);
        let mut shown = live;
        let mut error = None;
        if let Some(level) = set {
            match set_level(handle, caps, workers, name, &level).await {
                Ok(()) => shown = client.logger(name).await.ok().flatten().or(shown),
                Err(e) => {
                    error = Some(crate::mask::cut(&e.to_string()));
                    // Not set: the override stands as it was recorded, so it is tried again.
                    record = before.and_then(|b| b.override_.clone());
                }
            }
        }
        if let Some(o) = record.as_ref().filter(|o| !o.reverted) {
            let left = o.until.0.duration_since(now);
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            next = Some(next.map_or(left, |n| n.min(left)));
        }
        out.insert(name.clone(), shown_status(shown, record, error));
    }
    (out, next)
}

/// A level set where Connect sets it: cluster-wide on 3.7+, else on the worker `url`
/// reaches and on each worker the polls showed (a worker that joins later keeps its own).
async fn set_level(
    handle: &ClusterHandle,
    caps: Capabilities,
    workers: &[String],
    name: &str,
    level: &str,
) -> Result<()> {
    if caps.cluster_loggers() {
        return handle.client.set_logger(name, level, true).await;
    }
    handle.client.set_logger(name, level, false).await?;
    for worker in workers {
        if let Some(client) = handle.client.at_worker(worker) {
            client.set_logger(name, level, false).await?;
        }
    }
    Ok(())
}

fn shown_status(
    live: Option<LoggerLevel>,
    record: Option<LoggerOverride>,
    error: Option<String>,
) -> LoggerStatus {
    let last_modified = live
        .as_ref()
        .and_then(|l| l.last_modified)
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map(Time);
    LoggerStatus {
        level: live.map(|l| l.level).filter(|l| !l.is_empty()),
        last_modified,
        override_: record,
        error,
    }
}

/// The logger could not be read: what was known, and why.
fn failed(before: Option<&LoggerStatus>, error: &str) -> LoggerStatus {
    LoggerStatus {
        error: Some(crate::mask::cut(error)),
        ..before.cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::loggers::LogLevel;

    fn setting(level: LogLevel, after: Option<&str>) -> LoggerSetting {
        LoggerSetting {
            level,
            expires_after: after.map(String::from),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_plain_level_is_set_only_where_it_differs() {
        let debug = setting(LogLevel::Debug, None);
        let now = at("2026-01-01T00:00:00Z");
        assert_eq!(
            plan(&debug, None, Some("INFO"), None, now).0.as_deref(),
            Some("DEBUG")
        );
        assert_eq!(plan(&debug, None, Some("DEBUG"), None, now), (None, None));
        assert_eq!(
            plan(&debug, None, None, None, now).0.as_deref(),
            Some("DEBUG")
        );
    }

    #[test]
    fn an_override_reverts_once_to_what_it_replaced() {
        let trace = setting(LogLevel::Trace, Some("15m"));
        let t0 = at("2026-01-01T00:00:00Z");
        let (set, started) = plan(&trace, None, Some("DEBUG"), Some("INFO"), t0);
        assert_eq!(set.as_deref(), Some("TRACE"));
        let started = started.unwrap();
        assert_eq!(
            (started.revert_to.as_str(), started.reverted),
            ("DEBUG", false)
        );
        assert_eq!(started.until.0, at("2026-01-01T00:15:00Z"));
        let prev = LoggerStatus {
            override_: Some(started),
            ..Default::default()
        };
        // Within the window: held (set again if someone changed it).
        let t1 = at("2026-01-01T00:10:00Z");
        assert_eq!(plan(&trace, Some(&prev), Some("TRACE"), None, t1).0, None);
        assert_eq!(
            plan(&trace, Some(&prev), Some("WARN"), None, t1)
                .0
                .as_deref(),
            Some("TRACE")
        );
        // Past it: the replaced level comes back, once.
        let t2 = at("2026-01-01T00:15:01Z");
        let (set, done) = plan(&trace, Some(&prev), Some("TRACE"), None, t2);
        assert_eq!(set.as_deref(), Some("DEBUG"));
        let done = done.unwrap();
        assert!(done.reverted);
        let after = LoggerStatus {
            override_: Some(done),
            ..Default::default()
        };
        assert_eq!(plan(&trace, Some(&after), Some("WARN"), None, t2).0, None);
        // A changed override is served again.
        let longer = setting(LogLevel::Trace, Some("30m"));
        assert_eq!(
            plan(&longer, Some(&after), Some("DEBUG"), None, t2)
                .0
                .as_deref(),
            Some("TRACE")
        );
    }

    #[test]
    fn an_unknown_logger_reverts_to_what_it_inherited() {
        let trace = setting(LogLevel::Trace, Some("90s"));
        let (_, o) = plan(&trace, None, None, Some("WARN"), at("2026-01-01T00:00:00Z"));
        assert_eq!(o.unwrap().revert_to, "WARN");
    }
}
