//! `kubectl kafkaconnect`: the kubectl plugin (binary `kubectl-kafkaconnect`, found by kubectl
//! on `PATH`). Import the connectors a Connect cluster already runs as manifests, diff a
//! KafkaConnector against Connect, restart it or change its offsets the GitOps-safe way
//! (a new request id in the spec, served once by the operator), and describe it on one screen.
//!
//! It talks to Kubernetes with the user's kubeconfig and rights, and to Connect (import, diff,
//! offsets) at the KafkaConnectCluster's URL with the credentials that cluster object names,
//! read with the user's rights too. `import.rs` and `show.rs` are pure; `commands.rs` runs them.

mod commands;
pub mod import;
mod show;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "kubectl-kafkaconnect",
    bin_name = "kubectl kafkaconnect",
    version,
    about = "Kafka Connect connectors as KafkaConnector objects: import, diff, restart, offsets, describe"
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// The kubectl flags a plugin is expected to take.
#[derive(Args, Debug, Clone, Default)]
pub struct KubeFlags {
    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The namespace (default: the context's, else `default`).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
}

#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Output {
    #[default]
    Table,
    Yaml,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the live connectors of a Connect cluster as KafkaConnector manifests (secret
    /// values as configFrom references to Secrets printed after them). Applying the output
    /// adopts every connector without a write to Connect.
    Import(ImportArgs),
    /// Compare a KafkaConnector's config (configFrom resolved) with Connect's, values masked.
    /// Exits 1 when they differ, like `kubectl diff`.
    Diff(DiffArgs),
    /// Restart a connector once: writes a new spec.restart id, then waits for the operator.
    Restart(RestartArgs),
    /// A connector's current offsets (read only), or `reset` / `alter` them once.
    Offsets(OffsetsArgs),
    /// State, tasks, topics, last restart, offsets request, drift and conditions on one screen.
    Describe(DescribeArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completion { shell: clap_complete::Shell },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The KafkaConnectCluster whose Connect to read (in --namespace).
    #[arg(long)]
    pub cluster: String,
    /// Only connectors whose name matches this glob (`*`, `?`).
    #[arg(long, default_value = "*")]
    pub selector: String,
    /// Which values go to Secrets: `auto` (secret-like keys, credentials in URLs).
    #[arg(long, value_enum, default_value_t = SecretKeys::Auto)]
    pub secret_keys: SecretKeys,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKeys {
    Auto,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The KafkaConnector (in --namespace).
    pub name: Option<String>,
    /// A manifest file instead (`-` for stdin): diff what applying it would ask for.
    #[arg(short = 'f', long, conflicts_with = "name")]
    pub filename: Option<std::path::PathBuf>,
}

#[derive(Args, Debug)]
pub struct RestartArgs {
    pub name: String,
    /// Restart the tasks too.
    #[arg(long)]
    pub tasks: bool,
    /// Only what is FAILED.
    #[arg(long)]
    pub failed: bool,
    /// Only this task.
    #[arg(long, conflicts_with_all = ["tasks", "failed"])]
    pub task: Option<i32>,
    /// Print the patch (for a Git change) instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// How long to wait for the operator to serve it.
    #[arg(long, default_value = "2m")]
    pub timeout: humantime::Duration,
}

#[derive(Args, Debug)]
pub struct OffsetsArgs {
    pub name: String,
    #[command(subcommand)]
    pub change: Option<OffsetsChange>,
}

#[derive(Subcommand, Debug)]
pub enum OffsetsChange {
    /// Reset every offset once (the operator stops the connector, resets, restores its state).
    Reset(ChangeArgs),
    /// Write these offsets once: a JSON list of {partition, offset}, or Connect's
    /// {"offsets": [...]}, from a file (`-` for stdin).
    Alter {
        #[arg(short = 'f', long)]
        filename: std::path::PathBuf,
        #[command(flatten)]
        args: ChangeArgs,
    },
}

#[derive(Args, Debug)]
pub struct ChangeArgs {
    /// Print the patch (for a Git change) instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, default_value = "5m")]
    pub timeout: humantime::Duration,
}

#[derive(Args, Debug)]
pub struct DescribeArgs {
    pub name: String,
}

/// Runs the plugin; the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    commands::run(cli).await
}
