//! The Connect emulator (`emulator/`, binary `kco-connect-emulator`) as a child process.
//!
//! The binary belongs to another package of the workspace, so `CARGO_BIN_EXE_...` does not
//! name it: `KCO_EMULATOR_BIN` does when set; otherwise the first use builds it with
//! `cargo build -p kco-connect-emulator` (same profile as the tests) and takes it from the
//! target directory the test binary runs from.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The emulator's binary, built once per test process.
pub fn emulator_binary() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(path) = std::env::var("KCO_EMULATOR_BIN") {
            return PathBuf::from(path);
        }
        let mut cmd = std::process::Command::new(env!("CARGO"));
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "kco-connect-emulator",
            "--bin",
            "kco-connect-emulator",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build for the emulator");
        assert!(
            status.success(),
            "cargo build -p kco-connect-emulator failed"
        );
        // target/<profile>/deps/<test binary> -> target/<profile>/kco-connect-emulator
        let exe = std::env::current_exe().expect("the test binary's path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("a target/<profile>/deps directory");
        let bin = profile_dir.join(format!(
            "kco-connect-emulator{}",
            std::env::consts::EXE_SUFFIX
        ));
        assert!(bin.exists(), "{} was not built", bin.display());
        bin
    })
    .clone()
}

/// A running emulator on a free port, killed when dropped.
pub struct Emulator {
    pub url: String,
    child: tokio::process::Child,
    http: reqwest::Client,
}

impl Emulator {
    /// Starts the emulator with `args` (besides `--port 0`) and waits until it listens.
    pub async fn start(args: &[&str]) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut child = tokio::process::Command::new(emulator_binary())
            .args(["--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start kco-connect-emulator");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the emulator says where it listens within 30 s")
            .expect("the emulator's stdout")
            .expect("a first line on the emulator's stdout");
        let url = line
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .unwrap_or_else(|| panic!("unexpected first line from the emulator: {line}"))
            .to_string();
        Emulator {
            url,
            child,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    /// A call to `/__admin/{path}`; returns (status, body).
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/__admin/{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .expect("the emulator's admin endpoint answers");
        let code = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (code, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The requests the emulator answered on `endpoint` (`/__admin/stats`), by answer code
    /// (`error` for a reset connection).
    pub async fn requests(&self, endpoint: &str) -> BTreeMap<String, u64> {
        let (_, stats) = self.admin(reqwest::Method::GET, "stats", None).await;
        stats["requests"][endpoint]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replaces the fault rules (`PUT /__admin/faults`).
    pub async fn set_faults(&self, rules: Value) {
        let (code, body) = self
            .admin(reqwest::Method::PUT, "faults", Some(rules))
            .await;
        assert_eq!(code, 200, "setting faults: {body}");
    }

    /// Task `task` of `connector` FAILED now with `trace`.
    pub async fn fail_task(&self, connector: &str, task: u32, trace: &str) {
        let (code, body) = self
            .admin(
                reqwest::Method::POST,
                &format!("connectors/{connector}/tasks/{task}/fail"),
                Some(serde_json::json!({ "trace": trace })),
            )
            .await;
        assert_eq!(code, 204, "failing {connector}-{task}: {body}");
    }
}
