//! Third-party connectors through the operator, on the real stack: Debezium's PostgreSQL
//! source (pgoutput) and its JDBC sink against the stack's PostgreSQL. Rows move from a table
//! to another; a wrong database password is an InvalidConfig that never leaks; a password
//! from Connect's FileConfigProvider is never rewritten; out-of-band edits are reverted and a
//! deleted KafkaConnector leaves no connector (and, dropped here, no replication slot).
//! Each test has its own namespace, connectors, tables, topic prefix, slot and publication.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{
    PgObjects, Scenario, condition_reason, condition_status, env, eventually, uuid_suffix,
};
use kco::api::KafkaConnector;
use reqwest::Method;
use serde_json::json;

/// Waits until the operator has polled Connect's bulk view `n` more times.
async fn polls(s: &Scenario, n: f64) {
    let count = || {
        s.operator
            .metric("kco_connect_requests_total", "endpoint=\"list_expanded\"")
    };
    let start = count().await.unwrap_or_default();
    eventually(
        &format!("{n} more polls of Connect"),
        Duration::from_secs(60),
        || async { (count().await? >= start + n).then_some(()) },
    )
    .await;
}

async fn requests(s: &Scenario, endpoint: &str) -> f64 {
    let labels = format!("endpoint=\"{endpoint}\"");
    s.operator
        .metric("kco_connect_requests_total", &labels)
        .await
        .expect("/metrics answers")
}

fn running_tasks(o: &KafkaConnector) -> usize {
    let tasks = o
        .status
        .as_ref()
        .map(|st| st.tasks.as_slice())
        .unwrap_or_default();
    tasks.iter().filter(|t| t.state == "RUNNING").count()
}

/// Asserts `secret` appears nowhere the operator writes: status, Events, its log.
async fn assert_never_written(s: &Scenario, name: &str, secret: &str) {
    let obj = s.connectors.get(name).await.unwrap();
    let status = serde_json::to_string(&obj.status).unwrap();
    assert!(
        !status.contains(secret),
        "status holds the password: {status}"
    );
    for (reason, note) in s.events().await {
        assert!(
            !note.contains(secret),
            "Event {reason} holds the password: {note}"
        );
    }
    let log = s.operator.logs();
    assert!(
        !log.contains(secret),
        "the operator's log holds the password"
    );
}

#[tokio::test]
async fn a_debezium_source_and_a_jdbc_sink_carry_rows_from_table_to_table() {
    let s = Scenario::new("dbz-pair", &["--topics-refresh", "2s"]).await;
    let db = PgObjects::create(&s.ns).await;
    let src = &db.source_table;
    db.pg
        .query(&format!("INSERT INTO {src} VALUES (1, 'snapshot')"))
        .await;
    let (source, sink) = (s.unique("source"), s.unique("sink"));
    let password = db.pg.password.clone();
    pair_ready(&s, &db, &source, &sink, &password).await;
    rows_arrive(&db).await;
    let obj = topic_in_status(&s, &db).await;
    assert_eq!(
        obj.status.as_ref().unwrap().state.as_deref(),
        Some("RUNNING")
    );
    assert_never_written(&s, "source", &password).await;

    s.delete_and_wait("sink").await;
    s.delete_and_wait("source").await;
    s.connect
        .wait_deleted(&source, "source gone from Connect")
        .await;
    s.connect
        .wait_deleted(&sink, "sink gone from Connect")
        .await;
    db.drop_all().await;
}

/// Applies the source and the sink; both Ready with their task RUNNING.
async fn pair_ready(s: &Scenario, db: &PgObjects, source: &str, sink: &str, password: &str) {
    let applied = Instant::now();
    s.apply("source", db.source_spec(source, password)).await;
    s.apply("sink", db.sink_spec(sink, password)).await;
    let obj = s.wait_ready("source").await;
    let source_ready = applied.elapsed();
    assert_eq!(running_tasks(&obj), 1, "{:?}", obj.status);
    let obj = s.wait_ready("sink").await;
    let pair_ready = applied.elapsed();
    assert_eq!(running_tasks(&obj), 1, "{:?}", obj.status);
    println!(
        "debezium pair: apply to Ready {:.1}s (source {:.1}s)",
        pair_ready.as_secs_f64(),
        source_ready.as_secs_f64()
    );
}

/// The snapshot row, then streamed inserts and an update, arrive in the target table.
async fn rows_arrive(db: &PgObjects) {
    let src = &db.source_table;
    let inserted = Instant::now();
    db.pg
        .query(&format!(
            "INSERT INTO {src} VALUES (2, 'two'), (3, 'three'); UPDATE {src} SET name = 'one' WHERE id = 1"
        ))
        .await;
    let dst = &db.target_table;
    let want = "1:one,2:two,3:three";
    let rows = format!("SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM {dst}");
    eventually(
        &format!("{want} in {dst}"),
        Duration::from_secs(120),
        || async { (db.pg.try_query(&rows).await.ok()? == want).then_some(()) },
    )
    .await;
    println!(
        "debezium pair: rows in the target table {:.1}s after the insert",
        inserted.elapsed().as_secs_f64()
    );
}

/// Topics are re-read by a reconcile at most every --topics-refresh. The source's topic may
/// appear after its last status change, and an idle connector is only reconciled every
/// --resync (see the ignored test below): pokes make the reconciles happen. Returns the
/// source once its status names the topic.
async fn topic_in_status(s: &Scenario, db: &PgObjects) -> KafkaConnector {
    let topic = db.topic();
    let pokes = AtomicU32::new(0);
    eventually(
        "status.topics names the source's topic",
        Duration::from_secs(60),
        || async {
            let n = pokes.fetch_add(1, Ordering::Relaxed);
            s.poke("source", &n.to_string()).await;
            let o = s.connectors.get("source").await.ok()?;
            let listed = o.status.as_ref()?.topics.contains(&topic);
            listed.then_some(o)
        },
    )
    .await
}

#[tokio::test]
async fn a_wrong_database_password_is_invalid_config_and_never_leaks() {
    let s = Scenario::new("dbz-badpw", &[]).await;
    let db = PgObjects::create(&s.ns).await;
    let name = s.unique("source");
    let sentinel = format!("kco-sentinel-pw-{}", uuid_suffix());
    s.apply("source", db.source_spec(&name, &sentinel)).await;

    let obj = s
        .wait(
            "source",
            "Ready=False InvalidConfig with Connect's errors",
            |o| {
                condition_status(o, "Ready") == Some("False")
                    && condition_reason(o, "Ready") == Some("InvalidConfig")
                    && o.status
                        .as_ref()
                        .is_some_and(|st| !st.validation_errors.is_empty())
            },
        )
        .await;
    let errors = &obj.status.as_ref().unwrap().validation_errors;
    // Debezium reports a failed login on database.hostname, in PostgreSQL's words.
    assert!(
        errors.iter().any(|e| e.key == "database.hostname"
            && e.message.contains("password authentication failed")),
        "Connect's per-key message in status: {errors:?}"
    );
    let (code, body) = s.connect.get(&format!("/connectors/{name}")).await;
    assert_eq!(code, 404, "nothing created in Connect: {body}");

    // It stays so: later polls neither create nor write a config. (The one create Connect
    // refused, it refused with a 500 that a retry would not cure: not retried.)
    let creates = requests(&s, "create").await;
    assert!(creates <= 1.0, "{creates} creates of a refused config");
    polls(&s, 3.0).await;
    assert_eq!(requests(&s, "create").await, creates);
    assert_eq!(requests(&s, "put_config").await, 0.0);
    assert_eq!(s.connect.get(&format!("/connectors/{name}")).await.0, 404);
    assert_never_written(&s, "source", &sentinel).await;

    s.delete_and_wait("source").await;
    db.drop_all().await;
}

#[tokio::test]
async fn a_password_from_connects_config_provider_is_never_rewritten() {
    let s = Scenario::new("dbz-provider", &[]).await;
    let db = PgObjects::create(&s.ns).await;
    let name = s.unique("source");
    let placeholder = format!("${{file:{}:password}}", env("POSTGRES_SECRETS_FILE"));
    s.apply("source", db.source_spec(&name, &placeholder)).await;
    let obj = s.wait_ready("source").await;
    assert_eq!(running_tasks(&obj), 1, "{:?}", obj.status);

    // Idle: several polls and two reconciles of an unchanged spec write no config.
    polls(&s, 3.0).await;
    s.poke("source", "1").await;
    polls(&s, 3.0).await;
    s.poke("source", "2").await;
    polls(&s, 3.0).await;
    assert_eq!(requests(&s, "create").await, 1.0, "created once");
    assert_eq!(
        requests(&s, "put_config").await,
        0.0,
        "no config PUT while idle; operator log tail:\n{}",
        s.operator_log_tail()
    );
    let stored = s.connect.config(&name).await;
    assert_eq!(
        stored["database.password"],
        json!(placeholder),
        "Connect keeps the placeholder"
    );
    assert_never_written(&s, "source", &db.pg.password).await;

    s.delete_and_wait("source").await;
    s.connect
        .wait_deleted(&name, "source gone from Connect")
        .await;
    db.drop_all().await;
}

#[tokio::test]
async fn an_edited_debezium_connector_is_reverted_and_a_delete_removes_it() {
    let s = Scenario::new("dbz-drift", &[]).await;
    let db = PgObjects::create(&s.ns).await;
    let name = s.unique("source");
    s.apply("source", db.source_spec(&name, &db.pg.password))
        .await;
    s.wait_ready("source").await;
    let slot = format!(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{}'",
        db.slot
    );
    assert_eq!(db.pg.query(&slot).await, "1", "Debezium created its slot");

    // Out of band: another value and an extra key, straight to Connect.
    let mut edited = s.connect.config(&name).await;
    edited["snapshot.mode"] = json!("no_data");
    edited["skipped.operations"] = json!("d");
    let (code, body) = s
        .connect
        .call(
            Method::PUT,
            &format!("/connectors/{name}/config"),
            Some(edited),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    eventually(
        "the operator reverts the config",
        Duration::from_secs(60),
        || async {
            let c = s.connect.config(&name).await;
            (c["snapshot.mode"] == "initial" && c.get("skipped.operations").is_none()).then_some(())
        },
    )
    .await;
    // Connect may show the config before the operator has counted its answer.
    eventually(
        "the revert counted as a config PUT",
        Duration::from_secs(10),
        || async { (requests(&s, "put_config").await >= 1.0).then_some(()) },
    )
    .await;
    s.wait("source", "Ready again with its task", |o| {
        common::is_ready(o) && running_tasks(o) == 1
    })
    .await;

    s.delete_and_wait("source").await;
    s.connect
        .wait_deleted(&name, "the KafkaConnector's delete removes the connector")
        .await;
    db.drop_all().await;
    assert_eq!(db.pg.query(&slot).await, "0");
}

#[tokio::test]
async fn the_topics_of_an_idle_connector_are_re_read_every_topics_refresh() {
    let s = Scenario::new("dbz-topics", &["--topics-refresh", "2s"]).await;
    let db = PgObjects::create(&s.ns).await;
    let name = s.unique("source");
    // No snapshot of the empty table: the topic is created by the first row, once Ready.
    let mut spec = db.source_spec(&name, &db.pg.password);
    spec["config"]["snapshot.mode"] = json!("no_data");
    s.apply("source", spec).await;
    s.wait("source", "Ready with its task", |o| {
        common::is_ready(o) && running_tasks(o) == 1
    })
    .await;
    let src = &db.source_table;
    db.pg
        .query(&format!("INSERT INTO {src} VALUES (1, 'one')"))
        .await;
    let topic = db.topic();
    eventually(
        "Connect lists the topic",
        Duration::from_secs(60),
        || async {
            let (_, body) = s.connect.get(&format!("/connectors/{name}/topics")).await;
            let topics = body[&name]["topics"].as_array()?.clone();
            topics.contains(&json!(topic)).then_some(())
        },
    )
    .await;
    s.wait(
        "source",
        "status.topics within a few --topics-refresh",
        |o| {
            o.status
                .as_ref()
                .is_some_and(|st| st.topics.contains(&topic))
        },
    )
    .await;

    s.delete_and_wait("source").await;
    s.connect
        .wait_deleted(&name, "source gone from Connect")
        .await;
    db.drop_all().await;
}
