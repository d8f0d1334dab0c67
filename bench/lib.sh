# shellcheck shell=bash
# Shared by the benchmark scripts (sourced, not run): the servers a script starts are
# recorded in `running` (pid -> what) and stopped by PID on exit, whatever the exit.
# The sourcing script defines say() before calling stop_pid.

declare -A running=()

stop_pid() { # stop_pid PID: SIGTERM, wait up to 10 s, then SIGKILL
	local pid="$1" i
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		say "pid $pid (${running[$pid]:-?}) ignored SIGTERM; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true # only works for the script's own children
	unset "running[$pid]"
}

free_udp_ports() { # prints two free UDP ports on 127.0.0.1
	python3 - <<'EOF2'
import socket
socks = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF2
}

# start_gatehoused BIN DIR CTL: starts BIN on DIR/gatehouse.toml (log in DIR/gatehoused.log),
# records it in `running`, and returns once its admin socket (DIR/admin.sock) answers
# `status`. Sets started_pid. The sourcing script defines die().
started_pid=""
start_gatehoused() {
	local bin="$1" dir="$2" ctl="$3" i
	# Logs at warn level still carry the startup lines we would want on failure.
	"$bin" --config "$dir/gatehouse.toml" </dev/null >"$dir/gatehoused.log" 2>&1 9>&- &
	started_pid=$!
	running[$started_pid]=gatehouse
	for ((i = 0; i < 300; i++)); do
		kill -0 "$started_pid" 2>/dev/null || { tail -n 20 "$dir/gatehoused.log" >&2; die "gatehoused exited during startup"; }
		[[ -S "$dir/admin.sock" ]] && "$ctl" --socket "$dir/admin.sock" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tail -n 20 "$dir/gatehoused.log" >&2
	die "gatehoused did not become ready"
}

stop_all() {
	local pid
	for pid in "${!running[@]}"; do
		stop_pid "$pid"
	done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
