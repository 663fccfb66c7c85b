//! The chart's RBAC as both RBAC test binaries read it: `helm template` and the Roles and
//! ClusterRoles in it. (Each binary uses some of these.)
#![allow(dead_code)]

use std::process::Command;

use serde_json::Value;

use super::common::{env, repo_root};

/// `helm template` of the chart installed in `ns` with leader election: watching only `ns`
/// when `namespaced`, else the cluster-wide install.
pub fn helm_template(ns: &str, namespaced: bool) -> String {
    let watch = format!("watchNamespaces={{{ns}}}");
    let sets: &[&str] = if namespaced { &["--set", &watch] } else { &[] };
    helm_render("kco", ns, sets)
}

/// `helm template` of the chart as release `release` in `ns`, leader election on, plus `sets`.
pub fn helm_render(release: &str, ns: &str, sets: &[&str]) -> String {
    let mut args = vec![
        "template",
        release,
        "charts/kafka-connect-operator",
        "--namespace",
        ns,
        "--set",
        "leaderElection.enabled=true",
    ];
    args.extend(sets);
    let out = Command::new(env("HELM"))
        .args(args)
        .current_dir(repo_root())
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm template: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn rbac_docs(rendered: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(rendered)
        .unwrap()
        .into_iter()
        .filter(|d| {
            matches!(
                d["kind"].as_str(),
                Some(
                    "ServiceAccount"
                        | "Role"
                        | "RoleBinding"
                        | "ClusterRole"
                        | "ClusterRoleBinding"
                )
            )
        })
        .collect()
}

/// In the Roles and ClusterRoles of the YAML stream `text` (other kinds, e.g. an admission
/// policy's `resourceRules`, are not RBAC), every rule is preceded by a comment line.
pub fn assert_every_rule_is_explained(what: &str, text: &str) {
    let is_rbac = |doc: &str| {
        doc.lines()
            .any(|l| l == "kind: Role" || l == "kind: ClusterRole")
    };
    for doc in text.split("\n---").filter(|d| is_rbac(d)) {
        let lines: Vec<&str> = doc.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("- apiGroups:") {
                assert!(
                    i > 0 && lines[i - 1].trim_start().starts_with('#'),
                    "{what}: a rule without a comment saying why: {line}\nin:\n{doc}"
                );
            }
        }
    }
}
