//! What a KafkaConnector reads from Secrets and ConfigMaps in its namespace (part of the
//! fetch step): `spec.configFrom` values, and the offsets of `spec.offsets.alterFrom`. All or
//! nothing: a missing object or key is an error naming it (never its content), so a partial
//! config is never written to Connect.

use std::collections::BTreeMap;

use kube::Client;

use crate::api::connector::ConfigValueFrom;
use crate::connect::types::ConnectorOffsets;
use crate::controller::references::References;
use crate::error::{Error, Result};

/// Values resolved from `configFrom`.
#[derive(Debug, Default)]
pub struct ConfigValues {
    /// Key → value, to lay over the spec's config.
    pub values: BTreeMap<String, String>,
    /// Values that came from Secrets: masked wherever the operator writes.
    pub secret: Vec<String>,
}

/// `opt_in`: the KafkaConnector's name when its Secrets must opt in (`references::READ_BY`).
pub async fn resolve(
    client: &Client,
    ns: &str,
    from: &[ConfigValueFrom],
    opt_in: Option<&str>,
) -> Result<ConfigValues> {
    let mut out = ConfigValues::default();
    let refs = References::new(client, ns);
    for item in from {
        let source = &item.value_from;
        let value = match (&source.secret_key_ref, &source.config_map_key_ref) {
            (Some(r), _) => {
                let v = refs.secret_text(&r.name, &r.key, opt_in).await?;
                out.secret.push(v.clone());
                v
            }
            (None, Some(r)) => refs.config_map_text(&r.name, &r.key).await?,
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
    let text = References::new(client, ns)
        .config_map_text(&r.name, &r.key)
        .await?;
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
