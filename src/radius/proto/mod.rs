//! RADIUS wire codec (RFC 2865, 2866, 2868, 2869, 3162, 3579, 5176), and the
//! dictionary that names attributes for reply policies: the built-in tables
//! (`dict`, `vendors`), FreeRADIUS-format files (`dictfile`), and reply
//! attributes as `Name=value` text (`reply`).
//!
//! Pure and self-contained: no I/O, no clock, no global state, and it uses
//! only `super::` paths between its files because it is mounted at
//! different places (the daemon, the fuzz target).
//!
//! Invariants this module owns:
//! - Decoding is total: every byte string yields a [`PacketView`] or a
//!   [`DecodeError`], never a panic. A view only exists for a packet whose
//!   Length is 20..=4096 and within the datagram, whose attributes exactly
//!   fill Length with lengths of at least 2, and which has at most one
//!   Message-Authenticator, of length 18.
//! - Encoding never produces an invalid packet: lengths are checked, never
//!   truncated, and a packet over 4096 octets is an error.
//! - Every response we encode, and every Access-Request/Status-Server,
//!   carries a Message-Authenticator as its first attribute.
//! - Authenticators and MACs received are compared in constant time.
//! - A reply attribute given as text becomes octets only through
//!   [`Dictionary::encode`], which refuses what a policy must never set and
//!   values that do not fit; [`Dictionary::describe`] reads any octets back.

pub mod attr;
pub mod code;
pub mod crypto;
pub mod dict;
pub mod dictfile;
pub mod dictionary;
pub mod error;
pub mod kind;
pub mod layout;
pub mod packet;
pub mod reply;
pub mod valuetext;
pub mod vendors;
pub mod verify;

pub use attr::Vsa;
pub use code::Code;
pub use dict::{AttrDef, AttrKind};
pub use dictionary::{AttrKey, Dictionary, VendorFormat};
pub use error::{
    AttrValueError, DecodeError, DictError, DictErrorKind, EncodeError, PasswordError,
};
pub use layout::{HEADER_LEN, MAX_PACKET_LEN};
pub use packet::{Attributes, Packet, PacketView};
pub use reply::{EncodedAttr, vlan};
pub use verify::MaCheck;

#[cfg(test)]
mod dictionary_proptests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod reply_tests;

#[cfg(test)]
mod test_util {
    #![allow(clippy::unwrap_used)]

    /// Hex with any whitespace, as RFC examples are printed.
    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }
}
