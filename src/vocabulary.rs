//! The words the operator shares with its readers: Connect's states, the reasons of our
//! conditions, and the reasons of our Events. Argo CD health scripts, alert rules and
//! dashboards match on these strings, so their only spelling is here (a test checks the
//! scripts and the README against these lists).

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
        // The cluster and how to reach it.
        ClusterNotFound,
        MissingReference,
        InvalidTls,
        /// KafkaConnectCluster `Ready=True`.
        Available,
        // Errors, one per `Error` variant (see `Error::reason`).
        NotFound,
        AlreadyExists,
        Rebalancing,
        ConnectUnavailable,
        ConnectRejected,
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
        ValidationFailed,
        Deleted,
        Orphaned,
        HandedOver,
        DeletedUnmanaged,
        ClusterGone,
    }
}

/// A connector's or task's state as Connect reports it. Anything Connect may add later is
/// kept as `Other`, never an error: an unknown word proves nothing about the connector.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum ConnectState {
    Running,
    Paused,
    Stopped,
    Failed,
    Unassigned,
    Restarting,
    /// Absent, `null`, or a word this operator does not know.
    #[default]
    Unknown,
    Other(String),
}

impl ConnectState {
    /// Every state Connect documents (for metrics that must list zeros too).
    pub const KNOWN: [ConnectState; 6] = [
        ConnectState::Running,
        ConnectState::Paused,
        ConnectState::Stopped,
        ConnectState::Failed,
        ConnectState::Unassigned,
        ConnectState::Restarting,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            ConnectState::Running => "RUNNING",
            ConnectState::Paused => "PAUSED",
            ConnectState::Stopped => "STOPPED",
            ConnectState::Failed => "FAILED",
            ConnectState::Unassigned => "UNASSIGNED",
            ConnectState::Restarting => "RESTARTING",
            ConnectState::Unknown => "",
            ConnectState::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Self {
        Self::KNOWN
            .iter()
            .find(|k| k.as_str() == s)
            .cloned()
            .unwrap_or_else(|| match s {
                "" => ConnectState::Unknown,
                other => ConnectState::Other(other.to_string()),
            })
    }
}

impl std::fmt::Display for ConnectState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ConnectState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ConnectState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        Ok(s.map_or(ConnectState::Unknown, |s| ConnectState::parse(&s)))
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
}
