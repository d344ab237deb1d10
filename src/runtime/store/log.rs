//! The writing side: one shard's append-only log and its compaction.
//!
//! Blocking `std::fs` calls. `append` only encodes into memory; `flush` and
//! `compact` touch the disk, and the runtime decides on which thread.
//! `start_compaction` encodes the snapshot on the caller's thread and
//! writes it on a thread of its own; until `poll_compaction` reports the
//! switch, nothing is written to the old file, so the old file stays a
//! complete log up to the start and every later change goes to the new one.

use super::{HEADER, StoreError, log_path, shard_of};
use crate::registrar::binding::{Aor, Binding};
use crate::registrar::record::{Change, encode_frame};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Compact when the log holds this many times more records than are live.
pub const COMPACT_RATIO: u64 = 4;
/// ...but never below this many records, so a small table is not rewritten
/// every few REGISTERs.
pub const COMPACT_MIN_RECORDS: u64 = 4096;
/// Snapshot bytes per write, so a compaction of 100,000 bindings is a few
/// dozen writes, not 100,000. (A background compaction holds all of them,
/// about 500 bytes per binding, until its thread has written them.)
const SNAPSHOT_CHUNK: usize = 1 << 20;

/// One shard's log file, with the changes not yet written to it.
#[derive(Debug)]
pub struct ShardLog {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    /// Encoded frames waiting for `flush`.
    pending: Vec<u8>,
    /// Bytes of the file holding the header and whole frames: where the
    /// next write goes. Writing at this offset, not at the file's end,
    /// means a retry after a failed write overwrites its partial frame.
    len: u64,
    /// Records in the file and pending: what `should_compact` weighs.
    records: u64,
    /// Bytes were written since the last fsync.
    unsynced: bool,
    /// An fsync failed; see [`StoreError::Poisoned`].
    poisoned: bool,
    /// A compaction writing on its own thread.
    background: Option<Background>,
}

/// A compaction in progress on its own thread.
#[derive(Debug)]
struct Background {
    done: crossbeam_channel::Receiver<Result<Snapshot, StoreError>>,
    /// `records` when it started: appends since then go to the new file.
    records_at_start: u64,
    /// Buffered bytes the snapshot already holds (left by a failed flush).
    pending_at_start: usize,
}

impl ShardLog {
    /// Opens shard `shard`'s log in `dir` (created if missing) by writing
    /// `live`, the bindings this shard owns after start-up
    /// redistribution, as a fresh snapshot. Starting from a snapshot rather
    /// than appending to the old file is what makes a change in the number
    /// of shards safe (see the module docs, step 3). Call it only after
    /// [`super::load_dir`]: it replaces whatever the file held.
    pub fn open<'a>(
        dir: &Path,
        shard: usize,
        live: impl IntoIterator<Item = (&'a Aor, &'a Binding)>,
    ) -> Result<ShardLog, StoreError> {
        fs::create_dir_all(dir).map_err(StoreError::io(dir, "create directory"))?;
        let path = log_path(dir, shard);
        let snap = write_snapshot(&path, dir, encode_snapshot(live)?)?;
        if let Some(e) = snap.dir_error {
            return Err(e);
        }
        Ok(ShardLog {
            dir: dir.to_path_buf(),
            path,
            file: snap.file,
            pending: Vec::new(),
            len: snap.len,
            records: snap.records,
            unsynced: false,
            poisoned: false,
            background: None,
        })
    }

    /// Buffers `changes`, in order, for the next `flush`. All or nothing:
    /// on error none of them is buffered.
    pub fn append(&mut self, changes: &[Change<'_>]) -> Result<(), StoreError> {
        let start = self.pending.len();
        for change in changes {
            if let Err(len) = encode_frame(change, &mut self.pending) {
                self.pending.truncate(start);
                return Err(StoreError::TooLarge { len });
            }
        }
        self.records += changes.len() as u64;
        Ok(())
    }

    /// Writes the buffered changes; with `sync`, also fsyncs, after which
    /// every change appended so far survives a crash (db_mode 1 calls this
    /// before replying; db_mode 2 on its timer). On a write error the
    /// changes stay buffered and the next flush retries them.
    /// While a compaction runs, an unsynced flush writes nothing (the
    /// changes wait for the new file) and a synced one waits for the
    /// compaction to end first.
    pub fn flush(&mut self, sync: bool) -> Result<(), StoreError> {
        if self.background.is_some() {
            if !sync {
                return Ok(());
            }
            if let Err(e) = self.wait_compaction() {
                log::error!("location store: background compaction failed, the old log is kept: {e}");
            }
        }
        if self.poisoned {
            return Err(StoreError::Poisoned { path: self.path.clone() });
        }
        if !self.pending.is_empty() {
            self.file.write_all_at(&self.pending, self.len).map_err(StoreError::io(&self.path, "write"))?;
            self.len += self.pending.len() as u64;
            self.pending.clear();
            self.unsynced = true;
        }
        if sync && self.unsynced {
            if let Err(e) = self.file.sync_data() {
                // Linux may have dropped the dirty pages it failed to
                // write, so a retried fsync could succeed on lost data.
                self.poisoned = true;
                return Err(StoreError::io(&self.path, "fsync")(e));
            }
            self.unsynced = false;
        }
        Ok(())
    }

    /// Writes the buffered changes and hands out a handle whose
    /// `sync_data` makes them durable, so the fsync can run off the shard
    /// thread (db_mode 2's timer). `None` when nothing is unsynced. Report
    /// a failed sync with `sync_failed`.
    pub fn begin_sync(&mut self) -> Result<Option<File>, StoreError> {
        self.flush(false)?;
        if !self.unsynced {
            return Ok(None);
        }
        let handle = self.file.try_clone().map_err(StoreError::io(&self.path, "dup"))?;
        self.unsynced = false;
        Ok(Some(handle))
    }

    /// An fsync begun with `begin_sync` failed: the log is poisoned, as
    /// with a failed `flush(true)`.
    pub fn sync_failed(&mut self) {
        self.poisoned = true;
    }

    /// Replaces the log with a snapshot of `live`, which must be the
    /// shard's whole current table (every appended change included: the
    /// buffered ones are dropped, the snapshot holds their result). Atomic:
    /// on error, or a crash, the previous log is still there and still
    /// valid, and the buffered changes are kept.
    pub fn compact<'a>(&mut self, live: impl IntoIterator<Item = (&'a Aor, &'a Binding)>) -> Result<(), StoreError> {
        if self.background.is_some() {
            // Its snapshot is older than `live`: let it land, then replace it.
            let _ = self.wait_compaction();
        }
        let chunks = encode_snapshot(live)?;
        let snap = write_snapshot(&self.path, &self.dir, chunks)?;
        self.pending.clear();
        self.switch(snap, 0)
    }

    /// Starts a compaction to a snapshot of `live`, which must be the
    /// shard's whole current table: encoded here, written, fsynced and
    /// renamed into place on a thread of its own. What was buffered is
    /// written to the old file first, so that file stays complete should
    /// the compaction fail. Does nothing if one is already running.
    pub fn start_compaction<'a>(
        &mut self,
        live: impl IntoIterator<Item = (&'a Aor, &'a Binding)>,
    ) -> Result<(), StoreError> {
        if self.background.is_some() {
            return Ok(());
        }
        if let Err(e) = self.flush(false) {
            // The snapshot holds those changes anyway.
            log::warn!("location store: {e}; compacting");
        }
        let chunks = encode_snapshot(live)?;
        let (tx, done) = crossbeam_channel::bounded(1);
        let (path, dir) = (self.path.clone(), self.dir.clone());
        std::thread::Builder::new()
            .name("sipedge-compact".into())
            .spawn(move || {
                let _ = tx.send(write_snapshot(&path, &dir, chunks));
            })
            .map_err(StoreError::io(&self.path, "start the compaction thread"))?;
        self.background =
            Some(Background { done, records_at_start: self.records, pending_at_start: self.pending.len() });
        Ok(())
    }

    /// Whether a compaction is writing: changes appended now are durable
    /// only once it ended and they were flushed to the new file.
    pub fn compacting(&self) -> bool {
        self.background.is_some()
    }

    /// `None` while a compaction runs (or none was started); once it has
    /// ended, its result: on success the log is the new file and the
    /// changes appended meanwhile are ready for `flush`; on error the old
    /// file is kept and they go there.
    pub fn poll_compaction(&mut self) -> Option<Result<(), StoreError>> {
        let bg = self.background.as_ref()?;
        match bg.done.try_recv() {
            Ok(result) => Some(self.land(result)),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => Some(self.land(Err(thread_died(&self.path)))),
        }
    }

    fn wait_compaction(&mut self) -> Result<(), StoreError> {
        let Some(bg) = self.background.as_ref() else {
            return Ok(());
        };
        let result = bg.done.recv().unwrap_or_else(|_| Err(thread_died(&self.path)));
        self.land(result)
    }

    fn land(&mut self, result: Result<Snapshot, StoreError>) -> Result<(), StoreError> {
        let Some(bg) = self.background.take() else {
            return Ok(());
        };
        let since = self.records - bg.records_at_start;
        let snap = result?;
        self.pending.drain(..bg.pending_at_start);
        self.switch(snap, since)
    }

    /// The snapshot is renamed into place: the old inode is gone, so use
    /// the new file before anything else can fail. `extra` records are
    /// appended after it (buffered, not written yet).
    fn switch(&mut self, snap: Snapshot, extra: u64) -> Result<(), StoreError> {
        self.file = snap.file;
        self.len = snap.len;
        self.records = snap.records + extra;
        self.unsynced = false;
        // Until the directory is synced a crash may bring back the old
        // file, without the changes that go into the new one.
        if let Some(e) = snap.dir_error {
            self.poisoned = true;
            return Err(e);
        }
        self.poisoned = false;
        Ok(())
    }

    /// Whether the log has grown to [`COMPACT_RATIO`] times the
    /// `live_records` the shard holds (and past [`COMPACT_MIN_RECORDS`]).
    pub fn should_compact(&self, live_records: usize) -> bool {
        let live = u64::try_from(live_records).unwrap_or(u64::MAX);
        self.records >= COMPACT_MIN_RECORDS && self.records > live.saturating_mul(COMPACT_RATIO)
    }

    /// Bytes written to the file (header and frames), not counting the
    /// buffered changes.
    pub fn len_bytes(&self) -> u64 {
        self.len
    }

    /// Bytes of encoded changes waiting for `flush`.
    pub fn pending_bytes(&self) -> usize {
        self.pending.len()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Deletes the logs (and leftover temporary files) of shards numbered
/// `shards` and above, left by a run with more shards. Call it only after
/// every current shard has opened its log, which rewrote the bindings
/// those files held. Returns what it removed, for the log.
pub fn remove_stale(dir: &Path, shards: usize) -> Result<Vec<PathBuf>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, "list directory")(e)),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io(dir, "list directory"))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let shard = shard_of(name).or_else(|| name.strip_suffix(".tmp").and_then(shard_of));
        if shard.is_some_and(|s| s >= shards) {
            let path = entry.path();
            fs::remove_file(&path).map_err(StoreError::io(&path, "remove"))?;
            removed.push(path);
        }
    }
    if !removed.is_empty() {
        sync_dir(dir)?;
    }
    Ok(removed)
}

/// A snapshot renamed into place.
#[derive(Debug)]
struct Snapshot {
    file: File,
    len: u64,
    records: u64,
    /// The rename is done but the directory fsync failed: a crash may
    /// still bring back the old file.
    dir_error: Option<StoreError>,
}

/// A snapshot encoded in memory: the header and one Upsert per binding,
/// in chunks of about [`SNAPSHOT_CHUNK`] bytes.
struct Encoded {
    chunks: Vec<Vec<u8>>,
    records: u64,
}

fn encode_snapshot<'a>(live: impl IntoIterator<Item = (&'a Aor, &'a Binding)>) -> Result<Encoded, StoreError> {
    let mut chunks = Vec::new();
    let mut chunk = Vec::with_capacity(SNAPSHOT_CHUNK + 4096);
    chunk.extend_from_slice(HEADER);
    let mut records = 0u64;
    for (aor, binding) in live {
        encode_frame(&Change::Upsert { aor, binding }, &mut chunk).map_err(|len| StoreError::TooLarge { len })?;
        records += 1;
        if chunk.len() >= SNAPSHOT_CHUNK {
            chunks.push(std::mem::replace(&mut chunk, Vec::with_capacity(SNAPSHOT_CHUNK + 4096)));
        }
    }
    chunks.push(chunk);
    Ok(Encoded { chunks, records })
}

fn thread_died(path: &Path) -> StoreError {
    StoreError::Io { path: path.to_path_buf(), op: "compact", source: std::io::Error::other("compaction thread died") }
}

/// Writes `snap` to `<path>.tmp`, fsyncs it, renames it over `path` and
/// fsyncs `dir`. On error before the rename `path` is untouched and the
/// temporary file is removed.
fn write_snapshot(path: &Path, dir: &Path, snap: Encoded) -> Result<Snapshot, StoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = write_tmp(&tmp, &snap.chunks).and_then(|(file, len)| {
        fs::rename(&tmp, path).map_err(StoreError::io(path, "rename snapshot over"))?;
        Ok(Snapshot { file, len, records: snap.records, dir_error: sync_dir(dir).err() })
    });
    if result.is_err() {
        // Best effort: a leftover .tmp is ignored by the loader and
        // truncated by the next compaction.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_tmp(tmp: &Path, chunks: &[Vec<u8>]) -> Result<(File, u64), StoreError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(StoreError::io(tmp, "create"))?;
    let mut len = 0u64;
    for chunk in chunks {
        file.write_all(chunk).map_err(StoreError::io(tmp, "write"))?;
        len += chunk.len() as u64;
    }
    file.sync_all().map_err(StoreError::io(tmp, "fsync"))?;
    Ok((file, len))
}

/// Makes a rename or removal in `dir` durable (fsync of the directory).
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::io(dir, "fsync directory"))
}
