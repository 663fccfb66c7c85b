//! The bad input corpus (`tests/fixtures/bad_input/`): its cases, applying them as a user
//! would, and the status the operator must report for each.

use super::*;

/// One document of a corpus file (the files' headers say what each field means).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) case: String,
    #[serde(default)]
    pub(crate) refused: Option<String>,
    #[serde(default)]
    pub(crate) policy: Option<String>,
    #[serde(default)]
    pub(crate) status: Option<Expected>,
    #[serde(default, rename = "validationError")]
    pub(crate) validation_error: Option<String>,
    #[serde(default)]
    pub(crate) setup: Vec<Value>,
    #[serde(default)]
    pub(crate) ready: bool,
    pub(crate) object: Value,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expected {
    pub(crate) reason: String,
    pub(crate) message: String,
    /// Not in the files (there it is the case's `validationError`).
    #[serde(skip)]
    pub(crate) validation_error: Option<String>,
}

impl Case {
    pub(crate) fn name(&self) -> &str {
        self.object["metadata"]["name"].as_str().unwrap()
    }

    pub(crate) fn kind(&self) -> &str {
        self.object["kind"].as_str().unwrap()
    }

    /// What the operator reports: the case's `status`, or for a case only the admission
    /// policy refuses, `InvalidSpec` with the policy's message among the validation errors.
    pub(crate) fn expected(&self) -> Expected {
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

    pub(crate) fn connector_name(&self) -> &str {
        self.object["spec"]["connectorName"].as_str().unwrap()
    }
}

/// The cases of one corpus file, with `${NS}` (and the stack's URLs) filled in.
pub(crate) fn corpus(file: &str, ns: &str) -> Vec<Case> {
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

pub(crate) fn api_for(client: &Client, ns: Option<&str>, obj: &Value) -> Api<DynamicObject> {
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
pub(crate) async fn apply(
    client: &Client,
    ns: Option<&str>,
    obj: &Value,
) -> Result<(), kube::Error> {
    apply_with(client, ns, obj, PatchParams::apply("kco-tests").force()).await
}

pub(crate) async fn apply_with(
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
pub(crate) async fn check_apply(
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

/// Waits until the object of `c` shows the case's expected Ready condition (and validation
/// error); returns the condition's message.
pub(crate) async fn wait_for_status(s: &Scenario, c: &Case) -> String {
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

/// Applies the shipped ValidatingAdmissionPolicy and a copy of its shipped binding limited to
/// `ns` (the stack is shared: a cluster-wide binding would judge other tests' objects).
/// Returns the binding's name.
pub(crate) async fn bind_policy_to(client: &Client, ns: &str) -> String {
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
