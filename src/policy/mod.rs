//! User and computer policies, pure: what a policy says, how two combine, which policy a
//! user or computer gets, and when access hours are open. The RADIUS path, `policy
//! explain` and `radius trace` all decide through here, so they cannot disagree.

pub mod hours;
