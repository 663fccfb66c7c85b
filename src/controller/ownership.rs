//! Which KafkaConnector owns a connector name on a Connect cluster.
//!
//! Decided from the operator's own cache of CRs, never from a marker inside the connector's
//! config (anyone with REST access can remove that). A Connect cluster is identified by its
//! normalised REST URL, and URLs whose polls showed a common worker are one cluster (see
//! `ClusterRegistry::identities`), so two KafkaConnectCluster objects (even in different
//! namespaces) that reach the same Connect group, by one URL or by several, share one
//! ownership space.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use jiff::Timestamp;
use kube::{Resource, ResourceExt};

use crate::api::{KafkaConnectCluster, KafkaConnector};

/// One CR's claim: who, since when, on which Connect cluster, for which connector name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub namespace: String,
    pub name: String,
    pub created: Option<Timestamp>,
    pub cluster_url: String,
    pub connector: String,
}

/// The claim that wins among `claims` for (`cluster_url`, `connector`): the oldest CR; equal
/// ages (timestamps have one-second resolution) are ordered by namespace and name so that
/// every replica agrees.
pub fn winner<'a>(
    claims: impl IntoIterator<Item = &'a Claim>,
    cluster_url: &str,
    connector: &str,
) -> Option<&'a Claim> {
    claims
        .into_iter()
        .filter(|c| c.cluster_url == cluster_url && c.connector == connector)
        .min_by(|a, b| {
            // A claim without a timestamp (never persisted) sorts last.
            let age = |c: &Claim| c.created.unwrap_or(Timestamp::MAX);
            age(a)
                .cmp(&age(b))
                .then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
        })
}

/// The caches claims are read from: every KafkaConnector and KafkaConnectCluster, and which
/// URLs reach one Connect group (`ClusterRegistry::identities`).
pub struct Caches<'a> {
    pub connectors: &'a [Arc<KafkaConnector>],
    pub clusters: &'a [Arc<KafkaConnectCluster>],
    pub identities: &'a HashMap<String, String>,
}

impl Caches<'_> {
    /// The Connect cluster a (normalised) URL reaches: the identity it shares with the other
    /// URLs of its group, else the URL itself.
    pub fn identity(&self, url: &str) -> String {
        self.identities
            .get(url)
            .cloned()
            .unwrap_or_else(|| url.to_string())
    }

    /// The identity of the Connect cluster behind the KafkaConnectCluster `c` names.
    fn url_of(&self, c: &KafkaConnector) -> Option<String> {
        self.url_at(&c.cluster_key())
    }

    /// The identity of the Connect cluster a move takes `c`'s connector from, while it does.
    fn origin_url_of(&self, c: &KafkaConnector) -> Option<String> {
        self.url_at(&c.moving_from(c.status.as_ref()?)?)
    }

    fn url_at(&self, (ns, name): &(String, String)) -> Option<String> {
        self.clusters
            .iter()
            .find(|k| {
                k.metadata.namespace.as_ref() == Some(ns) && k.metadata.name.as_ref() == Some(name)
            })
            .map(|k| self.identity(&normalise_url(&k.spec.url)))
    }

    /// Every KafkaConnector's claim on `obj`'s connector at `url`, `obj`'s own included even
    /// if the cache has not seen it yet. Objects being deleted no longer claim anything.
    pub fn claims(&self, obj: &KafkaConnector, url: &str) -> Vec<Claim> {
        let id = self.identity(url);
        let url = id.as_str();
        let name = obj.connector_name();
        let claim = |c: &KafkaConnector, cluster_url: String| Claim {
            namespace: c.namespace().unwrap_or_default(),
            name: c.name_any(),
            created: c.meta().creation_timestamp.as_ref().map(|t| t.0),
            cluster_url,
            connector: c.connector_name(),
        };
        // The name first: it is a cheap comparison, and only a few CRs share a name, so the
        // cluster is resolved (and a claim built) for those alone, not for every cached CR.
        let mut out: Vec<Claim> = self
            .connectors
            .iter()
            .filter(|c| c.connector_name_ref() == name && c.meta().deletion_timestamp.is_none())
            .filter_map(|c| Some(claim(c, self.url_of(c)?)))
            .filter(|c| c.cluster_url == url)
            .collect();
        if !out.iter().any(|c| is(c, obj)) {
            out.push(claim(obj, url.to_string()));
        }
        out
    }

    /// `Some(owner)` when another KafkaConnector holds the claim on `obj`'s connector. A
    /// claimant being deleted no longer counts: its cleanup hands the connector over.
    pub fn conflicting_owner(&self, obj: &KafkaConnector, url: &str) -> Option<String> {
        let id = self.identity(url);
        let url = id.as_str();
        let all = self.claims(obj, url);
        let w = winner(&all, url, &obj.connector_name())?;
        (!is(w, obj)).then(|| w.to_string())
    }

    /// Another live KafkaConnector that claims `obj`'s connector too (the next owner).
    pub fn other_claimant(&self, obj: &KafkaConnector, url: &str) -> Option<String> {
        let id = self.identity(url);
        let url = id.as_str();
        let others: Vec<Claim> = self
            .claims(obj, url)
            .into_iter()
            .filter(|c| !is(c, obj))
            .collect();
        winner(&others, url, &obj.connector_name()).map(ToString::to_string)
    }

    /// Every connector name some KafkaConnector claims on the Connect cluster at `url`,
    /// including the connector a move is taking away from it (until the move deletes it).
    pub fn claimed_names(&self, url: &str) -> BTreeSet<String> {
        let url = Some(self.identity(url));
        self.connectors
            .iter()
            .filter(|c| self.url_of(c) == url || self.origin_url_of(c) == url)
            .map(|c| c.connector_name())
            .collect()
    }
}

fn is(c: &Claim, obj: &KafkaConnector) -> bool {
    Some(c.namespace.as_str()) == obj.namespace().as_deref() && c.name == obj.name_any()
}

impl std::fmt::Display for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Normal form of a REST base URL: lower-case scheme and host, explicit port, no trailing slash.
pub fn normalise_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => format!(
            "{}://{}:{}{}",
            u.scheme(),
            u.host_str().unwrap_or_default().to_ascii_lowercase(),
            u.port_or_known_default().unwrap_or(0),
            u.path().trim_end_matches('/')
        ),
        Err(_) => raw.trim_end_matches('/').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(ns: &str, name: &str, secs: i64, url: &str, connector: &str) -> Claim {
        Claim {
            namespace: ns.into(),
            name: name.into(),
            created: Some(Timestamp::from_second(secs).unwrap()),
            cluster_url: url.into(),
            connector: connector.into(),
        }
    }

    #[test]
    fn oldest_claim_wins_then_name_order() {
        let claims = [
            claim("a", "young", 20, "u", "c"),
            claim("a", "old", 10, "u", "c"),
            claim("a", "older-elsewhere", 1, "other", "c"),
            claim("b", "tie-b", 10, "u", "c"),
        ];
        assert_eq!(winner(&claims, "u", "c").unwrap().name, "old");
        assert_eq!(
            winner(&claims, "other", "c").unwrap().name,
            "older-elsewhere"
        );
        assert!(winner(&claims, "u", "nothing").is_none());
    }

    /// A connector being moved away from a cluster stays claimed there until the move
    /// deletes it: `unmanagedConnectors: Delete` would otherwise take it (and its offsets).
    #[test]
    fn a_connector_being_moved_is_claimed_on_both_clusters() {
        let cluster = |name: &str, url: &str| -> Arc<KafkaConnectCluster> {
            Arc::new(
                serde_json::from_value(serde_json::json!({
                    "apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
                    "metadata": {"name": name, "namespace": "t"}, "spec": {"url": url}}))
                .unwrap(),
            )
        };
        let moving: KafkaConnector = serde_json::from_value(serde_json::json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
            "metadata": {"name": "src", "namespace": "t"},
            "spec": {"clusterRef": {"name": "new"}, "class": "X"},
            "status": {"cluster": {"name": "old", "namespace": "t"},
                "provenance": {"how": "Created", "time": "2026-12-05T00:00:00Z"}}}))
        .unwrap();
        let mut settled = moving.clone();
        settled.status.as_mut().unwrap().cluster = Some(settled.cluster_ref());
        let clusters = [
            cluster("old", "http://old:8083"),
            cluster("new", "http://new:8083"),
        ];
        let identities = HashMap::new();
        for (obj, on_old) in [(moving, true), (settled, false)] {
            let connectors = [Arc::new(obj)];
            let caches = Caches {
                connectors: &connectors,
                clusters: &clusters,
                identities: &identities,
            };
            assert!(caches.claimed_names("http://new:8083").contains("src"));
            assert_eq!(
                caches.claimed_names("http://old:8083").contains("src"),
                on_old
            );
        }
    }

    #[test]
    fn urls_normalise() {
        assert_eq!(normalise_url("HTTP://Connect:8083/"), "http://connect:8083");
        assert_eq!(normalise_url("https://connect"), "https://connect:443");
    }
}
