//! Per-shard counters. The hot path bumps plain integers it owns; the
//! housekeeping timer copies them into atomics that other threads (the
//! shutdown report, later the metrics endpoint) read without locks.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        #[derive(Debug, Default, Clone, PartialEq, Eq)]
        pub struct Stats { $($(#[$doc])* pub $name: u64,)* }

        /// The published copy of one shard's `Stats`.
        #[derive(Debug, Default)]
        pub struct SharedStats { $($name: AtomicU64,)* }

        impl SharedStats {
            pub fn publish(&self, s: &Stats) {
                $(self.$name.store(s.$name, Ordering::Relaxed);)*
            }

            pub fn snapshot(&self) -> Stats {
                Stats { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }

        impl Stats {
            /// Field names and values, for reports and metrics.
            pub fn fields(&self) -> Vec<(&'static str, u64)> {
                vec![$((stringify!($name), self.$name),)*]
            }

            pub fn add(&mut self, o: &Stats) {
                $(self.$name += o.$name;)*
            }
        }
    };
}

counters! {
    /// Datagrams received from sockets.
    rcv_datagrams,
    /// Datagrams received from other shards.
    rcv_handoffs,
    /// Datagrams passed to their owner shard.
    sent_handoffs,
    /// Requests parsed.
    rcv_requests,
    /// Responses parsed.
    rcv_replies,
    /// Messages that failed to parse.
    err_requests,
    /// Datagrams over `core.max_msg_size`.
    too_large,
    /// Empty keepalive datagrams (CRLF, zero bytes).
    keepalives,
    /// Responses dropped (malformed, or no transaction).
    drop_replies,
    /// ACKs absorbed.
    drop_acks,
    /// Stateless replies sent, by class.
    sent_1xx,
    sent_2xx,
    sent_4xx,
    sent_5xx,
    sent_other,
}

impl Stats {
    pub fn count_reply(&mut self, code: u16) {
        match code / 100 {
            1 => self.sent_1xx += 1,
            2 => self.sent_2xx += 1,
            4 => self.sent_4xx += 1,
            5 => self.sent_5xx += 1,
            _ => self.sent_other += 1,
        }
    }
}
