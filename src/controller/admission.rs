//! Whether the admission policy shipped beside the CRDs guards who may name a Secret in
//! `configFrom` (it refuses a Secret its author may not read). Where it does not, the operator
//! reads a `configFrom` Secret only when the Secret opts in (`references::READ_BY`), as
//! credential Secrets of a KafkaConnectCluster do. Looked up at start and every minute: a
//! policy installed or removed later takes effect within a minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::{Api, Client};

/// The shipped policy and binding's name (`crds/kafkaconnect.dev-admission.yaml`).
pub const POLICY: &str = "kafkaconnectors.kafkaconnect.dev";

const LOOK_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct AdmissionGuard {
    installed: AtomicBool,
}

impl AdmissionGuard {
    /// Whether the shipped binding was found, binding every namespace and denying.
    pub fn installed(&self) -> bool {
        self.installed.load(Ordering::Relaxed)
    }

    /// Looks now, then every minute, for as long as the process runs.
    pub fn spawn_watch(self: &Arc<Self>, client: Client) {
        let guard = self.clone();
        tokio::spawn(async move {
            loop {
                let found = look(&client).await;
                if found != guard.installed() {
                    tracing::info!(
                        installed = found,
                        policy = POLICY,
                        "admission policy for configFrom Secrets: {}",
                        if found {
                            "installed, Secrets need no opt-in"
                        } else {
                            "not installed, configFrom Secrets must opt in"
                        }
                    );
                }
                guard.installed.store(found, Ordering::Relaxed);
                tokio::time::sleep(LOOK_EVERY).await;
            }
        });
    }
}

/// The binding exists, denies, and is not narrowed to some namespaces (a narrowed binding
/// might not cover the namespace at hand: count it as absent, which only asks for opt-ins).
async fn look(client: &Client) -> bool {
    let gvk = GroupVersionKind::gvk(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
    );
    let ar = ApiResource::from_gvk_with_plural(&gvk, "validatingadmissionpolicybindings");
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    match api.get_opt(POLICY).await {
        Ok(Some(binding)) => {
            let spec = &binding.data["spec"];
            let denies = spec["validationActions"]
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "Deny"));
            denies && spec["policyName"] == POLICY && spec.get("matchResources").is_none()
        }
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up the admission policy binding {POLICY}: configFrom Secrets must opt in");
            false
        }
    }
}
