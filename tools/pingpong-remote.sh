#!/bin/sh
# SPDX-License-Identifier: MIT
# The remote half of `make run HOST=...`: copied next to pingpong-ebpf and pingpong-server by
# tools/run-remote and run there as root. Starts the agent in its own session, records its PID
# in agent.pid, and later stops exactly that process group (never by name).
#
#   pingpong-remote.sh start PORT CONTROL_PORT [--tcp-point] [--sched]
#                                                agent + server, wait (bounded) until both listen;
#                                                --tcp-point, --sched: passed on to the agent
#   pingpong-remote.sh stop                      stop them, remove agent.pid, print agent.log
# POSIX sh on purpose: the remote host may have no bash.
set -u

dir=$(cd "$(dirname "$0")" && pwd)
pidfile=$dir/agent.pid
log=$dir/agent.log

# Our agent, not a recycled PID: the program (argv[0], or a script's argv[1]) must be the
# copy in this directory.
ours() {
	[ -n "$1" ] || return 1
	tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | head -n 2 | grep -qxF "$dir/pingpong-ebpf"
}

# Still a process (not gone, not a zombie waiting for this shell to reap it).
running() {
	[ -n "$1" ] || return 1
	line=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${line##*) }
	[ "${st%% *}" != Z ]
}

# PIDs whose process group is $1 (the agent's session: the agent, the server, their children).
group_members() {
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		rest=${line##*) }
		set -- $rest
		[ "${3:-}" = "$pgid" ] && { p=${f#/proc/}; echo "${p%/stat}"; }
	done
}

listening() { # port: something listens on it (IPv4 or IPv6), in this network namespace
	hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p="$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

stop_agent() {
	# A start still under way (its ssh was cut by Ctrl-C) writes the pidfile in a moment.
	i=0
	while [ -e "$dir/agent.starting" ] && [ ! -s "$pidfile" ] && [ $i -lt 30 ]; do
		sleep 0.1; i=$((i + 1))
	done
	pid=$(cat "$pidfile" 2>/dev/null) || pid=
	if ours "$pid"; then
		pgid=$pid
		kill -TERM "$pid" 2>/dev/null
		i=0
		while ours "$pid" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		# Whatever of its group is left (the agent stops the server itself when all goes well).
		members=$(group_members)
		[ -n "$members" ] && kill -KILL $members 2>/dev/null
		i=0
		while [ -n "$(group_members)" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	rm -f "$pidfile" "$dir/agent.starting"
}

case "${1:-}" in
start)
	port=$2 control=$3
	shift 3
	for opt in "$@"; do
		case $opt in --tcp-point | --sched) ;; *) echo "start: unknown option $opt" >&2; exit 2 ;; esac
	done
	if ours "$(cat "$pidfile" 2>/dev/null)"; then
		echo "stopping the agent an earlier run left behind (PID $(cat "$pidfile"))" >&2
		stop_agent
	fi
	for p in "$port" "$control"; do
		if listening "$p"; then
			echo "port $p is in use on the remote host (pick another: PORT=N)" >&2
			exit 1
		fi
	done
	command -v setsid >/dev/null 2>&1 || { echo "setsid (util-linux) is missing on the remote host" >&2; exit 1; }
	rm -f "$pidfile"
	: >"$log"
	: >"$dir/agent.starting"
	trap 'rm -f "$dir/agent.starting"' EXIT
	trap 'exit 1' HUP INT PIPE TERM # the ssh session went away: the EXIT trap still runs
	# setsid: a process group of its own, so stop kills exactly this tree. The pidfile is
	# written by the process that then becomes the agent.
	setsid sh -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$dir/pingpong-ebpf" \
		"$@" --control-port "$control" -- "$dir/pingpong-server" --port "$port" \
		</dev/null >>"$log" 2>&1 &
	i=0
	while [ $i -lt 150 ]; do
		pid=$(cat "$pidfile" 2>/dev/null) || pid=
		if [ -n "$pid" ] && ! running "$pid"; then
			wait "$!"
			echo "the agent exited with status $?:" >&2
			sed 's/^/  /' "$log" >&2
			rm -f "$pidfile"
			exit 1
		fi
		if [ -n "$pid" ] && listening "$port" && listening "$control"; then
			exit 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "the agent did not listen on ports $port and $control within 15 s:" >&2
	sed 's/^/  /' "$log" >&2
	stop_agent
	exit 1
	;;
stop)
	stop_agent
	cat "$log" 2>/dev/null
	exit 0
	;;
*)
	echo "usage: pingpong-remote.sh start PORT CONTROL_PORT | stop" >&2
	exit 2
	;;
esac
