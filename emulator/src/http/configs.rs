//! The endpoints that take a connector config: create, `PUT` and `PATCH .../config`, and
//! `PUT /connector-plugins/{class}/config/validate`, with Connect's checks in its order.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::respond::{SOURCE_REDACTED, config_map, created, empty, error, json, malformed, token};
use crate::app::App;
use crate::plugins::{self, PluginId};
use crate::store::Target;

const CREATE_REQUEST: &str =
    "org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest";

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

pub(super) fn create(app: &App, headers: &HeaderMap, body: &Bytes) -> Response {
    let (name, config, target) = match create_request(app, body) {
        Ok(r) => r,
        Err(r) => return r,
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

/// A create's body as Jackson reads a `CreateConnectorRequest`: the name, the config and
/// the initial state, or the error Connect answers.
fn create_request(
    app: &App,
    body: &Bytes,
) -> Result<(String, BTreeMap<String, String>, Target), Response> {
    let request: Value = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    let Value::Object(fields) = &request else {
        let (what, tok) = token(&request);
        return Err(error(
            500,
            format!(
                "Cannot deserialize value of type `{CREATE_REQUEST}` from {what} value (token `JsonToken.{tok}`){SOURCE_REDACTED}"
            ),
        ));
    };
    known_fields(app, fields)?;
    let name = match fields.get("name") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    };
    let config = match fields.get("config") {
        None | Some(Value::Null) => {
            return Err(error(
                500,
                "Cannot invoke \"java.util.Map.get(Object)\" because \"connectorConfig\" is null",
            ));
        }
        Some(v) => config_map(v, &format!("{CREATE_REQUEST}[\"config\"]->"))?,
    };
    let target = initial_state(fields.get("initial_state"))?;
    Ok((name, config, target))
}

/// Jackson refuses a field the request class does not have (`initial_state` is 3.7+).
fn known_fields(app: &App, fields: &serde_json::Map<String, Value>) -> Result<(), Response> {
    let known: &[&str] = if app.at_least(3, 7) {
        &["config", "name", "initial_state"]
    } else {
        &["config", "name"]
    };
    let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) else {
        return Ok(());
    };
    let list = known
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Err(error(
        500,
        format!(
            "Unrecognized field \"{unknown}\" (class {CREATE_REQUEST}), not marked as ignorable ({} known properties: {list}){SOURCE_REDACTED} (through reference chain: {CREATE_REQUEST}[\"{unknown}\"])",
            known.len()
        ),
    ))
}

/// `initial_state`, case-insensitive; absent or null is RUNNING.
fn initial_state(v: Option<&Value>) -> Result<Target, Response> {
    let v = match v {
        None | Some(Value::Null) => return Ok(Target::Running),
        Some(v) => v,
    };
    let text = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    match text.to_ascii_uppercase().as_str() {
        "RUNNING" => Ok(Target::Running),
        "PAUSED" => Ok(Target::Paused),
        "STOPPED" => Ok(Target::Stopped),
        _ => Err(error(
            500,
            format!(
                "Cannot construct instance of `{CREATE_REQUEST}$InitialState`, problem: No enum constant {CREATE_REQUEST}.InitialState.{text}{SOURCE_REDACTED} (through reference chain: {CREATE_REQUEST}[\"initial_state\"])"
            ),
        )),
    }
}

pub(super) fn put_config(app: &App, name: &str, headers: &HeaderMap, body: &Bytes) -> Response {
    let config = match body_config(body) {
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

pub(super) fn patch_config(app: &App, name: &str, body: &Bytes) -> Response {
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

pub(super) fn validate(app: &App, path_class: &str, body: &Bytes) -> Response {
    let config = match body_config(body) {
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

/// A request body that is a config map (`PUT .../config`, validate): Jackson's answer to a
/// body that is not JSON, or not a map of scalars.
fn body_config(body: &Bytes) -> Result<BTreeMap<String, String>, Response> {
    let request: Value = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    config_map(&request, "")
}
