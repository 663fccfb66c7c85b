//! Faults, versions and scale: the emulator only.

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
    rebalance_answers(&t, &name, &other).await;

    // A client retrying momentary answers gets through once the window closes.
    let started = Instant::now();
    let a = t.create(&other, mock(1)).await;
    assert_eq!(a.code, 201, "{a:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "the window was open"
    );
}

/// While the window is open: writes answer 409, config reads 500; what is answered from local
/// state or written directly is not affected.
async fn rebalance_answers(t: &Target, name: &str, other: &str) {
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
        expect_error(t, &a, 409, NO_LEADER);
    }
    for path in ["", "/config", "/tasks"] {
        let a = t
            .call(Method::GET, &format!("/connectors/{name}{path}"), None)
            .await;
        expect_error(t, &a, 500, REBALANCE_EXPECTED);
    }
    // Answered from local state, or written directly: unaffected.
    let status = t
        .call(Method::GET, &format!("/connectors/{name}/status"), None)
        .await;
    assert_eq!(status.code, 200);
    let all = t
        .call(Method::GET, "/connectors?expand=status&expand=info", None)
        .await;
    assert!(all.body.get(name).is_some());
    let pause = t
        .call(Method::PUT, &format!("/connectors/{name}/pause"), None)
        .await;
    assert_eq!(pause.code, 202);
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
        chain.contains("reset") || chain.contains("closed") || chain.contains("IncompleteMessage"),
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
    let trace = "java.lang.IllegalStateException: boom\n\tat com.example.Task.poll(Task.java:1)\n";
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
    let t =
        Target::emulator_with(&["--connect-version", "3.6.2", "--connector-start-ms", "0"]).await;
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
