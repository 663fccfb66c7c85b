//! Which KafkaConnector owns a connector name on a Connect cluster.
//!
//! Decided from the operator's own cache of CRs, never from a marker inside the connector's
//! config (anyone with REST access can remove that). Connect clusters are identified by
//! their normalised REST URL, so two KafkaConnectCluster objects (even in different
//! namespaces) that point at the same workers share one ownership space.

use jiff::Timestamp;

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

    #[test]
    fn urls_normalise() {
        assert_eq!(normalise_url("HTTP://Connect:8083/"), "http://connect:8083");
        assert_eq!(normalise_url("https://connect"), "https://connect:443");
    }
}
