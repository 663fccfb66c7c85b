//! The words the operator shares with its readers: Connect's states, the reasons of our
//! conditions, and the reasons of our Events. Argo CD health scripts, alert rules and
//! dashboards match on these strings, so their only spelling is here (a test checks the
//! scripts and the README against these lists).

mod connect_state;

pub use connect_state::ConnectState;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a fieldless enum whose string form is the variant's name, with `ALL` and serde.
macro_rules! words {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant),)* }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|w| w.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {}: {s}", stringify!($name)))
                })
            }
        }
    };
}

words! {
    /// The `action` of an Event: what the operator did, or tried, to the object's connector.
    pub enum EventAction {
        Read,
        Validate,
        Create,
        Update,
        Pause,
        Resume,
        Stop,
        Restart,
        RestartTask,
        AutoRestart,
        Offsets,
        Adopt,
        Delete,
        Reconcile,
    }
}

words! {
    /// The `reason` of a condition (and of the Warning Event of a failed reconcile).
    pub enum Reason {
        // Ready=True, by desired state.
        Running,
        Paused,
        Stopped,
        // On the way.
        Starting,
        Progressing,
        TasksStarting,
        /// `Reconciling=False`.
        Idle,
        // Connect reports a failure.
        ConnectorFailed,
        TasksFailed,
        AutoRestartExhausted,
        // Someone must change something.
        InvalidSpec,
        InvalidConfig,
        Conflict,
        /// The spec asks for what the worker's Connect version cannot do.
        Unsupported,
        /// The pause-reconciliation annotation is set: the operator writes nothing.
        ReconciliationPaused,
        // The cluster and how to reach it.
        ClusterNotFound,
        MissingReference,
        InvalidTls,
        /// A Secret the cluster's auth names does not name the cluster: not read.
        SecretNotShared,
        /// `spec.url` is not among the operator's allowed URLs: no request is sent to it.
        UrlNotAllowed,
        /// The KafkaConnectCluster does not allow this KafkaConnector's namespace
        /// (`allowedNamespaces`): nothing is written.
        NamespaceNotAllowed,
        /// Another writer keeps changing the connector: reverts are held for a while.
        Contested,
        /// `clusterRef` changed: the connector is being moved there with its offsets.
        Moving,
        /// `clusterRef` changed, and the move cannot be made (a worker too old, the name
        /// taken on the new cluster, the old cluster object gone): nothing was written.
        MoveRefused,
        /// `Drifted=True` (`driftPolicy: Report`): the config in Connect differs from the
        /// spec, left as it is.
        DriftReported,
        /// `Drifted=False`: the config in Connect is the spec's.
        InSync,
        /// `Flowing=True` (`progress` watched): the connector's offsets moved within the window.
        OffsetsMoving,
        /// `Flowing=False`: RUNNING, but its offsets have not moved for the window.
        NoProgress,
        /// Credentials are sent over plain http://.
        PlainHttp,
        /// KafkaConnectCluster being deleted, kept while KafkaConnectors still use it.
        ClusterInUse,
        /// `unmanagedConnectors: Delete` cannot be honoured safely: nothing was deleted.
        UnmanagedDeleteRefused,
        /// KafkaConnectCluster `Ready=True`.
        Available,
        /// KafkaConnectCluster `Ready=False`: `GET /health` answers 500 (its herder is stuck).
        Unhealthy,
        // Errors, one per `Error` variant (see `Error::reason`).
        NotFound,
        AlreadyExists,
        Rebalancing,
        ConnectUnavailable,
        ConnectRejected,
        ConnectServerError,
        Unauthorized,
        UnexpectedResponse,
        KubernetesError,
        SerializationError,
        FinalizerError,
        Timeout,
    }
}

words! {
    /// The `reason` of a Normal or Warning Event about something the operator did.
    pub enum EventReason {
        Created,
        ConfigUpdated,
        Paused,
        Resumed,
        Stopped,
        Restarted,
        AutoRestarted,
        RestartFailed,
        OffsetsReset,
        OffsetsAltered,
        OffsetsFailed,
        ValidationFailed,
        Deleted,
        Orphaned,
        HandedOver,
        DeletedUnmanaged,
        ClusterGone,
        LeftBehind,
        Adopted,
        NeverOwned,
        DriftDetected,
        DriftEnded,
        NoProgress,
        ProgressResumed,
        Moved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(*r));
        }
        for r in EventReason::ALL {
            assert_eq!(EventReason::parse(r.as_str()), Some(*r));
        }
        for s in ConnectState::KNOWN {
            assert_eq!(ConnectState::parse(s.as_str()), s);
        }
        let odd: ConnectState = serde_json::from_str("\"DRAINING\"").unwrap();
        assert_eq!(odd, ConnectState::Other("DRAINING".into()));
        let null: ConnectState = serde_json::from_str("null").unwrap();
        assert_eq!(null, ConnectState::Unknown);
    }

    fn read(path: &str) -> String {
        let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
    }

    /// Words between backticks in `text`.
    fn quoted(text: &str) -> Vec<&str> {
        text.split('`').skip(1).step_by(2).collect()
    }

    /// The README's reasons table lists every `Reason` exactly once, and nothing else.
    #[test]
    fn the_readme_reason_table_is_the_vocabulary() {
        let readme = read("README.md");
        let start = readme
            .find("| reason | on | means |")
            .expect("reason table");
        let rows = readme[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'));
        let mut listed: Vec<&str> = rows
            .flat_map(|row| quoted(row.split('|').nth(1).unwrap_or_default()))
            .collect();
        listed.sort();
        let mut all: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        all.sort();
        assert_eq!(listed, all, "README reason table vs vocabulary::Reason");
    }

    /// The README's Events paragraph names every `EventReason` and only those; the error
    /// reasons and states it quotes elsewhere exist.
    #[test]
    fn the_readme_events_reasons_and_alerts_use_the_vocabulary() {
        let readme = read("README.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let events = readme
            .split("**Events**:")
            .nth(1)
            .expect("Events paragraph");
        let (names, rest) = events
            .split_once(", and Warning Events")
            .expect("Events list");
        let mut listed: Vec<&str> = names.split(',').map(str::trim).collect();
        listed.sort();
        let mut all: Vec<&str> = EventReason::ALL.iter().map(|r| r.as_str()).collect();
        all.sort();
        assert_eq!(listed, all, "README Events vs vocabulary::EventReason");
        let warnings = rest.split("**Logs**").next().unwrap_or_default();
        let such_as = readme
            .split("reasons such as")
            .nth(1)
            .expect("reasons such as");
        let errors_row = readme
            .split("| `kco_reconcile_errors_total`")
            .nth(1)
            .and_then(|r| r.split(" | ").nth(2))
            .expect("errors metric row");
        let texts = [
            warnings,
            such_as.split(')').next().unwrap_or_default(),
            errors_row,
        ];
        for word in texts.iter().flat_map(|t| quoted(t)) {
            if word.starts_with(|c: char| c.is_ascii_uppercase()) && word != "..." {
                assert!(
                    Reason::parse(word).is_some(),
                    "README names unknown reason {word}"
                );
            }
        }
        for part in readme.split("state=\"").skip(1) {
            let state = part.split('"').next().unwrap_or_default();
            assert!(
                !matches!(ConnectState::parse(state), ConnectState::Other(_)),
                "README alert rule matches unknown state {state}"
            );
        }
    }

    /// The Argo CD health scripts compare only states and reasons the operator writes.
    #[test]
    fn the_argocd_scripts_use_the_vocabulary() {
        for path in [
            "deploy/argocd/kafkaconnect.dev_KafkaConnector.lua",
            "deploy/argocd/kafkaconnect.dev_KafkaConnectCluster.lua",
        ] {
            let lua = read(path);
            let mut checked = 0;
            for part in lua.split("state == \"").skip(1) {
                let state = part.split('"').next().unwrap_or_default();
                assert!(
                    !matches!(ConnectState::parse(state), ConnectState::Other(_)),
                    "{path}: unknown state {state}"
                );
                checked += 1;
            }
            for part in lua.split("reason == \"").skip(1) {
                let word = part.split('"').next().unwrap_or_default();
                assert!(
                    Reason::parse(word).is_some(),
                    "{path}: unknown reason {word}"
                );
                checked += 1;
            }
            if let Some(table) = lua.split("progressingReasons = {").nth(1) {
                let table = table.split('}').next().unwrap_or_default();
                for entry in table.split(',') {
                    let word = entry.split('=').next().unwrap_or_default().trim();
                    assert!(
                        Reason::parse(word).is_some(),
                        "{path}: unknown reason {word}"
                    );
                    checked += 1;
                }
            }
            for part in lua.split("condition(status, \"").skip(1) {
                let t = part.split('"').next().unwrap_or_default();
                assert!(
                    [
                        crate::api::conditions::READY,
                        crate::api::conditions::STALLED
                    ]
                    .contains(&t),
                    "{path}: unknown condition type {t}"
                );
                checked += 1;
            }
            assert!(
                checked > 0,
                "{path}: nothing checked: has the script changed shape?"
            );
        }
    }
}
