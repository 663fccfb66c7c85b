//! Everything this process remembers per KafkaConnector, keyed by the object's uid, in one
//! place so that what a restart loses can be read off one file:
//! - the status this process last wrote (`last_status`): the watch cache can hand a reconcile
//!   an object older than our own last status write, and deciding from that stale status
//!   would serve a restart id twice or lose an auto-restart count;
//! - when the connector's topics are due to be read again;
//! - pause, resume or stop requests Connect accepted that no worker carried out yet;
//! - failed reconciles in a row (the error policy's backoff);
//! - when this process last created the object's connector (`CREATE_SETTLE`);
//! - reverts of outside changes to its connector (`fight.rs`);
//! - a digest of the desired config Connect last held (`driftPolicy: Report`: a value from a
//!   Secret that changed since is written, not reported as drift; after a restart such a
//!   change is reported until the spec changes).
//!
//! All of it is an optimisation or a courtesy to Connect: after a restart, status (written
//! to the object) is the record, topics are read at once, a pending state request is sent
//! again, and the backoff starts over.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::fight::Fight;
use crate::api::KafkaConnector;
use crate::api::connector::KafkaConnectorStatus;
use crate::config::STATE_RESEND;
use crate::connect::StateAction;

/// How soon the topics of a connector that listed none are read again, for its first
/// `TOPICS_SETTLE_READS` empty reads: a source creates its topics when it first produces, a
/// while after its tasks started. A connector that keeps listing none is then read at the
/// ordinary refresh.
pub const TOPICS_SETTLE: Duration = Duration::from_secs(15);
pub const TOPICS_SETTLE_READS: u8 = 4;

/// How long after this process created a connector an absence proves nothing: Connect's
/// listing (and a worker's own config snapshot) can lag a create by seconds during a
/// rebalance, and a create sent again then may be answered 201 a second time. The status
/// write that would record the create may have failed (the apiserver down), so this memory
/// is what remembers it.
pub const CREATE_SETTLE: Duration = Duration::from_secs(15);

pub struct ConnectorMemory {
    /// `--topics-refresh`: zero turns topics refreshes off.
    topics_refresh: Duration,
    /// The status last written, or held back (`hold_status`; `false`: not written yet).
    statuses: Mutex<HashMap<String, (KafkaConnectorStatus, bool)>>,
    /// When topics are next due, and how many reads in a row listed none.
    topics_next: Mutex<HashMap<String, (Instant, u8)>>,
    state_requests: Mutex<HashMap<String, (StateAction, Instant)>>,
    failures: Mutex<HashMap<String, u32>>,
    created: Mutex<HashMap<String, Instant>>,
    fights: Mutex<HashMap<String, Fight>>,
    applied: Mutex<HashMap<String, u64>>,
}

fn uid(obj: &KafkaConnector) -> String {
    obj.metadata.uid.clone().unwrap_or_default()
}

impl ConnectorMemory {
    pub fn new(topics_refresh: Duration) -> Self {
        Self {
            topics_refresh,
            statuses: Mutex::default(),
            topics_next: Mutex::default(),
            state_requests: Mutex::default(),
            failures: Mutex::default(),
            created: Mutex::default(),
            fights: Mutex::default(),
            applied: Mutex::default(),
        }
    }

    /// The status to decide from: what we last wrote, else what the object carries.
    /// The newest status this process made for `obj`: written, or held back to be written
    /// with the next one (`hold_status`); else the object's.
    pub fn last_status(&self, obj: &KafkaConnector) -> KafkaConnectorStatus {
        let remembered = self.statuses.lock().expect("status memory");
        let remembered = remembered.get(&uid(obj)).map(|(s, _)| s.clone());
        remembered
            .or_else(|| obj.status.clone())
            .unwrap_or_default()
    }

    /// The status last written to `obj` (by this process, else the object's): what a write
    /// compares with to skip one that changes nothing.
    pub fn last_written(&self, obj: &KafkaConnector) -> KafkaConnectorStatus {
        let remembered = self.statuses.lock().expect("status memory");
        let written = remembered
            .get(&uid(obj))
            .filter(|(_, written)| *written)
            .map(|(s, _)| s.clone());
        written.or_else(|| obj.status.clone()).unwrap_or_default()
    }

    pub fn remember_status(&self, obj: &KafkaConnector, status: &KafkaConnectorStatus) {
        let mut statuses = self.statuses.lock().expect("status memory");
        statuses.insert(uid(obj), (status.clone(), true));
    }

    /// A status decided but not written yet (`report::first_status_held`): the next
    /// reconcile starts from it (its provenance among it), and writes it, or a newer one.
    pub fn hold_status(&self, obj: &KafkaConnector, status: &KafkaConnectorStatus) {
        let mut statuses = self.statuses.lock().expect("status memory");
        let written = statuses.get(&uid(obj)).is_some_and(|(_, w)| *w);
        if !written {
            statuses.insert(uid(obj), (status.clone(), false));
        }
    }

    /// Whether the next read of this connector's topics is due (never when the refresh
    /// interval is zero).
    pub fn topics_due(&self, obj: &KafkaConnector) -> bool {
        let next = self.topics_next.lock().expect("topics lock");
        !self.topics_refresh.is_zero()
            && next
                .get(&uid(obj))
                .is_none_or(|(next, _)| Instant::now() >= *next)
    }

    /// Records a read of `obj`'s topics. `empty`: it listed none; topics appear lazily (a
    /// source creates them when it first produces), so the next read is due after
    /// `TOPICS_SETTLE`, not the whole refresh, for the first `TOPICS_SETTLE_READS` such reads.
    pub fn mark_topics_read(&self, obj: &KafkaConnector, empty: bool) {
        let mut next = self.topics_next.lock().expect("topics lock");
        let streak = match empty {
            true => next.get(&uid(obj)).map_or(0, |(_, n)| *n).saturating_add(1),
            false => 0,
        };
        let after = match empty && streak <= TOPICS_SETTLE_READS {
            true => TOPICS_SETTLE.min(self.topics_refresh),
            false => self.topics_refresh,
        };
        next.insert(uid(obj), (Instant::now() + after, streak));
    }

    /// When to look at `obj` again for its topics: until the next read is due, or the whole
    /// refresh when it is due already (the cluster's read budget said no this time).
    pub fn topics_wait(&self, obj: &KafkaConnector) -> Option<Duration> {
        let refresh = self.topics_refresh;
        if refresh.is_zero() {
            return None;
        }
        let next = self.topics_next.lock().expect("topics lock");
        let next = next.get(&uid(obj)).map(|(at, _)| *at);
        let now = Instant::now();
        Some(match next {
            Some(next) if next > now => next - now,
            _ => refresh,
        })
    }

    /// How long ago `action` was sent for `obj` and not carried out yet, when that is less
    /// than `STATE_RESEND` (`None` otherwise: send it).
    pub fn state_pending(&self, obj: &KafkaConnector, action: StateAction) -> Option<Duration> {
        let requests = self.state_requests.lock().expect("state lock");
        let (sent, at) = requests.get(&uid(obj))?;
        (*sent == action && at.elapsed() < STATE_RESEND).then(|| at.elapsed())
    }

    /// Remembers an accepted, unconfirmed request (`Some`), or forgets it (`None`).
    pub fn set_state_pending(&self, obj: &KafkaConnector, action: Option<StateAction>) {
        let mut requests = self.state_requests.lock().expect("state lock");
        match action {
            Some(a) => requests.insert(uid(obj), (a, Instant::now())),
            None => requests.remove(&uid(obj)),
        };
    }

    /// Counts a failed reconcile of `obj` (`failed`), or forgets its failures.
    pub fn count_failure(&self, obj: &KafkaConnector, failed: bool) {
        let mut failures = self.failures.lock().expect("failures lock");
        if failed {
            *failures.entry(uid(obj)).or_default() += 1;
        } else {
            failures.remove(&uid(obj));
        }
    }

    /// This process just created `obj`'s connector.
    pub fn mark_created(&self, obj: &KafkaConnector) {
        let mut created = self.created.lock().expect("created lock");
        created.insert(uid(obj), Instant::now());
    }

    /// Whether this process created `obj`'s connector less than `CREATE_SETTLE` ago.
    pub fn created_lately(&self, obj: &KafkaConnector) -> bool {
        let created = self.created.lock().expect("created lock");
        created
            .get(&uid(obj))
            .is_some_and(|at| at.elapsed() < CREATE_SETTLE)
    }

    /// How long ago this process created `obj`'s connector, if it did within `CREATE_SETTLE`.
    pub fn created_ago(&self, obj: &KafkaConnector) -> Option<Duration> {
        let created = self.created.lock().expect("created lock");
        let ago = created.get(&uid(obj))?.elapsed();
        (ago < CREATE_SETTLE).then_some(ago)
    }

    /// Failed reconciles of `obj` in a row.
    pub fn failures(&self, obj: &KafkaConnector) -> u32 {
        let failures = self.failures.lock().expect("failures lock");
        failures.get(&uid(obj)).copied().unwrap_or_default()
    }

    /// Keeps only what is remembered about the objects `live` names (by uid): an object
    /// deleted before it ever got the finalizer (so `forget` never ran for it) leaves
    /// nothing behind. Returns how many objects were dropped.
    pub fn retain(&self, live: &HashSet<String>) -> usize {
        let mut dropped = HashSet::new();
        sweep(
            &mut self.statuses.lock().expect("status memory"),
            live,
            &mut dropped,
        );
        sweep(
            &mut self.topics_next.lock().expect("topics lock"),
            live,
            &mut dropped,
        );
        sweep(
            &mut self.state_requests.lock().expect("state lock"),
            live,
            &mut dropped,
        );
        sweep(
            &mut self.failures.lock().expect("failures lock"),
            live,
            &mut dropped,
        );
        sweep(
            &mut self.created.lock().expect("created lock"),
            live,
            &mut dropped,
        );
        sweep(
            &mut self.fights.lock().expect("fights lock"),
            live,
            &mut dropped,
        );
        sweep(
            &mut self.applied.lock().expect("applied lock"),
            live,
            &mut dropped,
        );
        dropped.len()
    }

    /// An outside change to the connector's config was seen: `None` to revert it now, or
    /// how long reverts are still held (`fight.rs`).
    pub fn outside_change(&self, obj: &KafkaConnector, now: Instant) -> Option<Duration> {
        let mut fights = self.fights.lock().expect("fights lock");
        fights.entry(uid(obj)).or_default().revert(now)
    }

    /// Drops everything remembered about an object that is going away.
    pub fn forget(&self, obj: &KafkaConnector) {
        let key = uid(obj);
        self.statuses.lock().expect("status memory").remove(&key);
        self.topics_next.lock().expect("topics lock").remove(&key);
        self.state_requests.lock().expect("state lock").remove(&key);
        self.failures.lock().expect("failures lock").remove(&key);
        self.created.lock().expect("created lock").remove(&key);
        self.fights.lock().expect("fights lock").remove(&key);
        self.applied.lock().expect("applied lock").remove(&key);
    }

    /// Connect holds `desired` now (written, or found equal).
    pub fn mark_applied(&self, obj: &KafkaConnector, desired: &BTreeMap<String, String>) {
        let mut applied = self.applied.lock().expect("applied lock");
        applied.insert(uid(obj), digest(desired));
    }

    /// Whether `desired` differs from the config Connect was last seen to hold; `false`
    /// when this process never saw it hold one.
    pub fn desired_moved(&self, obj: &KafkaConnector, desired: &BTreeMap<String, String>) -> bool {
        let applied = self.applied.lock().expect("applied lock");
        applied
            .get(&uid(obj))
            .is_some_and(|d| *d != digest(desired))
    }
}

/// A digest of `value` for telling whether it changed, kept in memory only and never
/// written anywhere: a config's values may come from Secrets.
pub fn digest<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Drops the entries of `map` whose key `live` lacks, noting them in `dropped`.
fn sweep<V>(map: &mut HashMap<String, V>, live: &HashSet<String>, dropped: &mut HashSet<String>) {
    map.retain(|k, _| {
        let keep = live.contains(k);
        if !keep {
            dropped.insert(k.clone());
        }
        keep
    });
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
    fn what_we_wrote_wins_over_a_stale_object_until_forgotten() {
        let memory = ConnectorMemory::new(Duration::from_secs(300));
        let stale = connector("u1", Some("old"));
        let last = |o| memory.last_status(o).last_restart_id;
        assert_eq!(last(&stale).as_deref(), Some("old"));
        let written = KafkaConnectorStatus {
            last_restart_id: Some("new".into()),
            ..Default::default()
        };
        memory.remember_status(&stale, &written);
        assert_eq!(last(&stale).as_deref(), Some("new"));
        // Another object (another uid, e.g. re-created with the same name) is not confused.
        let other = connector("u2", None);
        assert_eq!(last(&other), None);
        memory.forget(&stale);
        assert_eq!(last(&stale).as_deref(), Some("old"));
    }

    #[test]
    fn empty_topic_lists_are_read_again_soon_a_few_times() {
        let memory = ConnectorMemory::new(Duration::from_secs(300));
        let obj = connector("u", None);
        for _ in 0..TOPICS_SETTLE_READS {
            memory.mark_topics_read(&obj, true);
            assert!(memory.topics_wait(&obj).unwrap() <= TOPICS_SETTLE);
        }
        memory.mark_topics_read(&obj, true);
        assert!(
            memory.topics_wait(&obj).unwrap() > TOPICS_SETTLE,
            "then the refresh"
        );
        memory.mark_topics_read(&obj, false);
        memory.mark_topics_read(&obj, true);
        assert!(
            memory.topics_wait(&obj).unwrap() <= TOPICS_SETTLE,
            "a new streak"
        );
    }

    #[test]
    fn objects_gone_from_the_cache_are_swept() {
        let memory = ConnectorMemory::new(Duration::from_secs(300));
        let (kept, gone) = (connector("kept", None), connector("gone", None));
        for obj in [&kept, &gone] {
            memory.count_failure(obj, true);
            memory.mark_topics_read(obj, false);
        }
        let live = HashSet::from(["kept".to_string()]);
        assert_eq!(memory.retain(&live), 1);
        assert_eq!(memory.failures(&kept), 1);
        assert_eq!(memory.failures(&gone), 0);
        assert!(memory.topics_due(&gone));
        assert_eq!(memory.retain(&live), 0);
    }

    #[test]
    fn forgetting_clears_every_map() {
        let memory = ConnectorMemory::new(Duration::from_secs(300));
        let obj = connector("u", None);
        memory.mark_topics_read(&obj, false);
        memory.set_state_pending(&obj, Some(StateAction::Pause));
        memory.count_failure(&obj, true);
        assert!(!memory.topics_due(&obj));
        assert!(memory.state_pending(&obj, StateAction::Pause).is_some());
        assert_eq!(memory.failures(&obj), 1);
        memory.forget(&obj);
        assert!(memory.topics_due(&obj));
        assert!(memory.state_pending(&obj, StateAction::Pause).is_none());
        assert_eq!(memory.failures(&obj), 0);
    }
}
