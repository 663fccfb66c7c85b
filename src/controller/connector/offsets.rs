//! `spec.offsets` (pure): whether a request is pending, what serving it takes, and how its
//! outcome reads in status. Connect changes offsets only of a STOPPED connector without
//! tasks, so serving a request stops the connector first; the plan's state action then
//! restores `spec.state`.

use serde::{Deserialize, Serialize};

use crate::api::connector::{
    KafkaConnectorSpec, KafkaConnectorStatus, OffsetEntry, OffsetsResult, OffsetsStatus,
};
use crate::connect::types::{ConnectorOffset, ConnectorOffsets};

/// At most this many offsets are kept in status; `total` says how many Connect reported.
pub const STATUS_MAX_OFFSETS: usize = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "action"
)]
pub enum OffsetsAction {
    /// Stop if needed, then `DELETE .../offsets`.
    Reset { id: String },
    /// Stop if needed, then `PATCH .../offsets`.
    Alter { id: String },
}

impl OffsetsAction {
    pub fn id(&self) -> &str {
        match self {
            OffsetsAction::Reset { id } | OffsetsAction::Alter { id } => id,
        }
    }
}

/// The request in the spec whose id was not served yet.
pub fn pending<'a>(
    spec: &'a KafkaConnectorSpec,
    status: &KafkaConnectorStatus,
) -> Option<&'a crate::api::connector::OffsetsRequest> {
    let request = spec.offsets.as_ref()?;
    let served = status
        .offsets
        .as_ref()
        .and_then(|o| o.last_request_id.as_deref());
    (served != Some(request.id.as_str())).then_some(request)
}

/// Connect keeps a connector's offsets after it is deleted (source offsets under its name,
/// a sink's consumer group), so a reset applies to a connector created now as well: it is
/// created STOPPED, reset, then started.
pub fn action(spec: &KafkaConnectorSpec, status: &KafkaConnectorStatus) -> Option<OffsetsAction> {
    let request = pending(spec, status)?;
    let id = request.id.clone();
    Some(match request.reset {
        true => OffsetsAction::Reset { id },
        false => OffsetsAction::Alter { id },
    })
}

/// Connect's offsets as status shows them: the first `STATUS_MAX_OFFSETS`, and the total.
pub fn served(
    id: &str,
    result: OffsetsResult,
    message: Option<String>,
    current: Option<ConnectorOffsets>,
) -> OffsetsStatus {
    let all = current.map(|c| c.offsets);
    OffsetsStatus {
        last_request_id: Some(id.to_string()),
        result: Some(result),
        message,
        total: all.as_ref().map(|a| a.len() as u32),
        current: all
            .unwrap_or_default()
            .into_iter()
            .take(STATUS_MAX_OFFSETS)
            .map(|o| OffsetEntry {
                partition: o.partition,
                offset: o.offset,
            })
            .collect(),
    }
}

/// The body of an alter request, from the spec's entries.
pub fn alter_body(entries: &[OffsetEntry]) -> ConnectorOffsets {
    ConnectorOffsets {
        offsets: entries
            .iter()
            .map(|e| ConnectorOffset {
                partition: e.partition.clone(),
                offset: e.offset.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_keeps_twenty_offsets_and_the_total() {
        let many = ConnectorOffsets {
            offsets: (0..25)
                .map(|i| ConnectorOffset {
                    partition: serde_json::Map::from_iter([("p".into(), i.into())]),
                    offset: None,
                })
                .collect(),
        };
        let st = served("r1", OffsetsResult::Altered, None, Some(many));
        assert_eq!(st.current.len(), STATUS_MAX_OFFSETS);
        assert_eq!(st.total, Some(25));
        assert_eq!(st.last_request_id.as_deref(), Some("r1"));
    }
}
