//! The Kubernetes floor: the least an operator that records a finalizer, a status and an Event
//! per connector writes to the apiserver (the finalizer patch, the Created Event, the Ready
//! status: issue 20's floor of 2 writes plus Events), made by a bare client at the operator's
//! concurrency on objects no operator watches. The bare Connect client writes nothing to
//! Kubernetes. (Until the first status waited for Ready, the operator also wrote a "starting"
//! status after each create, and this floor counted it.)

use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use super::*;

/// Seconds for those writes for `n` KafkaConnectors, `concurrency` at a time.
pub(crate) async fn kubernetes_floor(client: &Client, n: usize, concurrency: usize) -> f64 {
    let ns = common::namespace(client, &format!("bench-floor-{n}")).await;
    let api: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = (0..n).map(|i| format!("c-{i:05}")).collect();
    let connect_names: Vec<String> = names.iter().map(|x| format!("{ns}-{x}")).collect();
    // The user's apply is not part of it (as in the scenario, where it is the same for both).
    apply_all(&api, &names, &connect_names, &["floor".to_string()], 32).await;
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "kco-bench-floor".into(),
            instance: None,
        },
    );
    let t0 = Instant::now();
    futures::stream::iter(&names)
        .for_each_concurrent(concurrency, |name| {
            operator_writes(api.clone(), recorder.clone(), name)
        })
        .await;
    let seconds = t0.elapsed().as_secs_f64();
    futures::stream::iter(&names)
        .for_each_concurrent(32, |name| {
            let api = api.clone();
            async move {
                let none = json!({"metadata": {"finalizers": null}});
                let _ = api
                    .patch(name, &PatchParams::default(), &Patch::Merge(&none))
                    .await;
            }
        })
        .await;
    delete_all(&api, Duration::from_secs(120)).await;
    seconds
}

/// The least written for one new connector: the finalizer, the Created Event, the Ready
/// status.
async fn operator_writes(api: Api<KafkaConnector>, recorder: Recorder, name: &str) {
    let writer = PatchParams::apply("kco-bench-floor").force();
    let finalizer = json!({"metadata": {"finalizers": ["kafkaconnect.dev/connector"]}});
    let obj = api
        .patch(name, &PatchParams::default(), &Patch::Merge(&finalizer))
        .await
        .expect("floor: finalizer");
    let created = Event {
        type_: EventType::Normal,
        reason: "Created".into(),
        note: Some(format!("created connector {name}")),
        action: "Create".into(),
        secondary: None,
    };
    recorder
        .publish(&created, &obj.object_ref(&()))
        .await
        .expect("floor: Event");
    api.patch_status(name, &writer, &Patch::Apply(&ready_status()))
        .await
        .expect("floor: Ready");
}

/// The status the operator writes once the connector is Ready.
fn ready_status() -> Value {
    let (state, reason) = ("True", "Running");
    json!({"apiVersion": "kafkaconnect.dev/v1alpha1", "kind": "KafkaConnector",
        "status": {"observedGeneration": 1, "connectorName": "c", "state": "RUNNING",
            "tasksReady": "1/1",
            "conditions": [{"type": "Ready", "status": state, "reason": reason,
                "message": "bench floor", "observedGeneration": 1,
                "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
}
