//! One scenario per size on the emulator, and the smaller run on the real workers.

use super::*;

/// What a scenario at N runs on: a namespace, one emulator per KafkaConnectCluster, the
/// operator, and the names of the KafkaConnectors it applies.
struct Bench {
    n: usize,
    poll: String,
    emulators: Vec<Emulator>,
    op: OperatorProc,
    cluster_names: Vec<String>,
    api: Api<KafkaConnector>,
    names: Vec<String>,
    connect_names: Vec<String>,
}

/// What the convergence of the N KafkaConnectors measured.
struct Converged {
    applied_s: f64,
    ready_s: f64,
    all_ready: bool,
    rest: BTreeMap<String, f64>,
    reconciles: BTreeMap<String, f64>,
    writes: Value,
    rss: f64,
    cpu: f64,
}

/// One convergence scenario at N (idle and freshness too when `idle_seconds > 0`).
pub(crate) async fn scenario(
    client: &Client,
    n: usize,
    clusters: usize,
    idle_seconds: u64,
) -> Value {
    let concurrency: usize = var("KCO_BENCH_CONCURRENCY", 16);
    let timeout = Duration::from_secs(var("KCO_BENCH_TIMEOUT_SECONDS", 600));
    let b = Bench::start(client, n, clusters).await;
    let c = b.converge(concurrency, timeout).await;
    let (bare_s, floor) = baselines(client, &b, concurrency).await;
    let mut result = json!({
        "n": n, "clusters": clusters, "all_ready": c.all_ready, "applied_seconds": c.applied_s,
        "ready_seconds": c.ready_s, "bare_seconds": bare_s, "ratio": c.ready_s / bare_s,
        "k8s_floor_seconds": floor.with_applies, "floor_ratio": c.ready_s / floor.with_applies,
        "k8s_floor_runs_seconds": floor.with_applies_runs,
        "k8s_floor_writes_only_seconds": floor.writes_only,
        "writes_only_floor_ratio": c.ready_s / floor.writes_only,
        "rest_calls": total(&c.rest), "rest_by_endpoint": c.rest, "k8s_writes": c.writes,
        "reconciles": total(&c.reconciles), "reconciles_by_result": c.reconciles,
        "peak_rss_mib": c.rss, "cpu_seconds": c.cpu,
    });
    if idle_seconds > 0 && c.all_ready {
        result["idle"] = b.idle(idle_seconds).await;
    }
    if c.all_ready {
        result["freshness_seconds"] = json!(b.freshness().await);
    }
    let (rss, cpu) = b.op.footprint();
    result["peak_rss_mib"] = json!(rss);
    result["cpu_seconds_total"] = json!(cpu);

    eprintln!("bench: N={n} cleanup");
    delete_all(&b.api, timeout).await;
    b.op.stop().await;
    drop(b.emulators);
    result
}

impl Bench {
    /// A namespace, the emulators and their clusters, and the operator serving.
    async fn start(client: &Client, n: usize, clusters: usize) -> Self {
        let poll = std::env::var("KCO_BENCH_POLL_INTERVAL").unwrap_or_else(|_| "10s".into());
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
        op.wait_serving().await;
        let names: Vec<String> = (0..n).map(|i| format!("c-{i:05}")).collect();
        Bench {
            n,
            poll,
            emulators,
            op,
            cluster_names,
            api: Api::namespaced(client.clone(), &ns),
            connect_names: names.iter().map(|x| format!("{ns}-{x}")).collect(),
            names,
        }
    }

    /// Applies the N KafkaConnectors at `concurrency` and waits until all are Ready.
    async fn converge(&self, concurrency: usize, timeout: Duration) -> Converged {
        let (n, op) = (self.n, &self.op);
        let rest0 = op.rest().await;
        let reconciles0 = op.reconciles().await;
        let w0 = api_writes();
        let (_, cpu0) = op.footprint();
        let t0 = Instant::now();
        let (names, connect_names) = (&self.names, &self.connect_names);
        apply_all(
            &self.api,
            names,
            connect_names,
            &self.cluster_names,
            concurrency,
        )
        .await;
        let applied_s = t0.elapsed().as_secs_f64();
        let (_, all_ready) = wait_all_ready(&self.api, n, timeout).await;
        let ready_s = t0.elapsed().as_secs_f64();
        let rest = metrics::growth(&op.rest().await, &rest0);
        let reconciles = metrics::growth(&op.reconciles().await, &reconciles0);
        let w1 = api_writes();
        let (rss, cpu1) = op.footprint();
        let writes = json!({
            "status_patches": w1.patch_status - w0.patch_status,
            // our own n server-side applies are PATCHes of the main resource too
            "other_patches": (w1.patch_main - w0.patch_main - n as f64).max(0.0),
            "events": w1.events - w0.events,
        });
        Converged {
            applied_s,
            ready_s,
            all_ready,
            rest,
            reconciles,
            writes,
            rss,
            cpu: cpu1 - cpu0,
        }
    }

    /// Settles one poll interval, then measures an idle period of `idle_seconds`.
    async fn idle(&self, idle_seconds: u64) -> Value {
        let (n, op, poll) = (self.n, &self.op, &self.poll);
        tokio::time::sleep(Duration::from_secs_f64(poll_seconds(poll) + 2.0)).await;
        let r0 = op.rest().await;
        let w0 = api_writes();
        let (_, c0) = op.footprint();
        eprintln!("bench: idle {idle_seconds} s at N={n}");
        tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
        let r = metrics::growth(&op.rest().await, &r0);
        let w1 = api_writes();
        let (rss, c1) = op.footprint();
        let minutes = idle_seconds as f64 / 60.0;
        let polls = idle_seconds as f64 / poll_seconds(poll);
        json!({
            "seconds": idle_seconds,
            "rest_per_minute": total(&r) / minutes,
            "rest_by_endpoint": r,
            "rest_per_cluster_per_poll": total(&r) / self.emulators.len() as f64 / polls,
            "connect_writes": connect_writes(&r),
            "status_patches_per_minute": (w1.patch_status - w0.patch_status) / minutes,
            "other_patches_per_minute": (w1.patch_main - w0.patch_main) / minutes,
            "events_per_minute": (w1.events - w0.events) / minutes,
            "cpu_seconds": c1 - c0,
            "peak_rss_mib": rss,
        })
    }

    /// A task fails in Connect: seconds until the KafkaConnector says Ready=False (`None`:
    /// not within 2 minutes).
    async fn freshness(&self) -> Option<f64> {
        self.emulators[0]
            .fail_task(&self.connect_names[0], 0, "bench: injected task failure")
            .await;
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(120) {
            if let Ok(o) = self.api.get(&self.names[0]).await
                && common::condition(&o, "Ready").is_some_and(|c| c.status == "False")
            {
                return Some(t.elapsed().as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    }
}

/// What the same creates cost without the operator: (a bare client on fresh emulators, the
/// same concurrency, in seconds; the Kubernetes floors at the operator's reconciles in flight).
async fn baselines(client: &Client, b: &Bench, concurrency: usize) -> (f64, Floor) {
    let mut bare_emus = vec![];
    for _ in 0..b.emulators.len() {
        bare_emus.push(Emulator::start(&[]).await);
    }
    let urls: Vec<String> = bare_emus.iter().map(|e| e.url.clone()).collect();
    let (bare_s, _) = bare_client(&urls, &b.connect_names, concurrency).await;
    drop(bare_emus);
    // The operator's reconciles in flight: `--concurrency` 32, at most 8 per Connect cluster.
    let writes_at = (8 * b.emulators.len()).min(32);
    let floor = kubernetes_floor(client, b.n, concurrency, writes_at).await;
    (bare_s, floor)
}

/// Requests that write to Connect among REST requests by endpoint.
fn connect_writes(by_endpoint: &BTreeMap<String, f64>) -> f64 {
    by_endpoint
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
        + 0.0
}

/// The real workers: `n` connectors on `CONNECT_URL`, apply-to-Ready p50/p99, and a bare client.
pub(crate) async fn real_workers(client: &Client, n: usize) -> Value {
    let poll = std::env::var("KCO_BENCH_POLL_INTERVAL").unwrap_or_else(|_| "10s".into());
    let concurrency: usize = var("KCO_BENCH_CONCURRENCY", 16);
    let url = env("CONNECT_URL");
    let ns = common::namespace(client, "bench-real").await;
    eprintln!("bench: real workers N={n} namespace={ns}");
    let op = OperatorProc::start(&ns, &poll);
    apply_cluster(client, &ns, "real", &url).await;
    op.wait_serving().await;
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
    )
    .await;
    let ready_s = t0.elapsed().as_secs_f64();
    let rest = metrics::growth(&op.rest().await, &rest0);
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
