//! The registrar through the real binary: NAT detection on loopback,
//! the Contact list, and the location store across restarts.

mod common;

use common::{Client, Server, free_port};
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

fn register(to: SocketAddr, user: &str, contact: &str, call_id: &str, cseq: u32, expires: u32) -> Vec<u8> {
    format!(
        "REGISTER sip:{to} SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK{call_id}{cseq};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:{user}@{to}>;tag=f{cseq}\r\n\
To: <sip:{user}@{to}>\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} REGISTER\r\n\
Contact: <{contact}>\r\n\
Expires: {expires}\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A REGISTER without Contact: the 200 lists the current bindings.
fn query(to: SocketAddr, user: &str, call_id: &str) -> Vec<u8> {
    format!(
        "REGISTER sip:{to} SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKq{call_id};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:{user}@{to}>;tag=q\r\n\
To: <sip:{user}@{to}>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 REGISTER\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn ask(c: &Client, server: SocketAddr, req: &[u8]) -> String {
    c.send(req, server);
    let r = c.recv(Duration::from_secs(3)).expect("reply");
    String::from_utf8_lossy(&r).into_owned()
}

#[test]
fn nated_register_gets_received_and_contact_list() {
    let server = Server::start(2, &[]);
    let c = Client::new();
    let me = c.local();
    let r = ask(&c, server.addr, &register(server.addr, "alice", "sip:alice@192.168.1.10:5060", "reg-a", 1, 600));
    assert!(r.starts_with("SIP/2.0 200 OK\r\n"), "{r}");
    let expected =
        format!("Contact: <sip:alice@192.168.1.10:5060>;expires=600;received=\"sip:127.0.0.1:{}\"", me.port());
    assert!(r.contains(&expected), "{r}");
    // A second binding from another Call-ID: both listed, ", "-separated.
    let r = ask(&c, server.addr, &register(server.addr, "alice", "sip:alice@192.168.1.11:5062", "reg-b", 1, 300));
    assert!(r.contains(";expires=600;") && r.contains(", <sip:alice@192.168.1.11:5062>;expires=300"), "{r}");
    // Lower CSeq on the same Call-ID.
    let stale = register(server.addr, "alice", "sip:alice@192.168.1.10:5060", "reg-a", 0, 600);
    let r = ask(&c, server.addr, &stale);
    assert!(r.starts_with("SIP/2.0 400") && r.contains("P-Registrar-Error: Invalid CSeq number"), "{r}");
    // Expires 0 removes one binding.
    let r = ask(&c, server.addr, &register(server.addr, "alice", "sip:alice@192.168.1.11:5062", "reg-b", 2, 0));
    assert!(r.starts_with("SIP/2.0 200") && !r.contains("192.168.1.11"), "{r}");
}

#[test]
fn bindings_survive_sigterm_and_kill_9_in_write_through() {
    let dir = common::data_dir(free_port());
    let _ = std::fs::remove_dir_all(&dir);
    let db = format!("usrloc.db_path={}", dir.display());
    for (mode, hard) in [("2", false), ("1", true)] {
        let _ = std::fs::remove_dir_all(&dir);
        let set_mode = format!("usrloc.db_mode={mode}");
        let server = Server::start(2, &["--set", &db, "--set", &set_mode]);
        let c = Client::new();
        for i in 0..40 {
            let user = format!("u{i}");
            let contact = format!("sip:{user}@10.1.0.{i}:5060");
            let r = ask(&c, server.addr, &register(server.addr, &user, &contact, &format!("p{i}"), 1, 3600));
            assert!(r.starts_with("SIP/2.0 200"), "{r}");
        }
        let port = server.addr.port();
        if hard {
            let pid = server.child.id().to_string();
            Command::new("kill").args(["-KILL", &pid]).status().unwrap();
            drop(server);
        } else {
            let (_, status) = server.terminate();
            assert!(status.success());
        }
        let server = Server::start_on(port, 2, &["--set", &db, "--set", &set_mode]);
        for i in 0..40 {
            let user = format!("u{i}");
            let r = ask(&c, server.addr, &query(server.addr, &user, &format!("q{i}")));
            assert!(r.contains(&format!("<sip:{user}@10.1.0.{i}:5060>;expires=")), "mode {mode}: {user} lost: {r}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usrloc_rpc_inspects_and_manages_bindings() {
    let port = common::free_tcp_port();
    let server = Server::start(2, &["--control", &format!("127.0.0.1:{port}")]);
    let c = Client::new();
    for user in ["bob", "carol"] {
        let r = ask(&c, server.addr, &register(server.addr, user, &format!("sip:{user}@192.168.1.20"), user, 1, 900));
        assert!(r.starts_with("SIP/2.0 200"), "{r}");
    }
    let aor = format!("bob@{}", server.addr.ip());
    let v =
        common::rpc(port, &format!(r#"{{"jsonrpc":"2.0","method":"ul.lookup","params":["location","{aor}"],"id":1}}"#));
    assert!(v.contains(r#""Address":"sip:bob@192.168.1.20""#) && v.contains(r#""CFlags":64"#), "{v}");
    assert!(v.contains(&format!(r#""Received":"sip:127.0.0.1:{}""#, c.local().port())), "{v}");
    let v = common::rpc(port, r#"{"jsonrpc":"2.0","method":"ul.dump","id":2}"#);
    assert!(v.contains("\"AoR\":\"bob@127.0.0.1\"") && v.contains("\"AoR\":\"carol@127.0.0.1\""), "{v}");
    let v = common::rpc(port, &format!(r#"{{"jsonrpc":"2.0","method":"ul.rm","params":["location","{aor}"],"id":3}}"#));
    assert!(v.contains(r#""result":null"#), "{v}");
    let v =
        common::rpc(port, &format!(r#"{{"jsonrpc":"2.0","method":"ul.lookup","params":["location","{aor}"],"id":4}}"#));
    assert!(v.contains(r#""code":404"#), "{v}");
    let add = r#"{"jsonrpc":"2.0","method":"ul.add","params":["location","dave@127.0.0.1","sip:dave@198.51.100.5",600,1.0,"0",0,0,0],"id":5}"#;
    assert!(common::rpc(port, add).contains(r#""result":null"#));
    let r = ask(&c, server.addr, &query(server.addr, "dave", "dq"));
    assert!(r.contains("<sip:dave@198.51.100.5>;q=1;expires="), "{r}");
    let v = common::rpc(port, r#"{"jsonrpc":"2.0","method":"ul.lookup","params":["location"],"id":6}"#);
    assert!(v.contains(r#""code":-32602"#), "{v}");
    assert!(common::rpc(port, r#"{"jsonrpc":"2.0","method":"ul.flush","id":7}"#).contains(r#""result":null"#));
    std::thread::sleep(Duration::from_millis(1300));
    let m = common::http(port, "GET /metrics HTTP/1.1\r\n\r\n");
    assert!(m.contains("sipedge_registrar_accepted_regs{shard=\"total\"} 3"), "{m}");
    assert!(m.contains("sipedge_usrloc_location_contacts{shard=\"total\"} 2"), "{m}");
}
