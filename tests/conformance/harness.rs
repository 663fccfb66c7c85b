//! The conformance harness: a target (the real worker or an emulator), its answers, and
//! the checks that compare codes, messages and shapes with the answers recorded from the real
//! worker.

use super::*;

// ---------------------------------------------------------------------------------------
// The two targets

/// An answer: status, Location header, body (JSON, `Null` when empty, a string otherwise).
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) code: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: Value,
    /// The body as sent (what a recording keeps).
    pub(crate) raw: String,
}

impl Answer {
    pub(crate) fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// A momentary answer of a real worker (rebalance, leader unknown, request timeout).
    pub(crate) fn momentary(&self) -> bool {
        let m = self.message();
        (self.code == 409 && !m.contains("already exists"))
            || (self.code == 500 && (m.contains("rebalance") || m.contains("timed out")))
    }
}

pub(crate) struct Target {
    pub(crate) name: &'static str,
    pub(crate) url: String,
    pub(crate) http: reqwest::Client,
    /// Set for the emulator; kept alive as long as the target.
    pub(crate) emulator: Option<Emulator>,
    pub(crate) created: std::sync::Mutex<Vec<String>>,
}

impl Target {
    pub(crate) async fn real() -> Self {
        Self::new("real", env("CONNECT_URL"), None)
    }

    pub(crate) async fn emulator() -> Self {
        Self::emulator_with(&EMULATOR_TIMINGS).await
    }

    pub(crate) async fn emulator_with(args: &[&str]) -> Self {
        let emulator = Emulator::start(args).await;
        Self::new("emulator", emulator.url.clone(), Some(emulator))
    }

    pub(crate) fn new(name: &'static str, url: String, emulator: Option<Emulator>) -> Self {
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

    pub(crate) fn is_emulator(&self) -> bool {
        self.emulator.is_some()
    }

    /// A fresh connector name, deleted when the target is dropped.
    pub(crate) fn connector(&self, case: &str) -> String {
        let name = format!("conf-{case}-{}", uuid_suffix());
        self.created.lock().unwrap().push(name.clone());
        name
    }

    /// One request, as is.
    pub(crate) async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
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
    pub(crate) async fn settled(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let deadline = Instant::now() + WAIT;
        loop {
            let answer = self.call(method.clone(), path, body.clone()).await;
            if !answer.momentary() || Instant::now() > deadline {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.settled(Method::GET, path, None).await
    }

    pub(crate) async fn create(&self, name: &str, config: Value) -> Answer {
        self.settled(
            Method::POST,
            "/connectors",
            Some(json!({"name": name, "config": config})),
        )
        .await
    }

    pub(crate) async fn create_ok(&self, name: &str, config: Value) {
        let a = self.create(name, config).await;
        assert_eq!(a.code, 201, "{}: creating {name}: {a:?}", self.name);
    }

    /// Waits until the status satisfies `check`; returns it.
    pub(crate) async fn status_until(
        &self,
        name: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Answer {
        eventually(&format!("{}: {name} {what}", self.name), WAIT, || async {
            let a = self.get(&format!("/connectors/{name}/status")).await;
            (a.code == 200 && check(&a.body)).then_some(a)
        })
        .await
    }

    /// Waits until the connector is `state` with `tasks` tasks all in `task_state`.
    pub(crate) async fn until(
        &self,
        name: &str,
        state: &str,
        tasks: usize,
        task_state: &str,
    ) -> Answer {
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

// ---------------------------------------------------------------------------------------
// Shapes and recorded answers

pub(crate) fn fixture_path(name: &str) -> std::path::PathBuf {
    common::repo_root().join(format!("tests/fixtures/connect/4.3.1/{name}.json"))
}

/// Recording: `KCO_RECORD_CONFORMANCE=1`, on the real worker, for this suite's files only.
pub(crate) fn recording(t: &Target, fixture: &str) -> bool {
    !t.is_emulator()
        && fixture.contains("conformance")
        && std::env::var("KCO_RECORD_CONFORMANCE").is_ok_and(|v| v == "1")
}

pub(crate) fn fixture(name: &str) -> Value {
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
pub(crate) fn shape_diffs(expected: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
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
pub(crate) fn expect_body(t: &Target, fixture_name: &str, answer: &Answer) {
    if recording(t, fixture_name) {
        std::fs::write(fixture_path(fixture_name), &answer.raw).unwrap();
        return;
    }
    expect_shape(t, fixture_name, &answer.body);
}

/// Asserts `actual` has the shape of the recorded answer `fixture`.
pub(crate) fn expect_shape(t: &Target, fixture_name: &str, actual: &Value) {
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
pub(crate) fn expect_entry_shape(t: &Target, fixture_name: &str, name: &str, map: &Value) {
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
pub(crate) fn expect_error(t: &Target, a: &Answer, code: u16, message: &str) {
    assert_eq!(a.code, code, "{}: {a:?}", t.name);
    assert_eq!(
        a.body,
        json!({"error_code": code, "message": message}),
        "{}: error body",
        t.name
    );
}

pub(crate) fn expect_error_starting(t: &Target, a: &Answer, code: u16, prefix: &str) {
    assert_eq!(a.code, code, "{}: {a:?}", t.name);
    assert_eq!(a.body["error_code"], code, "{}: {a:?}", t.name);
    assert!(
        a.message().starts_with(prefix),
        "{}: message should start with {prefix:?}: {a:?}",
        t.name
    );
}

pub(crate) fn mock(tasks_max: u32) -> Value {
    json!({"connector.class": MOCK_SOURCE, "tasks.max": tasks_max.to_string(),
        "mock_mode": "task-failure", "delay_ms": "3600000"})
}

pub(crate) fn verifiable(tasks_max: u32) -> Value {
    json!({"connector.class": VERIFIABLE_SOURCE, "tasks.max": tasks_max.to_string(),
        "topic": TOPIC, "throughput": "10"})
}

pub(crate) fn states(status: &Value) -> (String, Vec<String>) {
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
