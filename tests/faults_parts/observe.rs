//! What the fault cases watch and count: the KafkaConnectors' conditions while a fault lasts,
//! convergence (the apiserver and Connect agree), creates and deletes as Connect saw them,
//! panics in the operator logs; and the stack's fault controls (`hack/stack.sh`).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kco::api::KafkaConnector;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::common::{self, Connect, condition, env, is_ready};

/// `hack/stack.sh ARGS` on the stack of `KCO_STACK_CTL` / `KCO_STACK_DIR` (it waits until
/// what it starts serves).
pub async fn stack_ctl(args: &[&str]) {
    let status = tokio::process::Command::new(env("KCO_STACK_CTL"))
        .args(args)
        .status()
        .await
        .expect("run hack/stack.sh");
    assert!(status.success(), "hack/stack.sh {args:?} failed");
}

/// Connect worker `n` answers `GET /connectors`.
pub async fn worker_serves(n: u8) -> bool {
    let url = env(if n == 1 {
        "CONNECT_URL"
    } else {
        "CONNECT_URL_2"
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    matches!(http.get(format!("{url}/connectors")).send().await, Ok(r) if r.status().is_success())
}

/// The apiserver answers a read.
pub async fn apiserver_serves(client: &kube::Client) -> bool {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    tokio::time::timeout(Duration::from_secs(5), api.get("default"))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// Puts the stack back as a case found it: both workers serving, the apiserver serving.
/// Called after every case, passed or failed, before the next one starts.
pub async fn restore_stack(client: &kube::Client) {
    if !apiserver_serves(client).await {
        eprintln!("restore: starting kube-apiserver");
        stack_ctl(&["apiserver-start"]).await;
    }
    for n in [1u8, 2] {
        if !worker_serves(n).await {
            eprintln!("restore: starting Connect worker {n}");
            stack_ctl(&["worker-stop", &n.to_string()]).await;
            stack_ctl(&["worker-start", &n.to_string()]).await;
        }
    }
}

/// The REST URL of the Connect group's leader, from the newest assignment in the workers'
/// logs (`leaderUrl='http://127.0.0.1:8083/'`); `None` if no worker logged one yet.
pub fn leader_url() -> Option<String> {
    let logs = PathBuf::from(env("KCO_STACK_DIR")).join("logs");
    let mut newest: Option<(String, String)> = None;
    for n in [1, 2] {
        let text =
            std::fs::read_to_string(logs.join(format!("connect-{n}.log"))).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("leaderUrl='")) {
            let ts = line.get(1..24).unwrap_or_default().to_string();
            let url = line
                .split("leaderUrl='")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string();
            if newest.as_ref().is_none_or(|(t, _)| ts > *t) {
                newest = Some((ts, url));
            }
        }
    }
    newest.map(|(_, u)| u)
}

/// A timestamp as Connect's log4j pattern writes it (`2026-11-26 22:30:20,403`, local time),
/// so that log lines compare with it as strings.
pub fn log_time() -> String {
    jiff::Zoned::now()
        .strftime("%Y-%m-%d %H:%M:%S,%3f")
        .to_string()
}

/// What the workers' REST request logs say about a case: creates by answer, deletes of its
/// connectors.
#[derive(Debug, Default, Clone)]
pub struct RestCounts {
    pub creates_201: u64,
    pub creates_409: u64,
    pub creates_other: BTreeMap<String, u64>,
    pub deletes: u64,
}

/// Counts, in every log of workers 1 and 2 (restarts included), the requests logged between
/// `from` and `to` (see [`log_time`]): `POST /connectors` by answer, and `DELETE` of a
/// connector whose name starts with `prefix`. Requests a worker forwarded to the leader
/// (`?forward=`) are left out: the first worker logged them already.
pub fn rest_counts(from: &str, to: &str, prefix: &str) -> RestCounts {
    let logs = PathBuf::from(env("KCO_STACK_DIR")).join("logs");
    let mut c = RestCounts::default();
    for n in [1, 2] {
        for file in [
            format!("connect-{n}.previous.log"),
            format!("connect-{n}.log"),
        ] {
            let text = std::fs::read_to_string(logs.join(file)).unwrap_or_default();
            for line in text.lines() {
                let Some(ts) = line.get(1..24) else { continue };
                if ts < from || ts > to || !line.contains("RestServer") {
                    continue;
                }
                let Some(req) = line.split('"').nth(1) else {
                    continue;
                };
                let code = line
                    .split('"')
                    .nth(2)
                    .and_then(|r| r.split_whitespace().next())
                    .unwrap_or_default();
                if req.contains("forward=") {
                    continue;
                }
                if req == "POST /connectors HTTP/1.1" {
                    match code {
                        "201" => c.creates_201 += 1,
                        "409" => c.creates_409 += 1,
                        other => *c.creates_other.entry(other.to_string()).or_default() += 1,
                    }
                } else if req
                    .strip_prefix("DELETE /connectors/")
                    .is_some_and(|path| path.starts_with(prefix))
                {
                    c.deletes += 1;
                }
            }
        }
    }
    c
}

/// Every request the operator made (not forwarded between workers) logged by workers 1 and 2
/// between `from` and `to`, by answer code: what Connect answered while a fault lasted.
pub fn rest_answers(from: &str, to: &str) -> BTreeMap<String, u64> {
    let logs = PathBuf::from(env("KCO_STACK_DIR")).join("logs");
    let mut out = BTreeMap::new();
    for n in [1, 2] {
        for file in [
            format!("connect-{n}.previous.log"),
            format!("connect-{n}.log"),
        ] {
            let text = std::fs::read_to_string(logs.join(file)).unwrap_or_default();
            for line in text.lines() {
                let Some(ts) = line.get(1..24) else { continue };
                if ts < from || ts > to || !line.contains("RestServer") {
                    continue;
                }
                let mut parts = line.split('"');
                let (Some(req), Some(rest)) = (parts.nth(1), parts.next()) else {
                    continue;
                };
                if req.contains("forward=") || !req.contains(" /connector") {
                    continue;
                }
                let code = rest.split_whitespace().next().unwrap_or_default();
                *out.entry(code.to_string()).or_default() += 1;
            }
        }
    }
    out
}

/// The emulator's request counts for `endpoint` by answer code.
pub async fn emulator_counts(emu: &common::Emulator, endpoint: &str) -> BTreeMap<String, u64> {
    let (_, stats) = emu.admin(reqwest::Method::GET, "stats", None).await;
    stats["requests"][endpoint]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

/// Text without its terminal colour codes (`ESC[...m`).
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The operator's "retrying Connect request" log lines in these logs, by what Connect said
/// (the error's first words): the faults it rode out inside its retry budget.
pub fn retries(logs: &[PathBuf]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in logs {
        for line in std::fs::read_to_string(p).unwrap_or_default().lines() {
            if !line.contains("retrying Connect request") {
                continue;
            }
            let line = plain(line);
            // `reason="Rebalancing"` where the operator logs one, else the error's first words.
            if let Some(reason) = line.split(" reason=\"").nth(1) {
                let reason = reason.split('"').next().unwrap_or("?").to_string();
                *out.entry(reason).or_default() += 1;
                continue;
            }
            let error = line.split(" error=").nth(1).unwrap_or("?");
            let head: String = error
                .split([':', '('])
                .next()
                .unwrap_or("?")
                .trim()
                .chars()
                .take(60)
                .collect();
            *out.entry(head).or_default() += 1;
        }
    }
    out
}

/// Lines containing `panicked` in these operator logs.
pub fn panics(logs: &[PathBuf]) -> u64 {
    logs.iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("panicked"))
                .count() as u64
        })
        .sum()
}

/// Applies `names.len()` healthy mock KafkaConnectors (Connect name `{ns}-{name}`), 16 at a
/// time.
pub async fn apply_all(api: &Api<KafkaConnector>, ns: &str, names: &[String]) {
    futures::stream::iter(names.iter().cloned())
        .for_each_concurrent(16, |name| {
            let api = api.clone();
            let ns = ns.to_string();
            async move {
                let mut spec = common::healthy_mock(&format!("{ns}-{name}"));
                spec["clusterRef"] = json!({"name": "local"});
                let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1",
                    "kind": "KafkaConnector", "metadata": {"name": name}, "spec": spec});
                api.patch(
                    &name,
                    &PatchParams::apply("kco-tests").force(),
                    &Patch::Apply(&obj),
                )
                .await
                .expect("apply KafkaConnector");
            }
        })
        .await;
}

/// Deletes every KafkaConnector of the namespace and waits until they are gone (the operator
/// deletes their connectors from Connect), at most `timeout`.
pub async fn delete_all(api: &Api<KafkaConnector>, timeout: Duration) {
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
    eprintln!("cleanup: KafkaConnectors still present after {timeout:?}");
}

/// How many of the namespace's KafkaConnectors are Ready at their generation.
pub async fn ready_count(api: &Api<KafkaConnector>) -> usize {
    api.list(&ListParams::default())
        .await
        .map_or(0, |l| l.items.iter().filter(|o| is_ready(o)).count())
}

/// How many connectors named `{prefix}...` Connect lists.
pub async fn connect_count(connect: &Connect, prefix: &str) -> usize {
    let (code, list) = connect.get("/connectors").await;
    if code != 200 {
        return 0;
    }
    list.as_array().map_or(0, |l| {
        l.iter()
            .filter(|n| n.as_str().is_some_and(|n| n.starts_with(prefix)))
            .count()
    })
}

/// Why the case has not converged yet (`None`: it has): every KafkaConnector Ready at its
/// generation, and Connect lists exactly their connectors among names starting with `prefix`,
/// each RUNNING with every task RUNNING, each holding every value of its spec's `config`.
pub async fn not_converged(
    api: &Api<KafkaConnector>,
    connect: &Connect,
    prefix: &str,
    expected: usize,
) -> Option<String> {
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l.items,
        Err(e) => return Some(format!("listing KafkaConnectors: {e}")),
    };
    if list.len() != expected {
        return Some(format!(
            "{} KafkaConnectors, expected {expected}",
            list.len()
        ));
    }
    let not_ready = list.iter().filter(|o| !is_ready(o)).count();
    if not_ready > 0 {
        return Some(format!("{not_ready} KafkaConnectors not Ready"));
    }
    let (code, live) = connect.get("/connectors?expand=status&expand=info").await;
    if code != 200 {
        return Some(format!("Connect answered {code}"));
    }
    let live = live.as_object().cloned().unwrap_or_default();
    let live_names: BTreeSet<&String> = live.keys().filter(|n| n.starts_with(prefix)).collect();
    let wanted: BTreeSet<String> = list.iter().map(|o| o.connector_name()).collect();
    if live_names.len() != wanted.len() || wanted.iter().any(|w| !live.contains_key(w)) {
        return Some(format!(
            "Connect lists {} of the case's connectors, {} wanted",
            live_names.len(),
            wanted.len()
        ));
    }
    for o in &list {
        let name = o.connector_name();
        let entry = &live[&name];
        let st = &entry["status"];
        let tasks = st["tasks"].as_array().cloned().unwrap_or_default();
        if st["connector"]["state"] != "RUNNING"
            || tasks.is_empty()
            || tasks.iter().any(|t| t["state"] != "RUNNING")
        {
            return Some(format!("{name} not RUNNING with its tasks in Connect"));
        }
        for (k, v) in &o.spec.config {
            let want = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if entry["info"]["config"][k].as_str() != Some(want.as_str()) {
                return Some(format!(
                    "{name}: Connect has {k}={}",
                    entry["info"]["config"][k]
                ));
            }
        }
    }
    None
}

/// Waits until [`not_converged`] says nothing, at most `timeout`; the time it took, or `None`
/// (with the last reason printed).
pub async fn wait_converged(
    api: &Api<KafkaConnector>,
    connect: &Connect,
    prefix: &str,
    expected: usize,
    timeout: Duration,
) -> Option<Duration> {
    let t0 = Instant::now();
    let mut last = String::new();
    while t0.elapsed() < timeout {
        match not_converged(api, connect, prefix, expected).await {
            None => return Some(t0.elapsed()),
            Some(why) => last = why,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("not converged after {timeout:?}: {last}");
    None
}

/// What the sampler counts for a KafkaConnector without a `Ready` condition (no status yet).
pub const NO_CONDITION: &str = "(no condition yet)";

/// What the sampler saw: reason → the most KafkaConnectors with it in one sample, one
/// message per reason, and the samples the apiserver did not answer.
#[derive(Default, Debug, Clone)]
pub struct Seen {
    pub reasons: BTreeMap<String, usize>,
    pub messages: BTreeMap<String, String>,
    pub samples: usize,
    pub unanswered: usize,
}

/// Samples the namespace's KafkaConnectors' `Ready` reasons every second until stopped.
pub struct Sampler {
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    pub fn start(api: &Api<KafkaConnector>) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (api, out) = (api.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let listed =
                    tokio::time::timeout(Duration::from_secs(5), api.list(&ListParams::default()))
                        .await;
                record_sample(&mut out.lock().unwrap(), listed.ok().and_then(Result::ok));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Sampler { seen, task }
    }

    pub fn stop(self) -> Seen {
        self.task.abort();
        self.seen.lock().unwrap().clone()
    }
}

fn record_sample(s: &mut Seen, listed: Option<kube::core::ObjectList<KafkaConnector>>) {
    s.samples += 1;
    let Some(list) = listed else {
        s.unanswered += 1;
        return;
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for o in &list.items {
        match condition(o, "Ready") {
            Some(c) => {
                *counts.entry(c.reason.clone()).or_default() += 1;
                s.messages
                    .entry(c.reason.clone())
                    .or_insert_with(|| trim(&c.message, 200));
            }
            None => *counts.entry(NO_CONDITION.to_string()).or_default() += 1,
        }
    }
    for (r, n) in counts {
        let m = s.reasons.entry(r).or_default();
        *m = (*m).max(n);
    }
}

pub fn trim(s: &str, n: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() <= n {
        s
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// The operator's `kco_reconcile_errors_total` by reason (empty while /metrics does not answer).
pub async fn operator_errors(op: &common::Operator) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Some((_, text)) = op.get("/metrics").await else {
        return out;
    };
    for line in text
        .lines()
        .filter(|l| l.starts_with("kco_reconcile_errors_total{"))
    {
        let reason = line
            .split("reason=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_default()
            .to_string();
        let v: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        *out.entry(reason).or_default() += v;
    }
    out
}
