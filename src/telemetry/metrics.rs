//! The operator's Prometheus metrics. One process-wide registry: the REST client, the
//! reconcilers and the HTTP server all record into it without threading a handle through.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::{
    counter::Counter, family::Family, gauge::Gauge, histogram::Histogram,
};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RestLabels {
    pub endpoint: String,
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: String,
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub kind: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClusterLabels {
    pub namespace: String,
    pub cluster: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
pub struct ReasonLabels {
    pub namespace: String,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    pub verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub namespace: String,
    pub kafkaconnector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub namespace: String,
    pub cluster: String,
    pub state: String,
}

pub struct Metrics {
    pub registry: Registry,
    pub rest_requests: Family<RestLabels, Counter>,
    pub rest_latency: Family<KindLabels, Histogram>,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub reconcile_duration: Family<KindLabels, Histogram>,
    pub errors: Family<ErrorLabels, Counter>,
    pub connectors: Family<StateLabels, Gauge>,
    pub auto_restarts: Counter,
    pub left_behind: Family<ErrorLabels, Counter>,
    pub leader: Gauge,
    pub pollers: Gauge,
    pub last_progress: Family<ObjectLabels, Gauge>,
    pub webhook_reviews: Family<VerdictLabels, Counter>,
    pub last_poll: Family<ClusterLabels, Gauge>,
    pub poll_interval: Gauge,
    pub kafkaconnectors: Family<ReasonLabels, Gauge>,
    pub kafkaconnectclusters: Family<ReasonLabels, Gauge>,
}

fn latency_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ])
}

/// The selector of this process's shard (`--watch-label-selector`), set before the first
/// metric is touched: then every series carries it as the label `shard`. Unsharded: no
/// such label, as before sharding existed.
pub static SHARD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = match SHARD.get() {
        Some(shard) => Registry::with_prefix_and_labels(
            "kco",
            [(
                std::borrow::Cow::Borrowed("shard"),
                std::borrow::Cow::Owned(shard.clone()),
            )]
            .into_iter(),
        ),
        None => Registry::with_prefix("kco"),
    };
    let m = Metrics {
        registry: Registry::default(),
        rest_requests: Family::default(),
        rest_latency: Family::new_with_constructor(latency_buckets),
        reconciles: Family::default(),
        reconcile_duration: Family::new_with_constructor(latency_buckets),
        errors: Family::default(),
        connectors: Family::default(),
        auto_restarts: Counter::default(),
        left_behind: Family::default(),
        leader: Gauge::default(),
        pollers: Gauge::default(),
        last_progress: Family::default(),
        webhook_reviews: Family::default(),
        last_poll: Family::default(),
        poll_interval: Gauge::default(),
        kafkaconnectors: Family::default(),
        kafkaconnectclusters: Family::default(),
    };
    registry.register(
        "connect_requests",
        "Connect REST requests by endpoint and HTTP status",
        m.rest_requests.clone(),
    );
    registry.register(
        "connect_request_duration_seconds",
        "Connect REST request latency by endpoint",
        m.rest_latency.clone(),
    );
    registry.register(
        "reconciles",
        "Reconciles by kind and result",
        m.reconciles.clone(),
    );
    registry.register(
        "reconcile_duration_seconds",
        "Reconcile duration by kind",
        m.reconcile_duration.clone(),
    );
    registry.register(
        "reconcile_errors",
        "Reconcile errors by kind and reason",
        m.errors.clone(),
    );
    registry.register(
        "connectors",
        "Connectors by Connect state, per KafkaConnectCluster",
        m.connectors.clone(),
    );
    registry.register(
        "auto_restarts",
        "Automatic restarts of FAILED connectors or tasks",
        m.auto_restarts.clone(),
    );
    registry.register(
        "connectors_left_behind",
        "Connectors left in Connect when their KafkaConnector was released without reaching Connect, by reason",
        m.left_behind.clone(),
    );
    registry.register(
        "leader",
        "1 while this replica holds the leader Lease (or runs without election)",
        m.leader.clone(),
    );
    registry.register(
        "connect_pollers",
        "Poll loops running: one per Connect (same URL and settings), however many cluster objects name it",
        m.pollers.clone(),
    );
    registry.register(
        "connector_last_progress_timestamp_seconds",
        "When a watched connector's offsets last moved (KafkaConnector spec.progress), Unix seconds",
        m.last_progress.clone(),
    );
    registry.register(
        "webhook_reviews",
        "Admission reviews of KafkaConnectors by verdict: allowed, refused (Connect's errors), skipped (Connect not asked or no answer)",
        m.webhook_reviews.clone(),
    );
    registry.register(
        "connect_last_poll_timestamp_seconds",
        "When the bulk poll of a KafkaConnectCluster's Connect last answered, Unix seconds (what status is fresh as of)",
        m.last_poll.clone(),
    );
    registry.register(
        "poll_interval_seconds",
        "The poll interval (--poll-interval): how old status may be while Connect answers",
        m.poll_interval.clone(),
    );
    registry.register(
        "kafkaconnectors",
        "KafkaConnectors by the reason of their Ready condition, per namespace (leader only)",
        m.kafkaconnectors.clone(),
    );
    registry.register(
        "kafkaconnectclusters",
        "KafkaConnectClusters by the reason of their Ready condition, per namespace (leader only)",
        m.kafkaconnectclusters.clone(),
    );
    Metrics { registry, ..m }
});

pub fn rest_request(endpoint: &'static str, code: &str, elapsed: Duration) {
    METRICS
        .rest_requests
        .get_or_create(&RestLabels {
            endpoint: endpoint.into(),
            code: code.into(),
        })
        .inc();
    METRICS
        .rest_latency
        .get_or_create(&KindLabels {
            kind: endpoint.into(),
        })
        .observe(elapsed.as_secs_f64());
}

pub fn reconciled(kind: &str, result: &str, elapsed: Duration) {
    METRICS
        .reconciles
        .get_or_create(&ReconcileLabels {
            kind: kind.into(),
            result: result.into(),
        })
        .inc();
    METRICS
        .reconcile_duration
        .get_or_create(&KindLabels { kind: kind.into() })
        .observe(elapsed.as_secs_f64());
}

/// A reconcile that stepped aside because its Connect cluster's slots were all taken.
pub fn deferred(kind: &str) {
    METRICS
        .reconciles
        .get_or_create(&ReconcileLabels {
            kind: kind.into(),
            result: "deferred".into(),
        })
        .inc();
}

pub fn error(kind: &str, reason: &str) {
    METRICS
        .errors
        .get_or_create(&ErrorLabels {
            kind: kind.into(),
            reason: reason.into(),
        })
        .inc();
}

pub fn webhook_review(verdict: &str) {
    METRICS
        .webhook_reviews
        .get_or_create(&VerdictLabels {
            verdict: verdict.into(),
        })
        .inc();
}

pub fn encode() -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &METRICS.registry)
        .expect("writing to a String");
    out
}
