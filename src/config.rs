//! What the operator runs with: the defaults (the CLI shows these same values), the
//! settings a run was given, and the timeouts that must nest inside each other.

use std::path::PathBuf;
use std::time::Duration;

/// Name of the field manager for server-side apply, of the Event reporter, and of the
/// Lease holder's writes.
pub const MANAGER: &str = "kafka-connect-operator";

/// How long a pause, resume or stop Connect accepted is left to a worker before it is sent
/// again. Connect keeps the target state in its config topic: while no worker can act (a
/// rebalance, a departed worker) re-sending changes nothing.
pub const STATE_RESEND: Duration = Duration::from_secs(120);

/// Defaults of `kafka-connect-operator run`, used by the CLI and by `OperatorConfig::default`.
pub mod defaults {
    use std::time::Duration;

    pub const POLL_INTERVAL: Duration = Duration::from_secs(10);
    pub const CLUSTER_REFRESH: Duration = Duration::from_secs(60);
    pub const RESYNC: Duration = Duration::from_secs(300);
    /// Strimzi's auto-restart base: one minute.
    pub const AUTO_RESTART_BASE: Duration = Duration::from_secs(60);
    pub const TOPICS_REFRESH: Duration = Duration::from_secs(300);
    pub const CONCURRENCY: u16 = 32;
    /// At most this many reconciles of one Connect cluster at once: a hanging or failing
    /// cluster cannot take every slot of `CONCURRENCY`.
    pub const CLUSTER_CONCURRENCY: u16 = 8;
    pub const HTTP_ADDR: &str = "0.0.0.0:8080";
    pub const HEALTH_DEADLINE: Duration = Duration::from_secs(180);
    pub const LEASE_NAME: &str = "kafka-connect-operator";
    pub const LEASE_NAMESPACE: &str = "default";
    pub const LEASE_DURATION: Duration = Duration::from_secs(10);
    pub const LOG_LEVEL: &str = "info";
    pub const WEBHOOK_SECRET: &str = "kafka-connect-operator-webhook-tls";
    pub const WEBHOOK_CONFIGURATION: &str = "kafka-connect-operator";
    pub const WEBHOOK_CERT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
    /// The whole of one admission review, Connect's answer included: under the 5 s the
    /// ValidatingWebhookConfiguration gives the apiserver, so the webhook answers (allowed,
    /// with a warning) before the apiserver gives up on it.
    pub const WEBHOOK_BUDGET: Duration = Duration::from_secs(4);
}

/// Timeouts that must nest: one REST request < one retried call < one reconcile < the
/// liveness deadline. `check` states the order; a unit test holds the constants to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Default timeout of one REST request (`requestTimeoutSeconds` when absent).
    pub request_default: Duration,
    /// Largest `requestTimeoutSeconds` the CRD accepts.
    pub request_max: Duration,
    /// No retry of a REST call starts after this long.
    pub retry_budget: Duration,
    /// How long a pause/resume/stop may take to show in the status before the reconcile
    /// stops waiting and requeues (the requeue, not this wait, guarantees convergence).
    pub confirm: Duration,
    /// Upper bound of one reconcile, so a hanging call cannot hold a connector forever.
    pub reconcile: Duration,
    /// Upper bound of reporting a failed reconcile (its condition and Warning Event): the
    /// apiserver may be what failed, and the report must not hold the reconcile's slot.
    pub report: Duration,
}

pub const TIMEOUTS: Timeouts = Timeouts {
    request_default: Duration::from_secs(30),
    request_max: Duration::from_secs(60),
    retry_budget: Duration::from_secs(45),
    confirm: Duration::from_secs(15),
    reconcile: Duration::from_secs(120),
    report: Duration::from_secs(15),
};

impl Timeouts {
    /// The longest one REST call can take, retries included: the last retry may start just
    /// before the budget runs out and then take a whole request timeout.
    pub fn retried_call_max(&self) -> Duration {
        self.retry_budget + self.request_max
    }

    /// `Err` naming the first broken rule: request < retried call < reconcile < `health`.
    pub fn check(&self, health_deadline: Duration) -> Result<(), String> {
        let rules = [
            (
                self.request_default <= self.request_max,
                "default request timeout <= largest request timeout",
            ),
            (
                self.request_max < self.retried_call_max(),
                "one request < one retried call",
            ),
            (
                self.retried_call_max() < self.reconcile,
                "one retried call (retry budget + largest request) < one reconcile",
            ),
            (
                self.confirm < self.reconcile,
                "confirming a state change < one reconcile",
            ),
            (
                self.reconcile + self.report < health_deadline,
                "one reconcile and its failure report < the liveness deadline (--health-deadline)",
            ),
        ];
        match rules.iter().find(|(ok, _)| !ok) {
            Some((_, rule)) => Err(format!("timeouts out of order: {rule}")),
            None => Ok(()),
        }
    }
}

/// Which Lease to hold (leader election) and for how long without renewal.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    pub name: String,
    pub namespace: String,
    pub duration: Duration,
}

#[derive(Clone, Debug)]
pub struct OperatorConfig {
    /// Watch only this namespace; all namespaces when `None`.
    pub namespace: Option<String>,
    /// How often each Connect cluster is polled with one bulk GET.
    pub poll_interval: Duration,
    /// How often a KafkaConnectCluster's server info and plugins are refreshed.
    pub cluster_refresh: Duration,
    /// Resync of every KafkaConnector even without any change (belt and braces).
    pub resync: Duration,
    /// Base interval of the auto-restart backoff.
    pub auto_restart_base: Duration,
    /// How often a connector's topics are re-read when nothing else changed; 0 = never.
    pub topics_refresh: Duration,
    /// Reconciles running at once per kind.
    pub concurrency: u16,
    /// KafkaConnector reconciles of one Connect cluster running at once.
    pub cluster_concurrency: u16,
    pub timeouts: Timeouts,
    /// Fault injection for tests: while this file exists, reconciles hang (see /healthz).
    pub fault_stall_file: Option<PathBuf>,
    /// URL prefixes a KafkaConnectCluster's `spec.url` must start with; any URL when empty.
    pub allowed_urls: Vec<String>,
    /// Label selector of the KafkaConnectCluster objects this process manages (a shard);
    /// every one when `None`. KafkaConnectors follow their cluster object.
    pub cluster_selector: Option<String>,
    /// The operator's own namespace (its Lease's): where it keeps the records that must
    /// outlive the objects they are about (`unmanaged::ORPHANS`).
    pub own_namespace: String,
    /// No create is sent before this: the Lease was taken from a process that did not
    /// release it (killed, OOM, cut off), whose last creates may still be on their way to
    /// Connect (see `leader::SETTLE`).
    pub creates_after: Option<std::time::Instant>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        Self {
            namespace: None,
            poll_interval: defaults::POLL_INTERVAL,
            cluster_refresh: defaults::CLUSTER_REFRESH,
            resync: defaults::RESYNC,
            auto_restart_base: defaults::AUTO_RESTART_BASE,
            topics_refresh: defaults::TOPICS_REFRESH,
            concurrency: defaults::CONCURRENCY,
            cluster_concurrency: defaults::CLUSTER_CONCURRENCY,
            timeouts: TIMEOUTS,
            fault_stall_file: None,
            allowed_urls: Vec::new(),
            cluster_selector: None,
            own_namespace: defaults::LEASE_NAMESPACE.into(),
            creates_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeouts_nest() {
        TIMEOUTS.check(defaults::HEALTH_DEADLINE).unwrap();
    }

    #[test]
    fn a_broken_order_is_named() {
        let t = Timeouts {
            retry_budget: Duration::from_secs(90),
            ..TIMEOUTS
        };
        let err = t.check(defaults::HEALTH_DEADLINE).unwrap_err();
        assert!(err.contains("one retried call"), "{err}");
        let err = TIMEOUTS.check(Duration::from_secs(60)).unwrap_err();
        assert!(err.contains("liveness deadline"), "{err}");
    }

    /// The CRD's `requestTimeoutSeconds` maximum is a literal in a schema attribute: it must
    /// be the same number as `TIMEOUTS.request_max`.
    #[test]
    fn the_crd_caps_request_timeouts_at_request_max() {
        use kube::CustomResourceExt;
        let crd = serde_json::to_value(crate::api::KafkaConnectCluster::crd()).unwrap();
        let max = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["requestTimeoutSeconds"]["maximum"];
        assert_eq!(max.as_f64(), Some(TIMEOUTS.request_max.as_secs_f64()));
    }
}
