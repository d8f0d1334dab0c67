//! The change feed: after every commit, before anybody is told the commit happened, the
//! writer publishes which tables it changed. Caches and snapshots (the RADIUS client
//! table, the user cache, the role map, the directories) follow the feed instead of being
//! reloaded by whoever changed them: a [`Follower`] rebuilds its value on first use after
//! any of its tables changed. Because the writer publishes before it replies, whoever
//! made a change sees it reflected in every snapshot as soon as the change is
//! acknowledged.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// What a snapshot can depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Clients,
    Users,
    Roles,
    Admins,
    Sites,
    Directories,
    Certs,
    /// Appliance-wide switches (lockdown).
    Settings,
    /// User and computer policies, assignments and rules.
    Policies,
    /// Computers, as administrators change them (not as requests register them).
    Computers,
    /// Lockout counts, as administrators clear them.
    Lockouts,
}

const TABLES: usize = 11;

impl Table {
    const fn index(self) -> usize {
        match self {
            Table::Clients => 0,
            Table::Users => 1,
            Table::Roles => 2,
            Table::Admins => 3,
            Table::Sites => 4,
            Table::Directories => 5,
            Table::Certs => 6,
            Table::Settings => 7,
            Table::Policies => 8,
            Table::Computers => 9,
            Table::Lockouts => 10,
        }
    }
}

/// A set of tables.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tables(u16);

impl Tables {
    pub const NONE: Tables = Tables(0);

    #[must_use]
    pub const fn of(list: &[Table]) -> Self {
        let mut bits = 0u16;
        let mut i = 0;
        while i < list.len() {
            bits |= 1 << list[i].index();
            i += 1;
        }
        Tables(bits)
    }

    #[must_use]
    pub fn with(self, other: Tables) -> Tables {
        Tables(self.0 | other.0)
    }

    #[must_use]
    pub fn contains(self, t: Table) -> bool {
        self.0 & (1 << t.index()) != 0
    }

    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Generations per table, bumped by the writer after each commit that changed them.
#[derive(Debug, Default)]
pub struct ChangeFeed {
    generations: [AtomicU64; TABLES],
}

impl ChangeFeed {
    /// The sum of the generations of `tables`: it changes whenever any of them changes.
    #[must_use]
    pub fn generation(&self, tables: Tables) -> u64 {
        let mut sum = 0u64;
        for (i, g) in self.generations.iter().enumerate() {
            if tables.0 & (1 << i) != 0 {
                sum = sum.wrapping_add(g.load(Ordering::Acquire));
            }
        }
        sum
    }

    /// Called by the writer after a commit, before its replies.
    pub(crate) fn publish(&self, changed: Tables) {
        for (i, g) in self.generations.iter().enumerate() {
            if changed.0 & (1 << i) != 0 {
                g.fetch_add(1, Ordering::Release);
            }
        }
    }
}

/// A value derived from some tables, rebuilt on its first use after any of them changed.
/// The generation is read before the value is built, so a commit that lands meanwhile
/// can only make the value stale (rebuilt next time), never wrong.
#[derive(Debug)]
pub struct Follower<T> {
    tables: Tables,
    current: RwLock<Option<(u64, Arc<T>)>>,
}

impl<T> Follower<T> {
    #[must_use]
    pub fn new(tables: &[Table]) -> Self {
        Self {
            tables: Tables::of(tables),
            current: RwLock::new(None),
        }
    }

    /// The value, rebuilt with `build` when the tables changed since it was built.
    ///
    /// # Errors
    /// `build`'s; the stale value is not kept in that case.
    pub fn get<E>(
        &self,
        feed: &ChangeFeed,
        build: impl FnOnce() -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let generation = feed.generation(self.tables);
        if let Ok(current) = self.current.read()
            && let Some((built_at, value)) = current.as_ref()
            && *built_at == generation
        {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(build()?);
        if let Ok(mut current) = self.current.write() {
            *current = Some((generation, Arc::clone(&value)));
        }
        Ok(value)
    }

    /// Makes the next [`get`](Self::get) rebuild, for inputs that are not tables (a
    /// reloaded setting).
    pub fn reset(&self) {
        if let Ok(mut current) = self.current.write() {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follower_rebuilds_only_after_its_tables_change() {
        let feed = ChangeFeed::default();
        let f = Follower::<u32>::new(&[Table::Clients, Table::Sites]);
        let mut builds = 0;
        let mut get = |feed: &ChangeFeed| {
            *f.get::<()>(feed, || {
                builds += 1;
                Ok(builds)
            })
            .unwrap()
        };
        assert_eq!(get(&feed), 1);
        assert_eq!(get(&feed), 1);
        feed.publish(Tables::of(&[Table::Users]));
        assert_eq!(get(&feed), 1);
        feed.publish(Tables::of(&[Table::Sites]));
        assert_eq!(get(&feed), 2);
        feed.publish(Tables::of(&[Table::Clients, Table::Roles]));
        assert_eq!(get(&feed), 3);
    }
}
