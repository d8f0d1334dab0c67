//! Administration: the wire protocol, the operations catalogue, typed commands, the
//! authorization choke point, the socket server and the command handlers.

pub mod authz;
pub mod client;
pub mod command;
pub mod handlers;
pub mod proto;
pub mod server;
