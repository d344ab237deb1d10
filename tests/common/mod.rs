//! Starts the real `sipedge` binary on loopback and talks SIP to it.
#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

/// A UDP port that is free right now.
pub fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    pub fn start(shards: usize, extra: &[&str]) -> Server {
        for _ in 0..5 {
            if let Some(s) = Server::try_start(free_port(), shards, extra) {
                return s;
            }
        }
        panic!("sipedge did not come up");
    }

    /// Starts on a given port (a restart of an earlier server).
    pub fn start_on(port: u16, shards: usize, extra: &[&str]) -> Server {
        Server::try_start(port, shards, extra).unwrap_or_else(|| {
            panic!("sipedge did not come up: {}", std::fs::read_to_string(log_file(port)).unwrap_or_default())
        })
    }

    fn try_start(port: u16, shards: usize, extra: &[&str]) -> Option<Server> {
        {
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_sipedge"));
            cmd.args(["--listen", &format!("udp:{addr}"), "--shards", &shards.to_string()])
                .args(if extra.contains(&"--control") { &[][..] } else { &["--control", "127.0.0.1:0"][..] })
                .args(["--set", &format!("usrloc.db_path={}", data_dir(port).display())])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(log_file(port)).map_or_else(|_| Stdio::null(), Stdio::from));
            let child = cmd.spawn().expect("start sipedge");
            let mut s = Server { child, addr };
            if s.wait_ready() {
                return Some(s);
            }
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
        None
    }

    fn wait_ready(&mut self) -> bool {
        let c = Client::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            c.send(&options(self.addr, "ready", 1), self.addr);
            if c.recv(Duration::from_millis(100)).is_some() {
                return true;
            }
        }
        false
    }

    /// SIGTERM, then how long the process took to exit.
    pub fn terminate(mut self) -> (Duration, std::process::ExitStatus) {
        let t = Instant::now();
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = t + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (t.elapsed(), st);
            }
            assert!(Instant::now() < deadline, "sipedge ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Client {
    pub sock: UdpSocket,
}

impl Client {
    pub fn new() -> Client {
        Client { sock: UdpSocket::bind("127.0.0.1:0").unwrap() }
    }

    pub fn send(&self, bytes: &[u8], to: SocketAddr) {
        self.sock.send_to(bytes, to).unwrap();
    }

    pub fn recv(&self, wait: Duration) -> Option<Vec<u8>> {
        self.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = vec![0u8; 65536];
        match self.sock.recv_from(&mut buf) {
            Ok((n, _)) => Some(buf[..n].to_vec()),
            Err(_) => None,
        }
    }

    pub fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }
}

/// Where a test server's log goes.
pub fn log_file(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sipedge-test-{}-{port}.log", std::process::id()))
}

/// A private location store for a test server (its UDP port names it).
pub fn data_dir(port: u16) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("sipedge-test-{}-{port}", std::process::id()))
}

/// A TCP port that is free right now.
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP exchange with the control listener; returns the response.
pub fn http(port: u16, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

pub fn rpc(port: u16, body: &str) -> String {
    http(port, &format!("POST /RPC HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len()))
}

/// An OPTIONS to the proxy itself.
pub fn options(to: SocketAddr, call_id: &str, cseq: u32) -> Vec<u8> {
    format!(
        "OPTIONS sip:{to} SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{call_id}{cseq};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:probe@example.com>;tag={call_id}\r\n\
To: <sip:{to}>\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} OPTIONS\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The status code of a response.
pub fn code(resp: &[u8]) -> u16 {
    let s = std::str::from_utf8(&resp[..resp.len().min(12)]).unwrap_or("");
    s.get(8..11).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Whether a required external tool is missing: fatal where the test
/// command promised to install it (SIPEDGE_REQUIRE_TOOLS=1), else skipped.
pub fn tool_missing(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    if !found {
        assert!(std::env::var_os("SIPEDGE_REQUIRE_TOOLS").is_none(), "{tool} is required but not installed");
        eprintln!("skipping: {tool} not installed");
    }
    !found
}
