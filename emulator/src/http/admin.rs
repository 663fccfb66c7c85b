//! `/__admin/...`: change faults, timings and latency at runtime, fail a connector or a task,
//! read request counts. Never delayed, never faulted.
//!
//! | call | body | does |
//! |---|---|---|
//! | `GET /__admin/faults` | | `{"rules":[...], "rebalance_remaining_ms": n}` |
//! | `PUT /__admin/faults` | `[rule]` or `{"rules":[rule]}` | replaces the rules |
//! | `POST /__admin/faults` | a rule, `[rule]` or `{"rules":[...]}` | adds rules |
//! | `DELETE /__admin/faults` | | no rules, rebalance window closed |
//! | `POST /__admin/rebalance` | `{"ms": 5000}` | a rebalance window |
//! | `GET`/`PUT /__admin/settings` | any of the fields | latency and lifecycle timings |
//! | `POST /__admin/connectors/{c}/fail` | `{"trace": "..."}` (optional) | connector FAILED |
//! | `POST /__admin/connectors/{c}/tasks/{t}/fail` | `{"trace": "..."}` (optional) | task FAILED |
//! | `GET`/`DELETE /__admin/stats` | | requests by endpoint and code; reset |
//! | `GET`/`DELETE /__admin/writers` | | writes answered 2xx by connector, User-Agent and endpoint; reset |
//! | `PUT /__admin/health` | `{"status": "starting"\|"unhealthy"\|"healthy", "message": "..."}` | what `GET /health` answers (503, 500, 200) |

use std::time::Duration;

use axum::http::Method;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::respond::{empty, error, json};
use crate::app::App;
use crate::plugins::INJECTED_TRACE;

/// Re-exported where it was first defined: `admin::parse_rules` is part of the lib's API.
pub use crate::faults::parse_rules;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsPatch {
    latency_ms: Option<u64>,
    latency_jitter_ms: Option<u64>,
    rebalance_after_write_ms: Option<u64>,
    connector_start_ms: Option<u64>,
    task_start_ms: Option<u64>,
    state_change_ms: Option<u64>,
}

fn settings(app: &App) -> Value {
    let latency = app.latency();
    let timings = app.shared.read().timings;
    json!({
        "latency_ms": latency.latency_ms,
        "latency_jitter_ms": latency.latency_jitter_ms,
        "rebalance_after_write_ms": latency.rebalance_after_write_ms,
        "connector_start_ms": timings.connector_start_ms,
        "task_start_ms": timings.task_start_ms,
        "state_change_ms": timings.state_change_ms,
    })
}

fn faults(app: &App) -> Response {
    let f = app.faults();
    json(
        200,
        json!({"rules": f.rules, "rebalance_remaining_ms": f.rebalance_remaining_ms()}).to_string(),
    )
}

fn trace(body: &[u8]) -> Result<String, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(INJECTED_TRACE.to_string());
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| error(400, e.to_string()))?;
    Ok(v["trace"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| INJECTED_TRACE.to_string()))
}

pub fn handle(app: &App, method: &Method, segs: &[String], body: &[u8]) -> Response {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method.as_str(), s.as_slice()) {
        ("GET", ["faults"]) => faults(app),
        ("PUT", ["faults"]) => set_rules(app, body, true),
        ("POST", ["faults"]) => set_rules(app, body, false),
        ("DELETE", ["faults"]) => {
            let mut f = app.faults();
            f.rules.clear();
            f.rebalance_until = None;
            empty(204)
        }
        ("POST", ["rebalance"]) => {
            let ms = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|v| v["ms"].as_u64())
                .unwrap_or(5_000);
            app.faults().rebalance_for(Duration::from_millis(ms));
            faults(app)
        }
        ("GET", ["settings"]) => json(200, settings(app).to_string()),
        ("PUT", ["settings"]) => put_settings(app, body),
        ("POST", ["connectors", c, "fail"]) => fail(app, c, None, body),
        ("POST", ["connectors", c, "tasks", t, "fail"]) => fail(app, c, Some(t), body),
        ("PUT", ["health"]) => put_health(app, body),
        ("GET", ["stats"]) => stats(app),
        ("DELETE", ["stats"]) => {
            app.stats.lock().unwrap_or_else(|e| e.into_inner()).clear();
            empty(204)
        }
        ("GET", ["writers"]) => {
            let writers = app.writers.lock().unwrap_or_else(|e| e.into_inner());
            json(200, json!(*writers).to_string())
        }
        ("DELETE", ["writers"]) => {
            app.writers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear();
            empty(204)
        }
        _ => error(404, "HTTP 404 Not Found"),
    }
}

/// `PUT` (`replace`) or `POST` `/__admin/faults`.
fn set_rules(app: &App, body: &[u8], replace: bool) -> Response {
    match parse_rules(body) {
        Ok(rules) => {
            let mut f = app.faults();
            if replace {
                f.rules = rules;
            } else {
                f.rules.extend(rules);
            }
            drop(f);
            faults(app)
        }
        Err(e) => error(400, e),
    }
}

fn put_settings(app: &App, body: &[u8]) -> Response {
    let patch: SettingsPatch = match serde_json::from_slice(body) {
        Ok(p) => p,
        Err(e) => return error(400, e.to_string()),
    };
    {
        let mut l = app.latency.write().unwrap_or_else(|e| e.into_inner());
        l.latency_ms = patch.latency_ms.unwrap_or(l.latency_ms);
        l.latency_jitter_ms = patch.latency_jitter_ms.unwrap_or(l.latency_jitter_ms);
        l.rebalance_after_write_ms = patch
            .rebalance_after_write_ms
            .unwrap_or(l.rebalance_after_write_ms);
    }
    app.shared.write(|s| {
        let t = &mut s.timings;
        t.connector_start_ms = patch.connector_start_ms.unwrap_or(t.connector_start_ms);
        t.task_start_ms = patch.task_start_ms.unwrap_or(t.task_start_ms);
        t.state_change_ms = patch.state_change_ms.unwrap_or(t.state_change_ms);
    });
    json(200, settings(app).to_string())
}

/// The connector (`task` `None`) or one of its tasks FAILED now.
fn fail(app: &App, c: &str, task: Option<&str>, body: &[u8]) -> Response {
    let not_found = || match task {
        None => error(404, format!("No status found for connector {c}")),
        Some(t) => error(404, format!("No status found for task {c}-{t}")),
    };
    let id = match task.map(str::parse::<usize>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return not_found(),
    };
    let trace = match trace(body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if app.shared.write(|s| s.fail(c, id, trace)) {
        empty(204)
    } else {
        not_found()
    }
}

/// Requests answered by endpoint and code (`error`: resets and hangs), and the total.
fn stats(app: &App) -> Response {
    let stats = app.stats.lock().unwrap_or_else(|e| e.into_inner());
    let mut requests = serde_json::Map::new();
    let mut total = 0;
    for ((endpoint, code), n) in stats.iter() {
        total += n;
        let entry = requests
            .entry(endpoint.to_string())
            .or_insert_with(|| json!({}));
        let key = if *code == 0 {
            "error".to_string()
        } else {
            code.to_string()
        };
        entry[key] = json!(n);
    }
    let connectors = app.shared.read().connectors.len();
    json(
        200,
        json!({"requests": requests, "total": total, "connectors": connectors}).to_string(),
    )
}

fn put_health(app: &App, body: &[u8]) -> Response {
    let health: crate::app::WorkerHealth = match serde_json::from_slice(body) {
        Ok(h) => h,
        Err(e) => return error(400, e.to_string()),
    };
    if !["starting", "unhealthy", "healthy"].contains(&health.status.as_str()) {
        return error(400, "status is starting, unhealthy or healthy");
    }
    let set = (health.status != "healthy").then_some(health);
    *app.health.lock().unwrap_or_else(|e| e.into_inner()) = set;
    empty(204)
}
