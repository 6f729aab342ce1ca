//! `--listen`: GET /status (the Relay Proxy's shape) and GET /metrics (Prometheus text).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

use super::state::{ConnState, Env, LastError, StoreState, unix_ms};
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
        out.insert(
            e.name.clone(),
            json!({
                "sdkKey": e.masked_key,
                "status": if connected { "connected" } else { "disconnected" },
                "connectionStatus": conn,
                "dataStoreStatus": store,
                "lastEventTime": s.last_event.map(unix_ms),
                "flags": flags,
                "segments": segments,
            }),
        );
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

pub(super) async fn serve(listener: tokio::net::TcpListener, envs: Arc<Vec<Arc<Env>>>, registry: Arc<Registry>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { continue };
        let envs = envs.clone();
        let registry = registry.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            let read_head = async {
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
                    let n = sock.read(&mut chunk).await?;
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                std::io::Result::Ok(())
            };
            if !matches!(tokio::time::timeout(Duration::from_secs(10), read_head).await, Ok(Ok(()))) {
                return;
            }
            let head = String::from_utf8_lossy(&buf);
            let mut parts = head.split_whitespace();
            let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let path = target.split('?').next().unwrap_or("");
            let (code, ctype, body) = match (method, path) {
                ("GET", "/status") => {
                    let body = serde_json::to_string_pretty(&status_json(&envs)).unwrap_or_default();
                    (200, "application/json", body)
                }
                ("GET", "/metrics") => (200, "text/plain; version=0.0.4", metrics_text(&registry)),
                ("GET", _) => (404, "text/plain", "not found\n".to_string()),
                _ => (405, "text/plain", "method not allowed\n".to_string()),
            };
            let reason = match code {
                200 => "OK",
                404 => "Not Found",
                _ => "Method Not Allowed",
            };
            let body = secrets::mask(&body);
            let resp = format!(
                "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            let _ = sock.shutdown().await;
        });
    }
}
