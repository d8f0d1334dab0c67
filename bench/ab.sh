#!/usr/bin/env bash
# A/B of two gatehoused builds on one scenario: the runs alternate (A B A B ...), each on a
# freshly started daemon with the same 10,000 users, and every run reports the daemon's
# CPU per request split by thread (tokio-rt-worker, store-writer, hash-N), which tells
# where a change moved the cost. FreeRADIUS is not involved: use bench/run.sh for ratios.
#
#   bench/ab.sh [--rounds N] [--scenario ssha|crypt|status|acct] BUILD_A BUILD_B
#
# BUILD_A and BUILD_B are gatehoused binaries (copy target/release/gatehoused aside before
# rebuilding); a gatehousectl next to one is used with it (builds far apart may not speak
# the same admin protocol), target/release/gatehousectl otherwise. Users come from bench-out/users/ (bench/run.sh generates them; so does this
# script when they are missing). Output: one line per run, on stdout. Everything listens
# on 127.0.0.1 only; daemons are stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/bench-out"
# cargo's target directory: CARGO_TARGET_DIR if set (relative to the repository), else target/.
release="$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")/release"
ctl_bin="$release/gatehousectl"
bench_bin="$release/gatehouse-bench"

die() {
	printf 'ab: %s\n' "$*" >&2
	exit 1
}
say() {
	printf '[ab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

rounds=3 scenario=ssha
while [[ $# -gt 2 ]]; do
	case "$1" in
	--rounds)
		[[ "$2" =~ ^[1-9][0-9]?$ ]] || die "--rounds needs a number 1..99"
		rounds="$2"; shift 2 ;;
	--scenario)
		case "$2" in ssha | crypt | status | acct) ;; *) die "unknown scenario: $2" ;; esac
		scenario="$2"; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done
[[ $# -eq 2 ]] || die "usage: bench/ab.sh [--rounds N] [--scenario S] BUILD_A BUILD_B"
builds=("$(realpath "$1")" "$(realpath "$2")")
for b in "${builds[@]}" "$ctl_bin" "$bench_bin"; do
	[[ -x "$b" ]] || die "not an executable: $b (cargo build --release --locked --bins -p gatehouse -p gatehouse-bench)"
done

mkdir -p "$out/users"
chmod 700 "$out"
exec 9>"$out/.run.lock"
flock -n 9 || die "another benchmark is running (lock: $out/.run.lock)"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

users_mode=ssha requests=300000 warmup=20000
case "$scenario" in
crypt) users_mode=crypt requests=6000 warmup=300 ;;
acct) requests=200000 ;;
esac
users="$out/users/$users_mode.users" passwords="$out/users/$users_mode.passwords"
if ! [[ -s "$users" && -s "$passwords" ]]; then
	say "generating 10,000 $users_mode users"
	python3 "$here/freeradius/gen-users.py" --mode "$users_mode" --count 10000 \
		--users-out "$users" --passwords-out "$passwords"
fi

work="$out/ab-work"
rm -rf -- "$work"
mkdir -p "$work"
secret_file="$work/secret"
(umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18).replace("-", "x").replace("_", "y"))' >"$secret_file")

pid="" auth_port="" acct_port=""
start() { # start BUILD DIR
	read -r auth_port acct_port < <(free_udp_ports)
	cat >"$2/gatehouse.toml" <<EOF
[appliance]
name = "ab"
state_dir = "$2/state"

[radius]
auth_listen = ["127.0.0.1:$auth_port"]
acct_listen = ["127.0.0.1:$acct_port"]

[auth]
rehash_on_login = false

[admin]
socket = "$2/admin.sock"

[log]
level = "warn"
EOF
	start_gatehoused "$1" "$2" "$(ctl_for "$1")"
	pid=$started_pid
}

ctl_for() { # ctl_for BUILD: the gatehousectl to drive it with
	local sibling
	sibling="$(dirname "$1")/gatehousectl"
	if [[ -x "$sibling" ]]; then echo "$sibling"; else echo "$ctl_bin"; fi
}

# One template per build (each build migrates its own database).
for i in 0 1; do
	dir="$work/template-$i"
	mkdir -p "$dir/state"
	say "build $i: importing 10,000 $users_mode users"
	start "${builds[$i]}" "$dir"
	ctl="$(ctl_for "${builds[$i]}")"
	"$ctl" --socket "$dir/admin.sock" client add ab --address 127.0.0.1 \
		--secret-file "$secret_file" >/dev/null
	"$ctl" --socket "$dir/admin.sock" user import "$users" >/dev/null
	stop_pid "$pid"
done

thread_cpu() { # thread_cpu PID: "name ticks" per thread name
	local t
	for t in /proc/"$1"/task/*; do
		printf '%s %s\n' "$(cat "$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
	done | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}

ticks="$(getconf CLK_TCK)"
for ((round = 1; round <= rounds; round++)); do
	for i in 0 1; do
		dir="$work/run-$round-$i"
		mkdir -p "$dir"
		cp -a "$work/template-$i/state" "$dir/state"
		start "${builds[$i]}" "$dir"
		port=$auth_port
		args=(--secret-file "$secret_file" --concurrency 64 --timeout-ms 2000 --duration-secs 120)
		case "$scenario" in
		ssha | crypt) args+=(--mode pap --users "$passwords") ;;
		status) args+=(--mode status) ;;
		acct) args+=(--mode acct --users "$passwords"); port=$acct_port ;;
		esac
		args+=(--server "127.0.0.1:$port")
		"$bench_bin" load "${args[@]}" --requests "$warmup" --json >/dev/null
		thread_cpu "$pid" >"$dir/cpu.before"
		"$bench_bin" load "${args[@]}" --requests "$requests" --pid "$pid" --json >"$dir/load.json"
		thread_cpu "$pid" >"$dir/cpu.after"
		stop_pid "$pid"
		per_thread="$(join "$dir/cpu.before" "$dir/cpu.after" |
			awk -v n="$requests" -v hz="$ticks" '$3 > $2 {printf " %s=%.2f", $1, ($3 - $2) / hz * 1e6 / n}')"
		python3 - "$dir/load.json" "$scenario" "$round" "$i" "$per_thread" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["server_cost"]
print(f"{sys.argv[2]} round {sys.argv[3]} build {'AB'[int(sys.argv[4])]}: "
      f"{d['rps']:,.0f}/s, {c['cpu_us_per_req']:.2f} µs/req, p99 {d['latency']['p99_ms']:.2f} ms, "
      f"timeouts {d['timeouts']}, other load {d['other_cpu_cores']:.2f} cores; "
      f"µs/req by thread:{sys.argv[5]}")
EOF
		rm -rf -- "$dir/state"
	done
done
