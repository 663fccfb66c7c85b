//! Injected faults: rules matched against each Connect request (errors, hangs, Connect's
//! request timeout, connection resets, extra delay), and rebalance windows during which the
//! worker answers as a real one does while its group rebalances.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// A write forwarded to a leader that is not known yet (`HerderRequestHandler`).
pub const NO_LEADER_409: &str = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway.";
/// A write refused because the worker's config is stale.
pub const STALE_CONFIG_409: &str = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)";
/// A read that needs the config while a rebalance is pending (`RebalanceNeededException`).
pub const REBALANCE_EXPECTED_500: &str =
    "Request cannot be completed because a rebalance is expected";
/// Connect's own timeout of a request to the herder (90 s by default).
pub const TIMED_OUT_500: &str = "Request timed out";
pub const INJECTED_500: &str = "Injected failure (kco-connect-emulator)";

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer `status` (default 500) with `message` (default: Connect's for 409).
    Error,
    /// Never answer (or only after `ms`, then close): the client's timeout must fire.
    Hang,
    /// Wait `ms` (default 90000), then answer 500 "Request timed out" as Connect does.
    Timeout,
    /// Reset the connection (TCP RST) instead of answering.
    Reset,
    /// Add `ms` of latency, then answer normally.
    Delay,
}

/// One fault rule. Fields other than `kind` narrow which requests it hits.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub kind: FaultKind,
    /// An endpoint name (`status`, `create`, `list_expanded`, ... see the README); absent or
    /// `*`: every Connect endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Only requests about this connector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// Chance that a matching request is hit (default 1).
    #[serde(default = "always")]
    pub probability: f64,
    /// How many requests it hits before it is removed (absent: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

fn always() -> f64 {
    1.0
}

impl Rule {
    pub fn every(kind: FaultKind, probability: f64) -> Self {
        Rule {
            kind,
            endpoint: None,
            method: None,
            connector: None,
            status: None,
            message: None,
            ms: None,
            probability,
            count: None,
        }
    }

    fn matches(&self, endpoint: &str, method: &str, connector: Option<&str>) -> bool {
        self.endpoint
            .as_deref()
            .is_none_or(|e| e == "*" || e == endpoint)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .connector
                .as_deref()
                .is_none_or(|c| Some(c) == connector)
    }

    fn action(&self) -> Action {
        match self.kind {
            FaultKind::Error => {
                let status = self.status.unwrap_or(500);
                let message = self.message.clone().unwrap_or_else(|| match status {
                    409 => NO_LEADER_409.to_string(),
                    500 => INJECTED_500.to_string(),
                    code => format!("HTTP {code}"),
                });
                Action::Error(status, message)
            }
            FaultKind::Hang => Action::Hang(self.ms.map(Duration::from_millis)),
            FaultKind::Timeout => Action::Timeout(Duration::from_millis(self.ms.unwrap_or(90_000))),
            FaultKind::Reset => Action::Reset,
            FaultKind::Delay => Action::Delay(Duration::from_millis(self.ms.unwrap_or(1_000))),
        }
    }
}

/// Rules from `[rule, ...]`, `{"rules": [...]}` or a single rule.
pub fn parse_rules(body: &[u8]) -> Result<Vec<Rule>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let list = match v {
        Value::Array(_) => v,
        Value::Object(mut o) if o.contains_key("rules") => o.remove("rules").unwrap_or_default(),
        single @ Value::Object(_) => Value::Array(vec![single]),
        other => return Err(format!("expected rules, got {other}")),
    };
    serde_json::from_value(list).map_err(|e| e.to_string())
}

/// What a matching rule does to a request.
#[derive(Debug, PartialEq)]
pub enum Action {
    Error(u16, String),
    Hang(Option<Duration>),
    Timeout(Duration),
    Reset,
    Delay(Duration),
}

#[derive(Default)]
pub struct Faults {
    pub rules: Vec<Rule>,
    pub rebalance_until: Option<Instant>,
}

impl Faults {
    /// The first rule hitting this request (its count is spent).
    pub fn hit(&mut self, endpoint: &str, method: &str, connector: Option<&str>) -> Option<Action> {
        let index = self.rules.iter().position(|r| {
            r.matches(endpoint, method, connector)
                && (r.probability >= 1.0 || rand::random::<f64>() < r.probability)
        })?;
        let rule = &mut self.rules[index];
        let action = rule.action();
        if let Some(count) = rule.count.as_mut() {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.rules.remove(index);
            }
        }
        Some(action)
    }

    pub fn rebalancing(&self, now: Instant) -> bool {
        self.rebalance_until.is_some_and(|until| now < until)
    }

    pub fn rebalance_for(&mut self, duration: Duration) {
        let until = Instant::now() + duration;
        self.rebalance_until = Some(self.rebalance_until.map_or(until, |u| u.max(until)));
    }

    pub fn rebalance_remaining_ms(&self) -> u64 {
        self.rebalance_until
            .map(|u| u.saturating_duration_since(Instant::now()).as_millis() as u64)
            .unwrap_or(0)
    }
}

/// A TCP listener whose connections can be reset from a handler (see `Conn`).
pub struct FaultListener(pub TcpListener);

/// An accepted connection: once `reset` is set, the next read or write fails and the socket
/// closes with SO_LINGER 0, which sends the client a TCP RST.
pub struct FaultIo {
    inner: TcpStream,
    reset: Arc<AtomicBool>,
}

/// The handle a handler gets (`ConnectInfo<Conn>`) to reset its own connection.
#[derive(Clone)]
pub struct Conn {
    reset: Arc<AtomicBool>,
}

impl Conn {
    pub fn reset(&self) {
        self.reset.store(true, Ordering::SeqCst);
    }
}

impl Listener for FaultListener {
    type Io = FaultIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((inner, addr)) => {
                    let _ = inner.set_nodelay(true);
                    let io = FaultIo {
                        inner,
                        reset: Arc::new(AtomicBool::new(false)),
                    };
                    return (io, addr);
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, FaultListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, FaultListener>) -> Self {
        Conn {
            reset: stream.io().reset.clone(),
        }
    }
}

impl FaultIo {
    fn check(&self) -> io::Result<()> {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.inner.set_zero_linger();
            return Err(io::Error::from(io::ErrorKind::ConnectionReset));
        }
        Ok(())
    }
}

impl AsyncRead for FaultIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_narrowly_and_expire() {
        let mut faults = Faults::default();
        faults.rules.push(Rule {
            endpoint: Some("status".into()),
            connector: Some("a".into()),
            count: Some(1),
            ..Rule::every(FaultKind::Error, 1.0)
        });
        faults.rules.push(Rule {
            status: Some(409),
            method: Some("post".into()),
            ..Rule::every(FaultKind::Error, 1.0)
        });
        assert_eq!(faults.hit("status", "GET", Some("b")), None);
        assert_eq!(
            faults.hit("status", "GET", Some("a")),
            Some(Action::Error(500, INJECTED_500.into()))
        );
        assert_eq!(faults.hit("status", "GET", Some("a")), None);
        assert_eq!(
            faults.hit("create", "POST", None),
            Some(Action::Error(409, NO_LEADER_409.into()))
        );
    }

    #[test]
    fn rules_read_from_json() {
        let rules: Vec<Rule> = serde_json::from_str(
            r#"[{"kind":"hang","endpoint":"list_expanded"},{"kind":"reset","probability":0.5}]"#,
        )
        .unwrap();
        assert_eq!(rules[0].kind, FaultKind::Hang);
        assert_eq!(rules[1].probability, 0.5);
        assert!(serde_json::from_str::<Rule>(r#"{"kind":"error","bogus":1}"#).is_err());
    }
}
