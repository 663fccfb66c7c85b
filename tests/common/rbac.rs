//! RBAC for a test's users: what a connector author may do in a namespace.

use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

/// `user` may write KafkaConnectors in `ns`, plus `extra` rules (e.g. reading one
/// ConfigMap), and nothing else.
pub async fn grant_connector_author(admin: &Client, ns: &str, user: &str, extra: &[Value]) {
    let mut rules = vec![
        json!({"apiGroups": ["kafkaconnect.dev"], "resources": ["kafkaconnectors"],
        "verbs": ["get", "list", "create", "update", "patch"]}),
    ];
    rules.extend(extra.iter().cloned());
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "connector-author", "namespace": ns}, "rules": rules});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "connector-author", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "connector-author"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]});
    for (kind, obj) in [("Role", role), ("RoleBinding", binding)] {
        let gvk = GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", kind);
        let plural = format!("{}s", kind.to_lowercase());
        let ar = ApiResource::from_gvk_with_plural(&gvk, &plural);
        let api: Api<DynamicObject> = Api::namespaced_with(admin.clone(), ns, &ar);
        let obj: DynamicObject = serde_json::from_value(obj).unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap();
    }
}
