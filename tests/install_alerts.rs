//! The alerts and the dashboard the chart ships are tested, not only rendered: the rules pass
//! `promtool check rules` and their unit tests (`promtool test rules`, promtool built from its
//! Go module like kube-apiserver), the chart carries exactly those rules and that dashboard,
//! and every metric either queries is one a running operator exports on `/metrics`.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{HEALTHY_MS, Scenario, env, eventually, mock, repo_root, run};
use serde_json::Value;

const RULES: &str = "charts/kafka-connect-operator/files/alerts/kafka-connect-operator.rules.yaml";
const RULE_TESTS: &str = "tests/alerts/kafka-connect-operator.test.yaml";
const DASHBOARD: &str =
    "charts/kafka-connect-operator/files/dashboards/kafka-connect-operator.json";

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap()
}

fn rules() -> Value {
    serde_saphyr::from_str(&read(RULES)).unwrap()
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).unwrap()
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let promtool = env("PROMTOOL");
    let checked = run(&promtool, &["check", "rules", RULES], None);
    println!("{checked}");
    let tested = run(&promtool, &["test", "rules", RULE_TESTS], None);
    println!("{tested}");
    assert!(tested.contains("SUCCESS"), "{tested}");
    // Every alert is unit-tested, and has a runbook entry in the README.
    let tests = read(RULE_TESTS);
    let readme = read("README.md");
    for rule in rules()["groups"][0]["rules"].as_array().unwrap() {
        let alert = rule["alert"].as_str().unwrap();
        assert!(
            tests.contains(&format!("alertname: {alert}")),
            "{alert} untested"
        );
        let anchor = rule["annotations"]["runbook_url"].as_str().unwrap();
        let anchor = anchor.rsplit_once('#').unwrap().1;
        assert!(
            readme.contains(&format!("<a id=\"{anchor}\"></a>")),
            "{alert}: no runbook entry #{anchor} in the README"
        );
    }
}

#[test]
fn the_chart_ships_these_rules_and_this_dashboard() {
    let args = [
        "template",
        "kco",
        "charts/kafka-connect-operator",
        "--namespace",
        "monitoring",
        "--set",
        "prometheusRule.enabled=true",
        "--set",
        "grafanaDashboard.enabled=true",
        "--set",
        "prometheusRule.labels.release=prometheus",
    ];
    let rendered = run(&env("HELM"), &args, None);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&rendered).unwrap();
    let rule = docs.iter().find(|d| d["kind"] == "PrometheusRule").unwrap();
    assert_eq!(rule["spec"]["groups"], rules()["groups"]);
    assert_eq!(rule["metadata"]["labels"]["release"], "prometheus");
    let map = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["labels"]["grafana_dashboard"] == "1")
        .expect("a ConfigMap with the Grafana sidecar's label");
    let shipped: Value =
        serde_json::from_str(map["data"]["kafka-connect-operator.json"].as_str().unwrap()).unwrap();
    assert_eq!(shipped, dashboard());
    // Off by default: they need the Prometheus Operator's CRDs and a Grafana sidecar.
    let plain = run(&env("HELM"), &args[..5], None);
    assert!(!plain.contains("kind: PrometheusRule"));
}

/// The `kco_*` metric names in a PromQL expression, as families (`_total`, `_bucket`, `_sum`
/// and `_count` are samples of one family).
fn families_in(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(i) = rest.find("kco_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let family = ["_total", "_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        out.insert(family.to_string());
        rest = &tail[end..];
    }
    out
}

fn queried() -> BTreeSet<String> {
    let mut exprs: Vec<String> = vec![];
    for panel in dashboard()["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_string());
        }
    }
    for var in dashboard()["templating"]["list"].as_array().unwrap() {
        if let Some(q) = var["query"].as_str() {
            exprs.push(q.to_string());
        }
    }
    for rule in rules()["groups"][0]["rules"].as_array().unwrap() {
        exprs.push(rule["expr"].as_str().unwrap().to_string());
    }
    exprs.iter().flat_map(|e| families_in(e)).collect()
}

/// The families `/metrics` shows: prometheus-client leaves out a family until it has a series,
/// so the scenario below makes each queried family get one.
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_metric_the_dashboard_and_the_alerts_query_is_exported() {
    let queried = queried();
    assert!(queried.len() >= 10, "{queried:?}");
    // The webhook served (its reviews counted), a Connect that is down (reconcile errors), a
    // connector whose progress is watched (its last-progress timestamp).
    let port = common::free_port();
    let vwc = format!("kco-test-{}", common::uuid_suffix());
    let name = vwc.clone();
    let s = Scenario::custom("e2e-alerts", |client, ns| async move {
        common::webhook_configuration(&client, &name, &ns, port).await;
        (common::webhook_args(port, &name), vec![])
    })
    .await;
    s.apply_cluster(serde_json::json!({"url": env("CONNECT_URL")}))
        .await;
    let closed = format!("http://127.0.0.1:{}", common::free_port());
    s.try_apply_cluster("down", serde_json::json!({"url": closed}))
        .await
        .unwrap();
    let watched = serde_json::json!({"progress": {"stallAfter": "1m"}});
    s.apply("m", mock(&s.unique("m"), HEALTHY_MS, watched))
        .await;
    s.wait_ready("m").await;
    // The webhook is called once the apiserver has its CA bundle: a spec change then.
    let pokes = std::sync::atomic::AtomicU64::new(2);
    let text = eventually(
        "every queried family exported",
        Duration::from_secs(90),
        || async {
            let text = s.operator.metrics().await?;
            if !text.contains("kco_webhook_reviews_total") {
                // A new spec each time: an unchanged one is not reviewed.
                let minutes = pokes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let poke = serde_json::json!({"progress": {"stallAfter": format!("{minutes}m")}});
                s.apply("m", mock(&s.unique("m"), HEALTHY_MS, poke)).await;
            }
            queried.is_subset(&exported(&text)).then_some(text)
        },
    )
    .await;
    // And what the alerts count is right: this namespace's one KafkaConnector Running, one
    // cluster Available and one whose Connect does not answer.
    let ns = &s.ns;
    for line in [
        format!("kco_kafkaconnectors{{namespace=\"{ns}\",reason=\"Running\"}} 1"),
        format!("kco_kafkaconnectclusters{{namespace=\"{ns}\",reason=\"Available\"}} 1"),
        format!("kco_kafkaconnectclusters{{namespace=\"{ns}\",reason=\"ConnectUnavailable\"}} 1"),
    ] {
        assert!(text.contains(&line), "{line} not in:\n{text}");
    }
}
