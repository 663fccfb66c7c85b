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

// ---------------------------------------------------------------------------------------
// The two targets

/// An answer: status, Location header, body (JSON, `Null` when empty, a string otherwise).
#[derive(Debug, Clone)]
struct Answer {
    code: u16,
    location: Option<String>,
    body: Value,
    /// The body as sent (what a recording keeps).
    raw: String,
}

impl Answer {
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// A momentary answer of a real worker (rebalance, leader unknown, request timeout).
    fn momentary(&self) -> bool {
        let m = self.message();
        (self.code == 409 && !m.contains("already exists"))
            || (self.code == 500 && (m.contains("rebalance") || m.contains("timed out")))
    }
}

struct Target {
    name: &'static str,
    url: String,
    http: reqwest::Client,
    /// Set for the emulator; kept alive as long as the target.
    emulator: Option<Emulator>,
    created: std::sync::Mutex<Vec<String>>,
}

impl Target {
    async fn real() -> Self {
        Self::new("real", env("CONNECT_URL"), None)
    }

    async fn emulator() -> Self {
        Self::emulator_with(&EMULATOR_TIMINGS).await
    }

    async fn emulator_with(args: &[&str]) -> Self {
        let emulator = Emulator::start(args).await;
        Self::new("emulator", emulator.url.clone(), Some(emulator))
    }

    fn new(name: &'static str, url: String, emulator: Option<Emulator>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Target {
            name,
            url,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(100))
                .build()
                .unwrap(),
            emulator,
            created: Default::default(),
        }
    }

    fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// A fresh connector name, deleted when the target is dropped.
    fn connector(&self, case: &str) -> String {
        let name = format!("conf-{case}-{}", uuid_suffix());
        self.created.lock().unwrap().push(name.clone());
        name
    }

    /// One request, as is.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {path}: {e}", self.name));
        let code = resp.status().as_u16();
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(String::from);
        let text = resp.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| Value::String(text.clone()))
        };
        Answer {
            code,
            location,
            body,
            raw: text,
        }
    }

    /// One request, retried while the answer is momentary (a real group rebalancing after
    /// a write answers reads of the config with 500 "rebalance is expected" for a moment).
    async fn settled(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let deadline = Instant::now() + WAIT;
        loop {
            let answer = self.call(method.clone(), path, body.clone()).await;
            if !answer.momentary() || Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.settled(Method::GET, path, None).await
    }

    async fn create(&self, name: &str, config: Value) -> Answer {
        self.settled(
            Method::POST,
            "/connectors",
            Some(json!({"name": name, "config": config})),
        )
        .await
    }

    async fn create_ok(&self, name: &str, config: Value) {
        let a = self.create(name, config).await;
        assert_eq!(a.code, 201, "{}: creating {name}: {a:?}", self.name);
    }

    /// Waits until the status satisfies `check`; returns it.
    async fn status_until(&self, name: &str, what: &str, check: impl Fn(&Value) -> bool) -> Answer {
        eventually(&format!("{}: {name} {what}", self.name), WAIT, || async {
            let a = self.get(&format!("/connectors/{name}/status")).await;
            (a.code == 200 && check(&a.body)).then_some(a)
        })
        .await
    }

    /// Waits until the connector is `state` with `tasks` tasks all in `task_state`.
    async fn until(&self, name: &str, state: &str, tasks: usize, task_state: &str) -> Answer {
        self.status_until(
            name,
            &format!("{state} with {tasks} {task_state} task(s)"),
            |s| {
                let list = s["tasks"].as_array().cloned().unwrap_or_default();
                s["connector"]["state"] == state
                    && list.len() == tasks
                    && list.iter().all(|t| t["state"] == task_state)
            },
        )
        .await
    }
}

impl Drop for Target {
    /// Deletes what the case created, even when it failed (the real worker is shared).
    fn drop(&mut self) {
        let names = std::mem::take(&mut *self.created.lock().unwrap());
        if names.is_empty() || self.is_emulator() {
            return;
        }
        let url = self.url.clone();
        // Its own runtime and client: the test's runtime is blocked in this drop.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .unwrap();
                for name in names {
                    let _ = http.delete(format!("{url}/connectors/{name}")).send().await;
                }
            });
        })
        .join()
        .ok();
    }
}

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

// ---------------------------------------------------------------------------------------
// Shapes and recorded answers

fn fixture_path(name: &str) -> std::path::PathBuf {
    common::repo_root().join(format!("tests/fixtures/connect/4.3.1/{name}.json"))
}

/// Recording: `KCO_RECORD_CONFORMANCE=1`, on the real worker, for this suite's files only.
fn recording(t: &Target, fixture: &str) -> bool {
    !t.is_emulator()
        && fixture.contains("conformance")
        && std::env::var("KCO_RECORD_CONFORMANCE").is_ok_and(|v| v == "1")
}

fn fixture(name: &str) -> Value {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (record it: KCO_RECORD_CONFORMANCE=1 cargo test --test connect_conformance real)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// Where `actual` and `expected` differ in shape: keys, and the type of each value (`null`
/// stands for an absent value of any type, as Connect writes unset optional fields).
/// A connector's `config` is a free-form map of strings.
fn shape_diffs(expected: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(_), Value::Object(a)) if at.ends_with(".config") => {
            for (k, v) in a {
                if !v.is_string() {
                    out.push(format!("{at}.{k}: not a string: {v}"));
                }
            }
        }
        (Value::Object(e), Value::Object(a)) => {
            let ek: BTreeSet<&String> = e.keys().collect();
            let ak: BTreeSet<&String> = a.keys().collect();
            // Connect writes a `trace` only when there is one (a restart plan made by a
            // leader that has not read the failure yet has none).
            for k in ek.difference(&ak).filter(|k| k.as_str() != "trace") {
                out.push(format!("{at}.{k}: missing"));
            }
            for k in ak.difference(&ek).filter(|k| k.as_str() != "trace") {
                out.push(format!("{at}.{k}: not in the recorded answer"));
            }
            for k in ek.intersection(&ak) {
                shape_diffs(&e[*k], &a[*k], &format!("{at}.{k}"), out);
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if let Some(last) = e.last() {
                for (i, item) in a.iter().enumerate() {
                    shape_diffs(e.get(i).unwrap_or(last), item, &format!("{at}[{i}]"), out);
                }
            }
        }
        (Value::String(_), Value::String(_))
        | (Value::Number(_), Value::Number(_))
        | (Value::Bool(_), Value::Bool(_)) => {}
        (e, a) => out.push(format!("{at}: recorded {e}, got {a}")),
    }
}

/// Asserts an answer's body has the shape of the recorded answer `fixture` (or records it
/// as it was sent).
fn expect_body(t: &Target, fixture_name: &str, answer: &Answer) {
    if recording(t, fixture_name) {
        std::fs::write(fixture_path(fixture_name), &answer.raw).unwrap();
        return;
    }
    expect_shape(t, fixture_name, &answer.body);
}

/// Asserts `actual` has the shape of the recorded answer `fixture`.
fn expect_shape(t: &Target, fixture_name: &str, actual: &Value) {
    assert!(
        !recording(t, fixture_name),
        "{fixture_name}: record whole answers"
    );
    let expected = fixture(fixture_name);
    let mut diffs = Vec::new();
    shape_diffs(&expected, actual, "$", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{}: answer differs in shape from the recorded {fixture_name}: {diffs:#?}\nanswer: {actual}",
        t.name
    );
}

/// Asserts the entry of `name` in a map keyed by connector name (`expand`, topics) has the
/// shape of a recorded healthy connector's entry (or records it alone).
fn expect_entry_shape(t: &Target, fixture_name: &str, name: &str, map: &Value) {
    let entry = &map[name];
    assert!(!entry.is_null(), "{}: {name} missing from {map}", t.name);
    if recording(t, fixture_name) {
        let alone = json!({ name: entry });
        std::fs::write(fixture_path(fixture_name), alone.to_string()).unwrap();
        return;
    }
    let recorded = fixture(fixture_name);
    let expected = recorded
        .as_object()
        .and_then(|m| m.values().find(|v| !v.to_string().contains("\"trace\"")))
        .unwrap_or_else(|| panic!("{fixture_name}: no healthy connector recorded"));
    let mut diffs = Vec::new();
    shape_diffs(expected, entry, "$", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{}: entry differs in shape from the recorded {fixture_name}: {diffs:#?}\nentry: {entry}",
        t.name
    );
}

/// Asserts an error answer: its code, Connect's error body, and its message.
fn expect_error(t: &Target, a: &Answer, code: u16, message: &str) {
    assert_eq!(a.code, code, "{}: {a:?}", t.name);
    assert_eq!(
        a.body,
        json!({"error_code": code, "message": message}),
        "{}: error body",
        t.name
    );
}

fn expect_error_starting(t: &Target, a: &Answer, code: u16, prefix: &str) {
    assert_eq!(a.code, code, "{}: {a:?}", t.name);
    assert_eq!(a.body["error_code"], code, "{}: {a:?}", t.name);
    assert!(
        a.message().starts_with(prefix),
        "{}: message should start with {prefix:?}: {a:?}",
        t.name
    );
}

fn mock(tasks_max: u32) -> Value {
    json!({"connector.class": MOCK_SOURCE, "tasks.max": tasks_max.to_string(),
        "mock_mode": "task-failure", "delay_ms": "3600000"})
}

fn verifiable(tasks_max: u32) -> Value {
    json!({"connector.class": VERIFIABLE_SOURCE, "tasks.max": tasks_max.to_string(),
        "topic": TOPIC, "throughput": "10"})
}

fn states(status: &Value) -> (String, Vec<String>) {
    (
        status["connector"]["state"]
            .as_str()
            .unwrap_or_default()
            .into(),
        status["tasks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["state"].as_str().unwrap_or_default().to_string())
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// The cases

async fn server_info_plugins_and_unknown_paths(t: &Target) {
    let root = t.get("/").await;
    assert_eq!(root.code, 200);
    expect_body(t, "root", &root);
    assert_eq!(root.body["version"], "4.3.1", "{}", t.name);

    let plugins = t.get("/connector-plugins").await;
    assert_eq!(plugins.code, 200);
    expect_body(t, "plugins", &plugins);
    for (class, kind) in [
        (MOCK_SOURCE, "source"),
        (VERIFIABLE_SOURCE, "source"),
        (FILE_SOURCE, "source"),
        (FILE_SINK, "sink"),
        ("org.apache.kafka.connect.tools.MockSinkConnector", "sink"),
    ] {
        assert!(
            plugins
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["class"] == class && p["type"] == kind),
            "{}: {class} ({kind}) missing from {}",
            t.name,
            plugins.body
        );
    }

    let list = t.get("/connectors").await;
    assert_eq!(list.code, 200);
    assert!(list.body.as_array().unwrap().iter().all(Value::is_string));

    let unknown = t.get("/no-such-path").await;
    expect_error(t, &unknown, 404, "HTTP 404 Not Found");
    let wrong_method = t.call(Method::DELETE, "/connectors", None).await;
    expect_error(t, &wrong_method, 405, "HTTP 405 Method Not Allowed");
    let not_json = t
        .http
        .post(format!("{}/connectors", t.url))
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status().as_u16(), 415, "{}", t.name);
}

async fn create_answers_201_then_409_already_exists(t: &Target) {
    let name = t.connector("create");
    let config = json!({"connector.class": MOCK_SOURCE, "tasks.max": 1,
        "mock_mode": "task-failure", "delay_ms": 3600000});
    let a = t.create(&name, config.clone()).await;
    assert_eq!(a.code, 201, "{}: {a:?}", t.name);
    expect_body(t, "info-conformance-created", &a);
    assert!(
        a.location
            .as_deref()
            .is_some_and(|l| l.ends_with(&format!("/connectors/{name}"))),
        "{}: Location {:?}",
        t.name,
        a.location
    );
    assert_eq!(a.body["name"], name);
    assert_eq!(
        a.body["tasks"],
        json!([]),
        "{}: a new connector has no tasks yet",
        t.name
    );
    assert_eq!(a.body["type"], "source");
    // Scalars are stored as strings, and the name is added.
    assert_eq!(a.body["config"]["tasks.max"], "1");
    assert_eq!(a.body["config"]["delay_ms"], "3600000");
    assert_eq!(a.body["config"]["name"], name);

    let again = t.create(&name, config).await;
    expect_error(t, &again, 409, &format!("Connector {name} already exists"));
    expect_body(t, "error-409-already-exists", &again);

    // The name is trimmed.
    let padded = t.connector("create-trim");
    let a = t
        .create(
            &format!("  {padded} "),
            json!({"connector.class": MOCK_SOURCE}),
        )
        .await;
    assert_eq!(a.code, 201, "{}: {a:?}", t.name);
    assert_eq!(a.body["name"], padded);
}

async fn status_is_404_until_started_then_tasks_appear(t: &Target) {
    let name = t.connector("lifecycle");
    t.create_ok(&name, verifiable(3)).await;
    // Right after the create: no status yet (the real worker may already have started it).
    let early = t
        .call(Method::GET, &format!("/connectors/{name}/status"), None)
        .await;
    let expanded_early = t.get("/connectors?expand=status").await;
    if early.code == 404 {
        expect_error(
            t,
            &early,
            404,
            &format!("No status found for connector {name}"),
        );
        expect_body(t, "error-404-not-found", &early);
    } else {
        assert!(
            !t.is_emulator(),
            "the emulator answers 404 before the start: {early:?}"
        );
        assert_eq!(early.code, 200, "{}: {early:?}", t.name);
    }
    if t.is_emulator() {
        // A connector without status is dropped from the expanded map.
        assert!(
            expanded_early.body.get(&name).is_none(),
            "{expanded_early:?}"
        );
    }

    let status = t.until(&name, "RUNNING", 3, "RUNNING").await;
    expect_body(t, "status-mock", &status);
    let ids: Vec<i64> = status.body["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [0, 1, 2], "{}: tasks sorted by id", t.name);
    assert_eq!(status.body["type"], "source");

    let info = eventually("the task configs", WAIT, || async {
        let a = t.get(&format!("/connectors/{name}")).await;
        (a.body["tasks"].as_array().map(Vec::len) == Some(3)).then_some(a)
    })
    .await;
    expect_body(t, "info-mock", &info);
    assert_eq!(info.body["tasks"][2], json!({"connector": name, "task": 2}));

    let tasks = t.get(&format!("/connectors/{name}/tasks")).await;
    assert_eq!(tasks.code, 200);
    expect_body(t, "tasks-conformance-verifiable", &tasks);
    assert_eq!(tasks.body.as_array().unwrap().len(), 3);
    assert_eq!(
        tasks.body[0]["config"]["task.class"],
        "org.apache.kafka.connect.tools.VerifiableSourceTask"
    );

    let task = t.get(&format!("/connectors/{name}/tasks/1/status")).await;
    assert_eq!(task.code, 200);
    expect_body(t, "task-status-mock", &task);
    assert_eq!(task.body["id"], 1);
    let absent = t.get(&format!("/connectors/{name}/tasks/9/status")).await;
    expect_error(
        t,
        &absent,
        404,
        &format!("No status found for task {name}-9"),
    );
    let not_a_number = t.get(&format!("/connectors/{name}/tasks/x/status")).await;
    expect_error(t, &not_a_number, 404, "HTTP 404 Not Found");

    let both = t.get("/connectors?expand=status&expand=info").await;
    assert_eq!(both.code, 200);
    expect_entry_shape(t, "expanded-mock", &name, &both.body);
    assert_eq!(keys(&both.body[&name]), ["info", "status"]);
    let status_only = t.get("/connectors?expand=status").await;
    expect_entry_shape(
        t,
        "expanded-conformance-status-only",
        &name,
        &status_only.body,
    );
    assert_eq!(keys(&status_only.body[&name]), ["status"]);
    let info_only = t.get("/connectors?expand=info").await;
    expect_entry_shape(t, "expanded-conformance-info-only", &name, &info_only.body);
    assert_eq!(keys(&info_only.body[&name]), ["info"]);

    let topics = eventually("the topic in use", WAIT, || async {
        let a = t.get(&format!("/connectors/{name}/topics")).await;
        (a.body[&name]["topics"] == json!([TOPIC])).then_some(a)
    })
    .await;
    expect_entry_shape(t, "topics-conformance-verifiable", &name, &topics.body);
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

async fn task_counts_follow_the_class(t: &Target) {
    let cases = [
        (json!({"connector.class": MOCK_SOURCE, "tasks.max": "3"}), 1),
        (
            json!({"connector.class": FILE_SOURCE, "tasks.max": "2", "topic": TOPIC}),
            1,
        ),
        (
            json!({"connector.class": FILE_SINK, "tasks.max": "2", "topics": TOPIC,
                "file": "/dev/null"}),
            2,
        ),
        (verifiable(2), 2),
    ];
    let mut names = Vec::new();
    for (config, _) in &cases {
        let name = t.connector("tasks");
        t.create_ok(&name, config.clone()).await;
        names.push(name);
    }
    for ((config, tasks), name) in cases.iter().zip(&names) {
        let status = t.until(name, "RUNNING", *tasks, "RUNNING").await;
        let kind = if config["connector.class"] == FILE_SINK {
            "sink"
        } else {
            "source"
        };
        assert_eq!(status.body["type"], kind, "{}: {config}", t.name);
    }
}

async fn config_put_creates_201_then_updates_200(t: &Target) {
    let name = t.connector("put");
    let path = format!("/connectors/{name}/config");
    let a = t
        .settled(
            Method::PUT,
            &path,
            Some(json!({"connector.class": MOCK_SOURCE, "tasks.max": 2,
                "mock_mode": "task-failure", "delay_ms": "3600000"})),
        )
        .await;
    assert_eq!(a.code, 201, "{}: {a:?}", t.name);
    expect_body(t, "info-conformance-put-created", &a);
    assert!(
        a.location.is_some(),
        "{}: a created connector has a Location",
        t.name
    );
    assert_eq!(a.body["tasks"], json!([]));

    let config = t.get(&path).await;
    assert_eq!(config.code, 200);
    assert_eq!(
        config.body,
        json!({"connector.class": MOCK_SOURCE, "tasks.max": "2", "mock_mode": "task-failure",
            "delay_ms": "3600000", "name": name}),
        "{}: the stored config",
        t.name
    );
    t.until(&name, "RUNNING", 1, "RUNNING").await;

    let a = t
        .settled(
            Method::PUT,
            &path,
            Some(json!({"connector.class": MOCK_SOURCE, "tasks.max": "1",
                "mock_mode": "task-failure", "delay_ms": "3600001", "name": name})),
        )
        .await;
    assert_eq!(a.code, 200, "{}: {a:?}", t.name);
    expect_body(t, "info-conformance-put-updated", &a);
    assert_eq!(a.body["config"]["delay_ms"], "3600001");
    assert_eq!(t.get(&path).await.body["delay_ms"], "3600001");
    t.until(&name, "RUNNING", 1, "RUNNING").await;

    let mismatch = t
        .settled(
            Method::PUT,
            &path,
            Some(json!({"connector.class": MOCK_SOURCE, "name": "other"})),
        )
        .await;
    expect_error(
        t,
        &mismatch,
        400,
        &format!(
            "Connector name configuration (other) doesn't match connector name in the URL ({name})"
        ),
    );
    let no_class = t
        .settled(Method::PUT, &path, Some(json!({"tasks.max": "1"})))
        .await;
    assert_eq!(no_class.code, 400, "{}: {no_class:?}", t.name);
    assert!(
        no_class.message().ends_with("contains no connector type"),
        "{no_class:?}"
    );
}

async fn pause_answers_202_before_paused_then_resume(t: &Target) {
    let name = t.connector("pause");
    t.create_ok(&name, mock(1)).await;
    t.until(&name, "RUNNING", 1, "RUNNING").await;

    let a = t
        .settled(Method::PUT, &format!("/connectors/{name}/pause"), None)
        .await;
    assert_eq!((a.code, &a.body), (202, &Value::Null), "{}: {a:?}", t.name);
    if t.is_emulator() {
        // 202 before anything happened.
        let now = t.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(
            states(&now.body),
            ("RUNNING".into(), vec!["RUNNING".into()])
        );
    }
    let paused = t.until(&name, "PAUSED", 1, "PAUSED").await;
    expect_body(t, "status-conformance-paused", &paused);
    let again = t
        .settled(Method::PUT, &format!("/connectors/{name}/pause"), None)
        .await;
    assert_eq!(again.code, 202);

    let a = t
        .settled(Method::PUT, &format!("/connectors/{name}/resume"), None)
        .await;
    assert_eq!((a.code, &a.body), (202, &Value::Null), "{}: {a:?}", t.name);
    if t.is_emulator() {
        let now = t.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(states(&now.body).0, "PAUSED");
    }
    t.until(&name, "RUNNING", 1, "RUNNING").await;
}

async fn stop_answers_204_then_stopped_without_tasks(t: &Target) {
    let name = t.connector("stop");
    t.create_ok(&name, verifiable(2)).await;
    t.until(&name, "RUNNING", 2, "RUNNING").await;

    let a = t
        .settled(Method::PUT, &format!("/connectors/{name}/stop"), None)
        .await;
    assert_eq!((a.code, &a.body), (204, &Value::Null), "{}: {a:?}", t.name);
    if t.is_emulator() {
        // The task configs are gone at once; the connector is STOPPED later.
        let now = t.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(states(&now.body), ("RUNNING".into(), vec![]));
    }
    let stopped = t.until(&name, "STOPPED", 0, "-").await;
    expect_body(t, "status-conformance-stopped", &stopped);
    let tasks = t.get(&format!("/connectors/{name}/tasks")).await;
    assert_eq!((tasks.code, &tasks.body), (200, &json!([])), "{}", t.name);
    let info = t.get(&format!("/connectors/{name}")).await;
    assert_eq!(info.body["tasks"], json!([]));

    let a = t
        .settled(Method::PUT, &format!("/connectors/{name}/resume"), None)
        .await;
    assert_eq!(a.code, 202);
    // Resumed from STOPPED: the tasks are generated again.
    t.until(&name, "RUNNING", 2, "RUNNING").await;
}

async fn restart_plans_and_task_restart(t: &Target) {
    let name = t.connector("restart");
    t.create_ok(&name, mock(1)).await;
    t.until(&name, "RUNNING", 1, "RUNNING").await;
    let restart = |query: &str| format!("/connectors/{name}/restart{query}");

    let plain = t.settled(Method::POST, &restart(""), None).await;
    assert_eq!(
        (plain.code, &plain.body),
        (204, &Value::Null),
        "{}: {plain:?}",
        t.name
    );
    t.until(&name, "RUNNING", 1, "RUNNING").await;

    let all = t
        .settled(
            Method::POST,
            &restart("?includeTasks=true&onlyFailed=false"),
            None,
        )
        .await;
    assert_eq!(all.code, 202, "{}: {all:?}", t.name);
    expect_body(t, "restart-plan-conformance-all", &all);
    assert_eq!(
        states(&all.body),
        ("RESTARTING".into(), vec!["RESTARTING".into()])
    );
    t.until(&name, "RUNNING", 1, "RUNNING").await;

    // Nothing failed: the plan restarts nothing and shows the current states.
    let none = t
        .settled(
            Method::POST,
            &restart("?includeTasks=true&onlyFailed=true"),
            None,
        )
        .await;
    assert_eq!(none.code, 202, "{}: {none:?}", t.name);
    expect_body(t, "restart-plan-conformance-nothing-failed", &none);
    assert_eq!(
        states(&none.body),
        ("RUNNING".into(), vec!["RUNNING".into()])
    );

    let task = t
        .settled(
            Method::POST,
            &format!("/connectors/{name}/tasks/0/restart"),
            None,
        )
        .await;
    assert_eq!(
        (task.code, &task.body),
        (204, &Value::Null),
        "{}: {task:?}",
        t.name
    );
    let absent = t
        .settled(
            Method::POST,
            &format!("/connectors/{name}/tasks/7/restart"),
            None,
        )
        .await;
    expect_error(t, &absent, 404, &format!("Unknown task: {name}-7"));
    t.until(&name, "RUNNING", 1, "RUNNING").await;
}

async fn failed_task_has_a_trace_and_restarts(t: &Target) {
    let name = t.connector("failing");
    t.create_ok(
        &name,
        json!({"connector.class": MOCK_SOURCE, "tasks.max": "1",
            "mock_mode": "task-failure", "delay_ms": "10"}),
    )
    .await;
    let failed = t.until(&name, "RUNNING", 1, "FAILED").await;
    expect_body(t, "status-failed-task", &failed);
    let trace = failed.body["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default();
    assert!(
        trace.starts_with(
            "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockSourceTask.poll"
        ),
        "{}: trace {trace:?}",
        t.name
    );
    let task = t.get(&format!("/connectors/{name}/tasks/0/status")).await;
    assert_eq!(task.body["state"], "FAILED");
    assert!(task.body["trace"].is_string());

    // A real restart is planned by the leader, whose view of the task may lag a moment
    // behind the worker that reported FAILED: until it sees it, it plans nothing.
    let plan = eventually("a plan restarting the failed task", WAIT, || async {
        let plan = t
            .settled(
                Method::POST,
                &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
                None,
            )
            .await;
        assert_eq!(plan.code, 202, "{}: {plan:?}", t.name);
        (plan.body["tasks"][0]["state"] == "RESTARTING").then_some(plan)
    })
    .await;
    expect_body(t, "restart-plan-mock", &plan);
    assert_eq!(
        states(&plan.body),
        ("RUNNING".into(), vec!["RESTARTING".into()])
    );
    // The mock fails again 10 ms after its restart.
    t.until(&name, "RUNNING", 1, "FAILED").await;
}

async fn created_paused_or_stopped(t: &Target) {
    let paused = t.connector("paused");
    let a = t
        .settled(
            Method::POST,
            "/connectors",
            Some(json!({"name": paused, "config": mock(1), "initial_state": "PAUSED"})),
        )
        .await;
    assert_eq!(a.code, 201, "{}: {a:?}", t.name);
    let stopped = t.connector("stopped");
    let a = t
        .settled(
            Method::POST,
            "/connectors",
            Some(json!({"name": stopped, "config": mock(1), "initial_state": "STOPPED"})),
        )
        .await;
    assert_eq!(a.code, 201, "{}: {a:?}", t.name);

    // No task configs are generated for either.
    let status = t.until(&paused, "PAUSED", 0, "-").await;
    expect_body(t, "status-conformance-created-paused", &status);
    let status = t.until(&stopped, "STOPPED", 0, "-").await;
    expect_body(t, "status-conformance-created-stopped", &status);
    assert_eq!(
        t.get(&format!("/connectors/{paused}")).await.body["tasks"],
        json!([])
    );

    let a = t
        .settled(Method::PUT, &format!("/connectors/{paused}/resume"), None)
        .await;
    assert_eq!(a.code, 202);
    t.until(&paused, "RUNNING", 1, "RUNNING").await;

    let weird = t
        .settled(
            Method::POST,
            "/connectors",
            Some(
                json!({"name": t.connector("weird"), "config": mock(1), "initial_state": "WEIRD"}),
            ),
        )
        .await;
    assert_eq!(weird.code, 500, "{}: {weird:?}", t.name);
    assert!(weird.message().contains("No enum constant"), "{weird:?}");
}

async fn validate_answers_200_with_errors_or_without(t: &Target) {
    let validate = |class: &str| format!("/connector-plugins/{class}/config/validate");

    // The recorded answer of hack/record-answers.sh: compared value by value, not only shape.
    let errors = t
        .settled(
            Method::PUT,
            &validate(FILE_SOURCE),
            Some(json!({"connector.class": FILE_SOURCE, "name": "x", "tasks.max": "one"})),
        )
        .await;
    assert_eq!(errors.code, 200, "{}: {errors:?}", t.name);
    expect_validation(t, "validate-filestream-errors", &errors);
    assert_eq!(errors.body["error_count"], 3);

    let ok = t
        .settled(
            Method::PUT,
            &validate(VERIFIABLE_SOURCE),
            Some(
                json!({"connector.class": VERIFIABLE_SOURCE, "name": "x", "tasks.max": "2",
                "topic": TOPIC, "throughput": "10"}),
            ),
        )
        .await;
    assert_eq!(ok.code, 200, "{}: {ok:?}", t.name);
    expect_validation(t, "validate-conformance-ok", &ok);
    assert_eq!(ok.body["error_count"], 0);

    let sink = t
        .settled(
            Method::PUT,
            &validate(FILE_SINK),
            Some(json!({"connector.class": FILE_SINK, "name": "x"})),
        )
        .await;
    expect_validation(t, "validate-conformance-sink-no-topics", &sink);
    assert_eq!(
        per_key_errors(&sink.body).get("topics"),
        Some(&vec![
            "Must configure one of topics or topics.regex".to_string()
        ])
    );

    let unknown = t
        .settled(
            Method::PUT,
            &validate("com.example.NoSuchConnector"),
            Some(json!({"connector.class": "com.example.NoSuchConnector", "name": "x"})),
        )
        .await;
    assert_eq!(unknown.code, 500, "{}: {unknown:?}", t.name);
    assert!(
        unknown.message().contains(
            "Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector"
        ),
        "{}: {unknown:?}",
        t.name
    );
    expect_body(t, "error-500-unknown-class", &unknown);

    let mismatch = t
        .settled(
            Method::PUT,
            &validate(MOCK_SOURCE),
            Some(json!({"connector.class": FILE_SINK})),
        )
        .await;
    expect_error(
        t,
        &mismatch,
        400,
        &format!("Included connector type {FILE_SINK} does not match request type {MOCK_SOURCE}"),
    );
    let no_class = t
        .settled(Method::PUT, &validate(MOCK_SOURCE), Some(json!({})))
        .await;
    expect_error(
        t,
        &no_class,
        500,
        "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: Connector config {} contains no connector type",
    );
}

/// Each key's errors, from a validate answer.
fn per_key_errors(answer: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    answer["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let errors = c["value"]["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str().map(String::from))
                .collect();
            (
                c["value"]["name"].as_str().unwrap_or_default().to_string(),
                errors,
            )
        })
        .collect()
}

/// A validate answer against a recorded one: the same shape, class, groups, keys in the
/// same order, error count and errors per key (validation is deterministic).
fn expect_validation(t: &Target, fixture_name: &str, answer: &Answer) {
    expect_body(t, fixture_name, answer);
    let actual = &answer.body;
    if recording(t, fixture_name) {
        return;
    }
    let expected = fixture(fixture_name);
    for key in ["name", "error_count", "groups"] {
        assert_eq!(
            actual[key], expected[key],
            "{}: {fixture_name}: {key}",
            t.name
        );
    }
    let names = |v: &Value| -> Vec<String> {
        v["configs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                c["definition"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    };
    assert_eq!(
        names(actual),
        names(&expected),
        "{}: {fixture_name}: keys",
        t.name
    );
    assert_eq!(
        per_key_errors(actual),
        per_key_errors(&expected),
        "{}: {fixture_name}: errors",
        t.name
    );
}

async fn create_refusals(t: &Target) {
    let name = t.connector("refused");
    let post = |body: Value| t.settled(Method::POST, "/connectors", Some(body));

    let a = post(json!({"name": name, "config": {"tasks.max": "1"}})).await;
    assert_eq!(a.code, 400, "{}: {a:?}", t.name);
    assert!(
        a.message().starts_with("Connector config {")
            && a.message().ends_with("} contains no connector type"),
        "{}: {a:?}",
        t.name
    );

    // The real worker prefixes it with `org.apache.kafka.connect.errors.ConnectException: `
    // when the create was forwarded to the leader.
    let a = post(json!({"name": name, "config": {"connector.class": "com.example.Nope"}})).await;
    assert_eq!(
        (a.code, &a.body["error_code"]),
        (400, &json!(400)),
        "{}: {a:?}",
        t.name
    );
    assert!(
        a.message().contains(
            "Failed to find any class that implements Connector and which name matches com.example.Nope, available connectors are: PluginDesc{"
        ),
        "{}: {a:?}",
        t.name
    );

    let a = post(json!({"name": name, "config": {"connector.class": FILE_SOURCE}})).await;
    expect_error(
        t,
        &a,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"topic\" which has no default value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    );

    let a =
        post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE, "tasks.max": "0"}}))
            .await;
    expect_error(
        t,
        &a,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\nInvalid value 0 for configuration tasks.max: Value must be at least 1\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    );

    let a =
        post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE, "name": "other"}}))
            .await;
    expect_error(
        t,
        &a,
        400,
        &format!(
            "Connector name configuration (other) doesn't match connector name in the URL ({name})"
        ),
    );

    let a =
        post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE}, "bogus": 1})).await;
    expect_error_starting(
        t,
        &a,
        500,
        "Unrecognized field \"bogus\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: \"config\", \"name\", \"initial_state\")",
    );

    let a = post(json!({"name": name, "config": {"connector.class": MOCK_SOURCE, "x": {"a": 1}}}))
        .await;
    expect_error_starting(
        t,
        &a,
        500,
        "Cannot deserialize value of type `java.lang.String` from Object value",
    );

    let a = post(json!({"name": name})).await;
    expect_error(
        t,
        &a,
        500,
        "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null",
    );

    let malformed = t
        .http
        .post(format!("{}/connectors", t.url))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 500, "{}", t.name);

    // Nothing was created.
    let a = t.get(&format!("/connectors/{name}")).await;
    expect_error(t, &a, 404, &format!("Connector {name} not found"));
}

async fn unknown_connector_answers(t: &Target) {
    let c = format!("conf-absent-{}", uuid_suffix());
    let not_found = format!("Connector {c} not found");
    let unknown = format!("Unknown connector {c}");
    let unknown_colon = format!("Unknown connector: {c}");
    let checks: Vec<(Method, String, String)> = vec![
        (Method::GET, format!("/connectors/{c}"), not_found.clone()),
        (
            Method::GET,
            format!("/connectors/{c}/config"),
            not_found.clone(),
        ),
        (
            Method::GET,
            format!("/connectors/{c}/status"),
            format!("No status found for connector {c}"),
        ),
        (
            Method::GET,
            format!("/connectors/{c}/tasks"),
            not_found.clone(),
        ),
        (
            Method::GET,
            format!("/connectors/{c}/tasks/0/status"),
            format!("No status found for task {c}-0"),
        ),
        (
            Method::PUT,
            format!("/connectors/{c}/pause"),
            unknown.clone(),
        ),
        (
            Method::PUT,
            format!("/connectors/{c}/resume"),
            unknown.clone(),
        ),
        (
            Method::PUT,
            format!("/connectors/{c}/stop"),
            unknown.clone(),
        ),
        (
            Method::POST,
            format!("/connectors/{c}/restart"),
            unknown_colon.clone(),
        ),
        (
            Method::POST,
            format!("/connectors/{c}/restart?includeTasks=true&onlyFailed=true"),
            unknown_colon.clone(),
        ),
        (
            Method::POST,
            format!("/connectors/{c}/tasks/0/restart"),
            unknown_colon.clone(),
        ),
        (
            Method::DELETE,
            format!("/connectors/{c}"),
            not_found.clone(),
        ),
    ];
    for (method, path, message) in checks {
        let a = t.settled(method.clone(), &path, None).await;
        assert_eq!(a.code, 404, "{}: {method} {path}: {a:?}", t.name);
        expect_error(t, &a, 404, &message);
        expect_body(t, "error-404-not-found", &a);
    }
    // Topics are not checked for existence.
    let topics = t.get(&format!("/connectors/{c}/topics")).await;
    assert_eq!(topics.code, 200);
    assert_eq!(topics.body, json!({ &c: {"topics": []} }));
}

async fn delete_answers_204_then_404(t: &Target) {
    let name = t.connector("delete");
    t.create_ok(&name, mock(1)).await;
    t.until(&name, "RUNNING", 1, "RUNNING").await;
    let a = t
        .settled(Method::DELETE, &format!("/connectors/{name}"), None)
        .await;
    assert_eq!((a.code, &a.body), (204, &Value::Null), "{}: {a:?}", t.name);
    let a = t.get(&format!("/connectors/{name}")).await;
    expect_error(t, &a, 404, &format!("Connector {name} not found"));
    eventually("the status gone", WAIT, || async {
        let a = t.get(&format!("/connectors/{name}/status")).await;
        (a.code == 404).then_some(())
    })
    .await;
    let list = t.get("/connectors").await;
    assert!(!list.body.as_array().unwrap().contains(&json!(name)));
    let again = t
        .settled(Method::DELETE, &format!("/connectors/{name}"), None)
        .await;
    expect_error(t, &again, 404, &format!("Connector {name} not found"));
}

// ---------------------------------------------------------------------------------------
// Faults, versions and scale: the emulator only

mod faults {
    use super::*;

    const FAST: [&str; 6] = [
        "--connector-start-ms",
        "0",
        "--task-start-ms",
        "0",
        "--state-change-ms",
        "0",
    ];
    const NO_LEADER: &str = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";
    const REBALANCE_EXPECTED: &str = "Request cannot be completed because a rebalance is expected";

    async fn fast() -> Target {
        Target::emulator_with(&FAST).await
    }

    fn admin(t: &Target) -> &Emulator {
        t.emulator.as_ref().expect("an emulator target")
    }

    async fn running_mock(t: &Target, case: &str) -> String {
        let name = t.connector(case);
        t.create_ok(&name, mock(1)).await;
        t.until(&name, "RUNNING", 1, "RUNNING").await;
        name
    }

    #[tokio::test]
    async fn a_rebalance_window_answers_409_to_writes_and_500_to_config_reads() {
        let t = fast().await;
        let name = running_mock(&t, "rebalance").await;
        let (code, body) = admin(&t)
            .admin(Method::POST, "rebalance", Some(json!({"ms": 3000})))
            .await;
        assert_eq!(code, 200);
        assert!(
            body["rebalance_remaining_ms"].as_u64().unwrap() > 0,
            "{body}"
        );

        let other = t.connector("rebalance-other");
        let writes = [
            (
                Method::POST,
                "/connectors".to_string(),
                Some(json!({"name": other, "config": mock(1)})),
            ),
            (
                Method::PUT,
                format!("/connectors/{name}/config"),
                Some(mock(1)),
            ),
            (Method::PUT, format!("/connectors/{name}/stop"), None),
            (Method::POST, format!("/connectors/{name}/restart"), None),
            (
                Method::POST,
                format!("/connectors/{name}/tasks/0/restart"),
                None,
            ),
            (Method::DELETE, format!("/connectors/{name}"), None),
        ];
        for (method, path, body) in writes {
            let a = t.call(method, &path, body).await;
            expect_error(&t, &a, 409, NO_LEADER);
        }
        for path in ["", "/config", "/tasks"] {
            let a = t
                .call(Method::GET, &format!("/connectors/{name}{path}"), None)
                .await;
            expect_error(&t, &a, 500, REBALANCE_EXPECTED);
        }
        // Answered from local state, or written directly: unaffected.
        let status = t
            .call(Method::GET, &format!("/connectors/{name}/status"), None)
            .await;
        assert_eq!(status.code, 200);
        let all = t
            .call(Method::GET, "/connectors?expand=status&expand=info", None)
            .await;
        assert!(all.body.get(&name).is_some());
        let pause = t
            .call(Method::PUT, &format!("/connectors/{name}/pause"), None)
            .await;
        assert_eq!(pause.code, 202);

        // A client retrying momentary answers gets through once the window closes.
        let started = Instant::now();
        let a = t.create(&other, mock(1)).await;
        assert_eq!(a.code, 201, "{a:?}");
        assert!(
            started.elapsed() >= Duration::from_millis(1000),
            "the window was open"
        );
    }

    #[tokio::test]
    async fn every_write_can_open_a_rebalance_window() {
        let t = Target::emulator_with(&["--rebalance-after-write-ms", "800"]).await;
        let first = t.connector("after-write");
        let a = t
            .call(
                Method::POST,
                "/connectors",
                Some(json!({"name": first, "config": mock(1)})),
            )
            .await;
        assert_eq!(a.code, 201);
        let second = t.connector("after-write");
        let body = json!({"name": second, "config": mock(1)});
        let a = t
            .call(Method::POST, "/connectors", Some(body.clone()))
            .await;
        expect_error(&t, &a, 409, NO_LEADER);
        let a = t.settled(Method::POST, "/connectors", Some(body)).await;
        assert_eq!(a.code, 201, "{a:?}");
    }

    #[tokio::test]
    async fn injected_errors_hit_what_their_rule_names_then_stop() {
        let t = fast().await;
        let a = running_mock(&t, "errors-a").await;
        let b = running_mock(&t, "errors-b").await;
        admin(&t)
            .set_faults(json!([
                {"kind": "error", "status": 500, "message": "boom", "endpoint": "status",
                    "connector": a, "count": 2},
                {"kind": "error", "status": 409, "endpoint": "create", "count": 1},
            ]))
            .await;
        for _ in 0..2 {
            let x = t
                .call(Method::GET, &format!("/connectors/{a}/status"), None)
                .await;
            expect_error(&t, &x, 500, "boom");
            let y = t
                .call(Method::GET, &format!("/connectors/{b}/status"), None)
                .await;
            assert_eq!(y.code, 200, "other connectors are not hit");
        }
        let x = t
            .call(Method::GET, &format!("/connectors/{a}/status"), None)
            .await;
        assert_eq!(x.code, 200, "the rule is spent");

        let c = t.connector("errors-c");
        let body = json!({"name": c, "config": mock(1)});
        let x = t
            .call(Method::POST, "/connectors", Some(body.clone()))
            .await;
        expect_error(&t, &x, 409, NO_LEADER);
        let x = t.call(Method::POST, "/connectors", Some(body)).await;
        assert_eq!(x.code, 201);

        let (code, body) = admin(&t).admin(Method::GET, "faults", None).await;
        assert_eq!((code, &body["rules"]), (200, &json!([])));
        let (code, stats) = admin(&t).admin(Method::GET, "stats", None).await;
        assert_eq!(code, 200);
        assert_eq!(stats["requests"]["status"]["500"], 2, "{stats}");
        assert_eq!(stats["requests"]["create"]["409"], 1, "{stats}");
    }

    #[tokio::test]
    async fn fault_flags_apply_from_the_start() {
        let t = Target::emulator_with(&["--fault-500-rate", "1"]).await;
        let a = t.call(Method::GET, "/", None).await;
        expect_error(&t, &a, 500, "Injected failure (kco-connect-emulator)");
        let (code, _) = admin(&t).admin(Method::DELETE, "faults", None).await;
        assert_eq!(code, 204);
        assert_eq!(t.call(Method::GET, "/", None).await.code, 200);
    }

    #[tokio::test]
    async fn a_hang_needs_a_client_timeout_and_a_timeout_is_connects_500() {
        let t = fast().await;
        admin(&t)
            .set_faults(json!([
                {"kind": "hang", "endpoint": "list_expanded"},
                {"kind": "timeout", "endpoint": "plugins", "ms": 300},
            ]))
            .await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(700))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = client
            .get(format!("{}/connectors?expand=status&expand=info", t.url))
            .send()
            .await
            .expect_err("a hung request never answers");
        assert!(err.is_timeout(), "{err:?}");
        assert!(started.elapsed() >= Duration::from_millis(700));
        // Other endpoints answer meanwhile.
        let root = client.get(format!("{}/", t.url)).send().await.unwrap();
        assert_eq!(root.status().as_u16(), 200);

        let started = Instant::now();
        let a = t.call(Method::GET, "/connector-plugins", None).await;
        expect_error(&t, &a, 500, "Request timed out");
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn a_reset_drops_the_connection() {
        let t = fast().await;
        admin(&t)
            .set_faults(json!([{"kind": "reset", "endpoint": "root", "count": 1}]))
            .await;
        let err = t
            .http
            .get(format!("{}/", t.url))
            .send()
            .await
            .expect_err("a reset connection has no answer");
        assert!(!err.is_timeout(), "{err:?}");
        let chain = format!("{err:?}");
        assert!(
            chain.contains("reset")
                || chain.contains("closed")
                || chain.contains("IncompleteMessage"),
            "{chain}"
        );
        assert_eq!(t.call(Method::GET, "/", None).await.code, 200);
    }

    #[tokio::test]
    async fn task_n_of_connector_c_fails_on_demand_with_its_trace() {
        let t = fast().await;
        let name = t.connector("fail-task");
        t.create_ok(&name, verifiable(3)).await;
        t.until(&name, "RUNNING", 3, "RUNNING").await;
        let trace =
            "java.lang.IllegalStateException: boom\n\tat com.example.Task.poll(Task.java:1)\n";
        admin(&t).fail_task(&name, 1, trace).await;

        let status = t.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(
            states(&status.body),
            (
                "RUNNING".into(),
                vec!["RUNNING".into(), "FAILED".into(), "RUNNING".into()]
            )
        );
        assert_eq!(status.body["tasks"][1]["trace"], trace);
        expect_body(&t, "status-failed-task", &status);

        let a = t
            .call(
                Method::POST,
                &format!("/connectors/{name}/tasks/1/restart"),
                None,
            )
            .await;
        assert_eq!(a.code, 204);
        t.until(&name, "RUNNING", 3, "RUNNING").await;

        let (code, _) = admin(&t)
            .admin(Method::POST, &format!("connectors/{name}/fail"), None)
            .await;
        assert_eq!(code, 204);
        let failed = t.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(failed.body["connector"]["state"], "FAILED");
        assert!(failed.body["connector"]["trace"].is_string());
        let plan = t
            .call(
                Method::POST,
                &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
                None,
            )
            .await;
        assert_eq!(states(&plan.body).0, "RESTARTING");
        t.until(&name, "RUNNING", 3, "RUNNING").await;

        let (code, _) = admin(&t)
            .admin(Method::POST, "connectors/absent/tasks/0/fail", None)
            .await;
        assert_eq!(code, 404);
    }

    #[tokio::test]
    async fn latency_is_added_and_changed_at_runtime() {
        let t = Target::emulator_with(&["--latency-ms", "300"]).await;
        let started = Instant::now();
        assert_eq!(t.call(Method::GET, "/", None).await.code, 200);
        assert!(started.elapsed() >= Duration::from_millis(300));
        let (code, settings) = admin(&t)
            .admin(
                Method::PUT,
                "settings",
                Some(json!({"latency_ms": 0, "task_start_ms": 50})),
            )
            .await;
        assert_eq!(code, 200);
        assert_eq!(
            (
                settings["latency_ms"].as_u64(),
                settings["task_start_ms"].as_u64()
            ),
            (Some(0), Some(50))
        );
        let started = Instant::now();
        assert_eq!(t.call(Method::GET, "/", None).await.code, 200);
        assert!(started.elapsed() < Duration::from_millis(300));
    }

    #[tokio::test]
    async fn older_versions_answer_like_them() {
        let t = Target::emulator_with(&["--connect-version", "3.6.2", "--connector-start-ms", "0"])
            .await;
        assert_eq!(
            t.call(Method::GET, "/", None).await.body["version"],
            "3.6.2"
        );
        let name = t.connector("v362");
        let a = t
            .call(
                Method::POST,
                "/connectors",
                Some(json!({"name": name, "config": mock(1), "initial_state": "PAUSED"})),
            )
            .await;
        expect_error_starting(
            &t,
            &a,
            500,
            "Unrecognized field \"initial_state\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (2 known properties: \"config\", \"name\")",
        );
        t.create_ok(&name, mock(1)).await;
        let status = t.until(&name, "RUNNING", 1, "RUNNING").await;
        // Before 4.1 status entries carry no version (as recorded from a 3.6.2 worker).
        let recorded: Value = serde_json::from_str(
            &std::fs::read_to_string(
                common::repo_root().join("tests/fixtures/connect/3.6.2/status-mock.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let mut diffs = Vec::new();
        shape_diffs(&recorded, &status.body, "$", &mut diffs);
        assert!(diffs.is_empty(), "{diffs:?}: {}", status.raw);

        let old = Target::emulator_with(&["--connect-version", "3.4.1"]).await;
        let name = old.connector("v341");
        old.create_ok(&name, mock(1)).await;
        let a = old
            .call(Method::PUT, &format!("/connectors/{name}/stop"), None)
            .await;
        expect_error(&old, &a, 404, "HTTP 404 Not Found");
    }

    /// Tens of thousands of connectors: creates stay cheap and the bulk view is one fast call.
    #[tokio::test]
    async fn twenty_thousand_connectors_and_a_fast_bulk_expand() {
        const N: usize = 20_000;
        const CLIENTS: usize = 32;
        let t = Arc::new(fast().await);
        let started = Instant::now();
        let mut clients = Vec::new();
        for k in 0..CLIENTS {
            let t = t.clone();
            clients.push(tokio::spawn(async move {
                for i in (k..N).step_by(CLIENTS) {
                    let a = t
                        .call(
                            Method::POST,
                            "/connectors",
                            Some(json!({"name": format!("scale-{i:05}"), "config": verifiable(2)})),
                        )
                        .await;
                    assert_eq!(a.code, 201, "{a:?}");
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        let created = started.elapsed();
        eventually("every connector RUNNING with its tasks", WAIT, || async {
            let a = t.call(Method::GET, "/connectors?expand=status", None).await;
            let map = a.body.as_object()?;
            (map.len() == N
                && map
                    .values()
                    .all(|e| e["status"]["tasks"].as_array().map(Vec::len) == Some(2)))
            .then_some(())
        })
        .await;
        let started = Instant::now();
        let resp = t
            .http
            .get(format!("{}/connectors?expand=status&expand=info", t.url))
            .send()
            .await
            .unwrap();
        let bytes = resp.bytes().await.unwrap();
        let expand = started.elapsed();
        let map: serde_json::Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(map.len(), N);
        assert!(
            map.values()
                .all(|e| e["status"].is_object() && e["info"].is_object())
        );
        println!(
            "{N} connectors: created by {CLIENTS} clients in {created:?}; one expand=status&expand=info: {} bytes in {expand:?}",
            bytes.len()
        );
        // Generous: a debug build on a shared 2-core machine.
        assert!(
            expand < Duration::from_secs(5),
            "bulk expand took {expand:?}"
        );
    }
}
