#!/bin/bash
# Records one diag503 scenario with real Kamailio and SIPp on loopback: a pcapng and its .truth.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tools/record/record.sh <scenario> <outdir>  writes <outdir>/kam-<scenario>.pcapng, .truth
#        tools/record/record.sh --list                prints the scenario names
#
# Each role has its own loopback address, so the capture shows both hops of the proxy:
#   127.0.0.10  callers, users, a peer: SIPp UACs (uac-call.xml, uac-register.xml, uac-options.xml)
#   127.0.0.20  the proxy: Kamailio with <scenario>.cfg
#   127.0.0.30  the gateway, also the users' phones: a SIPp UAS (uas-gateway.xml)
#   127.0.0.40  a next hop where nothing listens (the kernel answers ICMP port unreachable)
# Each scenario owns 20 UDP ports from its base: proxy base, gateway base+1, dead hop
# base+2, UACs base+10 and up. dumpcap captures only those and the ICMP errors about them.
#
# Needs kamailio, sipp (package sip-tester), dumpcap and tshark, and the right to capture
# on lo: root (as in CI) or a member of group wireshark. Kamailio 5.6 runs as root without
# a warning and needs no flag for it; its pid file and runtime dir are in a work dir (no
# ctl or fifo module is loaded), which is removed on success and kept, with every log, on
# failure or when KEEP_WORK=1.
#
# A recording fails rather than write a doubtful .truth: each 503 must come from the proxy
# with a Call-ID the config logged as "intended-503", calls must also succeed, and no
# other error answer may appear.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIOS=(overload capacity capacity_phrase upstream maintenance registration)
declare -A CAUSE=([overload]=overload [capacity]=capacity_limit [capacity_phrase]=capacity_limit
	[upstream]=upstream_failure [maintenance]=maintenance [registration]=registration_routing)
declare -A BASE=([overload]=25100 [capacity]=25200 [capacity_phrase]=25300
	[upstream]=25400 [maintenance]=25500 [registration]=25600)
UAC_IP=127.0.0.10 PROXY_IP=127.0.0.20 GW_IP=127.0.0.30 DEAD_IP=127.0.0.40

die() {
	echo "record.sh: $*" >&2
	exit 1
}

if [[ ${1-} == --list ]]; then
	printf '%s\n' "${SCENARIOS[@]}"
	exit 0
fi
[[ $# -eq 2 ]] || die "usage: record.sh <scenario> <outdir> | record.sh --list"
SCENARIO=$1
[[ -n ${CAUSE[$SCENARIO]-} ]] || die "unknown scenario '$SCENARIO' (known: ${SCENARIOS[*]})"
for tool in kamailio sipp dumpcap tshark; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
mkdir -p "$2"
OUTDIR=$(cd "$2" && pwd)
PROXY_PORT=${BASE[$SCENARIO]}
GW_PORT=$((PROXY_PORT + 1)) DEAD_PORT=$((PROXY_PORT + 2)) LAST_PORT=$((PROXY_PORT + 19))

# ---------------------------------------------------------------- processes

WORK=$(mktemp -d "${TMPDIR:-/tmp}/diag503-record-$SCENARIO.XXXXXX")
declare -A RUNNING=() # pid -> log name of each process group start() made and stop() did not end
UACS=()               # UACs started since the last uacs_done
UAC_RUNS=0

start() { # start <name> <command...>: run in a new process group, output to $WORK/<name>.log
	local name=$1
	shift
	setsid "$@" </dev/null >"$WORK/$name.log" 2>&1 &
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

stop() { # stop <pid>: end a group start() made: TERM, up to 5 s to exit, then KILL the rest
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		case $(state "$pid") in Z | gone) break ;; esac
		sleep 0.1
	done
	# Until it is reaped the leader's id still names only this group.
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	unset "RUNNING[$pid]"
}

cleanup() {
	local rc=$? pid
	for pid in "${!RUNNING[@]}"; do
		stop "$pid"
	done
	if ((rc != 0)); then
		echo "record.sh: $SCENARIO failed; logs kept in $WORK" >&2
	elif [[ ${KEEP_WORK-} == 1 ]]; then
		echo "record.sh: logs kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_until() { # wait_until <what> <command...>: poll the command for up to 5 s
	local what=$1 i
	shift
	for ((i = 0; i < 50; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	die "timed out waiting for $what"
}

listening() { # listening <port>: some UDP socket is bound to the port
	awk -v port=":$(printf '%04X' "$1")" '$2 ~ port "$" { found = 1 } END { exit !found }' \
		/proc/net/udp
}

# ---------------------------------------------------------------- the parts

capture_start() {
	local ports="$PROXY_PORT-$LAST_PORT"
	start dumpcap dumpcap -q -i lo -w "$WORK/capture.pcapng" -f "udp portrange $ports or \
(icmp[icmptype] == icmp-unreach and icmp[30:2] >= $PROXY_PORT and icmp[30:2] <= $LAST_PORT)"
	CAPTURE_PID=$LAST_PID
	wait_until "dumpcap to capture" grep -qs "Capturing on" "$WORK/dumpcap.log"
}

gateway_start() {
	start gateway sipp -sf "$HERE/uas-gateway.xml" -i "$GW_IP" -p "$GW_PORT" -nostdin -timeout 60s
	GATEWAY_PID=$LAST_PID
	wait_until "the SIPp UAS on port $GW_PORT" listening "$GW_PORT"
}

PROXY_RUNS=0
proxy_start() { # proxy_start [-A define...]: Kamailio with <scenario>.cfg, until it listens
	start "kamailio-$((++PROXY_RUNS))" kamailio -f "$HERE/$SCENARIO.cfg" -DD -E -m 32 -M 8 \
		-P "$WORK/kamailio.pid" -Y "$WORK" -w "$WORK" \
		-A "PROXY_LISTEN=udp:$PROXY_IP:$PROXY_PORT" \
		-A "GW_URI=\"sip:$GW_IP:$GW_PORT\"" -A "DEAD_URI=\"sip:$DEAD_IP:$DEAD_PORT\"" "$@"
	PROXY_PID=$LAST_PID
	wait_until "Kamailio on port $PROXY_PORT" listening "$PROXY_PORT"
}

csv() { # csv <file> <line...>: a SIPp injection file (-inf) in the work dir, read in order
	local file=$WORK/$1
	shift
	printf '%s\n' SEQUENTIAL "$@" >"$file"
}

uac() { # uac <port offset> <scenario xml> <csv> <sipp options...>: start a SIPp UAC
	local port=$((PROXY_PORT + $1)) xml=$2 inf=$3
	shift 3
	start "uac-$((++UAC_RUNS))-$port" sipp "$PROXY_IP:$PROXY_PORT" -sf "$HERE/$xml" \
		-inf "$WORK/$inf" -i "$UAC_IP" -p "$port" -nostdin -timeout 30s -timeout_error "$@"
	UACS+=("$LAST_PID")
}

calls() { # calls <csv> <sipp options...>: a UAC placing calls (caller;callee; per line)
	uac 10 uac-call.xml "$@"
}

registers() { # registers <csv> <sipp options...>: a UAC registering users (user;contact; per line)
	uac 11 uac-register.xml "$@"
}

uacs_done() { # uacs_done: wait for the UACs started; a failed SIPp run fails the recording
	local pid rc
	for pid in "${UACS[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		((rc == 0)) || die "SIPp UAC exited $rc, see $WORK/${RUNNING[$pid]}.log"
		unset "RUNNING[$pid]"
	done
	UACS=()
}

# ---------------------------------------------------------------- the scenarios
# Every callee 1xxx is a number behind the live gateway; 2xxx, in scenario upstream,
# one behind the next hop that is down.
CALLS=("4001;1101;" "4002;1102;" "4003;2101;" "4004;1103;" "4005;1104;" "4006;2102;"
	"4007;1105;" "4008;1106;" "4009;2103;")

traffic_overload() { # 2 calls/s (under the limit of 8/s), a burst at 20/s, 2/s again
	csv calls.csv "${CALLS[@]}"
	local rate_count
	for rate_count in 2:6 20:24 2:4; do
		calls calls.csv -d 1000 -r "${rate_count%:*}" -m "${rate_count#*:}"
		uacs_done
	done
}

traffic_capacity() { # 2 calls/s of 6.25 s each: the 6th call finds 5 up, and so on off and on
	csv calls.csv "${CALLS[@]}"
	calls calls.csv -d 6250 -r 2 -m 20
	uacs_done
}

traffic_capacity_phrase() {
	traffic_capacity
}

traffic_upstream() { # 2 calls/s, every third one to a 2xxx number behind the dead hop
	csv calls.csv "${CALLS[@]}"
	calls calls.csv -d 2000 -r 2 -m 18
	uacs_done
}

traffic_maintenance() { # the same traffic before and after a restart in drain mode
	csv calls.csv "${CALLS[@]}"
	csv users.csv "1001;$GW_IP:$GW_PORT;" "1002;$GW_IP:$GW_PORT;" "1003;$GW_IP:$GW_PORT;" \
		"1004;$GW_IP:$GW_PORT;" "1005;$GW_IP:$GW_PORT;" "1006;$GW_IP:$GW_PORT;"
	csv peers.csv "sbc;"
	local mode
	for mode in normal drain; do
		if [[ $mode == drain ]]; then
			sleep 1
			stop "$PROXY_PID"
			sleep 1
			proxy_start -A MAINTENANCE
		fi
		registers users.csv -r 6 -m 6
		uac 12 uac-options.xml peers.csv -r 1 -m 3
		calls calls.csv -d 1000 -r 2 -m 6
		uacs_done
	done
}

traffic_registration() { # 12 users register, then calls among them (4 to 3001) as they refresh
	local user users=()
	for user in 30{01..12}; do
		if [[ $user == 3001 ]]; then
			users+=("$user;$DEAD_IP:$DEAD_PORT;")
		else
			users+=("$user;$GW_IP:$GW_PORT;")
		fi
	done
	csv users.csv "${users[@]}"
	csv calls.csv "3002;3005;" "3004;3001;" "3006;3008;" "3003;3010;" "3009;3001;" \
		"3012;3002;" "3005;3011;" "3010;3001;" "3008;3004;" "3011;3006;" "3007;3012;" \
		"3002;3001;" "3006;3003;" "3004;3009;" "3012;3007;" "3003;3005;"
	registers users.csv -r 12 -m 12
	uacs_done
	registers users.csv -r 2 -m 12
	calls calls.csv -d 2000 -r 2 -m 16
	uacs_done
}

# ---------------------------------------------------------------- checks and truth

count() { # count <pcap> <display filter>: how many frames match
	tshark -r "$1" -Y "$2" 2>>"$WORK/tshark.log" | wc -l
}

check_capture() { # check_capture <pcap>: calls got through, no error answer but 503s
	local pcap=$1 answered others
	answered=$(count "$pcap" "ip.dst == $UAC_IP && sip.Status-Code == 200 && sip.CSeq.method == INVITE")
	((answered > 0)) || die "no call was answered"
	others=$(count "$pcap" "sip.Status-Code >= 300 && sip.Status-Code != 503")
	((others == 0)) || die "$others error answers other than 503, see $pcap"
	echo "$answered calls answered"
}

write_truth() { # write_truth <pcap> <truth>: label each 503 frame, after checking it was meant
	local pcap=$1 truth=$2 frame src callid kam sipp wireshark
	grep -ho 'intended-503 [^ ]*' "$WORK"/kamailio-*.log | cut -d' ' -f2 | sort -u \
		>"$WORK/intended" || true
	tshark -r "$pcap" -Y 'sip.Status-Code == 503' -T fields -e frame.number -e ip.src \
		-e sip.Call-ID >"$WORK/503s" 2>"$WORK/tshark.log"
	[[ -s $WORK/503s ]] || die "the capture has no 503"
	kam=$(kamailio -v | awk 'NR == 1 { print $3 }')
	sipp=$(sipp -v 2>&1 | grep -o 'v[0-9][0-9.]*[0-9]' | head -n 1 || true)
	wireshark=$(dumpcap -v | awk 'NR == 1 { print $3 }')
	{
		echo "# how: tools/record/record.sh $SCENARIO: Kamailio $kam ($SCENARIO.cfg) between" \
			"SIPp ${sipp#v} UACs and a SIPp UAS on loopback, captured by dumpcap $wireshark"
		echo "# scenario: $SCENARIO"
		while IFS=$'\t' read -r frame src callid; do
			[[ $src == "$PROXY_IP" ]] || die "frame $frame: a 503 from $src, not from the proxy"
			grep -qxF -- "$callid" "$WORK/intended" ||
				die "frame $frame: a 503 the scenario did not mean (Call-ID $callid)"
			printf '%s\t%s\n' "$frame" "${CAUSE[$SCENARIO]}"
		done <"$WORK/503s"
	} >"$truth"
}

# ---------------------------------------------------------------- main

for ((port = PROXY_PORT; port <= LAST_PORT; port++)); do
	! listening "$port" || die "UDP port $port is in use (another recording running?)"
done
capture_start
gateway_start
proxy_start
"traffic_$SCENARIO"
sleep 0.5 # the last relayed ACKs and 200s
stop "$PROXY_PID"
stop "$GATEWAY_PID"
sleep 0.2
stop "$CAPTURE_PID"
grep -q "dropped on interface .*: [0-9]*/0 " "$WORK/dumpcap.log" ||
	die "dumpcap dropped packets: $(tail -n 1 "$WORK/dumpcap.log")"

PCAP=$OUTDIR/kam-$SCENARIO.pcapng
TRUTH=$OUTDIR/kam-$SCENARIO.truth
answered=$(check_capture "$WORK/capture.pcapng")
write_truth "$WORK/capture.pcapng" "$WORK/truth"
chmod 0644 "$WORK/capture.pcapng" # dumpcap writes 0600
mv "$WORK/capture.pcapng" "$PCAP"
mv "$WORK/truth" "$TRUTH"
echo "record.sh: $SCENARIO: $(($(wc -l <"$TRUTH") - 2)) 503s, $answered: $PCAP"
