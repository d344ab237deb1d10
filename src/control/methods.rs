//! The RPC methods, by Kamailio name and with Kamailio's result shapes.
//! Shard-owned data is fetched through `Shards`, which the runtime
//! implements with messages to the owning shards.

use super::dlg::{self, DlgOp, DlgReply};
use super::jsonrpc::{Call, RpcError, str_param};
use super::usrloc::{self, UlOp, UlReply};
use crate::engine::stats::Stats;
use crate::registrar::UnixMillis;
use serde_json::{Value, json};

/// What the methods need from the running system.
pub trait Shards {
    /// Seconds since start and the start as Unix seconds.
    fn uptime(&self) -> (u64, u64);
    fn now_unix(&self) -> u64;
    /// Wall clock in milliseconds (binding expiry precision).
    fn now_millis(&self) -> u64 {
        self.now_unix() * 1000
    }
    /// Published counters of every shard, in shard order.
    fn stats(&self) -> Vec<Stats>;
    /// Runs a usrloc operation on the shard owning its AOR (or on every
    /// shard for dump and flush) and collects the replies.
    fn usrloc(&self, op: UlOp) -> Result<Vec<UlReply>, RpcError>;
    /// Runs a dialog operation on every shard, or on the one holding the
    /// dialog, and collects the replies.
    fn dialogs(&self, op: DlgOp) -> Result<Vec<DlgReply>, RpcError>;
}

pub fn dispatch(call: &Call, shards: &dyn Shards) -> Result<Value, RpcError> {
    let now = UnixMillis(shards.now_millis());
    if let Some(op) = usrloc::decode(call, now) {
        return ul(call, op?, shards, now);
    }
    if let Some(op) = dlg::decode(call) {
        let op = op?;
        let replies = shards.dialogs(op.clone())?;
        return dlg::merge(&op, replies);
    }
    match call.method.as_str() {
        "core.version" => Ok(json!(version())),
        "core.uptime" => {
            let (up, since) = shards.uptime();
            Ok(json!({"now": ctime(shards.now_unix()), "up_since": ctime(since), "uptime": up}))
        }
        "stats.get_statistics" => get_statistics(call, shards),
        "system.listMethods" => Ok(json!(METHODS)),
        _ => Err(RpcError::MethodNotFound),
    }
}

pub const METHODS: &[&str] = &[
    "core.version",
    "core.uptime",
    "stats.get_statistics",
    "system.listMethods",
    "ul.dump",
    "ul.lookup",
    "ul.rm",
    "ul.rm_contact",
    "ul.add",
    "ul.flush",
    "dlg.list",
    "dlg.dlg_list",
    "dlg.end_dlg",
    "dlg.stats_active",
];

fn ul(call: &Call, op: UlOp, shards: &dyn Shards, now: UnixMillis) -> Result<Value, RpcError> {
    let replies = shards.usrloc(op)?;
    let mut records = Vec::new();
    let mut removed = 0;
    for r in replies {
        match r {
            UlReply::Records(mut r) => records.append(&mut r),
            UlReply::Removed(n) => removed += n,
            UlReply::Done => {}
        }
    }
    match call.method.as_str() {
        "ul.dump" => {
            records.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(usrloc::dump_json(&records, now))
        }
        "ul.lookup" => usrloc::lookup_json(&records, now),
        "ul.rm" | "ul.rm_contact" if removed == 0 => Err(RpcError::Failed(404, "AOR not found".into())),
        _ => Ok(Value::Null),
    }
}

pub fn version() -> String {
    format!("sipedge {} ({}/{})", env!("CARGO_PKG_VERSION"), std::env::consts::ARCH, std::env::consts::OS)
}

/// Sum of every shard's counters.
pub fn total(stats: &[Stats]) -> Stats {
    let mut t = Stats::default();
    for s in stats {
        t.add(s);
    }
    t
}

/// `stats.get_statistics all | group: | group:name ...` → `["group:name = value", ...]`.
fn get_statistics(call: &Call, shards: &dyn Shards) -> Result<Value, RpcError> {
    str_param(call, 0, "statistics name (all, group: or group:name)")?;
    let t = total(&shards.stats());
    let mut out = Vec::new();
    for (group, name, value) in t.named() {
        let wanted = call
            .params
            .iter()
            .filter_map(Value::as_str)
            .any(|p| p == "all" || p.strip_suffix(':') == Some(group) || p.split_once(':') == Some((group, name)));
        if wanted {
            out.push(Value::String(format!("{group}:{name} = {value}")));
        }
    }
    Ok(Value::Array(out))
}

/// `Sat Nov 21 11:20:00 2026`, as Kamailio's core.uptime prints (UTC).
pub fn ctime(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), epoch 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Shards for Fake {
        fn uptime(&self) -> (u64, u64) {
            (42, 1_795_000_000)
        }
        fn now_unix(&self) -> u64 {
            1_795_000_042
        }
        fn usrloc(&self, _op: UlOp) -> Result<Vec<UlReply>, RpcError> {
            Ok(vec![UlReply::Done])
        }
        fn dialogs(&self, _op: DlgOp) -> Result<Vec<DlgReply>, RpcError> {
            Ok(vec![DlgReply::Stats(crate::dialog::ActiveStats { ongoing: 1, ..Default::default() })])
        }
        fn stats(&self) -> Vec<Stats> {
            let a = Stats { rcv_requests: 3, sent_2xx: 1, ..Stats::default() };
            let b = Stats { rcv_requests: 4, ..Stats::default() };
            vec![a, b]
        }
    }

    fn call(method: &str, params: &[&str]) -> Call {
        Call { id: json!(1), method: method.into(), params: params.iter().map(|p| json!(p)).collect() }
    }

    #[test]
    fn statistics_by_group_and_name() {
        let v = dispatch(&call("stats.get_statistics", &["core:rcv_requests"]), &Fake).unwrap();
        assert_eq!(v, json!(["core:rcv_requests = 7"]));
        let v = dispatch(&call("stats.get_statistics", &["sl:"]), &Fake).unwrap();
        assert!(v.as_array().unwrap().contains(&json!("sl:2xx_replies = 1")));
        assert!(v.as_array().unwrap().iter().all(|s| s.as_str().unwrap().starts_with("sl:")));
        let all = dispatch(&call("stats.get_statistics", &["all"]), &Fake).unwrap();
        assert!(all.as_array().unwrap().len() > 10);
        assert!(matches!(dispatch(&call("stats.get_statistics", &[]), &Fake), Err(RpcError::InvalidParams(_))));
    }

    #[test]
    fn dialog_methods_reach_the_shards() {
        let v = dispatch(&call("dlg.stats_active", &[]), &Fake).unwrap();
        assert_eq!(v["ongoing"], 1);
        assert!(matches!(dispatch(&call("dlg.end_dlg", &["x"]), &Fake), Err(RpcError::InvalidParams(_))));
    }

    #[test]
    fn core_methods() {
        let v = dispatch(&call("core.uptime", &[]), &Fake).unwrap();
        assert_eq!(v["uptime"], 42);
        assert!(dispatch(&call("core.version", &[]), &Fake).unwrap().as_str().unwrap().starts_with("sipedge "));
        assert_eq!(dispatch(&call("no.such", &[]), &Fake), Err(RpcError::MethodNotFound));
    }

    #[test]
    fn ctime_matches_known_dates() {
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime(1_767_225_600), "Thu Jan  1 00:00:00 2026");
        assert_eq!(ctime(1795222861), "Sat Nov 21 01:01:01 2026");
    }
}
