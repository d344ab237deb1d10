//! [`ClientTx`]: one client transaction of either kind, as the proxy core
//! keeps it in its map.

use super::action::{Actions, Packet};
use super::client_invite::ClientInvite;
use super::client_non_invite::ClientNonInvite;
use super::error::TxError;
use super::key::TxKey;
use super::timers::{TimerConfig, TimerKind};
use crate::sip::{Message, Method};

#[derive(Debug)]
pub enum ClientTx {
    Invite(ClientInvite),
    NonInvite(ClientNonInvite),
}

impl ClientTx {
    /// Starts a client transaction for a request the core is about to send
    /// (its own forwarded copy, with our branch on top) and returns the key
    /// its responses will match (RFC 3261 §17.1.3). The request goes out
    /// through `out`.
    pub fn new(request: Packet, cfg: &TimerConfig, out: &mut Actions) -> Result<(TxKey, ClientTx), TxError> {
        let (key, invite) = {
            let msg = Message::parse(&request).map_err(TxError::Unparsable)?;
            classify(&msg)?
        };
        Ok((key, Self::start(request, invite, cfg, out)))
    }

    /// As [`ClientTx::new`], for a caller that has parsed the request
    /// already: `msg` is a view of the same bytes as `request`.
    pub fn with_parsed(
        request: Packet,
        msg: &Message<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(TxKey, ClientTx), TxError> {
        debug_assert_eq!(msg.as_bytes(), &request[..msg.as_bytes().len()]);
        let (key, invite) = classify(msg)?;
        Ok((key, Self::start(request, invite, cfg, out)))
    }

    /// As [`ClientTx::new`], for a caller that built the request and so
    /// knows the branch it put in the top Via and the CSeq method: nothing
    /// is parsed.
    pub fn with_branch(
        request: Packet,
        branch: &[u8],
        cseq_method: Method<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(TxKey, ClientTx), TxError> {
        let invite = is_invite(cseq_method)?;
        Ok((TxKey::client_for(branch, cseq_method), Self::start(request, invite, cfg, out)))
    }

    fn start(request: Packet, invite: bool, cfg: &TimerConfig, out: &mut Actions) -> ClientTx {
        if invite {
            ClientTx::Invite(ClientInvite::start(request, cfg, out))
        } else {
            ClientTx::NonInvite(ClientNonInvite::start(request, cfg, out))
        }
    }

    /// A response matched to this transaction by [`TxKey::client`].
    pub fn handle_response(
        &mut self,
        response: &Message<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        match self {
            ClientTx::Invite(tx) => tx.handle_response(response, cfg, out),
            ClientTx::NonInvite(tx) => tx.handle_response(response, cfg, out),
        }
    }

    pub fn handle_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        match self {
            ClientTx::Invite(tx) => tx.handle_timer(kind, cfg, out),
            ClientTx::NonInvite(tx) => tx.handle_timer(kind, cfg, out),
        }
    }

    /// Cancels an INVITE branch (see [`ClientInvite::cancel`]); a non-INVITE
    /// is left alone, RFC 3261 §9.1 says not to cancel it.
    pub fn cancel(&mut self, out: &mut Actions) {
        if let ClientTx::Invite(tx) = self {
            tx.cancel(out);
        }
    }

    pub fn handle_transport_error(&mut self, out: &mut Actions) {
        match self {
            ClientTx::Invite(tx) => tx.handle_transport_error(out),
            ClientTx::NonInvite(tx) => tx.handle_transport_error(out),
        }
    }

    pub fn is_invite(&self) -> bool {
        matches!(self, ClientTx::Invite(_))
    }

    pub fn is_terminated(&self) -> bool {
        match self {
            ClientTx::Invite(tx) => tx.is_terminated(),
            ClientTx::NonInvite(tx) => tx.is_terminated(),
        }
    }

    pub fn state_name(&self) -> &'static str {
        match self {
            ClientTx::Invite(tx) => tx.state_name(),
            ClientTx::NonInvite(tx) => tx.state_name(),
        }
    }
}

/// The key a request's responses will match, and whether it is an INVITE;
/// an ACK starts no transaction (RFC 3261 §17.1.1.3).
fn classify(msg: &Message<'_>) -> Result<(TxKey, bool), TxError> {
    let invite = is_invite(msg.method().ok_or(TxError::WrongKind("request"))?)?;
    Ok((TxKey::client(msg)?, invite))
}

/// Whether a request of `method` starts an INVITE client transaction; an
/// ACK starts none.
fn is_invite(method: Method<'_>) -> Result<bool, TxError> {
    match method {
        Method::Invite => Ok(true),
        Method::Ack => Err(TxError::AckCreatesNoTransaction),
        _ => Ok(false),
    }
}
