//! The admission decision, from what `check.rs` found: pure, no client.

use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, Operation};

use crate::api::connector::ValidationError;

/// What asking Connect about a KafkaConnector's config found.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Connect gave its verdict: the per-key errors, masked (none: valid).
    Validated {
        /// `namespace/name` of the KafkaConnectCluster asked.
        cluster: String,
        errors: Vec<ValidationError>,
    },
    /// Connect was not asked, or gave no verdict; the apply goes through. Why, in words.
    Skipped(String),
}

/// At most this many per-key errors in the refusal: kubectl prints all of it on one line.
const SHOWN: usize = 20;

/// Refuses with Connect's per-key errors; otherwise allows, saying what was not checked.
/// `warnings`: non-fatal findings (error handling traps) shown whatever the outcome.
pub fn respond(
    allowed: AdmissionResponse,
    outcome: Outcome,
    mut warnings: Vec<String>,
) -> AdmissionResponse {
    let mut response = match outcome {
        Outcome::Validated { errors, .. } if errors.is_empty() => allowed,
        Outcome::Validated { cluster, errors } => {
            let mut listed: Vec<String> = errors
                .iter()
                .take(SHOWN)
                .map(|e| format!("{}: {}", e.key, e.message))
                .collect();
            if errors.len() > SHOWN {
                listed.push(format!("and {} more", errors.len() - SHOWN));
            }
            allowed.deny(format!(
                "Kafka Connect (KafkaConnectCluster {cluster}) refuses this config: {}",
                listed.join("; ")
            ))
        }
        Outcome::Skipped(why) => {
            warnings.insert(0, format!("Connect's validation was skipped: {why}"));
            allowed
        }
    };
    response.warnings = (!warnings.is_empty()).then_some(warnings);
    response
}

/// Whether a review asks anything of Connect: a create, or an update that changes the spec
/// of an object not being deleted. The operator's own writes (finalizers, annotations) and
/// deletions never wait on Connect.
pub fn spec_changed(request: &AdmissionRequest<DynamicObject>) -> bool {
    let Some(new) = &request.object else {
        return false;
    };
    match request.operation {
        Operation::Create => true,
        Operation::Update => {
            let deleting = new.metadata.deletion_timestamp.is_some();
            let old_spec = request.old_object.as_ref().map(|o| &o.data["spec"]);
            !deleting && old_spec != Some(&new.data["spec"])
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::admission::AdmissionReview;
    use serde_json::json;

    fn request(
        operation: &str,
        old_spec: Option<serde_json::Value>,
    ) -> AdmissionRequest<DynamicObject> {
        let object = |spec: serde_json::Value| {
            json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
                   "metadata": {"name": "c", "namespace": "team"}, "spec": spec})
        };
        let review: AdmissionReview<DynamicObject> = serde_json::from_value(json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u-1",
                "kind": {"group": "kafkaconnect.dev", "version": "v1alpha1", "kind": "KafkaConnector"},
                "resource": {"group": "kafkaconnect.dev", "version": "v1alpha1", "resource": "kafkaconnectors"},
                "name": "c", "namespace": "team", "operation": operation,
                "userInfo": {"username": "alice"},
                "object": object(json!({"class": "A", "config": {"k": "1"}})),
                "oldObject": old_spec.map(object),
                "dryRun": false
            }
        }))
        .unwrap();
        review.try_into().unwrap()
    }

    #[test]
    fn only_creates_and_spec_changes_are_checked() {
        assert!(spec_changed(&request("CREATE", None)));
        let same = json!({"class": "A", "config": {"k": "1"}});
        assert!(!spec_changed(&request("UPDATE", Some(same))));
        let other = json!({"class": "A", "config": {"k": "2"}});
        assert!(spec_changed(&request("UPDATE", Some(other))));
    }

    #[test]
    fn errors_refuse_naming_each_key_and_warnings_stay() {
        let allowed = AdmissionResponse::from(&request("CREATE", None));
        let errors = vec![
            ValidationError {
                key: "file".into(),
                message: "Missing required configuration".into(),
            },
            ValidationError {
                key: "batch.size".into(),
                message: "Invalid value x".into(),
            },
        ];
        let outcome = Outcome::Validated {
            cluster: "ops/main".into(),
            errors,
        };
        let r = respond(allowed, outcome, vec!["errors.tolerance=all ...".into()]);
        assert!(!r.allowed);
        let message = r.result.message;
        assert!(message.contains("ops/main"), "{message}");
        assert!(
            message.contains("file: Missing required configuration; batch.size: Invalid value x"),
            "{message}"
        );
        assert_eq!(r.warnings.unwrap().len(), 1);
    }

    #[test]
    fn a_skipped_check_allows_with_a_warning_that_says_why() {
        let allowed = AdmissionResponse::from(&request("CREATE", None));
        let r = respond(
            allowed,
            Outcome::Skipped("Connect did not answer within 4s".into()),
            vec![],
        );
        assert!(r.allowed);
        let warnings = r.warnings.unwrap();
        assert_eq!(
            warnings,
            ["Connect's validation was skipped: Connect did not answer within 4s"]
        );
        let valid = Outcome::Validated {
            cluster: "ops/main".into(),
            errors: vec![],
        };
        let r = respond(
            AdmissionResponse::from(&request("CREATE", None)),
            valid,
            vec![],
        );
        assert!(r.allowed && r.warnings.is_none());
    }
}
