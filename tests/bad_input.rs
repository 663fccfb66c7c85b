//! The bad input corpus (tests/fixtures/bad_input/, issue 12 point 7) on the real stack: every
//! malformed KafkaConnector and KafkaConnectCluster there is either refused at apply time with a
//! message naming the field and what to do (the CRD's schema and CEL, or the
//! ValidatingAdmissionPolicy shipped beside it for `spec.config`), or accepted and reported in
//! status by the operator, which then calls Connect no more than its backoff allows (counted on
//! its /metrics over a window of bulk polls). Names Connect can address, spaces and non-ASCII
//! letters included, keep working end to end.

mod common;
#[path = "bad_input_parts/corpus.rs"]
mod corpus;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{
    Scenario, condition, eventually, install_operator_crds, kube, metrics, namespace, repo_root,
};
use corpus::*;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Api, Client};
use serde::Deserialize;
use serde_json::{Value, json};

#[tokio::test]
async fn the_crd_refuses_malformed_objects_naming_the_field_and_the_fix() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let ns = namespace(&client, "bad-crd").await;
    let mut cases = corpus("connector-schema.yaml", &ns);
    cases.extend(corpus("cluster-schema.yaml", &ns));
    let (refused, mut misses) = check_apply(&client, &ns, &cases, |c| {
        Some(
            c.refused
                .as_deref()
                .expect("every schema case says `refused`"),
        )
    })
    .await;
    // Without the admission policy, what only it refuses passes the CRD (and is reported in
    // status, see below); the positive controls pass.
    let mut accepted = corpus("connector-config.yaml", &ns);
    accepted.extend(corpus("accepted.yaml", &ns));
    misses.extend(check_apply(&client, &ns, &accepted, |_| None).await.1);
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    assert_eq!(refused, cases.len());
    assert!(refused >= 45, "the corpus has {refused} schema cases");
    eprintln!("the CRD refused {refused} malformed objects with the expected messages");
}

#[tokio::test]
async fn the_admission_policy_refuses_what_the_crd_cannot_see() {
    let client = kube().await;
    install_operator_crds(&client).await;
    let ns = namespace(&client, "bad-vap").await;
    let cases = corpus("connector-config.yaml", &ns);
    // Stored before the policy is bound: it may still change otherwise (finalizers, labels).
    let mut stored = cases[0].object.clone();
    stored["metadata"]["name"] = json!("stored-before-policy");
    apply(&client, Some(&ns), &stored)
        .await
        .expect("accepted without the policy");

    let binding = bind_policy_to(&client, &ns).await;
    wait_policy_effective(&client, &ns, &cases[1].object).await;
    let (refused, mut misses) = check_apply(&client, &ns, &cases, |c| {
        Some(
            c.policy
                .as_deref()
                .expect("every config case says `policy`"),
        )
    })
    .await;
    misses.extend(
        check_apply(&client, &ns, &corpus("accepted.yaml", &ns), |_| None)
            .await
            .1,
    );
    let want = cases[0].policy.as_deref().unwrap();
    misses.extend(check_stored_before_policy(&api_for(&client, Some(&ns), &stored), want).await);
    let bindings = api_for(
        &client,
        None,
        &json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding"}),
    );
    let _ = bindings.delete(&binding, &Default::default()).await;
    assert!(misses.is_empty(), "{}", misses.join("\n"));
    assert_eq!(refused, cases.len());
    eprintln!("the admission policy refused {refused} objects with the expected messages");
}

/// The apiserver sees a new binding within a second or so: waits until a dry-run create of
/// `object` (a case the policy refuses) is refused. Probed with a dry-run create: an object
/// stored by an early probe would be an unchanged update later, which the policy lets through
/// on purpose.
async fn wait_policy_effective(client: &Client, ns: &str, object: &Value) {
    let mut probe = object.clone();
    probe["metadata"]["name"] = json!("probe");
    let dry_run = PatchParams::apply("kco-tests").force().dry_run();
    eventually(
        "the binding takes effect",
        Duration::from_secs(30),
        || async {
            let answer = apply_with(client, Some(ns), &probe, dry_run.clone()).await;
            answer.is_err().then_some(())
        },
    )
    .await;
}

/// An object stored before the policy was bound can still be labelled, but a change of its
/// spec is judged (refused with `want`). Returns one line per miss.
async fn check_stored_before_policy(api: &Api<DynamicObject>, want: &str) -> Vec<String> {
    let mut misses = vec![];
    let label = json!({"metadata": {"labels": {"team": "orders"}}});
    if let Err(e) = api
        .patch(
            "stored-before-policy",
            &PatchParams::default(),
            &Patch::Merge(label),
        )
        .await
    {
        misses.push(format!(
            "a label on an object stored before the policy: {e}"
        ));
    }
    let spec = json!({"spec": {"tasksMax": 2}});
    let err = api
        .patch(
            "stored-before-policy",
            &PatchParams::default(),
            &Patch::Merge(spec),
        )
        .await
        .expect_err("a spec change is judged");
    if !err.to_string().contains(want) {
        misses.push(format!(
            "a spec change of the stored object: {err}, want {want:?}"
        ));
    }
    misses
}

/// `kco_connect_requests_total` by (endpoint, code), read from the operator's /metrics.
async fn rest_calls(s: &Scenario) -> BTreeMap<(String, String), f64> {
    let text = s.operator.metrics().await.expect("/metrics answers");
    metrics::samples(&text)
        .filter(|m| m.name == "kco_connect_requests_total")
        .map(|m| {
            let key = (m.label("endpoint").to_string(), m.label("code").to_string());
            (key, m.value)
        })
        .collect()
}

/// Endpoints that are not about one connector: the bulk poll and the cluster's own reads.
const CLUSTER_WIDE: [&str; 4] = ["list_expanded", "list", "root", "plugins"];

#[tokio::test]
async fn the_operator_reports_what_admission_cannot_judge_without_a_hot_loop() {
    let s = Scenario::new("bad-status", &[]).await;
    let mut cases = corpus("status.yaml", &s.ns);
    cases.extend(corpus("connector-config.yaml", &s.ns));
    for c in &cases {
        for o in &c.setup {
            apply(&s.client, Some(&s.ns), o)
                .await
                .expect("setup applies");
        }
        apply(&s.client, Some(&s.ns), &c.object)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.case));
    }
    for c in &cases {
        let message = wait_for_status(&s, c).await;
        eprintln!("{}: {} {message}", c.case, c.expected().reason);
    }
    let window = Window::measure(&s).await;
    eprintln!(
        "in {:?} with {} cases in status: REST calls {:?}, KafkaConnector reconciles {}",
        window.elapsed,
        cases.len(),
        window.delta,
        window.reconciled
    );
    window.assert_no_hot_loop(&cases);

    // Nothing of a spec the operator refused was written to Connect.
    let (_, names) = s.connect.get("/connectors").await;
    for c in cases.iter().filter(|c| c.kind() == "KafkaConnector") {
        assert!(
            !names
                .as_array()
                .unwrap()
                .contains(&json!(c.connector_name())),
            "{} reached Connect",
            c.case
        );
    }
}

/// What the operator did over a window of 20 bulk polls of the healthy clusters (local, v302):
/// REST calls by (endpoint, code) and KafkaConnector reconciles.
struct Window {
    delta: BTreeMap<(String, String), f64>,
    reconciled: f64,
    elapsed: Duration,
}

impl Window {
    async fn measure(s: &Scenario) -> Self {
        let polls = |m: &BTreeMap<(String, String), f64>| {
            m.get(&("list_expanded".into(), "200".into()))
                .copied()
                .unwrap_or(0.0)
        };
        let reconciles = || {
            s.operator
                .metric("kco_reconciles_total", "kind=\"KafkaConnector\"")
        };
        let (before, reconciles_before, start) = (
            rest_calls(s).await,
            reconciles().await.unwrap(),
            Instant::now(),
        );
        eventually("20 bulk polls", Duration::from_secs(90), || async {
            (polls(&rest_calls(s).await) >= polls(&before) + 20.0).then_some(())
        })
        .await;
        let (after, elapsed) = (rest_calls(s).await, start.elapsed());
        let reconciled = reconciles().await.unwrap() - reconciles_before;
        Window {
            delta: metrics::growth(&after, &before),
            reconciled,
            elapsed,
        }
    }

    /// The operator called Connect and reconciled no more than its backoff allows for the
    /// KafkaConnectors among `cases`.
    fn assert_no_hot_loop(&self, cases: &[Case]) {
        let (delta, reconciled, elapsed) = (&self.delta, self.reconciled, self.elapsed);
        let per_connector: f64 = delta
            .iter()
            .filter(|((e, _), _)| !CLUSTER_WIDE.contains(&e.as_str()))
            .map(|(_, d)| d)
            .sum();
        let unreachable: f64 = delta
            .iter()
            .filter(|((_, c), _)| c == "error")
            .map(|(_, d)| d)
            .sum();
        let connectors = cases
            .iter()
            .filter(|c| c.kind() == "KafkaConnector")
            .count() as f64;
        // At most one call per connector in 10 poll intervals: most make none at all (the spec
        // or a Kubernetes object they need is missing), an InvalidConfig re-validates once a
        // minute, a transient failure retries after 5-7 s.
        assert!(
            per_connector <= connectors,
            "per-connector REST calls in the window: {per_connector} for {connectors} connectors"
        );
        assert!(
            reconciled <= 2.0 * connectors,
            "{reconciled} reconciles of {connectors} connectors in {elapsed:?}"
        );
        // The unreachable cluster is read once per poll interval (its bulk poll, and the cluster
        // reconcile's GET /), each read retried a few times within the retry budget: 10 intervals
        // here, so at most 3 attempts x 2 reads x 10. A hot loop would make hundreds.
        assert!(
            unreachable <= 60.0,
            "{unreachable} calls to the unreachable cluster in {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn names_with_spaces_non_ascii_letters_and_query_characters_reach_ready() {
    let s = Scenario::new("bad-names", &[]).await;
    let cases: Vec<Case> = corpus("accepted.yaml", &s.ns)
        .into_iter()
        .filter(|c| c.ready)
        .collect();
    assert!(cases.len() >= 3);
    for c in &cases {
        apply(&s.client, Some(&s.ns), &c.object)
            .await
            .expect("accepted");
    }
    for c in &cases {
        s.wait_ready(c.name()).await;
        let (code, all) = s.connect.get("/connectors?expand=status").await;
        assert_eq!(code, 200, "{all}");
        let st = &all[c.connector_name()]["status"];
        assert_eq!(
            st["connector"]["state"],
            "RUNNING",
            "{}: Connect's view of {:?}: {st}",
            c.case,
            c.connector_name()
        );
    }
    for c in &cases {
        s.delete_and_wait(c.name()).await;
    }
    let (_, names) = s.connect.get("/connectors").await;
    for c in &cases {
        assert!(
            !names
                .as_array()
                .unwrap()
                .contains(&json!(c.connector_name())),
            "{} deleted from Connect",
            c.case
        );
    }
}
