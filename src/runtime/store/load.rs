//! The reading side: start-up replay of every shard's log.

use super::{FIX_MOVE_AWAY, HEADER, HEADER_MAGIC, StoreError, shard_of};
use crate::registrar::binding::{Aor, Binding, UnixMillis};
use crate::registrar::record::{DecodeError, FRAME_MAGIC, FrameError, Record, decode_frame};
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// What start-up found in the store.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Every unexpired binding, sorted by AOR; within an AOR in the order
    /// they were first registered.
    pub bindings: Vec<(Aor, Binding)>,
    /// Every byte range that held no good record, to be logged.
    pub skipped: Vec<Skipped>,
    /// Log files read.
    pub files: usize,
    /// Good records replayed, expired ones included.
    pub records: usize,
}

/// A byte range of a log that was not replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub file: PathBuf,
    pub offset: u64,
    pub len: u64,
    /// What was wrong at `offset`; the rest of the range is whatever lay
    /// between there and the next good frame.
    pub reason: SkipReason,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: skipped {} bytes at offset {}: {}", self.file.display(), self.len, self.offset, self.reason)
    }
}

/// Why bytes of a log were skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The file ends inside its header.
    #[error("file ends inside its header")]
    TruncatedHeader,
    /// A frame runs past the end of the file: a write cut short by a crash
    /// (at the tail), or a corrupt length (elsewhere).
    #[error("frame runs past the end of the file (interrupted write?)")]
    Truncated,
    /// No frame starts where one should: the bytes were overwritten.
    #[error("no frame starts here")]
    Magic,
    /// A length field over the record limit: corrupt.
    #[error("frame length {0} over the record limit")]
    Length(u32),
    /// The checksum does not match: corrupt.
    #[error("checksum mismatch")]
    Crc,
    /// The checksum matches but the record does not decode.
    #[error("unreadable record: {0}")]
    Record(DecodeError),
}

impl From<FrameError> for SkipReason {
    fn from(e: FrameError) -> SkipReason {
        match e {
            FrameError::Magic => SkipReason::Magic,
            FrameError::Length(n) => SkipReason::Length(n),
            FrameError::Truncated => SkipReason::Truncated,
            FrameError::Crc => SkipReason::Crc,
            FrameError::Record(d) => SkipReason::Record(d),
        }
    }
}

/// One file's (or the merged) table: AOR to its bindings, one per contact.
/// aHash rather than SipHash: the keys come from our own file, and start-up
/// time is what matters here.
type Table = HashMap<Aor, Vec<Binding>, ahash::RandomState>;

/// Replays every `location-<n>.log` in `dir`, whichever shard count wrote
/// them, and returns the bindings that expire after `now`. A missing
/// directory is created and gives an empty result. Refuses (with the file
/// and the fix) a file that is not a store of this version; recovers around
/// damage and reports it in [`Loaded::skipped`].
pub fn load_dir(dir: &Path, now: UnixMillis) -> Result<Loaded, StoreError> {
    let mut files = list_logs(dir)?;
    files.sort_unstable();
    let mut loaded = Loaded { files: files.len(), ..Loaded::default() };
    let mut merged = Table::default();
    for (_, path) in files {
        let data = fs::read(&path).map_err(StoreError::io(&path, "read"))?;
        let table = replay(&path, &data, &mut loaded)?;
        merge(&mut merged, table);
    }
    let mut aors: Vec<_> = merged.into_iter().collect();
    aors.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (aor, mut bindings) in aors {
        bindings.retain(|b| b.expires > now);
        // Most AORs have one binding: move the key to the last, clone it
        // for the others.
        if let Some(last) = bindings.pop() {
            for b in bindings {
                loaded.bindings.push((aor.clone(), b));
            }
            loaded.bindings.push((aor, last));
        }
    }
    Ok(loaded)
}

/// The store files in `dir`, with their shard numbers.
fn list_logs(dir: &Path) -> Result<Vec<(usize, PathBuf)>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(StoreError::io(dir, "create directory"))?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(StoreError::io(dir, "list directory")(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(StoreError::io(dir, "list directory"))?;
        // Other names, `.tmp` leftovers of an interrupted compaction
        // included, are not ours to read: the log they were to replace is
        // still complete.
        if let Some(shard) = entry.file_name().to_str().and_then(shard_of) {
            files.push((shard, entry.path()));
        }
    }
    Ok(files)
}

/// Replays one file's frames in order into a fresh table.
fn replay(path: &Path, data: &[u8], loaded: &mut Loaded) -> Result<Table, StoreError> {
    let mut table = Table::default();
    let mut pos = match check_header(path, data)? {
        Some(end) => end,
        None => {
            if !data.is_empty() {
                loaded.skipped.push(Skipped {
                    file: path.to_path_buf(),
                    offset: 0,
                    len: data.len() as u64,
                    reason: SkipReason::TruncatedHeader,
                });
            }
            return Ok(table);
        }
    };
    while pos < data.len() {
        match decode_frame(&data[pos..]) {
            Ok((record, used)) => {
                apply(&mut table, record);
                loaded.records += 1;
                pos += used;
            }
            Err(e) => {
                let next = resync(data, pos + 1);
                loaded.skipped.push(Skipped {
                    file: path.to_path_buf(),
                    offset: pos as u64,
                    len: (next - pos) as u64,
                    reason: e.into(),
                });
                pos = next;
            }
        }
    }
    Ok(table)
}

/// Where the frames start, `None` for a file cut inside its header.
fn check_header(path: &Path, data: &[u8]) -> Result<Option<usize>, StoreError> {
    if data.len() < HEADER.len() {
        // A prefix of our header: ours, cut short. Anything else is not ours.
        if HEADER.starts_with(data) {
            return Ok(None);
        }
        return Err(StoreError::NotAStore { path: path.to_path_buf(), fix: FIX_MOVE_AWAY });
    }
    if !data.starts_with(HEADER_MAGIC) {
        return Err(StoreError::NotAStore { path: path.to_path_buf(), fix: FIX_MOVE_AWAY });
    }
    let version = data[HEADER_MAGIC.len()];
    if version != HEADER[HEADER_MAGIC.len()] {
        return Err(StoreError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: [version].escape_ascii().to_string(),
            fix: "start the sipedge version that wrote it, or move the file away",
        });
    }
    if !data.starts_with(HEADER) {
        return Err(StoreError::NotAStore { path: path.to_path_buf(), fix: FIX_MOVE_AWAY });
    }
    Ok(Some(HEADER.len()))
}

/// The offset of the next good frame after damage, or the end. Frames are
/// self-checking, so any offset where a frame decodes is a frame start;
/// the magic byte only makes the search cheap.
fn resync(data: &[u8], from: usize) -> usize {
    let mut at = from;
    while let Some(i) = data.get(at..).and_then(|d| memchr::memchr(FRAME_MAGIC, d)) {
        let candidate = at + i;
        if decode_frame(&data[candidate..]).is_ok() {
            return candidate;
        }
        at = candidate + 1;
    }
    data.len()
}

fn apply(table: &mut Table, record: Record) {
    match record {
        Record::Upsert { aor, binding } => {
            let bindings = table.entry(aor).or_default();
            match bindings.iter_mut().find(|b| b.contact == binding.contact) {
                Some(old) => *old = binding,
                None => bindings.push(binding),
            }
        }
        Record::Remove { aor, contact } => {
            if let Some(bindings) = table.get_mut(&aor) {
                bindings.retain(|b| b.contact != contact);
                if bindings.is_empty() {
                    table.remove(&aor);
                }
            }
        }
        Record::RemoveAor { aor } => {
            table.remove(&aor);
        }
        Record::Clear => table.clear(),
    }
}

/// Adds one file's result. A binding found in two files (possible only if
/// a run stopped between re-sharding and [`super::remove_stale`]) keeps the
/// most recently updated copy; on a tie, the later file's.
fn merge(into: &mut Table, from: Table) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (aor, bindings) in from {
        let have = into.entry(aor).or_default();
        for b in bindings {
            match have.iter_mut().find(|h| h.contact == b.contact) {
                Some(h) if b.updated >= h.updated => *h = b,
                Some(_) => {}
                None => have.push(b),
            }
        }
    }
}
