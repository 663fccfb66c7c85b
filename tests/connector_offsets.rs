//! Declarative offsets (`spec.offsets`, served once per id) on the real stack, observed end
//! to end through a FileStreamSource → topic → FileStreamSink pipeline: a reset makes the
//! source read its file again, an alter seeded at creation skips lines, and rewinding the
//! sink re-delivers. Each request stops the connector, changes its offsets, records the
//! outcome in status, and restores `spec.state`. An object re-created without its status (a
//! restore) resets and restarts nothing again.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Scenario, eventually, is_ready_in};
use kco::api::KafkaConnector;
use serde_json::{Value, json};

const SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
const SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

struct Pipeline {
    input: PathBuf,
    output: PathBuf,
    topic: String,
    source: String,
    sink: String,
}

impl Pipeline {
    fn new(s: &Scenario, lines: &[&str]) -> Self {
        let dir = std::env::temp_dir();
        let input = dir.join(format!("{}-in.txt", s.ns));
        let output = dir.join(format!("{}-out.txt", s.ns));
        std::fs::write(
            &input,
            lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
        let _ = std::fs::remove_file(&output);
        Self {
            input,
            output,
            topic: s.unique("lines"),
            source: s.unique("source"),
            sink: s.unique("sink"),
        }
    }

    fn source_spec(&self, extra: Value) -> Value {
        let mut spec = json!({"connectorName": self.source, "class": SOURCE, "tasksMax": 1,
            "config": {"file": self.input.to_string_lossy(), "topic": self.topic}});
        merge(&mut spec, extra);
        spec
    }

    fn sink_spec(&self, extra: Value) -> Value {
        let mut spec = json!({"connectorName": self.sink, "class": SINK, "tasksMax": 1,
            "config": {"file": self.output.to_string_lossy(), "topics": self.topic}});
        merge(&mut spec, extra);
        spec
    }

    fn output_lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.output)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    async fn wait_output(&self, what: &str, want: impl Fn(&[String]) -> bool) -> Vec<String> {
        eventually(what, Duration::from_secs(60), || async {
            let lines = self.output_lines();
            want(&lines).then_some(lines)
        })
        .await
    }
}

fn merge(spec: &mut Value, extra: Value) {
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
}

fn offsets_result(o: &KafkaConnector) -> Option<(String, String)> {
    let off = o.status.as_ref()?.offsets.as_ref()?;
    Some((
        off.last_request_id.clone()?,
        off.result?.as_str().to_string(),
    ))
}

#[tokio::test]
async fn a_reset_makes_the_source_read_its_file_again() {
    let s = Scenario::new("e2e-offreset", &[]).await;
    let p = Pipeline::new(&s, &["one", "two", "three"]);
    s.apply("sink", p.sink_spec(json!({}))).await;
    s.apply("source", p.source_spec(json!({}))).await;
    p.wait_output("three lines delivered", |l| l.len() == 3)
        .await;

    s.apply(
        "source",
        p.source_spec(json!({"offsets": {"id": "reset-1", "reset": true}})),
    )
    .await;
    let obj = s
        .wait("source", "reset-1 served and RUNNING again", |o| {
            offsets_result(o) == Some(("reset-1".into(), "Reset".into()))
                && is_ready_in(o, "RUNNING")
        })
        .await;
    let lines = p.wait_output("the file read again", |l| l.len() == 6).await;
    assert_eq!(lines, ["one", "two", "three", "one", "two", "three"]);
    let reasons = s.event_reasons().await;
    assert!(reasons.iter().any(|r| r == "OffsetsReset"), "{reasons:?}");
    // Served once: re-applying the same manifest resets nothing.
    s.apply(
        "source",
        p.source_spec(json!({"offsets": {"id": "reset-1", "reset": true}})),
    )
    .await;
    s.poke("source", "again").await;
    s.wait_ready("source").await;
    assert_eq!(p.output_lines().len(), 6);
    assert!(obj.status.unwrap().offsets.unwrap().total.is_some());
}

#[tokio::test]
async fn offsets_seeded_at_creation_skip_lines() {
    let s = Scenario::new("e2e-offseed", &[]).await;
    let p = Pipeline::new(&s, &["skip-1", "skip-2", "keep-3", "keep-4"]);
    // FileStreamSource's offset is the byte position in the file: past the first two lines.
    let position = "skip-1\nskip-2\n".len();
    s.apply("sink", p.sink_spec(json!({}))).await;
    let seed = json!({"offsets": {"id": "seed", "alter": [
        {"partition": {"filename": p.input.to_string_lossy()}, "offset": {"position": position}}]}});
    s.apply("source", p.source_spec(seed)).await;
    s.wait("source", "seeded and RUNNING", |o| {
        offsets_result(o) == Some(("seed".into(), "Altered".into())) && is_ready_in(o, "RUNNING")
    })
    .await;
    let lines = p.wait_output("the kept lines", |l| l.len() >= 2).await;
    assert_eq!(
        lines,
        ["keep-3", "keep-4"],
        "the first two lines were skipped"
    );
}

/// A large set lives in a ConfigMap; here the `{"offsets": [...]}` shape `GET .../offsets`
/// answers, so a saved answer can be replayed.
#[tokio::test]
async fn offsets_from_a_config_map_are_applied() {
    let s = Scenario::new("e2e-offcm", &[]).await;
    let p = Pipeline::new(&s, &["skip-1", "keep-2"]);
    s.apply("sink", p.sink_spec(json!({}))).await;
    let saved = json!({"offsets": [{"partition": {"filename": p.input.to_string_lossy()},
        "offset": {"position": "skip-1\n".len()}}]});
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "saved-offsets"},
        "data": {"offsets.json": saved.to_string()}});
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(s.client.clone(), &s.ns);
    cms.patch(
        "saved-offsets",
        &kube::api::PatchParams::apply("kco-tests"),
        &kube::api::Patch::Apply(&cm),
    )
    .await
    .unwrap();
    let from = json!({"offsets": {"id": "from-cm",
        "alterFrom": {"name": "saved-offsets", "key": "offsets.json"}}});
    s.apply("source", p.source_spec(from)).await;
    s.wait("source", "altered from the ConfigMap and RUNNING", |o| {
        offsets_result(o) == Some(("from-cm".into(), "Altered".into())) && is_ready_in(o, "RUNNING")
    })
    .await;
    let lines = p.wait_output("the kept line", |l| !l.is_empty()).await;
    assert_eq!(lines, ["keep-2"]);
}

#[tokio::test]
async fn rewinding_the_sink_redelivers() {
    let s = Scenario::new("e2e-offsink", &[]).await;
    let p = Pipeline::new(&s, &["a", "b"]);
    s.apply("sink", p.sink_spec(json!({}))).await;
    s.apply("source", p.source_spec(json!({}))).await;
    p.wait_output("two lines delivered", |l| l.len() == 2).await;
    let rewind = json!({"offsets": {"id": "rewind", "alter": [
        {"partition": {"kafka_topic": p.topic, "kafka_partition": 0}, "offset": {"kafka_offset": 0}}]}});
    s.apply("sink", p.sink_spec(rewind)).await;
    s.wait("sink", "rewound and RUNNING", |o| {
        offsets_result(o) == Some(("rewind".into(), "Altered".into())) && is_ready_in(o, "RUNNING")
    })
    .await;
    let lines = p.wait_output("re-delivered", |l| l.len() == 4).await;
    assert_eq!(lines, ["a", "b", "a", "b"]);
}

#[tokio::test]
async fn a_refused_request_is_recorded_once_and_the_connector_restored() {
    let s = Scenario::new("e2e-offbad", &[]).await;
    let p = Pipeline::new(&s, &["x"]);
    s.apply("source", p.source_spec(json!({}))).await;
    s.wait_ready("source").await;
    // A partition this connector never had, with a malformed offset: Connect refuses it.
    let bad = json!({"offsets": {"id": "bad", "alter": [
        {"partition": {"filename": p.input.to_string_lossy()}, "offset": {"position": "not-a-number"}}]}});
    s.apply("source", p.source_spec(bad)).await;
    let obj = s
        .wait("source", "bad recorded as Failed, RUNNING again", |o| {
            offsets_result(o) == Some(("bad".into(), "Failed".into())) && is_ready_in(o, "RUNNING")
        })
        .await;
    let message = obj
        .status
        .unwrap()
        .offsets
        .unwrap()
        .message
        .unwrap_or_default();
    assert!(!message.is_empty(), "Connect's reason is kept");
    let reasons = s.event_reasons().await;
    assert_eq!(
        reasons.iter().filter(|r| *r == "OffsetsFailed").count(),
        1,
        "{reasons:?}"
    );
}

/// A backup restore, a GitOps re-creation, a move after an Orphan delete: the same manifest
/// comes back without status. The object adopts its connector, and the reset (and restart)
/// ids in its spec count as served: the file is not read a third time. Before provenance,
/// the sink went from 6 lines to 9 here.
#[tokio::test]
async fn a_restored_object_resets_and_restarts_nothing_again() {
    let s = Scenario::new("e2e-offrestore", &[]).await;
    let p = Pipeline::new(&s, &["one", "two", "three"]);
    s.apply("sink", p.sink_spec(json!({}))).await;
    let manifest = p.source_spec(json!({"offsets": {"id": "once", "reset": true},
        "restart": {"id": "r1"}, "deletionPolicy": "Orphan"}));
    s.apply("source", p.source_spec(json!({}))).await;
    p.wait_output("three lines delivered", |l| l.len() == 3)
        .await;
    s.apply("source", manifest.clone()).await;
    s.wait("source", "once served and RUNNING again", |o| {
        offsets_result(o) == Some(("once".into(), "Reset".into())) && is_ready_in(o, "RUNNING")
    })
    .await;
    p.wait_output("the file read again", |l| l.len() == 6).await;
    let restarts_before = restarts(&s).await;

    // Gone with its status (Orphan: the connector stays), then the same manifest again.
    s.delete_and_wait("source").await;
    assert!(s.connect.status(&p.source).await.is_some());
    s.apply("source", manifest).await;
    let obj = s
        .wait("source", "adopted, once taken as served", |o| {
            offsets_result(o) == Some(("once".into(), "TakenAsServed".into()))
                && is_ready_in(o, "RUNNING")
        })
        .await;
    let st = obj.status.unwrap();
    assert_eq!(st.last_restart_id.as_deref(), Some("r1"));
    let how = st.provenance.map(|p| p.how);
    assert_eq!(how, Some(kco::api::connector::ProvenanceHow::Adopted));

    // The pipeline still flows, and carries exactly the new line.
    let mut input = std::fs::OpenOptions::new()
        .append(true)
        .open(&p.input)
        .unwrap();
    std::io::Write::write_all(&mut input, b"four\n").unwrap();
    let lines = p
        .wait_output("the new line delivered", |l| {
            l.last().map(String::as_str) == Some("four")
        })
        .await;
    assert_eq!(
        lines,
        ["one", "two", "three", "one", "two", "three", "four"]
    );
    let reasons = s.event_reasons().await;
    assert!(reasons.iter().any(|r| r == "Adopted"), "{reasons:?}");
    assert_eq!(restarts(&s).await, restarts_before, "no restart since");
}

/// Restarts the namespace's Events report, repeats (a series) counted.
async fn restarts(s: &Scenario) -> i32 {
    let api: kube::Api<k8s_openapi::api::events::v1::Event> =
        kube::Api::namespaced(s.client.clone(), &s.ns);
    let events = api.list(&Default::default()).await.unwrap().items;
    let restarted = events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Restarted"));
    restarted
        .map(|e| e.series.as_ref().map_or(1, |s| s.count))
        .sum()
}
