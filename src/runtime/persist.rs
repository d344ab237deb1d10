//! Location persistence for one shard (Kamailio usrloc db_mode): the
//! engine logs changes; this writes them to the shard's log file. Mode 1
//! makes them durable before the shard sends the replies that announce
//! them; mode 2 flushes every `timer_interval` and on shutdown.

use crate::engine::Engine;
use crate::registrar::Change;
use crate::registrar::store::{DbMode, ShardLog};
use std::fs::File;
use std::time::{Duration, Instant};

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

    /// Takes the engine's new changes. Returns false when write-through
    /// could not make them durable: the caller then must not announce them.
    pub fn after_input(&mut self, engine: &mut Engine) -> bool {
        self.changes.clear();
        engine.drain_changes(&mut self.changes);
        let Some(log) = self.log.as_mut() else {
            return true;
        };
        if self.changes.is_empty() {
            return true;
        }
        let refs: Vec<_> = self.changes.iter().map(Change::as_change).collect();
        if let Err(e) = log.append(&refs) {
            log::error!("location store: {e}");
            return self.mode != DbMode::WriteThrough;
        }
        if self.mode == DbMode::WriteThrough
            && let Err(e) = log.flush(true)
        {
            log::error!("location store: {e}: replies withheld, the UA will retransmit");
            return false;
        }
        true
    }

    /// Write-back (db_mode 2) from the shard's timer loop: once per
    /// `timer_interval`, writes what is pending and returns a file handle
    /// to fsync, which the caller runs off the shard thread so receiving
    /// never waits for the disk.
    pub fn on_tick(&mut self, engine: &mut Engine, now: Instant) -> Option<File> {
        self.after_input(engine);
        if now.duration_since(self.last_flush) < self.interval {
            return None;
        }
        self.last_flush = now;
        self.compact_if_due(engine);
        let log = self.log.as_mut()?;
        log.begin_sync().unwrap_or_else(|e| {
            log::error!("location store: {e}");
            None
        })
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
        self.after_input(engine);
        self.flush(engine);
    }

    /// Final flush before exit.
    pub fn shutdown(&mut self, engine: &mut Engine) {
        self.after_input(engine);
        self.flush(engine);
    }

    fn flush(&mut self, engine: &Engine) {
        if let Some(log) = self.log.as_mut()
            && let Err(e) = log.flush(true)
        {
            log::error!("location store: {e}");
        }
        self.compact_if_due(engine);
    }

    fn compact_if_due(&mut self, engine: &Engine) {
        let Some(log) = self.log.as_mut() else {
            return;
        };
        let live = engine.location().bindings().count();
        if log.should_compact(live)
            && let Err(e) = log.compact(engine.location().bindings())
        {
            log::error!("location store: compaction failed: {e}");
        }
    }
}
