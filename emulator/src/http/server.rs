//! Serving: the listener, the axum server, and `handle`, which every request goes through.
//! Admin requests are served at once; Connect requests get the configured latency, then
//! the fault rules, then the rebalance window, then their endpoint.

use std::future::IntoFuture;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::response::Response;
use tokio::net::TcpListener;

use super::admin;
use super::endpoints::answer;
use super::respond::{empty, error, not_found_path};
use super::routes::{Route, query_pairs, route, segments};
use crate::app::{App, Latency};
use crate::args::Args;
use crate::faults::{Action, Conn, FaultListener, TIMED_OUT_500};
use crate::store;

const BODY_LIMIT: usize = 16 * 1024 * 1024;

pub async fn handle(
    State(app): State<Arc<App>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => return error(500, "Request body too large or unreadable"),
    };
    let segs = segments(parts.uri.path());
    let query = query_pairs(parts.uri.query());
    if segs.first().map(String::as_str) == Some("__admin") {
        return admin::handle(&app, &parts.method, &segs[1..], &body);
    }
    let route = match known_route(&app, &parts.method, &segs) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let expand = query.iter().any(|(k, _)| k == "expand");
    let endpoint = route.endpoint(expand);

    let latency = app.latency();
    delay(&latency).await;
    let action = app
        .faults()
        .hit(endpoint, parts.method.as_str(), route.connector());
    if let Some(response) = injected(&app, &conn, endpoint, action).await {
        return response;
    }

    let response = answer(&app, &route, &parts.headers, &query, &body);
    let code = response.status().as_u16();
    app.count(endpoint, code);
    if parts.method != Method::GET && (200..300).contains(&code) {
        count_write(&app, &route, &parts.headers, &body, endpoint);
    }
    if latency.rebalance_after_write_ms > 0
        && (200..300).contains(&code)
        && matches!(
            route,
            Route::Create | Route::PutConfig(_) | Route::PatchConfig(_) | Route::Delete(_)
        )
    {
        app.faults()
            .rebalance_for(Duration::from_millis(latency.rebalance_after_write_ms));
    }
    response
}

/// A write answered 2xx, under its connector (a create's is in its body) and User-Agent.
fn count_write(
    app: &App,
    route: &Route,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    endpoint: &'static str,
) {
    let created = || {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v["name"].as_str().map(String::from)
    };
    let Some(connector) = route.connector().map(String::from).or_else(created) else {
        return;
    };
    let agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    app.count_write(&connector, agent, endpoint);
}

/// The route, or the 404 / 405 Connect answers (counted as `unknown`).
fn known_route(app: &App, method: &Method, segs: &[String]) -> Result<Route, Response> {
    match route(method, segs) {
        Ok(r) => Ok(r),
        Err(405) => {
            app.count("unknown", 405);
            Err(error(405, "HTTP 405 Method Not Allowed"))
        }
        Err(_) => {
            app.count("unknown", 404);
            Err(not_found_path())
        }
    }
}

/// The configured latency, with its jitter.
async fn delay(latency: &Latency) {
    if latency.latency_ms > 0 || latency.latency_jitter_ms > 0 {
        let jitter = match latency.latency_jitter_ms {
            0 => 0,
            j => rand::random_range(0..=j),
        };
        tokio::time::sleep(Duration::from_millis(latency.latency_ms + jitter)).await;
    }
}

/// What a fault rule makes of the request: an answer in place of the endpoint's, or `None`
/// (no rule, or a delay already waited) to answer normally.
async fn injected(
    app: &App,
    conn: &Conn,
    endpoint: &'static str,
    action: Option<Action>,
) -> Option<Response> {
    match action? {
        Action::Error(code, message) => {
            app.count(endpoint, code);
            Some(error(code, message))
        }
        Action::Hang(limit) => {
            app.count(endpoint, 0);
            match limit {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
            conn.reset();
            Some(empty(500))
        }
        Action::Timeout(d) => {
            tokio::time::sleep(d).await;
            app.count(endpoint, 500);
            Some(error(500, TIMED_OUT_500))
        }
        Action::Reset => {
            app.count(endpoint, 0);
            conn.reset();
            Some(empty(500))
        }
        Action::Delay(d) => {
            tokio::time::sleep(d).await;
            None
        }
    }
}

/// Serves on `listener` until the process ends (the scheduler runs beside it).
pub async fn serve(listener: TcpListener, args: Args) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let app = App::new(&args, addr).map_err(std::io::Error::other)?;
    tokio::spawn(store::run_scheduler(app.shared.clone()));
    let router = axum::Router::new().fallback(handle).with_state(app);
    let server = axum::serve(
        FaultListener(listener),
        router.into_make_service_with_connect_info::<Conn>(),
    );
    // No graceful shutdown: a hung request must not keep the process alive.
    tokio::select! {
        result = server.into_future() => result,
        _ = shutdown() => Ok(()),
    }
}

/// Binds, prints `kco-connect-emulator listening on http://ADDR` on stdout, then serves.
pub async fn run(args: Args) -> std::io::Result<()> {
    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "kco-connect-emulator listening on http://{addr}")?;
        out.flush()?;
    }
    serve(listener, args).await
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
