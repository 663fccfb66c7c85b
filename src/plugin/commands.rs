//! The plugin's commands: each reads what it needs (Kubernetes with the user's kubeconfig,
//! Connect at the cluster object's URL), then prints or writes through `show.rs`/`import.rs`.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use clap::CommandFactory;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

use super::import::{Live, import};
use super::show;
use super::{
    Cli, Command, DiffArgs, ImportArgs, KubeFlags, OffsetsArgs, OffsetsChange, Output, RestartArgs,
};
use crate::api::{KafkaConnectCluster, KafkaConnector};
use crate::connect::ConnectClient;
use crate::controller::connector::{desired_config, resolve_config_from};
use crate::controller::credentials::resolve_settings;
use crate::mask::Masks;

const MANAGER: &str = "kubectl-kafkaconnect";

pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    if let Command::Completion { shell } = &cli.command {
        let mut cmd = Cli::command();
        clap_complete::generate(
            *shell,
            &mut cmd,
            "kubectl-kafkaconnect",
            &mut std::io::stdout(),
        );
        return Ok(0);
    }
    let (client, ns) = kube_client(&cli.kube).await?;
    let out = cli.kube.output;
    match cli.command {
        Command::Import(a) => import_cmd(&client, &ns, a, out).await,
        Command::Diff(a) => diff_cmd(&client, &ns, a).await,
        Command::Restart(a) => restart_cmd(&client, &ns, a, out).await,
        Command::Offsets(a) => offsets_cmd(&client, &ns, a, out).await,
        Command::Describe(a) => {
            let obj = connectors(&client, &ns).get(&a.name).await?;
            match out {
                Output::Table => print!("{}", show::describe(&obj)),
                _ => print_value(&serde_json::to_value(&obj)?, out)?,
            }
            Ok(0)
        }
        Command::Completion { .. } => unreachable!("handled above"),
    }
}

async fn kube_client(flags: &KubeFlags) -> anyhow::Result<(Client, String)> {
    let options = KubeConfigOptions {
        context: flags.context.clone(),
        ..Default::default()
    };
    let config = match &flags.kubeconfig {
        Some(path) => {
            Config::from_custom_kubeconfig(Kubeconfig::read_from(path)?, &options).await?
        }
        None => Config::from_kubeconfig(&options).await?,
    };
    let ns = flags
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    Ok((Client::try_from(config)?, ns))
}

fn connectors(client: &Client, ns: &str) -> Api<KafkaConnector> {
    Api::namespaced(client.clone(), ns)
}

/// A client of the Connect that cluster object `ns/name` names, with the credentials it names
/// (read with the user's rights).
async fn connect_for(client: &Client, ns: &str, name: &str) -> anyhow::Result<ConnectClient> {
    let clusters: Api<KafkaConnectCluster> = Api::namespaced(client.clone(), ns);
    let cluster = clusters.get(name).await?;
    let settings = resolve_settings(client, &cluster, &[]).await?;
    Ok(settings.build()?)
}

fn print_value(v: &Value, out: Output) -> anyhow::Result<()> {
    match out {
        Output::Json => println!("{}", serde_json::to_string_pretty(v)?),
        _ => print!("{}", serde_saphyr::to_string(v)?),
    }
    Ok(())
}

async fn import_cmd(client: &Client, ns: &str, a: ImportArgs, out: Output) -> anyhow::Result<i32> {
    let connect = connect_for(client, ns, &a.cluster).await?;
    let listed = connect.list_expanded().await?;
    let live: Vec<Live> = listed
        .into_iter()
        .filter_map(|(name, e)| {
            let info = e.info?;
            let state = e.status.map(|s| s.connector.state);
            Some(Live {
                name,
                config: info.config,
                state,
            })
        })
        .collect();
    let imported = import(&live, &a.cluster, None, &a.selector);
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    let docs: Vec<&Value> = imported
        .connectors
        .iter()
        .chain(&imported.secrets)
        .collect();
    match out {
        Output::Json => {
            let list = json!({"apiVersion": "v1", "kind": "List", "items": docs});
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Output::Yaml => print!("{}", serde_saphyr::to_string_multiple(&docs)?),
        Output::Table => {
            // The manifests are the point: YAML, with a summary on stderr.
            print!("{}", serde_saphyr::to_string_multiple(&docs)?);
            eprintln!(
                "{} KafkaConnector(s), {} Secret(s) from KafkaConnectCluster {ns}/{}",
                imported.connectors.len(),
                imported.secrets.len(),
                a.cluster
            );
        }
    }
    Ok(0)
}

async fn diff_cmd(client: &Client, ns: &str, a: DiffArgs) -> anyhow::Result<i32> {
    let obj: KafkaConnector = match (&a.name, &a.filename) {
        (Some(name), _) => connectors(client, ns).get(name).await?,
        (None, Some(path)) => {
            let text = match path.to_str() {
                Some("-") => std::io::read_to_string(std::io::stdin())?,
                _ => std::fs::read_to_string(path)?,
            };
            let mut obj: KafkaConnector = serde_saphyr::from_str(&text)?;
            obj.metadata.namespace.get_or_insert_with(|| ns.to_string());
            obj
        }
        (None, None) => anyhow::bail!("name a KafkaConnector, or give -f FILE"),
    };
    let ns = obj
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| ns.to_string());
    let name = obj.connector_name();
    let mut desired = desired_config(&obj.spec, &name);
    let values = resolve_config_from(client, &ns, &obj.spec.config_from, None).await?;
    desired.extend(values.values);
    let (cluster_ns, cluster) = obj.cluster_key();
    let connect = connect_for(client, &cluster_ns, &cluster).await?;
    let live: BTreeMap<String, String> = match connect.get(&name).await {
        Ok(info) => info.config,
        Err(crate::Error::NotFound(_)) => {
            println!("# connector {name} is not in Connect: applying creates it");
            BTreeMap::new()
        }
        Err(e) => return Err(e.into()),
    };
    let masks = Masks::of_config(&desired)
        .with(values.secret)
        .and(&Masks::of_config(&live));
    let text = show::diff(&desired, &live, &masks);
    print!("{text}");
    Ok(if text.is_empty() { 0 } else { 1 })
}

/// Writes `patch` (or prints it for Git), then waits until `served` reads the outcome from
/// status: `Some(Ok)` served, `Some(Err)` refused.
async fn request(
    api: &Api<KafkaConnector>,
    name: &str,
    patch: Value,
    dry_run: bool,
    timeout: Duration,
    served: impl Fn(&KafkaConnector) -> Option<Result<String, String>>,
) -> anyhow::Result<i32> {
    if dry_run {
        print!("{}", serde_saphyr::to_string(&patch)?);
        return Ok(0);
    }
    let pp = PatchParams {
        field_manager: Some(MANAGER.into()),
        ..Default::default()
    };
    api.patch(name, &pp, &Patch::Merge(&patch)).await?;
    let deadline = Instant::now() + timeout;
    let mut stderr = std::io::stderr();
    while Instant::now() < deadline {
        let obj = api.get(name).await?;
        match served(&obj) {
            Some(Ok(text)) => {
                println!("{text}");
                return Ok(0);
            }
            Some(Err(text)) => {
                println!("{text}");
                return Ok(1);
            }
            None => {
                let _ = write!(stderr, ".");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    eprintln!(
        "\nnot served within {}: the request stays in the spec, and the operator serves it once",
        humantime::format_duration(timeout)
    );
    Ok(1)
}

async fn restart_cmd(
    client: &Client,
    ns: &str,
    a: RestartArgs,
    _out: Output,
) -> anyhow::Result<i32> {
    let id = show::request_id("restart");
    let patch = show::restart_patch(&id, a.tasks, a.failed, a.task);
    let api = connectors(client, ns);
    request(&api, &a.name, patch, a.dry_run, *a.timeout, |o| {
        let st = o.status.as_ref()?;
        (st.last_restart_id.as_deref() == Some(id.as_str())).then(|| {
            let state = st
                .state
                .as_ref()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            match &st.last_restart_error {
                None => Ok(format!(
                    "restart {id} served; connector {state}, tasks {}",
                    st.tasks_ready.as_deref().unwrap_or("-")
                )),
                Some(e) => Err(format!("restart {id} failed: {e}")),
            }
        })
    })
    .await
}

async fn offsets_cmd(
    client: &Client,
    ns: &str,
    a: OffsetsArgs,
    out: Output,
) -> anyhow::Result<i32> {
    let api = connectors(client, ns);
    let (alter, args) = match a.change {
        None => {
            let obj = api.get(&a.name).await?;
            let (cluster_ns, cluster) = obj.cluster_key();
            let connect = connect_for(client, &cluster_ns, &cluster).await?;
            let offsets = connect.offsets(&obj.connector_name()).await?;
            let v = serde_json::to_value(&offsets)?;
            match out {
                Output::Table => {
                    for e in v["offsets"].as_array().into_iter().flatten() {
                        println!("{}\t{}", e["partition"], e["offset"]);
                    }
                }
                _ => print_value(&v, out)?,
            }
            return Ok(0);
        }
        Some(OffsetsChange::Reset(args)) => (None, args),
        Some(OffsetsChange::Alter { filename, args }) => {
            let text = match filename.to_str() {
                Some("-") => std::io::read_to_string(std::io::stdin())?,
                _ => std::fs::read_to_string(&filename)?,
            };
            (Some(show::offsets_entries(&text)?), args)
        }
    };
    let id = show::request_id("offsets");
    let patch = show::offsets_patch(&id, alter);
    request(&api, &a.name, patch, args.dry_run, *args.timeout, |o| {
        let st = o.status.as_ref()?.offsets.as_ref()?;
        (st.last_request_id.as_deref() == Some(id.as_str())).then(|| {
            let result = st
                .result
                .as_ref()
                .map(|r| format!("{r:?}"))
                .unwrap_or_default();
            let text = format!(
                "offsets request {id}: {result}{}",
                st.message
                    .as_ref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            );
            match result.as_str() {
                "Failed" => Err(text),
                _ => Ok(text),
            }
        })
    })
    .await
}
