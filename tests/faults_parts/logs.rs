//! What the fault cases read in logs: the Connect workers' (the group's leader, their REST
//! request logs) and the operator's (the requests it retried, panics).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::common::env;

/// A worker log line's timestamp (`[2026-11-26 22:30:20,403] ...`), as [`log_time`] writes it.
fn timestamp(line: &str) -> Option<&str> {
    line.get(1..24)
}

/// The REST URL of the Connect group's leader, from the newest assignment in the workers'
/// logs (`leaderUrl='http://127.0.0.1:8083/'`); `None` if no worker logged one yet.
pub fn leader_url() -> Option<String> {
    let logs = PathBuf::from(env("KCO_STACK_DIR")).join("logs");
    let mut newest: Option<(String, String)> = None;
    for n in [1, 2] {
        let text =
            std::fs::read_to_string(logs.join(format!("connect-{n}.log"))).unwrap_or_default();
        for line in text.lines().filter(|l| l.contains("leaderUrl='")) {
            let ts = timestamp(line).unwrap_or_default().to_string();
            let url = line
                .split("leaderUrl='")
                .nth(1)
                .and_then(|r| r.split('\'').next())
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string();
            if newest.as_ref().is_none_or(|(t, _)| ts > *t) {
                newest = Some((ts, url));
            }
        }
    }
    newest.map(|(_, u)| u)
}

/// A timestamp as Connect's log4j pattern writes it (`2026-11-26 22:30:20,403`, local time),
/// so that log lines compare with it as strings.
pub fn log_time() -> String {
    jiff::Zoned::now()
        .strftime("%Y-%m-%d %H:%M:%S,%3f")
        .to_string()
}

/// The requests in every log of workers 1 and 2 (restarts included) logged between `from`
/// and `to` (see [`log_time`]), as (request line, answer code: `None` when the line has none).
/// Requests a worker forwarded to the leader (`?forward=`) are left out: the first worker
/// logged them already.
fn rest_requests(from: &str, to: &str) -> Vec<(String, Option<String>)> {
    let logs = PathBuf::from(env("KCO_STACK_DIR")).join("logs");
    let mut out = vec![];
    for n in [1, 2] {
        for file in [
            format!("connect-{n}.previous.log"),
            format!("connect-{n}.log"),
        ] {
            let text = std::fs::read_to_string(logs.join(file)).unwrap_or_default();
            for line in text.lines() {
                let Some(ts) = timestamp(line) else { continue };
                if ts < from || ts > to || !line.contains("RestServer") {
                    continue;
                }
                let mut parts = line.split('"');
                let Some(req) = parts.nth(1) else { continue };
                if req.contains("forward=") {
                    continue;
                }
                let code = parts
                    .next()
                    .map(|r| r.split_whitespace().next().unwrap_or_default().to_string());
                out.push((req.to_string(), code));
            }
        }
    }
    out
}

/// The request lines (`POST /connectors/x/restart HTTP/1.1`) the workers logged between
/// `from` and `to`.
pub fn rest_lines(from: &str, to: &str) -> Vec<String> {
    rest_requests(from, to)
        .into_iter()
        .map(|(r, _)| r)
        .collect()
}

/// What the workers' REST request logs say about a case: creates by answer, deletes of its
/// connectors.
#[derive(Debug, Default, Clone)]
pub struct RestCounts {
    pub creates_201: u64,
    pub creates_409: u64,
    pub creates_other: BTreeMap<String, u64>,
    pub deletes: u64,
}

/// Counts the requests logged between `from` and `to` (see [`rest_requests`]):
/// `POST /connectors` by answer, and `DELETE` of a connector whose name starts with `prefix`.
pub fn rest_counts(from: &str, to: &str, prefix: &str) -> RestCounts {
    let mut c = RestCounts::default();
    for (req, code) in rest_requests(from, to) {
        if req == "POST /connectors HTTP/1.1" {
            match code.as_deref().unwrap_or_default() {
                "201" => c.creates_201 += 1,
                "409" => c.creates_409 += 1,
                other => *c.creates_other.entry(other.to_string()).or_default() += 1,
            }
        } else if req
            .strip_prefix("DELETE /connectors/")
            .is_some_and(|path| path.starts_with(prefix))
        {
            c.deletes += 1;
        }
    }
    c
}

/// Every request the operator made to a connector path, logged between `from` and `to` (see
/// [`rest_requests`]), by answer code: what Connect answered while a fault lasted.
pub fn rest_answers(from: &str, to: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (req, code) in rest_requests(from, to) {
        let Some(code) = code else { continue };
        if req.contains(" /connector") {
            *out.entry(code).or_default() += 1;
        }
    }
    out
}

/// Text without its terminal colour codes (`ESC[...m`).
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The operator's "retrying Connect request" log lines in these logs, by what Connect said
/// (the error's first words): the faults it rode out inside its retry budget.
pub fn retries(logs: &[PathBuf]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in logs {
        for line in std::fs::read_to_string(p).unwrap_or_default().lines() {
            if line.contains("retrying Connect request") {
                *out.entry(retry_reason(&plain(line))).or_default() += 1;
            }
        }
    }
    out
}

/// `reason="Rebalancing"` where the operator logs one, else the error's first words.
fn retry_reason(line: &str) -> String {
    if let Some(reason) = line.split(" reason=\"").nth(1) {
        return reason.split('"').next().unwrap_or("?").to_string();
    }
    let error = line.split(" error=").nth(1).unwrap_or("?");
    error
        .split([':', '('])
        .next()
        .unwrap_or("?")
        .trim()
        .chars()
        .take(60)
        .collect()
}

/// Lines containing `panicked` in these operator logs.
pub fn panics(logs: &[PathBuf]) -> u64 {
    logs.iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("panicked"))
                .count() as u64
        })
        .sum()
}
