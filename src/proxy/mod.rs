//! Routing logic as plain functions: message + tables → decisions
//! (Kamailio's default script with WITH_NAT, step by step).

pub mod fork;
pub mod forward;
pub mod myself;
pub mod next_hop;
pub mod sanity;
pub mod stateless;
