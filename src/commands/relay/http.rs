//! `--listen`: GET /status (the Relay Proxy's shape) and GET /metrics (Prometheus text), on
//! hyper: at most `--max-connections` connections at a time, one request each, and a graceful
//! shutdown (requests already taken are answered).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode, header};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

use super::state::{ConnState, Env, LastError, StoreState, unix_ms};
use super::stopped;
use crate::secrets;

fn status_json(envs: &[Arc<Env>]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let mut healthy = true;
    for e in envs {
        let (flags, segments) = e.sizes();
        let s = e.st();
        let connected = s.conn_state == ConnState::Valid;
        healthy &= connected && s.store_state == StoreState::Valid;
        let err = |le: &Option<LastError>| {
            le.as_ref().map(|l| json!({"kind": l.kind.as_str(), "message": l.message, "time": unix_ms(l.time)}))
        };
        let mut conn = json!({"state": s.conn_state.as_str(), "stateSince": unix_ms(s.conn_since)});
        if let Some(le) = err(&s.conn_error) {
            conn["lastError"] = le;
        }
        let mut store = json!({
            "state": s.store_state.as_str(),
            "stateSince": unix_ms(s.store_since),
            "database": e.database,
            "dbServer": s.db_server,
            "dbPrefix": s.db_prefix,
            "dbTable": e.db_table,
        });
        if let Some(le) = err(&s.store_error) {
            store["lastError"] = le;
        }
        let mut env = json!({
            "sdkKey": e.masked_key,
            "status": if connected { "connected" } else { "disconnected" },
            "connectionStatus": conn,
            "dataStoreStatus": store,
            "lastEventTime": s.last_event.map(unix_ms),
            "flags": flags,
            "segments": segments,
        });
        if let Some(big) = e.big.status_json() {
            env["bigSegmentStatus"] = big;
        }
        out.insert(e.name.clone(), env);
    }
    json!({
        "status": if healthy { "healthy" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "environments": out,
    })
}

fn metrics_text(registry: &Registry) -> String {
    let mut m = String::new();
    // Writing to a String cannot fail.
    let _ = prometheus_text::encode(&mut m, registry);
    m
}

/// A connection must send its request head within this time.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Accept errors (too many open files...) back off from this, doubling...
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(100);
/// ...up to this.
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What the endpoints read: every environment's state and the metrics registry.
pub(super) struct Endpoints {
    pub(super) envs: Arc<Vec<Arc<Env>>>,
    pub(super) registry: Registry,
}

impl Endpoints {
    fn respond(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let (code, ctype, body) = match (method, path) {
            (&Method::GET, "/status") => {
                let body = serde_json::to_string_pretty(&status_json(&self.envs)).unwrap_or_default();
                (StatusCode::OK, "application/json", body)
            }
            (&Method::GET, "/metrics") => (StatusCode::OK, prometheus_text::CONTENT_TYPE, metrics_text(&self.registry)),
            (&Method::GET, _) => (StatusCode::NOT_FOUND, "text/plain", "not found\n".to_string()),
            _ => (StatusCode::METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n".to_string()),
        };
        let mut resp = Response::new(Full::new(Bytes::from(secrets::mask(&body))));
        *resp.status_mut() = code;
        resp.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(ctype));
        resp
    }
}

/// Serve GET /status and GET /metrics until `stop`, at most `max_connections` connections at a
/// time (one request each: `Connection: close`); past the cap, new connections wait in the listen
/// backlog until one closes (as in tokio's mini-redis). On `stop` no new connection is taken; the ones
/// already taken are answered (graceful shutdown), for at most `grace`.
pub(super) async fn serve(
    listener: TcpListener,
    endpoints: Arc<Endpoints>,
    max_connections: usize,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let limit = Arc::new(Semaphore::new(max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        // A permit before accepting: at the cap, new connections wait in the backlog.
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stopped(&mut stop) => break,
        };
        let sock = tokio::select! {
            r = listener.accept() => match r {
                Ok((sock, _)) => { backoff = ACCEPT_BACKOFF_MIN; sock }
                Err(e) => {
                    tracing::warn!("cannot accept a connection on --listen: {e}; retrying in {} ms", backoff.as_millis());
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stopped(&mut stop) => break,
                    }
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let endpoints = endpoints.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let resp = endpoints.respond(req.method(), req.uri().path());
            async move { Ok::<_, Infallible>(resp) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .keep_alive(false)
            .serve_connection(TokioIo::new(sock), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("some /status or /metrics requests did not finish in time");
    }
}
