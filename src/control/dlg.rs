//! dialog RPC methods (Kamailio `dlg.*`): decoding the calls, and merging
//! what each shard answers. Every shard renders its own dialogs
//! (`dialog::rpc`); `dlg.end_dlg` goes to the shard whose handle it is.

use super::jsonrpc::{Call, RpcError};
use crate::dialog::{ActiveStats, DialogHandle};
use serde_json::Value;

/// One dialog operation on one shard (or on each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DlgOp {
    /// `dlg.list`.
    List,
    /// `dlg.dlg_list callid [from_tag]`: the dialogs of one Call-ID.
    ListCall { call_id: String, from_tag: Option<String> },
    /// `dlg.stats_active`.
    StatsActive,
    /// `dlg.end_dlg h_entry h_id [extra_hdrs]`: BYE to both sides.
    End { handle: DialogHandle, extra: String },
}

#[derive(Debug, Clone)]
pub enum DlgReply {
    List(Vec<Value>),
    Stats(ActiveStats),
    /// The BYEs are on their way.
    Ended,
    Failed(RpcError),
}

/// The `dlg.*` call as an operation; `None` for other methods.
pub fn decode(call: &Call) -> Option<Result<DlgOp, RpcError>> {
    Some(match call.method.as_str() {
        "dlg.list" => Ok(DlgOp::List),
        "dlg.dlg_list" => list_call(call),
        "dlg.stats_active" => Ok(DlgOp::StatsActive),
        "dlg.end_dlg" => end(call),
        _ => return None,
    })
}

fn list_call(call: &Call) -> Result<DlgOp, RpcError> {
    let text = |i: usize| call.params.get(i).and_then(Value::as_str).map(str::to_owned);
    let call_id = text(0).ok_or_else(|| RpcError::InvalidParams("missing or bad parameter callid".into()))?;
    Ok(DlgOp::ListCall { call_id, from_tag: text(1) })
}

fn end(call: &Call) -> Result<DlgOp, RpcError> {
    let num = |i: usize, name: &str| {
        let v = call.params.get(i);
        v.and_then(Value::as_u64)
            .or_else(|| v.and_then(Value::as_str).and_then(|s| s.parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| RpcError::InvalidParams(format!("missing or bad parameter {name}")))
    };
    let handle = DialogHandle { h_entry: num(0, "h_entry")?, h_id: num(1, "h_id")? };
    let extra = call.params.get(2).and_then(Value::as_str).unwrap_or_default();
    if extra.contains(['\r', '\n']) && !extra.ends_with("\r\n") {
        return Err(RpcError::InvalidParams("extra_hdrs: header lines must each end with CRLF".into()));
    }
    Ok(DlgOp::End { handle, extra: extra.to_owned() })
}

/// The method's result from the shards' replies.
pub fn merge(op: &DlgOp, replies: Vec<DlgReply>) -> Result<Value, RpcError> {
    let mut list = Vec::new();
    let mut stats = ActiveStats::default();
    for r in replies {
        match r {
            DlgReply::List(mut l) => list.append(&mut l),
            DlgReply::Stats(s) => stats.add(s),
            DlgReply::Ended => {}
            DlgReply::Failed(e) => return Err(e),
        }
    }
    Ok(match op {
        DlgOp::List | DlgOp::ListCall { .. } => Value::Array(list),
        DlgOp::StatsActive => stats.to_json(),
        DlgOp::End { .. } => Value::Null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(method: &str, params: Value) -> Call {
        Call { id: json!(1), method: method.into(), params: params.as_array().cloned().unwrap_or_default() }
    }

    #[test]
    fn decodes_the_four_methods() {
        assert_eq!(decode(&call("dlg.list", json!([]))), Some(Ok(DlgOp::List)));
        let one = DlgOp::ListCall { call_id: "c1".into(), from_tag: Some("t1".into()) };
        assert_eq!(decode(&call("dlg.dlg_list", json!(["c1", "t1"]))), Some(Ok(one)));
        let any = DlgOp::ListCall { call_id: "c1".into(), from_tag: None };
        assert_eq!(decode(&call("dlg.dlg_list", json!(["c1"]))), Some(Ok(any)));
        assert!(matches!(decode(&call("dlg.dlg_list", json!([]))), Some(Err(RpcError::InvalidParams(_)))));
        assert_eq!(decode(&call("dlg.stats_active", json!([]))), Some(Ok(DlgOp::StatsActive)));
        let end = decode(&call("dlg.end_dlg", json!([12, "7"]))).unwrap().unwrap();
        assert_eq!(end, DlgOp::End { handle: DialogHandle { h_entry: 12, h_id: 7 }, extra: String::new() });
        assert!(matches!(decode(&call("dlg.end_dlg", json!([12]))), Some(Err(RpcError::InvalidParams(_)))));
        assert!(decode(&call("ul.dump", json!([]))).is_none());
    }

    #[test]
    fn merges_shards() {
        let a = ActiveStats { ongoing: 2, ..ActiveStats::default() };
        let b = ActiveStats { starting: 1, ..ActiveStats::default() };
        let v = merge(&DlgOp::StatsActive, vec![DlgReply::Stats(a), DlgReply::Stats(b)]).unwrap();
        assert_eq!(v["all"], 3);
        let v = merge(&DlgOp::List, vec![DlgReply::List(vec![json!(1)]), DlgReply::List(vec![json!(2)])]).unwrap();
        assert_eq!(v, json!([1, 2]));
        let e = merge(&DlgOp::List, vec![DlgReply::Failed(RpcError::Failed(404, "x".into()))]);
        assert!(e.is_err());
    }
}
