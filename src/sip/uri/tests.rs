use super::*;

fn ok(s: &str) -> Uri<'_> {
    match Uri::parse(s.as_bytes()) {
        Ok(u) => u,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn b(s: &str) -> Option<&[u8]> {
    Some(s.as_bytes())
}

/// `user|password|host_text|port|params|headers`, `-` for None.
fn summary(u: &Uri<'_>) -> String {
    let text = |o: Option<&[u8]>| o.map_or("-".into(), |v| String::from_utf8_lossy(v).into_owned());
    let port = u.port.map_or("-".into(), |p| p.to_string());
    let host = text(Some(u.host_text));
    let params = text(Some(u.params));
    let (user, pw, headers) = (text(u.user), text(u.password), text(u.headers));
    format!("{user}|{pw}|{host}|{port}|{params}|{headers}")
}

#[test]
fn valid_sip_table() {
    let rows: &[(&str, &str)] = &[
        ("sip:alice@example.com", "alice|-|example.com|-||-"),
        ("SIP:x@Y.com", "x|-|Y.com|-||-"),
        ("sip:%61lice@example.com", "%61lice|-|example.com|-||-"),
        ("sip:user;par=u%40example.net@example.com", "user;par=u%40example.net|-|example.com|-||-"),
        ("sip:[2001:db8::10]:5070;transport=udp", "-|-|[2001:db8::10]|5070|;transport=udp|-"),
        (
            "sips:bob@example.com;maddr=239.255.255.1?subject=x&priority=urgent",
            "bob|-|example.com|-|;maddr=239.255.255.1|subject=x&priority=urgent",
        ),
        (
            "sip:alice@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1",
            "alice|-|192.168.1.10|5060|;ob;alias=203.0.113.7~40112~1|-",
        ),
        ("sip:example.com", "-|-|example.com|-||-"),
        ("sip:example.com.:1", "-|-|example.com.|1||-"),
        ("sip:u:pw@h", "u|pw|h|-||-"),
        ("sip:u:@h", "u||h|-||-"),
        ("sip:%00@h", "%00|-|h|-||-"),
        ("sip:+1-212-555-1212:1234@gateway.com;user=phone", "+1-212-555-1212|1234|gateway.com|-|;user=phone|-"),
        ("sip:a?b@host", "a?b|-|host|-||-"),
        ("sip:host?subject=x", "-|-|host|-||subject=x"),
        ("sip:host?a=", "-|-|host|-||a="),
        ("sip:[2001:db8::10:5070]", "-|-|[2001:db8::10:5070]|-||-"),
        ("sip:[::ffff:192.0.2.1]:65535", "-|-|[::ffff:192.0.2.1]|65535||-"),
        ("sip:sips%3Auser%40example.com@example.net", "sips%3Auser%40example.com|-|example.net|-||-"),
        ("sip:h;lr;x=[::1];y=a:b", "-|-|h|-|;lr;x=[::1];y=a:b|-"),
        ("sip:a-b.c-d.example", "-|-|a-b.c-d.example|-||-"),
        ("sip:1and1.com", "-|-|1and1.com|-||-"),
        ("sip:h;transport=sctp;transport=unknown", "-|-|h|-|;transport=sctp;transport=unknown|-"),
        (
            // RFC 4475 §3.1.1.1 wsinv / intmeth style user and password.
            "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
            "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*|&it+has=1,weird!*pas$wo~d_too.(doesn't-it)|example.com|-||-",
        ),
    ];
    for (s, want) in rows {
        let u = ok(s);
        assert!(u.is_sip(), "{s}");
        assert_eq!(u.raw, s.as_bytes());
        assert_eq!(summary(&u), *want, "{s}");
    }
}

#[test]
fn scheme_and_host_kinds() {
    let u = ok("SIP:x@Y.com");
    assert_eq!((u.scheme, u.scheme_text), (Scheme::Sip, &b"SIP"[..]));
    assert_eq!(u.host, Some(Host::Domain(b"Y.com")));
    assert_eq!(ok("sIpS:h").scheme, Scheme::Sips);
    let v4 = |s| ok(s).host;
    assert_eq!(v4("sip:1.2.3.4"), Some(Host::V4([1, 2, 3, 4].into())));
    assert_eq!(v4("sip:010.0.0.1"), Some(Host::V4([10, 0, 0, 1].into())));
    let v6: Ipv6Addr = "2001:db8::10".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
    assert_eq!(ok("sip:[2001:db8::10]:5070").host, Some(Host::V6(v6)));
}

#[test]
fn tel_and_other() {
    let u = ok("tel:+1-201-555-0123;phone-context=example.com");
    assert_eq!(u.scheme, Scheme::Tel);
    assert_eq!(u.user, b("+1-201-555-0123"));
    assert_eq!((u.host, u.host_text, u.port), (None, &b""[..], None));
    assert_eq!(u.params, b";phone-context=example.com");
    assert_eq!(u.param(b"PHONE-CONTEXT"), Some(b("example.com")));
    assert_eq!(u.hostport_end(), "tel:+1-201-555-0123".len());
    assert!(!u.is_sip());
    assert_eq!(ok("tel:7042;phone-context=+1-201").user, b("7042"));
    assert_eq!(ok("TEL:*67(123)").user, b("*67(123)"));
    assert_eq!(ok("tel:%23100;phone-context=x").user, b("%23100"));
    assert_eq!(ok("tel:+1;ext=22;isub=1").params, b";ext=22;isub=1");

    for s in ["nobodyKnowsThisScheme:totallyopaque", "soap.beep://192.0.2.103:3002", "urn:uuid:f81d4fae-7dec"] {
        let u = ok(s);
        assert_eq!(u.scheme, Scheme::Other, "{s}");
        assert_eq!((u.user, u.host, u.host_text, u.params, u.headers), (None, None, &b""[..], &b""[..], None));
        assert_eq!((u.hostport_end(), u.params_end()), (s.len(), s.len()));
    }
    assert_eq!(ok("soap.beep://x").scheme_text, b"soap.beep");
}

#[test]
fn invalid_table() {
    use UriError::*;
    let rows: &[(&[u8], UriError)] = &[
        (b"", Empty),
        (b"sip", BadScheme),
        (b":x", BadScheme),
        (b"1sip:x", BadScheme),
        (b"s_p:x", BadScheme),
        (b"<sip:user@example.com>", BadScheme),
        (b"sip:", NothingAfterScheme),
        (b"tel:", NothingAfterScheme),
        (b"foo:", NothingAfterScheme),
        (b"sip:a b@c", IllegalChar),
        (b"sip:user@example.com; lr", IllegalChar),
        (b"sip:user@example.com\r\n", IllegalChar),
        (b"sip:caf\xc3\xa9@h", IllegalChar),
        (b"sip:a\x00@h", IllegalChar),
        (b"foo:a\x7f", IllegalChar),
        (b"sip:%6@h", BadEscape),
        (b"sip:%zz@h", BadEscape),
        (b"sip:a@h;x=%", BadEscape),
        (b"sip:a@h?x=%4", BadEscape),
        (b"sip:@h", BadUser),
        (b"sip::pw@h", BadUser),
        (b"sip:a\"b@h", BadUser),
        (b"sip:a[1]@h", BadUser),
        (b"sip:a:p;w@h", BadUser),
        (b"sip:user@", MissingHost),
        (b"sip:;lr", MissingHost),
        (b"sip::5060", MissingHost),
        (b"sip:?a=b", MissingHost),
        (b"sip:a@b@c", BadHost),
        (b"sip:[::1", BadHost),
        (b"sip:[::1]x", BadHost),
        (b"sip:[zz::1]", BadHost),
        (b"sip:[::1%25eth0]", BadHost),
        (b"sip:1.2.3.256", BadHost),
        (b"sip:1.2.3", BadHost),
        (b"sip:-a.com", BadHost),
        (b"sip:a-.com", BadHost),
        (b"sip:a..com", BadHost),
        (b"sip:host_name.com", BadHost),
        (b"sip:example.123", BadHost),
        (b"sip:.", BadHost),
        (b"sip:example.com:99999", BadPort),
        (b"sip:example.com:65536", BadPort),
        (b"sip:example.com:0", BadPort),
        (b"sip:example.com:", BadPort),
        (b"sip:example.com:5o60", BadPort),
        (b"sip:example.com:5060:5061", BadPort),
        (b"sip:2001:db8::10", BadHost),
        (b"sip:example.com:000000000000000000000000070000", BadPort),
        (b"sip:h;", BadParam),
        (b"sip:h;;lr", BadParam),
        (b"sip:h;=x", BadParam),
        (b"sip:h;a=", BadParam),
        (b"sip:h;a=\"x\"", BadParam),
        (b"sip:h;a=b=c", BadParam),
        (b"sip:h?", BadHeader),
        (b"sip:h?a", BadHeader),
        (b"sip:h?=b", BadHeader),
        (b"sip:h?a=b&", BadHeader),
        (b"sip:h?a=b=c", BadHeader),
        (b"sip:h?a=<x>", BadHeader),
        (b"tel:+", BadTel),
        (b"tel:+1a", BadTel),
        (b"tel:--", BadTel),
        (b"tel:12x", BadTel),
        (b"tel:;phone-context=x", BadTel),
        (b"tel:123?x=y", BadTel),
        (b"tel:123;", BadParam),
        (b"tel:123;a_b=c", BadParam),
        (b"tel:123;ctx=a?b", BadParam),
    ];
    for (s, err) in rows {
        let got = Uri::parse(s).map(|u| u.raw);
        assert_eq!(got, Err(*err), "{}", String::from_utf8_lossy(s));
    }
}

#[test]
fn error_precedence() {
    use UriError::*;
    // Each input holds two faults (or a fault that only counts in some
    // places); the error is the one the grammar meets first.
    let rows: &[(&[u8], UriError)] = &[
        // An illegal byte wins over any other fault, wherever it is.
        (b"1sip:a b", IllegalChar),
        (b"sip:%zz@h x", IllegalChar),
        (b"foo:a b", IllegalChar),
        // In a parameter an empty value comes before a bad escape in
        // its name; in a header a missing '=' does.
        (b"sip:h;a%zz=", BadParam),
        (b"sip:h;a%zz=?x=y", BadParam),
        (b"sip:h;a%zz=1", BadEscape),
        (b"sip:h;a%zz", BadEscape),
        (b"tel:1;a%zz=", BadParam),
        (b"sip:h?a%zz&b=c", BadHeader),
        (b"sip:h?a%zz=b", BadEscape),
        // A fault before '@' is a userinfo fault; without an '@' the
        // same bytes were a hostport.
        (b"sip::%zz@h", BadUser),
        (b"sip:a:%zz@h", BadEscape),
        (b"sip:a:b;c@h", BadUser),
        (b"sip:a\"b@c", BadUser),
        (b"sip:a%zz", BadHost),
        (b"sip:a\"b:c", BadHost),
        (b"sip:a:b;c", BadPort),
        // Hosts that look numeric but are no quad.
        (b"sip:1.2.3.4a", BadHost),
        (b"sip:1.2.3.0004", BadHost),
        (b"sip:a.b..", BadHost),
    ];
    for (s, err) in rows {
        let got = Uri::parse(s).map(|u| u.raw);
        assert_eq!(got, Err(*err), "{}", String::from_utf8_lossy(s));
    }
    let host = |s: &'static str| ok(s).host;
    let v4 = |a, b, c, d| Some(Host::V4(Ipv4Addr::new(a, b, c, d)));
    assert_eq!(host("sip:01.02.03.004"), v4(1, 2, 3, 4));
    assert_eq!(host("sip:1.2.3.4:5"), v4(1, 2, 3, 4));
    let d = b"1.2.3.4.example.com";
    assert_eq!(host("sip:1.2.3.4.example.com"), Some(Host::Domain(d)));
    assert_eq!(host("sip:1234.com"), Some(Host::Domain(b"1234.com")));
    assert_eq!(host("sip:a.b."), Some(Host::Domain(b"a.b.")));
    assert_eq!(ok("sip:h:00005060").port, Some(5060));
    assert_eq!(ok("tel:1;a%41=b").params, b";a%41=b");
    assert_eq!(ok("sIp+x:h").scheme, Scheme::Other);
    assert_eq!(ok("Tel:+1").scheme, Scheme::Tel);
    assert_eq!(parse_host(b"1.2.3.4"), Ok(Host::V4([1, 2, 3, 4].into())));
    assert_eq!(parse_host(b"1.2.3.4 "), Err(UriError::BadHost));
    assert_eq!(parse_host(b""), Err(UriError::BadHost));
}

#[test]
fn params_accessors() {
    let u = ok("sip:a@h;Transport=TCP;LR;maddr=239.255.255.1;ob");
    assert_eq!(u.transport(), b("TCP"));
    assert!(u.has_lr());
    assert_eq!(u.maddr(), b("239.255.255.1"));
    assert_eq!(u.param(b"ob"), Some(None));
    assert_eq!(u.param(b"x"), None);
    let u = ok("sip:h;transport");
    assert_eq!(u.transport(), None);
    assert!(!ok("sip:h;lrx").has_lr());
    let names: Vec<&[u8]> = params::iter(ok("sip:a@h:1;a;b=2?c=3").params).map(|p| p.name).collect();
    assert_eq!(names, [&b"a"[..], b"b"]);
}

#[test]
fn offsets() {
    let rows: &[(&str, usize, usize)] = &[
        ("sip:alice@192.168.1.10:5060;ob;alias=1", 27, 38),
        ("sip:alice@example.com", 21, 21),
        ("sip:alice@example.com?x=y", 21, 21),
        ("sip:a@h:5;lr?x=y", 9, 12),
        ("sip:[::1]:5060;lr", 14, 17),
        ("sip:[::1]", 9, 9),
        ("sip:a?b@host;p", 12, 14),
    ];
    for &(s, hp, pe) in rows {
        let u = ok(s);
        assert_eq!((u.hostport_end(), u.params_end()), (hp, pe), "{s}");
    }
    // Kamailio add_contact_alias style edit: insert right after hostport.
    let s = "sip:alice@192.168.1.10:5060;ob";
    let u = ok(s);
    let (head, tail) = s.split_at(u.hostport_end());
    let edited = format!("{head};alias=1{tail}");
    assert_eq!(edited, "sip:alice@192.168.1.10:5060;alias=1;ob");
    // A Uri built by hand from unrelated slices still answers in bounds.
    let hand = Uri { params: b";x", headers: Some(b"a=b"), ..ok("sip:h;x?a=b") };
    assert_eq!((hand.hostport_end(), hand.params_end()), (5, 7));
}

#[test]
fn escapes() {
    assert!(eq_escaped(b"%61lice", b"alice"));
    assert!(eq_escaped(b"alice", b"%61lice"));
    assert!(eq_escaped(b"%6C", b"%6c"));
    assert!(eq_escaped(b"%4a", b"J"));
    assert!(!eq_escaped(b"%41", b"a"));
    assert!(!eq_escaped(b"alice", b"alicE"));
    assert!(!eq_escaped(b"alice", b"alic"));
    assert!(!eq_escaped(b"%6", b"%06"));
    assert!(eq_escaped(b"%zz", b"%zz"));
    assert!(!eq_escaped(b"%zz", b"%zZ"));
    assert!(eq_escaped(b"", b""));
    assert!(eq_escaped(b"a%00b", b"a%00b"));

    let mut out = b"x".to_vec();
    assert_eq!(unescape_into(b"%61l%69ce%00", &mut out), Ok(()));
    assert_eq!(out, b"xalice\0");
    assert_eq!(unescape_into(b"ok%4", &mut out), Err(UriError::BadEscape));
    assert_eq!(out, b"xalice\0");
    assert_eq!(unescape_into(b"%g0", &mut out), Err(UriError::BadEscape));
    assert_eq!(out, b"xalice\0");
}

#[test]
fn error_messages_fit_reason_phrase() {
    use UriError::*;
    let all = [Empty, BadScheme, NothingAfterScheme, IllegalChar, BadEscape, BadUser];
    let more = [MissingHost, BadHost, BadPort, BadParam, BadHeader, BadTel];
    for e in all.into_iter().chain(more) {
        let m = e.to_string();
        assert!(!m.is_empty() && m.len() <= 32 && m.is_ascii(), "{m}");
    }
}

use crate::testutil::XorShift as Rng;

fn within(outer: &[u8], inner: &[u8]) -> bool {
    offset_in(outer, inner).is_some()
}

/// Exercises every entry point on `input` and checks the invariants that
/// callers rely on; a panic anywhere fails the test.
fn exercise(input: &[u8]) -> bool {
    let parsed = Uri::parse(input);
    if let Ok(u) = parsed {
        let parts = [u.raw, u.scheme_text, u.host_text, u.params];
        assert!(parts.iter().all(|p| within(input, p)));
        let opts = [u.user, u.password, u.headers];
        assert!(opts.iter().flatten().all(|p| within(input, p)));
        if let Some(Host::Domain(d)) = u.host {
            assert!(within(input, d));
        }
        let (hp, pe) = (u.hostport_end(), u.params_end());
        assert!(hp <= pe && pe <= input.len());
        assert!(matches!(input.get(pe), None | Some(b'?')));
        for p in params::iter(u.params) {
            assert!(within(u.params, p.raw) && !p.name.is_empty());
        }
        let _ = (u.transport(), u.has_lr(), u.maddr());
        let again = Uri::parse(u.raw).map(|v| (v.user, v.host, v.port, v.params));
        assert_eq!(again, Ok((u.user, u.host, u.port, u.params)));
    }
    for p in params::iter(input) {
        assert!(within(input, p.raw) && within(p.raw, p.name));
        assert!(p.value.is_none_or(|v| within(p.raw, v)));
    }
    if let Err(pos) = params::validate(input) {
        assert!(pos <= input.len());
    }
    let _ = params::find(input, b"tag");
    let mut out = Vec::new();
    if unescape_into(input, &mut out).is_ok() {
        assert!(out.len() <= input.len());
    }
    let _ = eq_escaped(input, &out);
    parsed.is_ok()
}

#[test]
fn fuzz_no_panic() {
    const ALPHABET: &[u8] = b"sipSIPtel:+-.;=?&@[]%\"\\ \t\r\n0123456789abcdefABCDEF:;<>/,_~\x00\xff";
    let seeds: &[&[u8]] = &[
        b"sip:alice@192.168.1.10:5060;ob;alias=203.0.113.7~40112~1",
        b"sips:bob@example.com;maddr=239.255.255.1?subject=x&priority=urgent",
        b"sip:[2001:db8::10]:5070;transport=udp",
        b"sip:user;par=u%40example.net@example.com",
        b"tel:+1-201-555-0123;phone-context=example.com",
        b";received=\"sip:a;b\" ; tag = 1 ;lr;x=[::1]",
        b"soap.beep://192.0.2.103:3002",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut buf = Vec::with_capacity(128);
    let mut valid = 0;
    for round in 0..100_000 {
        buf.clear();
        if round % 2 == 0 {
            let len = rng.below(48);
            let from_alphabet = rng.below(2) == 0;
            for _ in 0..len {
                let byte = if from_alphabet {
                    ALPHABET[rng.below(ALPHABET.len())]
                } else {
                    u8::try_from(rng.below(256)).unwrap_or(0)
                };
                buf.push(byte);
            }
        } else {
            buf.extend_from_slice(seeds[rng.below(seeds.len())]);
            for _ in 0..=rng.below(4) {
                let at = rng.below(buf.len() + 1);
                let byte = ALPHABET[rng.below(ALPHABET.len())];
                match rng.below(4) {
                    0 if at < buf.len() => buf[at] = byte,
                    1 if at < buf.len() => {
                        buf.remove(at);
                    }
                    2 => buf.truncate(at),
                    _ => buf.insert(at, byte),
                }
            }
        }
        valid += usize::from(exercise(&buf));
    }
    // The mutations must reach past the first checks, not only fail them.
    assert!(valid > 10_000, "{valid}");
}
