//! Connect's validation at apply time, on the real stack: the real kube-apiserver calls the
//! operator's webhook at `https://127.0.0.1:<port>` (the CA bundle injected by the operator),
//! which asks the real 4.3.1 worker. A bad key and an unknown class are refused with
//! Connect's words (a Secret's value masked), `kubectl apply --dry-run=server` shows the same,
//! an error-handling trap is a warning, and a Connect that is down or a Secret the author may
//! not read lets the apply through with a warning. The serving certificate rotates without a
//! restart.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    Scenario, env, eventually, free_port, uuid_suffix, webhook_args, webhook_configuration,
};
use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

/// A Scenario whose operator serves the webhook, and the webhook configuration's name.
async fn scenario(prefix: &str, extra: &[&str]) -> (Scenario, String, u16) {
    let port = free_port();
    let vwc = format!("kco-test-{}", uuid_suffix());
    let mut args = webhook_args(port, &vwc);
    args.extend(extra.iter().map(|a| a.to_string()));
    let name = vwc.clone();
    let s = Scenario::custom(prefix, |client, ns| async move {
        webhook_configuration(&client, &name, &ns, port).await;
        (args, vec![])
    })
    .await;
    s.apply_cluster(json!({"url": env("CONNECT_URL")})).await;
    (s, vwc, port)
}

/// The CA bundle the operator injected, once it has.
async fn injected_bundle(client: &Client, vwc: &str) -> String {
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    eventually(
        "the CA bundle is injected",
        Duration::from_secs(60),
        || async {
            let v = api.get(vwc).await.ok()?;
            let hook = v.webhooks?.into_iter().next()?;
            let bundle = hook.client_config.ca_bundle?;
            Some(String::from_utf8(bundle.0).unwrap()).filter(|b| !b.is_empty())
        },
    )
    .await
}

/// `kubectl apply -f -` of a KafkaConnector `name` with `spec`: whether it succeeded, and
/// everything kubectl printed (warnings go to stderr).
fn kubectl_apply(s: &Scenario, name: &str, spec: Value, extra: &[&str]) -> (bool, String) {
    let obj = json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
        "metadata": {"name": name, "namespace": s.ns}, "spec": spec});
    let mut args = vec!["apply", "-f", "-"];
    args.extend(extra);
    let mut child = std::process::Command::new(env("KUBECTL"))
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_vec(&obj).unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &input).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn file_source(s: &Scenario, config: Value) -> Value {
    json!({"clusterRef": {"name": "local"}, "class": SOURCE, "connectorName": s.unique("webhook"),
        "config": config})
}

#[tokio::test]
async fn connects_validation_refuses_at_apply_time_and_never_blocks() {
    let (s, vwc, _) = scenario("e2e-webhook", &[]).await;
    injected_bundle(&s.client, &vwc).await;
    let secrets: Api<Secret> = s.secrets();
    let secret: Secret = serde_json::from_value(json!({"metadata": {"name": "batch"},
        "stringData": {"size": "s3cr3t-batch"}}))
    .unwrap();
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    // A bad key (from a Secret: its value must not show) and a missing required one.
    let mut bad = file_source(&s, json!({"file": "/tmp/in.txt"}));
    bad["configFrom"] = json!([{"key": "batch.size",
        "valueFrom": {"secretKeyRef": {"name": "batch", "key": "size"}}}]);

    // The apiserver calls the webhook once it has seen the injected bundle: wait for that
    // with server-side dry runs, which store nothing.
    let refused = eventually(
        "a dry run shows Connect's errors",
        Duration::from_secs(30),
        || {
            let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &["--dry-run=server"]);
            async move { (!ok).then_some(out) }
        },
    )
    .await;
    println!("dry run: {refused}");
    assert!(refused.contains("denied the request"), "{refused}");
    assert!(refused.contains("batch.size: Invalid value"), "{refused}");
    assert!(
        refused.contains("topic: Missing required configuration"),
        "{refused}"
    );
    assert!(
        !refused.contains("s3cr3t"),
        "a Secret's value shown: {refused}"
    );
    assert!(
        s.connectors.get_opt("bad").await.unwrap().is_none(),
        "a dry run stores nothing"
    );

    let (ok, out) = kubectl_apply(&s, "bad", bad.clone(), &[]);
    assert!(!ok && out.contains("batch.size: Invalid value"), "{out}");
    assert!(!out.contains("s3cr3t"), "{out}");

    let mut unknown = file_source(&s, json!({"topic": "t"}));
    unknown["class"] = json!("com.example.NoSuchConnector");
    let (ok, out) = kubectl_apply(&s, "unknown", unknown, &[]);
    println!("unknown class: {out}");
    assert!(!ok, "{out}");
    assert!(
        out.contains("class: Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector"),
        "{out}"
    );
    assert!(
        !out.contains("PluginDesc"),
        "the list of every plugin: {out}"
    );

    // Valid, with a trap: allowed, and warned about.
    let trap = file_source(
        &s,
        json!({"file": "/tmp/kco-webhook-in.txt", "topic": s.unique("webhook"), "errors.tolerance": "all"}),
    );
    let (ok, out) = kubectl_apply(&s, "trap", trap, &[]);
    println!("trap: {out}");
    assert!(ok, "{out}");
    assert!(out.contains("Warning: errors.tolerance=all"), "{out}");
    assert!(!out.contains("skipped"), "{out}");
    s.wait_ready("trap").await;
    // The operator's own writes (finalizer, status) do not change the spec: not reviewed, so
    // the reviews counted are those of kubectl's requests above.
    let reviews = |verdict: &'static str| {
        let labels = format!("verdict=\"{verdict}\"");
        let op = &s.operator;
        async move {
            op.metric("kco_webhook_reviews_total", &labels)
                .await
                .unwrap_or(0.0)
        }
    };
    // Refused: the dry run, the bad key, the unknown class (attempts made before the
    // apiserver trusted the webhook never reached it). Counted before the 3.x check below.
    assert_eq!(reviews("refused").await, 3.0);

    // A 3.x worker validates the same way.
    s.try_apply_cluster("old", json!({"url": env("CONNECT_URL_V362")}))
        .await
        .unwrap();
    let mut on_old = file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    on_old["clusterRef"] = json!({"name": "old"});
    let (ok, out) = kubectl_apply(&s, "on-old", on_old, &["--dry-run=server"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("KafkaConnectCluster") && out.contains("/old) refuses"),
        "{out}"
    );
    assert!(out.contains("batch.size: Invalid value x"), "{out}");

    // Connect down: allowed, saying validation was skipped.
    let closed = format!("http://127.0.0.1:{}", free_port());
    s.try_apply_cluster("down", json!({"url": closed}))
        .await
        .unwrap();
    let mut on_down = file_source(&s, json!({"topic": "t"}));
    on_down["clusterRef"] = json!({"name": "down"});
    let (ok, out) = kubectl_apply(&s, "on-down", on_down, &[]);
    println!("Connect down: {out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("Warning: Connect's validation was skipped: KafkaConnectCluster"),
        "{out}"
    );

    // Connect slow: a server that takes connections and never answers. Allowed within the
    // apiserver's 5 s, with a warning.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}", silent.local_addr().unwrap());
    s.try_apply_cluster("slow", json!({"url": silent_url}))
        .await
        .unwrap();
    let mut on_slow = file_source(&s, json!({"topic": "t"}));
    on_slow["clusterRef"] = json!({"name": "slow"});
    let started = std::time::Instant::now();
    let (ok, out) = kubectl_apply(&s, "on-slow", on_slow, &[]);
    let took = started.elapsed();
    println!("Connect slow ({took:?}): {out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("Warning: Connect's validation was skipped"),
        "{out}"
    );
    drop(silent);

    // A cluster object in another namespace that does not admit this one (its labels read
    // and matched): allowed, saying why, and Connect is not asked for it.
    let platform = common::namespace(&s.client, "e2e-webhook-platform").await;
    let selector = json!({"from": "Selector", "selector": {"matchLabels": {"team": "orders"}}});
    common::teams::apply_cluster_in(
        &s.client,
        &platform,
        "shared",
        "webhook",
        json!({"url": env("CONNECT_URL"), "allowedNamespaces": selector}),
    )
    .await;
    let mut elsewhere = file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
    elsewhere["clusterRef"] = json!({"name": "shared", "namespace": platform});
    let (ok, out) = kubectl_apply(&s, "elsewhere", elsewhere, &[]);
    println!("not admitted: {out}");
    assert!(ok, "{out}");
    assert!(
        out.contains("its labels do not match allowedNamespaces.selector"),
        "{out}"
    );

    // An author who may not read the Secret: allowed unchecked, never validated with it.
    grant_author(&s.client, &s.ns, "alice").await;
    let (ok, out) = kubectl_apply(&s, "alices", bad, &["--as", "alice"]);
    println!("alice: {out}");
    assert!(ok, "{out}");
    assert!(out.contains("you may not read Secret batch"), "{out}");
    assert!(reviews("skipped").await >= 2.0);
}

/// `user` may write KafkaConnectors in `ns`, and read nothing else.
async fn grant_author(admin: &Client, ns: &str, user: &str) {
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "connector-author", "namespace": ns},
        "rules": [{"apiGroups": ["kafkaconnect.dev"], "resources": ["kafkaconnectors"],
             "verbs": ["get", "list", "create", "update", "patch"]}]});
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "connector-author", "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "connector-author"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]});
    for (kind, obj) in [("Role", role), ("RoleBinding", binding)] {
        let gvk = GroupVersionKind::gvk("rbac.authorization.k8s.io", "v1", kind);
        let plural = format!("{}s", kind.to_lowercase());
        let ar = ApiResource::from_gvk_with_plural(&gvk, &plural);
        let api: Api<DynamicObject> = Api::namespaced_with(admin.clone(), ns, &ar);
        let obj: DynamicObject = serde_json::from_value(obj).unwrap();
        api.create(&PostParams::default(), &obj).await.unwrap();
    }
}

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
    let (s, vwc, port) = scenario("e2e-webhook-rotate", &["--webhook-cert-validity", "30s"]).await;
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
    let bad = file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
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
    let (s, first_vwc, _) = scenario("e2e-webhook-follower", &[]).await;
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
    let bad = file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
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
    let bad = file_source(&s, json!({"file": "/tmp/in.txt", "batch.size": "x"}));
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
