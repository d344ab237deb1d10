//! The writing side: one shard's append-only log and its compaction.
//!
//! Blocking `std::fs` calls. `append` only encodes into memory; `flush` and
//! `compact` touch the disk, and the runtime decides on which thread.

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
/// Snapshot bytes gathered before each write, so a compaction of 100,000
/// bindings is a few dozen writes, not 100,000 nor one 30 MB buffer.
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
        let snap = write_snapshot(&path, live)?;
        sync_dir(dir)?;
        Ok(ShardLog {
            dir: dir.to_path_buf(),
            path,
            file: snap.file,
            pending: Vec::new(),
            len: snap.len,
            records: snap.records,
            unsynced: false,
            poisoned: false,
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
    pub fn flush(&mut self, sync: bool) -> Result<(), StoreError> {
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
        let snap = write_snapshot(&self.path, live)?;
        // The rename is done: the old inode is gone, so switch to the new
        // file before anything else can fail.
        self.file = snap.file;
        self.len = snap.len;
        self.records = snap.records;
        self.pending.clear();
        self.unsynced = false;
        // Until the directory is synced a crash may bring back the old
        // file, without the changes that go into the new one.
        if let Err(e) = sync_dir(&self.dir) {
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
struct Snapshot {
    file: File,
    len: u64,
    records: u64,
}

/// Writes `live` to `<path>.tmp`, fsyncs it and renames it over `path`.
/// On error `path` is untouched and the temporary file is removed.
fn write_snapshot<'a>(
    path: &Path,
    live: impl IntoIterator<Item = (&'a Aor, &'a Binding)>,
) -> Result<Snapshot, StoreError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = write_tmp(&tmp, live).and_then(|(file, len, records)| {
        fs::rename(&tmp, path).map_err(StoreError::io(path, "rename snapshot over"))?;
        Ok(Snapshot { file, len, records })
    });
    if result.is_err() {
        // Best effort: a leftover .tmp is ignored by the loader and
        // truncated by the next compaction.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_tmp<'a>(
    tmp: &Path,
    live: impl IntoIterator<Item = (&'a Aor, &'a Binding)>,
) -> Result<(File, u64, u64), StoreError> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(StoreError::io(tmp, "create"))?;
    let mut chunk = Vec::with_capacity(SNAPSHOT_CHUNK + 4096);
    chunk.extend_from_slice(HEADER);
    let (mut len, mut records) = (0u64, 0u64);
    for (aor, binding) in live {
        encode_frame(&Change::Upsert { aor, binding }, &mut chunk).map_err(|len| StoreError::TooLarge { len })?;
        records += 1;
        if chunk.len() >= SNAPSHOT_CHUNK {
            file.write_all(&chunk).map_err(StoreError::io(tmp, "write"))?;
            len += chunk.len() as u64;
            chunk.clear();
        }
    }
    file.write_all(&chunk).map_err(StoreError::io(tmp, "write"))?;
    len += chunk.len() as u64;
    file.sync_all().map_err(StoreError::io(tmp, "fsync"))?;
    Ok((file, len, records))
}

/// Makes a rename or removal in `dir` durable (fsync of the directory).
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::io(dir, "fsync directory"))
}
