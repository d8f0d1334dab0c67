//! The domain vocabulary, the lowest floor: records and statuses, the redacting secret
//! type, user references, scopes and access levels, the operations catalogue, stored
//! roles and IP networks. Pure: every other module may import it, and it imports none of
//! them (only `time` for the `UnixTime` of its records).

pub mod cidr;
pub mod duration;
pub mod names;
pub mod operation;
pub mod records;
pub mod role;
pub mod scope;
pub mod secret;
pub mod user_ref;

pub use cidr::IpNet;
pub use operation::{Family, Operation};
pub use records::*;
pub use scope::{AccessLevel, ComputerScope, UserScope};
pub use secret::Secret;
pub use user_ref::UserRef;
