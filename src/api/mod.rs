//! The custom resources, group `kafkaconnect.dev`, version `v1alpha1`.

pub mod cluster;
pub mod conditions;
pub mod connector;

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
        assert!(committed == super::crds_yaml(), "crds/kafkaconnect.dev.yaml drifted from the Rust types: run `make crds`");
    }

    #[test]
    fn chart_crds_match_the_top_level_ones() {
        let root = env!("CARGO_MANIFEST_DIR");
        let chart = format!("{root}/charts/kafka-connect-operator/crds/kafkaconnect.dev.yaml");
        if let Ok(chart) = std::fs::read_to_string(chart) {
            let top = std::fs::read_to_string(format!("{root}/crds/kafkaconnect.dev.yaml")).unwrap();
            assert!(chart == top, "the chart's CRDs differ from crds/: run `make crds`");
        }
    }
}
