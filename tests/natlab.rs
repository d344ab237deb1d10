//! Registration and calls through a real NAT: network namespaces
//! (loadtest/natlab.sh) with a UA on 192.168.77.10 behind an iptables
//! MASQUERADE router, and sipedge on the public side at 198.51.100.1.
//! Needs root and iptables: skipped elsewhere, mandatory under tests/run.sh.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/loadtest/natlab.sh");

fn lab(args: &[&str], random_fully: bool) -> Output {
    Command::new("bash")
        .arg(LAB)
        .args(args)
        .env("NAT_RANDOM_FULLY", if random_fully { "1" } else { "0" })
        .output()
        .expect("run natlab.sh")
}

fn available() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    let tools = ["ip", "iptables", "sipsak", "python3"].iter().all(|t| !common::tool_missing(t));
    if !root {
        assert!(std::env::var_os("SIPEDGE_REQUIRE_TOOLS").is_none(), "the NAT lab needs root");
        eprintln!("skipping: the NAT lab needs root");
    }
    root && tools
}

/// JSON-RPC from inside the public namespace.
fn rpc_in_pub(body: &str) -> String {
    let script = format!(
        "import urllib.request as u; print(u.urlopen(u.Request('http://198.51.100.1:5099/RPC', data=b'{body}')).read().decode())"
    );
    let out = lab(&["exec", "pub", "python3", "-c", &script], false);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run_case(random_fully: bool) {
    let up = lab(&["up"], random_fully);
    assert!(up.status.success(), "natlab up: {}", String::from_utf8_lossy(&up.stderr));
    let bin = env!("CARGO_BIN_EXE_sipedge");
    let proxy = Proxy(
        Command::new("bash")
            .args([LAB, "exec", "pub", bin, "--listen", "udp:198.51.100.1:5060", "--shards", "2"])
            .args(["--control", "198.51.100.1:5099", "--set", "usrloc.db_mode=0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sipedge in se-pub"),
    );
    // sipsak in the UA's namespace: Contact carries the private address.
    let deadline = Instant::now() + Duration::from_secs(10);
    let registered = loop {
        let out = lab(
            &[
                "exec",
                "ua",
                "sipsak",
                "-U",
                "-i",
                "-C",
                "sip:natted@192.168.77.10:5060",
                "-s",
                "sip:natted@198.51.100.1",
            ],
            false,
        );
        if out.status.success() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(registered, "REGISTER through the NAT failed");
    let dump = rpc_in_pub(r#"{"jsonrpc":"2.0","method":"ul.dump","id":1}"#);
    eprintln!("ul.dump through the NAT: {dump}");
    assert!(dump.contains("\"AoR\":\"natted@198.51.100.1\""), "{dump}");
    assert!(dump.contains("\"Address\":\"sip:natted@192.168.77.10:5060\""), "{dump}");
    // The public side of the NAT, not the private Contact, is where the
    // phone is: received shows the router's address, CFlags the NAT flag.
    assert!(dump.contains("\"Received\":\"sip:198.51.100.2:"), "{dump}");
    assert!(dump.contains("\"CFlags\":64"), "{dump}");
    drop(proxy);
    let down = lab(&["down"], false);
    assert!(down.status.success(), "natlab down: {}", String::from_utf8_lossy(&down.stderr));
}

#[test]
fn register_through_masquerade_and_random_fully() {
    if !available() {
        return;
    }
    // One lab at a time: every case runs in this one test, in order.
    run_case(false);
    run_case(true);
    calls_both_ways(false);
    calls_both_ways(true);
}

/// loadtest/natlab-calls.sh: the public phone calls the NATed one and the
/// NATed one calls the public one; ACK and BYE (the NATed caller's BYE
/// included) reach the other side, with and without --random-fully.
fn calls_both_ways(random_fully: bool) {
    if common::tool_missing("sipp") {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/loadtest/natlab-calls.sh");
    let out = Command::new("bash")
        .args([script, "5"])
        .env("SIPEDGE_BIN", env!("CARGO_BIN_EXE_sipedge"))
        .env("NAT_RANDOM_FULLY", if random_fully { "1" } else { "0" })
        .output()
        .expect("run natlab-calls.sh");
    let log = String::from_utf8_lossy(&out.stderr);
    eprintln!("{log}");
    assert!(out.status.success(), "calls through the NAT failed:\n{log}");
    assert!(log.contains("inbound: PASS") && log.contains("outbound: PASS"), "{log}");
}
