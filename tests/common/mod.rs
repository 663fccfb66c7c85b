//! Shared by the integration tests: the real local stack (`make stack-up` writes
//! `target/stack/env`; `make test` sources it), namespaces, waiting and commands here;
//! the Connect REST client in `connect`, the operator process in `operator`, KafkaConnector
//! specs and status reads in `spec`, a namespace with CRDs, cluster and operator in `scenario`,
//! the stack's PostgreSQL and the Debezium specs in `postgres`, the Prometheus text of a
//! `/metrics` page in `metrics`, the stack's controls (`hack/stack.sh`) in `stack`, a Connect-like server that records
//! what it is sent in `fake_connect`, a TCP proxy a test can cut in `proxy`, objects across namespaces for an operator watching
//! them all in `teams`, the operator's validating webhook as the apiserver calls it in `webhook`, a connector
//! author's RBAC in `rbac`, lines counted through the file connectors in `lines`, a
//! partition from the apiserver in `partition`.
#![allow(dead_code)]

mod connect;
mod emulator;
mod fake_connect;
pub mod lines;
pub mod metrics;
mod operator;
pub mod partition;
mod postgres;
mod proxy;
mod rbac;
mod scenario;
mod spec;
mod stack;
pub mod teams;
mod webhook;

// Each test binary uses some of these: the rest are unused there.
#[allow(unused_imports)]
pub use connect::Connect;
#[allow(unused_imports)]
pub use emulator::{Emulator, emulator_binary};
#[allow(unused_imports)]
pub use fake_connect::fake_connect;
#[allow(unused_imports)]
pub use operator::{Operator, free_port};
#[allow(unused_imports)]
pub use postgres::{DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES, Pg, PgObjects};
#[allow(unused_imports)]
pub use proxy::Proxy;
#[allow(unused_imports)]
pub use rbac::grant_connector_author;
#[allow(unused_imports)]
pub use scenario::{Scenario, delete_all};
#[allow(unused_imports)]
pub use spec::{
    HEALTHY_MS, MOCK, cluster_object, condition, condition_reason, condition_status,
    connector_object, healthy_mock, is_ready, is_ready_in, last_restart_id, mock, state,
};
#[allow(unused_imports)]
pub use stack::{stack_ctl, worker_url};
#[allow(unused_imports)]
pub use webhook::{
    injected_bundle, kubectl_apply, webhook_args, webhook_configuration, webhook_file_source,
    webhook_scenario,
};

use std::future::Future;
use std::path::PathBuf;
use std::process::{Command, Stdio};
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

/// One file of the stack's TLS material (`CONNECT_TLS_DIR`): `ca.crt`, `client.crt`, ...
pub fn tls_file(name: &str) -> String {
    std::fs::read_to_string(format!("{}/{name}", env("CONNECT_TLS_DIR"))).unwrap()
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

/// Runs a command in the repository root (with `stdin`, if given), asserts it succeeded
/// and returns its stdout and stderr.
pub fn run(cmd: &str, args: &[&str], stdin: Option<&[u8]>) -> String {
    let out = run_status(cmd, args, stdin, &[]);
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(out.code == 0, "{cmd} {args:?} failed:\n{text}");
    text
}

/// What a command run by `run_status` left: its exit code (-1 if killed), stdout, stderr.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` from the repository root with `stdin` (if any) and `envs`, whatever its exit.
pub fn run_status(cmd: &str, args: &[&str], stdin: Option<&[u8]>, envs: &[(&str, &str)]) -> Ran {
    let mut child = Command::new(cmd)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
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
