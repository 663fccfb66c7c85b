//! Cases: restart plans, task restarts, a failed task's trace, connectors created paused
//! or stopped.

use super::*;

pub(crate) async fn restart_plans_and_task_restart(t: &Target) {
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

    restart_plan_of_nothing_failed(t, &name).await;
    task_restarts(t, &name).await;
}

/// Nothing failed: the plan restarts nothing and shows the current states. On a real
/// group the status just read may come from a worker that has not yet read the
/// RESTARTING records of the restart before from the status topic, so the plan (built
/// on the leader) can still show them: ask again until it shows RUNNING. Asking again
/// is harmless because this plan restarts nothing.
async fn restart_plan_of_nothing_failed(t: &Target, name: &str) {
    let restart = |query: &str| format!("/connectors/{name}/restart{query}");
    let none = eventually(
        &format!("{}: a plan of nothing failed", t.name),
        WAIT,
        || async {
            let none = t
                .settled(
                    Method::POST,
                    &restart("?includeTasks=true&onlyFailed=true"),
                    None,
                )
                .await;
            assert_eq!(none.code, 202, "{}: {none:?}", t.name);
            (states(&none.body) == ("RUNNING".into(), vec!["RUNNING".into()])).then_some(none)
        },
    )
    .await;
    expect_body(t, "restart-plan-conformance-nothing-failed", &none);
}

/// A task restart answers 204, an absent task 404.
async fn task_restarts(t: &Target, name: &str) {
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
    t.until(name, "RUNNING", 1, "RUNNING").await;
}

pub(crate) async fn failed_task_has_a_trace_and_restarts(t: &Target) {
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

pub(crate) async fn created_paused_or_stopped(t: &Target) {
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
