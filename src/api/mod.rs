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
