//! Administration: the wire protocol and the command catalogue (shared by both
//! binaries), the authorization choke point, the socket server and the dispatcher that
//! is the only way from a request to a handler, the facts and scoped reads handlers work
//! with, and the handlers themselves.

pub mod authz;
pub mod client;
pub mod command;
pub mod context;
pub mod dispatch;
pub mod facts;
pub mod handlers;
pub mod proto;
pub mod read;
pub mod server;
