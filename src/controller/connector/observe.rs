//! Reading one connector straight from Connect, and sharing what was read: fetch does it when
//! the cluster's bulk view cannot say, the observe step after acting reads the connector
//! back so the verdict (and the next reconcile, through the view) sees what the writes did,
//! and reads its topics when they are due.

use std::collections::BTreeMap;

use super::act;
use super::desired::drift;
use super::live::Live;
use crate::api::KafkaConnector;
use crate::api::connector::KafkaConnectorStatus;
use crate::connect::ConnectClient;
use crate::connect::types::{ConnectorInfo, ConnectorTaskId, ExpandedConnector};
use crate::controller::cluster_handle::ClusterHandle;
use crate::controller::context::Context;
use crate::error::{Error, Result};
use crate::mask::Masks;

/// `GET /connectors/{name}` and `GET .../status` of one connector: `None` when Connect does
/// not have it; no status right after creation, before the connector started.
pub async fn read_connector(client: &ConnectClient, name: &str) -> Result<Option<Live>> {
    let info = match client.get(name).await {
        Ok(i) => i,
        Err(Error::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let status = match client.status(name).await {
        Ok(s) => Some(s),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Some(Live::from_info(info, status)))
}

/// What a reconcile that wrote to Connect sees afterwards.
pub struct Observed {
    /// The connector as read back, or as seen before acting when the read failed.
    pub live: Option<Live>,
    /// The read back failed: look again soon.
    pub stale: bool,
    /// The config read back is not the desired one: the plan was made from a view older than
    /// an out-of-band edit (or one raced this reconcile's writes). Look again soon: no watch
    /// event or changed poll entry would bring the reconcile that reverts it.
    pub drifted: bool,
}

/// After a write: reads the connector back and shares it with the next reconcile through
/// the cluster's view. The writes happened, so a failed read keeps `before` and says so
/// rather than failing the reconcile (and its bookkeeping). One attempt: on a real worker
/// a read right after a write meets the rebalance it set off, and waiting that out held
/// the reconcile's slot for seconds per connector in a rollout; a stale read is looked at
/// again soon instead.
pub async fn read_back(
    handle: &ClusterHandle,
    name: &str,
    before: Option<Live>,
    desired: &BTreeMap<String, String>,
    masks: &Masks,
) -> Observed {
    let (live, stale) = match read_connector(&handle.client.once(), name).await {
        Ok(l) => (l, false),
        Err(e) => {
            let error = masks.shown(&e.to_string());
            tracing::debug!(%error, "read-back failed");
            (before, true)
        }
    };
    share(handle, name, live, stale, desired)
}

/// After a create that was the reconcile's only write: Connect's answer to it is what a read
/// back would say (the config as stored, no status before the connector starts), so
/// nothing is read. An answer without a config (a proxy's, a distribution's) proves
/// nothing: then it is read back.
pub async fn created(
    handle: &ClusterHandle,
    name: &str,
    answer: ConnectorInfo,
    desired: &BTreeMap<String, String>,
    masks: &Masks,
) -> Observed {
    if answer.config.is_empty() {
        return read_back(handle, name, None, desired, masks).await;
    }
    share(
        handle,
        name,
        Some(Live::from_info(answer, None)),
        false,
        desired,
    )
}

/// Puts what was seen in the cluster's view, and says whether it drifted from `desired`.
fn share(
    handle: &ClusterHandle,
    name: &str,
    live: Option<Live>,
    stale: bool,
    desired: &BTreeMap<String, String>,
) -> Observed {
    // A failed read leaves nothing known: `before` is the connector as it was before this
    // reconcile wrote. An entry without info makes the next reconcile read it from Connect
    // rather than act again on that (a revert counted twice, say).
    let entry = match (stale, live.as_ref()) {
        (true, _) => Some(ExpandedConnector {
            status: None,
            info: None,
        }),
        (false, l) => l.map(|l| ExpandedConnector {
            status: l.status.clone(),
            info: Some(ConnectorInfo {
                name: name.to_string(),
                config: l.config.clone(),
                tasks: l
                    .tasks
                    .iter()
                    .map(|&task| ConnectorTaskId {
                        connector: name.to_string(),
                        task,
                    })
                    .collect(),
            }),
        }),
    };
    handle.set_entry(name, entry);
    let drifted = !stale
        && live
            .as_ref()
            .is_some_and(|l| !drift(desired, &l.config).is_empty());
    Observed {
        live,
        stale,
        drifted,
    }
}

/// Topics: when the live status moved (state, task count), else at most every
/// `--topics-refresh`, within the cluster's budget of such refreshes (idle cost flat in
/// the number of connectors). Not right after a write: a connector only just created or
/// reconfigured has used no new topic yet. `None`: not read (or the read failed), keep the
/// last list.
pub async fn topics(
    ctx: &Context,
    obj: &KafkaConnector,
    handle: &ClusterHandle,
    live: Option<&Live>,
    prev: &KafkaConnectorStatus,
) -> Option<Vec<String>> {
    let live = live?;
    let st = live.status.as_ref();
    // Moved to where topics are worth reading: every task running (a connector still
    // starting has used none yet).
    let moved = (st.map(|s| &s.connector.state) != prev.state.as_ref()
        || st.map_or(0, |s| s.tasks.len()) != shown_tasks(prev))
        && live.every_task_running();
    let due = || ctx.memory.topics_due(obj) && handle.pacing.topics_refresh_allowed();
    if !(moved || due()) {
        return None;
    }
    match act::topics(&handle.client, &obj.connector_name()).await {
        Ok(t) => {
            ctx.memory.mark_topics_read(obj, t.is_empty());
            Some(t)
        }
        Err(e) => {
            tracing::debug!(error = %e, "reading topics failed; keeping the last list");
            None
        }
    }
}

/// How many tasks the last status counted: those it lists and those it left out.
fn shown_tasks(prev: &KafkaConnectorStatus) -> usize {
    prev.tasks.len() + prev.tasks_omitted.unwrap_or(0) as usize
}
