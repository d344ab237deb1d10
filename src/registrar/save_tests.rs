//! REGISTER processing end to end: byte fixtures in, outcome and reply
//! header lines out, in virtual time. Vectors from reference §4.1 and
//! Appendix A.3 / A.8.

use super::binding::{Binding, UnixMillis};
use super::location::{Change, ContactOrder, LocationShard};
use super::lookup::{Destination, lookup};
use super::outcome::{SaveOutcome, SaveResult};
use super::reply::write_reply_headers;
use super::save::{SaveRequest, save};
use crate::config::RegistrarConfig;
use crate::sip::Message;
use crate::sip::transport::Transport;

const T0: u64 = 1_767_225_600_000;

/// A REGISTER for alice from a phone at 192.168.1.10 behind NAT.
fn register(call_id: &str, cseq: u32, extra: &str) -> Vec<u8> {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK{call_id}{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@example.com>;tag=f1\r\n\
         To: <sip:alice@example.com>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

struct Registrar {
    loc: LocationShard,
    cfg: RegistrarConfig,
    received: Option<&'static [u8]>,
    nated: bool,
}

impl Registrar {
    fn new() -> Registrar {
        Registrar::with(RegistrarConfig::default())
    }

    fn with(cfg: RegistrarConfig) -> Registrar {
        Registrar {
            loc: LocationShard::new(ContactOrder::ByQ, true),
            cfg,
            received: Some(b"sip:203.0.113.7:40112"),
            nated: true,
        }
    }

    /// Saves at `T0 + secs` and returns the outcome and the reply lines.
    fn send(&mut self, bytes: &[u8], secs: f64) -> (SaveOutcome, String) {
        let msg = Message::parse(bytes).expect("fixture parses");
        let req = SaveRequest {
            msg: &msg,
            source: "203.0.113.7:40112".parse().unwrap(),
            transport: Transport::Udp,
            local: "198.51.100.1:5060".parse().unwrap(),
            received: self.received,
            nated: self.nated,
            ping: false,
        };
        let now = at(secs);
        let outcome = save(&mut self.loc, &self.cfg, &req, now);
        let mut out = Vec::new();
        write_reply_headers(&self.loc, &outcome, &req, now, &self.cfg, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    }

    fn bindings(&self) -> Vec<Binding> {
        self.loc.record(b"alice@example.com").map_or(Vec::new(), |r| r.bindings().to_vec())
    }

    fn changes(&mut self) -> Vec<Change> {
        let mut out = Vec::new();
        self.loc.drain_changes(&mut out);
        out
    }
}

fn at(secs: f64) -> UnixMillis {
    UnixMillis(T0 + (secs * 1000.0) as u64)
}

const RCV: &str = ";received=\"sip:203.0.113.7:40112\"";

#[test]
fn first_registration_a3() {
    let mut r = Registrar::new();
    let (o, reply) = r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 0.0);
    assert_eq!((o.code, o.reason, o.error), (200, "OK", None));
    assert_eq!(o.result, SaveResult::Inserted);
    assert_eq!(reply, "Contact: <sip:a@192.168.1.10:5060>;expires=3600;received=\"sip:203.0.113.7:40112\"\r\n");
    let b = &r.bindings()[0];
    assert_eq!(b.expires, at(3600.0));
    assert_eq!((&*b.call_id, b.cseq, b.q), (&b"c1"[..], 1, None));
    assert!(b.flags.nated);
    assert_eq!(b.source, "203.0.113.7:40112".parse().unwrap());
    assert_eq!(b.local, "198.51.100.1:5060".parse().unwrap());
}

#[test]
fn two_bindings_are_one_header_separated_by_comma_space() {
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 0.0);
    let (o, reply) = r.send(&register("c2", 1, "Contact: <sip:a@10.0.0.2:5062>;q=0.5\r\n"), 10.0);
    assert_eq!(o.result, SaveResult::Inserted);
    assert_eq!(
        reply,
        format!(
            "Contact: <sip:a@10.0.0.2:5062>;q=0.5;expires=3600{RCV}, \
             <sip:a@192.168.1.10:5060>;expires=3590{RCV}\r\n"
        )
    );
}

#[test]
fn query_without_contact() {
    let mut r = Registrar::new();
    let (o, reply) = r.send(&register("c1", 1, ""), 0.0);
    assert_eq!((o.code, o.result), (200, SaveResult::Query));
    assert_eq!(reply, "", "no Contact header when nothing is bound");
    r.send(&register("c1", 2, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 0.0);
    let (o, reply) = r.send(&register("c9", 1, ""), 100.0);
    assert_eq!(o.result, SaveResult::Query);
    assert_eq!(reply, format!("Contact: <sip:a@192.168.1.10:5060>;expires=3500{RCV}\r\n"));
    assert_eq!(r.bindings()[0].cseq, 2, "a query changes nothing");
}

#[test]
fn star_with_expires_zero_removes_all_a8() {
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 0.0);
    r.send(&register("c2", 1, "Contact: <sip:a@10.0.0.2>\r\n"), 0.0);
    r.changes();
    let (o, reply) = r.send(&register("c3", 1, "Contact: *\r\nExpires: 0\r\n"), 5.0);
    assert_eq!((o.code, o.result), (200, SaveResult::Deleted));
    assert_eq!(reply, "");
    assert!(r.bindings().is_empty());
    assert_eq!(r.loc.counters().users, 0);
    let aor = o.aor.clone().unwrap();
    assert_eq!(r.changes(), [Change::RemoveAor { aor }]);
}

#[test]
fn star_refusals_a8() {
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 0.0);
    let cases = [
        ("Contact: *\r\nExpires: 3600\r\n", "* used in contact and expires is not zero"),
        ("Contact: *\r\n", "* used in contact and expires is not zero"),
        ("Contact: *\r\nContact: <sip:b@h>\r\nExpires: 0\r\n", "* used in contact and more than 1 contact"),
        ("Contact: <sip:b@h>, *\r\nExpires: 0\r\n", "* used in contact and more than 1 contact"),
    ];
    for (headers, error) in cases {
        let (o, reply) = r.send(&register("c2", 1, headers), 1.0);
        assert_eq!((o.code, o.reason, o.result), (400, "Bad Request", SaveResult::Rejected));
        assert_eq!(reply, format!("P-Registrar-Error: {error}\r\n"), "{headers}");
        assert_eq!(r.bindings().len(), 1);
    }
}

#[test]
fn lower_cseq_same_call_id_is_refused_a8() {
    let mut r = Registrar::new();
    r.send(&register("c1", 5, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 0.0);
    r.changes();
    let before = r.bindings();
    let (o, reply) = r.send(&register("c1", 4, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 1.0);
    assert_eq!((o.code, o.reason), (400, "Bad Request"));
    assert_eq!(o.error, Some("Invalid CSeq number"));
    // Kamailio lists the (unchanged) bindings on this error too.
    assert_eq!(
        reply,
        format!(
            "Contact: <sip:a@192.168.1.10:5060>;expires=3599{RCV}\r\n\
             P-Registrar-Error: Invalid CSeq number\r\n"
        )
    );
    assert_eq!(r.bindings(), before);
    assert!(r.changes().is_empty());
    // Another Call-ID may use any CSeq (RFC 3261 §10.3 step 7).
    let (o, _) = r.send(&register("c2", 1, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 2.0);
    assert_eq!((o.code, o.result), (200, SaveResult::Updated));
    assert_eq!(&*r.bindings()[0].call_id, b"c2");
}

#[test]
fn retransmission_window_edge_a8() {
    let mut r = Registrar::new();
    let req = register("c1", 7, "Contact: <sip:a@192.168.1.10:5060>\r\n");
    r.send(&req, 0.0);
    r.changes();
    let before = r.bindings();
    let (o, reply) = r.send(&req, 19.999);
    assert_eq!((o.code, o.result, o.error), (200, SaveResult::Retransmission, None));
    assert_eq!(reply, format!("Contact: <sip:a@192.168.1.10:5060>;expires=3581{RCV}\r\n"));
    assert_eq!(r.bindings(), before, "no change");
    assert!(r.changes().is_empty());
    // Kamailio: last_modified + cseq_delay > now, so exactly 20 s is late.
    let (o, reply) = r.send(&req, 20.0);
    assert_eq!((o.code, o.error), (400, Some("Invalid CSeq number")));
    assert!(reply.ends_with("P-Registrar-Error: Invalid CSeq number\r\n"));
    assert_eq!(r.bindings(), before);
    // A higher CSeq is a refresh.
    let (o, _) = r.send(&register("c1", 8, "Contact: <sip:a@192.168.1.10:5060>\r\n"), 20.0);
    assert_eq!(o.result, SaveResult::Updated);
    assert_eq!(r.bindings()[0].expires, at(3620.0));
}

#[test]
fn min_expires_modes_a8() {
    let mut r = Registrar::new();
    let (o, reply) = r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>\r\nExpires: 30\r\n"), 0.0);
    assert_eq!(o.code, 200);
    assert_eq!(reply, format!("Contact: <sip:a@192.168.1.10:5060>;expires=60{RCV}\r\n"));
    let mut r = Registrar::with(RegistrarConfig { min_expires_mode: 1, ..Default::default() });
    let (o, reply) = r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>\r\nExpires: 30\r\n"), 0.0);
    assert_eq!((o.code, o.reason, o.min_expires), (423, "Interval Too Brief", Some(60)));
    assert_eq!(reply, "Min-Expires: 60\r\nP-Registrar-Error: Interval too brief\r\n");
    assert!(r.bindings().is_empty());
    assert!(r.changes().is_empty());
}

#[test]
fn expires_precedence_and_max_clamp() {
    let mut r = Registrar::new();
    let (_, reply) = r.send(
        &register("c1", 1, "Contact: <sip:a@h1>;expires=120, <sip:a@h2>, <sip:a@h3>;expires=99999\r\nExpires: 300\r\n"),
        0.0,
    );
    assert_eq!(
        reply,
        format!(
            "Contact: <sip:a@h1>;expires=120{RCV}, <sip:a@h2>;expires=300{RCV}, \
             <sip:a@h3>;expires=3600{RCV}\r\n"
        )
    );
}

#[test]
fn expires_zero_removes_one_and_unknown_is_ignored() {
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@h1>, <sip:a@h2>\r\n"), 0.0);
    r.changes();
    let (o, reply) = r.send(&register("c1", 2, "Contact: <sip:a@h1>;expires=0\r\n"), 1.0);
    assert_eq!((o.code, o.result), (200, SaveResult::Deleted));
    assert_eq!(reply, format!("Contact: <sip:a@h2>;expires=3599{RCV}\r\n"));
    let aor = o.aor.clone().unwrap();
    let removed = Change::Remove { aor, contact: b"sip:a@h1".as_slice().into() };
    assert_eq!(r.changes(), [removed]);
    let before = r.bindings();
    let (o, _) = r.send(&register("c1", 3, "Contact: <sip:a@unknown>\r\nExpires: 0\r\n"), 2.0);
    assert_eq!((o.code, o.result), (200, SaveResult::Deleted));
    assert_eq!(r.bindings(), before);
    assert!(r.changes().is_empty());
}

#[test]
fn uri_params_are_not_header_params() {
    // RFC 4475 §3.3.12/13: inside <> `expires` and `q` belong to the URI.
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@h1;expires=0;q=0.1>\r\n"), 0.0);
    let b = &r.bindings()[0];
    assert_eq!(&*b.contact, b"sip:a@h1;expires=0;q=0.1");
    assert_eq!((b.expires, b.q), (at(3600.0), None));
    // Unbracketed, the same text is header params.
    r.send(&register("c2", 1, "Contact: sip:a@h2;expires=120;q=0.25\r\n"), 0.0);
    let b = r.bindings().into_iter().find(|b| &*b.contact == b"sip:a@h2").unwrap();
    assert_eq!((b.expires, b.q), (at(120.0), Some(250)));
}

#[test]
fn q_values() {
    let mut r = Registrar::new();
    let (_, reply) = r.send(&register("c1", 1, "Contact: <sip:a@h1>;q=0.5, <sip:a@h2>;q=1.0\r\n"), 0.0);
    assert_eq!(reply, format!("Contact: <sip:a@h2>;q=1;expires=3600{RCV}, <sip:a@h1>;q=0.5;expires=3600{RCV}\r\n"));
    assert_eq!(r.bindings()[1].q, Some(500));
    let before = r.bindings();
    let (o, reply) = r.send(&register("c1", 2, "Contact: <sip:a@h3>, <sip:a@h4>;q=1.5\r\n"), 0.0);
    assert_eq!((o.code, o.error), (400, Some("Invalid q param in contact")));
    assert!(reply.ends_with("P-Registrar-Error: Invalid q param in contact\r\n"));
    assert_eq!(r.bindings(), before, "h3 was not half-saved");
    let mut r = Registrar::with(RegistrarConfig { default_q: 250, ..Default::default() });
    r.send(&register("c1", 1, "Contact: <sip:a@h1>\r\n"), 0.0);
    assert_eq!(r.bindings()[0].q, Some(250));
}

#[test]
fn max_contacts_503_changes_nothing_a8() {
    let mut r = Registrar::with(RegistrarConfig { max_contacts: 2, retry_after: 30, ..Default::default() });
    r.send(&register("c1", 1, "Contact: <sip:a@h1>, <sip:a@h2>\r\n"), 0.0);
    r.changes();
    let before = r.bindings();
    let counters = r.loc.counters();
    let (o, reply) = r.send(&register("c1", 2, "Contact: <sip:a@h1>;expires=600, <sip:a@h3>\r\n"), 1.0);
    assert_eq!((o.code, o.reason), (503, "Service Unavailable"));
    assert_eq!((o.error, o.retry_after), (Some("Too many registered contacts"), Some(30)));
    assert_eq!(
        reply,
        format!(
            "Contact: <sip:a@h1>;expires=3599{RCV}, <sip:a@h2>;expires=3599{RCV}\r\n\
             P-Registrar-Error: Too many registered contacts\r\nRetry-After: 30\r\n"
        )
    );
    assert_eq!(r.bindings(), before, "h1 not refreshed, h3 not added");
    assert_eq!(r.loc.counters(), counters);
    assert!(r.changes().is_empty());
    // Removing one while adding one stays within the limit.
    let (o, _) = r.send(&register("c1", 3, "Contact: <sip:a@h1>;expires=0, <sip:a@h3>\r\n"), 2.0);
    assert_eq!(o.code, 200);
    let left: Vec<Vec<u8>> = r.bindings().iter().map(|b| b.contact.to_vec()).collect();
    assert_eq!(left, [b"sip:a@h2".to_vec(), b"sip:a@h3".to_vec()]);
}

#[test]
fn path_stored_and_echoed_when_supported() {
    let path = "Path: <sip:edge1.example.net;lr>\r\nPath: <sip:edge2.example.net;lr>\r\n";
    let mut r = Registrar::new();
    let (o, reply) =
        r.send(&register("c1", 1, &format!("Contact: <sip:a@h1>\r\nSupported: path, outbound\r\n{path}")), 0.0);
    assert!(o.echo_path);
    assert_eq!(
        reply,
        format!(
            "Contact: <sip:a@h1>;expires=3600{RCV}\r\n\
             Path: <sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>\r\n"
        )
    );
    assert_eq!(r.bindings()[0].path.as_deref(), Some(&b"<sip:edge1.example.net;lr>,<sip:edge2.example.net;lr>"[..]));
    // Stored without Supported: path, but not echoed.
    let (o, reply) = r.send(&register("c1", 2, &format!("Contact: <sip:a@h1>\r\n{path}")), 1.0);
    assert!(!o.echo_path);
    assert!(!reply.contains("Path:"));
    assert!(r.bindings()[0].path.is_some());
    // use_path off: ignored.
    let mut r = Registrar::with(RegistrarConfig { use_path: false, ..Default::default() });
    r.send(&register("c1", 1, &format!("Contact: <sip:a@h1>\r\nSupported: path\r\n{path}")), 0.0);
    assert_eq!(r.bindings()[0].path, None);
    // A first hop that is not a loose router.
    let mut r = Registrar::new();
    let (o, _) = r.send(&register("c1", 1, "Contact: <sip:a@h1>\r\nPath: <sip:edge1>\r\n"), 0.0);
    assert_eq!((o.code, o.error), (400, Some("Path parse error")));
}

#[test]
fn path_use_received() {
    let mut r = Registrar::with(RegistrarConfig { path_use_received: true, ..Default::default() });
    r.received = None;
    r.nated = false;
    r.send(&register("c1", 1, "Contact: <sip:a@h1>\r\nPath: <sip:edge;lr;received=sip:198.51.100.9:6000>\r\n"), 0.0);
    let b = &r.bindings()[0];
    assert_eq!(b.received.as_deref(), Some(&b"sip:198.51.100.9:6000"[..]));
    assert!(b.flags.nated);
}

#[test]
fn user_agent_instance_and_reg_id() {
    let mut r = Registrar::new();
    let inst = "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";
    let (_, reply) = r.send(
        &register(
            "c1",
            1,
            &format!("Contact: <sip:a@h1;ob>;+sip.instance=\"{inst}\";reg-id=1\r\nUser-Agent: Phone/1.0\r\n"),
        ),
        0.0,
    );
    assert_eq!(reply, format!("Contact: <sip:a@h1;ob>;expires=3600{RCV};+sip.instance=\"{inst}\";reg-id=1\r\n"));
    let b = &r.bindings()[0];
    assert_eq!(b.user_agent.as_deref(), Some(&b"Phone/1.0"[..]));
    assert_eq!(b.instance.as_deref(), Some(inst.as_bytes()));
    assert_eq!(b.reg_id, Some(1));
    r.changes();
    // Same instance and reg-id from a new address: the binding moves
    // (RFC 5626 §6) instead of a second one appearing.
    let (o, _) =
        r.send(&register("c2", 1, &format!("Contact: <sip:a@h9;ob>;+sip.instance=\"{inst}\";reg-id=1\r\n")), 5.0);
    assert_eq!(o.result, SaveResult::Updated);
    let left: Vec<Vec<u8>> = r.bindings().iter().map(|b| b.contact.to_vec()).collect();
    assert_eq!(left, [b"sip:a@h9;ob".to_vec()]);
    let changes = r.changes();
    assert!(matches!(&changes[0], Change::Remove { contact, .. } if &**contact == b"sip:a@h1;ob"));
    assert!(matches!(&changes[1], Change::Upsert { binding, .. } if &*binding.contact == b"sip:a@h9;ob"));
    assert_eq!(r.loc.counters().contacts, 1);
}

#[test]
fn ipv6_received() {
    let mut r = Registrar::new();
    r.received = Some(b"sip:[2001:db8::1]:5060");
    let (_, reply) = r.send(&register("c1", 1, "Contact: <sip:a@[2001:db8::1]:5060>\r\n"), 0.0);
    assert_eq!(reply, "Contact: <sip:a@[2001:db8::1]:5060>;expires=3600;received=\"sip:[2001:db8::1]:5060\"\r\n");
}

#[test]
fn received_param_name_and_precedence() {
    let mut r = Registrar::with(RegistrarConfig { received_param: "rcv".into(), ..Default::default() });
    // A Contact `;received=` (nathelper add_rcv_param upstream) wins over ours.
    let (_, reply) = r.send(&register("c1", 1, "Contact: <sip:a@h1>;received=\"sip:192.0.2.1:7000\"\r\n"), 0.0);
    assert_eq!(reply, "Contact: <sip:a@h1>;expires=3600;rcv=\"sip:192.0.2.1:7000\"\r\n");
    let mut r = Registrar::with(RegistrarConfig { received_param: String::new(), ..Default::default() });
    let (_, reply) = r.send(&register("c1", 1, "Contact: <sip:a@h1>\r\n"), 0.0);
    assert_eq!(reply, "Contact: <sip:a@h1>;expires=3600\r\n");
    assert!(r.bindings()[0].received.is_some(), "stored, only hidden");
}

#[test]
fn escaped_contact_is_stored_verbatim() {
    // RFC 4475 §3.3.14: the contact is kept exactly as written.
    let mut r = Registrar::new();
    let uri = "sip:%61lice;x=%20y@192.168.1.10:5060;transport=udp;lr";
    let (_, reply) = r.send(&register("c1", 1, &format!("Contact: <{uri}>\r\n")), 0.0);
    assert_eq!(&*r.bindings()[0].contact, uri.as_bytes());
    assert_eq!(reply, format!("Contact: <{uri}>;expires=3600{RCV}\r\n"));
    // Matching is byte for byte (usrloc matching_mode 0).
    r.send(&register("c1", 2, "Contact: <sip:alice;x=%20y@192.168.1.10:5060;transport=udp;lr>\r\n"), 1.0);
    assert_eq!(r.bindings().len(), 2);
}

#[test]
fn to_must_be_a_sip_aor() {
    let mut r = Registrar::new();
    let text = String::from_utf8(register("c1", 1, "Contact: <sip:a@h1>\r\n"))
        .unwrap()
        .replace("To: <sip:alice@example.com>", "To: <tel:+15551234>");
    let (o, reply) = r.send(text.as_bytes(), 0.0);
    assert_eq!((o.code, o.error, o.aor), (400, Some("Error while parsing AOR"), None));
    assert_eq!(reply, "P-Registrar-Error: Error while parsing AOR\r\n");
}

#[test]
fn malformed_headers() {
    let mut r = Registrar::new();
    for (extra, error) in [
        ("Contact: <sip:a@h1\r\n", "Contact parse error"),
        ("Contact: <sip:a@h1>\r\nExpires: soon\r\n", "Expires parse error"),
    ] {
        let (o, reply) = r.send(&register("c1", 1, extra), 0.0);
        assert_eq!((o.code, o.error), (400, Some(error)));
        assert_eq!(reply, format!("P-Registrar-Error: {error}\r\n"));
    }
    let (o, _) = r.send(&register(&"x".repeat(256), 1, "Contact: <sip:a@h1>\r\n"), 0.0);
    assert_eq!(o.error, Some("Callid too long"));
    let (o, _) = r.send(&register("c1", 1, &format!("Contact: <sip:{}@h1>\r\n", "a".repeat(510))), 0.0);
    assert_eq!(o.error, Some("Contact/received too long"));
    assert!(r.bindings().is_empty());
}

#[test]
fn duplicate_contact_in_one_register_is_one_binding() {
    let mut r = Registrar::new();
    let (o, _) = r.send(&register("c1", 1, "Contact: <sip:a@h1>;expires=100, <sip:a@h1>;expires=200\r\n"), 0.0);
    assert_eq!(o.code, 200);
    let b = r.bindings();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].expires, at(100.0), "the first wins, as Kamailio's update path");
}

#[test]
fn expiry_after_registration() {
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@h1>\r\nExpires: 60\r\n"), 0.0);
    r.send(&register("c2", 1, "Contact: <sip:a@h2>\r\n"), 0.0);
    assert!(r.loc.expire(at(59.999)).is_empty());
    let gone = r.loc.expire(at(60.0));
    assert_eq!(gone.len(), 1);
    assert_eq!(&*gone[0].1.contact, b"sip:a@h1");
    assert_eq!(r.loc.counters().expired, 1);
    let (_, reply) = r.send(&register("c3", 1, ""), 61.0);
    assert_eq!(reply, format!("Contact: <sip:a@h2>;expires=3539{RCV}\r\n"));
}

#[test]
fn expired_binding_not_yet_swept_is_replaced() {
    let mut r = Registrar::new();
    r.send(&register("c1", 5, "Contact: <sip:a@h1>\r\nExpires: 60\r\n"), 0.0);
    // Past expiry, before the timer: the same Call-ID with a lower CSeq is
    // a new registration, not an out-of-order one.
    let (o, _) = r.send(&register("c1", 1, "Contact: <sip:a@h1>\r\n"), 61.0);
    assert_eq!((o.code, o.result), (200, SaveResult::Inserted));
    assert_eq!(r.bindings().len(), 1);
    assert_eq!(r.loc.counters().contacts, 1);
    assert_eq!(r.loc.counters().expired, 1);
    assert_eq!(r.loc.next_expiry(), Some(at(3661.0)));
}

#[test]
fn desc_time_order_lists_newest_first() {
    let mut r = Registrar::new();
    r.loc = LocationShard::new(ContactOrder::NewestFirst, false);
    r.send(&register("c1", 1, "Contact: <sip:a@h1>;q=1\r\n"), 0.0);
    r.send(&register("c2", 1, "Contact: <sip:a@h2>;q=0.1\r\n"), 1.0);
    let order: Vec<Vec<u8>> = r.bindings().iter().map(|b| b.contact.to_vec()).collect();
    assert_eq!(order, [b"sip:a@h2".to_vec(), b"sip:a@h1".to_vec()]);
}

#[test]
fn lookup_targets_in_q_order_with_destinations() {
    let mut r = Registrar::new();
    r.send(&register("c1", 1, "Contact: <sip:a@192.168.1.10:5060>;q=0.5\r\n"), 0.0);
    r.send(&register("c2", 1, "Contact: <sip:a@10.9.9.9>;q=1\r\nPath: <sip:edge.example.net;lr>\r\n"), 0.0);
    r.received = None;
    r.nated = false;
    r.send(&register("c3", 1, "Contact: <sip:a@198.51.100.20>\r\n"), 0.0);
    let aor = super::binding::Aor(b"alice@example.com".as_slice().into());
    let targets: Vec<_> = lookup(&r.loc, &aor, at(1.0), &r.cfg).collect();
    assert_eq!(targets.len(), 3);
    assert_eq!(targets[0].uri, b"sip:a@10.9.9.9");
    assert_eq!(targets[0].dst, Destination::PathHop(b"sip:edge.example.net;lr"));
    assert_eq!(targets[0].path, Some(&b"<sip:edge.example.net;lr>"[..]));
    assert_eq!(targets[1].uri, b"sip:a@192.168.1.10:5060");
    assert_eq!(targets[1].dst, Destination::Received(b"sip:203.0.113.7:40112"));
    assert!(targets[1].flags.nated);
    assert_eq!(targets[1].q, Some(500));
    assert_eq!(targets[1].local, "198.51.100.1:5060".parse().unwrap());
    assert_eq!(targets[2].dst, Destination::Contact);
    assert_eq!(targets[2].q, None);
    // append_branches off: the best contact only.
    r.cfg.append_branches = false;
    let targets: Vec<_> = lookup(&r.loc, &aor, at(1.0), &r.cfg).collect();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].uri, b"sip:a@10.9.9.9");
    // Nothing valid: no target (404 for the caller).
    assert_eq!(lookup(&r.loc, &aor, at(4000.0), &r.cfg).count(), 0);
}

/// Replays a change log onto an empty table, as persistence would.
fn replay(changes: &[Change]) -> LocationShard {
    let mut loc = LocationShard::new(ContactOrder::ByQ, false);
    for c in changes {
        match c {
            Change::Upsert { aor, binding } => loc.restore(aor.clone(), binding.clone()),
            Change::Remove { aor, contact } => {
                loc.remove_contact(aor.as_bytes(), contact);
            }
            Change::RemoveAor { aor } => {
                loc.remove_aor(aor.as_bytes());
            }
            Change::Clear => unreachable!("the table never logs Clear"),
        }
    }
    loc
}

fn sorted(loc: &LocationShard) -> Vec<Binding> {
    let mut all: Vec<Binding> = loc.bindings().map(|(_, b)| b.clone()).collect();
    all.sort_by(|a, b| a.contact.cmp(&b.contact));
    all
}

#[test]
fn change_log_replays_to_the_same_table() {
    let mut r = Registrar::new();
    let inst = "<urn:uuid:1>";
    let steps: [(&str, u32, String, f64); 6] = [
        ("c1", 1, "Contact: <sip:a@h1>, <sip:a@h2>;q=0.5\r\n".into(), 0.0),
        ("c1", 2, format!("Contact: <sip:a@X>;+sip.instance=\"{inst}\"\r\nExpires: 60\r\n"), 1.0),
        // The instance moves from X to Y and a new binding takes X, in one
        // request: X's Remove must come before X's Upsert.
        ("c2", 1, format!("Contact: <sip:a@Y>;+sip.instance=\"{inst}\", <sip:a@X>\r\n"), 2.0),
        ("c1", 3, "Contact: <sip:a@h1>;expires=0, <sip:a@h3>;q=1\r\n".into(), 3.0),
        // h2 expired, unswept, and registered again.
        ("c1", 4, "Contact: <sip:a@h2>\r\n".into(), 4000.0),
        ("c5", 1, "Contact: *\r\nExpires: 0\r\n".into(), 4001.0),
    ];
    let mut log = Vec::new();
    for (i, (call_id, cseq, headers, secs)) in steps.iter().enumerate() {
        let (o, _) = r.send(&register(call_id, *cseq, headers), *secs);
        assert_eq!(o.code, 200, "step {i}");
        r.loc.drain_changes(&mut log);
        assert_eq!(sorted(&replay(&log)), sorted(&r.loc), "step {i}");
        if i == 2 {
            let contacts: Vec<Vec<u8>> = sorted(&r.loc).iter().map(|b| b.contact.to_vec()).collect();
            assert_eq!(contacts.len(), 4);
            assert!(contacts.contains(&b"sip:a@X".to_vec()) && contacts.contains(&b"sip:a@Y".to_vec()));
        }
    }
    assert_eq!(r.loc.counters().users, 0);
}
