//! A minimal `log` backend: one line per record on stderr, with the
//! thread (shard) name. Disabled levels cost one comparison in the macro.

use log::{LevelFilter, Log, Metadata, Record};
use std::io::Write;

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &Record<'_>) {
        if !self.enabled(r.metadata()) {
            return;
        }
        let t = std::thread::current();
        let name = t.name().unwrap_or("main");
        let _ = writeln!(std::io::stderr().lock(), "{:5} [{name}] {}", r.level(), r.args());
    }

    fn flush(&self) {}
}

static LOGGER: Stderr = Stderr;

pub fn init(level: LevelFilter) {
    // A second init (tests) keeps the first logger; only the level changes.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}
