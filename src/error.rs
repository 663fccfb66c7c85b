//! The operator's one error type. Each variant has a stable `label()` used as the
//! `reason` of metrics and conditions, so dashboards and alerts survive message changes.

use std::time::Duration;

use crate::vocabulary::Reason;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connector (or task) does not exist in Connect.
    #[error("not found in Connect: {0}")]
    NotFound(String),
    /// `POST /connectors` for a name that exists.
    #[error("connector already exists: {0}")]
    AlreadyExists(String),
    /// 409 during a rebalance, or a 500 that Connect documents as momentary.
    #[error("Connect is rebalancing: {0}")]
    Rebalancing(String),
    /// Connection refused, timeout, 502/503/504: the REST API did not answer usefully.
    #[error("Connect REST API unavailable: {0}")]
    Unavailable(String),
    /// A 500 with Connect's own error body that is neither momentary nor about what we sent:
    /// Connect took the request and failed carrying it out (e.g. a restart that threw).
    /// Retried like an outage for reads and writes that can be repeated; a restart answered
    /// so is served (restarting again would not be the user's one restart).
    #[error("Connect failed to carry out the request (HTTP 500): {0}")]
    ServerError(String),
    /// 400, or a 500 that carries a configuration problem (e.g. unknown connector class).
    #[error("Connect rejected the request: {0}")]
    Rejected(String),
    /// 401 or 403 from the REST API.
    #[error("Connect refused our credentials (HTTP {0})")]
    Unauthorized(u16),
    /// Any other status code, or a body we could not read.
    #[error("unexpected answer from Connect (HTTP {status}): {message}")]
    Unexpected { status: u16, message: String },
    #[error("KafkaConnectCluster {0} not found")]
    ClusterNotFound(String),
    /// A Secret, ConfigMap or key that the cluster's auth or TLS settings name.
    #[error("{0}")]
    MissingReference(String),
    /// A Secret the cluster's auth names does not name the cluster (see `references::SHARED_WITH`).
    #[error("{0}")]
    SecretNotShared(String),
    #[error("invalid TLS material: {0}")]
    InvalidTls(String),
    /// `spec.url` is not among the operator's allowed URLs (`--allowed-urls`).
    #[error("{0}")]
    UrlNotAllowed(String),
    /// The KafkaConnectCluster a KafkaConnector names does not allow its namespace.
    #[error("{0}")]
    NamespaceNotAllowed(String),
    #[error("Kubernetes API error: {0}")]
    Kube(#[from] kube::Error),
    #[error("serialisation error: {0}")]
    Serialization(#[from] serde_json::Error),
    #[error("finalizer error: {0}")]
    Finalizer(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// A step that must wait for Connect to get somewhere first (a connector to show STOPPED
    /// before its offsets are reset): retried like a timeout.
    #[error("{0}")]
    NotYet(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The stable reason of this error, for conditions, Events and metrics labels.
    pub fn reason(&self) -> Reason {
        match self {
            Error::NotFound(_) => Reason::NotFound,
            Error::AlreadyExists(_) => Reason::AlreadyExists,
            Error::Rebalancing(_) => Reason::Rebalancing,
            Error::Unavailable(_) => Reason::ConnectUnavailable,
            Error::ServerError(_) => Reason::ConnectServerError,
            Error::Rejected(_) => Reason::ConnectRejected,
            Error::Unauthorized(_) => Reason::Unauthorized,
            Error::Unexpected { .. } => Reason::UnexpectedResponse,
            Error::ClusterNotFound(_) => Reason::ClusterNotFound,
            Error::MissingReference(_) => Reason::MissingReference,
            Error::InvalidTls(_) => Reason::InvalidTls,
            Error::SecretNotShared(_) => Reason::SecretNotShared,
            Error::UrlNotAllowed(_) => Reason::UrlNotAllowed,
            Error::NamespaceNotAllowed(_) => Reason::NamespaceNotAllowed,
            Error::Kube(_) => Reason::KubernetesError,
            Error::Serialization(_) => Reason::SerializationError,
            Error::Finalizer(_) => Reason::FinalizerError,
            Error::Timeout(_) | Error::NotYet(_) => Reason::Timeout,
        }
    }

    /// `reason()` as a string: the low-cardinality label of metrics.
    pub fn label(&self) -> &'static str {
        self.reason().as_str()
    }

    /// The same error with every value of `masks` hidden in its messages (Connect's answers
    /// may echo config values; a Kubernetes error carries none of ours).
    pub fn masked(self, masks: &crate::mask::Masks) -> Self {
        let m = |s: String| masks.apply(&s);
        match self {
            Error::NotFound(s) => Error::NotFound(m(s)),
            Error::AlreadyExists(s) => Error::AlreadyExists(m(s)),
            Error::Rebalancing(s) => Error::Rebalancing(m(s)),
            Error::Unavailable(s) => Error::Unavailable(m(s)),
            Error::ServerError(s) => Error::ServerError(m(s)),
            Error::Rejected(s) => Error::Rejected(m(s)),
            Error::Unexpected { status, message } => Error::Unexpected {
                status,
                message: m(message),
            },
            Error::MissingReference(s) => Error::MissingReference(m(s)),
            Error::InvalidTls(s) => Error::InvalidTls(m(s)),
            Error::Finalizer(s) => Error::Finalizer(m(s)),
            other => other,
        }
    }

    /// Connect answered, in its own words, that it did not or could not do it: a request
    /// that must happen once (a restart) counts as served.
    pub fn is_answered_failure(&self) -> bool {
        matches!(self, Error::ServerError(_) | Error::Rejected(_))
    }

    /// Faults that a retry may cure without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Rebalancing(_)
                | Error::Unavailable(_)
                | Error::ServerError(_)
                | Error::Timeout(_)
                | Error::NotYet(_)
        )
    }

    /// The KafkaConnectCluster, or a Secret or ConfigMap it names, is missing or unusable:
    /// waiting for someone to create or fix it is all a reconcile can do.
    pub fn is_missing_setup(&self) -> bool {
        matches!(
            self,
            Error::ClusterNotFound(_)
                | Error::MissingReference(_)
                | Error::InvalidTls(_)
                | Error::SecretNotShared(_)
                | Error::UrlNotAllowed(_)
                | Error::NamespaceNotAllowed(_)
        )
    }
}
