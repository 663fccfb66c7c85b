//! What a KafkaConnector reads from Secrets and ConfigMaps in its namespace (part of the
//! fetch step): `spec.configFrom` values, and the offsets of `spec.offsets.alterFrom`. All or
//! nothing: a missing object or key is an error naming it (never its content), so a partial
//! config is never written to Connect.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::api::connector::{ConfigValueFrom, KeyRef};
use crate::connect::types::ConnectorOffsets;
use crate::error::{Error, Result};

/// Values resolved from `configFrom`.
#[derive(Debug, Default)]
pub struct ConfigValues {
    /// Key → value, to lay over the spec's config.
    pub values: BTreeMap<String, String>,
    /// Values that came from Secrets: masked wherever the operator writes.
    pub secret: Vec<String>,
}

pub async fn resolve(client: &Client, ns: &str, from: &[ConfigValueFrom]) -> Result<ConfigValues> {
    let mut out = ConfigValues::default();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    for item in from {
        let source = &item.value_from;
        let value = match (&source.secret_key_ref, &source.config_map_key_ref) {
            (Some(r), _) => {
                let v = secret_value(&secrets, r).await?;
                out.secret.push(v.clone());
                v
            }
            (None, Some(r)) => config_map_value(&maps, r).await?,
            (None, None) => {
                let key = &item.key;
                return Err(Error::MissingReference(format!(
                    "configFrom {key}: valueFrom names no Secret or ConfigMap"
                )));
            }
        };
        out.values.insert(item.key.clone(), value);
    }
    Ok(out)
}

async fn secret_value(api: &Api<Secret>, r: &KeyRef) -> Result<String> {
    let (name, key) = (&r.name, &r.key);
    let secret = api
        .get_opt(name)
        .await?
        .ok_or_else(|| Error::MissingReference(format!("Secret {name} not found")))?;
    let bytes = secret
        .data
        .and_then(|d| d.get(key).map(|b| b.0.clone()))
        .or_else(|| {
            secret
                .string_data
                .and_then(|d| d.get(key).map(|s| s.clone().into_bytes()))
        })
        .ok_or_else(|| Error::MissingReference(format!("Secret {name} has no key {key}")))?;
    String::from_utf8(bytes)
        .map_err(|_| Error::MissingReference(format!("Secret {name}: key {key} is not UTF-8")))
}

/// The offsets an alter request names: inline, or a ConfigMap key holding either a JSON list
/// of `{partition, offset}` or the `{"offsets": [...]}` that `GET .../offsets` answers.
pub async fn alter_offsets(
    client: &Client,
    ns: &str,
    request: &crate::api::connector::OffsetsRequest,
) -> Result<ConnectorOffsets> {
    if let Some(entries) = &request.alter {
        return Ok(super::offsets::alter_body(entries));
    }
    let Some(r) = &request.alter_from else {
        return Ok(ConnectorOffsets::default());
    };
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let text = config_map_value(&maps, r).await?;
    let (name, key) = (&r.name, &r.key);
    let wrapped = serde_json::from_str::<ConnectorOffsets>(&text);
    let list = serde_json::from_str::<Vec<crate::connect::types::ConnectorOffset>>(&text);
    match (wrapped, list) {
        (Ok(o), _) => Ok(o),
        (_, Ok(offsets)) => Ok(ConnectorOffsets { offsets }),
        (Err(e), Err(_)) => Err(Error::MissingReference(format!(
            "ConfigMap {name} key {key} holds no offsets list ({e})"
        ))),
    }
}

async fn config_map_value(api: &Api<ConfigMap>, r: &KeyRef) -> Result<String> {
    let (name, key) = (&r.name, &r.key);
    let map = api
        .get_opt(name)
        .await?
        .ok_or_else(|| Error::MissingReference(format!("ConfigMap {name} not found")))?;
    map.data
        .and_then(|d| d.get(key).cloned())
        .ok_or_else(|| Error::MissingReference(format!("ConfigMap {name} has no key {key}")))
}
