//! Reads what a KafkaConnectCluster names in Kubernetes (the URL, the auth Secret, the CA
//! and client-certificate material) into `ClientSettings`. Resolution happens on every
//! cluster reconcile, so a rotated password or CA is picked up without a restart.

use std::time::Duration;

use base64::Engine;
use kube::Client;
use url::Url;

use super::references::{References, secret_key as key};
use crate::api::KafkaConnectCluster;
use crate::api::cluster::{CaSource, ClusterAuth};
use crate::connect::ClientSettings;
use crate::error::{Error, Result};

/// Reads the Secrets and ConfigMaps that `cluster` names and returns resolved settings.
/// A missing object or key is `Error::MissingReference` naming it (never its content). A URL
/// outside `allowed` is `Error::UrlNotAllowed`, before anything is read.
pub async fn resolve_settings(
    client: &Client,
    cluster: &KafkaConnectCluster,
    allowed: &[String],
) -> Result<ClientSettings> {
    let ns = cluster.metadata.namespace.clone().unwrap_or_default();
    let url = Url::parse(&cluster.spec.url)
        .map_err(|e| Error::MissingReference(format!("spec.url is not a URL: {e}")))?;
    if !url_allowed(&url, allowed) {
        return Err(Error::UrlNotAllowed(format!(
            "spec.url {url} does not start with any URL this operator may call (--allowed-urls: {}): no request is sent",
            allowed.join(", ")
        )));
    }
    let mut settings = ClientSettings::plain(url);
    if let Some(t) = cluster.spec.request_timeout_seconds {
        settings.timeout = Duration::from_secs(t.into());
    }
    let refs = References::new(client, &ns);
    let name = cluster.metadata.name.clone().unwrap_or_default();
    let for_cluster = Some(name.as_str());
    if let Some(auth) = &cluster.spec.auth {
        settings.authorization = authorization(&refs, auth, for_cluster).await?;
    }
    if let Some(tls) = &cluster.spec.tls {
        settings.insecure_skip_verify = tls.insecure_skip_verify;
        if let Some(ca) = &tls.ca {
            settings.ca_pem = Some(ca_bundle(&refs, ca).await?);
        }
        if let Some(name) = &tls.client_certificate_secret {
            let data = refs.secret(name, for_cluster).await?;
            let mut pem = key(&data, name, "tls.crt")?;
            pem.push(b'\n');
            pem.extend_from_slice(&key(&data, name, "tls.key")?);
            settings.client_identity_pem = Some(pem);
        }
    }
    Ok(settings)
}

/// Whether `url` starts with one of the `allowed` prefixes (any URL when there are none).
/// A prefix that parses as a URL is compared as `url` serialises (scheme and host lower
/// case, default port dropped, a bare host ending in `/`), so `http://connect:8083` allows
/// neither `http://connect:8084/` nor `http://connect:8083@evil.example/`.
pub fn url_allowed(url: &Url, allowed: &[String]) -> bool {
    let normal = |p: &String| Url::parse(p).map_or_else(|_| p.to_lowercase(), String::from);
    allowed.is_empty() || allowed.iter().any(|p| url.as_str().starts_with(&normal(p)))
}

/// The `Authorization` header value for basic or bearer auth.
async fn authorization(
    refs: &References,
    auth: &ClusterAuth,
    for_cluster: Option<&str>,
) -> Result<Option<String>> {
    if let Some(basic) = &auth.basic {
        let name = &basic.secret_name;
        let data = refs.secret(name, for_cluster).await?;
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
        let data = refs.secret(name, for_cluster).await?;
        let token = key(&data, name, bearer.token_key.as_deref().unwrap_or("token"))?;
        let token = String::from_utf8(token)
            .map_err(|_| Error::MissingReference(format!("Secret {name}: token is not UTF-8")))?;
        return Ok(Some(format!("Bearer {}", token.trim())));
    }
    Ok(None)
}

/// The PEM CA bundle from the Secret or ConfigMap `ca` names.
async fn ca_bundle(refs: &References, ca: &CaSource) -> Result<Vec<u8>> {
    let k = ca.key.as_deref().unwrap_or("ca.crt");
    match (&ca.secret_name, &ca.config_map_name) {
        (Some(s), _) => key(&refs.secret(s, None).await?, s, k),
        (None, Some(cm)) => refs.config_map_text(cm, k).await.map(String::into_bytes),
        (None, None) => Err(Error::MissingReference("tls.ca names no source".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_urls_under_an_allowed_prefix_are_called() {
        let allowed = vec![
            "http://Connect:8083".to_string(),
            "https://connect.kafka.svc/api/".to_string(),
        ];
        let ok = |u: &str| url_allowed(&Url::parse(u).unwrap(), &allowed);
        assert!(ok("http://connect:8083"));
        assert!(ok("http://connect:8083/"));
        assert!(ok("https://connect.kafka.svc:443/api/v1"));
        assert!(!ok("http://connect:8084/"), "another port");
        assert!(!ok("http://connect:8083@evil.example/"), "another host");
        assert!(!ok("https://connect.kafka.svc/other/"), "another path");
        assert!(!ok("http://127.0.0.1:8083/"));
        assert!(url_allowed(&Url::parse("http://anything/").unwrap(), &[]));
    }
}
