//! The REST endpoints the operator calls: each one's HTTP method, its low-cardinality label
//! (metrics, logs) and whether sending it twice is harmless, which decides how it is retried.

use reqwest::Method;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Root,
    Health,
    List,
    ListExpanded,
    Create,
    Get,
    PutConfig,
    Status,
    Tasks,
    TaskStatus,
    Pause,
    Resume,
    Stop,
    Restart,
    RestartTask,
    Delete,
    Plugins,
    Validate,
    GetOffsets,
    AlterOffsets,
    ResetOffsets,
    Topics,
    Logger,
    SetLogger,
}

impl Endpoint {
    /// The label of `kco_rest_requests_total{endpoint}`: kept as it was when it was a string.
    pub fn label(self) -> &'static str {
        use Endpoint::*;
        match self {
            Root => "root",
            Health => "health",
            List => "list",
            ListExpanded => "list_expanded",
            Create => "create",
            Get => "get",
            PutConfig => "put_config",
            Status => "status",
            Tasks => "tasks",
            TaskStatus => "task_status",
            Pause => "pause",
            Resume => "resume",
            Stop => "stop",
            Restart => "restart",
            RestartTask => "restart_task",
            Delete => "delete",
            Plugins => "plugins",
            Validate => "validate",
            GetOffsets => "get_offsets",
            AlterOffsets => "alter_offsets",
            ResetOffsets => "reset_offsets",
            Topics => "topics",
            Logger => "logger",
            SetLogger => "set_logger",
        }
    }

    pub fn method(self) -> Method {
        use Endpoint::*;
        match self {
            Root | Health | List | ListExpanded | Get | Status | Tasks | TaskStatus | Plugins
            | GetOffsets | Topics | Logger => Method::GET,
            Create | Restart | RestartTask => Method::POST,
            PutConfig | Pause | Resume | Stop | Validate | SetLogger => Method::PUT,
            Delete | ResetOffsets => Method::DELETE,
            AlterOffsets => Method::PATCH,
        }
    }

    /// Whether the same request sent again leaves Connect as one would. Restarts are not:
    /// after a timeout Connect may have restarted already, so only a 409 (refused during a
    /// rebalance, nothing done) is retried for them.
    pub fn idempotent(self) -> bool {
        !matches!(self, Endpoint::Restart | Endpoint::RestartTask)
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}
