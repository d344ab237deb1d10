//! The real binary on loopback: stateless answers, shards, hand-off,
//! shutdown, start-up errors, and real peers (sipsak, SIPp).

mod common;

use common::{Client, Server, code, free_port, options, tool_missing};
use std::process::Command;
use std::time::Duration;

#[test]
fn answers_options_from_many_sources_across_shards() {
    let server = Server::start(2, &[]);
    // Many client sockets: the kernel spreads them over both shards, and
    // each Call-ID is owned by one of them, so hand-offs happen both ways.
    for i in 0..64 {
        let c = Client::new();
        c.send(&options(server.addr, &format!("spread-{i}"), 1), server.addr);
        let r = c.recv(Duration::from_secs(3)).unwrap_or_else(|| panic!("no reply to spread-{i}"));
        assert_eq!(code(&r), 200);
        let text = String::from_utf8_lossy(&r);
        // RFC 3581: the reply names the real source.
        assert!(text.contains(&format!(";rport={}", c.local().port())), "{text}");
        assert!(text.contains(";received=127.0.0.1"), "{text}");
    }
}

#[test]
fn sigterm_stops_within_two_seconds() {
    let server = Server::start(2, &[]);
    let (took, status) = server.terminate();
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn bad_configuration_stops_startup_naming_the_key() {
    let out = Command::new(env!("CARGO_BIN_EXE_sipedge"))
        .args(["--set", "core.max_msg_size=100", "--check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("core.max_msg_size") && err.contains("100"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_sipedge"))
        .args(["--listen", "tcp:127.0.0.1:5060", "--check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("core.listen"));
}

#[test]
fn busy_port_fails_startup() {
    let holder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sipedge"))
        .args(["--listen", &format!("udp:{addr}"), "--shards", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&addr.to_string()));
}

#[test]
fn sipsak_gets_200() {
    if tool_missing("sipsak") {
        return;
    }
    // sipsak 0.9.8 cuts a 5-digit port out of the Request-URI it writes
    // (sip:127.0.0.1:54115 becomes sip:127.0.0.1:5411), so the test port
    // is not enough to be "myself": alias the host on any port.
    let server = Server::start(2, &["--set", "core.alias=[\"127.0.0.1\"]"]);
    let lport = free_port();
    let out = Command::new("sipsak")
        .args(["-v", "-s", &format!("sip:{}", server.addr), "-l", &lport.to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "sipsak {:?}: {text} {}", out.status, String::from_utf8_lossy(&out.stderr));
}

#[test]
fn sipp_options_scenario_passes() {
    if tool_missing("sipp") {
        return;
    }
    let server = Server::start(2, &[]);
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/loadtest/options.xml");
    let out = Command::new("sipp")
        .args([&server.addr.to_string(), "-sf", scenario, "-m", "500", "-r", "500", "-i", "127.0.0.1"])
        .args(["-p", &free_port().to_string(), "-timeout", "20", "-nostdin", "-trace_err"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sipp exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).lines().rev().take(40).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn unknown_core_stops_startup() {
    let out = Command::new(env!("CARGO_BIN_EXE_sipedge"))
        .args(["--listen", &format!("udp:127.0.0.1:{}", free_port()), "--cores", "4000"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("core 4000 does not exist"), "{err}");
}

#[test]
fn control_api_answers_rpc_and_metrics() {
    let port = common::free_tcp_port();
    let server = Server::start(2, &["--control", &format!("127.0.0.1:{port}")]);
    let c = Client::new();
    c.send(&options(server.addr, "counted", 1), server.addr);
    assert!(c.recv(Duration::from_secs(3)).is_some());
    let v = common::rpc(port, r#"{"jsonrpc":"2.0","method":"core.version","id":1}"#);
    assert!(v.contains(r#""result":"sipedge "#), "{v}");
    let v = common::rpc(port, r#"{"jsonrpc":"2.0","method":"core.uptime","id":2}"#);
    assert!(v.contains(r#""uptime":"#), "{v}");
    let v = common::rpc(port, r#"{"jsonrpc":"2.0","method":"no.such","id":3}"#);
    assert!(v.contains(r#""code":-32601"#), "{v}");
    let v = common::rpc(port, "not json");
    assert!(v.contains(r#""code":-32700"#), "{v}");
    // Counters are published once a second by each shard.
    std::thread::sleep(Duration::from_millis(1300));
    let v = common::rpc(port, r#"{"jsonrpc":"2.0","method":"stats.get_statistics","params":["sl:"],"id":4}"#);
    assert!(v.contains("sl:2xx_replies = "), "{v}");
    assert!(!v.contains("sl:2xx_replies = 0\""), "{v}");
    let m = common::http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(m.starts_with("HTTP/1.1 200 OK"), "{m}");
    assert!(m.contains("sipedge_core_rcv_requests{shard=\"total\"}"), "{m}");
    assert!(common::http(port, "BROKEN\r\n\r\n").starts_with("HTTP/1.1 400"));
    // The server survived all of it.
    c.send(&options(server.addr, "after-control", 1), server.addr);
    assert_eq!(code(&c.recv(Duration::from_secs(3)).unwrap()), 200);
}
