//! JSON-RPC 2.0 envelopes, with the error shapes of Kamailio's jsonrpcs
//! module so existing tooling reads them.

use serde_json::{Value, json};
use thiserror::Error;

/// A decoded call. Params are positional, as kamcmd and kamctl send them.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub id: Value,
    pub method: String,
    pub params: Vec<Value>,
}

/// Why a call failed; `code` and `message` go into the error object.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// Body is not JSON (JSON-RPC 2.0 §5.1).
    #[error("Parse Error")]
    Parse,
    /// JSON but not a request object.
    #[error("Invalid Request")]
    InvalidRequest,
    #[error("Method Not Found")]
    MethodNotFound,
    /// Missing or mistyped parameter; the text says which.
    #[error("{0}")]
    InvalidParams(String),
    /// The method ran and reports a failure, with Kamailio's code (e.g.
    /// 404 "AOR not found", 500 "...").
    #[error("{1}")]
    Failed(i64, String),
}

impl RpcError {
    pub fn code(&self) -> i64 {
        match self {
            RpcError::Parse => -32700,
            RpcError::InvalidRequest => -32600,
            RpcError::MethodNotFound => -32601,
            RpcError::InvalidParams(_) => -32602,
            RpcError::Failed(code, _) => *code,
        }
    }
}

pub fn parse_call(body: &[u8]) -> Result<Call, (Value, RpcError)> {
    let v: Value = serde_json::from_slice(body).map_err(|_| (Value::Null, RpcError::Parse))?;
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = v.get("method").and_then(Value::as_str) else {
        return Err((id, RpcError::InvalidRequest));
    };
    let params = match v.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(other) => vec![other.clone()],
    };
    Ok(Call { id, method: method.to_string(), params })
}

pub fn success(id: &Value, result: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "result": result, "id": id}).to_string().into_bytes()
}

pub fn failure(id: &Value, err: &RpcError) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "error": {"code": err.code(), "message": err.to_string()}, "id": id})
        .to_string()
        .into_bytes()
}

/// Positional string parameter `i`, or an InvalidParams error naming it.
pub fn str_param<'a>(call: &'a Call, i: usize, name: &str) -> Result<&'a str, RpcError> {
    call.params
        .get(i)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::InvalidParams(format!("missing parameter {name}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_encodes() {
        let c = parse_call(br#"{"jsonrpc":"2.0","method":"ul.lookup","params":["location","alice"],"id":7}"#).unwrap();
        assert_eq!(c.method, "ul.lookup");
        assert_eq!(str_param(&c, 1, "AOR").unwrap(), "alice");
        assert!(str_param(&c, 2, "x").is_err());
        let out: Value = serde_json::from_slice(&failure(&c.id, &RpcError::MethodNotFound)).unwrap();
        assert_eq!(out["error"]["code"], -32601);
        assert_eq!(out["id"], 7);
        assert_eq!(parse_call(b"{nope").unwrap_err().1, RpcError::Parse);
        assert_eq!(parse_call(br#"{"id":1}"#).unwrap_err().1, RpcError::InvalidRequest);
    }
}
