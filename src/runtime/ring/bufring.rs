//! The receive buffers, as a ring-mapped provided-buffer group
//! (IORING_REGISTER_PBUF_RING, Linux 5.19): returning a buffer to the
//! kernel is a store into shared memory, not an entry to submit.

#![allow(unsafe_code)]

use io_uring::IoUring;
use io_uring::types::BufRingEntry;
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

/// The shared ring of buffer descriptors, and the buffers they describe.
pub struct BufRing {
    entries: NonNull<BufRingEntry>,
    layout: Layout,
    count: u16,
    /// Our tail, published to the kernel by `publish`.
    tail: u16,
    bufs: Box<[u8]>,
    buf_size: usize,
}

impl BufRing {
    /// `count` (a power of two) buffers of `buf_size` bytes.
    pub fn new(count: u16, buf_size: usize) -> BufRing {
        assert!(count.is_power_of_two(), "buffer ring size must be a power of two");
        let size = usize::from(count) * size_of::<BufRingEntry>();
        // The kernel maps the descriptor ring by page: page-aligned.
        let layout = Layout::from_size_align(size.max(4096), 4096).expect("valid buffer ring layout");
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc_zeroed(layout) }.cast::<BufRingEntry>();
        let entries = NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
        BufRing { entries, layout, count, tail: 0, bufs: vec![0u8; usize::from(count) * buf_size].into(), buf_size }
    }

    /// Registers the group with `uring` and hands it every buffer.
    pub fn register(&mut self, uring: &IoUring, group: u16) -> io::Result<()> {
        // SAFETY: the descriptor memory stays allocated, and in place,
        // until `Drop`, which the owner runs only after the ring is gone or
        // the group unregistered (see `Ring`'s teardown).
        unsafe { uring.submitter().register_buf_ring_with_flags(self.entries.as_ptr() as u64, self.count, group, 0)? };
        for bid in 0..self.count {
            self.give_back(bid);
        }
        self.publish();
        Ok(())
    }

    /// The filled part of buffer `bid`.
    pub fn filled(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * self.buf_size;
        &self.bufs[start..start + len.min(self.buf_size)]
    }

    /// Queues buffer `bid` for the kernel; it sees it after `publish`.
    pub fn give_back(&mut self, bid: u16) {
        if bid >= self.count {
            return;
        }
        let addr = self.bufs[usize::from(bid) * self.buf_size..].as_mut_ptr() as u64;
        let slot = usize::from(self.tail & (self.count - 1));
        // SAFETY: slot < count, inside the allocation. The kernel reads
        // only the descriptors between its head and the published tail,
        // and this one is past the tail; of entry 0 we never write the
        // field that holds the tail.
        let entry = unsafe { &mut *self.entries.as_ptr().add(slot) };
        entry.set_addr(addr);
        entry.set_len(self.buf_size as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes every buffer given back so far visible to the kernel.
    pub fn publish(&self) {
        // SAFETY: the tail is the last u16 of descriptor 0, shared with
        // the kernel, which only reads it; a release store orders the
        // descriptor writes before it.
        let tail = unsafe { &*BufRingEntry::tail(self.entries.as_ptr()).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
    }
}

impl Drop for BufRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.entries.as_ptr().cast(), self.layout) };
    }
}
