//! Processing a REGISTER: RFC 3261 §10.3 with Kamailio registrar save()
//! semantics (registrar/save.c, sip_msg.c; reference §4.1). Sans-IO: the
//! caller supplies the parsed request, where it came from, and `now`.

use super::binding::{Aor, Binding, BindingFlags, UnixMillis};
use super::contact::ContactInfo;
use super::edit::RecordEdit;
use super::location::LocationShard;
use super::outcome::{SaveError, SaveOutcome, SaveResult, reason};
use super::path::RegisterPath;
use crate::config::RegistrarConfig;
use crate::sip::list::trim_lws;
use crate::sip::transport::Transport;
use crate::sip::{CSeq, HeaderName, Message, NameAddr, ParseError};
use std::net::SocketAddr;

/// Longest Contact URI stored (Kamailio registrar `contact_max_size`).
const CONTACT_MAX: usize = 512;
/// Longest `received` (Kamailio RECEIVED_MAX_SIZE).
const RECEIVED_MAX: usize = 255;
/// Longest Call-ID (Kamailio CALLID_MAX_SIZE).
const CALLID_MAX: usize = 255;
/// User-Agent values this long or longer are not stored (Kamailio MAX_UA_SIZE).
const USER_AGENT_MAX: usize = 255;

/// A REGISTER and what the transport and NAT layers know about it.
#[derive(Clone, Copy)]
pub struct SaveRequest<'m, 'a> {
    pub msg: &'m Message<'a>,
    pub source: SocketAddr,
    pub transport: Transport,
    /// The listen address it arrived on.
    pub local: SocketAddr,
    /// fix_nated_register's `sip:IP:PORT[;transport=x]`, when NAT was found.
    pub received: Option<&'m [u8]>,
    /// Behind NAT (Kamailio FLB_NATB, set when nat_uac_test hit).
    pub nated: bool,
    /// Wants SIP pings (Kamailio FLB_NATSIPPING).
    pub ping: bool,
}

/// The message itself is left out: `Message` has no Debug.
impl std::fmt::Debug for SaveRequest<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaveRequest")
            .field("source", &self.source)
            .field("transport", &self.transport)
            .field("local", &self.local)
            .field("received", &self.received.map(<[u8]>::escape_ascii))
            .field("nated", &self.nated)
            .field("ping", &self.ping)
            .finish_non_exhaustive()
    }
}

/// Applies a REGISTER to this shard's table. On any refusal the table is
/// exactly as before.
pub fn save(loc: &mut LocationShard, cfg: &RegistrarConfig, req: &SaveRequest<'_, '_>, now: UnixMillis) -> SaveOutcome {
    let mut aor = None;
    match apply(loc, cfg, req, now, &mut aor) {
        Ok(done) => SaveOutcome {
            code: 200,
            reason: reason(200),
            error: None,
            min_expires: None,
            retry_after: None,
            result: done.result,
            aor,
            list_contacts: done.list_contacts,
            // Kamailio keeps the Path vector only once contacts were packed.
            echo_path: done.processed && cfg.use_path && wants_path(req.msg),
        },
        Err(e) => {
            let code = e.code();
            SaveOutcome {
                code,
                reason: reason(code),
                error: Some(e.text()),
                min_expires: (e == SaveError::IntervalTooBrief).then_some(cfg.min_expires),
                retry_after: (code >= 500 && cfg.retry_after > 0).then_some(cfg.retry_after),
                result: SaveResult::Rejected,
                aor,
                list_contacts: e.lists_contacts(),
                echo_path: false,
            }
        }
    }
}

struct Done {
    result: SaveResult,
    list_contacts: bool,
    /// Contacts were processed (not a query, not `*`).
    processed: bool,
}

/// The request's Contact set (RFC 3261 §10.3 step 6).
enum Contacts<'a> {
    None,
    Star,
    List(Vec<NameAddr<'a>>),
}

fn apply(
    loc: &mut LocationShard,
    cfg: &RegistrarConfig,
    req: &SaveRequest<'_, '_>,
    now: UnixMillis,
    aor_out: &mut Option<Aor>,
) -> Result<Done, SaveError> {
    let msg = req.msg;
    let to = msg.to().map_err(|e| match e {
        ParseError::MissingHeader(_) => SaveError::ToMissing,
        _ => SaveError::ToMalformed,
    })?;
    let aor: &Aor = aor_out.insert(Aor::from_uri(&to.uri)?);
    let call_id = msg.call_id().ok_or(SaveError::CallIdMissing)?;
    let cseq = msg.header(HeaderName::CSeq).ok_or(SaveError::CSeqMissing)?;
    let cseq = CSeq::parse(cseq.value).map_err(|_| SaveError::CSeqMalformed)?.seq;
    let header_expires = msg.expires().map_err(|_| SaveError::ExpiresParse)?;
    let contacts = match contacts(msg, header_expires)? {
        Contacts::Star => {
            loc.remove_aor(aor.as_bytes());
            return Ok(done(SaveResult::Deleted, false, false));
        }
        Contacts::None => return Ok(done(SaveResult::Query, true, false)),
        Contacts::List(list) => list,
    };
    if call_id.len() > CALLID_MAX {
        return Err(SaveError::CallIdTooLong);
    }
    let path = if cfg.use_path { RegisterPath::from_message(msg)? } else { None };
    let common = Common {
        req,
        call_id,
        cseq,
        path_received: path.as_ref().and_then(|p| p.received.as_deref()).filter(|_| cfg.path_use_received),
        path: path.as_ref().map(|p| &*p.joined),
        user_agent: msg
            .header(HeaderName::UserAgent)
            .map(|h| trim_lws(h.value))
            .filter(|v| !v.is_empty() && v.len() < USER_AGENT_MAX),
        now,
    };
    let existing = loc.record(aor.as_bytes()).map_or(&[][..], |r| r.bindings());
    let mut edit = RecordEdit::new(existing, loc.order(), now);
    let mut last = None;
    let mut retransmission = false;
    for contact in &contacts {
        let info = ContactInfo::parse(contact, header_expires, cfg)?;
        match step(&mut edit, &common, cfg, &info)? {
            Step::Skipped => {}
            Step::Retransmission => retransmission = true,
            Step::Applied(r) => last = Some(r),
        }
    }
    // Kamailio test_max_contacts: valid bindings once applied (§4.1).
    if cfg.max_contacts > 0 && edit.valid_count() > cfg.max_contacts as usize {
        return Err(SaveError::TooManyContacts);
    }
    let parts = edit.into_parts();
    loc.commit(aor, parts, now);
    let result = last.unwrap_or(if retransmission { SaveResult::Retransmission } else { SaveResult::Deleted });
    Ok(done(result, true, true))
}

fn done(result: SaveResult, list_contacts: bool, processed: bool) -> Done {
    Done { result, list_contacts, processed }
}

/// Sorts the Contact headers into none, `*`, or addresses; checks what
/// Kamailio check_contacts checks, in its order.
fn contacts<'a>(msg: &Message<'a>, header_expires: Option<u32>) -> Result<Contacts<'a>, SaveError> {
    let mut values = msg.values(HeaderName::Contact);
    let Some(first) = values.next() else {
        return Ok(Contacts::None);
    };
    if first == b"*" {
        if header_expires != Some(0) {
            return Err(SaveError::StarExpires);
        }
        if values.next().is_some() {
            return Err(SaveError::StarWithOthers);
        }
        return Ok(Contacts::Star);
    }
    let mut list = Vec::new();
    for v in std::iter::once(first).chain(values) {
        if v == b"*" {
            return Err(SaveError::StarWithOthers);
        }
        let na = msg.contact(v).map_err(|_| SaveError::ContactParse)?;
        let received = na.param(b"received").flatten().unwrap_or_default();
        if na.uri.raw.len() > CONTACT_MAX || received.len() > RECEIVED_MAX {
            return Err(SaveError::ContactTooLong);
        }
        list.push(na);
    }
    Ok(Contacts::List(list))
}

/// What every binding saved from this request shares.
struct Common<'a, 'm> {
    req: &'a SaveRequest<'a, 'm>,
    call_id: &'a [u8],
    cseq: u32,
    path: Option<&'a [u8]>,
    path_received: Option<&'a [u8]>,
    user_agent: Option<&'a [u8]>,
    now: UnixMillis,
}

enum Step {
    Skipped,
    Retransmission,
    Applied(SaveResult),
}

/// One contact against the plan (save.c update_contacts; RFC 3261 §10.3
/// step 8).
fn step(
    edit: &mut RecordEdit<'_>,
    common: &Common<'_, '_>,
    cfg: &RegistrarConfig,
    info: &ContactInfo<'_>,
) -> Result<Step, SaveError> {
    // RFC 5626 §6: a contact with an instance is its instance's binding;
    // without a match, a binding with the same URI is (sipedge keeps one
    // binding per contact URI; Kamailio would add a second).
    let found = info.instance.and_then(|i| edit.find_instance(i, info.reg_id)).or_else(|| edit.find_contact(info.uri));
    if let Some(pos) = found {
        let b = edit.view(pos);
        // RFC 3261 §10.3 step 7 (usrloc urecord.c get_ucontact). Kamailio
        // skips this for instance matches; the RFC does not.
        if *b.call_id == *common.call_id && common.cseq <= b.cseq {
            let window = b.updated.plus_secs(cfg.cseq_delay);
            return if common.cseq == b.cseq && window > common.now {
                Ok(Step::Retransmission)
            } else {
                Err(SaveError::OutOfOrder)
            };
        }
    }
    let Some(mut pos) = found else {
        if info.expires == 0 {
            return Ok(Step::Skipped); // nothing to remove
        }
        edit.insert(binding(common, info));
        return Ok(Step::Applied(SaveResult::Inserted));
    };
    if info.expires == 0 {
        edit.delete(pos);
        return Ok(Step::Applied(SaveResult::Deleted));
    }
    let old = edit.view(pos);
    // save.c: an instance re-registering under a new Call-ID replaces its
    // other bindings (other reg-ids).
    if let Some(instance) = old.instance.clone().filter(|_| *old.call_id != *common.call_id) {
        pos = edit.delete_others(pos, |b| b.instance.as_deref() == Some(&*instance));
    }
    // An instance match may move the binding to a URI another holds.
    pos = edit.delete_others(pos, |b| *b.contact == *info.uri);
    edit.update(pos, binding(common, info));
    Ok(Step::Applied(SaveResult::Updated))
}

/// The stored binding (save.c pack_ci). `received` precedence: the first
/// Path hop's (path_use_received) > the Contact's `;received=` > ours.
fn binding(common: &Common<'_, '_>, info: &ContactInfo<'_>) -> Binding {
    let req = common.req;
    let received = common.path_received.or(info.received).or(req.received).map(Into::into);
    Binding {
        contact: info.uri.into(),
        received,
        source: req.source,
        transport: req.transport,
        local: req.local,
        path: common.path.map(Into::into),
        q: info.q,
        call_id: common.call_id.into(),
        cseq: common.cseq,
        user_agent: common.user_agent.map(Into::into),
        flags: BindingFlags { nated: req.nated || common.path_received.is_some(), ping: req.ping },
        expires: common.now.plus_secs(info.expires),
        last_keepalive: common.now,
        updated: common.now,
        instance: info.instance.map(Into::into),
        reg_id: info.reg_id,
    }
}

/// `Supported: path` in the request (RFC 3327 §5.3).
fn wants_path(msg: &Message<'_>) -> bool {
    msg.header(HeaderName::Path).is_some()
        && msg.option_tags(HeaderName::Supported).flatten().any(|t| t.eq_ignore_ascii_case(b"path"))
}
