//! What Connect's answers mean: a non-2xx status and body mapped to the error kinds the
//! reconciler acts on (see `shared/reference/connect-rest-api.md` for where each comes from).

use reqwest::StatusCode;

use super::types::ErrorBody;
use crate::error::Error;

/// How much of a body that is not Connect's error is kept in an error. Far more than is
/// ever shown (`mask::SHOWN_MAX_CHARS`): masks are applied to all of it before the cut, so
/// a secret is never shown half (and unrecognisable) at the cut.
const BODY_KEPT: usize = 64 << 10;

/// Maps a non-2xx answer to the error kinds the reconciler acts on
/// (see `shared/reference/connect-rest-api.md` for where each comes from).
pub(super) fn classify(status: StatusCode, body: &[u8]) -> Error {
    let connects = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .filter(|b| b.error_code.is_some() || b.message.is_some());
    let is_connects = connects.is_some();
    let absent = connects.as_ref().is_some_and(says_absent);
    let message = connects
        .and_then(|b| b.message)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(BODY_KEPT)]).into());
    match status.as_u16() {
        404 if absent => Error::NotFound(message),
        // A proxy's, gateway's or ingress's 404 (JSON or not), the apiserver's service proxy,
        // Connect's own "no such route" (a URL whose path prefix Connect does not serve), or
        // Jetty before the worker registered its resources: none says anything about the
        // connector, so none may read as "absent" (a delete would be taken as done).
        404 => Error::Unavailable(format!(
            "HTTP 404 that is not Connect saying the connector is absent (a proxy or gateway path, a wrong URL prefix, or a worker still starting): {message}"
        )),
        // Following would re-send the request, credentials and config included, elsewhere.
        code @ 300..=399 => Error::Unexpected {
            status: code,
            message:
                "redirects are not followed: point the KafkaConnectCluster url at the final address"
                    .into(),
        },
        409 if message.contains("already exists") => Error::AlreadyExists(message),
        409 => Error::Rebalancing(message),
        401 | 403 => Error::Unauthorized(status.as_u16()),
        400 => Error::Rejected(message),
        500 if is_momentary_500(&message) => Error::Rebalancing(message),
        500 if is_config_500(&message) => Error::Rejected(message),
        500 if is_connects => Error::ServerError(message),
        500 | 502 | 503 | 504 => Error::Unavailable(format!("HTTP {}: {message}", status.as_u16())),
        code => Error::Unexpected {
            status: code,
            message,
        },
    }
}

/// Connect's own "no such connector" (or task status): its error body, with `error_code`
/// 404 and a message that is not Jersey's "no resource at this path".
fn says_absent(body: &ErrorBody) -> bool {
    body.error_code == Some(404)
        && body
            .message
            .as_deref()
            .is_some_and(|m| !m.is_empty() && m != "HTTP 404 Not Found")
}

fn is_momentary_500(message: &str) -> bool {
    [
        "timed out",
        "rebalance",
        "Cannot complete request",
        "no known leader",
        // A worker forwarding to the leader failed (the leader left or restarts); whatever
        // the forwarded answer said, e.g. "Unrecognized field" while parsing it, is not about
        // what we sent.
        "trying to forward REST request",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// 500s that carry a problem with what we sent, which a retry will not cure.
fn is_config_500(message: &str) -> bool {
    [
        "Failed to find any class",
        "ConfigException",
        "must specify",
        "contains no connector type",
        // A request body Connect parses strictly: an unknown field is refused every time.
        "Unrecognized field",
        "not marked as ignorable",
        // A connector refusing offsets it cannot take (e.g. FileStreamSource's position), or
        // any change of them.
        "is expected to be",
        "doesn't support external modification of offsets",
        // Connect (4.3.1) wording the validation errors of a create or config PUT, for a
        // config whose errors sit on keys without a config value (Debezium's connection
        // check): a NullPointerException every time, where a 400 was meant.
        "ConfigValueInfo",
    ]
    .iter()
    .any(|m| message.contains(m))
}

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, message: &str) -> Error {
        let body = serde_json::json!({"error_code": status, "message": message}).to_string();
        classify(StatusCode::from_u16(status).unwrap(), body.as_bytes())
    }

    #[test]
    fn classifies_connect_errors() {
        assert!(matches!(
            err(404, "Connector x not found"),
            Error::NotFound(_)
        ));
        assert!(matches!(
            err(409, "Connector x already exists"),
            Error::AlreadyExists(_)
        ));
        assert!(matches!(
            err(
                409,
                "Cannot complete request momentarily due to no known leader URL"
            ),
            Error::Rebalancing(_)
        ));
        assert!(matches!(
            err(500, "Request timed out. The worker is currently ..."),
            Error::Rebalancing(_)
        ));
        assert!(matches!(
            err(
                500,
                "Failed to find any class that implements Connector and which name matches x"
            ),
            Error::Rejected(_)
        ));
        // Seen while the group's leader restarted (the fault suite): momentary, not a refusal.
        assert!(matches!(
            err(
                500,
                "IO Error trying to forward REST request: Unrecognized field \"url\" (class org.apache.kafka.connect.runtime.rest.entities.ErrorMessage), not marked as ignorable"
            ),
            Error::Rebalancing(_)
        ));
        // Connect's own 500: it took the request and failed; a proxy's 500 proves nothing.
        assert!(matches!(err(500, "boom"), Error::ServerError(_)));
        let proxy = classify(StatusCode::INTERNAL_SERVER_ERROR, b"<html>oops</html>");
        assert!(matches!(proxy, Error::Unavailable(_)), "{proxy:?}");
        let html = classify(StatusCode::NOT_FOUND, b"<html>Not Found</html>");
        assert!(matches!(html, Error::Unavailable(_)), "{html:?}");
        let moved = classify(StatusCode::TEMPORARY_REDIRECT, b"");
        assert!(
            matches!(moved, Error::Unexpected { status: 307, .. }),
            "{moved:?}"
        );
        assert!(matches!(
            err(
                500,
                "Unrecognized field \"initial_offsets\" (class CreateConnectorRequest), not marked as ignorable"
            ),
            Error::Rejected(_)
        ));
        assert!(matches!(
            err(
                500,
                "The value for the 'position' key in the offset is expected to be a Long value"
            ),
            Error::Rejected(_)
        ));
        // Recorded from Connect 4.3.1: POST /connectors of a Debezium source whose database
        // refuses the password.
        assert!(matches!(
            err(
                500,
                "Cannot invoke \"org.apache.kafka.connect.runtime.rest.entities.ConfigValueInfo.errors()\" because the return value of \"org.apache.kafka.connect.runtime.rest.entities.ConfigInfo.configValue()\" is null"
            ),
            Error::Rejected(_)
        ));
        assert!(matches!(err(401, ""), Error::Unauthorized(401)));
        assert!(matches!(
            err(400, "Connector configuration is invalid"),
            Error::Rejected(_)
        ));
        assert!(err(409, "conflicting operation (e.g. worker rebalance)").is_transient());
        assert!(!err(400, "bad").is_transient());
    }

    /// Only Connect's own error body with error_code 404 proves a connector absent.
    #[test]
    fn a_404_means_absent_only_when_connect_says_so() {
        let classify_body = |body: &str| classify(StatusCode::NOT_FOUND, body.as_bytes());
        let absent = r#"{"error_code":404,"message":"Connector c not found"}"#;
        assert!(matches!(classify_body(absent), Error::NotFound(_)));
        for not_connect in [
            // Kong, a cloud API gateway, an ingress page, Connect's "no such route".
            r#"{"message":"no Route matched with those values"}"#,
            r#"{"message":"Not Found"}"#,
            "<html><body>404 Not Found</body></html>",
            r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#,
            r#"{"error_code":"404","message":"Connector c not found"}"#,
            r#"{"code":404,"reason":"NotFound","message":"services \"c\" not found"}"#,
        ] {
            let e = classify_body(not_connect);
            assert!(matches!(e, Error::Unavailable(_)), "{not_connect}: {e:?}");
        }
    }
}
