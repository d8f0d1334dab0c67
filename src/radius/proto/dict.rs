//! Built-in dictionary of the standard attributes, for logging, the admin
//! tools and configuration files that name attributes instead of numbering
//! them. The codec itself never needs it.

use super::attr::VENDOR_MICROSOFT;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub typ: u8,
    pub name: &'static str,
    pub kind: AttrKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorAttrDef {
    pub vendor_id: u32,
    pub typ: u8,
    pub name: &'static str,
    pub kind: AttrKind,
}

const fn def(typ: u8, name: &'static str, kind: AttrKind) -> AttrDef {
    AttrDef { typ, name, kind }
}

const fn ms(typ: u8, name: &'static str, kind: AttrKind) -> VendorAttrDef {
    VendorAttrDef {
        vendor_id: VENDOR_MICROSOFT,
        typ,
        name,
        kind,
    }
}

use AttrKind::{
    Date, EncryptedPassword, Integer, IpAddr, Ipv6Addr, Ipv6Prefix, SaltEncrypted, String,
    TaggedInteger, TaggedText, Text, TunnelPassword, Vsa,
};

/// Standard attributes of RFC 2865, 2866, 2867, 2868, 2869, 3162, 4372 and 5176.
pub static ATTRIBUTES: &[AttrDef] = &[
    def(1, "User-Name", Text),
    def(2, "User-Password", EncryptedPassword),
    def(3, "CHAP-Password", String),
    def(4, "NAS-IP-Address", IpAddr),
    def(5, "NAS-Port", Integer),
    def(6, "Service-Type", Integer),
    def(7, "Framed-Protocol", Integer),
    def(8, "Framed-IP-Address", IpAddr),
    def(9, "Framed-IP-Netmask", IpAddr),
    def(10, "Framed-Routing", Integer),
    def(11, "Filter-Id", Text),
    def(12, "Framed-MTU", Integer),
    def(13, "Framed-Compression", Integer),
    def(14, "Login-IP-Host", IpAddr),
    def(15, "Login-Service", Integer),
    def(16, "Login-TCP-Port", Integer),
    def(18, "Reply-Message", Text),
    def(19, "Callback-Number", Text),
    def(20, "Callback-Id", Text),
    def(22, "Framed-Route", Text),
    def(23, "Framed-IPX-Network", Integer),
    def(24, "State", String),
    def(25, "Class", String),
    def(26, "Vendor-Specific", Vsa),
    def(27, "Session-Timeout", Integer),
    def(28, "Idle-Timeout", Integer),
    def(29, "Termination-Action", Integer),
    def(30, "Called-Station-Id", Text),
    def(31, "Calling-Station-Id", Text),
    def(32, "NAS-Identifier", Text),
    def(33, "Proxy-State", String),
    def(34, "Login-LAT-Service", Text),
    def(35, "Login-LAT-Node", Text),
    def(36, "Login-LAT-Group", String),
    def(37, "Framed-AppleTalk-Link", Integer),
    def(38, "Framed-AppleTalk-Network", Integer),
    def(39, "Framed-AppleTalk-Zone", Text),
    def(40, "Acct-Status-Type", Integer),
    def(41, "Acct-Delay-Time", Integer),
    def(42, "Acct-Input-Octets", Integer),
    def(43, "Acct-Output-Octets", Integer),
    def(44, "Acct-Session-Id", Text),
    def(45, "Acct-Authentic", Integer),
    def(46, "Acct-Session-Time", Integer),
    def(47, "Acct-Input-Packets", Integer),
    def(48, "Acct-Output-Packets", Integer),
    def(49, "Acct-Terminate-Cause", Integer),
    def(50, "Acct-Multi-Session-Id", Text),
    def(51, "Acct-Link-Count", Integer),
    def(52, "Acct-Input-Gigawords", Integer),
    def(53, "Acct-Output-Gigawords", Integer),
    def(55, "Event-Timestamp", Date),
    def(60, "CHAP-Challenge", String),
    def(61, "NAS-Port-Type", Integer),
    def(62, "Port-Limit", Integer),
    def(63, "Login-LAT-Port", Text),
    def(64, "Tunnel-Type", TaggedInteger),
    def(65, "Tunnel-Medium-Type", TaggedInteger),
    def(66, "Tunnel-Client-Endpoint", TaggedText),
    def(67, "Tunnel-Server-Endpoint", TaggedText),
    def(68, "Acct-Tunnel-Connection", Text),
    def(69, "Tunnel-Password", TunnelPassword),
    def(70, "ARAP-Password", String),
    def(71, "ARAP-Features", String),
    def(72, "ARAP-Zone-Access", Integer),
    def(73, "ARAP-Security", Integer),
    def(74, "ARAP-Security-Data", Text),
    def(75, "Password-Retry", Integer),
    def(76, "Prompt", Integer),
    def(77, "Connect-Info", Text),
    def(78, "Configuration-Token", Text),
    def(79, "EAP-Message", String),
    def(80, "Message-Authenticator", String),
    def(81, "Tunnel-Private-Group-ID", TaggedText),
    def(82, "Tunnel-Assignment-ID", TaggedText),
    def(83, "Tunnel-Preference", TaggedInteger),
    def(84, "ARAP-Challenge-Response", String),
    def(85, "Acct-Interim-Interval", Integer),
    def(86, "Acct-Tunnel-Packets-Lost", Integer),
    def(87, "NAS-Port-Id", Text),
    def(88, "Framed-Pool", Text),
    def(89, "Chargeable-User-Identity", String),
    def(90, "Tunnel-Client-Auth-ID", TaggedText),
    def(91, "Tunnel-Server-Auth-ID", TaggedText),
    def(95, "NAS-IPv6-Address", Ipv6Addr),
    def(96, "Framed-Interface-Id", String),
    def(97, "Framed-IPv6-Prefix", Ipv6Prefix),
    def(98, "Login-IPv6-Host", Ipv6Addr),
    def(99, "Framed-IPv6-Route", Text),
    def(100, "Framed-IPv6-Pool", Text),
    def(101, "Error-Cause", Integer),
];

/// Microsoft vendor attributes (RFC 2548) used by MS-CHAP and MPPE.
pub static MICROSOFT_ATTRIBUTES: &[VendorAttrDef] = &[
    ms(1, "MS-CHAP-Response", String),
    ms(2, "MS-CHAP-Error", Text),
    ms(3, "MS-CHAP-CPW-1", String),
    ms(4, "MS-CHAP-CPW-2", String),
    ms(5, "MS-CHAP-LM-Enc-PW", String),
    ms(6, "MS-CHAP-NT-Enc-PW", String),
    ms(7, "MS-MPPE-Encryption-Policy", Integer),
    ms(8, "MS-MPPE-Encryption-Types", Integer),
    ms(10, "MS-CHAP-Domain", Text),
    ms(11, "MS-CHAP-Challenge", String),
    ms(12, "MS-CHAP-MPPE-Keys", String),
    ms(16, "MS-MPPE-Send-Key", SaltEncrypted),
    ms(17, "MS-MPPE-Recv-Key", SaltEncrypted),
    ms(25, "MS-CHAP2-Response", String),
    ms(26, "MS-CHAP2-Success", String),
    ms(27, "MS-CHAP2-CPW", String),
];

/// Position + 1 of each type in `ATTRIBUTES`, so `by_type` on the logging
/// path is one load instead of a scan; 0 means "not in the dictionary".
static BY_TYPE: [u8; 256] = {
    let mut index = [0u8; 256];
    let mut i = 0;
    while i < ATTRIBUTES.len() {
        index[ATTRIBUTES[i].typ as usize] = (i + 1) as u8;
        i += 1;
    }
    index
};

pub fn by_type(typ: u8) -> Option<&'static AttrDef> {
    let slot = BY_TYPE.get(usize::from(typ)).copied()?;
    ATTRIBUTES.get(usize::from(slot).checked_sub(1)?)
}

/// Names are matched ASCII case-insensitively, as FreeRADIUS dictionaries are.
pub fn by_name(name: &str) -> Option<&'static AttrDef> {
    ATTRIBUTES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

pub fn vendor_by_type(vendor_id: u32, typ: u8) -> Option<&'static VendorAttrDef> {
    vendor_table(vendor_id)?.iter().find(|d| d.typ == typ)
}

pub fn vendor_by_name(name: &str) -> Option<&'static VendorAttrDef> {
    MICROSOFT_ATTRIBUTES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

fn vendor_table(vendor_id: u32) -> Option<&'static [VendorAttrDef]> {
    match vendor_id {
        VENDOR_MICROSOFT => Some(MICROSOFT_ATTRIBUTES),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::attr;
    use super::*;

    #[test]
    fn lookups_agree_with_constants() {
        assert_eq!(by_type(attr::USER_NAME).unwrap().name, "User-Name");
        assert_eq!(
            by_type(attr::MESSAGE_AUTHENTICATOR).unwrap().name,
            "Message-Authenticator"
        );
        assert_eq!(
            by_type(attr::TUNNEL_TYPE).unwrap().kind,
            AttrKind::TaggedInteger
        );
        assert_eq!(
            by_type(attr::TUNNEL_PASSWORD).unwrap().kind,
            AttrKind::TunnelPassword
        );
        assert_eq!(by_type(attr::VENDOR_SPECIFIC).unwrap().kind, AttrKind::Vsa);
        assert_eq!(
            by_type(attr::FRAMED_IPV6_PREFIX).unwrap().kind,
            AttrKind::Ipv6Prefix
        );
        assert!(by_type(17).is_none());
        assert!(by_type(0).is_none());
        assert!(by_type(255).is_none());
        assert_eq!(by_name("user-name").unwrap().typ, attr::USER_NAME);
        assert_eq!(by_name("TUNNEL-PRIVATE-GROUP-ID").unwrap().typ, 81);
        assert!(by_name("No-Such-Attribute").is_none());
    }

    #[test]
    fn every_entry_is_reachable_by_type_and_name() {
        for d in ATTRIBUTES {
            assert_eq!(by_type(d.typ), Some(d));
            assert_eq!(by_name(d.name), Some(d));
        }
    }

    #[test]
    fn microsoft_attributes() {
        assert_eq!(vendor_by_type(311, 11).unwrap().name, "MS-CHAP-Challenge");
        assert_eq!(vendor_by_type(311, 25).unwrap().name, "MS-CHAP2-Response");
        assert_eq!(vendor_by_type(311, 26).unwrap().name, "MS-CHAP2-Success");
        assert_eq!(
            vendor_by_type(311, 16).unwrap().kind,
            AttrKind::SaltEncrypted
        );
        assert_eq!(vendor_by_name("ms-mppe-recv-key").unwrap().typ, 17);
        assert!(vendor_by_type(9, 1).is_none());
    }
}
