//! Cases: server info, create, status before and after start, task counts, config PUT,
//! pause/resume and stop.

use super::*;

// ---------------------------------------------------------------------------------------
// The cases

pub(crate) async fn server_info_plugins_and_unknown_paths(t: &Target) {
    let root = t.get("/").await;
    assert_eq!(root.code, 200);
    expect_body(t, "root", &root);
    assert_eq!(root.body["version"], "4.3.1", "{}", t.name);

    // KIP-1017 (3.9+): a worker that joined its group says so.
    let health = t.get("/health").await;
    assert_eq!(health.code, 200, "{}: {}", t.name, health.body);
    assert_eq!(health.body["status"], "healthy", "{}", t.name);
    assert!(
        health.body["message"].is_string(),
        "{}: {}",
        t.name,
        health.body
    );

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

pub(crate) async fn create_answers_201_then_409_already_exists(t: &Target) {
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

pub(crate) async fn status_is_404_until_started_then_tasks_appear(t: &Target) {
    let name = t.connector("lifecycle");
    t.create_ok(&name, verifiable(3)).await;
    // Right after the create: no status yet (the real worker may already have started it).
    status_before_the_start(t, &name).await;
    running_with_three_tasks(t, &name).await;
    expanded_and_topics(t, &name).await;
}

/// Before the start: 404 (the real worker may already have started it), and the emulator
/// drops it from the expanded map.
async fn status_before_the_start(t: &Target, name: &str) {
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
            expanded_early.body.get(name).is_none(),
            "{expanded_early:?}"
        );
    }
}

/// Status, info, task configs and task status of a running connector with three tasks.
async fn running_with_three_tasks(t: &Target, name: &str) {
    let status = t.until(name, "RUNNING", 3, "RUNNING").await;
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
}

/// The expanded listings (status, info, both) and the topics of a running connector.
async fn expanded_and_topics(t: &Target, name: &str) {
    let both = t.get("/connectors?expand=status&expand=info").await;
    assert_eq!(both.code, 200);
    expect_entry_shape(t, "expanded-mock", name, &both.body);
    assert_eq!(keys(&both.body[name]), ["info", "status"]);
    let status_only = t.get("/connectors?expand=status").await;
    expect_entry_shape(
        t,
        "expanded-conformance-status-only",
        name,
        &status_only.body,
    );
    assert_eq!(keys(&status_only.body[name]), ["status"]);
    let info_only = t.get("/connectors?expand=info").await;
    expect_entry_shape(t, "expanded-conformance-info-only", name, &info_only.body);
    assert_eq!(keys(&info_only.body[name]), ["info"]);

    let topics = eventually("the topic in use", WAIT, || async {
        let a = t.get(&format!("/connectors/{name}/topics")).await;
        (a.body[name]["topics"] == json!([TOPIC])).then_some(a)
    })
    .await;
    expect_entry_shape(t, "topics-conformance-verifiable", name, &topics.body);
}

pub(crate) fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

pub(crate) async fn task_counts_follow_the_class(t: &Target) {
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

pub(crate) async fn config_put_creates_201_then_updates_200(t: &Target) {
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
    config_put_updates(t, &name).await;
}

/// PUT of the config of the running connector `name`: 200 with the new config, then
/// refusals of another name and of no class.
async fn config_put_updates(t: &Target, name: &str) {
    let path = format!("/connectors/{name}/config");
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
    // A worker answers a read from its own copy of the config topic, which may lag the
    // leader that took the PUT (seen in CI on the real group): the new config shows in time.
    eventually("the new config read back", WAIT, || async {
        (t.get(&path).await.body["delay_ms"] == "3600001").then_some(())
    })
    .await;
    t.until(name, "RUNNING", 1, "RUNNING").await;

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

pub(crate) async fn pause_answers_202_before_paused_then_resume(t: &Target) {
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

pub(crate) async fn stop_answers_204_then_stopped_without_tasks(t: &Target) {
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
