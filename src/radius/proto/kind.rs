//! The shapes of dictionary entries: how an attribute's value octets are
//! read, and the rows of the built-in tables. Kept apart from the tables so
//! the standard table (`dict`) and the vendor tables (`vendors`) can both use
//! them without importing each other.

/// How an attribute's value octets are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrKind {
    /// UTF-8 text.
    Text,
    /// Opaque octets.
    String,
    Integer,
    IpAddr,
    Ipv6Addr,
    Ipv6Prefix,
    /// Seconds since 1970-01-01 UTC, 32 bits.
    Date,
    TaggedText,
    TaggedInteger,
    /// User-Password, hidden per RFC 2865 §5.2.
    EncryptedPassword,
    /// Tag, salt and RFC 2868 §3.5 hiding.
    TunnelPassword,
    /// Salt and RFC 2548 §2.4.2 hiding, without a tag (MS-MPPE keys).
    SaltEncrypted,
    Vsa,
    /// One octet, unsigned.
    Byte,
    /// Two octets, unsigned.
    Short,
    /// Eight octets, unsigned.
    Integer64,
    /// A 6-octet MAC address.
    Ether,
    /// An 8-octet IPv6 interface identifier (RFC 3162 §2.2).
    Ifid,
}

impl AttrKind {
    /// The type as a FreeRADIUS dictionary spells it, flags included, so
    /// error messages name definitions the way the files do.
    #[must_use]
    pub fn freeradius_type(self) -> &'static str {
        match self {
            Self::Text => "string",
            Self::String => "octets",
            Self::Integer => "integer",
            Self::IpAddr => "ipaddr",
            Self::Ipv6Addr => "ipv6addr",
            Self::Ipv6Prefix => "ipv6prefix",
            Self::Date => "date",
            Self::TaggedText => "string has_tag",
            Self::TaggedInteger => "integer has_tag",
            Self::EncryptedPassword => "string encrypt=1",
            Self::TunnelPassword => "string has_tag,encrypt=2",
            Self::SaltEncrypted => "octets encrypt=2",
            Self::Vsa => "vsa",
            Self::Byte => "byte",
            Self::Short => "short",
            Self::Integer64 => "integer64",
            Self::Ether => "ether",
            Self::Ifid => "ifid",
        }
    }

    /// Whether the value is hidden with the shared secret on the wire.
    #[must_use]
    pub fn is_encrypted(self) -> bool {
        matches!(
            self,
            Self::EncryptedPassword | Self::TunnelPassword | Self::SaltEncrypted
        )
    }

    /// Whether VALUE names may stand for numbers of this kind (FreeRADIUS
    /// refuses them for integer64, and so do we).
    #[must_use]
    pub fn takes_value_names(self) -> bool {
        matches!(
            self,
            Self::Integer | Self::TaggedInteger | Self::Byte | Self::Short
        )
    }

    /// The largest number a value of this kind can carry, for kinds that
    /// carry numbers.
    #[must_use]
    pub fn max_number(self) -> Option<u64> {
        match self {
            Self::Byte => Some(u64::from(u8::MAX)),
            Self::Short => Some(u64::from(u16::MAX)),
            // RFC 2868 §3.1: the tag takes the first of the four octets.
            Self::TaggedInteger => Some(0x00FF_FFFF),
            Self::Integer | Self::Date => Some(u64::from(u32::MAX)),
            Self::Integer64 => Some(u64::MAX),
            _ => None,
        }
    }
}

/// A standard attribute (vendor 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub typ: u8,
    pub name: &'static str,
    pub kind: AttrKind,
}

/// A vendor attribute of a built-in vendor; every built-in vendor uses the
/// RFC 2865 §5.26 layout (one-octet type and length).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorAttrDef {
    pub vendor_id: u32,
    pub typ: u8,
    pub name: &'static str,
    pub kind: AttrKind,
}

/// A named number of an attribute (`VALUE attr name number`); `vendor_id`
/// is 0 for standard attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueDef {
    pub vendor_id: u32,
    pub typ: u8,
    pub name: &'static str,
    pub value: u32,
}

/// A built-in vendor dictionary.
#[derive(Debug, Clone, Copy)]
pub struct VendorDef {
    pub id: u32,
    pub name: &'static str,
    pub attributes: &'static [VendorAttrDef],
    /// In FreeRADIUS file order: for a number with several names, the last
    /// one is the one displayed, as in FreeRADIUS.
    pub values: &'static [ValueDef],
}
