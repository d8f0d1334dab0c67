//! Reply attributes from the dictionary, checked against FreeRADIUS itself:
//! a responder thread on a loopback UDP socket answers the real `radclient`
//! (FreeRADIUS 3.2) with an Access-Accept the codec encoded, and what
//! radclient prints must be exactly what `Dictionary::describe` says. The
//! dictionary files FreeRADIUS installs must also load over the built-ins
//! unchanged, which proves the built-in tables match them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use gatehouse::radius::proto::{Code, Dictionary, EncodedAttr, Packet, PacketView, vlan};

const SECRET: &str = "reply-attributes-secret";

/// Answers one Access-Request on a fresh loopback socket with an
/// Access-Accept carrying `attrs`.
fn answer_once(attrs: Vec<EncodedAttr>) -> (SocketAddr, thread::JoinHandle<Result<(), String>>) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let responder = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let (n, peer) = sock.recv_from(&mut buf).map_err(|e| e.to_string())?;
        let request = PacketView::decode(&buf[..n]).map_err(|e| e.to_string())?;
        if request.code() != Code::AccessRequest {
            return Err(format!(
                "expected an Access-Request, got {:?}",
                request.code()
            ));
        }
        let mut reply = Packet::new(Code::AccessAccept, request.identifier());
        for a in attrs {
            reply.add(a.typ, a.value);
        }
        let wire = reply
            .encode_response(&request, SECRET.as_bytes())
            .map_err(|e| e.to_string())?;
        sock.send_to(&wire, peer).map_err(|e| e.to_string())?;
        Ok(())
    });
    (addr, responder)
}

/// The attribute lines radclient printed for the Access-Accept it received
/// (Message-Authenticator left out: it differs every time).
fn radclient_reply(attrs: Vec<EncodedAttr>) -> Vec<String> {
    let (server, responder) = answer_once(attrs);
    let mut child = Command::new("radclient")
        .args([
            "-x",
            "-r",
            "1",
            "-t",
            "10",
            &server.to_string(),
            "auth",
            SECRET,
        ])
        // radclient prints dates in local time.
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient (freeradius-utils) must be installed: tests/run.sh installs it");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"User-Name = \"alice\", User-Password = \"x\", Message-Authenticator = 0x00\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    responder
        .join()
        .unwrap()
        .unwrap_or_else(|e| panic!("responder: {e}\n{text}"));
    assert!(out.status.success(), "radclient failed:\n{text}");
    let received = text
        .split_once("Received Access-Accept")
        .unwrap_or_else(|| panic!("no Access-Accept in:\n{text}"))
        .1;
    received
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.starts_with("Message-Authenticator = "))
        .collect()
}

fn encode_all(d: &Dictionary, texts: &[&str]) -> Vec<EncodedAttr> {
    texts
        .iter()
        .map(|t| d.encode(t).unwrap_or_else(|e| panic!("{t}: {e}")))
        .collect()
}

#[test]
fn radclient_reads_the_vlan_triple_and_vendor_attributes() {
    let d = Dictionary::new();
    let mut attrs = vlan(120).unwrap().to_vec();
    attrs.extend(encode_all(
        &d,
        &["Cisco-AVPair=shell:priv-lvl=15", "Session-Timeout=3600"],
    ));
    let expected = [
        "Tunnel-Type:0 = VLAN",
        "Tunnel-Medium-Type:0 = IEEE-802",
        "Tunnel-Private-Group-Id:0 = \"120\"",
        "Cisco-AVPair = \"shell:priv-lvl=15\"",
        "Session-Timeout = 3600",
    ];
    let described: Vec<String> = attrs.iter().map(|a| d.describe(a.typ, &a.value)).collect();
    assert_eq!(described, expected);
    assert_eq!(radclient_reply(attrs), expected);
}

#[test]
fn radclient_prints_every_kind_as_describe_does() {
    let d = Dictionary::new();
    let attrs = encode_all(
        &d,
        &[
            "Reply-Message=say \"hi\" \\ bye",
            "Reply-Message=\"tab\\there, octal \\001, UTF-8 é\"",
            "Class=0x00ff10",
            "Filter-Id=acl-1",
            "Service-Type=Administrative-User",
            "Termination-Action=RADIUS-Request",
            "Acct-Interim-Interval=600",
            "Framed-IP-Address=192.0.2.10",
            "Framed-IP-Netmask=255.255.255.0",
            "Login-IPv6-Host=2001:db8::1",
            "Framed-IPv6-Prefix=2001:db8:1:2::/64",
            "Framed-Interface-Id=0:1234:abcd:1",
            "Event-Timestamp=1700000000",
            "PKM-SAID=513",
            "Tunnel-Type:3=L2TP",
            "Tunnel-Client-Endpoint:3=198.51.100.1",
            "Tunnel-Preference:3=10",
            "Egress-VLANID=100",
            "Cisco-AVPair=ip:inacl#1=permit ip any any",
            "Aruba-User-Role=employee",
            "Fortinet-Group-Name=admins",
            "Fortinet-WirelessController-Device-MAC=00:1b:2c:ff:00:01",
            "PaloAlto-User-Group=vpn-users",
            "Juniper-Local-User-Name=read-only",
            "Mikrotik-Rate-Limit=10M/10M",
            "MS-Primary-DNS-Server=192.0.2.53",
            "MS-Quarantine-State=Probation",
        ],
    );
    let described: Vec<String> = attrs.iter().map(|a| d.describe(a.typ, &a.value)).collect();
    assert_eq!(radclient_reply(attrs), described);
}

#[test]
fn freeradius_dictionary_files_load_over_the_built_ins() {
    // The files whose definitions the built-ins mirror; the others hold
    // TLVs and extended attributes, which are refused by design. rfc6519 is
    // left out too: FreeRADIUS 3.2.1 (Debian 12) types DS-Lite-Tunnel-Name
    // string where the built-ins follow 3.2.x's octets.
    const FILES: &[&str] = &[
        "rfc2865",
        "rfc2866",
        "rfc2867",
        "rfc2868",
        "rfc2869",
        "rfc3162",
        "rfc3576",
        "rfc3580",
        "rfc4072",
        "rfc4372",
        "rfc4603",
        "rfc4675",
        "rfc4818",
        "rfc4849",
        "rfc5176",
        "rfc5447",
        "rfc5580",
        "rfc5607",
        "rfc5904",
        "rfc6677",
        "rfc6911",
        "rfc7055",
        "rfc7155",
        "rfc7268",
        "iana",
        "cisco",
        "juniper",
        "aruba",
        "fortinet",
        "paloalto",
        "microsoft",
        "mikrotik",
    ];
    let builtin = format!("{:?}", Dictionary::new());
    let mut d = Dictionary::new();
    for name in FILES {
        let path = format!("/usr/share/freeradius/dictionary.{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{path}: {e} (freeradius-common comes with freeradius-utils: tests/run.sh installs it)")
        });
        d.load(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    }
    // Only the definition count moved: nothing was added or renamed.
    let counts = |s: &str| s.split(", loaded_definitions").next().unwrap().to_string();
    assert_eq!(counts(&format!("{d:?}")), counts(&builtin));
    let [tt, ..] = vlan(120).unwrap();
    assert_eq!(d.describe(tt.typ, &tt.value), "Tunnel-Type:0 = VLAN");
}
