//! The store behind its lock, the scheduler applying its deadlines, and the listings
//! (`GET /connectors`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use tokio::sync::Notify;

use super::connector::{Connector, Timings, Worker};

pub struct Store {
    pub connectors: BTreeMap<String, Connector>,
    pub worker: Worker,
    pub timings: Timings,
    pub(super) queue: BinaryHeap<Reverse<(Instant, String)>>,
}

/// The store behind its lock, and the scheduler's wake-up.
#[derive(Clone)]
pub struct Shared {
    pub store: Arc<RwLock<Store>>,
    pub wake: Arc<Notify>,
}

impl Shared {
    pub fn new(worker: Worker, timings: Timings) -> Self {
        Shared {
            store: Arc::new(RwLock::new(Store {
                connectors: BTreeMap::new(),
                worker,
                timings,
                queue: BinaryHeap::new(),
            })),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the store; the scheduler is woken afterwards for any new deadline.
    pub fn write<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let out = {
            let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        };
        self.wake.notify_one();
        out
    }
}

/// Applies due deadlines as they come; runs until the process ends.
pub async fn run_scheduler(shared: Shared) {
    loop {
        let next = {
            let mut store = shared.store.write().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            while let Some(Reverse((at, _))) = store.queue.peek() {
                if *at > now {
                    break;
                }
                let Some(Reverse((at, name))) = store.queue.pop() else {
                    break;
                };
                if let Some(c) = store.connectors.get_mut(&name)
                    && c.queued == Some(at)
                {
                    c.queued = None;
                }
                store.settle(&name, now);
            }
            store.queue.peek().map(|Reverse((at, _))| *at)
        };
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = shared.wake.notified() => {}
                }
            }
            None => shared.wake.notified().await,
        }
    }
}

impl Store {
    /// Applies what is due for `name`, refreshes its answers and queues its next deadline.
    pub fn settle(&mut self, name: &str, now: Instant) {
        let timings = self.timings;
        let Some(c) = self.connectors.get_mut(name) else {
            return;
        };
        let next = c.advance(now, &timings);
        c.refresh(&self.worker);
        if let Some(at) = next
            && c.queued.is_none_or(|queued| at < queued)
        {
            c.queued = Some(at);
            self.queue.push(Reverse((at, name.to_string())));
        }
    }

    pub fn get(&self, name: &str) -> Option<&Connector> {
        self.connectors.get(name)
    }

    /// `GET /connectors?expand=...`: the answers are already serialized.
    pub fn expanded(&self, status: bool, info: bool) -> String {
        let mut out = String::with_capacity(self.connectors.len() * 600 + 2);
        out.push('{');
        let mut first = true;
        for c in self.connectors.values() {
            let status_json = c.status_json();
            if status && status_json.is_none() {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&c.name_json);
            out.push_str(":{");
            if let (true, Some(s)) = (status, status_json) {
                out.push_str("\"status\":");
                out.push_str(s);
                if info {
                    out.push(',');
                }
            }
            if info {
                out.push_str("\"info\":");
                out.push_str(&c.info_json);
            }
            out.push('}');
        }
        out.push('}');
        out
    }

    pub fn names(&self) -> String {
        let names: Vec<&str> = self.connectors.keys().map(String::as_str).collect();
        serde_json::to_string(&names).expect("strings serialize")
    }
}
