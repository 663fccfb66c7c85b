//! The fetch step: everything a KafkaConnector reconcile reads from Kubernetes and Connect,
//! gathered into one `Snapshot` — the desired config, the status we last wrote, the cluster
//! handle (credentials resolved), the ownership claims, and the live connector. When
//! something stops the reconcile before Connect is read, the snapshot says why instead.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kube::ResourceExt;

use super::attach::cluster_handle;
use super::config_values::{self, ConfigValues};
use super::desired::desired_config;
use super::live::Live;
use super::observe::read_connector;
use super::offsets;
use super::verdict::Finding;
use crate::api::KafkaConnector;
use crate::api::conditions::READY;
use crate::api::connector::{KafkaConnectorStatus, ValidationError, spec_errors};
use crate::connect::Capabilities;
use crate::connect::types::{ConnectorOffsets, ExpandedConnector};
use crate::controller::cluster_handle::{ClusterHandle, Lookup, Reach};
use crate::controller::context::Context;
use crate::controller::events::Note;
use crate::error::{Error, Result};
use crate::mask::Masks;
use crate::vocabulary::{EventAction, Reason};

pub struct Snapshot {
    /// The connector's name in Connect.
    pub name: String,
    /// The config as Connect would store it, `configFrom` values included once resolved.
    pub desired: BTreeMap<String, String>,
    /// What to hide in everything written: secret-like config values and Secret values.
    pub masks: Masks,
    /// The offsets of a pending alter request (inline or from its ConfigMap).
    pub alter_offsets: Option<ConnectorOffsets>,
    /// The status we last wrote (see `memory.rs`), else the object's.
    pub prev: KafkaConnectorStatus,
    pub seen: Seen,
}

pub enum Seen {
    /// Connect was read: the connector (`None` when Connect does not have it), and what
    /// the worker's version can do.
    Live {
        handle: Arc<ClusterHandle>,
        live: Option<Live>,
        capabilities: Capabilities,
    },
    /// Connect was not read, or could not be.
    Blocked(Blocked),
    /// The cluster's first poll has not answered yet: nothing to say, nothing to do (the
    /// poll's answer wakes this connector).
    NotPolledYet,
}

/// How long a reconcile waits for a new handle's first poll before it steps aside.
const FIRST_POLL_WAIT: Duration = Duration::from_secs(2);

pub struct Blocked {
    pub finding: Finding,
    /// What the schema could not refuse, for `status.validationErrors`.
    pub validation_errors: Vec<ValidationError>,
    /// A Warning Event to publish (already masked).
    pub note: Option<Note>,
}

impl Blocked {
    fn by(finding: Finding) -> Self {
        Self {
            finding,
            validation_errors: Vec::new(),
            note: None,
        }
    }
}

pub async fn gather(obj: &KafkaConnector, ctx: &Context) -> Result<Snapshot> {
    let name = obj.connector_name();
    let prev = ctx.memory.last_status(obj);
    let mut desired = desired_config(&obj.spec, &name);
    let mut masks = Masks::of_config(&desired);
    let mut alter_offsets = None;
    let seen = match inputs(obj, ctx, &prev).await? {
        Err(blocked) => Seen::Blocked(blocked),
        Ok((values, offsets)) => {
            desired.extend(values.values);
            masks = Masks::of_config(&desired).with(values.secret);
            alter_offsets = offsets;
            let seen = look(obj, ctx, &name, &masks, &prev).await?;
            // What Connect stores may hold older secrets (before a password change): an
            // error echoing one must not show it either.
            if let Seen::Live { live: Some(l), .. } = &seen {
                let from_secrets = obj
                    .spec
                    .config_from
                    .iter()
                    .filter(|f| f.value_from.secret_key_ref.is_some());
                let old: Vec<String> = from_secrets
                    .filter_map(|f| l.config.get(&f.key).cloned())
                    .collect();
                masks = masks.and(&Masks::of_config(&l.config)).with(old);
            }
            seen
        }
    };
    Ok(Snapshot {
        name,
        desired,
        masks,
        alter_offsets,
        prev,
        seen,
    })
}

/// What the spec needs besides itself: no errors the schema could not catch, and every
/// `configFrom` value (all or nothing).
async fn inputs(
    obj: &KafkaConnector,
    ctx: &Context,
    prev: &KafkaConnectorStatus,
) -> Result<std::result::Result<(ConfigValues, Option<ConnectorOffsets>), Blocked>> {
    let errors = spec_errors(&obj.spec);
    if !errors.is_empty() {
        return Ok(Err(Blocked {
            validation_errors: errors,
            ..Blocked::by(Finding::InvalidSpec)
        }));
    }
    let ns = obj.namespace().unwrap_or_default();
    let read = async {
        let name = obj.name_any();
        let opt_in = (!ctx.admission.installed()).then_some(name.as_str());
        let values =
            config_values::resolve(&ctx.client, &ns, &obj.spec.config_from, opt_in).await?;
        let offsets = match offsets::pending(&obj.spec, prev) {
            Some(r) if !r.reset => Some(config_values::alter_offsets(&ctx.client, &ns, r).await?),
            _ => None,
        };
        Ok::<_, Error>((values, offsets))
    };
    match read.await {
        Ok(found) => Ok(Ok(found)),
        Err(e) if e.is_missing_setup() => Ok(Err(Blocked::by(Finding::Missing {
            reason: e.reason(),
            message: e.to_string(),
        }))),
        Err(e) => Err(e),
    }
}

/// Cluster, ownership, then Connect: the first that stops the reconcile wins.
async fn look(
    obj: &KafkaConnector,
    ctx: &Context,
    name: &str,
    masks: &Masks,
    prev: &KafkaConnectorStatus,
) -> Result<Seen> {
    let handle = match cluster_handle(obj, ctx).await {
        Ok(h) => h,
        Err(e) if e.is_missing_setup() => {
            let (reason, message) = (e.reason(), e.to_string());
            return Ok(Seen::Blocked(Blocked::by(Finding::Missing {
                reason,
                message,
            })));
        }
        Err(e) => return Err(e),
    };
    match handle.view.reach(FIRST_POLL_WAIT).await {
        Reach::Up => {}
        Reach::Unknown => return Ok(Seen::NotPolledYet),
        Reach::Down(reason, error) => {
            let blocked = cluster_down(&handle.url, reason, &error, masks, prev);
            return Ok(Seen::Blocked(blocked));
        }
    }
    // Only now: which other URLs reach the same Connect group is learnt from the polls'
    // worker ids, so before this cluster's first poll a claim made through another URL of
    // the group would go unseen (and the connector would be taken over with a PUT).
    if let Some(owner) = ctx.with_caches(|c| c.conflicting_owner(obj, &handle.url)) {
        return Ok(Seen::Blocked(Blocked::by(Finding::Conflict {
            connector: name.to_string(),
            url: handle.url.clone(),
            owner,
        })));
    }
    let read = async {
        let capabilities = capabilities(&handle).await?;
        // Absent right after our own create proves nothing (see `CREATE_SETTLE`): read directly.
        let owes = owes_once(obj, prev) || ctx.memory.created_lately(obj);
        Ok::<_, Error>((read_live(&handle, name, owes).await?, capabilities))
    };
    match read.await {
        // Not even there when asked directly, yet created moments ago: Connect has not caught
        // up with its own create. Wait for it rather than create it a second time.
        Ok((None, _)) if ctx.memory.created_lately(obj) => Ok(Seen::NotPolledYet),
        Ok((live, capabilities)) => Ok(Seen::Live {
            handle,
            live,
            capabilities,
        }),
        Err(e) if e.is_transient() || matches!(e, Error::Unauthorized(_)) => {
            let message = masks.shown(&e.to_string());
            Ok(Seen::Blocked(Blocked {
                note: Some(Note::failure(&e, EventAction::Read, message.clone())),
                ..Blocked::by(Finding::Unreadable {
                    reason: e.reason(),
                    message,
                })
            }))
        }
        Err(e) => Err(e),
    }
}

/// The last bulk poll failed: nothing is asked of Connect. One Warning when the connector
/// learns of it, not one per requeue.
fn cluster_down(
    url: &str,
    reason: Reason,
    error: &str,
    masks: &Masks,
    prev: &KafkaConnectorStatus,
) -> Blocked {
    let message = format!(
        "the last poll of Connect at {url} failed ({error}); nothing is asked of Connect until a poll answers"
    );
    let message = masks.shown(&message);
    let known = prev
        .conditions
        .iter()
        .any(|c| c.type_ == READY && c.reason == reason.as_str());
    let note = (!known).then(|| Note {
        warning: true,
        reason: reason.as_str(),
        action: EventAction::Read,
        text: message.clone(),
    });
    Blocked {
        note,
        ..Blocked::by(Finding::ClusterDown { reason, message })
    }
}

/// What the worker can do, from `GET /` once per handle (the cluster reconcile refreshes it).
pub async fn capabilities(handle: &ClusterHandle) -> Result<Capabilities> {
    if let Some(c) = handle.info.capabilities() {
        return Ok(c);
    }
    let info = handle.client.server_info().await?;
    let c = Capabilities::from_version(&info.version);
    handle.info.set_capabilities(c);
    Ok(c)
}

/// The connector as Connect shows it, from the bulk view whenever it knows: an entry (its
/// status may not exist yet, right after a create), or absent from a successful poll (a
/// create then answered 409 "already exists" adopts it). Per-connector reads only when the
/// view cannot say, and to confirm an absence that would change what was served once.
async fn read_live(handle: &ClusterHandle, name: &str, owes: bool) -> Result<Option<Live>> {
    match handle.view.lookup(name) {
        Lookup::Listed(entry) if entry.info.is_some() => {
            let ExpandedConnector { info, status } = *entry;
            Ok(info.map(|info| Live::from_info(info, status)))
        }
        Lookup::Absent if !owes => Ok(None),
        Lookup::Absent | Lookup::Listed(_) | Lookup::Unknown => {
            read_connector(&handle.client, name).await
        }
    }
}

/// Whether this object has something to serve once (a restart id, an owed restart, an
/// offsets request): then an absence seen in one bulk poll is not proof enough to decide on
/// (a create records the restart id as served without restarting anything).
fn owes_once(obj: &KafkaConnector, prev: &KafkaConnectorStatus) -> bool {
    let restart = obj.spec.restart.as_ref();
    restart.is_some_and(|r| prev.last_restart_id.as_deref() != Some(r.id.as_str()))
        || prev.restart_owed.is_some()
        || offsets::pending(&obj.spec, prev).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absence_is_confirmed_only_when_something_is_owed_once() {
        let mut obj: KafkaConnector = serde_json::from_value(serde_json::json!({
            "apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
            "metadata": {"name": "c"},
            "spec": {"clusterRef": {"name": "k"}, "class": "X"}}))
        .unwrap();
        let mut prev = KafkaConnectorStatus::default();
        assert!(!owes_once(&obj, &prev));
        obj.spec.restart = serde_json::from_value(serde_json::json!({"id": "r1"})).unwrap();
        assert!(owes_once(&obj, &prev), "a restart id not served yet");
        prev.last_restart_id = Some("r1".into());
        assert!(!owes_once(&obj, &prev));
        prev.restart_owed = Some("owed".into());
        assert!(owes_once(&obj, &prev), "an owed restart");
    }
}
