//! `dlg.list` and `dlg.stats_active` shapes, and the statistics names.

use super::*;
use crate::dialog::{ActiveStats, Counters, Sockets, handle_owner, rpc};
use crate::ids::ListenerId;
use serde_json::json;

#[test]
fn list_prints_kamailio_fields() {
    let mut h = Harness::new();
    let handle = h.req(10.0, &invite(CALL, 1)).handle().unwrap();
    h.rep(12.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.req(12.5, &in_dialog("ACK", true, "btag", 1, None));
    // The caller came in on the second listener, the callee is reached
    // from the first.
    h.dlg.bind_sockets(handle, Sockets { caller: ListenerId(1), callee: ListenerId(0) });
    let sockets = ["udp:192.0.2.1:5060".to_owned(), "udp:[2001:db8::1]:5060".to_owned()];
    let list = rpc::list(&h.dlg, &sockets);
    assert_eq!(list.len(), 1);
    let expected = json!({
        "h_entry": handle.h_entry,
        "h_id": handle.h_id,
        "call-id": CALL,
        "from_uri": "sip:alice@example.com",
        "to_uri": "sip:bob@example.com",
        "state": 4,
        "start_ts": WALL_SECS + 12,
        "init_ts": WALL_SECS + 10,
        "timeout": WALL_SECS + 12 + 43_200,
        "lifetime": 43_200,
        "dflags": 0,
        "sflags": 0,
        "iflags": 0,
        "caller": {
            "tag": "atag",
            "contact": "sip:alice@198.51.100.7:5060;ob",
            "cseq": "1",
            "route_set": "<sip:p1.example.net;lr>",
            "socket": "udp:[2001:db8::1]:5060",
        },
        "callee": {
            "tag": "btag",
            "contact": "sip:bob@203.0.113.9:5062",
            "cseq": "0",
            "route_set": "<sip:p3.example.net;lr>",
            "socket": "udp:192.0.2.1:5060",
        },
        "profiles": [],
        "variables": [],
    });
    assert_eq!(list[0], expected);
    assert_eq!(rpc::dlg_list(&h.dlg, CALL.as_bytes(), Some(b"atag"), &sockets).len(), 1);
    assert!(rpc::dlg_list(&h.dlg, CALL.as_bytes(), Some(b"other"), &sockets).is_empty());
    assert!(rpc::dlg_list(&h.dlg, b"nope", None, &sockets).is_empty());
    assert_eq!(handle_owner(handle, 1), Some(ShardId(0)));
}

#[test]
fn early_and_ended_dialogs_print_empty_callee_and_flags() {
    let mut h = Harness::new();
    h.req(0.0, &invite(CALL, 1));
    h.rep(0.5, &reply(180, CALL, Some("btag"), 1, "INVITE"));
    let early = &rpc::list(&h.dlg, &[])[0];
    assert_eq!(
        (early["state"].clone(), early["start_ts"].clone(), early["timeout"].clone()),
        (json!(2), json!(0), json!(0))
    );
    assert_eq!(early["callee"]["tag"], "");
    h.rep(1.0, &reply(200, CALL, Some("btag"), 1, "INVITE"));
    h.req(1.5, &in_dialog("BYE", false, "btag", 1, None));
    let ended = &rpc::list(&h.dlg, &[])[0];
    assert_eq!(
        (ended["state"].clone(), ended["dflags"].clone(), ended["timeout"].clone()),
        (json!(5), json!(4), json!(0))
    );
}

#[test]
fn stats_active_counts_states_one_to_four() {
    let mut h = Harness::new();
    h.req(0.0, &invite("c1", 1));
    h.req(0.0, &invite("c2", 1));
    h.rep(0.1, &reply(180, "c2", Some("b"), 1, "INVITE"));
    h.req(0.0, &invite("c3", 1));
    h.rep(0.1, &reply(200, "c3", Some("b"), 1, "INVITE"));
    h.req(0.0, &invite("c4", 1));
    h.rep(0.1, &reply(200, "c4", Some("b"), 1, "INVITE"));
    let ack = in_dialog("ACK", true, "b", 1, None).replace(CALL, "c4");
    h.req(0.2, &ack);
    h.req(0.0, &invite("c5", 1));
    h.rep(0.1, &reply(503, "c5", Some("b"), 1, "INVITE"));
    let s = ActiveStats::of(&h.dlg);
    assert_eq!(s.to_json(), json!({"starting": 1, "connecting": 1, "answering": 1, "ongoing": 1, "all": 4}));
    let mut sum = s;
    sum.add(s);
    assert_eq!(sum.all(), 8);
    let c = h.dlg.counters();
    assert_eq!(
        c,
        Counters { active_dialogs: 2, early_dialogs: 1, processed_dialogs: 5, failed_dialogs: 1, expired_dialogs: 0 }
    );
    assert_eq!(
        c.named(),
        [
            ("active_dialogs", 2),
            ("early_dialogs", 1),
            ("processed_dialogs", 5),
            ("expired_dialogs", 0),
            ("failed_dialogs", 1)
        ]
    );
}
