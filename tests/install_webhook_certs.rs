//! How the validating webhook is served, on the real stack: the serving certificate the
//! operator issues rotates without a restart (the CA bundle follows), a replica still waiting
//! for the Lease serves it too, and with `--webhook-certs external` (the chart's cert-manager
//! option) what another party wrote is served as it is.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    Scenario, env, eventually, free_port, injected_bundle, kubectl_apply, uuid_suffix,
    webhook_args, webhook_configuration, webhook_file_source, webhook_scenario,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

/// The first certificate of a PEM bundle, as DER.
fn first_der(bundle: &str) -> rustls::pki_types::CertificateDer<'static> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(bundle.as_bytes())
        .next()
        .unwrap()
        .unwrap()
}

/// Whether the webhook at `port` presents a certificate that `ca` (DER) alone verifies.
async fn served_under(port: u16, ca: rustls::pki_types::CertificateDer<'static>) -> bool {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let Ok(tcp) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    connector.connect(name, tcp).await.is_ok()
}

#[tokio::test]
async fn the_serving_certificate_rotates_without_a_restart() {
    // Valid 30 s: re-issued once 10 s are left, so within about 20 s.
    let (s, vwc, port) =
        webhook_scenario("e2e-webhook-rotate", &["--webhook-cert-validity", "30s"]).await;
    let first = injected_bundle(&s.client, &vwc).await;
    assert!(
        served_under(port, first_der(&first)).await,
        "served under the injected CA"
    );
    let secrets: Api<Secret> = s.secrets();
    let cert = |s: Secret| s.data.and_then(|d| d.get("tls.crt").cloned());
    let issued: Option<ByteString> = cert(
        secrets
            .get("kafka-connect-operator-webhook-tls")
            .await
            .unwrap(),
    );
    let rotated = eventually(
        "the certificate is re-issued",
        Duration::from_secs(60),
        || async {
            let now = cert(
                secrets
                    .get("kafka-connect-operator-webhook-tls")
                    .await
                    .ok()?,
            );
            (now != issued).then_some(())
        },
    );
    rotated.await;
    // The bundle now holds the new CA and the one it replaced, and the webhook serves the
    // new certificate (verified by the new CA alone) without a restart.
    let bundle = eventually(
        "both CAs in the bundle",
        Duration::from_secs(30),
        || async {
            let b = injected_bundle(&s.client, &vwc).await;
            (b.matches("BEGIN CERTIFICATE").count() == 2 && b != first).then_some(b)
        },
    )
    .await;
    let newest = first_der(&bundle);
    eventually("served under the new CA", Duration::from_secs(30), || {
        let ca = newest.clone();
        async move { served_under(port, ca).await.then_some(()) }
    })
    .await;
    // And the apiserver still reaches it: a bad config is refused.
    let bad = webhook_file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    eventually(
        "refused after the rotation",
        Duration::from_secs(30),
        || {
            let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &["--dry-run=server"]);
            async move { (!ok && out.contains("batch.size")).then_some(()) }
        },
    )
    .await;
}

/// Admission does not wait for an election: a second replica, still waiting for the Lease
/// the first holds, serves the webhook from the same Secret.
#[tokio::test]
async fn a_replica_waiting_for_the_lease_serves_the_webhook_too() {
    let (s, first_vwc, _) = webhook_scenario("e2e-webhook-follower", &[]).await;
    injected_bundle(&s.client, &first_vwc).await;
    // The apiserver now calls only the follower.
    let port = free_port();
    let vwc = format!("kco-test-{}", uuid_suffix());
    let api: Api<ValidatingWebhookConfiguration> = Api::all(s.client.clone());
    api.delete(&first_vwc, &Default::default()).await.unwrap();
    webhook_configuration(&s.client, &vwc, &s.ns, port).await;
    let mut args = webhook_args(port, &vwc);
    args.push("--leader-election".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Another Pod name: the same one would take its own Lease back at once.
    let follower =
        common::Operator::start_with_env(&s.ns, &args, &[("POD_NAME", "follower")]).await;
    injected_bundle(&s.client, &vwc).await;
    let bad = webhook_file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    eventually("the follower refuses", Duration::from_secs(30), || {
        let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &["--dry-run=server"]);
        async move { (!ok && out.contains("batch.size: Invalid value x")).then_some(()) }
    })
    .await;
    assert_eq!(
        follower.metric("kco_leader", "").await,
        Some(0.0),
        "the follower is not the leader"
    );
    assert_eq!(
        follower
            .metric("kco_webhook_reviews_total", "verdict=\"refused\"")
            .await,
        Some(1.0)
    );
}

/// `--webhook-certs external` (the chart's cert-manager option): the operator serves what
/// another party wrote into the Secret, and writes neither the Secret nor the CA bundle.
#[tokio::test]
async fn a_certificate_written_by_cert_manager_is_served_as_it_is() {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    // What cert-manager would write: a CA, and a certificate it signed for the webhook.
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let port = free_port();
    let vwc = format!("kco-test-{}", uuid_suffix());
    let name = vwc.clone();
    let ca_pem = ca_cert.pem();
    let (bundle, vwc_ca) = (ca_pem.clone(), ca_pem.clone());
    let (tls_crt, tls_key) = (cert.pem(), key.serialize_pem());
    let s = Scenario::custom("e2e-webhook-external", |client, ns| async move {
        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "kafka-connect-operator-webhook-tls"},
            "type": "kubernetes.io/tls",
            "stringData": {"tls.crt": tls_crt, "tls.key": tls_key, "ca.crt": bundle}}))
        .unwrap();
        let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns);
        secrets
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
        webhook_configuration(&client, &name, &ns, port).await;
        // And the CA injector's part: the bundle in the configuration.
        let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
        let mut v = api.get(&name).await.unwrap();
        let ca = ByteString(vwc_ca.into_bytes());
        v.webhooks.as_mut().unwrap()[0].client_config.ca_bundle = Some(ca);
        api.replace(&name, &PostParams::default(), &v)
            .await
            .unwrap();
        let mut args = webhook_args(port, &name);
        args.extend(["--webhook-certs".to_string(), "external".to_string()]);
        (args, vec![])
    })
    .await;
    s.apply_cluster(json!({"url": env("CONNECT_URL")})).await;
    let secrets: Api<Secret> = s.secrets();
    let written = secrets
        .get("kafka-connect-operator-webhook-tls")
        .await
        .unwrap();
    let bad = webhook_file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    eventually(
        "refused through cert-manager's certificate",
        Duration::from_secs(30),
        || {
            let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &["--dry-run=server"]);
            async move { (!ok && out.contains("batch.size: Invalid value x")).then_some(()) }
        },
    )
    .await;
    let now = secrets
        .get("kafka-connect-operator-webhook-tls")
        .await
        .unwrap();
    assert_eq!(
        now.metadata.resource_version, written.metadata.resource_version,
        "the operator rewrote cert-manager's Secret"
    );
    let api: Api<ValidatingWebhookConfiguration> = Api::all(s.client.clone());
    let ca = api.get(&vwc).await.unwrap().webhooks.unwrap()[0]
        .client_config
        .ca_bundle
        .clone()
        .unwrap();
    assert_eq!(
        ca.0,
        ca_pem.into_bytes(),
        "the operator changed the CA bundle"
    );
}
