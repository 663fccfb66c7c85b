//! The bad input corpus (tests/fixtures/bad_input/, issue 12 point 7) on the real stack: every
//! malformed KafkaConnector and KafkaConnectCluster there is either refused at apply time with a
//! message naming the field and what to do (the CRD's schema and CEL, or the
//! ValidatingAdmissionPolicy shipped beside it for `spec.config`), or accepted and reported in
//! status by the operator, which then calls Connect no more than its backoff allows (counted on
//! its /metrics over a window of bulk polls). Names Connect can address, spaces and non-ASCII
//! letters included, keep working end to end.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Scenario, condition, eventually, install_operator_crds, kube, namespace, repo_root};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::{Api, Client};
use serde::Deserialize;
use serde_json::{Value, json};

/// One document of a corpus file (the files' headers say what each field means).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Case {
    case: String,
    #[serde(default)]
    refused: Option<String>,
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    status: Option<Expected>,
    #[serde(default, rename = "validationError")]
    validation_error: Option<String>,
    #[serde(default)]
    setup: Vec<Value>,
    #[serde(default)]
    ready: bool,
    object: Value,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Expected {
    reason: String,
    message: String,
    /// Not in the files (there it is the case's `validationError`).
    #[serde(skip)]
    validation_error: Option<String>,
}

impl Case {
    fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap()
    }

    fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap()
    }

    /// What the operator reports: the case's `status`, or for a case only the admission
    /// policy refuses, `InvalidSpec` with the policy's message among the validation errors.
    fn expected(&self) -> Expected {
        if let Some(policy) = &self.policy {
            return Expected {
                reason: "InvalidSpec".into(),
                message: "see status.validationErrors; Connect was not changed".into(),
                validation_error: Some(policy.clone()),
            };
        }
        let want = self.status.as_ref().expect("a status case says `status`");
        Expected {
            validation_error: self.validation_error.clone(),
            ..want.clone()
        }
    }

    fn connector_name(&self) -> &str {
        self.object["spec"]["connectorName"].as_str().unwrap()
    }
}

/// The cases of one corpus file, with `${NS}` (and the stack's URLs) filled in.
fn corpus(file: &str, ns: &str) -> Vec<Case> {
    let path = repo_root().join("tests/fixtures/bad_input").join(file);
    let mut text = std::fs::read_to_string(&path).unwrap().replace("${NS}", ns);
    if text.contains("${CONNECT_URL_V302}") {
        text = text.replace("${CONNECT_URL_V302}", &common::env("CONNECT_URL_V302"));
    }
    let cases: Vec<Case> =
        serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!cases.is_empty(), "{file} has cases");
    cases
}

fn api_for(client: &Client, ns: Option<&str>, obj: &Value) -> Api<DynamicObject> {
    let api_version = obj["apiVersion"].as_str().expect("apiVersion");
    let kind = obj["kind"].as_str().expect("kind");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let lower = kind.to_lowercase();
    let plural = match lower.strip_suffix('y') {
        Some(stem) => format!("{stem}ies"),
        None => format!("{lower}s"),
    };
    let ar =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural);
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// Server-side applies `obj` (in `ns`, or cluster-scoped) as a user's `kubectl apply` would.
async fn apply(client: &Client, ns: Option<&str>, obj: &Value) -> Result<(), kube::Error> {
    apply_with(client, ns, obj, PatchParams::apply("kco-tests").force()).await
}

async fn apply_with(
    client: &Client,
    ns: Option<&str>,
    obj: &Value,
    params: PatchParams,
) -> Result<(), kube::Error> {
    let name = obj["metadata"]["name"].as_str().expect("metadata.name");
    api_for(client, ns, obj)
        .patch(name, &params, &Patch::Apply(obj))
        .await
        .map(|_| ())
}

/// Applies each case and checks the apiserver's answer: refused containing `want(case)`, or
/// accepted when `want` gives `None`. Returns how many were refused, and one line per miss.
async fn check_apply(
    client: &Client,
    ns: &str,
    cases: &[Case],
    want: impl Fn(&Case) -> Option<&str>,
) -> (usize, Vec<String>) {
    let (mut refused, mut misses) = (0, Vec::new());
    for c in cases {
        match (apply(client, Some(ns), &c.object).await, want(c)) {
            (Err(e), Some(w)) if e.to_string().contains(w) => refused += 1,
            (Err(e), Some(w)) => misses.push(format!("{}: refused without {w:?}: {e}", c.case)),
            (Ok(()), Some(w)) => {
                misses.push(format!("{}: accepted, want refused with {w:?}", c.case))
            }
            (Err(e), None) => misses.push(format!("{}: refused, want accepted: {e}", c.case)),
            (Ok(()), None) => {}
        }
    }
    (refused, misses)
}

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

/// Applies the shipped ValidatingAdmissionPolicy and a copy of its shipped binding limited to
/// `ns` (the stack is shared: a cluster-wide binding would judge other tests' objects).
/// Returns the binding's name.
async fn bind_policy_to(client: &Client, ns: &str) -> String {
    let path = repo_root().join("crds/kafkaconnect.dev-admission.yaml");
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(&std::fs::read_to_string(path).unwrap()).unwrap();
    let of_kind = |k: &str| docs.iter().find(|d| d["kind"] == k).cloned().expect(k);
    let policy = of_kind("ValidatingAdmissionPolicy");
    let mut binding = of_kind("ValidatingAdmissionPolicyBinding");
    assert_eq!(binding["spec"]["policyName"], policy["metadata"]["name"]);
    assert!(
        binding["spec"].get("matchResources").is_none(),
        "shipped for every namespace"
    );
    let name = format!("{}-{ns}", binding["metadata"]["name"].as_str().unwrap());
    binding["metadata"]["name"] = json!(name);
    binding["spec"]["matchResources"] =
        json!({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}});
    apply(client, None, &policy)
        .await
        .expect("apply the policy");
    apply(client, None, &binding)
        .await
        .expect("apply the binding");
    name
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
    // The apiserver sees a new binding within a second or so. Probe with a dry-run create:
    // an object stored by an early probe would be an unchanged update later, which the policy
    // lets through on purpose.
    let mut probe = cases[1].object.clone();
    probe["metadata"]["name"] = json!("probe");
    let dry_run = PatchParams::apply("kco-tests").force().dry_run();
    eventually(
        "the binding takes effect",
        Duration::from_secs(30),
        || async {
            let answer = apply_with(&client, Some(&ns), &probe, dry_run.clone()).await;
            answer.is_err().then_some(())
        },
    )
    .await;
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

    let api = api_for(&client, Some(&ns), &stored);
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
    let want = cases[0].policy.as_deref().unwrap();
    if !err.to_string().contains(want) {
        misses.push(format!(
            "a spec change of the stored object: {err}, want {want:?}"
        ));
    }
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

/// Waits until the object of `c` shows the case's expected Ready condition (and validation
/// error); returns the condition's message.
async fn wait_for_status(s: &Scenario, c: &Case) -> String {
    let want = c.expected();
    let want = &want;
    let matches =
        |reason: &str, message: &str| reason == want.reason && message.contains(&want.message);
    if c.kind() == "KafkaConnectCluster" {
        return eventually(
            &format!("{}: {want:?}", c.case),
            Duration::from_secs(90),
            || async {
                let obj = s.clusters.get(c.name()).await.ok()?;
                let ready = obj
                    .status?
                    .conditions
                    .into_iter()
                    .find(|k| k.type_ == "Ready")?;
                matches(&ready.reason, &ready.message).then_some(ready.message)
            },
        )
        .await;
    }
    let obj = s
        .wait(c.name(), &format!("{}: {want:?}", c.case), |o| {
            let errors_ok = want.validation_error.as_ref().is_none_or(|w| {
                let errors = o
                    .status
                    .as_ref()
                    .map(|st| &st.validation_errors[..])
                    .unwrap_or_default();
                errors
                    .iter()
                    .any(|e| format!("{}: {}", e.key, e.message).contains(w.as_str()))
            });
            condition(o, "Ready")
                .is_some_and(|r| r.status == "False" && matches(&r.reason, &r.message))
                && errors_ok
        })
        .await;
    condition(&obj, "Ready").unwrap().message.clone()
}

/// `kco_connect_requests_total` by (endpoint, code), read from the operator's /metrics.
async fn rest_calls(s: &Scenario) -> BTreeMap<(String, String), f64> {
    let (_, text) = s.operator.get("/metrics").await.expect("/metrics answers");
    let mut out = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("kco_connect_requests_total{"))
    {
        let label = |k: &str| {
            line.split(&format!("{k}=\""))
                .nth(1)?
                .split('"')
                .next()
                .map(String::from)
        };
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let (Some(e), Some(c), Some(v)) = (label("endpoint"), label("code"), value) {
            out.insert((e, c), v);
        }
    }
    out
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

    // The window: until the healthy clusters (local, v302) were bulk-polled 20 more times.
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
        rest_calls(&s).await,
        reconciles().await.unwrap(),
        Instant::now(),
    );
    eventually("20 bulk polls", Duration::from_secs(90), || async {
        (polls(&rest_calls(&s).await) >= polls(&before) + 20.0).then_some(())
    })
    .await;
    let (after, elapsed) = (rest_calls(&s).await, start.elapsed());
    let reconciled = reconciles().await.unwrap() - reconciles_before;
    let delta: BTreeMap<_, _> = after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, d)| *d > 0.0)
        .collect();
    eprintln!(
        "in {elapsed:?} with {} cases in status: REST calls {delta:?}, KafkaConnector reconciles {reconciled}",
        cases.len()
    );
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
