//! What the bench measures of a process and of the apiserver: the operator process (RSS,
//! CPU), Prometheus samples, Kubernetes writes.

use super::*;

/// The operator under measurement: the release binary (`KCO_OPERATOR_BIN`), info logs in
/// `target/bench/operator-<namespace>.log`, Connect polled every `poll`, then the flags of
/// `KCO_BENCH_OPERATOR_ARGS` (to compare settings, e.g. `--cluster-concurrency 16`).
pub(crate) struct OperatorProc(pub(crate) Operator);

impl OperatorProc {
    pub(crate) fn start(ns: &str, poll: &str) -> Self {
        let bin = operator_bin();
        let more = std::env::var("KCO_BENCH_OPERATOR_ARGS").unwrap_or_default();
        let mut args = vec!["--poll-interval", poll, "--log-level", "info"];
        args.extend(more.split_whitespace());
        let log = bench_dir().join(format!("operator-{ns}.log"));
        OperatorProc(Operator::spawn(
            Path::new(&bin),
            Some(ns),
            &args,
            &[],
            |_| log,
        ))
    }

    /// One shard of a sharded run: every namespace watched, the cluster objects `selector`
    /// matches managed, its Lease in `ns`, logs in `target/bench/operator-<ns>-<shard>.log`.
    pub(crate) fn start_selecting(ns: &str, shard: &str, selector: &str, poll: &str) -> Self {
        let bin = operator_bin();
        let more = std::env::var("KCO_BENCH_OPERATOR_ARGS").unwrap_or_default();
        let mut args = vec!["--poll-interval", poll, "--log-level", "info"];
        args.extend(["--watch-label-selector", selector, "--lease-namespace", ns]);
        args.extend(more.split_whitespace());
        let log = bench_dir().join(format!("operator-{ns}-{shard}.log"));
        let identity = format!("operator-{ns}-{shard}");
        OperatorProc(Operator::spawn(
            Path::new(&bin),
            None,
            &args,
            &[("POD_NAME", &identity)],
            |_| log,
        ))
    }

    /// Waits until /metrics answers, then 2 s more: the operator is up and has seen the
    /// clusters before the clock starts.
    pub(crate) async fn wait_serving(&self) {
        common::eventually("operator metrics", Duration::from_secs(60), || async {
            reqwest::get(format!("{}/metrics", self.0.http))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    /// REST requests by endpoint (all codes) from `kco_connect_requests_total`.
    pub(crate) async fn rest(&self) -> BTreeMap<String, f64> {
        self.0
            .metric_by("kco_connect_requests_total", "endpoint", "")
            .await
            .unwrap_or_default()
    }

    /// KafkaConnector reconciles by result from `kco_reconciles_total`.
    pub(crate) async fn reconciles(&self) -> BTreeMap<String, f64> {
        self.0
            .metric_by("kco_reconciles_total", "result", "kind=\"KafkaConnector\"")
            .await
            .unwrap_or_default()
    }

    /// (peak RSS MiB, CPU seconds) from /proc.
    pub(crate) fn footprint(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.0.pid())).unwrap_or_default();
        let hwm_kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0.0);
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.0.pid())).unwrap_or_default();
        // Fields after the command name's closing parenthesis: state is field 3; utime 14, stime 15.
        let rest: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().collect())
            .unwrap_or_default();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|i| rest.get(*i)?.parse::<f64>().ok())
            .sum();
        (hwm_kb / 1024.0, ticks / clk_tck())
    }

    pub(crate) async fn stop(self) {
        self.0.stop().await;
    }
}

/// The release operator (`KCO_OPERATOR_BIN`, else target/release).
fn operator_bin() -> String {
    std::env::var("KCO_OPERATOR_BIN").unwrap_or_else(|_| {
        common::repo_root()
            .join("target/release/kafka-connect-operator")
            .display()
            .to_string()
    })
}

pub(crate) fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Writes seen by the apiserver (its `/metrics`, admin KUBECONFIG): patches and applies of
/// KafkaConnectors (main resource: finalizers; status subresource) and Events created.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct ApiWrites {
    pub(crate) patch_main: f64,
    pub(crate) patch_status: f64,
    pub(crate) events: f64,
}

pub(crate) fn api_writes() -> ApiWrites {
    let out = std::process::Command::new(env("KUBECTL"))
        .args(["get", "--raw", "/metrics"])
        .output()
        .expect("kubectl get --raw /metrics");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut w = ApiWrites::default();
    for s in metrics::samples(&text).filter(|s| s.name == "apiserver_request_total") {
        let (v, get) = (s.value, |k: &str| s.label(k));
        match (get("resource"), get("verb"), get("subresource")) {
            // server-side apply is verb APPLY; merge and JSON patches are PATCH
            ("kafkaconnectors", "PATCH" | "APPLY", "status") => w.patch_status += v,
            ("kafkaconnectors", "PATCH" | "APPLY", "") => w.patch_main += v,
            ("events", "POST", _) => w.events += v,
            _ => {}
        }
    }
    w
}

pub(crate) fn total(m: &BTreeMap<String, f64>) -> f64 {
    m.values().sum()
}
