//! Kernel steering of datagrams to the shard that owns them: an eBPF
//! program attached to each listen address's `SO_REUSEPORT` group
//! (`SO_ATTACH_REUSEPORT_EBPF`) reads the key of every datagram and
//! returns the index of the socket, hence the shard, that owns it, with
//! the hash `Sharder` uses, computed the same way. A REGISTER goes to its
//! AOR's shard (`Sharder::by_aor`), anything else to its Call-ID's
//! (`Sharder::by_call_id`). A call's responses and in-dialog requests, and
//! a registration, then reach their owner without a hand-off; only what
//! the program cannot place (no key in the bytes it scans, a To user with
//! escapes, an initial request looked up on its AOR's shard) still
//! crosses shards through `runtime/handoff.rs`.
//!
//! It is an optimisation only: the engine checks ownership of everything
//! it receives, so a datagram the kernel places wrongly is still handed
//! to its owner. A kernel that refuses the program (no permission, no
//! eBPF) leaves the kernel's 4-tuple hash in place, with a warning.
//!
//! The program, a socket filter run on the UDP payload:
//! - for a datagram starting `REGISTER`, scans at most `SCAN_TO` bytes for
//!   a line starting `To` or the compact `t` (any case), optional blanks,
//!   `:`, then the first `sip:` or `sips:` of the value, and hashes the
//!   user part up to `@`;
//! - for anything else, scans at most `SCAN` bytes for a line starting
//!   `Call-ID` or the compact `i` (any case), optional blanks, `:`,
//!   blanks, and hashes the value up to CR or LF;
//! - hashes with `key_hash` (FNV-1a 32 with a per-process basis, then
//!   murmur3's fmix32) and returns `hash % shards`; without a key it
//!   returns 0, shard 0's socket (as the kernel does for a datagram too
//!   short for the first load). Not the kernel's 4-tuple hash: the group
//!   also holds each shard's send-only socket (src/runtime/socket.rs),
//!   which nobody receives on, and that hash could pick one.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Bytes of payload searched for the Call-ID.
const SCAN: i32 = 1400;
/// Bytes of a REGISTER searched for its To user: the To header comes
/// early in a REGISTER, and the verifier walks both scans.
const SCAN_TO: i32 = 1024;

const FNV_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// A loaded program, attachable to any number of reuseport groups.
pub struct Steering {
    prog: OwnedFd,
}

impl Steering {
    /// Loads the program for `shards` shards and the sharding `seed`.
    pub fn load(seed: u64, shards: u16) -> io::Result<Steering> {
        let insns = program(seed, shards);
        // Without a log first: a verifier log that outgrows its buffer
        // fails the load. The log is only fetched to explain a refusal.
        let fd = bpf_prog_load(&insns, None).or_else(|e| {
            let mut log = vec![0u8; 1 << 20];
            bpf_prog_load(&insns, Some(&mut log)).map_err(|_| {
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(&log[..end]);
                let tail: Vec<&str> = text.lines().rev().take(3).collect();
                io::Error::new(e.kind(), format!("{e}; verifier: {}", tail.join(" | ")))
            })
        })?;
        Ok(Steering { prog: fd })
    }

    /// Attaches the program to the reuseport group of `socket`.
    pub fn attach(&self, socket: &impl AsRawFd) -> io::Result<()> {
        let fd = self.prog.as_raw_fd();
        // SAFETY: setsockopt with a pointer to an int of the size given.
        let r = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_REUSEPORT_EBPF,
                &fd as *const i32 as *const libc::c_void,
                size_of::<i32>() as libc::socklen_t,
            )
        };
        if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
    }
}

fn bpf_prog_load(insns: &[Insn], log: Option<&mut Vec<u8>>) -> io::Result<OwnedFd> {
    let license = c"GPL";
    let (log_level, log_size, log_buf) = match log {
        Some(l) => (1, l.len() as u32, l.as_mut_ptr() as u64),
        None => (0, 0, 0),
    };
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_SOCKET_FILTER,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level,
        log_size,
        log_buf,
        ..ProgLoadAttr::default()
    };
    // SAFETY: `attr` is a valid BPF_PROG_LOAD attribute block whose
    // pointers (instructions, license, log buffer) outlive the call.
    let fd = unsafe {
        libc::syscall(libc::SYS_bpf, BPF_PROG_LOAD, &mut attr as *mut ProgLoadAttr, size_of::<ProgLoadAttr>())
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor to us, and nothing
    // else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TYPE_SOCKET_FILTER: u32 = 1;

/// The leading fields of `union bpf_attr` for BPF_PROG_LOAD; the kernel
/// requires the rest of the size it is told to be zero.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

/// The Call-ID scan's states.
mod state {
    pub const LINE: i32 = 0; // inside a line
    pub const START: i32 = 1; // at the start of a header line
    pub const NAME: i32 = 2; // 2..=7: "call-id" matched up to "c","a","l","l","-","i"
    pub const AFTER_NAME: i32 = 8; // name complete: blanks, then ':'
    pub const AFTER_COLON: i32 = 9; // blanks before the value
    pub const VALUE: i32 = 10; // hashing
}

/// The REGISTER scan's states: the To header, its first `sip:` or
/// `sips:`, then the user part up to `@`.
mod to_state {
    pub const LINE: i32 = 0; // inside a line
    pub const START: i32 = 1; // at the start of a header line
    pub const T: i32 = 2; // "t" read: "o", blanks or ':' next
    pub const AFTER_NAME: i32 = 3; // name complete: blanks, then ':'
    pub const VALUE: i32 = 4; // in the value, looking for "sip"
    pub const S: i32 = 5; // "s" read
    pub const SI: i32 = 6; // "si" read
    pub const SIP: i32 = 7; // "sip" read: ':' or "s"
    pub const SIPS: i32 = 8; // "sips" read: ':'
    pub const USER: i32 = 9; // hashing the user part
}

/// A tiny assembler with forward labels.
struct Asm {
    code: Vec<Insn>,
    fixups: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

/// The registers the program uses: r0 the loaded byte and the result, r1
/// scratch and the context on entry, r6 the context (LD_IND wants it
/// there), r7 the offset, r8 the state, r9 the hash.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Reg {
    R0 = 0,
    R1 = 1,
    R6 = 6,
    R7,
    R8,
    R9,
}
use Reg::*;

impl Asm {
    fn new() -> Asm {
        Asm { code: Vec::new(), fixups: Vec::new(), labels: Vec::new() }
    }
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.code.len());
    }
    fn op(&mut self, code: u8, dst: Reg, src: Reg, off: i16, imm: i32) {
        self.code.push(Insn { code, regs: ((src as u8) << 4) | dst as u8, off, imm });
    }
    fn mov_reg(&mut self, dst: Reg, src: Reg) {
        self.op(0xbf, dst, src, 0, 0);
    }
    fn mov_imm(&mut self, dst: Reg, imm: i32) {
        self.op(0xb7, dst, R0, 0, imm);
    }
    fn mov32_imm(&mut self, dst: Reg, imm: i32) {
        self.op(0xb4, dst, R0, 0, imm);
    }
    /// r0 = the big-endian word at payload offset `off`; out of bounds
    /// ends the program.
    fn ld_abs_w(&mut self, off: i32) {
        self.op(0x20, R0, R0, 0, off);
    }
    /// r0 = payload byte at offset `src`; out of bounds ends the program.
    fn ld_ind_b(&mut self, src: Reg) {
        self.op(0x50, R0, src, 0, 0);
    }
    fn add_imm(&mut self, dst: Reg, imm: i32) {
        self.op(0x07, dst, R0, 0, imm);
    }
    fn or_imm(&mut self, dst: Reg, imm: i32) {
        self.op(0x47, dst, R0, 0, imm);
    }
    fn jmp_to(&mut self, code: u8, dst: Reg, imm: i32, l: usize) {
        self.fixups.push((self.code.len(), l));
        self.op(code, dst, R0, 0, imm);
    }
    fn jeq(&mut self, dst: Reg, imm: i32, l: usize) {
        self.jmp_to(0x15, dst, imm, l);
    }
    fn jne(&mut self, dst: Reg, imm: i32, l: usize) {
        self.jmp_to(0x55, dst, imm, l);
    }
    /// Jumps to `l` when r0 is the ASCII letter `ch` in either case
    /// (r1 = r0 | 0x20).
    fn jeq_ci(&mut self, ch: u8, l: usize) {
        self.mov_reg(R1, R0);
        self.or_imm(R1, 0x20);
        self.jeq(R1, i32::from(ch), l);
    }
    /// r8 = `state`, then on to the loop `lp`.
    fn enter(&mut self, state: i32, lp: usize) {
        self.mov_imm(R8, state);
        self.ja(lp);
    }
    /// When r0 is the ASCII letter `ch` in either case, `enter(state)`;
    /// otherwise falls through (r1 = r0 | 0x20).
    fn enter_if_ci(&mut self, ch: u8, state: i32, lp: usize) {
        let other = self.label();
        self.mov_reg(R1, R0);
        self.or_imm(R1, 0x20);
        self.jne(R1, i32::from(ch), other);
        self.enter(state, lp);
        self.bind(other);
    }
    fn jge(&mut self, dst: Reg, imm: i32, l: usize) {
        self.jmp_to(0x35, dst, imm, l);
    }
    fn ja(&mut self, l: usize) {
        self.jmp_to(0x05, R0, 0, l);
    }
    /// w9 = (w9 ^ w0) * FNV_PRIME
    fn hash_byte(&mut self) {
        self.op(0xac, R9, R0, 0, 0);
        self.op(0x24, R9, R0, 0, FNV_PRIME as i32);
    }
    /// w9 ^= w9 >> n, through r1.
    fn xorshift(&mut self, n: i32) {
        self.op(0xbc, R1, R9, 0, 0);
        self.op(0x74, R1, R0, 0, n);
        self.op(0xac, R9, R1, 0, 0);
    }
    fn finish(mut self) -> Vec<Insn> {
        for (at, l) in std::mem::take(&mut self.fixups) {
            let target = self.labels[l].expect("every label is bound");
            self.code[at].off = (target as i64 - at as i64 - 1) as i16;
        }
        self.code
    }
}

fn program(seed: u64, shards: u16) -> Vec<Insn> {
    let mut a = Asm::new();
    let (fallback, done, by_call_id, register) = (a.label(), a.label(), a.label(), a.label());
    a.mov_reg(R6, R1);
    a.mov32_imm(R9, (FNV_BASIS ^ seed as u32) as i32);
    // "REGISTER" (methods are case-sensitive, RFC 3261 §7.1) goes by its
    // AOR; everything else by its Call-ID. Both words load big-endian.
    a.ld_abs_w(0);
    a.jne(R0, i32::from_be_bytes(*b"REGI"), by_call_id);
    a.ld_abs_w(4);
    a.jeq(R0, i32::from_be_bytes(*b"STER"), register);
    a.bind(by_call_id);
    call_id_scan(&mut a, done, fallback);
    a.bind(register);
    to_user_scan(&mut a, done, fallback);
    // The hash, finished as key_hash does, modulo the shards.
    a.bind(done);
    a.xorshift(16);
    a.op(0x24, R9, R0, 0, 0x85eb_ca6b_u32 as i32);
    a.xorshift(13);
    a.op(0x24, R9, R0, 0, 0xc2b2_ae35_u32 as i32);
    a.xorshift(16);
    a.op(0xbc, R0, R9, 0, 0);
    a.op(0x94, R0, R0, 0, i32::from(shards.max(1)));
    a.op(0x95, R0, R0, 0, 0);
    // Not found: shard 0.
    a.bind(fallback);
    a.mov_imm(R0, 0);
    a.op(0x95, R0, R0, 0, 0);
    a.finish()
}

/// The head of a scan: r7 = 0, r8 = `first`; each turn of the loop loads
/// the byte at r7 into r0, advances r7 and jumps to the label of state
/// r8. Returns (the loop, one label per state).
fn scan_loop(a: &mut Asm, limit: i32, states: i32, first: i32, fallback: usize) -> (usize, Vec<usize>) {
    let lp = a.label();
    let labels: Vec<usize> = (0..states).map(|_| a.label()).collect();
    a.mov_imm(R7, 0);
    a.mov_imm(R8, first);
    a.bind(lp);
    a.jge(R7, limit, fallback);
    a.ld_ind_b(R7);
    a.add_imm(R7, 1);
    for (s, &l) in labels.iter().enumerate() {
        a.jeq(R8, s as i32, l);
    }
    a.ja(fallback);
    (lp, labels)
}

/// Hashes the Call-ID value into r9 and jumps to `done`.
fn call_id_scan(a: &mut Asm, done: usize, fallback: usize) {
    use state::*;
    let (lp, states) = scan_loop(a, SCAN, VALUE + 1, LINE, fallback);
    let (reset, set, blank_or_colon) = (a.label(), a.label(), a.label());
    // LINE: wait for LF.
    a.bind(states[LINE as usize]);
    a.jeq(R0, b'\n' as i32, set);
    a.ja(lp);
    // START: CR here is the empty line (end of headers): not found.
    a.bind(states[START as usize]);
    a.jeq(R0, b'\r' as i32, fallback);
    a.enter_if_ci(b'i', AFTER_NAME, lp);
    a.enter_if_ci(b'c', NAME, lp);
    a.ja(reset);
    // NAME..: "all-id" after the 'c' (state NAME + k expects the k-th).
    for (k, &ch) in b"all-id".iter().enumerate() {
        a.bind(states[NAME as usize + k]);
        a.mov_reg(R1, R0);
        if ch != b'-' {
            a.or_imm(R1, 0x20);
        }
        let ok = a.label();
        a.jeq(R1, ch as i32, ok);
        a.ja(reset);
        a.bind(ok);
        a.enter(NAME + k as i32 + 1, lp);
    }
    // AFTER_NAME: blanks, then ':'.
    a.bind(states[AFTER_NAME as usize]);
    a.jeq(R0, b' ' as i32, lp);
    a.jeq(R0, b'\t' as i32, lp);
    a.jeq(R0, b':' as i32, blank_or_colon);
    a.ja(reset);
    a.bind(blank_or_colon);
    a.enter(AFTER_COLON, lp);
    // AFTER_COLON: blanks, then the value's first byte.
    a.bind(states[AFTER_COLON as usize]);
    a.jeq(R0, b' ' as i32, lp);
    a.jeq(R0, b'\t' as i32, lp);
    a.jeq(R0, b'\r' as i32, fallback);
    a.jeq(R0, b'\n' as i32, fallback);
    a.hash_byte();
    a.enter(VALUE, lp);
    // VALUE: hash up to CR or LF.
    a.bind(states[VALUE as usize]);
    a.jeq(R0, b'\r' as i32, done);
    a.jeq(R0, b'\n' as i32, done);
    a.hash_byte();
    a.ja(lp);
    line_reset(a, lp, reset, set, START, LINE);
}

/// A mismatch at `reset`: a LF starts a new line, anything else waits
/// for one; `set` enters `start`.
fn line_reset(a: &mut Asm, lp: usize, reset: usize, set: usize, start: i32, line: i32) {
    a.bind(reset);
    a.jeq(R0, b'\n' as i32, set);
    a.enter(line, lp);
    a.bind(set);
    a.enter(start, lp);
}

/// Hashes the user part of the To URI into r9 and jumps to `done`: the
/// bytes between the first `sip:`/`sips:` of the To value and `@`, which
/// is `Sharder::by_aor`'s key when the user has no escapes. A user with
/// `%`, a URI without a user, or a folded To line go to `fallback`.
fn to_user_scan(a: &mut Asm, done: usize, fallback: usize) {
    use to_state::*;
    let (lp, states) = scan_loop(a, SCAN_TO, USER + 1, LINE, fallback);
    let (reset, set) = (a.label(), a.label());
    // LINE: wait for LF.
    a.bind(states[LINE as usize]);
    a.jeq(R0, b'\n' as i32, set);
    a.ja(lp);
    // START: "t" (To and its compact form), or CR: the end of headers.
    a.bind(states[START as usize]);
    a.jeq(R0, b'\r' as i32, fallback);
    a.enter_if_ci(b't', T, lp);
    a.ja(reset);
    // T: "o" completes "To"; blanks or ':' complete the compact "t".
    a.bind(states[T as usize]);
    let (o, colon) = (a.label(), a.label());
    a.jeq(R0, b':' as i32, colon);
    a.jeq(R0, b' ' as i32, o);
    a.jeq(R0, b'\t' as i32, o);
    a.jeq_ci(b'o', o);
    a.ja(reset);
    a.bind(o);
    a.enter(AFTER_NAME, lp);
    // AFTER_NAME: blanks, then ':'.
    a.bind(states[AFTER_NAME as usize]);
    a.jeq(R0, b' ' as i32, lp);
    a.jeq(R0, b'\t' as i32, lp);
    a.jeq(R0, b':' as i32, colon);
    a.ja(reset);
    a.bind(colon);
    a.enter(VALUE, lp);
    // VALUE..SIPS: the first "sip:" or "sips:" (scheme in any case,
    // RFC 3261 §19.1.4); the line's end without one is not a SIP AOR.
    let value = a.label();
    a.bind(states[VALUE as usize]);
    a.bind(value);
    a.jeq(R0, b'\r' as i32, fallback);
    a.jeq(R0, b'\n' as i32, fallback);
    a.enter_if_ci(b's', S, lp);
    a.enter(VALUE, lp);
    for (state, ch, next) in [(S, b'i', SI), (SI, b'p', SIP)] {
        a.bind(states[state as usize]);
        a.enter_if_ci(ch, next, lp);
        a.ja(value);
    }
    let user = a.label();
    a.bind(states[SIP as usize]);
    a.jeq(R0, b':' as i32, user);
    a.enter_if_ci(b's', SIPS, lp);
    a.ja(value);
    a.bind(states[SIPS as usize]);
    a.jeq(R0, b':' as i32, user);
    a.ja(value);
    a.bind(user);
    a.enter(USER, lp);
    // USER: hash up to '@'; an escape, or the user's end without '@' (no
    // user part, a password, a parameter, a "sip:" inside a display
    // name), cannot be placed.
    a.bind(states[USER as usize]);
    a.jeq(R0, b'@' as i32, done);
    for ch in [b'%', b':', b';', b'>', b'?', b'"', b' ', b'\r', b'\n'] {
        a.jeq(R0, ch as i32, fallback);
    }
    a.hash_byte();
    a.ja(lp);
    line_reset(a, lp, reset, set, START, LINE);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::owner::{Sharder, key_hash};
    use crate::sip::Message;
    use std::net::UdpSocket;
    use std::time::Duration;

    #[test]
    fn sequential_call_ids_spread_over_two_shards() {
        let spread =
            (0..1000).filter(|i| key_hash(7, format!("{i}-123@127.0.0.1").as_bytes()).is_multiple_of(2)).count();
        assert!((400..600).contains(&spread), "{spread}");
    }

    /// Against the real kernel: each datagram lands on the socket its
    /// Call-ID, or for a REGISTER its AOR, hashes to. Skipped where eBPF may not be loaded (unless
    /// the test run requires every tool, as tests/run.sh does as root).
    #[test]
    fn the_kernel_delivers_to_the_owner() {
        let seed = 0x1234_5678_9abc_def0;
        let steering = match Steering::load(seed, 2) {
            Ok(s) => s,
            Err(e) => {
                // SAFETY: geteuid has no preconditions and cannot fail.
                let root = unsafe { libc::geteuid() } == 0;
                assert!(!root || std::env::var_os("SIPEDGE_REQUIRE_TOOLS").is_none(), "load: {e}");
                eprintln!("skipping: {e}");
                return;
            }
        };
        let first = crate::runtime::socket::bind_shard_sockets("127.0.0.1:0".parse().unwrap(), 2).unwrap();
        steering.attach(&first[0]).unwrap();
        let addr = first[0].local_addr().unwrap().as_socket().unwrap();
        // The runtime's send-only sockets join the group after the shards'.
        let senders = crate::runtime::socket::bind_send_sockets(addr, 2).unwrap();
        let socks: Vec<UdpSocket> = first.into_iter().map(UdpSocket::from).collect();
        let senders: Vec<UdpSocket> = senders.into_iter().map(UdpSocket::from).collect();
        for s in &socks {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        }
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..40 {
            let call_id = format!("{i}-4242@192.0.2.1");
            let header = if i % 3 == 0 { "i :  " } else { "CALL-id:" };
            let msg = format!(
                "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK{i}\r\n{header}{call_id}\r\nCSeq: 1 INVITE\r\n\r\n"
            );
            client.send_to(msg.as_bytes(), addr).unwrap();
            let want = (key_hash(seed, call_id.as_bytes()) % 2) as usize;
            let mut buf = [0u8; 2048];
            let (n, _) = socks[want].recv_from(&mut buf).expect("delivered to the owner's socket");
            assert_eq!(&buf[..n], msg.as_bytes());
        }
        // REGISTERs by their AOR, whatever the Call-ID says.
        let sharder = Sharder::new(seed, 2);
        let tos = ["To: <sip:{u}@example.com>", "t:sip:{u}@Example.COM;tag=1", "TO :\"Bob\" <SIPS:{u}@h>"];
        for i in 0..40 {
            let to = tos[i % tos.len()].replace("{u}", &format!("user{i}"));
            let msg = format!(
                "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK{i}\r\n\
                 Timestamp: 1\r\n{to}\r\nCall-ID: {i}\r\nCSeq: 1 REGISTER\r\n\r\n"
            );
            client.send_to(msg.as_bytes(), addr).unwrap();
            let parsed = Message::parse(msg.as_bytes()).unwrap();
            let want = usize::from(sharder.owner(&parsed).unwrap().0);
            let mut buf = [0u8; 2048];
            let (n, _) = socks[want].recv_from(&mut buf).unwrap_or_else(|e| panic!("{to}: {e}"));
            assert_eq!(&buf[..n], msg.as_bytes());
        }
        // What the program cannot place goes to shard 0, never to a
        // send-only socket: keyless datagrams, a keepalive too short for
        // the first load, and a REGISTER whose To it cannot read.
        let padding = format!("X-Pad: {}\r\n", "p".repeat(SCAN_TO as usize));
        let odd = ["To: <sip:%75ser@h>", "To: \"sip:x\" <sip:u@h>", "To: <sip:example.com>", &padding];
        let mut unplaced: Vec<String> = odd
            .iter()
            .enumerate()
            .map(|(i, extra)| {
                format!("REGISTER sip:h SIP/2.0\r\n{extra}\r\nTo: <sip:late{i}@h>\r\nCall-ID: o{i}\r\n\r\n")
            })
            .collect();
        unplaced.push("\r\n\r\n".into());
        unplaced.extend((0..20).map(|i| format!("OPTIONS sip:h SIP/2.0\r\nX-No-Key: {i}\r\n\r\n")));
        for msg in &unplaced {
            client.send_to(msg.as_bytes(), addr).unwrap();
            let mut buf = [0u8; 4096];
            let got = socks[0].recv_from(&mut buf).map(|(n, _)| n);
            assert_eq!(got.ok(), Some(msg.len()), "{msg}");
        }
        for s in &senders {
            s.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 4096];
            assert!(s.recv_from(&mut buf).is_err(), "a send-only socket received a datagram");
        }
    }
}
