//! Write-ahead for one-shot requests (pure): the marker written to
//! `status.requestInFlight` before a restart or an offsets change is sent, and what a
//! marker found later (its answer never recorded) makes of the request: served, with an
//! unknown outcome, never sent a second time.

use super::offsets;
use super::report::Served;
use crate::api::connector::OffsetsResult;

pub const OWED_RESTART: &str = "owed restart";
pub const AUTO_RESTART: &str = "auto restart";

pub fn restart(id: &str) -> String {
    format!("restart {id}")
}

pub fn offsets(id: &str) -> String {
    format!("offsets {id}")
}

const UNCONFIRMED: &str =
    "sent, but its answer was never recorded: not sent again (set a new id to send another)";

/// Settles a marker left in status: the request it names counts as served.
pub fn settle(marker: &str, served: &mut Served) {
    if let Some(id) = marker.strip_prefix("restart ") {
        served.last_restart_id = Some(id.to_string());
        served.last_restart_error = Some(format!("restart {id} {UNCONFIRMED}"));
    } else if let Some(id) = marker.strip_prefix("offsets ") {
        let message = Some(UNCONFIRMED.to_string());
        served.offsets = Some(offsets::served(
            id,
            OffsetsResult::Unconfirmed,
            message,
            None,
        ));
    } else if marker == OWED_RESTART {
        served.restart_owed = None;
    }
    // AUTO_RESTART: its count and time were written with the marker.
    served.request_in_flight = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_left_behind_counts_as_served() {
        let mut served = Served {
            request_in_flight: Some(restart("r1")),
            restart_owed: Some("owed".into()),
            ..Default::default()
        };
        settle(&restart("r1"), &mut served);
        assert_eq!(served.last_restart_id.as_deref(), Some("r1"));
        assert!(
            served
                .last_restart_error
                .unwrap()
                .contains("not sent again")
        );
        assert_eq!(served.request_in_flight, None);
        assert_eq!(served.restart_owed.as_deref(), Some("owed"));

        let mut served = Served::default();
        settle(&offsets("o1"), &mut served);
        let o = served.offsets.unwrap();
        assert_eq!(o.last_request_id.as_deref(), Some("o1"));
        assert_eq!(o.result, Some(OffsetsResult::Unconfirmed));

        let mut served = Served {
            restart_owed: Some("owed".into()),
            ..Default::default()
        };
        settle(OWED_RESTART, &mut served);
        assert_eq!(served.restart_owed, None);
    }
}
