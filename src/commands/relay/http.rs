//! `--listen`: GET /status (the Relay Proxy's shape) and GET /metrics (Prometheus text).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::state::{Env, LastError, unix_ms};
use crate::secrets;

fn status_json(envs: &[Arc<Env>]) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let mut healthy = true;
    for e in envs {
        let (flags, segments, _) = e.sizes();
        let s = e.st();
        let connected = s.conn_state == "VALID";
        healthy &= connected && s.store_state == "VALID";
        let err = |le: &Option<LastError>| {
            le.as_ref().map(|l| json!({"kind": l.kind, "message": l.message, "time": unix_ms(l.time)}))
        };
        let mut conn = json!({"state": s.conn_state, "stateSince": unix_ms(s.conn_since)});
        if let Some(le) = err(&s.conn_error) {
            conn["lastError"] = le;
        }
        let mut store = json!({
            "state": s.store_state,
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

fn label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn metrics_text(envs: &[Arc<Env>]) -> String {
    use std::fmt::Write;
    let mut m = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: &mut dyn FnMut(&mut String, &str)| {
        let _ = writeln!(m, "# HELP {name} {help}\n# TYPE {name} {kind}");
        rows(&mut m, name);
    };
    family("ldstore_relay_events_total", "counter", "Stream events received, by type.", &mut |m, n| {
        for e in envs {
            let s = e.st();
            for t in ["put", "patch", "delete", "unknown", "malformed"] {
                let v = s.events.get(t).copied().unwrap_or(0);
                let _ = writeln!(m, "{n}{{env=\"{}\",type=\"{t}\"}} {v}", label(&e.name));
            }
        }
    });
    family("ldstore_relay_store_writes_total", "counter", "Successful store writes, by operation.", &mut |m, n| {
        for e in envs {
            let s = e.st();
            for op in ["init", "upsert"] {
                let v = s.writes.get(op).copied().unwrap_or(0);
                let _ = writeln!(m, "{n}{{env=\"{}\",op=\"{op}\"}} {v}", label(&e.name));
            }
        }
    });
    family("ldstore_relay_store_write_failures_total", "counter", "Failed store operations.", &mut |m, n| {
        for e in envs {
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {}", label(&e.name), e.st().write_failures);
        }
    });
    family(
        "ldstore_relay_store_reinits_total",
        "counter",
        "Full rewrites from memory, by reason (recovered store, wiped prefix).",
        &mut |m, n| {
            for e in envs {
                let s = e.st();
                for r in ["recovered", "wiped"] {
                    let v = s.reinits.get(r).copied().unwrap_or(0);
                    let _ = writeln!(m, "{n}{{env=\"{}\",reason=\"{r}\"}} {v}", label(&e.name));
                }
            }
        },
    );
    family("ldstore_relay_reconnects_total", "counter", "Stream reconnects after a broken stream.", &mut |m, n| {
        for e in envs {
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {}", label(&e.name), e.st().reconnects);
        }
    });
    family("ldstore_relay_items", "gauge", "Items in memory (tombstones excluded), by kind.", &mut |m, n| {
        for e in envs {
            let (f, s, _) = e.sizes();
            let _ = writeln!(m, "{n}{{env=\"{}\",kind=\"flags\"}} {f}", label(&e.name));
            let _ = writeln!(m, "{n}{{env=\"{}\",kind=\"segments\"}} {s}", label(&e.name));
        }
    });
    family(
        "ldstore_relay_seconds_since_last_event",
        "gauge",
        "Seconds since the last stream event (absent before the first).",
        &mut |m, n| {
            for e in envs {
                if let Some(t) = e.st().last_event_instant {
                    let _ = writeln!(m, "{n}{{env=\"{}\"}} {:.3}", label(&e.name), t.elapsed().as_secs_f64());
                }
            }
        },
    );
    family("ldstore_relay_store_up", "gauge", "1 when the store answers, 0 while it is down.", &mut |m, n| {
        for e in envs {
            let up = u8::from(e.st().store_state == "VALID");
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {up}", label(&e.name));
        }
    });
    family("ldstore_relay_stream_connected", "gauge", "1 when the stream is connected and has data.", &mut |m, n| {
        for e in envs {
            let up = u8::from(e.st().conn_state == "VALID");
            let _ = writeln!(m, "{n}{{env=\"{}\"}} {up}", label(&e.name));
        }
    });
    m
}

pub(super) async fn serve(listener: tokio::net::TcpListener, envs: Arc<Vec<Arc<Env>>>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { continue };
        let envs = envs.clone();
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
                ("GET", "/metrics") => (200, "text/plain; version=0.0.4", metrics_text(&envs)),
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
