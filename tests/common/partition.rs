//! A partition between a process and the apiserver: a TCP proxy that, once cut, forwards
//! nothing more and holds every connection open (requests hang, as behind a dead link), and
//! a kubeconfig that goes through it.

/// A TCP proxy to the apiserver that can be cut: then it forwards nothing more, in either
/// direction, and holds every connection open (a partition, not a refusal: requests hang).
pub struct Partition {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Partition {
    pub async fn start() -> Self {
        use std::sync::atomic::Ordering;
        let server = std::fs::read_to_string(super::env("KUBECONFIG")).unwrap();
        let upstream = server
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: https://"))
            .expect("the apiserver's address in KUBECONFIG")
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = cut.clone();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let (flag, upstream) = (flag.clone(), upstream.clone());
                tokio::spawn(async move {
                    if flag.load(Ordering::SeqCst) {
                        std::future::pending::<()>().await;
                    }
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pipe(cr, sw, flag.clone()), pipe(sr, cw, flag));
                });
            }
        });
        Partition {
            port,
            cut,
            accepted,
        }
    }

    /// Connections accepted so far, cut or not.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// A copy of KUBECONFIG that reaches the apiserver through this proxy.
    pub fn kubeconfig(&self, ns: &str) -> String {
        let text = std::fs::read_to_string(super::env("KUBECONFIG")).unwrap();
        let proxied: Vec<String> = text
            .lines()
            .map(|l| match l.trim().strip_prefix("server: https://") {
                Some(_) => format!("    server: https://127.0.0.1:{}", self.port),
                None => l.to_string(),
            })
            .collect();
        let path = super::repo_root().join(format!("target/test-logs/kubeconfig-{ns}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, proxied.join("\n")).unwrap();
        path.display().to_string()
    }
}

/// Copies `from` to `to` until either closes; once cut, reads are dropped and nothing more
/// is written (the connection stays open, as behind a dead link).
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if cut.load(std::sync::atomic::Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
