//! The one way this operator writes status: server-side apply of the whole status, with
//! field manager `MANAGER`, and only when something other than a timestamp changed. Fields
//! left out of an apply are removed (we own all of them), so no compensating patch is needed
//! (objects last written by an older version are the one exception: `legacy_auto_restart`).
//!
//! The watch cache can hand a reconcile an object older than our own last status write;
//! deciding from that stale status would serve a restart id twice or lose an auto-restart
//! count. `StatusMemory` is the one piece of process-local memory that covers this: the
//! status this process last wrote for each KafkaConnector, preferred over the object's.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::api::{Patch, PatchParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde_json::json;

use super::MANAGER;
use crate::api::KafkaConnector;
use crate::api::conditions::Conditioned;
use crate::api::connector::KafkaConnectorStatus;
use crate::error::Result;

/// Server-side applies `status` as the whole status of `obj`.
pub async fn apply_status<K>(client: &Client, obj: &K, status: &impl Serialize) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api: Api<K> = Api::namespaced(client.clone(), &obj.namespace().unwrap_or_default());
    let patch = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        &obj.name_any(),
        &PatchParams::apply(MANAGER).force(),
        &Patch::Apply(patch),
    )
    .await?;
    Ok(())
}

/// The status this process last wrote, by object uid (see the module comment).
#[derive(Default)]
pub struct StatusMemory(Mutex<HashMap<String, KafkaConnectorStatus>>);

impl StatusMemory {
    /// The status to decide from: what we last wrote, else what the object carries.
    pub fn last(&self, obj: &KafkaConnector) -> KafkaConnectorStatus {
        let remembered = self
            .0
            .lock()
            .expect("status memory")
            .get(&uid(obj))
            .cloned();
        remembered
            .or_else(|| obj.status.clone())
            .unwrap_or_default()
    }

    pub fn remember(&self, obj: &KafkaConnector, status: &KafkaConnectorStatus) {
        self.0
            .lock()
            .expect("status memory")
            .insert(uid(obj), status.clone());
    }

    pub fn forget(&self, obj: &KafkaConnector) {
        self.0.lock().expect("status memory").remove(&uid(obj));
    }
}

fn uid(obj: &KafkaConnector) -> String {
    obj.metadata.uid.clone().unwrap_or_default()
}

/// Writes a KafkaConnector's status unless it equals, timestamps aside, the last one we
/// wrote (or the object's). Returns whether it wrote.
pub async fn write_connector_status(
    client: &Client,
    memory: &StatusMemory,
    obj: &KafkaConnector,
    status: &KafkaConnectorStatus,
) -> Result<bool> {
    let last = memory.last(obj);
    if status.same_ignoring_time(&last) {
        return Ok(false);
    }
    apply_status(client, obj, status).await?;
    if status.auto_restart.is_none() && last.auto_restart.is_some() && legacy_auto_restart(obj) {
        // Upgrade path only, see `legacy_auto_restart`.
        let api: Api<KafkaConnector> =
            Api::namespaced(client.clone(), &obj.namespace().unwrap_or_default());
        let reset = json!({"status": {"autoRestart": null}});
        api.patch_status(
            &obj.name_any(),
            &PatchParams::default(),
            &Patch::Merge(reset),
        )
        .await?;
    }
    memory.remember(obj, status);
    Ok(true)
}

/// Versions before this writer also wrote `status.autoRestart` with a merge patch, so a
/// second field manager (an `Update` entry) may co-own it, and leaving it out of an apply
/// would not remove it. Only for such objects is a reset followed by an explicit removal.
fn legacy_auto_restart(obj: &KafkaConnector) -> bool {
    obj.metadata.managed_fields.iter().flatten().any(|m| {
        m.operation.as_deref() == Some("Update")
            && m.subresource.as_deref() == Some("status")
            && m.fields_v1
                .as_ref()
                .and_then(|f| f.0.get("f:status"))
                .and_then(|s| s.get("f:autoRestart"))
                .is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(uid: &str, restart_id: Option<&str>) -> KafkaConnector {
        let mut obj = KafkaConnector::new("c", Default::default());
        obj.metadata.uid = Some(uid.into());
        obj.status = Some(KafkaConnectorStatus {
            last_restart_id: restart_id.map(Into::into),
            ..Default::default()
        });
        obj
    }

    #[test]
    fn a_merge_patched_auto_restart_is_recognised_as_legacy() {
        let mut obj = connector("u", None);
        assert!(!legacy_auto_restart(&obj));
        obj.metadata.managed_fields = Some(
            serde_json::from_value(serde_json::json!([
                {"manager": "kafka-connect-operator", "operation": "Apply", "subresource": "status",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:autoRestart": {}}}},
            ]))
            .unwrap(),
        );
        assert!(!legacy_auto_restart(&obj), "our own apply owns it alone");
        obj.metadata.managed_fields = Some(serde_json::from_value(serde_json::json!([
            {"manager": "kafka-connect-operator", "operation": "Update", "subresource": "status",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {"f:autoRestart": {"f:count": {}}}}},
        ])).unwrap());
        assert!(legacy_auto_restart(&obj));
    }

    #[test]
    fn what_we_wrote_wins_over_a_stale_object_until_forgotten() {
        let memory = StatusMemory::default();
        let stale = connector("u1", Some("old"));
        assert_eq!(memory.last(&stale).last_restart_id.as_deref(), Some("old"));
        let written = KafkaConnectorStatus {
            last_restart_id: Some("new".into()),
            ..Default::default()
        };
        memory.remember(&stale, &written);
        assert_eq!(memory.last(&stale).last_restart_id.as_deref(), Some("new"));
        // Another object (another uid, e.g. re-created with the same name) is not confused.
        let other = connector("u2", None);
        assert_eq!(memory.last(&other).last_restart_id, None);
        memory.forget(&stale);
        assert_eq!(memory.last(&stale).last_restart_id.as_deref(), Some("old"));
    }
}
