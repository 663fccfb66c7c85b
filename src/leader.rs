//! Leader election with a coordination.k8s.io Lease (kube-lease-manager). Only the leader
//! runs the controllers, so only the leader writes to Connect and to status; followers wait,
//! serve probes, and take over when the Lease expires or is released.
//!
//! Without `--leader-election` the same Lease guards against a second replica (`kubectl
//! scale --replicas=2`, two installs watching the same namespaces): the replica takes it but
//! does not wait as a follower. If another replica keeps renewing it, it refuses to start
//! (`AnotherReplica`) instead of running a second active controller beside the first.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease as K8sLease;
use kube::Api;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::task::JoinHandle;

use crate::config::{LeaseSettings, MANAGER};

pub struct Lease {
    manager: Arc<LeaseManager>,
    renew: JoinHandle<()>,
    lost: tokio::sync::oneshot::Receiver<()>,
    /// The Lease had a holder when this process first looked: a process that did not release
    /// it (this pod's previous container, killed; or a replica cut off), whose requests to
    /// Connect may still land.
    pub taken_over: bool,
}

/// How long after taking over an unreleased Lease no create is sent. A create the previous
/// holder sent just before it died can still be on its way: Connect answered creates in up
/// to 1.8 s on a loaded machine, and two creates of one name that reach it that close
/// together are both accepted (the second sees the config topic before the first is read
/// back), which writes the connector twice (seen in the fault suite's operator-kill case).
pub const SETTLE: Duration = Duration::from_secs(5);

impl Lease {
    /// Blocks until this replica holds the Lease (`Some`) or `stop` resolves first (`None`).
    /// With `patience`, gives up after that long with `AnotherReplica`: long enough for the
    /// Lease of a replica that died without releasing it (this one's previous process, after
    /// a SIGKILL, unless it has the same `POD_NAME`) to expire.
    pub async fn acquire(
        client: &kube::Client,
        settings: &LeaseSettings,
        stop: impl Future<Output = ()>,
        patience: Option<Duration>,
    ) -> anyhow::Result<Option<Lease>> {
        let namespace = settings.namespace.clone();
        let identity = std::env::var("POD_NAME")
            .unwrap_or_else(|_| format!("kco-{:08x}", rand::random::<u32>()));
        let duration = settings.duration.as_secs().max(3);
        let build = || {
            LeaseManagerBuilder::new(client.clone(), &settings.name)
                .with_namespace(&namespace)
                .with_identity(&identity)
                .with_duration(duration)
                // The manager renews `grace` before expiry: a third of the way in, well before
                // the renewal watchdog's deadline (`safe_for`), so the two never race.
                .with_grace(duration - renew_after(duration))
                .with_field_manager(MANAGER)
                .build()
        };
        let mut manager = build().await?;
        let leases: Api<K8sLease> = Api::namespaced(client.clone(), &namespace);
        let taken_over = holder(&leases, &settings.name).await != UNKNOWN_HOLDER;
        tracing::info!(lease = %settings.name, %namespace, %identity, "waiting to become leader");
        tokio::pin!(stop);
        let give_up = async {
            match patience {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(give_up);
        loop {
            tokio::select! {
                _ = &mut stop => return Ok(None),
                () = &mut give_up => {
                    let holder = holder(&leases, &settings.name).await;
                    return Err(AnotherReplica { holder, namespace: settings.namespace.clone(), name: settings.name.clone() }.into());
                }
                held = manager.changed() => {
                    if held? {
                        break;
                    }
                }
                // A follower's manager sleeps until the holder's Lease would expire; a holder
                // that shut down cleanly released it, so look and start over at once.
                () = released(&leases, &settings.name) => manager = build().await?,
            }
        }
        let manager = Arc::new(manager);
        tracing::info!(lease = %settings.name, %identity, "became leader");
        let (lost_tx, lost) = tokio::sync::oneshot::channel();
        let renew = spawn_renewal(
            manager.clone(),
            leases,
            settings.name.clone(),
            identity,
            duration,
            patience.is_none(),
            lost_tx,
        );
        if taken_over {
            tracing::info!(settle = ?SETTLE, "the Lease was not released by its last holder: no create is sent until its last requests have landed");
        }
        Ok(Some(Lease {
            manager,
            renew,
            lost,
            taken_over,
        }))
    }

    /// Resolves when the Lease is lost (another replica holds it now).
    pub fn lost(&mut self) -> impl Future<Output = ()> + Send + Sync + 'static {
        let (_, dummy) = tokio::sync::oneshot::channel::<()>();
        let rx = std::mem::replace(&mut self.lost, dummy);
        async move {
            let _ = rx.await;
        }
    }

    pub async fn release(self) {
        self.renew.abort();
        if let Err(e) = self.manager.release().await {
            tracing::warn!(error = %e, "releasing the leader Lease failed");
        }
    }
}

/// The shortest wait for a look at the Lease (a look right at the deadline still gets this).
const LOOK_MIN: Duration = Duration::from_millis(200);

/// Seconds after a renewal that the manager renews again.
fn renew_after(duration: u64) -> u64 {
    (duration / 3).max(1)
}

/// How long the Lease may go without a renewal before it counts as lost: past this, another
/// replica may hold it soon (the duration minus a margin), and it is well after the next
/// renewal was due (`renew_after`).
fn safe_for(duration: u64) -> Duration {
    Duration::from_secs(duration - (duration / 3).max(1))
}

/// Renews the Lease in the background (`changed()` renews while it runs) and sends on
/// `lost` once it is held by another replica, or, when `fenced` (leader election: a follower
/// is waiting), may be. Unfenced (one replica, no election) an apiserver outage is not a loss:
/// no follower waits to take over, and stopping would only stop the operator.
fn spawn_renewal(
    manager: Arc<LeaseManager>,
    leases: Api<K8sLease>,
    lease_name: String,
    me: String,
    duration: u64,
    fenced: bool,
    lost: tokio::sync::oneshot::Sender<()>,
) -> JoinHandle<()> {
    let safe = safe_for(duration);
    // One `changed()` runs for as long as the Lease is held: it renews inside, and returns
    // only when the state flips. It is never cancelled by the watchdog below (a renewal cut
    // off mid-request once left a leader that never renewed again).
    let next_change = |m: Arc<LeaseManager>| Box::pin(async move { m.changed().await });
    tokio::spawn(async move {
        let mut last_ok = tokio::time::Instant::now();
        let mut change = next_change(manager.clone());
        loop {
            let watch = match fenced {
                true => safe.saturating_sub(last_ok.elapsed()).max(LOOK_MIN),
                false => safe,
            };
            tokio::select! {
                result = &mut change => {
                    match result {
                        Ok(true) => last_ok = tokio::time::Instant::now(),
                        Ok(false) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "renewing the Lease failed");
                            if fenced && last_ok.elapsed() >= safe {
                                break;
                            }
                            // Fenced, every moment counts toward the deadline; unfenced (a
                            // lone replica whose Lease namespace may even be gone) it only
                            // costs log lines.
                            let pause = if fenced { 500 } else { 5_000 };
                            tokio::time::sleep(Duration::from_millis(pause)).await;
                        }
                    }
                    change = next_change(manager.clone());
                }
                () = tokio::time::sleep(watch), if fenced => {
                    // `changed()` returns only on a flip, so look at the Lease itself: still
                    // ours and renewed recently means the renewals inside `changed()` work.
                    // The look is bounded too: cut off from the apiserver, a read hangs for
                    // minutes, and the Lease must count as lost before it can expire.
                    let left = safe.saturating_sub(last_ok.elapsed());
                    let look = still_held(&leases, &lease_name, &me);
                    if let Ok(Some(age)) = tokio::time::timeout(left.max(LOOK_MIN), look).await {
                        let now = tokio::time::Instant::now();
                        last_ok = now.checked_sub(age).unwrap_or(last_ok);
                    }
                    if last_ok.elapsed() >= safe {
                        break;
                    }
                }
            }
        }
        let _ = lost.send(());
    })
}

/// Why a replica without `--leader-election` does not start.
#[derive(Debug, thiserror::Error)]
#[error(
    "another replica of the operator ({holder}) holds the Lease {namespace}/{name} and keeps renewing it: two replicas without --leader-election would both write to Connect and to status. Run one replica, or run every replica with --leader-election"
)]
pub struct AnotherReplica {
    pub holder: String,
    pub namespace: String,
    pub name: String,
}

/// Whether `e` says the Lease may not be read or written (403: RBAC without the Lease rules).
pub fn is_forbidden(e: &anyhow::Error) -> bool {
    e.chain().any(
        |c| matches!(c.downcast_ref::<kube::Error>(), Some(kube::Error::Api(s)) if s.code == 403),
    )
}

const UNKNOWN_HOLDER: &str = "holder unknown";

/// Who holds the Lease, as far as one read can tell.
async fn holder(leases: &Api<K8sLease>, name: &str) -> String {
    let spec = leases
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec);
    spec.and_then(|s| s.holder_identity)
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| UNKNOWN_HOLDER.into())
}

/// Resolves once the Lease exists with no holder (polled every second).
async fn released(leases: &Api<K8sLease>, name: &str) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(Some(lease)) = leases.get_opt(name).await {
            let holder = lease
                .spec
                .and_then(|s| s.holder_identity)
                .unwrap_or_default();
            if holder.is_empty() {
                return;
            }
        }
    }
}

/// How long ago the Lease was renewed, if `identity` holds it; `None` if not (or unreadable).
async fn still_held(leases: &Api<K8sLease>, name: &str, identity: &str) -> Option<Duration> {
    let spec = leases.get_opt(name).await.ok()??.spec?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed = spec.renew_time?.0;
    let age = jiff::Timestamp::now().duration_since(renewed);
    Duration::try_from(age).ok()
}
