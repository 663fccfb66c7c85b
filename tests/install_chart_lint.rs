//! The install artefacts are well-formed: `helm lint --strict` passes, and the apiserver
//! accepts (server-side dry run) the chart rendered with defaults and with replicas and a
//! PodDisruptionBudget, the `deploy/` kustomization, and every manifest of `examples/`.

mod common;

use std::process::Command;

use common::{env, run};

#[tokio::test]
async fn helm_lint_and_server_side_dry_runs_of_the_chart_and_the_manifests_pass() {
    let (helm, kubectl) = (env("HELM"), env("KUBECTL"));
    let lint = run(
        &helm,
        &["lint", "--strict", "charts/kafka-connect-operator"],
        None,
    );
    assert!(lint.contains("0 chart(s) failed"), "{lint}");
    let client = common::kube().await;
    let ns = common::namespace(&client, "chart-dry-run").await;
    chart_dry_runs(&helm, &kubectl, &ns);
    webhook_with_cert_manager(&helm, &ns);
    deploy_dry_run(&kubectl);
    // examples/ (what `make demo` applies): every manifest passes the CRDs' schema and CEL.
    common::install_operator_crds(&client).await;
    let examples = common::namespace(&client, "examples-dry-run").await;
    let out = run(
        &kubectl,
        &[
            "apply",
            "--dry-run=server",
            "-n",
            &examples,
            "-f",
            "examples/",
        ],
        None,
    );
    assert!(
        out.contains("demo-secret-values") && out.contains("demo-lines"),
        "{out}"
    );
    // examples/many-teams/ names its own namespaces: applied for real (a dry run cannot
    // create the namespaces its objects need; applying again changes nothing). No operator
    // of the tests manages them: theirs watch one namespace or select labelled clusters.
    let out = run(
        &kubectl,
        &["apply", "--server-side", "-f", "examples/many-teams/"],
        None,
    );
    assert_eq!(
        out.matches("kafkaconnector.kafkaconnect.dev/events")
            .count(),
        3,
        "{out}"
    );
    assert!(
        out.contains("kafkaconnectcluster.kafkaconnect.dev/shared"),
        "{out}"
    );
}

/// The chart rendered with defaults, with replicas and a PodDisruptionBudget, and with two
/// shards, in `ns`: the apiserver accepts it (server-side dry run).
fn chart_dry_runs(helm: &str, kubectl: &str, ns: &str) {
    for sets in [
        vec![],
        vec![
            "--set",
            "replicas=2",
            "--set",
            "podDisruptionBudget.enabled=true",
        ],
        vec![
            "--set",
            "sharding.shards={a,b}",
            "--set",
            "leaderElection.enabled=true",
        ],
    ] {
        let mut args = vec![
            "template",
            "kco",
            "charts/kafka-connect-operator",
            "--namespace",
            ns,
        ];
        let sharded = sets.iter().any(|s| s.starts_with("sharding"));
        args.extend(sets);
        let rendered = run(helm, &args, None);
        if sharded {
            shards_as_flux_does(&rendered);
        }
        run(
            kubectl,
            &["apply", "--dry-run=server", "-f", "-"],
            Some(rendered.as_bytes()),
        );
    }
}

/// `webhook.certManager.enabled`: cert-manager's Certificate writes the Secret the operator
/// serves from (and only reads), and its CA injector fills the configuration's CA bundle. Not
/// dry-run: the stack has no cert-manager CRDs.
fn webhook_with_cert_manager(helm: &str, ns: &str) {
    let args = [
        "template",
        "kco",
        "charts/kafka-connect-operator",
        "--namespace",
        ns,
        "--set",
        "webhook.certManager.enabled=true",
    ];
    let rendered = run(helm, &args, None);
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&rendered).unwrap();
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
    };
    let env = kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .clone();
    let var = |n: &str| {
        env.iter()
            .find(|e| e["name"] == n)
            .and_then(|e| e["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(var("KCO_WEBHOOK_CERTS"), "external");
    let certificate = kind("Certificate");
    assert_eq!(
        certificate["spec"]["secretName"],
        var("KCO_WEBHOOK_SECRET").as_str()
    );
    assert_eq!(certificate["spec"]["issuerRef"]["kind"], "Issuer");
    let dns = certificate["spec"]["dnsNames"].as_array().unwrap();
    assert_eq!(dns.len(), var("KCO_WEBHOOK_NAMES").split(',').count());
    let vwc = kind("ValidatingWebhookConfiguration");
    assert_eq!(
        vwc["metadata"]["annotations"]["cert-manager.io/inject-ca-from"],
        format!("{ns}/{}", certificate["metadata"]["name"].as_str().unwrap()).as_str()
    );
    assert_eq!(vwc["webhooks"][0]["failurePolicy"], "Ignore");
    // Only reads its Secret: cert-manager writes it.
    let secret_rules: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| d["kind"] == "Role")
        .flat_map(|d| d["rules"].as_array().into_iter().flatten())
        .filter(|r| r["resourceNames"][0] == var("KCO_WEBHOOK_SECRET").as_str())
        .collect();
    assert_eq!(secret_rules.len(), 1);
    assert_eq!(secret_rules[0]["verbs"], serde_json::json!(["get"]));
}

/// The `deploy/` kustomization: the apiserver accepts it (server-side dry run).
fn deploy_dry_run(kubectl: &str) {
    // deploy/ creates its own namespace; a server dry run of objects inside a namespace that
    // does not exist yet fails, so make sure it exists (namespaces never go away here).
    let _ = Command::new(kubectl)
        .args(["create", "namespace", "kafka-connect-operator"])
        .output();
    run(
        kubectl,
        &[
            "apply",
            "--dry-run=server",
            "--server-side",
            "--force-conflicts",
            "-k",
            "deploy",
        ],
        None,
    );
}

/// Two shards: three Deployments (the default one for unlabelled cluster objects, one per
/// shard), each with its own selector and pods, and the Lease Role names each one's Lease.
fn shards_as_flux_does(rendered: &str) {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(rendered).unwrap();
    let mut selectors: Vec<(String, String)> = docs
        .iter()
        .filter(|d| d["kind"] == "Deployment")
        .map(|d| {
            let env = d["spec"]["template"]["spec"]["containers"][0]["env"]
                .as_array()
                .unwrap();
            let selector = env
                .iter()
                .find(|e| e["name"] == "KCO_WATCH_LABEL_SELECTOR")
                .and_then(|e| e["value"].as_str())
                .unwrap_or_default();
            let name = d["metadata"]["name"].as_str().unwrap();
            (name.to_string(), selector.to_string())
        })
        .collect();
    selectors.sort();
    assert_eq!(
        selectors,
        [
            (
                "kco-kafka-connect-operator".into(),
                "!kafkaconnect.dev/shard".into()
            ),
            (
                "kco-kafka-connect-operator-a".into(),
                "kafkaconnect.dev/shard=a".into()
            ),
            (
                "kco-kafka-connect-operator-b".into(),
                "kafkaconnect.dev/shard=b".into()
            ),
        ]
    );
    let lease_names = docs
        .iter()
        .filter(|d| d["kind"] == "Role")
        .flat_map(|d| d["rules"].as_array().cloned().unwrap_or_default())
        .find(|r| r["resources"][0] == "leases" && r["resourceNames"].is_array())
        .map(|r| r["resourceNames"].as_array().unwrap().len());
    assert_eq!(lease_names, Some(3), "one Lease per shard");
}
