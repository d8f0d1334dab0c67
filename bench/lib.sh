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

stop_all() {
	local pid
	for pid in "${!running[@]}"; do
		stop_pid "$pid"
	done
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
