//! Routing and the Connect endpoints. Every request goes through `handle`: admin requests
//! are served at once; Connect requests get the configured latency, then the fault rules,
//! then the rebalance window, then their endpoint.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::App;
use crate::faults::{Action, Conn, NO_LEADER_409, REBALANCE_EXPECTED_500, TIMED_OUT_500};
use crate::plugins::{self, PluginId};
use crate::store::Target;

const BODY_LIMIT: usize = 16 * 1024 * 1024;
const CREATE_REQUEST: &str =
    "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest";
const SOURCE_REDACTED: &str =
    "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)]";

pub fn json(code: u16, body: impl Into<String>) -> Response {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Connect's error body: `{"error_code": code, "message": message}`.
pub fn error(code: u16, message: impl Into<String>) -> Response {
    json(
        code,
        json!({"error_code": code, "message": message.into()}).to_string(),
    )
}

pub fn empty(code: u16) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

fn not_found_path() -> Response {
    error(404, "HTTP 404 Not Found")
}

/// One Connect endpoint, with the connector (or plugin) it is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Root,
    Health,
    List,
    Create,
    Get(String),
    Delete(String),
    Config(String),
    PutConfig(String),
    PatchConfig(String),
    Status(String),
    Tasks(String),
    TaskStatus(String, String),
    RestartTask(String, String),
    Restart(String),
    Pause(String),
    Resume(String),
    Stop(String),
    Topics(String),
    TopicsReset(String),
    Plugins,
    Validate(String),
}

impl Route {
    /// The endpoint's name, as the operator's metrics and the fault rules name it.
    pub fn endpoint(&self, expand: bool) -> &'static str {
        match self {
            Route::Root => "root",
            Route::Health => "health",
            Route::List if expand => "list_expanded",
            Route::List => "list",
            Route::Create => "create",
            Route::Get(_) => "get",
            Route::Delete(_) => "delete",
            Route::Config(_) => "config",
            Route::PutConfig(_) => "put_config",
            Route::PatchConfig(_) => "patch_config",
            Route::Status(_) => "status",
            Route::Tasks(_) => "tasks",
            Route::TaskStatus(..) => "task_status",
            Route::RestartTask(..) => "restart_task",
            Route::Restart(_) => "restart",
            Route::Pause(_) => "pause",
            Route::Resume(_) => "resume",
            Route::Stop(_) => "stop",
            Route::Topics(_) => "topics",
            Route::TopicsReset(_) => "topics_reset",
            Route::Plugins => "plugins",
            Route::Validate(_) => "validate",
        }
    }

    pub fn connector(&self) -> Option<&str> {
        match self {
            Route::Get(c)
            | Route::Delete(c)
            | Route::Config(c)
            | Route::PutConfig(c)
            | Route::PatchConfig(c)
            | Route::Status(c)
            | Route::Tasks(c)
            | Route::TaskStatus(c, _)
            | Route::RestartTask(c, _)
            | Route::Restart(c)
            | Route::Pause(c)
            | Route::Resume(c)
            | Route::Stop(c)
            | Route::Topics(c)
            | Route::TopicsReset(c) => Some(c),
            _ => None,
        }
    }

    /// Writes forwarded to the leader: 409 while the group rebalances.
    fn forwarded_write(&self) -> bool {
        matches!(
            self,
            Route::Create
                | Route::PutConfig(_)
                | Route::PatchConfig(_)
                | Route::Delete(_)
                | Route::Stop(_)
                | Route::Restart(_)
                | Route::RestartTask(..)
        )
    }

    /// Reads that need the herder's config: 500 "rebalance is expected" while it rebalances.
    /// (Status, lists and topics are answered from local state, pause/resume written directly.)
    fn config_read(&self) -> bool {
        matches!(self, Route::Get(_) | Route::Config(_) | Route::Tasks(_))
    }

    fn takes_body(&self) -> bool {
        matches!(
            self,
            Route::Create | Route::PutConfig(_) | Route::PatchConfig(_) | Route::Validate(_)
        )
    }
}

/// The route of `method` on these path segments; `Err` is the status (404 or 405).
pub fn route(method: &Method, segs: &[String]) -> Result<Route, u16> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method;
    let allowed = |ok: bool, r: Route| if ok { Ok(r) } else { Err(405) };
    let c = |i: usize| segs[i].clone();
    match s.as_slice() {
        [] => allowed(m == Method::GET, Route::Root),
        ["health"] => allowed(m == Method::GET, Route::Health),
        ["connectors"] => match *m {
            Method::GET => Ok(Route::List),
            Method::POST => Ok(Route::Create),
            _ => Err(405),
        },
        ["connectors", _] => match *m {
            Method::GET => Ok(Route::Get(c(1))),
            Method::DELETE => Ok(Route::Delete(c(1))),
            _ => Err(405),
        },
        ["connectors", _, "config"] => match *m {
            Method::GET => Ok(Route::Config(c(1))),
            Method::PUT => Ok(Route::PutConfig(c(1))),
            Method::PATCH => Ok(Route::PatchConfig(c(1))),
            _ => Err(405),
        },
        ["connectors", _, "status"] => allowed(m == Method::GET, Route::Status(c(1))),
        ["connectors", _, "tasks"] => allowed(m == Method::GET, Route::Tasks(c(1))),
        ["connectors", _, "tasks", _, "status"] => {
            allowed(m == Method::GET, Route::TaskStatus(c(1), c(3)))
        }
        ["connectors", _, "tasks", _, "restart"] => {
            allowed(m == Method::POST, Route::RestartTask(c(1), c(3)))
        }
        ["connectors", _, "restart"] => allowed(m == Method::POST, Route::Restart(c(1))),
        ["connectors", _, "pause"] => allowed(m == Method::PUT, Route::Pause(c(1))),
        ["connectors", _, "resume"] => allowed(m == Method::PUT, Route::Resume(c(1))),
        ["connectors", _, "stop"] => allowed(m == Method::PUT, Route::Stop(c(1))),
        ["connectors", _, "topics"] => allowed(m == Method::GET, Route::Topics(c(1))),
        ["connectors", _, "topics", "reset"] => allowed(m == Method::PUT, Route::TopicsReset(c(1))),
        ["connector-plugins"] => allowed(m == Method::GET, Route::Plugins),
        ["connector-plugins", _, "config", "validate"] => {
            allowed(m == Method::PUT, Route::Validate(c(1)))
        }
        _ => Err(404),
    }
}

/// The path's segments, percent-decoded; a trailing slash is ignored, as Connect does.
pub fn segments(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|s| percent_decode(s, false))
        .collect();
    while segs.last().is_some_and(String::is_empty) {
        segs.pop();
    }
    segs
}

pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query's parameters, decoded, in order (a key may repeat: `expand`).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn flag(query: &[(String, String)], name: &str) -> bool {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true"))
}

pub async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return error(500, "Request body too large or unreadable"),
    };
    let segs = segments(parts.uri.path());
    let query = query_pairs(parts.uri.query());
    if segs.first().map(String::as_str) == Some("__admin") {
        return crate::admin::handle(&app, &parts.method, &segs[1..], &body);
    }
    let route = match route(&parts.method, &segs) {
        Ok(r) => r,
        Err(405) => {
            app.count("unknown", 405);
            return error(405, "HTTP 405 Method Not Allowed");
        }
        Err(_) => {
            app.count("unknown", 404);
            return not_found_path();
        }
    };
    let expand = query.iter().any(|(k, _)| k == "expand");
    let endpoint = route.endpoint(expand);

    let latency = app.latency();
    if latency.latency_ms > 0 || latency.latency_jitter_ms > 0 {
        let jitter = match latency.latency_jitter_ms {
            0 => 0,
            j => rand::random_range(0..=j),
        };
        tokio::time::sleep(Duration::from_millis(latency.latency_ms + jitter)).await;
    }

    let action = app
        .faults()
        .hit(endpoint, parts.method.as_str(), route.connector());
    match action {
        Some(Action::Error(code, message)) => {
            app.count(endpoint, code);
            return error(code, message);
        }
        Some(Action::Hang(limit)) => {
            app.count(endpoint, 0);
            match limit {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
            conn.reset();
            return empty(500);
        }
        Some(Action::Timeout(d)) => {
            tokio::time::sleep(d).await;
            app.count(endpoint, 500);
            return error(500, TIMED_OUT_500);
        }
        Some(Action::Reset) => {
            app.count(endpoint, 0);
            conn.reset();
            return empty(500);
        }
        Some(Action::Delay(d)) => tokio::time::sleep(d).await,
        None => {}
    }

    let response = answer(&app, &route, &parts.headers, &query, &body);
    let code = response.status().as_u16();
    app.count(endpoint, code);
    if latency.rebalance_after_write_ms > 0
        && (200..300).contains(&code)
        && matches!(
            route,
            Route::Create | Route::PutConfig(_) | Route::PatchConfig(_) | Route::Delete(_)
        )
    {
        app.faults()
            .rebalance_for(Duration::from_millis(latency.rebalance_after_write_ms));
    }
    response
}

fn answer(
    app: &App,
    route: &Route,
    headers: &HeaderMap,
    query: &[(String, String)],
    body: &Bytes,
) -> Response {
    if route.takes_body() {
        let json_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !json_type {
            return error(415, "HTTP 415 Unsupported Media Type");
        }
    }
    if app.faults().rebalancing(Instant::now()) {
        if route.forwarded_write() {
            return error(409, NO_LEADER_409);
        }
        if route.config_read() {
            return error(500, REBALANCE_EXPECTED_500);
        }
    }
    match route {
        Route::Root => json(200, app.server_info.clone()),
        Route::Health => json(
            200,
            json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}).to_string(),
        ),
        Route::Plugins => {
            let list: Vec<Value> = plugins::PLUGINS
                .iter()
                .map(|p| json!({"class": p.class, "type": p.kind.as_str(), "version": app.catalog.version()}))
                .collect();
            json(200, Value::Array(list).to_string())
        }
        Route::List => {
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
        Route::Create => create(app, headers, body),
        Route::Get(c) => match app.shared.read().get(c) {
            Some(conn) => json(200, conn.info_json().to_string()),
            None => error(404, format!("Connector {c} not found")),
        },
        Route::Config(c) => match app.shared.read().get(c) {
            Some(conn) => json(200, json!(conn.config).to_string()),
            None => error(404, format!("Connector {c} not found")),
        },
        Route::Status(c) => match app.shared.read().get(c).and_then(|c| c.status_json()) {
            Some(s) => json(200, s.to_string()),
            None => error(404, format!("No status found for connector {c}")),
        },
        Route::Tasks(c) => match app.shared.read().get(c) {
            Some(conn) => {
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
            None => error(404, format!("Connector {c} not found")),
        },
        Route::TaskStatus(c, t) => {
            let Ok(id) = t.parse::<usize>() else {
                return not_found_path();
            };
            let store = app.shared.read();
            match store.get(c).and_then(|conn| conn.task_status(&store.worker, id)) {
                Some(s) => json(200, s),
                None => error(404, format!("No status found for task {c}-{t}")),
            }
        }
        Route::Topics(c) => {
            let topics = app
                .shared
                .read()
                .get(c)
                .map(|conn| conn.topics.clone())
                .unwrap_or_default();
            json(200, json!({ c.as_str(): {"topics": topics} }).to_string())
        }
        Route::TopicsReset(c) => {
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
        Route::PutConfig(c) => put_config(app, c, headers, body),
        Route::PatchConfig(c) => patch_config(app, c, body),
        Route::Delete(c) => {
            if app.shared.write(|s| s.delete(c)) {
                empty(204)
            } else {
                error(404, format!("Connector {c} not found"))
            }
        }
        Route::Pause(c) => set_target(app, c, Target::Paused, 202),
        Route::Resume(c) => set_target(app, c, Target::Running, 202),
        Route::Stop(c) => {
            if !app.at_least(3, 5) {
                return not_found_path();
            }
            set_target(app, c, Target::Stopped, 204)
        }
        Route::Restart(c) => {
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
        Route::RestartTask(c, t) => {
            let Ok(id) = t.parse::<usize>() else {
                return not_found_path();
            };
            match app.shared.write(|s| s.restart_task(c, id)) {
                None => error(404, format!("Unknown connector: {c}")),
                Some(false) => error(404, format!("Unknown task: {c}-{t}")),
                Some(true) => empty(204),
            }
        }
        Route::Validate(p) => validate(app, p, body),
    }
}

fn set_target(app: &App, c: &str, target: Target, code: u16) -> Response {
    if app.shared.write(|s| s.set_target(c, target)) {
        empty(code)
    } else {
        error(404, format!("Unknown connector {c}"))
    }
}

/// A Jackson-like message for a body that is not JSON.
fn malformed(e: &serde_json::Error) -> Response {
    error(
        500,
        format!(
            "Unexpected character: {e}\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: {}, column: {}]",
            e.line(),
            e.column()
        ),
    )
}

fn token(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Object(_) => ("Object", "START_OBJECT"),
        Value::Array(_) => ("Array", "START_ARRAY"),
        Value::Bool(_) => ("Boolean", "VALUE_TRUE"),
        Value::Number(_) => ("Integer", "VALUE_NUMBER_INT"),
        Value::String(_) => ("String", "VALUE_STRING"),
        Value::Null => ("Null", "VALUE_NULL"),
    }
}

/// A JSON object of scalars as Connect reads a config: scalars become strings, nulls are
/// dropped, nested values are a 500 (Jackson cannot read them as strings).
fn config_map(v: &Value, chain: &str) -> Result<BTreeMap<String, String>, Response> {
    let Value::Object(map) = v else {
        let (what, tok) = token(v);
        return Err(error(
            500,
            format!(
                "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,java.lang.String>` from {what} value (token `JsonToken.{tok}`){SOURCE_REDACTED}"
            ),
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            nested => {
                let (what, tok) = token(nested);
                return Err(error(
                    500,
                    format!(
                        "Cannot deserialize value of type `java.lang.String` from {what} value (token `JsonToken.{tok}`){SOURCE_REDACTED} (through reference chain: {chain}java.util.LinkedHashMap[\"{k}\"])"
                    ),
                ));
            }
        };
        out.insert(k.clone(), s);
    }
    Ok(out)
}

/// What a create or config write checks, in Connect's order: the name in the config, the
/// class given, the class known, the config valid. Returns the class and the config to store.
fn prepare(
    app: &App,
    name: &str,
    mut config: BTreeMap<String, String>,
) -> Result<(PluginId, BTreeMap<String, String>), Response> {
    if let Some(n) = config.get("name")
        && n != name
    {
        return Err(error(
            400,
            format!(
                "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
            ),
        ));
    }
    config.insert("name".into(), name.to_string());
    let Some(class) = config.get("connector.class") else {
        return Err(error(
            400,
            format!(
                "Connector config {} contains no connector type",
                plugins::java_map(&config)
            ),
        ));
    };
    let Some(id) = plugins::resolve(class) else {
        return Err(error(
            400,
            plugins::unknown_class_message(class, app.catalog.version()),
        ));
    };
    let errors = app.catalog.errors(id, &config);
    if !errors.is_empty() {
        return Err(error(400, plugins::invalid_config_message(&errors)));
    }
    Ok((id, config))
}

fn location(headers: &HeaderMap, name: &str) -> HeaderValue {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let url = format!("http://{host}/connectors/{}", percent_encode_segment(name));
    HeaderValue::from_str(&url).unwrap_or_else(|_| HeaderValue::from_static("/connectors"))
}

fn created(headers: &HeaderMap, name: &str, info: String) -> Response {
    let mut r = json(201, info);
    r.headers_mut()
        .insert(header::LOCATION, location(headers, name));
    r
}

fn create(app: &App, headers: &HeaderMap, body: &Bytes) -> Response {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return malformed(&e),
    };
    let Value::Object(fields) = &request else {
        let (what, tok) = token(&request);
        return error(
            500,
            format!(
                "Cannot deserialize value of type `{CREATE_REQUEST}` from {what} value (token `JsonToken.{tok}`){SOURCE_REDACTED}"
            ),
        );
    };
    let known: &[&str] = if app.at_least(3, 7) {
        &["config", "name", "initial_state"]
    } else {
        &["config", "name"]
    };
    if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        let list = known
            .iter()
            .map(|k| format!("\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return error(
            500,
            format!(
                "Unrecognized field \"{unknown}\" (class {CREATE_REQUEST}), not marked as ignorable ({} known properties: {list}){SOURCE_REDACTED} (through reference chain: {CREATE_REQUEST}[\"{unknown}\"])",
                known.len()
            ),
        );
    }
    let name = match fields.get("name") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    };
    let config = match fields.get("config") {
        None | Some(Value::Null) => {
            return error(
                500,
                "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null",
            );
        }
        Some(v) => match config_map(v, &format!("{CREATE_REQUEST}[\"config\"]->")) {
            Ok(c) => c,
            Err(r) => return r,
        },
    };
    let target = match fields.get("initial_state") {
        None | Some(Value::Null) => Target::Running,
        Some(v) => {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            match text.to_ascii_uppercase().as_str() {
                "RUNNING" => Target::Running,
                "PAUSED" => Target::Paused,
                "STOPPED" => Target::Stopped,
                _ => {
                    return error(
                        500,
                        format!(
                            "Cannot construct instance of `{CREATE_REQUEST}$InitialState`, problem: No enum constant {CREATE_REQUEST}.InitialState.{text}{SOURCE_REDACTED} (through reference chain: {CREATE_REQUEST}[\"initial_state\"])"
                        ),
                    );
                }
            }
        }
    };
    let (id, config) = match prepare(app, &name, config) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let info = app.shared.write(|s| {
        if s.get(&name).is_some() {
            None
        } else {
            Some(s.create(&name, id, config, target))
        }
    });
    match info {
        Some(info) => created(headers, &name, info),
        None => error(409, format!("Connector {name} already exists")),
    }
}

fn put_config(app: &App, name: &str, headers: &HeaderMap, body: &Bytes) -> Response {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return malformed(&e),
    };
    let config = match config_map(&request, "") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (id, config) = match prepare(app, name, config) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (created_new, info) =
        app.shared
            .write(|s| match s.update_config(name, id, config.clone()) {
                Some(info) => (false, info),
                None => (true, s.create(name, id, config, Target::Running)),
            });
    if created_new {
        created(headers, name, info)
    } else {
        json(200, info)
    }
}

fn patch_config(app: &App, name: &str, body: &Bytes) -> Response {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return malformed(&e),
    };
    let Value::Object(patch) = &request else {
        return config_map(&request, "").err().unwrap_or_else(|| empty(500));
    };
    let Some(mut config) = app.shared.read().get(name).map(|c| c.config.clone()) else {
        return error(404, format!("Connector {name} not found"));
    };
    for (k, v) in patch {
        match v {
            Value::Null => {
                config.remove(k);
            }
            Value::String(s) => {
                config.insert(k.clone(), s.clone());
            }
            Value::Number(_) | Value::Bool(_) => {
                config.insert(k.clone(), v.to_string());
            }
            nested => {
                return config_map(&json!({ k.as_str(): nested }), "")
                    .err()
                    .unwrap_or_else(|| empty(500));
            }
        }
    }
    let (id, config) = match prepare(app, name, config) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match app.shared.write(|s| s.update_config(name, id, config)) {
        Some(info) => json(200, info),
        None => error(404, format!("Connector {name} not found")),
    }
}

/// `Connector` dropped from a class name, as Connect compares plugin names.
fn normalized(class: &str) -> &str {
    match class.strip_suffix("Connector") {
        Some(short) if !short.is_empty() => short,
        _ => class,
    }
}

fn validate(app: &App, path_class: &str, body: &Bytes) -> Response {
    let request: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return malformed(&e),
    };
    let config = match config_map(&request, "") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let bad_request = "org.apache.kafka.connect.runtime.rest.errors.BadRequestException";
    let Some(included) = config.get("connector.class") else {
        return error(
            500,
            format!(
                "{bad_request}: Connector config {} contains no connector type",
                plugins::java_map(&config)
            ),
        );
    };
    if !normalized(included).ends_with(normalized(path_class)) {
        return error(
            400,
            format!("Included connector type {included} does not match request type {path_class}"),
        );
    }
    let Some(id) = plugins::resolve(included) else {
        return error(
            500,
            format!(
                "{bad_request}: org.apache.kafka.connect.errors.ConnectException: {}",
                plugins::unknown_class_message(included, app.catalog.version())
            ),
        );
    };
    let (answer, _) = app.catalog.validate(id, &config);
    json(200, answer.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        segments(p)
    }

    #[test]
    fn paths_route_like_connect() {
        assert_eq!(route(&Method::GET, &segs("/")), Ok(Route::Root));
        assert_eq!(route(&Method::GET, &segs("/connectors/")), Ok(Route::List));
        assert_eq!(
            route(&Method::GET, &segs("/connectors/a%20b%2Fc/status")),
            Ok(Route::Status("a b/c".into()))
        );
        assert_eq!(route(&Method::DELETE, &segs("/connectors")), Err(405));
        assert_eq!(route(&Method::GET, &segs("/nope")), Err(404));
        assert_eq!(
            route(&Method::POST, &segs("/connectors/c/tasks/0/restart")),
            Ok(Route::RestartTask("c".into(), "0".into()))
        );
    }

    #[test]
    fn queries_keep_repeated_keys() {
        let q = query_pairs(Some("expand=status&expand=info&onlyFailed=TRUE"));
        assert_eq!(q.len(), 3);
        assert!(flag(&q, "onlyFailed"));
        assert!(!flag(&q, "includeTasks"));
    }

    #[test]
    fn percent_decoding_handles_edges() {
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%41%zz", false), "A%zz");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_encode_segment("a b/c"), "a%20b%2Fc");
    }
}
