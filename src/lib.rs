//! kafka-connect-operator: Kafka Connect connectors as Kubernetes custom resources.
//!
//! `api` holds the CRD types, `connect` the REST client, `controller` the reconcilers
//! (fetch → decide → act), `telemetry` logs, metrics and the probe/metrics HTTP server,
//! `vocabulary` the states and reasons readers match on, `config` the settings and
//! timeouts. `main.rs` is only the CLI. Start with `docs/ARCHITECTURE.md`.

pub mod api;
pub mod cli;
pub mod config;
pub mod connect;
pub mod controller;
pub mod error;
#[cfg(test)]
mod fixtures;
pub mod leader;
pub mod mask;
pub mod plugin;
pub mod shard;
pub mod telemetry;
pub mod vocabulary;
pub mod webhook;

pub use error::{Error, Result};

/// Runs the operator until SIGTERM or Ctrl-C (or, with leader election, until the Lease is lost).
pub async fn run(args: cli::RunArgs) -> anyhow::Result<()> {
    telemetry::logging::init(args.log_format, &args.log_level);
    // Before any metric is touched: every series of a shard carries its selector.
    if let Some(selector) = &args.operator_config().cluster_selector {
        let _ = telemetry::metrics::SHARD.set(selector.clone());
    }
    // One TLS provider for the whole process: kube's client and the Connect clients.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = kube::Client::try_default().await?;
    let config = args.operator_config();
    let health_deadline = *args.health_deadline;
    if let Err(e) = config.timeouts.check(health_deadline) {
        // Allowed (tests shorten the deadline on purpose), but a liveness probe would then
        // restart the operator while a reconcile is still inside its own time limit.
        tracing::warn!("{e}: /healthz may fail during a slow but healthy reconcile");
    }
    tracing::info!(?config, "starting kafka-connect-operator");
    let health = std::sync::Arc::new(telemetry::health::Health::new(health_deadline));
    let listener = telemetry::server::bind(args.http_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot bind the HTTP server to {}: {e}", args.http_addr))?;
    tokio::spawn(telemetry::server::serve(listener, health.clone()));
    // Before the CRDs and the Lease: every replica answers admission reviews, leader or not.
    if let Some(webhook) = args.webhook_settings() {
        webhook::start(client.clone(), webhook).await?;
    }

    crds_established(&client).await?;
    if let Some(selector) = &config.cluster_selector {
        shard_selector_valid(&client, selector).await?;
    }
    if args.leader_election {
        // Followers run no controllers and hold no caches: they are ready to take over as
        // soon as the CRDs are there. A leader stays ready from then on.
        health.set_ready();
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    let settings = args.lease_settings();
    // Without election, wait only as long as a dead replica's Lease takes to expire.
    let patience = (!args.leader_election).then(|| settings.duration * 3 / 2);
    let lease = match leader::Lease::acquire(&client, &settings, stopped(stop_rx.clone()), patience)
        .await
    {
        Ok(Some(lease)) => lease,
        Ok(None) => {
            tracing::info!("stopped before taking the Lease");
            return Ok(());
        }
        // RBAC from before this guard (no Lease rules): run as before, and say what is lost.
        Err(e) if patience.is_some() && leader::is_forbidden(&e) => {
            tracing::warn!(error = %e, lease = %settings.name, namespace = %settings.namespace,
                "may not use the Lease: a second replica started without --leader-election would not be detected");
            telemetry::metrics::METRICS.leader.set(1);
            controller::run(client, config, health, stopped(stop_rx)).await;
            tracing::info!("stopped");
            return Ok(());
        }
        Err(e) => {
            tracing::error!(error = %e, "not starting");
            return Err(e);
        }
    };
    let mut lease = lease;
    let mut config = config;
    if lease.taken_over {
        config.creates_after = Some(std::time::Instant::now() + leader::SETTLE);
    }
    if *stop_rx.borrow() {
        // SIGTERM while the Lease was being taken: hand it back rather than start.
        lease.release().await;
        tracing::info!("stopped before starting; released the leader Lease");
        return Ok(());
    }
    telemetry::metrics::METRICS.leader.set(1);
    let lost = lease.lost();
    let overdue = {
        let stop = stopped(stop_rx.clone());
        async move {
            stop.await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        }
    };
    // SIGTERM: stop gracefully (in-flight reconciles finish), within `SHUTDOWN_GRACE`. Lease
    // lost: stop at once, so that nothing more is written while another replica may already
    // be leader.
    tokio::select! {
        _ = controller::run(client, config, health, stopped(stop_rx)) => {},
        _ = overdue => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "reconciles still running after SIGTERM: stopping anyway");
        }
        _ = lost => {
            tracing::error!("Lease lost: stopping now so that only one replica acts");
            telemetry::metrics::METRICS.leader.set(0);
            anyhow::bail!("lost the leader Lease");
        }
    }
    telemetry::metrics::METRICS.leader.set(0);
    // Released at once, so a successor need not wait for the Lease to expire.
    lease.release().await;
    tracing::info!("stopped and released the leader Lease");
    Ok(())
}

/// How long in-flight reconciles may run on after SIGTERM: the Lease must be released before
/// the kubelet's SIGKILL (`terminationGracePeriodSeconds: 30` in the chart and `deploy/`),
/// or a successor waits for it to expire. A reconcile cut short is one cut by a crash, which
/// every write is made to survive (the write-ahead of one-shot requests).
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Waits (bounded) until both CRDs are Established: reconciling before would only log errors.
/// Polls with GET by name rather than a watch, so RBAC can stay `get` on these two names.
async fn crds_established(client: &kube::Client) -> anyhow::Result<()> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: kube::Api<CustomResourceDefinition> = kube::Api::all(client.clone());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    for name in [
        "kafkaconnectors.kafkaconnect.dev",
        "kafkaconnectclusters.kafkaconnect.dev",
    ] {
        loop {
            let crd = api.get_opt(name).await?;
            let established = crd
                .and_then(|c| c.status)
                .and_then(|s| s.conditions)
                .is_some_and(|c| {
                    c.iter().any(|c| {
                        c.type_ == "Established" && c.status == crate::api::conditions::TRUE
                    })
                });
            if established {
                break;
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!("CRD {name} not Established after 120s: install crds/ first");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = tokio::signal::ctrl_c() => {},
    }
    tracing::info!("shutdown requested");
}

/// A selector the apiserver refuses would fail every watch, quietly and forever: ask once,
/// and stop with the apiserver's words.
async fn shard_selector_valid(client: &kube::Client, selector: &str) -> anyhow::Result<()> {
    let api: kube::Api<api::KafkaConnectCluster> = kube::Api::all(client.clone());
    let probe = kube::api::ListParams::default().labels(selector).limit(1);
    match api.list_metadata(&probe).await {
        Err(kube::Error::Api(e)) if e.code == 400 => Err(anyhow::anyhow!(
            "invalid --watch-label-selector {selector:?}: {}",
            e.message
        )),
        // Anything else (RBAC of a namespaced install, a blip) is for the watches to meet.
        _ => Ok(()),
    }
}
