//! The act step: one function per kind of write to Connect. Each does its REST calls and
//! returns what it did (the Event that says so, and what status must record); none touches
//! Kubernetes. `acting.rs` sequences them.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::live::settled_in;
use crate::api::connector::{OffsetsResult, ProvenanceHow, ValidationError};
use crate::connect::types::{ConfigInfos, ConnectorInfo, ConnectorOffsets};
use crate::connect::{ConnectClient, RestartOptions, StateAction};
use crate::controller::events::Note;
use crate::error::{Error, Result};
use crate::mask::Masks;
use crate::vocabulary::{ConnectState, EventAction, EventReason};

/// Per-key errors from `PUT /connector-plugins/{class}/config/validate`, masked. An unknown
/// class and similar refusals (Connect answers 500 with the reason) are an error on `class`.
pub async fn validate(
    client: &ConnectClient,
    class: &str,
    desired: &BTreeMap<String, String>,
    masks: &Masks,
) -> Result<Vec<ValidationError>> {
    let infos = match client.validate(class, desired).await {
        Ok(i) => i,
        Err(Error::Rejected(msg)) => {
            return Ok(vec![ValidationError {
                key: "class".into(),
                message: refusal(&masks.apply(&msg)),
            }]);
        }
        Err(e) => return Err(e),
    };
    Ok(validation_errors(infos, masks))
}

/// The per-key errors of a validate answer, masked. Errors counted but none described are
/// still a refusal, never a pass.
pub fn validation_errors(infos: ConfigInfos, masks: &Masks) -> Vec<ValidationError> {
    if infos.error_count == 0 {
        return Vec::new();
    }
    let mut errors: Vec<ValidationError> = infos
        .configs
        .into_iter()
        .filter_map(|c| c.value)
        .flat_map(|v| {
            let key = v.name;
            v.errors.into_iter().map(move |err| ValidationError {
                key: key.clone(),
                message: masks.about_key(&key, &err),
            })
        })
        .collect();
    if errors.is_empty() {
        errors.push(ValidationError {
            key: "config".into(),
            message: format!(
                "Connect counted {} validation error(s) without describing them",
                infos.error_count
            ),
        });
    }
    errors
}

/// `POST /connectors`, in `initial_state` where the worker takes it (else it starts
/// RUNNING); a 409 "already exists" after a retried create whose first attempt went through
/// is success. Also says whether this create made it (`Created`, with Connect's answer) or
/// found it (`Adopted`).
pub async fn create(
    client: &ConnectClient,
    name: &str,
    desired: &BTreeMap<String, String>,
    initial_state: Option<&ConnectState>,
) -> Result<(Note, ProvenanceHow, Option<ConnectorInfo>)> {
    let initial = initial_state.map(ConnectState::as_str);
    let (text, how, answer) = match client.create(name, desired, initial).await {
        Ok(answer) => {
            let how = initial.unwrap_or("RUNNING: this worker takes no initial state");
            let text = format!("created connector {name} ({how})");
            (text, ProvenanceHow::Created, Some(answer))
        }
        // Created by a retried request of ours, or out of band since the last poll: it is
        // read back now and its config compared with the spec like any adopted connector.
        Err(Error::AlreadyExists(_)) => (
            format!("connector {name} already existed: adopted"),
            ProvenanceHow::Adopted,
            None,
        ),
        Err(e) => return Err(e),
    };
    let note = Note::normal(EventReason::Created, EventAction::Create, text);
    Ok((note, how, answer))
}

/// `PUT .../config`; `why` says which keys changed (never their values).
pub async fn update_config(
    client: &ConnectClient,
    name: &str,
    desired: &BTreeMap<String, String>,
    why: &str,
) -> Result<Note> {
    client.put_config(name, desired).await?;
    let text = format!("updated the config of connector {name} ({why})");
    Ok(Note::normal(
        EventReason::ConfigUpdated,
        EventAction::Update,
        text,
    ))
}

/// Restarts the failed parts after a config change: Connect keeps a FAILED connector
/// FAILED until restarted, fixed config or not.
pub async fn restart_after_fix(client: &ConnectClient, name: &str) -> Result<Note> {
    client.restart(name, RestartOptions::FAILED_PARTS).await?;
    let text = "restarted failed parts after the config changed".to_string();
    Ok(Note::normal(
        EventReason::Restarted,
        EventAction::Restart,
        text,
    ))
}

/// Pause, resume or stop, then wait (bounded by `confirm`) until the status shows it.
/// Returns the Event and whether the change was confirmed.
pub async fn change_state(
    client: &ConnectClient,
    name: &str,
    action: StateAction,
    confirm: Duration,
) -> Result<(Note, bool)> {
    let (reason, action_word, verb) = match action {
        StateAction::Pause => (EventReason::Paused, EventAction::Pause, "paused"),
        StateAction::Resume => (EventReason::Resumed, EventAction::Resume, "resumed"),
        StateAction::Stop => (EventReason::Stopped, EventAction::Stop, "stopped"),
    };
    client.change_state(name, action).await?;
    let confirmed = confirm_state(client, name, &action.target(), confirm).await;
    let note = Note::normal(reason, action_word, format!("connector {name}: {verb}"));
    Ok((note, confirmed))
}

/// Pause and resume answer 202 before anything happened (Strimzi #12795): poll the status,
/// bounded, until it shows the target. `false` leaves it to a quick requeue.
async fn confirm_state(
    client: &ConnectClient,
    name: &str,
    target: &ConnectState,
    budget: Duration,
) -> bool {
    let deadline = Instant::now() + budget;
    let mut delay = Duration::from_millis(100);
    while Instant::now() < deadline {
        if let Ok(s) = client.status(name).await
            && settled_in(&s, target)
        {
            return true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(1));
    }
    false
}

/// Restarts the connector for a `spec.restart`, with the requested flags.
pub async fn restart_connector(
    client: &ConnectClient,
    name: &str,
    id: &str,
    opts: RestartOptions,
) -> Result<Note> {
    client.restart(name, opts).await?;
    let text = format!("restarted connector {name} (restart id {id})");
    Ok(Note::normal(
        EventReason::Restarted,
        EventAction::Restart,
        text,
    ))
}

/// Restarts one task for a `spec.restart`. A task id that does not exist is the user's
/// mistake: `Err(note)` with a Warning, and nothing is restarted.
pub async fn restart_task(
    client: &ConnectClient,
    name: &str,
    id: &str,
    task: i32,
) -> Result<std::result::Result<(), Note>> {
    let tasks = client.tasks(name).await?;
    if !tasks.iter().any(|t| t.id.task == task) {
        let ids: Vec<String> = tasks.iter().map(|t| t.id.task.to_string()).collect();
        let text = format!(
            "restart {id}: connector {name} has no task {task} (tasks: [{}])",
            ids.join(", ")
        );
        let note = Note::warning(EventReason::RestartFailed, EventAction::RestartTask, text);
        return Ok(Err(note));
    }
    client.restart_task(name, task).await?;
    Ok(Ok(()))
}

/// The Event of a served task restart: the restart is synchronous, so the task's status
/// already shows its result.
pub async fn task_restarted(client: &ConnectClient, name: &str, id: &str, task: i32) -> Note {
    let state = client
        .task_status(name, task)
        .await
        .map(|t| t.state)
        .unwrap_or_default();
    let text = format!("restarted task {task} of {name} (restart id {id}), now {state}");
    Note::normal(EventReason::Restarted, EventAction::RestartTask, text)
}

/// Stops the connector unless Connect already shows it STOPPED without tasks (offsets change
/// only then), waiting up to `confirm`. Returns the Event of a stop, and whether it is stopped.
pub async fn ensure_stopped(
    client: &ConnectClient,
    name: &str,
    confirm: Duration,
    send: bool,
) -> Result<(Option<Note>, bool)> {
    if let Ok(s) = client.status(name).await
        && settled_in(&s, &ConnectState::Stopped)
    {
        return Ok((None, true));
    }
    if !send {
        // Sent earlier and accepted: a worker has yet to act on it.
        return Ok((None, false));
    }
    let (note, confirmed) = change_state(client, name, StateAction::Stop, confirm).await?;
    Ok((Some(note), confirmed))
}

/// What serving an offsets request did: the Event, the result word for status, Connect's
/// message, and the offsets Connect reports after it.
pub struct OffsetsChanged {
    pub note: Note,
    pub result: OffsetsResult,
    pub message: Option<String>,
    pub current: Option<ConnectorOffsets>,
}

/// `DELETE .../offsets` (reset) or `PATCH .../offsets` (alter) of a STOPPED connector. A
/// refusal (400: an empty list, offsets the connector cannot take) is reported, not retried.
pub async fn change_offsets(
    client: &ConnectClient,
    name: &str,
    id: &str,
    alter: Option<&ConnectorOffsets>,
    masks: &Masks,
) -> Result<OffsetsChanged> {
    let answer = match alter {
        None => client.reset_offsets(name).await,
        Some(body) => client.alter_offsets(name, body).await,
    };
    let (verb, result) = match alter {
        None => ("reset", OffsetsResult::Reset),
        Some(_) => ("altered", OffsetsResult::Altered),
    };
    let (note, result, message) = match answer {
        Ok(msg) => {
            let text = format!("{verb} the offsets of connector {name} (request {id})");
            let reason = match alter {
                None => EventReason::OffsetsReset,
                Some(_) => EventReason::OffsetsAltered,
            };
            (
                Note::normal(reason, EventAction::Offsets, text),
                result,
                masks.apply(&msg),
            )
        }
        Err(Error::Rejected(msg)) => {
            let msg = first_line(&masks.apply(&msg));
            let text = format!("offsets request {id} for connector {name} refused: {msg}");
            (
                Note::warning(EventReason::OffsetsFailed, EventAction::Offsets, text),
                OffsetsResult::Failed,
                msg,
            )
        }
        Err(e) => return Err(e),
    };
    let current = client.offsets(name).await.ok();
    let message = Some(message).filter(|m| !m.is_empty());
    Ok(OffsetsChanged {
        note,
        result,
        message,
        current,
    })
}

/// Restarts the FAILED connector or tasks; `count` is this restart's number.
pub async fn auto_restart(client: &ConnectClient, name: &str, count: i32) -> Result<Note> {
    client.restart(name, RestartOptions::FAILED_PARTS).await?;
    let text = format!("connector {name} or a task was FAILED: restart number {count}");
    Ok(Note::warning(
        EventReason::AutoRestarted,
        EventAction::AutoRestart,
        text,
    ))
}

/// The connector's topics, sorted.
pub async fn topics(client: &ConnectClient, name: &str) -> Result<Vec<String>> {
    let mut topics = client.topics(name).await?;
    topics.sort();
    Ok(topics)
}

/// A refusal of validate in few words: without the Java exception's class, and without the
/// list of every installed plugin Connect appends to an unknown class (hundreds of lines
/// with Debezium installed), which `GET /connector-plugins` and the cluster status show.
fn refusal(s: &str) -> String {
    let first = first_line(s);
    // Exceptions wrap exceptions: `a.BadRequestException: b.ConnectException: Failed ...`.
    let mut line = first.as_str();
    while let Some((class, rest)) = line.split_once(": ")
        && class.ends_with("Exception")
        && !class.contains(' ')
    {
        line = rest;
    }
    let line = line
        .split(", available connectors are")
        .next()
        .unwrap_or(line);
    line.to_string()
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(500)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_class_is_refused_in_one_sentence() {
        let answer = "org.apache.kafka.connect.runtime.rest.errors.BadRequestException: org.apache.kafka.connect.errors.ConnectException: Failed to find any class that implements Connector and which name matches com.example.No, available connectors are: PluginDesc{klass=class a.B}, PluginDesc{...}";
        assert_eq!(
            refusal(answer),
            "Failed to find any class that implements Connector and which name matches com.example.No"
        );
        assert_eq!(
            refusal("Connector configuration is invalid"),
            "Connector configuration is invalid"
        );
    }

    /// Every recorded validate answer: errors counted means errors listed, none means none.
    #[test]
    fn recorded_validate_answers_give_per_key_errors() {
        let desired = BTreeMap::from([("database.password".to_string(), "s3cr3t-pw".to_string())]);
        let masks = Masks::of_config(&desired);
        let validates = crate::connect::recorded::recorded()
            .into_iter()
            .filter(|(name, _)| name.contains("/validate-"));
        let mut seen = 0;
        for (name, text) in validates {
            let infos: ConfigInfos = serde_json::from_str(&text).unwrap();
            let counted = infos.error_count;
            let errors = validation_errors(infos, &masks);
            assert_eq!(errors.is_empty(), counted == 0, "{name}: {errors:?}");
            assert!(
                errors.iter().all(|e| !e.key.is_empty()),
                "{name}: {errors:?}"
            );
            seen += 1;
        }
        assert!(seen > 0, "no recorded validate answer");
    }

    #[test]
    fn errors_counted_but_not_described_still_refuse() {
        let infos: ConfigInfos =
            serde_json::from_str(r#"{"error_count": 2, "configs": [{"value": null}]}"#).unwrap();
        let errors = validation_errors(infos, &Masks::default());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("2 validation error(s)"));
    }
}
