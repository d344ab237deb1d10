//! Transaction tests on virtual time: a [`harness::Harness`] drives one
//! transaction from a real [`TimerWheel`](crate::timer::TimerWheel), as the
//! proxy core will, and never sleeps.

mod client_invite;
mod client_non_invite;
mod harness;
mod keys;
mod server_invite;
mod server_non_invite;
mod table;

/// Our forwarded copy of a request: our Via (with `branch`) over the UAC's.
fn request(method: &str, branch: &str) -> Vec<u8> {
    request_with(method, &format!("SIP/2.0/UDP 203.0.113.1;branch={branch}"), method, None)
}

/// A request with a given top Via, CSeq method and To tag.
fn request_with(method: &str, top_via: &str, cseq_method: &str, to_tag: Option<&str>) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} sip:bob@192.0.2.20:5060 SIP/2.0\r\n\
Via: {top_via}, SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKua;rport\r\n\
Max-Forwards: 69\r\n\
From: Alice <sip:alice@example.com>;tag=a1\r\n\
To: Bob <sip:bob@example.com>{to_tag}\r\n\
Call-ID: c1@10.0.0.5\r\n\
CSeq: 314 {cseq_method}\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A response to [`request`] with a To tag (except for 100).
fn response(code: u16, branch: &str, cseq_method: &str) -> Vec<u8> {
    let to_tag = if code == 100 { "" } else { ";tag=b9" };
    format!(
        "SIP/2.0 {code} Whatever\r\n\
Via: SIP/2.0/UDP 203.0.113.1;branch={branch}, SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKua;rport\r\n\
From: Alice <sip:alice@example.com>;tag=a1\r\n\
To: Bob <sip:bob@example.com>{to_tag}\r\n\
Call-ID: c1@10.0.0.5\r\n\
CSeq: 314 {cseq_method}\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The INVITE as a phone sends it to us (no Via of ours yet).
fn incoming(method: &str, cseq_method: &str, to_tag: Option<&str>) -> Vec<u8> {
    request_with(method, "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKua;rport", cseq_method, to_tag)
}

fn secs(s: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(s)
}
