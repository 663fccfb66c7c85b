//! A test's world: a fresh namespace with the CRDs, a KafkaConnectCluster, an operator
//! watching only that namespace, and the ways to apply, wait for and read KafkaConnectors.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kco::api::{KafkaConnectCluster, KafkaConnector};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};

use super::{
    Connect, Operator, cluster_object, connector_object, env, eventually, install_operator_crds,
    is_ready, kube, namespace, tls_file,
};

pub struct Scenario {
    pub client: Client,
    pub ns: String,
    pub connectors: Api<KafkaConnector>,
    pub clusters: Api<KafkaConnectCluster>,
    pub connect: Connect,
    pub operator: Operator,
}

impl Scenario {
    /// A namespace with the CRDs installed, a KafkaConnectCluster `local` pointing at
    /// worker 1, and an operator watching only this namespace.
    pub async fn new(prefix: &str, operator_args: &[&str]) -> Self {
        let s = Self::without_cluster(prefix, operator_args).await;
        s.apply_cluster(json!({"url": env("CONNECT_URL")})).await;
        s
    }

    pub async fn without_cluster(prefix: &str, operator_args: &[&str]) -> Self {
        let args: Vec<String> = operator_args.iter().map(|a| a.to_string()).collect();
        Self::custom(prefix, |_, _| async move { (args, vec![]) }).await
    }

    /// `setup` gets the client and the fresh namespace and returns the operator's extra
    /// arguments and environment (e.g. a KUBECONFIG with another identity).
    pub async fn custom<F, Fut>(prefix: &str, setup: F) -> Self
    where
        F: FnOnce(Client, String) -> Fut,
        Fut: Future<Output = (Vec<String>, Vec<(String, String)>)>,
    {
        let client = kube().await;
        install_operator_crds(&client).await;
        let ns = namespace(&client, prefix).await;
        let (args, envs) = setup(client.clone(), ns.clone()).await;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let envs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let operator = Operator::start_with_env(&ns, &args, &envs).await;
        Scenario {
            connectors: Api::namespaced(client.clone(), &ns),
            clusters: Api::namespaced(client.clone(), &ns),
            client,
            connect: Connect::worker(1),
            ns,
            operator,
        }
    }

    /// The Secret `connect-basic`: the stack's basic-auth user with `password`, shared with
    /// the KafkaConnectCluster `local` (annotation `kafkaconnect.dev/clusters`).
    pub async fn apply_basic_secret(&self, password: &str) {
        let basic = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "connect-basic", "annotations": {"kafkaconnect.dev/clusters": "local"}},
            "stringData": {"username": env("CONNECT_BASIC_USER"), "password": password}});
        self.secrets()
            .patch(
                "connect-basic",
                &Self::apply_params(),
                &Patch::Apply(&basic),
            )
            .await
            .unwrap();
    }

    /// Secrets and a ConfigMap for the stack's TLS + basic-auth worker; returns the
    /// KafkaConnectCluster spec that uses them.
    pub async fn install_tls_material(&self, password: &str) -> Value {
        let pp = Self::apply_params();
        self.apply_basic_secret(password).await;
        let client = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "connect-client", "annotations": {"kafkaconnect.dev/clusters": "local"}},
            "type": "kubernetes.io/tls", "stringData": {"tls.crt": tls_file("client.crt"), "tls.key": tls_file("client.key")}});
        self.secrets()
            .patch("connect-client", &pp, &Patch::Apply(&client))
            .await
            .unwrap();
        let ca = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "connect-ca"}, "data": {"ca.crt": tls_file("ca.crt")}});
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), &self.ns);
        cms.patch("connect-ca", &pp, &Patch::Apply(&ca))
            .await
            .unwrap();
        json!({"url": env("CONNECT_URL_TLS"),
            "auth": {"basic": {"secretName": "connect-basic"}},
            "tls": {"ca": {"configMapName": "connect-ca"}, "clientCertificateSecret": "connect-client"}})
    }

    pub fn secrets(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.ns)
    }

    fn apply_params() -> PatchParams {
        PatchParams::apply("kco-tests").force()
    }

    /// Server-side applies the KafkaConnectCluster `local`.
    pub async fn apply_cluster(&self, spec: Value) {
        self.try_apply_cluster("local", spec)
            .await
            .expect("apply cluster");
    }

    pub async fn try_apply_cluster(
        &self,
        name: &str,
        spec: Value,
    ) -> Result<KafkaConnectCluster, kube::Error> {
        let obj = cluster_object(name, spec);
        self.clusters
            .patch(name, &Self::apply_params(), &Patch::Apply(&obj))
            .await
    }

    /// Waits (60 s) until the KafkaConnectCluster `local` has the condition Ready=`want`,
    /// with `reason` if one is given.
    pub async fn wait_cluster_ready(&self, want: &str, reason: Option<&str>) {
        eventually(
            &format!("cluster Ready={want} {reason:?}"),
            Duration::from_secs(60),
            || async {
                let c = self.clusters.get("local").await.ok()?;
                c.status?
                    .conditions
                    .iter()
                    .any(|c| {
                        c.type_ == "Ready"
                            && c.status == want
                            && reason.is_none_or(|r| c.reason == r)
                    })
                    .then_some(())
            },
        )
        .await
    }

    /// Server-side applies a KafkaConnector; `spec` gets `clusterRef: local` unless it has one.
    pub async fn apply(&self, name: &str, mut spec: Value) -> KafkaConnector {
        if spec.get("clusterRef").is_none() {
            spec["clusterRef"] = json!({"name": "local"});
        }
        self.try_apply(name, spec).await.expect("apply connector")
    }

    pub async fn try_apply(&self, name: &str, spec: Value) -> Result<KafkaConnector, kube::Error> {
        let obj = connector_object(name, spec);
        self.connectors
            .patch(name, &Self::apply_params(), &Patch::Apply(&obj))
            .await
    }

    /// Sets the annotation `test/poke` on a KafkaConnector: a change that makes the
    /// operator reconcile it without touching its spec.
    pub async fn poke(&self, name: &str, value: &str) {
        let patch = json!({"metadata": {"annotations": {"test/poke": value}}});
        self.connectors
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .unwrap();
    }

    /// Waits until the KafkaConnector satisfies `pred`; prints the last status on timeout.
    pub async fn wait(
        &self,
        name: &str,
        what: &str,
        pred: impl Fn(&KafkaConnector) -> bool,
    ) -> KafkaConnector {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut last = None;
        loop {
            if let Ok(obj) = self.connectors.get(name).await {
                if pred(&obj) {
                    return obj;
                }
                last = Some(obj);
            }
            if Instant::now() > deadline {
                let status = last
                    .and_then(|o| o.status)
                    .map(|s| serde_json::to_string_pretty(&s).unwrap());
                panic!(
                    "{name}: timed out waiting for {what}; last status: {status:#?}\noperator log tail:\n{}",
                    self.operator_log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Deletes a KafkaConnector and waits until it is gone (its finalizer ran).
    pub async fn delete_and_wait(&self, name: &str) {
        self.connectors
            .delete(name, &Default::default())
            .await
            .expect("delete KafkaConnector");
        eventually(&format!("{name} gone"), Duration::from_secs(60), || async {
            self.connectors
                .get_opt(name)
                .await
                .unwrap()
                .is_none()
                .then_some(())
        })
        .await;
    }

    pub async fn wait_ready(&self, name: &str) -> KafkaConnector {
        self.wait(name, "Ready=True at the current generation", |o| {
            is_ready(o)
        })
        .await
    }

    pub fn operator_log_tail(&self) -> String {
        let logs = self.operator.logs();
        let lines: Vec<&str> = logs.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// A connector name unique to this test, so parallel tests never collide in Connect.
    pub fn unique(&self, base: &str) -> String {
        format!("{}-{base}", self.ns)
    }

    /// The namespace's Events as (reason, note).
    pub async fn events(&self) -> Vec<(String, String)> {
        let api: Api<k8s_openapi::api::events::v1::Event> =
            Api::namespaced(self.client.clone(), &self.ns);
        api.list(&Default::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }

    /// The reasons of the namespace's Events.
    pub async fn event_reasons(&self) -> Vec<String> {
        self.events().await.into_iter().map(|e| e.0).collect()
    }
}

/// Deletes every KafkaConnector of `api`'s namespace and waits until they are gone (the
/// operator runs their finalizers: it deletes their connectors from Connect), at most `timeout`.
pub async fn delete_all(api: &Api<KafkaConnector>, timeout: Duration) {
    let _ = api
        .delete_collection(&DeleteParams::default(), &ListParams::default())
        .await;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        match api.list(&ListParams::default()).await {
            Ok(l) if l.items.is_empty() => return,
            // A delete of thousands at once can stop part-way (the apiserver's request
            // timeout): those left without a deletion mark are asked again.
            Ok(l)
                if l.items
                    .iter()
                    .any(|o| o.metadata.deletion_timestamp.is_none()) =>
            {
                let _ = api
                    .delete_collection(&DeleteParams::default(), &ListParams::default())
                    .await;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    eprintln!("cleanup: KafkaConnectors still present after {timeout:?}");
}

/// A test's connectors must not outlive it on the shared workers: a MockSourceConnector's task
/// polls in a busy loop, so every one left running slows every later test on 2 cores. The
/// operator goes first (it would re-create what is deleted), then every connector named after
/// this scenario's namespace is deleted from both worker URLs of the group. Blocking `curl`:
/// `Drop` cannot await.
impl Drop for Scenario {
    fn drop(&mut self) {
        self.operator.start_kill();
        std::thread::sleep(Duration::from_millis(200));
        let url = env("CONNECT_URL");
        let Ok(out) = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10", &format!("{url}/connectors")])
            .output()
        else {
            return;
        };
        let names: Vec<String> = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let prefix = format!("{}-", self.ns);
        for name in names.iter().filter(|n| n.starts_with(&prefix)) {
            let path = url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>();
            let _ = std::process::Command::new("curl")
                .args(["-s", "-o", "/dev/null", "--max-time", "10", "-X", "DELETE"])
                .arg(format!("{url}/connectors/{}", path.replace('+', "%20")))
                .output();
        }
    }
}
