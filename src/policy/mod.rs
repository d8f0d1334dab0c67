//! User and computer policies, pure: what a policy says, how two combine, which policy a
//! user or computer gets, and when access hours are open. The RADIUS path, `policy
//! explain` and `radius trace` all decide through here, so they cannot disagree.

pub mod assign;
pub mod combine;
pub mod evaluate;
pub mod explain;
pub mod hours;
pub mod identity;
pub mod lockout;
pub mod method;
pub mod reply;
pub mod rules;
pub mod set;
pub mod spec;
pub mod stored;

pub use combine::{Effective, Restriction, Verdict, combine, constrain};
pub use method::{Method, Methods};
pub use spec::{ComputerPolicy, Lockout, Mode, SecondFactor, UserPolicy};
