//! How the classes fail once running (the `mock_mode` of the mock connectors, a verifiable
//! source without `throughput`), with the traces a real worker reports.

use std::collections::BTreeMap;

use super::classes::{Behavior, Kind, PluginId, plugin};

/// What a class does once started: when and how it fails.
pub enum Failure {
    /// Fails `delay` ms after it started, with this trace.
    After(u64, &'static str),
    /// Fails as it starts.
    AtStart(&'static str),
}

pub fn connector_failure(id: PluginId, config: &BTreeMap<String, String>) -> Option<Failure> {
    (plugin(id).behavior == Behavior::Mock
        && config.get("mock_mode").map(|m| m.trim()) == Some("connector-failure"))
    .then(|| Failure::After(mock_delay(config), MOCK_CONNECTOR_TRACE))
}

pub fn task_failure(id: PluginId, config: &BTreeMap<String, String>) -> Option<Failure> {
    let p = plugin(id);
    match p.behavior {
        Behavior::Mock if config.get("mock_mode").map(|m| m.trim()) == Some("task-failure") => {
            let trace = match p.kind {
                Kind::Source => MOCK_SOURCE_TASK_TRACE,
                Kind::Sink => MOCK_SINK_TASK_TRACE,
            };
            Some(Failure::After(mock_delay(config), trace))
        }
        Behavior::Verifiable
            if p.kind == Kind::Source
                && config
                    .get("throughput")
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .is_none() =>
        {
            Some(Failure::AtStart(VERIFIABLE_SOURCE_TASK_TRACE))
        }
        _ => None,
    }
}

fn mock_delay(config: &BTreeMap<String, String>) -> u64 {
    config
        .get("delay_ms")
        .and_then(|d| d.trim().parse().ok())
        .unwrap_or(15_000)
}

pub const MOCK_CONNECTOR_TRACE: &str = "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockConnector.lambda$start$0(MockConnector.java:80)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ScheduledThreadPoolExecutor$ScheduledFutureTask.run(ScheduledThreadPoolExecutor.java:304)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

pub const MOCK_SOURCE_TASK_TRACE: &str = "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockSourceTask.poll(MockSourceTask.java:66)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.poll(AbstractWorkerSourceTask.java:483)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.execute(AbstractWorkerSourceTask.java:366)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:243)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.run(AbstractWorkerSourceTask.java:83)\n\tat org.apache.kafka.connect.runtime.isolation.Plugins.lambda$withClassLoader$0(Plugins.java:252)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

pub const MOCK_SINK_TASK_TRACE: &str = "java.lang.RuntimeException\n\tat org.apache.kafka.connect.tools.MockSinkTask.put(MockSinkTask.java:62)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:606)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.poll(WorkerSinkTask.java:345)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.iteration(WorkerSinkTask.java:247)\n\tat org.apache.kafka.connect.runtime.WorkerSinkTask.execute(WorkerSinkTask.java:216)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:243)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";

pub const VERIFIABLE_SOURCE_TASK_TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: Invalid VerifiableSourceTask configuration\n\tat org.apache.kafka.connect.tools.VerifiableSourceTask.start(VerifiableSourceTask.java:93)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.initializeAndStart(AbstractWorkerSourceTask.java:288)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doStart(WorkerTask.java:191)\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:242)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat org.apache.kafka.connect.runtime.AbstractWorkerSourceTask.run(AbstractWorkerSourceTask.java:83)\n\tat org.apache.kafka.connect.runtime.isolation.Plugins.lambda$withClassLoader$0(Plugins.java:252)\n\tat java.base/java.util.concurrent.Executors$RunnableAdapter.call(Executors.java:539)\n\tat java.base/java.util.concurrent.FutureTask.run(FutureTask.java:264)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor.runWorker(ThreadPoolExecutor.java:1136)\n\tat java.base/java.util.concurrent.ThreadPoolExecutor$Worker.run(ThreadPoolExecutor.java:635)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\nCaused by: java.lang.NumberFormatException: Cannot parse null string\n\tat java.base/java.lang.Long.parseLong(Long.java:674)\n\tat java.base/java.lang.Long.parseLong(Long.java:836)\n\tat org.apache.kafka.connect.tools.VerifiableSourceTask.start(VerifiableSourceTask.java:91)\n\t... 11 more\n";

/// The trace of a failure injected through the admin endpoint without one.
pub const INJECTED_TRACE: &str = "org.apache.kafka.connect.errors.ConnectException: failure injected by kco-connect-emulator\n\tat org.apache.kafka.connect.runtime.WorkerTask.doRun(WorkerTask.java:243)\n\tat org.apache.kafka.connect.runtime.WorkerTask.run(WorkerTask.java:298)\n\tat java.base/java.lang.Thread.run(Thread.java:840)\n";
