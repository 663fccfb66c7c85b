//! Per Connect cluster, the reconcile slots of its KafkaConnectors, and the reconciles that
//! found them all taken.
//!
//! A cluster that hangs or errors must take at most `cluster_concurrency` of the controller's
//! slots, so a reconcile that finds its cluster's slots taken does not wait for one (it
//! would hold a controller slot while waiting): it steps aside with a requeue. Requeued on a
//! timer alone, a rollout of one cluster left its slots idle between the end of a reconcile
//! and the timer (1,000 connectors: ~3 deferrals each). So a deferred reconcile is also
//! queued here, and each slot, when it is freed, wakes the longest-waiting one at once; the
//! timer stays as the backstop.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use futures::channel::mpsc::UnboundedSender;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::cluster_handle::ClusterKey;
use crate::api::KafkaConnector;

type Wanted = ObjectRef<KafkaConnector>;

pub struct Slots {
    gates: Mutex<HashMap<ClusterKey, Arc<Gate>>>,
    per_cluster: usize,
    wake: UnboundedSender<Wanted>,
}

struct Gate {
    free: Arc<Semaphore>,
    waiting: Mutex<Waiting>,
}

/// Deferred reconciles in the order they stepped aside, each once.
#[derive(Default)]
struct Waiting {
    order: VecDeque<Wanted>,
    queued: HashSet<Wanted>,
}

/// A taken slot; freeing it wakes the next deferred reconcile of its cluster.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    gate: Arc<Gate>,
    wake: UnboundedSender<Wanted>,
}

impl Slots {
    pub fn new(per_cluster: usize, wake: UnboundedSender<Wanted>) -> Self {
        Self {
            gates: Mutex::default(),
            per_cluster: per_cluster.max(1),
            wake,
        }
    }

    /// A slot of cluster `key` for the reconcile of `who`, or `None` (and `who` queued to be
    /// woken when one is freed) when all are taken.
    pub fn take(&self, key: &ClusterKey, who: &Wanted) -> Option<Slot> {
        let gate = self
            .gates
            .lock()
            .expect("slots lock")
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Gate {
                    free: Arc::new(Semaphore::new(self.per_cluster)),
                    waiting: Mutex::default(),
                })
            })
            .clone();
        match gate.free.clone().try_acquire_owned() {
            Ok(permit) => Some(Slot {
                _permit: permit,
                gate,
                wake: self.wake.clone(),
            }),
            Err(_) => {
                let mut w = gate.waiting.lock().expect("waiting lock");
                if w.queued.insert(who.clone()) {
                    w.order.push_back(who.clone());
                }
                None
            }
        }
    }

    pub fn remove(&self, key: &ClusterKey) {
        self.gates.lock().expect("slots lock").remove(key);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let next = {
            let mut w = self.gate.waiting.lock().expect("waiting lock");
            let next = w.order.pop_front();
            if let Some(n) = &next {
                w.queued.remove(n);
            }
            next
        };
        // The permit is released right after this body; the woken reconcile runs later.
        if let Some(next) = next {
            let _ = self.wake.unbounded_send(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn who(name: &str) -> Wanted {
        ObjectRef::new(name).within("ns")
    }

    #[tokio::test]
    async fn a_freed_slot_wakes_the_longest_waiting_reconcile_once() {
        let (tx, mut rx) = futures::channel::mpsc::unbounded();
        let slots = Slots::new(1, tx);
        let key: ClusterKey = ("ns".into(), "k".into());
        let held = slots.take(&key, &who("a")).expect("a free slot");
        assert!(slots.take(&key, &who("b")).is_none());
        assert!(slots.take(&key, &who("c")).is_none());
        assert!(slots.take(&key, &who("b")).is_none(), "b queued once");
        let other: ClusterKey = ("ns".into(), "other".into());
        assert!(slots.take(&other, &who("d")).is_some(), "clusters apart");
        drop(held);
        assert_eq!(rx.next().await, Some(who("b")));
        let b = slots.take(&key, &who("b")).expect("the freed slot");
        drop(b);
        assert_eq!(rx.next().await, Some(who("c")));
        assert!(rx.try_recv().is_err(), "nothing else was waiting");
    }
}
