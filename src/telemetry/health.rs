//! What `/healthz` and `/readyz` answer. Liveness is not a constant "ok": the operator is
//! unhealthy when its controllers stop making progress while work is due (Strimzi #9497:
//! connectors went unreconciled for months with every probe green).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The key a KafkaConnector is tracked under.
pub fn connector_key(namespace: &str, name: &str) -> String {
    format!("KafkaConnector/{namespace}/{name}")
}

pub struct Health {
    deadline: Duration,
    /// Reconciles running now, by object, since when.
    in_flight: Mutex<HashMap<String, Instant>>,
    /// Reconciles asked for (a poller wake-up), by object, since when.
    due: Mutex<HashMap<String, Instant>>,
    ready: AtomicBool,
}

impl Health {
    pub fn new(deadline: Duration) -> Self {
        Self {
            deadline,
            in_flight: Mutex::default(),
            due: Mutex::default(),
            ready: AtomicBool::new(false),
        }
    }

    pub fn started(&self, key: &str) {
        self.due.lock().expect("due lock").remove(key);
        self.in_flight
            .lock()
            .expect("in-flight lock")
            .insert(key.to_string(), Instant::now());
    }

    /// A reconcile ended.
    pub fn finished(&self, key: &str) {
        self.in_flight.lock().expect("in-flight lock").remove(key);
    }

    /// Something asked for a reconcile of `key` now (a poller saw a change).
    pub fn wanted(&self, key: &str) {
        let now = Instant::now();
        self.due
            .lock()
            .expect("due lock")
            .entry(key.to_string())
            .and_modify(|t| *t = (*t).min(now))
            .or_insert(now);
    }

    pub fn forget(&self, key: &str) {
        self.due.lock().expect("due lock").remove(key);
        self.in_flight.lock().expect("in-flight lock").remove(key);
    }

    /// `Err(reason)` when a reconcile has run, or has been due, for longer than the deadline.
    pub fn live(&self) -> Result<(), String> {
        let now = Instant::now();
        let stuck = |map: &HashMap<String, Instant>, what: &str| {
            map.iter()
                .filter(|(_, since)| now.saturating_duration_since(**since) > self.deadline)
                .max_by_key(|(_, since)| now.saturating_duration_since(**since))
                .map(|(k, since)| {
                    format!("{k} {what} for {:?}", now.saturating_duration_since(*since))
                })
        };
        if let Some(msg) = stuck(
            &self.in_flight.lock().expect("in-flight lock"),
            "has been reconciling",
        ) {
            return Err(msg);
        }
        if let Some(msg) = stuck(
            &self.due.lock().expect("due lock"),
            "has been waiting for a reconcile",
        ) {
            return Err(msg);
        }
        Ok(())
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconcile_running_past_the_deadline_is_unhealthy() {
        let h = Health::new(Duration::from_millis(20));
        h.started("a");
        assert!(h.live().is_ok());
        std::thread::sleep(Duration::from_millis(30));
        assert!(h.live().unwrap_err().contains("a has been reconciling"));
        h.finished("a");
        assert!(h.live().is_ok());
    }

    #[test]
    fn work_due_but_not_started_is_unhealthy() {
        let h = Health::new(Duration::from_millis(20));
        h.wanted("b");
        std::thread::sleep(Duration::from_millis(30));
        assert!(h.live().is_err());
        h.started("b");
        h.finished("b");
        assert!(
            h.live().is_ok(),
            "a wanted reconcile that ran is no longer due"
        );
    }
}
