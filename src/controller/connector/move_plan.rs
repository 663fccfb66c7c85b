//! What a move between Connect clusters does next (pure, no client): from what the old and
//! the new cluster show, and the last step `status.move` records. `moving.rs` reads both
//! sides, records each step before taking it, and carries it out.

use crate::api::connector::{DesiredState, MovePhase};
use crate::connect::Capabilities;
use crate::vocabulary::ConnectState;

/// How the connector looks on one side: absent, or in a state with its tasks settled or not.
#[derive(Clone, Debug, PartialEq)]
pub enum Side {
    Absent,
    /// Connect's state, and whether its tasks have followed it (none left once STOPPED).
    Present {
        state: ConnectState,
        settled: bool,
    },
}

/// What a move does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// It cannot go on; nothing is written (the words say why).
    Refuse(String),
    /// Stop the connector on the old cluster.
    StopOld,
    /// The old cluster stops it: look again.
    WaitOld,
    /// Create it STOPPED on the new cluster.
    Create,
    /// The new cluster has it, not settled STOPPED yet: look again.
    WaitNew,
    /// Copy the offsets from the old cluster to the new one (both STOPPED).
    CopyOffsets,
    /// Bring it to the desired state on the new cluster.
    Start,
    /// Delete it from the old cluster.
    RemoveOld,
    /// Nothing left to do: the connector lives on the new cluster.
    Done,
}

/// The next step of a move from what both sides show and the last step begun.
pub fn next(phase: Option<MovePhase>, old: &Side, new: &Side, desired: DesiredState) -> Step {
    let stopped = |s: &Side| {
        matches!(
            s,
            Side::Present {
                state: ConnectState::Stopped,
                settled: true
            }
        )
    };
    match phase {
        Some(MovePhase::RemovingOld) => match old {
            Side::Absent => Step::Done,
            Side::Present { .. } => Step::RemoveOld,
        },
        Some(MovePhase::Starting) => match (new, old) {
            (Side::Absent, _) => Step::Refuse(
                "the connector this move created on the new cluster is gone from it; its offsets are still on the old cluster, where it stays STOPPED: set clusterRef back to resume it there".into(),
            ),
            (Side::Present { state, .. }, _) if *state != desired.connect_state() => Step::Start,
            (_, Side::Present { .. }) => Step::RemoveOld,
            (_, Side::Absent) => Step::Done,
        },
        Some(MovePhase::Creating) => match new {
            Side::Absent if stopped(old) => Step::Create,
            Side::Absent => Step::StopOld,
            n if stopped(n) => Step::CopyOffsets,
            // Just created: its status is not written yet.
            Side::Present {
                state: ConnectState::Stopped | ConnectState::Unknown,
                ..
            } => Step::WaitNew,
            Side::Present { .. } => Step::Refuse(
                "the connector this move created STOPPED on the new cluster is no longer STOPPED there (someone else changed it): its offsets cannot be written; stop it there to let the move go on".into(),
            ),
        },
        None | Some(MovePhase::Stopping) => match (old, new) {
            (_, Side::Present { .. }) => Step::Refuse(
                "a connector of this name already exists on the new cluster, and this object did not create it: nothing was moved; delete that connector, or name this one differently".into(),
            ),
            // Gone from the old cluster (deleted out of band): nothing to stop or to read.
            (Side::Absent, Side::Absent) => Step::Done,
            (s, Side::Absent) if stopped(s) => Step::Create,
            (Side::Present { state: ConnectState::Stopped, .. }, Side::Absent) => Step::WaitOld,
            (Side::Present { .. }, Side::Absent) => Step::StopOld,
        },
    }
}

/// Why the workers cannot make the move, if they cannot: the old one must stop the connector
/// and report its offsets (3.5+), the new one create it STOPPED (3.7+) and take offsets (3.6+).
pub fn unsupported(old: Capabilities, new: Capabilities) -> Option<String> {
    if !(old.stop() && old.read_offsets()) {
        return Some(format!(
            "the old cluster runs {old}: stopping a connector and reading its offsets need Connect 3.5 or later, so it cannot be moved with its offsets; nothing was changed"
        ));
    }
    if !(new.initial_state() && new.offsets()) {
        return Some(format!(
            "the new cluster runs {new}: creating a connector STOPPED (to write its offsets before it starts) needs Connect 3.7 or later; nothing was changed. Move it to a newer cluster, or delete and re-create it"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(state: &str, settled: bool) -> Side {
        Side::Present {
            state: ConnectState::parse(state),
            settled,
        }
    }

    const RUNNING: DesiredState = DesiredState::Running;

    #[test]
    fn a_move_goes_stop_create_copy_start_remove_done() {
        use MovePhase::*;
        let absent = Side::Absent;
        // Not begun: the old one runs.
        assert_eq!(
            next(None, &at("RUNNING", true), &absent, RUNNING),
            Step::StopOld
        );
        // Stop sent, not settled yet (tasks still there).
        assert_eq!(
            next(Some(Stopping), &at("STOPPED", false), &absent, RUNNING),
            Step::WaitOld
        );
        assert_eq!(
            next(Some(Stopping), &at("STOPPED", true), &absent, RUNNING),
            Step::Create
        );
        // Created (recorded first), not there yet: create again (a 409 then adopts it).
        assert_eq!(
            next(Some(Creating), &at("STOPPED", true), &absent, RUNNING),
            Step::Create
        );
        assert_eq!(
            next(
                Some(Creating),
                &at("STOPPED", true),
                &at("STOPPED", true),
                RUNNING
            ),
            Step::CopyOffsets
        );
        assert_eq!(
            next(
                Some(Starting),
                &at("STOPPED", true),
                &at("STOPPED", true),
                RUNNING
            ),
            Step::Start
        );
        assert_eq!(
            next(
                Some(Starting),
                &at("STOPPED", true),
                &at("RUNNING", false),
                RUNNING
            ),
            Step::RemoveOld
        );
        assert_eq!(
            next(
                Some(RemovingOld),
                &at("STOPPED", true),
                &at("RUNNING", true),
                RUNNING
            ),
            Step::RemoveOld
        );
        assert_eq!(
            next(Some(RemovingOld), &absent, &at("RUNNING", true), RUNNING),
            Step::Done
        );
    }

    #[test]
    fn a_restart_repeats_at_most_the_step_it_was_in() {
        use MovePhase::*;
        // Deleted from the old cluster, status not written yet: done, nothing written again.
        assert_eq!(
            next(Some(Starting), &Side::Absent, &at("RUNNING", true), RUNNING),
            Step::Done
        );
        // Started with the desired state STOPPED: nothing to start, the offsets are not
        // written again (the phase says they were).
        let stopped = DesiredState::Stopped;
        assert_eq!(
            next(
                Some(Starting),
                &at("STOPPED", true),
                &at("STOPPED", true),
                stopped
            ),
            Step::RemoveOld
        );
        // Someone resumed the old one after the stop: stopped again before the create.
        assert_eq!(
            next(Some(Creating), &at("RUNNING", true), &Side::Absent, RUNNING),
            Step::StopOld
        );
    }

    #[test]
    fn a_connector_this_move_did_not_create_is_never_taken() {
        for phase in [None, Some(MovePhase::Stopping)] {
            let step = next(phase, &at("RUNNING", true), &at("RUNNING", true), RUNNING);
            assert!(
                matches!(step, Step::Refuse(ref w) if w.contains("did not create")),
                "{step:?}"
            );
        }
        // Ours, but someone resumed it before the offsets were written.
        let step = next(
            Some(MovePhase::Creating),
            &at("STOPPED", true),
            &at("RUNNING", true),
            RUNNING,
        );
        assert!(matches!(step, Step::Refuse(_)), "{step:?}");
        // Gone from the old cluster before anything was done: nothing to move.
        assert_eq!(
            next(None, &Side::Absent, &Side::Absent, RUNNING),
            Step::Done
        );
    }

    #[test]
    fn workers_too_old_for_a_move_are_named() {
        let v = Capabilities::from_version;
        assert!(unsupported(v("4.3.1"), v("3.7.0")).is_none());
        assert!(unsupported(v("3.6.2"), v("4.3.1")).is_none());
        let to_old = unsupported(v("4.3.1"), v("3.6.2")).unwrap();
        assert!(to_old.contains("3.7 or later"), "{to_old}");
        let from_old = unsupported(v("3.4.1"), v("4.3.1")).unwrap();
        assert!(from_old.contains("3.5 or later"), "{from_old}");
    }
}
