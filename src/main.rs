//! The `sipedge` command: CLI → configuration → runtime.

use clap::Parser;
use sipedge::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

// glibc grows a thread's arena one page at a time, each an mprotect()
// that takes the process's mmap lock for writing: 10,500 of them for
// 100,000 REGISTERs, and page faults on the other shards wait behind each.
// mimalloc maps whole segments and hands out thread-local pages.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// From the mimalloc library that `mimalloc` links (mimalloc.h).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_t` (v2 and v3).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Keeps freed memory mapped, as Kamailio keeps its shared memory pool.
/// A transaction lives 32 s (RFC 3261 §17.2.2 Timer J), so under steady
/// load its pages empty in the order they filled; with mimalloc's default
/// 10 ms delay each emptied page went back to the kernel and the next
/// allocation faulted it in again, a zeroed (often huge) page: about 170
/// faults/s at 500 calls/s. The environment still decides when it sets
/// MIMALLOC_PURGE_DELAY.
fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option of the allocator; mimalloc reads
        // it when deciding whether to purge and allows changes at any time.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

/// SIP edge proxy, registrar and media relay for phones behind NAT.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file (see tuning/sipedge.toml); defaults apply without one.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address, replacing [core] listen: udp:IP:PORT [advertise HOST:PORT]. Repeatable.
    #[arg(long, short = 'l', value_name = "udp:IP:PORT")]
    listen: Vec<String>,
    /// Override any key: SECTION.KEY=VALUE (TOML value or plain string). Repeatable.
    #[arg(long = "set", short = 's', value_name = "SECTION.KEY=VALUE")]
    set: Vec<String>,
    /// Number of shards (threads), as [core] children; 0 = one per core.
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
    /// Cores to pin shards to, as [core] cores, e.g. 2,3,4,5 or 2-5.
    #[arg(long, value_name = "LIST")]
    cores: Option<String>,
    /// Control listener (JSON-RPC at /RPC, Prometheus at /metrics): IP:PORT, or "off".
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5099")]
    control: String,
    /// Check the configuration, print it, and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    let mut sets = cli.set.clone();
    if let Some(n) = cli.shards {
        sets.push(format!("core.children={n}"));
    }
    if let Some(list) = &cli.cores {
        match parse_core_list(list) {
            Ok(cores) => sets.push(format!("core.cores={cores:?}")),
            Err(e) => {
                eprintln!("sipedge: --cores {list}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let cfg = match Config::load(cli.config.as_deref(), &cli.listen, &sets) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sipedge: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    sipedge::logging::init(cfg.core.log_level());
    if cli.check {
        println!("{cfg:#?}");
        return ExitCode::SUCCESS;
    }
    let control = match cli.control.as_str() {
        "off" => None,
        addr => match addr.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                eprintln!("sipedge: --control {addr}: expected IP:PORT or off");
                return ExitCode::from(2);
            }
        },
    };
    match sipedge::runtime::run(&cfg, control) {
        Ok(stats) => {
            let fields: Vec<String> =
                stats.named().into_iter().filter(|(_, _, v)| *v > 0).map(|(g, k, v)| format!("{g}:{k}={v}")).collect();
            log::info!("stopped: {}", fields.join(" "));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sipedge: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `2,3,8-11` → [2, 3, 8, 9, 10, 11].
fn parse_core_list(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num = |t: &str| t.trim().parse::<usize>().map_err(|_| format!("'{t}' is not a core number"));
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b {
                    return Err(format!("range {part} runs backwards"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    if out.is_empty() {
        return Err("empty core list".into());
    }
    Ok(out)
}
