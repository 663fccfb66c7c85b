//! The Helm chart's RBAC, read without running the operator: no wildcards, Secrets only read
//! and ConfigMaps written only as the Orphan records, each rule saying why it exists, the
//! cluster-wide and namespaced installs granting the same rules (plus namespaces for the
//! cluster-wide one), and `deploy/` granting exactly the chart's rules (it is rendered from
//! them by hack/render-deploy.sh). `install_rbac.rs` runs the operator with them.

#[path = "install_rbac_parts/chart.rs"]
mod chart;
mod common;

use std::collections::BTreeMap;

use chart::{assert_every_rule_is_explained, helm_render, helm_template, rbac_docs};
use common::{env, repo_root};
use serde_json::{Value, json};

/// Static minimality: no wildcards, Secrets and ConfigMaps read-only but for the operator's
/// own (the webhook certificate, the Orphan records), every rule explained,
/// and the cluster-wide variant grants exactly what the namespaced one does.
#[test]
fn the_charts_rbac_has_no_wildcards_writes_only_its_own_objects_and_a_reason_per_rule() {
    let rendered = helm_template("minimal", true);
    let docs = rbac_docs(&rendered);
    let rules: Vec<&Value> = docs
        .iter()
        .filter_map(|d| d["rules"].as_array())
        .flatten()
        .collect();
    assert!(rules.len() >= 7, "{rules:?}");
    for doc in &docs {
        // The webhook's Role in the release namespace: the one place a Secret is written.
        let webhook_role = doc["kind"] == "Role"
            && doc["metadata"]["namespace"] == "minimal"
            && doc["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .ends_with("-webhook");
        for rule in doc["rules"].as_array().into_iter().flatten() {
            for field in ["apiGroups", "resources", "verbs"] {
                let values = rule[field].as_array().unwrap();
                assert!(
                    values.iter().all(|v| v != "*"),
                    "wildcard in {field}: {rule}"
                );
            }
            let resources = rule["resources"].as_array().unwrap();
            let verbs = rule["verbs"].as_array().unwrap();
            let reads = verbs
                .iter()
                .all(|v| ["get", "list", "watch"].contains(&v.as_str().unwrap()));
            if resources.iter().any(|r| r == "secrets") && !reads {
                // Read by name, or watched by metadata for configFrom rotations; written only
                // as the webhook's serving certificate, in the operator's own namespace.
                assert!(webhook_role, "Secrets are only read: {rule}");
                assert!(
                    rule["resourceNames"] == json!(["kco-kafka-connect-operator-webhook-tls"])
                        || verbs == &[json!("create")],
                    "only the webhook's certificate Secret is written: {rule}"
                );
            }
            if resources.iter().any(|r| r == "configmaps") && !reads {
                // Written only in the operator's own namespace (the Lease's Role): the Orphan
                // records' ConfigMap, by name once it exists.
                assert!(
                    rule["resourceNames"] == json!(["kafka-connect-operator-orphans"])
                        || verbs == &[json!("create")],
                    "ConfigMaps are written only as the Orphan records: {rule}"
                );
            }
        }
    }
    // Every rule in the rendered YAML is preceded by a comment saying why it exists.
    assert_every_rule_is_explained("the chart", &rendered);
    // Cluster-wide install: the same rules in a ClusterRole, plus the one only it needs
    // (namespace labels, for allowedNamespaces; proven needed below).
    let cluster_docs = rbac_docs(&helm_template("minimal", false));
    let mut a: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    let (namespaces, mut b): (Vec<String>, Vec<String>) = cluster_docs
        .iter()
        .filter_map(|d| d["rules"].as_array())
        .flatten()
        .map(|r| r.to_string())
        .partition(|r| r.contains(r#""namespaces""#));
    assert_eq!(
        namespaces,
        [r#"{"apiGroups":[""],"resources":["namespaces"],"verbs":["list","watch"]}"#],
        "only a cluster-wide install reads namespaces, and only their list and watch"
    );
    a.sort();
    b.sort();
    assert_eq!(
        a, b,
        "cluster-wide and namespaced installs grant the same rules"
    );
}

/// `deploy/` grants Lease access as the chart does: only in the operator's namespace, and
/// only to its Lease by name (create aside, which cannot be restricted by name).

#[test]
fn deploy_grants_leases_only_in_its_namespace_and_by_name() {
    let rendered = common::run(&env("KUBECTL"), &["kustomize", "deploy"], None);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&rendered).unwrap();
    let lease_rules = |doc: &Value| -> Vec<Value> {
        doc["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "leases"))
            })
            .cloned()
            .collect()
    };
    for doc in docs.iter().filter(|d| d["kind"] == "ClusterRole") {
        assert!(
            lease_rules(doc).is_empty(),
            "a ClusterRole grants Leases: {doc}"
        );
    }
    let role = docs
        .iter()
        .find(|d| d["kind"] == "Role" && !lease_rules(d).is_empty())
        .expect("a Role for the leader-election Lease");
    assert_eq!(role["metadata"]["namespace"], "kafka-connect-operator");
    for rule in lease_rules(role) {
        let verbs = rule["verbs"].as_array().unwrap();
        if verbs.iter().any(|v| v != "create") {
            assert_eq!(
                rule["resourceNames"],
                json!(["kafka-connect-operator"]),
                "{rule}"
            );
        }
    }
}

/// The rules of every Role and ClusterRole in `docs`, by (kind, namespace, whether it is the
/// webhook's), in order.
fn rules_by_role(docs: &[Value]) -> BTreeMap<(String, String, bool), Value> {
    docs.iter()
        .filter(|d| matches!(d["kind"].as_str(), Some("Role" | "ClusterRole")))
        .map(|d| {
            let name = d["metadata"]["name"].as_str().unwrap_or("");
            let key = (
                d["kind"].as_str().unwrap().to_string(),
                d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                name.ends_with("-webhook"),
            );
            (key, d["rules"].clone())
        })
        .collect()
}

fn deploy_docs(files: &[&str]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(repo_root().join("deploy").join(f)).unwrap();
            // Every rule users read in deploy/ says why it exists, as in the chart.
            assert_every_rule_is_explained(&format!("deploy/{f}"), &text);
            serde_saphyr::from_multiple::<Value>(&text).unwrap()
        })
        .filter(|d| !d.is_null())
        .collect()
}

/// `deploy/` grants exactly what the chart grants when installed as release
/// `kafka-connect-operator` in namespace `kafka-connect-operator`: the same rules, in the same
/// Roles and ClusterRoles, cluster-wide (clusterrole.yaml + leader-election-role.yaml) and for
/// one watched namespace (role-namespaced.yaml + leader-election-role.yaml, watching
/// `kafka-connect`), the webhook's (webhook-rbac.yaml) in both. `make test` also diffs the text (hack/render-deploy.sh --check).
#[test]
fn deploy_grants_exactly_the_charts_rules() {
    let ns = "kafka-connect-operator";
    for (files, sets) in [
        (
            &[
                "clusterrole.yaml",
                "leader-election-role.yaml",
                "webhook-rbac.yaml",
            ][..],
            &[][..],
        ),
        (
            &[
                "role-namespaced.yaml",
                "leader-election-role.yaml",
                "webhook-rbac.yaml",
            ][..],
            &["--set", "watchNamespaces={kafka-connect}"][..],
        ),
    ] {
        let chart = rules_by_role(&rbac_docs(&helm_render(ns, ns, sets)));
        let deploy = rules_by_role(&deploy_docs(files));
        assert_eq!(
            deploy.len(),
            chart.len(),
            "deploy/{files:?} and the chart ({sets:?}) have different Roles: {:?} vs {:?}",
            deploy.keys(),
            chart.keys()
        );
        assert_eq!(
            deploy, chart,
            "deploy/{files:?} grants other rules than the chart ({sets:?}): run `make render-deploy`"
        );
    }
}
