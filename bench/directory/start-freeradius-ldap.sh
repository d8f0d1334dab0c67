#!/usr/bin/env bash
# Start a throw-away FreeRADIUS 3.2 with rlm_ldap doing pass-through PAP ("bind as user")
# against a directory, for the Gatehouse directory benchmark.
#
#   start-freeradius-ldap.sh --dir DIR --auth-port P --secret-file F \
#       --ldap-url ldap://127.0.0.1:PORT --bind-dn DN --bind-password-file F \
#       --base-dn DN [--domain CORP] [--pool N] [--threads N] [--timeout S]
#
# Writes DIR/raddb/{radiusd.conf,clients.conf}, starts `freeradius -f -d DIR/raddb` in the
# background (no -X; log in DIR/log/radius.log, stdout/stderr in DIR/freeradius.out),
# waits until the auth port answers Status-Server, prints the PID on stdout and exits 0.
# On failure: the reason and the log tail on stderr, the server killed, exit 1. Stop it
# with `kill PID` (not the caller's child: poll `kill -0 PID`).
#
# Per Access-Request the server does what the rlm_ldap documentation
# (mods-available/ldap) prescribes for directories that do not hand out passwords:
#   authorize:    User-Name "uid@DOMAIN" -> Stripped-User-Name "uid" (unlang regex; any
#                 other form is rejected), then `ldap`: search ou=People (scope sub) for
#                 (uid=<Stripped-User-Name>) bound as the sync account, which sets
#                 LDAP-UserDn; userPassword is not readable by the sync account (ACL) and
#                 no `update` maps it, so no "known good" password exists and nothing is
#                 cached; then control:Auth-Type := ldap.
#   authenticate: Auth-Type LDAP { ldap }: a simple bind as LDAP-UserDn with the
#                 User-Password. rlm_ldap marks that connection "rebound", so the next
#                 search on it first binds as the sync account again.
# Pool: --pool N connections (start = min = max = N, default 8, like Gatehouse's
#   bind_pool_size) shared by searches and user binds (rlm_ldap 3.2 has one pool).
#   rlm_ldap does not wait for a free connection (a thread finding none fails the request
#   with "No connections available and at max connection limit"), so the worker pool is
#   fixed at --threads N (default = --pool) to match.
# Clients: 127.0.0.1 with the secret from --secret-file, require_message_authenticator =
#   yes (like Gatehouse). reject_delay = 0, no per-request logging, no proxying.
set -euo pipefail

die() {
	printf 'start-freeradius-ldap: %s\n' "$*" >&2
	exit 1
}
usage() {
	sed -n '2,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
need_arg() { [[ $# -ge 2 && -n "$2" ]] || die "option $1 needs a value"; }

dir="" auth_port="" secret_file="" ldap_url="" bind_dn="" bind_pw_file="" base_dn=""
domain=CORP pool=8 threads="" timeout=30
while [[ $# -gt 0 ]]; do
	case "$1" in
	--dir) need_arg "$@"; dir="$2"; shift 2 ;;
	--auth-port) need_arg "$@"; auth_port="$2"; shift 2 ;;
	--secret-file) need_arg "$@"; secret_file="$2"; shift 2 ;;
	--ldap-url) need_arg "$@"; ldap_url="$2"; shift 2 ;;
	--bind-dn) need_arg "$@"; bind_dn="$2"; shift 2 ;;
	--bind-password-file) need_arg "$@"; bind_pw_file="$2"; shift 2 ;;
	--base-dn) need_arg "$@"; base_dn="$2"; shift 2 ;;
	--domain) need_arg "$@"; domain="$2"; shift 2 ;;
	--pool) need_arg "$@"; pool="$2"; shift 2 ;;
	--threads) need_arg "$@"; threads="$2"; shift 2 ;;
	--timeout) need_arg "$@"; timeout="$2"; shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done
for v in dir auth_port secret_file ldap_url bind_dn bind_pw_file base_dn; do
	[[ -n "${!v}" ]] || die "--${v//_/-} is required"
done
[[ "$auth_port" =~ ^[1-9][0-9]{0,4}$ ]] || die "bad --auth-port"
[[ "$pool" =~ ^[1-9][0-9]{0,2}$ ]] || die "--pool needs a number 1..999"
: "${threads:=$pool}"
[[ "$threads" =~ ^[1-9][0-9]{0,2}$ ]] || die "--threads needs a number 1..999"
[[ "$timeout" =~ ^[1-9][0-9]{0,3}$ ]] || die "bad --timeout"
[[ "$domain" =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "--domain: letters, digits, . _ -"
[[ "$ldap_url" =~ ^ldaps?://[A-Za-z0-9.:-]+/?$ ]] || die "bad --ldap-url: $ldap_url"
# DNs and secrets go into single-quoted config strings: no quotes, backslashes, '$'.
for v in bind_dn base_dn; do
	[[ "${!v}" =~ ^[A-Za-z0-9=,\ ._-]+$ ]] || die "--${v//_/-} has unsupported characters"
done
fr_bin="${FREERADIUS_BIN:-$(command -v freeradius || true)}"
[[ -n "$fr_bin" && -x "$fr_bin" ]] || die "freeradius not found (apt-get install -y freeradius)"
[[ -e /usr/lib/freeradius/rlm_ldap.so ]] || die "rlm_ldap not installed (apt-get install -y freeradius-ldap)"
radclient="$(command -v radclient || true)"
[[ -n "$radclient" ]] || die "radclient not found (apt-get install -y freeradius-utils)"
secret="$(head -n 1 -- "$secret_file" | tr -d '\r\n')"
bind_pw="$(head -n 1 -- "$bind_pw_file" | tr -d '\r\n')"
for v in secret bind_pw; do
	[[ -n "${!v}" ]] || die "$v file is empty"
	if [[ "${!v}" =~ [^[:graph:]] || "${!v}" == *[\'\"\\\$]* ]]; then
		die "$v contains unsupported characters (printable ASCII except quotes, backslash, \$, space)"
	fi
done

mkdir -p -- "$dir"
dir="$(cd -- "$dir" && pwd)"
[[ "$dir" =~ ^[A-Za-z0-9._/+-]+$ ]] || die "--dir path must match [A-Za-z0-9._/+-]+: $dir"
chmod 700 "$dir"
raddb="$dir/raddb"
if [[ -e "$raddb" ]]; then
	[[ -f "$raddb/.gatehouse-bench" ]] || die "$raddb exists and was not created by this script"
	rm -rf -- "$raddb"
fi
mkdir -p "$raddb" "$dir/log" "$dir/run"
: >"$raddb/.gatehouse-bench"

(umask 077 && cat >"$raddb/clients.conf") <<EOF
# Generated by bench/directory/start-freeradius-ldap.sh.
client bench {
	ipaddr = 127.0.0.1
	proto = udp
	secret = '$secret'
	require_message_authenticator = yes
	nas_type = other
}
EOF

(umask 077 && cat >"$raddb/radiusd.conf") <<EOF
# Generated by bench/directory/start-freeradius-ldap.sh: FreeRADIUS 3.2 + rlm_ldap,
# pass-through PAP by binding as the user. See the comments at the top of the script.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = \${exec_prefix}/sbin
name = freeradius
raddbdir = $dir/raddb
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
db_dir = \${raddbdir}
logdir = $dir/log
radacctdir = $dir/radacct
run_dir = $dir/run
pidfile = \${run_dir}/\${name}.pid
libdir = /usr/lib/freeradius
correct_escapes = true
hostname_lookups = no
max_request_time = 30
cleanup_delay = 5
max_requests = 262144

log {
	destination = files
	file = \${logdir}/radius.log
	colourise = no
	stripped_names = no
	auth = no
	auth_badpass = no
	auth_goodpass = no
}

security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}

proxy_requests = no

thread pool {
	start_servers = $threads
	max_servers = $threads
	min_spare_servers = 1
	max_spare_servers = $threads
	max_requests_per_server = 0
	max_queue_size = 65536
	auto_limit_acct = no
}

\$INCLUDE clients.conf

modules {
	ldap {
		server = '$ldap_url'
		identity = '$bind_dn'
		password = '$bind_pw'
		base_dn = '$base_dn'
		user_dn = "LDAP-UserDn"
		user {
			base_dn = "\${..base_dn}"
			filter = "(uid=%{%{Stripped-User-Name}:-%{User-Name}})"
			scope = 'sub'
		}
		options {
			chase_referrals = yes
			rebind = yes
			res_timeout = 10
			srv_timelimit = 3
			net_timeout = 1
			idle = 60
			probes = 3
			interval = 3
			ldap_debug = 0x0000
		}
		pool {
			start = $pool
			min = $pool
			max = $pool
			spare = 0
			uses = 0
			retry_delay = 30
			lifetime = 0
			idle_timeout = 0
		}
	}

	always ok {
		rcode = ok
	}
	always reject {
		rcode = reject
	}
}

server bench {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $auth_port
	}

	authorize {
		if (&User-Name =~ /^([^@]+)@$domain\$/) {
			update request {
				&Stripped-User-Name := "%{1}"
			}
		}
		else {
			reject
		}
		ldap
		if ((ok || updated) && &User-Password) {
			update control {
				&Auth-Type := ldap
			}
		}

		Autz-Type Status-Server {
			ok
		}
	}

	authenticate {
		Auth-Type LDAP {
			ldap
		}
	}

	post-auth {
		Post-Auth-Type REJECT {
			ok
		}
	}
}
EOF

if ! "$fr_bin" -C -d "$raddb" >"$dir/config-check.out" 2>&1; then
	tail -n 20 "$dir/config-check.out" "$dir/log/radius.log" >&2 2>/dev/null || true
	die "freeradius -C rejected the generated config in $raddb"
fi

"$fr_bin" -f -d "$raddb" </dev/null >"$dir/freeradius.out" 2>&1 &
pid=$!

fail_started() {
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		sleep 1.5
		kill -KILL "$pid" 2>/dev/null || true
	fi
	{
		echo "--- $dir/freeradius.out:"
		tail -n 20 "$dir/freeradius.out" 2>/dev/null || true
		echo "--- $dir/log/radius.log:"
		tail -n 20 "$dir/log/radius.log" 2>/dev/null || true
	} >&2
	die "$*"
}
trap 'fail_started "interrupted"' INT TERM

deadline=$((SECONDS + timeout))
ready=0
while ((SECONDS < deadline)); do
	kill -0 "$pid" 2>/dev/null || fail_started "freeradius (pid $pid) exited during startup"
	if printf 'Message-Authenticator = 0x00\n' |
		"$radclient" -q -r 1 -t 1 -S "$secret_file" "127.0.0.1:$auth_port" status >/dev/null 2>&1; then
		ready=1
		break
	fi
	sleep 0.2
done
((ready)) || fail_started "freeradius (pid $pid) did not answer Status-Server on 127.0.0.1:$auth_port within ${timeout}s"
trap - INT TERM
printf 'start-freeradius-ldap: freeradius ready: pid %s, auth 127.0.0.1:%s, ldap %s, pool %s, threads %s, dir %s\n' \
	"$pid" "$auth_port" "$ldap_url" "$pool" "$threads" "$dir" >&2
echo "$pid"
