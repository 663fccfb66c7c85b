//! The operator binary, started for one namespace, killed when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use super::repo_root;

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

    /// SIGKILL without waiting (for `Drop`, which cannot await).
    pub fn start_kill(&mut self) {
        let _ = self.child.start_kill();
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

    /// One sample of the operator's /metrics (summed over label sets containing `labels`);
    /// `None` while /metrics does not answer.
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
