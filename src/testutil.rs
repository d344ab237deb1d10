//! Test helpers shared by the unit tests.

/// Deterministic xorshift64* generator for property and fuzz-style tests,
/// so they need no dependency and replay identically.
pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-enough value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn below_u64(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}
