#!/usr/bin/env python3
"""Turn the JSON written by bench/run.sh into bench-out/results.md (stdlib only).

    report.py --results DIR --out FILE     the full report
    report.py --line FILE TAG              one line about one load run (progress output)
    report.py --hash-line FILE TAG         one line about one hash timing
    report.py --noisy FILE CORES           exit 0 if that run had more than CORES of other load
"""

import argparse
import glob
import json
import os
import statistics
import sys

SERVERS = ("gatehouse", "freeradius")
NAMES = {"gatehouse": "Gatehouse", "freeradius": "FreeRADIUS"}
SCENARIOS = ("crypt", "ssha", "status", "acct", "policy")
DESCRIPTION = {
    "crypt": "PAP, 10,000 users, sha512-crypt rounds=5000",
    "ssha": "PAP, 10,000 users, {SSHA}",
    "status": "Status-Server (auth port)",
    "acct": "Accounting Start/Stop pairs (Gatehouse: SQLite commit; FreeRADIUS: detail file)",
    "policy": "ssha with policies active: group-assigned user policy, computer policy with "
    "VLAN and hours, 10,000 computers (FreeRADIUS: huntgroup, users-file replies, Login-Time)",
}
# The policy scenario's targets: CPU per request against FreeRADIUS running the
# equivalent configuration, and against Gatehouse's own ssha (no policies) in the same run.
POLICY_VS_FREERADIUS = 0.5
POLICY_VS_SSHA = 1.15


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def mb(kb):
    return f"{kb / 1024:.1f}" if kb is not None else "-"


def fmt(v, digits=1):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def errors(r):
    """Everything that is not the expected reply, as text ('0' when clean)."""
    parts = []
    for key in ("timeouts", "bad_replies", "late_replies", "send_errors", "recv_errors"):
        if r.get(key):
            parts.append(f"{r[key]} {key.replace('_', ' ')}")
    expected = "accounting_response" if r["mode"] == "acct" else "access_accept"
    for key in ("access_accept", "access_reject", "accounting_response", "other_code"):
        if key != expected and r.get(key):
            parts.append(f"{r[key]} {key.replace('_', '-')}")
    return ", ".join(parts) if parts else "0"


def line(path, tag):
    r = load_json(path)
    if r is None:
        return f"{tag}: no result"
    s = r.get("server_cost") or {}
    return (
        f"{tag}: {r['rps']:,.0f} replies/s, p50 {r['latency']['p50_ms']:.2f} ms, "
        f"p99 {r['latency']['p99_ms']:.2f} ms, server {s.get('cpu_us_per_req', 0):.1f} µs/req "
        f"({s.get('cpu_cores', 0):.2f} cores), RSS {mb(s.get('vm_rss_kb'))} MB, "
        f"errors: {errors(r)}, other load {r['other_cpu_cores']:.2f} cores"
    )


def hash_line(path, tag):
    h = load_json(path)
    if h is None:
        return f"{tag}: no result"
    par = h.get("measured_parallel_per_s")
    return (
        f"{tag}: {h['kind']} {h['us_per_verify']:.1f} µs per verification "
        f"(batches {h.get('us_per_verify_min', 0):.1f}..{h.get('us_per_verify_max', 0):.1f}), "
        f"bound {h['bound_per_s']:,.0f}/s"
        + (f", {h['threads']} threads measured {par:,.0f}/s" if par else "")
    )


def noisy(path, limit):
    """Exit status 0 when the run in `path` had more than `limit` cores of other load."""
    r = load_json(path)
    return r is not None and r["other_cpu_cores"] > float(limit)


def runs_used(m, limit):
    if not m:
        return "-"
    if m["n"] == m["n_all"] and m.get("all_noisy"):
        return f"0/{m['n_all']}"
    return f"{m['n']}/{m['n_all']}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def report(results, out):
    env = {}
    try:
        with open(os.path.join(results, "env.txt"), encoding="utf-8") as f:
            for raw in f:
                k, _, v = raw.rstrip("\n").partition("=")
                env[k] = v
    except FileNotFoundError:
        pass
    runs = {}  # (scenario, server) -> [(round, load, idle, quiet, disk_kb)]
    for path in sorted(glob.glob(os.path.join(results, "*.load.json"))):
        tag = os.path.basename(path)[: -len(".load.json")]
        scenario, server, rnd = tag.split(".")
        load = load_json(path)
        idle = load_json(os.path.join(results, f"{tag}.idle.json"))
        quiet = load_json(os.path.join(results, f"{tag}.quiet.json"))
        disk = None
        try:
            with open(os.path.join(results, f"{tag}.disk_kb"), encoding="utf-8") as f:
                disk = int(f.read().strip())
        except (FileNotFoundError, ValueError):
            pass
        runs.setdefault((scenario, server), []).append((int(rnd), load, idle, quiet, disk))
    for v in runs.values():
        v.sort(key=lambda x: x[0])
    hashes = []  # (round, report)
    for path in glob.glob(os.path.join(results, "hash.*.json")):
        h = load_json(path)
        if h:
            hashes.append((int(os.path.basename(path).split(".")[1]), h))
    hashes.sort(key=lambda x: x[0])
    hash_r = None
    if hashes:
        us = statistics.median(h["us_per_verify"] for _, h in hashes)
        hash_r = dict(hashes[0][1], us_per_verify=us, bound_per_s=hashes[0][1]["cores"] * 1e6 / us)

    o = []
    w = o.append
    w("# Gatehouse vs FreeRADIUS: benchmark results\n")
    w("Generated by `bench/run.sh`" + (" **--quick** (smoke run: small counts, not figures to quote)" if env.get("quick") == "1" else "") + ".\n")
    w("| | |\n|---|---|")
    for k, label in (
        ("date", "date (UTC)"),
        ("cpu", "CPU"),
        ("nproc", "cores (nproc)"),
        ("mem", "memory"),
        ("kernel", "kernel"),
        ("rustc", "rustc"),
        ("gatehouse", "Gatehouse"),
        ("source", "Gatehouse source fingerprint"),
        ("freeradius", "FreeRADIUS"),
        ("concurrency", "concurrency (outstanding requests)"),
        ("rounds", "rounds per server and scenario"),
        ("overrides", "Gatehouse config overrides (environment)"),
        ("policy", "policy scenario"),
    ):
        if k == "policy" and k not in env:
            continue
        w(f"| {label} | {env.get(k) or ('none' if k == 'overrides' else '?')} |")
    w("")

    w("## Every run\n")
    w("Runs alternate between the servers (G F, F G, G F, ...). *CPU µs/req* is the server's "
      "utime+stime over the measured run divided by the replies; *other load* is the CPU used "
      "by everything except the server and the load generator during the run (noise from "
      "other users of the machine); *quiet* is the busy cores seen just before the run.\n")
    w("| scenario | server | round | requests | replies | not OK | replies/s | p50 ms | p99 ms "
      "| CPU µs/req | server cores | client µs/req | idle RSS MB | RSS after MB | HWM MB "
      "| other load | quiet |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        for server in SERVERS:
            for rnd, r, idle, quiet, _disk in runs.get((scenario, server), []):
                if r is None:
                    continue
                s = r.get("server_cost") or {}
                q = f"{quiet['busy_cores']:.2f}" if quiet else "-"
                other = f"{r['other_cpu_cores']:.2f}"
                if r["other_cpu_cores"] > float(env.get("noisy_cores") or 0.25):
                    other += " (noisy)"
                w(
                    f"| {scenario} | {NAMES[server]} | {rnd} | {r['sent']:,} | {r['replies']:,} "
                    f"| {errors(r)} | {r['rps']:,.0f} | {r['latency']['p50_ms']:.2f} "
                    f"| {r['latency']['p99_ms']:.2f} | {fmt(s.get('cpu_us_per_req'))} "
                    f"| {fmt(s.get('cpu_cores'), 2)} | {fmt(r.get('client_cpu_us_per_req'))} "
                    f"| {mb(idle['vm_rss_kb']) if idle else '-'} | {mb(s.get('vm_rss_kb'))} "
                    f"| {mb(s.get('vm_hwm_kb'))} | {other} | {q} |"
                )
    w("")

    # Medians per scenario and server.
    limit = float(env.get("noisy_cores") or 0.25)
    med = {}
    for (scenario, server), lst in runs.items():
        all_loads = [x[1] for x in lst if x[1] is not None]
        # Noisy runs (other load above the limit) stay out of the medians unless every
        # run of this server and scenario was noisy.
        clean = [r for r in all_loads if r["other_cpu_cores"] <= limit]
        loads = clean or all_loads
        med[(scenario, server)] = {
            "rps": median([r["rps"] for r in loads]),
            "cpu": median([(r.get("server_cost") or {}).get("cpu_us_per_req") for r in loads]),
            "p50": median([r["latency"]["p50_ms"] for r in loads]),
            "p99": median([r["latency"]["p99_ms"] for r in loads]),
            "idle": median([x[2]["vm_rss_kb"] for x in lst if x[2]]),
            "idle_max": max([x[2]["vm_rss_kb"] for x in lst if x[2]], default=None),
            "after": median([(r.get("server_cost") or {}).get("vm_rss_kb") for r in loads]),
            "hwm": median([(r.get("server_cost") or {}).get("vm_hwm_kb") for r in loads]),
            "disk": median([x[4] for x in lst]),
            "threads": median([(r.get("server_cost") or {}).get("threads") for r in loads]),
            "errors": sum(
                r["timeouts"] + r["bad_replies"] + r["late_replies"] + r["send_errors"]
                for r in all_loads
            ),
            "n": len(loads),
            "n_all": len(all_loads),
            "all_noisy": not clean,
        }

    w("## Summary (medians)\n")
    w(f"Medians over the runs during which everything else on the machine used at most "
      f"{limit} cores (*runs used* = clean runs / all runs; when every run was noisy, all "
      f"are used).\n")
    w("| scenario | what | Gatehouse replies/s | FreeRADIUS replies/s | G/F throughput "
      "| Gatehouse CPU µs/req | FreeRADIUS CPU µs/req | G/F CPU per request "
      "| Gatehouse p50 / p99 ms | FreeRADIUS p50 / p99 ms | runs used G / F |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        g, f = med.get((scenario, "gatehouse")), med.get((scenario, "freeradius"))
        if not g and not f:
            continue
        g = g or {}
        f = f or {}
        tr = ratio(g.get("rps"), f.get("rps"))
        cr = ratio(g.get("cpu"), f.get("cpu"))
        w(
            f"| {scenario} | {DESCRIPTION[scenario]} | {fmt(g.get('rps'), 0)} | {fmt(f.get('rps'), 0)} "
            f"| {fmt(tr, 2)}× | {fmt(g.get('cpu'))} | {fmt(f.get('cpu'))} | {fmt(cr, 2)}× "
            f"| {fmt(g.get('p50'), 2)} / {fmt(g.get('p99'), 2)} "
            f"| {fmt(f.get('p50'), 2)} / {fmt(f.get('p99'), 2)} "
            f"| {runs_used(g, limit)} / {runs_used(f, limit)} |"
        )
    w("")

    if hash_r:
        w("## Hash-cost bound (crypt)\n")
        w(f"`gatehouse-bench hash` times `auth::password::verify` ({hash_r['kind']}, the daemon's "
          f"code path) on one thread, {hash_r['iterations']} verifications in 10 batches, in "
          f"every round just before Gatehouse's crypt run:\n")
        w("| round | µs per verification (median batch) | fastest / slowest batch "
          "| other load | measured with all cores at once | Gatehouse crypt replies/s | % of this bound |")
        w("|---|---|---|---|---|---|---|")
        g_by_round = {rnd: r for rnd, r, *_ in runs.get(("crypt", "gatehouse"), []) if r}
        for rnd, h in hashes:
            par = h.get("measured_parallel_per_s")
            par_text = f"{par:,.0f}/s ({h['threads']} threads)" if par else "-"
            g = g_by_round.get(rnd)
            pct = f"{g['rps'] / h['bound_per_s'] * 100:.0f} %" if g else "-"
            w(f"| {rnd} | {h['us_per_verify']:.1f} | {h.get('us_per_verify_min', 0):.1f} / "
              f"{h.get('us_per_verify_max', 0):.1f} | {h.get('other_cpu_cores', 0):.2f} | {par_text} "
              f"| {fmt(g['rps'], 0) if g else '-'} | {pct} |")
        w("")
        w(f"Bound = {hash_r['cores']} cores / {hash_r['us_per_verify']:.1f} µs (median over the "
          f"rounds) = **{hash_r['bound_per_s']:,.0f} verifications/s**.\n")

    w("## Memory\n")
    w("| scenario | server | idle RSS MB (median / max) | RSS after load MB | HWM after load MB "
      "| threads after load | data written (KB, median) |")
    w("|---|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        for server in SERVERS:
            m = med.get((scenario, server))
            if not m:
                continue
            w(
                f"| {scenario} | {NAMES[server]} | {mb(m['idle'])} / {mb(m['idle_max'])} "
                f"| {mb(m['after'])} | {mb(m['hwm'])} | {fmt(m['threads'], 0)} "
                f"| {m['disk'] if m['disk'] is not None else '-'} |"
            )
    w("")
    w("Idle RSS is read 1 s after start with the 10,000 users of the scenario loaded "
      "(Gatehouse: in its SQLite database; FreeRADIUS: in rlm_files). *Data written* is the "
      "Gatehouse state directory (database, WAL) or the FreeRADIUS radacct directory after "
      "the run.\n")

    def verdict(ok):
        return "n/a" if ok is None else ("**met**" if ok else "**MISSED**")

    policy_section(w, results, runs, med, limit, verdict)

    w("## Targets\n")
    w("| target | measured | result |")
    w("|---|---|---|")

    g, f = med.get(("crypt", "gatehouse")), med.get(("crypt", "freeradius"))
    if g and f:
        tr = ratio(g["rps"], f["rps"])
        w(f"| crypt: Gatehouse ≥ 1.8× FreeRADIUS throughput | {fmt(tr, 2)}× "
          f"({fmt(g['rps'], 0)} vs {fmt(f['rps'], 0)}/s) | {verdict(tr is not None and tr >= 1.8)} |")
    if g and hash_r:
        frac = g["rps"] / hash_r["bound_per_s"]
        w(f"| crypt: Gatehouse ≥ 90 % of the hash-cost bound | {frac * 100:.0f} % "
          f"({fmt(g['rps'], 0)} of {hash_r['bound_per_s']:,.0f}/s) | {verdict(frac >= 0.9)} |")
    for scenario in ("ssha", "status"):
        g, f = med.get((scenario, "gatehouse")), med.get((scenario, "freeradius"))
        if g and f:
            cr = ratio(g["cpu"], f["cpu"])
            w(f"| {scenario}: Gatehouse CPU/request ≤ ½ FreeRADIUS's | {fmt(cr, 2)}× "
              f"({fmt(g['cpu'])} vs {fmt(f['cpu'])} µs) | {verdict(cr is not None and cr <= 0.5)} |")
    g, f = med.get(("acct", "gatehouse")), med.get(("acct", "freeradius"))
    if g and f:
        tr = ratio(g["rps"], f["rps"])
        w(f"| acct: Gatehouse throughput ≥ FreeRADIUS (detail file) | {fmt(tr, 2)}× "
          f"({fmt(g['rps'], 0)} vs {fmt(f['rps'], 0)}/s) | {verdict(tr is not None and tr >= 1.0)} |")
    g, f = med.get(("policy", "gatehouse")), med.get(("policy", "freeradius"))
    if g and f:
        cr = ratio(g["cpu"], f["cpu"])
        w(f"| policy: Gatehouse CPU/request ≤ {POLICY_VS_FREERADIUS}× FreeRADIUS's (equivalent "
          f"configuration) | {fmt(cr, 2)}× ({fmt(g['cpu'])} vs {fmt(f['cpu'])} µs) "
          f"| {verdict(cr is not None and cr <= POLICY_VS_FREERADIUS)} |")
    s = med.get(("ssha", "gatehouse"))
    if g and s:
        cr = ratio(g["cpu"], s["cpu"])
        w(f"| policy: Gatehouse CPU/request ≤ {POLICY_VS_SSHA}× its own without policies (ssha, "
          f"same run) | {fmt(cr, 2)}× ({fmt(g['cpu'])} vs {fmt(s['cpu'])} µs) "
          f"| {verdict(cr is not None and cr <= POLICY_VS_SSHA)} |")
    idle = [m["idle_max"] for (s, srv), m in med.items() if srv == "gatehouse" and m["idle_max"]]
    if idle:
        worst = max(idle)
        w(f"| Gatehouse idle RSS with 10,000 users < 20 MB | {mb(worst)} MB (largest of all starts) "
          f"| {verdict(worst < 20 * 1024)} |")
    bad = sum(m["errors"] for m in med.values())
    w("")
    w(f"Timeouts, bad or late replies and send errors over all measured runs: **{bad}**.\n")

    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def policy_section(w, results, runs, med, limit, verdict):
    """Policies on the request path: policy against ssha from the same run, both servers."""
    gp, fp = med.get(("policy", "gatehouse")), med.get(("policy", "freeradius"))
    if not (gp or fp):
        return
    gs, fs = med.get(("ssha", "gatehouse")), med.get(("ssha", "freeradius"))
    w("## Policies on the request path (policy vs ssha)\n")
    w("The same 10,000 {SSHA} users and the same load in both scenarios; *policy* adds a user "
      "policy with reply attributes assigned to a group every user is in, a computer policy with "
      "a VLAN and access hours (site time zone) given by a computer rule, and a Calling-Station-Id "
      "from 10,000 MACs, registered as computers in the warm-up. FreeRADIUS runs the equivalent "
      "configuration (bench/freeradius/README.md, \"Policies\"). Before each policy run, "
      "radclient checked that the server's Access-Accept carries exactly the policies' "
      "attributes.\n")
    w("| server | scenario | replies/s | p50 ms | p99 ms | CPU µs/req | RSS after load MB "
      "| runs used |")
    w("|---|---|---|---|---|---|---|---|")
    for server, m_ssha, m_policy in (("gatehouse", gs, gp), ("freeradius", fs, fp)):
        for scenario, m in (("ssha", m_ssha), ("policy", m_policy)):
            if not m:
                continue
            w(f"| {NAMES[server]} | {scenario} | {fmt(m['rps'], 0)} | {fmt(m['p50'], 2)} "
              f"| {fmt(m['p99'], 2)} | {fmt(m['cpu'])} | {mb(m['after'])} | {runs_used(m, limit)} |")
    w("")

    def by_round(scenario, server):
        return {rnd: (r.get("server_cost") or {}).get("cpu_us_per_req")
                for rnd, r, *_ in runs.get((scenario, server), []) if r}

    def paired(a, b):
        """Per-round ratios a/b (same round number), as text."""
        rounds = sorted(set(a) & set(b))
        vals = [ratio(a[n], b[n]) for n in rounds]
        return ", ".join(fmt(v, 2) for v in vals if v is not None) or "-"

    g_pol, f_pol, g_ssha = (by_round("policy", "gatehouse"), by_round("policy", "freeradius"),
                            by_round("ssha", "gatehouse"))
    w("| ratio of CPU per request | median runs | per round | target | result |")
    w("|---|---|---|---|---|")
    if gp and fp:
        r = ratio(gp["cpu"], fp["cpu"])
        w(f"| Gatehouse policy / FreeRADIUS policy | {fmt(r, 2)}× ({fmt(gp['cpu'])} / "
          f"{fmt(fp['cpu'])} µs) | {paired(g_pol, f_pol)} | ≤ {POLICY_VS_FREERADIUS} "
          f"| {verdict(None if r is None else r <= POLICY_VS_FREERADIUS)} |")
    if gp and gs:
        r = ratio(gp["cpu"], gs["cpu"])
        w(f"| Gatehouse policy / Gatehouse ssha (same run) | {fmt(r, 2)}× ({fmt(gp['cpu'])} / "
          f"{fmt(gs['cpu'])} µs) | {paired(g_pol, g_ssha)} | ≤ {POLICY_VS_SSHA} "
          f"| {verdict(None if r is None else r <= POLICY_VS_SSHA)} |")
    if fp and fs:
        r = ratio(fp["cpu"], fs["cpu"])
        w(f"| FreeRADIUS policy / FreeRADIUS ssha (for comparison) | {fmt(r, 2)}× "
          f"({fmt(fp['cpu'])} / {fmt(fs['cpu'])} µs) | {paired(f_pol, by_round('ssha', 'freeradius'))} "
          f"| | |")
    w("")
    extra = []
    if gp and gs and gp["cpu"] is not None and gs["cpu"] is not None:
        extra.append(f"Gatehouse {gp['cpu'] - gs['cpu']:+.1f} µs")
    if fp and fs and fp["cpu"] is not None and fs["cpu"] is not None:
        extra.append(f"FreeRADIUS {fp['cpu'] - fs['cpu']:+.1f} µs")
    if extra:
        w("What the policies cost per request (medians, policy − ssha): " + ", ".join(extra) + ".\n")
    counts = []
    for rnd, *_ in runs.get(("policy", "gatehouse"), []):
        n = read_text(os.path.join(results, f"policy.gatehouse.{rnd}.computers"))
        counts.append(f"round {rnd}: {n or '?'}")
    if counts:
        w("Computers registered after the warm-up (`gatehousectl computer list`, total): "
          + "; ".join(counts) + ".\n")
    reply = read_text(os.path.join(results, "policy.gatehouse.1.reply.txt"))
    reply_f = read_text(os.path.join(results, "policy.freeradius.1.reply.txt"))
    if reply:
        same = " (FreeRADIUS: the same)" if reply_f == reply else (
            " (FreeRADIUS: " + reply_f.replace("\n", ", ") + ")" if reply_f else "")
        w("The reply checked (Gatehouse, round 1; Message-Authenticator aside): "
          + reply.replace("\n", ", ") + same + ".\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results")
    ap.add_argument("--out")
    ap.add_argument("--line", nargs=2, metavar=("FILE", "TAG"))
    ap.add_argument("--hash-line", nargs=2, metavar=("FILE", "TAG"))
    ap.add_argument("--noisy", nargs=2, metavar=("FILE", "CORES"))
    a = ap.parse_args()
    if a.noisy:
        return 0 if noisy(*a.noisy) else 1
    if a.line:
        print(line(*a.line))
        return 0
    if a.hash_line:
        print(hash_line(*a.hash_line))
        return 0
    if not (a.results and a.out):
        ap.error("--results and --out are required (or --line FILE TAG)")
    report(a.results, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
