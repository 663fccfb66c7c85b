//! Conditions in the Kubernetes convention, kstatus flavoured: `Ready` says whether the
//! object is where the spec wants it, `Reconciling` that the operator is getting it there,
//! `Stalled` that it cannot without someone changing something.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

use crate::vocabulary::Reason;

pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";
/// A condition's `status` words (the API's, not ours).
pub const TRUE: &str = "True";
pub const FALSE: &str = "False";

pub fn condition(
    type_: &str,
    status: bool,
    reason: Reason,
    message: impl Into<String>,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: if status { TRUE } else { FALSE }.into(),
        reason: reason.as_str().into(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time: Time(jiff::Timestamp::now()),
    }
}

/// Keeps `lastTransitionTime` of conditions whose status did not change, so that an
/// unchanged condition set compares equal and costs no write.
/// The first `at_most` of `names` for a condition's message, comma-separated, then how many
/// more there are: a message stays short however long the list.
pub fn some_of(names: &[String], at_most: usize) -> String {
    let shown = names
        .iter()
        .take(at_most)
        .map(String::as_str)
        .collect::<Vec<_>>();
    match names.len().saturating_sub(shown.len()) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

pub fn carry_transition_times(new: &mut [Condition], old: &[Condition]) {
    for c in new.iter_mut() {
        if let Some(prev) = old.iter().find(|o| o.type_ == c.type_)
            && prev.status == c.status
        {
            c.last_transition_time = prev.last_transition_time.clone();
        }
    }
}

/// A status with conditions: two such statuses compare equal when they differ only in the
/// conditions' timestamps, so that an unchanged status costs no write.
pub trait Conditioned: Clone + PartialEq {
    fn conditions(&self) -> &[Condition];
    fn conditions_mut(&mut self) -> &mut Vec<Condition>;

    fn same_ignoring_time(&self, other: &Self) -> bool {
        let (mut a, mut b) = (self.clone(), other.clone());
        let same = same_conditions(a.conditions(), b.conditions());
        a.conditions_mut().clear();
        b.conditions_mut().clear();
        same && a == b
    }
}

/// Conditions equal apart from timestamps.
fn same_conditions(a: &[Condition], b: &[Condition]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.type_ == y.type_
                && x.status == y.status
                && x.reason == y.reason
                && x.message == y.message
                && x.observed_generation == y.observed_generation
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_is_cut_and_counted() {
        let names: Vec<String> = (1..=7).map(|i| format!("ns/c{i}")).collect();
        assert_eq!(some_of(&names[..2], 5), "ns/c1, ns/c2");
        assert_eq!(
            some_of(&names, 5),
            "ns/c1, ns/c2, ns/c3, ns/c4, ns/c5 and 2 more"
        );
    }
    use crate::api::KafkaConnectorStatus;

    #[test]
    fn statuses_differing_only_in_timestamps_are_the_same() {
        let a = KafkaConnectorStatus {
            conditions: vec![condition(READY, true, Reason::Running, "ok", Some(1))],
            ..Default::default()
        };
        let mut b = a.clone();
        b.conditions[0].last_transition_time =
            Time(jiff::Timestamp::from_second(1).expect("a timestamp"));
        assert!(a.same_ignoring_time(&b));
        b.conditions[0].message = "changed".into();
        assert!(!a.same_ignoring_time(&b));
        let mut c = a.clone();
        c.tasks_ready = Some("1/1".into());
        assert!(!a.same_ignoring_time(&c));
    }
}
