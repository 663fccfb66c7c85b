//! The operator binary, started for one namespace, killed when dropped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use super::{metrics, repo_root};

pub struct Operator {
    child: tokio::process::Child,
    pub http: String,
    pub log: PathBuf,
}

impl Operator {
    pub async fn start(namespace: &str, extra: &[&str]) -> Self {
        Self::start_with_env(namespace, extra, &[]).await
    }

    /// The debug build of this package, debug logs in `target/test-logs/`, Connect polled
    /// every 2 s, then `extra`.
    pub async fn start_with_env(namespace: &str, extra: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut args = vec!["--log-level", "debug", "--poll-interval", "2s"];
        args.extend(extra);
        let logs = repo_root().join("target/test-logs");
        Self::spawn(
            Path::new(env!("CARGO_BIN_EXE_kafka-connect-operator")),
            Some(namespace),
            &args,
            envs,
            |port| logs.join(format!("operator-{namespace}-{port}.log")),
        )
    }

    /// Watching every namespace, but managing only the KafkaConnectCluster objects labelled
    /// `kco-test=ID` (and the KafkaConnectors naming them), as one shard would: other tests'
    /// objects, in their own namespaces, stay theirs. Its Lease is in namespace `ID`.
    pub async fn start_cluster_wide(id: &str, extra: &[&str]) -> Self {
        Self::start_cluster_wide_with_env(id, extra, &[]).await
    }

    /// One shard of the test `id`: the cluster objects labelled `kco-test=ID` and
    /// `kafkaconnect.dev/shard=SHARD`.
    pub async fn start_shard(id: &str, shard: &str) -> Self {
        let selector = format!("kco-test={id},kafkaconnect.dev/shard={shard}");
        Self::start_selecting(&format!("{id}-{shard}"), id, &selector, &[], &[])
    }

    pub async fn start_cluster_wide_with_env(
        id: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let selector = format!("kco-test={id}");
        Self::start_selecting(id, id, &selector, extra, envs)
    }

    /// Every namespace watched, the cluster objects `selector` matches managed, the Lease in
    /// namespace `lease_ns`, the identity `operator-NAME`.
    fn start_selecting(
        name: &str,
        lease_ns: &str,
        selector: &str,
        extra: &[&str],
        envs: &[(&str, &str)],
    ) -> Self {
        let mut args = vec!["--log-level", "debug", "--poll-interval", "2s"];
        args.extend([
            "--watch-label-selector",
            selector,
            "--lease-namespace",
            lease_ns,
        ]);
        args.extend(extra);
        let logs = repo_root().join("target/test-logs");
        let identity = format!("operator-{name}");
        let mut envs = envs.to_vec();
        envs.push(("POD_NAME", &identity));
        Self::spawn(
            Path::new(env!("CARGO_BIN_EXE_kafka-connect-operator")),
            None,
            &args,
            &envs,
            |port| logs.join(format!("operator-{name}-all-{port}.log")),
        )
    }

    /// `bin run [--namespace NAMESPACE] --http-addr 127.0.0.1:<a free port> ARGS...` with
    /// `envs`, its stdout and stderr in the file `log(port)` names. Every test starts the
    /// operator through here.
    pub fn spawn(
        bin: &Path,
        namespace: Option<&str>,
        args: &[&str],
        envs: &[(&str, &str)],
        log: impl FnOnce(u16) -> PathBuf,
    ) -> Self {
        let port = free_port();
        let log = log(port);
        std::fs::create_dir_all(log.parent().expect("a log file in a folder")).unwrap();
        let file = std::fs::File::create(&log).unwrap();
        let http_addr = format!("127.0.0.1:{port}");
        // One identity per namespace, as a Pod's name: a restarted operator (a container
        // restart) takes its own Lease back at once instead of waiting for it to expire.
        let identity = format!("operator-{}", namespace.unwrap_or("all"));
        let scope = namespace.map(|ns| ["--namespace", ns]);
        let child = tokio::process::Command::new(bin)
            .arg("run")
            .args(scope.iter().flatten())
            .args(["--http-addr", &http_addr])
            .args(args)
            .env("POD_NAME", identity)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start the operator binary {}: {e}", bin.display()));
        Operator {
            child,
            http: format!("http://{http_addr}"),
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

    /// The exit status once the process ends by itself, or `None` after `timeout`.
    pub async fn exited_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()
            .map(|s| s.expect("wait for the operator"))
    }

    /// SIGKILL, whatever state the process is in.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }

    /// The text of /metrics; `None` while it does not answer.
    pub async fn metrics(&self) -> Option<String> {
        Some(self.get("/metrics").await?.1)
    }

    /// One sample of the operator's /metrics (summed over the label sets with every label of
    /// `labels`, e.g. `kind="KafkaConnector"`); `None` while /metrics does not answer.
    pub async fn metric(&self, name: &str, labels: &str) -> Option<f64> {
        Some(metrics::sum(&self.metrics().await?, name, labels))
    }

    /// The samples of `name` with every label of `labels`, summed by their label `by`;
    /// `None` while /metrics does not answer.
    pub async fn metric_by(
        &self,
        name: &str,
        by: &str,
        labels: &str,
    ) -> Option<BTreeMap<String, f64>> {
        Some(metrics::sum_by(&self.metrics().await?, name, by, labels))
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

/// A port nothing listens on, for a server a test starts (an operator's HTTP server, its
/// webhook). Not one the OS hands out by itself: a port of the ephemeral range (32768-60999
/// here), freed after checking it, can be taken by any outgoing connection or `bind(0)`
/// before the server binds it (seen: "Address already in use"). So ports come from 20000-31999,
/// where nothing else is assigned, in a block of 100 per test process (by pid, so that two
/// binaries running at once use different blocks), each checked free.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let block = 20_000 + (std::process::id() % 120) as u16 * 100;
    for _ in 0..100 {
        let port = block + NEXT.fetch_add(1, Ordering::Relaxed) % 100;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in 127.0.0.1:{block}-{}", block + 99)
}
