//! Every failed reconcile is visible: an answer that is not Connect's (here a proxy's HTML
//! page with status 200, from a small in-test HTTP server) fails the reconcile, and the
//! KafkaConnector still ends with `Ready=False`, a stable reason and a Warning Event.

mod common;

use common::{Scenario, condition, condition_reason, healthy_mock};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Answers every request with `200 OK` and an HTML page, as a misrouted ingress would.
async fn proxy_page_server() -> u16 {
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
                let body = "<html><body>Welcome to the ingress</body></html>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    port
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
