//! Reads what a KafkaConnectCluster names in Kubernetes (the URL, the auth Secret, the CA
//! and client-certificate material) into `ClientSettings`. Resolution happens on every
//! cluster reconcile, so a rotated password or CA is picked up without a restart.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};
use url::Url;

use crate::api::KafkaConnectCluster;
use crate::api::cluster::{CaSource, ClusterAuth};
use crate::connect::ClientSettings;
use crate::error::{Error, Result};

/// Reads the Secrets and ConfigMaps that `cluster` names and returns resolved settings.
/// A missing object or key is `Error::MissingReference` naming it (never its content).
pub async fn resolve_settings(
    client: &Client,
    cluster: &KafkaConnectCluster,
) -> Result<ClientSettings> {
    let ns = cluster.metadata.namespace.clone().unwrap_or_default();
    let url = Url::parse(&cluster.spec.url)
        .map_err(|e| Error::MissingReference(format!("spec.url is not a URL: {e}")))?;
    let mut settings = ClientSettings::plain(url);
    if let Some(t) = cluster.spec.request_timeout_seconds {
        settings.timeout = Duration::from_secs(t.into());
    }
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
    let name = cluster.metadata.name.clone().unwrap_or_default();
    let for_cluster = Some(name.as_str());
    if let Some(auth) = &cluster.spec.auth {
        settings.authorization = authorization(&secrets, auth, for_cluster).await?;
    }
    if let Some(tls) = &cluster.spec.tls {
        settings.insecure_skip_verify = tls.insecure_skip_verify;
        if let Some(ca) = &tls.ca {
            let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns);
            settings.ca_pem = Some(ca_bundle(&secrets, &cms, ca).await?);
        }
        if let Some(name) = &tls.client_certificate_secret {
            let data = secret_data(&secrets, name, for_cluster).await?;
            let mut pem = key(&data, name, "tls.crt")?;
            pem.push(b'\n');
            pem.extend_from_slice(&key(&data, name, "tls.key")?);
            settings.client_identity_pem = Some(pem);
        }
    }
    Ok(settings)
}

/// The `Authorization` header value for basic or bearer auth.
async fn authorization(
    secrets: &Api<Secret>,
    auth: &ClusterAuth,
    for_cluster: Option<&str>,
) -> Result<Option<String>> {
    if let Some(basic) = &auth.basic {
        let name = &basic.secret_name;
        let data = secret_data(secrets, name, for_cluster).await?;
        let mut raw = key(
            &data,
            name,
            basic.username_key.as_deref().unwrap_or("username"),
        )?;
        raw.push(b':');
        raw.extend_from_slice(&key(
            &data,
            name,
            basic.password_key.as_deref().unwrap_or("password"),
        )?);
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        return Ok(Some(format!("Basic {encoded}")));
    }
    if let Some(bearer) = &auth.bearer {
        let name = &bearer.secret_name;
        let data = secret_data(secrets, name, for_cluster).await?;
        let token = key(&data, name, bearer.token_key.as_deref().unwrap_or("token"))?;
        let token = String::from_utf8(token)
            .map_err(|_| Error::MissingReference(format!("Secret {name}: token is not UTF-8")))?;
        return Ok(Some(format!("Bearer {}", token.trim())));
    }
    Ok(None)
}

/// The PEM CA bundle from the Secret or ConfigMap `ca` names.
async fn ca_bundle(secrets: &Api<Secret>, cms: &Api<ConfigMap>, ca: &CaSource) -> Result<Vec<u8>> {
    let k = ca.key.as_deref().unwrap_or("ca.crt");
    match (&ca.secret_name, &ca.config_map_name) {
        // A CA bundle is public material: no opt-in needed.
        (Some(s), _) => key(&secret_data(secrets, s, None).await?, s, k),
        (None, Some(cm)) => {
            let map = cms
                .get_opt(cm)
                .await?
                .ok_or_else(|| Error::MissingReference(format!("ConfigMap {cm} not found")))?;
            map.data
                .and_then(|d| d.get(k).cloned())
                .map(String::into_bytes)
                .ok_or_else(|| Error::MissingReference(format!("ConfigMap {cm} has no key {k}")))
        }
        (None, None) => Err(Error::MissingReference("tls.ca names no source".into())),
    }
}

/// The annotation by which a Secret names the KafkaConnectClusters (comma-separated, same
/// namespace) that may send it to their URL. Without it, whoever may create a
/// KafkaConnectCluster could have any Secret of the namespace sent to a URL of their choice.
pub const SHARED_WITH: &str = "kafkaconnect.dev/clusters";

/// The Secret's data; with `for_cluster`, only if the Secret names that cluster in
/// `SHARED_WITH`.
async fn secret_data(
    api: &Api<Secret>,
    name: &str,
    for_cluster: Option<&str>,
) -> Result<BTreeMap<String, ByteString>> {
    let secret = api
        .get_opt(name)
        .await?
        .ok_or_else(|| Error::MissingReference(format!("Secret {name} not found")))?;
    if let Some(cluster) = for_cluster {
        let shared = secret
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SHARED_WITH))
            .is_some_and(|v| v.split(',').any(|c| c.trim() == cluster));
        if !shared {
            return Err(Error::SecretNotShared(format!(
                "Secret {name} does not name KafkaConnectCluster {cluster} in its annotation {SHARED_WITH}, so it is not read: add {SHARED_WITH}: \"{cluster}\" to the Secret (credentials are sent only to clusters their Secret names)"
            )));
        }
    }
    let mut data = secret.data.unwrap_or_default();
    for (k, v) in secret.string_data.unwrap_or_default() {
        data.insert(k, ByteString(v.into_bytes()));
    }
    Ok(data)
}

fn key(data: &BTreeMap<String, ByteString>, secret: &str, key: &str) -> Result<Vec<u8>> {
    data.get(key)
        .map(|b| b.0.clone())
        .ok_or_else(|| Error::MissingReference(format!("Secret {secret} has no key {key}")))
}
