//! Every failed reconcile is visible, and an answer that is not Connect's proves nothing:
//! small in-test HTTP servers play a misrouted ingress (an HTML page with 200, an HTML 404),
//! a gateway's JSON 404 and a redirect, and the real worker is asked under a path prefix it
//! does not serve; the KafkaConnector ends with `Ready=False`, a stable reason and a Warning
//! Event, nothing is created, deleted or released. An operator that cannot bind its probe
//! port exits instead of running unwatched.

mod common;

use common::{Scenario, condition, condition_reason, healthy_mock};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every request with `status` (e.g. "200 OK"), `headers` and `body`.
async fn fixed_answer_server(
    status: &'static str,
    headers: &'static str,
    body: &'static str,
) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    port
}

/// A misrouted ingress: every path answers `200 OK` with an HTML page.
async fn proxy_page_server() -> u16 {
    let page = "<html><body>Welcome to the ingress</body></html>";
    fixed_answer_server("200 OK", "content-type: text/html\r\n", page).await
}

#[tokio::test]
async fn an_answer_that_is_not_connects_ends_in_a_condition_and_an_event() {
    let port = proxy_page_server().await;
    let s = Scenario::without_cluster("e2e-proxy", &[]).await;
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{port}")}))
        .await;
    let name = s.unique("behind-proxy");
    s.apply("proxied", healthy_mock(&name)).await;
    let obj = s
        .wait("proxied", "Ready=False UnexpectedResponse", |o| {
            condition_reason(o, "Ready") == Some("UnexpectedResponse")
        })
        .await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(ready.status, "False");
    assert_eq!(ready.observed_generation, obj.metadata.generation);
    assert!(ready.message.contains("cannot parse"), "{}", ready.message);
    assert_eq!(
        condition(&obj, "Reconciling").map(|c| c.status.as_str()),
        Some("True"),
        "an unexpected answer is retried, not a stall"
    );
    let reasons = s.event_reasons().await;
    assert!(
        reasons.iter().any(|r| r == "UnexpectedResponse"),
        "a Warning Event names the failure: {reasons:?}"
    );
    s.wait_cluster_ready("False", Some("UnexpectedResponse"))
        .await;
}

/// An ingress path that is not Connect's answers 404 with HTML: the connector is not
/// "absent" — its deletion is not completed (the finalizer stays) and no Deleted Event
/// appears, until Connect itself answers again.
#[tokio::test]
async fn a_404_that_is_not_connects_never_reads_as_absent() {
    let html_404 = "<html><body>404 Not Found</body></html>";
    let port = fixed_answer_server("404 Not Found", "content-type: text/html\r\n", html_404).await;
    deletion_waits_for_connect("e2e-proxy404", format!("http://127.0.0.1:{port}")).await;
}

/// A gateway's JSON 404 (Kong's body here; API gateways answer alike) is not Connect's own
/// "no such connector" either.
#[tokio::test]
async fn a_gateways_json_404_never_reads_as_absent() {
    let kong = r#"{"message":"no Route matched with those values"}"#;
    let json = "content-type: application/json\r\n";
    let port = fixed_answer_server("404 Not Found", json, kong).await;
    deletion_waits_for_connect("e2e-kong404", format!("http://127.0.0.1:{port}")).await;
}

/// The real worker behind a path prefix it does not serve answers its own error body with
/// error_code 404 ("HTTP 404 Not Found", no such route) for every path: that proves nothing
/// about the connector.
#[tokio::test]
async fn connects_no_such_route_404_never_reads_as_absent() {
    let url = format!("{}/not-a-connect-path", common::env("CONNECT_URL"));
    deletion_waits_for_connect("e2e-route404", url).await;
}

/// A Ready KafkaConnector, its cluster then pointed at `url` (which answers 404 for every
/// path), deleted: it stays (finalizer held, `ConnectUnavailable`, no Deleted Event, the
/// connector still in Connect) until the cluster points at Connect again, and only then goes.
async fn deletion_waits_for_connect(prefix: &str, url: String) {
    let s = Scenario::new(prefix, &[]).await;
    let name = s.unique("kept");
    s.apply("kept", healthy_mock(&name)).await;
    s.wait_ready("kept").await;
    s.apply_cluster(json!({ "url": url })).await;
    s.connectors
        .delete("kept", &Default::default())
        .await
        .unwrap();
    let obj = s
        .wait("kept", "ConnectUnavailable while deleting", |o| {
            condition_reason(o, "Ready") == Some("ConnectUnavailable")
        })
        .await;
    assert!(obj.metadata.deletion_timestamp.is_some());
    assert!(
        s.connect.status(&name).await.is_some(),
        "the connector is still in Connect"
    );
    let reasons = s.event_reasons().await;
    assert!(!reasons.iter().any(|r| r == "Deleted"), "{reasons:?}");
    // Connect answers again: the deletion completes.
    s.apply_cluster(json!({"url": common::env("CONNECT_URL")}))
        .await;
    common::eventually(
        "KafkaConnector gone",
        std::time::Duration::from_secs(60),
        || async {
            s.connectors
                .get_opt("kept")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;
    s.connect.wait_deleted(&name, "deleted from Connect").await;
}

/// A redirect would re-send the request (credentials, config values) to another address:
/// it is not followed, and says so.
#[tokio::test]
async fn redirects_are_not_followed() {
    let location: &'static str =
        Box::leak(format!("location: {}/\r\n", common::env("CONNECT_URL")).into_boxed_str());
    let port = fixed_answer_server("307 Temporary Redirect", location, "").await;
    let s = Scenario::without_cluster("e2e-redirect", &[]).await;
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{port}")}))
        .await;
    let name = s.unique("redirected");
    s.apply("redirected", healthy_mock(&name)).await;
    let obj = s
        .wait("redirected", "UnexpectedResponse", |o| {
            condition_reason(o, "Ready") == Some("UnexpectedResponse")
        })
        .await;
    let ready = condition(&obj, "Ready").unwrap();
    assert!(
        ready.message.contains("redirects are not followed"),
        "{}",
        ready.message
    );
    assert!(s.connect.status(&name).await.is_none(), "nothing created");
}

#[tokio::test]
async fn an_operator_that_cannot_bind_its_http_port_exits() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kafka-connect-operator"))
        .args(["run", "--namespace", "default", "--http-addr", &addr])
        .env("KUBECONFIG", common::env("KUBECONFIG"))
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .expect("exits")
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot bind the HTTP server"), "{stderr}");
}
