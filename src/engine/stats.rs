//! Per-shard counters. The hot path bumps plain integers it owns; the
//! housekeeping timer copies them into atomics that other threads (the
//! shutdown report, the control listener) read without locks. Each
//! counter carries the group and name Kamailio's `stats.get_statistics`
//! uses where Kamailio has one, so dashboards carry over.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident => $group:literal $kname:literal,)*) => {
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
            /// (group, name, value) for every counter, Kamailio naming.
            pub fn named(&self) -> Vec<(&'static str, &'static str, u64)> {
                vec![$(($group, $kname, self.$name),)*]
            }

            pub fn add(&mut self, o: &Stats) {
                $(self.$name += o.$name;)*
            }
        }
    };
}

counters! {
    /// Datagrams received from sockets.
    rcv_datagrams => "core" "rcv_datagrams",
    /// Datagrams received from other shards.
    rcv_handoffs => "core" "rcv_handoffs",
    /// Datagrams passed to their owner shard.
    sent_handoffs => "core" "sent_handoffs",
    /// Requests parsed.
    rcv_requests => "core" "rcv_requests",
    /// Responses parsed.
    rcv_replies => "core" "rcv_replies",
    /// Messages that failed to parse.
    err_requests => "core" "err_requests",
    /// Datagrams over `core.max_msg_size`.
    too_large => "core" "too_large",
    /// Empty keepalive datagrams (CRLF, zero bytes).
    keepalives => "core" "keepalives",
    /// Responses dropped (malformed, or no transaction).
    drop_replies => "core" "drop_replies",
    /// ACKs absorbed.
    drop_acks => "sl" "received_ACKs",
    /// Stateless replies sent, by class.
    sent_1xx => "sl" "1xx_replies",
    sent_2xx => "sl" "2xx_replies",
    sent_4xx => "sl" "4xx_replies",
    sent_5xx => "sl" "5xx_replies",
    sent_other => "sl" "xxx_replies",
    /// REGISTERs answered 2xx / otherwise (Kamailio registrar stats).
    accepted_regs => "registrar" "accepted_regs",
    rejected_regs => "registrar" "rejected_regs",
    /// Location table size now (gauges) and bindings expired so far.
    location_users => "usrloc" "location-users",
    location_contacts => "usrloc" "location-contacts",
    location_expires => "usrloc" "location-expires",
    /// Server and client transactions created, retransmissions absorbed,
    /// transactions held now (Kamailio tmx).
    tx_server => "tmx" "UAS_transactions",
    tx_client => "tmx" "UAC_transactions",
    tx_absorbed => "tmx" "rpl_absorbed",
    tx_current => "tmx" "active_transactions",
    /// Requests relayed statelessly (ACK to a 2xx) and responses relayed.
    fwd_requests => "core" "fwd_requests",
    fwd_replies => "core" "fwd_replies",
    /// The dialog module's statistics.
    active_dialogs => "dialog" "active_dialogs",
    early_dialogs => "dialog" "early_dialogs",
    processed_dialogs => "dialog" "processed_dialogs",
    expired_dialogs => "dialog" "expired_dialogs",
    failed_dialogs => "dialog" "failed_dialogs",
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
