//! Keeps the CA bundle of the operator's ValidatingWebhookConfiguration equal to the one its
//! serving certificate chains to. Any replica may write it: they all read the same Secret,
//! and the write is guarded by resourceVersion, so two never fight.

use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::ByteString;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use kube::api::PostParams;
use kube::{Api, Client};

/// Said once per process: a configuration that is absent (not installed yet, or the chart
/// renders none) is not an error worth a line a minute.
static SAID_MISSING: AtomicBool = AtomicBool::new(false);

pub async fn inject(client: &Client, name: &str, bundle: &[u8]) {
    let api: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let mut vwc = match api.get_opt(name).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            if !SAID_MISSING.swap(true, Ordering::Relaxed) {
                tracing::info!(configuration = %name, "no ValidatingWebhookConfiguration of that name yet: its CA bundle is injected once it exists");
            }
            return;
        }
        Err(e) => {
            tracing::warn!(configuration = %name, error = %e, "cannot read the ValidatingWebhookConfiguration to inject its CA bundle");
            return;
        }
    };
    let mut changed = false;
    for hook in vwc.webhooks.iter_mut().flatten() {
        let ca = &mut hook.client_config.ca_bundle;
        if ca.as_ref().map(|b| b.0.as_slice()) != Some(bundle) {
            *ca = Some(ByteString(bundle.to_vec()));
            changed = true;
        }
    }
    if !changed {
        return;
    }
    match api.replace(name, &PostParams::default(), &vwc).await {
        Ok(_) => tracing::info!(configuration = %name, "injected the webhook's CA bundle"),
        // Another replica wrote first; the next look compares again.
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => {
            tracing::warn!(configuration = %name, error = %e, "cannot inject the webhook's CA bundle")
        }
    }
}
