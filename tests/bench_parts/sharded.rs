//! Static sharding at scale (issue 20): C clusters × P connectors on the emulator, managed by
//! one process, then by two shards (`--watch-label-selector`); then one cluster handed over
//! from one shard to the other. The emulators count every write by connector and User-Agent
//! (a shard's User-Agent names its selector), so a connector written by both shards shows.

use super::*;

/// `KCO_BENCH_SHARD_CLUSTERS` (10) × `KCO_BENCH_SHARD_PER_CLUSTER` (1000); `0` clusters skips.
pub(crate) async fn sharded(client: &Client) -> Value {
    let clusters: usize = var("KCO_BENCH_SHARD_CLUSTERS", 10);
    let per: usize = var("KCO_BENCH_SHARD_PER_CLUSTER", 1000);
    if clusters == 0 || per == 0 {
        return Value::Null;
    }
    let one = run(client, clusters, per, 1).await;
    let two = run(client, clusters, per, 2).await;
    json!({"clusters": clusters, "per_cluster": per, "one_process": one, "two_shards": two})
}

/// The operator processes of one run, by shard name.
struct Shards(Vec<(String, OperatorProc)>);

impl Shards {
    fn start(ns: &str, shards: usize, poll: &str) -> Self {
        Shards(
            (0..shards)
                .map(|s| {
                    let shard = format!("s{s}");
                    let selector = match shards {
                        1 => format!("kco-bench={ns}"),
                        _ => format!("kco-bench={ns},kafkaconnect.dev/shard={shard}"),
                    };
                    let proc = OperatorProc::start_selecting(ns, &shard, &selector, poll);
                    (shard, proc)
                })
                .collect(),
        )
    }

    fn footprints(&self) -> Value {
        self.0
            .iter()
            .map(|(shard, p)| {
                let (rss, cpu) = p.footprint();
                (
                    shard.clone(),
                    json!({"peak_rss_mib": rss, "cpu_seconds": cpu}),
                )
            })
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

async fn label_cluster(client: &Client, ns: &str, name: &str, url: &str, shard: &str) {
    let api: Api<kco::api::KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    let mut obj = cluster_object(name, json!({"url": url}));
    obj["metadata"]["labels"] = json!({"kco-bench": ns, "kafkaconnect.dev/shard": shard});
    api.patch(name, &apply_params(), &Patch::Apply(&obj))
        .await
        .expect("apply KafkaConnectCluster");
}

/// Every emulator's writers: connector → operator User-Agents that wrote it.
async fn writers(emulators: &[Emulator]) -> BTreeMap<String, BTreeMap<String, Value>> {
    let mut out = BTreeMap::new();
    for e in emulators {
        let (_, w) = e.admin(reqwest::Method::GET, "writers", None).await;
        for (connector, agents) in w.as_object().into_iter().flatten() {
            let agents: BTreeMap<String, Value> = agents
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(ua, _)| ua.starts_with("kafka-connect-operator/"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.insert(connector.clone(), agents);
        }
    }
    out
}

async fn run(client: &Client, clusters: usize, per: usize, shards: usize) -> Value {
    let poll = std::env::var("KCO_BENCH_POLL_INTERVAL").unwrap_or_else(|_| "10s".into());
    let concurrency: usize = var("KCO_BENCH_CONCURRENCY", 16);
    let timeout = Duration::from_secs(var("KCO_BENCH_TIMEOUT_SECONDS", 600));
    let n = clusters * per;
    let ns = common::namespace(client, &format!("bench-shards-{shards}")).await;
    eprintln!(
        "bench: sharded N={n} over {clusters} clusters, {shards} process(es), namespace={ns}"
    );
    let mut emulators = vec![];
    for _ in 0..clusters {
        emulators.push(Emulator::start(&[]).await);
    }
    let procs = Shards::start(&ns, shards, &poll);
    let cluster_names: Vec<String> = (0..clusters).map(|i| format!("emu-{i}")).collect();
    for (i, (name, emu)) in cluster_names.iter().zip(&emulators).enumerate() {
        label_cluster(client, &ns, name, &emu.url, &format!("s{}", i % shards)).await;
    }
    for (_, p) in &procs.0 {
        p.wait_serving().await;
    }
    let api: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = (0..n).map(|i| format!("c-{i:05}")).collect();
    let connect_names: Vec<String> = names.iter().map(|x| format!("{ns}-{x}")).collect();
    let t0 = Instant::now();
    apply_all(&api, &names, &connect_names, &cluster_names, concurrency).await;
    let (_, all_ready) = wait_all_ready(&api, n, timeout).await;
    let ready_s = t0.elapsed().as_secs_f64();
    let footprints = procs.footprints();
    let written = writers(&emulators).await;
    let overlap = written.values().filter(|agents| agents.len() > 1).count();
    eprintln!(
        "bench: sharded N={n}, {shards} process(es): all Ready {ready_s:.1} s, {overlap} connectors written by more than one process"
    );
    let mut result = json!({
        "n": n, "processes": shards, "all_ready": all_ready, "ready_seconds": ready_s,
        "processes_footprint": footprints, "connectors_written_by_more_than_one": overlap,
    });
    if shards == 2 && all_ready {
        result["handover"] = handover(client, &ns, &api, &emulators, &names, clusters).await;
    }
    eprintln!("bench: sharded N={n} cleanup");
    delete_all(&api, timeout).await;
    for (_, p) in procs.0 {
        p.stop().await;
    }
    drop(emulators);
    result
}

/// `emu-0` relabelled from shard s0 to s1; then a restart requested on K of its connectors:
/// seconds until the new shard names the cluster, restarts served (each exactly once), and
/// creates beyond the first (none).
async fn handover(
    client: &Client,
    ns: &str,
    api: &Api<KafkaConnector>,
    emulators: &[Emulator],
    names: &[String],
    clusters: usize,
) -> Value {
    let clusters_api: Api<kco::api::KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    let t0 = Instant::now();
    label_cluster(client, ns, "emu-0", &emulators[0].url, "s1").await;
    let shard_b = format!("kco-bench={ns},kafkaconnect.dev/shard=s1");
    common::eventually("shard s1 names emu-0", Duration::from_secs(120), || async {
        let status = clusters_api.get("emu-0").await.ok()?.status?;
        (status.shard.as_deref() == Some(shard_b.as_str())).then_some(())
    })
    .await;
    let taken_s = t0.elapsed().as_secs_f64();
    // The connectors of emu-0 are every `clusters`-th (apply_all spreads them round-robin).
    let moved: Vec<&String> = names.iter().step_by(clusters).take(20).collect();
    let patch = json!({"spec": {"restart": {"id": "handover"}}});
    for name in &moved {
        api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
    }
    common::eventually(
        "the restarts are served",
        Duration::from_secs(120),
        || async {
            let mut served = 0;
            for name in &moved {
                let o = api.get(name).await.ok()?;
                served += usize::from(common::last_restart_id(&o) == Some("handover"));
            }
            (served == moved.len()).then_some(())
        },
    )
    .await;
    let written = writers(&emulators[..1]).await;
    let count = |endpoint: &str| -> u64 {
        written
            .values()
            .flat_map(|agents| agents.values())
            .filter_map(|by_endpoint| by_endpoint[endpoint].as_u64())
            .sum()
    };
    let writers_after: std::collections::BTreeSet<&String> =
        written.values().flat_map(|agents| agents.keys()).collect();
    json!({
        "relabel_to_taken_seconds": taken_s, "restarts_requested": moved.len(),
        "restarts_served": count("restart"), "creates": count("create"),
        "connectors": written.len(), "writers": writers_after,
    })
}
