//! The fault suites' driver (`tests/faults_real.rs`, `tests/faults_emulator.rs`): the selected
//! cases one after another, a record each (a panic too), `docs/RELIABILITY.md` rendered last.
#![allow(dead_code)]

use std::future::Future;
use std::time::Instant;

use super::common;
use super::observe;
use super::record::{self, Record};

/// A fault suite: its test binary, the Connect it runs on, its cases as (id, fault).
pub struct Suite {
    /// The test binary (`faults_real`, `faults_emulator`).
    pub name: &'static str,
    /// "real workers" or "emulator".
    pub kind: &'static str,
    pub cases: &'static [(&'static str, &'static str)],
    /// Whether the stack is put back after each case, passed or failed: the case killed
    /// workers or the apiserver.
    pub restores_stack: bool,
}

impl Suite {
    /// Runs the selected cases (`KCO_FAULT_CASES`) one after another, each `case(id, fault)`
    /// in a task of its own so that a panic becomes its record; writes every record, and the
    /// suite's wall time when it ran every case; renders `docs/RELIABILITY.md`; fails if a
    /// case did.
    pub async fn run<F, Fut>(&self, case: F)
    where
        F: Fn(&'static str, &'static str) -> Fut,
        Fut: Future<Output = Record> + Send + 'static,
    {
        let t0 = Instant::now();
        let client = match self.restores_stack {
            true => Some(common::kube().await),
            false => None,
        };
        let (mut failed, mut ran) = (vec![], 0);
        for &(id, fault) in self.cases {
            if !selected(id) {
                continue;
            }
            ran += 1;
            println!("=== {id}: {fault}");
            let outcome = tokio::spawn(case(id, fault)).await;
            // Whatever happened, the next case (and the next test binary) gets a whole stack.
            if let Some(client) = &client {
                observe::restore_stack(client).await;
            }
            let r = match outcome {
                Ok(r) => r,
                Err(e) => failed_record(id, self.name, self.kind, fault, &panic_message(e)),
            };
            println!(
                "=== {id}: {}\n{}",
                r.outcome,
                serde_json::to_string(&r).unwrap()
            );
            if r.outcome != "pass" {
                failed.push(format!("{id}: {}", r.outcome));
            }
            record::write(&r);
        }
        // `KCO_FAULT_CASES=none` runs nothing and only renders the records there are.
        if ran == self.cases.len() {
            record::write_suite(self.name, t0.elapsed().as_secs_f64());
        }
        record::render();
        assert!(failed.is_empty(), "fault cases failed: {failed:#?}");
    }
}

/// The message of a panic caught by `tokio::spawn`.
pub fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string()),
        Err(e) => e.to_string(),
    }
}

/// The record of a case that panicked before it could write its own.
pub fn failed_record(id: &str, suite: &str, kind: &str, fault: &str, why: &str) -> Record {
    Record {
        case: id.to_string(),
        suite: suite.to_string(),
        connect: kind.to_string(),
        fault: fault.to_string(),
        outcome: format!("FAIL: {}", observe::trim(why, 300)),
        date: record::now(),
        commit: record::commit(),
        ..Default::default()
    }
}

/// Which cases to run: `KCO_FAULT_CASES` (comma-separated ids or prefixes), else all.
pub fn selected(id: &str) -> bool {
    match std::env::var("KCO_FAULT_CASES") {
        Ok(v) if !v.trim().is_empty() => v.split(',').any(|c| id.starts_with(c.trim())),
        _ => true,
    }
}
