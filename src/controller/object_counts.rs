//! `kco_kafkaconnectors` and `kco_kafkaconnectclusters`: the objects in the caches counted
//! by the reason of their `Ready` condition, per namespace, every 15 s. What the shipped
//! alerts read (a connector FAILED, auto-restart exhausted, a Connect unavailable) without a
//! series per object. Only the leader counts: a follower holds no caches.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use super::context::Context;
use crate::api::conditions::READY;
use crate::telemetry::metrics::{METRICS, ReasonLabels};

const EVERY: Duration = Duration::from_secs(15);

/// Ready's reason, or `Unknown` for an object without one yet (never reconciled).
fn ready_reason(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> String {
    conditions
        .iter()
        .find(|c| c.type_ == READY)
        .map_or("Unknown".into(), |c| c.reason.clone())
}

/// Counts by (namespace, reason).
pub fn count<'a>(
    objects: impl Iterator<Item = (String, String)> + 'a,
) -> BTreeMap<ReasonLabels, i64> {
    let mut out = BTreeMap::new();
    for (namespace, reason) in objects {
        *out.entry(ReasonLabels { namespace, reason }).or_insert(0) += 1;
    }
    out
}

/// Sets `family` to `counts`, removing the series no longer counted (a reason nobody has any
/// more must read absent, not its last count).
fn publish(
    family: &Family<ReasonLabels, Gauge>,
    shown: &mut Vec<ReasonLabels>,
    counts: BTreeMap<ReasonLabels, i64>,
) {
    for gone in shown.iter().filter(|l| !counts.contains_key(l)) {
        family.remove(gone);
    }
    *shown = counts.keys().cloned().collect();
    for (labels, n) in counts {
        family.get_or_create(&labels).set(n);
    }
}

pub fn spawn(ctx: &Arc<Context>) {
    let ctx: Weak<Context> = Arc::downgrade(ctx);
    tokio::spawn(async move {
        let (mut connectors, mut clusters) = (vec![], vec![]);
        loop {
            {
                let Some(ctx) = ctx.upgrade() else { return };
                let of_connectors = ctx.connectors.state().into_iter().map(|o| {
                    let ns = o.metadata.namespace.clone().unwrap_or_default();
                    let conditions = o.status.as_ref().map(|s| s.conditions.as_slice());
                    (ns, ready_reason(conditions.unwrap_or_default()))
                });
                publish(
                    &METRICS.kafkaconnectors,
                    &mut connectors,
                    count(of_connectors),
                );
                let of_clusters = ctx.cluster_store.state().into_iter().map(|o| {
                    let ns = o.metadata.namespace.clone().unwrap_or_default();
                    let conditions = o.status.as_ref().map(|s| s.conditions.as_slice());
                    (ns, ready_reason(conditions.unwrap_or_default()))
                });
                publish(
                    &METRICS.kafkaconnectclusters,
                    &mut clusters,
                    count(of_clusters),
                );
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_namespace_and_reason() {
        let objects = [
            ("a", "Running"),
            ("a", "Running"),
            ("a", "TasksFailed"),
            ("b", "Running"),
        ];
        let counts = count(objects.iter().map(|(n, r)| (n.to_string(), r.to_string())));
        let get = |n: &str, r: &str| {
            counts
                .get(&ReasonLabels {
                    namespace: n.into(),
                    reason: r.into(),
                })
                .copied()
        };
        assert_eq!(get("a", "Running"), Some(2));
        assert_eq!(get("a", "TasksFailed"), Some(1));
        assert_eq!(get("b", "Running"), Some(1));
        assert_eq!(counts.len(), 3);
    }
}
