//! Whole-message, byte-exact checks: the Appendix A vectors of
//! reference/kamailio-semantics.md (A.1, A.2, A.4, A.5) and the rules of
//! each function on complete messages (folded headers, several Contacts,
//! display names, IPv6).

use super::*;
use crate::sip::{Editor, Message};
use std::net::SocketAddr;

const SRC: &str = "203.0.113.7:40112";

fn src(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Runs `f` on `input` and returns the edited message.
fn edited<T>(input: &str, f: impl FnOnce(&Message<'_>, &mut Editor) -> T) -> (T, String) {
    let m = Message::parse(input.as_bytes()).unwrap();
    let mut e = Editor::new();
    let r = f(&m, &mut e);
    let mut out = Vec::new();
    e.apply(m.as_bytes(), &mut out).unwrap();
    (r, String::from_utf8(out).unwrap())
}

fn register(via: &str, contact: &str) -> String {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP {via};branch=z9hG4bKnat1;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:a@example.com>;tag=1\r\n\
To: <sip:a@example.com>\r\n\
Call-ID: reg-1\r\n\
CSeq: 1 REGISTER\r\n\
Contact: {contact}\r\n\
Expires: 3600\r\n\
Content-Length: 0\r\n\r\n"
    )
}

fn uac(input: &str, bits: NatTest, mode: bool) -> bool {
    let m = Message::parse(input.as_bytes()).unwrap();
    nat_uac_test(&m, src(SRC), transport::Transport::Udp, bits, mode)
}

use crate::sip::transport;
use transport::Transport;

#[test]
fn a1_nat_uac_test_19() {
    let natted = register("192.168.1.10:5060", "<sip:a@192.168.1.10:5060>");
    assert!(uac(&natted, NatTest::DEFAULT_SIGNALLING, true));
    for bit in [1, 2, 16] {
        assert!(uac(&natted, NatTest(bit), true), "bit {bit}");
    }
    let direct = register("203.0.113.7:40112", "<sip:a@203.0.113.7:40112>");
    assert!(!uac(&direct, NatTest::DEFAULT_SIGNALLING, true));
    let contact = |host: &str| register("203.0.113.7:40112", &format!("<sip:a@{host}:40112>"));
    assert!(uac(&contact("100.64.1.1"), NatTest::CONTACT_PRIVATE, true));
    assert!(uac(&contact("192.0.0.5"), NatTest::CONTACT_PRIVATE, false));
    assert!(uac(&contact("192.0.0.200"), NatTest::CONTACT_PRIVATE, true));
    assert!(!uac(&contact("192.0.0.200"), NatTest::CONTACT_PRIVATE, false));
    assert!(!uac(&contact("[fd00::1]"), NatTest::CONTACT_PRIVATE, true));
    assert!(!uac(&contact("pc.example.com"), NatTest::CONTACT_PRIVATE, true));
}

#[test]
fn a2_fix_nated_register_value() {
    let uri = |s: &str, t| {
        let mut out = Vec::new();
        received_uri(src(s), t, &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(uri(SRC, Transport::Udp), "sip:203.0.113.7:40112");
    assert_eq!(uri(SRC, Transport::Tcp), "sip:203.0.113.7:40112;transport=tcp");
    assert_eq!(uri("[2001:db8::1]:5060", Transport::Udp), "sip:[2001:db8::1]:5060");
}

const INVITE: &str = "INVITE sip:b@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKinv;rport\r\n\
From: \"Alice\" <sip:a@example.com>;tag=f1\r\n\
To: <sip:b@example.com>\r\n\
Call-ID: inv-1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:a@192.168.1.10:5060;ob>\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn a4_set_and_add_contact_alias() {
    let (r, out) = edited(INVITE, |m, e| set_contact_alias(m, e, src(SRC), Transport::Udp, DEFAULT_ALIAS_NAME, false));
    assert_eq!(r, Ok(AliasOutcome::Changed));
    assert_eq!(
        out,
        INVITE.replace(
            "Contact: <sip:a@192.168.1.10:5060;ob>",
            "Contact: <sip:a@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1>"
        )
    );
    let (r, out) = edited(INVITE, |m, e| add_contact_alias(m, e, src(SRC), Transport::Udp, DEFAULT_ALIAS_NAME));
    assert_eq!(r, Ok(AliasOutcome::Changed));
    assert_eq!(
        out,
        INVITE.replace(
            "Contact: <sip:a@192.168.1.10:5060;ob>",
            "Contact: <sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~1;ob>"
        )
    );
    for (t, d) in [(Transport::Tcp, 2), (Transport::Tls, 3), (Transport::Ws, 5), (Transport::Wss, 6)] {
        let (_, out) = edited(INVITE, |m, e| set_contact_alias(m, e, src(SRC), t, DEFAULT_ALIAS_NAME, false));
        let want = format!("<sip:a@192.168.1.10:5060;ob;alias=203.0.113.7~40112~{d}>");
        assert!(out.contains(&want), "{t}: {out}");
    }
}

const BYE: &str = "BYE sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~2;ob SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bKbye\r\n\
From: <sip:b@example.com>;tag=t2\r\n\
To: \"Alice\" <sip:a@example.com>;tag=f1\r\n\
Call-ID: inv-1\r\n\
CSeq: 2 BYE\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn a5_handle_ruri_alias() {
    let (r, out) = edited(BYE, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    let Ok(RuriAlias::Done { dst, transport }) = r else {
        panic!("{r:?}");
    };
    assert_eq!(
        out,
        BYE.replace(
            "BYE sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~2;ob SIP/2.0",
            "BYE sip:a@192.168.1.10:5060;ob SIP/2.0"
        )
    );
    let mut du = Vec::new();
    format_du(dst, transport, &mut du);
    assert_eq!(du, b"sip:203.0.113.7:40112;transport=tcp");

    let plain = BYE.replace(";alias=203.0.113.7~40112~2", "");
    let (r, out) = edited(&plain, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    assert_eq!((r, out.as_str()), (Ok(RuriAlias::NoAlias), plain.as_str()));
    let no_params = plain.replace(";ob", "");
    let (r, _) = edited(&no_params, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    assert_eq!(r, Ok(RuriAlias::NoAlias));

    let broken = BYE.replace("alias=203.0.113.7~40112~2", "alias=1.2.3.4");
    let (r, out) = edited(&broken, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    assert_eq!((r, out.as_str()), (Err(AliasError::MissingSeparator), broken.as_str()));
}

#[test]
fn ruri_alias_first_or_last_ipv6_and_name() {
    let two = BYE.replace(";ob SIP/2.0", ";ob;alias=[2001:db8::9]~5061~3;Alias=9.9.9.9~1~1 SIP/2.0");
    let (r, out) = edited(&two, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, true));
    assert_eq!(r, Ok(RuriAlias::Done { dst: src("[2001:db8::9]:5061"), transport: Transport::Tls }));
    assert!(out.starts_with("BYE sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~2;ob;Alias=9.9.9.9~1~1 SIP/2.0\r\n"));
    let (r, out) = edited(&two, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    assert!(matches!(r, Ok(RuriAlias::Done { transport: Transport::Tcp, .. })));
    assert!(out.starts_with("BYE sip:a@192.168.1.10:5060;ob;alias=[2001:db8::9]~5061~3;Alias=9.9.9.9~1~1 SIP/2.0\r\n"));
    let (r, _) = edited(&two, |m, e| handle_ruri_alias(m, e, b"Alias", false));
    assert_eq!(r, Ok(RuriAlias::Done { dst: src("9.9.9.9:1"), transport: Transport::Udp }));
    let reply = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 0\r\n\r\n";
    let (r, _) = edited(reply, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    assert_eq!(r, Err(AliasError::NotARequest));
    let tel = BYE.replace("sip:a@192.168.1.10:5060;alias=203.0.113.7~40112~2;ob", "tel:+1;alias=1");
    let (r, _) = edited(&tel, |m, e| handle_ruri_alias(m, e, DEFAULT_ALIAS_NAME, false));
    assert_eq!(r, Ok(RuriAlias::NoAlias));
}

const MULTI: &str = "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKreg\r\n\
From: <sip:a@example.com>;tag=1\r\n\
To: <sip:a@example.com>\r\n\
Call-ID: reg-2\r\n\
CSeq: 2 REGISTER\r\n\
Contact: \"A, the <first>\" <sip:a@192.168.1.10:5060;ob>;expires=60,\r\n \
sip:a@10.0.0.2;q=0.5\r\n\
m: <sip:a@[fd00::2]:5062;transport=tcp>\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn add_rcv_param_header_form_on_every_contact() {
    let (r, out) = edited(MULTI, |m, e| add_rcv_param(m, e, src(SRC), Transport::Tcp, false));
    assert_eq!(r, Ok(()));
    let want = MULTI
        .replace(";expires=60,", ";expires=60;received=\"sip:203.0.113.7:40112;transport=tcp\",")
        .replace("q=0.5\r\n", "q=0.5;received=\"sip:203.0.113.7:40112;transport=tcp\"\r\n")
        .replace("transport=tcp>\r\n", "transport=tcp>;received=\"sip:203.0.113.7:40112;transport=tcp\"\r\n");
    assert_eq!(out, want);
}

#[test]
fn add_rcv_param_uri_form_udp_only() {
    let (r, out) = edited(MULTI, |m, e| add_rcv_param(m, e, src("[2001:db8::1]:5060"), Transport::Udp, true));
    assert_eq!(r, Ok(()));
    let want = MULTI
        .replace(";ob>", ";ob;received=sip:[2001:db8::1]:5060>")
        .replace(" sip:a@10.0.0.2;q=0.5", " <sip:a@10.0.0.2;received=sip:[2001:db8::1]:5060>;q=0.5")
        .replace("transport=tcp>", "transport=tcp;received=sip:[2001:db8::1]:5060>");
    assert_eq!(out, want);
    let (r, out) = edited(MULTI, |m, e| add_rcv_param(m, e, src(SRC), Transport::Ws, true));
    assert_eq!((r, out.as_str()), (Err(NatError::NotUdp(Transport::Ws)), MULTI));
}

#[test]
fn add_rcv_param_star_none_and_bad() {
    let star = register("192.168.1.10", "*");
    let (r, out) = edited(&star, |m, e| add_rcv_param(m, e, src(SRC), Transport::Udp, false));
    assert_eq!((r, out.as_str()), (Ok(()), star.as_str()));
    // A bad second contact: nothing queued for the first one either.
    let bad = register("192.168.1.10", "<sip:a@10.0.0.1>, <sip:b@");
    let (r, out) = edited(&bad, |m, e| add_rcv_param(m, e, src(SRC), Transport::Udp, false));
    assert_eq!((r, out.as_str()), (Err(NatError::BadContact), bad.as_str()));
}

#[test]
fn folded_contact_and_nathelper_fixes() {
    let (r, out) = edited(MULTI, |m, e| fix_nated_contact(m, e, src(SRC)));
    assert_eq!(r, Ok(true));
    assert_eq!(out, MULTI.replace("<sip:a@192.168.1.10:5060;ob>", "<sip:a@203.0.113.7:40112;ob>"));
    let folded =
        INVITE.replace("Contact: <sip:a@192.168.1.10:5060;ob>", "Contact:\r\n\t\"Bob\"\r\n <sip:a@192.168.1.10;ob>");
    let (_, out) = edited(&folded, |m, e| add_contact_alias(m, e, src(SRC), Transport::Udp, DEFAULT_ALIAS_NAME));
    assert_eq!(out, folded.replace("<sip:a@192.168.1.10;ob>", "<sip:a@192.168.1.10;alias=203.0.113.7~40112~1;ob>"));
}

#[test]
fn repairs_combine_on_one_editor() {
    // fix_nated_contact then set_contact_alias on the same Contact: the
    // edits touch different ranges and apply together.
    let (_, out) = edited(INVITE, |m, e| {
        fix_nated_contact(m, e, src(SRC)).unwrap();
        set_contact_alias(m, e, src(SRC), Transport::Udp, DEFAULT_ALIAS_NAME, false).unwrap();
    });
    assert!(out.contains("Contact: <sip:a@203.0.113.7:40112;ob;alias=203.0.113.7~40112~1>\r\n"));
    let bare = INVITE.replace(";ob>", ">");
    let (_, out) = edited(&bare, |m, e| {
        fix_nated_contact(m, e, src(SRC)).unwrap();
        add_contact_alias(m, e, src(SRC), Transport::Udp, DEFAULT_ALIAS_NAME).unwrap();
    });
    assert!(out.contains("Contact: <sip:a@203.0.113.7:40112;alias=203.0.113.7~40112~1>\r\n"));
}

/// Every function over truncated and byte-flipped messages: no panic, and
/// the edits one function queues always apply.
#[test]
fn survives_mangled_input() {
    let seeds = [INVITE, BYE, MULTI];
    let mut rng = crate::testutil::XorShift(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.next();
    let junk = b";~<>[]:\"*,@ \r\n\t0=";
    let sources = [src(SRC), src("[2001:db8::1]:5060"), src("10.0.0.1:5060")];
    for round in 0..3000 {
        let mut bytes = seeds[round % seeds.len()].as_bytes().to_vec();
        for _ in 0..1 + next() % 4 {
            let at = (next() as usize) % bytes.len();
            bytes[at] = junk[(next() as usize) % junk.len()];
        }
        if round % 5 == 0 {
            bytes.truncate((next() as usize) % bytes.len());
        }
        let Ok(m) = Message::parse(&bytes) else {
            continue;
        };
        let s = sources[round % sources.len()];
        let t = Transport::from_proto_digit((round % 6) as u8 + 1).unwrap();
        let _ = nat_uac_test(&m, s, t, NatTest(0x1ff), true);
        let _ = client_nat_test(&m, s, ClientNatTest(7));
        let mut e = Editor::new();
        let mut out = Vec::new();
        let mut check = |f: &dyn Fn(&mut Editor)| {
            e.clear();
            f(&mut e);
            assert!(e.apply(m.as_bytes(), &mut out).is_ok(), "{}", String::from_utf8_lossy(&bytes));
        };
        check(&|e| {
            let _ = fix_nated_contact(&m, e, s);
        });
        check(&|e| {
            let _ = fix_contact(&m, e, s);
        });
        check(&|e| {
            let _ = add_rcv_param(&m, e, s, t, false);
        });
        check(&|e| {
            let _ = add_rcv_param(&m, e, s, Transport::Udp, true);
        });
        check(&|e| {
            let _ = add_contact_alias(&m, e, s, t, DEFAULT_ALIAS_NAME);
        });
        check(&|e| {
            let _ = set_contact_alias(&m, e, s, t, DEFAULT_ALIAS_NAME, true);
        });
        check(&|e| {
            let _ = handle_ruri_alias(&m, e, DEFAULT_ALIAS_NAME, round % 2 == 0);
        });
    }
}
