//! Prometheus text exposition (format 0.0.4) of every counter, per shard
//! and in total (`shard="total"`), named `sipedge_<group>_<name>`.

use crate::engine::stats::Stats;
use std::fmt::Write;

pub fn render(per_shard: &[Stats], out: &mut String) {
    let total = super::methods::total(per_shard);
    let names = total.named();
    let shards: Vec<Vec<(&str, &str, u64)>> = per_shard.iter().map(Stats::named).collect();
    for (i, (group, name, value)) in names.iter().enumerate() {
        let metric = format!("sipedge_{group}_{}", name.replace('-', "_"));
        let _ = writeln!(out, "# HELP {metric} Kamailio {group}:{name}");
        // Table sizes go up and down; everything else only counts up.
        let kind = if name.ends_with("-users") || name.ends_with("-contacts") { "gauge" } else { "counter" };
        let _ = writeln!(out, "# TYPE {metric} {kind}");
        for (s, counters) in shards.iter().enumerate() {
            let _ = writeln!(out, "{metric}{{shard=\"{s}\"}} {}", counters[i].2);
        }
        let _ = writeln!(out, "{metric}{{shard=\"total\"}} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_shard_and_total() {
        let a = Stats { rcv_requests: 3, ..Stats::default() };
        let b = Stats { rcv_requests: 4, ..Stats::default() };
        let mut out = String::new();
        render(&[a, b], &mut out);
        assert!(out.contains("# TYPE sipedge_core_rcv_requests counter\n"));
        assert!(out.contains("sipedge_core_rcv_requests{shard=\"0\"} 3\n"));
        assert!(out.contains("sipedge_core_rcv_requests{shard=\"1\"} 4\n"));
        assert!(out.contains("sipedge_core_rcv_requests{shard=\"total\"} 7\n"));
        assert!(out.contains("sipedge_sl_1xx_replies{shard=\"total\"} 0\n"));
    }
}
