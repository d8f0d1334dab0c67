#!/usr/bin/env bash
# Directory sync and pass-through PAP: Gatehouse vs FreeRADIUS rlm_ldap, one command.
#
#   bench/directory/run.sh [--quick] [--sizes N[,N...]] [--rounds N] [--requests N]
#                          [--concurrency N] [--pool N] [--perf] [--name NAME]
#
# 1. Full sync: for every size (default 10000,100000; --quick: 2000,10000) a fresh slapd
#    seeded like the test harness (start-slapd.sh: `slapadd -q`, size limit 1000 with
#    paging allowed past it) and a fresh gatehoused; `directory add` with --page-size 500,
#    then `directory sync` is timed end to end (gatehousectl's wall clock), with
#    gatehoused's VmRSS/VmHWM (the high-water mark is reset through /proc/PID/clear_refs
#    just before the sync, so it is the peak of the sync), RSS sampled every 50 ms, and
#    gatehoused's and slapd's CPU time over the sync.
# 2. Incremental (largest size): 100 entries get a new displayName with ldapmodify, then
#    `directory sync --incremental` is timed and its counts checked (100 updated); then a
#    second batch of 100 and a second incremental run; then a full re-sync with nothing
#    changed, and the same again in a freshly restarted gatehoused (each with its own
#    VmHWM reset).
# 3. Pass-through PAP against the same slapd (largest size): gatehoused (restarted on its
#    synced state, bind_pool_size = --pool, default 8) and FreeRADIUS + rlm_ldap
#    (start-freeradius-ldap.sh, --pool connections, as many worker threads) take turns
#    (G F, F G, G F ...) for --rounds rounds (default 3); each measured run is
#    gatehouse-bench load --mode pap with 5,000 users "uNNNNN@CORP:pw-uNNNNN" spread over
#    the directory, --requests (default 20000; --quick 2000) at --concurrency (default 64),
#    after a warm-up and a bounded wait for a quiet machine; server CPU per request from
#    gatehouse-bench, slapd's from /proc/PID/stat over the same run.
# --perf: afterwards, one extra unmeasured 5 s run per server under
#    `perf record -e cpu-clock --call-graph dwarf` (server and slapd, 3 s each); reports in
#    bench-out/directory/perf/*.txt.
#
# --name NAME: write bench-out/directory/NAME.md and bench-out/directory/NAME/ instead of
#    results.md and results/ (side experiments that must not replace the main results).
#
# Holds bench-out/.run.lock (flock, as bench/run.sh does) while measuring, waiting up to
# 15 min for a running bench/run.sh to finish first.
#
# Output: bench-out/directory/NAME.md (default results.md); raw measurements in
# bench-out/directory/NAME/raw/, logs and server directories in .../work/, profiles in
# .../perf/. Everything listens on 127.0.0.1 only; every process started here is stopped
# on exit (trap).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
outbase="$root/bench-out/directory"
# cargo's target directory: CARGO_TARGET_DIR if set (relative to the repository), else target/.
bin="$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")/release"
gh_bin="$bin/gatehoused"
ctl_bin="$bin/gatehousectl"
bench_bin="$bin/gatehouse-bench"

BASE_DN="dc=example,dc=com"
PEOPLE_DN="ou=People,$BASE_DN"
ADMIN_DN="cn=admin,$BASE_DN"
ADMIN_PASSWORD="admin-secret-0123"
SYNC_DN="cn=sync,$BASE_DN"
SYNC_PASSWORD="sync-secret-0123"
DOMAIN=CORP
FILTER='(objectClass=inetOrgPerson)'
PAGE_SIZE=500
SIZE_LIMIT=1000

die() {
	printf 'directory-bench: %s\n' "$*" >&2
	exit 1
}
say() {
	printf '[dirbench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}
usage() {
	sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

orig_args=("$@")
quick=0 sizes="" rounds="" requests="" concurrency=64 pool=8 perf=0 name=results
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--sizes)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{2,6}(,[1-9][0-9]{2,6})*$ ]] || die "--sizes needs numbers >= 100, comma-separated"
		sizes="$2"; shift 2 ;;
	--rounds)
		[[ $# -ge 2 && "$2" =~ ^[1-9]$ ]] || die "--rounds needs a number 1..9"
		rounds="$2"; shift 2 ;;
	--requests)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{2,6}$ ]] || die "--requests needs a number >= 100"
		requests="$2"; shift 2 ;;
	--concurrency)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{0,2}$ ]] || die "--concurrency needs a number 1..999"
		concurrency="$2"; shift 2 ;;
	--pool)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]?$ ]] || die "--pool needs a number 1..99"
		pool="$2"; shift 2 ;;
	--perf) perf=1; shift ;;
	--name)
		[[ $# -ge 2 && "$2" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "--name needs a simple name ([A-Za-z0-9._-])"
		name="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
if ((quick)); then
	: "${sizes:=2000,10000}" "${rounds:=1}" "${requests:=2000}"
	warmup=500 quiet_wait=3 quiet_budget=20
else
	: "${sizes:=10000,100000}" "${rounds:=3}" "${requests:=20000}"
	warmup=2000 quiet_wait=10 quiet_budget=90
fi
IFS=, read -r -a size_list <<<"$sizes"
largest="${size_list[-1]}"
for s in "${size_list[@]}"; do ((s <= largest)) || die "--sizes must end with the largest"; done
((largest >= 300)) || die "the largest size must be at least 300 (two batches of 100 modified users)"
sample_users=5000
timeout_ms=5000
max_load_secs=120

unset GATEHOUSE_ADMIN_SOCKET # gatehoused refuses to start with it (see BENCHMARKS.md)

for t in python3 freeradius radclient ldapmodify ldapsearch getconf flock; do
	command -v "$t" >/dev/null || die "$t not found"
done
[[ -e /usr/lib/freeradius/rlm_ldap.so ]] || die "rlm_ldap missing: apt-get install -y freeradius-ldap"
[[ -x /usr/sbin/slapd ]] || die "slapd missing: apt-get install -y slapd ldap-utils"
if ((perf)); then command -v perf >/dev/null || die "perf not found"; fi

say "building (cargo build --release --locked --bins -p gatehouse -p gatehouse-bench)"
(cd "$root" && cargo build --release --locked --bins -p gatehouse -p gatehouse-bench) >&2 || die "build failed"
for b in "$gh_bin" "$ctl_bin" "$bench_bin"; do [[ -x "$b" ]] || die "missing $b"; done

mkdir -p "$root/bench-out"
chmod 700 "$root/bench-out"
# bench/run.sh holds this lock while it measures: wait for it (up to 15 min) and hold it
# ourselves, so that the two benchmarks never run at the same time on this machine.
exec 9>"$root/bench-out/.run.lock"
if ! flock -n 9; then
	say "waiting for another benchmark holding bench-out/.run.lock"
	flock -w 900 9 || die "bench-out/.run.lock still held after 15 min"
fi
out="$outbase/$name"
rm -rf -- "$out" "$outbase/$name.md"
mkdir -p "$out/raw" "$out/work"
work="$out/work" raw="$out/raw"

secret_file="$work/radius.secret"
(umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18).replace("-", "x").replace("_", "y"))' >"$secret_file")
bindpw_file="$work/bind.pw"
(umask 077 && printf '%s\n' "$SYNC_PASSWORD" >"$bindpw_file")

# --- cleanup ---------------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# --- helpers ---------------------------------------------------------------------------------
now() { date +%s.%N; }
cpu_ticks() { # utime+stime of PID (all threads, including exited ones) in clock ticks
	sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
status_kb() { # status_kb PID KEY
	awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"
}
quiet_gate() { # quiet_gate TAG
	local w=$quiet_wait t0=$SECONDS
	((quiet_budget > 0)) || w=0
	"$bench_bin" quiet --max-cores 0.25 --timeout-secs "$w" --json >"$raw/$1.quiet.json"
	quiet_budget=$((quiet_budget - (SECONDS - t0)))
}
ctl() { "$ctl_bin" --socket "$gh_dir/admin.sock" "$@"; }

# --- slapd -----------------------------------------------------------------------------------
slapd_pid="" slapd_port="" slapd_dir=""
slapd_start() { # slapd_start USERS
	slapd_dir="$work/slapd-$1"
	say "slapd: generating and loading $1 users"
	slapd_pid="$("$here/start-slapd.sh" --dir "$slapd_dir" --users "$1" --size-limit "$SIZE_LIMIT" 2>"$slapd_dir.start.log")" ||
		{ cat "$slapd_dir.start.log" >&2; die "slapd did not start"; }
	running[$slapd_pid]=slapd
	slapd_port="$(cat "$slapd_dir/port")"
	cp "$slapd_dir/timings" "$raw/slapd-$1.timings"
	say "slapd pid $slapd_pid on ldap://127.0.0.1:$slapd_port ($(cat "$slapd_dir/timings"))"
}

# --- Gatehouse ------------------------------------------------------------------------------
gh_pid="" gh_auth="" gh_dir=""
gh_start() { # gh_start DIR (DIR/state may hold a database already)
	local dir="$1" ports i
	gh_dir="$dir"
	ports="$(free_udp_ports)"
	read -r gh_auth gh_acct <<<"$ports"
	mkdir -p "$dir/state"
	cat >"$dir/gatehouse.toml" <<EOF
[appliance]
name = "dirbench"
state_dir = "$dir/state"

[radius]
auth_listen = ["127.0.0.1:$gh_auth"]
acct_listen = ["127.0.0.1:$gh_acct"]

[admin]
socket = "$dir/admin.sock"

[log]
# Sync phases ("sync started", "fetched") with timestamps; nothing per request.
level = "warn,gatehouse::directory=info"
EOF
	"$gh_bin" --config "$dir/gatehouse.toml" </dev/null >>"$dir/gatehoused.log" 2>&1 &
	gh_pid=$!
	running[$gh_pid]=gatehoused
	for ((i = 0; i < 300; i++)); do
		kill -0 "$gh_pid" 2>/dev/null || { tail -n 20 "$dir/gatehoused.log" >&2; die "gatehoused exited during startup"; }
		[[ -S "$dir/admin.sock" ]] && ctl status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tail -n 20 "$dir/gatehoused.log" >&2
	die "gatehoused did not become ready"
}

rss_sampler_pid=""
rss_sampler_start() { # rss_sampler_start PID FILE: "epoch VmRSS_kB" every 50 ms
	local pid="$1" file="$2"
	(
		while kill -0 "$pid" 2>/dev/null; do
			printf '%s %s\n' "$(date +%s.%N)" "$(awk '$1 == "VmRSS:" {print $2}' "/proc/$pid/status" 2>/dev/null)"
			sleep 0.05
		done
	) >"$file" &
	rss_sampler_pid=$!
	running[$rss_sampler_pid]=rss-sampler
}
rss_sampler_stop() {
	[[ -n "$rss_sampler_pid" ]] && stop_pid "$rss_sampler_pid"
	rss_sampler_pid=""
}

# timed_sync TAG ARGS...: times `gatehousectl directory sync ARGS`, records everything
timed_sync() {
	local tag="$1"
	shift
	local gh0 sl0 t0 t1 gh1 sl1 rc=0 rss0
	reset_hwm "$gh_pid"
	rss0=$(status_kb "$gh_pid" VmRSS)
	rss_sampler_start "$gh_pid" "$raw/$tag.rss"
	gh0=$(cpu_ticks "$gh_pid") sl0=$(cpu_ticks "$slapd_pid")
	t0=$(now)
	ctl directory sync "$@" >"$work/$tag.out" 2>"$work/$tag.err" || rc=$?
	t1=$(now)
	gh1=$(cpu_ticks "$gh_pid") sl1=$(cpu_ticks "$slapd_pid")
	rss_sampler_stop
	if ((rc != 0)); then
		cat "$work/$tag.err" >&2
		die "directory sync $* failed (exit $rc)"
	fi
	ctl --json directory status "$DOMAIN" >"$raw/$tag.status.json"
	python3 - "$raw/$tag.json" "$tag" "$t0" "$t1" "$gh0" "$gh1" "$sl0" "$sl1" "$(getconf CLK_TCK)" \
		"$(status_kb "$gh_pid" VmRSS)" "$(status_kb "$gh_pid" VmHWM)" "$gh_dir/gatehoused.log" \
		"$raw/$tag.status.json" "$raw/$tag.rss" "$rss0" <<'EOF'
import json, sys, datetime
(out, tag, t0, t1, gh0, gh1, sl0, sl1, tck, rss, hwm, log, status, rssf, rss0) = sys.argv[1:16]
t0, t1, tck = float(t0), float(t1), float(tck)
def ts(line):
    s = line.split()[0].rstrip("Z")
    d = datetime.datetime.fromisoformat(s[:26]).replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()
started = fetched = None
for line in open(log, encoding="utf-8", errors="replace"):
    try:
        t = ts(line)
    except Exception:
        continue
    if t < t0 - 0.5 or t > t1 + 0.5:
        continue
    if "sync started" in line and started is None:
        started = t
    if " fetched " in line or "fetched directory=" in line:
        fetched = t
samples = []
for line in open(rssf):
    p = line.split()
    if len(p) == 2:
        samples.append((float(p[0]), int(p[1])))
peak_sample = max(samples, key=lambda s: s[1]) if samples else None
run = json.load(open(status))["runs"][0]
json.dump({
    "tag": tag,
    "wall_s": t1 - t0,
    "connect_bind_s": (started - t0) if started else None,
    "fetch_s": (fetched - started) if (started and fetched) else None,
    "after_fetch_s": (t1 - fetched) if fetched else None,
    "gatehoused_cpu_s": (int(gh1) - int(gh0)) / tck,
    "slapd_cpu_s": (int(sl1) - int(sl0)) / tck,
    "vm_rss_before_kb": int(rss0),
    "vm_rss_after_kb": int(rss),
    "vm_hwm_kb": int(hwm),
    "rss_peak_sample_kb": peak_sample[1] if peak_sample else None,
    "rss_peak_sample_at_s": (peak_sample[0] - t0) if peak_sample else None,
    "rss_samples": len(samples),
    "run": run,
}, open(out, "w"), indent=1)
EOF
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["run"]; print("%s: %.2f s wall (fetch %s s), peak %.1f MB, counts +%d ~%d -%d =%d, %d entries" % (d["tag"], d["wall_s"], "%.2f" % d["fetch_s"] if d["fetch_s"] is not None else "?", d["vm_hwm_kb"]/1024, r["added"], r["updated"], r["disabled"], r["unchanged"], r["entries"]))' "$raw/$tag.json" >&2
}

reset_hwm() { # VmHWM := VmRSS (Linux >= 4.0: write 5 to clear_refs)
	echo 5 >"/proc/$1/clear_refs"
}

check_counts() { # check_counts TAG added updated disabled unchanged (- = any)
	python3 - "$raw/$1.json" "$2" "$3" "$4" "$5" <<'EOF' || die "$1: unexpected counts"
import json, sys
r = json.load(open(sys.argv[1]))["run"]
ok = True
for k, want in zip(("added", "updated", "disabled", "unchanged"), sys.argv[2:6]):
    if want != "-" and r[k] != int(want):
        print(f"{sys.argv[1]}: {k} = {r[k]}, expected {want}", file=sys.stderr)
        ok = False
if r.get("error"):
    print(f"run error: {r['error']}", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
EOF
}

# modify_batch TAG FIRST_N STEP: new displayName for 100 users (FIRST_N, FIRST_N+STEP, ...)
modify_batch() {
	local tag="$1" first="$2" step="$3"
	python3 - "$first" "$step" "$tag" >"$work/$tag.ldif" <<'EOF'
import sys
first, step, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def ou_dn(n):
    path = {1: ["People", "Sales"], 2: ["People", "Sales", "East"], 3: ["People", "Engineering"],
            4: ["People", "Support"]}.get(n % 5, ["People"])
    return "".join(f"ou={o}," for o in reversed(path)) + "dc=example,dc=com"
for i in range(100):
    n = first + i * step
    print(f"dn: uid=u{n:05},{ou_dn(n)}\nchangetype: modify\nreplace: displayName\ndisplayName: User {n:05} ({tag})\n")
EOF
	ldapmodify -x -o nettimeout=10 -H "ldap://127.0.0.1:$slapd_port" -D "$ADMIN_DN" -w "$ADMIN_PASSWORD" \
		-f "$work/$tag.ldif" >"$work/$tag.ldapmodify.log" 2>&1 || { cat "$work/$tag.ldapmodify.log" >&2; die "ldapmodify failed"; }
}

# --- environment -------------------------------------------------------------------------------
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "kernel=$(uname -r)"
	echo "mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "rustc=$(rustc --version)"
	echo "freeradius=$(freeradius -v 2>/dev/null | head -n 1)"
	echo "freeradius_ldap=$(dpkg-query -W -f '${Version}' freeradius-ldap 2>/dev/null || echo '?')"
	echo "slapd=$(dpkg-query -W -f '${Version}' slapd 2>/dev/null || echo '?')"
	echo "gatehouse=$("$gh_bin" --version) ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet -- src Cargo.toml Cargo.lock 2>/dev/null || echo '+dirty'))"
	echo "source=$(cd "$root" && find src Cargo.toml Cargo.lock -type f -print0 | sort -z |
		xargs -0 sha256sum | sha256sum | cut -c1-16) (sha256 of src/ and Cargo.*, built $(date -u -r "$gh_bin" +%Y-%m-%dT%H:%M:%SZ))"
	echo "quick=$quick"
	echo "sizes=$sizes"
	echo "page_size=$PAGE_SIZE"
	echo "slapd_size_limit=$SIZE_LIMIT"
	echo "rounds=$rounds"
	echo "requests=$requests"
	echo "warmup=$warmup"
	echo "concurrency=$concurrency"
	echo "pool=$pool"
	echo "sample_users=$sample_users"
	echo "timeout_ms=$timeout_ms"
	echo "command=bench/directory/run.sh$(printf ' %q' "${orig_args[@]}")"
	echo "overrides=$(env | grep -E '^(GATEHOUSE_[A-Z0-9_]+|MALLOC_[A-Z_]+|GLIBC_TUNABLES)=' | sort | tr '\n' ' ' || true)"
} >"$raw/env.txt"

started=$SECONDS

# --- 1 + 2: syncs ------------------------------------------------------------------------------
for size in "${size_list[@]}"; do
	say "=== full sync, $size users"
	slapd_start "$size"
	gh_start "$work/gh-$size"
	ctl client add bench --address 127.0.0.1 --secret-file "$secret_file" >/dev/null
	ctl directory add "$DOMAIN" --url "ldap://127.0.0.1:$slapd_port" --bind-dn "$SYNC_DN" \
		--bind-password-file "$bindpw_file" --base-dn "$PEOPLE_DN" --user-filter "$FILTER" \
		--page-size "$PAGE_SIZE" --bind-pool-size "$pool" \
		--insecure-plaintext >/dev/null # loopback only; FreeRADIUS binds in the clear too
	sleep 1
	"$bench_bin" rss --pid "$gh_pid" --json >"$raw/sync-$size.idle.json"
	quiet_gate "sync-$size"
	timed_sync "sync-$size" "$DOMAIN"
	check_counts "sync-$size" "$size" 0 - 0
	if ((size != largest)); then
		stop_pid "$gh_pid"
		stop_pid "$slapd_pid"
		rm -rf -- "$slapd_dir/db" "$slapd_dir/seed.ldif"
		continue
	fi

	say "=== incremental runs ($size users)"
	sleep 1.1 # modifications land in a later second than anything before
	modify_batch inc1 11 $(((size - 11) / 100))
	quiet_gate inc1
	timed_sync inc1 "$DOMAIN" --incremental
	check_counts inc1 0 100 0 -
	sleep 1.1
	modify_batch inc2 12 $(((size - 12) / 100))
	quiet_gate inc2
	timed_sync inc2 "$DOMAIN" --incremental
	check_counts inc2 0 100 0 -
	quiet_gate resync
	timed_sync resync "$DOMAIN"
	check_counts resync 0 0 0 "$size"
	# The same re-sync in a freshly started daemon: its peak without what earlier runs left
	# in the allocator (glibc keeps freed heap; VmRSS after a run stays near its peak).
	stop_pid "$gh_pid"
	gh_start "$gh_dir"
	sleep 1
	quiet_gate resync-fresh
	timed_sync resync-fresh "$DOMAIN"
	check_counts resync-fresh 0 0 0 "$size"
done

# --- 3: pass-through -----------------------------------------------------------------------------
say "=== pass-through PAP against slapd with $largest users"
python3 "$here/gen-ldif.py" --users "$largest" --out /dev/null --passwords-out "$work/users.passwords" \
	--domain "$DOMAIN" --skip-first 10 --sample "$sample_users"
stop_pid "$gh_pid"
gh_start "$gh_dir" # same state: the synced users, the client, the directory
sleep 1
"$bench_bin" rss --pid "$gh_pid" --json >"$raw/pt.gatehouse.idle.json"

fr_ports="$(free_udp_ports)"
read -r fr_auth _ <<<"$fr_ports"
fr_pid="$("$here/start-freeradius-ldap.sh" --dir "$work/freeradius" --auth-port "$fr_auth" \
	--secret-file "$secret_file" --ldap-url "ldap://127.0.0.1:$slapd_port" --bind-dn "$SYNC_DN" \
	--bind-password-file "$bindpw_file" --base-dn "$PEOPLE_DN" --domain "$DOMAIN" \
	--pool "$pool" 2>"$work/freeradius.start.log")" ||
	{ cat "$work/freeradius.start.log" >&2; die "FreeRADIUS did not start"; }
running[$fr_pid]=freeradius
sleep 1
"$bench_bin" rss --pid "$fr_pid" --json >"$raw/pt.freeradius.idle.json"

run_pt() { # run_pt SERVER ROUND
	local server="$1" round="$2" tag pid port sl0 sl1
	tag="pt.$server.$round"
	if [[ "$server" == gatehouse ]]; then pid=$gh_pid port=$gh_auth; else pid=$fr_pid port=$fr_auth; fi
	local -a args=(--mode pap --users "$work/users.passwords" --server "127.0.0.1:$port"
		--secret-file "$secret_file" --concurrency "$concurrency" --timeout-ms "$timeout_ms"
		--duration-secs "$max_load_secs")
	"$bench_bin" load "${args[@]}" --requests "$warmup" --json >"$raw/$tag.warmup.json"
	quiet_gate "$tag"
	sl0=$(cpu_ticks "$slapd_pid")
	"$bench_bin" load "${args[@]}" --requests "$requests" --pid "$pid" --json >"$raw/$tag.load.json"
	sl1=$(cpu_ticks "$slapd_pid")
	echo "$((sl1 - sl0))" >"$raw/$tag.slapd_ticks"
	python3 - "$raw/$tag.load.json" "$tag" "$((sl1 - sl0))" "$(getconf CLK_TCK)" <<'EOF2' >&2
import json, sys
d = json.load(open(sys.argv[1]))
sl = int(sys.argv[3]) / float(sys.argv[4])
c = d["server_cost"]
print(f"[dirbench] {sys.argv[2]}: {d['rps']:,.0f}/s, accept {d['access_accept']}/{d['sent']}, "
      f"p50 {d['latency']['p50_ms']:.2f} ms p99 {d['latency']['p99_ms']:.2f} ms, server "
      f"{c['cpu_us_per_req']:.1f} us/req ({c['cpu_cores']:.2f} cores), slapd "
      f"{sl * 1e6 / max(d['replies'], 1):.1f} us/req ({sl / d['elapsed_s']:.2f} cores), "
      f"timeouts {d['timeouts']}")
EOF2
}

# An extra, unmeasured run per server under perf (sampling perturbs what it measures).
profile_pt() { # profile_pt SERVER
	local server="$1" pid port p
	local -a pp=()
	if [[ "$server" == gatehouse ]]; then pid=$gh_pid port=$gh_auth; else pid=$fr_pid port=$fr_auth; fi
	mkdir -p "$out/perf"
	perf record -e cpu-clock --call-graph dwarf -F 499 -p "$pid" -o "$out/perf/$server.data" -- sleep 3 \
		>"$out/perf/$server.log" 2>&1 &
	pp+=($!)
	perf record -e cpu-clock --call-graph dwarf -F 499 -p "$slapd_pid" -o "$out/perf/slapd-under-$server.data" -- sleep 3 \
		>"$out/perf/slapd-under-$server.log" 2>&1 &
	pp+=($!)
	for p in "${pp[@]}"; do running[$p]=perf; done
	"$bench_bin" load --mode pap --users "$work/users.passwords" --server "127.0.0.1:$port" \
		--secret-file "$secret_file" --concurrency "$concurrency" --timeout-ms "$timeout_ms" \
		--duration-secs 5 --json >"$raw/perf.$server.load.json"
	for p in "${pp[@]}"; do
		wait "$p" 2>/dev/null || true
		unset "running[$p]"
	done
	for f in "$out/perf/$server" "$out/perf/slapd-under-$server"; do
		perf report -i "$f.data" --no-children --sort dso,symbol --stdio 2>/dev/null | head -n 150 >"$f.txt" || true
	done
}

for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(gatehouse freeradius); else order=(freeradius gatehouse); fi
	for server in "${order[@]}"; do run_pt "$server" "$r"; done
done
"$bench_bin" rss --pid "$gh_pid" --json >"$raw/pt.gatehouse.after.json"
"$bench_bin" rss --pid "$fr_pid" --json >"$raw/pt.freeradius.after.json"
if ((perf)); then
	say "=== profiles (unmeasured runs)"
	profile_pt gatehouse
	profile_pt freeradius
fi

stop_all
echo "elapsed_s=$((SECONDS - started))" >>"$raw/env.txt"
python3 "$here/report.py" --raw "$raw" --out "$outbase/$name.md" >/dev/null
say "done in $((SECONDS - started)) s: $outbase/$name.md"
