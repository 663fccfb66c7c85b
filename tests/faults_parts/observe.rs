//! What the fault cases watch and count: the KafkaConnectors' conditions while a fault lasts,
//! convergence (the apiserver and Connect agree), the operator's reconcile errors; and the
//! stack put back after a case. The workers' and the operator's logs are read in `logs`, the
//! emulator's counts come from `common::Emulator::requests`.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kco::api::KafkaConnector;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::common::{self, Connect, condition, connector_object, is_ready, stack_ctl, worker_url};

/// Connect worker `n` answers `GET /connectors`.
pub async fn worker_serves(n: u8) -> bool {
    let url = worker_url(n);
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
                let obj = connector_object(&name, spec);
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
    connect_disagrees(
        &list,
        &live.as_object().cloned().unwrap_or_default(),
        prefix,
    )
}

/// Why Connect's expanded listing `live` does not match the KafkaConnectors `list` yet.
fn connect_disagrees(
    list: &[KafkaConnector],
    live: &serde_json::Map<String, Value>,
    prefix: &str,
) -> Option<String> {
    let live_names: BTreeSet<&String> = live.keys().filter(|n| n.starts_with(prefix)).collect();
    let wanted: BTreeSet<String> = list.iter().map(|o| o.connector_name()).collect();
    if live_names.len() != wanted.len() || wanted.iter().any(|w| !live.contains_key(w)) {
        return Some(format!(
            "Connect lists {} of the case's connectors, {} wanted",
            live_names.len(),
            wanted.len()
        ));
    }
    list.iter()
        .find_map(|o| entry_disagrees(o, &live[&o.connector_name()]))
}

/// Why the entry Connect lists for `o` is not it yet: not RUNNING with every task RUNNING, or
/// missing a value of its spec's `config`.
fn entry_disagrees(o: &KafkaConnector, entry: &Value) -> Option<String> {
    let name = o.connector_name();
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
    op.metric_by("kco_reconcile_errors_total", "reason", "")
        .await
        .unwrap_or_default()
}
