//! Connect conformance: the SAME cases run against the real 4.3.1 worker (`CONNECT_URL`) and
//! against the emulator (`emulator/`, started here as a child process), and both must pass,
//! so the emulator cannot drift from the real thing. Each case checks codes and messages, and
//! compares the shape of each answer (keys, types) with an answer recorded from the real
//! worker in `tests/fixtures/connect/4.3.1/` — the `*-conformance-*` files were recorded by
//! this suite: `KCO_RECORD_CONFORMANCE=1 cargo test --test connect_conformance real`
//! rewrites them (and only them) from the real worker.
//!
//! Faults (rebalance windows, 500s, hangs, resets, failed tasks) are tested on the emulator
//! only, in `mod faults`.
//!
//! Run: `source target/stack/env && cargo test --test connect_conformance`.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use common::{Emulator, env, eventually, uuid_suffix};

const MOCK_SOURCE: &str = "org.apache.kafka.connect.tools.MockSourceConnector";
const VERIFIABLE_SOURCE: &str = "org.apache.kafka.connect.tools.VerifiableSourceConnector";
const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
/// The one topic the cases produce to (created once on the stack's broker).
const TOPIC: &str = "kco-conformance";
const WAIT: Duration = Duration::from_secs(60);
/// The emulator's lifecycle steps are slowed down enough for each window to be observed.
const EMULATOR_TIMINGS: [&str; 6] = [
    "--connector-start-ms",
    "300",
    "--task-start-ms",
    "300",
    "--state-change-ms",
    "300",
];

#[path = "conformance/harness.rs"]
mod harness;
#[path = "conformance/lifecycle_cases.rs"]
mod lifecycle_cases;
#[path = "conformance/request_cases.rs"]
mod request_cases;
#[path = "conformance/restart_cases.rs"]
mod restart_cases;

use harness::*;
use lifecycle_cases::*;
use request_cases::*;
use restart_cases::*;

/// Each case once against the real worker and once against the emulator:
/// `<case>::real` and `<case>::emulator`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {$(
        mod $case {
            #[tokio::test]
            async fn real() {
                super::$case(&super::Target::real().await).await
            }
            #[tokio::test]
            async fn emulator() {
                super::$case(&super::Target::emulator().await).await
            }
        }
    )*};
}

conformance!(
    server_info_plugins_and_unknown_paths,
    create_answers_201_then_409_already_exists,
    status_is_404_until_started_then_tasks_appear,
    task_counts_follow_the_class,
    config_put_creates_201_then_updates_200,
    pause_answers_202_before_paused_then_resume,
    stop_answers_204_then_stopped_without_tasks,
    restart_plans_and_task_restart,
    failed_task_has_a_trace_and_restarts,
    created_paused_or_stopped,
    validate_answers_200_with_errors_or_without,
    create_refusals,
    unknown_connector_answers,
    delete_answers_204_then_404,
);

// Faults, versions and scale: the emulator only.
#[path = "conformance/faults.rs"]
mod faults;
