//! Routing: which Connect endpoint a method and path are, and the path and query decoded
//! as Connect decodes them.

use axum::http::Method;

/// One Connect endpoint, with the connector (or plugin) it is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Root,
    Health,
    List,
    Create,
    Get(String),
    Delete(String),
    Config(String),
    PutConfig(String),
    PatchConfig(String),
    Status(String),
    Tasks(String),
    TaskStatus(String, String),
    RestartTask(String, String),
    Restart(String),
    Pause(String),
    Resume(String),
    Stop(String),
    Topics(String),
    TopicsReset(String),
    Plugins,
    Validate(String),
}

impl Route {
    /// The endpoint's name, as the operator's metrics and the fault rules name it.
    pub fn endpoint(&self, expand: bool) -> &'static str {
        match self {
            Route::Root => "root",
            Route::Health => "health",
            Route::List if expand => "list_expanded",
            Route::List => "list",
            Route::Create => "create",
            Route::Get(_) => "get",
            Route::Delete(_) => "delete",
            Route::Config(_) => "config",
            Route::PutConfig(_) => "put_config",
            Route::PatchConfig(_) => "patch_config",
            Route::Status(_) => "status",
            Route::Tasks(_) => "tasks",
            Route::TaskStatus(..) => "task_status",
            Route::RestartTask(..) => "restart_task",
            Route::Restart(_) => "restart",
            Route::Pause(_) => "pause",
            Route::Resume(_) => "resume",
            Route::Stop(_) => "stop",
            Route::Topics(_) => "topics",
            Route::TopicsReset(_) => "topics_reset",
            Route::Plugins => "plugins",
            Route::Validate(_) => "validate",
        }
    }

    pub fn connector(&self) -> Option<&str> {
        match self {
            Route::Get(c)
            | Route::Delete(c)
            | Route::Config(c)
            | Route::PutConfig(c)
            | Route::PatchConfig(c)
            | Route::Status(c)
            | Route::Tasks(c)
            | Route::TaskStatus(c, _)
            | Route::RestartTask(c, _)
            | Route::Restart(c)
            | Route::Pause(c)
            | Route::Resume(c)
            | Route::Stop(c)
            | Route::Topics(c)
            | Route::TopicsReset(c) => Some(c),
            _ => None,
        }
    }

    /// Writes forwarded to the leader: 409 while the group rebalances.
    pub(super) fn forwarded_write(&self) -> bool {
        matches!(
            self,
            Route::Create
                | Route::PutConfig(_)
                | Route::PatchConfig(_)
                | Route::Delete(_)
                | Route::Stop(_)
                | Route::Restart(_)
                | Route::RestartTask(..)
        )
    }

    /// Reads that need the herder's config: 500 "rebalance is expected" while it rebalances.
    /// (Status, lists and topics are answered from local state, pause/resume written directly.)
    pub(super) fn config_read(&self) -> bool {
        matches!(self, Route::Get(_) | Route::Config(_) | Route::Tasks(_))
    }

    pub(super) fn takes_body(&self) -> bool {
        matches!(
            self,
            Route::Create | Route::PutConfig(_) | Route::PatchConfig(_) | Route::Validate(_)
        )
    }
}

/// The route of `method` on these path segments; `Err` is the status (404 or 405).
pub fn route(method: &Method, segs: &[String]) -> Result<Route, u16> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = method;
    let allowed = |ok: bool, r: Route| if ok { Ok(r) } else { Err(405) };
    let c = |i: usize| segs[i].clone();
    match s.as_slice() {
        [] => allowed(m == Method::GET, Route::Root),
        ["health"] => allowed(m == Method::GET, Route::Health),
        ["connectors"] => match *m {
            Method::GET => Ok(Route::List),
            Method::POST => Ok(Route::Create),
            _ => Err(405),
        },
        ["connectors", _] => match *m {
            Method::GET => Ok(Route::Get(c(1))),
            Method::DELETE => Ok(Route::Delete(c(1))),
            _ => Err(405),
        },
        ["connectors", _, "config"] => match *m {
            Method::GET => Ok(Route::Config(c(1))),
            Method::PUT => Ok(Route::PutConfig(c(1))),
            Method::PATCH => Ok(Route::PatchConfig(c(1))),
            _ => Err(405),
        },
        ["connectors", _, "status"] => allowed(m == Method::GET, Route::Status(c(1))),
        ["connectors", _, "tasks"] => allowed(m == Method::GET, Route::Tasks(c(1))),
        ["connectors", _, "tasks", _, "status"] => {
            allowed(m == Method::GET, Route::TaskStatus(c(1), c(3)))
        }
        ["connectors", _, "tasks", _, "restart"] => {
            allowed(m == Method::POST, Route::RestartTask(c(1), c(3)))
        }
        ["connectors", _, "restart"] => allowed(m == Method::POST, Route::Restart(c(1))),
        ["connectors", _, "pause"] => allowed(m == Method::PUT, Route::Pause(c(1))),
        ["connectors", _, "resume"] => allowed(m == Method::PUT, Route::Resume(c(1))),
        ["connectors", _, "stop"] => allowed(m == Method::PUT, Route::Stop(c(1))),
        ["connectors", _, "topics"] => allowed(m == Method::GET, Route::Topics(c(1))),
        ["connectors", _, "topics", "reset"] => allowed(m == Method::PUT, Route::TopicsReset(c(1))),
        ["connector-plugins"] => allowed(m == Method::GET, Route::Plugins),
        ["connector-plugins", _, "config", "validate"] => {
            allowed(m == Method::PUT, Route::Validate(c(1)))
        }
        _ => Err(404),
    }
}

/// The path's segments, percent-decoded; a trailing slash is ignored, as Connect does.
pub fn segments(path: &str) -> Vec<String> {
    let mut segs: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|s| percent_decode(s, false))
        .collect();
    while segs.last().is_some_and(String::is_empty) {
        segs.pop();
    }
    segs
}

pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) fn percent_encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query's parameters, decoded, in order (a key may repeat: `expand`).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

pub(super) fn flag(query: &[(String, String)], name: &str) -> bool {
    query
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        segments(p)
    }

    #[test]
    fn paths_route_like_connect() {
        assert_eq!(route(&Method::GET, &segs("/")), Ok(Route::Root));
        assert_eq!(route(&Method::GET, &segs("/connectors/")), Ok(Route::List));
        assert_eq!(
            route(&Method::GET, &segs("/connectors/a%20b%2Fc/status")),
            Ok(Route::Status("a b/c".into()))
        );
        assert_eq!(route(&Method::DELETE, &segs("/connectors")), Err(405));
        assert_eq!(route(&Method::GET, &segs("/nope")), Err(404));
        assert_eq!(
            route(&Method::POST, &segs("/connectors/c/tasks/0/restart")),
            Ok(Route::RestartTask("c".into(), "0".into()))
        );
    }

    #[test]
    fn queries_keep_repeated_keys() {
        let q = query_pairs(Some("expand=status&expand=info&onlyFailed=TRUE"));
        assert_eq!(q.len(), 3);
        assert!(flag(&q, "onlyFailed"));
        assert!(!flag(&q, "includeTasks"));
    }

    #[test]
    fn percent_decoding_handles_edges() {
        assert_eq!(percent_decode("a%2", false), "a%2");
        assert_eq!(percent_decode("%41%zz", false), "A%zz");
        assert_eq!(percent_decode("a+b", true), "a b");
        assert_eq!(percent_encode_segment("a b/c"), "a%20b%2Fc");
    }
}
