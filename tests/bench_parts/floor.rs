//! The Kubernetes floor: the least an operator that records a finalizer, a status and an Event
//! per connector writes to the apiserver (the finalizer patch, the Created Event, the Ready
//! status: issue 20's floor of 2 writes plus Events), made by a bare client at the operator's
//! concurrency on objects no operator watches. The bare Connect client writes nothing to
//! Kubernetes.
//!
//! Two clocks. `with_applies` (the median of `FLOOR_RUNS` runs) is the scenario's clock with
//! an operator that costs nothing: it starts at the first of the user's applies, makes each
//! object's writes as soon as its apply returned, and stops when the same watch the scenario
//! uses (started, as there, once every apply returned) has seen every object Ready. The operator cannot finish before the applies
//! it reacts to, and they and the measuring watch share the apiserver with its writes (at
//! 1,000, the applies alone took 7.8 of the operator's 9.0 s). `writes_only` times the writes
//! after every apply has returned, with no watch: the floor as it was first defined.

use kube::Resource;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use tokio::sync::Semaphore;

use super::*;

pub(crate) struct Floor {
    /// The median of `FLOOR_RUNS` runs on the scenario's clock.
    pub with_applies: f64,
    /// Each of those runs, in the order they ran.
    pub with_applies_runs: Vec<f64>,
    pub writes_only: f64,
}

/// Runs of the floor on the scenario's clock, of which the median counts: on a 2-core
/// machine one run of it moved by a second from one bench to the next (6.0 to 7.1 s at
/// 1,000), more than the distance between the operator and its target.
const FLOOR_RUNS: usize = 3;

/// Both floors for `n` KafkaConnectors: the user's applies `apply_concurrency` at a time, the
/// writes `concurrency` at a time.
pub(crate) async fn kubernetes_floor(
    client: &Client,
    n: usize,
    apply_concurrency: usize,
    concurrency: usize,
) -> Floor {
    let mut runs = vec![];
    for _ in 0..FLOOR_RUNS {
        runs.push(floor_run(client, n, true, apply_concurrency, concurrency).await);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let writes_only = floor_run(client, n, false, apply_concurrency, concurrency).await;
    Floor {
        with_applies: sorted[FLOOR_RUNS / 2],
        with_applies_runs: runs,
        writes_only,
    }
}

/// One floor run in a fresh namespace; `timed_applies`: the clock starts before the applies
/// and each object's writes follow its apply, else it starts once all are applied.
async fn floor_run(
    client: &Client,
    n: usize,
    timed_applies: bool,
    apply_concurrency: usize,
    concurrency: usize,
) -> f64 {
    let ns = common::namespace(client, &format!("bench-floor-{n}")).await;
    let api: Api<KafkaConnector> = Api::namespaced(client.clone(), &ns);
    let names: Vec<String> = (0..n).map(|i| format!("c-{i:05}")).collect();
    let connect_names: Vec<String> = names.iter().map(|x| format!("{ns}-{x}")).collect();
    let clusters = ["floor".to_string()];
    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "kco-bench-floor".into(),
            instance: None,
        },
    );
    if !timed_applies {
        apply_all(&api, &names, &connect_names, &clusters, apply_concurrency).await;
    }
    let (applies, writes) = (
        Semaphore::new(apply_concurrency),
        Semaphore::new(concurrency),
    );
    let (applied, mut all_applied) = tokio::sync::watch::channel(0usize);
    let t0 = Instant::now();
    let written = futures::stream::iter(0..n).for_each_concurrent(None, |i| {
        let (api, recorder) = (&api, &recorder);
        let (applies, writes) = (&applies, &writes);
        let (names, connect_names, clusters) = (&names, &connect_names, &clusters);
        let applied = &applied;
        async move {
            if timed_applies {
                let _turn = applies.acquire().await.expect("open");
                apply_one(api, i, names, connect_names, clusters).await;
                applied.send_modify(|a| *a += 1);
            }
            let _turn = writes.acquire().await.expect("open");
            operator_writes(api.clone(), recorder.clone(), &names[i]).await;
        }
    });
    let seen = async {
        if timed_applies {
            let _ = all_applied.wait_for(|a| *a >= n).await;
            let (_, all) = wait_all_ready(&api, n, Duration::from_secs(600)).await;
            assert!(all, "floor: not every object was seen Ready");
        }
    };
    futures::join!(written, seen);
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
