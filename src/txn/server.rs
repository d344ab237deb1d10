//! [`ServerTx`]: one server transaction of either kind, as the proxy core
//! keeps it in its map.

use super::action::{Actions, Packet};
use super::build::trying_for;
use super::error::TxError;
use super::server_invite::ServerInvite;
use super::server_non_invite::ServerNonInvite;
use super::timers::{TimerConfig, TimerKind};
use crate::sip::{Message, Method};
use std::net::SocketAddr;

#[derive(Debug)]
pub enum ServerTx {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

impl ServerTx {
    /// Opens a server transaction for a request that matched none (looked
    /// up by [`TxKey::server`](super::TxKey::server)). An INVITE is answered
    /// at once with Kamailio's automatic 100, sent back to `source` with
    /// `server` as its Server header line. ACK opens nothing.
    pub fn new(
        request: &Message<'_>,
        source: SocketAddr,
        server: Option<&[u8]>,
        out: &mut Actions,
    ) -> Result<ServerTx, TxError> {
        match request.method().ok_or(TxError::WrongKind("request"))? {
            Method::Ack => Err(TxError::AckCreatesNoTransaction),
            Method::Invite => {
                let trying = trying_for(request, source, server);
                Ok(ServerTx::Invite(ServerInvite::start(Some(trying), out)))
            }
            _ => Ok(ServerTx::NonInvite(ServerNonInvite::start())),
        }
    }

    /// A request matched to this transaction: a retransmission, or for an
    /// INVITE the ACK to its negative final.
    pub fn handle_request(
        &mut self,
        request: &Message<'_>,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        match self {
            ServerTx::Invite(tx) => tx.handle_request(request, cfg, out),
            ServerTx::NonInvite(tx) => tx.handle_request(request, out),
        }
    }

    /// Sends a response the core built (forwarded or local) with its status code.
    pub fn send_response(
        &mut self,
        code: u16,
        response: Packet,
        cfg: &TimerConfig,
        out: &mut Actions,
    ) -> Result<(), TxError> {
        match self {
            ServerTx::Invite(tx) => tx.send_response(code, response, cfg, out),
            ServerTx::NonInvite(tx) => tx.send_response(code, response, cfg, out),
        }
    }

    pub fn handle_timer(&mut self, kind: TimerKind, cfg: &TimerConfig, out: &mut Actions) {
        match self {
            ServerTx::Invite(tx) => tx.handle_timer(kind, cfg, out),
            ServerTx::NonInvite(tx) => tx.handle_timer(kind, out),
        }
    }

    pub fn handle_transport_error(&mut self, out: &mut Actions) {
        match self {
            ServerTx::Invite(tx) => tx.handle_transport_error(out),
            ServerTx::NonInvite(tx) => tx.handle_transport_error(out),
        }
    }

    /// An INVITE transaction that sent a 2xx (RFC 6026 §7.1): an ACK
    /// matching it is end-to-end, for the core to route.
    pub fn is_accepted(&self) -> bool {
        matches!(self, ServerTx::Invite(tx) if tx.is_accepted())
    }

    /// A final response went out (or the transaction ended): a CANCEL
    /// comes too late (RFC 3261 §9.2).
    pub fn final_sent(&self) -> bool {
        match self {
            ServerTx::Invite(tx) => tx.final_sent(),
            ServerTx::NonInvite(tx) => tx.final_sent(),
        }
    }

    pub fn is_invite(&self) -> bool {
        matches!(self, ServerTx::Invite(_))
    }

    pub fn is_terminated(&self) -> bool {
        match self {
            ServerTx::Invite(tx) => tx.is_terminated(),
            ServerTx::NonInvite(tx) => tx.is_terminated(),
        }
    }

    pub fn state_name(&self) -> &'static str {
        match self {
            ServerTx::Invite(tx) => tx.state_name(),
            ServerTx::NonInvite(tx) => tx.state_name(),
        }
    }
}
