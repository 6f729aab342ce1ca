//! A tiny in-process fake of the DynamoDB JSON API, for behaviour DynamoDB Local never shows:
//! `UnprocessedItems`, throttling, expired credentials, failing writes. Served by the tests' one
//! HTTP server ([`super::http`]).

use std::sync::{Arc, Mutex};

use super::http::{self as server, Response};

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
    _server: server::Server,
}

impl FakeDynamo {
    pub fn start(responder: impl Fn(&Call, &[Call]) -> (u16, Value) + Send + Sync + 'static) -> FakeDynamo {
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let c = calls.clone();
        let server = server::Server::start(move |req| {
            let op = req.header("x-amz-target").map(|t| t.rsplit('.').next().unwrap_or("").to_string());
            let call =
                Call { op: op.unwrap_or_default(), body: serde_json::from_slice(&req.body).unwrap_or(Value::Null) };
            let (status, resp) = {
                let mut all = c.lock().unwrap();
                let r = responder(&call, &all);
                all.push(call);
                r
            };
            let resp = Response::new(status, resp.to_string()).header("Content-Type", "application/x-amz-json-1.0");
            async move { resp }
        });
        FakeDynamo { endpoint: server.url(), calls, _server: server }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn count(&self, op: &str) -> usize {
        self.calls().iter().filter(|c| c.op == op).count()
    }
}

/// A DynamoDB error body.
pub fn error(kind: &str, message: &str) -> Value {
    serde_json::json!({"__type": format!("com.amazonaws.dynamodb.v20120810#{kind}"), "message": message})
}
