//! Responding: Connect-shaped answers (JSON bodies, `{"error_code", "message"}` errors,
//! Jackson's messages for bodies it cannot read, the `Location` of a created connector).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::routes::percent_encode_segment;

pub(super) const SOURCE_REDACTED: &str =
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

pub(super) fn not_found_path() -> Response {
    error(404, "HTTP 404 Not Found")
}

/// A Jackson-like message for a body that is not JSON.
pub(super) fn malformed(e: &serde_json::Error) -> Response {
    error(
        500,
        format!(
            "Unexpected character: {e}\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: {}, column: {}]",
            e.line(),
            e.column()
        ),
    )
}

pub(super) fn token(v: &Value) -> (&'static str, &'static str) {
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
pub(super) fn config_map(v: &Value, chain: &str) -> Result<BTreeMap<String, String>, Response> {
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

fn location(headers: &HeaderMap, name: &str) -> HeaderValue {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let url = format!("http://{host}/connectors/{}", percent_encode_segment(name));
    HeaderValue::from_str(&url).unwrap_or_else(|_| HeaderValue::from_static("/connectors"))
}

pub(super) fn created(headers: &HeaderMap, name: &str, info: String) -> Response {
    let mut r = json(201, info);
    r.headers_mut()
        .insert(header::LOCATION, location(headers, name));
    r
}
