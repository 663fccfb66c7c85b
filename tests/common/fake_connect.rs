//! A Connect-like HTTP server in the test process: it says what the test wants said and
//! records every request it gets.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server answering the few reads and the validate the operator makes as Connect 4.3.1
/// would, listing `listing` (the body of `GET /connectors?expand=...`; every config is valid,
/// any other request is a 404), and recording each request whole (head and body). It says
/// what a test wants said: another group's worker ids, connectors that are not there.
pub async fn fake_connect(listing: String) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve_like_connect(sock, log.clone(), listing.clone()));
        }
    });
    (port, seen)
}

async fn serve_like_connect(
    mut sock: tokio::net::TcpStream,
    log: Arc<Mutex<Vec<String>>>,
    listing: String,
) {
    loop {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap_or(0))
            })
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        log.lock()
            .unwrap()
            .push(String::from_utf8_lossy(&buf).to_string());
        let line = head.lines().next().unwrap_or_default().to_string();
        let (code, body) = if line.starts_with("GET / ") {
            (
                200,
                r#"{"version":"4.3.1","commit":"c","kafka_cluster_id":"k"}"#.to_string(),
            )
        } else if line.starts_with("GET /connectors?") {
            (200, listing.clone())
        } else if line.starts_with("GET /connectors ") {
            let names: Vec<String> =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&listing)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
            (200, serde_json::to_string(&names).unwrap())
        } else if line.starts_with("GET /connector-plugins") {
            (200, "[]".to_string())
        } else if line.starts_with("PUT /connector-plugins/") {
            (
                200,
                r#"{"name":"X","error_count":0,"groups":[],"configs":[]}"#.to_string(),
            )
        } else {
            (
                404,
                r#"{"error_code":404,"message":"Connector not found"}"#.to_string(),
            )
        };
        let answer = format!(
            "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if sock.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
}
