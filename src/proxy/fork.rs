//! Forking a request to a registered user (RFC 3261 §16.6, and §16.7 for
//! moving on): one branch per binding the lookup returned, tried serially
//! by q group, highest q first, and in parallel within a group. The next
//! group starts only when every branch of the current one ended with a
//! final response of 300 or more (or timed out) and the request was not
//! cancelled, as Kamailio's t_load_contacts/t_next_contacts do from a
//! failure_route.
//!
//! A binding without a q value counts as q=1.0, the highest, so an
//! unspecified q never waits behind an explicit one.

use crate::registrar::OwnedTarget;
use std::collections::VecDeque;

/// q of a binding without one (thousandths).
const UNSPECIFIED_Q: u16 = 1000;

/// What to answer when there is nothing to fork to (Kamailio default
/// script, route[LOCATION]: lookup() returned -1).
pub const NOT_FOUND: (u16, &str) = (404, "Not Found");

/// The branches of one request, grouped by q. It owns its targets: a
/// transaction keeps the groups not tried yet until its branches fail.
#[derive(Debug, Default)]
pub struct ForkPlan {
    /// Highest q first; within a group, the lookup's order (older first
    /// for equal q, or as `desc_time_order` says).
    groups: VecDeque<Vec<OwnedTarget>>,
}

impl ForkPlan {
    /// Groups `targets` (in lookup order) by q. `None` when there are no
    /// targets: answer `NOT_FOUND`.
    pub fn new(targets: impl IntoIterator<Item = OwnedTarget>) -> Option<ForkPlan> {
        let mut all: Vec<OwnedTarget> = targets.into_iter().collect();
        if all.is_empty() {
            return None;
        }
        // Stable: equal q keeps the lookup's order.
        all.sort_by_key(|t| std::cmp::Reverse(q_of(t)));
        let mut groups: VecDeque<Vec<OwnedTarget>> = VecDeque::new();
        for t in all {
            match groups.back_mut() {
                Some(g) if g.first().map(q_of) == Some(q_of(&t)) => g.push(t),
                _ => groups.push_back(vec![t]),
            }
        }
        Some(ForkPlan { groups })
    }

    /// The next group to send in parallel, or `None` when every group was
    /// tried (the best final response collected so far is then relayed).
    pub fn next_group(&mut self) -> Option<Vec<OwnedTarget>> {
        self.groups.pop_front()
    }

    /// Groups not started yet.
    pub fn remaining(&self) -> usize {
        self.groups.len()
    }
}

fn q_of(t: &OwnedTarget) -> u16 {
    t.q.unwrap_or(UNSPECIFIED_Q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registrar::{BindingFlags, OwnedDestination};
    use crate::sip::transport::Transport;

    fn target(uri: &'static str, q: Option<u16>) -> OwnedTarget {
        OwnedTarget {
            uri: uri.as_bytes().into(),
            dst: OwnedDestination::Contact,
            path: None,
            local: "198.51.100.1:5060".parse().unwrap(),
            transport: Transport::Udp,
            flags: BindingFlags::default(),
            q,
        }
    }

    fn uris(group: Vec<OwnedTarget>) -> Vec<String> {
        group.iter().map(|t| String::from_utf8_lossy(&t.uri).into_owned()).collect()
    }

    #[test]
    fn no_binding_means_not_found() {
        assert!(ForkPlan::new(Vec::new()).is_none());
        assert_eq!(NOT_FOUND, (404, "Not Found"));
    }

    #[test]
    fn groups_run_highest_q_first_and_keep_lookup_order_within() {
        let mut plan = ForkPlan::new(vec![
            target("sip:a@192.0.2.1", Some(500)),
            target("sip:b@192.0.2.2", Some(900)),
            target("sip:c@192.0.2.3", Some(500)),
            target("sip:d@192.0.2.4", Some(100)),
            target("sip:e@192.0.2.5", Some(900)),
        ])
        .unwrap();
        assert_eq!(plan.remaining(), 3);
        assert_eq!(uris(plan.next_group().unwrap()), ["sip:b@192.0.2.2", "sip:e@192.0.2.5"]);
        assert_eq!(uris(plan.next_group().unwrap()), ["sip:a@192.0.2.1", "sip:c@192.0.2.3"]);
        assert_eq!(uris(plan.next_group().unwrap()), ["sip:d@192.0.2.4"]);
        assert_eq!(plan.remaining(), 0);
        assert!(plan.next_group().is_none());
    }

    #[test]
    fn unspecified_q_forks_with_the_best() {
        let mut plan = ForkPlan::new(vec![
            target("sip:a@192.0.2.1", Some(1000)),
            target("sip:b@192.0.2.2", None),
            target("sip:c@192.0.2.3", Some(999)),
        ])
        .unwrap();
        assert_eq!(uris(plan.next_group().unwrap()), ["sip:a@192.0.2.1", "sip:b@192.0.2.2"]);
        assert_eq!(uris(plan.next_group().unwrap()), ["sip:c@192.0.2.3"]);
    }

    #[test]
    fn one_binding_is_one_branch() {
        let mut plan = ForkPlan::new(vec![target("sip:a@192.0.2.1", Some(0))]).unwrap();
        assert_eq!(plan.next_group().map(|g| g.len()), Some(1));
        assert!(plan.next_group().is_none());
    }
}
