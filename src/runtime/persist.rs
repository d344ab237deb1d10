//! Location persistence for one shard (Kamailio usrloc db_mode): the
//! engine logs changes; this writes them to the shard's log file. Mode 1
//! makes them durable before the shard sends the replies that announce
//! them; mode 2 flushes every `timer_interval` and on shutdown. The
//! runtime runs every fsync on the hot path as an io_uring operation, and
//! compaction writes its snapshot on a thread of its own.

use super::store::{DbMode, ShardLog};
use crate::engine::Engine;
use crate::registrar::Change;
use std::fs::File;
use std::time::{Duration, Instant};

/// What the shard does with the replies of one input.
pub enum Gate {
    Send,
    /// fsync this first (off the shard thread), then send.
    SyncFirst(File),
    /// The changes could not be stored: say nothing, the UA retransmits.
    Withhold,
    /// A compaction is writing (db_mode 1): keep the replies until it has
    /// ended, then ask `release`.
    Hold,
}

pub struct Persistence {
    mode: DbMode,
    log: Option<ShardLog>,
    changes: Vec<Change>,
    interval: Duration,
    last_flush: Instant,
}

impl Persistence {
    pub fn new(mode: DbMode, log: Option<ShardLog>, interval: Duration) -> Persistence {
        Persistence { mode, log, changes: Vec::new(), interval, last_flush: Instant::now() }
    }

    /// Appends the engine's new changes to the log buffer.
    fn take_changes(&mut self, engine: &mut Engine) -> Result<bool, ()> {
        self.changes.clear();
        engine.drain_changes(&mut self.changes);
        let Some(log) = self.log.as_mut() else {
            return Ok(false);
        };
        if self.changes.is_empty() {
            return Ok(false);
        }
        let refs: Vec<_> = self.changes.iter().map(Change::as_change).collect();
        log.append(&refs).map(|()| true).map_err(|e| log::error!("location store: {e}"))
    }

    /// After each input: what must happen before the replies it produced
    /// leave. Write-through (db_mode 1) writes the changes and returns a
    /// handle to fsync first; the fsync covers everything written before
    /// it, so replies drained now are announced only once durable.
    pub fn gate(&mut self, engine: &mut Engine) -> Gate {
        let appended = self.take_changes(engine);
        if self.mode != DbMode::WriteThrough {
            return Gate::Send;
        }
        match appended {
            Ok(false) => Gate::Send,
            Err(()) => Gate::Withhold,
            Ok(true) => self.release(),
        }
    }

    /// Write-back (db_mode 2) from the shard's timer loop: once per
    /// `timer_interval`, writes what is pending and returns a file handle
    /// to fsync, which the caller runs off the shard thread so receiving
    /// never waits for the disk. In write-through (db_mode 1) it only
    /// compacts: the gate of the input that made a change writes and
    /// syncs it. Taking the changes here would leave the gate nothing to
    /// wait for, and the 200 would leave while the binding was still in a
    /// buffer, lost to a `kill -9`.
    pub fn on_tick(&mut self, engine: &mut Engine, now: Instant) -> Option<File> {
        let write_back = self.mode != DbMode::WriteThrough;
        if write_back {
            let _ = self.take_changes(engine);
        }
        if now.duration_since(self.last_flush) < self.interval {
            return None;
        }
        self.last_flush = now;
        self.compact_if_due(engine, true);
        if !write_back {
            return None;
        }
        let log = self.log.as_mut()?;
        log.begin_sync().unwrap_or_else(|e| {
            log::error!("location store: {e}");
            None
        })
    }

    /// From the timer loop: whether a background compaction has just
    /// ended (successfully or not; either way the log is usable again).
    pub fn poll_compaction(&mut self) -> bool {
        match self.log.as_mut().and_then(ShardLog::poll_compaction) {
            None => false,
            Some(Ok(())) => {
                log::info!("location store: compacted");
                true
            }
            Some(Err(e)) => {
                log::error!("location store: compaction failed, the old log is kept: {e}");
                true
            }
        }
    }

    /// What must happen before replies announcing stored changes leave
    /// (db_mode 1): after each input, and for replies held by `Gate::Hold`
    /// once the compaction has ended.
    pub fn release(&mut self) -> Gate {
        let Some(log) = self.log.as_mut() else {
            return Gate::Send;
        };
        if log.compacting() {
            return Gate::Hold;
        }
        match log.begin_sync() {
            Ok(Some(file)) => Gate::SyncFirst(file),
            Ok(None) => Gate::Send,
            Err(e) => {
                log::error!("location store: {e}: replies withheld, the UA will retransmit");
                Gate::Withhold
            }
        }
    }

    /// The background fsync from `on_tick` finished.
    pub fn synced(&mut self, result: std::io::Result<()>) {
        if let (Err(e), Some(log)) = (result, self.log.as_mut()) {
            log::error!("location store {}: fsync failed: {e}", log.path().display());
            log.sync_failed();
        }
    }

    /// `ul.flush`: write and sync what is pending now.
    pub fn flush_now(&mut self, engine: &mut Engine) {
        let _ = self.take_changes(engine);
        self.flush(engine);
    }

    /// Final flush before exit.
    pub fn shutdown(&mut self, engine: &mut Engine) {
        let _ = self.take_changes(engine);
        self.flush(engine);
    }

    fn flush(&mut self, engine: &Engine) {
        if let Some(log) = self.log.as_mut()
            && let Err(e) = log.flush(true)
        {
            log::error!("location store: {e}");
        }
        self.compact_if_due(engine, false);
    }

    /// Compacts when the log has grown enough: on a thread of its own from
    /// the timer (`background`), in place at shutdown and for `ul.flush`.
    fn compact_if_due(&mut self, engine: &Engine, background: bool) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        // O(1): this runs every interval, and counting the table itself
        // stalled the shard for milliseconds at 50,000 bindings.
        let live = engine.location().counters().contacts;
        if !log.should_compact(live) {
            return;
        }
        let result = if background {
            log.start_compaction(engine.location().bindings())
        } else {
            log.compact(engine.location().bindings())
        };
        if let Err(e) = result {
            log::error!("location store: compaction failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::owner::Sharder;
    use crate::engine::{Datagram, EngineConfig};
    use crate::ids::{ListenerId, ShardId};
    use crate::registrar::UnixMillis;
    use crate::runtime::store::tests::TestDir;
    use std::sync::Arc;

    fn engine(now: Instant) -> Engine {
        let cfg = Config::load(None, &["udp:192.0.2.1:5060".into()], &[]).unwrap();
        let cfg = Arc::new(EngineConfig::from_config(&cfg));
        Engine::new(now, UnixMillis(1_767_225_600_000), ShardId(0), cfg, Sharder::new(42, 1), Arc::default())
    }

    const REGISTER: &[u8] = b"REGISTER sip:192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKp1;rport\r\nMax-Forwards: 70\r\n\
From: <sip:bob@192.0.2.1>;tag=r1\r\nTo: <sip:bob@192.0.2.1>\r\nCall-ID: p1\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:bob@10.0.0.5:5060>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn in_write_through_a_tick_leaves_the_reply_waiting_for_its_fsync() {
        let dir = TestDir::new();
        let now = Instant::now();
        let mut e = engine(now);
        let log = ShardLog::open(dir.path(), 0, e.location().bindings()).unwrap();
        let mut p = Persistence::new(DbMode::WriteThrough, Some(log), Duration::from_secs(60));
        let src = "198.51.100.2:40000".parse().unwrap();
        e.handle_datagram(now, Datagram { local: ListenerId(0), src, bytes: REGISTER });
        // The shard's tick can come between the REGISTER and its gate.
        assert!(p.on_tick(&mut e, now).is_none());
        assert!(matches!(p.gate(&mut e), Gate::SyncFirst(_)), "the 200 must wait for the fsync");
        assert!(matches!(p.gate(&mut e), Gate::Send), "nothing left to sync");
    }
}
