//! Counting lines through Connect's file connectors: a FileStreamSource reads a file into a
//! topic, a FileStreamSink writes the topic to a file; what arrives, in order, shows what was
//! read twice or skipped.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::eventually;

pub const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
pub const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// Appends `lines` to the file at `path` (created if need be).
pub fn append(path: &Path, lines: &[&str]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(f, "{line}").unwrap();
    }
}

/// The lines of the file at `path` (none if it does not exist yet).
pub fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(str::to_string).collect()
}

/// Waits (120 s) until the lines of the file at `path` are `done`.
pub async fn until_lines(path: &Path, what: &str, done: impl Fn(&[String]) -> bool) {
    eventually(what, Duration::from_secs(120), || async {
        done(&lines(path)).then_some(())
    })
    .await;
}
