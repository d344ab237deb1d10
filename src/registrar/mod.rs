//! The registrar and its sharded location table (RFC 3261 §10.3, Kamailio
//! registrar + usrloc semantics).

pub mod binding;
pub mod store;
