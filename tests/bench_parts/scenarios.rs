//! One scenario per size on the emulator, and the smaller run on the real workers.

use super::*;

/// One convergence scenario at N (idle and freshness too when `idle_seconds > 0`).
pub(crate) async fn scenario(
    client: &Client,
    n: usize,
    clusters: usize,
    idle_seconds: u64,
) -> Value {
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
    let reconciles0 = op.reconciles().await;
    let w0 = api_writes();
    let (_, cpu0) = op.footprint();
    let t0 = Instant::now();
    apply_all(&api, &names, &connect_names, &cluster_names, concurrency).await;
    let applied_s = t0.elapsed().as_secs_f64();
    let (_, all_ready) = wait_all_ready(&api, n, timeout).await;
    let ready_s = t0.elapsed().as_secs_f64();
    let rest = minus(&op.rest().await, &rest0);
    let reconciles = minus(&op.reconciles().await, &reconciles0);
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
    // The operator's reconciles in flight: `--concurrency` 32, at most 8 per Connect cluster.
    let floor_s = kubernetes_floor(client, n, (8 * clusters).min(32)).await;

    let mut result = json!({
        "n": n, "clusters": clusters, "all_ready": all_ready, "applied_seconds": applied_s,
        "ready_seconds": ready_s, "bare_seconds": bare_s, "ratio": ready_s / bare_s,
        "k8s_floor_seconds": floor_s, "floor_ratio": ready_s / floor_s,
        "rest_calls": total(&rest), "rest_by_endpoint": rest, "k8s_writes": writes,
        "reconciles": total(&reconciles), "reconciles_by_result": reconciles,
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
pub(crate) async fn real_workers(client: &Client, n: usize) -> Value {
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
