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

/// Why a dictionary file was refused, with the file and line to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct DictError {
    pub file: String,
    /// 1-based; the last line for problems found at the end of the file.
    pub line: usize,
    pub reason: DictErrorKind,
}

/// What is wrong with a dictionary line. Definitions are named the way
/// FreeRADIUS files write them, so an administrator can find both sides of
/// a conflict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictErrorKind {
    #[error("line of {len} octets exceeds the maximum of {max}")]
    LineTooLong { len: usize, max: usize },
    #[error("more than {max} definitions")]
    TooManyDefinitions { max: usize },
    #[error(
        "$INCLUDE is not supported: every file of the dictionary directory is loaded, \
         so put {target} there instead"
    )]
    Include { target: String },
    #[error("unknown keyword {word:?}")]
    UnknownKeyword { word: String },
    #[error("{keyword} is not supported: {why}")]
    UnsupportedKeyword { keyword: String, why: &'static str },
    #[error("expected `{usage}`")]
    Usage { usage: &'static str },
    #[error(
        "invalid name {name:?}: names are 1 to 128 letters, digits and - _ . / + , \
         other names end in a letter or digit, and VALUE names are not plain numbers"
    )]
    BadName { name: String },
    #[error("{text:?} is not a number")]
    BadNumber { text: String },
    #[error("{what} {number} is outside {min}..={max}")]
    OutOfRange {
        what: &'static str,
        number: u64,
        min: u64,
        max: u64,
    },
    #[error("attribute number {text} names a TLV member, which is not supported")]
    TlvMember { text: String },
    #[error(
        "attribute {number} is in the RFC 6929 extended space (241..=246), which is not supported"
    )]
    ExtendedSpace { number: u64 },
    #[error("unknown type {typ:?}")]
    UnknownType { typ: String },
    #[error("type {typ} is not supported: {why}")]
    UnsupportedType { typ: String, why: &'static str },
    #[error("unknown flag {flag:?}")]
    UnknownFlag { flag: String },
    #[error("flag {flag} is not supported: {why}")]
    UnsupportedFlag { flag: String, why: &'static str },
    #[error("flag {flag} cannot be used with type {typ}")]
    FlagNotForType { flag: String, typ: String },
    #[error("{name} is defined twice: here as {new}, before as {old}")]
    DuplicateAttribute {
        name: String,
        new: String,
        old: String,
    },
    #[error("{name} is {new}, but that number is {old}")]
    NumberClash {
        name: String,
        new: String,
        old: String,
    },
    #[error("unknown vendor {name:?}")]
    UnknownVendor { name: String },
    #[error("vendor {name} is defined twice: here as {new}, before as {old}")]
    DuplicateVendor {
        name: String,
        new: String,
        old: String,
    },
    #[error("vendor format {format:?} is not supported: {why}")]
    BadVendorFormat { format: String, why: &'static str },
    #[error("BEGIN-VENDOR {name} inside BEGIN-VENDOR {open} of line {line}")]
    NestedVendor {
        name: String,
        open: String,
        line: usize,
    },
    #[error("END-VENDOR {name} does not close {}", open.as_deref().unwrap_or("any BEGIN-VENDOR"))]
    UnmatchedEndVendor { name: String, open: Option<String> },
    #[error("BEGIN-VENDOR {name} of line {line} is never closed")]
    UnclosedVendor { name: String, line: usize },
    #[error("VALUE for unknown attribute {attr:?}")]
    ValueForUnknownAttribute { attr: String },
    #[error(
        "VALUE for {attr}, of type {typ}: only integer, byte and short attributes have named values"
    )]
    ValueNotForType { attr: String, typ: &'static str },
    #[error("VALUE {name} of {attr} is defined twice: here as {new}, before as {old}")]
    DuplicateValue {
        attr: String,
        name: String,
        new: u64,
        old: u64,
    },
}

/// Why a reply attribute given as text (`Name=value`) cannot be encoded.
/// Values are echoed clipped, so a pasted blob cannot flood a log line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrValueError {
    #[error("attribute text of {len} octets exceeds the maximum of {max}")]
    TextTooLong { len: usize, max: usize },
    #[error("expected Name=value, got {text:?}")]
    Syntax { text: String },
    #[error("{text:?}: write Name=value; operators such as := and += are not used here")]
    Operator { text: String },
    #[error("unknown attribute {name:?}")]
    UnknownAttribute { name: String },
    #[error("{name} cannot be set by a policy: {reason}")]
    Forbidden { name: String, reason: &'static str },
    #[error("{name} takes no tag: only tagged (tunnel) attributes do")]
    TagNotAllowed { name: String },
    #[error("{name}: tag {tag:?} is not a number in 0..=31")]
    BadTag { name: String, tag: String },
    #[error("{name}: empty value")]
    Empty { name: String },
    #[error("{name}: {value:?} is not {expected}")]
    BadValue {
        name: String,
        value: String,
        expected: &'static str,
    },
    #[error("{name}: {value} exceeds the maximum of {max}")]
    OutOfRange { name: String, value: u64, max: u64 },
    #[error("{name}: value of {len} octets exceeds the maximum of {max}")]
    TooLong {
        name: String,
        len: usize,
        max: usize,
    },
    #[error(
        "{name}: vendor {vendor} numbers its attributes with {type_len} octets; \
         only vendors with one-octet attribute numbers can be sent in replies"
    )]
    UnsupportedVendorFormat {
        name: String,
        vendor: String,
        type_len: u8,
    },
    #[error("VLAN {id} is outside 1..=4094")]
    VlanOutOfRange { id: u16 },
}
