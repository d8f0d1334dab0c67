//! Built-in dictionary of the standard attributes and their named values,
//! as FreeRADIUS 3.2 defines them (`share/dictionary.rfc*` and
//! `dictionary.iana`, in the order FreeRADIUS loads them), for logging, the
//! admin tools and reply policies that name attributes instead of numbering
//! them. The codec itself never needs it.
//!
//! Left out, because their values are not flat: the RFC 6929 extended
//! attributes (241..=246), IPv6-6rd-Configuration (173, a TLV) and the two
//! PMIP6 IPv4 home addresses (155, 156, ipv4prefix).

pub use super::kind::{AttrDef, AttrKind, ValueDef, VendorAttrDef};
pub use super::vendors::MICROSOFT_ATTRIBUTES;
use super::vendors::VENDORS;

const fn def(typ: u8, name: &'static str, kind: AttrKind) -> AttrDef {
    AttrDef { typ, name, kind }
}

const fn named(typ: u8, name: &'static str, value: u32) -> ValueDef {
    ValueDef {
        vendor_id: 0,
        typ,
        name,
        value,
    }
}

use AttrKind::{
    Date, EncryptedPassword, Ifid, Integer, Integer64, IpAddr, Ipv6Addr, Ipv6Prefix, Short, String,
    TaggedInteger, TaggedText, Text, TunnelPassword, Vsa,
};

/// Standard attributes, by number.
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
    def(23, "Framed-IPX-Network", IpAddr),
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
    def(56, "Egress-VLANID", Integer),
    def(57, "Ingress-Filters", Integer),
    def(58, "Egress-VLAN-Name", Text),
    def(59, "User-Priority-Table", String),
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
    def(81, "Tunnel-Private-Group-Id", TaggedText),
    def(82, "Tunnel-Assignment-Id", TaggedText),
    def(83, "Tunnel-Preference", TaggedInteger),
    def(84, "ARAP-Challenge-Response", String),
    def(85, "Acct-Interim-Interval", Integer),
    def(86, "Acct-Tunnel-Packets-Lost", Integer),
    def(87, "NAS-Port-Id", Text),
    def(88, "Framed-Pool", Text),
    def(89, "Chargeable-User-Identity", String),
    def(90, "Tunnel-Client-Auth-Id", TaggedText),
    def(91, "Tunnel-Server-Auth-Id", TaggedText),
    def(92, "NAS-Filter-Rule", Text),
    def(94, "Originating-Line-Info", String),
    def(95, "NAS-IPv6-Address", Ipv6Addr),
    def(96, "Framed-Interface-Id", Ifid),
    def(97, "Framed-IPv6-Prefix", Ipv6Prefix),
    def(98, "Login-IPv6-Host", Ipv6Addr),
    def(99, "Framed-IPv6-Route", Text),
    def(100, "Framed-IPv6-Pool", Text),
    def(101, "Error-Cause", Integer),
    def(102, "EAP-Key-Name", String),
    def(123, "Delegated-IPv6-Prefix", Ipv6Prefix),
    def(124, "MIP6-Feature-Vector", Integer64),
    def(125, "MIP6-Home-Link-Prefix", String),
    def(126, "Operator-Name", Text),
    def(127, "Location-Information", String),
    def(128, "Location-Data", String),
    def(129, "Basic-Location-Policy-Rules", String),
    def(130, "Extended-Location-Policy-Rules", Text),
    def(131, "Location-Capable", Integer),
    def(132, "Requested-Location-Info", Integer),
    def(133, "Framed-Management", Integer),
    def(134, "Management-Transport-Protection", Integer),
    def(135, "Management-Policy-Id", Text),
    def(136, "Management-Privilege-Level", Integer),
    def(137, "PKM-SS-Cert", String),
    def(138, "PKM-CA-Cert", String),
    def(139, "PKM-Config-Settings", String),
    def(140, "PKM-Cryptosuite-List", String),
    def(141, "PKM-SAID", Short),
    def(142, "PKM-SA-Descriptor", String),
    def(143, "PKM-Auth-Key", String),
    def(144, "DS-Lite-Tunnel-Name", String),
    def(145, "Mobile-Node-Identifier", String),
    def(146, "Service-Selection", Text),
    def(147, "PMIP6-Home-LMA-IPv6-Address", Ipv6Addr),
    def(148, "PMIP6-Visited-LMA-IPv6-Address", Ipv6Addr),
    def(149, "PMIP6-Home-LMA-IPv4-Address", IpAddr),
    def(150, "PMIP6-Visited-LMA-IPv4-Address", IpAddr),
    def(151, "PMIP6-Home-HN-Prefix", Ipv6Prefix),
    def(152, "PMIP6-Visited-HN-Prefix", Ipv6Prefix),
    def(153, "PMIP6-Home-Interface-ID", Ifid),
    def(154, "PMIP6-Visited-Interface-ID", Ifid),
    def(157, "PMIP6-Home-DHCP4-Server-Address", IpAddr),
    def(158, "PMIP6-Visited-DHCP4-Server-Address", IpAddr),
    def(159, "PMIP6-Home-DHCP6-Server-Address", Ipv6Addr),
    def(160, "PMIP6-Visited-DHCP6-Server-Address", Ipv6Addr),
    def(161, "PMIP6-Home-IPv4-Gateway", IpAddr),
    def(162, "PMIP6-Visited-IPv4-Gateway", IpAddr),
    def(163, "EAP-Lower-Layer", Integer),
    def(164, "GSS-Acceptor-Service-Name", Text),
    def(165, "GSS-Acceptor-Host-Name", Text),
    def(166, "GSS-Acceptor-Service-Specifics", Text),
    def(167, "GSS-Acceptor-Realm-Name", Text),
    def(168, "Framed-IPv6-Address", Ipv6Addr),
    def(169, "DNS-Server-IPv6-Address", Ipv6Addr),
    def(170, "Route-IPv6-Information", Ipv6Prefix),
    def(171, "Delegated-IPv6-Prefix-Pool", Text),
    def(172, "Stateful-IPv6-Address-Pool", Text),
    def(174, "Allowed-Called-Station-Id", Text),
    def(175, "EAP-Peer-Id", String),
    def(176, "EAP-Server-Id", String),
    def(177, "Mobility-Domain-Id", Integer),
    def(178, "Preauth-Timeout", Integer),
    def(179, "Network-Id-Name", String),
    def(180, "EAPoL-Announcement", String),
    def(181, "WLAN-HESSID", Text),
    def(182, "WLAN-Venue-Info", Integer),
    def(183, "WLAN-Venue-Language", String),
    def(184, "WLAN-Venue-Name", Text),
    def(185, "WLAN-Reason-Code", Integer),
    def(186, "WLAN-Pairwise-Cipher", Integer),
    def(187, "WLAN-Group-Cipher", Integer),
    def(188, "WLAN-AKM-Suite", Integer),
    def(189, "WLAN-Group-Mgmt-Cipher", Integer),
    def(190, "WLAN-RF-Band", Integer),
    def(206, "Digest-Response", Text),
    def(207, "Digest-Attributes", String),
];

/// Named values of the standard attributes, in FreeRADIUS load order: for a
/// number with several names the last one is displayed, as in FreeRADIUS.
pub static VALUES: &[ValueDef] = &[
    // Service-Type (rfc2865)
    named(6, "Login-User", 1),
    named(6, "Framed-User", 2),
    named(6, "Callback-Login-User", 3),
    named(6, "Callback-Framed-User", 4),
    named(6, "Outbound-User", 5),
    named(6, "Administrative-User", 6),
    named(6, "NAS-Prompt-User", 7),
    named(6, "Authenticate-Only", 8),
    named(6, "Callback-NAS-Prompt", 9),
    named(6, "Call-Check", 10),
    named(6, "Callback-Administrative", 11),
    // Framed-Protocol (rfc2865)
    named(7, "PPP", 1),
    named(7, "SLIP", 2),
    named(7, "ARAP", 3),
    named(7, "Gandalf-SLML", 4),
    named(7, "Xylogics-IPX-SLIP", 5),
    named(7, "X.75-Synchronous", 6),
    // Framed-Routing (rfc2865)
    named(10, "None", 0),
    named(10, "Broadcast", 1),
    named(10, "Listen", 2),
    named(10, "Broadcast-Listen", 3),
    // Framed-Compression (rfc2865)
    named(13, "None", 0),
    named(13, "Van-Jacobson-TCP-IP", 1),
    named(13, "IPX-Header-Compression", 2),
    named(13, "Stac-LZS", 3),
    // Login-Service (rfc2865)
    named(15, "Telnet", 0),
    named(15, "Rlogin", 1),
    named(15, "TCP-Clear", 2),
    named(15, "PortMaster", 3),
    named(15, "LAT", 4),
    named(15, "X25-PAD", 5),
    named(15, "X25-T3POS", 6),
    named(15, "TCP-Clear-Quiet", 8),
    // Login-TCP-Port (rfc2865)
    named(16, "Telnet", 23),
    named(16, "Rlogin", 513),
    named(16, "Rsh", 514),
    // Termination-Action (rfc2865)
    named(29, "Default", 0),
    named(29, "RADIUS-Request", 1),
    // NAS-Port-Type (rfc2865)
    named(61, "Async", 0),
    named(61, "Sync", 1),
    named(61, "ISDN", 2),
    named(61, "ISDN-V120", 3),
    named(61, "ISDN-V110", 4),
    named(61, "Virtual", 5),
    named(61, "PIAFS", 6),
    named(61, "HDLC-Clear-Channel", 7),
    named(61, "X.25", 8),
    named(61, "X.75", 9),
    named(61, "G.3-Fax", 10),
    named(61, "SDSL", 11),
    named(61, "ADSL-CAP", 12),
    named(61, "ADSL-DMT", 13),
    named(61, "IDSL", 14),
    named(61, "Ethernet", 15),
    named(61, "xDSL", 16),
    named(61, "Cable", 17),
    named(61, "Wireless-Other", 18),
    named(61, "Wireless-802.11", 19),
    // Acct-Status-Type (rfc2866)
    named(40, "Start", 1),
    named(40, "Stop", 2),
    named(40, "Alive", 3),
    named(40, "Interim-Update", 3),
    named(40, "Accounting-On", 7),
    named(40, "Accounting-Off", 8),
    named(40, "Failed", 15),
    // Acct-Authentic (rfc2866)
    named(45, "RADIUS", 1),
    named(45, "Local", 2),
    named(45, "Remote", 3),
    named(45, "Diameter", 4),
    // Acct-Terminate-Cause (rfc2866)
    named(49, "User-Request", 1),
    named(49, "Lost-Carrier", 2),
    named(49, "Lost-Service", 3),
    named(49, "Idle-Timeout", 4),
    named(49, "Session-Timeout", 5),
    named(49, "Admin-Reset", 6),
    named(49, "Admin-Reboot", 7),
    named(49, "Port-Error", 8),
    named(49, "NAS-Error", 9),
    named(49, "NAS-Request", 10),
    named(49, "NAS-Reboot", 11),
    named(49, "Port-Unneeded", 12),
    named(49, "Port-Preempted", 13),
    named(49, "Port-Suspended", 14),
    named(49, "Service-Unavailable", 15),
    named(49, "Callback", 16),
    named(49, "User-Error", 17),
    named(49, "Host-Request", 18),
    // Acct-Status-Type (rfc2867)
    named(40, "Tunnel-Start", 9),
    named(40, "Tunnel-Stop", 10),
    named(40, "Tunnel-Reject", 11),
    named(40, "Tunnel-Link-Start", 12),
    named(40, "Tunnel-Link-Stop", 13),
    named(40, "Tunnel-Link-Reject", 14),
    // Tunnel-Type (rfc2868)
    named(64, "PPTP", 1),
    named(64, "L2F", 2),
    named(64, "L2TP", 3),
    named(64, "ATMP", 4),
    named(64, "VTP", 5),
    named(64, "AH", 6),
    named(64, "IP", 7),
    named(64, "MIN-IP", 8),
    named(64, "ESP", 9),
    named(64, "GRE", 10),
    named(64, "DVS", 11),
    named(64, "IP-in-IP", 12),
    // Tunnel-Medium-Type (rfc2868)
    named(65, "IP", 1),
    named(65, "IPv4", 1),
    named(65, "IPv6", 2),
    named(65, "NSAP", 3),
    named(65, "HDLC", 4),
    named(65, "BBN-1822", 5),
    named(65, "IEEE-802", 6),
    named(65, "E.163", 7),
    named(65, "E.164", 8),
    named(65, "F.69", 9),
    named(65, "X.121", 10),
    named(65, "IPX", 11),
    named(65, "Appletalk", 12),
    named(65, "DecNet-IV", 13),
    named(65, "Banyan-Vines", 14),
    named(65, "E.164-NSAP", 15),
    // ARAP-Zone-Access (rfc2869)
    named(72, "Default-Zone", 1),
    named(72, "Zone-Filter-Inclusive", 2),
    named(72, "Zone-Filter-Exclusive", 4),
    // Prompt (rfc2869)
    named(76, "No-Echo", 0),
    named(76, "Echo", 1),
    // Service-Type (rfc3576)
    named(6, "Authorize-Only", 17),
    // Error-Cause (rfc3576)
    named(101, "Residual-Context-Removed", 201),
    named(101, "Invalid-EAP-Packet", 202),
    named(101, "Unsupported-Attribute", 401),
    named(101, "Missing-Attribute", 402),
    named(101, "NAS-Identification-Mismatch", 403),
    named(101, "Invalid-Request", 404),
    named(101, "Unsupported-Service", 405),
    named(101, "Unsupported-Extension", 406),
    named(101, "Invalid-Attribute-Value", 407),
    named(101, "Administratively-Prohibited", 501),
    named(101, "Proxy-Request-Not-Routable", 502),
    named(101, "Session-Context-Not-Found", 503),
    named(101, "Session-Context-Not-Removable", 504),
    named(101, "Proxy-Processing-Error", 505),
    named(101, "Resources-Unavailable", 506),
    named(101, "Request-Initiated", 507),
    // Acct-Terminate-Cause (rfc3580)
    named(49, "Supplicant-Restart", 19),
    named(49, "Reauthentication-Failure", 20),
    named(49, "Port-Reinit", 21),
    named(49, "Port-Disabled", 22),
    // NAS-Port-Type (rfc3580)
    named(61, "Token-Ring", 20),
    named(61, "FDDI", 21),
    // Tunnel-Type (rfc3580)
    named(64, "VLAN", 13),
    // NAS-Port-Type (rfc4603)
    named(61, "PPPoA", 30),
    named(61, "PPPoEoA", 31),
    named(61, "PPPoEoE", 32),
    named(61, "PPPoEoVLAN", 33),
    named(61, "PPPoEoQinQ", 34),
    // Ingress-Filters (rfc4675)
    named(57, "Enabled", 1),
    named(57, "Disabled", 2),
    // Error-Cause (rfc5176)
    named(101, "Invalid-Attribute-Value", 407),
    named(101, "Multiple-Session-Selection-Unsupported", 508),
    // Location-Capable (rfc5580)
    named(131, "Civic-Location", 1),
    named(131, "Geo-Location", 2),
    named(131, "Users-Location", 4),
    named(131, "NAS-Location", 8),
    // Requested-Location-Info (rfc5580)
    named(132, "Civic-Location", 1),
    named(132, "Geo-Location", 2),
    named(132, "Users-Location", 4),
    named(132, "NAS-Location", 8),
    named(132, "Future-Requests", 16),
    named(132, "None", 32),
    // Error-Cause (rfc5580)
    named(101, "Location-Info-Required", 509),
    // Service-Type (rfc5607)
    named(6, "Framed-Management", 18),
    // Framed-Management (rfc5607)
    named(133, "SNMP", 1),
    named(133, "Web-Based", 2),
    named(133, "Netconf", 3),
    named(133, "FTP", 4),
    named(133, "TFTP", 5),
    named(133, "SFTP", 6),
    named(133, "RCP", 7),
    named(133, "SCP", 8),
    // Management-Transport-Protection (rfc5607)
    named(134, "No-Protection", 1),
    named(134, "Integrity-Protection", 2),
    named(134, "Integrity-Confidentiality-Protection", 3),
    // EAP-Lower-Layer (rfc6677)
    named(163, "Wired-IEEE-802.1X", 1),
    named(163, "IEEE-802.1X-No-Preauth", 2),
    named(163, "IEEE-802.1X-Preauth", 3),
    named(163, "IEEE-802.16e", 4),
    named(163, "IKEv2", 5),
    named(163, "PPP", 6),
    named(163, "PANA-No-Preauth", 7),
    named(163, "GSS-API", 8),
    named(163, "PANA-Preauth", 9),
    // Error-Cause (rfc7930)
    named(101, "Response-Too-Big", 601),
    // Service-Type (iana)
    named(6, "Voice", 12),
    named(6, "Fax", 13),
    named(6, "Modem-Relay", 14),
    named(6, "IAPP-Register", 15),
    named(6, "IAPP-AP-Check", 16),
    // Framed-Protocol (iana)
    named(7, "GPRS-PDP-Context", 7),
    // NAS-Port-Type (iana)
    named(61, "Wireless-CDMA2000", 22),
    named(61, "Wireless-UMTS", 23),
    named(61, "Wireless-1X-EV", 24),
    named(61, "IAPP", 25),
    named(61, "FTTP", 26),
    named(61, "Wireless-802.16", 27),
    named(61, "Wireless-802.20", 28),
    named(61, "Wireless-802.22", 29),
    named(61, "xPON", 35),
    named(61, "Wireless-XGP", 36),
    // Framed-Protocol (iana)
    named(7, "PPTP", 9),
    // Acct-Status-Type (iana)
    named(40, "Subsystem-On", 18),
    named(40, "Subsystem-Off", 19),
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

/// A built-in vendor attribute by number. Where a number has two names
/// (MS-MPPE-Encryption-Type/-Types) the later one wins, as in FreeRADIUS.
pub fn vendor_by_type(vendor_id: u32, typ: u8) -> Option<&'static VendorAttrDef> {
    VENDORS
        .iter()
        .find(|v| v.id == vendor_id)?
        .attributes
        .iter()
        .rev()
        .find(|d| d.typ == typ)
}

/// A built-in vendor attribute by name, ASCII case-insensitively.
pub fn vendor_by_name(name: &str) -> Option<&'static VendorAttrDef> {
    VENDORS
        .iter()
        .flat_map(|v| v.attributes)
        .find(|d| d.name.eq_ignore_ascii_case(name))
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
        // Two names for one number: the later one is shown, as in FreeRADIUS.
        assert_eq!(
            vendor_by_type(311, 8).unwrap().name,
            "MS-MPPE-Encryption-Types"
        );
        assert_eq!(vendor_by_name("MS-MPPE-Encryption-Type").unwrap().typ, 8);
    }

    #[test]
    fn other_vendors_and_values() {
        assert_eq!(vendor_by_type(9, 1).unwrap().name, "Cisco-AVPair");
        assert!(vendor_by_type(9, 22).is_none());
        assert!(vendor_by_type(4, 1).is_none());
        let by = |name: &str| vendor_by_name(name).map(|d| (d.vendor_id, d.typ, d.kind));
        assert_eq!(by("aruba-user-role"), Some((14823, 1, AttrKind::Text)));
        assert_eq!(by("Fortinet-Group-Name"), Some((12356, 1, AttrKind::Text)));
        assert_eq!(by("PaloAlto-User-Group"), Some((25461, 5, AttrKind::Text)));
        assert_eq!(
            by("Juniper-Local-User-Name"),
            Some((2636, 1, AttrKind::Text))
        );
        assert_eq!(by("Mikrotik-Rate-Limit"), Some((14988, 8, AttrKind::Text)));
        let value = |typ: u8, name: &str| {
            VALUES
                .iter()
                .find(|v| v.typ == typ && v.name == name)
                .map(|v| v.value)
        };
        assert_eq!(value(attr::TUNNEL_TYPE, "VLAN"), Some(13));
        assert_eq!(value(attr::TUNNEL_MEDIUM_TYPE, "IEEE-802"), Some(6));
        assert_eq!(value(attr::TERMINATION_ACTION, "RADIUS-Request"), Some(1));
        assert_eq!(value(attr::SERVICE_TYPE, "Administrative-User"), Some(6));
        assert!(
            VALUES
                .iter()
                .all(|v| v.vendor_id == 0 && by_type(v.typ).is_some())
        );
    }
}
