//! `kubectl kafkaconnect`, run by the real kubectl (the plugin found on PATH) against the real
//! stack: import two connectors that already run (a secret value kept out of the manifests),
//! apply the output and count 0 writes to Connect, diff (exit 0, then 1 on a change), restart
//! and wait for it to be served, offsets read and reset, describe, `--help` and completion.

mod common;

use std::path::Path;

use common::{HEALTHY_MS, MOCK, Scenario, env, is_ready};
use serde_json::{Value, json};

/// `kubectl ARGS` with the plugin's folder first on PATH: (exit code, stdout, stderr).
fn kubectl(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let plugin = Path::new(env!("CARGO_BIN_EXE_kubectl-kafkaconnect"));
    let path = format!(
        "{}:{}",
        plugin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let input = stdin.map(str::as_bytes);
    let out = common::run_status(&env("KUBECTL"), args, input, &[("PATH", &path)]);
    (out.code, out.stdout, out.stderr)
}

/// `kubectl kafkaconnect ARGS -n NS`, which must succeed; its stdout.
fn plugin(ns: &str, args: &[&str]) -> String {
    let mut all = vec!["kafkaconnect"];
    all.extend(args);
    all.extend(["-n", ns]);
    let (code, out, err) = kubectl(&all, None);
    assert_eq!(code, 0, "kubectl {all:?}: {out}{err}");
    out
}

/// Connect's write endpoints, as the operator's metrics label them.
const WRITES: [&str; 8] = [
    "create",
    "put_config",
    "pause",
    "resume",
    "stop",
    "restart",
    "delete",
    "reset_offsets",
];

/// Requests that changed something in Connect: the write endpoints answered 2xx. A create
/// refused with 409 (the operator's poll had not seen a connector created seconds before)
/// changes nothing: it is how an adoption ends when the view lags.
async fn writes_to_connect(s: &Scenario) -> f64 {
    let mut n = 0.0;
    for w in WRITES {
        let by_code = s
            .operator
            .metric_by(
                "kco_connect_requests_total",
                "code",
                &format!("endpoint=\"{w}\""),
            )
            .await
            .unwrap_or_default();
        n += by_code
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .map(|(_, v)| v)
            .sum::<f64>();
    }
    n
}

#[tokio::test]
async fn the_plugin_imports_diffs_restarts_and_describes() {
    let s = Scenario::new("e2e-plugin", &[]).await;
    let ns = s.ns.clone();
    let (code, list, _) = kubectl(&["plugin", "list"], None);
    assert!(list.contains("kubectl-kafkaconnect"), "{code}: {list}");

    // Two connectors someone created through REST, one with a password in its config.
    let names = [s.unique("imp-a"), s.unique("imp-b")];
    for name in &names {
        let config = json!({"connector.class": MOCK, "tasks.max": "1", "mock_mode": "task-failure",
            "delay_ms": HEALTHY_MS.to_string(), "db.password": "s3cret-pw"});
        let (code, body) = s
            .connect
            .call(
                reqwest::Method::POST,
                "/connectors",
                Some(json!({"name": name, "config": config})),
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }
    let selector = format!("{}-imp-*", ns);
    let yaml = plugin(
        &ns,
        &["import", "--cluster", "local", "--selector", &selector],
    );
    println!("{yaml}");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let kctrs: Vec<&Value> = docs
        .iter()
        .filter(|d| d["kind"] == "KafkaConnector")
        .collect();
    let secrets: Vec<&Value> = docs.iter().filter(|d| d["kind"] == "Secret").collect();
    assert_eq!((kctrs.len(), secrets.len()), (2, 2), "{yaml}");
    for k in &kctrs {
        assert!(
            !k.to_string().contains("s3cret-pw"),
            "a secret value in a KafkaConnector: {k}"
        );
    }
    assert!(secrets.iter().all(|s| s.to_string().contains("s3cret-pw")));

    // Applying the output adopts both connectors, and writes nothing to Connect.
    let (code, out, err) = kubectl(&["apply", "-n", &ns, "-f", "-"], Some(&yaml));
    assert_eq!(code, 0, "{out}{err}");
    let objects: Vec<String> = kctrs
        .iter()
        .map(|k| k["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    for o in &objects {
        s.wait(o, "Ready", is_ready).await;
    }
    assert_eq!(
        writes_to_connect(&s).await,
        0.0,
        "adopting wrote to Connect"
    );

    // diff: nothing differs; a manifest with a change differs (exit 1), the password masked.
    let first = &objects[0];
    let (code, out, err) = kubectl(&["kafkaconnect", "diff", first, "-n", &ns], None);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    let mut changed = kctrs[0].clone();
    changed["metadata"]["namespace"] = json!(ns);
    changed["spec"]["config"]["delay_ms"] = json!("1234");
    let file = serde_json::to_string(&changed).unwrap();
    let (code, out, err) = kubectl(&["kafkaconnect", "diff", "-f", "-", "-n", &ns], Some(&file));
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("- delay_ms={HEALTHY_MS}\n+ delay_ms=1234")),
        "{out}"
    );
    assert!(!out.contains("s3cret-pw"), "{out}");

    // restart: the patch for Git, then a served restart.
    let patch = plugin(&ns, &["restart", first, "--tasks", "--dry-run"]);
    assert!(
        patch.contains("restart:") && patch.contains("includeTasks: true"),
        "{patch}"
    );
    let served = plugin(&ns, &["restart", first, "--timeout", "90s"]);
    assert!(served.contains("served"), "{served}");
    let obj = s.connectors.get(first).await.unwrap();
    let id = obj.status.unwrap().last_restart_id.unwrap();
    assert!(served.contains(&id), "{served} vs {id}");

    // offsets (read only), describe, help, completion.
    let (code, out, err) = kubectl(
        &["kafkaconnect", "offsets", first, "-n", &ns, "-o", "json"],
        None,
    );
    assert_eq!(code, 0, "{out}{err}");
    let offsets: Value = serde_json::from_str(&out).unwrap();
    assert!(offsets["offsets"].is_array(), "{out}");
    // offsets reset: written as a spec request, served once by the operator.
    let patch = plugin(&ns, &["offsets", first, "reset", "--dry-run"]);
    assert!(patch.contains("reset: true"), "{patch}");
    let reset = plugin(&ns, &["offsets", first, "reset", "--timeout", "120s"]);
    assert!(reset.contains("Reset"), "{reset}");
    s.wait(first, "Ready again", is_ready).await;
    let text = plugin(&ns, &["describe", first]);
    println!("{text}");
    assert!(
        text.contains(&format!("KafkaConnector {ns}/{first}")),
        "{text}"
    );
    assert!(text.contains("Ready") && text.contains("RUNNING"), "{text}");
    assert!(
        text.contains(&format!("Restart:     {id} (served)")),
        "{text}"
    );
    for cmd in ["import", "diff", "restart", "offsets", "describe"] {
        let (code, out, _) = kubectl(&["kafkaconnect", cmd, "--help"], None);
        assert_eq!(code, 0, "{cmd} --help");
        assert!(out.contains("--namespace"), "{cmd} --help: {out}");
    }
    let (code, script, _) = kubectl(&["kafkaconnect", "completion", "bash"], None);
    assert_eq!(code, 0);
    assert!(script.contains("kubectl-kafkaconnect"), "{script}");
    for name in &names {
        s.connect.delete(name).await;
    }
}
