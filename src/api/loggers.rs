//! KafkaConnectCluster `spec.loggers`: logger levels declared for a Connect cluster, and
//! what status shows of them.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Serialize};

/// A level Connect's `/admin/loggers` takes.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
    Off,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
            LogLevel::Fatal => "FATAL",
            LogLevel::Off => "OFF",
        }
    }
}

/// One logger's declared level. With `expiresAfter` it is a time-boxed override: the level
/// holds that long from when the operator first set it, then the level the logger had before
/// comes back by itself.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggerSetting {
    /// TRACE, DEBUG, INFO, WARN, ERROR, FATAL or OFF.
    pub level: LogLevel,
    /// How long the level holds, e.g. `90s`, `15m`, `2h`. Served once per `level` and
    /// `expiresAfter`: change either to set it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{0,5}(s|m|h)$"), length(max = 8))]
    pub expires_after: Option<String>,
}

impl LoggerSetting {
    /// What a time-boxed override is recorded under in status ("TRACE for 15m").
    pub fn signature(&self) -> Option<String> {
        let after = self.expires_after.as_ref()?;
        Some(format!("{} for {after}", self.level.as_str()))
    }
}

/// What status shows of one declared logger.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggerStatus {
    /// The level the worker the operator talks to reports (`GET /admin/loggers/{logger}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// When a level was last set on this logger (Connect 3.7+ reports it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<Time>,
    /// A time-boxed override and where it stands.
    #[serde(default, rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_: Option<LoggerOverride>,
    /// Why the declared level could not be set or read (Connect's words).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A time-boxed override of a logger's level.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggerOverride {
    /// The declared level and how long it holds ("TRACE for 15m").
    pub setting: String,
    /// When the operator set it.
    pub since: Time,
    /// When the level it replaced comes back.
    pub until: Time,
    /// The level it replaced, set again at `until`.
    pub revert_to: String,
    /// The replaced level is back: the override is served.
    #[serde(default)]
    pub reverted: bool,
}

/// Status of every declared logger, by logger name.
pub type LoggersStatus = BTreeMap<String, LoggerStatus>;
