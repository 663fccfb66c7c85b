//! Parses every answer recorded from real Connect workers and plugins
//! (`tests/fixtures/connect/<version>/`, see `hack/record-answers.sh`) with the wire types
//! the operator uses, and classifies the recorded errors. The file name says what it is:
//! `validate-*`, `status-*`, `expanded-*`, `info-*`, `tasks-*`, `task-status-*`,
//! `topics-*`, `restart-plan-*`, `root`, `plugins`, `config-*`, `error-<code>-*`. A 404 is Connect
//! saying a connector (or task status) is absent only when its name says `not-found`.
//! `gateways/` holds 404s of what may stand between the operator and Connect: the
//! kube-apiserver service proxy's (recorded from the local stack) and the bodies Kong
//! (`no Route matched`) and cloud API gateways (`{"message":"Not Found"}`) are documented to
//! answer. `distributions/` holds `GET .../config` answers of other distributions, written
//! from what their users reported (terraform-provider-kafka-connect#204, #205: Confluent
//! Platform 8.2 adds `__internal.config.version`; some workers answer a PASSWORD masked),
//! not recorded here: no such worker runs on the local stack.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::answers::classify;
use super::types::*;
use crate::error::Error;

fn parse<T: DeserializeOwned>(name: &str, text: &str) {
    if let Err(e) = serde_json::from_str::<T>(text) {
        panic!("{name}: {e}");
    }
}

/// Every recorded answer, as (version/file name, body).
pub fn recorded() -> Vec<(String, String)> {
    let root = format!("{}/tests/fixtures/connect", env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for version in std::fs::read_dir(&root).expect("recorded answers") {
        let version = version.expect("a version folder").path();
        for file in std::fs::read_dir(&version).expect("a version folder") {
            let path = file.expect("a file").path();
            let name = format!(
                "{}/{}",
                version.file_name().unwrap().to_string_lossy(),
                path.file_name().unwrap().to_string_lossy()
            );
            out.push((name, std::fs::read_to_string(&path).expect("readable")));
        }
    }
    out.sort();
    out
}

#[test]
fn every_recorded_answer_parses() {
    let answers = recorded();
    assert!(answers.len() >= 10, "recorded answers missing");
    for (name, text) in &answers {
        let file = name.rsplit('/').next().unwrap_or_default();
        match file.split(['-', '.']).next().unwrap_or_default() {
            "validate" => parse::<ConfigInfos>(name, text),
            "status" | "restart" => parse::<ConnectorStateInfo>(name, text),
            "expanded" => parse::<BTreeMap<String, ExpandedConnector>>(name, text),
            "info" => parse::<ConnectorInfo>(name, text),
            "tasks" => parse::<Vec<TaskInfo>>(name, text),
            "task" => parse::<TaskState>(name, text),
            "topics" => parse::<BTreeMap<String, TopicsEntry>>(name, text),
            "root" => parse::<ServerInfo>(name, text),
            "plugins" => parse::<Vec<PluginInfo>>(name, text),
            "config" => parse::<BTreeMap<String, String>>(name, text),
            "error" => {}
            other => panic!("{name}: unknown kind of answer {other}"),
        }
    }
}

/// Recorded errors classify as the reconciler expects: Connect's 404 names the connector
/// as absent, any other 404 is Connect not reached, a 409 "already exists" is not a rebalance, an unknown class is a refusal.
#[test]
fn recorded_errors_classify() {
    for (name, text) in recorded() {
        let file = name.rsplit('/').next().unwrap_or_default();
        let Some(rest) = file.strip_prefix("error-") else {
            continue;
        };
        let code: u16 = rest[..3].parse().expect("error-<code>-...");
        let error = classify(StatusCode::from_u16(code).unwrap(), text.as_bytes());
        let ok = match code {
            404 if file.contains("not-found") => matches!(error, Error::NotFound(_)),
            404 => matches!(error, Error::Unavailable(_)),
            409 if text.contains("already exists") => matches!(error, Error::AlreadyExists(_)),
            409 => matches!(error, Error::Rebalancing(_)),
            500 if text.contains("Failed to find any class") => {
                matches!(error, Error::Rejected(_))
            }
            _ => true,
        };
        assert!(ok, "{name}: classified as {error:?}");
    }
}
