#!/usr/bin/env bash
# Gatehouse vs FreeRADIUS, side by side, on this machine, with the same load generator.
#
#   bench/run.sh [--quick] [--scenario NAME[,NAME...]] [--rounds N] [--concurrency N]
#                [--name NAME]
#
# Scenarios (default: all, in this order):
#   crypt   PAP, 10,000 users with sha512-crypt (rounds=5000); also times the verification
#           (gatehouse-bench hash) in every round, for the hash-cost bound
#   ssha    PAP, 10,000 users with {SSHA}
#   status  Status-Server on the auth port
#   acct    Accounting-Request Start/Stop pairs (FreeRADIUS writes its detail file,
#           Gatehouse commits to SQLite before answering)
# Every scenario runs each server --rounds times (default 5), alternating
# (G F, F G, G F, ...), each run on a freshly started server: warm-up, then the measured
# load with the same concurrency and request count for both. Idle RSS is read after each
# start (10,000 users loaded) and RSS after the load.
#
# --quick: small counts and one round, to check that everything works.
# --concurrency N: requests kept outstanding by the load generator (default 64).
# --name NAME: write bench-out/NAME.md and bench-out/NAME/ instead of bench-out/results*,
#   e.g. for a side experiment that must not replace the main results. GATEHOUSE_*
#   environment variables reach gatehoused as configuration overrides (for example
#   GATEHOUSE_AUTH__HASH_WORKERS=3) and are recorded in the report.
#
# Output: bench-out/results.md (tables, medians, ratios, targets) and the raw JSON of
# every run in bench-out/results/. Users are generated once and cached in
# bench-out/users/. Everything listens on 127.0.0.1 only; servers are stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/bench-out"
bin="$root/target/release"
gh_bin="$bin/gatehoused"
ctl_bin="$bin/gatehousectl"
bench_bin="$bin/gatehouse-bench"
fr_start="$here/freeradius/start-freeradius.sh"
gen_users="$here/freeradius/gen-users.py"

die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}
say() {
	printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}
usage() {
	sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

quick=0 rounds="" scenario_arg="crypt,ssha,status,acct" concurrency=64 name=results
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) quick=1; shift ;;
	--scenario)
		[[ $# -ge 2 && -n "$2" ]] || die "--scenario needs a value"
		scenario_arg="$2"; shift 2 ;;
	--rounds)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]?$ ]] || die "--rounds needs a number 1..99"
		rounds="$2"; shift 2 ;;
	--name)
		[[ $# -ge 2 && "$2" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ && "$2" != users && "$2" != work && "$2" != ab-work ]] ||
			die "--name needs a simple name ([A-Za-z0-9._-], not 'users', 'work' or 'ab-work')"
		name="$2"; shift 2 ;;
	--concurrency)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{0,3}$ ]] || die "--concurrency needs a number 1..9999"
		concurrency="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
IFS=, read -r -a scenarios <<<"$scenario_arg"
for s in "${scenarios[@]}"; do
	case "$s" in crypt | ssha | status | acct) ;; *) die "unknown scenario: $s" ;; esac
done

# --- sizes ---------------------------------------------------------------------------------
timeout_ms=2000
if ((quick)); then
	: "${rounds:=1}"
	declare -A requests=([crypt]=600 [ssha]=20000 [status]=20000 [acct]=20000)
	declare -A warmup=([crypt]=100 [ssha]=2000 [status]=2000 [acct]=2000)
	hash_iterations=50 quiet_wait=5 quiet_budget=30
else
	: "${rounds:=5}"
	declare -A requests=([crypt]=6000 [ssha]=300000 [status]=400000 [acct]=200000)
	declare -A warmup=([crypt]=300 [ssha]=20000 [status]=20000 [acct]=20000)
	hash_iterations=300 quiet_wait=15 quiet_budget=150
fi
# Sending stops after this long whatever the count (a hung server cannot hang the run).
max_load_secs=120
# A measured run during which everything else used more than this many cores is noisy,
# and is repeated up to $retries times (the report leaves noisy runs out of the medians).
noisy_cores=0.25 retries=2

# gatehousectl's GATEHOUSE_ADMIN_SOCKET is not a daemon setting, and gatehoused refuses to
# start when it sees it; this script passes --socket explicitly anyway.
unset GATEHOUSE_ADMIN_SOCKET

# --- tools -----------------------------------------------------------------------------------
for t in python3 freeradius radclient getconf flock; do
	command -v "$t" >/dev/null || die "$t not found"
done
[[ -x "$fr_start" ]] || die "missing $fr_start"

mkdir -p "$out/users"
chmod 700 "$out"
# One run at a time: runs share bench-out/work and the machine's cores.
exec 9>"$out/.run.lock"
flock -n 9 || die "another bench/run.sh is running (lock: $out/.run.lock)"

fingerprint() { # sha256 over the daemon's sources, to tell builds apart in reports
	(cd "$root" && find src Cargo.toml Cargo.lock -type f -print0 | sort -z |
		xargs -0 sha256sum | sha256sum | cut -c1-16)
}
source_before="$(fingerprint)"
say "building (cargo build --release --locked --bins -p gatehouse -p gatehouse-bench)"
(cd "$root" && cargo build --release --locked --bins -p gatehouse -p gatehouse-bench) >&2 || die "build failed"
for b in "$gh_bin" "$ctl_bin" "$bench_bin"; do
	[[ -x "$b" ]] || die "missing $b after the build"
done

# --- working directories -------------------------------------------------------------------
work="$out/work"
results="$out/$name"
rm -rf -- "$work" "$results"
mkdir -p "$work/bin" "$results"
# Run copies: a build started elsewhere during the run must not swap the binaries.
cp -p -- "$gh_bin" "$ctl_bin" "$bench_bin" "$work/bin/"
gh_bin="$work/bin/gatehoused" ctl_bin="$work/bin/gatehousectl" bench_bin="$work/bin/gatehouse-bench"

secret_file="$work/secret"
(umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(18).replace("-", "x").replace("_", "y"))' >"$secret_file")

# --- cleanup: every server this script starts is stopped on exit -----------------------------
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


# --- users -------------------------------------------------------------------------------------
ensure_users() { # ensure_users MODE
	local mode="$1" u="$out/users/$1.users" p="$out/users/$1.passwords"
	if [[ -s "$u" && -s "$p" ]] && (($(wc -l <"$u") == 10000 && $(wc -l <"$p") == 10000)); then
		return
	fi
	say "generating 10,000 $mode users"
	python3 "$gen_users" --mode "$mode" --count 10000 --users-out "$u" --passwords-out "$p"
}

# --- Gatehouse -----------------------------------------------------------------------------------
gh_config() { # gh_config DIR AUTH_PORT ACCT_PORT  -> DIR/gatehouse.toml
	cat >"$1/gatehouse.toml" <<EOF
[appliance]
name = "bench"
state_dir = "$1/state"

[radius]
auth_listen = ["127.0.0.1:$2"]
acct_listen = ["127.0.0.1:$3"]

[auth]
rehash_on_login = false

[admin]
socket = "$1/admin.sock"

[log]
level = "warn"
EOF
}

gh_pid="" gh_auth="" gh_acct=""
gh_start() { # gh_start DIR  (DIR/state may already hold a database)
	local dir="$1" ports
	ports="$(free_udp_ports)"
	read -r gh_auth gh_acct <<<"$ports"
	mkdir -p "$dir/state"
	gh_config "$dir" "$gh_auth" "$gh_acct"
	start_gatehoused "$gh_bin" "$dir" "$ctl_bin"
	gh_pid=$started_pid
}

# A state directory with the client and 10,000 users, copied for every round.
gh_template() { # gh_template MODE
	local mode="$1" dir="$work/gh-template-$1"
	rm -rf "$dir"
	say "Gatehouse: importing 10,000 $mode users into a template database"
	gh_start "$dir"
	"$ctl_bin" --socket "$dir/admin.sock" client add bench --address 127.0.0.1 \
		--secret-file "$secret_file" >/dev/null
	"$ctl_bin" --socket "$dir/admin.sock" user import "$out/users/$mode.users" >/dev/null
	stop_pid "$gh_pid"
}

# --- FreeRADIUS ----------------------------------------------------------------------------------
fr_pid="" fr_auth="" fr_acct=""
fr_start() { # fr_start DIR MODE
	local ports
	ports="$(free_udp_ports)"
	read -r fr_auth fr_acct <<<"$ports"
	fr_pid="$("$fr_start" --dir "$1" --auth-port "$fr_auth" --acct-port "$fr_acct" \
		--secret-file "$secret_file" --users "$out/users/$2.users" --mode "$2" 2>"$1.start.log" 9>&-)" ||
		{ cat "$1.start.log" >&2; die "FreeRADIUS did not start"; }
	running[$fr_pid]=freeradius
}

# --- one measured run ------------------------------------------------------------------------------
quiet_gate() { # quiet_gate TAG: wait (bounded) for the machine to be quiet; record what we saw
	local wait_s=$quiet_wait
	((quiet_budget > 0)) || wait_s=0
	local t0=$SECONDS
	"$bench_bin" quiet --max-cores 0.25 --timeout-secs "$wait_s" --json >"$results/$1.quiet.json"
	quiet_budget=$((quiet_budget - (SECONDS - t0)))
}

run_one() { # run_one SCENARIO SERVER ROUND
	local scenario="$1" server="$2" round="$3" users_mode pid port dir tag
	local -a load_args
	tag="$scenario.$server.$round"
	dir="$work/$tag"
	case "$scenario" in
	crypt) users_mode=crypt load_args=(--mode pap --users "$out/users/crypt.passwords") ;;
	ssha) users_mode=ssha load_args=(--mode pap --users "$out/users/ssha.passwords") ;;
	status) users_mode=ssha load_args=(--mode status) ;;
	acct) users_mode=ssha load_args=(--mode acct --users "$out/users/ssha.passwords") ;;
	esac
	mkdir -p "$dir"
	if [[ "$server" == gatehouse ]]; then
		cp -a "$work/gh-template-$users_mode/state" "$dir/state"
		gh_start "$dir"
		pid=$gh_pid port=$gh_auth
		[[ "$scenario" != acct ]] || port=$gh_acct
	else
		fr_start "$dir/fr" "$users_mode"
		pid=$fr_pid port=$fr_auth
		[[ "$scenario" != acct ]] || port=$fr_acct
	fi
	sleep 1
	"$bench_bin" rss --pid "$pid" --json >"$results/$tag.idle.json"
	load_args+=(--server "127.0.0.1:$port" --secret-file "$secret_file"
		--concurrency "$concurrency" --timeout-ms "$timeout_ms" --duration-secs "$max_load_secs")
	"$bench_bin" load "${load_args[@]}" --requests "${warmup[$scenario]}" --json >"$results/$tag.warmup.json"
	# A run during which other processes used more than $noisy_cores cores is repeated
	# (on the same server) while retries and the quiet budget last.
	local attempt
	for ((attempt = 1; ; attempt++)); do
		quiet_gate "$tag"
		[[ "$scenario/$server" != crypt/gatehouse ]] || hash_bound "$round"
		"$bench_bin" load "${load_args[@]}" --requests "${requests[$scenario]}" --pid "$pid" --json \
			>"$results/$tag.load.json"
		say "$(python3 "$here/report.py" --line "$results/$tag.load.json" "$tag")"
		if ((attempt <= retries && quiet_budget > 0)) &&
			python3 "$here/report.py" --noisy "$results/$tag.load.json" "$noisy_cores"; then
			say "$tag: other processes were busy during the run; measuring again"
			continue
		fi
		break
	done
	echo "$attempt" >"$results/$tag.attempts"
	if [[ "$server" == gatehouse ]]; then
		stop_pid "$pid"
		du -sk "$dir/state" | cut -f1 >"$results/$tag.disk_kb"
	else
		stop_pid "$pid"
		du -sk "$dir/fr/radacct" | cut -f1 >"$results/$tag.disk_kb"
	fi
	# Keep the logs, drop the bulk (databases, detail files).
	rm -rf -- "$dir/state" "$dir/fr/radacct"
}

# The hash-cost bound, timed in every crypt round just before Gatehouse's measured run
# (the report uses the median over the rounds).
hash_bound() { # hash_bound ROUND
	local hash pw
	hash="$(head -n 1 "$out/users/crypt.users" | cut -d: -f2-)"
	pw="$(head -n 1 "$out/users/crypt.passwords" | cut -d: -f2-)"
	"$bench_bin" hash --hash "$hash" --password "$pw" --iterations "$hash_iterations" \
		--threads "$(nproc)" --json >"$results/hash.$1.json"
	say "$(python3 "$here/report.py" --hash-line "$results/hash.$1.json" "hash.$1")"
}

# --- environment ----------------------------------------------------------------------------------
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "kernel=$(uname -r)"
	echo "mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "rustc=$(rustc --version)"
	echo "freeradius=$(freeradius -v 2>/dev/null | head -n 1)"
	echo "gatehouse=$("$gh_bin" --version) ($(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet 2>/dev/null || echo '+dirty'))"
	# The daemon may be edited between runs: fingerprint what was built.
	source_after="$(fingerprint)"
	changed=""
	[[ "$source_after" == "$source_before" ]] || changed=", CHANGED during the build: now $source_after"
	echo "source=$source_before (sha256 of src/ and Cargo.*, binary built $(date -u -r "$gh_bin" +%Y-%m-%dT%H:%M:%SZ)$changed)"
	echo "quick=$quick"
	echo "rounds=$rounds"
	echo "concurrency=$concurrency"
	echo "noisy_cores=$noisy_cores"
	echo "timeout_ms=$timeout_ms"
	for s in "${scenarios[@]}"; do
		echo "requests_$s=${requests[$s]}"
		echo "warmup_$s=${warmup[$s]}"
	done
	echo "scenarios=${scenarios[*]}"
	echo "overrides=$(env | grep -E '^GATEHOUSE_[A-Z0-9_]+=' | sort | tr '\n' ' ' || true)"
} >"$results/env.txt"

# --- main ---------------------------------------------------------------------------------------------
started=$SECONDS
needed_modes=()
for s in "${scenarios[@]}"; do
	case "$s" in crypt) needed_modes+=(crypt) ;; *) needed_modes+=(ssha) ;; esac
done
mapfile -t needed_modes < <(printf '%s\n' "${needed_modes[@]}" | sort -u)
for m in "${needed_modes[@]}"; do
	ensure_users "$m"
	gh_template "$m"
done

for scenario in "${scenarios[@]}"; do
	say "=== $scenario: ${requests[$scenario]} requests, concurrency $concurrency, $rounds round(s) per server"
	for ((r = 1; r <= rounds; r++)); do
		if ((r % 2)); then order=(gatehouse freeradius); else order=(freeradius gatehouse); fi
		for server in "${order[@]}"; do
			run_one "$scenario" "$server" "$r"
		done
	done
done

python3 "$here/report.py" --results "$results" --out "$out/$name.md"
say "done in $((SECONDS - started)) s: $out/$name.md"
