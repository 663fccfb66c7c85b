//! `driftPolicy: Report`: a config changed in Connect while the spec did not is shown, not
//! written back. Whether the desired config moved (a change to write, not drift), what
//! status shows of a drift (`DriftStatus`, values masked), and the Events when one starts
//! and ends. Which keys differ at all is `desired::drift`; the choice is `decide`'s.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::decide::Plan;
use super::live::Live;
use super::status::STATUS_MAX_ITEMS;
use crate::api::KafkaConnector;
use crate::api::connector::{DriftStatus, DriftedKey, KafkaConnectorStatus};
use crate::controller::context::Context;
use crate::controller::events::Note;
use crate::controller::memory::ConnectorMemory;
use crate::mask::{HIDDEN, Masks, is_secret_key};
use crate::vocabulary::{EventAction, EventReason};

/// Whether the desired config changed since Connect was last seen to hold it: a spec
/// generation newer than the one last applied (or, on objects written before that was
/// recorded, than the one last observed), or a `configFrom` value this process saw change.
pub fn desired_moved(
    obj: &KafkaConnector,
    prev: &KafkaConnectorStatus,
    memory: &ConnectorMemory,
    desired: &BTreeMap<String, String>,
) -> bool {
    let generation = obj.metadata.generation;
    let spec_moved = match prev.applied_generation {
        Some(applied) => generation != Some(applied),
        None => generation != prev.observed_generation,
    };
    spec_moved || memory.desired_moved(obj, desired)
}

/// What status shows of the drifted `keys`: both values, hidden where they may be secret (a
/// `configFrom` Secret's key, a key named like a credential, any Secret value found in
/// them); `since` kept from the drift already shown.
pub fn drift_status(
    obj: &KafkaConnector,
    keys: &[String],
    desired: &BTreeMap<String, String>,
    live: &BTreeMap<String, String>,
    masks: &Masks,
    prev: Option<&DriftStatus>,
) -> DriftStatus {
    let from_secret = |key: &str| {
        obj.spec
            .config_from
            .iter()
            .any(|f| f.key == key && f.value_from.secret_key_ref.is_some())
    };
    let shown = |key: &str, value: Option<&String>| {
        value.map(|v| match from_secret(key) || is_secret_key(key) {
            true => HIDDEN.to_string(),
            false => masks.shown(v),
        })
    };
    let keys = keys
        .iter()
        .take(STATUS_MAX_ITEMS)
        .map(|k| DriftedKey {
            key: k.clone(),
            desired: shown(k, desired.get(k)),
            live: shown(k, live.get(k)),
        })
        .collect();
    DriftStatus {
        since: prev.map_or_else(|| Time(jiff::Timestamp::now()), |p| p.since.clone()),
        keys,
    }
}

/// What acting left of drift: `status.drift` (the keys the plan left alone, `None` when
/// none), and whether Connect now holds the desired config (found equal, or written), which
/// `status.appliedGeneration` and the memory record.
pub fn after_acting(
    obj: &KafkaConnector,
    ctx: &Context,
    plan: &Plan,
    refused: bool,
    desired: &BTreeMap<String, String>,
    live: Option<&Live>,
    masks: &Masks,
) -> (Option<DriftStatus>, bool) {
    let prev = ctx.memory.last_status(obj);
    match (plan.drift.is_empty(), live) {
        (false, Some(live)) => {
            let shown = drift_status(
                obj,
                &plan.drift,
                desired,
                &live.config,
                masks,
                prev.drift.as_ref(),
            );
            (Some(shown), false)
        }
        _ => {
            let applied = !refused;
            if applied {
                ctx.memory.mark_applied(obj, desired);
            }
            (None, applied)
        }
    }
}

/// The Event when a drift starts or ends (none while it goes on or while there is none).
pub fn transition(
    connector: &str,
    before: Option<&DriftStatus>,
    after: Option<&DriftStatus>,
) -> Option<Note> {
    match (before, after) {
        (None, Some(d)) => Some(Note::warning(
            EventReason::DriftDetected,
            EventAction::Reconcile,
            format!(
                "the config of connector {connector} in Connect differs from the spec in {}; left as it is (driftPolicy: Report)",
                key_list(d)
            ),
        )),
        (Some(_), None) => Some(Note::normal(
            EventReason::DriftEnded,
            EventAction::Reconcile,
            format!("the config of connector {connector} in Connect agrees with the spec again"),
        )),
        _ => None,
    }
}

/// "keys a, b and 3 more" for a condition message or an Event.
pub fn key_list(d: &DriftStatus) -> String {
    let names: Vec<String> = d.keys.iter().map(|k| k.key.clone()).collect();
    format!("keys {}", crate::api::conditions::some_of(&names, 5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::config;

    fn obj() -> KafkaConnector {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
            "metadata": {"name": "c", "namespace": "ns"},
            "spec": {"clusterRef": {"name": "x"}, "class": "X",
                "configFrom": [{"key": "db.token.value",
                    "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}
        }))
        .unwrap()
    }

    #[test]
    fn drifted_values_are_shown_masked() {
        let desired = config(&[
            ("topic", "t"),
            ("connection.password", "hunter22"),
            ("db.token.value", "from-the-secret"),
            ("query", "select 1 -- hunter22"),
        ]);
        let live = config(&[
            ("topic", "u"),
            ("connection.password", "changed!"),
            ("db.token.value", "typed-by-hand"),
            ("query", "select 2"),
            ("extra", "x"),
        ]);
        let keys: Vec<String> = [
            "connection.password",
            "db.token.value",
            "extra",
            "query",
            "topic",
        ]
        .map(String::from)
        .to_vec();
        let masks = Masks::of_config(&desired);
        let d = drift_status(&obj(), &keys, &desired, &live, &masks, None);
        let text = serde_json::to_string(&d).unwrap();
        for secret in ["hunter22", "changed!", "from-the-secret", "typed-by-hand"] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
        let by_key: BTreeMap<_, _> = d.keys.iter().map(|k| (k.key.as_str(), k)).collect();
        assert_eq!(by_key["topic"].desired.as_deref(), Some("t"));
        assert_eq!(by_key["topic"].live.as_deref(), Some("u"));
        assert_eq!(by_key["extra"].desired, None);
        assert_eq!(
            by_key["query"].desired.as_deref(),
            Some("select 1 -- [hidden]")
        );
        assert_eq!(by_key["db.token.value"].live.as_deref(), Some(HIDDEN));
        // The start of a drift is kept while it goes on.
        let later = drift_status(&obj(), &keys, &desired, &live, &masks, Some(&d));
        assert_eq!(later.since, d.since);
    }

    #[test]
    fn events_mark_the_start_and_the_end_only() {
        let d = DriftStatus {
            since: Time(jiff::Timestamp::now()),
            keys: vec![DriftedKey {
                key: "topic".into(),
                desired: Some("t".into()),
                live: Some("u".into()),
            }],
        };
        let start = transition("c", None, Some(&d)).unwrap();
        assert!(
            start.warning && start.text.contains("keys topic"),
            "{}",
            start.text
        );
        assert!(!transition("c", Some(&d), None).unwrap().warning);
        assert!(transition("c", Some(&d), Some(&d)).is_none());
        assert!(transition("c", None, None).is_none());
    }
}
