//! The one reader of Secrets and ConfigMaps: what a KafkaConnectCluster names (credentials,
//! TLS material) and what a KafkaConnector names (`configFrom`, `offsets.alterFrom`). A
//! missing object or key is `Error::MissingReference` naming it, never its content.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::error::{Error, Result};

/// The annotation by which a Secret names the KafkaConnectClusters (comma-separated, same
/// namespace) that may send it to their URL. Without it, whoever may create a
/// KafkaConnectCluster could have any Secret of the namespace sent to a URL of their choice.
pub const SHARED_WITH: &str = "kafkaconnect.dev/clusters";

/// The annotation by which a Secret names the KafkaConnectors (comma-separated, same
/// namespace; `*` for all) whose `configFrom` may read it, where the admission policy that
/// checks the author may read it is not installed (`admission.rs`).
pub const READ_BY: &str = "kafkaconnect.dev/connectors";

/// Reads Secrets and ConfigMaps of one namespace.
pub struct References {
    secrets: Api<Secret>,
    maps: Api<ConfigMap>,
}

impl References {
    pub fn new(client: &Client, namespace: &str) -> Self {
        Self {
            secrets: Api::namespaced(client.clone(), namespace),
            maps: Api::namespaced(client.clone(), namespace),
        }
    }

    /// A Secret's data (`stringData` over `data`). `for_cluster`: the Secret must name that
    /// KafkaConnectCluster in `SHARED_WITH`, else `SecretNotShared` and nothing is read.
    pub async fn secret(
        &self,
        name: &str,
        for_cluster: Option<&str>,
    ) -> Result<BTreeMap<String, ByteString>> {
        let secret = self.get_secret(name).await?;
        if let Some(cluster) = for_cluster
            && !names(&secret, SHARED_WITH, cluster, false)
        {
            return Err(Error::SecretNotShared(format!(
                "Secret {name} does not name KafkaConnectCluster {cluster} in its annotation {SHARED_WITH}, so it is not read: add {SHARED_WITH}: \"{cluster}\" to the Secret (credentials are sent only to clusters their Secret names)"
            )));
        }
        Ok(secret_data(secret))
    }

    /// One key of a Secret, as UTF-8 text. `for_connector`: the Secret must name that
    /// KafkaConnector (or `*`) in `READ_BY`, else `SecretNotShared` and nothing is read.
    pub async fn secret_text(
        &self,
        name: &str,
        key: &str,
        for_connector: Option<&str>,
    ) -> Result<String> {
        let secret = self.get_secret(name).await?;
        if let Some(connector) = for_connector
            && !names(&secret, READ_BY, connector, true)
        {
            return Err(Error::SecretNotShared(format!(
                "Secret {name} does not name KafkaConnector {connector} in its annotation {READ_BY}, so it is not read: add {READ_BY}: \"{connector}\" (or \"*\") to the Secret, or install the admission policy that checks the author may read it"
            )));
        }
        let bytes = secret_key(&secret_data(secret), name, key)?;
        String::from_utf8(bytes)
            .map_err(|_| Error::MissingReference(format!("Secret {name}: key {key} is not UTF-8")))
    }

    /// The Secret, read once; `MissingReference` when there is none.
    async fn get_secret(&self, name: &str) -> Result<Secret> {
        self.secrets
            .get_opt(name)
            .await?
            .ok_or_else(|| Error::MissingReference(format!("Secret {name} not found")))
    }

    /// One key of a ConfigMap's `data`.
    pub async fn config_map_text(&self, name: &str, key: &str) -> Result<String> {
        let map = self
            .maps
            .get_opt(name)
            .await?
            .ok_or_else(|| Error::MissingReference(format!("ConfigMap {name} not found")))?;
        map.data
            .and_then(|d| d.get(key).cloned())
            .ok_or_else(|| Error::MissingReference(format!("ConfigMap {name} has no key {key}")))
    }
}

/// One key of Secret `secret`'s data.
pub fn secret_key(data: &BTreeMap<String, ByteString>, secret: &str, key: &str) -> Result<Vec<u8>> {
    data.get(key)
        .map(|b| b.0.clone())
        .ok_or_else(|| Error::MissingReference(format!("Secret {secret} has no key {key}")))
}

/// Whether `secret` names `who` in its comma-separated `annotation` (`*` counts when `any`).
fn names(secret: &Secret, annotation: &str, who: &str, any: bool) -> bool {
    let listed = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(annotation));
    listed.is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|c| c == who || (any && c == "*"))
    })
}

/// A Secret's data (`stringData` over `data`).
fn secret_data(secret: Secret) -> BTreeMap<String, ByteString> {
    let mut data = secret.data.unwrap_or_default();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.insert(k, ByteString(v.into_bytes()));
    }
    data
}
