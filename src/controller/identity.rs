//! Which URLs reach one Connect group (`ClusterRegistry::identities`): the worker ids each
//! cluster object's polls showed (live, or recorded in its `status.workers`), counted only
//! between cluster objects of one namespace.

use std::collections::{BTreeSet, HashMap};

/// What one cluster object (namespace, URL) showed of its workers.
pub struct Sighting {
    pub namespace: String,
    pub url: String,
    pub workers: BTreeSet<String>,
}

/// URL → identity (the smallest URL of its group), adding to `learnt` every pair of URLs
/// whose worker sets meet in one namespace.
pub fn group_urls(
    seen: &[Sighting],
    learnt: &mut BTreeSet<(String, String)>,
) -> HashMap<String, String> {
    for (i, a) in seen.iter().enumerate() {
        for b in &seen[i + 1..] {
            if a.url != b.url && a.namespace == b.namespace && !a.workers.is_disjoint(&b.workers) {
                let (lo, hi) = (
                    a.url.clone().min(b.url.clone()),
                    a.url.clone().max(b.url.clone()),
                );
                learnt.insert((lo, hi));
            }
        }
    }
    let urls = seen.iter().map(|s| &s.url);
    let pairs = learnt.iter().flat_map(|(a, b)| [a, b]);
    let mut identity: HashMap<String, String> =
        urls.chain(pairs).map(|u| (u.clone(), u.clone())).collect();
    // Merge until stable: a handful of URLs, and identities only ever decrease.
    let mut changed = true;
    while changed {
        changed = false;
        for (a, b) in learnt.iter() {
            let ia = identity.get(a).cloned().unwrap_or_else(|| a.clone());
            let ib = identity.get(b).cloned().unwrap_or_else(|| b.clone());
            let low = ia.clone().min(ib.clone());
            for (url, id) in identity.iter_mut() {
                if (*id == ia || *id == ib || url == a || url == b) && *id != low {
                    *id = low.clone();
                    changed = true;
                }
            }
        }
    }
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(url: &str, workers: &[&str]) -> Sighting {
        seen_in("team", url, workers)
    }

    fn seen_in(namespace: &str, url: &str, workers: &[&str]) -> Sighting {
        Sighting {
            namespace: namespace.into(),
            url: url.into(),
            workers: workers.iter().map(|w| w.to_string()).collect(),
        }
    }

    #[test]
    fn urls_sharing_a_worker_are_one_cluster_and_stay_so() {
        let mut learnt = BTreeSet::new();
        let now = [
            seen("http://a:8083", &["10.0.0.1:8083"]),
            seen("http://b:8084", &["10.0.0.1:8083", "10.0.0.2:8083"]),
            seen("https://c:8443", &["10.0.0.2:8083"]),
            seen("http://other:8083", &["10.9.9.9:8083"]),
        ];
        let ids = group_urls(&now, &mut learnt);
        assert_eq!(ids["http://b:8084"], "http://a:8083");
        assert_eq!(ids["https://c:8443"], "http://a:8083", "through b");
        assert_eq!(ids["http://other:8083"], "http://other:8083");
        // Later every connector moved off the shared worker: still one cluster.
        let later = [
            seen("http://a:8083", &["10.0.0.1:8083"]),
            seen("http://b:8084", &["10.0.0.3:8083"]),
            seen("https://c:8443", &[]),
            seen("http://other:8083", &["10.9.9.9:8083"]),
        ];
        let ids = group_urls(&later, &mut learnt);
        assert_eq!(ids["http://b:8084"], "http://a:8083");
        assert_eq!(ids["https://c:8443"], "http://a:8083");
        assert_eq!(ids["http://other:8083"], "http://other:8083");
    }

    /// A server in another namespace that reports this group's worker ids is not this group:
    /// only cluster objects of one namespace vouch for each other.
    #[test]
    fn worker_ids_shown_in_another_namespace_prove_nothing() {
        let mut learnt = BTreeSet::new();
        let ids = group_urls(
            &[
                seen_in("platform", "http://connect:8083", &["10.0.0.1:8083"]),
                seen_in("evil", "http://fake:80", &["10.0.0.1:8083"]),
            ],
            &mut learnt,
        );
        assert_eq!(ids["http://fake:80"], "http://fake:80");
        assert!(learnt.is_empty());
        // The same URL named in both namespaces is one Connect without any evidence: the
        // identity is the URL itself.
        let ids = group_urls(
            &[
                seen_in("platform", "http://connect:8083", &[]),
                seen_in("team", "http://connect:8083", &[]),
            ],
            &mut learnt,
        );
        assert_eq!(ids.len(), 1);
    }

    /// After a restart, the evidence recorded in status (sightings with workers but no poll
    /// yet) merges two URLs at once, even when only one of them has a handle.
    #[test]
    fn a_learnt_pair_names_both_urls() {
        let mut learnt = BTreeSet::from([("http://a:1".to_string(), "http://z:2".to_string())]);
        let ids = group_urls(&[seen("http://z:2", &[])], &mut learnt);
        assert_eq!(ids["http://z:2"], "http://a:1");
        assert_eq!(ids["http://a:1"], "http://a:1");
    }

    #[test]
    fn no_worker_seen_proves_nothing() {
        let mut learnt = BTreeSet::new();
        let ids = group_urls(
            &[seen("http://a:1", &[]), seen("http://b:2", &[])],
            &mut learnt,
        );
        assert_eq!(ids["http://a:1"], "http://a:1");
        assert_eq!(ids["http://b:2"], "http://b:2");
    }
}
