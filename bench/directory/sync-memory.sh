#!/usr/bin/env bash
# Where gatehoused's memory goes during a large sync: a side experiment for BENCHMARKS.md.
#
#   bench/directory/sync-memory.sh [--users N] [--name NAME]
#
# Fresh slapd (start-slapd.sh, N users, default 100000) and a fresh gatehoused, then, each
# with VmHWM reset just before it (/proc/PID/clear_refs) and VmRSS sampled every 20 ms:
#   1. `directory preview CORP --json`  (fetch + map + plan + the JSON reply; no write)
#   2. `directory sync CORP --json`     (the same, plus the commit)
#   3. `directory sync CORP --json`     (full re-sync, nothing changed: no changes in reply)
#   4. the same after restarting gatehoused (the re-sync's peak without what the earlier
#      runs left in the allocator)
# For each: wall time, peak VmHWM, VmRSS after, the size of the JSON reply as gatehousectl
# prints it, and the RSS timeline against the log's "sync started"/"fetched" lines.
# Environment such as MALLOC_ARENA_MAX=2 reaches gatehoused (recorded in the output).
# Does not build: run bench/directory/run.sh (or cargo build --release --locked) first.
# Output: bench-out/directory/NAME.txt (default sync-memory.txt) and NAME/ (raw).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# cargo's target directory: CARGO_TARGET_DIR if set (relative to the repository), else target/.
bin="$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")/release"
users=100000 name=sync-memory
die() { printf 'sync-memory: %s\n' "$*" >&2; exit 1; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	--users) [[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{2,6}$ ]] || die "--users N"; users="$2"; shift 2 ;;
	--name) [[ $# -ge 2 && "$2" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "--name NAME"; name="$2"; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done
unset GATEHOUSE_ADMIN_SOCKET
exec 9>"$root/bench-out/.run.lock" # shared with bench/run.sh and run.sh: never measure at once
flock -w 900 9 || die "bench-out/.run.lock still held after 15 min"
out="$root/bench-out/directory/$name"
rm -rf -- "$out" "$out.txt"
mkdir -p "$out"

say() { printf 'sync-memory: %s\n' "$*" >&2; }
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

slapd_pid="$("$here/start-slapd.sh" --dir "$out/slapd" --users "$users" --size-limit 1000 2>"$out/slapd.start.log")" ||
	{ cat "$out/slapd.start.log" >&2; die "slapd did not start"; }
running[$slapd_pid]=slapd
port="$(cat "$out/slapd/port")"

gh="$out/gh"
mkdir -p "$gh/state"
read -r a b < <(python3 -c 'import socket
s=[socket.socket(socket.AF_INET,socket.SOCK_DGRAM) for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
cat >"$gh/gatehouse.toml" <<EOF
[appliance]
name = "dirbench"
state_dir = "$gh/state"
[radius]
auth_listen = ["127.0.0.1:$a"]
acct_listen = ["127.0.0.1:$b"]
[admin]
socket = "$gh/admin.sock"
[log]
level = "warn,gatehouse::directory=info"
EOF
ctl() { "$bin/gatehousectl" --socket "$gh/admin.sock" "$@"; }
gh_start() {
	"$bin/gatehoused" --config "$gh/gatehouse.toml" </dev/null >>"$gh/gatehoused.log" 2>&1 &
	gh_pid=$!
	running[$gh_pid]=gatehoused
	for ((i = 0; i < 100; i++)); do ctl status >/dev/null 2>&1 && break; sleep 0.1; done
}
gh_start
printf 'sync-secret-0123\n' >"$out/bind.pw"
ctl directory add CORP --url "ldap://127.0.0.1:$port" --bind-dn cn=sync,dc=example,dc=com \
	--bind-password-file "$out/bind.pw" --base-dn ou=People,dc=example,dc=com \
	--user-filter '(objectClass=inetOrgPerson)' --page-size 500 \
	--insecure-plaintext >/dev/null # loopback only
sleep 1

kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
step() { # step TAG ARGS...
	local tag="$1" t0 t1 sampler
	shift
	echo 5 >"/proc/$gh_pid/clear_refs"
	local before; before=$(kb "$gh_pid" VmRSS)
	( while kill -0 "$gh_pid" 2>/dev/null; do
		printf '%s %s\n' "$(date +%s.%N)" "$(awk '$1 == "VmRSS:" {print $2}' "/proc/$gh_pid/status")"
		sleep 0.02
	done ) >"$out/$tag.rss" &
	sampler=$!
	running[$sampler]=sampler
	t0=$(date +%s.%N)
	ctl --json "$@" >"$out/$tag.json"
	t1=$(date +%s.%N)
	stop_pid "$sampler"
	python3 - "$tag" "$t0" "$t1" "$before" "$(kb "$gh_pid" VmHWM)" "$(kb "$gh_pid" VmRSS)" \
		"$out/$tag.json" "$out/$tag.rss" "$gh/gatehoused.log" <<'EOF'
import datetime, json, os, sys
tag, t0, t1, before, hwm, after, js, rssf, log = sys.argv[1:10]
t0, t1 = float(t0), float(t1)
def ts(line):
    s = line.split()[0].rstrip("Z")[:26]
    return datetime.datetime.fromisoformat(s).replace(tzinfo=datetime.timezone.utc).timestamp()
marks = {}
for line in open(log, errors="replace"):
    try:
        t = ts(line)
    except Exception:
        continue
    if t0 - 0.5 <= t <= t1 + 0.5:
        if "sync started" in line: marks["started"] = t
        if "fetched" in line: marks["fetched"] = t
samples = [(float(a), int(b)) for a, b in (l.split() for l in open(rssf) if len(l.split()) == 2)]
def at(t):
    prior = [kb for (s, kb) in samples if s <= t]
    return prior[-1] / 1024 if prior else float("nan")
def peak(a, b):
    v = [kb for (s, kb) in samples if a <= s <= b]
    return max(v) / 1024 if v else float("nan")
d = json.load(open(js))
c = d.get("counts", {})
f = marks.get("fetched", t1)
print(f"{tag}: wall {t1 - t0:.2f} s, fetch {f - marks.get('started', t0):.2f} s; VmRSS before {int(before)/1024:.1f} MB, "
      f"at end of fetch {at(f):.1f} MB, peak during fetch {peak(t0, f):.1f} MB, peak after fetch {peak(f, t1):.1f} MB, "
      f"VmHWM {int(hwm)/1024:.1f} MB, VmRSS after {int(after)/1024:.1f} MB; reply {os.path.getsize(js)/1e6:.1f} MB of JSON "
      f"({len(d.get('changes', []))} changes; added {c.get('added')}, unchanged {c.get('unchanged')})")
EOF
}
{
	echo "sync-memory: $users users, gatehoused $("$bin/gatehoused" --version), built $(date -u -r "$bin/gatehoused" +%Y-%m-%dT%H:%M:%SZ)"
	echo "environment: $(env | grep -E '^(MALLOC_[A-Z_]+|GLIBC_TUNABLES|GATEHOUSE_[A-Z0-9_]+)=' | sort | tr '\n' ' ')"
	echo "idle: VmRSS $(( $(kb "$gh_pid" VmRSS) / 1024 )) MB"
	step preview directory preview CORP
	step sync directory sync CORP
	step resync directory sync CORP
	sleep 2
	echo "2 s later: VmRSS $(( $(kb "$gh_pid" VmRSS) / 1024 )) MB"
	stop_pid "$gh_pid"
	gh_start
	sleep 1
	echo "restarted: VmRSS $(( $(kb "$gh_pid" VmRSS) / 1024 )) MB"
	step resync-fresh directory sync CORP
} >"$out.txt"
cat "$out.txt"
