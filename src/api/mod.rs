//! The custom resources, group `kafkaconnect.dev`, version `v1alpha1`.

pub mod cluster;
pub mod conditions;
pub mod connector;
pub mod connector_status;
pub mod loggers;
pub mod progress;
pub mod spec_rules;

pub use cluster::{KafkaConnectCluster, KafkaConnectClusterSpec, KafkaConnectClusterStatus};
pub use connector::{KafkaConnector, KafkaConnectorSpec, KafkaConnectorStatus};

use kube::CustomResourceExt;

/// Every CRD this operator serves, as multi-document YAML: what `crd` prints and `crds/` holds.
pub fn crds_yaml() -> String {
    let mut out = String::new();
    for crd in [KafkaConnectCluster::crd(), KafkaConnector::crd()] {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&crd).expect("a CRD always serialises"));
    }
    out
}

#[cfg(test)]
mod tests {
    /// `crds/` is committed so that users can apply it without building; it must be what
    /// the types generate. Fix a failure with `make crds`.
    #[test]
    fn committed_crds_match_the_types() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/crds/kafkaconnect.dev.yaml");
        let committed = std::fs::read_to_string(path).expect("crds/kafkaconnect.dev.yaml exists");
        assert!(
            committed == super::crds_yaml(),
            "crds/kafkaconnect.dev.yaml drifted from the Rust types: run `make crds`"
        );
    }

    /// `kubectl explain` describes every field of both kinds: every property of the schema
    /// (below `spec` and `status`) has a description.
    #[test]
    fn every_field_has_a_description() {
        use kube::CustomResourceExt;
        fn walk(path: &str, schema: &serde_json::Value, missing: &mut Vec<String>) {
            let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
                if let Some(items) = schema.get("items") {
                    walk(&format!("{path}[]"), items, missing);
                }
                return;
            };
            for (name, prop) in props {
                let here = format!("{path}.{name}");
                let described = prop
                    .get("description")
                    .and_then(|d| d.as_str())
                    .is_some_and(|d| !d.trim().is_empty());
                if !described {
                    missing.push(here.clone());
                }
                walk(&here, prop, missing);
            }
        }
        let mut missing = Vec::new();
        for crd in [
            super::KafkaConnectCluster::crd(),
            super::KafkaConnector::crd(),
        ] {
            let crd = serde_json::to_value(crd).unwrap();
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_string();
            let root = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"];
            for part in ["spec", "status"] {
                let schema = &root[part];
                if schema.get("description").is_none() {
                    missing.push(format!("{kind}.{part}"));
                }
                walk(&format!("{kind}.{part}"), schema, &mut missing);
            }
        }
        assert!(
            missing.is_empty(),
            "fields without a description: {missing:#?}"
        );
    }

    /// The admission policy (hand-written, beside the CRDs) has its copies in the kustomize
    /// base and, inside an `admissionPolicy.enabled` guard, in the chart's templates; it refuses
    /// every reserved config key with a message naming the spec field to use instead.
    #[test]
    fn admission_policy_copies_match_and_cover_the_reserved_keys() {
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |p: &str| {
            std::fs::read_to_string(format!("{root}/{p}")).unwrap_or_else(|e| panic!("{p}: {e}"))
        };
        let policy = read("crds/kafkaconnect.dev-admission.yaml");
        assert!(
            read("deploy/crds/kafkaconnect.dev-admission.yaml") == policy,
            "deploy/crds/kafkaconnect.dev-admission.yaml differs from crds/: run `make crds`"
        );
        let chart =
            format!("{{{{- if .Values.admissionPolicy.enabled }}}}\n{policy}{{{{- end }}}}\n");
        assert!(
            read("charts/kafka-connect-operator/templates/admission-policy.yaml") == chart,
            "the chart's templates/admission-policy.yaml differs from crds/: run `make crds`"
        );
        for key in super::connector::RESERVED_CONFIG_KEYS {
            let field = super::connector::reserved_key_field(key).expect("a field for each key");
            let rule = format!("\"!('{key}' in variables.config)\"");
            let message = format!("spec.config must not set {key}: set {field} instead");
            assert!(
                policy.contains(&rule) && policy.contains(&message),
                "the policy refuses {key} with: {message}"
            );
        }
    }

    /// The Helm chart and the kustomize base carry copies (neither can reference a file
    /// outside its own folder); they must stay identical to `crds/`.
    #[test]
    fn chart_and_kustomize_crds_match_the_top_level_ones() {
        let root = env!("CARGO_MANIFEST_DIR");
        let top = std::fs::read_to_string(format!("{root}/crds/kafkaconnect.dev.yaml")).unwrap();
        for copy in [
            "charts/kafka-connect-operator/crds/kafkaconnect.dev.yaml",
            "deploy/crds/kafkaconnect.dev.yaml",
        ] {
            let text = std::fs::read_to_string(format!("{root}/{copy}"))
                .unwrap_or_else(|e| panic!("{copy}: {e}"));
            assert!(text == top, "{copy} differs from crds/: run `make crds`");
        }
    }
}
