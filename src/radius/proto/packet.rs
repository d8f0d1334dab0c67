//! Packet framing: the zero-copy [`PacketView`] for what we receive and the
//! owned [`Packet`] builder for what we send.

use std::fmt;

use super::attr::{self, MAX_VALUE_LEN, MESSAGE_AUTHENTICATOR, PROXY_STATE, USER_PASSWORD};
use super::code::Code;
use super::crypto;
use super::error::{DecodeError, EncodeError};
use super::layout::{HEADER_LEN, MAX_PACKET_LEN};

/// Length of a Message-Authenticator attribute including its header.
const MA_ATTR_LEN: usize = 18;

/// Where the MAC value sits in packets we encode, which always put the
/// Message-Authenticator first.
const FIRST_MA_VALUE_OFFSET: usize = HEADER_LEN + 2;

/// A validated, borrowed RADIUS packet.
///
/// Decoding checks the header and walks every attribute once; after that
/// the attribute accessors re-walk the (now known good) bytes instead of
/// keeping an index, so decoding allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct PacketView<'a> {
    code: Code,
    identifier: u8,
    authenticator: &'a [u8; 16],
    raw: &'a [u8],
    ma_offset: Option<usize>,
    attr_count: usize,
}

impl<'a> PacketView<'a> {
    /// Validates `buf` as one RADIUS packet. Octets past the Length field
    /// are padding and ignored (RFC 2865 §3).
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let Some((header, _)) = buf.split_first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::TooShort { len: buf.len() });
        };
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if len < HEADER_LEN {
            return Err(DecodeError::LengthBelowHeader { len });
        }
        if len > MAX_PACKET_LEN {
            return Err(DecodeError::TooLong { len });
        }
        let Some(raw) = buf.get(..len) else {
            return Err(DecodeError::LengthMismatch {
                header: len,
                actual: buf.len(),
            });
        };
        let Some((_, authenticator)) = header.split_last_chunk::<16>() else {
            return Err(DecodeError::TooShort { len: buf.len() });
        };

        let mut ma_offset = None;
        let mut attr_count = 0;
        let mut offset = HEADER_LEN;
        while let Some(rest) = raw.get(offset..).filter(|r| !r.is_empty()) {
            let (typ, attr_len) = match rest {
                [typ, attr_len, ..] => (*typ, usize::from(*attr_len)),
                [typ, ..] => return Err(DecodeError::AttributeOverrun { typ: *typ, offset }),
                [] => break,
            };
            if attr_len < 2 {
                return Err(DecodeError::BadAttributeLength {
                    typ,
                    len: attr_len,
                    offset,
                });
            }
            if attr_len > rest.len() {
                return Err(DecodeError::AttributeOverrun { typ, offset });
            }
            if typ == MESSAGE_AUTHENTICATOR {
                if attr_len != MA_ATTR_LEN {
                    return Err(DecodeError::BadMessageAuthenticatorLength { len: attr_len });
                }
                if ma_offset.is_some() {
                    return Err(DecodeError::DuplicateMessageAuthenticator);
                }
                ma_offset = Some(offset + 2);
            }
            attr_count += 1;
            offset += attr_len;
        }

        Ok(Self {
            code: Code::from_u8(header[0]),
            identifier: header[1],
            authenticator,
            raw,
            ma_offset,
            attr_count,
        })
    }

    pub fn code(&self) -> Code {
        self.code
    }

    pub fn identifier(&self) -> u8 {
        self.identifier
    }

    pub fn authenticator(&self) -> &'a [u8; 16] {
        self.authenticator
    }

    /// Exactly the Length octets of the packet, without padding.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn attribute_count(&self) -> usize {
        self.attr_count
    }

    /// Every attribute in wire order as (type, value).
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            rest: self.raw.get(HEADER_LEN..).unwrap_or(&[]),
        }
    }

    /// First value of type `typ`.
    pub fn attr(&self, typ: u8) -> Option<&'a [u8]> {
        self.attrs(typ).next()
    }

    /// Every value of type `typ`, in wire order.
    pub fn attrs(&self, typ: u8) -> impl Iterator<Item = &'a [u8]> + Clone + use<'a> {
        self.attributes()
            .filter(move |(t, _)| *t == typ)
            .map(|(_, v)| v)
    }

    /// Offset in [`raw`](Self::raw) of the 16-octet Message-Authenticator
    /// value, if the packet has one.
    pub fn message_authenticator_offset(&self) -> Option<usize> {
        self.ma_offset
    }

    pub fn message_authenticator(&self) -> Option<&'a [u8; 16]> {
        let offset = self.ma_offset?;
        self.raw.get(offset..)?.first_chunk::<16>()
    }
}

/// Iterator over the attributes of a [`PacketView`].
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (typ, value, rest) = attr::split_tlv(self.rest)?;
        self.rest = rest;
        Some((typ, value))
    }
}

/// An owned packet to encode.
///
/// The encoders own Message-Authenticator: one the caller added is never
/// copied, its presence only asks for one where it is optional.
#[derive(Clone, PartialEq, Eq)]
pub struct Packet {
    pub code: Code,
    pub identifier: u8,
    pub authenticator: [u8; 16],
    pub attributes: Vec<(u8, Vec<u8>)>,
    /// Kept apart from `attributes` because it can only be hidden at encode
    /// time, with the secret and the final authenticator.
    user_password: Option<Vec<u8>>,
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("code", &self.code)
            .field("identifier", &self.identifier)
            .field("authenticator", &self.authenticator)
            .field("attributes", &self.attributes)
            .field(
                "user_password",
                &self.user_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Which authenticator goes in the header of an encoded request.
enum RequestKind {
    /// Access-Request/Status-Server: the caller's random nonce.
    Random,
    /// Accounting/CoA/Disconnect: MD5 over the packet.
    Hashed,
}

impl Packet {
    pub fn new(code: Code, identifier: u8) -> Self {
        Self {
            code,
            identifier,
            authenticator: [0; 16],
            attributes: Vec::new(),
            user_password: None,
        }
    }

    /// Copies every attribute of `view` verbatim, Message-Authenticator and
    /// Proxy-State included, e.g. for a proxy to forward.
    pub fn from_view(view: &PacketView<'_>) -> Self {
        Self {
            code: view.code(),
            identifier: view.identifier(),
            authenticator: *view.authenticator(),
            attributes: view.attributes().map(|(t, v)| (t, v.to_vec())).collect(),
            user_password: None,
        }
    }

    pub fn add(&mut self, typ: u8, value: impl Into<Vec<u8>>) -> &mut Self {
        self.attributes.push((typ, value.into()));
        self
    }

    pub fn add_str(&mut self, typ: u8, value: &str) -> &mut Self {
        self.add(typ, value.as_bytes())
    }

    pub fn add_u32(&mut self, typ: u8, value: u32) -> &mut Self {
        self.add(typ, attr::encode_u32(value))
    }

    pub fn add_ipv4(&mut self, typ: u8, addr: std::net::Ipv4Addr) -> &mut Self {
        self.add(typ, attr::encode_ipv4(addr))
    }

    pub fn add_ipv6(&mut self, typ: u8, addr: std::net::Ipv6Addr) -> &mut Self {
        self.add(typ, attr::encode_ipv6(addr))
    }

    pub fn add_tagged_u32(
        &mut self,
        typ: u8,
        tag: u8,
        value: u32,
    ) -> Result<&mut Self, EncodeError> {
        let value = attr::encode_tagged_u32(tag, value)?;
        Ok(self.add(typ, value))
    }

    pub fn add_tagged_str(
        &mut self,
        typ: u8,
        tag: Option<u8>,
        value: &str,
    ) -> Result<&mut Self, EncodeError> {
        let value = attr::encode_tagged_string(tag, value.as_bytes())?;
        Ok(self.add(typ, value))
    }

    pub fn add_vsa(
        &mut self,
        vendor_id: u32,
        typ: u8,
        value: &[u8],
    ) -> Result<&mut Self, EncodeError> {
        let value = attr::encode_vsa(vendor_id, typ, value)?;
        Ok(self.add(attr::VENDOR_SPECIFIC, value))
    }

    /// Adds a Tunnel-Password hidden with the authenticator of the request
    /// this packet answers.
    pub fn add_tunnel_password(
        &mut self,
        tag: u8,
        cleartext: &[u8],
        secret: &[u8],
        request_authenticator: &[u8; 16],
        salt: [u8; 2],
    ) -> Result<&mut Self, EncodeError> {
        let value =
            crypto::hide_tunnel_password(tag, cleartext, secret, request_authenticator, salt)?;
        Ok(self.add(attr::TUNNEL_PASSWORD, value))
    }

    /// Asks for a Message-Authenticator in requests where it is optional
    /// (Accounting, CoA, Disconnect). The value is computed at encode time.
    pub fn add_message_authenticator(&mut self) -> &mut Self {
        self.add(MESSAGE_AUTHENTICATOR, [0u8; 16])
    }

    /// Sets the cleartext User-Password of an Access-Request; the encoder
    /// hides it with the secret and `authenticator`.
    pub fn set_user_password(&mut self, cleartext: impl Into<Vec<u8>>) -> &mut Self {
        self.user_password = Some(cleartext.into());
        self
    }

    /// First value of type `typ`.
    pub fn get(&self, typ: u8) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(t, _)| *t == typ)
            .map(|(_, v)| v.as_slice())
    }

    fn has_message_authenticator(&self) -> bool {
        self.attributes
            .iter()
            .any(|(t, _)| *t == MESSAGE_AUTHENTICATOR)
    }

    /// Encodes a response to `request`; see [`encode_response_into`](Self::encode_response_into).
    pub fn encode_response(
        &self,
        request: &PacketView<'_>,
        secret: &[u8],
    ) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_response_into(request, secret, &mut out)?;
        Ok(out)
    }

    /// Encodes a response to `request` into `out` (cleared first).
    ///
    /// The Identifier is the request's. A Message-Authenticator always goes
    /// first, so that a forger cannot align chosen data in front of it
    /// (BlastRADIUS). Proxy-State attributes of the request are appended in
    /// order (RFC 2865 §5.33); Proxy-State and Message-Authenticator entries
    /// of `self.attributes` are skipped because only those two rules may
    /// produce them.
    pub fn encode_response_into(
        &self,
        request: &PacketView<'_>,
        secret: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let key = crypto::MacKey::new(secret).ok_or(EncodeError::MacKey)?;
        self.encode_response_keyed(request, secret, &key, out)
    }

    /// [`encode_response_into`](Self::encode_response_into) with the secret's
    /// HMAC key made beforehand (`key` must be made from `secret`).
    pub fn encode_response_keyed(
        &self,
        request: &PacketView<'_>,
        secret: &[u8],
        key: &crypto::MacKey,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        if !self.code.is_response() {
            return Err(EncodeError::NotAResponse { code: self.code });
        }
        if self.user_password.is_some() {
            return Err(EncodeError::UserPasswordNotAllowed { code: self.code });
        }
        let request_auth = request.authenticator();
        let attrs = self
            .attributes
            .iter()
            .filter(|(t, _)| *t != MESSAGE_AUTHENTICATOR && *t != PROXY_STATE)
            .map(|(t, v)| (*t, v.as_slice()))
            .chain(request.attrs(PROXY_STATE).map(|v| (PROXY_STATE, v)));
        write_packet(
            out,
            self.code,
            request.identifier(),
            request_auth,
            true,
            attrs,
        )?;

        let ma_auth = crypto::ma_authenticator(
            self.code,
            request_auth,
            Some((request.code(), request_auth)),
        );
        sign_first_ma_keyed(out, &ma_auth, key)?;
        let response_auth = crypto::response_authenticator(out, request_auth, secret);
        put16(out, 4, &response_auth);
        Ok(())
    }

    /// Encodes a request; see [`encode_request_into`](Self::encode_request_into).
    pub fn encode_request(&self, secret: &[u8]) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_request_into(secret, &mut out)?;
        Ok(out)
    }

    /// Encodes a request into `out` (cleared first).
    ///
    /// Access-Request and Status-Server use `self.authenticator` (fill it
    /// from [`crypto::random_authenticator`]) and always get a
    /// Message-Authenticator first; the User-Password set with
    /// [`set_user_password`](Self::set_user_password) follows it.
    /// Accounting, CoA and Disconnect requests get the hashed authenticator
    /// and a Message-Authenticator only if one was added.
    pub fn encode_request_into(&self, secret: &[u8], out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let (kind, with_ma) = match self.code {
            Code::AccessRequest | Code::StatusServer => (RequestKind::Random, true),
            c if c.has_hashed_request_authenticator() => {
                (RequestKind::Hashed, self.has_message_authenticator())
            }
            code => return Err(EncodeError::NotARequest { code }),
        };
        let hidden = match &self.user_password {
            Some(_) if self.code != Code::AccessRequest => {
                return Err(EncodeError::UserPasswordNotAllowed { code: self.code });
            }
            Some(pw) => Some(crypto::hide_user_password(pw, secret, &self.authenticator)?),
            None => None,
        };
        let header_auth = match kind {
            RequestKind::Random => self.authenticator,
            RequestKind::Hashed => [0; 16],
        };
        let attrs = hidden
            .as_deref()
            .map(|v| (USER_PASSWORD, v))
            .into_iter()
            .chain(
                self.attributes
                    .iter()
                    .filter(|(t, _)| *t != MESSAGE_AUTHENTICATOR)
                    .map(|(t, v)| (*t, v.as_slice())),
            );
        write_packet(
            out,
            self.code,
            self.identifier,
            &header_auth,
            with_ma,
            attrs,
        )?;

        if with_ma {
            let ma_auth = crypto::ma_authenticator(self.code, &header_auth, None);
            sign_first_ma(out, &ma_auth, secret)?;
        }
        if let RequestKind::Hashed = kind {
            let auth = crypto::accounting_request_authenticator(out, secret);
            put16(out, 4, &auth);
        }
        Ok(())
    }

    /// Encodes the packet exactly as it is: header fields and attributes
    /// verbatim, nothing computed. For tests, fuzzing and replaying captures.
    pub fn encode_raw(&self) -> Result<Vec<u8>, EncodeError> {
        if self.user_password.is_some() {
            return Err(EncodeError::UserPasswordNotAllowed { code: self.code });
        }
        let mut out = Vec::new();
        let attrs = self.attributes.iter().map(|(t, v)| (*t, v.as_slice()));
        write_packet(
            &mut out,
            self.code,
            self.identifier,
            &self.authenticator,
            false,
            attrs,
        )?;
        Ok(out)
    }
}

/// Writes header and attributes into `out`, with a zeroed
/// Message-Authenticator first when `with_ma`. Sizes are checked before
/// anything is written so `out` is allocated once and never holds a
/// truncated packet.
fn write_packet<'x>(
    out: &mut Vec<u8>,
    code: Code,
    identifier: u8,
    authenticator: &[u8; 16],
    with_ma: bool,
    attrs: impl Iterator<Item = (u8, &'x [u8])> + Clone,
) -> Result<(), EncodeError> {
    let mut len = HEADER_LEN + if with_ma { MA_ATTR_LEN } else { 0 };
    for (typ, value) in attrs.clone() {
        if value.len() > MAX_VALUE_LEN {
            return Err(EncodeError::AttributeTooLong {
                typ,
                len: value.len(),
            });
        }
        len = len.saturating_add(2 + value.len());
    }
    let too_long = EncodeError::TooLong { len };
    let wire_len = u16::try_from(len)
        .ok()
        .filter(|_| len <= MAX_PACKET_LEN)
        .ok_or(too_long)?;

    out.clear();
    out.reserve(len);
    out.push(code.as_u8());
    out.push(identifier);
    out.extend_from_slice(&wire_len.to_be_bytes());
    out.extend_from_slice(authenticator);
    if with_ma {
        out.push(MESSAGE_AUTHENTICATOR);
        out.push(MA_ATTR_LEN as u8);
        out.extend_from_slice(&[0; 16]);
    }
    for (typ, value) in attrs {
        let attr_len =
            u8::try_from(value.len() + 2).map_err(|_| EncodeError::AttributeTooLong {
                typ,
                len: value.len(),
            })?;
        out.push(typ);
        out.push(attr_len);
        out.extend_from_slice(value);
    }
    Ok(())
}

fn sign_first_ma(out: &mut [u8], ma_auth: &[u8; 16], secret: &[u8]) -> Result<(), EncodeError> {
    let key = crypto::MacKey::new(secret).ok_or(EncodeError::MacKey)?;
    sign_first_ma_keyed(out, ma_auth, &key)
}

fn sign_first_ma_keyed(
    out: &mut [u8],
    ma_auth: &[u8; 16],
    key: &crypto::MacKey,
) -> Result<(), EncodeError> {
    let mac = crypto::message_authenticator_keyed(out, FIRST_MA_VALUE_OFFSET, ma_auth, key)
        .ok_or(EncodeError::MacKey)?;
    put16(out, FIRST_MA_VALUE_OFFSET, &mac);
    Ok(())
}

fn put16(out: &mut [u8], at: usize, value: &[u8; 16]) {
    if let Some(dst) = out.get_mut(at..).and_then(|s| s.first_chunk_mut::<16>()) {
        *dst = *value;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::attr::*;
    use super::super::crypto;
    use super::super::test_util::hex;
    use super::super::verify::{self, MaCheck};
    use super::*;

    const SECRET: &[u8] = b"xyzzy5461";
    const RFC_REQUEST: &str = "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d
        93d413ce3196e43f782a0aee0406c0a80110050600000003";
    const RFC_ACCEPT: &str = "0200002686fe220e7624ba2a1005f6bf9b55e0b20606000000010f0600000000
        0e06c0a80103";
    // RFC 2865 §7.2, CHAP.
    const RFC_CHAP_REQUEST: &str = "01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
        0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9
        75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04
        06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00
        02 07 06 00 00 00 01";
    // RFC 2865 §7.3, Access-Challenge.
    const RFC_CHALLENGE: &str = "0b 02 00 4e 36 f3 c8 76 4a e8 c7 11 57 40 3c 0c
        71 ff 9c 45 12 30 43 68 61 6c 6c 65 6e 67 65 20
        33 32 37 36 39 34 33 30 2e 20 20 45 6e 74 65 72
        20 72 65 73 70 6f 6e 73 65 20 61 74 20 70 72 6f
        6d 70 74 2e 18 0a 33 32 37 36 39 34 33 30";

    fn request_view(buf: &[u8]) -> PacketView<'_> {
        PacketView::decode(buf).unwrap()
    }

    #[test]
    fn rfc2865_access_request_decodes() {
        let buf = hex(RFC_REQUEST);
        let v = request_view(&buf);
        assert_eq!(v.code(), Code::AccessRequest);
        assert_eq!(v.identifier(), 0);
        assert_eq!(v.raw().len(), 0x38);
        assert_eq!(v.attribute_count(), 4);
        assert_eq!(v.attr(USER_NAME), Some(&b"nemo"[..]));
        assert_eq!(
            v.attr(NAS_IP_ADDRESS).and_then(as_ipv4),
            Some(std::net::Ipv4Addr::new(192, 168, 1, 16))
        );
        assert_eq!(v.attr(NAS_PORT).and_then(as_u32), Some(3));
        assert_eq!(v.message_authenticator_offset(), None);
        let types: Vec<u8> = v.attributes().map(|(t, _)| t).collect();
        assert_eq!(types, [USER_NAME, USER_PASSWORD, NAS_IP_ADDRESS, NAS_PORT]);
    }

    #[test]
    fn rfc2865_access_accept_decodes() {
        let buf = hex(RFC_ACCEPT);
        let v = request_view(&buf);
        assert_eq!(v.code(), Code::AccessAccept);
        assert_eq!(v.attr(SERVICE_TYPE).and_then(as_u32), Some(1));
        assert_eq!(v.attr(LOGIN_SERVICE).and_then(as_u32), Some(0));
        assert_eq!(v.attr(LOGIN_IP_HOST), Some(&[192u8, 168, 1, 3][..]));
    }

    #[test]
    fn rfc2865_chap_and_challenge_examples() {
        let buf = hex(RFC_CHAP_REQUEST);
        let v = request_view(&buf);
        assert_eq!(v.identifier(), 1);
        assert_eq!(v.attr(USER_NAME), Some(&b"flopsy"[..]));
        let chap = v.attr(CHAP_PASSWORD).unwrap();
        assert_eq!(chap.len(), 17);
        assert_eq!(chap[0], 0x16);
        assert_eq!(v.attr(NAS_PORT).and_then(as_u32), Some(20));
        assert_eq!(v.attr(SERVICE_TYPE).and_then(as_u32), Some(2));
        assert_eq!(v.attr(FRAMED_PROTOCOL).and_then(as_u32), Some(1));

        let buf = hex(RFC_CHALLENGE);
        let v = request_view(&buf);
        assert_eq!(v.code(), Code::AccessChallenge);
        assert_eq!(
            v.attr(REPLY_MESSAGE).and_then(as_string),
            Some("Challenge 32769430.  Enter response at prompt.")
        );
        assert_eq!(v.attr(STATE), Some(&b"32769430"[..]));
    }

    #[test]
    fn padding_after_length_is_ignored() {
        let mut buf = hex(RFC_ACCEPT);
        let len = buf.len();
        buf.extend_from_slice(&[0xFF; 100]);
        let v = request_view(&buf);
        assert_eq!(v.raw().len(), len);
        assert_eq!(v.attribute_count(), 3);
        let req_buf = hex(RFC_REQUEST);
        let req = request_view(&req_buf);
        assert!(verify::response(&v, req.authenticator(), SECRET));
    }

    fn header(len: u16) -> Vec<u8> {
        let mut b = vec![1, 0];
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(&[0; 16]);
        b
    }

    fn with_attrs(attrs: &[u8]) -> Vec<u8> {
        let mut b = header((HEADER_LEN + attrs.len()) as u16);
        b.extend_from_slice(attrs);
        b
    }

    #[test]
    fn malformed_headers() {
        assert_eq!(
            PacketView::decode(&[]).unwrap_err(),
            DecodeError::TooShort { len: 0 }
        );
        assert_eq!(
            PacketView::decode(&[1]).unwrap_err(),
            DecodeError::TooShort { len: 1 }
        );
        assert_eq!(
            PacketView::decode(&[1; 19]).unwrap_err(),
            DecodeError::TooShort { len: 19 }
        );
        assert_eq!(
            PacketView::decode(&header(0)).unwrap_err(),
            DecodeError::LengthBelowHeader { len: 0 }
        );
        assert_eq!(
            PacketView::decode(&header(19)).unwrap_err(),
            DecodeError::LengthBelowHeader { len: 19 }
        );
        assert_eq!(
            PacketView::decode(&header(65535)).unwrap_err(),
            DecodeError::TooLong { len: 65535 }
        );
        let mut big = header(4097);
        big.resize(5000, 0);
        assert_eq!(
            PacketView::decode(&big).unwrap_err(),
            DecodeError::TooLong { len: 4097 }
        );
        assert_eq!(
            PacketView::decode(&header(21)).unwrap_err(),
            DecodeError::LengthMismatch {
                header: 21,
                actual: 20
            }
        );
        let empty = header(20);
        let v = request_view(&empty);
        assert_eq!(v.attributes().count(), 0);
        assert_eq!(v.attr(USER_NAME), None);
    }

    #[test]
    fn malformed_attributes() {
        assert_eq!(
            PacketView::decode(&with_attrs(&[1, 0])).unwrap_err(),
            DecodeError::BadAttributeLength {
                typ: 1,
                len: 0,
                offset: 20
            }
        );
        assert_eq!(
            PacketView::decode(&with_attrs(&[1, 1])).unwrap_err(),
            DecodeError::BadAttributeLength {
                typ: 1,
                len: 1,
                offset: 20
            }
        );
        // Truncated: claims 6 octets, 4 remain inside Length.
        assert_eq!(
            PacketView::decode(&with_attrs(&[5, 6, 0, 0])).unwrap_err(),
            DecodeError::AttributeOverrun { typ: 5, offset: 20 }
        );
        // Truncated inside Length even though the datagram has more bytes.
        let mut padded = with_attrs(&[5, 6, 0, 0]);
        padded.extend_from_slice(&[0, 0]);
        assert!(PacketView::decode(&padded).is_err());
        // A single trailing octet inside Length.
        assert_eq!(
            PacketView::decode(&with_attrs(&[1, 3, b'a', 7])).unwrap_err(),
            DecodeError::AttributeOverrun { typ: 7, offset: 23 }
        );
    }

    #[test]
    fn many_empty_attributes_decode_quickly() {
        let attrs: Vec<u8> = [26u8, 2].repeat((MAX_PACKET_LEN - HEADER_LEN) / 2);
        let buf = with_attrs(&attrs);
        let v = request_view(&buf);
        assert_eq!(v.attribute_count(), 2038);
        assert_eq!(v.attributes().count(), 2038);
        assert!(v.attributes().all(|(t, val)| t == 26 && val.is_empty()));
        assert!(
            v.attr(VENDOR_SPECIFIC)
                .is_some_and(|val| decode_vsa(val).is_err())
        );
    }

    #[test]
    fn message_authenticator_rules() {
        let ma = |len: u8| {
            let mut a = vec![MESSAGE_AUTHENTICATOR, len];
            a.resize(usize::from(len), 0);
            a
        };
        let two = [ma(18), ma(18)].concat();
        assert_eq!(
            PacketView::decode(&with_attrs(&two)).unwrap_err(),
            DecodeError::DuplicateMessageAuthenticator
        );
        assert_eq!(
            PacketView::decode(&with_attrs(&ma(17))).unwrap_err(),
            DecodeError::BadMessageAuthenticatorLength { len: 17 }
        );
        assert_eq!(
            PacketView::decode(&with_attrs(&ma(19))).unwrap_err(),
            DecodeError::BadMessageAuthenticatorLength { len: 19 }
        );
        let one = [vec![1, 3, b'x'], ma(18)].concat();
        let buf = with_attrs(&one);
        let v = request_view(&buf);
        assert_eq!(v.message_authenticator_offset(), Some(25));
        assert_eq!(v.message_authenticator(), Some(&[0u8; 16]));
    }

    #[test]
    fn bad_user_password_lengths_are_errors() {
        let auth = [0u8; 16];
        for len in [17usize, 0, 144] {
            let mut attrs = vec![USER_PASSWORD, (len + 2) as u8];
            attrs.resize(2 + len, 1);
            let buf = with_attrs(&attrs);
            let v = request_view(&buf);
            let hidden = v.attr(USER_PASSWORD).unwrap();
            assert!(
                crypto::unhide_user_password(hidden, SECRET, &auth).is_err(),
                "{len}"
            );
        }
    }

    fn sample_request() -> Vec<u8> {
        let mut p = Packet::new(Code::AccessRequest, 42);
        p.authenticator = [3; 16];
        p.add_str(USER_NAME, "alice")
            .add(PROXY_STATE, b"first".to_vec())
            .add_u32(NAS_PORT, 1)
            .add(PROXY_STATE, b"second".to_vec());
        p.set_user_password("s3cret");
        p.encode_request(SECRET).unwrap()
    }

    #[test]
    fn access_request_layout() {
        let wire = sample_request();
        let v = request_view(&wire);
        let types: Vec<u8> = v.attributes().map(|(t, _)| t).collect();
        assert_eq!(
            types,
            [
                MESSAGE_AUTHENTICATOR,
                USER_PASSWORD,
                USER_NAME,
                PROXY_STATE,
                NAS_PORT,
                PROXY_STATE
            ]
        );
        assert_eq!(v.authenticator(), &[3; 16]);
        assert_eq!(
            verify::message_authenticator(&v, SECRET, None),
            MaCheck::Valid
        );
        let pw =
            crypto::unhide_user_password(v.attr(USER_PASSWORD).unwrap(), SECRET, v.authenticator())
                .unwrap();
        assert_eq!(pw, b"s3cret");
    }

    #[test]
    fn response_puts_ma_first_and_copies_proxy_state_in_order() {
        let req_buf = sample_request();
        let req = request_view(&req_buf);
        for code in [
            Code::AccessAccept,
            Code::AccessReject,
            Code::AccessChallenge,
            Code::AccountingResponse,
            Code::CoaAck,
        ] {
            let mut resp = Packet::new(code, 0);
            resp.add_str(REPLY_MESSAGE, "hi")
                .add(PROXY_STATE, b"stale".to_vec())
                .add_message_authenticator();
            let wire = resp.encode_response(&req, SECRET).unwrap();
            let v = request_view(&wire);
            assert_eq!(v.identifier(), 42);
            assert_eq!(v.message_authenticator_offset(), Some(22));
            let attrs: Vec<(u8, &[u8])> = v.attributes().skip(1).collect();
            assert_eq!(
                attrs,
                [
                    (REPLY_MESSAGE, &b"hi"[..]),
                    (PROXY_STATE, &b"first"[..]),
                    (PROXY_STATE, &b"second"[..])
                ]
            );
            assert!(
                verify::response(&v, req.authenticator(), SECRET),
                "{code:?}"
            );
            assert_eq!(
                verify::message_authenticator(&v, SECRET, Some(req.authenticator())),
                MaCheck::Valid,
                "{code:?}"
            );
            // Accounting-Response MACs are keyed on zeros, not the request.
            if matches!(
                code,
                Code::AccessAccept | Code::AccessReject | Code::AccessChallenge
            ) {
                assert_eq!(
                    verify::message_authenticator(&v, SECRET, Some(&[0xEE; 16])),
                    MaCheck::Invalid
                );
            }
            assert!(!verify::response(&v, &[0xEE; 16], SECRET));
        }
    }

    #[test]
    fn rfc2865_accept_reproduced_apart_from_ma() {
        let req_buf = hex(RFC_REQUEST);
        let req = request_view(&req_buf);
        let mut resp = Packet::new(Code::AccessAccept, 0);
        resp.add_u32(SERVICE_TYPE, 1)
            .add_u32(LOGIN_SERVICE, 0)
            .add_ipv4(LOGIN_IP_HOST, std::net::Ipv4Addr::new(192, 168, 1, 3));
        let wire = resp.encode_response(&req, SECRET).unwrap();
        let rfc = hex(RFC_ACCEPT);
        assert_eq!(&wire[HEADER_LEN + 18..], &rfc[HEADER_LEN..]);
        assert_eq!(wire.len(), rfc.len() + 18);
    }

    #[test]
    fn encode_response_into_reuses_buffer() {
        let req_buf = sample_request();
        let req = request_view(&req_buf);
        let mut out = Vec::with_capacity(MAX_PACKET_LEN);
        let ptr = out.as_ptr();
        let resp = Packet::new(Code::AccessReject, 0);
        resp.encode_response_into(&req, SECRET, &mut out).unwrap();
        let first = out.clone();
        resp.encode_response_into(&req, SECRET, &mut out).unwrap();
        assert_eq!(out, first);
        assert_eq!(out.as_ptr(), ptr);
    }

    #[test]
    fn status_server_reply_uses_request_authenticator_for_ma() {
        let req_buf =
            hex("0cb30026925f6b66dd5fed571fcb1db7ad3882605012e8d6eabda910875cd91fdade26367858");
        let req = request_view(&req_buf);
        let wire = Packet::new(Code::AccountingResponse, 0)
            .encode_response(&req, SECRET)
            .unwrap();
        let v = request_view(&wire);
        let off = v.message_authenticator_offset().unwrap();
        let with_req = crypto::message_authenticator(v.raw(), off, req.authenticator(), SECRET);
        assert_eq!(with_req.as_ref(), v.message_authenticator());
    }

    #[test]
    fn rfc5997_status_server_encodes_exactly() {
        let mut p = Packet::new(Code::StatusServer, 218);
        p.authenticator = hex("8a54f4686fb394c52866e302185d0623").try_into().unwrap();
        assert_eq!(
            p.encode_request(SECRET).unwrap(),
            hex("0cda00268a54f4686fb394c52866e302185d062350125a665e2e1e8411f3e243822097c84fa3")
        );
    }

    #[test]
    fn disconnect_request_encodes_exactly() {
        let mut p = Packet::new(Code::DisconnectRequest, 1);
        p.add_str(ACCT_SESSION_ID, "09042AF8");
        assert_eq!(
            p.encode_request(SECRET).unwrap(),
            hex("2801001e2ec8a0da729620319be0140bc28e92682c0a3039303432414638")
        );
    }

    #[test]
    fn accounting_request_with_optional_ma() {
        let mut p = Packet::new(Code::AccountingRequest, 9);
        p.add_str(USER_NAME, "nemo").add_u32(ACCT_STATUS_TYPE, 1);
        let plain = p.encode_request(SECRET).unwrap();
        let v = request_view(&plain);
        assert!(verify::accounting_request(&v, SECRET));
        assert_eq!(
            verify::message_authenticator(&v, SECRET, None),
            MaCheck::Missing
        );

        p.add_message_authenticator();
        let signed = p.encode_request(SECRET).unwrap();
        let v = request_view(&signed);
        assert_eq!(v.message_authenticator_offset(), Some(22));
        assert!(verify::accounting_request(&v, SECRET));
        assert_eq!(
            verify::message_authenticator(&v, SECRET, None),
            MaCheck::Valid
        );
    }

    #[test]
    fn encoder_rejects_what_it_cannot_send() {
        let req_buf = sample_request();
        let req = request_view(&req_buf);
        let mut p = Packet::new(Code::AccessAccept, 0);
        p.add(REPLY_MESSAGE, vec![b'x'; 254]);
        assert_eq!(
            p.encode_response(&req, SECRET).unwrap_err(),
            EncodeError::AttributeTooLong {
                typ: REPLY_MESSAGE,
                len: 254
            }
        );
        let mut p = Packet::new(Code::AccessAccept, 0);
        for _ in 0..17 {
            p.add(CLASS, vec![0; 253]);
        }
        assert!(matches!(
            p.encode_response(&req, SECRET),
            Err(EncodeError::TooLong { len }) if len > MAX_PACKET_LEN
        ));
        // Exactly 4096 is fine: 20 + 18 + 15 * 255 + 233.
        let mut p = Packet::new(Code::AccessRequest, 0);
        for _ in 0..15 {
            p.add(CLASS, vec![0; 253]);
        }
        p.add(CLASS, vec![0; 4096 - 20 - 18 - 15 * 255 - 2]);
        assert_eq!(p.encode_request(SECRET).unwrap().len(), MAX_PACKET_LEN);
        p.add(CLASS, Vec::new());
        assert_eq!(
            p.encode_request(SECRET).unwrap_err(),
            EncodeError::TooLong { len: 4098 }
        );

        assert_eq!(
            Packet::new(Code::AccessRequest, 0)
                .encode_response(&req, SECRET)
                .unwrap_err(),
            EncodeError::NotAResponse {
                code: Code::AccessRequest
            }
        );
        assert_eq!(
            Packet::new(Code::AccessAccept, 0)
                .encode_request(SECRET)
                .unwrap_err(),
            EncodeError::NotARequest {
                code: Code::AccessAccept
            }
        );
        let mut p = Packet::new(Code::AccountingRequest, 0);
        p.set_user_password("x");
        assert!(matches!(
            p.encode_request(SECRET),
            Err(EncodeError::UserPasswordNotAllowed { .. })
        ));
        let mut p = Packet::new(Code::AccessRequest, 0);
        p.set_user_password(vec![b'a'; 129]);
        assert!(matches!(
            p.encode_request(SECRET),
            Err(EncodeError::Password(_))
        ));
        assert!(!format!("{p:?}").contains("aaaa"));
    }

    #[test]
    fn tagged_integer_is_six_octets_on_the_wire() {
        let mut p = Packet::new(Code::AccessRequest, 0);
        p.add_tagged_u32(TUNNEL_TYPE, 1, 13).unwrap();
        let wire = p.encode_raw().unwrap();
        assert_eq!(&wire[HEADER_LEN..], &[TUNNEL_TYPE, 6, 1, 0, 0, 13]);
        let v = request_view(&wire);
        assert_eq!(decode_tagged_u32(v.attr(TUNNEL_TYPE).unwrap()), Ok((1, 13)));
    }

    #[test]
    fn vsa_and_tunnel_password_through_a_packet() {
        let req_buf = sample_request();
        let req = request_view(&req_buf);
        let mut p = Packet::new(Code::AccessAccept, 0);
        p.add_vsa(VENDOR_MICROSOFT, 26, b"S=0123").unwrap();
        p.add_tunnel_password(1, &[0x41; 16], SECRET, req.authenticator(), [0x80, 7])
            .unwrap();
        p.add_tagged_str(TUNNEL_PRIVATE_GROUP_ID, Some(1), "10")
            .unwrap();
        let wire = p.encode_response(&req, SECRET).unwrap();
        let v = request_view(&wire);
        let vsa: Vec<_> = decode_vsa(v.attr(VENDOR_SPECIFIC).unwrap())
            .unwrap()
            .collect();
        assert_eq!(
            vsa,
            [Vsa {
                vendor_id: 311,
                typ: 26,
                value: b"S=0123"
            }]
        );
        // Wire length of a 16-octet Tunnel-Password is 37.
        let tp_start = v.raw().windows(2).position(|w| w == [TUNNEL_PASSWORD, 37]);
        assert!(tp_start.is_some());
        let tp = v.attr(TUNNEL_PASSWORD).unwrap();
        let (tag, clear) = crypto::unhide_tunnel_password(tp, SECRET, req.authenticator()).unwrap();
        assert_eq!((tag, clear), (1, vec![0x41; 16]));
        assert_eq!(
            decode_tagged_string(v.attr(TUNNEL_PRIVATE_GROUP_ID).unwrap()),
            (Some(1), &b"10"[..])
        );
    }

    #[test]
    fn from_view_and_encode_raw_reproduce_the_packet() {
        for s in [RFC_REQUEST, RFC_ACCEPT, RFC_CHAP_REQUEST, RFC_CHALLENGE] {
            let buf = hex(s);
            let v = request_view(&buf);
            assert_eq!(Packet::from_view(&v).encode_raw().unwrap(), buf);
        }
    }
}
