//! sipedge: a SIP edge proxy, registrar and media relay for phones behind
//! NAT, sharded thread-per-core. See DESIGN.md for the architecture.

// Only runtime/ring (the io_uring buffers the kernel writes) and
// runtime/steer (loading and attaching the eBPF program) may use `unsafe`;
// they say why at each use.
#![deny(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod config;
pub mod control;
pub mod dialog;
pub mod engine;
pub mod fuzzing;
pub mod ids;
pub mod logging;
pub mod nat;
pub mod proxy;
pub mod registrar;
pub mod runtime;
pub mod sip;
#[cfg(test)]
mod testutil;
pub mod timer;
pub mod txn;
