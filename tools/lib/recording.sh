# shellcheck shell=bash
# Shared by the recorders (tools/record, tools/rtsp): errors, process groups, cleanup, polling.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sourced by a recorder that sets SCENARIO, WORK (its temp dir) and PACKAGE (tool -> Debian package)
# before it needs them, and may define cleanup_extra (run on exit before the logs are judged) and
# IN_NS (a command prefix that start() runs processes under). Installs the EXIT/INT/TERM traps.

# output_dir <family> [<outdir>]: the absolute path of <outdir>, made if missing; without one, the family's
# folder of the bundled captures of this checkout (captures/<family>/, see captures/README.md).
output_dir() {
	local dir=${2:-$(dirname "${BASH_SOURCE[0]}")/../../captures/$1}
	mkdir -p "$dir" && (cd "$dir" && pwd)
}

die() {
	echo "record.sh: $*" >&2
	exit 1
}

need() { # need <tool...>: fail, naming its Debian package, unless each tool is installed
	local tool
	for tool; do
		command -v "$tool" >/dev/null ||
			die "$tool not found (Debian package ${PACKAGE[$tool]}, see tools/bootstrap)"
	done
}

declare -A RUNNING=() # pid -> log name of each process group start() made and stop() did not end

start() { # start <name> <command...>: run in a new process group, output to $WORK/<name>.log
	local name=$1
	shift
	setsid ${IN_NS[@]+"${IN_NS[@]}"} "$@" </dev/null >"$WORK/$name.log" 2>&1 &
	LAST_PID=$!
	RUNNING[$LAST_PID]=$name
}

state() { # state <pid>: the process state letter (Z for a zombie), or "gone"
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		echo gone
		return
	}
	stat=${stat##*) }
	echo "${stat%% *}"
}

stop() { # stop <pid> [signal]: end a group start() made: the signal (TERM), up to 5 s, then KILL the rest
	local pid=$1 i
	kill "-${2:-TERM}" -- "-$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		case $(state "$pid") in Z | gone) break ;; esac
		sleep 0.1
	done
	# Until it is reaped the leader's id still names only this group.
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "RUNNING[$pid]"
	if declare -p EXPECT >/dev/null 2>&1; then unset "EXPECT[$pid]"; fi
}

cleanup() {
	local rc=$? pid
	for pid in "${!RUNNING[@]}"; do
		stop "$pid"
	done
	if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
	if ((rc != 0)); then
		echo "record.sh: ${SCENARIO-} failed${WORK:+; logs kept in $WORK}" >&2
	elif [[ ${KEEP_WORK-} == 1 ]]; then
		echo "record.sh: logs kept in ${WORK-}" >&2
	elif [[ -n ${WORK-} ]]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # wait_for <seconds> <what> <command...>: poll the command for that long
	local tenths=$(($1 * 10)) what=$2 i
	shift 2
	for ((i = 0; i < tenths; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	die "timed out waiting for $what"
}

# stop_capture_last: stop every process start() made, the capture last so it sees the others' last
# packets; fail if dumpcap dropped any (RUNNING, CAPTURE_PID and $WORK/dumpcap.log are the recorder's).
stop_capture_last() {
	local pid
	for pid in "${!RUNNING[@]}"; do
		[[ $pid == "$CAPTURE_PID" ]] || stop "$pid"
	done
	sleep 0.2
	stop "$CAPTURE_PID"
	grep -q "dropped on interface .*: [0-9]*/0 " "$WORK/dumpcap.log" ||
		die "dumpcap dropped packets: $(tail -n 1 "$WORK/dumpcap.log")"
}

# keep_capture <pcapng> <truth>: move $WORK/capture.pcapng and $WORK/truth there, readable by all.
keep_capture() {
	chmod 0644 "$WORK/capture.pcapng" # dumpcap writes 0600
	mv "$WORK/capture.pcapng" "$1"
	mv "$WORK/truth" "$2"
}

# uacs_done: wait for the SIPp UACs in UACS; a failed SIPp run fails the recording
uacs_done() {
	local pid rc
	for pid in "${UACS[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		((rc == 0)) || die "SIPp UAC exited $rc, see $WORK/${RUNNING[$pid]}.log"
		unset "RUNNING[$pid]"
	done
	UACS=()
}
