//! `make bench` (issue 10): the operator at scale on the real kube-apiserver, against the Connect
//! emulator and, smaller, the real workers. `#[ignore]`d: `make test` never runs it;
//! `hack/bench.sh` runs it with the release binaries (`KCO_OPERATOR_BIN`, `KCO_EMULATOR_BIN`).
//!
//! Sizes come from the environment: `KCO_BENCH_SIZES` (100,1000,2000), `KCO_BENCH_IDLE_SECONDS` (120),
//! `KCO_BENCH_CLUSTERS_LARGEST` (5 KafkaConnectClusters, one emulator each, for the largest N),
//! `KCO_BENCH_CONCURRENCY` (16), `KCO_BENCH_POLL_INTERVAL` (10s), `KCO_BENCH_REAL_N` (50; a
//! comma-separated list runs each size, 0: skip),
//! `KCO_BENCH_TIMEOUT_SECONDS` (600), `KCO_BENCH_SHARD_CLUSTERS` (10, 0: skip) ×
//! `KCO_BENCH_SHARD_PER_CLUSTER` (1000) for the sharded runs. It writes the markdown table and the last line
//! `BENCH {json}` to `target/bench/report.md` (and stdout).
mod common;
#[path = "bench_parts/floor.rs"]
mod floor;
#[path = "bench_parts/measure.rs"]
mod measure;
#[path = "bench_parts/report.rs"]
mod report;
#[path = "bench_parts/scenarios.rs"]
mod scenarios;
#[path = "bench_parts/sharded.rs"]
mod sharded;
#[path = "bench_parts/workload.rs"]
mod workload;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    Emulator, Operator, cluster_object, connector_object, delete_all, env, healthy_mock,
    install_operator_crds, is_ready, kube, metrics,
};
use futures::StreamExt;
use kco::api::KafkaConnector;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use floor::*;
use measure::*;
use report::*;
use scenarios::*;
use sharded::*;
use workload::*;

pub(crate) fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub(crate) fn sizes() -> Vec<usize> {
    std::env::var("KCO_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

pub(crate) fn bench_dir() -> PathBuf {
    let dir = common::repo_root().join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The operator (release binary), one namespace, its own log file.
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
    // Comma-separated sizes on the real workers (e.g. 50,100); 0 skips.
    let real_sizes = std::env::var("KCO_BENCH_REAL_N").unwrap_or_else(|_| "50".into());
    let mut real = vec![];
    for n in real_sizes
        .split(',')
        .filter_map(|s| s.trim().parse::<usize>().ok())
    {
        if n > 0 {
            real.push(real_workers(&client, n).await);
        }
    }
    let real = Value::Array(real);
    let shards = sharded(&client).await;
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
    let figures = figures(&results, &real, &shards);
    let report = format!(
        "{}{}\nBENCH {}\n",
        table(&results, &real, &machine),
        sharded_lines(&shards),
        json!({"figures": figures, "machine": machine, "scenarios": results, "real_workers": real, "sharded": shards})
    );
    std::fs::write(bench_dir().join("report.md"), &report).unwrap();
    println!("{report}");
}
