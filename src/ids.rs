//! Newtypes for identities (DESIGN.md style rule 5).

/// Index of a shard: one thread, one core, one slice of every table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(pub u16);

/// Index of a listen address in `[core] listen` order; every shard has a
/// socket for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(pub u16);
