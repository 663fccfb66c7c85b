//! What one admission review reads: the KafkaConnectCluster the object names (and whether it
//! allows the object's namespace), the cluster's credentials, the `configFrom` values, and
//! Connect's answer to validate. Each step that cannot be done is a reason to skip, never
//! to refuse: only Connect's own verdict refuses.
//!
//! The author of a KafkaConnector may not be allowed to read the Secrets its `configFrom`
//! names. Validating with their values would answer, through Connect's messages, questions
//! about a Secret the author cannot read; so each such Secret is checked first with a
//! LocalSubjectAccessReview for the requesting user, and validation is skipped if any is
//! not theirs to read.

use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::UserInfo;
use k8s_openapi::api::authorization::v1::{
    LocalSubjectAccessReview, ResourceAttributes, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client, ResourceExt};

use super::verdict::Outcome;
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::config::defaults::WEBHOOK_BUDGET;
use crate::controller::connector::{desired_config, error_handling, resolve_config_from, validate};
use crate::controller::credentials::resolve_settings;
use crate::mask::Masks;

pub struct Reviewer {
    client: Client,
    allowed_urls: Vec<String>,
}

impl Reviewer {
    pub fn new(client: Client, allowed_urls: Vec<String>) -> Self {
        Self {
            client,
            allowed_urls,
        }
    }

    /// Asks Connect about `obj`'s config within the review's budget. Also returns the
    /// non-fatal findings to warn about (error-handling traps).
    pub async fn check(&self, obj: &KafkaConnector, user: &UserInfo) -> (Outcome, Vec<String>) {
        let deadline = Instant::now() + WEBHOOK_BUDGET;
        let work = self.ask(obj, user, deadline);
        match tokio::time::timeout_at(deadline.into(), work).await {
            Ok(found) => found,
            Err(_) => (
                Outcome::Skipped(format!(
                    "no answer within {}s (Connect or the apiserver is slow); the operator validates again when it applies the config",
                    WEBHOOK_BUDGET.as_secs()
                )),
                vec![],
            ),
        }
    }

    async fn ask(
        &self,
        obj: &KafkaConnector,
        user: &UserInfo,
        deadline: Instant,
    ) -> (Outcome, Vec<String>) {
        let ns = obj.namespace().unwrap_or_default();
        let (cluster_ns, cluster_name) = obj.cluster_key();
        let cluster_id = format!("{cluster_ns}/{cluster_name}");
        let skip = |why: String| (Outcome::Skipped(why), vec![]);
        let clusters: Api<KafkaConnectCluster> = Api::namespaced(self.client.clone(), &cluster_ns);
        let cluster = match clusters.get_opt(&cluster_name).await {
            Ok(Some(c)) => c,
            Ok(None) => return skip(format!("KafkaConnectCluster {cluster_id} not found")),
            Err(e) => return skip(format!("cannot read KafkaConnectCluster {cluster_id}: {e}")),
        };
        let labels = if cluster_ns == ns {
            None
        } else {
            // A list by name: what the cluster-wide RBAC grants on namespaces (list, watch).
            let namespaces: Api<Namespace> = Api::all(self.client.clone());
            let by_name = ListParams::default().fields(&format!("metadata.name={ns}"));
            let listed = namespaces.list_metadata(&by_name).await.ok();
            let meta = listed.and_then(|l| l.items.into_iter().next());
            meta.map(|m| m.metadata.labels.unwrap_or_default())
        };
        if let Err(why) = cluster.admits(&ns, labels.as_ref()) {
            return skip(why);
        }

        let name = obj.connector_name();
        let mut desired = desired_config(&obj.spec, &name);
        let kind = cluster
            .status
            .iter()
            .flat_map(|s| &s.plugins)
            .find(|p| p.class == obj.spec.class)
            .map(|p| p.type_.clone());
        // Warned about from the spec alone: a Secret's value never changes these.
        let (_, warnings) = error_handling(&desired, kind.as_deref());
        let skip = |why: String| (Outcome::Skipped(why), warnings.clone());

        for secret in obj
            .spec
            .config_from
            .iter()
            .filter_map(|f| f.value_from.secret_key_ref.as_ref())
        {
            match self.may_read(user, &ns, &secret.name).await {
                Ok(true) => {}
                Ok(false) => {
                    return skip(format!(
                        "you may not read Secret {}, which configFrom names",
                        secret.name
                    ));
                }
                Err(e) => {
                    return skip(format!(
                        "cannot ask who may read Secret {}: {e}",
                        secret.name
                    ));
                }
            }
        }
        // The author may read every Secret named (checked above): no opt-in needed.
        let values = match resolve_config_from(&self.client, &ns, &obj.spec.config_from, None).await
        {
            Ok(v) => v,
            Err(e) => return skip(e.to_string()),
        };
        desired.extend(values.values);
        let masks = Masks::of_config(&desired).with(values.secret);

        let mut settings = match resolve_settings(&self.client, &cluster, &self.allowed_urls).await
        {
            Ok(s) => s,
            Err(e) => return skip(e.to_string()),
        };
        let left = deadline.saturating_duration_since(Instant::now());
        settings.timeout = settings.timeout.min(left).max(Duration::from_millis(100));
        let connect = match settings.build() {
            Ok(c) => c.once(),
            Err(e) => return skip(e.to_string()),
        };
        let outcome = match validate(&connect, &obj.spec.class, &desired, &masks).await {
            Ok(errors) => Outcome::Validated {
                cluster: cluster_id,
                errors,
            },
            Err(e) => Outcome::Skipped(format!(
                "KafkaConnectCluster {cluster_id}: {}",
                masks.apply(&e.to_string())
            )),
        };
        (outcome, warnings)
    }

    /// Whether `user` may `get` Secret `name` in `ns`, as the apiserver's authorizer says.
    async fn may_read(&self, user: &UserInfo, ns: &str, name: &str) -> kube::Result<bool> {
        let review = LocalSubjectAccessReview {
            metadata: kube::api::ObjectMeta {
                namespace: Some(ns.to_string()),
                ..Default::default()
            },
            spec: SubjectAccessReviewSpec {
                user: user.username.clone(),
                uid: user.uid.clone(),
                groups: user.groups.clone(),
                extra: user.extra.clone(),
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(ns.to_string()),
                    verb: Some("get".into()),
                    resource: Some("secrets".into()),
                    name: Some(name.to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            status: None,
        };
        let api: Api<LocalSubjectAccessReview> = Api::namespaced(self.client.clone(), ns);
        let answer = api.create(&PostParams::default(), &review).await?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}
