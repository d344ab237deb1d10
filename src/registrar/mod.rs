//! The registrar and its sharded location table (RFC 3261 §10.3, Kamailio
//! registrar + usrloc semantics).
//!
//! Sans-IO: [`save`] applies a parsed REGISTER to this shard's
//! [`LocationShard`] at a given `now` and returns a [`SaveOutcome`];
//! [`write_reply_headers`] turns it into reply header lines; [`lookup`]
//! yields the branches for a request to an AOR; [`LocationShard::expire`]
//! is the usrloc timer, and [`LocationShard::drain_changes`] feeds
//! persistence.

pub mod aor;
pub mod binding;
mod contact;
mod edit;
pub mod location;
pub mod lookup;
pub mod outcome;
mod path;
pub mod record;
pub mod reply;
pub mod save;
pub mod versions;

pub use aor::AorError;
pub use binding::{Aor, Binding, BindingFlags, UnixMillis};
pub use contact::{parse_q, push_q};
pub use location::{Change, ContactOrder, Counters, LocationShard, Record};
pub use lookup::{Destination, OwnedDestination, OwnedTarget, Target, lookup, lookup_owned};
pub use outcome::{SaveError, SaveOutcome, SaveResult};
pub use reply::{write_contact, write_reply_headers};
pub use save::{SaveRequest, save};
pub use versions::Versions;

#[cfg(test)]
mod location_tests;
#[cfg(test)]
mod save_tests;
