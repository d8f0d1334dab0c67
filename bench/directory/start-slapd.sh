#!/usr/bin/env bash
# Start a throw-away OpenLDAP slapd seeded like the test harness (tests/common/slapd.rs),
# for the directory-sync benchmark.
#
#   start-slapd.sh --dir DIR --users N [--port P] [--size-limit N] [--log stats]
#                  [--threads N] [--ldif FILE] [--timeout S]
#
# Writes DIR/seed.ldif (bench/directory/gen-ldif.py, unless --ldif names an existing one),
# DIR/slapd.conf (the harness's configuration: core/cosine/inetorgperson/nis + the
# gatehouse-test schema, back_mdb with dbnosync, memberof overlay, the same indexes and
# ACLs), loads it with `slapadd -q`, starts `slapd -d 0` (foreground, so the PID printed is
# slapd itself; the caller stops it with `kill PID`) listening on ldap://127.0.0.1:P only,
# waits until the root DSE answers, prints the PID on stdout and exits 0. The port (picked
# by the kernel when --port is not given) goes to DIR/port. Timings of the phases go to
# DIR/timings. On failure: the reason and the log tail on stderr, slapd killed, exit 1.
#
# --size-limit N: size.soft=N size.hard=N size.prtotal=unlimited for everyone but the
#   rootdn, like the harness's 50,000-user test (paged searches still return everything).
#   Default: unlimited.
# --log stats: run `slapd -d stats` (as the harness does): every connection and operation
#   logged to DIR/slapd.log. It costs slapd CPU on every bind and search, so the benchmark
#   runs `-d 0` by default (nothing logged but startup errors).
# --threads N: slapd worker threads (default: slapd's own default, 16).
#
# Accounts (as in the harness): rootdn cn=admin,dc=example,dc=com / admin-secret-0123;
# sync account cn=sync,dc=example,dc=com / sync-secret-0123 (reads everything except
# userPassword); users uid=uNNNNN,<ou>,ou=People,dc=example,dc=com / pw-uNNNNN.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
schema="$root/tests/fixtures/ldap/gatehouse-test.schema"

BASE_DN="dc=example,dc=com"
ADMIN_DN="cn=admin,dc=example,dc=com"
ADMIN_PASSWORD="admin-secret-0123"
SYNC_DN="cn=sync,dc=example,dc=com"

die() {
	printf 'start-slapd: %s\n' "$*" >&2
	exit 1
}
usage() {
	sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
need_arg() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"; }

dir="" users="" port="" size_limit="" log="" threads="" ldif="" timeout=60
while [[ $# -gt 0 ]]; do
	case "$1" in
	--dir) need_arg "$@"; dir="$2"; shift 2 ;;
	--users) need_arg "$@"; users="$2"; shift 2 ;;
	--port) need_arg "$@"; port="$2"; shift 2 ;;
	--size-limit) need_arg "$@"; size_limit="$2"; shift 2 ;;
	--log) need_arg "$@"; log="$2"; shift 2 ;;
	--threads) need_arg "$@"; threads="$2"; shift 2 ;;
	--ldif) need_arg "$@"; ldif="$2"; shift 2 ;;
	--timeout) need_arg "$@"; timeout="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
[[ -n "$dir" ]] || die "--dir is required"
[[ "$users" =~ ^[1-9][0-9]{0,6}$ ]] || die "--users needs a number 1..1000000"
[[ -z "$port" || "$port" =~ ^[1-9][0-9]{0,4}$ ]] || die "--port needs a number"
[[ -z "$size_limit" || "$size_limit" =~ ^[1-9][0-9]{0,6}$ ]] || die "--size-limit needs a number"
[[ -z "$log" || "$log" == stats ]] || die "--log takes only 'stats'"
[[ -z "$threads" || "$threads" =~ ^[1-9][0-9]{0,2}$ ]] || die "--threads needs a number"
[[ "$timeout" =~ ^[1-9][0-9]{0,3}$ ]] || die "--timeout needs a number of seconds"
[[ -r "$schema" ]] || die "missing $schema"
slapd_bin=/usr/sbin/slapd slapadd_bin=/usr/sbin/slapadd
[[ -x "$slapd_bin" && -x "$slapadd_bin" ]] || die "slapd not installed (apt-get install -y slapd ldap-utils)"
command -v ldapsearch >/dev/null || die "ldapsearch not found (apt-get install -y ldap-utils)"

mkdir -p -- "$dir"
dir="$(cd -- "$dir" && pwd)"
[[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] || die "--dir path must match [A-Za-z0-9._/+-]+: $dir"
[[ ! -e "$dir/db" ]] || die "$dir/db exists: use a fresh --dir"
mkdir -p "$dir/db"

now() { date +%s.%N; }
t0=$(now)
if [[ -n "$ldif" ]]; then
	[[ -r "$ldif" ]] || die "cannot read $ldif"
else
	ldif="$dir/seed.ldif"
	python3 "$here/gen-ldif.py" --users "$users" --out "$ldif"
fi
t1=$(now)

{
	for s in core cosine inetorgperson nis; do
		echo "include /etc/ldap/schema/$s.schema"
	done
	echo "include \"$schema\""
	echo "pidfile \"$dir/slapd.pid\""
	echo "argsfile \"$dir/slapd.args\""
	echo "modulepath /usr/lib/ldap"
	echo "moduleload back_mdb"
	echo "moduleload memberof"
	echo "password-hash {SSHA}"
	echo "tool-threads 2"
	[[ -z "$threads" ]] || echo "threads $threads"
	echo 'access to dn.base="" by * read'
	echo 'access to dn.base="cn=Subschema" by * read'
	echo
	echo "database mdb"
	echo "suffix \"$BASE_DN\""
	echo "rootdn \"$ADMIN_DN\""
	echo "rootpw $ADMIN_PASSWORD"
	echo "directory \"$dir/db\""
	echo "maxsize 1073741824"
	echo "dbnosync"
	echo "index objectClass eq"
	echo "index uid,mail,cn eq"
	echo "index member,memberOf eq"
	echo "index entryUUID eq"
	if [[ -n "$size_limit" ]]; then
		echo "sizelimit size.soft=$size_limit size.hard=$size_limit size.prtotal=unlimited"
	else
		echo "sizelimit unlimited"
	fi
	printf 'access to attrs=userPassword\n\tby self =xw\n\tby anonymous auth\n\tby * none\n'
	printf 'access to *\n\tby dn.exact="%s" read\n\tby self read\n\tby anonymous auth\n\tby * none\n' "$SYNC_DN"
	echo "overlay memberof"
	echo "memberof-refint TRUE"
} >"$dir/slapd.conf"

"$slapadd_bin" -q -f "$dir/slapd.conf" -l "$ldif" >"$dir/slapadd.log" 2>&1 ||
	{ tail -n 20 "$dir/slapadd.log" >&2; die "slapadd failed"; }
t2=$(now)

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pid=""
cleanup_failed() {
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		sleep 0.5
		kill -KILL "$pid" 2>/dev/null || true
	fi
}
trap 'cleanup_failed' ERR INT TERM

fixed_port="$port"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[[ -n "$fixed_port" ]] || port="$(free_port)"
	# -d: stay in the foreground (so $! is slapd); 0 = no per-operation output, stats =
	# every connection and operation on stderr (into DIR/slapd.log), as the harness runs.
	"$slapd_bin" -f "$dir/slapd.conf" -h "ldap://127.0.0.1:$port/" -d "${log:-0}" \
		</dev/null >>"$dir/slapd.log" 2>&1 &
	pid=$!
	deadline=$((SECONDS + timeout))
	up=0
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		if ldapsearch -x -LLL -o nettimeout=2 -H "ldap://127.0.0.1:$port" -b "" -s base namingContexts \
			>/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.05
	done
	if ((up)); then
		break
	fi
	if kill -0 "$pid" 2>/dev/null; then
		cleanup_failed
		tail -n 20 "$dir/slapd.log" >&2
		die "slapd (pid $pid) not answering after ${timeout}s"
	fi
	wait "$pid" 2>/dev/null || true
	if grep -q "Address already in use" "$dir/slapd.log" && [[ -z "$fixed_port" ]]; then
		pid=""
		continue
	fi
	tail -n 20 "$dir/slapd.log" >&2
	pid=""
	die "slapd exited during startup"
done
[[ -n "$pid" ]] || die "slapd: no free port after 10 tries"
t3=$(now)
trap - ERR INT TERM

echo "$port" >"$dir/port"
python3 - "$t0" "$t1" "$t2" "$t3" "$users" >"$dir/timings" <<'EOF'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
print(f"users={sys.argv[5]} generate_s={t1 - t0:.2f} slapadd_s={t2 - t1:.2f} start_s={t3 - t2:.2f}")
EOF
printf 'start-slapd: slapd ready: pid %s, ldap://127.0.0.1:%s, %s users, dir %s (%s)\n' \
	"$pid" "$port" "$users" "$dir" "$(cat "$dir/timings")" >&2
echo "$pid"
