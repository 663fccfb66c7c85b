//! Everything needed to build a `ConnectClient` for one Connect cluster, secret material
//! already resolved (reading it from Kubernetes is the controller's job: `credentials.rs`).

use std::hash::{Hash, Hasher};
use std::time::Duration;

use reqwest::header::HeaderValue;
use url::Url;

use super::client::ConnectClient;
use crate::config::TIMEOUTS;
use crate::error::{Error, Result};

/// Everything needed to build a client, with secret material resolved.
/// `Debug` is hand-written: it must never print credentials.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientSettings {
    pub url: Url,
    pub timeout: Duration,
    pub authorization: Option<String>,
    pub ca_pem: Option<Vec<u8>>,
    pub client_identity_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("url", &self.url.as_str())
            .field("timeout", &self.timeout)
            .field("auth", &self.authorization.as_ref().map(|_| "<hidden>"))
            .field("ca", &self.ca_pem.is_some())
            .field("client_certificate", &self.client_identity_pem.is_some())
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

impl ClientSettings {
    pub fn plain(url: Url) -> Self {
        Self {
            url,
            timeout: TIMEOUTS.request_default,
            authorization: None,
            ca_pem: None,
            client_identity_pem: None,
            insecure_skip_verify: false,
        }
    }

    /// A fingerprint that changes whenever any resolved setting (credentials included) does.
    pub fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }

    pub fn build(&self) -> Result<ConnectClient> {
        let mut builder = reqwest::Client::builder()
            // A redirect would re-send credentials and configs to another address.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(user_agent());
        if self.url.scheme() == "https" {
            let tls = super::tls::client_config(
                self.ca_pem.as_deref(),
                self.client_identity_pem.as_deref(),
                self.insecure_skip_verify,
            )?;
            builder = builder.tls_backend_preconfigured(tls);
        }
        let http = builder
            .build()
            .map_err(|e| Error::InvalidTls(e.to_string()))?;
        let auth = match &self.authorization {
            Some(value) => {
                let mut v = HeaderValue::from_str(value).map_err(|_| {
                    Error::MissingReference("credentials contain invalid header characters".into())
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        Ok(ConnectClient::new(self.url.clone(), http, auth))
    }
}

/// `kafka-connect-operator/<version>`, and the shard's selector when the process is one
/// shard: Connect's access log (and the emulator's count of writers) tells the shards apart.
fn user_agent() -> String {
    let base = concat!("kafka-connect-operator/", env!("CARGO_PKG_VERSION"));
    match crate::telemetry::metrics::SHARD.get() {
        Some(shard) => format!("{base} (shard {shard})"),
        None => base.to_string(),
    }
}
