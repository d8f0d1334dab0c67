#!/usr/bin/env python3
"""bench-out/directory/results.md from the raw measurements of bench/directory/run.sh.

    report.py --raw bench-out/directory/raw --out bench-out/directory/results.md
"""

import argparse
import glob
import json
import os
import statistics
import sys

SYNC_TARGET_S = 20.0
SYNC_TARGET_MB = 150.0
PT_TARGET_RATIO = 1.5


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def env(raw):
    d = {}
    with open(os.path.join(raw, "env.txt"), encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            d[k] = v
    return d


def mb(kb):
    return kb / 1024.0


def fmt(v, spec=",.0f"):
    return "–" if v is None else format(v, spec)


def sync_section(raw, e, lines):
    sizes = [int(s) for s in e["sizes"].split(",")]
    lines.append("## Full sync (gatehousectl directory sync, page size %s)\n" % e["page_size"])
    lines.append(
        "| users | slapadd s | sync wall s | connect+bind s | fetch s | map+plan+commit+reply s "
        "| gatehoused CPU s | slapd CPU s | idle VmRSS MB | idle VmHWM MB (start) | peak VmHWM during sync MB "
        "| peak − idle RSS MB | VmRSS after MB | counts (added/updated/disabled/unchanged) |"
    )
    lines.append("|" + "---|" * 14)
    results = {}
    for n in sizes:
        p = os.path.join(raw, f"sync-{n}.json")
        if not os.path.exists(p):
            continue
        d = load(p)
        idle = load(os.path.join(raw, f"sync-{n}.idle.json"))
        timings = {}
        tp = os.path.join(raw, f"slapd-{n}.timings")
        if os.path.exists(tp):
            for kv in open(tp).read().split():
                k, _, v = kv.partition("=")
                timings[k] = v
        r = d["run"]
        delta = mb(d["vm_hwm_kb"] - idle["vm_rss_kb"])
        results[n] = (d, idle)
        lines.append(
            f"| {n:,} | {timings.get('slapadd_s', '?')} | **{d['wall_s']:.2f}** | {fmt(d['connect_bind_s'], '.3f')} "
            f"| {fmt(d['fetch_s'], '.2f')} | {fmt(d['after_fetch_s'], '.2f')} | {d['gatehoused_cpu_s']:.2f} "
            f"| {d['slapd_cpu_s']:.2f} | {mb(idle['vm_rss_kb']):.1f} | {mb(idle['vm_hwm_kb']):.1f} "
            f"| **{mb(d['vm_hwm_kb']):.1f}** | {delta:.1f} | {mb(d['vm_rss_after_kb']):.1f} "
            f"| {r['added']:,} / {r['updated']:,} / {r['disabled']:,} / {r['unchanged']:,} |"
        )
    lines.append("")
    lines.append(
        "Peak VmHWM is read right after the sync; the high-water mark was reset "
        "(`echo 5 > /proc/PID/clear_refs`) just before it, so it is the sync's own peak. "
        "The phases come from gatehoused's log timestamps (`sync started`, `fetched`) against "
        "gatehousectl's start and end.\n"
    )
    return results


def inc_section(raw, lines):
    rows = []
    for tag, what in (
        ("inc1", "incremental after 100 modified entries (first after the full sync)"),
        ("inc2", "incremental after 100 more modified entries"),
        ("resync", "full re-sync, nothing changed"),
        ("resync-fresh", "full re-sync, nothing changed, gatehoused just restarted"),
    ):
        p = os.path.join(raw, f"{tag}.json")
        if os.path.exists(p):
            rows.append((what, load(p)))
    if not rows:
        return {}
    lines.append("## Incremental and re-sync (largest size)\n")
    lines.append(
        "| run | wall s | fetch s | entries fetched | added | updated | disabled | unchanged "
        "| gatehoused CPU s | slapd CPU s | VmRSS before MB | peak VmHWM MB | VmRSS after MB |"
    )
    lines.append("|" + "---|" * 13)
    for what, d in rows:
        r = d["run"]
        lines.append(
            f"| {what} | **{d['wall_s']:.2f}** | {fmt(d['fetch_s'], '.2f')} | {r['entries']:,} | {r['added']:,} "
            f"| **{r['updated']:,}** | {r['disabled']:,} | {r['unchanged']:,} | {d['gatehoused_cpu_s']:.2f} "
            f"| {d['slapd_cpu_s']:.2f} | {fmt(mb(d['vm_rss_before_kb']) if 'vm_rss_before_kb' in d else None, '.1f')} "
            f"| {mb(d['vm_hwm_kb']):.1f} | {mb(d['vm_rss_after_kb']):.1f} |"
        )
    lines.append("")
    lines.append(
        "Each run's VmHWM is reset just before it, so the peak is its own; \"VmRSS before\" is what "
        "the previous run left resident.\n"
    )
    return {d["tag"]: d for _, d in rows}


def pt_section(raw, e, lines):
    tck = None
    runs = {"gatehouse": [], "freeradius": []}
    for p in sorted(glob.glob(os.path.join(raw, "pt.*.*.load.json"))):
        base = os.path.basename(p)
        _, server, rnd, _, _ = base.split(".")
        d = load(p)
        tck = d.get("clock_ticks", 100.0)
        ticks = int(open(p.replace(".load.json", ".slapd_ticks")).read().strip())
        q = p.replace(".load.json", ".quiet.json")
        quiet = load(q) if os.path.exists(q) else {}
        slapd_s = ticks / tck
        d["_slapd_us"] = slapd_s * 1e6 / max(d["replies"], 1)
        d["_slapd_cores"] = slapd_s / d["elapsed_s"]
        d["_other"] = max(d["other_cpu_cores"] - d["_slapd_cores"], 0.0)
        d["_quiet"] = quiet.get("busy_cores")
        d["_round"] = int(rnd)
        runs[server].append(d)
    if not runs["gatehouse"] or not runs["freeradius"]:
        return None
    names = {"gatehouse": "Gatehouse", "freeradius": "FreeRADIUS rlm_ldap"}

    def med(server, f):
        return statistics.median(f(d) for d in runs[server])

    lines.append(
        "## Pass-through PAP against the same slapd (%s users in the directory)\n" % f"{int(e['sizes'].split(',')[-1]):,}"
    )
    lines.append(
        f"{e['requests']} requests per run after a {e['warmup']}-request warm-up, concurrency "
        f"{e['concurrency']}, {e['sample_users']} distinct users round-robin, {e['rounds']} "
        f"alternating round(s) per server. Gatehouse: bind pool {e['pool']}; FreeRADIUS: "
        f"rlm_ldap pool start = min = max = {e['pool']}, {e['pool']} worker threads.\n"
    )
    lines.append(
        "| server | replies/s | p50 ms | p99 ms | server CPU µs/req | server cores | slapd CPU µs/req "
        "| slapd cores | total server+slapd µs/req |"
    )
    lines.append("|" + "---|" * 9)
    meds = {}
    for s in ("gatehouse", "freeradius"):
        m = {
            "rps": med(s, lambda d: d["rps"]),
            "p50": med(s, lambda d: d["latency"]["p50_ms"]),
            "p99": med(s, lambda d: d["latency"]["p99_ms"]),
            "cpu": med(s, lambda d: d["server_cost"]["cpu_us_per_req"]),
            "cores": med(s, lambda d: d["server_cost"]["cpu_cores"]),
            "slapd": med(s, lambda d: d["_slapd_us"]),
            "slapd_cores": med(s, lambda d: d["_slapd_cores"]),
            "total": med(s, lambda d: d["server_cost"]["cpu_us_per_req"] + d["_slapd_us"]),
        }
        meds[s] = m
        lines.append(
            f"| {names[s]} (median) | **{m['rps']:,.0f}** | {m['p50']:.2f} | {m['p99']:.2f} | {m['cpu']:.1f} "
            f"| {m['cores']:.2f} | {m['slapd']:.1f} | {m['slapd_cores']:.2f} | {m['total']:.1f} |"
        )
    g, f = meds["gatehouse"], meds["freeradius"]
    lines.append("")
    lines.append(
        f"Ratios (Gatehouse / FreeRADIUS, medians): throughput **{g['rps'] / f['rps']:.2f}×**, "
        f"server CPU per request {g['cpu'] / f['cpu']:.2f}×, slapd CPU per request "
        f"{g['slapd'] / f['slapd']:.2f}×, p50 {g['p50'] / f['p50']:.2f}×, p99 {g['p99'] / f['p99']:.2f}×.\n"
    )
    lines.append("Every run:\n")
    lines.append(
        "| server | round | sent | accept | reject | timeouts | bad/late | replies/s | p50 ms | p99 ms "
        "| server µs/req | server cores | slapd µs/req | slapd cores | client µs/req | other cores | quiet before | VmRSS after MB |"
    )
    lines.append("|" + "---|" * 18)
    for s in ("gatehouse", "freeradius"):
        for d in sorted(runs[s], key=lambda d: d["_round"]):
            c = d["server_cost"]
            lines.append(
                f"| {names[s]} | {d['_round']} | {d['sent']:,} | {d['access_accept']:,} | {d['access_reject']:,} "
                f"| {d['timeouts']} | {d['bad_replies']}/{d['late_replies']} | {d['rps']:,.0f} "
                f"| {d['latency']['p50_ms']:.2f} | {d['latency']['p99_ms']:.2f} | {c['cpu_us_per_req']:.1f} "
                f"| {c['cpu_cores']:.2f} | {d['_slapd_us']:.1f} | {d['_slapd_cores']:.2f} "
                f"| {d['client_cpu_us_per_req']:.1f} | {d['_other']:.2f} | {fmt(d['_quiet'], '.2f')} "
                f"| {mb(c['vm_rss_kb']):.1f} |"
            )
    lines.append("")
    mem = []
    for s in ("gatehouse", "freeradius"):
        pi = os.path.join(raw, f"pt.{s}.idle.json")
        pa = os.path.join(raw, f"pt.{s}.after.json")
        if os.path.exists(pi) and os.path.exists(pa):
            i, a = load(pi), load(pa)
            mem.append(
                f"{names[s]}: idle VmRSS {mb(i['vm_rss_kb']):.1f} MB, after the runs VmRSS "
                f"{mb(a['vm_rss_kb']):.1f} MB / VmHWM {mb(a['vm_hwm_kb']):.1f} MB, {a['threads']} threads"
            )
    if mem:
        lines.append("Memory during pass-through: " + "; ".join(mem) + ".\n")
    all_ok = all(
        d["access_accept"] == d["sent"] and d["timeouts"] == 0 and d["bad_replies"] == 0
        for s in runs
        for d in runs[s]
    )
    lines.append(
        "Every request was accepted, with no timeouts or bad replies.\n"
        if all_ok
        else "**Not every request was accepted cleanly: see the per-run table.**\n"
    )
    return g["rps"] / f["rps"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    e = env(a.raw)
    lines = ["# Directory sync and pass-through: Gatehouse vs FreeRADIUS rlm_ldap\n"]
    lines.append(
        f"Run {e.get('date')} ({'quick' if e.get('quick') == '1' else 'full'}), "
        f"{e.get('elapsed_s', '?')} s. `{e.get('command')}`\n"
    )
    lines.append("| | |\n|---|---|")
    for k in ("cpu", "nproc", "mem", "kernel", "rustc", "gatehouse", "source", "freeradius",
              "freeradius_ldap", "slapd", "slapd_size_limit", "overrides"):
        lines.append(f"| {k} | {e.get(k, '?')} |")
    lines.append("")
    results = sync_section(a.raw, e, lines)
    inc = inc_section(a.raw, lines)
    ratio = pt_section(a.raw, e, lines)

    lines.append("## Targets\n")
    lines.append("| target | measured | result |\n|---|---|---|")
    sizes = sorted(results)
    big = max(sizes) if sizes else None
    if big is not None:
        d, idle = results[big]
        note = "" if big == 100_000 else f" (at {big:,} users, not 100,000)"
        lines.append(
            f"| full sync of 100,000 users < {SYNC_TARGET_S:.0f} s{note} | {d['wall_s']:.2f} s | "
            f"**{'met' if d['wall_s'] < SYNC_TARGET_S else 'missed'}** |"
        )
        lines.append(
            f"| gatehoused RSS during that sync < {SYNC_TARGET_MB:.0f} MB{note} | peak VmHWM "
            f"{mb(d['vm_hwm_kb']):.1f} MB (idle {mb(idle['vm_rss_kb']):.1f} MB, +{mb(d['vm_hwm_kb'] - idle['vm_rss_kb']):.1f} MB) | "
            f"**{'met' if mb(d['vm_hwm_kb']) < SYNC_TARGET_MB else 'missed'}** |"
        )
    if "inc1" in inc:
        r = inc["inc1"]["run"]
        lines.append(
            f"| incremental after 100 modifications reports 100 updated | {r['updated']} updated, "
            f"{r['entries']:,} entries fetched, {inc['inc1']['wall_s']:.2f} s | "
            f"**{'met' if r['updated'] == 100 else 'missed'}** |"
        )
    if ratio is not None:
        lines.append(
            f"| pass-through: Gatehouse ≥ {PT_TARGET_RATIO}× FreeRADIUS throughput | {ratio:.2f}× | "
            f"**{'met' if ratio >= PT_TARGET_RATIO else 'missed'}** |"
        )
    lines.append("")
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
