//! The dialog states of Kamailio (dlg_hash.h `DLG_STATE_*`), one type
//! each, with the data each needs. A transition consumes the old state
//! (dlg_hash.c `next_state_dlg` is the table of allowed moves).

use super::id::{CallId, DialogHandle, DialogId, Direction, Tag};
use crate::ids::ListenerId;
use std::time::{Duration, Instant};

/// The state number Kamailio prints (`dlg.list` "state").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum State {
    Unconfirmed = 1,
    Early = 2,
    ConfirmedNoAck = 3,
    Confirmed = 4,
    Terminated = 5,
}

impl State {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// What is kept of one side (Kamailio `tag[leg]`, `contact[leg]`,
/// `cseq[leg]`, `route_set[leg]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub tag: Tag,
    /// Remote target for requests to this side: its Contact URI (RFC 3261
    /// §12.1.1). Empty when a reply carried none.
    pub contact: Box<[u8]>,
    /// Last CSeq this side sent; 0 until it sends one (Kamailio's "0").
    pub cseq: u32,
    /// Route set for requests to this side, first hop first, each entry
    /// as written (`<sip:p1.example.net;lr>`), this proxy's own excluded.
    pub route_set: Vec<Box<[u8]>>,
}

/// What every state carries: set by the initial INVITE.
#[derive(Debug, Clone)]
pub struct Core {
    pub handle: DialogHandle,
    pub call_id: CallId,
    /// URIs of From and To of the INVITE, without display name or tags.
    pub from_uri: Box<[u8]>,
    pub to_uri: Box<[u8]>,
    pub req_uri: Box<[u8]>,
    pub caller: Leg,
    /// CSeq of the INVITE: replies carrying it belong to the initial
    /// transaction, replies to re-INVITEs do not.
    pub invite_cseq: u32,
    /// Record-Route entries the INVITE carried (Kamailio `from_rr_nb`): the
    /// tail of a 2xx's Record-Route that leads back to the caller.
    pub invite_rr: usize,
    /// When the INVITE was seen (`init_ts`).
    pub init: Instant,
    /// A NATed party is involved: `nat=yes` in a Record-Route or Route, or
    /// set by the proxy (default script NATMANAGE, FLB_NATB).
    pub nat: bool,
    /// The listen sockets each side is reached from (Kamailio `bind_addr`
    /// per leg): the one the INVITE came in on, and the one it left from.
    /// Requests the proxy itself sends to a side (BYEs) leave from it.
    pub sockets: Sockets,
}

/// The proxy's listen socket towards each side of a dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sockets {
    pub caller: ListenerId,
    pub callee: ListenerId,
}

impl Sockets {
    /// Until the proxy says otherwise (`Dialogs::bind_sockets`): the first.
    pub const FIRST: Sockets = Sockets { caller: ListenerId(0), callee: ListenerId(0) };
}

/// The answer that confirmed the dialog.
#[derive(Debug, Clone)]
pub struct Answer {
    pub callee: Leg,
    /// When the 2xx was seen (`start_ts`).
    pub start: Instant,
    /// Kamailio `lifetime`: `default_timeout`, or 10 s once the ACK is late.
    pub lifetime: Duration,
    /// When the dialog times out unless refreshed.
    pub lifetime_end: Instant,
}

/// State 1: INVITE seen, no reply yet.
#[derive(Debug, Clone)]
pub struct Unconfirmed {
    pub core: Core,
}

/// State 2: a provisional reply seen. `forks` holds one leg per To tag of
/// the 1xx replies, in arrival order (RFC 3261 §12.1.2 early dialogs).
#[derive(Debug, Clone)]
pub struct Early {
    pub core: Core,
    pub forks: Vec<Leg>,
}

/// State 3: a 2xx seen, ACK pending.
#[derive(Debug, Clone)]
pub struct ConfirmedNoAck {
    pub core: Core,
    pub answer: Answer,
    /// `noack_timeout` passed and the lifetime was cut to 10 s.
    pub ack_overdue: bool,
}

/// State 4: ACK seen.
#[derive(Debug, Clone)]
pub struct Confirmed {
    pub core: Core,
    pub answer: Answer,
}

/// State 5: over; kept `end_timeout` to absorb late messages.
#[derive(Debug, Clone)]
pub struct Terminated {
    pub core: Core,
    /// The answer, for a dialog that was confirmed (BYEs are built from it).
    pub answer: Option<Answer>,
    pub end: Instant,
    pub cause: EndCause,
}

/// Why a dialog ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndCause {
    /// A final reply ≥300 to the INVITE before any 2xx (487 after CANCEL too).
    Failed(u16),
    /// A BYE, sent in this direction.
    Bye(Direction),
    /// Ended by the proxy (`dlg.end_dlg`): BYEs go both ways.
    Local,
    /// The lifetime ran out in state 3 or 4.
    Expired,
    /// `early_timeout` ran out in state 1 or 2.
    EarlyTimeout,
}

/// Whichever state a dialog is in.
#[derive(Debug, Clone)]
pub enum Dialog {
    Unconfirmed(Unconfirmed),
    Early(Early),
    ConfirmedNoAck(ConfirmedNoAck),
    Confirmed(Confirmed),
    Terminated(Terminated),
}

impl Dialog {
    pub fn state(&self) -> State {
        match self {
            Dialog::Unconfirmed(_) => State::Unconfirmed,
            Dialog::Early(_) => State::Early,
            Dialog::ConfirmedNoAck(_) => State::ConfirmedNoAck,
            Dialog::Confirmed(_) => State::Confirmed,
            Dialog::Terminated(_) => State::Terminated,
        }
    }

    pub fn core(&self) -> &Core {
        match self {
            Dialog::Unconfirmed(d) => &d.core,
            Dialog::Early(d) => &d.core,
            Dialog::ConfirmedNoAck(d) => &d.core,
            Dialog::Confirmed(d) => &d.core,
            Dialog::Terminated(d) => &d.core,
        }
    }

    pub(super) fn core_mut(&mut self) -> &mut Core {
        match self {
            Dialog::Unconfirmed(d) => &mut d.core,
            Dialog::Early(d) => &mut d.core,
            Dialog::ConfirmedNoAck(d) => &mut d.core,
            Dialog::Confirmed(d) => &mut d.core,
            Dialog::Terminated(d) => &mut d.core,
        }
    }

    pub fn handle(&self) -> DialogHandle {
        self.core().handle
    }

    /// The answer, once a 2xx was seen (also after the dialog ended).
    pub fn answer(&self) -> Option<&Answer> {
        match self {
            Dialog::ConfirmedNoAck(d) => Some(&d.answer),
            Dialog::Confirmed(d) => Some(&d.answer),
            Dialog::Terminated(d) => d.answer.as_ref(),
            Dialog::Unconfirmed(_) | Dialog::Early(_) => None,
        }
    }

    /// The callee leg, once answered.
    pub fn callee(&self) -> Option<&Leg> {
        self.answer().map(|a| &a.callee)
    }

    /// The full RFC 3261 identity, once the callee tag is known.
    pub fn id(&self) -> Option<DialogId> {
        let core = self.core();
        self.callee().map(|callee| DialogId {
            call_id: core.call_id.clone(),
            from_tag: core.caller.tag.clone(),
            to_tag: callee.tag.clone(),
        })
    }

    /// The To tags of the early forks (state 2 only).
    pub fn forks(&self) -> &[Leg] {
        match self {
            Dialog::Early(d) => &d.forks,
            _ => &[],
        }
    }
}

impl Unconfirmed {
    /// DLG_EVENT_RPL1xx: 1 → 2.
    pub fn provisional(self, fork: Option<Leg>) -> Early {
        self.early().provisional(fork)
    }

    /// DLG_EVENT_RPL2xx: 1 → 3.
    pub fn answer(self, answer: Answer) -> ConfirmedNoAck {
        self.early().answer(answer)
    }

    /// DLG_EVENT_RPL3xx: 1 → 5.
    pub fn fail(self, code: u16, now: Instant) -> Terminated {
        self.early().fail(code, now)
    }

    /// `early_timeout` ran out: 1 → 5.
    pub fn time_out(self, now: Instant) -> Terminated {
        self.early().time_out(now)
    }

    /// The same transitions as from Early, with no fork heard yet.
    fn early(self) -> Early {
        Early { core: self.core, forks: Vec::new() }
    }
}

impl Early {
    /// DLG_EVENT_RPL1xx: 2 → 2. A repeated To tag refreshes that fork.
    pub fn provisional(mut self, fork: Option<Leg>) -> Early {
        if let Some(fork) = fork {
            match self.forks.iter_mut().find(|f| f.tag == fork.tag) {
                Some(known) => *known = fork,
                None => self.forks.push(fork),
            }
        }
        self
    }

    /// DLG_EVENT_RPL2xx: 2 → 3. The first 2xx wins, whichever fork sent it.
    pub fn answer(self, answer: Answer) -> ConfirmedNoAck {
        ConfirmedNoAck { core: self.core, answer, ack_overdue: false }
    }

    /// DLG_EVENT_RPL3xx: 2 → 5.
    pub fn fail(self, code: u16, now: Instant) -> Terminated {
        Terminated { core: self.core, answer: None, end: now, cause: EndCause::Failed(code) }
    }

    /// `early_timeout` ran out: 2 → 5.
    pub fn time_out(self, now: Instant) -> Terminated {
        Terminated { core: self.core, answer: None, end: now, cause: EndCause::EarlyTimeout }
    }
}

impl ConfirmedNoAck {
    /// DLG_EVENT_REQACK: 3 → 4; the lifetime restarts. A late ACK (after
    /// the cut to 10 s) restores `lifetime`: the call is up. Kamailio keeps
    /// the 10 s there and ends the call; that is a documented difference.
    pub fn ack(self, lifetime: Duration, now: Instant) -> Confirmed {
        let mut answer = self.answer;
        answer.lifetime = lifetime;
        answer.lifetime_end = now + lifetime;
        Confirmed { core: self.core, answer }
    }

    /// `noack_timeout` passed without ACK: lifetime becomes 10 s from now
    /// (dlg_hash.c `dlg_clean_run`).
    pub fn ack_overdue(mut self, grace: Duration, now: Instant) -> ConfirmedNoAck {
        self.answer.lifetime = grace;
        self.answer.lifetime_end = now + grace;
        self.ack_overdue = true;
        self
    }

    /// DLG_EVENT_REQBYE, the lifetime ran out, or the proxy ends it: 3 → 5.
    pub fn end(self, cause: EndCause, now: Instant) -> Terminated {
        Terminated { core: self.core, answer: Some(self.answer), end: now, cause }
    }
}

impl Confirmed {
    /// An in-dialog request restarts the lifetime (unless `timeout_noreset`).
    pub fn refresh(mut self, now: Instant) -> Confirmed {
        self.answer.lifetime_end = now + self.answer.lifetime;
        self
    }

    /// DLG_EVENT_REQBYE, the lifetime ran out, or the proxy ends it: 4 → 5.
    pub fn end(self, cause: EndCause, now: Instant) -> Terminated {
        Terminated { core: self.core, answer: Some(self.answer), end: now, cause }
    }
}

impl Terminated {
    /// DLG_EVENT_RPL2xx in state 5: a 2xx after a failure (the callee
    /// answered while the CANCEL was on its way) brings a dialog that never
    /// had a BYE back to 3, as `next_state_dlg` does. Any other ended
    /// dialog stays ended.
    pub fn revive(self, answer: Answer) -> Dialog {
        match self.cause {
            EndCause::Failed(_) => {
                Dialog::ConfirmedNoAck(ConfirmedNoAck { core: self.core, answer, ack_overdue: false })
            }
            _ => Dialog::Terminated(self),
        }
    }
}
