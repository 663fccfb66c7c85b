//! The Connect endpoints: the checks every request passes (media type, rebalance), then
//! each endpoint's answer. Those that take a config are in `configs`.

use std::time::Instant;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::configs;
use super::respond::{empty, error, json, not_found_path};
use super::routes::{Route, flag};
use crate::app::App;
use crate::faults::{NO_LEADER_409, REBALANCE_EXPECTED_500};
use crate::plugins;
use crate::store::Target;

pub(super) fn answer(
    app: &App,
    route: &Route,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &Bytes,
) -> Response {
    if let Some(refused) = refused(app, route, headers) {
        return refused;
    }
    match route {
        Route::Root => json(200, app.server_info.clone()),
        Route::Health => health(app),
        Route::Plugins => plugin_list(app),
        Route::List => list(app, query),
        Route::Create => configs::create(app, headers, body),
        Route::Get(c) => get(app, c),
        Route::Config(c) => config(app, c),
        Route::Status(c) => status(app, c),
        Route::Tasks(c) => tasks(app, c),
        Route::TaskStatus(c, t) => task_status(app, c, t),
        Route::Topics(c) => topics(app, c),
        Route::TopicsReset(c) => topics_reset(app, c),
        Route::PutConfig(c) => configs::put_config(app, c, headers, body),
        Route::PatchConfig(c) => configs::patch_config(app, c, body),
        Route::Delete(c) => delete(app, c),
        Route::Pause(c) => set_target(app, c, Target::Paused, 202),
        Route::Resume(c) => set_target(app, c, Target::Running, 202),
        Route::Stop(c) => {
            if !app.at_least(3, 5) {
                return not_found_path();
            }
            set_target(app, c, Target::Stopped, 204)
        }
        Route::Restart(c) => restart(app, c, query),
        Route::RestartTask(c, t) => restart_task(app, c, t),
        Route::Validate(p) => configs::validate(app, p, body),
    }
}

/// What Connect refuses before the endpoint runs: a body that is not JSON, and while the
/// group rebalances, forwarded writes and config reads.
fn refused(app: &App, route: &Route, headers: &HeaderMap) -> Option<Response> {
    if route.takes_body() {
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !json_type {
            return Some(error(415, "HTTP 415 Unsupported Media Type"));
        }
    }
    if app.faults().rebalancing(Instant::now()) {
        if route.forwarded_write() {
            return Some(error(409, NO_LEADER_409));
        }
        if route.config_read() {
            return Some(error(500, REBALANCE_EXPECTED_500));
        }
    }
    None
}

fn plugin_list(app: &App) -> Response {
    let list: Vec<Value> = plugins::PLUGINS
        .iter()
        .map(|p| json!({"class": p.class, "type": p.kind.as_str(), "version": app.catalog.version()}))
        .collect();
    json(200, Value::Array(list).to_string())
}

fn list(app: &App, query: &[(String, String)]) -> Response {
    let expand: Vec<&str> = query
        .iter()
        .filter(|(k, _)| k == "expand")
        .map(|(_, v)| v.as_str())
        .collect();
    let store = app.shared.read();
    if expand.is_empty() {
        json(200, store.names())
    } else {
        json(
            200,
            store.expanded(expand.contains(&"status"), expand.contains(&"info")),
        )
    }
}

fn get(app: &App, c: &str) -> Response {
    match app.shared.read().get(c) {
        Some(conn) => json(200, conn.info_json().to_string()),
        None => error(404, format!("Connector {c} not found")),
    }
}

fn config(app: &App, c: &str) -> Response {
    match app.shared.read().get(c) {
        Some(conn) => json(200, json!(conn.config).to_string()),
        None => error(404, format!("Connector {c} not found")),
    }
}

fn status(app: &App, c: &str) -> Response {
    match app.shared.read().get(c).and_then(|c| c.status_json()) {
        Some(s) => json(200, s.to_string()),
        None => error(404, format!("No status found for connector {c}")),
    }
}

fn tasks(app: &App, c: &str) -> Response {
    let store = app.shared.read();
    let Some(conn) = store.get(c) else {
        return error(404, format!("Connector {c} not found"));
    };
    // `{"id": ..., "config": ...}` in Connect's order.
    let tasks: Vec<String> = conn
        .tasks
        .iter()
        .map(|t| {
            format!(
                "{{\"id\":{},\"config\":{}}}",
                json!({"connector": conn.name, "task": t.id}),
                json!(plugins::task_config(conn.plugin, &conn.config, t.id)),
            )
        })
        .collect();
    json(200, format!("[{}]", tasks.join(",")))
}

fn task_status(app: &App, c: &str, t: &str) -> Response {
    let Ok(id) = t.parse::<usize>() else {
        return not_found_path();
    };
    let store = app.shared.read();
    match store
        .get(c)
        .and_then(|conn| conn.task_status(&store.worker, id))
    {
        Some(s) => json(200, s),
        None => error(404, format!("No status found for task {c}-{t}")),
    }
}

fn topics(app: &App, c: &str) -> Response {
    let topics = app
        .shared
        .read()
        .get(c)
        .map(|conn| conn.topics.clone())
        .unwrap_or_default();
    json(200, json!({ c: {"topics": topics} }).to_string())
}

fn topics_reset(app: &App, c: &str) -> Response {
    let found = app.shared.write(|s| match s.connectors.get_mut(c) {
        Some(conn) => {
            conn.topics.clear();
            true
        }
        None => false,
    });
    if found {
        empty(202)
    } else {
        error(404, format!("Connector {c} not found"))
    }
}

fn delete(app: &App, c: &str) -> Response {
    if app.shared.write(|s| s.delete(c)) {
        empty(204)
    } else {
        error(404, format!("Connector {c} not found"))
    }
}

fn set_target(app: &App, c: &str, target: Target, code: u16) -> Response {
    if app.shared.write(|s| s.set_target(c, target)) {
        empty(code)
    } else {
        error(404, format!("Unknown connector {c}"))
    }
}

fn restart(app: &App, c: &str, query: &[(String, String)]) -> Response {
    let include_tasks = flag(query, "includeTasks");
    let only_failed = flag(query, "onlyFailed");
    match app
        .shared
        .write(|s| s.restart(c, include_tasks, only_failed))
    {
        None => error(404, format!("Unknown connector: {c}")),
        Some(_) if !include_tasks && !only_failed => empty(204),
        Some(plan) => json(202, plan),
    }
}

fn restart_task(app: &App, c: &str, t: &str) -> Response {
    let Ok(id) = t.parse::<usize>() else {
        return not_found_path();
    };
    match app.shared.write(|s| s.restart_task(c, id)) {
        None => error(404, format!("Unknown connector: {c}")),
        Some(false) => error(404, format!("Unknown task: {c}-{t}")),
        Some(true) => empty(204),
    }
}

/// `GET /health` (Kafka 3.9+): 200 healthy, 503 starting, 500 unhealthy, each with
/// `{status, message}`; older workers have no such resource.
fn health(app: &App) -> Response {
    if app.version < (3, 9) {
        return error(404, "HTTP 404 Not Found");
    }
    let set = app.health.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (code, status, message) = match set {
        Some(h) if h.status == "starting" => (503, "starting", h.message),
        Some(h) => (500, "unhealthy", h.message),
        None => (
            200,
            "healthy",
            "Worker has completed startup and is ready to handle requests.".to_string(),
        ),
    };
    json(
        code,
        json!({"status": status, "message": message}).to_string(),
    )
}
