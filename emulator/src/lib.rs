//! `kco-connect-emulator`: a Kafka Connect REST API emulator, for the operator's tests and
//! benchmarks. It answers like a real distributed Connect 4.3.1 worker (codes, JSON bodies,
//! error messages, the asynchronous lifecycle) for Kafka's test and file connectors, scales
//! to tens of thousands of connectors, and injects faults on demand. It is its own crate:
//! the operator binary never links it.
//!
//! - `plugins`: the connector classes (task counts, failures, validation).
//! - `store`: connectors, their lifecycle deadlines and the scheduler applying them.
//! - `http`: routing and the Connect endpoints; `admin`: `/__admin/...`.
//! - `faults`: fault rules, rebalance windows, connection resets.

// A refused request is answered with its response: handlers return `Result<_, Response>`.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod faults;
pub mod http;
pub mod plugins;
pub mod store;

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use clap::Parser;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use faults::{FaultKind, FaultListener, Faults, Rule};
use plugins::Catalog;
use store::{Shared, Timings, Worker};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "kco-connect-emulator",
    version,
    about = "A Kafka Connect REST API emulator (test and bench support for kafka-connect-operator)"
)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on; 0 picks a free one (the first line of stdout says which).
    #[arg(long, default_value_t = 8083)]
    pub port: u16,
    /// The Connect version `GET /` reports. Before 3.7 `initial_state` is refused, before
    /// 3.5 there is no `PUT .../stop`, before 4.1 status entries carry no `version`.
    #[arg(long, default_value = "4.3.1")]
    pub connect_version: String,
    /// `worker_id` in status entries (default: host:port).
    #[arg(long)]
    pub worker_id: Option<String>,
    #[arg(long, default_value = "kcoEmulatorClusterId00")]
    pub kafka_cluster_id: String,
    /// Latency added to every Connect request.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra latency, 0 to this many ms.
    #[arg(long, default_value_t = 0)]
    pub latency_jitter_ms: u64,
    /// From a create (or connector restart) to its status existing (404 before).
    #[arg(long, default_value_t = 100)]
    pub connector_start_ms: u64,
    /// From the connector running to its tasks generated and RUNNING; also a task restart.
    #[arg(long, default_value_t = 200)]
    pub task_start_ms: u64,
    /// From pause / resume / stop answered to the status showing it.
    #[arg(long, default_value_t = 100)]
    pub state_change_ms: u64,
    /// After every create, config write and delete, a rebalance window this long.
    #[arg(long, default_value_t = 0)]
    pub rebalance_after_write_ms: u64,
    /// Initial fault rules: a JSON list (as `PUT /__admin/faults` takes), or @file.
    #[arg(long)]
    pub faults: Option<String>,
    /// Share of Connect requests answered 500.
    #[arg(long, default_value_t = 0.0)]
    pub fault_500_rate: f64,
    /// Share of Connect requests answered 409 (no known leader).
    #[arg(long, default_value_t = 0.0)]
    pub fault_409_rate: f64,
    /// Share of Connect requests never answered.
    #[arg(long, default_value_t = 0.0)]
    pub fault_hang_rate: f64,
    /// Share of Connect requests whose connection is reset.
    #[arg(long, default_value_t = 0.0)]
    pub fault_reset_rate: f64,
}

impl Args {
    /// The arguments with every default.
    pub fn defaults() -> Self {
        Args::parse_from(["kco-connect-emulator"])
    }

    fn rules(&self) -> Result<Vec<Rule>, String> {
        let mut rules = match &self.faults {
            None => Vec::new(),
            Some(text) => {
                let text = match text.strip_prefix('@') {
                    Some(path) => std::fs::read_to_string(path)
                        .map_err(|e| format!("--faults {path}: {e}"))?,
                    None => text.clone(),
                };
                admin::parse_rules(text.as_bytes()).map_err(|e| format!("--faults: {e}"))?
            }
        };
        for (rate, rule) in [
            (
                self.fault_500_rate,
                Rule::every(FaultKind::Error, self.fault_500_rate),
            ),
            (
                self.fault_409_rate,
                Rule {
                    status: Some(409),
                    ..Rule::every(FaultKind::Error, self.fault_409_rate)
                },
            ),
            (
                self.fault_hang_rate,
                Rule::every(FaultKind::Hang, self.fault_hang_rate),
            ),
            (
                self.fault_reset_rate,
                Rule::every(FaultKind::Reset, self.fault_reset_rate),
            ),
        ] {
            if rate > 0.0 {
                rules.push(rule);
            }
        }
        Ok(rules)
    }
}

/// Latency and rebalance settings (the lifecycle timings live in the store).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Latency {
    pub latency_ms: u64,
    pub latency_jitter_ms: u64,
    pub rebalance_after_write_ms: u64,
}

/// Everything a request handler reaches.
pub struct App {
    pub shared: Shared,
    pub faults: Mutex<Faults>,
    pub latency: RwLock<Latency>,
    pub catalog: Catalog,
    pub server_info: String,
    pub version: (u32, u32),
    /// Requests answered, by endpoint and status code (`error` for resets and hangs: 0).
    pub stats: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

impl App {
    pub fn new(args: &Args, addr: SocketAddr) -> Result<Arc<Self>, String> {
        let version = parse_version(&args.connect_version);
        let worker = Worker {
            worker_id: args.worker_id.clone().unwrap_or_else(|| addr.to_string()),
            version: args.connect_version.clone(),
            status_version: version >= (4, 1),
        };
        let timings = Timings {
            connector_start_ms: args.connector_start_ms,
            task_start_ms: args.task_start_ms,
            state_change_ms: args.state_change_ms,
        };
        // In Connect's field order (serde_json sorts the keys of a `json!` object).
        let server_info = format!(
            "{{\"version\":{},\"commit\":\"0000000000000000\",\"kafka_cluster_id\":{}}}",
            serde_json::Value::from(args.connect_version.as_str()),
            serde_json::Value::from(args.kafka_cluster_id.as_str()),
        );
        Ok(Arc::new(App {
            shared: Shared::new(worker, timings),
            faults: Mutex::new(Faults {
                rules: args.rules()?,
                rebalance_until: None,
            }),
            latency: RwLock::new(Latency {
                latency_ms: args.latency_ms,
                latency_jitter_ms: args.latency_jitter_ms,
                rebalance_after_write_ms: args.rebalance_after_write_ms,
            }),
            catalog: Catalog::new(&args.connect_version),
            server_info,
            version,
            stats: Mutex::new(BTreeMap::new()),
        }))
    }

    pub fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn latency(&self) -> Latency {
        *self.latency.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version >= (major, minor)
    }

    fn count(&self, endpoint: &'static str, code: u16) {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        *stats.entry((endpoint, code)).or_default() += 1;
    }
}

/// "4.3.1" -> (4, 3); what cannot be read is the newest.
fn parse_version(v: &str) -> (u32, u32) {
    let mut parts = v.split(['.', '-']).map(|p| p.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => (u32::MAX, u32::MAX),
    }
}

/// Serves on `listener` until the process ends (the scheduler runs beside it).
pub async fn serve(listener: TcpListener, args: Args) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let app = App::new(&args, addr).map_err(std::io::Error::other)?;
    tokio::spawn(store::run_scheduler(app.shared.clone()));
    let router = axum::Router::new().fallback(http::handle).with_state(app);
    let server = axum::serve(
        FaultListener(listener),
        router.into_make_service_with_connect_info::<faults::Conn>(),
    );
    // No graceful shutdown: a hung request must not keep the process alive.
    tokio::select! {
        result = server.into_future() => result,
        _ = shutdown() => Ok(()),
    }
}

/// Binds, prints `kco-connect-emulator listening on http://ADDR` on stdout, then serves.
pub async fn run(args: Args) -> std::io::Result<()> {
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "kco-connect-emulator listening on http://{addr}")?;
        out.flush()?;
    }
    serve(listener, args).await
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare() {
        assert_eq!(parse_version("4.3.1"), (4, 3));
        assert!(parse_version("3.6.2") < (3, 7));
        assert!(parse_version("trunk") > (4, 1));
    }

    #[test]
    fn fault_flags_become_rules() {
        let args = Args::parse_from([
            "e",
            "--fault-409-rate",
            "0.5",
            "--faults",
            r#"[{"kind":"hang","endpoint":"status"}]"#,
        ]);
        let rules = args.rules().unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].kind, FaultKind::Hang);
        assert_eq!(rules[1].status, Some(409));
    }
}
