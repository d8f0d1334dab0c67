#!/usr/bin/env bash
# Gatehouse vs FreeRADIUS, side by side, on this machine, with the same load generator.
#
#   bench/run.sh [--quick] [--scenario NAME[,NAME...]] [--rounds N] [--concurrency N]
#                [--name NAME] [--policy-window week|today]
#
# Scenarios (default: all, in this order):
#   crypt   PAP, 10,000 users with sha512-crypt (rounds=5000); also times the verification
#           (gatehouse-bench hash) in every round, for the hash-cost bound
#   ssha    PAP, 10,000 users with {SSHA}
#   status  Status-Server on the auth port
#   acct    Accounting-Request Start/Stop pairs (FreeRADIUS writes its detail file,
#           Gatehouse commits to SQLite before answering)
#   policy  ssha with policies active: a user policy with reply attributes assigned to a
#           group every user is in, a computer policy with a VLAN and access hours given
#           by a computer rule for the client's site (IANA zone), and requests carrying a
#           Calling-Station-Id from 10,000 MACs (10,000 computers, registered in the
#           warm-up); FreeRADIUS runs the equivalent configuration (huntgroup, users-file
#           reply items, Login-Time). Both servers' replies are checked with radclient
#           before measuring. Compare with ssha from the same run.
# Every scenario runs each server --rounds times (default 5), alternating
# (G F, F G, G F, ...), round by round (each round runs every scenario), each run on a
# freshly started server: warm-up, then the measured load with the same concurrency and
# request count for both. Idle RSS is read after each start (10,000 users loaded) and RSS
# after the load.
#
# --quick: small counts and one round, to check that everything works.
# --concurrency N: requests kept outstanding by the load generator (default 64).
# --name NAME: write bench-out/NAME.md and bench-out/NAME/ instead of bench-out/results*,
#   e.g. for a side experiment that must not replace the main results. GATEHOUSE_*
#   environment variables reach gatehoused as configuration overrides (for example
#   GATEHOUSE_AUTH__HASH_WORKERS=3) and are recorded in the report.
# --policy-window: the policy scenario's access hours. week (default): open all week
#   ("Any 00:00-24:00"; FreeRADIUS "Al0000-2400"), no Session-Timeout. today: the whole of
#   the site's current day ("Tue 00:00-24:00"; "Tu0000-2400"), so both servers work out
#   the time left and send Session-Timeout; the run must end before the site's midnight.
#
# Output: bench-out/results.md (tables, medians, ratios, targets) and the raw JSON of
# every run in bench-out/results/. Users are generated once and cached in
# bench-out/users/. Everything listens on 127.0.0.1 only; servers are stopped on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
out="$root/bench-out"
# cargo's target directory: CARGO_TARGET_DIR if set (relative to the repository), else target/.
bin="$(cd "$root" && realpath -m "${CARGO_TARGET_DIR:-target}")/release"
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
	sed -n '2,39p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

quick=0 rounds="" scenario_arg="crypt,ssha,status,acct,policy" concurrency=64 name=results
policy_window=week
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
	--policy-window)
		[[ $# -ge 2 && ("$2" == week || "$2" == today) ]] || die "--policy-window needs week or today"
		policy_window="$2"; shift 2 ;;
	--concurrency)
		[[ $# -ge 2 && "$2" =~ ^[1-9][0-9]{0,3}$ ]] || die "--concurrency needs a number 1..9999"
		concurrency="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
IFS=, read -r -a scenarios <<<"$scenario_arg"
for s in "${scenarios[@]}"; do
	case "$s" in crypt | ssha | status | acct | policy) ;; *) die "unknown scenario: $s" ;; esac
done

# --- sizes ---------------------------------------------------------------------------------
timeout_ms=2000
if ((quick)); then
	: "${rounds:=1}"
	declare -A requests=([crypt]=600 [ssha]=20000 [status]=20000 [acct]=20000 [policy]=20000)
	# policy: the warm-up registers the computers, so it names every one of them.
	declare -A warmup=([crypt]=100 [ssha]=2000 [status]=2000 [acct]=2000 [policy]=10000)
	hash_iterations=50 quiet_wait=5 quiet_budget=30
else
	: "${rounds:=5}"
	declare -A requests=([crypt]=6000 [ssha]=300000 [status]=400000 [acct]=200000 [policy]=300000)
	declare -A warmup=([crypt]=300 [ssha]=20000 [status]=20000 [acct]=20000 [policy]=20000)
	hash_iterations=300 quiet_wait=15 quiet_budget=150
fi
# Sending stops after this long whatever the count (a hung server cannot hang the run).
max_load_secs=120
# The policy scenario (both servers): what the policies give every user of the bench. The
# VLAN, Filter-Id and Class are the reply both servers must send (checked before each run).
computers=10000
policy_site=office policy_timezone=Europe/Berlin policy_group=staff policy_group_dn="cn=staff,ou=groups,dc=bench"
policy_vlan=120 policy_filter_id=staff policy_class=0x7374616666

site_clock() { # prints the site's weekday (Gatehouse's and FreeRADIUS's spelling) and the seconds to its midnight
	python3 - "$policy_timezone" <<'EOF'
import datetime, sys, zoneinfo
now = datetime.datetime.now(zoneinfo.ZoneInfo(sys.argv[1]))
day = now.weekday()
midnight = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(), now.tzinfo)
print(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][day], ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"][day],
      int((midnight - now).total_seconds()))
EOF
}
if [[ "$policy_window" == week ]]; then
	policy_hours="Any 00:00-24:00" policy_login_time="Al0000-2400"
else
	read -r day_g day_f left < <(site_clock)
	# A full run of ssha and policy takes well under an hour; the window must outlast it.
	((left >= 2 * 3600)) || die "--policy-window today: the site's day ($policy_timezone) ends in $((left / 60)) minutes; use week or wait"
	policy_hours="$day_g 00:00-24:00" policy_login_time="${day_f}0000-2400"
fi
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
if [[ ",$scenario_arg," == *,policy,* ]]; then
	command -v sqlite3 >/dev/null || die "sqlite3 not found (apt-get install -y sqlite3): the policy scenario writes users' groups with it"
fi
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
gh_config() { # gh_config DIR AUTH_PORT ACCT_PORT [policy] -> DIR/gatehouse.toml
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
	# The policy scenario registers its 10,000 computers in the warm-up from one client:
	# the per-client registration rate (100/s by default) must not hold them back.
	if [[ "${4:-}" == policy ]]; then
		cat >>"$1/gatehouse.toml" <<EOF

[policy]
computer_registrations_per_second = 1000000
EOF
	fi
}

gh_pid="" gh_auth="" gh_acct=""
gh_start() { # gh_start DIR [policy]  (DIR/state may already hold a database)
	local dir="$1" ports
	ports="$(free_udp_ports)"
	read -r gh_auth gh_acct <<<"$ports"
	mkdir -p "$dir/state"
	gh_config "$dir" "$gh_auth" "$gh_acct" "${2:-}"
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

# The policy template: the ssha template's client and users, every user in the group
# staff, and the policies. Local users get groups from no command: the group list is
# written straight into the store (user.groups, a JSON array of group DNs), before the
# daemon starts. It stands in for the groups a directory sync gives its users (who would
# sign in by LDAP bind rather than {SSHA}); what the request path reads is the same.
gh_template_policy() {
	local dir="$work/gh-template-policy" ctl groups
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -a "$work/gh-template-ssha/state" "$dir/state"
	say "Gatehouse: policy template (group $policy_group_dn for every user, site, policies, rule)"
	groups="$(python3 -c 'import json, sys; print(json.dumps([sys.argv[1]]))' "$policy_group_dn")"
	sqlite3 "$dir/state/gatehouse.db" "UPDATE user SET groups = '$groups' WHERE domain = 'local';"
	[[ "$(sqlite3 "$dir/state/gatehouse.db" "SELECT count(*) FROM user WHERE groups = '$groups';")" == 10000 ]] ||
		die "policy template: not every user got the group"
	gh_start "$dir" policy
	ctl=("$ctl_bin" --socket "$dir/admin.sock")
	{
		"${ctl[@]}" site add "$policy_site" --timezone "$policy_timezone"
		"${ctl[@]}" client edit bench --site "$policy_site"
		"${ctl[@]}" user-policy create staff --reply "Filter-Id=$policy_filter_id" --reply "Class=$policy_class"
		"${ctl[@]}" user-policy assign staff --group "local\\$policy_group"
		"${ctl[@]}" computer-policy create office --vlan "$policy_vlan" --hours "$policy_hours"
		"${ctl[@]}" computer-rule add office --policy office --site "$policy_site"
	} >"$dir/setup.log" 2>&1 || { cat "$dir/setup.log" >&2; die "policy template: setup failed"; }
	stop_pid "$gh_pid"
}

# policy_reply_check SERVER PORT TAG: one Access-Request with radclient (the first user,
# the pool's first MAC); the reply must be an Access-Accept with exactly the attributes
# the policies give (Message-Authenticator aside: FreeRADIUS 3.2.1 sends none). Fails
# the whole run loudly otherwise.
policy_reply_check() {
	local server="$1" port="$2" tag="$3" user pw want got
	user="$(head -n 1 "$out/users/ssha.passwords" | cut -d: -f1)"
	pw="$(head -n 1 "$out/users/ssha.passwords" | cut -d: -f2-)"
	want="$(printf '%s\n' "Class = $policy_class" "Filter-Id = \"$policy_filter_id\"" \
		"Tunnel-Medium-Type:0 = IEEE-802" "Tunnel-Private-Group-Id:0 = \"$policy_vlan\"" \
		"Tunnel-Type:0 = VLAN" | LC_ALL=C sort)"
	# The password goes to radclient on stdin, never in argv; radclient -x echoes it, and
	# that line stays out of the saved output.
	printf 'User-Name = "%s"\nUser-Password = "%s"\nNAS-IP-Address = 127.0.0.1\nCalling-Station-Id = "00-10-A4-00-00-00"\nMessage-Authenticator = 0x00\n' \
		"$user" "$pw" |
		{ radclient -x -r 1 -t 3 -S "$secret_file" "127.0.0.1:$port" auth 2>&1 || true; } |
		grep -v -e '-Password = ' >"$results/$tag.radclient.txt" || true
	got="$(awk '/^Received Access-Accept/ { on = 1; next } /^[^\t]/ { on = 0 } on' "$results/$tag.radclient.txt" |
		sed 's/^[[:space:]]*//' | grep -v '^Message-Authenticator = ' | LC_ALL=C sort || true)"
	if [[ "$policy_window" == today ]]; then
		# Both servers cap the session at the window's end (the site's midnight): the
		# seconds left, give or take the minute FreeRADIUS counts in whole.
		local st left
		st="$(sed -n 's/^Session-Timeout = \([0-9]\{1,9\}\)$/\1/p' <<<"$got")"
		read -r _ _ left < <(site_clock)
		if [[ -n "$st" ]] && ((st > 0 && st >= left - 120 && st <= left + 120)); then
			got="$(sed 's/^Session-Timeout = .*/Session-Timeout = (until midnight)/' <<<"$got" | LC_ALL=C sort)"
		fi
		want="$(printf '%s\n%s\n' "$want" "Session-Timeout = (until midnight)" | LC_ALL=C sort)"
	fi
	if [[ "$got" != "$want" ]]; then
		{
			echo "policy: $server's reply is not the policies' reply"
			echo "--- expected (Access-Accept):"
			echo "$want"
			echo "--- radclient ($results/$tag.radclient.txt):"
			cat "$results/$tag.radclient.txt"
		} >&2
		die "policy: reply check failed for $server"
	fi
	printf '%s\n' "$got" >"$results/$tag.reply.txt"
	say "$tag: reply checked ($(tr '\n' ';' <<<"$got" | sed 's/;$//; s/;/; /g'))"
}

# --- FreeRADIUS ----------------------------------------------------------------------------------
fr_pid="" fr_auth="" fr_acct=""
fr_start() { # fr_start DIR MODE [EXTRA_ARGS...]
	local ports dir="$1" mode="$2"
	shift 2
	ports="$(free_udp_ports)"
	read -r fr_auth fr_acct <<<"$ports"
	fr_pid="$("$fr_start" --dir "$dir" --auth-port "$fr_auth" --acct-port "$fr_acct" \
		--secret-file "$secret_file" --users "$out/users/$mode.users" --mode "$mode" "$@" 2>"$dir.start.log" 9>&-)" ||
		{ cat "$dir.start.log" >&2; die "FreeRADIUS did not start"; }
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
	local scenario="$1" server="$2" round="$3" users_mode template pid port dir tag
	local -a load_args fr_args=()
	tag="$scenario.$server.$round"
	dir="$work/$tag"
	case "$scenario" in
	crypt) users_mode=crypt load_args=(--mode pap --users "$out/users/crypt.passwords") ;;
	ssha) users_mode=ssha load_args=(--mode pap --users "$out/users/ssha.passwords") ;;
	status) users_mode=ssha load_args=(--mode status) ;;
	acct) users_mode=ssha load_args=(--mode acct --users "$out/users/ssha.passwords") ;;
	policy)
		users_mode=ssha
		load_args=(--mode pap --users "$out/users/ssha.passwords" --calling-station-ids "$computers")
		fr_args=(--policy --vlan "$policy_vlan" --filter-id "$policy_filter_id" --class "$policy_class"
			--login-time "$policy_login_time" --timezone "$policy_timezone")
		;;
	esac
	template=$users_mode
	[[ "$scenario" != policy ]] || template=policy
	mkdir -p "$dir"
	if [[ "$server" == gatehouse ]]; then
		cp -a "$work/gh-template-$template/state" "$dir/state"
		if [[ "$scenario" == policy ]]; then gh_start "$dir" policy; else gh_start "$dir"; fi
		pid=$gh_pid port=$gh_auth
		[[ "$scenario" != acct ]] || port=$gh_acct
	else
		fr_start "$dir/fr" "$users_mode" "${fr_args[@]}"
		pid=$fr_pid port=$fr_auth
		[[ "$scenario" != acct ]] || port=$fr_acct
	fi
	sleep 1
	"$bench_bin" rss --pid "$pid" --json >"$results/$tag.idle.json"
	[[ "$scenario" != policy ]] || policy_reply_check "$server" "$port" "$tag"
	load_args+=(--server "127.0.0.1:$port" --secret-file "$secret_file"
		--concurrency "$concurrency" --timeout-ms "$timeout_ms" --duration-secs "$max_load_secs")
	"$bench_bin" load "${load_args[@]}" --requests "${warmup[$scenario]}" --json >"$results/$tag.warmup.json"
	if [[ "$scenario/$server" == policy/gatehouse ]]; then
		# The warm-up named every MAC of the pool: each must be a registered computer now.
		local total
		total="$("$ctl_bin" --socket "$dir/admin.sock" --json computer list --limit 1 |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["total"])')"
		echo "$total" >"$results/$tag.computers"
		((total == computers)) || die "policy: $total computers registered after the warm-up, not $computers"
		say "$tag: $total computers registered"
	fi
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
	if [[ " ${scenarios[*]} " == *" policy "* ]]; then
		echo "policy=computers $computers, site $policy_site ($policy_timezone), group $policy_group_dn, VLAN $policy_vlan, Filter-Id $policy_filter_id, Class $policy_class; window $policy_window: hours '$policy_hours' (FreeRADIUS Login-Time $policy_login_time, TZ $policy_timezone)"
	fi
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
[[ " ${scenarios[*]} " != *" policy "* ]] || gh_template_policy

# Round by round, every scenario in each round: a drift of the machine's speed over the
# run then weighs on all scenarios alike, which matters to ratios between scenarios
# (policy against ssha).
for s in "${scenarios[@]}"; do
	say "$s: ${requests[$s]} requests, concurrency $concurrency, $rounds round(s) per server"
done
for ((r = 1; r <= rounds; r++)); do
	if ((r % 2)); then order=(gatehouse freeradius); else order=(freeradius gatehouse); fi
	for scenario in "${scenarios[@]}"; do
		say "=== round $r of $rounds: $scenario"
		for server in "${order[@]}"; do
			run_one "$scenario" "$server" "$r"
		done
	done
done

python3 "$here/report.py" --results "$results" --out "$out/$name.md"
say "done in $((SECONDS - started)) s: $out/$name.md"
