//! `App`: the state every request handler reaches (the store, the fault rules, latency,
//! the plugin catalogue, request counts).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::args::Args;
use crate::faults::Faults;
use crate::plugins::Catalog;
use crate::store::{Shared, Timings, Worker};

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
    /// Writes answered 2xx, by connector, then by the writer's User-Agent, then endpoint:
    /// which client (an operator's shard says so in its User-Agent) changed what.
    pub writers: Mutex<Writers>,
    /// What `GET /health` answers (`/__admin/health`): `None` is healthy.
    pub health: Mutex<Option<WorkerHealth>>,
}

/// A worker that is not healthy, as `GET /health` (Kafka 3.9+, KIP-1017) says it.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct WorkerHealth {
    /// `starting` (answered 503) or `unhealthy` (500); `healthy` clears it.
    pub status: String,
    #[serde(default)]
    pub message: String,
}

/// connector → User-Agent → endpoint → count.
pub type Writers = BTreeMap<String, BTreeMap<String, BTreeMap<&'static str, u64>>>;

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
            writers: Mutex::new(BTreeMap::new()),
            health: Mutex::new(None),
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

    pub(crate) fn count_write(&self, connector: &str, agent: &str, endpoint: &'static str) {
        let mut writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        let by_agent = writers.entry(connector.to_string()).or_default();
        *by_agent
            .entry(agent.to_string())
            .or_default()
            .entry(endpoint)
            .or_default() += 1;
    }

    pub(crate) fn count(&self, endpoint: &'static str, code: u16) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare() {
        assert_eq!(parse_version("4.3.1"), (4, 3));
        assert!(parse_version("3.6.2") < (3, 7));
        assert!(parse_version("trunk") > (4, 1));
    }
}
