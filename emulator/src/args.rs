//! The command line: where to listen, the Connect version emulated, timings, latency and
//! the fault rules to start with.

use clap::Parser;

use crate::faults::{FaultKind, Rule, parse_rules};

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

    pub(crate) fn rules(&self) -> Result<Vec<Rule>, String> {
        let mut rules = match &self.faults {
            None => Vec::new(),
            Some(text) => {
                let text = match text.strip_prefix('@') {
                    Some(path) => std::fs::read_to_string(path)
                        .map_err(|e| format!("--faults {path}: {e}"))?,
                    None => text.clone(),
                };
                parse_rules(text.as_bytes()).map_err(|e| format!("--faults: {e}"))?
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

#[cfg(test)]
mod tests {
    use super::*;

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
