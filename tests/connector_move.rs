//! Moving a connector between Connect clusters by changing `clusterRef`, on the real stack:
//! FileStreamSource → topic → FileStreamSink, the source moved from the 3.6.2 worker to the
//! 4.3.1 group (the sink stays there) keeps every line exactly once, and new lines keep
//! flowing; also with the operator killed in the middle of the move. The other way (to the
//! 3.6.2 worker, which cannot create a connector STOPPED) is refused with nothing written.

mod common;

use std::path::PathBuf;

use common::lines::{FILE_SINK as SINK, FILE_SOURCE as SOURCE, append, lines, until_lines};
use common::{Connect, Operator, Scenario, condition_reason, env, is_ready_in};
use kco::api::KafkaConnector;
use serde_json::{Value, json};

/// Two cluster objects: `old` (the 3.6.2 worker) and `local` (the 4.3.1 group).
async fn two_clusters(prefix: &str) -> Scenario {
    let s = Scenario::without_cluster(prefix, &[]).await;
    s.apply_cluster(json!({"url": env("CONNECT_URL")})).await;
    s.try_apply_cluster("old", json!({"url": env("CONNECT_URL_V362")}))
        .await
        .expect("apply cluster old");
    s
}

struct Pipeline {
    input: PathBuf,
    output: PathBuf,
    source: Value,
    name: String,
}

/// A source on `cluster` and a sink on `local`, three lines through.
async fn pipeline(s: &Scenario, cluster: &str) -> Pipeline {
    let dir = std::env::temp_dir();
    let input = dir.join(format!("{}-move-in.txt", s.ns));
    let output = dir.join(format!("{}-move-out.txt", s.ns));
    append(&input, &["one", "two", "three"]);
    let topic = s.unique("moved-lines");
    let name = s.unique("moved-source");
    let source = json!({"connectorName": name, "class": SOURCE, "tasksMax": 1,
        "clusterRef": {"name": cluster},
        "config": {"file": input.to_string_lossy(), "topic": topic}});
    s.apply("source", source.clone()).await;
    s.apply(
        "sink",
        json!({"connectorName": s.unique("moved-sink"), "class": SINK, "tasksMax": 1,
            "config": {"file": output.to_string_lossy(), "topics": topic}}),
    )
    .await;
    until_lines(&output, "3 lines through", |l| l.len() >= 3).await;
    Pipeline {
        input,
        output,
        source,
        name,
    }
}

fn on_cluster(o: &KafkaConnector, cluster: &str) -> bool {
    let st = o.status.as_ref();
    st.and_then(|s| s.cluster.as_ref())
        .is_some_and(|c| c.name == cluster)
        && st.is_some_and(|s| s.move_.is_none())
}

/// Applies the source with `clusterRef: to`.
async fn move_to(s: &Scenario, p: &Pipeline, to: &str) {
    let mut spec = p.source.clone();
    spec["clusterRef"] = json!({"name": to});
    s.apply("source", spec).await;
}

/// After the move: the old worker has no such connector, a `Moved` Event counted the
/// offsets, and two more lines come through once each, after the first three.
async fn moved_without_loss(s: &Scenario, p: &Pipeline) {
    let o = s
        .wait("source", "RUNNING on local", |o| {
            on_cluster(o, "local") && is_ready_in(o, "RUNNING")
        })
        .await;
    assert!(o.status.unwrap().move_.is_none());
    Connect::new(env("CONNECT_URL_V362"))
        .wait_deleted(&p.name, "deleted from the old cluster")
        .await;
    let events = s.events().await;
    let moved = events.iter().find(|(reason, _)| reason == "Moved");
    let (_, note) = moved.unwrap_or_else(|| panic!("a Moved Event: {events:?}"));
    assert!(note.contains("1 offset(s) copied"), "{note}");
    append(&p.input, &["four", "five"]);
    until_lines(&p.output, "5 lines through", |l| l.len() >= 5).await;
    let seen = lines(&p.output);
    println!("sink after the move: {seen:?}");
    assert_eq!(seen, ["one", "two", "three", "four", "five"]);
}

#[tokio::test]
async fn a_source_moved_to_another_cluster_reads_each_line_once() {
    let s = two_clusters("e2e-move").await;
    let p = pipeline(&s, "old").await;
    s.wait("source", "living on old", |o| on_cluster(o, "old"))
        .await;
    move_to(&s, &p, "local").await;
    moved_without_loss(&s, &p).await;
}

/// Killed while the move is under way (a phase recorded), a new operator finishes it: each
/// step repeats at most once, and nothing is read twice.
#[tokio::test]
async fn a_move_cut_by_an_operator_kill_is_finished_by_the_next_one() {
    let mut s = two_clusters("e2e-move-kill").await;
    let p = pipeline(&s, "old").await;
    s.wait("source", "living on old", |o| on_cluster(o, "old"))
        .await;
    move_to(&s, &p, "local").await;
    // Killed at the first sign of the move (a step recorded, or already done when the
    // whole move fit between two looks): where it lands varies from run to run, and every
    // step is covered by `moving::next`'s unit tests.
    let o = s
        .wait("source", "the move begun", |o| {
            o.status
                .as_ref()
                .is_some_and(|st| st.move_.is_some() || on_cluster(o, "local"))
        })
        .await;
    s.operator.kill().await;
    let st = o.status.unwrap();
    println!(
        "killed the operator at {:?} (on {:?})",
        st.move_, st.cluster
    );
    s.operator = Operator::start(&s.ns, &[]).await;
    moved_without_loss(&s, &p).await;
}

#[tokio::test]
async fn a_move_to_a_worker_that_cannot_create_stopped_is_refused() {
    let s = two_clusters("e2e-move-refused").await;
    let p = pipeline(&s, "local").await;
    s.wait("source", "living on local", |o| {
        on_cluster(o, "local") && is_ready_in(o, "RUNNING")
    })
    .await;
    move_to(&s, &p, "old").await;
    let o = s
        .wait("source", "MoveRefused", |o| {
            condition_reason(o, "Ready") == Some("MoveRefused")
        })
        .await;
    let message = common::condition(&o, "Ready").unwrap().message.clone();
    assert!(message.contains("3.7 or later"), "{message}");
    let st = o.status.unwrap();
    assert_eq!(st.cluster.unwrap().name, "local", "still lives on local");
    let live = s.connect.status(&p.name).await.unwrap();
    assert_eq!(live["connector"]["state"], "RUNNING", "left running");
    let old = Connect::new(env("CONNECT_URL_V362"));
    assert!(
        old.status(&p.name).await.is_none(),
        "nothing created on 3.6.2"
    );
    // Set back: an ordinary connector again.
    s.apply("source", p.source.clone()).await;
    s.wait("source", "Ready on local again", |o| {
        on_cluster(o, "local") && is_ready_in(o, "RUNNING")
    })
    .await;
}

/// A KafkaConnector deleted while its move is pending (held here by the pause-reconciliation
/// annotation, set before `clusterRef` changed) is deleted where its connector lives: on
/// the old cluster, not the one `clusterRef` names.
#[tokio::test]
async fn a_connector_deleted_before_its_move_ran_is_deleted_where_it_lives() {
    let s = two_clusters("e2e-move-delete").await;
    let p = pipeline(&s, "old").await;
    s.wait("source", "living on old", |o| on_cluster(o, "old"))
        .await;
    let pause =
        json!({"metadata": {"annotations": {"kafkaconnect.dev/pause-reconciliation": "true"}}});
    s.connectors
        .patch(
            "source",
            &Default::default(),
            &kube::api::Patch::Merge(&pause),
        )
        .await
        .unwrap();
    s.wait("source", "ReconciliationPaused", |o| {
        condition_reason(o, "Ready") == Some("ReconciliationPaused")
    })
    .await;
    move_to(&s, &p, "local").await;
    s.delete_and_wait("source").await;
    Connect::new(env("CONNECT_URL_V362"))
        .wait_deleted(&p.name, "deleted from the cluster it lived on")
        .await;
    assert!(
        s.connect.status(&p.name).await.is_none(),
        "nothing on the cluster it was to move to"
    );
}
