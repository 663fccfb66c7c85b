//! What a connector does with records that fail conversion or a transform, read from its
//! config (`errors.*`, KIP-298), and the traps that silently decide whether bad records
//! vanish. Pure: status shows it, admission will warn with the same words.

use std::collections::BTreeMap;

use crate::api::connector::ErrorHandling;

const TOLERANCE: &str = "errors.tolerance";
const DEAD_LETTER_TOPIC: &str = "errors.deadletterqueue.topic.name";
const LOG_ENABLE: &str = "errors.log.enable";
const LOG_MESSAGES: &str = "errors.log.include.messages";

/// The error handling `config` sets, with Connect's defaults (`none`, nothing logged), and
/// the warnings it deserves. `kind`: `source` or `sink` where known.
pub fn error_handling(
    config: &BTreeMap<String, String>,
    kind: Option<&str>,
) -> (ErrorHandling, Vec<String>) {
    let value = |k: &str| config.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let flag = |k: &str| value(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let handling = ErrorHandling {
        tolerance: value(TOLERANCE).unwrap_or("none").to_ascii_lowercase(),
        dead_letter_topic: value(DEAD_LETTER_TOPIC).map(str::to_string),
        log_errors: flag(LOG_ENABLE),
        log_messages: flag(LOG_MESSAGES),
    };
    let mut warnings = vec![];
    let source = kind == Some("source");
    if source && let Some(topic) = &handling.dead_letter_topic {
        warnings.push(format!(
            "{DEAD_LETTER_TOPIC}={topic} on a source connector: Connect ignores it (dead-letter topics exist for sink connectors only)"
        ));
    }
    let kept = handling.dead_letter_topic.is_some() && !source;
    if handling.tolerance == "all" && !kept && !handling.log_errors {
        warnings.push(format!(
            "{TOLERANCE}=all with neither a dead-letter topic nor {LOG_ENABLE}=true: records that fail conversion or a transform are dropped without a trace"
        ));
    }
    (handling, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::config;

    #[test]
    fn defaults_are_connects() {
        let (h, w) = error_handling(&config(&[("topic", "t")]), Some("source"));
        assert_eq!(h.tolerance, "none");
        assert_eq!(
            (h.dead_letter_topic, h.log_errors, h.log_messages),
            (None, false, false)
        );
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn a_dead_letter_topic_on_a_source_is_ignored_by_connect() {
        let c = config(&[(DEAD_LETTER_TOPIC, "dlq"), (TOLERANCE, "all")]);
        let (h, w) = error_handling(&c, Some("source"));
        assert_eq!(h.dead_letter_topic.as_deref(), Some("dlq"));
        assert_eq!(
            w.len(),
            2,
            "ignored, so tolerance=all drops silently too: {w:?}"
        );
        assert!(w[0].contains("source connector"), "{w:?}");
        let (_, w) = error_handling(&c, Some("sink"));
        assert!(
            w.is_empty(),
            "a sink keeps them in its dead-letter topic: {w:?}"
        );
    }

    #[test]
    fn tolerating_all_without_a_trace_is_a_trap() {
        let silent = config(&[(TOLERANCE, "ALL")]);
        let (h, w) = error_handling(&silent, Some("sink"));
        assert_eq!(h.tolerance, "all");
        assert!(w.len() == 1 && w[0].contains("without a trace"), "{w:?}");
        let logged = config(&[
            (TOLERANCE, "all"),
            (LOG_ENABLE, "true"),
            (LOG_MESSAGES, "true"),
        ]);
        let (h, w) = error_handling(&logged, None);
        assert!(h.log_errors && h.log_messages && w.is_empty(), "{w:?}");
    }
}
