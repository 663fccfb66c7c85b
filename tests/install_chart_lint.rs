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

/// The chart rendered with defaults, and with replicas and a PodDisruptionBudget, in `ns`:
/// the apiserver accepts it (server-side dry run).
fn chart_dry_runs(helm: &str, kubectl: &str, ns: &str) {
    for sets in [
        vec![],
        vec![
            "--set",
            "replicas=2",
            "--set",
            "podDisruptionBudget.enabled=true",
        ],
    ] {
        let mut args = vec![
            "template",
            "kco",
            "charts/kafka-connect-operator",
            "--namespace",
            ns,
        ];
        args.extend(sets);
        let rendered = run(helm, &args, None);
        run(
            kubectl,
            &["apply", "--dry-run=server", "-f", "-"],
            Some(rendered.as_bytes()),
        );
    }
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
