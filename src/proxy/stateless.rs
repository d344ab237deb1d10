//! The stateless stage of Kamailio's default script (REQINIT, the
//! replies that need no state, and the choice of route): what to do with
//! one received message before any transaction or table is looked at.

use super::myself::Myself;
use super::sanity::{self, Checked, Rejection};
use crate::sip::{Message, Method, Uri};

/// What the proxy does with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Answer statelessly.
    Reply(Reply),
    /// A REGISTER for one of our domains: the registrar answers it
    /// (Kamailio route[REGISTRAR]).
    Register,
    /// A response: the transaction layer matches it (RFC 3261 §17.1.3).
    Response,
    /// The request goes to the stateful proxy, by this route.
    Proxy(Stateful),
    /// Say nothing.
    Drop(DropReason),
}

/// Which part of the default script's routing a request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stateful {
    /// An initial request for one of our users: route[LOCATION] (lookup,
    /// then one branch per binding).
    Local,
    /// An initial request for a foreign domain from one of ours:
    /// route[SIPOUT], relayed to the Request-URI.
    Foreign,
    /// A request with a To tag: route[WITHINDLG].
    InDialog,
    /// CANCEL: matched to its INVITE transaction (RFC 3261 §9.2, §16.10).
    Cancel,
    /// ACK: to a negative final (absorbed by the INVITE server
    /// transaction) or to a 2xx (end to end, route[WITHINDLG]).
    Ack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub reason: Reason,
    pub extra: Extra,
    /// The request's To has no tag, so the reply must add one
    /// (RFC 3261 §8.2.6.2).
    pub add_to_tag: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Text(&'static str),
    Rejected(Rejection),
}

/// Headers a reply carries beyond the RFC 3261 §8.2.6 copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// Allow, Accept, Supported (RFC 3261 §11.2).
    Capabilities,
    /// `Unsupported:` with the Proxy-Require tags refused (§20.40).
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// A malformed ACK: never answered (RFC 3261 §17).
    Ack,
}

/// Methods the proxy accepts, for `Allow:` (it forwards any method, RFC
/// 3261 §16.6; these are the ones it handles itself).
pub const ALLOW: &[u8] = b"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, UPDATE, INFO, \
SUBSCRIBE, NOTIFY, REFER, MESSAGE";
pub const ACCEPT: &[u8] = b"Accept: application/sdp";
/// No option tags yet; the header is sent empty as RFC 3261 §20.37 allows.
pub const SUPPORTED: &[u8] = b"Supported: ";

pub fn decide(msg: &Message<'_>, myself: &Myself) -> Decision {
    let Some(rl) = msg.request_line() else {
        return Decision::Response;
    };
    let is_keepalive = |ruri: &Uri<'_>| is_options_to_myself(rl.method, ruri, myself);
    let checked = match sanity::check_request(msg, is_keepalive) {
        Ok(c) => c,
        // RFC 3261 §17: an ACK is never answered, not even a bad one.
        Err(_) if rl.method == Method::Ack => return Decision::Drop(DropReason::Ack),
        Err(r) => {
            let extra = if r == Rejection::BadExtension { Extra::Unsupported } else { Extra::None };
            // The To may be what is broken; tag it unless it clearly has one.
            let add_to_tag = !msg.to().is_ok_and(|t| t.tag().is_some());
            return Decision::Reply(Reply { code: r.code(), reason: Reason::Rejected(r), extra, add_to_tag });
        }
    };
    let from_myself = msg.from().is_ok_and(|f| myself_domain(&f.uri, myself));
    route(rl.method, &checked, from_myself, myself)
}

/// The default script's routing up to the point where state is needed.
fn route(method: Method<'_>, c: &Checked<'_>, from_myself: bool, myself: &Myself) -> Decision {
    let ruri = &c.ruri;
    let reply = |code, reason, extra| {
        Decision::Reply(Reply { code, reason: Reason::Text(reason), extra, add_to_tag: !c.to_tagged })
    };
    if is_options_to_myself(method, ruri, myself) {
        return reply(200, "Keepalive", Extra::Capabilities);
    }
    match method {
        Method::Ack => Decision::Proxy(Stateful::Ack),
        Method::Cancel => Decision::Proxy(Stateful::Cancel),
        _ if c.to_tagged => Decision::Proxy(Stateful::InDialog),
        // route[AUTH]: `from_uri!=myself && uri!=myself` is not relayed.
        _ if !myself_domain(ruri, myself) && from_myself => Decision::Proxy(Stateful::Foreign),
        _ if !myself_domain(ruri, myself) => reply(403, "Not relaying", Extra::None),
        Method::Register => Decision::Register,
        // `if ($rU==$null)`: a request to the domain itself.
        _ if ruri.user.is_none() => reply(484, "Address Incomplete", Extra::None),
        _ => Decision::Proxy(Stateful::Local),
    }
}

fn myself_domain(ruri: &Uri<'_>, myself: &Myself) -> bool {
    ruri.is_sip() && myself.is_myself(ruri)
}

/// Kamailio REQINIT: `is_method("OPTIONS") && uri==myself && $rU==$null`.
fn is_options_to_myself(method: Method<'_>, ruri: &Uri<'_>, myself: &Myself) -> bool {
    method == Method::Options && ruri.user.is_none() && myself_domain(ruri, myself)
}
