use super::*;

const IN: RrAddr<'static> = RrAddr { host: b"192.0.2.10", port: 5060, transport: Transport::Udp };
const OUT: RrAddr<'static> = RrAddr { host: b"198.51.100.10", port: 5060, transport: Transport::Udp };
const SALT: u64 = 0x5eed;

fn myself() -> Myself {
    let mut m = Myself::default();
    m.add("192.0.2.10", Some(5060));
    m.add("198.51.100.10", Some(5060));
    m
}

/// Applies the edits `f` adds and proves the result is a valid message.
fn edited(src: &str, f: impl FnOnce(&Message<'_>, &mut Editor)) -> String {
    let msg = Message::parse(src.as_bytes()).expect("fixture parses");
    let mut ed = Editor::new();
    f(&msg, &mut ed);
    let mut out = Vec::new();
    ed.apply(src.as_bytes(), &mut out).expect("edits do not overlap");
    Message::parse(&out).expect("output re-parses");
    String::from_utf8(out).expect("ascii")
}

fn req(start: &str, headers: &str) -> String {
    format!(
        "{start}\r\nVia: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKabc;rport\r\n{headers}\
From: <sip:alice@example.com>;tag=f1\r\nTo: <sip:bob@example.com>;tag=t1\r\n\
Call-ID: c1@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    )
}

const BYE: &str = "BYE sip:bob@203.0.113.5:5070 SIP/2.0";

fn routed(src: &str) -> (String, String) {
    let mut outcome = String::new();
    let out = edited(src, |m, ed| {
        outcome = match loose_route(m, ed, &myself()).expect("routes parse") {
            LooseRoute::NotRouted => "not-routed".into(),
            LooseRoute::RoutedToNext { next_hop, route } => {
                format!("next {} {route:?}", String::from_utf8_lossy(next_hop.raw))
            }
            LooseRoute::RoutedToRuri { ruri, route } => format!("ruri {} {route:?}", String::from_utf8_lossy(ruri.raw)),
        };
    });
    (out, outcome)
}

#[test]
fn max_forwards_decrements() {
    let src = req(BYE, "Max-Forwards: 70\r\n");
    let out = edited(&src, |m, ed| max_forwards(m, ed, DEFAULT_MAX_FORWARDS).unwrap());
    assert_eq!(out, src.replace("Max-Forwards: 70\r\n", "Max-Forwards: 69\r\n"));
}

#[test]
fn max_forwards_missing_is_inserted_first() {
    let src = req(BYE, "");
    let out = edited(&src, |m, ed| max_forwards(m, ed, DEFAULT_MAX_FORWARDS).unwrap());
    assert_eq!(out, src.replace("SIP/2.0\r\nVia:", "SIP/2.0\r\nMax-Forwards: 70\r\nVia:"));
}

#[test]
fn max_forwards_zero_and_malformed_are_refused_without_edits() {
    for (mf, want) in
        [("0", HopError::TooManyHops), ("x1", HopError::Malformed(ParseError::BadHeader(HeaderName::MaxForwards)))]
    {
        let src = req(BYE, &format!("Max-Forwards: {mf}\r\n"));
        let msg = Message::parse(src.as_bytes()).unwrap();
        let mut ed = Editor::new();
        assert_eq!(max_forwards(&msg, &mut ed, DEFAULT_MAX_FORWARDS), Err(want));
        assert!(ed.is_empty());
    }
}

#[test]
fn max_forwards_one_becomes_zero() {
    let src = req(BYE, "Max-Forwards: 1\r\n");
    let out = edited(&src, |m, ed| max_forwards(m, ed, 70).unwrap());
    assert!(out.contains("\r\nMax-Forwards: 0\r\n"));
}

#[test]
fn loose_route_pops_our_route_and_sees_nat() {
    let src = req(BYE, "Route: <sip:192.0.2.10:5060;lr;nat=yes>, <sip:203.0.113.99;lr>\r\n");
    let (out, outcome) = routed(&src);
    assert_eq!(out, req(BYE, "Route: <sip:203.0.113.99;lr>\r\n"));
    assert_eq!(outcome, "next sip:203.0.113.99;lr Routed { removed: 1, strict: false, nat: true }");
}

#[test]
fn loose_route_pops_double_record_route_entries() {
    let src = req(BYE, "Route: <sip:198.51.100.10:5060;r2=on;lr>\r\nRoute: <sip:192.0.2.10:5060;r2=on;lr>\r\n");
    let (out, outcome) = routed(&src);
    assert_eq!(out, req(BYE, ""));
    assert_eq!(outcome, "ruri sip:bob@203.0.113.5:5070 Routed { removed: 2, strict: false, nat: false }");
}

#[test]
fn loose_route_foreign_top_route_is_left_alone() {
    let src = req(BYE, "Route: <sip:203.0.113.99;lr>\r\n");
    let (out, outcome) = routed(&src);
    assert_eq!(out, src);
    assert_eq!(outcome, "next sip:203.0.113.99;lr Routed { removed: 0, strict: false, nat: false }");
}

#[test]
fn loose_route_without_route_is_not_routed() {
    let src = req(BYE, "");
    assert_eq!(routed(&src), (src.clone(), "not-routed".into()));
}

#[test]
fn strict_router_request_uri_is_replaced_by_last_route() {
    // RFC 3261 §16.4: a strict router put our (lr-less) URI in the Request-URI.
    let src = req("BYE sip:192.0.2.10 SIP/2.0", "Route: <sip:203.0.113.99>, <sip:bob@203.0.113.5:5070>\r\n");
    let (out, outcome) = routed(&src);
    assert_eq!(out, req("BYE sip:bob@203.0.113.5:5070 SIP/2.0", "Route: <sip:203.0.113.99>\r\n"));
    assert_eq!(outcome, "next sip:203.0.113.99 Routed { removed: 0, strict: true, nat: false }");
}

#[test]
fn strict_router_with_double_rr_in_one_header() {
    let src = req("BYE sip:192.0.2.10;lr;nat=yes SIP/2.0", "Route: <sip:198.51.100.10;lr>, <sip:bob@203.0.113.5>\r\n");
    let (out, outcome) = routed(&src);
    assert_eq!(out, req("BYE sip:bob@203.0.113.5 SIP/2.0", ""));
    assert_eq!(outcome, "ruri sip:bob@203.0.113.5 Routed { removed: 1, strict: true, nat: true }");
}

#[test]
fn strict_router_last_route_removed_from_middle_of_list() {
    let src = req(
        "BYE sip:192.0.2.10 SIP/2.0",
        "Route: <sip:192.0.2.10;lr>, <sip:203.0.113.99>, <sip:bob@203.0.113.5>\r\nX-A: 1\r\n",
    );
    let (out, outcome) = routed(&src);
    assert_eq!(out, req("BYE sip:bob@203.0.113.5 SIP/2.0", "Route: <sip:203.0.113.99>\r\nX-A: 1\r\n"));
    assert_eq!(outcome, "next sip:203.0.113.99 Routed { removed: 1, strict: true, nat: false }");
}

#[test]
fn preloaded_route_to_us_is_not_strict() {
    // No To tag: Kamailio is_preloaded(), so the Request-URI is kept.
    let src = req("INVITE sip:192.0.2.10 SIP/2.0", "Route: <sip:192.0.2.10;lr>\r\n").replace(";tag=t1", "");
    let (out, outcome) = routed(&src);
    assert_eq!(out, src.replace("Route: <sip:192.0.2.10;lr>\r\n", ""));
    assert_eq!(outcome, "ruri sip:192.0.2.10 Routed { removed: 1, strict: false, nat: false }");
}

#[test]
fn malformed_route_is_an_error() {
    let src = req(BYE, "Route: sip:192.0.2.10;lr\r\n");
    let msg = Message::parse(src.as_bytes()).unwrap();
    assert!(matches!(loose_route(&msg, &mut Editor::new(), &myself()), Err(BadRoute)));
}

#[test]
fn record_route_single_goes_after_vias() {
    let src = req(BYE, "");
    let out = edited(&src, |m, ed| record_route(m, ed, &IN, &IN, true));
    let want = src.replace("rport\r\n", "rport\r\nRecord-Route: <sip:192.0.2.10:5060;lr;nat=yes>\r\n");
    assert_eq!(out, want);
}

#[test]
fn record_route_double_outbound_first_above_existing() {
    let tcp = RrAddr { host: b"2001:db8::1", port: 5070, transport: Transport::Tcp };
    let src = req(BYE, "Record-Route: <sip:203.0.113.7;lr>\r\n");
    let out = edited(&src, |m, ed| record_route(m, ed, &IN, &tcp, false));
    let want = src.replace(
        "Record-Route: <sip:203.0.113.7",
        "Record-Route: <sip:[2001:db8::1]:5070;transport=tcp;r2=on;lr>\r\n\
Record-Route: <sip:192.0.2.10:5060;r2=on;lr>\r\nRecord-Route: <sip:203.0.113.7",
    );
    assert_eq!(out, want);
}

#[test]
fn add_via_goes_above_first_via() {
    let src = req(BYE, "");
    let out = edited(&src, |m, ed| add_via(m, ed, &OUT, b"z9hG4bKx"));
    let want =
        src.replace("SIP/2.0\r\nVia:", "SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKx;rport\r\nVia:");
    assert_eq!(out, want);
}

#[test]
fn via_and_record_route_commute() {
    let src = req(BYE, "");
    let a = edited(&src, |m, ed| {
        add_via(m, ed, &OUT, b"z9hG4bKx");
        record_route(m, ed, &IN, &IN, false);
    });
    let b = edited(&src, |m, ed| {
        record_route(m, ed, &IN, &IN, false);
        add_via(m, ed, &OUT, b"z9hG4bKx");
    });
    assert_eq!(a, b);
    assert!(a.contains("SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.10"));
}

#[test]
fn full_forward_of_in_dialog_request() {
    let src = req(
        BYE,
        "Max-Forwards: 70\r\nRoute: <sip:192.0.2.10:5060;r2=on;lr;nat=yes>,<sip:198.51.100.10:5060;r2=on;lr;nat=yes>\r\n",
    );
    let branch = branch_for(&Message::parse(src.as_bytes()).unwrap(), SALT);
    let out = edited(&src, |m, ed| {
        max_forwards(m, ed, DEFAULT_MAX_FORWARDS).unwrap();
        let r = loose_route(m, ed, &myself()).unwrap();
        let LooseRoute::RoutedToRuri { route, .. } = r else { panic!("{r:?}") };
        record_route(m, ed, &IN, &OUT, route.nat);
        add_via(m, ed, &OUT, &branch);
    });
    let b = std::str::from_utf8(&branch).unwrap();
    let want = format!(
        "BYE sip:bob@203.0.113.5:5070 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.10:5060;branch={b};rport\r\n\
Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKabc;rport\r\n\
Record-Route: <sip:198.51.100.10:5060;r2=on;lr;nat=yes>\r\n\
Record-Route: <sip:192.0.2.10:5060;r2=on;lr;nat=yes>\r\n\
Max-Forwards: 69\r\n\
From: <sip:alice@example.com>;tag=f1\r\nTo: <sip:bob@example.com>;tag=t1\r\n\
Call-ID: c1@x\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(out, want);
}

#[test]
fn branch_is_deterministic_and_request_specific() {
    let src = req("INVITE sip:bob@203.0.113.5 SIP/2.0", "");
    let b = branch_for(&Message::parse(src.as_bytes()).unwrap(), SALT);
    assert!(b.starts_with(b"z9hG4bK") && b[7..].iter().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(b, branch_for(&Message::parse(src.as_bytes()).unwrap(), SALT), "retransmission");
    let cancel = src.replace("2 BYE", "2 CANCEL");
    assert_eq!(b, branch_for(&Message::parse(cancel.as_bytes()).unwrap(), SALT), "CANCEL matches");
    for other in [src.replace("bob@203", "carol@203"), src.replace("c1@x", "c2@x"), src.replace("2 BYE", "3 BYE")] {
        assert_ne!(b, branch_for(&Message::parse(other.as_bytes()).unwrap(), SALT));
    }
    assert_ne!(b, branch_for(&Message::parse(src.as_bytes()).unwrap(), SALT + 1));
}

#[test]
fn rfc2543_via_hashes_whole_via() {
    let src = req(BYE, "").replace("branch=z9hG4bKabc;", "");
    let b = branch_for(&Message::parse(src.as_bytes()).unwrap(), SALT);
    let other = src.replace("203.0.113.1:5060", "203.0.113.2:5060");
    assert_ne!(b, branch_for(&Message::parse(other.as_bytes()).unwrap(), SALT));
}

/// What a downstream hop sends back to us after we forwarded `src`.
fn forwarded(src: &str, ruri: &str) -> String {
    let branch = branch_for(&Message::parse(src.as_bytes()).unwrap(), SALT);
    let ours = edited(src, |m, ed| add_via(m, ed, &OUT, &branch));
    let back = ours.replacen("SIP/2.0\r\n", "SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.50;branch=z9hG4bKdown\r\n", 1);
    back.replacen(BYE, ruri, 1)
}

#[test]
fn loop_detected_when_request_returns_unchanged() {
    let src = req(BYE, "");
    let back = forwarded(&src, BYE);
    assert!(is_loop(&Message::parse(back.as_bytes()).unwrap(), &myself(), SALT));
}

#[test]
fn spiral_with_new_request_uri_is_not_a_loop() {
    let src = req(BYE, "");
    let back = forwarded(&src, "BYE sip:bob@203.0.113.6 SIP/2.0");
    assert!(!is_loop(&Message::parse(back.as_bytes()).unwrap(), &myself(), SALT));
}

#[test]
fn request_without_our_via_is_not_a_loop() {
    let src = req(BYE, "");
    assert!(!is_loop(&Message::parse(src.as_bytes()).unwrap(), &myself(), SALT));
}
