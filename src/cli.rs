//! The command line: `run` (the operator) and `crd` (print the CRDs). Every default comes
//! from `config::defaults`, so `--help` and `OperatorConfig::default()` cannot disagree.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use humantime::Duration as Human;

use crate::config::{LeaseSettings, OperatorConfig, defaults};
use crate::telemetry::logging::LogFormat;
use crate::webhook::{CertSource, WebhookSettings};

#[derive(Parser, Debug)]
#[command(
    name = "kafka-connect-operator",
    version,
    about = "Manages Kafka Connect connectors as Kubernetes custom resources"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the operator.
    Run(Box<RunArgs>),
    /// Print the CustomResourceDefinitions as YAML.
    Crd,
}

#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// Watch only this namespace (default: all namespaces).
    #[arg(long, env = "KCO_NAMESPACE")]
    pub namespace: Option<String>,
    /// How often each Connect cluster is read with one bulk GET.
    #[arg(long, env = "KCO_POLL_INTERVAL", default_value_t = defaults::POLL_INTERVAL.into())]
    pub poll_interval: Human,
    /// How often a KafkaConnectCluster's version and plugins are refreshed.
    #[arg(long, env = "KCO_CLUSTER_REFRESH", default_value_t = defaults::CLUSTER_REFRESH.into())]
    pub cluster_refresh: Human,
    /// Reconcile every KafkaConnector at least this often, changed or not.
    #[arg(long, env = "KCO_RESYNC", default_value_t = defaults::RESYNC.into())]
    pub resync: Human,
    /// Base interval of the auto-restart backoff: restart n waits min(n²+n, 60) of these.
    #[arg(long, env = "KCO_AUTO_RESTART_BASE", default_value_t = defaults::AUTO_RESTART_BASE.into())]
    pub auto_restart_base: Human,
    /// Re-read a connector's topics at most this often when nothing else changed (0s: never).
    #[arg(long, env = "KCO_TOPICS_REFRESH", default_value_t = defaults::TOPICS_REFRESH.into())]
    pub topics_refresh: Human,
    /// Reconciles running at once, per kind.
    #[arg(long, env = "KCO_CONCURRENCY", default_value_t = defaults::CONCURRENCY)]
    pub concurrency: u16,
    /// KafkaConnector reconciles of one Connect cluster at once (the rest wait their turn,
    /// without holding a slot of --concurrency).
    #[arg(long, env = "KCO_CLUSTER_CONCURRENCY", default_value_t = defaults::CLUSTER_CONCURRENCY,
        value_parser = clap::value_parser!(u16).range(1..))]
    pub cluster_concurrency: u16,
    /// Address of the /metrics, /healthz and /readyz server.
    #[arg(long, env = "KCO_HTTP_ADDR", default_value = defaults::HTTP_ADDR)]
    pub http_addr: SocketAddr,
    #[arg(long, env = "KCO_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// /healthz fails when a reconcile runs, or waits to run, longer than this.
    #[arg(long, env = "KCO_HEALTH_DEADLINE", default_value_t = defaults::HEALTH_DEADLINE.into())]
    pub health_deadline: Human,
    /// Run the controllers only while holding a coordination.k8s.io Lease (for replicas > 1).
    #[arg(long, env = "KCO_LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    #[arg(long, env = "KCO_LEASE_NAME", default_value = defaults::LEASE_NAME)]
    pub lease_name: String,
    /// Namespace of the Lease (the chart sets its own namespace). Default: the watched
    /// namespace with --namespace, else `default`. Held with or without --leader-election:
    /// without, a second replica refuses to start.
    #[arg(long, env = "KCO_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// How long a Lease stays valid without renewal: the worst-case takeover time.
    #[arg(long, env = "KCO_LEASE_DURATION", default_value_t = defaults::LEASE_DURATION.into())]
    pub lease_duration: Human,
    /// URL prefixes a KafkaConnectCluster's spec.url must start with (comma-separated, e.g.
    /// `https://connect.kafka.svc:8083/`); any other URL gets Ready=False UrlNotAllowed and no
    /// request. Empty: any URL.
    #[arg(long, env = "KCO_ALLOWED_URLS", value_delimiter = ',')]
    pub allowed_urls: Vec<String>,
    /// Manage only the KafkaConnectCluster objects whose labels match this selector (e.g.
    /// `kafkaconnect.dev/shard=b`, or `!kafkaconnect.dev/shard` for the unlabelled ones),
    /// and the KafkaConnectors that name them: one operator process per shard, as Flux's
    /// `--watch-label-selector`. Each selector holds its own Lease (its name gets a suffix
    /// derived from the selector). Empty: every cluster object.
    #[arg(long, env = "KCO_WATCH_LABEL_SELECTOR")]
    pub watch_label_selector: Option<String>,
    /// Serve the validating admission webhook (Connect's own validate, at apply time) on this
    /// address, on every replica whether leader or not. Unset: no webhook.
    #[arg(long, env = "KCO_WEBHOOK_ADDR")]
    pub webhook_addr: Option<SocketAddr>,
    /// The Secret (in the Lease's namespace) holding the webhook's serving certificate.
    #[arg(long, env = "KCO_WEBHOOK_SECRET", default_value = defaults::WEBHOOK_SECRET)]
    pub webhook_secret: String,
    /// `operator`: the operator issues the certificate, rotates it, and injects its CA into
    /// the ValidatingWebhookConfiguration. `external`: another party (cert-manager) writes the
    /// Secret and the CA bundle; the operator only serves what the Secret holds.
    #[arg(long, env = "KCO_WEBHOOK_CERTS", value_enum, default_value_t = CertSource::Operator)]
    pub webhook_certs: CertSource,
    /// The ValidatingWebhookConfiguration whose CA bundle the operator keeps current.
    #[arg(long, env = "KCO_WEBHOOK_CONFIGURATION", default_value = defaults::WEBHOOK_CONFIGURATION)]
    pub webhook_configuration: String,
    /// Names (DNS names or IP addresses) the serving certificate is issued for, comma-separated:
    /// the webhook Service's DNS names in a cluster.
    #[arg(long, env = "KCO_WEBHOOK_NAMES", value_delimiter = ',')]
    pub webhook_names: Vec<String>,
    /// How long an issued certificate (and its CA) is valid; it is re-issued once less than a
    /// third of this remains.
    #[arg(long, env = "KCO_WEBHOOK_CERT_VALIDITY", default_value_t = defaults::WEBHOOK_CERT_VALIDITY.into())]
    pub webhook_cert_validity: Human,
    /// Fault injection for tests: while this file exists, every reconcile hangs.
    #[arg(long, hide = true)]
    pub fault_stall_file: Option<std::path::PathBuf>,
    /// Log level (RUST_LOG, when set, wins).
    #[arg(long, env = "KCO_LOG_LEVEL", default_value = defaults::LOG_LEVEL)]
    pub log_level: String,
}

impl RunArgs {
    pub fn operator_config(&self) -> OperatorConfig {
        OperatorConfig {
            namespace: self.namespace.clone(),
            poll_interval: *self.poll_interval,
            cluster_refresh: *self.cluster_refresh,
            resync: *self.resync,
            auto_restart_base: *self.auto_restart_base,
            topics_refresh: *self.topics_refresh,
            concurrency: self.concurrency,
            cluster_concurrency: self.cluster_concurrency,
            fault_stall_file: self.fault_stall_file.clone(),
            allowed_urls: self.allowed_urls.clone(),
            cluster_selector: self.watch_label_selector.clone().filter(|s| !s.is_empty()),
            own_namespace: self.lease_settings().namespace,
            creates_after: None,
            ..OperatorConfig::default()
        }
    }

    /// The webhook's settings, when `--webhook-addr` asks for one.
    pub fn webhook_settings(&self) -> Option<WebhookSettings> {
        Some(WebhookSettings {
            addr: self.webhook_addr?,
            secret: self.webhook_secret.clone(),
            namespace: self.lease_settings().namespace,
            certs: self.webhook_certs,
            configuration: self.webhook_configuration.clone(),
            names: self.webhook_names.clone(),
            validity: *self.webhook_cert_validity,
            allowed_urls: self.allowed_urls.clone(),
        })
    }

    pub fn lease_settings(&self) -> LeaseSettings {
        // Shards elect their leaders apart: one Lease per selector.
        let name = match self
            .watch_label_selector
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            Some(selector) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, selector.as_bytes());
                let hex: String = digest.as_ref()[..5]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!("{}-{hex}", self.lease_name)
            }
            None => self.lease_name.clone(),
        };
        LeaseSettings {
            name,
            namespace: (self.lease_namespace.clone())
                .or_else(|| self.namespace.clone())
                .unwrap_or_else(|| defaults::LEASE_NAMESPACE.into()),
            duration: *self.lease_duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No flag given: the run gets exactly `OperatorConfig::default()`.
    #[test]
    fn cli_defaults_are_the_config_defaults() {
        let cli = Cli::parse_from(["kafka-connect-operator", "run"]);
        let Command::Run(args) = cli.command else {
            panic!("run parses")
        };
        let from_cli = format!("{:?}", args.operator_config());
        assert_eq!(from_cli, format!("{:?}", OperatorConfig::default()));
        assert_eq!(*args.health_deadline, defaults::HEALTH_DEADLINE);
        assert_eq!(args.http_addr.to_string(), defaults::HTTP_ADDR);
    }

    /// The Lease `run EXTRA...` holds.
    fn lease(extra: &[&str]) -> LeaseSettings {
        let argv = ["kafka-connect-operator", "run"].iter().chain(extra);
        let Command::Run(args) = Cli::parse_from(argv).command else {
            panic!("run parses")
        };
        args.lease_settings()
    }

    /// Operators watching different namespaces each hold their own Lease; an explicit
    /// namespace (the chart's) wins.
    #[test]
    fn the_lease_is_in_the_watched_namespace_unless_told() {
        let lease_ns = |extra: &[&str]| lease(extra).namespace;
        assert_eq!(lease_ns(&[]), defaults::LEASE_NAMESPACE);
        assert_eq!(lease_ns(&["--namespace", "team-a"]), "team-a");
        let both = ["--namespace", "team-a", "--lease-namespace", "ops"];
        assert_eq!(lease_ns(&both), "ops");
    }

    #[test]
    fn each_shard_holds_its_own_lease() {
        let lease = |extra: &[&str]| lease(extra).name;
        let a = lease(&["--watch-label-selector", "kafkaconnect.dev/shard=a"]);
        let b = lease(&["--watch-label-selector", "kafkaconnect.dev/shard=b"]);
        assert_eq!(lease(&[]), defaults::LEASE_NAME);
        assert_eq!(lease(&["--watch-label-selector", ""]), defaults::LEASE_NAME);
        assert!(a.starts_with(defaults::LEASE_NAME) && a != b, "{a} {b}");
        // The chart's kco.leaseFor (the Lease its Role names) derives the same suffix:
        // `helm template --set watchLabelSelector=kafkaconnect.dev/shard=a` renders it.
        assert!(a.ends_with("-2f0c972700"), "{a}");
        assert!(a.len() <= 63, "a valid name: {a}");
    }
}
