//! SIGINT/SIGTERM: set a flag every shard polls; shards then stop
//! receiving, flush their state and return.

use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub fn stop_flag() -> io::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag))?;
    }
    Ok(flag)
}
