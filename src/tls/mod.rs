//! Certificates and TLS: inspecting uploaded certificates (pure) and building rustls
//! client configurations that trust only the administrator's chosen roots.

pub mod certs;
pub mod client;
