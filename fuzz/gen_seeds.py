#!/usr/bin/env python3
"""Writes the seed corpus for radius_decode.

Independent of the Rust codec on purpose (plain hashlib/hmac), so the seeds
also cross-check it. Signed with the fuzz target's secret so the fuzzer
starts from packets whose authenticators verify. Deterministic: rerunning
rewrites identical files.
"""
import hashlib
import hmac
import os
import struct

SECRET = b"fuzz-secret"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "radius_decode")


def attr(typ, value):
    assert len(value) <= 253
    return bytes([typ, len(value) + 2]) + value


def hide_password(clear, auth):
    padded = clear + b"\0" * ((-len(clear)) % 16 or (16 if not clear else 0))
    out, prev = b"", auth
    for i in range(0, len(padded), 16):
        key = hashlib.md5(SECRET + prev).digest()
        block = bytes(a ^ b for a, b in zip(padded[i:i + 16], key))
        out, prev = out + block, block
    return out


def packet(code, ident, auth, attrs):
    body = b"".join(attrs)
    return bytes([code, ident]) + struct.pack(">H", 20 + len(body)) + auth + body


def sign_ma(pkt, ma_auth):
    """Fills the Message-Authenticator, which must be the first attribute."""
    zeroed = pkt[:4] + ma_auth + pkt[20:22] + b"\0" * 16 + pkt[38:]
    mac = hmac.new(SECRET, zeroed, hashlib.md5).digest()
    return pkt[:22] + mac + pkt[38:]


def hashed(pkt):
    zeroed = pkt[:4] + b"\0" * 16 + pkt[20:]
    return pkt[:4] + hashlib.md5(zeroed + SECRET).digest() + pkt[20:]


MA = attr(80, b"\0" * 16)
AUTH = bytes(range(16))

access_request = sign_ma(packet(1, 1, AUTH, [
    MA,
    attr(1, b"alice"),
    attr(2, hide_password(b"correct horse", AUTH)),
    attr(4, bytes([192, 0, 2, 10])),
    attr(5, struct.pack(">I", 7)),
    attr(31, b"02-00-00-00-00-01"),
    attr(33, b"proxy-1"),
]), AUTH)

accounting_request = hashed(packet(4, 2, b"\0" * 16, [
    attr(40, struct.pack(">I", 1)),
    attr(44, b"session-0001"),
    attr(1, b"alice"),
    attr(55, struct.pack(">I", 1700000000)),
    attr(26, struct.pack(">I", 311) + attr(11, b"\x11" * 16)),
]))

status_server = sign_ma(packet(12, 3, bytes(range(16, 32)), [MA]), bytes(range(16, 32)))

accept = packet(2, 4, AUTH, [
    attr(64, bytes([1, 0, 0, 13])),
    attr(65, bytes([1, 0, 0, 6])),
    attr(81, b"\x0110"),
    attr(69, b"\x01\x80\x01" + b"\x00" * 16),
    attr(18, b"Welcome"),
])

rfc2865_request = bytes.fromhex(
    "010000380f403f9473978057bd83d5cb98f4227a01066e656d6f02120dbe708d"
    "93d413ce3196e43f782a0aee0406c0a80110050600000003")

os.makedirs(OUT, exist_ok=True)
for name, data in [
    ("access_request", access_request),
    ("accounting_request", accounting_request),
    ("status_server", status_server),
    ("access_accept_tunnel", accept),
    ("rfc2865_access_request", rfc2865_request),
]:
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
