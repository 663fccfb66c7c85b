//! `spec.configFrom`: config values read from Secrets and ConfigMaps in the KafkaConnector's
//! namespace (part of the fetch step). All or nothing: a missing object or key is an error
//! naming it (never its content), so a partial config is never written to Connect.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::api::connector::{ConfigValueFrom, KeyRef};
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
