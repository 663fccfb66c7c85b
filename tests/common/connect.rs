//! Plain HTTP access to a Connect worker, for setting up and checking what the operator did.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{MOCK, env, eventually, worker_url};

#[derive(Clone)]
pub struct Connect {
    pub url: String,
    http: reqwest::Client,
}

impl Connect {
    pub fn new(url: impl Into<String>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self {
            url: url.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(100))
                .build()
                .unwrap(),
        }
    }

    /// The stack's TLS worker (its own Connect group): private CA, client certificate and
    /// basic auth, as the KafkaConnectCluster of `Scenario::install_tls_material` reaches it.
    pub fn tls() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let file = |n: &str| super::tls_file(n).into_bytes();
        let mut identity = file("client.crt");
        identity.push(b'\n');
        identity.extend(file("client.key"));
        let user = format!(
            "{}:{}",
            env("CONNECT_BASIC_USER"),
            env("CONNECT_BASIC_PASSWORD")
        );
        let basic = format!(
            "Basic {}",
            base64::Engine::encode(&base64::prelude::BASE64_STANDARD, user)
        );
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", basic.parse().unwrap());
        Self {
            url: env("CONNECT_URL_TLS"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(100))
                .add_root_certificate(reqwest::Certificate::from_pem(&file("ca.crt")).unwrap())
                .identity(reqwest::Identity::from_pem(&identity).unwrap())
                .default_headers(headers)
                .build()
                .unwrap(),
        }
    }

    pub fn worker(n: u8) -> Self {
        Self::new(worker_url(n))
    }

    /// One request; retried while Connect answers with its documented momentary errors
    /// (409 during a rebalance, 500 "timed out"/"rebalance"). Returns (status, body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.url));
            if let Some(b) = &body {
                req = req.json(b);
            }
            let result = req.send().await;
            let (code, value) = match result {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    (
                        code,
                        serde_json::from_str(&text).unwrap_or(Value::String(text)),
                    )
                }
                Err(e) => (0, Value::String(e.to_string())),
            };
            let msg = value["message"].as_str().unwrap_or_default();
            let momentary = code == 0
                || (code == 409 && !msg.contains("already exists"))
                || (code == 500 && (msg.contains("rebalance") || msg.contains("timed out")));
            if !momentary || Instant::now() > deadline {
                return (code, value);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Creates a MockSourceConnector directly through the REST API (one task that fails
    /// `delay_ms` after it starts) and asserts Connect answered 201.
    pub async fn create_mock(&self, name: &str, delay_ms: u64) {
        let config = json!({"connector.class": MOCK,
            "tasks.max": "1", "mock_mode": "task-failure", "delay_ms": delay_ms.to_string()});
        let (code, body) = self
            .call(
                reqwest::Method::POST,
                "/connectors",
                Some(json!({"name": name, "config": config})),
            )
            .await;
        assert_eq!(code, 201, "creating {name} answered {code}: {body}");
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn status(&self, connector: &str) -> Option<Value> {
        let (code, v) = self.get(&format!("/connectors/{connector}/status")).await;
        (code == 200).then_some(v)
    }

    /// The body of GET /connectors/{connector}/config, whatever the answer's status.
    pub async fn config(&self, connector: &str) -> Value {
        self.get(&format!("/connectors/{connector}/config")).await.1
    }

    pub async fn delete(&self, connector: &str) -> u16 {
        self.call(
            reqwest::Method::DELETE,
            &format!("/connectors/{connector}"),
            None,
        )
        .await
        .0
    }

    /// Waits (60 s) until Connect has no status for `connector`: it was deleted.
    pub async fn wait_deleted(&self, connector: &str, what: &str) {
        eventually(what, Duration::from_secs(60), || async {
            self.status(connector).await.is_none().then_some(())
        })
        .await;
    }
}
