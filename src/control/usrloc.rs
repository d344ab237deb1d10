//! usrloc RPC methods (Kamailio `ul.*`): decoding the calls, applying them
//! to a shard's location table (on the shard that owns the AOR), and the
//! result shapes of Kamailio's `ul.dump` / `ul.lookup`.

use super::jsonrpc::{Call, RpcError, str_param};
use crate::registrar::{Aor, Binding, BindingFlags, LocationShard, UnixMillis, parse_q};
use crate::sip::Uri;
use crate::sip::transport::Transport;
use serde_json::{Value, json};
use std::net::SocketAddr;

/// The only location table, as Kamailio's default script names it.
pub const TABLE: &str = "location";
/// Kamailio default script's nat_bflag (FLB_NATB = 6): bit 64 in cflags.
const NAT_CFLAG: u64 = 1 << 6;

/// One operation on one shard's table.
#[derive(Debug, Clone)]
pub enum UlOp {
    Dump,
    Lookup(Aor),
    Rm(Aor),
    RmContact(Aor, Box<[u8]>),
    Add(Aor, Box<Binding>),
    /// Make pending changes durable now (`ul.flush`); the shard's store
    /// does this, the table itself has nothing to do.
    Flush,
}

#[derive(Debug, Clone)]
pub enum UlReply {
    Records(Vec<(Aor, Vec<Binding>)>),
    Removed(usize),
    Done,
}

/// Which shard(s) an operation goes to: one AOR's owner, or all.
pub fn target(op: &UlOp) -> Option<&Aor> {
    match op {
        UlOp::Lookup(a) | UlOp::Rm(a) | UlOp::RmContact(a, _) | UlOp::Add(a, _) => Some(a),
        UlOp::Dump | UlOp::Flush => None,
    }
}

/// Runs on the owning shard.
pub fn apply(loc: &mut LocationShard, op: UlOp, now: UnixMillis) -> UlReply {
    match op {
        UlOp::Dump => UlReply::Records(
            loc.iter()
                .map(|(aor, r)| (aor.clone(), r.bindings().iter().filter(|b| b.expires > now).cloned().collect()))
                .filter(|(_, b): &(Aor, Vec<Binding>)| !b.is_empty())
                .collect(),
        ),
        UlOp::Lookup(aor) => {
            let bindings: Vec<Binding> = loc.lookup(aor.as_bytes(), now).cloned().collect();
            UlReply::Records(if bindings.is_empty() { Vec::new() } else { vec![(aor, bindings)] })
        }
        UlOp::Rm(aor) => UlReply::Removed(loc.remove_aor(aor.as_bytes())),
        UlOp::RmContact(aor, contact) => {
            UlReply::Removed(usize::from(loc.remove_contact(aor.as_bytes(), &contact).is_some()))
        }
        UlOp::Add(aor, binding) => {
            loc.insert_raw(aor, *binding);
            UlReply::Done
        }
        UlOp::Flush => UlReply::Done,
    }
}

/// Decodes a `ul.*` call; `None` for other methods.
pub fn decode(call: &Call, now: UnixMillis) -> Option<Result<UlOp, RpcError>> {
    let op = match call.method.as_str() {
        "ul.dump" => Ok(UlOp::Dump),
        "ul.flush" => Ok(UlOp::Flush),
        "ul.lookup" => table(call).and_then(|()| aor(call)).map(UlOp::Lookup),
        "ul.rm" => table(call).and_then(|()| aor(call)).map(UlOp::Rm),
        "ul.rm_contact" => table(call).and_then(|()| {
            let a = aor(call)?;
            Ok(UlOp::RmContact(a, str_param(call, 2, "contact")?.as_bytes().into()))
        }),
        "ul.add" => table(call).and_then(|()| add(call, now)),
        _ => return None,
    };
    Some(op)
}

fn table(call: &Call) -> Result<(), RpcError> {
    match str_param(call, 0, "table")? {
        TABLE => Ok(()),
        other => Err(RpcError::Failed(500, format!("Table '{other}' not found"))),
    }
}

fn aor(call: &Call) -> Result<Aor, RpcError> {
    let text = str_param(call, 1, "AOR")?;
    aor_from_text(text).ok_or_else(|| RpcError::Failed(400, format!("Bad AOR '{text}'")))
}

/// `alice@example.com` or `sip:alice@example.com` → the location key.
pub fn aor_from_text(text: &str) -> Option<Aor> {
    let with_scheme =
        if text.starts_with("sip:") || text.starts_with("sips:") { text.into() } else { format!("sip:{text}") };
    Aor::from_uri(&Uri::parse(with_scheme.as_bytes()).ok()?).ok()
}

/// `ul.add table AOR contact expires q path flags cflags methods [received [socket]]`.
fn add(call: &Call, now: UnixMillis) -> Result<UlOp, RpcError> {
    let aor = aor(call)?;
    let contact = str_param(call, 2, "contact")?;
    Uri::parse(contact.as_bytes()).map_err(|e| RpcError::Failed(400, format!("Bad contact: {e}")))?;
    let expires = num_param(call, 3, "expires")?;
    let q = match call.params.get(4) {
        Some(Value::Number(n)) => n.as_f64().map(|f| (f * 1000.0).round() as i64),
        Some(Value::String(s)) => parse_q(s.as_bytes()).map(i64::from).or(Some(-1)),
        _ => None,
    };
    let path = call.params.get(5).and_then(Value::as_str).filter(|p| !p.is_empty() && *p != "0");
    let cflags = num_param(call, 7, "cflags").unwrap_or(0);
    let received = call.params.get(9).and_then(Value::as_str).filter(|r| !r.is_empty());
    let local = call.params.get(10).and_then(Value::as_str).and_then(|s| s.strip_prefix("udp:")?.parse().ok());
    let unknown: SocketAddr = ([0, 0, 0, 0], 0).into();
    let binding = Binding {
        contact: contact.as_bytes().into(),
        received: received.map(|r| r.as_bytes().into()),
        source: unknown,
        transport: Transport::Udp,
        local: local.unwrap_or(unknown),
        path: path.map(|p| p.as_bytes().into()),
        q: q.and_then(|q| u16::try_from(q).ok()).filter(|q| *q <= 1000),
        call_id: b"ul.add".as_slice().into(),
        cseq: 1,
        user_agent: None,
        flags: BindingFlags { nated: cflags & NAT_CFLAG != 0, ping: false },
        expires: now.plus_secs(u32::try_from(expires).unwrap_or(u32::MAX)),
        last_keepalive: now,
        updated: now,
        instance: None,
        reg_id: None,
    };
    Ok(UlOp::Add(aor, Box::new(binding)))
}

fn num_param(call: &Call, i: usize, name: &str) -> Result<u64, RpcError> {
    match call.params.get(i) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| RpcError::InvalidParams(format!("missing or bad parameter {name}")))
}

/// One binding as Kamailio's usrloc RPC prints it.
pub fn contact_json(b: &Binding, now: UnixMillis) -> Value {
    let text = |v: &Option<Box<[u8]>>| v.as_ref().map_or_else(|| "[not set]".to_string(), |s| lossy(s));
    json!({"Contact": {
        "Address": lossy(&b.contact),
        "Expires": now.secs_until(b.expires),
        "Q": b.q.map_or(-1.0, |q| f64::from(q) / 1000.0),
        "Call-ID": lossy(&b.call_id),
        "CSeq": b.cseq,
        "User-Agent": text(&b.user_agent),
        "Received": text(&b.received),
        "Path": text(&b.path),
        "State": "CS_SYNC",
        "Flags": 0,
        "CFlags": if b.flags.nated { NAT_CFLAG } else { 0 },
        "Socket": format!("udp:{}", b.local),
        "Methods": u32::MAX,
        "Instance": text(&b.instance),
        "Reg-Id": b.reg_id.unwrap_or(0),
        "Last-Keepalive": b.last_keepalive.0 / 1000,
        "Last-Modified": b.updated.0 / 1000,
    }})
}

/// `ul.dump` result from every shard's records.
pub fn dump_json(records: &[(Aor, Vec<Binding>)], now: UnixMillis) -> Value {
    let aors: Vec<Value> = records
        .iter()
        .map(|(aor, bindings)| {
            let contacts: Vec<Value> = bindings.iter().map(|b| contact_json(b, now)).collect();
            json!({"Info": {"AoR": aor.to_string(), "Contacts": contacts}})
        })
        .collect();
    json!({"Domains": [{"Domain": {
        "Domain": TABLE,
        "AoRs": aors,
        "Stats": {"Records": records.len()}
    }}]})
}

/// `ul.lookup` result, or Kamailio's 404 when the AOR has no binding.
pub fn lookup_json(records: &[(Aor, Vec<Binding>)], now: UnixMillis) -> Result<Value, RpcError> {
    let Some((aor, bindings)) = records.first() else {
        return Err(RpcError::Failed(404, "AOR not found".into()));
    };
    let contacts: Vec<Value> = bindings.iter().map(|b| contact_json(b, now)).collect();
    Ok(json!({"AoR": aor.to_string(), "Contacts": contacts}))
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, params: Value) -> Call {
        Call { id: json!(1), method: method.into(), params: params.as_array().cloned().unwrap_or_default() }
    }

    #[test]
    fn add_lookup_rm_round_trip() {
        let now = UnixMillis(1_000_000);
        let mut loc = LocationShard::new(crate::registrar::ContactOrder::ByQ, false);
        let add = call(
            "ul.add",
            json!(["location", "alice@example.com", "sip:alice@192.0.2.1:5060", 3600, 0.5, "0", 0, 64, 0]),
        );
        let op = decode(&add, now).unwrap().unwrap();
        assert_eq!(target(&op).unwrap().as_bytes(), b"alice@example.com");
        assert!(matches!(apply(&mut loc, op, now), UlReply::Done));
        let look = decode(&call("ul.lookup", json!(["location", "sip:alice@EXAMPLE.com"])), now).unwrap().unwrap();
        let UlReply::Records(r) = apply(&mut loc, look, now) else { panic!() };
        let v = lookup_json(&r, now).unwrap();
        assert_eq!(v["Contacts"][0]["Contact"]["Address"], "sip:alice@192.0.2.1:5060");
        assert_eq!(v["Contacts"][0]["Contact"]["Expires"], 3600);
        assert_eq!(v["Contacts"][0]["Contact"]["Q"], 0.5);
        assert_eq!(v["Contacts"][0]["Contact"]["CFlags"], 64);
        let rm =
            decode(&call("ul.rm_contact", json!(["location", "alice@example.com", "sip:alice@192.0.2.1:5060"])), now);
        assert!(matches!(apply(&mut loc, rm.unwrap().unwrap(), now), UlReply::Removed(1)));
        let look = decode(&call("ul.lookup", json!(["location", "alice@example.com"])), now).unwrap().unwrap();
        let UlReply::Records(r) = apply(&mut loc, look, now) else { panic!() };
        assert_eq!(lookup_json(&r, now), Err(RpcError::Failed(404, "AOR not found".into())));
    }

    #[test]
    fn bad_calls_are_errors() {
        let now = UnixMillis(0);
        assert!(decode(&call("core.version", json!([])), now).is_none());
        assert!(matches!(decode(&call("ul.lookup", json!(["location"])), now), Some(Err(RpcError::InvalidParams(_)))));
        assert!(matches!(decode(&call("ul.lookup", json!(["nope", "a@b"])), now), Some(Err(RpcError::Failed(500, _)))));
        assert!(matches!(decode(&call("ul.add", json!(["location", "a@b", "sip:x"])), now), Some(Err(_))));
    }
}
