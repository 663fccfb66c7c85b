//! The markdown table and the figures printed at the end.

use super::*;

pub(crate) fn f(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None => "–".into(),
    }
}

pub(crate) fn top_endpoints(m: &Value) -> String {
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

pub(crate) fn table(scenarios: &[Value], real: &Value, machine: &Value) -> String {
    let mut s = String::new();
    s += &format!(
        "Machine: {} cores, {} MiB memory, {}; poll interval {}; concurrency {}\n\n",
        machine["cores"],
        machine["memory_mib"],
        machine["date"].as_str().unwrap_or(""),
        machine["poll_interval"].as_str().unwrap_or(""),
        machine["concurrency"]
    );
    s += &scenario_rows(scenarios);
    s += &idle_lines(scenarios);
    for r in real.as_array().into_iter().flatten() {
        s += &real_line(r);
    }
    s
}

/// The table: a row per scenario.
fn scenario_rows(scenarios: &[Value]) -> String {
    let mut s = String::new();
    s += "| N | clusters | all Ready (s) | bare client (s) | operator / bare | Kubernetes floor (s): with the applies / writes only | operator / floor | reconciles (per connector) | REST calls (per connector) | REST by endpoint | status writes | finalizer / other patches | Events | freshness (s) | peak RSS (MiB) | CPU (s) |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for r in scenarios {
        let n = r["n"].as_f64().unwrap_or(1.0);
        s += &format!(
            "| {} | {} | {}{} | {} | {} | {} / {} | {} / {} | {} ({:.1}) | {} ({:.1}) | {} | {} | {} | {} | {} | {} | {} |\n",
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
            f(&r["k8s_floor_seconds"]),
            f(&r["k8s_floor_writes_only_seconds"]),
            f(&r["floor_ratio"]),
            f(&r["writes_only_floor_ratio"]),
            f(&r["reconciles"]),
            r["reconciles"].as_f64().unwrap_or(0.0) / n,
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
    s
}

/// A line per scenario that measured an idle period.
fn idle_lines(scenarios: &[Value]) -> String {
    let mut s = String::new();
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
    s
}

/// The line of the run on the real workers.
fn real_line(real: &Value) -> String {
    format!(
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
    )
}

/// The lines of the sharded runs: one process, then two shards, then the handover.
pub(crate) fn sharded_lines(sharded: &Value) -> String {
    if !sharded.is_object() {
        return String::new();
    }
    let mut s = String::new();
    for run in ["one_process", "two_shards"] {
        let r = &sharded[run];
        let procs = r["processes_footprint"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(shard, p)| {
                format!(
                    "{shard}: peak RSS {} MiB, CPU {} s",
                    f(&p["peak_rss_mib"]),
                    f(&p["cpu_seconds"])
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        s += &format!(
            "\nSharded scenario, {} clusters × {} connectors, {} process(es): all Ready {} s{}; {}; connectors written by more than one process: {}\n",
            sharded["clusters"],
            sharded["per_cluster"],
            r["processes"],
            f(&r["ready_seconds"]),
            if r["all_ready"] == true {
                ""
            } else {
                " (timed out)"
            },
            procs,
            r["connectors_written_by_more_than_one"],
        );
    }
    let h = &sharded["two_shards"]["handover"];
    if h.is_object() {
        s += &format!(
            "\nHandover of one cluster between shards: taken over {} s after the relabel; {} restarts requested afterwards, {} served; {} creates for its {} connectors; writers: {}\n",
            f(&h["relabel_to_taken_seconds"]),
            h["restarts_requested"],
            h["restarts_served"],
            h["creates"],
            h["connectors"],
            h["writers"],
        );
    }
    s
}

/// The figures compared from run to run, under names that do not change (issue 20).
pub(crate) fn figures(scenarios: &[Value], real: &Value, sharded: &Value) -> Value {
    let at = |n: f64| scenarios.iter().find(|r| r["n"].as_f64() == Some(n));
    let s1000 = at(1000.0);
    let writes = s1000.map(|r| {
        let w = &r["k8s_writes"];
        let sum = ["status_patches", "other_patches", "events"]
            .iter()
            .filter_map(|k| w[k].as_f64())
            .sum::<f64>();
        // + the finalizer patch counted in other_patches; per connector
        sum / 1000.0
    });
    let idle = scenarios
        .iter()
        .find_map(|r| r.get("idle"))
        .and_then(|i| i["connect_writes"].as_f64());
    let real_ratio = |n: f64| {
        real.as_array()
            .into_iter()
            .flatten()
            .find(|r| r["n"].as_f64() == Some(n))
            .and_then(|r| r["ratio"].as_f64())
    };
    json!({
        "ratio_to_floor_1000": s1000.and_then(|r| r["floor_ratio"].as_f64()),
        "ratio_to_writes_only_floor_1000": s1000.and_then(|r| r["writes_only_floor_ratio"].as_f64()),
        "writes_per_connector_1000": writes,
        "rss_mib_1000": s1000.and_then(|r| r["peak_rss_mib"].as_f64()),
        "idle_writes": idle,
        "shards_overlap": sharded["two_shards"]["connectors_written_by_more_than_one"].as_u64(),
        "sharded_10000_ready_s": sharded["two_shards"]["ready_seconds"].as_f64(),
        "unsharded_10000_ready_s": sharded["one_process"]["ready_seconds"].as_f64(),
        "real_ratio_50": real_ratio(50.0),
        "real_ratio_100": real_ratio(100.0),
    })
}
