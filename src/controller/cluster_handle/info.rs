//! What a Connect worker is: its capabilities (from the version `GET /` reports) and when
//! the cluster reconcile last read `GET /` and the plugins.

use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::connect::Capabilities;

#[derive(Default)]
pub struct WorkerInfo {
    /// From the worker's version; `None` before the first `GET /`.
    capabilities: RwLock<Option<Capabilities>>,
    /// When `GET /` and the plugins were last read by the cluster reconcile.
    read_at: Mutex<Option<Instant>>,
}

impl WorkerInfo {
    pub fn capabilities(&self) -> Option<Capabilities> {
        *self.capabilities.read().expect("capabilities lock")
    }

    pub fn set_capabilities(&self, c: Capabilities) {
        *self.capabilities.write().expect("capabilities lock") = Some(c);
    }

    pub fn read_within(&self, refresh: Duration) -> bool {
        let read = self.read_at.lock().expect("info lock");
        read.is_some_and(|t| t.elapsed() < refresh)
    }

    pub fn mark_read(&self) {
        *self.read_at.lock().expect("info lock") = Some(Instant::now());
    }
}
