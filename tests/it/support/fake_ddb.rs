//! A tiny in-process fake of the DynamoDB JSON API, for behaviour DynamoDB Local never shows:
//! `UnprocessedItems`, throttling, expired credentials, failing writes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// One request the fake received: the operation (`X-Amz-Target` without the service) and body.
#[derive(Debug, Clone)]
pub struct Call {
    pub op: String,
    pub body: Value,
}

/// Decides each response: (HTTP status, JSON body), given the call and the calls so far.
pub type Responder = dyn Fn(&Call, &[Call]) -> (u16, Value) + Send + Sync;

pub struct FakeDynamo {
    pub endpoint: String,
    pub calls: Arc<Mutex<Vec<Call>>>,
}

impl FakeDynamo {
    pub fn start(responder: impl Fn(&Call, &[Call]) -> (u16, Value) + Send + Sync + 'static) -> FakeDynamo {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let responder: Arc<Responder> = Arc::new(responder);
        let c = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (c, r) = (c.clone(), responder.clone());
                std::thread::spawn(move || serve(stream, c, r));
            }
        });
        FakeDynamo { endpoint, calls }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn count(&self, op: &str) -> usize {
        self.calls().iter().filter(|c| c.op == op).count()
    }
}

fn serve(stream: TcpStream, calls: Arc<Mutex<Vec<Call>>>, responder: Arc<Responder>) {
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let (mut len, mut target) = (0usize, String::new());
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-length" => len = v.trim().parse().unwrap_or(0),
                    "x-amz-target" => target = v.trim().rsplit('.').next().unwrap_or("").to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let call = Call { op: target, body: serde_json::from_slice(&body).unwrap_or(Value::Null) };
        let (status, resp) = {
            let mut all = calls.lock().unwrap();
            let r = responder(&call, &all);
            all.push(call);
            r
        };
        let text = resp.to_string();
        let reason = if status == 200 { "OK" } else { "Error" };
        let msg = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if out.write_all(msg.as_bytes()).is_err() {
            return;
        }
    }
}

/// A DynamoDB error body.
pub fn error(kind: &str, message: &str) -> Value {
    serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message})
}
