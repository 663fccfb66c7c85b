//! What a failed reconcile of a KafkaConnector leaves behind: a condition and an Event, a
//! backoff that grows with the failures in a row, and which failures are not failures.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;

use super::desired::desired_config;
use super::report::{Ending, Report};
use super::verdict::Finding;
use crate::api::KafkaConnector;
use crate::api::connector::KafkaConnectorStatus;
use crate::controller::context::Context;
use crate::controller::events::{Note, publish};
use crate::error::Error;
use crate::mask::Masks;
use crate::vocabulary::EventAction;

/// The apiserver did not refuse the request, it failed to serve it: no answer (connection
/// refused, reset, timed out) or a 5xx. A 4xx (schema, admission, conflict) is a refusal.
pub(super) fn apiserver_fault(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code >= 500,
        _ => true,
    }
}

/// The apiserver's answer to a JSON patch whose `test` failed.
pub(super) fn stale_cache(s: &kube::core::Status) -> bool {
    s.code == 422
        && s.message == "the server rejected our request due to an error in our request"
        && s.details.as_ref().is_none_or(|d| d.causes.is_empty())
}

/// Every failed reconcile ends in a condition a reader of `kubectl get` sees (Ready=False
/// with the error's stable reason and a masked message) and a Warning Event. Writing the
/// condition may fail too (the apiserver is what failed): that is only logged.
pub(super) async fn report_failure(obj: &KafkaConnector, ctx: &Context, e: &Error) {
    let masks = Masks::of_config(&desired_config(&obj.spec, &obj.connector_name()));
    let message = masks.shown(&e.to_string());
    let note = Note::failure(e, EventAction::Reconcile, message.clone());
    publish(&ctx.recorder, obj, note).await;
    let prev = ctx.memory.last_status(obj);
    let status = KafkaConnectorStatus {
        observed_generation: obj.metadata.generation,
        ..prev.clone()
    };
    let finding = Finding::Failed {
        reason: e.reason(),
        message,
        refused: matches!(e, Error::Rejected(_)),
    };
    let name = obj.connector_name();
    let report = Report {
        obj,
        ctx,
        name: &name,
        prev: &prev,
        masks: &masks,
    };
    let ending = Ending {
        live: None,
        finding: Some(finding),
        fault: None,
    };
    if let Err(write) = report.conclude(status, ending).await {
        let error = masks.shown(&write.to_string());
        tracing::debug!(%error, "could not write the failure to status");
    }
}

pub fn error_policy(obj: Arc<KafkaConnector>, err: &Error, ctx: Arc<Context>) -> Action {
    // Connect's messages may echo config values: mask them like everything we write.
    let masks = Masks::of_config(&desired_config(&obj.spec, &obj.connector_name()));
    let error = masks.shown(&err.to_string());
    tracing::warn!(%error, reason = err.label(), "KafkaConnector reconcile failed");
    // Jitter so that many connectors of one failing cluster do not retry in lockstep.
    let jitter = Duration::from_millis(rand::random_range(0..2000));
    Action::requeue(backoff(err, ctx.memory.failures(&obj)) + jitter)
}

/// The wait before the next try after `failures` failed reconciles in a row ending in `err`,
/// doubled at each: a fault that lasts costs less and less. The apiserver failing is what
/// every reconcile waits for, so once it serves again everything that failed on it converges
/// within seconds (from 2 s up to 8 s); a momentary fault of Connect is looked at again
/// within 30 s (from 5 s); a refusal at most every 5 minutes (from 30 s).
fn backoff(err: &Error, failures: u32) -> Duration {
    let (base, cap) = match err {
        Error::Kube(_) => (2, 8),
        e if e.is_transient() => (5, 30),
        _ => (30, 300),
    };
    let doubled = Duration::from_secs(base).saturating_mul(1 << failures.saturating_sub(1).min(6));
    doubled.min(Duration::from_secs(cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finalizer_patch_the_apiserver_failed_to_serve_is_an_apiserver_fault() {
        let answer = |code| {
            kube::Error::Api(Box::new(status(serde_json::json!({"code": code,
                "message": "m"}))))
        };
        assert!(apiserver_fault(&answer(503)));
        assert!(!apiserver_fault(&answer(422)), "a refusal");
        assert!(!apiserver_fault(&answer(403)), "a refusal");
    }

    #[test]
    fn an_apiserver_failure_is_retried_within_seconds() {
        let unavailable = status(serde_json::json!({"code": 503, "message": "unavailable"}));
        let kube = Error::Kube(kube::Error::Api(Box::new(unavailable)));
        let secs = |e: &Error, n| backoff(e, n).as_secs();
        assert_eq!((secs(&kube, 1), secs(&kube, 2), secs(&kube, 9)), (2, 4, 8));
        let connect = Error::Unavailable("down".into());
        assert_eq!((secs(&connect, 1), secs(&connect, 9)), (5, 30));
        let refused = Error::Rejected("no".into());
        assert_eq!((secs(&refused, 1), secs(&refused, 9)), (30, 300));
    }

    fn status(value: serde_json::Value) -> kube::core::Status {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn only_a_failed_patch_test_is_a_stale_cache() {
        let generic = "the server rejected our request due to an error in our request";
        let stale = status(serde_json::json!({"status": "Failure", "code": 422,
            "reason": "Invalid", "message": generic, "details": {"causes": []}}));
        assert!(stale_cache(&stale));
        let policy = status(serde_json::json!({"status": "Failure", "code": 422,
            "reason": "Invalid",
            "message": "ValidatingAdmissionPolicy 'x' with binding 'x' denied request: no"}));
        assert!(!stale_cache(&policy));
        let schema = status(serde_json::json!({"status": "Failure", "code": 422,
            "reason": "Invalid", "message": generic,
            "details": {"causes": [{"field": "spec.class", "message": "Required value"}]}}));
        assert!(!stale_cache(&schema));
    }
}
