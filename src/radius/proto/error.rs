//! Error types of the codec.
//!
//! Every variant carries the numbers that made the input invalid, so a log
//! line can say *why* a datagram was dropped without dumping its bytes
//! (which may hold hidden passwords).

use super::code::Code;

/// Why a datagram or an attribute value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("datagram of {len} octets is shorter than the 20-octet RADIUS header")]
    TooShort { len: usize },
    #[error("Length field {len} is below the 20-octet minimum")]
    LengthBelowHeader { len: usize },
    #[error("Length field {len} exceeds the 4096-octet maximum")]
    TooLong { len: usize },
    #[error("Length field {header} exceeds the {actual} octets received")]
    LengthMismatch { header: usize, actual: usize },
    #[error("attribute {typ} at offset {offset} has invalid length {len}")]
    BadAttributeLength { typ: u8, len: usize, offset: usize },
    #[error("attribute {typ} at offset {offset} runs past the packet Length")]
    AttributeOverrun { typ: u8, offset: usize },
    #[error("Message-Authenticator has length {len}, must be 18")]
    BadMessageAuthenticatorLength { len: usize },
    #[error("more than one Message-Authenticator attribute")]
    DuplicateMessageAuthenticator,
    #[error("Vendor-Specific value of {len} octets is too short")]
    VsaTooShort { len: usize },
    #[error("vendor {vendor_id} sub-attribute {typ} at offset {offset} has invalid length {len}")]
    BadVsaLength {
        vendor_id: u32,
        typ: u8,
        len: usize,
        offset: usize,
    },
    #[error("vendor {vendor_id} sub-attribute {typ} at offset {offset} runs past the value")]
    VsaOverrun {
        vendor_id: u32,
        typ: u8,
        offset: usize,
    },
    #[error("tagged integer has length {len}, must be 4")]
    BadTaggedIntegerLength { len: usize },
}

/// Why a packet or an attribute could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("encoded packet would be {len} octets, maximum is 4096")]
    TooLong { len: usize },
    #[error("attribute {typ} value of {len} octets exceeds 253")]
    AttributeTooLong { typ: u8, len: usize },
    #[error("vendor {vendor_id} sub-attribute {typ} value of {len} octets does not fit")]
    VsaTooLong { vendor_id: u32, typ: u8, len: usize },
    #[error("tag {tag} is outside 0..=0x1F")]
    InvalidTag { tag: u8 },
    #[error("tagged integer {value} does not fit in 24 bits")]
    TaggedValueTooLarge { value: u32 },
    #[error("{code:?} is not a request code")]
    NotARequest { code: Code },
    #[error("{code:?} is not a response code")]
    NotAResponse { code: Code },
    #[error("a cleartext User-Password can only be sent in an Access-Request, not {code:?}")]
    UserPasswordNotAllowed { code: Code },
    #[error("HMAC-MD5 rejected the shared secret")]
    MacKey,
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// Why a User-Password, Tunnel-Password or MPPE key could not be hidden or revealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("hidden value of {len} octets is not a multiple of 16 in {min}..={max}")]
    BadHiddenLength { len: usize, min: usize, max: usize },
    #[error("cleartext of {len} octets exceeds the maximum of {max}")]
    TooLong { len: usize, max: usize },
    #[error("tag {tag} is outside 0..=0x1F")]
    InvalidTag { tag: u8 },
    #[error("embedded length {data_len} exceeds the {available} decrypted octets")]
    BadDataLength { data_len: usize, available: usize },
}
