//! The watches behind the two reflector caches, keeping of each object only what the
//! reconcilers read.

use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Api, Resource};

/// kubectl's copy of the last applied manifest: a second copy of the object.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What a watched kind needs to be: a Kubernetes object with a static type that the
/// watcher can deserialize and the controller can move across tasks.
pub trait Watched:
    Resource<DynamicType = ()>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
    + Send
    + Sync
    + 'static
{
}

impl<K> Watched for K where
    K: Resource<DynamicType = ()>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static
{
}

/// A controller whose cache holds trimmed objects (see `trim`).
pub fn trimmed_controller<K>(api: Api<K>, config: watcher::Config) -> Controller<K>
where
    K: Watched,
{
    let (store, stream) = trimmed_watch(api, config);
    Controller::for_stream(stream, store).trigger_backoff(NoSharedBackoff)
}

/// As `trimmed_controller`, but a change of status alone starts no reconcile: the operator is
/// the only writer of status, and each of its status writes used to come back as a watch
/// event and cost a reconcile (and, while a cluster's slots are taken, a deferral). The
/// bench counted 4.8 reconciles per connector to Ready at 1,000 before. A reconcile that
/// needs to run again asks for it with its requeue; the resync catches the rest.
pub fn spec_controller<K>(api: Api<K>, config: watcher::Config) -> Controller<K>
where
    K: Watched,
{
    let (store, stream) = trimmed_watch(api, config);
    let stream = stream.predicate_filter(all_but_status::<K>, Default::default());
    Controller::for_stream(stream, store).trigger_backoff(NoSharedBackoff)
}

/// What a reconcile acts on: the spec (through the generation) and the metadata a user or
/// the apiserver changes (labels, annotations such as pause or restart requests, finalizers,
/// the deletion timestamp), for this incarnation of the object (uid).
pub fn all_but_status<K: Resource>(obj: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = obj.meta();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    meta.uid.hash(&mut h);
    meta.generation.hash(&mut h);
    meta.labels.hash(&mut h);
    meta.annotations.hash(&mut h);
    meta.finalizers.hash(&mut h);
    meta.deletion_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .hash(&mut h);
    Some(h.finish())
}

fn trimmed_watch<K>(
    api: Api<K>,
    config: watcher::Config,
) -> (
    Store<K>,
    impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
)
where
    K: Watched,
{
    let (store, writer) = reflector::store();
    let stream = paced_watcher(api, config)
        .modify(trim::<K>)
        .reflect(writer)
        .applied_objects();
    (store, stream)
}

/// `watcher` with `WatchBackoff`, but the first 410 Expired after a watch event goes on at
/// once: the watcher has already dropped its resource version and relists on the next read,
/// and that list cannot be too old. Waiting out a backoff there only delayed, after an
/// apiserver restart (whose new watch cache starts past every client's resource version),
/// each watch by one more backoff. A second 410 in a row is backed off as any error is, so a
/// misbehaving apiserver is not asked in a loop.
pub fn paced_watcher<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Watched,
{
    let mut expired_in_a_row = 0u32;
    let stream = watcher(api, config).filter(move |item| {
        let at_once = match item {
            Err(e) if is_expired(e) => {
                expired_in_a_row += 1;
                expired_in_a_row == 1
            }
            Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {
                expired_in_a_row = 0;
                false
            }
            _ => false,
        };
        futures::future::ready(!at_once)
    });
    stream.backoff(WatchBackoff::default())
}

fn is_expired(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchError(status) if status.code == 410)
}

/// How soon a watch that failed (the apiserver restarting, unreachable) tries again: 0.5 s,
/// doubling, at most 4 s, jittered; back to 0.5 s once it works. kube's default (client-go's)
/// grows to 30 s, so after a 20 s apiserver restart the watches came back up to 30 s late,
/// and every reconcile waiting on a fresh cache with them. A list or watch request every
/// few seconds per watch is nothing to an apiserver that is down anyway.
pub struct WatchBackoff {
    next: Duration,
}

impl WatchBackoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MOST: Duration = Duration::from_secs(4);
}

impl Default for WatchBackoff {
    fn default() -> Self {
        Self { next: Self::FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = (now * 2).min(Self::MOST);
        let jitter = Duration::from_millis(rand::random_range(0..=now.as_millis() as u64 / 2));
        Some(now + jitter)
    }
}

impl kube::runtime::utils::Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// The backoff a `Controller` puts around all its watches together: none, since each watch
/// already backs off on its own (`WatchBackoff`). kube's default (client-go's, to 30 s and
/// more with jitter) is shared: every error of any of a controller's five watches grew it, and
/// while it ran no watch of that controller was read. After a 20 s apiserver stop the five
/// watches' connection errors and 410s had grown it to 24 s and then 45 s, and a rollout of 50
/// converged 97 s after the apiserver served again; without it, in about 20 s.
pub struct NoSharedBackoff;

impl Iterator for NoSharedBackoff {
    type Item = Duration;

    /// Never `None`: that would end the controller's watch stream for good.
    fn next(&mut self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

impl kube::runtime::utils::Backoff for NoSharedBackoff {
    fn reset(&mut self) {}
}

/// Drops what no reconcile reads but every cached object carries: the managedFields (each
/// field manager's field set, about as large as the spec again, for the apply tool, the
/// status writer and the finalizer patch) and kubectl's last-applied annotation. Measured
/// on the bench at 1,000 KafkaConnectors (README, Performance). The status writer's upgrade
/// check reads the status subresource's `Update` entries, so those are kept.
pub fn trim<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    if let Some(fields) = meta.managed_fields.as_mut() {
        fields.retain(|m| {
            m.operation.as_deref() == Some("Update") && m.subresource.as_deref() == Some("status")
        });
        if fields.is_empty() {
            meta.managed_fields = None;
        }
    }
    if let Some(annotations) = meta.annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_watch_tries_again_within_seconds() {
        use kube::runtime::utils::Backoff;
        let mut b = WatchBackoff::default();
        let delays: Vec<Duration> = b.by_ref().take(10).collect();
        assert!(delays[0] < Duration::from_secs(1), "{delays:?}");
        assert!(
            delays.iter().all(|d| *d <= WatchBackoff::MOST * 3 / 2),
            "{delays:?}"
        );
        b.reset();
        assert!(b.next().unwrap() < Duration::from_secs(1));
    }
    #[test]
    fn the_controllers_own_backoff_never_waits_or_ends() {
        assert!(NoSharedBackoff.take(100).all(|d| d.is_zero()));
    }

    use crate::api::KafkaConnector;

    #[test]
    fn trimming_keeps_what_reconciles_read() {
        let mut obj: KafkaConnector = serde_json::from_value(serde_json::json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1",
            "kind": "KafkaConnector",
            "metadata": {
                "name": "c",
                "annotations": {
                    LAST_APPLIED: "{\"a\": 1}",
                    "kafkaconnect.dev/pause-reconciliation": "true"
                },
                "managedFields": [
                    {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1",
                     "fieldsV1": {"f:spec": {}}},
                    {"manager": "old", "operation": "Update", "subresource": "status",
                     "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:autoRestart": {}}}}
                ]
            },
            "spec": {"clusterRef": {"name": "k"}, "class": "X", "config": {"topic": "t"}}
        }))
        .unwrap();
        let spec = serde_json::to_value(&obj.spec).unwrap();
        trim(&mut obj);
        let fields = obj.metadata.managed_fields.as_ref().unwrap();
        assert_eq!(fields.len(), 1);
        assert_eq!(fields[0].manager.as_deref(), Some("old"));
        let annotations = obj.metadata.annotations.as_ref().unwrap();
        assert!(!annotations.contains_key(LAST_APPLIED));
        assert!(annotations.contains_key("kafkaconnect.dev/pause-reconciliation"));
        assert_eq!(serde_json::to_value(&obj.spec).unwrap(), spec);
    }

    #[test]
    fn a_status_write_alone_starts_no_reconcile() {
        let mut obj: KafkaConnector = serde_json::from_value(serde_json::json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1",
            "kind": "KafkaConnector",
            "metadata": {"name": "c", "uid": "u1", "generation": 1, "resourceVersion": "1"},
            "spec": {"clusterRef": {"name": "k"}, "class": "X", "config": {"topic": "t"}}
        }))
        .unwrap();
        let before = all_but_status(&obj);
        obj.status = Some(Default::default());
        obj.metadata.resource_version = Some("2".into());
        assert_eq!(
            all_but_status(&obj),
            before,
            "status and resourceVersion alone"
        );
        let changes: [fn(&mut KafkaConnector); 5] = [
            |o| o.metadata.generation = Some(2),
            |o| {
                o.metadata.annotations =
                    Some([("kafkaconnect.dev/restart".to_string(), "1".to_string())].into())
            },
            |o| o.metadata.finalizers = Some(vec!["kafkaconnect.dev/connector".into()]),
            |o| {
                o.metadata.deletion_timestamp =
                    Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                        jiff::Timestamp::UNIX_EPOCH,
                    ))
            },
            |o| o.metadata.uid = Some("u2".into()),
        ];
        for change in changes {
            let mut changed = obj.clone();
            change(&mut changed);
            assert_ne!(all_but_status(&changed), before);
        }
    }
}
