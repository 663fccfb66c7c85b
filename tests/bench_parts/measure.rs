//! What the bench measures of a process and of the apiserver: the operator process (RSS,
//! CPU), Prometheus samples, Kubernetes writes.

use super::*;

pub(crate) struct OperatorProc {
    pub(crate) child: tokio::process::Child,
    pub(crate) pid: u32,
    pub(crate) http: String,
}

impl OperatorProc {
    pub(crate) fn start(ns: &str, poll: &str) -> Self {
        let bin = std::env::var("KCO_OPERATOR_BIN").unwrap_or_else(|_| {
            common::repo_root()
                .join("target/release/kafka-connect-operator")
                .display()
                .to_string()
        });
        let port = free_port();
        let log = std::fs::File::create(bench_dir().join(format!("operator-{ns}.log"))).unwrap();
        let child = tokio::process::Command::new(bin)
            .args(["run", "--namespace", ns, "--poll-interval", poll])
            .args(["--http-addr", &format!("127.0.0.1:{port}")])
            .args(["--log-level", "info"])
            // KCO_BENCH_OPERATOR_ARGS: more flags, to compare settings (e.g. --cluster-concurrency 16).
            .args(
                std::env::var("KCO_BENCH_OPERATOR_ARGS")
                    .unwrap_or_default()
                    .split_whitespace(),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start the operator");
        let pid = child.id().unwrap();
        OperatorProc {
            child,
            pid,
            http: format!("http://127.0.0.1:{port}"),
        }
    }

    /// REST requests by endpoint (all codes) from `kco_connect_requests_total`.
    pub(crate) async fn rest(&self) -> BTreeMap<String, f64> {
        self.counter("kco_connect_requests_total", "endpoint", None)
            .await
    }

    /// KafkaConnector reconciles by result from `kco_reconciles_total`.
    pub(crate) async fn reconciles(&self) -> BTreeMap<String, f64> {
        self.counter(
            "kco_reconciles_total",
            "result",
            Some(("kind", "KafkaConnector")),
        )
        .await
    }

    /// The samples of counter `metric` (those with label `only`), summed by label `by`.
    async fn counter(
        &self,
        metric: &str,
        by: &str,
        only: Option<(&str, &str)>,
    ) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let Ok(resp) = reqwest::get(format!("{}/metrics", self.http)).await else {
            return out;
        };
        let text = resp.text().await.unwrap_or_default();
        for (name, labels, value) in text.lines().filter_map(sample) {
            let wanted = only.is_none_or(|(k, v)| labels.get(k).map(String::as_str) == Some(v));
            if name == metric && wanted {
                *out.entry(labels.get(by).cloned().unwrap_or_default())
                    .or_default() += value;
            }
        }
        out
    }

    /// (peak RSS MiB, CPU seconds) from /proc.
    pub(crate) fn footprint(&self) -> (f64, f64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let hwm_kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0.0);
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
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

    pub(crate) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

pub(crate) fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// One Prometheus sample line: (name, labels, value).
pub(crate) fn sample(line: &str) -> Option<(String, HashMap<String, String>, f64)> {
    if line.starts_with('#') {
        return None;
    }
    let (head, value) = line.rsplit_once(' ')?;
    let value = value.parse().ok()?;
    let (name, labels) = match head.split_once('{') {
        Some((n, l)) => (n, l.trim_end_matches('}')),
        None => (head, ""),
    };
    let mut map = HashMap::new();
    for pair in labels.split("\",") {
        if let Some((k, v)) = pair.split_once('=') {
            map.insert(k.trim().to_string(), v.trim_matches('"').to_string());
        }
    }
    Some((name.to_string(), map, value))
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
    for (name, l, v) in text.lines().filter_map(sample) {
        if name != "apiserver_request_total" {
            continue;
        }
        let get = |k: &str| l.get(k).map(String::as_str).unwrap_or("");
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

pub(crate) fn minus(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    a.iter()
        .map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

pub(crate) fn total(m: &BTreeMap<String, f64>) -> f64 {
    m.values().sum()
}
