//! `make bench` (issue 10): the operator at scale on the real kube-apiserver, against the Connect
//! emulator and, smaller, the real workers. `#[ignore]`d: `make test` never runs it;
//! `hack/bench.sh` runs it with the release binaries (`KCO_OPERATOR_BIN`, `KCO_EMULATOR_BIN`).
//!
//! Sizes come from the environment: `KCO_BENCH_SIZES` (100,1000,2000), `KCO_BENCH_IDLE_SECONDS` (120),
//! `KCO_BENCH_CLUSTERS_LARGEST` (5 KafkaConnectClusters, one emulator each, for the largest N),
//! `KCO_BENCH_CONCURRENCY` (16), `KCO_BENCH_POLL_INTERVAL` (10s), `KCO_BENCH_REAL_N` (50, 0: skip),
//! `KCO_BENCH_TIMEOUT_SECONDS` (600). It writes the markdown table and the last line
//! `BENCH {json}` to `target/bench/report.md` (and stdout).
mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emulator, env, free_port, healthy_mock, install_operator_crds, is_ready, kube};
use futures::StreamExt;
use kco::api::KafkaConnector;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

const MOCK: &str = "org.apache.kafka.connect.tools.MockSourceConnector";

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sizes() -> Vec<usize> {
    std::env::var("KCO_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn bench_dir() -> PathBuf {
    let dir = common::repo_root().join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The operator (release binary), one namespace, its own log file.
struct OperatorProc {
    child: tokio::process::Child,
    pid: u32,
    http: String,
}

impl OperatorProc {
    fn start(ns: &str, poll: &str) -> Self {
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
    async fn rest(&self) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        let Ok(resp) = reqwest::get(format!("{}/metrics", self.http)).await else {
            return out;
        };
        let text = resp.text().await.unwrap_or_default();
        for (name, labels, value) in text.lines().filter_map(sample) {
            if name == "kco_connect_requests_total" {
                *out.entry(labels.get("endpoint").cloned().unwrap_or_default())
                    .or_default() += value;
            }
        }
        out
    }

    /// (peak RSS MiB, CPU seconds) from /proc.
    fn footprint(&self) -> (f64, f64) {
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

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// One Prometheus sample line: (name, labels, value).
fn sample(line: &str) -> Option<(String, HashMap<String, String>, f64)> {
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
struct ApiWrites {
    patch_main: f64,
    patch_status: f64,
    events: f64,
}

fn api_writes() -> ApiWrites {
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

fn minus(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    a.iter()
        .map(|(k, v)| (k.clone(), v - b.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

fn total(m: &BTreeMap<String, f64>) -> f64 {
    m.values().sum()
}

fn apply_params() -> PatchParams {
    PatchParams::apply("kco-bench").force()
}

async fn apply_cluster(client: &Client, ns: &str, name: &str, url: &str) {
    let api: Api<kco::api::KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
        "metadata": {"name": name}, "spec": {"url": url}});
    api.patch(name, &apply_params(), &Patch::Apply(&obj))
        .await
        .expect("apply KafkaConnectCluster");
}

/// Applies `names[i]` (Connect name `connect_names[i]`, cluster `clusters[i % len]`) at
/// `concurrency`; returns when each apply returned, by index.
async fn apply_all(
    api: &Api<KafkaConnector>,
    names: &[String],
    connect_names: &[String],
    clusters: &[String],
    concurrency: usize,
) -> Vec<Instant> {
    let mut done: Vec<(usize, Instant)> = futures::stream::iter(0..names.len())
        .map(|i| {
            let api = api.clone();
            let mut spec = healthy_mock(&connect_names[i]);
            spec["clusterRef"] = json!({"name": clusters[i % clusters.len()]});
            let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
                "metadata": {"name": names[i]}, "spec": spec});
            let name = names[i].clone();
            async move {
                api.patch(&name, &apply_params(), &Patch::Apply(&obj))
                    .await
                    .expect("apply KafkaConnector");
                (i, Instant::now())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    done.sort_by_key(|d| d.0);
    done.into_iter().map(|d| d.1).collect()
}

/// Polls the apiserver list until every KafkaConnector is Ready (or `timeout`); returns when
/// each one was first seen Ready (by name) and whether all were.
async fn wait_all_ready(
    api: &Api<KafkaConnector>,
    n: usize,
    timeout: Duration,
    every: Duration,
) -> (HashMap<String, Instant>, bool) {
    let deadline = Instant::now() + timeout;
    let mut seen: HashMap<String, Instant> = HashMap::new();
    loop {
        if let Ok(list) = api.list(&ListParams::default()).await {
            let now = Instant::now();
            for o in list.items.iter().filter(|o| is_ready(o)) {
                seen.entry(o.metadata.name.clone().unwrap_or_default())
                    .or_insert(now);
            }
        }
        if seen.len() >= n {
            return (seen, true);
        }
        if Instant::now() > deadline {
            eprintln!("bench: only {}/{n} Ready after {timeout:?}", seen.len());
            return (seen, false);
        }
        tokio::time::sleep(every).await;
    }
}

/// Deletes every KafkaConnector of the namespace (the operator runs the finalizers) and waits.
async fn delete_all(api: &Api<KafkaConnector>, timeout: Duration) {
    let _ = api
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match api.list(&ListParams::default()).await {
            Ok(l) if l.items.is_empty() => return,
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    eprintln!("bench: KafkaConnectors still present after {timeout:?}");
}

/// A bare client: POSTs the creates to Connect at `concurrency`, then polls
/// `GET /connectors?expand=status` on each URL until all are RUNNING with their task RUNNING.
/// Returns (seconds, per-connector seconds until seen RUNNING).
async fn bare_client(urls: &[String], names: &[String], concurrency: usize) -> (f64, Vec<f64>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let mut posted: Vec<(usize, Instant)> = futures::stream::iter(0..names.len())
        .map(|i| {
            let http = http.clone();
            let url = urls[i % urls.len()].clone();
            let body = json!({"name": names[i], "config": {"connector.class": MOCK, "tasks.max": "1",
                "mock_mode": "task-failure", "delay_ms": common::HEALTHY_MS.to_string()}});
            async move {
                loop {
                    let resp = http
                        .post(format!("{url}/connectors"))
                        .json(&body)
                        .send()
                        .await;
                    match resp {
                        Ok(r) if r.status().is_success() || r.status().as_u16() == 409 => break,
                        _ => tokio::time::sleep(Duration::from_millis(200)).await,
                    }
                }
                (i, Instant::now())
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    posted.sort_by_key(|p| p.0);
    let wanted: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut running: HashMap<usize, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(var("KCO_BENCH_TIMEOUT_SECONDS", 600));
    while running.len() < names.len() && Instant::now() < deadline {
        for url in urls {
            let Ok(r) = http
                .get(format!("{url}/connectors?expand=status"))
                .send()
                .await
            else {
                continue;
            };
            let body: Value = r.json().await.unwrap_or(Value::Null);
            let now = Instant::now();
            for (name, entry) in body.as_object().into_iter().flatten() {
                let Some(&i) = wanted.get(name.as_str()) else {
                    continue;
                };
                let st = &entry["status"];
                let tasks = st["tasks"].as_array().cloned().unwrap_or_default();
                if st["connector"]["state"] == "RUNNING"
                    && !tasks.is_empty()
                    && tasks.iter().all(|t| t["state"] == "RUNNING")
                {
                    running.entry(i).or_insert(now);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let per: Vec<f64> = running
        .iter()
        .map(|(i, t)| t.duration_since(posted[*i].1).as_secs_f64())
        .collect();
    (t0.elapsed().as_secs_f64(), per)
}

async fn bare_delete(url: &str, names: &[String]) {
    let http = reqwest::Client::new();
    futures::stream::iter(names)
        .for_each_concurrent(16, |n| {
            let http = http.clone();
            async move {
                let _ = http.delete(format!("{url}/connectors/{n}")).send().await;
            }
        })
        .await;
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let idx = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[idx.min(v.len() - 1)]
}

fn poll_seconds(poll: &str) -> f64 {
    humantime::parse_duration(poll)
        .map(|d| d.as_secs_f64())
        .unwrap_or(10.0)
}

/// One convergence scenario at N (idle and freshness too when `idle_seconds > 0`).
async fn scenario(client: &Client, n: usize, clusters: usize, idle_seconds: u64) -> Value {
    let poll = std::env::var("KCO_BENCH_POLL_INTERVAL").unwrap_or_else(|_| "10s".into());
    let concurrency: usize = var("KCO_BENCH_CONCURRENCY", 16);
    let timeout = Duration::from_secs(var("KCO_BENCH_TIMEOUT_SECONDS", 600));
    let ns = common::namespace(client, &format!("bench-{n}")).await;
    eprintln!("bench: N={n} clusters={clusters} namespace={ns}");
    let mut emulators = vec![];
    for _ in 0..clusters {
        emulators.push(Emulator::start(&[]).await);
    }
    let op = OperatorProc::start(&ns, &poll);
    let cluster_names: Vec<String> = (0..clusters).map(|i| format!("emu-{i}")).collect();
    for (name, emu) in cluster_names.iter().zip(&emulators) {
        apply_cluster(client, &ns, name, &emu.url).await;
    }
    // The operator is up and has seen the clusters before the clock starts.
    common::eventually("operator metrics", Duration::from_secs(60), || async {
        reqwest::get(format!("{}/metrics", op.http))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let api: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = (0..n).map(|i| format!("c-{i:05}")).collect();
    let connect_names: Vec<String> = names.iter().map(|x| format!("{ns}-{x}")).collect();
    let rest0 = op.rest().await;
    let w0 = api_writes();
    let (_, cpu0) = op.footprint();
    let t0 = Instant::now();
    apply_all(&api, &names, &connect_names, &cluster_names, concurrency).await;
    let applied_s = t0.elapsed().as_secs_f64();
    let every = Duration::from_millis(if n >= 2000 { 1000 } else { 500 });
    let (_, all_ready) = wait_all_ready(&api, n, timeout, every).await;
    let ready_s = t0.elapsed().as_secs_f64();
    let rest = minus(&op.rest().await, &rest0);
    let w1 = api_writes();
    let (rss, cpu1) = op.footprint();
    let writes = json!({
        "status_patches": w1.patch_status - w0.patch_status,
        // our own n server-side applies are PATCHes of the main resource too
        "other_patches": (w1.patch_main - w0.patch_main - n as f64).max(0.0),
        "events": w1.events - w0.events,
    });

    // Bare client: the same creates, fresh emulators, the same concurrency.
    let mut bare_emus = vec![];
    for _ in 0..clusters {
        bare_emus.push(Emulator::start(&[]).await);
    }
    let urls: Vec<String> = bare_emus.iter().map(|e| e.url.clone()).collect();
    let (bare_s, _) = bare_client(&urls, &connect_names, concurrency).await;
    drop(bare_emus);

    let mut result = json!({
        "n": n, "clusters": clusters, "all_ready": all_ready, "applied_seconds": applied_s,
        "ready_seconds": ready_s, "bare_seconds": bare_s, "ratio": ready_s / bare_s,
        "rest_calls": total(&rest), "rest_by_endpoint": rest, "k8s_writes": writes,
        "peak_rss_mib": rss, "cpu_seconds": cpu1 - cpu0,
    });

    if idle_seconds > 0 && all_ready {
        // Settle one poll interval, then measure an idle period.
        tokio::time::sleep(Duration::from_secs_f64(poll_seconds(&poll) + 2.0)).await;
        let r0 = op.rest().await;
        let w0 = api_writes();
        let (_, c0) = op.footprint();
        eprintln!("bench: idle {idle_seconds} s at N={n}");
        tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
        let r = minus(&op.rest().await, &r0);
        let w1 = api_writes();
        let (rss, c1) = op.footprint();
        let minutes = idle_seconds as f64 / 60.0;
        let polls = idle_seconds as f64 / poll_seconds(&poll);
        let writes_to_connect: f64 = r
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "root"
                        | "plugins"
                        | "list"
                        | "list_expanded"
                        | "get"
                        | "config"
                        | "status"
                        | "tasks"
                        | "task_status"
                        | "topics"
                        | "health"
                )
            })
            .map(|(_, v)| v)
            .sum::<f64>()
            + 0.0;
        result["idle"] = json!({
            "seconds": idle_seconds,
            "rest_per_minute": total(&r) / minutes,
            "rest_by_endpoint": r,
            "rest_per_cluster_per_poll": total(&r) / clusters as f64 / polls,
            "connect_writes": writes_to_connect,
            "status_patches_per_minute": (w1.patch_status - w0.patch_status) / minutes,
            "other_patches_per_minute": (w1.patch_main - w0.patch_main) / minutes,
            "events_per_minute": (w1.events - w0.events) / minutes,
            "cpu_seconds": c1 - c0,
            "peak_rss_mib": rss,
        });
    }

    if all_ready {
        // Freshness: a task fails in Connect; seconds until the CR says Ready=False.
        emulators[0]
            .fail_task(&connect_names[0], 0, "bench: injected task failure")
            .await;
        let t = Instant::now();
        let mut fresh = None;
        while t.elapsed() < Duration::from_secs(120) {
            if let Ok(o) = api.get(&names[0]).await
                && common::condition(&o, "Ready").is_some_and(|c| c.status == "False")
            {
                fresh = Some(t.elapsed().as_secs_f64());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        result["freshness_seconds"] = json!(fresh);
    }
    let (rss, cpu) = op.footprint();
    result["peak_rss_mib"] = json!(rss);
    result["cpu_seconds_total"] = json!(cpu);

    eprintln!("bench: N={n} cleanup");
    delete_all(&api, timeout).await;
    op.stop().await;
    drop(emulators);
    result
}

/// The real workers: `n` connectors on `CONNECT_URL`, apply-to-Ready p50/p99, and a bare client.
async fn real_workers(client: &Client, n: usize) -> Value {
    let poll = std::env::var("KCO_BENCH_POLL_INTERVAL").unwrap_or_else(|_| "10s".into());
    let concurrency: usize = var("KCO_BENCH_CONCURRENCY", 16);
    let url = env("CONNECT_URL");
    let ns = common::namespace(client, "bench-real").await;
    eprintln!("bench: real workers N={n} namespace={ns}");
    let op = OperatorProc::start(&ns, &poll);
    apply_cluster(client, &ns, "real", &url).await;
    common::eventually("operator metrics", Duration::from_secs(60), || async {
        reqwest::get(format!("{}/metrics", op.http))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let api: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = (0..n).map(|i| format!("r-{i:03}")).collect();
    let connect_names: Vec<String> = names.iter().map(|x| format!("{ns}-{x}")).collect();
    let rest0 = op.rest().await;
    let t0 = Instant::now();
    let applied = apply_all(&api, &names, &connect_names, &["real".into()], concurrency).await;
    let (seen, all_ready) = wait_all_ready(
        &api,
        n,
        Duration::from_secs(var("KCO_BENCH_TIMEOUT_SECONDS", 600)),
        Duration::from_millis(250),
    )
    .await;
    let ready_s = t0.elapsed().as_secs_f64();
    let rest = minus(&op.rest().await, &rest0);
    let (rss, cpu) = op.footprint();
    let mut per: Vec<f64> = names
        .iter()
        .enumerate()
        .filter_map(|(i, name)| Some(seen.get(name)?.duration_since(applied[i]).as_secs_f64()))
        .collect();
    let p50 = percentile(&mut per, 50.0);
    let p99 = percentile(&mut per, 99.0);
    delete_all(&api, Duration::from_secs(300)).await;
    op.stop().await;

    let bare_names: Vec<String> = (0..n).map(|i| format!("{ns}-bare-{i:03}")).collect();
    let (bare_s, mut bare_per) =
        bare_client(std::slice::from_ref(&url), &bare_names, concurrency).await;
    let bare_p50 = percentile(&mut bare_per, 50.0);
    let bare_p99 = percentile(&mut bare_per, 99.0);
    bare_delete(&url, &bare_names).await;
    json!({
        "n": n, "all_ready": all_ready, "ready_seconds": ready_s, "p50_seconds": p50,
        "p99_seconds": p99, "bare_seconds": bare_s, "bare_p50_seconds": bare_p50,
        "bare_p99_seconds": bare_p99, "ratio": ready_s / bare_s, "rest_calls": total(&rest),
        "rest_by_endpoint": rest, "peak_rss_mib": rss, "cpu_seconds": cpu,
    })
}

fn f(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "–".into(),
    }
}

fn top_endpoints(m: &Value) -> String {
    let mut v: Vec<(String, f64)> = m
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap_or(0.0)))
        .collect();
    v.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
    v.iter()
        .map(|(k, n)| format!("{k} {n:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn table(scenarios: &[Value], real: &Value, machine: &Value) -> String {
    let mut s = String::new();
    s += &format!(
        "Machine: {} cores, {} MiB memory, {}; poll interval {}; concurrency {}\n\n",
        machine["cores"],
        machine["memory_mib"],
        machine["date"].as_str().unwrap_or(""),
        machine["poll_interval"].as_str().unwrap_or(""),
        machine["concurrency"]
    );
    s += "| N | clusters | all Ready (s) | bare client (s) | operator / bare | REST calls (per connector) | REST by endpoint | status writes | finalizer / other patches | Events | freshness (s) | peak RSS (MiB) | CPU (s) |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for r in scenarios {
        let n = r["n"].as_f64().unwrap_or(1.0);
        s += &format!(
            "| {} | {} | {}{} | {} | {} | {} ({:.1}) | {} | {} | {} | {} | {} | {} | {} |\n",
            r["n"],
            r["clusters"],
            f(&r["ready_seconds"]),
            if r["all_ready"] == true {
                ""
            } else {
                " (timed out)"
            },
            f(&r["bare_seconds"]),
            f(&r["ratio"]),
            f(&r["rest_calls"]),
            r["rest_calls"].as_f64().unwrap_or(0.0) / n,
            top_endpoints(&r["rest_by_endpoint"]),
            f(&r["k8s_writes"]["status_patches"]),
            f(&r["k8s_writes"]["other_patches"]),
            f(&r["k8s_writes"]["events"]),
            f(&r["freshness_seconds"]),
            f(&r["peak_rss_mib"]),
            f(&r["cpu_seconds"]),
        );
    }
    for r in scenarios.iter().filter(|r| r.get("idle").is_some()) {
        let i = &r["idle"];
        s += &format!(
            "\nIdle at N={} ({} clusters) over {} s: {} REST calls/min ({}), {} REST calls per cluster per poll, {} writes to Connect, {} status patches/min, {} other patches/min, {} Events/min, {} CPU s, peak RSS {} MiB\n",
            r["n"],
            r["clusters"],
            i["seconds"],
            f(&i["rest_per_minute"]),
            top_endpoints(&i["rest_by_endpoint"]),
            f(&i["rest_per_cluster_per_poll"]),
            f(&i["connect_writes"]),
            f(&i["status_patches_per_minute"]),
            f(&i["other_patches_per_minute"]),
            f(&i["events_per_minute"]),
            f(&i["cpu_seconds"]),
            f(&i["peak_rss_mib"]),
        );
    }
    if real.is_object() {
        s += &format!(
            "\nReal workers (CONNECT_URL), N={}: all Ready {} s, apply-to-Ready p50 {} s / p99 {} s; bare client all RUNNING {} s (p50 {} s / p99 {} s); operator / bare {}; {} REST calls ({}); peak RSS {} MiB\n",
            real["n"],
            f(&real["ready_seconds"]),
            f(&real["p50_seconds"]),
            f(&real["p99_seconds"]),
            f(&real["bare_seconds"]),
            f(&real["bare_p50_seconds"]),
            f(&real["bare_p99_seconds"]),
            f(&real["ratio"]),
            f(&real["rest_calls"]),
            top_endpoints(&real["rest_by_endpoint"]),
            f(&real["peak_rss_mib"]),
        );
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the benchmark: `make bench`"]
async fn bench() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let sizes = sizes();
    let idle: u64 = var("KCO_BENCH_IDLE_SECONDS", 120);
    let largest_clusters: usize = var("KCO_BENCH_CLUSTERS_LARGEST", 5);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let middle = sizes.get(sizes.len() / 2).copied().unwrap_or(0);
    let mut results = vec![];
    for &n in &sizes {
        let clusters = if n == largest && sizes.len() > 1 {
            largest_clusters
        } else {
            1
        };
        let idle_here = if n == middle { idle } else { 0 };
        results.push(scenario(&client, n, clusters, idle_here).await);
    }
    let real_n: usize = var("KCO_BENCH_REAL_N", 50);
    let real = if real_n > 0 {
        real_workers(&client, real_n).await
    } else {
        Value::Null
    };
    let sh = |c: &str| {
        std::process::Command::new("sh")
            .args(["-c", c])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let machine = json!({
        "cores": sh("nproc").parse::<u64>().unwrap_or(0),
        "memory_mib": sh("awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo").parse::<u64>().unwrap_or(0),
        "date": sh("date -u +%Y-%m-%dT%H:%MZ"),
        "poll_interval": std::env::var("KCO_BENCH_POLL_INTERVAL").unwrap_or_else(|_| "10s".into()),
        "concurrency": var("KCO_BENCH_CONCURRENCY", 16usize),
    });
    let report = format!(
        "{}\nBENCH {}\n",
        table(&results, &real, &machine),
        json!({"machine": machine, "scenarios": results, "real_workers": real})
    );
    std::fs::write(bench_dir().join("report.md"), &report).unwrap();
    println!("{report}");
}
