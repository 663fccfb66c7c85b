//! Shared by the integration tests: the real local stack (`make stack-up` writes
//! `target/stack/env`; `make test` sources it), namespaces, the operator process, waiting.
#![allow(dead_code)]

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: integration tests need the local stack (`make stack-up && source target/stack/env`, or `make test`)")
    })
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub async fn kube() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    env("KUBECONFIG");
    Client::try_default().await.expect("a client from KUBECONFIG")
}

/// Polls `check` until it returns `Some`, or panics after `timeout` with `what`.
/// Awaiting a condition, not sleeping for a guess: the interval only bounds the load.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A fresh namespace per test: namespaces never finish deleting without a
/// controller-manager, so tests never share or reuse one.
pub async fn namespace(client: &Client, prefix: &str) -> String {
    let name = format!("{prefix}-{}", &uuid_suffix());
    let api: Api<Namespace> = Api::all(client.clone());
    api.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap())
        .await
        .expect("create namespace");
    name
}

pub fn uuid_suffix() -> String {
    format!("{:08x}", rand::random::<u32>())
}

/// Applies a multi-document YAML file by server-side apply and waits for CRDs to be Established.
pub async fn apply_crds(client: &Client, yaml: &str) {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut names = vec![];
    for doc in serde_saphyr::from_multiple::<Value>(yaml).expect("CRD YAML parses") {
        if doc.is_null() {
            continue;
        }
        let name = doc["metadata"]["name"].as_str().unwrap().to_string();
        api.patch(&name, &PatchParams::apply("kco-tests").force(), &Patch::Apply(&doc)).await.expect("apply CRD");
        names.push(name);
    }
    for name in names {
        let api = api.clone();
        eventually(&format!("CRD {name} Established"), Duration::from_secs(30), || {
            let api = api.clone();
            let name = name.clone();
            async move {
                let crd = api.get(&name).await.ok()?;
                let established = crd.status?.conditions?.iter().any(|c| c.type_ == "Established" && c.status == "True");
                established.then_some(())
            }
        })
        .await;
    }
}

pub async fn install_operator_crds(client: &Client) {
    let yaml = std::fs::read_to_string(repo_root().join("crds/kafkaconnect.dev.yaml")).unwrap();
    apply_crds(client, &yaml).await;
}

/// Plain HTTP access to a Connect worker, for setting up and checking what the operator did.
#[derive(Clone)]
pub struct Connect {
    pub url: String,
    http: reqwest::Client,
}

impl Connect {
    pub fn new(url: impl Into<String>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Self { url: url.into(), http: reqwest::Client::builder().timeout(Duration::from_secs(100)).build().unwrap() }
    }

    pub fn worker(n: u8) -> Self {
        Self::new(env(if n == 1 { "CONNECT_URL" } else { "CONNECT_URL_2" }))
    }

    /// One request; retried while Connect answers with its documented momentary errors
    /// (409 during a rebalance, 500 "timed out"/"rebalance"). Returns (status, body).
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let mut req = self.http.request(method.clone(), format!("{}{path}", self.url));
            if let Some(b) = &body {
                req = req.json(b);
            }
            let result = req.send().await;
            let (code, value) = match result {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let text = resp.text().await.unwrap_or_default();
                    (code, serde_json::from_str(&text).unwrap_or(Value::String(text)))
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

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn status(&self, connector: &str) -> Option<Value> {
        let (code, v) = self.get(&format!("/connectors/{connector}/status")).await;
        (code == 200).then_some(v)
    }

    pub async fn delete(&self, connector: &str) -> u16 {
        self.call(reqwest::Method::DELETE, &format!("/connectors/{connector}"), None).await.0
    }
}

/// The operator binary, started for one namespace, killed when dropped.
pub struct Operator {
    child: tokio::process::Child,
    pub http: String,
    pub log: PathBuf,
}

impl Operator {
    pub async fn start(namespace: &str, extra: &[&str]) -> Self {
        Self::start_with_env(namespace, extra, &[]).await
    }

    pub async fn start_with_env(namespace: &str, extra: &[&str], envs: &[(&str, &str)]) -> Self {
        let port = free_port();
        let logs = repo_root().join("target/test-logs");
        std::fs::create_dir_all(&logs).unwrap();
        let log = logs.join(format!("operator-{namespace}-{port}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kafka-connect-operator"));
        cmd.args(["run", "--namespace", namespace, "--http-addr", &format!("127.0.0.1:{port}"), "--log-level", "debug"])
            .args(["--poll-interval", "2s"])
            .args(extra)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .kill_on_drop(true);
        let child = cmd.spawn().expect("start the operator binary");
        Operator { child, http: format!("http://127.0.0.1:{port}"), log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        let resp = reqwest::get(format!("{}{path}", self.http)).await.ok()?;
        let code = resp.status().as_u16();
        Some((code, resp.text().await.ok()?))
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
