//! `deletionPolicy: DeleteAndResetOffsets` on the real stack: a connector re-created with the
//! same name after such a delete reads its file from the beginning, where one deleted with
//! the default `Delete` resumes from the offsets Connect kept (kafka-connect-jdbc#1086).
//! Counted in lines: two FileStreamSource → topic → FileStreamSink pipelines side by side.

mod common;

use std::path::PathBuf;

use common::Scenario;
use common::lines::{FILE_SINK as SINK, FILE_SOURCE as SOURCE, append, lines, until_lines};
use serde_json::json;

struct Pipeline {
    input: PathBuf,
    output: PathBuf,
    source: serde_json::Value,
}

async fn pipeline(s: &Scenario, id: &str, policy: &str) -> Pipeline {
    let dir = std::env::temp_dir();
    let input = dir.join(format!("{}-{id}-in.txt", s.ns));
    let output = dir.join(format!("{}-{id}-out.txt", s.ns));
    append(&input, &["one", "two", "three"]);
    let topic = s.unique(&format!("{id}-lines"));
    let source = json!({"connectorName": s.unique(&format!("{id}-source")), "class": SOURCE,
        "tasksMax": 1, "deletionPolicy": policy,
        "config": {"file": input.to_string_lossy(), "topic": topic}});
    s.apply(&format!("{id}-source"), source.clone()).await;
    s.apply(
        &format!("{id}-sink"),
        json!({"connectorName": s.unique(&format!("{id}-sink")), "class": SINK, "tasksMax": 1,
            "config": {"file": output.to_string_lossy(), "topics": topic}}),
    )
    .await;
    Pipeline {
        input,
        output,
        source,
    }
}

#[tokio::test]
async fn a_connector_deleted_with_its_offsets_starts_again_from_the_beginning() {
    let s = Scenario::new("e2e-fresh", &[]).await;
    let fresh = pipeline(&s, "fresh", "DeleteAndResetOffsets").await;
    let kept = pipeline(&s, "kept", "Delete").await;
    for p in [&fresh, &kept] {
        until_lines(&p.output, "3 lines through", |l| l.len() == 3).await;
    }

    for id in ["fresh", "kept"] {
        s.delete_and_wait(&format!("{id}-source")).await;
        let name = s.unique(&format!("{id}-source"));
        // Connect answers the DELETE before every worker has dropped the connector.
        s.connect.wait_deleted(&name, "deleted from Connect").await;
    }
    let events = s.events().await;
    assert!(
        events
            .iter()
            .any(|(reason, note)| reason == "OffsetsReset" && note.contains("fresh-source")),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|(reason, note)| reason == "OffsetsReset" && note.contains("kept-source")),
        "Delete keeps the offsets: {events:?}"
    );

    // The same connectors again, then one more line each: the marker shows all was read.
    for (id, p) in [("fresh", &fresh), ("kept", &kept)] {
        s.apply(&format!("{id}-source"), p.source.clone()).await;
        s.wait_ready(&format!("{id}-source")).await;
        append(&p.input, &["marker"]);
    }
    for p in [&fresh, &kept] {
        until_lines(&p.output, "the marker through", |l| {
            l.last().is_some_and(|x| x == "marker")
        })
        .await;
    }
    let (fresh_lines, kept_lines) = (lines(&fresh.output), lines(&kept.output));
    println!("fresh: {fresh_lines:?}\nkept: {kept_lines:?}");
    assert_eq!(
        fresh_lines,
        ["one", "two", "three", "one", "two", "three", "marker"],
        "read again from the beginning"
    );
    assert_eq!(
        kept_lines,
        ["one", "two", "three", "marker"],
        "resumed from the offsets Connect kept"
    );
}
