//! RPC result shapes of the dialog module, field for field as Kamailio
//! prints them (dialog.c `internal_rpc_print_dlg`, `rpc_dlg_stats_active`).
//! Each shard renders its own dialogs; the control layer concatenates the
//! `dlg.list` arrays and sums the `dlg.stats_active` counts.

use super::state::{Dialog, EndCause, Leg};
use super::table::Dialogs;
use crate::ids::ListenerId;
use serde_json::{Value, json};
use std::time::Instant;

/// dlg_hash.h `DLG_FLAG_HASBYE`.
const DLG_FLAG_HASBYE: u32 = 1 << 2;
/// dlg_hash.h `DLG_FLAG_EXPIRED`.
const DLG_FLAG_EXPIRED: u32 = 1 << 10;
/// dlg_hash.h `DLG_IFLAG_TIMEOUTBYE`.
const DLG_IFLAG_TIMEOUTBYE: u32 = 1 << 0;

/// `dlg.list`: every dialog of this shard, in handle order. `sockets`
/// names each listener as Kamailio's `sock_str` does (`udp:IP:PORT`),
/// indexed by `ListenerId`.
pub fn list(dialogs: &Dialogs, sockets: &[String]) -> Vec<Value> {
    dialogs.iter().map(|d| dialog(dialogs, d, sockets)).collect()
}

/// `dlg.dlg_list callid [from_tag]`: the dialogs of one Call-ID.
pub fn dlg_list(dialogs: &Dialogs, call_id: &[u8], from_tag: Option<&[u8]>, sockets: &[String]) -> Vec<Value> {
    dialogs.by_call_id(call_id, from_tag).map(|d| dialog(dialogs, d, sockets)).collect()
}

/// One dialog as `internal_rpc_print_dlg` prints it. Timestamps are Unix
/// seconds, 0 when not reached; `timeout` is when the dialog will time
/// out, 0 while no lifetime runs (states 1, 2 and 5); each leg's `socket`
/// is the listener the proxy reaches that side from (Kamailio's
/// `bind_addr`). Profiles and variables are not kept, so both lists are
/// empty.
pub fn dialog(dialogs: &Dialogs, d: &Dialog, sockets: &[String]) -> Value {
    let core = d.core();
    let unix = |t: Instant| dialogs.wall(t).0 / 1000;
    let answer = d.answer();
    let timeout = match d {
        Dialog::ConfirmedNoAck(c) => unix(c.answer.lifetime_end),
        Dialog::Confirmed(c) => unix(c.answer.lifetime_end),
        _ => 0,
    };
    let lifetime = answer.map_or(dialogs.config().default_timeout, |a| a.lifetime).as_secs();
    let dflags = match d {
        Dialog::Terminated(t) if matches!(t.cause, EndCause::Bye(_)) => DLG_FLAG_HASBYE,
        Dialog::Terminated(t) if t.cause == EndCause::Expired => DLG_FLAG_EXPIRED,
        _ => 0,
    };
    let iflags = if dialogs.config().send_bye { DLG_IFLAG_TIMEOUTBYE } else { 0 };
    json!({
        "h_entry": core.handle.h_entry,
        "h_id": core.handle.h_id,
        "call-id": text(core.call_id.as_bytes()),
        "from_uri": text(&core.from_uri),
        "to_uri": text(&core.to_uri),
        "state": d.state().code(),
        "start_ts": answer.map_or(0, |a| unix(a.start)),
        "init_ts": unix(core.init),
        "timeout": timeout,
        "lifetime": lifetime,
        "dflags": dflags,
        "sflags": 0,
        "iflags": iflags,
        "caller": leg(Some(&core.caller), socket(sockets, core.sockets.caller)),
        "callee": leg(d.callee(), socket(sockets, core.sockets.callee)),
        "profiles": [],
        "variables": [],
    })
}

fn socket(sockets: &[String], id: ListenerId) -> &str {
    sockets.get(usize::from(id.0)).map_or("", String::as_str)
}

/// A leg's `tag`, `contact`, `cseq`, `route_set`, `socket`, all strings as
/// Kamailio keeps them; an unknown leg prints empty strings but its socket.
fn leg(leg: Option<&Leg>, socket: &str) -> Value {
    let Some(leg) = leg else {
        return json!({"tag": "", "contact": "", "cseq": "", "route_set": "", "socket": socket});
    };
    json!({
        "tag": text(leg.tag.as_bytes()),
        "contact": text(&leg.contact),
        "cseq": leg.cseq.to_string(),
        // print_rr_body joins the entries with ','.
        "route_set": text(&leg.route_set.join(&b","[..])),
        "socket": socket,
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `dlg.stats_active`: dialogs by state; `all` counts states 1 to 4 only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveStats {
    /// State 1.
    pub starting: u64,
    /// State 2.
    pub connecting: u64,
    /// State 3.
    pub answering: u64,
    /// State 4.
    pub ongoing: u64,
}

impl ActiveStats {
    pub fn of(dialogs: &Dialogs) -> ActiveStats {
        let mut s = ActiveStats::default();
        for d in dialogs.iter() {
            match d {
                Dialog::Unconfirmed(_) => s.starting += 1,
                Dialog::Early(_) => s.connecting += 1,
                Dialog::ConfirmedNoAck(_) => s.answering += 1,
                Dialog::Confirmed(_) => s.ongoing += 1,
                Dialog::Terminated(_) => {}
            }
        }
        s
    }

    /// Adds another shard's counts.
    pub fn add(&mut self, other: ActiveStats) {
        self.starting += other.starting;
        self.connecting += other.connecting;
        self.answering += other.answering;
        self.ongoing += other.ongoing;
    }

    pub fn all(&self) -> u64 {
        self.starting + self.connecting + self.answering + self.ongoing
    }

    pub fn to_json(&self) -> Value {
        json!({
            "starting": self.starting,
            "connecting": self.connecting,
            "answering": self.answering,
            "ongoing": self.ongoing,
            "all": self.all(),
        })
    }
}
