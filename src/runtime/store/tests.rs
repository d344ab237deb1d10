//! Store tests over real files in a private temporary directory, and the
//! fixtures the unit tests in `record.rs` share.

use super::*;
use crate::registrar::binding::{Aor, Binding, BindingFlags, UnixMillis};
use crate::sip::transport::Transport;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

pub(crate) use crate::testutil::XorShift;

/// A binding with every optional field unset, distinct per `i`.
pub(crate) fn binding(i: u64, expires: u64) -> Binding {
    Binding {
        contact: format!("sip:user{i}@192.0.2.{}:5060", i % 250).into_bytes().into(),
        received: None,
        source: format!("198.51.100.{}:{}", i % 250, 1024 + i % 60_000).parse().unwrap(),
        transport: Transport::Udp,
        local: "203.0.113.1:5060".parse().unwrap(),
        path: None,
        q: None,
        call_id: format!("call-{i}@host").into_bytes().into(),
        cseq: i as u32,
        user_agent: None,
        flags: BindingFlags::default(),
        expires: UnixMillis(expires),
        last_keepalive: UnixMillis(expires / 2),
        updated: UnixMillis(expires / 3),
        instance: None,
        reg_id: None,
    }
}

/// A binding with every optional field set, an IPv6 source with flow info
/// and scope, and bytes that are not text.
pub(crate) fn full_binding() -> Binding {
    Binding {
        contact: b"sip:alice@[2001:db8::7]:5070;transport=tls;x=%A5".as_slice().into(),
        received: Some(b"sip:[2001:db8::9]:40112;transport=tls".as_slice().into()),
        source: "[2001:db8::9%3]:40112".parse().unwrap(),
        transport: Transport::Tls,
        local: "192.0.2.1:5061".parse().unwrap(),
        path: Some(b"<sip:edge1;lr>,<sip:edge2;lr>".as_slice().into()),
        q: Some(500),
        call_id: b"a84b4c76e66710\x00\xff".as_slice().into(),
        cseq: u32::MAX,
        user_agent: Some(b"Phone/1.0".as_slice().into()),
        flags: BindingFlags { nated: true, ping: true },
        expires: UnixMillis(u64::MAX),
        last_keepalive: UnixMillis(1_700_000_000_123),
        updated: UnixMillis(1_700_000_000_000),
        instance: Some(b"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>".as_slice().into()),
        reg_id: Some(7),
    }
}

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TestDir(PathBuf);

impl TestDir {
    pub fn new() -> TestDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("sipedge-store-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TestDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

use std::fs;

fn aor(i: u64) -> Aor {
    Aor(format!("user{i}@example.com").into_bytes().into())
}

const NOW: UnixMillis = UnixMillis(1_000_000);
const LATER: u64 = 2_000_000;

/// Shard 0's log holding one Upsert per `bindings`, flushed; returns the
/// frame start offsets.
fn write_upserts(dir: &Path, bindings: &[(Aor, Binding)]) -> Vec<u64> {
    let mut log = ShardLog::open(dir, 0, std::iter::empty()).unwrap();
    let mut starts = Vec::new();
    for (a, b) in bindings {
        starts.push(log.len_bytes() + log.pending_bytes() as u64);
        log.append(&[Change::Upsert { aor: a, binding: b }]).unwrap();
    }
    log.flush(true).unwrap();
    starts
}

fn sorted(mut v: Vec<(Aor, Binding)>) -> Vec<(Aor, Binding)> {
    v.sort_by(|a, b| (&a.0, &a.1.contact).cmp(&(&b.0, &b.1.contact)));
    v
}

#[test]
fn missing_dir_is_created_and_empty() {
    let t = TestDir::new();
    let dir = t.path().join("a/b");
    let loaded = load_dir(&dir, NOW).unwrap();
    assert!(dir.is_dir());
    assert_eq!((loaded.files, loaded.records, loaded.bindings.len()), (0, 0, 0));
}

#[test]
fn replay_applies_changes_in_order() {
    let t = TestDir::new();
    let (a1, a2, a3) = (aor(1), aor(2), aor(3));
    let (b1, mut b1_new, b2, b3) = (binding(1, LATER), binding(1, LATER), binding(2, LATER), binding(3, LATER));
    b1_new.cseq = 99;
    let mut log = ShardLog::open(t.path(), 0, std::iter::empty()).unwrap();
    log.append(&[
        Change::Upsert { aor: &a1, binding: &b1 },
        Change::Upsert { aor: &a1, binding: &b2 },
        Change::Upsert { aor: &a2, binding: &b3 },
        Change::Clear,
        Change::Upsert { aor: &a1, binding: &b1 },
        Change::Upsert { aor: &a1, binding: &b2 },
    ])
    .unwrap();
    log.flush(false).unwrap();
    log.append(&[
        Change::Upsert { aor: &a1, binding: &b1_new },
        Change::Remove { aor: &a1, contact: &b2.contact },
        Change::Remove { aor: &a3, contact: b"sip:nobody" },
        Change::Upsert { aor: &a2, binding: &b2 },
        Change::Upsert { aor: &a3, binding: &b3 },
        Change::RemoveAor { aor: &a3 },
    ])
    .unwrap();
    // Appended but never flushed: lost, as in a crash before the timer.
    let lost = binding(9, LATER);
    log.flush(true).unwrap();
    log.append(&[Change::Upsert { aor: &a3, binding: &lost }]).unwrap();
    let loaded = load_dir(t.path(), NOW).unwrap();
    assert_eq!(loaded.bindings, vec![(a1, b1_new), (a2, b2)]);
    assert_eq!((loaded.files, loaded.records, loaded.skipped.len()), (1, 12, 0));
}

#[test]
fn expired_bindings_are_dropped() {
    let t = TestDir::new();
    let all = [(aor(1), binding(1, NOW.0 - 1)), (aor(2), binding(2, NOW.0)), (aor(3), binding(3, NOW.0 + 1))];
    write_upserts(t.path(), &all);
    let loaded = load_dir(t.path(), NOW).unwrap();
    assert_eq!(loaded.bindings, vec![all[2].clone()]);
    assert_eq!(loaded.records, 3);
}

#[test]
fn truncated_tail_keeps_every_earlier_record() {
    let t = TestDir::new();
    let all: Vec<_> = (0..4).map(|i| (aor(i), binding(i, LATER))).collect();
    let starts = write_upserts(t.path(), &all);
    let path = t.path().join("location-0.log");
    let full = fs::read(&path).unwrap();
    let last = starts[3] as usize;
    for cut in last..full.len() {
        fs::write(&path, &full[..cut]).unwrap();
        let loaded = load_dir(t.path(), NOW).unwrap();
        assert_eq!(loaded.bindings, all[..3], "cut at {cut}");
        let expect: Vec<_> = (cut > last)
            .then(|| Skipped {
                file: path.clone(),
                offset: last as u64,
                len: (cut - last) as u64,
                reason: SkipReason::Truncated,
            })
            .into_iter()
            .collect();
        assert_eq!(loaded.skipped, expect, "cut at {cut}");
    }
}

#[test]
fn flipped_byte_skips_only_its_record() {
    let t = TestDir::new();
    let mut all: Vec<_> = (0..3).map(|i| (aor(i), binding(i, LATER))).collect();
    all[1].1 = full_binding();
    let starts = write_upserts(t.path(), &all);
    let path = t.path().join("location-0.log");
    let good = fs::read(&path).unwrap();
    // Every byte of the middle frame, magic and length included.
    for at in starts[1]..starts[2] {
        let mut bad = good.clone();
        bad[at as usize] ^= 0x40;
        fs::write(&path, &bad).unwrap();
        let loaded = load_dir(t.path(), NOW).unwrap();
        assert_eq!(loaded.bindings, vec![all[0].clone(), all[2].clone()], "flip at {at}");
        let [skip] = loaded.skipped.as_slice() else { panic!("flip at {at}: {:?}", loaded.skipped) };
        assert_eq!((skip.offset, skip.len), (starts[1], starts[2] - starts[1]), "flip at {at}");
        assert!(skip.to_string().contains(&format!("at offset {}", starts[1])));
    }
}

#[test]
fn garbage_between_frames_is_reported_and_skipped() {
    let t = TestDir::new();
    let all: Vec<_> = (0..2).map(|i| (aor(i), binding(i, LATER))).collect();
    let starts = write_upserts(t.path(), &all);
    let path = t.path().join("location-0.log");
    let mut data = fs::read(&path).unwrap();
    let junk = [0u8, 0xA5, 1, 0, 0, 0, 0xA5, 0xFF];
    let at = starts[1] as usize;
    data.splice(at..at, junk);
    fs::write(&path, &data).unwrap();
    let loaded = load_dir(t.path(), NOW).unwrap();
    assert_eq!(loaded.bindings, all);
    let skip = &loaded.skipped[..];
    assert_eq!(skip.len(), 1);
    assert_eq!((skip[0].offset, skip[0].len, skip[0].reason), (starts[1], junk.len() as u64, SkipReason::Magic));
}

#[test]
fn random_damage_never_panics_and_never_invents_bindings() {
    let t = TestDir::new();
    let all: Vec<_> = (0..20).map(|i| (aor(i), binding(i, LATER))).collect();
    let mut starts = write_upserts(t.path(), &all);
    let path = t.path().join("location-0.log");
    let good = fs::read(&path).unwrap();
    starts.push(good.len() as u64);
    let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
    for _ in 0..300 {
        let mut bad = good.clone();
        let mut hit = Vec::new();
        for _ in 0..=rng.below(8) {
            let at = HEADER.len() + rng.below(bad.len() - HEADER.len());
            bad[at] = rng.byte();
            hit.push(at as u64);
        }
        bad.truncate(HEADER.len() + rng.below(bad.len() - HEADER.len() + 1));
        fs::write(&path, &bad).unwrap();
        let loaded = load_dir(t.path(), NOW).unwrap();
        assert!(loaded.bindings.iter().all(|b| all.contains(b)));
        // Every frame left whole is recovered; every byte not replayed is reported.
        for (i, w) in starts.windows(2).enumerate() {
            let whole = w[1] <= bad.len() as u64 && !hit.iter().any(|h| (w[0]..w[1]).contains(h));
            assert!(!whole || loaded.bindings.contains(&all[i]), "frame {i} lost");
        }
        let skipped: u64 = loaded.skipped.iter().map(|s| s.len).sum();
        let replayed: u64 = starts
            .windows(2)
            .enumerate()
            .filter(|(i, _)| loaded.bindings.contains(&all[*i]))
            .map(|(_, w)| w[1] - w[0])
            .sum();
        assert_eq!(HEADER.len() as u64 + replayed + skipped, bad.len() as u64);
    }
}

#[test]
fn foreign_files_refuse_start_and_name_the_fix() {
    let t = TestDir::new();
    let path = t.path().join("location-2.log");
    fs::write(&path, b"id,aor,contact\n1,alice,sip:a\n").unwrap();
    let err = load_dir(t.path(), NOW).unwrap_err();
    assert!(matches!(&err, StoreError::NotAStore { path: p, .. } if *p == path));
    assert!(err.to_string().contains("location-2.log") && err.to_string().contains("move it away"));
    fs::write(&path, b"SIPEDGE-LOC v2\n").unwrap();
    let err = load_dir(t.path(), NOW).unwrap_err();
    assert!(matches!(&err, StoreError::UnsupportedVersion { found, .. } if found == "2"), "{err}");
    fs::write(&path, b"SQLite").unwrap();
    assert!(matches!(load_dir(t.path(), NOW), Err(StoreError::NotAStore { .. })));
}

#[test]
fn empty_or_cut_header_loads_empty_and_reports() {
    let t = TestDir::new();
    fs::write(t.path().join("location-0.log"), b"").unwrap();
    fs::write(t.path().join("location-1.log"), &HEADER[..5]).unwrap();
    // Names that are not ours are left alone.
    fs::write(t.path().join("location-01.log"), b"junk").unwrap();
    fs::write(t.path().join("notes.txt"), b"junk").unwrap();
    let loaded = load_dir(t.path(), NOW).unwrap();
    assert_eq!(loaded.files, 2);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!((loaded.skipped[0].offset, loaded.skipped[0].len), (0, 5));
    assert_eq!(loaded.skipped[0].reason, SkipReason::TruncatedHeader);
}

/// The store in `dir` loads exactly `live`, cleanly, with no snapshot
/// left half-written.
fn assert_store_holds(dir: &Path, live: Vec<(Aor, Binding)>) {
    let loaded = load_dir(dir, NOW).unwrap();
    assert_eq!(sorted(loaded.bindings), sorted(live));
    assert!(loaded.skipped.is_empty());
    assert!(!dir.join("location-0.log.tmp").exists());
}

/// A log where `n` bindings of 10 AORs were each written `rounds` times.
fn churned_log(dir: &Path, n: u64, rounds: u32) -> (ShardLog, Vec<(Aor, Binding)>) {
    let mut live: Vec<_> = (0..n).map(|i| (aor(i % 10), binding(i, LATER))).collect();
    let mut log = ShardLog::open(dir, 0, std::iter::empty()).unwrap();
    for round in 0..rounds {
        for (a, b) in &mut live {
            b.cseq = round;
            log.append(&[Change::Upsert { aor: a, binding: b }]).unwrap();
        }
        log.flush(false).unwrap();
    }
    (log, live)
}

#[test]
fn compaction_replaces_the_log_with_the_live_set() {
    let t = TestDir::new();
    let (mut log, mut live) = churned_log(t.path(), 50, 5);
    let before = log.len_bytes();
    // Pending changes are part of the live set the snapshot writes.
    let (a, b) = live.pop().unwrap();
    log.append(&[Change::Remove { aor: &a, contact: &b.contact }]).unwrap();
    log.compact(live.iter().map(|(a, b)| (a, b))).unwrap();
    assert!(log.len_bytes() < before / 4, "{} vs {before}", log.len_bytes());
    assert_eq!(log.pending_bytes(), 0);
    // Appends after compaction go to the new file.
    let extra = (aor(77), binding(77, LATER));
    log.append(&[Change::Upsert { aor: &extra.0, binding: &extra.1 }]).unwrap();
    log.flush(true).unwrap();
    live.push(extra);
    assert_store_holds(t.path(), live);
}

/// Waits for a background compaction to end, as the shard's tick does.
fn land(log: &mut ShardLog) -> Result<(), StoreError> {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(r) = log.poll_compaction() {
            return r;
        }
        assert!(Instant::now() < deadline, "compaction never ended");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn background_compaction_keeps_every_change_made_while_it_runs() {
    let t = TestDir::new();
    let (mut log, mut live) = churned_log(t.path(), 40, 4);
    // A last round still buffered.
    for (a, b) in &mut live {
        b.cseq = 9;
        log.append(&[Change::Upsert { aor: a, binding: b }]).unwrap();
    }
    let old_len = fs::metadata(t.path().join("location-0.log")).unwrap().len();
    log.start_compaction(live.iter().map(|(a, b)| (a, b))).unwrap();
    assert!(log.compacting());
    // The buffered changes went to the old file before the snapshot.
    let flushed = fs::metadata(t.path().join("location-0.log")).unwrap().len();
    assert!(flushed > old_len);
    // Meanwhile: a change and a removal, buffered, not written anywhere.
    let extra = (aor(77), binding(77, LATER));
    log.append(&[Change::Upsert { aor: &extra.0, binding: &extra.1 }]).unwrap();
    let (gone_aor, gone) = live.remove(3);
    log.append(&[Change::Remove { aor: &gone_aor, contact: &gone.contact }]).unwrap();
    log.flush(false).unwrap();
    assert!(log.pending_bytes() > 0, "nothing is written while the snapshot is");
    land(&mut log).unwrap();
    assert!(!log.compacting());
    assert!(log.len_bytes() < flushed, "{} vs {flushed}", log.len_bytes());
    log.flush(true).unwrap();
    live.push(extra);
    assert_store_holds(t.path(), live);
}

/// A change appended while a compaction runs survives however it ends:
/// `finish` lands it (or waits for it) and flushes.
fn change_during_compaction(block_tmp: bool, finish: impl FnOnce(&mut ShardLog)) {
    let t = TestDir::new();
    let live: Vec<_> = (0..20).map(|i| (aor(i), binding(i, LATER))).collect();
    let mut log = ShardLog::open(t.path(), 0, live.iter().map(|(a, b)| (a, b))).unwrap();
    if block_tmp {
        // The temporary file cannot be created: a directory is in the way.
        fs::create_dir(t.path().join("location-0.log.tmp")).unwrap();
    }
    log.start_compaction(live.iter().map(|(a, b)| (a, b))).unwrap();
    let extra = (aor(50), binding(50, LATER));
    log.append(&[Change::Upsert { aor: &extra.0, binding: &extra.1 }]).unwrap();
    finish(&mut log);
    assert!(!log.compacting());
    let mut want = live.clone();
    want.push(extra);
    assert_eq!(sorted(load_dir(t.path(), NOW).unwrap().bindings), sorted(want));
}

#[test]
fn a_synced_flush_waits_for_the_background_compaction() {
    // Shutdown's flush: the compaction lands first, then the change.
    change_during_compaction(false, |log| log.flush(true).unwrap());
}

#[test]
fn a_failed_background_compaction_keeps_the_old_log_and_the_changes() {
    change_during_compaction(true, |log| {
        assert!(land(log).is_err());
        log.flush(true).unwrap();
    });
}

#[test]
fn interrupted_compaction_leaves_the_old_log() {
    let t = TestDir::new();
    let all: Vec<_> = (0..5).map(|i| (aor(i), binding(i, LATER))).collect();
    write_upserts(t.path(), &all);
    // A crash before the rename: a partial snapshot beside the old log.
    fs::write(t.path().join("location-0.log.tmp"), &HEADER[..9]).unwrap();
    let loaded = load_dir(t.path(), NOW).unwrap();
    assert_eq!(loaded.bindings, all);
    assert!(loaded.skipped.is_empty());
    // The next compaction overwrites the leftover.
    let mut log = ShardLog::open(t.path(), 0, all.iter().map(|(a, b)| (a, b))).unwrap();
    log.compact(all[..2].iter().map(|(a, b)| (a, b))).unwrap();
    assert!(!t.path().join("location-0.log.tmp").exists());
    assert_eq!(load_dir(t.path(), NOW).unwrap().bindings, all[..2]);
}

#[test]
fn reshard_reads_all_files_then_removes_stale_ones() {
    let t = TestDir::new();
    let all: Vec<_> = (0..40).map(|i| (aor(i), binding(i, LATER))).collect();
    for shard in 0..4 {
        let mine = all.iter().filter(|(a, _)| a.0.len() % 4 == shard);
        ShardLog::open(t.path(), shard, mine.map(|(a, b)| (a, b))).unwrap();
    }
    let loaded = load_dir(t.path(), NOW).unwrap();
    assert_eq!((loaded.files, loaded.bindings.len()), (4, 40));
    // Two shards now; shard 1 takes everything.
    ShardLog::open(t.path(), 0, std::iter::empty()).unwrap();
    ShardLog::open(t.path(), 1, loaded.bindings.iter().map(|(a, b)| (a, b))).unwrap();
    fs::write(t.path().join("location-3.log.tmp"), b"").unwrap();
    let removed = remove_stale(t.path(), 2).unwrap();
    assert_eq!(removed.len(), 3);
    let again = load_dir(t.path(), NOW).unwrap();
    assert_eq!((again.files, sorted(again.bindings)), (2, sorted(all)));
}

#[test]
fn duplicate_across_files_keeps_the_newest() {
    let t = TestDir::new();
    let a = aor(1);
    let (old, mut new) = (binding(1, LATER), binding(1, LATER));
    new.updated = UnixMillis(old.updated.0 + 1);
    ShardLog::open(t.path(), 0, [(&a, &new)]).unwrap();
    ShardLog::open(t.path(), 1, [(&a, &old)]).unwrap();
    assert_eq!(load_dir(t.path(), NOW).unwrap().bindings, vec![(a, new)]);
}

#[test]
fn append_is_all_or_nothing_and_compaction_is_advised() {
    let t = TestDir::new();
    let mut log = ShardLog::open(t.path(), 0, std::iter::empty()).unwrap();
    let (a, b) = (aor(1), binding(1, LATER));
    let mut huge = b.clone();
    huge.path = Some(vec![b'x'; MAX_PAYLOAD].into());
    let err = log.append(&[Change::Upsert { aor: &a, binding: &b }, Change::Upsert { aor: &a, binding: &huge }]);
    assert!(matches!(err, Err(StoreError::TooLarge { .. })));
    assert_eq!(log.pending_bytes(), 0);
    for _ in 0..5000 {
        log.append(&[Change::Upsert { aor: &a, binding: &b }]).unwrap();
    }
    assert!(log.should_compact(1) && !log.should_compact(2000));
    log.compact([(&a, &b)]).unwrap();
    assert!(!log.should_compact(1));
}

#[test]
fn db_mode_parses_kamailio_values() {
    assert_eq!(DbMode::from_int(0), Ok(DbMode::Memory));
    assert_eq!(DbMode::try_from(1), Ok(DbMode::WriteThrough));
    assert_eq!(DbMode::from_int(2), Ok(DbMode::WriteBack));
    assert!(DbMode::from_int(3).unwrap_err().to_string().contains("DB-only"));
    assert_eq!(DbMode::from_int(4), Err(DbModeError::LoadOnly));
    assert_eq!(DbMode::from_int(-1), Err(DbModeError::Unknown(-1)));
    assert!(!DbMode::Memory.persists() && DbMode::WriteBack.persists());
}

fn write_and_load(n: u64) -> (f64, f64, u64) {
    let t = TestDir::new();
    let all: Vec<_> = (0..n).map(|i| (aor(i), binding(i, LATER + i))).collect();
    let start = Instant::now();
    let mut log = ShardLog::open(t.path(), 0, std::iter::empty()).unwrap();
    for (a, b) in &all {
        log.append(&[Change::Upsert { aor: a, binding: b }]).unwrap();
    }
    log.flush(true).unwrap();
    let write = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let loaded = load_dir(t.path(), NOW).unwrap();
    let load = start.elapsed().as_secs_f64();
    assert!(sorted(loaded.bindings) == sorted(all), "bindings differ");
    assert_eq!((loaded.records, loaded.skipped.len()), (n as usize, 0));
    (write, load, log.len_bytes())
}

#[test]
fn ten_thousand_bindings_round_trip() {
    write_and_load(10_000);
}

/// `cargo test --release --lib runtime::store -- --ignored --nocapture`
#[test]
#[ignore]
fn hundred_thousand_bindings_timing() {
    let (write, load, bytes) = write_and_load(100_000);
    println!("100k bindings: {bytes} bytes, append+flush+fsync {write:.3} s, load {load:.3} s");
}
