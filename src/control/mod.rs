//! The control interface: JSON-RPC 2.0 at `/RPC` with Kamailio's method
//! names and result shapes, and Prometheus text at `/metrics`. Sans-IO:
//! `handle_http` turns request bytes into response bytes; the runtime
//! owns the listener.

pub mod dlg;
pub mod http;
pub mod jsonrpc;
pub mod methods;
pub mod metrics;
pub mod usrloc;

use http::{Parsed, parse_request, write_response};
use methods::Shards;

/// Answers one complete HTTP request in `buf`; `None` while incomplete.
pub fn handle_http(buf: &[u8], shards: &dyn Shards, out: &mut Vec<u8>) -> Option<()> {
    let req = match parse_request(buf) {
        Ok(Parsed::Incomplete) => return None,
        Ok(Parsed::Complete(r)) => r,
        Err(e) => {
            let (code, reason) = e.status();
            write_response(code, reason, "text/plain", e.to_string().as_bytes(), out);
            return Some(());
        }
    };
    match (req.method, req.path) {
        ("POST", "/RPC") | ("POST", "/") => {
            let body = match jsonrpc::parse_call(req.body) {
                Ok(call) => match methods::dispatch(&call, shards) {
                    Ok(v) => jsonrpc::success(&call.id, v),
                    Err(e) => jsonrpc::failure(&call.id, &e),
                },
                Err((id, e)) => jsonrpc::failure(&id, &e),
            };
            write_response(200, "OK", "application/json", &body, out);
        }
        ("GET", "/metrics") => {
            let mut text = String::new();
            metrics::render(&shards.stats(), &mut text);
            write_response(200, "OK", "text/plain; version=0.0.4", text.as_bytes(), out);
        }
        (_, "/RPC" | "/metrics") => write_response(405, "Method Not Allowed", "text/plain", b"", out),
        _ => write_response(404, "Not Found", "text/plain", b"try POST /RPC or GET /metrics\n", out),
    }
    Some(())
}
