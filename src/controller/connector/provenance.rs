//! Provenance (pure): whether this object created or adopted its connector, what adopting
//! makes of the one-shot requests in its spec, and whether deleting the object may delete the
//! connector. Status is the only record, and status can be lost while the object lives on (a
//! backup restore, a GitOps Replace, a re-creation after an Orphan delete): an object that
//! finds its connector already there without a provenance adopts it, and the ids in its spec
//! at that moment count as served, so the same manifest never stops, resets or restarts the
//! connector a second time.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::live::Live;
use super::offsets;
use super::report::Served;
use crate::api::connector::{
    KafkaConnectorSpec, KafkaConnectorStatus, OffsetsResult, OffsetsStatus, Provenance,
    ProvenanceHow,
};

/// An object with no provenance that sees its connector in Connect adopts it.
pub fn adopting(status: &KafkaConnectorStatus, live: Option<&Live>) -> bool {
    status.provenance.is_none() && live.is_some()
}

/// Records the adoption, and the spec's one-shot ids as served without sending them.
/// Returns what was taken as served, for the Event.
pub fn adopt(served: &mut Served, spec: &KafkaConnectorSpec, now: Timestamp) -> Vec<String> {
    served.provenance = Some(at(ProvenanceHow::Adopted, now));
    let mut taken = Vec::new();
    if let Some(r) = &spec.restart
        && served.last_restart_id.as_deref() != Some(r.id.as_str())
    {
        served.last_restart_id = Some(r.id.clone());
        taken.push(format!("restart {}", r.id));
    }
    let status = KafkaConnectorStatus {
        offsets: served.offsets.clone(),
        ..Default::default()
    };
    if let Some(request) = offsets::pending(spec, &status) {
        served.offsets = Some(OffsetsStatus {
            last_request_id: Some(request.id.clone()),
            result: Some(OffsetsResult::TakenAsServed),
            message: Some(TAKEN_AS_SERVED.into()),
            ..Default::default()
        });
        taken.push(format!("offsets {}", request.id));
    }
    taken
}

const TAKEN_AS_SERVED: &str = "in the spec when this object adopted an existing connector: counted as served, not sent; set a new spec.offsets.id to send it";

/// Records that this object's create made the connector (or found it made by its own retried
/// request, which Connect cannot tell from someone else's: then `Adopted`).
pub fn created(served: &mut Served, how: ProvenanceHow, now: Timestamp) {
    served.provenance = Some(at(how, now));
}

/// Deleting the object deletes the connector only when the object created or adopted it.
pub fn may_delete(status: Option<&KafkaConnectorStatus>) -> bool {
    status.is_some_and(|s| s.provenance.is_some())
}

fn at(how: ProvenanceHow, now: Timestamp) -> Provenance {
    Provenance {
        how,
        time: Time(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: serde_json::Value) -> KafkaConnectorSpec {
        let mut base = serde_json::json!({"clusterRef": {"name": "k"}, "class": "X"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn adopting_takes_the_specs_ids_as_served_and_keeps_served_ones() {
        let spec = spec(
            serde_json::json!({"restart": {"id": "r2"}, "offsets": {"id": "o1", "reset": true}}),
        );
        let mut served = Served::default();
        let taken = adopt(&mut served, &spec, Timestamp::UNIX_EPOCH);
        assert_eq!(taken, ["restart r2", "offsets o1"]);
        assert_eq!(served.last_restart_id.as_deref(), Some("r2"));
        let offsets = served.offsets.as_ref().unwrap();
        assert_eq!(offsets.last_request_id.as_deref(), Some("o1"));
        assert_eq!(offsets.result, Some(OffsetsResult::TakenAsServed));
        assert_eq!(
            served.provenance.as_ref().unwrap().how,
            ProvenanceHow::Adopted
        );

        // Already served (status kept its ids, only the provenance is new: an upgrade).
        let mut kept = served.clone();
        kept.provenance = None;
        kept.offsets.as_mut().unwrap().result = Some(OffsetsResult::Reset);
        assert!(adopt(&mut kept, &spec, Timestamp::UNIX_EPOCH).is_empty());
        assert_eq!(kept.offsets.unwrap().result, Some(OffsetsResult::Reset));
    }

    #[test]
    fn only_a_provenance_allows_a_delete() {
        assert!(!may_delete(None));
        assert!(!may_delete(Some(&KafkaConnectorStatus::default())));
        let mut served = Served::default();
        created(&mut served, ProvenanceHow::Created, Timestamp::UNIX_EPOCH);
        let mut status = KafkaConnectorStatus::default();
        served.write_into(&mut status);
        assert!(may_delete(Some(&status)));
    }
}
