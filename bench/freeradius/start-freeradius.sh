#!/usr/bin/env bash
# Start a throw-away FreeRADIUS 3.2 (Debian "freeradius" binary) for the
# Gatehouse comparison benchmark.
#
#   start-freeradius.sh --dir DIR --auth-port P --acct-port Q \
#       --secret-file F --users FILE --mode crypt|ssha \
#       [--threads N] [--reject-delay S] [--max-requests N] [--timeout S] \
#       [--policy --vlan ID --filter-id TEXT --class 0xHEX \
#        [--login-time TEXT] [--timezone ZONE]]
#
# Writes DIR/raddb/{radiusd.conf,clients.conf,users}, starts
# `freeradius -f -d DIR/raddb` in the background (foreground mode, no -X,
# log to DIR/log/radius.log, stdout/stderr to DIR/freeradius.out), waits until
# both listeners answer Status-Server (radclient), prints the PID on stdout
# and exits 0.  On failure prints a message (and the server log) on stderr,
# kills the server if it started it, and exits non-zero.
#
# The caller stops the server with `kill PID`.
#
# --users FILE: lines "username:hash"; hash is a crypt(3) string
#   ("$6$rounds=5000$salt$..." or "$6$salt$...") in crypt mode, or
#   "{SSHA}base64(sha1(pw+salt)+salt)" in ssha mode.  Blank lines and lines
#   starting with '#' are ignored.
# --threads N: fixed pool of N worker threads (start = max = N).  Default is
#   the stock FreeRADIUS pool (start 5, max 32, spare 3..10).
# --reject-delay S: security.reject_delay (default 0; stock FreeRADIUS is 1).
# --max-requests N: max_requests (default 262144; stock is 16384).
# --timeout S: how long to wait for Status-Server answers (default 30).
# --policy: the configuration an operator writes for the policy benchmark
#   (README.md, "Policies"): the client 127.0.0.1 in the huntgroup "office"
#   (rlm_preprocess, DIR/raddb/huntgroups); every user in the group "staff",
#   whose reply items (Filter-Id = TEXT, Class = 0xHEX) are in each user's
#   entry, which falls through to
#     DEFAULT Huntgroup-Name == "office", Login-Time := "Al0000-2400"
#   with the VLAN (Tunnel-Type = VLAN, Tunnel-Medium-Type = IEEE-802,
#   Tunnel-Private-Group-Id = ID, tag 0); rlm_logintime checks Login-Time.
#   --vlan, --filter-id and --class are required with it.
# --login-time TEXT: the DEFAULT entry's Login-Time (default Al0000-2400).
# --timezone ZONE: TZ for the server, so that Login-Time is read in the
#   site's time zone as Gatehouse reads its access hours (default: unset).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
templates="$here/templates"

die() {
	printf 'start-freeradius: %s\n' "$*" >&2
	exit 1
}

usage() {
	sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

dir="" auth_port="" acct_port="" secret_file="" users="" mode=""
threads="" reject_delay=0 max_requests=262144 timeout=30
policy=0 vlan="" filter_id="" class="" login_time="" timezone=""

need_arg() {
	[[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"
}

while [[ $# -gt 0 ]]; do
	case "$1" in
	--dir) need_arg "$@"; dir="$2"; shift 2 ;;
	--auth-port) need_arg "$@"; auth_port="$2"; shift 2 ;;
	--acct-port) need_arg "$@"; acct_port="$2"; shift 2 ;;
	--secret-file) need_arg "$@"; secret_file="$2"; shift 2 ;;
	--users) need_arg "$@"; users="$2"; shift 2 ;;
	--mode) need_arg "$@"; mode="$2"; shift 2 ;;
	--threads) need_arg "$@"; threads="$2"; shift 2 ;;
	--reject-delay) need_arg "$@"; reject_delay="$2"; shift 2 ;;
	--max-requests) need_arg "$@"; max_requests="$2"; shift 2 ;;
	--timeout) need_arg "$@"; timeout="$2"; shift 2 ;;
	--policy) policy=1; shift ;;
	--vlan) need_arg "$@"; vlan="$2"; shift 2 ;;
	--filter-id) need_arg "$@"; filter_id="$2"; shift 2 ;;
	--class) need_arg "$@"; class="$2"; shift 2 ;;
	--login-time) need_arg "$@"; login_time="$2"; shift 2 ;;
	--timezone) need_arg "$@"; timezone="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

[[ -n "$dir" ]] || die "--dir is required"
[[ -n "$auth_port" ]] || die "--auth-port is required"
[[ -n "$acct_port" ]] || die "--acct-port is required"
[[ -n "$secret_file" ]] || die "--secret-file is required"
[[ -n "$users" ]] || die "--users is required"
[[ -n "$mode" ]] || die "--mode is required"

check_uint() { # check_uint NAME VALUE MIN MAX
	if ! [[ "$2" =~ ^[0-9]{1,10}$ ]] || ((10#$2 < $3 || 10#$2 > $4)); then
		die "bad $1: '$2' (expected an integer in $3..$4)"
	fi
}
check_uint --auth-port "$auth_port" 1 65535
check_uint --acct-port "$acct_port" 1 65535
auth_port=$((10#$auth_port)) acct_port=$((10#$acct_port))
[[ "$auth_port" != "$acct_port" ]] || die "--auth-port and --acct-port must differ"
case "$mode" in crypt | ssha) ;; *) die "--mode must be crypt or ssha, not '$mode'" ;; esac
if [[ -n "$threads" ]]; then
	check_uint --threads "$threads" 1 256
	threads=$((10#$threads))
fi
check_uint --reject-delay "$reject_delay" 0 5
check_uint --max-requests "$max_requests" 256 16777216
check_uint --timeout "$timeout" 1 3600
reject_delay=$((10#$reject_delay)) max_requests=$((10#$max_requests)) timeout=$((10#$timeout))
if ((policy)); then
	check_uint --vlan "$vlan" 1 4094
	vlan=$((10#$vlan))
	# Written into double-quoted users-file strings: keep them free of quoting.
	[[ "$filter_id" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "--filter-id must match [A-Za-z0-9._-]{1,64}"
	[[ "$class" =~ ^0x([0-9A-Fa-f]{2}){1,64}$ ]] || die "--class must be 0x followed by 1..64 hex octets"
	: "${login_time:=Al0000-2400}"
	[[ "$login_time" =~ ^[A-Za-z0-9,|-]{1,64}$ ]] || die "--login-time must match [A-Za-z0-9,|-]{1,64} (e.g. Wk0700-1900,Sa0800-1200)"
	if [[ -n "$timezone" ]]; then
		[[ "$timezone" =~ ^[A-Za-z0-9/_+-]{1,64}$ && -f "/usr/share/zoneinfo/$timezone" ]] ||
			die "--timezone: no such zone in /usr/share/zoneinfo: $timezone"
	fi
elif [[ -n "$vlan$filter_id$class$login_time$timezone" ]]; then
	die "--vlan, --filter-id, --class, --login-time and --timezone go with --policy"
fi

fr_bin="${FREERADIUS_BIN:-$(command -v freeradius || true)}"
[[ -n "$fr_bin" && -x "$fr_bin" ]] || die "freeradius binary not found (apt-get install -y freeradius freeradius-utils)"
radclient="$(command -v radclient || true)"
[[ -n "$radclient" ]] || die "radclient not found (apt-get install -y freeradius-utils)"
[[ -r "$secret_file" ]] || die "cannot read secret file: $secret_file"
[[ -r "$users" ]] || die "cannot read users file: $users"
for t in radiusd.conf.in clients.conf.in; do
	[[ -r "$templates/$t" ]] || die "missing template: $templates/$t"
done

# Secret: first line of the file, without trailing CR/LF.
secret="$(head -n 1 -- "$secret_file" | tr -d '\r\n')"
[[ -n "$secret" ]] || die "secret file is empty: $secret_file"
# It goes into a single-quoted config string: keep it to printable ASCII
# without quotes, backslash, '$' or whitespace (no escaping ambiguity).
if [[ "$secret" =~ [^[:graph:]] || "$secret" == *[\'\"\\\$]* ]]; then
	die "secret contains unsupported characters (allowed: printable ASCII except quotes, backslash, \$ and whitespace)"
fi

# --- directory layout --------------------------------------------------------
mkdir -p -- "$dir"
dir="$(cd -- "$dir" && pwd)"
# The path is written unquoted into radiusd.conf: keep it simple.
[[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] || die "--dir path must match [A-Za-z0-9._/+-]+: $dir"
chmod 700 "$dir"
raddb="$dir/raddb"
if [[ -e "$raddb" ]]; then
	[[ -f "$raddb/.gatehouse-bench" ]] || die "$raddb exists and was not created by this script; refusing to overwrite"
	rm -rf -- "$raddb"
fi
mkdir -p "$raddb" "$dir/log" "$dir/radacct" "$dir/run"
: >"$raddb/.gatehouse-bench"

# --- config from templates ----------------------------------------------------
if [[ -n "$threads" ]]; then
	start_servers="$threads" max_servers="$threads" min_spare=1 max_spare="$threads"
else
	start_servers=5 max_servers=32 min_spare=3 max_spare=10
fi

# --policy: preprocess (huntgroups) before files, logintime after it. Without it the
# placeholders hold only a comment, and the server is the plain one.
if ((policy)); then
	policy_modules="$(<"$templates/policy-modules.conf.in")"
	policy_authorize_first="preprocess"
	policy_authorize_after_files="logintime"
else
	policy_modules="# (no policy modules: start-freeradius.sh --policy adds preprocess and logintime)"
	policy_authorize_first="# (--policy: preprocess)"
	policy_authorize_after_files="# (--policy: logintime)"
fi

render() { # render TEMPLATE OUT
	local text
	text="$(<"$1")"
	text="${text//@DIR@/$dir}"
	text="${text//@AUTH_PORT@/$auth_port}"
	text="${text//@ACCT_PORT@/$acct_port}"
	text="${text//@START_SERVERS@/$start_servers}"
	text="${text//@MAX_SERVERS@/$max_servers}"
	text="${text//@MIN_SPARE@/$min_spare}"
	text="${text//@MAX_SPARE@/$max_spare}"
	text="${text//@REJECT_DELAY@/$reject_delay}"
	text="${text//@MAX_REQUESTS@/$max_requests}"
	text="${text//@SECRET@/$secret}"
	text="${text//@POLICY_MODULES@/$policy_modules}"
	text="${text//@POLICY_AUTHORIZE_FIRST@/$policy_authorize_first}"
	text="${text//@POLICY_AUTHORIZE_AFTER_FILES@/$policy_authorize_after_files}"
	(umask 077 && printf '%s\n' "$text" >"$2")
}
render "$templates/radiusd.conf.in" "$raddb/radiusd.conf"
render "$templates/clients.conf.in" "$raddb/clients.conf"

# rlm_files "users" file.  One entry per user, check items only:
#   crypt: "name"  Crypt-Password := '$6$...'
#   ssha:  "name"  Password-With-Header := '{SSHA}base64'
# Single-quoted values are never expanded by FreeRADIUS.  (SSHA-Password is
# an "octets" attribute: a base64 value that happens to start with "0x" is
# parsed as hex and fails, so the string-typed Password-With-Header is used;
# rlm_pap turns it into SSHA-Password per request, like an LDAP userPassword.)
awk_status=0
#
# --policy adds, to every user's entry, the reply items of the group "staff" and
# Fall-Through = Yes, so that the DEFAULT entry written after the users (the
# huntgroup's access hours and VLAN) applies too:
#   "name"  Password-With-Header := '{SSHA}base64'
#           Filter-Id = "staff",
#           Class = 0x...,
#           Fall-Through = Yes
LC_ALL=C awk -v mode="$mode" -v out="$raddb/users" -v policy="$policy" \
	-v filter_id="$filter_id" -v class="$class" '
	BEGIN { n = 0; bad = 0 }
	/^[ \t]*(#|$)/ { next }
	{
		sub(/\r$/, "")
		i = index($0, ":")
		if (i < 2) { printf "line %d: expected username:hash\n", NR > "/dev/stderr"; bad++; next }
		user = substr($0, 1, i - 1); hash = substr($0, i + 1)
		if (user !~ /^[A-Za-z0-9._@+-]+$/) {
			printf "line %d: unsupported username %s\n", NR, user > "/dev/stderr"; bad++; next
		}
		if (mode == "crypt") {
			if (hash !~ /^\$[0-9a-z]+\$[A-Za-z0-9.\/=$]+$/) {
				printf "line %d: not a crypt(3) hash (crypt mode)\n", NR > "/dev/stderr"; bad++; next
			}
			printf "\"%s\"\tCrypt-Password := \047%s\047\n", user, hash > out
		} else {
			if (hash !~ /^\{SSHA\}[A-Za-z0-9+\/]+=*$/) {
				printf "line %d: not an {SSHA} hash (ssha mode)\n", NR > "/dev/stderr"; bad++; next
			}
			printf "\"%s\"\tPassword-With-Header := \047%s\047\n", user, hash > out
		}
		if (policy) {
			printf "\tFilter-Id = \"%s\",\n\tClass = %s,\n\tFall-Through = Yes\n", filter_id, class > out
		}
		printf "\n" > out
		n++
	}
	END {
		if (bad > 0) exit 3
		if (n == 0) exit 4
		printf "%d\n", n > "/dev/stderr"
	}
' "$users" 2>"$dir/users.gen.log" || awk_status=$?
case "$awk_status" in
0) ;;
3) head -n 5 "$dir/users.gen.log" >&2; die "users file $users has malformed lines for --mode $mode" ;;
4) die "users file $users has no users" ;;
*) cat "$dir/users.gen.log" >&2; die "failed to generate the rlm_files users file" ;;
esac
nusers="$(tail -n 1 "$dir/users.gen.log")"

if ((policy)); then
	# Last in the file: rlm_files walks a user's own entries and the DEFAULT entries
	# in file order, and each user's entry falls through to this one.
	cat >>"$raddb/users" <<EOF
# The huntgroup "office" (huntgroups): its access hours (rlm_logintime), on VLAN $vlan.
DEFAULT	Huntgroup-Name == "office", Login-Time := "$login_time"
	Tunnel-Type:0 = VLAN,
	Tunnel-Medium-Type:0 = IEEE-802,
	Tunnel-Private-Group-Id:0 = "$vlan"
EOF
	# rlm_preprocess: the one client is the huntgroup "office"; no hints.
	printf '# The benchmark client is the huntgroup "office".\noffice\tNAS-IP-Address == 127.0.0.1\n' \
		>"$raddb/huntgroups"
	printf '# No hints.\n' >"$raddb/hints"
fi

# --- config check ---------------------------------------------------------------
# (-C logs to the configured log file, so show both on failure.)
if ! "$fr_bin" -C -d "$raddb" >"$dir/config-check.out" 2>&1; then
	tail -n 20 "$dir/config-check.out" "$dir/log/radius.log" >&2 2>/dev/null || true
	die "freeradius -C rejected the generated config in $raddb"
fi

# --- start ------------------------------------------------------------------------
# -f: stay in the foreground (we background it ourselves, so $! is the server).
# No -X / -x: normal (quiet) logging to $dir/log/radius.log.
# stdin/stdout/stderr detached so a caller's $(...) does not wait for it.
# --timezone: TZ for the server only (rlm_logintime reads the local time).
if [[ -n "$timezone" ]]; then
	TZ="$timezone" "$fr_bin" -f -d "$raddb" </dev/null >"$dir/freeradius.out" 2>&1 &
else
	"$fr_bin" -f -d "$raddb" </dev/null >"$dir/freeradius.out" 2>&1 &
fi
pid=$!

fail_started() {
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	{
		echo "--- $dir/freeradius.out:"
		tail -n 20 "$dir/freeradius.out" 2>/dev/null || true
		echo "--- $dir/log/radius.log:"
		tail -n 20 "$dir/log/radius.log" 2>/dev/null || true
	} >&2
	die "$*"
}

status_ok() { # status_ok PORT
	printf 'Message-Authenticator = 0x00\n' |
		"$radclient" -q -r 1 -t 1 -S "$secret_file" "127.0.0.1:$1" status >/dev/null 2>&1
}

deadline=$((SECONDS + timeout))
ready=0
while ((SECONDS < deadline)); do
	kill -0 "$pid" 2>/dev/null || fail_started "freeradius (pid $pid) exited during startup"
	if status_ok "$auth_port" && status_ok "$acct_port"; then
		ready=1
		break
	fi
	sleep 0.2
done
((ready)) || fail_started "freeradius (pid $pid) did not answer Status-Server on 127.0.0.1:$auth_port/$acct_port within ${timeout}s"

printf 'start-freeradius: freeradius %s ready: pid %s, auth 127.0.0.1:%s, acct 127.0.0.1:%s, %s users (%s%s), dir %s\n' \
	"$("$fr_bin" -v 2>/dev/null | sed -n '1s/.*Version \([0-9.]*\).*/\1/p')" \
	"$pid" "$auth_port" "$acct_port" "$nusers" "$mode" "$( ((policy)) && echo ', policy' || true)" "$dir" >&2
echo "$pid"
