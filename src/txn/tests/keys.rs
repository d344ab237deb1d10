//! Matching keys: RFC 3261 §17.1.3, §17.2.3 and §9.2.

use super::{incoming, request, request_with, response};
use crate::sip::{Message, Method};
use crate::txn::{Branch, KeyError, TxKey};

fn server(bytes: &[u8]) -> Result<TxKey, KeyError> {
    TxKey::server(&Message::parse(bytes).unwrap())
}

fn client(bytes: &[u8]) -> TxKey {
    TxKey::client(&Message::parse(bytes).unwrap()).unwrap()
}

const UA_VIA: &str = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKua;rport";
const OLD_VIA: &str = "SIP/2.0/UDP 10.0.0.5:5060";

#[test]
fn rfc3261_key_is_branch_sent_by_and_method() {
    let invite = server(&incoming("INVITE", "INVITE", None)).unwrap();
    assert!(!invite.is_rfc2543() && !invite.is_client());
    assert_eq!(invite, server(&incoming("INVITE", "INVITE", None)).unwrap(), "retransmission");
    let other_branch = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKzz";
    assert_ne!(invite, server(&request_with("INVITE", other_branch, "INVITE", None)).unwrap());
    let other_sent_by = "SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bKua";
    assert_ne!(invite, server(&request_with("INVITE", other_sent_by, "INVITE", None)).unwrap());
    let other_port = "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKua";
    assert_ne!(invite, server(&request_with("INVITE", other_port, "INVITE", None)).unwrap());
    // Only branch, sent-by and method count: other Via params and headers do not.
    let same = "SIP/2.0/UDP 10.0.0.5:5060;received=192.0.2.1;branch=z9hG4bKua";
    assert_eq!(invite, server(&request_with("INVITE", same, "INVITE", Some("x"))).unwrap());
    let upper = server(&request_with("BYE", "SIP/2.0/UDP PBX.Example.COM;branch=z9hG4bKb", "BYE", None));
    let lower = server(&request_with("BYE", "SIP/2.0/UDP pbx.example.com;branch=z9hG4bKb", "BYE", None));
    assert_eq!(upper.unwrap(), lower.unwrap(), "host names compare case-insensitively");
    let bye = server(&request_with("BYE", UA_VIA, "BYE", None)).unwrap();
    assert_ne!(invite, bye, "the method is part of the key");
}

#[test]
fn ack_to_a_negative_final_matches_the_invite_server_transaction() {
    let invite = server(&incoming("INVITE", "INVITE", None)).unwrap();
    assert_eq!(server(&incoming("ACK", "ACK", Some("b9"))).unwrap(), invite);
    let invite = server(&request_with("INVITE", OLD_VIA, "INVITE", None)).unwrap();
    assert!(invite.is_rfc2543());
    let ack = server(&request_with("ACK", OLD_VIA, "ACK", Some("b9"))).unwrap();
    assert_eq!(ack, invite, "RFC 2543: the ACK carries the To tag our response added");
}

#[test]
fn cancel_has_its_own_transaction_but_finds_its_invite() {
    for via in [UA_VIA, OLD_VIA] {
        let invite = server(&request_with("INVITE", via, "INVITE", None)).unwrap();
        let cancel_bytes = request_with("CANCEL", via, "CANCEL", None);
        let cancel = server(&cancel_bytes).unwrap();
        assert_ne!(cancel, invite, "{via}: a CANCEL is not an INVITE retransmission");
        let target = TxKey::cancel_target(&Message::parse(&cancel_bytes).unwrap()).unwrap();
        assert_eq!(target, invite, "{via}: RFC 3261 §9.2");
    }
}

#[test]
fn rfc2543_fallback_uses_dialog_fields() {
    let base = request_with("INVITE", OLD_VIA, "INVITE", None);
    let key = server(&base).unwrap();
    assert_eq!(key, server(&base).unwrap());
    let text = String::from_utf8(base).unwrap();
    for (from, to) in [
        ("CSeq: 314", "CSeq: 315"),
        ("Call-ID: c1@", "Call-ID: c2@"),
        ("tag=a1", "tag=a2"),
        ("INVITE sip:bob@", "INVITE sip:carol@"),
        ("Via: SIP/2.0/UDP 10.0.0.5:5060,", "Via: SIP/2.0/UDP 10.0.0.5:5070,"),
    ] {
        let changed = text.replacen(from, to, 1);
        assert_ne!(changed, text, "fixture contains {from}");
        assert_ne!(server(changed.as_bytes()).unwrap(), key, "{from} -> {to}");
    }
    // A branch without the magic cookie also falls back (RFC 3261 §17.2.3).
    let no_cookie = server(&request_with("INVITE", "SIP/2.0/UDP 10.0.0.5;branch=1", "INVITE", None)).unwrap();
    assert!(no_cookie.is_rfc2543());
    // Non-INVITE requests include the To tag.
    let bye = server(&request_with("BYE", OLD_VIA, "BYE", Some("b9"))).unwrap();
    assert_ne!(bye, server(&request_with("BYE", OLD_VIA, "BYE", Some("b8"))).unwrap());
}

#[test]
fn client_key_is_branch_and_cseq_method() {
    let sent = client(&request("INVITE", "z9hG4bKpx1"));
    assert!(sent.is_client());
    assert_eq!(client(&response(180, "z9hG4bKpx1", "INVITE")), sent);
    assert_eq!(TxKey::client_for(b"z9hG4bKpx1", Method::Invite), sent);
    assert_ne!(client(&response(200, "z9hG4bKpx1", "CANCEL")), sent, "the CANCEL shares the branch");
    assert_ne!(client(&response(180, "z9hG4bKpx2", "INVITE")), sent);
    // A client key never equals a server key built from the same message.
    assert_ne!(server(&request("INVITE", "z9hG4bKpx1")).unwrap(), sent);
}

#[test]
fn malformed_input_is_a_key_error() {
    let resp = response(200, "z9hG4bKpx1", "INVITE");
    assert_eq!(server(&resp), Err(KeyError::NotARequest));
    assert_eq!(TxKey::cancel_target(&Message::parse(&resp).unwrap()), Err(KeyError::NotARequest));
    let no_branch = String::from_utf8(resp).unwrap().replace(";branch=z9hG4bKpx1", "");
    assert_eq!(TxKey::client(&Message::parse(no_branch.as_bytes()).unwrap()), Err(KeyError::MissingBranch));
    let old = String::from_utf8(request_with("INVITE", OLD_VIA, "INVITE", None)).unwrap();
    let no_call_id = old.replace("Call-ID: c1@10.0.0.5\r\n", "");
    assert_eq!(server(no_call_id.as_bytes()), Err(KeyError::MissingCallId));
    let bad_cseq = old.replace("CSeq: 314 INVITE", "CSeq: x INVITE");
    assert!(matches!(server(bad_cseq.as_bytes()), Err(KeyError::Parse(_))));
}

#[test]
fn branch_newtype() {
    let bytes = request("INVITE", "z9hG4bKpx1");
    let msg = Message::parse(&bytes).unwrap();
    let branch = Branch::of(&msg.via_top().unwrap()).unwrap();
    assert_eq!(branch.as_bytes(), b"z9hG4bKpx1");
    assert!(branch.is_rfc3261());
    assert!(!Branch::new(b"1").is_rfc3261());
}

#[test]
fn a_client_started_from_its_branch_has_the_key_of_its_parsed_request() {
    use crate::txn::{Actions, ClientTx, Packet, TimerConfig, TxError};
    let cfg = TimerConfig::default();
    for method in ["INVITE", "BYE"] {
        let bytes = request(method, "z9hG4bKpx9");
        let (mut a, mut b) = (Actions::new(), Actions::new());
        let (parsed_key, parsed) = ClientTx::new(Packet::from(bytes.clone()), &cfg, &mut a).unwrap();
        let method = Method::parse(method.as_bytes()).unwrap();
        let (key, tx) = ClientTx::with_branch(Packet::from(bytes), b"z9hG4bKpx9", method, &cfg, &mut b).unwrap();
        assert_eq!(key, parsed_key);
        assert_eq!(tx.is_invite(), parsed.is_invite());
        assert_eq!(a.drain().count(), b.drain().count(), "the same first actions");
    }
    let ack = request("ACK", "z9hG4bKpx9");
    let started = ClientTx::with_branch(Packet::from(ack), b"z9hG4bKpx9", Method::Ack, &cfg, &mut Actions::new());
    assert!(matches!(started, Err(TxError::AckCreatesNoTransaction)));
}
