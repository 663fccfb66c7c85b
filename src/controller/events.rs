//! Kubernetes Events about what the operator did or why it failed. Reasons and actions come
//! only from `vocabulary`; notes are masked by their authors and capped here under the API's
//! limit.
//!
//! Repeats are one Event with a growing `series.count` (as kubectl shows "x12 over 5m"), and a
//! Warning for the same object, reason and action is written at most once a minute: a
//! connector failing every few seconds costs the apiserver one write a minute, and the count
//! still tells how often it happened (repeats between writes are counted in the next one).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::error::Error;
use crate::vocabulary::{EventAction, EventReason};

/// events.k8s.io/v1 refuses a note over 1 kB.
const NOTE_MAX_CHARS: usize = 1000;

/// The same Warning about the same object is written at most this often.
pub const WARNING_EVERY: Duration = Duration::from_secs(60);

/// A series not seen for this long is forgotten (a later repeat starts a new Event).
const SERIES_TTL: Duration = Duration::from_secs(6 * 60);

/// One Event to publish: what happened, in words a reader of `kubectl get events` can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub warning: bool,
    pub reason: &'static str,
    pub action: EventAction,
    pub text: String,
}

impl Note {
    pub fn normal(reason: EventReason, action: EventAction, text: String) -> Self {
        Self {
            warning: false,
            reason: reason.as_str(),
            action,
            text,
        }
    }

    pub fn warning(reason: EventReason, action: EventAction, text: String) -> Self {
        Self {
            warning: true,
            ..Self::normal(reason, action, text)
        }
    }

    /// A Warning named after the error's stable reason; `text` must already be masked.
    pub fn failure(error: &Error, action: EventAction, text: String) -> Self {
        Self {
            warning: true,
            reason: error.reason().as_str(),
            action,
            text,
        }
    }
}

/// Publishes `note` about `obj`. A failure is only logged: Events are a courtesy to
/// readers and must never fail a reconcile.
pub async fn publish<K: kube::Resource<DynamicType = ()>>(
    recorder: &Recorder,
    obj: &K,
    note: Note,
) {
    if let Err(e) = recorder.publish(note, obj.object_ref(&())).await {
        tracing::debug!(error = %e, "publishing an event failed");
    }
}

/// (object uid, warning, reason, action): what makes two notes one series.
type SeriesKey = (String, bool, &'static str, EventAction);

struct Series {
    /// The Event's name and namespace, once created.
    name: String,
    namespace: String,
    count: i32,
    last_seen: Instant,
    last_written: Instant,
}

/// What to do with one more occurrence of a series.
#[derive(Debug, PartialEq, Eq)]
enum Write {
    Create,
    Patch {
        count: i32,
    },
    /// Counted only; the next write carries the count.
    Skip,
}

/// Decides for one occurrence at `now`, updating `series` (`None`: no series yet).
fn pace(series: Option<&mut Series>, warning: bool, now: Instant) -> Write {
    let Some(s) = series else {
        return Write::Create;
    };
    s.count += 1;
    s.last_seen = now;
    if warning && now.duration_since(s.last_written) < WARNING_EVERY {
        return Write::Skip;
    }
    s.last_written = now;
    Write::Patch { count: s.count }
}

/// Writes Events under the operator's name (`reportingController`), one series per object,
/// reason and action.
pub struct Recorder {
    client: Client,
    controller: String,
    instance: String,
    series: Mutex<HashMap<SeriesKey, Series>>,
}

impl Recorder {
    pub fn new(client: Client, controller: &str, instance: Option<String>) -> Self {
        Self {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
            series: Mutex::default(),
        }
    }

    pub async fn publish(&self, note: Note, regarding: ObjectReference) -> kube::Result<()> {
        let now = Instant::now();
        let uid = regarding.uid.clone().unwrap_or_default();
        let key = (uid, note.warning, note.reason, note.action);
        let (write, existing) = {
            let mut all = self.series.lock().expect("events lock");
            all.retain(|_, s| now.duration_since(s.last_seen) < SERIES_TTL);
            let series = all.get_mut(&key);
            let write = pace(series, note.warning, now);
            let existing = all.get(&key).map(|s| (s.name.clone(), s.namespace.clone()));
            (write, existing)
        };
        match (write, existing) {
            (Write::Skip, _) => Ok(()),
            (Write::Patch { count }, Some((name, namespace))) => {
                let events: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
                let series = EventSeries {
                    count,
                    last_observed_time: MicroTime(jiff::Timestamp::now()),
                };
                let patch = json!({"series": series, "note": capped(&note.text)});
                events
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map(drop)
            }
            (_, _) => self.create(key, note, regarding, now).await,
        }
    }

    async fn create(
        &self,
        key: SeriesKey,
        note: Note,
        regarding: ObjectReference,
        now: Instant,
    ) -> kube::Result<()> {
        let namespace = regarding
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let stamp = jiff::Timestamp::now();
        let name = format!(
            "{}.{:x}",
            regarding.name.as_deref().unwrap_or(&self.controller),
            stamp.as_nanosecond()
        );
        let event = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            action: Some(note.action.as_str().into()),
            reason: Some(note.reason.into()),
            note: Some(capped(&note.text)),
            type_: Some(if note.warning { "Warning" } else { "Normal" }.into()),
            event_time: Some(MicroTime(stamp)),
            regarding: Some(regarding),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        };
        let events: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        events.create(&PostParams::default(), &event).await?;
        let series = Series {
            name,
            namespace,
            count: 1,
            last_seen: now,
            last_written: now,
        };
        self.series.lock().expect("events lock").insert(key, series);
        Ok(())
    }
}

fn capped(text: &str) -> String {
    if text.chars().count() <= NOTE_MAX_CHARS {
        return text.to_string();
    }
    text.chars().take(NOTE_MAX_CHARS - 3).collect::<String>() + "..."
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(at: Instant) -> Series {
        Series {
            name: "e".into(),
            namespace: "ns".into(),
            count: 1,
            last_seen: at,
            last_written: at,
        }
    }

    #[test]
    fn a_repeated_warning_is_written_once_a_minute_and_counted() {
        let t0 = Instant::now();
        assert_eq!(pace(None, true, t0), Write::Create);
        let mut s = series(t0);
        // Every 9 s for a minute: counted, not written.
        for i in 1..=6 {
            let at = t0 + Duration::from_secs(9 * i);
            assert_eq!(pace(Some(&mut s), true, at), Write::Skip);
        }
        let at = t0 + WARNING_EVERY;
        assert_eq!(pace(Some(&mut s), true, at), Write::Patch { count: 8 });
        assert_eq!(
            pace(Some(&mut s), true, at + Duration::from_secs(1)),
            Write::Skip
        );
    }

    #[test]
    fn normal_events_are_written_each_time() {
        let t0 = Instant::now();
        let mut s = series(t0);
        let at = t0 + Duration::from_secs(1);
        assert_eq!(pace(Some(&mut s), false, at), Write::Patch { count: 2 });
    }

    #[test]
    fn notes_are_capped_under_the_apis_limit() {
        assert_eq!(capped("short"), "short");
        assert_eq!(capped(&"x".repeat(5000)).chars().count(), NOTE_MAX_CHARS);
    }
}
