//! The work the bench drives: clusters and KafkaConnectors applied at once, waits, deletes,
//! and the bare client doing the same creates.

use super::*;

pub(crate) fn apply_params() -> PatchParams {
    PatchParams::apply("kco-bench").force()
}

pub(crate) async fn apply_cluster(client: &Client, ns: &str, name: &str, url: &str) {
    let api: Api<kco::api::KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    let obj = cluster_object(name, json!({"url": url}));
    api.patch(name, &apply_params(), &Patch::Apply(&obj))
        .await
        .expect("apply KafkaConnectCluster");
}

/// Applies `names[i]` (Connect name `connect_names[i]`, cluster `clusters[i % len]`) at
/// `concurrency`; returns when each apply returned, by index.
pub(crate) async fn apply_all(
    api: &Api<KafkaConnector>,
    names: &[String],
    connect_names: &[String],
    clusters: &[String],
    concurrency: usize,
) -> Vec<Instant> {
    let mut done: Vec<(usize, Instant)> = futures::stream::iter(0..names.len())
        .map(|i| async move {
            apply_one(api, i, names, connect_names, clusters).await;
            (i, Instant::now())
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    done.sort_by_key(|d| d.0);
    done.into_iter().map(|d| d.1).collect()
}

/// Applies the `i`th KafkaConnector of `apply_all` (the user's apply, also made by the floor).
pub(crate) async fn apply_one(
    api: &Api<KafkaConnector>,
    i: usize,
    names: &[String],
    connect_names: &[String],
    clusters: &[String],
) {
    let mut spec = healthy_mock(&connect_names[i]);
    spec["clusterRef"] = json!({"name": clusters[i % clusters.len()]});
    let obj = connector_object(&names[i], spec);
    api.patch(&names[i], &apply_params(), &Patch::Apply(&obj))
        .await
        .expect("apply KafkaConnector");
}

/// Watches the namespace's KafkaConnectors until every one is Ready (or `timeout`); returns
/// when each was first seen Ready (by name) and whether all were. A watch, not a list every
/// half second: listing thousands of objects loads the apiserver the operator is measured on.
pub(crate) async fn wait_all_ready(
    api: &Api<KafkaConnector>,
    n: usize,
    timeout: Duration,
) -> (HashMap<String, Instant>, bool) {
    use kube::runtime::{WatchStreamExt, watcher};
    let mut seen: HashMap<String, Instant> = HashMap::new();
    let stream = watcher(api.clone(), watcher::Config::default())
        .default_backoff()
        .applied_objects();
    let mut stream = std::pin::pin!(stream);
    let watch = async {
        while let Some(event) = stream.next().await {
            if let Ok(o) = event
                && is_ready(&o)
            {
                seen.entry(o.metadata.name.clone().unwrap_or_default())
                    .or_insert_with(Instant::now);
                if seen.len() >= n {
                    return;
                }
            }
        }
    };
    let all = tokio::time::timeout(timeout, watch).await.is_ok();
    if !all {
        eprintln!("bench: only {}/{n} Ready after {timeout:?}", seen.len());
    }
    (seen, all)
}

/// A bare client: POSTs the creates to Connect at `concurrency`, then polls
/// `GET /connectors?expand=status` on each URL until all are RUNNING with their task RUNNING.
/// Returns (seconds, per-connector seconds until seen RUNNING).
pub(crate) async fn bare_client(
    urls: &[String],
    names: &[String],
    concurrency: usize,
) -> (f64, Vec<f64>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let t0 = Instant::now();
    let posted = bare_creates(&http, urls, names, concurrency).await;
    let running = bare_running(&http, urls, names).await;
    let per: Vec<f64> = running
        .iter()
        .map(|(i, t)| t.duration_since(posted[*i]).as_secs_f64())
        .collect();
    (t0.elapsed().as_secs_f64(), per)
}

/// POSTs `names[i]` to `urls[i % len]` at `concurrency`, each until it is answered 2xx or 409;
/// when each was, by index.
async fn bare_creates(
    http: &reqwest::Client,
    urls: &[String],
    names: &[String],
    concurrency: usize,
) -> Vec<Instant> {
    let mut posted: Vec<(usize, Instant)> = futures::stream::iter(0..names.len())
        .map(|i| {
            let http = http.clone();
            let url = urls[i % urls.len()].clone();
            let body = json!({"name": names[i], "config": {"connector.class": common::MOCK, "tasks.max": "1",
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
    posted.into_iter().map(|p| p.1).collect()
}

/// Polls every URL's `GET /connectors?expand=status` until each of `names` was seen RUNNING
/// with every task RUNNING (or `KCO_BENCH_TIMEOUT_SECONDS`); when each was, by index.
async fn bare_running(
    http: &reqwest::Client,
    urls: &[String],
    names: &[String],
) -> HashMap<usize, Instant> {
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
    running
}

pub(crate) async fn bare_delete(url: &str, names: &[String]) {
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

pub(crate) fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let idx = ((p / 100.0) * (v.len() as f64 - 1.0)).round() as usize;
    v[idx.min(v.len() - 1)]
}

pub(crate) fn poll_seconds(poll: &str) -> f64 {
    humantime::parse_duration(poll)
        .map(|d| d.as_secs_f64())
        .unwrap_or(10.0)
}
