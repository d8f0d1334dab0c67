//! Fixed sizes of the RADIUS packet layout (RFC 2865 §3), shared by the codec and the
//! authenticator arithmetic.

/// Largest packet RFC 2865 allows.
pub const MAX_PACKET_LEN: usize = 4096;
/// Code, Identifier, Length and Authenticator.
pub const HEADER_LEN: usize = 20;
