//! The command line: `run` (the operator) and `crd` (print the CRDs).

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::controller::OperatorConfig;
use crate::telemetry::logging::LogFormat;

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
    #[arg(long, env = "KCO_POLL_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub poll_interval: Duration,
    /// How often a KafkaConnectCluster's version and plugins are refreshed.
    #[arg(long, env = "KCO_CLUSTER_REFRESH", default_value = "60s", value_parser = humantime::parse_duration)]
    pub cluster_refresh: Duration,
    /// Reconcile every KafkaConnector at least this often, changed or not.
    #[arg(long, env = "KCO_RESYNC", default_value = "5m", value_parser = humantime::parse_duration)]
    pub resync: Duration,
    /// Base interval of the auto-restart backoff: restart n waits min(n²+n, 60) of these.
    #[arg(long, env = "KCO_AUTO_RESTART_BASE", default_value = "1m", value_parser = humantime::parse_duration)]
    pub auto_restart_base: Duration,
    /// Re-read a connector's topics at most this often when nothing else changed (0s: never).
    #[arg(long, env = "KCO_TOPICS_REFRESH", default_value = "5m", value_parser = humantime::parse_duration)]
    pub topics_refresh: Duration,
    /// Reconciles running at once, per kind.
    #[arg(long, env = "KCO_CONCURRENCY", default_value_t = 16)]
    pub concurrency: u16,
    /// Address of the /metrics, /healthz and /readyz server.
    #[arg(long, env = "KCO_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: SocketAddr,
    #[arg(long, env = "KCO_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// /healthz fails when a reconcile runs, or waits to run, longer than this.
    #[arg(long, env = "KCO_HEALTH_DEADLINE", default_value = "3m", value_parser = humantime::parse_duration)]
    pub health_deadline: Duration,
    /// Run the controllers only while holding a coordination.k8s.io Lease (for replicas > 1).
    #[arg(long, env = "KCO_LEADER_ELECTION", default_value_t = false)]
    pub leader_election: bool,
    #[arg(long, env = "KCO_LEASE_NAME", default_value = "kafka-connect-operator")]
    pub lease_name: String,
    /// Namespace of the Lease (default: `default`; the chart sets its own namespace).
    #[arg(long, env = "KCO_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// How long a Lease stays valid without renewal: the worst-case takeover time.
    #[arg(long, env = "KCO_LEASE_DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub lease_duration: Duration,
    /// Fault injection for tests: while this file exists, every reconcile hangs.
    #[arg(long, hide = true)]
    pub fault_stall_file: Option<std::path::PathBuf>,
    /// Log level (RUST_LOG, when set, wins).
    #[arg(long, env = "KCO_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl RunArgs {
    pub fn operator_config(&self) -> OperatorConfig {
        OperatorConfig {
            namespace: self.namespace.clone(),
            poll_interval: self.poll_interval,
            cluster_refresh: self.cluster_refresh,
            resync: self.resync,
            auto_restart_base: self.auto_restart_base,
            topics_refresh: self.topics_refresh,
            concurrency: self.concurrency,
            fault_stall_file: self.fault_stall_file.clone(),
            ..OperatorConfig::default()
        }
    }
}
