//! A shard's own io_uring, for the datagram path (DESIGN.md "Performance
//! rules": multishot receive, several sends per submission).
//!
//! glommio 0.9 offers neither: its UDP socket tries `recvmsg` itself, then
//! one receive per submission, and every time its reactor parks it re-arms
//! a preemption timer and issues `membarrier(PRIVATE_EXPEDITED)`, an IPI to
//! every core running the process. Measured at 2000 REGISTER/s, those
//! wake-ups cost more than all SIP processing. This ring instead:
//! - keeps one multishot `recvmsg` armed per listen socket, the kernel
//!   picking buffers from a ring-mapped group (bufring.rs), so each
//!   datagram is parsed in place, no receive is re-submitted and a buffer
//!   goes back with a store, not an entry;
//! - queues every send and cross-shard wake-up as entries
//!   that go to the kernel with the next wait: one `io_uring_enter` per
//!   turn of the shard loop, whatever the batch;
//! - wakes another shard with `IORING_OP_MSG_RING` (a completion posted
//!   into its ring), not an eventfd write;
//! - runs fsync as `IORING_OP_FSYNC`, so the shard keeps receiving while
//!   the disk works.
//!
//! This is the only module with `unsafe`: the kernel reads and writes
//! memory named by raw pointers in the entries. Every such buffer is owned
//! by the `Ring`, boxed so it never moves, and kept until the completion
//! that releases it is reaped (or leaked if teardown cannot prove that).

#![allow(unsafe_code)]

mod bufring;
mod sockaddr;

use bufring::BufRing;
use io_uring::{IoUring, cqueue, opcode, squeue, types};
use socket2::{SockAddr, Socket};
use std::fs::File;
use std::io;
use std::mem::ManuallyDrop;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// Submission queue entries; the completion queue gets twice as many and
/// the kernel buffers overflow beyond that (IORING_FEAT_NODROP).
const ENTRIES: u32 = 256;
/// Largest UDP payload received; the engine enforces `core.max_msg_size`.
pub const MAX_PAYLOAD: usize = 65535;
/// `struct io_uring_recvmsg_out`, which the kernel writes at the start of
/// every multishot receive buffer.
const RECVMSG_OUT: usize = 16;
/// One provided buffer: header, source address, payload.
const BUF_SIZE: usize = RECVMSG_OUT + sockaddr::NAME_LEN + MAX_PAYLOAD;
/// Provided buffers per shard (a power of two). When all are in use the kernel ends the
/// multishot receive with ENOBUFS and datagrams wait in the socket buffer
/// until the next turn returns buffers and re-arms.
const BUFFERS: u16 = 64;
/// The buffer group id (one group per ring).
const GROUP: u16 = 0;
/// How long a listener rests after a receive error before it is re-armed.
const RECV_ERROR_BACKOFF: Duration = Duration::from_millis(10);
/// How long teardown waits for the kernel to release every buffer.
const TEARDOWN: Duration = Duration::from_secs(1);

/// What an entry was for, packed into its `user_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Recv(u16),
    Send(u32),
    Sync(u32),
    /// A wake-up posted into this ring by another shard.
    Woken,
    /// Our own wake-up of another shard (a completion only on failure).
    Wake,
    Cancel,
}

impl Op {
    fn encode(self) -> u64 {
        let (kind, index) = match self {
            Op::Recv(l) => (1, u64::from(l)),
            Op::Send(s) => (2, u64::from(s)),
            Op::Sync(t) => (3, u64::from(t)),
            Op::Woken => (4, 0),
            Op::Wake => (5, 0),
            Op::Cancel => (6, 0),
        };
        (kind << 56) | index
    }

    fn decode(data: u64) -> Option<Op> {
        let index = data & ((1 << 56) - 1);
        Some(match data >> 56 {
            1 => Op::Recv(u16::try_from(index).ok()?),
            2 => Op::Send(u32::try_from(index).ok()?),
            3 => Op::Sync(u32::try_from(index).ok()?),
            4 => Op::Woken,
            5 => Op::Wake,
            6 => Op::Cancel,
            _ => return None,
        })
    }
}

/// What one turn of the ring delivers to the shard.
pub enum Event<'a> {
    /// A datagram on listener `listener`, valid for this call only.
    Datagram { listener: usize, src: SocketAddr, bytes: &'a [u8] },
    /// A send finished (`Err` if the kernel refused it); the payload
    /// comes back for reuse.
    Sent { payload: Vec<u8>, result: io::Result<()> },
    /// An fsync begun with `fsync(token)` finished.
    Synced { token: u32, result: io::Result<()> },
    /// Another shard queued work for this one.
    Woken,
}

/// A send in flight: the address and payload the kernel reads.
struct SendSlot {
    addr: SockAddr,
    payload: Vec<u8>,
}

pub struct Ring {
    uring: IoUring,
    sockets: Vec<Socket>,
    /// Per listener: the send-only socket datagrams go out from, when the
    /// runtime bound one (src/runtime/socket.rs), else its listen socket.
    senders: Vec<Option<Socket>>,
    /// Per listener: the `msghdr` of its multishot receive (only its name
    /// length is read: where the source address goes in each buffer).
    /// Never resized, so the kernel's pointers stay valid.
    recv_hdr: Box<[libc::msghdr]>,
    armed: Vec<bool>,
    /// Per listener: not re-armed before this, after a receive error, so a
    /// persistent error cannot spin the shard.
    rearm_at: Vec<Option<Instant>>,
    /// Dropped by hand, and only once the kernel is proven done with it.
    bufs: ManuallyDrop<BufRing>,
    /// Boxed: the Vec grows while sends are in flight, and the kernel
    /// holds pointers into each slot until its completion.
    #[allow(clippy::vec_box)]
    sends: Vec<Box<SendSlot>>,
    free_sends: Vec<u32>,
    /// Sends and fsyncs whose completion is not reaped yet.
    in_flight: usize,
    /// Sends queued since the last reap. A UDP send nearly always
    /// completes during the submission that carries it, so its completion
    /// would end the wait at once; the wait asks for these plus one.
    fresh_sends: u32,
    /// Teardown could not prove the kernel done: `bufs` is never freed.
    leaked: bool,
    reaped: Vec<(u64, i32, u32)>,
}

// SAFETY: the raw pointers inside `Ring` (the receive `msghdr`s) point
// only into allocations the `Ring` owns; it moves between threads as a
// whole (built by the main thread, then owned by one shard) and is never
// shared.
unsafe impl Send for Ring {}

/// The oldest kernel with everything the ring uses: `IORING_OP_SEND` with
/// a destination address (6.0), multishot `recvmsg` (6.0), ring-mapped
/// buffers (5.19), `MSG_RING` (5.18).
const MIN_KERNEL: (u32, u32) = (6, 0);

fn check_kernel() -> io::Result<()> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    match kernel_version(&release) {
        Some(v) if v < MIN_KERNEL => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("Linux {}.{} or later is needed, this is {}", MIN_KERNEL.0, MIN_KERNEL.1, release.trim()),
        )),
        // Unknown: let the ring calls themselves fail if they must.
        _ => Ok(()),
    }
}

/// `(major, minor)` of a kernel release string such as `6.1.0-18-amd64`.
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn zeroed_msghdr() -> libc::msghdr {
    // SAFETY: msghdr is plain data; all-zero is a valid value (null
    // pointers, zero lengths).
    unsafe { std::mem::zeroed() }
}

impl Ring {
    /// A ring for `sockets` (one per listen address), created disabled:
    /// the shard thread that will use it calls `start`. Single issuer with
    /// deferred task work where the kernel has it (6.1), so completions
    /// are processed only when the shard asks for them.
    pub fn new(sockets: Vec<Socket>) -> io::Result<Ring> {
        Ring::with_senders(sockets, Vec::new())
    }

    /// As [`Ring::new`], sending from `senders[l]` for listener `l` where
    /// it is given, bound to that listener's address.
    pub fn with_senders(sockets: Vec<Socket>, mut senders: Vec<Option<Socket>>) -> io::Result<Ring> {
        check_kernel()?;
        senders.resize_with(sockets.len(), || None);
        let uring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .setup_r_disabled()
            .build(ENTRIES)
            .or_else(|_| IoUring::builder().setup_r_disabled().build(ENTRIES))?;
        let recv_hdr = sockets
            .iter()
            .map(|_| {
                let mut h = zeroed_msghdr();
                h.msg_namelen = sockaddr::NAME_LEN as libc::socklen_t;
                h
            })
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ok(Ring {
            uring,
            armed: vec![false; sockets.len()],
            rearm_at: vec![None; sockets.len()],
            sockets,
            senders,
            recv_hdr,
            bufs: ManuallyDrop::new(BufRing::new(BUFFERS, BUF_SIZE)),
            sends: Vec::new(),
            free_sends: Vec::new(),
            in_flight: 0,
            fresh_sends: 0,
            leaked: false,
            reaped: Vec::with_capacity(ENTRIES as usize * 2),
        })
    }

    /// The ring's fd, the address other shards wake it at.
    pub fn fd(&self) -> RawFd {
        self.uring.as_raw_fd()
    }

    /// On the shard thread: enables the ring (this thread becomes its only
    /// submitter), provides the receive buffers and arms every receive.
    pub fn start(&mut self) -> io::Result<()> {
        self.uring.submitter().register_enable_rings()?;
        self.bufs.register(&self.uring, GROUP)
    }

    /// Queues `entry`, handing queued entries to the kernel first when the
    /// submission queue is full. `false` if the kernel takes none.
    fn push(&mut self, entry: squeue::Entry) -> bool {
        for _ in 0..2 {
            // SAFETY: every pointer in the entries built by this module
            // names memory owned by `self` that stays in place until the
            // entry's completion is reaped (see the fields).
            if unsafe { self.uring.submission().push(&entry) }.is_ok() {
                return true;
            }
            if let Err(e) = self.uring.submit() {
                log::warn!("io_uring submit: {e}");
                return false;
            }
        }
        false
    }

    fn arm(&mut self, listener: usize) {
        let fd = types::Fd(self.sockets[listener].as_raw_fd());
        let entry = opcode::RecvMsgMulti::new(fd, &self.recv_hdr[listener], GROUP)
            .build()
            .user_data(Op::Recv(listener as u16).encode());
        self.armed[listener] = self.push(entry);
    }

    /// Queues `payload` to `dst` from listener `listener`. Goes out with
    /// the next `wait`; `Err` gives the payload back when it cannot be
    /// queued at all.
    pub fn send(&mut self, listener: usize, dst: SocketAddr, payload: Vec<u8>) -> Result<(), Vec<u8>> {
        let Some(sock) = self.senders.get(listener).and_then(Option::as_ref).or(self.sockets.get(listener)) else {
            return Err(payload);
        };
        let fd = types::Fd(sock.as_raw_fd());
        let index = match self.free_sends.pop() {
            Some(i) => i,
            None => {
                let slot = SendSlot { addr: SockAddr::from(dst), payload: Vec::new() };
                self.sends.push(Box::new(slot));
                (self.sends.len() - 1) as u32
            }
        };
        let slot = &mut *self.sends[index as usize];
        slot.addr = SockAddr::from(dst);
        slot.payload = payload;
        // IORING_OP_SEND with a destination (Linux 6.0): no msghdr for the
        // kernel to copy in, unlike SENDMSG.
        let entry = opcode::Send::new(fd, slot.payload.as_ptr(), slot.payload.len() as u32)
            .dest_addr(slot.addr.as_ptr())
            .dest_addr_len(slot.addr.len())
            .build()
            .user_data(Op::Send(index).encode());
        if self.push(entry) {
            self.in_flight += 1;
            self.fresh_sends += 1;
            Ok(())
        } else {
            self.free_sends.push(index);
            Err(std::mem::take(&mut self.sends[index as usize].payload))
        }
    }

    /// Queues an fdatasync of `file`; `Event::Synced { token }` reports
    /// it. The caller keeps `file` open until then. `false` if it cannot
    /// be queued.
    pub fn fsync(&mut self, file: &File, token: u32) -> bool {
        let entry = opcode::Fsync::new(types::Fd(file.as_raw_fd()))
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(Op::Sync(token).encode());
        let queued = self.push(entry);
        self.in_flight += usize::from(queued);
        queued
    }

    /// Queues a wake-up of the shard whose ring is `ring_fd`.
    pub fn wake(&mut self, ring_fd: RawFd) {
        let entry = opcode::MsgRingData::new(types::Fd(ring_fd), 0, Op::Woken.encode(), None)
            .build()
            .flags(squeue::Flags::SKIP_SUCCESS)
            .user_data(Op::Wake.encode());
        let _ = self.push(entry);
    }

    /// Submits everything queued, waits up to `timeout` for at least one
    /// completion besides those of the sends queued since the last wait,
    /// and reports every completion to `on`.
    ///
    /// Without that allowance a turn that sends returns from the kernel at
    /// once with its own send completions, and only the next turn sleeps:
    /// two `io_uring_enter` calls and two passes of the shard loop for
    /// every wake-up. A send that is still in flight when its wait begins
    /// (a full socket buffer) can stretch that wait by at most `timeout`,
    /// unless a second event arrives first.
    pub fn wait(&mut self, timeout: Duration, mut on: impl FnMut(Event<'_>)) -> io::Result<()> {
        self.bufs.publish();
        for l in 0..self.armed.len() {
            if !self.armed[l] && self.rearm_at[l].is_none_or(|t| Instant::now() >= t) {
                self.rearm_at[l] = None;
                self.arm(l);
            }
        }
        let ts = types::Timespec::from(timeout);
        let args = types::SubmitArgs::new().timespec(&ts);
        // Capped so the count fits the completion queue whatever the batch.
        let want = (self.fresh_sends as usize + 1).min(ENTRIES as usize);
        match self.uring.submitter().submit_with_args(want, &args) {
            Ok(_) => {}
            // Timed out, interrupted, or completions to reap first.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN)) => {}
            Err(e) => return Err(e),
        }
        let mut reaped = std::mem::take(&mut self.reaped);
        reaped.extend(self.uring.completion().map(|c| (c.user_data(), c.result(), c.flags())));
        self.fresh_sends = 0;
        for &(data, res, flags) in &reaped {
            self.complete(data, res, flags, &mut on);
        }
        reaped.clear();
        self.reaped = reaped;
        Ok(())
    }

    fn complete(&mut self, data: u64, res: i32, flags: u32, on: &mut impl FnMut(Event<'_>)) {
        let result = if res < 0 { Err(io::Error::from_raw_os_error(-res)) } else { Ok(()) };
        match Op::decode(data) {
            Some(Op::Recv(l)) => {
                let l = usize::from(l);
                if !cqueue::more(flags) {
                    // Ended (ENOBUFS, cancelled, error): re-armed next turn.
                    self.armed[l] = false;
                }
                let Some(buffer) = cqueue::buffer_select(flags) else {
                    if res < 0 && res != -libc::ENOBUFS && res != -libc::ECANCELED {
                        log::warn!("receive on listener {l}: {}", io::Error::from_raw_os_error(-res));
                        self.rearm_at[l] = Some(Instant::now() + RECV_ERROR_BACKOFF);
                    }
                    return;
                };
                if res >= 0 {
                    let filled = self.bufs.filled(buffer, res as usize);
                    match types::RecvMsgOut::parse(filled, &self.recv_hdr[l]) {
                        Ok(out) if out.is_payload_truncated() => {
                            log::debug!("datagram of {} bytes dropped: too large", out.incoming_payload_len());
                        }
                        Ok(out) => match sockaddr::parse(out.name_data()) {
                            Some(src) => on(Event::Datagram { listener: l, src, bytes: out.payload_data() }),
                            None => log::debug!("datagram from an unknown address family dropped"),
                        },
                        Err(()) => log::debug!("malformed multishot receive buffer dropped"),
                    }
                }
                self.bufs.give_back(buffer);
            }
            Some(Op::Send(i)) => {
                self.in_flight -= 1;
                self.free_sends.push(i);
                let payload = std::mem::take(&mut self.sends[i as usize].payload);
                on(Event::Sent { payload, result });
            }
            Some(Op::Sync(token)) => {
                self.in_flight -= 1;
                on(Event::Synced { token, result });
            }
            Some(Op::Woken) => on(Event::Woken),
            Some(Op::Wake) => {
                if let Err(e) = result {
                    log::debug!("wake-up of another shard failed: {e}");
                }
            }
            Some(Op::Cancel) | None => {}
        }
    }

    /// Cancels every receive and waits until the kernel has let go of all
    /// memory it was given; reports the sends and fsyncs still completing.
    fn quiesce(&mut self, on: &mut impl FnMut(Event<'_>)) -> bool {
        for l in 0..self.armed.len() {
            if self.armed[l] {
                let cancel = types::CancelBuilder::user_data(Op::Recv(l as u16).encode()).all();
                let entry = opcode::AsyncCancel2::new(cancel).build().user_data(Op::Cancel.encode());
                let _ = self.push(entry);
            }
        }
        let deadline = Instant::now() + TEARDOWN;
        while (self.armed.contains(&true) || self.in_flight > 0) && Instant::now() < deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            let ts = types::Timespec::from(left.min(Duration::from_millis(100)));
            let args = types::SubmitArgs::new().timespec(&ts);
            if let Err(e) = self.uring.submitter().submit_with_args(1, &args)
                && !matches!(e.raw_os_error(), Some(libc::ETIME | libc::EINTR | libc::EBUSY | libc::EAGAIN))
            {
                break;
            }
            let reaped: Vec<_> = self.uring.completion().map(|c| (c.user_data(), c.result(), c.flags())).collect();
            for (data, res, flags) in reaped {
                self.complete(data, res, flags, on);
            }
        }
        !self.armed.contains(&true) && self.in_flight == 0
    }

    /// Stops receiving; `on` sees the last sends and fsyncs complete.
    pub fn shutdown(&mut self, mut on: impl FnMut(Event<'_>)) {
        if !self.quiesce(&mut on) {
            self.leak();
        }
    }

    /// The kernel may still write to our buffers: never free them.
    fn leak(&mut self) {
        log::warn!("io_uring teardown timed out: its buffers are leaked");
        self.leaked = true;
        std::mem::forget(std::mem::take(&mut self.sends));
        std::mem::forget(std::mem::take(&mut self.recv_hdr));
        self.armed.iter_mut().for_each(|a| *a = false);
        self.in_flight = 0;
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if (self.armed.contains(&true) || self.in_flight > 0) && !self.quiesce(&mut |_| {}) {
            self.leak();
        }
        if !self.leaked {
            // Fails harmlessly when the group was never registered.
            let _ = self.uring.submitter().unregister_buf_ring(GROUP);
            // SAFETY: no receive is armed and the group is unregistered:
            // the kernel holds no pointer into the buffers; `bufs` is not
            // used again.
            unsafe { ManuallyDrop::drop(&mut self.bufs) };
        }
    }
}

#[cfg(test)]
mod tests;
