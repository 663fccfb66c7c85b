//! Static sharding by KafkaConnectCluster, as Flux shards its controllers: a process given
//! `--watch-label-selector` manages the cluster objects that selector matches and the
//! KafkaConnectors naming them; each selector holds its own Lease. The chart's shards are
//! `kafkaconnect.dev/shard=<name>` plus a default shard, `!kafkaconnect.dev/shard`, for the
//! unlabelled rest.

/// The label the chart's shards select on.
pub const SHARD_LABEL: &str = "kafkaconnect.dev/shard";

/// Whether `selector` matches an object without labels: every requirement in it is one of
/// `!key`, `key!=value` or `key notin (...)` (requirements are comma-separated, commas
/// inside parentheses excepted). Such a shard is the default shard: a cluster object that
/// does not exist has no labels either, so it is this shard that reports the KafkaConnectors
/// naming one (`ClusterNotFound`).
pub fn matches_unlabelled(selector: &str) -> bool {
    requirements(selector).all(|r| {
        r.starts_with('!') || r.contains("!=") || r.split_whitespace().nth(1) == Some("notin")
    })
}

fn requirements(selector: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut start = 0;
    let mut parts = vec![];
    for (i, ch) in selector.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts.into_iter().map(str::trim).filter(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_shard_is_the_one_matching_no_labels() {
        assert!(matches_unlabelled("!kafkaconnect.dev/shard"));
        assert!(matches_unlabelled("team!=payments, tier notin (dev,test)"));
        assert!(matches_unlabelled(""));
        assert!(!matches_unlabelled("kafkaconnect.dev/shard=a"));
        assert!(!matches_unlabelled("kafkaconnect.dev/shard"));
        assert!(!matches_unlabelled(
            "!kafkaconnect.dev/shard,tier in (prod)"
        ));
        assert!(!matches_unlabelled("tier in (dev, notin)"));
    }
}
