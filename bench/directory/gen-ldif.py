#!/usr/bin/env python3
"""Seed LDIF for the directory benchmark, entry for entry what tests/common/slapd.rs writes.

    gen-ldif.py --users N --out seed.ldif [--passwords-out FILE --domain CORP
                [--skip-first 10] [--sample K]]

The directory (suffix dc=example,dc=com), as in the test harness:

    cn=sync                      read-only sync account (simpleSecurityObject)
    ou=People
      uid=u00005, u00010, ...    n % 5 == 0 directly in ou=People
      ou=Sales                   n % 5 == 1
        ou=East                  n % 5 == 2
      ou=Engineering             n % 5 == 3
      ou=Support                 n % 5 == 4
    ou=Groups                    groupOfNames with member; users carry memberOf
      cn=vpn-users               n % 3 != 0
      cn=admins                  n <= 2
      cn=helpdesk                n % 10 == 4
    ou=Empty

Users u{n:05} (u00001 ... u99999, then u100000; inetOrgPerson + gatehouseTestAccount), password pw-<uid> stored as {SSHA}
with the harness's deterministic salt (sha1("gatehouse-test-salt:<uid>")[:8]). u00003 is
disabled by nsAccountLock, u00004 by userAccountControl 514; u00005 has 66048 and u00006
nsAccountLock FALSE (both enabled); u00007 has a non-ASCII displayName. Every entry carries
createTimestamp/modifyTimestamp 20240101000000Z.

--passwords-out writes "uid@DOMAIN:pw-uid" lines for the load generator: K users spread
evenly over u{skip+1}..u{N} (the first --skip-first users carry the special cases above,
which the two servers are not expected to treat alike: slapd does not enforce either
disable flag, Gatehouse does).
"""

import argparse
import base64
import hashlib
import sys

BASE_DN = "dc=example,dc=com"
SYNC_DN = "cn=sync,dc=example,dc=com"
SYNC_PASSWORD = "sync-secret-0123"
SEED_TIMESTAMP = "20240101000000Z"

GROUPS = [
    ("vpn-users", lambda n: n % 3 != 0),
    ("admins", lambda n: n <= 2),
    ("helpdesk", lambda n: n % 10 == 4),
]

OUS = [
    ["People"],
    ["People", "Sales"],
    ["People", "Sales", "East"],
    ["People", "Engineering"],
    ["People", "Support"],
    ["Groups"],
    ["Empty"],
]


def ssha(password: str, salt_seed: str) -> str:
    salt = hashlib.sha1(f"gatehouse-test-salt:{salt_seed}".encode()).digest()[:8]
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def ldif_line(out: list, attr: str, value: str) -> None:
    safe = (
        all(0 < ord(c) < 128 and c not in "\r\n" for c in value)
        and not value.startswith((" ", ":", "<"))
        and not value.endswith(" ")
    )
    if safe:
        out.append(f"{attr}: {value}\n")
    else:
        out.append(f"{attr}:: {base64.b64encode(value.encode()).decode()}\n")


def ou_path_of(n: int) -> list:
    return {
        1: ["People", "Sales"],
        2: ["People", "Sales", "East"],
        3: ["People", "Engineering"],
        4: ["People", "Support"],
    }.get(n % 5, ["People"])


def ou_dn_of(path: list) -> str:
    return "".join(f"ou={ou}," for ou in reversed(path)) + BASE_DN


def uid_of(n: int) -> str:
    return f"u{n:05}"


def group_dn_of(cn: str) -> str:
    return f"cn={cn},ou=Groups,{BASE_DN}"


def user_dn(n: int) -> str:
    return f"uid={uid_of(n)},{ou_dn_of(ou_path_of(n))}"


def timestamps(e: list) -> None:
    ldif_line(e, "createTimestamp", SEED_TIMESTAMP)
    ldif_line(e, "modifyTimestamp", SEED_TIMESTAMP)


def simple_entry(w, dn: str, classes: list, attrs: list) -> None:
    e = []
    ldif_line(e, "dn", dn)
    for c in classes:
        ldif_line(e, "objectClass", c)
    for a, v in attrs:
        ldif_line(e, a, v)
    timestamps(e)
    w.write("".join(e) + "\n")


def generate(path: str, users: int) -> None:
    members = [[] for _ in GROUPS]
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as w:
        simple_entry(w, BASE_DN, ["dcObject", "organization"], [("dc", "example"), ("o", "Example Corp")])
        simple_entry(
            w,
            SYNC_DN,
            ["organizationalRole", "simpleSecurityObject"],
            [
                ("cn", "sync"),
                ("description", "Gatehouse read-only sync account"),
                ("userPassword", ssha(SYNC_PASSWORD, "sync")),
            ],
        )
        for p in OUS:
            simple_entry(w, ou_dn_of(p), ["organizationalUnit"], [("ou", p[-1])])
        for n in range(1, users + 1):
            uid = uid_of(n)
            dn = user_dn(n)
            nsl, uac = {3: ("TRUE", None), 4: (None, 514), 5: (None, 66048), 6: ("FALSE", None)}.get(n, (None, None))
            member_of = [group_dn_of(cn) for cn, f in GROUPS if f(n)]
            e = []
            ldif_line(e, "dn", dn)
            ldif_line(e, "objectClass", "inetOrgPerson")
            ldif_line(e, "objectClass", "gatehouseTestAccount")
            ldif_line(e, "uid", uid)
            ldif_line(e, "cn", f"User {n:05}")
            ldif_line(e, "sn", f"{n:05}")
            ldif_line(e, "givenName", "User")
            ldif_line(e, "displayName", "Zoë Ångström-Øre" if n == 7 else f"User {n:05}")
            ldif_line(e, "mail", f"{uid}@example.com")
            ldif_line(e, "employeeNumber", str(n))
            ldif_line(e, "userPassword", ssha(f"pw-{uid}", uid))
            if nsl is not None:
                ldif_line(e, "nsAccountLock", nsl)
            if uac is not None:
                ldif_line(e, "userAccountControl", str(uac))
            for g in member_of:
                ldif_line(e, "memberOf", g)
            timestamps(e)
            w.write("".join(e) + "\n")
            for i, (_, f) in enumerate(GROUPS):
                if f(n):
                    members[i].append(dn)
        for (cn, _), m in zip(GROUPS, members):
            if not m:
                continue  # groupOfNames MUST have a member
            e = []
            ldif_line(e, "dn", group_dn_of(cn))
            ldif_line(e, "objectClass", "groupOfNames")
            ldif_line(e, "cn", cn)
            for dn in m:
                ldif_line(e, "member", dn)
            timestamps(e)
            w.write("".join(e) + "\n")


def sample(users: int, skip: int, k: int) -> list:
    """k user numbers spread evenly over skip+1..users (all of them when k >= the range)."""
    lo, hi = skip + 1, users
    span = hi - lo + 1
    if span <= 0:
        return []
    if k >= span:
        return list(range(lo, hi + 1))
    return [lo + (i * span) // k for i in range(k)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--passwords-out")
    ap.add_argument("--domain", default="CORP")
    ap.add_argument("--skip-first", type=int, default=10)
    ap.add_argument("--sample", type=int, default=5000)
    a = ap.parse_args()
    if not 1 <= a.users <= 1_000_000:
        print("gen-ldif: --users must be 1..1000000", file=sys.stderr)
        return 2
    generate(a.out, a.users)
    if a.passwords_out:
        with open(a.passwords_out, "w", encoding="utf-8") as w:
            for n in sample(a.users, a.skip_first, a.sample):
                w.write(f"{uid_of(n)}@{a.domain}:pw-{uid_of(n)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
