//! The webhook's serving certificate, shared by every replica through one Secret.
//!
//! With `--webhook-certs operator`, the first replica to find no Secret issues a CA and a
//! certificate signed by it, and writes both (`create`: a replica that loses the race reads
//! the winner's). Once less than a third of the validity remains, one replica re-issues
//! both (`replace` guarded by resourceVersion: again one winner). The CA's key is dropped
//! once it has signed: nothing needs it again, since a rotation issues a new CA. `ca.crt`
//! holds the new CA and the one before, so the apiserver trusts a replica still serving the
//! old certificate until it reloads (within a minute). With `external` (cert-manager), the
//! Secret is only read. Every replica reloads what the Secret holds without a restart.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::{CertSource, WebhookSettings, ca_bundle};

const NOT_AFTER: &str = "kafkaconnect.dev/webhook-not-after";
const NAMES: &str = "kafkaconnect.dev/webhook-names";
const CA: &str = "ca.crt";
const CERT: &str = "tls.crt";
const KEY: &str = "tls.key";
const LOOK_EVERY: Duration = Duration::from_secs(60);

/// A CA, the serving certificate it signed, and the CA bundle to trust (PEM).
#[derive(Debug)]
pub struct Issued {
    pub ca_bundle: String,
    pub cert: String,
    pub key: String,
    pub not_after: jiff::Timestamp,
}

/// Issues a fresh CA and a serving certificate for `names` valid `validity` from `now`. The
/// bundle keeps the first CA of `previous_bundle` (the CA being replaced).
pub fn issue(
    names: &[String],
    validity: Duration,
    now: jiff::Timestamp,
    previous_bundle: Option<&str>,
) -> Result<Issued, rcgen::Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let at = |t: jiff::Timestamp| {
        time::OffsetDateTime::from_unix_timestamp(t.as_second())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    // A little before now: an apiserver whose clock runs behind still accepts it.
    let from = at(now - jiff::SignedDuration::from_mins(5));
    let not_after = now + jiff::SignedDuration::try_from(validity).unwrap_or_default();

    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("kafka-connect-operator webhook CA {now}"),
    );
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (ca.not_before, ca.not_after) = (from, at(not_after));
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut leaf = CertificateParams::new(names.to_vec())?;
    let first = names
        .first()
        .map_or("kafka-connect-operator", String::as_str);
    leaf.distinguished_name.push(DnType::CommonName, first);
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (leaf.not_before, leaf.not_after) = (from, at(not_after));
    let leaf_key = KeyPair::generate()?;
    let cert = leaf.signed_by(&leaf_key, &issuer)?;

    let mut ca_bundle = ca_cert.pem();
    if let Some(old) = previous_bundle.and_then(first_certificate) {
        ca_bundle.push_str(&old);
    }
    Ok(Issued {
        ca_bundle,
        cert: cert.pem(),
        key: leaf_key.serialize_pem(),
        not_after,
    })
}

/// The first PEM certificate block of `bundle`.
fn first_certificate(bundle: &str) -> Option<String> {
    const END: &str = "-----END CERTIFICATE-----";
    let start = bundle.find("-----BEGIN CERTIFICATE-----")?;
    let end = bundle[start..].find(END)? + start + END.len();
    Some(format!("{}\n", &bundle[start..end]))
}

/// Whether a Secret this operator wrote must be re-issued: less than a third of `validity`
/// left, or issued for other names. `None`: not written by this operator (no annotation), so
/// never re-issued by it.
pub fn reissue_due(
    secret: &Secret,
    names: &[String],
    validity: Duration,
    now: jiff::Timestamp,
) -> Option<bool> {
    let annotations = secret.metadata.annotations.as_ref()?;
    let not_after: jiff::Timestamp = annotations.get(NOT_AFTER)?.parse().ok()?;
    let third = jiff::SignedDuration::try_from(validity / 3).unwrap_or_default();
    let renamed = annotations.get(NAMES).map(String::as_str) != Some(names.join(",").as_str());
    Some(renamed || not_after - third <= now)
}

fn secret_of(settings: &WebhookSettings, issued: &Issued, base: Option<&Secret>) -> Secret {
    let bytes = |s: &str| ByteString(s.as_bytes().to_vec());
    let mut meta = base.map(|s| s.metadata.clone()).unwrap_or(ObjectMeta {
        name: Some(settings.secret.clone()),
        namespace: Some(settings.namespace.clone()),
        ..ObjectMeta::default()
    });
    let annotations = meta.annotations.get_or_insert_default();
    annotations.insert(NOT_AFTER.into(), issued.not_after.to_string());
    annotations.insert(NAMES.into(), settings.names.join(","));
    meta.labels.get_or_insert_default().insert(
        "app.kubernetes.io/managed-by".into(),
        "kafka-connect-operator".into(),
    );
    Secret {
        metadata: meta,
        type_: Some("kubernetes.io/tls".into()),
        data: Some(
            [
                (CA.to_string(), bytes(&issued.ca_bundle)),
                (CERT.to_string(), bytes(&issued.cert)),
                (KEY.to_string(), bytes(&issued.key)),
            ]
            .into(),
        ),
        ..Secret::default()
    }
}

/// The Secret to serve from, issued or re-issued first when this operator writes it.
async fn current(api: &Api<Secret>, settings: &WebhookSettings) -> anyhow::Result<Secret> {
    let found = api.get_opt(&settings.secret).await?;
    if settings.certs == CertSource::External {
        return found.ok_or_else(|| {
            anyhow::anyhow!(
                "Secret {} not written yet (--webhook-certs external)",
                settings.secret
            )
        });
    }
    let now = jiff::Timestamp::now();
    let due = found
        .as_ref()
        .map(|s| reissue_due(s, &settings.names, settings.validity, now));
    match due {
        // Written by someone else (no annotation), or still good: serve it as it is.
        Some(None) | Some(Some(false)) => Ok(found.expect("found")),
        None => {
            let issued = issue(&settings.names, settings.validity, now, None)?;
            match api
                .create(&PostParams::default(), &secret_of(settings, &issued, None))
                .await
            {
                Ok(s) => {
                    tracing::info!(secret = %settings.secret, not_after = %issued.not_after, "issued the webhook's serving certificate");
                    Ok(s)
                }
                // Another replica issued it first: serve that one.
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(api.get(&settings.secret).await?),
                Err(e) => Err(e.into()),
            }
        }
        Some(Some(true)) => {
            let old = found.expect("found");
            let bundle = old
                .data
                .as_ref()
                .and_then(|d| d.get(CA))
                .map(|b| String::from_utf8_lossy(&b.0).into_owned());
            let issued = issue(&settings.names, settings.validity, now, bundle.as_deref())?;
            let name = &settings.secret;
            match api
                .replace(
                    name,
                    &PostParams::default(),
                    &secret_of(settings, &issued, Some(&old)),
                )
                .await
            {
                Ok(s) => {
                    tracing::info!(secret = %name, not_after = %issued.not_after, "rotated the webhook's serving certificate");
                    Ok(s)
                }
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(api.get(name).await?),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Looks at the Secret now and every minute (sooner for a short validity): issues or rotates
/// it where this operator writes it, loads it for serving, and injects its CA bundle.
pub async fn keep_current(client: Client, settings: WebhookSettings, serving: Arc<Serving>) {
    let api: Api<Secret> = Api::namespaced(client.clone(), &settings.namespace);
    let every = LOOK_EVERY
        .min(settings.validity / 10)
        .max(Duration::from_secs(1));
    loop {
        match current(&api, &settings).await {
            Ok(secret) => {
                let data = secret.data.unwrap_or_default();
                let get = |k: &str| data.get(k).map(|b| b.0.as_slice()).unwrap_or_default();
                // The bundle first: the apiserver then already trusts the new CA when this
                // replica starts serving the certificate it signed.
                if settings.certs == CertSource::Operator && !get(CA).is_empty() {
                    ca_bundle::inject(&client, &settings.configuration, get(CA)).await;
                }
                match serving.load(get(CERT), get(KEY)) {
                    Ok(true) => {
                        tracing::info!(secret = %settings.secret, "webhook serving certificate loaded")
                    }
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(secret = %settings.secret, error = %e, "webhook certificate unusable")
                    }
                }
            }
            Err(e) => {
                tracing::warn!(secret = %settings.secret, error = %e, "webhook certificate not available: the apiserver cannot call this replica yet (failurePolicy Ignore lets applies through)");
            }
        }
        tokio::time::sleep(every).await;
    }
}

/// The certificate handed to every TLS handshake; replaced in place on rotation.
#[derive(Default)]
pub struct Serving {
    current: RwLock<Option<(Vec<u8>, Arc<CertifiedKey>)>>,
}

impl fmt::Debug for Serving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Serving")
    }
}

impl Serving {
    /// Loads a PEM certificate chain and key; `Ok(true)` when it differs from the one served.
    pub fn load(&self, cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<bool> {
        let mut current = self.current.write().expect("serving lock");
        if current.as_ref().is_some_and(|(c, _)| c == cert_pem) {
            return Ok(false);
        }
        let chain = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>()?;
        anyhow::ensure!(!chain.is_empty(), "{CERT} holds no certificate");
        let key = PrivateKeyDer::from_pem_slice(key_pem)?;
        let key = rustls::crypto::ring::sign::any_supported_type(&key)?;
        *current = Some((cert_pem.to_vec(), Arc::new(CertifiedKey::new(chain, key))));
        Ok(true)
    }
}

impl ResolvesServerCert for Serving {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let current = self.current.read().expect("serving lock");
        current.as_ref().map(|(_, key)| key.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["kco-webhook.ops.svc".into(), "127.0.0.1".into()]
    }

    fn settings() -> WebhookSettings {
        WebhookSettings {
            addr: "127.0.0.1:0".parse().unwrap(),
            secret: "tls".into(),
            namespace: "ops".into(),
            certs: CertSource::Operator,
            configuration: "kco".into(),
            names: names(),
            validity: Duration::from_secs(90 * 24 * 3600),
            allowed_urls: vec![],
        }
    }

    #[test]
    fn an_issued_certificate_loads_and_its_ca_verifies_it() {
        use rustls::client::danger::ServerCertVerifier;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let now = jiff::Timestamp::now();
        let issued = issue(&names(), Duration::from_secs(3600), now, None).unwrap();
        let serving = Serving::default();
        assert!(
            serving
                .load(issued.cert.as_bytes(), issued.key.as_bytes())
                .unwrap()
        );
        assert!(
            !serving
                .load(issued.cert.as_bytes(), issued.key.as_bytes())
                .unwrap()
        );
        // The bundle's CA verifies the served certificate for an IP name.
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(issued.ca_bundle.as_bytes()) {
            roots.add(c.unwrap()).unwrap();
        }
        let verifier = rustls::client::WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .unwrap();
        let leaf = CertificateDer::from_pem_slice(issued.cert.as_bytes()).unwrap();
        let ip = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let at = rustls::pki_types::UnixTime::now();
        verifier
            .verify_server_cert(&leaf, &[], &ip, &[], at)
            .expect("the CA bundle verifies the serving certificate");
    }

    #[test]
    fn a_rotation_keeps_the_replaced_ca_in_the_bundle() {
        let now = jiff::Timestamp::now();
        let first = issue(&names(), Duration::from_secs(3600), now, None).unwrap();
        let second = issue(
            &names(),
            Duration::from_secs(3600),
            now,
            Some(&first.ca_bundle),
        )
        .unwrap();
        let third = issue(
            &names(),
            Duration::from_secs(3600),
            now,
            Some(&second.ca_bundle),
        )
        .unwrap();
        let count = |b: &str| b.matches("BEGIN CERTIFICATE").count();
        assert_eq!(count(&first.ca_bundle), 1);
        assert_eq!(count(&second.ca_bundle), 2);
        assert!(second.ca_bundle.ends_with(&first.ca_bundle));
        // Only the CA being replaced stays, not every CA ever issued.
        assert_eq!(count(&third.ca_bundle), 2);
        assert!(!third.ca_bundle.contains(&first.ca_bundle));
    }

    #[test]
    fn reissue_is_due_with_a_third_left_or_new_names_and_never_for_a_foreign_secret() {
        let s = settings();
        let now = jiff::Timestamp::now();
        let issued = issue(&s.names, s.validity, now, None).unwrap();
        let secret = secret_of(&s, &issued, None);
        let day = jiff::SignedDuration::from_hours(24);
        assert_eq!(reissue_due(&secret, &s.names, s.validity, now), Some(false));
        assert_eq!(
            reissue_due(&secret, &s.names, s.validity, now + day * 59),
            Some(false)
        );
        assert_eq!(
            reissue_due(&secret, &s.names, s.validity, now + day * 61),
            Some(true)
        );
        let other = vec!["other.svc".to_string()];
        assert_eq!(reissue_due(&secret, &other, s.validity, now), Some(true));
        let foreign = Secret::default();
        assert_eq!(reissue_due(&foreign, &s.names, s.validity, now), None);
    }
}
