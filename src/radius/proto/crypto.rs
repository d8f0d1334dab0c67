//! The MD5 and HMAC-MD5 constructions of RADIUS: attribute hiding
//! (RFC 2865 §5.2, RFC 2868 §3.5, RFC 2548 §2.4.2), packet authenticators
//! (RFC 2865 §3, RFC 2866 §3) and Message-Authenticator (RFC 3579 §3.2).
//!
//! Everything here is a pure function of its arguments. Every comparison of
//! a received authenticator or MAC goes through `subtle` so that response
//! time does not reveal how many leading octets an attacker guessed right.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};

use super::code::Code;
use super::error::PasswordError;
use super::layout::HEADER_LEN;

type HmacMd5 = Hmac<Md5>;

/// Longest User-Password cleartext RFC 2865 §5.2 allows.
pub const MAX_USER_PASSWORD_LEN: usize = 128;

/// Longest salted cleartext: the length octet plus the value, padded to 16,
/// must fit in 253 octets less tag (or VSA header) and salt; 240 is the
/// largest multiple of 16 that does.
pub const MAX_SALTED_LEN: usize = 239;

pub(crate) const BLOCK: usize = 16;
pub(crate) const ZEROS: [u8; 16] = [0; 16];

fn md5_parts(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for part in parts {
        h.update(part);
    }
    h.finalize().into()
}

/// A shared secret keyed into HMAC-MD5 once rather than for every packet: keying hashes
/// two blocks (the key XOR ipad, and XOR opad), a third of the work of signing or checking
/// a small packet. Servers keep one per client.
#[derive(Clone)]
pub struct MacKey(HmacMd5);

impl MacKey {
    /// `None` only if HMAC refused the key, which it never does for any length;
    /// callers still treat it as a failure rather than assume.
    #[must_use]
    pub fn new(secret: &[u8]) -> Option<Self> {
        <HmacMd5 as KeyInit>::new_from_slice(secret).ok().map(Self)
    }
}

impl std::fmt::Debug for MacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MacKey(<redacted>)")
    }
}

fn hmac_md5_parts(key: &MacKey, parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = key.0.clone();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The MD5(secret + previous) keystream shared by every hiding scheme:
/// `first` seeds block one, then each ciphertext block seeds the next.
/// `reveal` selects whether `data` is ciphertext (reveal) or plaintext.
fn md5_stream(data: &mut [u8], secret: &[u8], first: &[&[u8]], reveal: bool) {
    let keyed = Md5::new_with_prefix(secret);
    let mut prev = [0u8; BLOCK];
    let mut first_block = true;
    for chunk in data.chunks_mut(BLOCK) {
        let mut h = keyed.clone();
        if first_block {
            for part in first {
                h.update(part);
            }
            first_block = false;
        } else {
            h.update(prev);
        }
        let key: [u8; 16] = h.finalize().into();
        for ((byte, k), p) in chunk.iter_mut().zip(key).zip(prev.iter_mut()) {
            let cipher = if reveal { *byte } else { *byte ^ k };
            *byte ^= k;
            *p = cipher;
        }
    }
}

/// Hides a User-Password (RFC 2865 §5.2). The cleartext is NUL-padded to a
/// multiple of 16, at least 16.
pub fn hide_user_password(
    cleartext: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, PasswordError> {
    if cleartext.len() > MAX_USER_PASSWORD_LEN {
        return Err(PasswordError::TooLong {
            len: cleartext.len(),
            max: MAX_USER_PASSWORD_LEN,
        });
    }
    let padded = cleartext.len().div_ceil(BLOCK).max(1) * BLOCK;
    let mut out = vec![0u8; padded];
    for (dst, src) in out.iter_mut().zip(cleartext) {
        *dst = *src;
    }
    md5_stream(&mut out, secret, &[authenticator], false);
    Ok(out)
}

/// Reveals a User-Password. Only trailing NULs are stripped: they are the
/// padding, while a NUL in the middle belongs to what the user typed.
pub fn unhide_user_password(
    hidden: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, PasswordError> {
    let len = hidden.len();
    if !(BLOCK..=MAX_USER_PASSWORD_LEN).contains(&len) || !len.is_multiple_of(BLOCK) {
        return Err(PasswordError::BadHiddenLength {
            len,
            min: BLOCK,
            max: MAX_USER_PASSWORD_LEN,
        });
    }
    let mut out = hidden.to_vec();
    md5_stream(&mut out, secret, &[authenticator], true);
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

/// Salted hiding without a tag, as used by MS-MPPE-Send-Key/Recv-Key
/// (RFC 2548 §2.4.2). Returns salt + ciphertext. The salt's high bit is
/// forced on because the RFCs require it and a peer may check it.
pub fn hide_mppe_key(
    cleartext: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>, PasswordError> {
    let data_len = u8::try_from(cleartext.len())
        .ok()
        .filter(|_| cleartext.len() <= MAX_SALTED_LEN)
        .ok_or(PasswordError::TooLong {
            len: cleartext.len(),
            max: MAX_SALTED_LEN,
        })?;
    let salt = [salt[0] | 0x80, salt[1]];
    let plain_len = (cleartext.len() + 1).div_ceil(BLOCK) * BLOCK;
    let mut out = Vec::with_capacity(2 + plain_len);
    out.extend_from_slice(&salt);
    out.push(data_len);
    out.extend_from_slice(cleartext);
    out.resize(2 + plain_len, 0);
    if let Some(body) = out.get_mut(2..) {
        md5_stream(body, secret, &[request_authenticator, &salt], false);
    }
    Ok(out)
}

/// Reveals a salt + ciphertext value hidden by [`hide_mppe_key`].
pub fn unhide_mppe_key(
    value: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<Vec<u8>, PasswordError> {
    let bad_len = |len| PasswordError::BadHiddenLength {
        len,
        min: BLOCK,
        max: MAX_SALTED_LEN + 1,
    };
    let Some((salt, cipher)) = value.split_first_chunk::<2>() else {
        return Err(bad_len(0));
    };
    let len = cipher.len();
    if !(BLOCK..=MAX_SALTED_LEN + 1).contains(&len) || !len.is_multiple_of(BLOCK) {
        return Err(bad_len(len));
    }
    let mut plain = cipher.to_vec();
    md5_stream(&mut plain, secret, &[request_authenticator, salt], true);
    let Some((data_len, data)) = plain.split_first() else {
        return Err(bad_len(len));
    };
    let data_len = usize::from(*data_len);
    data.get(..data_len)
        .map(<[u8]>::to_vec)
        .ok_or(PasswordError::BadDataLength {
            data_len,
            available: data.len(),
        })
}

/// Hides a Tunnel-Password (RFC 2868 §3.5), returning the whole attribute
/// value: tag, salt, ciphertext. In an Access-Accept the authenticator is
/// the one of the Access-Request being answered.
pub fn hide_tunnel_password(
    tag: u8,
    cleartext: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
    salt: [u8; 2],
) -> Result<Vec<u8>, PasswordError> {
    if tag > super::attr::MAX_TAG {
        return Err(PasswordError::InvalidTag { tag });
    }
    let salted = hide_mppe_key(cleartext, secret, request_authenticator, salt)?;
    let mut out = Vec::with_capacity(1 + salted.len());
    out.push(tag);
    out.extend_from_slice(&salted);
    Ok(out)
}

/// Reveals a Tunnel-Password value, returning its tag and cleartext.
pub fn unhide_tunnel_password(
    value: &[u8],
    secret: &[u8],
    request_authenticator: &[u8; 16],
) -> Result<(u8, Vec<u8>), PasswordError> {
    let Some((tag, rest)) = value.split_first() else {
        return Err(PasswordError::BadHiddenLength {
            len: 0,
            min: BLOCK,
            max: MAX_SALTED_LEN + 1,
        });
    };
    Ok((*tag, unhide_mppe_key(rest, secret, request_authenticator)?))
}

/// MD5(Code + Identifier + Length + `authenticator` + Attributes + secret)
/// over `packet`, whatever its own authenticator field holds. This is the
/// Response Authenticator when `authenticator` is the request's, and the
/// Accounting/CoA/Disconnect Request Authenticator when it is zeros.
pub fn response_authenticator(
    packet: &[u8],
    request_authenticator: &[u8; 16],
    secret: &[u8],
) -> [u8; 16] {
    let header = packet.get(..4).unwrap_or(packet);
    let attrs = packet.get(HEADER_LEN..).unwrap_or(&[]);
    md5_parts(&[header, request_authenticator, attrs, secret])
}

/// Request Authenticator of an Accounting-Request, CoA-Request or
/// Disconnect-Request (RFC 2866 §3, RFC 5176 §3.5).
pub fn accounting_request_authenticator(packet: &[u8], secret: &[u8]) -> [u8; 16] {
    response_authenticator(packet, &ZEROS, secret)
}

/// HMAC-MD5 over `packet` with its authenticator field replaced by
/// `authenticator` and the 16 octets at `mac_offset` taken as zeros, fed
/// in pieces so no copy of the packet is made. `None` if `mac_offset` does
/// not lie inside the attributes.
pub fn message_authenticator(
    packet: &[u8],
    mac_offset: usize,
    authenticator: &[u8; 16],
    secret: &[u8],
) -> Option<[u8; 16]> {
    message_authenticator_keyed(packet, mac_offset, authenticator, &MacKey::new(secret)?)
}

/// [`message_authenticator`] with the secret already keyed.
pub fn message_authenticator_keyed(
    packet: &[u8],
    mac_offset: usize,
    authenticator: &[u8; 16],
    key: &MacKey,
) -> Option<[u8; 16]> {
    let header = packet.get(..4)?;
    let before = packet.get(HEADER_LEN..mac_offset)?;
    let after = packet.get(mac_offset.checked_add(BLOCK)?..)?;
    Some(hmac_md5_parts(
        key,
        &[header, authenticator, before, &ZEROS, after],
    ))
}

/// Authenticator to put in the header while computing the
/// Message-Authenticator of a packet we send.
///
/// Access-* answers and Status-Server answers use the request's (RFC 3579
/// §3.2, RFC 5997 §3); hashed-authenticator requests use zeros because the
/// real value depends on the MAC (RFC 5176 §3.3); Accounting-Response uses
/// zeros too, matching FreeRADIUS, since no RFC defines it and FreeRADIUS
/// clients check it that way.
pub(crate) fn ma_authenticator(
    code: Code,
    own: &[u8; 16],
    request: Option<(Code, &[u8; 16])>,
) -> [u8; 16] {
    match (code, request) {
        (Code::AccountingResponse, Some((Code::StatusServer, req))) => *req,
        (Code::AccountingResponse, _) => ZEROS,
        (c, _) if c.has_hashed_request_authenticator() => ZEROS,
        (_, Some((_, req))) => *req,
        (_, None) => *own,
    }
}

/// A fresh Request Authenticator for Access-Request and Status-Server,
/// which RFC 2865 §3 requires to be unpredictable.
pub fn random_authenticator() -> Result<[u8; 16], getrandom::Error> {
    let mut out = [0u8; 16];
    getrandom::fill(&mut out)?;
    Ok(out)
}

/// A fresh salt for Tunnel-Password and MPPE keys.
pub fn random_salt() -> Result<[u8; 2], getrandom::Error> {
    let mut out = [0u8; 2];
    getrandom::fill(&mut out)?;
    out[0] |= 0x80;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::attr;
    use super::super::packet::{Packet, PacketView};
    use super::super::test_util::hex;
    use super::super::verify::{self, MaCheck};
    use super::*;

    const SECRET: &[u8] = b"xyzzy5461";
    // RFC 2865 §7.1.
    const RFC_REQUEST: &str = "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d
        93d413ce3196e43f782a0aee0406c0a80110050600000003";
    const RFC_ACCEPT: &str = "0200002686fe220e7624ba2a1005f6bf9b55e0b20606000000010f0600000000
        0e06c0a80103";

    #[test]
    fn rfc2865_user_password() {
        let buf = hex(RFC_REQUEST);
        let req = PacketView::decode(&buf).unwrap();
        let hidden = req.attr(attr::USER_PASSWORD).unwrap();
        assert_eq!(hidden.len(), 16);
        let clear = unhide_user_password(hidden, SECRET, req.authenticator()).unwrap();
        assert_eq!(clear, b"arctangent");
        let again = hide_user_password(b"arctangent", SECRET, req.authenticator()).unwrap();
        assert_eq!(again, hidden);
    }

    #[test]
    fn rfc2865_response_authenticator() {
        let req_buf = hex(RFC_REQUEST);
        let req = PacketView::decode(&req_buf).unwrap();
        let acc_buf = hex(RFC_ACCEPT);
        let acc = PacketView::decode(&acc_buf).unwrap();
        assert!(verify::response(&acc, req.authenticator(), SECRET));
        assert!(!verify::response(&acc, req.authenticator(), b"xyzzy5462"));
        assert_eq!(
            &response_authenticator(acc.raw(), req.authenticator(), SECRET),
            acc.authenticator()
        );
    }

    #[test]
    fn rfc5997_status_server_vectors() {
        let req_buf =
            hex("0cda00268a54f4686fb394c52866e302185d062350125a665e2e1e8411f3e243822097c84fa3");
        let req = PacketView::decode(&req_buf).unwrap();
        assert_eq!(
            verify::message_authenticator(&req, SECRET, None),
            MaCheck::Valid
        );
        assert_eq!(
            verify::message_authenticator(&req, b"wrong", None),
            MaCheck::Invalid
        );
        let resp_buf = hex("02da0014ef0d552a4bf2d693ec2b6fe8b5411d66");
        let resp = PacketView::decode(&resp_buf).unwrap();
        assert!(verify::response(&resp, req.authenticator(), SECRET));
        assert_eq!(
            verify::message_authenticator(&resp, SECRET, Some(req.authenticator())),
            MaCheck::Missing
        );

        let acct_buf =
            hex("0cb30026925f6b66dd5fed571fcb1db7ad3882605012e8d6eabda910875cd91fdade26367858");
        let acct = PacketView::decode(&acct_buf).unwrap();
        assert_eq!(
            verify::message_authenticator(&acct, SECRET, None),
            MaCheck::Valid
        );
        let acct_resp_buf = hex("05b300140f6f92145f107e2f504e860a4860669c");
        let acct_resp = PacketView::decode(&acct_resp_buf).unwrap();
        assert!(verify::response(&acct_resp, acct.authenticator(), SECRET));
    }

    #[test]
    fn accounting_request_authenticator_vector() {
        let mut buf =
            hex("0404002711019c27d4e00cbc523b3e2fc834baf401066e656d6f2806000000012c073230303234");
        let view = PacketView::decode(&buf).unwrap();
        assert!(verify::accounting_request(&view, SECRET));
        assert!(!verify::accounting_request(&view, b"foo"));
        // Independent recomputation: MD5 over the packet with a zeroed
        // authenticator, then the secret.
        let mut zeroed = buf.clone();
        zeroed[4..20].fill(0);
        zeroed.extend_from_slice(SECRET);
        let expected: [u8; 16] = Md5::digest(&zeroed).into();
        assert_eq!(&expected, view.authenticator());
        // Padding after Length must not change the result.
        buf.extend_from_slice(&[0xAA; 7]);
        let padded = PacketView::decode(&buf).unwrap();
        assert!(verify::accounting_request(&padded, SECRET));
    }

    #[test]
    fn message_authenticator_cross_check() {
        let auth: [u8; 16] = hex("0f403f9473978057bd83d5cb98f4227a").try_into().unwrap();
        let mut p = Packet::new(Code::AccessRequest, 7);
        p.authenticator = auth;
        p.add_str(attr::USER_NAME, "nemo");
        let wire = p.encode_request(SECRET).unwrap();
        // Computed with Python's hmac/hashlib over the same packet with the
        // MAC zeroed.
        assert_eq!(
            &wire[22..38],
            hex("deda131b1912dbf79289c29271f3a015").as_slice()
        );
        // And with the hmac crate over an explicit zeroed copy.
        let mut zeroed = wire.clone();
        zeroed[22..38].fill(0);
        let mut mac = <HmacMd5 as KeyInit>::new_from_slice(SECRET).unwrap();
        mac.update(&zeroed);
        let expected: [u8; 16] = mac.finalize().into_bytes().into();
        assert_eq!(&wire[22..38], &expected);
        let view = PacketView::decode(&wire).unwrap();
        assert_eq!(
            verify::message_authenticator(&view, SECRET, None),
            MaCheck::Valid
        );
    }

    #[test]
    fn user_password_lengths() {
        let auth = [7u8; 16];
        assert_eq!(hide_user_password(b"", SECRET, &auth).unwrap().len(), 16);
        assert_eq!(
            hide_user_password(&[b'a'; 16], SECRET, &auth)
                .unwrap()
                .len(),
            16
        );
        assert_eq!(
            hide_user_password(&[b'a'; 17], SECRET, &auth)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(
            hide_user_password(&[b'a'; 128], SECRET, &auth)
                .unwrap()
                .len(),
            128
        );
        assert!(matches!(
            hide_user_password(&[b'a'; 129], SECRET, &auth),
            Err(PasswordError::TooLong { len: 129, .. })
        ));
        for bad in [0usize, 15, 17, 144] {
            assert!(
                matches!(
                    unhide_user_password(&vec![1; bad], SECRET, &auth),
                    Err(PasswordError::BadHiddenLength { .. })
                ),
                "{bad}"
            );
        }
        for len in [0usize, 1, 15, 16, 17, 100, 128] {
            let clear: Vec<u8> = (0..len).map(|i| (i % 250) as u8 + 1).collect();
            let hidden = hide_user_password(&clear, SECRET, &auth).unwrap();
            assert_eq!(unhide_user_password(&hidden, SECRET, &auth).unwrap(), clear);
        }
        // Only trailing NULs are padding.
        let hidden = hide_user_password(b"a\0b", SECRET, &auth).unwrap();
        assert_eq!(
            unhide_user_password(&hidden, SECRET, &auth).unwrap(),
            b"a\0b"
        );
    }

    #[test]
    fn tunnel_password_vector_and_round_trip() {
        let auth: [u8; 16] = hex("0f403f9473978057bd83d5cb98f4227a").try_into().unwrap();
        let value =
            hide_tunnel_password(1, b"0123456789abcdef", SECRET, &auth, [0x80, 0x01]).unwrap();
        // Computed independently in Python from RFC 2868 §3.5.
        assert_eq!(
            value,
            hex("018001d77fe74a5625aac1f03e166884e0e3463adc4d3e373b7484ad869273a39c8130")
        );
        // 1 tag + 2 salt + 32 ciphertext = 35, plus the 2 header octets = 37.
        assert_eq!(value.len() + 2, 37);
        let (tag, clear) = unhide_tunnel_password(&value, SECRET, &auth).unwrap();
        assert_eq!((tag, clear.as_slice()), (1, &b"0123456789abcdef"[..]));

        // The salt's high bit is forced on.
        let v = hide_tunnel_password(0, b"x", SECRET, &auth, [0x00, 0x01]).unwrap();
        assert_eq!(v[1] & 0x80, 0x80);
        assert_eq!(
            unhide_tunnel_password(&v, SECRET, &auth).unwrap(),
            (0, b"x".to_vec())
        );

        for len in [0usize, 15, 16, 31, 239] {
            let clear = vec![0x5a; len];
            let v = hide_tunnel_password(3, &clear, SECRET, &auth, [0x81, 2]).unwrap();
            assert!(v.len() <= attr::MAX_VALUE_LEN);
            assert_eq!(unhide_tunnel_password(&v, SECRET, &auth).unwrap().1, clear);
        }
        assert!(hide_tunnel_password(3, &[0; 240], SECRET, &auth, [0x81, 2]).is_err());
        assert!(matches!(
            hide_tunnel_password(0x20, b"x", SECRET, &auth, [0x81, 2]),
            Err(PasswordError::InvalidTag { tag: 0x20 })
        ));
        assert!(unhide_tunnel_password(&[], SECRET, &auth).is_err());
        assert!(unhide_tunnel_password(&[1, 0x80, 0], SECRET, &auth).is_err());
        assert!(unhide_tunnel_password(&[1, 0x80, 0, 1, 2], SECRET, &auth).is_err());
        // A Data-Length larger than what was decrypted is rejected, not sliced.
        let mut forged = hide_tunnel_password(1, b"abc", SECRET, &auth, [0x80, 1]).unwrap();
        forged[3] ^= 0xFF;
        assert!(matches!(
            unhide_tunnel_password(&forged, SECRET, &auth),
            Err(PasswordError::BadDataLength { .. })
        ));
    }

    #[test]
    fn mppe_key_round_trip() {
        let auth = [9u8; 16];
        let key = [0xC3u8; 32];
        let v = hide_mppe_key(&key, SECRET, &auth, [0x85, 0x55]).unwrap();
        assert_eq!(v.len(), 2 + 48);
        assert_eq!(unhide_mppe_key(&v, SECRET, &auth).unwrap(), key);
        assert_ne!(
            unhide_mppe_key(&v, b"other", &auth).ok(),
            Some(key.to_vec())
        );
    }

    #[test]
    fn message_authenticator_rejects_bad_offsets() {
        let pkt = [0u8; 40];
        assert!(message_authenticator(&pkt, 19, &ZEROS, SECRET).is_none());
        assert!(message_authenticator(&pkt, 25, &ZEROS, SECRET).is_none());
        assert!(message_authenticator(&pkt, 24, &ZEROS, SECRET).is_some());
        assert!(message_authenticator(&pkt[..10], 20, &ZEROS, SECRET).is_none());
        assert!(message_authenticator(&pkt, usize::MAX, &ZEROS, SECRET).is_none());
    }

    #[test]
    fn random_values() {
        let a = random_authenticator().unwrap();
        let b = random_authenticator().unwrap();
        assert_ne!(a, b);
        assert!(random_salt().unwrap()[0] & 0x80 != 0);
    }
}
