//! A KafkaConnectCluster behind HTTPS with a private CA, a client certificate and basic
//! auth, on the real stack's TLS worker: Ready with the right material, Unauthorized with a
//! wrong password, not trusted with a wrong or missing CA (unless insecureSkipVerify), and
//! the password never shows in status, Events or the operator's log.

mod common;

use common::{Scenario, healthy_mock, tls_file};
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use serde_json::{Value, json};

#[tokio::test]
async fn https_with_a_private_ca_a_client_certificate_and_basic_auth() {
    let s = Scenario::without_cluster("e2e-tls", &["--cluster-refresh", "2s"]).await;
    let password = common::env("CONNECT_BASIC_PASSWORD");
    let secure = s.install_tls_material(&password).await;
    s.apply_cluster(secure.clone()).await;
    let name = s.unique("secure");
    s.apply("secure", healthy_mock(&name)).await;
    s.wait_ready("secure").await;
    assert!(
        s.connect.status(&name).await.is_none(),
        "it runs on the TLS cluster, not on worker 1"
    );
    s.wait_cluster_ready("True", None).await;
    authenticated_only_with_the_password(&s, &password).await;
    trusted_only_with_the_ca(&s, &secure).await;

    // The password never reaches status, events or the operator's log.
    let everything = format!(
        "{}{:?}{}",
        serde_json::to_string(&s.clusters.get("local").await.unwrap().status).unwrap(),
        s.events().await,
        s.operator.logs()
    );
    assert!(!everything.contains(&password), "the password leaked");
    use base64::Engine;
    let header = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{password}", common::env("CONNECT_BASIC_USER")));
    assert!(
        !everything.contains(&header),
        "the Authorization header leaked"
    );

    s.delete_and_wait("secure").await;
}

/// A wrong password: the REST API answers 401, reported as Unauthorized; the right one again
/// makes the cluster Ready.
async fn authenticated_only_with_the_password(s: &Scenario, password: &str) {
    s.apply_basic_secret("wrong-password").await;
    s.wait_cluster_ready("False", Some("Unauthorized")).await;
    s.apply_basic_secret(password).await;
    s.wait_cluster_ready("True", None).await;
}

/// The CA from a Secret works as from a ConfigMap; a wrong CA or none is not trusted, unless
/// insecureSkipVerify. `secure` is the KafkaConnectCluster spec with the right material.
async fn trusted_only_with_the_ca(s: &Scenario, secure: &Value) {
    // The CA from a Secret (key ca.crt) works the same as from a ConfigMap.
    let ca_in_secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "connect-ca-secret"},
        "stringData": {"ca.crt": tls_file("ca.crt")}}))
        .unwrap();
    s.secrets()
        .create(&PostParams::default(), &ca_in_secret)
        .await
        .unwrap();
    let mut ca_secret = secure.clone();
    ca_secret["tls"]["ca"] = json!({"secretName": "connect-ca-secret"});
    s.apply_cluster(ca_secret).await;
    s.wait_cluster_ready("True", None).await;
    // A wrong CA is not trusted.
    let mut wrong_ca = secure.clone();
    wrong_ca["tls"]["ca"] = json!({"secretName": "connect-client", "key": "tls.crt"});
    s.apply_cluster(wrong_ca).await;
    s.wait_cluster_ready("False", Some("ConnectUnavailable"))
        .await;

    // Without the CA the server certificate is not trusted; insecureSkipVerify accepts it.
    let mut no_ca = secure.clone();
    no_ca["tls"] = json!({"clientCertificateSecret": "connect-client"});
    s.apply_cluster(no_ca.clone()).await;
    s.wait_cluster_ready("False", Some("ConnectUnavailable"))
        .await;
    no_ca["tls"]["insecureSkipVerify"] = json!(true);
    s.apply_cluster(no_ca).await;
    s.wait_cluster_ready("True", None).await;
}
