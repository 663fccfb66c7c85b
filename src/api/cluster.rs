//! KafkaConnectCluster: where a Connect cluster's REST API is and how to talk to it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

#[derive(CustomResource, KubeSchema, Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[kube(
    group = "kafkaconnect.dev",
    version = "v1alpha1",
    kind = "KafkaConnectCluster",
    namespaced,
    status = "KafkaConnectClusterStatus",
    shortname = "kcc",
    category = "kafkaconnect",
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".spec.url"}"#,
    printcolumn = r#"{"name":"VERSION","type":"string","jsonPath":".status.version"}"#,
    printcolumn = r#"{"name":"CONNECTORS","type":"integer","jsonPath":".status.connectors.total"}"#,
    printcolumn = r#"{"name":"READY","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"SHARD","type":"string","jsonPath":".status.shard","priority":1}"#,
    printcolumn = r#"{"name":"AGE","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[x_kube(
    validation = Rule::new("!has(self.tls) || self.url.startsWith('https://')").field_path(".tls").message("tls applies to an https:// url only: change spec.url to https:// or remove spec.tls"),
)]
#[serde(rename_all = "camelCase")]
/// Where a Kafka Connect REST API is (any Connect cluster, however it was deployed) and how
/// to reach it: URL, credentials, TLS. KafkaConnectors in this namespace (and in the
/// namespaces `allowedNamespaces` names) name it in `clusterRef`.
pub struct KafkaConnectClusterSpec {
    /// Base URL of the Connect REST API, e.g. `http://connect:8083`.
    #[x_kube(validation = Rule::new("self.startsWith('http://') || self.startsWith('https://')").message("url must start with http:// or https://"))]
    #[x_kube(validation = Rule::new("!self.contains('@')").message("url must not carry credentials: use spec.auth"))]
    #[x_kube(validation = Rule::new("isURL(self) && url(self).getHostname() != ''").message("url must be an absolute URL with a host, e.g. http://connect:8083"))]
    #[x_kube(validation = Rule::new(r"!self.matches(r'[?#\s]')").message("url must not contain '?', '#' or whitespace: give the REST API's base URL, e.g. https://connect:8443 or https://gateway/connect/"))]
    #[schemars(length(max = 2048))]
    pub url: String,
    /// How to authenticate to the REST API. Absent: no authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ClusterAuth>,
    /// TLS settings for an `https://` url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClusterTls>,
    /// Timeout of one REST request, in seconds (default 30, at most 60 so that retried calls
    /// stay inside one reconcile's time limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 60))]
    pub request_timeout_seconds: Option<u32>,
    /// What to do with connectors on this cluster that no KafkaConnector claims.
    /// `Ignore` (default) never touches them; `Delete` removes them.
    #[serde(default)]
    pub unmanaged_connectors: UnmanagedPolicy,
    /// Which namespaces' KafkaConnectors may name this cluster in `clusterRef` (default:
    /// `from: Same`, this namespace only). A KafkaConnector elsewhere gets
    /// `Ready=False NamespaceNotAllowed` and the operator writes nothing for it.
    #[serde(default)]
    pub allowed_namespaces: AllowedNamespaces,
    /// Logger levels for every worker of this Connect cluster, by logger name, e.g.
    /// `io.debezium: {level: DEBUG}`; with `expiresAfter` a time-boxed override that reverts
    /// by itself. Connect 3.7+ sets them cluster-wide (`?scope=cluster`, workers that join
    /// later included); before 3.7 the operator sets them on each worker it knows
    /// (`status.workers`) and on the one `url` reaches. A logger removed from here keeps the
    /// level it has.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 64))]
    pub loggers: std::collections::BTreeMap<String, crate::api::loggers::LoggerSetting>,
    /// The default `progress` of the KafkaConnectors attached to this cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<crate::api::progress::ProgressWatch>,
}

/// The namespaces whose KafkaConnectors may attach, as Gateway API's `allowedRoutes`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("(self.from == 'Selector') == has(self.selector)").message("allowedNamespaces.selector is required with from: Selector, and only then"))]
pub struct AllowedNamespaces {
    /// `Same` (this namespace), `All`, or `Selector` (namespaces whose labels match
    /// `selector`; this namespace only if its labels match too).
    #[serde(default)]
    pub from: NamespacesFrom,
    /// A label selector on Namespaces, with `from: Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
}

#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum NamespacesFrom {
    #[default]
    Same,
    All,
    Selector,
}

#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq, schemars::JsonSchema,
)]
pub enum UnmanagedPolicy {
    #[default]
    Ignore,
    Delete,
}

/// Exactly one of `basic` or `bearer`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.basic) != has(self.bearer)").message("auth takes exactly one of basic or bearer (omit auth for none)"))]
pub struct ClusterAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<BasicAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<BearerAuth>,
}

/// HTTP basic authentication; user name and password come from one Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasicAuth {
    /// Secret in the cluster's namespace.
    #[schemars(length(min = 1))]
    pub secret_name: String,
    /// Key holding the user name (default `username`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_key: Option<String>,
    /// Key holding the password (default `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_key: Option<String>,
}

/// A bearer token from a Secret.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BearerAuth {
    /// Secret in the cluster's namespace.
    #[schemars(length(min = 1))]
    pub secret_name: String,
    /// Key holding the token (default `token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterTls {
    /// PEM CA bundle that signs the REST API's certificate (default: the system roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<CaSource>,
    /// Client certificate for mutual TLS: a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_secret: Option<String>,
    /// Accept any server certificate. For experiments only.
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// Exactly one of `secretName` or `configMapName`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.secretName) != has(self.configMapName)").message("ca takes exactly one of secretName or configMapName"))]
pub struct CaSource {
    /// A Secret in the cluster's namespace holding the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// A ConfigMap in the cluster's namespace holding the bundle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_name: Option<String>,
    /// Key holding the PEM bundle (default `ca.crt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// What the REST API says about itself, and whether it answers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KafkaConnectClusterStatus {
    /// The metadata.generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Ready: the REST API answers (reason Available), or why not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The Kafka version the worker reports (`GET /`); decides what the operator uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The commit the worker was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The id of the Kafka cluster the workers use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka_cluster_id: Option<String>,
    /// Connector plugins installed on the answering worker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginStatus>,
    /// Connectors the REST API lists, from the last poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connectors: Option<ConnectorCounts>,
    /// The workers (their advertised host:port) that the last polls showed running this
    /// group's connectors and tasks: what proves two cluster objects of one namespace are
    /// one Connect group, kept here so that it survives an operator restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<String>,
    /// The shard that manages this cluster object and its KafkaConnectors: the label
    /// selector of the operator process (`--watch-label-selector`); absent when unsharded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// The declared loggers (`spec.loggers`): their levels as the worker reports them, and
    /// where each time-boxed override stands.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub loggers: crate::api::loggers::LoggersStatus,
}

/// One connector plugin.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PluginStatus {
    /// The class to name in a KafkaConnector's `class`.
    pub class: String,
    /// source or sink.
    #[serde(rename = "type")]
    pub type_: String,
    /// The plugin's version (the newest, where several are installed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Every installed version, where there are several (Kafka 4.1+: a KafkaConnector picks
    /// one with `spec.version`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// Connector counts.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorCounts {
    /// Connectors the REST API lists.
    pub total: u32,
    /// Of those, how many a KafkaConnector claims.
    pub managed: u32,
    /// Connectors (of all) whose connector or a task is FAILED.
    pub failed: u32,
}

impl KafkaConnectClusterSpec {
    /// The Secrets this cluster's settings are read from (auth, CA, client certificate).
    pub fn secret_names(&self) -> Vec<&str> {
        let auth = self.auth.as_ref();
        let tls = self.tls.as_ref();
        [
            auth.and_then(|a| a.basic.as_ref())
                .map(|b| b.secret_name.as_str()),
            auth.and_then(|a| a.bearer.as_ref())
                .map(|b| b.secret_name.as_str()),
            tls.and_then(|t| t.ca.as_ref())
                .and_then(|c| c.secret_name.as_deref()),
            tls.and_then(|t| t.client_certificate_secret.as_deref()),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The ConfigMaps this cluster's settings are read from (a CA bundle).
    pub fn config_map_names(&self) -> Vec<&str> {
        let ca = self.tls.as_ref().and_then(|t| t.ca.as_ref());
        ca.and_then(|c| c.config_map_name.as_deref())
            .into_iter()
            .collect()
    }
}

impl KafkaConnectCluster {
    /// Whether KafkaConnectors in namespace `ns` may attach to this cluster object. `labels`
    /// are that namespace's labels, when they could be read (`from: Selector` needs them).
    /// `Err` says why not, in words for a condition.
    pub fn admits(
        &self,
        ns: &str,
        labels: Option<&std::collections::BTreeMap<String, String>>,
    ) -> Result<(), String> {
        use kube::core::{Selector, SelectorExt};
        let own = self.metadata.namespace.as_deref().unwrap_or_default();
        let name = self.metadata.name.as_deref().unwrap_or_default();
        let allowed = &self.spec.allowed_namespaces;
        let refused = |why: &str| {
            Err(format!(
                "KafkaConnectCluster {own}/{name} does not allow KafkaConnectors of namespace {ns} ({why}); nothing is written to Connect for this object until it does"
            ))
        };
        match allowed.from {
            NamespacesFrom::All => Ok(()),
            NamespacesFrom::Same if ns == own => Ok(()),
            NamespacesFrom::Same => refused("allowedNamespaces.from is Same"),
            NamespacesFrom::Selector => {
                let Some(labels) = labels else {
                    return refused(
                        "allowedNamespaces.from is Selector, and the operator cannot read this namespace's labels: it must run cluster-wide, allowed to list and watch namespaces",
                    );
                };
                let selector: Result<Selector, _> =
                    allowed.selector.clone().unwrap_or_default().try_into();
                match selector {
                    Ok(s) if s.matches(labels) => Ok(()),
                    Ok(_) => refused("its labels do not match allowedNamespaces.selector"),
                    Err(e) => refused(&format!("allowedNamespaces.selector is invalid: {e}")),
                }
            }
        }
    }
}

impl crate::api::conditions::Conditioned for KafkaConnectClusterStatus {
    fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    fn conditions_mut(&mut self) -> &mut Vec<Condition> {
        &mut self.conditions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_names_the_secrets_and_config_maps_its_settings_come_from() {
        let spec: KafkaConnectClusterSpec = serde_json::from_value(serde_json::json!({
            "url": "https://c:8083",
            "auth": {"bearer": {"secretName": "token"}},
            "tls": {"ca": {"configMapName": "ca"}, "clientCertificateSecret": "client"},
        }))
        .unwrap();
        assert_eq!(spec.secret_names(), vec!["token", "client"]);
        assert_eq!(spec.config_map_names(), vec!["ca"]);
    }

    fn cluster(allowed: serde_json::Value) -> KafkaConnectCluster {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
            "metadata": {"name": "shared", "namespace": "platform"},
            "spec": {"url": "http://c:8083", "allowedNamespaces": allowed},
        }))
        .unwrap()
    }

    #[test]
    fn which_namespaces_a_cluster_admits() {
        let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let same = cluster(serde_json::json!({}));
        assert!(same.admits("platform", None).is_ok());
        let err = same.admits("team-a", None).unwrap_err();
        assert!(
            err.contains("does not allow KafkaConnectors of namespace team-a"),
            "{err}"
        );
        assert!(err.contains("from is Same"), "{err}");
        assert!(
            cluster(serde_json::json!({"from": "All"}))
                .admits("x", None)
                .is_ok()
        );
        let sel = cluster(serde_json::json!({"from": "Selector", "selector": {
            "matchLabels": {"connect": "shared"},
            "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["dev"]}]}}));
        assert!(
            sel.admits("a", Some(&labels(&[("connect", "shared")])))
                .is_ok()
        );
        let dev = labels(&[("connect", "shared"), ("tier", "dev")]);
        assert!(
            sel.admits("a", Some(&dev))
                .unwrap_err()
                .contains("do not match")
        );
        // Its own namespace is no exception to a selector.
        assert!(sel.admits("platform", Some(&labels(&[]))).is_err());
        assert!(sel.admits("a", None).unwrap_err().contains("cannot read"));
    }
}
