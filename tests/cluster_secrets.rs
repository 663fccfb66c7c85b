//! What a KafkaConnectCluster may do with Secrets and answers: a Secret is sent to a URL only
//! when it names the cluster (annotation `kafkaconnect.dev/clusters`), credentials over
//! http:// raise a Warning condition, credentials taken back (the annotation removed, the
//! Secret deleted) are not sent again, an oversized answer is refused, not read whole, and a
//! configFrom Secret nobody shared never reaches a cluster URL of the author's choosing.
//! The "Connect" here is a small in-test HTTP server that records what it was sent.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Scenario, eventually};
use kco::api::KafkaConnectCluster;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that records each request's head and answers every request with `answer`.
async fn recording_server(answer: Vec<u8>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (log, answer) = (log.clone(), answer.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).to_string());
                let _ = sock.write_all(&answer).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (port, seen)
}

fn ready_reason(c: &KafkaConnectCluster, type_: &str) -> Option<(String, String, String)> {
    let cond = c
        .status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == type_)?;
    Some((
        cond.status.clone(),
        cond.reason.clone(),
        cond.message.clone(),
    ))
}

/// The Secret `theirs` (basic credentials, `password`), as its owner first writes it: it
/// names no cluster.
async fn apply_theirs(s: &Scenario, password: &str) {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "theirs"},
        "stringData": {"username": "u", "password": password}});
    let pp = PatchParams::apply("e2e").force();
    s.secrets()
        .patch("theirs", &pp, &Patch::Apply(&secret))
        .await
        .unwrap();
}

/// A scenario whose cluster `local` points at a recording server (answering 503) with basic
/// auth from the Secret `theirs`, not shared with it yet: the scenario, what the server has
/// seen, and the password.
async fn behind_a_recorder(prefix: &str) -> (Scenario, Arc<Mutex<Vec<String>>>, String) {
    let answer =
        b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
    let (port, seen) = recording_server(answer.to_vec()).await;
    let s = Scenario::without_cluster(prefix, &[]).await;
    let password = format!("sentinel-{}", common::uuid_suffix());
    // A Secret that does not name the cluster (created by someone else, for another use).
    apply_theirs(&s, &password).await;
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{port}"),
        "auth": {"basic": {"secretName": "theirs"}}}))
        .await;
    (s, seen, password)
}

#[tokio::test]
async fn a_secret_goes_only_to_a_cluster_it_names() {
    let (s, seen, password) = behind_a_recorder("e2e-secret-optin").await;
    let (_, _, why) = eventually("SecretNotShared", Duration::from_secs(60), || async {
        let c = s.clusters.get("local").await.ok()?;
        ready_reason(&c, "Ready").filter(|r| r.1 == "SecretNotShared")
    })
    .await;
    println!("{why}");
    assert!(why.contains("kafkaconnect.dev/clusters"), "{why}");
    let c = s.clusters.get("local").await.unwrap();
    let (status, reason, _) = ready_reason(&c, "CredentialsExposed").expect("a Warning");
    assert_eq!((status.as_str(), reason.as_str()), ("True", "PlainHttp"));
    assert!(
        !seen
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.to_ascii_lowercase().contains("authorization")),
        "no credentials were sent before the Secret named the cluster"
    );
    used_once_shared(&s, &seen, &password).await;
}

/// The owner of the Secret `theirs` shares it with the cluster: now it is used (the server
/// has `seen` credentials), and `password` is in no Event.
async fn used_once_shared(s: &Scenario, seen: &Mutex<Vec<String>>, password: &str) {
    let pp = PatchParams::apply("e2e").force();
    let shared = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "theirs", "annotations": {"kafkaconnect.dev/clusters": "other, local"}}});
    s.secrets()
        .patch("theirs", &pp, &Patch::Apply(&shared))
        .await
        .unwrap();
    eventually(
        "credentials sent once shared",
        Duration::from_secs(60),
        || async {
            let requests = seen.lock().unwrap().clone();
            requests
                .iter()
                .any(|r| r.to_ascii_lowercase().contains("authorization: basic"))
                .then_some(())
        },
    )
    .await;
    let events = s.events().await;
    assert!(
        !format!("{events:?}").contains(password),
        "the password is in no Event"
    );
}

/// Requests that carried credentials so far.
fn with_credentials(seen: &Mutex<Vec<String>>) -> usize {
    let requests = seen.lock().unwrap();
    let auth = |r: &&String| r.to_ascii_lowercase().contains("authorization:");
    requests.iter().filter(auth).count()
}

/// Taking credentials back takes effect: once the Secret no longer names the cluster, or is
/// deleted, the cluster says why and no request carries the old credentials any more.
#[tokio::test]
async fn revoked_credentials_are_not_sent_again() {
    let (s, seen, password) = behind_a_recorder("e2e-revoke").await;
    used_once_shared(&s, &seen, &password).await;
    // The owner takes the opt-in back (the annotation gone: the Secret as first applied).
    apply_theirs(&s, &password).await;
    no_credentials_after(&s, &seen, "SecretNotShared").await;
    // Shared again, used again; then the Secret is deleted.
    used_once_shared(&s, &seen, &password).await;
    s.secrets()
        .delete("theirs", &Default::default())
        .await
        .unwrap();
    no_credentials_after(&s, &seen, "MissingReference").await;
}

/// Waits for the cluster to say `reason`, then watches several polls' worth (2 s each in
/// tests): no request carries credentials any more.
async fn no_credentials_after(s: &Scenario, seen: &Mutex<Vec<String>>, reason: &str) {
    eventually(reason, Duration::from_secs(60), || async {
        let c = s.clusters.get("local").await.ok()?;
        ready_reason(&c, "Ready").filter(|r| r.1 == reason)
    })
    .await;
    let before = with_credentials(seen);
    tokio::time::sleep(Duration::from_secs(8)).await; // the window being measured
    assert_eq!(
        with_credentials(seen),
        before,
        "requests carried the taken-back credentials after {reason}"
    );
}

#[tokio::test]
async fn an_oversized_answer_is_refused_not_read_whole() {
    // 40 MiB announced and sent: past the 32 MiB the operator reads.
    let size = 40 << 20;
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    answer.extend(std::iter::repeat_n(b' ', size));
    let (port, _) = recording_server(answer).await;
    let s = Scenario::without_cluster("e2e-oversized", &[]).await;
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{port}")}))
        .await;
    let (_, reason, why) = eventually("the answer refused", Duration::from_secs(60), || async {
        let c = s.clusters.get("local").await.ok()?;
        ready_reason(&c, "Ready").filter(|r| r.0 == "False" && r.2.contains("MiB"))
    })
    .await;
    println!("{reason}: {why}");
    assert_eq!(reason, "UnexpectedResponse");
    assert!(why.contains("larger than 32 MiB"), "{why}");
}

/// H3: a Secret nobody shared, named in a KafkaConnector's `configFrom` on a cluster whose URL
/// is a server of the author's choosing (answering like Connect, recording every request
/// whole). No admission policy is bound here, so the Secret must opt in: its value never
/// reaches the server, though the operator talks to it.
#[tokio::test]
async fn a_config_from_secret_nobody_shared_never_reaches_the_clusters_url() {
    let (port, seen) = common::fake_connect("{}".into()).await;
    let s = Scenario::without_cluster("e2e-h3", &[]).await;
    let sentinel = format!("sentinel-{}", common::uuid_suffix());
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
        "stringData": {"password": sentinel}});
    let pp = PatchParams::apply("e2e").force();
    s.secrets()
        .patch("db", &pp, &Patch::Apply(&secret))
        .await
        .unwrap();
    s.apply_cluster(json!({"url": format!("http://127.0.0.1:{port}")}))
        .await;
    let mut spec = common::healthy_mock(&s.unique("h3"));
    spec["configFrom"] = json!([{"key": "connection.password",
        "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]);
    s.apply("h3", spec).await;
    s.wait("h3", "SecretNotShared", |o| {
        common::condition_reason(o, "Ready") == Some("SecretNotShared")
    })
    .await;
    // The operator does talk to that server: its polls keep coming.
    let before = seen.lock().unwrap().len();
    eventually("three more requests", Duration::from_secs(60), || async {
        (seen.lock().unwrap().len() >= before + 3).then_some(())
    })
    .await;
    let requests = seen.lock().unwrap().clone();
    println!(
        "the server got {} requests, none with the value",
        requests.len()
    );
    assert!(
        requests.iter().all(|r| !r.contains(&sentinel)),
        "the Secret's value reached the cluster's URL"
    );
}
