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
    Client::try_default()
        .await
        .expect("a client from KUBECONFIG")
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
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap(),
    )
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
        api.patch(
            &name,
            &PatchParams::apply("kco-tests").force(),
            &Patch::Apply(&doc),
        )
        .await
        .expect("apply CRD");
        names.push(name);
    }
    for name in names {
        let api = api.clone();
        eventually(
            &format!("CRD {name} Established"),
            Duration::from_secs(30),
            || {
                let api = api.clone();
                let name = name.clone();
                async move {
                    let crd = api.get(&name).await.ok()?;
                    let established = crd
                        .status?
                        .conditions?
                        .iter()
                        .any(|c| c.type_ == "Established" && c.status == "True");
                    established.then_some(())
                }
            },
        )
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
        Self {
            url: url.into(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(100))
                .build()
                .unwrap(),
        }
    }

    pub fn worker(n: u8) -> Self {
        Self::new(env(if n == 1 {
            "CONNECT_URL"
        } else {
            "CONNECT_URL_2"
        }))
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
        let config = json!({"connector.class": "org.apache.kafka.connect.tools.MockSourceConnector",
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

    pub async fn delete(&self, connector: &str) -> u16 {
        self.call(
            reqwest::Method::DELETE,
            &format!("/connectors/{connector}"),
            None,
        )
        .await
        .0
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
        cmd.args([
            "run",
            "--namespace",
            namespace,
            "--http-addr",
            &format!("127.0.0.1:{port}"),
            "--log-level",
            "debug",
        ])
        .args(["--poll-interval", "2s"])
        .args(extra)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .kill_on_drop(true);
        let child = cmd.spawn().expect("start the operator binary");
        Operator {
            child,
            http: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    /// SIGKILL: the process dies without cleaning up (no Lease release).
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL the operator");
    }

    /// SIGTERM, then the exit status once the process is gone.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.pid().to_string();
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM {pid}");
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .unwrap()
    }

    /// One sample of the operator's /metrics (summed over label sets containing `labels`).
    pub async fn metric(&self, name: &str, labels: &str) -> Option<f64> {
        let (_, text) = self.get("/metrics").await?;
        Some(
            text.lines()
                .filter(|l| l.starts_with(name) && l.contains(labels))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum(),
        )
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
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---- KafkaConnector / KafkaConnectCluster helpers -------------------------------------

use kco::api::{KafkaConnectCluster, KafkaConnector};

pub struct Scenario {
    pub client: Client,
    pub ns: String,
    pub connectors: Api<KafkaConnector>,
    pub clusters: Api<KafkaConnectCluster>,
    pub connect: Connect,
    pub operator: Operator,
}

impl Scenario {
    /// A namespace with the CRDs installed, a KafkaConnectCluster `local` pointing at
    /// worker 1, and an operator watching only this namespace.
    pub async fn new(prefix: &str, operator_args: &[&str]) -> Self {
        let s = Self::without_cluster(prefix, operator_args).await;
        s.apply_cluster(json!({"url": env("CONNECT_URL")})).await;
        s
    }

    pub async fn without_cluster(prefix: &str, operator_args: &[&str]) -> Self {
        let args: Vec<String> = operator_args.iter().map(|a| a.to_string()).collect();
        Self::custom(prefix, |_, _| async move { (args, vec![]) }).await
    }

    /// `setup` gets the client and the fresh namespace and returns the operator's extra
    /// arguments and environment (e.g. a KUBECONFIG with another identity).
    pub async fn custom<F, Fut>(prefix: &str, setup: F) -> Self
    where
        F: FnOnce(Client, String) -> Fut,
        Fut: Future<Output = (Vec<String>, Vec<(String, String)>)>,
    {
        let client = kube().await;
        install_operator_crds(&client).await;
        let ns = namespace(&client, prefix).await;
        let (args, envs) = setup(client.clone(), ns.clone()).await;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let operator = Operator::start_with_env(&ns, &args, &envs).await;
        Scenario {
            connectors: Api::namespaced(client.clone(), &ns),
            clusters: Api::namespaced(client.clone(), &ns),
            client,
            connect: Connect::worker(1),
            ns,
            operator,
        }
    }

    /// Secrets and a ConfigMap for the stack's TLS + basic-auth worker; returns the
    /// KafkaConnectCluster spec that uses them.
    pub async fn install_tls_material(&self, password: &str) -> Value {
        use k8s_openapi::api::core::v1::{ConfigMap, Secret};
        let dir = env("CONNECT_TLS_DIR");
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        let secrets: Api<Secret> = Api::namespaced(self.client.clone(), &self.ns);
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.ns);
        let pp = PatchParams::apply("kco-tests").force();
        let basic = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "connect-basic"},
            "stringData": {"username": env("CONNECT_BASIC_USER"), "password": password}});
        secrets
            .patch("connect-basic", &pp, &Patch::Apply(&basic))
            .await
            .unwrap();
        let client = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "connect-client"},
            "type": "kubernetes.io/tls", "stringData": {"tls.crt": read("client.crt"), "tls.key": read("client.key")}});
        secrets
            .patch("connect-client", &pp, &Patch::Apply(&client))
            .await
            .unwrap();
        let ca = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "connect-ca"}, "data": {"ca.crt": read("ca.crt")}});
        cms.patch("connect-ca", &pp, &Patch::Apply(&ca))
            .await
            .unwrap();
        json!({"url": env("CONNECT_URL_TLS"),
            "auth": {"basic": {"secretName": "connect-basic"}},
            "tls": {"ca": {"configMapName": "connect-ca"}, "clientCertificateSecret": "connect-client"}})
    }

    pub async fn apply_cluster(&self, spec: Value) {
        let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnectCluster",
            "metadata": {"name": "local"}, "spec": spec});
        self.clusters
            .patch(
                "local",
                &PatchParams::apply("kco-tests").force(),
                &Patch::Apply(&obj),
            )
            .await
            .expect("apply cluster");
    }

    /// Server-side applies a KafkaConnector; `spec` gets `clusterRef: local` unless it has one.
    pub async fn apply(&self, name: &str, mut spec: Value) -> KafkaConnector {
        if spec.get("clusterRef").is_none() {
            spec["clusterRef"] = json!({"name": "local"});
        }
        self.try_apply(name, spec).await.expect("apply connector")
    }

    pub async fn try_apply(&self, name: &str, spec: Value) -> Result<KafkaConnector, kube::Error> {
        let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
            "metadata": {"name": name}, "spec": spec});
        self.connectors
            .patch(
                name,
                &PatchParams::apply("kco-tests").force(),
                &Patch::Apply(&obj),
            )
            .await
    }

    /// Waits until the KafkaConnector satisfies `pred`; prints the last status on timeout.
    pub async fn wait(
        &self,
        name: &str,
        what: &str,
        pred: impl Fn(&KafkaConnector) -> bool,
    ) -> KafkaConnector {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut last = None;
        loop {
            if let Ok(obj) = self.connectors.get(name).await {
                if pred(&obj) {
                    return obj;
                }
                last = Some(obj);
            }
            if Instant::now() > deadline {
                let status = last
                    .and_then(|o| o.status)
                    .map(|s| serde_json::to_string_pretty(&s).unwrap());
                panic!(
                    "{name}: timed out waiting for {what}; last status: {status:#?}\noperator log tail:\n{}",
                    self.operator_log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Deletes a KafkaConnector and waits until it is gone (its finalizer ran).
    pub async fn delete_and_wait(&self, name: &str) {
        self.connectors
            .delete(name, &Default::default())
            .await
            .expect("delete KafkaConnector");
        eventually(&format!("{name} gone"), Duration::from_secs(60), || async {
            self.connectors
                .get_opt(name)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        })
        .await;
    }

    pub async fn wait_ready(&self, name: &str) -> KafkaConnector {
        self.wait(name, "Ready=True at the current generation", |o| {
            is_ready(o)
        })
        .await
    }

    pub fn operator_log_tail(&self) -> String {
        let logs = self.operator.logs();
        let lines: Vec<&str> = logs.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// A connector name unique to this test, so parallel tests never collide in Connect.
    pub fn unique(&self, base: &str) -> String {
        format!("{}-{base}", self.ns)
    }

    pub async fn events(&self) -> Vec<(String, String)> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client.clone(), &self.ns);
        api.list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }

    /// Reads one counter of the operator's /metrics (summed over label sets containing `labels`).
    pub async fn metric(&self, name: &str, labels: &str) -> f64 {
        let (_, text) = self
            .operator
            .get("/metrics")
            .await
            .unwrap_or((0, String::new()));
        text.lines()
            .filter(|l| l.starts_with(name) && l.contains(labels))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

pub fn condition<'a>(
    o: &'a KafkaConnector,
    type_: &str,
) -> Option<&'a k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    o.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)
}

pub fn is_ready(o: &KafkaConnector) -> bool {
    let current = o.status.as_ref().and_then(|s| s.observed_generation) == o.metadata.generation;
    current
        && condition(o, "Ready")
            .is_some_and(|c| c.status == "True" && c.observed_generation == o.metadata.generation)
}

pub fn state(o: &KafkaConnector) -> Option<&str> {
    o.status.as_ref()?.state.as_deref()
}
