//! NAT detection and repair in SIP signalling: Kamailio's nathelper and
//! nat_traversal functions as pure functions over the zero-copy message
//! view (DESIGN.md: sans-IO, rewrites are range edits).
//!
//! Every function takes the parsed [`Message`](crate::sip::Message), the
//! packet's source address and transport (what Kamailio keeps in
//! `msg->rcv`), and either answers a question or queues edits on an
//! [`Editor`](crate::sip::Editor); nothing is copied and nothing is
//! allocated beyond the editor's arena and the caller's `out` buffer. The
//! exact behaviour is that of `reference/kamailio-semantics.md` §1, §2; where
//! we deliberately differ from Kamailio (its bugs), the function says so.
//!
//! | Kamailio                         | here                                  |
//! |----------------------------------|---------------------------------------|
//! | `nat_uac_test(flags)`            | [`nat_uac_test`] with [`NatTest`]     |
//! | `is_rfc1918(ip)`                 | [`is_private`], [`is_private_v4`]     |
//! | `fix_nated_contact()`            | [`fix_nated_contact`]                 |
//! | `fix_nated_register()` AVP value | [`received_uri`]                      |
//! | `add_rcv_param([flag])`          | [`add_rcv_param`]                     |
//! | `add_contact_alias()`            | [`add_contact_alias`]                 |
//! | `set_contact_alias([trim])`      | [`set_contact_alias`]                 |
//! | `handle_ruri_alias([mode])`      | [`handle_ruri_alias`] + [`format_du`] |
//! | nat_traversal `client_nat_test`  | [`client_nat_test`]                   |
//! | nat_traversal `fix_contact()`    | [`fix_contact`]                       |
//! | nat_traversal `$source_uri`      | [`received_uri`]                      |
//!
//! Source addresses are taken in canonical form: an IPv4-mapped IPv6 source
//! (`::ffff:a.b.c.d`, as a dual-stack socket reports it) is treated as the
//! IPv4 address it maps, as Kamailio sees it on an IPv4 socket.

pub mod alias;
pub mod contact;
pub mod contact_alias;
pub mod detect;
pub mod private;
pub mod received;
mod sdp_scan;

#[cfg(test)]
mod tests;

pub use alias::{DEFAULT_ALIAS_NAME, RuriAlias, decode_alias, encode_alias, format_du, handle_ruri_alias};
pub use contact::{fix_contact, fix_nated_contact};
pub use contact_alias::{AliasOutcome, add_contact_alias, set_contact_alias};
pub use detect::{ClientNatTest, NatTest, client_nat_test, nat_uac_test};
pub use private::{is_private, is_private_v4};
pub use received::{add_rcv_param, received_uri};

use crate::sip::transport::Transport;
use thiserror::Error;

/// Why a Contact repair could not be queued. Nothing is queued on the
/// editor when one of these is returned.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum NatError {
    /// Malformed input: a Contact the function has to rewrite does not
    /// parse as a name-addr (RFC 3261 §20.10). A request gets 400.
    #[error("Bad Contact header")]
    BadContact,
    /// Malformed input for this purpose: the first Contact URI has no host
    /// (a `tel:` or other non-SIP URI), so there is no host:port to repair
    /// (Kamailio's get_contact_uri fails on `uri.host.len <= 0`).
    #[error("Contact URI has no host")]
    NoContactHost,
    /// Policy / configuration: `add_rcv_param` in URI-parameter form was
    /// asked for a message that did not arrive over UDP; Kamailio refuses
    /// it ("works only for UDP", nathelper.c ki_add_rcv_param).
    #[error("received URI parameter works only for UDP, not {0}")]
    NotUdp(Transport),
}

/// Why `handle_ruri_alias` or `decode_alias` failed (Kamailio returns -1).
/// All but `NotARequest` are malformed input: the sender (or a stale
/// client, kamailio#2308) put a broken `;alias=` in the Request-URI.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum AliasError {
    /// Internal: `handle_ruri_alias` was called on a response.
    #[error("not a request")]
    NotARequest,
    /// The Request-URI does not parse (RFC 3261 §19.1).
    #[error("Bad Request-URI")]
    BadRequestUri,
    /// The value lacks one of its two `~` separators (`alias=1.2.3.4`).
    #[error("alias without '~' separator")]
    MissingSeparator,
    /// Nothing follows the second `~` (`alias=1.2.3.4~5060~`).
    #[error("alias without protocol")]
    MissingProto,
    /// The protocol is not one of Kamailio's digits 1..=6
    /// (src/core/ip_addr.h enum sip_protos).
    #[error("alias with unknown protocol")]
    UnknownProto,
    /// Bytes follow the protocol digit (`~1x`).
    #[error("junk after alias protocol")]
    TrailingJunk,
    /// The address part is not an IPv4 or IPv6 address (`[v6]` or bare).
    #[error("bad alias address")]
    BadAddress,
    /// The port part is not a decimal in 1..=65535.
    #[error("bad alias port")]
    BadPort,
}
