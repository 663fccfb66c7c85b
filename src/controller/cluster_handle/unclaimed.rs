//! What one Connect cluster's handle remembers of `unmanagedConnectors: Delete`: since when
//! each connector has been seen unclaimed (see `unmanaged.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Since when each connector has been seen unclaimed, for one Connect cluster. Kept in memory
/// only: lost, the count starts again, which only delays a delete.
#[derive(Default)]
pub struct Evidence(BTreeMap<String, Instant>);

impl Evidence {
    /// Forgets every sighting: the next look starts the evidence again.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Takes this look's unclaimed names; returns those also unclaimed in a look at least
    /// `gap` before. A name claimed again (or gone) starts from nothing.
    pub fn due(&mut self, unclaimed: BTreeSet<String>, now: Instant, gap: Duration) -> Vec<String> {
        self.0.retain(|name, _| unclaimed.contains(name));
        let mut due = Vec::new();
        for name in unclaimed {
            let first = *self.0.entry(name.clone()).or_insert(now);
            if now.duration_since(first) >= gap {
                due.push(name);
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> BTreeSet<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_connector_is_due_only_when_unclaimed_in_two_looks_a_poll_apart() {
        let gap = Duration::from_secs(10);
        let t0 = Instant::now();
        let mut e = Evidence::default();
        assert!(
            e.due(names(&["a", "b"]), t0, gap).is_empty(),
            "one look proves nothing"
        );
        assert!(
            e.due(names(&["a", "b"]), t0 + gap / 2, gap).is_empty(),
            "too soon"
        );
        // b was claimed in between: its count starts again.
        assert_eq!(e.due(names(&["a"]), t0 + gap, gap), ["a"]);
        assert!(e.due(names(&["a", "b"]), t0 + gap * 2, gap) == ["a"]);
        assert_eq!(e.due(names(&["b"]), t0 + gap * 3, gap), ["b"]);
    }
}
