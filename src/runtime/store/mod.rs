//! Persistence of the location table (Kamailio usrloc `db_mode`, reference
//! §4.3): an embedded, per-shard, append-only log of CRC-framed changes,
//! compacted into a fresh snapshot when it grows.
//!
//! # Files
//!
//! One file per shard, `location-<shard>.log`, in the configured directory:
//!
//! ```text
//! header   "SIPEDGE-LOC v1\n"        15 bytes; byte 13 is the version digit
//! frame*   0xA5                      magic byte
//!          u32 LE  len               payload length, at most 1 MiB
//!          payload                   one change, see record.rs
//!          u32 LE  crc               CRC32 (IEEE) of len and payload
//! ```
//!
//! A payload is a kind byte, 1 Upsert { aor, binding }, 2 Remove { aor,
//! contact }, 3 RemoveAor { aor }, 4 Clear, then its fields: byte strings
//! as u32 length + bytes, optional fields as a 0/1 byte + value, socket
//! addresses as family 4 (ip, port) or 6 (ip, port, flowinfo, scope),
//! transport as the Kamailio proto digit, flags as bits (1 nated, 2 ping),
//! times as u64 Unix milliseconds. Every field of a `Binding` is stored.
//!
//! # Guarantees
//!
//! - Atomic snapshots: compaction writes `location-<shard>.log.tmp`, fsyncs
//!   it, renames it over the log and fsyncs the directory, so a crash leaves
//!   either the old file or the new one, never a mix.
//! - Appends only ever add bytes after the last good frame, so a crash in
//!   the middle of a write can lose the frames of that write and nothing
//!   written before it.
//! - Nothing is lost silently: the loader checks every frame's CRC; a bad
//!   frame is skipped, the loader finds the next good frame after it, and
//!   every skipped byte range is reported with file, offset and reason. A
//!   file that is not ours stops start-up with its name and the fix.
//!
//! # Using it (the runtime does this, one `ShardLog` per shard)
//!
//! 1. [`load_dir`] reads every `location-*.log`, whatever the shard count of
//!    the run that wrote them, and returns the unexpired bindings. Log every
//!    [`Skipped`] range.
//! 2. Each binding goes to the shard `hash(AOR) % N`.
//! 3. Each shard calls [`ShardLog::open`] with its live bindings, which
//!    rewrites its file as a snapshot; only after every shard has done so,
//!    [`remove_stale`] deletes the files of shards that no longer exist.
//!    This order matters when N changed: until step 3 an AOR's records may
//!    sit in another shard's file, where a later removal would not reach
//!    them.
//! 4. Every change to the table: [`ShardLog::append`]. `db_mode` 1: then
//!    [`ShardLog::flush`]`(true)` before the 200 OK leaves (one flush can
//!    cover every REGISTER handled in the same batch). `db_mode` 2:
//!    `flush(true)` every [`DEFAULT_TIMER_INTERVAL`] and on shutdown.
//! 5. When [`ShardLog::should_compact`] says so, [`ShardLog::compact`].
//!
//! Expiry needs no record: the loader drops bindings whose time has
//! passed, and compaction is given only live ones.

mod load;
mod log;

pub use crate::registrar::record::{Change, DecodeError, MAX_PAYLOAD, Record};
pub use load::{Loaded, SkipReason, Skipped, load_dir};
pub use log::{COMPACT_MIN_RECORDS, COMPACT_RATIO, ShardLog, remove_stale};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How often write-back mode flushes. Kamailio's usrloc `timer_interval`
/// defaults to 60 s; sipedge bounds what a crash loses to one second.
pub const DEFAULT_TIMER_INTERVAL: Duration = Duration::from_secs(1);

/// First bytes of every store file; the byte after them is the version.
const HEADER_MAGIC: &[u8] = b"SIPEDGE-LOC v";
/// The whole header this build writes and reads.
const HEADER: &[u8] = b"SIPEDGE-LOC v1\n";
/// What an operator does about a file that stops start-up.
const FIX_MOVE_AWAY: &str = "move it away or delete it";

/// Kamailio usrloc `db_mode`: whether and when location changes are made
/// durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DbMode {
    /// 0: memory only; bindings are lost on restart.
    #[default]
    Memory = 0,
    /// 1: write-through; a change is fsync'd before its reply is sent.
    WriteThrough = 1,
    /// 2: write-back; changes are buffered and flushed every timer
    /// interval and on shutdown; a crash loses at most the last interval.
    WriteBack = 2,
}

impl DbMode {
    pub fn from_int(value: i64) -> Result<DbMode, DbModeError> {
        match value {
            0 => Ok(DbMode::Memory),
            1 => Ok(DbMode::WriteThrough),
            2 => Ok(DbMode::WriteBack),
            3 => Err(DbModeError::DbOnly),
            4 => Err(DbModeError::LoadOnly),
            other => Err(DbModeError::Unknown(other)),
        }
    }

    /// Whether bindings are written to disk at all.
    pub fn persists(self) -> bool {
        self != DbMode::Memory
    }
}

impl TryFrom<i64> for DbMode {
    type Error = DbModeError;

    fn try_from(value: i64) -> Result<DbMode, DbModeError> {
        DbMode::from_int(value)
    }
}

/// A `db_mode` value sipedge does not implement: an operator fault found
/// when the configuration is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DbModeError {
    /// Kamailio db_mode 3 reads every lookup from an SQL database; sipedge
    /// has no database server and always serves lookups from memory.
    #[error(
        "db_mode = 3 (DB-only) is not supported: sipedge has no SQL database and serves \
         lookups from memory; use 1 (write-through) or 2 (write-back)"
    )]
    DbOnly,
    /// Kamailio db_mode 4 loads from the database once and never writes.
    #[error(
        "db_mode = 4 (load once, then memory only) is not supported: its changes are never \
         saved; use 2 (write-back) to keep them, or 0 (memory only)"
    )]
    LoadOnly,
    /// Not a db_mode at all.
    #[error("db_mode = {0}: use 0 (memory only), 1 (write-through) or 2 (write-back)")]
    Unknown(i64),
}

/// Why the store could not be read or written. Every variant stops what
/// the caller was doing: at start-up sipedge refuses to start, in
/// write-through mode the REGISTER gets a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system call failed: the disk, permissions or space.
    #[error("{}: cannot {op}: {source}", path.display())]
    Io {
        path: PathBuf,
        /// What was being done, e.g. "fsync".
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `location-*.log` file that does not start with our header: not
    /// something sipedge wrote, so it must not guess at its contents.
    #[error("{}: not a sipedge location store (it does not start with \"SIPEDGE-LOC v\"); {fix}", path.display())]
    NotAStore { path: PathBuf, fix: &'static str },
    /// A store written by a newer (or older) sipedge in another format.
    #[error("{}: location store format version {found:?} is not supported (this build reads v1); {fix}", path.display())]
    UnsupportedVersion {
        path: PathBuf,
        /// The version byte as found, escaped if not printable.
        found: String,
        fix: &'static str,
    },
    /// One change whose encoding exceeds [`MAX_PAYLOAD`]: a registrar bug,
    /// since a SIP message is far smaller. Nothing of it was buffered.
    #[error("location change of {len} bytes exceeds the record limit of {MAX_PAYLOAD} bytes")]
    TooLarge { len: usize },
    /// An earlier fsync of this log failed, so which of its writes reached
    /// the disk is unknown (Linux may drop the failed pages). Nothing more
    /// is claimed durable until [`ShardLog::compact`] rewrites the file.
    #[error("{}: an earlier fsync failed; the log must be rewritten by compaction", path.display())]
    Poisoned { path: PathBuf },
}

impl StoreError {
    fn io(path: &Path, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError {
        let path = path.to_path_buf();
        move |source| StoreError::Io { path, op, source }
    }
}

fn log_path(dir: &Path, shard: usize) -> PathBuf {
    dir.join(format!("location-{shard}.log"))
}

/// The shard number of a file named `location-<shard>.log`.
fn shard_of(file_name: &str) -> Option<usize> {
    let digits = file_name.strip_prefix("location-")?.strip_suffix(".log")?;
    // Only canonical decimal, so two names never claim one shard.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
pub(crate) mod tests;
