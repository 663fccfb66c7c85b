//! `ConnectState`: a connector's or task's state as Connect reports it, read tolerantly.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// Absent or `null`: Connect said nothing about the state.
    #[default]
    Unknown,
    /// A word this operator does not know.
    Other(String),
}

impl ConnectState {
    /// A state Connect documents (not absent, not a word unknown to this operator).
    pub fn is_known(&self) -> bool {
        Self::KNOWN.contains(self)
    }

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
            ConnectState::Unknown => "UNKNOWN",
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

/// Read as its word wherever a string is wanted (`status.state.as_deref()`, comparisons
/// with Connect's spelling in tests and scripts).
impl std::ops::Deref for ConnectState {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for ConnectState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A plain string in the CRDs' schemas: Connect may report a state this version does not
/// know, and status shows it as reported.
impl schemars::JsonSchema for ConnectState {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ConnectState".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string"})
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
