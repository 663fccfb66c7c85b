//! Kubernetes Events about what the operator did or why it failed. Reasons come only from
//! `vocabulary`; notes are masked by their authors and capped here under the API's limit.

use kube::runtime::events::{Event, EventType};

use super::context::Context;
use crate::error::Error;
use crate::vocabulary::{EventAction, EventReason};

/// events.k8s.io/v1 refuses a note over 1 kB.
const NOTE_MAX_CHARS: usize = 1000;

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
pub async fn publish<K: kube::Resource<DynamicType = ()>>(ctx: &Context, obj: &K, note: Note) {
    let mut text = note.text;
    if text.chars().count() > NOTE_MAX_CHARS {
        text = text.chars().take(NOTE_MAX_CHARS - 3).collect::<String>() + "...";
    }
    let ev = Event {
        type_: if note.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: note.reason.into(),
        note: Some(text),
        action: note.action.as_str().into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&ev, &obj.object_ref(&())).await {
        tracing::debug!(error = %e, "publishing an event failed");
    }
}
