#!/usr/bin/env python3
"""Generate benchmark users for Gatehouse / FreeRADIUS (stdlib only).

    gen-users.py --mode crypt|ssha [--count N] --users-out FILE --passwords-out FILE
                 [--prefix user] [--start 1] [--rounds 5000] [--no-explicit-rounds]
                 [--jobs J] [--seed S]

Writes two files with matching line order:
  users-out:      userNNNNN:hash
  passwords-out:  userNNNNN:password

Hashes:
  crypt  sha512-crypt with a per-user random 16-char salt:
         "$6$rounds=5000$<salt>$<hash>" (explicit rounds, the default; both
         glibc/libxcrypt crypt(3) and the Rust `sha-crypt` 0.6 verifier parse
         it) or, with --no-explicit-rounds, "$6$<salt>$<hash>" (implied 5000).
  ssha   "{SSHA}" + base64(sha1(password + salt) + salt), per-user random
         8-byte salt (OpenLDAP style).

Passwords are 12 random characters from [A-Za-z0-9].  --seed makes the
passwords and salts reproducible (random.Random, NOT for real credentials).

sha512-crypt uses the stdlib `crypt` module when present (Python <= 3.12,
C speed), otherwise a pure-Python implementation of the Drepper algorithm;
either way the work is spread over --jobs processes (default: all CPUs).
The pure-Python path is cross-checked against `crypt` at start-up when both
exist (--self-test runs that check alone).
"""

import argparse
import base64
import hashlib
import multiprocessing
import os
import random
import secrets
import string
import sys
import time
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt as _crypt  # removed in Python 3.13
    except ImportError:  # pragma: no cover - depends on Python version
        _crypt = None

PW_ALPHABET = string.ascii_letters + string.digits
CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B64 = CRYPT_ALPHABET  # crypt(3) base64 alphabet

# Byte transposition for the final sha512-crypt encoding (groups of 3 bytes).
_SHA512_ORDER = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4),
    (47, 5, 26), (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51),
    (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13), (56, 14, 35),
    (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19),
    (62, 20, 41),
)


def _b64_from_24bit(b2, b1, b0, n):
    w = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(n):
        out.append(_B64[w & 0x3F])
        w >>= 6
    return "".join(out)


def sha512_crypt_py(password: bytes, salt: str, rounds: int, explicit: bool) -> str:
    """Pure-Python sha512-crypt (Ulrich Drepper's specification)."""
    salt_b = salt.encode("ascii")[:16]
    sha = hashlib.sha512
    # Digest B
    db = sha(password + salt_b + password).digest()
    # Digest A
    a = sha(password + salt_b)
    plen = len(password)
    n = plen
    while n > 64:
        a.update(db)
        n -= 64
    a.update(db[:n])
    n = plen
    while n > 0:
        a.update(db if n & 1 else password)
        n >>= 1
    da = a.digest()
    # P sequence
    dp = sha(password * plen).digest()
    p = (dp * (plen // 64 + 1))[:plen]
    # S sequence
    ds = sha(salt_b * (16 + da[0])).digest()
    s = ds[: len(salt_b)]
    # Rounds
    c = da
    for i in range(rounds):
        h = sha()
        h.update(p if i & 1 else c)
        if i % 3:
            h.update(s)
        if i % 7:
            h.update(p)
        h.update(c if i & 1 else p)
        c = h.digest()
    enc = "".join(_b64_from_24bit(c[x], c[y], c[z], 4) for x, y, z in _SHA512_ORDER)
    enc += _b64_from_24bit(0, 0, c[63], 2)
    salt_s = salt_b.decode("ascii")
    if explicit:
        return f"$6$rounds={rounds}${salt_s}${enc}"
    return f"$6${salt_s}${enc}"


def sha512_crypt(password: str, salt: str, rounds: int, explicit: bool) -> str:
    if _crypt is not None:
        setting = f"$6$rounds={rounds}${salt}$" if explicit else f"$6${salt}$"
        if not explicit and rounds != 5000:
            raise ValueError("--no-explicit-rounds implies rounds=5000")
        out = _crypt.crypt(password, setting)
        if not out or not out.startswith("$6$"):
            raise RuntimeError(f"crypt() failed for setting {setting!r}")
        return out
    return sha512_crypt_py(password.encode("utf-8"), salt, rounds, explicit)


def ssha(password: str, salt: bytes) -> str:
    digest = hashlib.sha1(password.encode("utf-8") + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode("ascii")


def _crypt_job(args):
    password, salt, rounds, explicit = args
    return sha512_crypt(password, salt, rounds, explicit)


def self_test() -> None:
    # Known-answer tests from Drepper's specification.
    kat = [
        (b"Hello world!", "saltstring", 5000, False,
         "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
         "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
        (b"Hello world!", "saltstringsaltstring", 10000, True,
         "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sb"
         "HbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ]
    for pw, salt, rounds, explicit, want in kat:
        got = sha512_crypt_py(pw, salt, rounds, explicit)
        if got != want:
            raise SystemExit(f"self-test FAILED (pure python): {got} != {want}")
    if _crypt is not None:
        rng = random.Random(1)
        for _ in range(20):
            pw = "".join(rng.choice(PW_ALPHABET) for _ in range(rng.randint(0, 80)))
            salt = "".join(rng.choice(CRYPT_ALPHABET) for _ in range(16))
            for explicit in (True, False):
                a = sha512_crypt_py(pw.encode(), salt, 5000, explicit)
                b = _crypt.crypt(pw, f"$6$rounds=5000${salt}$" if explicit else f"$6${salt}$")
                if a != b:
                    raise SystemExit(f"self-test FAILED (vs crypt module): {a} != {b}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=("crypt", "ssha"))
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--users-out")
    ap.add_argument("--passwords-out")
    ap.add_argument("--prefix", default="user")
    ap.add_argument("--start", type=int, default=1, help="first user number (default 1)")
    ap.add_argument("--width", type=int, default=0, help="digits (default max(5, len(last)))")
    ap.add_argument("--rounds", type=int, default=5000)
    ap.add_argument("--no-explicit-rounds", action="store_true",
                    help='write "$6$salt$..." instead of "$6$rounds=N$salt$..." (rounds must be 5000)')
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--self-test", action="store_true", help="check the sha512-crypt code and exit")
    a = ap.parse_args()

    if a.self_test:
        self_test()
        print("self-test ok" + (" (pure python == crypt module)" if _crypt else " (pure python KATs)"))
        return 0
    if not (a.mode and a.users_out and a.passwords_out):
        ap.error("--mode, --users-out and --passwords-out are required")
    if a.count < 1:
        ap.error("--count must be >= 1")
    if not 1000 <= a.rounds <= 999_999_999:
        ap.error("--rounds must be in 1000..999999999")
    explicit = not a.no_explicit_rounds
    if not explicit and a.rounds != 5000:
        ap.error("--no-explicit-rounds requires --rounds 5000")
    if _crypt is None and a.mode == "crypt":
        self_test()  # cheap insurance before using the pure-Python path

    rng = random.Random(a.seed) if a.seed is not None else secrets.SystemRandom()
    last = a.start + a.count - 1
    width = a.width or max(5, len(str(last)))
    names = [f"{a.prefix}{i:0{width}d}" for i in range(a.start, last + 1)]
    passwords = ["".join(rng.choice(PW_ALPHABET) for _ in range(12)) for _ in names]

    t0 = time.monotonic()
    if a.mode == "crypt":
        salts = ["".join(rng.choice(CRYPT_ALPHABET) for _ in range(16)) for _ in names]
        jobs = [(pw, s, a.rounds, explicit) for pw, s in zip(passwords, salts)]
        if a.jobs > 1 and len(jobs) > 64:
            with multiprocessing.Pool(a.jobs) as pool:
                hashes = pool.map(_crypt_job, jobs, chunksize=max(1, len(jobs) // (a.jobs * 8)))
        else:
            hashes = [_crypt_job(j) for j in jobs]
    else:
        hashes = [ssha(pw, bytes(rng.getrandbits(8) for _ in range(8))) for pw in passwords]
    dt = time.monotonic() - t0

    def write(path, rows):
        tmp = f"{path}.tmp{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{n}:{v}\n" for n, v in rows)
        os.replace(tmp, path)

    write(a.users_out, zip(names, hashes))
    write(a.passwords_out, zip(names, passwords))
    impl = "crypt module" if (_crypt and a.mode == "crypt") else ("pure python" if a.mode == "crypt" else "hashlib")
    print(f"gen-users: {a.count} {a.mode} users ({impl}, {a.jobs} jobs) in {dt:.1f}s -> "
          f"{a.users_out}, {a.passwords_out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
