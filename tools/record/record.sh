#!/bin/bash
# Records one diag503 scenario with real Kamailio and SIPp on loopback: a pcapng and its .truth.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tools/record/record.sh <scenario> [<outdir>]  writes <outdir>/kam-<scenario>.pcapng, .truth
#        tools/record/record.sh --list                  prints the scenario names
# Without <outdir> it writes to captures/sip-kamailio/, the family folder of these recordings.
#
# Each role has its own loopback address, so the capture shows both hops of the proxy:
#   127.0.0.10  callers, users, a peer: SIPp UACs (uac-call.xml, uac-register.xml, uac-options.xml,
#               uac-invite-noack.xml)
#   127.0.0.11  (retry_early, failover) more callers, each on an address of its own: one that
#   and up      calls again 300 ms after a 503 (uac-call-retry.xml), or ones that take the
#               call to the second proxy after a 503 (uac-call-failover.xml)
#   127.0.0.20  the proxy: Kamailio with <scenario>.cfg
#   127.0.0.21  (chain) an inner proxy behind it: Kamailio with capacity.cfg
#   127.0.0.22  (failover) the second proxy: Kamailio with failover.cfg -A BACKUP
#   127.0.0.30  the gateway, also the users' phones: a SIPp UAS (uas-gateway.xml)
#   127.0.0.40  a next hop where nothing listens (the kernel answers ICMP port unreachable,
#               and a TCP SYN (dead_tcp) with a RST)
#   127.0.0.50  (tls_failure, tls_failure_quiet) a TLS partner with a certificate the proxy
#               does not trust: openssl s_server
#   127.0.0.53  (dns_failure, dns_failure_quiet) the resolver: dnsmasq
#   127.0.0.60  (database_failure) the proxy's database: PostgreSQL on port 5432, from a data
#               directory in the work dir, stopped midway
# Scenario overload_ipv6 puts every role on [::1], told apart by port (SINGLE_HOST=1 does so on
# 127.0.0.1 for most scenarios: writes kam-single_host_<scenario>); scenarios dns_failure,
# dns_failure_quiet and database_failure run everything in a network namespace of their
# own, whose resolv.conf names the dnsmasq; in dns_failure_quiet and database_failure a
# route there makes the proxy's lookups or database connections come from its own
# address, not from 127.0.0.1.
# Each scenario owns 20 ports from its base: proxy base, gateway base+1, dead hop base+2,
# inner proxy, second proxy or TLS partner base+3, the proxy's TLS socket base+4, UACs
# base+10 and up. dumpcap captures only those (UDP and TCP) and the ICMP errors about them
# (and, in dns_failure and dns_failure_quiet, DNS; in database_failure, PostgreSQL).
#
# Needs kamailio, sipp (package sip-tester), dumpcap and tshark, and the right to capture
# on lo: root (as in CI) or a member of group wireshark; some scenarios need more (root,
# ip, dnsmasq, openssl, Kamailio's tls module, PostgreSQL (package postgresql) and
# Kamailio's db_postgres module (kamailio-postgres-modules)) and say so. Kamailio 5.6 runs
# as root without a warning and needs no flag for it; its pid file and runtime dir are in
# a work dir (no ctl or fifo module is loaded), which is removed on success and kept, with
# every log, on failure or when KEEP_WORK=1.
#
# A recording fails rather than write a doubtful .truth: each 503 must come from a proxy
# with a Call-ID the config logged as "intended-503", calls must also succeed, no other
# error answer may appear, and each scenario's own evidence must be in the capture (a
# quiet 503 must name no cause). The .truth of the scenarios from dns_failure_quiet on
# also lists the callers' reactions to the 503s (captures/FORMAT.md), worked out from the
# capture; retry_early and failover must show theirs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIOS=(overload capacity capacity_phrase upstream maintenance registration
	overload_tcp overload_ipv6 dns_failure tls_failure chain retransmit responses_only
	capacity_q850_tcp upstream_gateways dns_failure_quiet tls_failure_quiet dead_tcp
	database_failure retry_early failover dns_failure_other_address
	database_failure_other_address tls_failure_other_address client_side_only sbc_chain_dns
	capacity_ringing)
# The cause of the proxy's 503s; chain's inner proxy has its own (prepare_chain).
declare -A CAUSE=([overload]=overload [capacity]=capacity_limit [capacity_phrase]=capacity_limit
	[upstream]=upstream_failure [maintenance]=maintenance [registration]=registration_routing
	[overload_tcp]=overload [overload_ipv6]=overload [dns_failure]=dns_failure
	[tls_failure]=tls_failure [chain]=upstream_failure [retransmit]=upstream_failure
	[responses_only]=capacity_limit [capacity_q850_tcp]=capacity_limit
	[upstream_gateways]=upstream_failure [dns_failure_quiet]=dns_failure
	[tls_failure_quiet]=tls_failure [dead_tcp]=upstream_failure
	[database_failure]=database_failure [retry_early]=overload [failover]=maintenance
	[dns_failure_other_address]=dns_failure [database_failure_other_address]=database_failure
	[tls_failure_other_address]=tls_failure [client_side_only]=upstream_failure
	[sbc_chain_dns]=upstream_failure [capacity_ringing]=capacity_limit)
# Not 26000: Wireshark decodes UDP port 26000 as Quake, not SIP.
declare -A BASE=([overload]=25100 [capacity]=25200 [capacity_phrase]=25300
	[upstream]=25400 [maintenance]=25500 [registration]=25600 [overload_tcp]=25700
	[overload_ipv6]=25800 [dns_failure]=25900 [tls_failure]=26100 [chain]=26200
	[retransmit]=26300 [responses_only]=26400 [capacity_q850_tcp]=26500
	[upstream_gateways]=26600 [dns_failure_quiet]=26700 [tls_failure_quiet]=26800
	[dead_tcp]=26900 [database_failure]=27100 [retry_early]=27200 [failover]=27300
	[dns_failure_other_address]=27400 [database_failure_other_address]=27600
	[tls_failure_other_address]=27700 [client_side_only]=27800 [sbc_chain_dns]=28000
	[capacity_ringing]=28100)
# Not 27000-27019 either: Wireshark decodes TCP port 27017 as TLS; nor 27500 (QuakeWorld).
UAC_IP=127.0.0.10 PROXY_IP=127.0.0.20 INNER_IP=127.0.0.21 GW_IP=127.0.0.30 DEAD_IP=127.0.0.40
PEER_IP=127.0.0.50 DNS_IP=127.0.0.53 BACKUP_IP=127.0.0.22 DB_IP=127.0.0.60 DB_PORT=5432
CARRIER=carrier.invalid # dns_failure: the domain its resolver cannot resolve
GW_DOMAIN=gateway.diag503.test # dns_failure_other_address: the gateway's, which resolves
declare -A PACKAGE=([kamailio]=kamailio [sipp]=sip-tester [dumpcap]=wireshark-common
	[tshark]=tshark [ip]=iproute2 [dnsmasq]=dnsmasq-base [openssl]=openssl
	[setpriv]=util-linux)

# shellcheck source=tools/lib/recording.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib/recording.sh"
cleanup_extra() { if [[ -n ${NS-} ]]; then netns_remove; fi; }  # run by the shared cleanup on exit

need_root() { # need_root <why>
	(($(id -u) == 0)) || die "scenario $SCENARIO must run as root: $1"
}

need_module() { # need_module <Kamailio module> <Debian package>
	local dir
	dir=$(kamailio -I | awk -F': ' '/paths to modules/ { print $2 }')
	[[ -e $dir/$1.so ]] || die "Kamailio module $1 not found in $dir (Debian package $2)"
}

if [[ ${1-} == --list ]]; then
	printf '%s\n' "${SCENARIOS[@]}"
	exit 0
fi
[[ $# -eq 1 || $# -eq 2 ]] || die "usage: record.sh <scenario> [<outdir>] | record.sh --list"
SCENARIO=$1
[[ -n ${CAUSE[$SCENARIO]-} ]] || die "unknown scenario '$SCENARIO' (known: ${SCENARIOS[*]})"
need kamailio sipp dumpcap tshark
OUTDIR=$(output_dir sip-kamailio "${2-}")
PROXY_PORT=${BASE[$SCENARIO]}
GW_PORT=$((PROXY_PORT + 1)) DEAD_PORT=$((PROXY_PORT + 2)) SERVER_PORT=$((PROXY_PORT + 3))
TLS_PORT=$((PROXY_PORT + 4)) LAST_PORT=$((PROXY_PORT + 19))

# What a scenario's prepare_<scenario> may change before anything starts:
UAC_OPTS=()        # more SIPp options for every UAC (-t t1: SIP over TCP)
PROXY_ARGS=()      # more kamailio options for the proxy (-A defines)
IN_NS=()           # the command prefix that runs a program in the scenario's namespace
CAPTURE_FILTER=''  # dumpcap's filter, if not the usual one
CAPTURE_MORE=''    # more to capture besides the usual
WHERE=loopback     # where the traffic runs, for the .truth
ALSO=''            # what else took part, for the .truth
ANSWERER=''        # "<ip> <port>" of the server whose 200s to INVITEs show calls got through,
                   # if not the proxy
REACTIONS=0        # 1: the .truth also lists the callers' reactions (captures/FORMAT.md)
REACTION=''        # the reaction the scenario is about: there must be some
SIDE_IP=''         # the *_other_address and sbc_chain_dns scenarios: the address the kernel
                   # picks for the proxy's DNS, database or TLS traffic (kernel_source)
declare -A SENDER_CAUSE=() # "<ip> <port>" of each server whose 503s are meant -> cause

# SINGLE_HOST=1: every role on 127.0.0.1, told apart by port, as on a lab machine where SIPp and
# Kamailio run side by side; writes kam-single_host_<scenario>. Only for the scenarios that need
# no address of their own for a role (no namespace, no second caller address).
NAME=$SCENARIO
if [[ ${SINGLE_HOST:-0} == 1 ]]; then
	case $SCENARIO in
	overload | capacity | capacity_phrase | upstream | maintenance | registration | overload_tcp | \
		tls_failure | chain | retransmit | responses_only | capacity_q850_tcp | upstream_gateways | \
		tls_failure_quiet | dead_tcp | capacity_ringing) ;;
	*) die "SINGLE_HOST is not for $SCENARIO" ;;
	esac
	UAC_IP=127.0.0.1 PROXY_IP=127.0.0.1 INNER_IP=127.0.0.1 GW_IP=127.0.0.1 DEAD_IP=127.0.0.1
	PEER_IP=127.0.0.1 BACKUP_IP=127.0.0.1
	WHERE="loopback, every role on 127.0.0.1 told apart by port"
	NAME=single_host_$SCENARIO
elif [[ ${SINGLE_HOST:-0} != 0 ]]; then
	die "SINGLE_HOST must be 0 or 1"
fi

hook() { # hook <kind> [args...]: run <kind>_<scenario> [args...] if the scenario has one
	local kind=$1
	shift
	if declare -F "${kind}_$SCENARIO" >/dev/null; then
		"${kind}_$SCENARIO" "$@"
	fi
}

hostport() { # hostport <ip> <port>: as in a URI, an IPv6 address in brackets
	if [[ $1 == *:* ]]; then
		echo "[$1]:$2"
	else
		echo "$1:$2"
	fi
}

# ---------------------------------------------------------------- processes

WORK=$(mktemp -d "${TMPDIR:-/tmp}/diag503-record-$SCENARIO.XXXXXX")
UACS=()               # UACs started since the last uacs_done
UAC_RUNS=0
NS=''                 # the network namespace netns_create made
ETC_NETNS_MADE=0      # whether it made /etc/netns too

netns_create() { # netns_create: a network namespace with only lo, its resolver at $DNS_IP
	need_root "it runs in a network namespace of its own"
	need ip
	NS=diag503-record-$SCENARIO-$$
	ip netns add "$NS"
	IN_NS=(ip netns exec "$NS")
	ip -n "$NS" link set lo up
	[[ -d /etc/netns ]] || ETC_NETNS_MADE=1
	# ip netns exec mounts this over /etc/resolv.conf: no lookup can leave the namespace
	mkdir -p "/etc/netns/$NS"
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$DNS_IP" >"/etc/netns/$NS/resolv.conf"
	WHERE="the loopback of a network namespace"
}

netns_source() { # netns_source <ip>: in the namespace, reach the address from the proxy's
	ip -n "$NS" route add local "$1/32" dev lo table local src "$PROXY_IP"
}

kernel_source() { # kernel_source <ip>: the source address the kernel picks to reach the address
	local src
	src=$("${IN_NS[@]}" ip route get "$1" |
		awk '{ for (i = 1; i < NF; i++) if ($i == "src") { print $(i + 1); exit } }')
	[[ -n $src ]] || die "the kernel names no source address for $1"
	echo "$src"
}

other_address() { # other_address <ip>: SIDE_IP, the kernel's source address for <ip>, not the proxy's
	need ip
	SIDE_IP=$(kernel_source "$1")
	[[ $SIDE_IP != "$PROXY_IP" ]] || die "the kernel picks the proxy's own address $PROXY_IP for $1"
}

netns_remove() {
	ip netns del "$NS" || true
	rm -f "/etc/netns/$NS/resolv.conf"
	rmdir "/etc/netns/$NS" || true
	if ((ETC_NETNS_MADE)); then
		rmdir /etc/netns 2>/dev/null || true
	fi
}

wait_until() { # wait_until <what> <command...>: poll the command for up to 5 s
	wait_for 5 "$@"
}

listening() { # listening <port>: a UDP socket is bound to the port, or a TCP one listens on it
	local tables=(/proc/net/udp /proc/net/tcp)
	[[ -e /proc/net/udp6 ]] && tables+=(/proc/net/udp6 /proc/net/tcp6)
	# shellcheck disable=SC2016 # an awk program, run in the namespace
	"${IN_NS[@]}" awk -v port=":$(printf '%04X' "$1")" '
		substr($2, length($2) - 4) == port && (FILENAME ~ /udp/ || $4 == "0A") { found = 1 }
		END { exit !found }' "${tables[@]}"
}

# ---------------------------------------------------------------- the parts

capture_start() {
	local from=$PROXY_PORT to=$LAST_PORT
	local filter="portrange $from-$to or (icmp[icmptype] == icmp-unreach and \
icmp[30:2] >= $from and icmp[30:2] <= $to) or (icmp6 and ip6[40] == 1 and \
ip6[90:2] >= $from and ip6[90:2] <= $to)$CAPTURE_MORE"
	start dumpcap dumpcap -q -i lo -w "$WORK/capture.pcapng" -f "${CAPTURE_FILTER:-$filter}"
	CAPTURE_PID=$LAST_PID
	wait_until "dumpcap to capture" grep -qs "Capturing on" "$WORK/dumpcap.log"
}

GATEWAY_RUNS=0
GW_RING_MS=20 # how long the gateway rings before it answers (capacity_ringing: 2000)
gateway_start() {
	sed "s|<pause milliseconds=\"20\"/>|<pause milliseconds=\"$GW_RING_MS\"/>|" "$HERE/uas-gateway.xml" >"$WORK/uas-gateway.xml"
	start "gateway-$((++GATEWAY_RUNS))" sipp -sf "$WORK/uas-gateway.xml" -i "$GW_IP" \
		-p "$GW_PORT" -nostdin -timeout 60s
	GATEWAY_PID=$LAST_PID
	wait_until "the SIPp UAS on port $GW_PORT" listening "$GW_PORT"
}

KAMAILIO_RUNS=0
kamailio_start() { # kamailio_start <cfg name> <ip> <port> [-A define...]: until it listens
	local cfg=$1 ip=$2 port=$3 run=$((++KAMAILIO_RUNS))
	shift 3
	start "kamailio-$run" kamailio -f "$HERE/$cfg.cfg" -DD -E -m 32 -M 8 \
		-P "$WORK/kamailio-$run.pid" -Y "$WORK" -w "$WORK" \
		-A "PROXY_LISTEN=udp:$(hostport "$ip" "$port")" \
		-A "GW_URI=\"sip:$(hostport "$GW_IP" "$GW_PORT")\"" \
		-A "DEAD_URI=\"sip:$(hostport "$DEAD_IP" "$DEAD_PORT")\"" "$@"
	wait_until "Kamailio on port $port" listening "$port"
}

PROXY_CFG='' # the proxy's configuration when not <scenario>.cfg
proxy_start() { # proxy_start [-A define...]: Kamailio with <scenario>.cfg
	kamailio_start "${PROXY_CFG:-$SCENARIO}" "$PROXY_IP" "$PROXY_PORT" "${PROXY_ARGS[@]}" "$@"
	PROXY_PID=$LAST_PID
}

csv() { # csv <file> <line...>: a SIPp injection file (-inf) in the work dir, read in order
	local file=$WORK/$1
	shift
	printf '%s\n' SEQUENTIAL "$@" >"$file"
}

uac() { # uac <port offset> <scenario xml> <csv> <sipp options...>: start a SIPp UAC
	uac_at "$UAC_IP" "$@"
}

uac_at() { # uac_at <ip> <port offset> <scenario xml> <csv> <sipp options...>: a UAC on that address
	local ip=$1 port=$((PROXY_PORT + $2)) xml=$3 inf=$4
	shift 4
	start "uac-$((++UAC_RUNS))-$port" sipp "$(hostport "$PROXY_IP" "$PROXY_PORT")" \
		-sf "$HERE/$xml" -inf "$WORK/$inf" -i "$ip" -p "$port" -nostdin -timeout 30s \
		-timeout_error "${UAC_OPTS[@]}" "$@"
	UACS+=("$LAST_PID")
}

calls() { # calls <csv> <sipp options...>: a UAC placing calls (caller;callee; per line)
	uac 10 uac-call.xml "$@"
}

registers() { # registers <csv> <sipp options...>: a UAC registering users (user;contact; per line)
	uac 11 uac-register.xml "$@"
}

# ---------------------------------------------------------------- the scenarios
# Every callee 1xxx is a number behind the live gateway; 2xxx one behind the next hop that
# is down (upstream, retransmit), a carrier's whose domain does not resolve (dns_failure)
# or a TLS partner's (tls_failure).
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

traffic_capacity() { # [calls]: 2 calls/s of 6.25 s each: the 6th finds 5 up, and so on off and on
	csv calls.csv "${CALLS[@]}"
	calls calls.csv -d 6250 -r 2 -m "${1:-20}"
	uacs_done
}

# capacity_ringing: capacity.cfg's limit of 5 dialogs (counted from the INVITE, ringing or not),
# the gateway ringing 2 s before it answers, so refusals come while calls still ring
prepare_capacity_ringing() {
	PROXY_CFG=capacity GW_RING_MS=2000
	ALSO+=", capacity.cfg (at most 5 dialogs, a profile counting each call from its INVITE), the"
	ALSO+=" gateway ringing ${GW_RING_MS} ms before it answers"
}

traffic_capacity_ringing() { # 2 calls/s of 4 s after 2 s of ringing
	csv calls.csv "${CALLS[@]}"
	calls calls.csv -d 4000 -r 2 -m 20
	uacs_done
}

traffic_capacity_phrase() {
	traffic_capacity
}

traffic_upstream() { # [calls]: 2 calls/s, every third one to a 2xxx number behind the dead hop
	csv calls.csv "${CALLS[@]}"
	calls calls.csv -d 2000 -r 2 -m "${1:-18}"
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

# ---------------------------------------------------------------- more scenarios
# prepare_<scenario> sets a scenario up before anything starts; check_<scenario> looks
# for the cause's own evidence in the capture or the logs.

over_tcp() { # over_tcp: the callers talk SIP over TCP to the proxy; the gateway stays on UDP
	UAC_OPTS=(-t t1)
	PROXY_ARGS+=(-A "PROXY_LISTEN_TCP=tcp:$(hostport "$PROXY_IP" "$PROXY_PORT")")
	ALSO+=", the callers on SIP over TCP"
}

prepare_overload_tcp() {
	over_tcp
}

traffic_overload_tcp() {
	traffic_overload
}

prepare_overload_ipv6() {
	UAC_IP=::1 PROXY_IP=::1 GW_IP=::1 DEAD_IP=::1
	WHERE="the IPv6 loopback [::1]"
}

traffic_overload_ipv6() {
	traffic_overload
}

prepare_dns_failure() {
	need dnsmasq
	netns_create
	PROXY_ARGS+=(-A "CARRIER_DOMAIN=\"$CARRIER\"")
	CAPTURE_MORE=" or port 53"
	ALSO+=", dnsmasq $(dnsmasq --version | awk 'NR == 1 { print $3 }') as its resolver"
	ALSO+=" (NXDOMAIN for $CARRIER)"
}

DNSMASQ_MORE=() # dns_failure_other_address: the gateway's records
traffic_dns_failure() { # 2 calls/s, every third to a 2xxx number of the carrier
	start dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--bind-interfaces --listen-address="$DNS_IP" --pid-file= --log-queries \
		--log-facility=- --local="/$CARRIER/" ${DNSMASQ_MORE[@]+"${DNSMASQ_MORE[@]}"}
	wait_until "dnsmasq on $DNS_IP" listening 53
	traffic_upstream 12
}

check_dns_failure() { # the carrier's name was looked up, in vain
	local failed
	failed=$(count "$1" "dns.flags.response == 1 && dns.flags.rcode == 3 \
&& dns.qry.name contains \"$CARRIER\"")
	((failed > 0)) || die "no DNS answer says $CARRIER does not exist"
}

prepare_tls_failure() {
	need openssl
	need_module tls kamailio-tls-modules
	local who
	# the proxy trusts only its own certificate; the partner's is self-signed
	for who in proxy partner; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 \
			-subj "/CN=$who.diag503.invalid" -keyout "$WORK/$who.key" -out "$WORK/$who.crt" \
			2>>"$WORK/openssl.log"
	done
	PROXY_ARGS+=(-A "PROXY_LISTEN_TLS=tls:$PROXY_IP:$TLS_PORT"
		-A "PEER_URI=\"sip:$PEER_IP:$SERVER_PORT;transport=tls\""
		-A "TLS_CERT=\"$WORK/proxy.crt\"" -A "TLS_KEY=\"$WORK/proxy.key\""
		-A "TLS_CA=\"$WORK/proxy.crt\"")
	# the proxy connects from its own address (tcp_source_ipv4), unless the kernel is to choose
	[[ $SCENARIO == tls_failure_other_address ]] || PROXY_ARGS+=(-A "PROXY_ADDR=$PROXY_IP")
	ALSO+=", an OpenSSL $(openssl version | awk '{ print $2 }') s_server as a TLS partner"
	ALSO+=" with a self-signed certificate"
}

traffic_tls_failure() { # 2 calls/s, every third to a 2xxx number of the partner
	start partner openssl s_server -accept "$PEER_IP:$SERVER_PORT" -cert "$WORK/partner.crt" \
		-key "$WORK/partner.key" -www
	wait_until "the TLS partner on port $SERVER_PORT" listening "$SERVER_PORT"
	traffic_upstream 12
}

check_tls_failure() { # Kamailio refused the partner's certificate
	grep -qs "certificate verify failed" "$WORK"/kamailio-*.log ||
		die "Kamailio did not log a failed certificate check"
}

prepare_chain() {
	PROXY_ARGS+=(-A "INNER_URI=\"sip:$INNER_IP:$SERVER_PORT\"")
	SENDER_CAUSE["$INNER_IP $SERVER_PORT"]=capacity_limit
	ALSO+=", a second Kamailio (capacity.cfg) as the inner proxy"
}

traffic_chain() {
	kamailio_start capacity "$INNER_IP" "$SERVER_PORT"
	traffic_capacity 14
}

prepare_retransmit() {
	ALSO+=", the callers of 2xxx never ACK the 503"
}

traffic_retransmit() { # 2 calls/s to 1xxx; meanwhile 3 to 2xxx from callers that never ACK
	csv calls.csv "4001;1101;" "4002;1102;" "4004;1103;" "4005;1104;"
	csv noack.csv "4003;2101;" "4006;2102;" "4009;2103;"
	calls calls.csv -d 2000 -r 2 -m 8
	uac 12 uac-invite-noack.xml noack.csv -r 1 -m 3
	uacs_done
}

check_retransmit() { # the 503s went out again
	local sent calls
	sent=$(count "$1" "sip.Status-Code == 503")
	calls=$(tshark -r "$1" -Y "sip.Status-Code == 503" -T fields -e sip.Call-ID \
		2>>"$WORK/tshark.log" | sort -u | wc -l)
	((sent > calls)) || die "no 503 was retransmitted"
}

prepare_responses_only() {
	CAPTURE_FILTER="src host $PROXY_IP and portrange $PROXY_PORT-$LAST_PORT"
	ALSO+=", keeping only what the proxy sent"
}

traffic_responses_only() {
	traffic_capacity 14
}

prepare_capacity_q850_tcp() {
	over_tcp
}

traffic_capacity_q850_tcp() {
	traffic_capacity 14
}

prepare_upstream_gateways() {
	# the dispatcher set: the live gateway, and a standby that has been down since before
	printf '%s\n' "1 sip:$GW_IP:$GW_PORT 8 0 duid=gw-a" "1 sip:$DEAD_IP:$DEAD_PORT 9 0 duid=gw-b" \
		>"$WORK/dispatcher.list"
	PROXY_ARGS+=(-A "DS_LIST=\"$WORK/dispatcher.list\"")
	ALSO+=", the UAS as the one live gateway of a dispatcher set of two, stopped and"
	ALSO+=" restarted"
}

gateway_marked() { # gateway_marked <up|down>: the dispatcher's last word on the live gateway
	local last
	last=$(grep -o "gateway-[a-z]* sip:$GW_IP:$GW_PORT" "$WORK/kamailio-$KAMAILIO_RUNS.log" |
		tail -n 1)
	[[ $last == "gateway-$1 "* ]]
}

traffic_upstream_gateways() { # calls, the gateway goes down and comes back, calls again
	csv calls.csv "${CALLS[@]}"
	local phase
	for phase in up down back; do
		case $phase in
		down)
			stop "$GATEWAY_PID"
			wait_for 10 "the gateway marked down" gateway_marked down
			;;
		back)
			gateway_start
			sleep 1.5 # until the probes sent while it was down have timed out
			wait_for 5 "the gateway marked up" gateway_marked up
			;;
		esac
		calls calls.csv -d 1000 -r 2 -m 4
		uacs_done
	done
}

check_quiet() { # check_quiet <pcap> [<ip> <port>]: the proxy's (or that server's) 503s name no
	local loud  # cause, not even in their phrase
	loud=$(count "$1" "$(sent_by "${2:-$PROXY_IP}" "${3:-$PROXY_PORT}") && sip.Status-Code == 503 \
&& (sip.Warning || sip.Reason || sip.Reason-Phrase != \"Service Unavailable\")")
	((loud == 0)) || die "$loud of the proxy's 503s name a cause (Warning, Reason or phrase)"
}

prepare_dns_failure_quiet() {
	REACTIONS=1
	prepare_dns_failure
	netns_source "$DNS_IP"
}

traffic_dns_failure_quiet() {
	traffic_dns_failure
}

check_dns_failure_quiet() { # the NXDOMAIN answers are all that tell the cause
	check_dns_failure "$1"
	(($(count "$1" "dns.flags.response == 1 && dns.qry.type == 35") > 0)) ||
		die "the proxy looked up no NAPTR record"
	check_quiet "$1"
}

prepare_tls_failure_quiet() {
	REACTIONS=1
	prepare_tls_failure
}

traffic_tls_failure_quiet() {
	traffic_tls_failure
}

check_tls_failure_quiet() { # the handshakes and their alerts are all that tell the cause
	check_tls_failure "$1"
	(($(count "$1" "ip.src == ${SIDE_IP:-$PROXY_IP} && ip.dst == $PEER_IP \
&& tls.alert_message") > 0)) ||
		die "the capture holds no TLS alert from the proxy to the partner"
	check_quiet "$1"
}

prepare_dead_tcp() {
	REACTIONS=1
	PROXY_ARGS+=(-A "PROXY_LISTEN_TCP=tcp:$PROXY_IP:$PROXY_PORT" -A "PROXY_ADDR=$PROXY_IP"
		-A "DEAD_TCP_URI=\"sip:$DEAD_IP:$DEAD_PORT;transport=tcp\"")
	ALSO+=", the next hop of 2xxx reached over TCP"
}

traffic_dead_tcp() {
	traffic_upstream 12
}

check_dead_tcp() { # the next hop's kernel refused the proxy's connections
	(($(count "$1" "ip.src == $DEAD_IP && tcp.srcport == $DEAD_PORT \
&& tcp.flags.reset == 1") > 0)) || die "no TCP connection to $DEAD_IP:$DEAD_PORT was refused"
	check_quiet "$1"
}

PG_BIN=''   # database_failure: PostgreSQL's programs
PG_DATA=''  # and its data directory
as_postgres() { # as_postgres <command...>: run a command as user postgres
	setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
}

prepare_database_failure() {
	REACTIONS=1
	need setpriv
	need_module db_postgres kamailio-postgres-modules
	PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V |
		tail -n 1)
	[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/psql ]] ||
		die "no PostgreSQL server in /usr/lib/postgresql (Debian package postgresql)"
	id postgres >/dev/null 2>&1 || die "no user postgres (Debian package postgresql)"
	netns_create
	if [[ $SCENARIO == database_failure_other_address ]]; then
		other_address "$DB_IP"
	else
		netns_source "$DB_IP"
	fi
	chmod 0711 "$WORK" # user postgres may reach its own folder in it
	mkdir "$WORK/pg"
	chown postgres: "$WORK/pg"
	PG_DATA=$WORK/pg/data
	as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U kamailio -A trust -E UTF8 --no-sync \
		>"$WORK/initdb.log" 2>&1 || die "initdb failed, see $WORK/initdb.log"
	echo "host all all ${SIDE_IP:-$PROXY_IP}/32 trust" >>"$PG_DATA/pg_hba.conf"
	start postgres setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/postgres" -D "$PG_DATA" -c listen_addresses="$DB_IP" -c port="$DB_PORT" \
		-c unix_socket_directories="$WORK/pg" -c fsync=off -c log_connections=on \
		-c log_disconnections=on
	PG_PID=$LAST_PID
	wait_until "PostgreSQL on $DB_IP:$DB_PORT" "${IN_NS[@]}" "$PG_BIN/pg_isready" -q \
		-h "$DB_IP" -p "$DB_PORT"
	# before the capture starts: the routing table, one row per callee prefix
	"${IN_NS[@]}" "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$DB_IP" -p "$DB_PORT" -U kamailio \
		-d postgres >>"$WORK/psql.log" 2>&1 <<-SQL ||
		CREATE DATABASE routing;
		\c routing
		CREATE TABLE routes (prefix text PRIMARY KEY, uri text NOT NULL);
		INSERT INTO routes VALUES ('1', 'sip:$GW_IP:$GW_PORT');
	SQL
		die "could not fill the database, see $WORK/psql.log"
	PROXY_ARGS+=(-A "DB_CON=\"routes=>postgres://kamailio@$DB_IP:$DB_PORT/routing\"")
	CAPTURE_MORE=" or (host $DB_IP and tcp port $DB_PORT)"
	ALSO+=", PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') as its routing"
	ALSO+=" database (sqlops, db_postgres), stopped (pg_ctl stop -m fast) midway"
}

traffic_database_failure() { # calls while the database is up, then after it stopped
	csv calls.csv "4001;1101;" "4002;1102;" "4003;1103;" "4004;1104;" "4005;1105;"
	calls calls.csv -d 1000 -r 2 -m 4
	uacs_done
	as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w >>"$WORK/pg_ctl.log" 2>&1 ||
		die "pg_ctl stop failed, see $WORK/pg_ctl.log"
	stop "$PG_PID"
	sleep 0.5
	calls calls.csv -d 1000 -r 2 -m 4
	uacs_done
}

check_database_failure() { # the database told the proxy it went away, then refused it
	local from_db="ip.src == $DB_IP && tcp.srcport == $DB_PORT && ip.dst == ${SIDE_IP:-$PROXY_IP}"
	(($(count "$1" "$from_db && pgsql.type == \"Error\" && pgsql.severity == \"FATAL\"") > 0)) ||
		die "PostgreSQL sent the proxy no FATAL error"
	# the answer to a SYN: RST with the SYN's sequence number + 1 acknowledged
	(($(count "$1" "$from_db && tcp.flags.reset == 1 && tcp.seq == 1 && tcp.ack == 1") > 0)) ||
		die "PostgreSQL's address refused no connection of the proxy"
	check_quiet "$1"
}

prepare_retry_early() {
	REACTIONS=1 REACTION=retry_same_request
	ALSO+=", a caller that sends the INVITE again 300 ms after each 503 (same Call-ID, CSeq"
	ALSO+=" one higher; twice at most)"
}

traffic_retry_early() { # calls at 1/s from one caller, a burst of 8 at 20/s from another
	csv calls.csv "4001;1101;" "4002;1102;" "4004;1103;" "4005;1104;" "4007;1105;"
	csv burst.csv "5001;1201;" "5002;1202;" "5003;1203;" "5004;1204;" "5005;1205;" \
		"5006;1206;" "5007;1207;" "5008;1208;"
	calls calls.csv -d 1000 -r 1 -m 4
	sleep 1
	uac_at 127.0.0.11 11 uac-call-retry.xml burst.csv -d 2000 -r 20 -m 8
	uacs_done
}

prepare_failover() {
	REACTIONS=1 REACTION=failover
	ANSWERER="$BACKUP_IP $SERVER_PORT"
	ALSO+=", a second Kamailio (failover.cfg -A BACKUP) that takes the calls the first"
	ALSO+=" refuses"
}

traffic_failover() { # 4 callers, one call each, 0.5 s apart
	kamailio_start failover "$BACKUP_IP" "$SERVER_PORT" -A BACKUP
	local i
	for i in 1 2 3 4; do
		csv "caller-$i.csv" "400$i;110$i;"
		uac_at "127.0.0.1$i" $((10 + i)) uac-call-failover.xml "caller-$i.csv" -d 1000 -m 1 \
			-key backup_ip "$BACKUP_IP" -key backup_port "$SERVER_PORT"
		sleep 0.5
	done
	uacs_done
}

# ---------------------------------------------------------------- real servers' topologies
# A real server's DNS, database and TLS client traffic leaves from the address the kernel
# picks, not from its SIP listener (other_address); a capture may hold only one side of a
# proxy (client_side_only); an SBC may relay an inner server's 503 (sbc_chain_dns).

check_side() { # check_side <pcap> <what> <display filter>: the proxy's <what> left from SIDE_IP only
	local from_side elsewhere
	from_side=$(count "$1" "($3) && ip.src == $SIDE_IP")
	((from_side > 0)) || die "none of the proxy's $2 left from $SIDE_IP"
	elsewhere=$(count "$1" "($3) && ip.src != $SIDE_IP")
	((elsewhere == 0)) || die "$elsewhere of the proxy's $2 did not leave from $SIDE_IP"
}

relayed() { # relayed <pcap> <ip> <port> <pcap'>: the proxy's 503s in <pcap'> relay that server's
	local origin copies
	origin=$(tshark -r "$1" -Y "$(sent_by "$2" "$3") && sip.Status-Code == 503" -T fields \
		-e sip.Call-ID 2>>"$WORK/tshark.log" | sort -u)
	copies=$(tshark -r "$4" -Y "$(sent_by "$PROXY_IP" "$PROXY_PORT") && sip.Status-Code == 503" \
		-T fields -e sip.Call-ID 2>>"$WORK/tshark.log" | sort -u)
	[[ -n $origin ]] || die "$2:$3 sent no 503"
	[[ $origin == "$copies" ]] || die "the proxy's 503s are not those of $2:$3 relayed"
}

prepare_dns_failure_other_address() {
	REACTIONS=1
	prepare_dns_failure
	other_address "$DNS_IP"
	PROXY_ARGS+=(-A "GW_DOMAIN=\"$GW_DOMAIN\"")
	# the gateway by name: NAPTR -> SRV (its port) -> A, valid for 2 s (Kamailio's DNS cache
	# drops records of TTL 0, dnsmasq's default for its own, before it uses them)
	DNSMASQ_MORE=(--local="/${GW_DOMAIN#*.}/" --local-ttl=2
		--naptr-record="$GW_DOMAIN,10,10,S,SIP+D2U,,_sip._udp.$GW_DOMAIN"
		--srv-host="_sip._udp.$GW_DOMAIN,gw1.$GW_DOMAIN,$GW_PORT,10,10"
		--host-record="gw1.$GW_DOMAIN,$GW_IP")
	ALSO+=", which resolves the gateway's $GW_DOMAIN (NAPTR, SRV, A); the proxy's lookups"
	ALSO+=" leave from $SIDE_IP (the kernel's choice), not from its SIP address"
}

traffic_dns_failure_other_address() {
	traffic_dns_failure
}

check_dns_failure_other_address() { # failed lookups of the carrier, good ones of the gateway
	check_dns_failure_quiet "$1"
	(($(count "$1" "dns.flags.response == 1 && dns.flags.rcode == 0 && dns.a == $GW_IP") > 0)) ||
		die "no DNS answer resolved $GW_DOMAIN to $GW_IP"
	check_side "$1" "DNS queries" "dns.flags.response == 0"
}

prepare_database_failure_other_address() {
	prepare_database_failure
	ALSO+="; the proxy's connections to it leave from $SIDE_IP (the kernel's choice), not from"
	ALSO+=" its SIP address"
}

traffic_database_failure_other_address() {
	traffic_database_failure
}

check_database_failure_other_address() {
	check_database_failure "$1"
	check_side "$1" "database connections" "ip.dst == $DB_IP && tcp.dstport == $DB_PORT"
}

prepare_tls_failure_other_address() {
	REACTIONS=1
	prepare_tls_failure
	other_address "$PEER_IP"
	ALSO+="; the proxy's TLS connections leave from $SIDE_IP (the kernel's choice, no"
	ALSO+=" tcp_source_ipv4), not from its SIP address"
}

traffic_tls_failure_other_address() {
	traffic_tls_failure
}

check_tls_failure_other_address() {
	check_tls_failure_quiet "$1"
	check_side "$1" "TLS connections" "ip.dst == $PEER_IP && tcp.dstport == $SERVER_PORT"
}

FULL_PID=''  # client_side_only: the second dumpcap, which sees both sides of the proxy
prepare_client_side_only() {
	REACTIONS=1
	PROXY_ARGS+=(-A "GW_503_URI=\"sip:$GW_IP:$SERVER_PORT\"")
	CAPTURE_FILTER="host $UAC_IP and host $PROXY_IP"
	ALSO+=", a second SIPp UAS (uas-gateway-503.xml) as the gateway of 2xxx, which answers"
	ALSO+=" each call with a bare 503 the proxy relays; only the callers' side of the proxy"
	ALSO+=" captured (host $UAC_IP and host $PROXY_IP), not the gateways'"
}

traffic_client_side_only() { # upstream's traffic; a second capture of everything checks it
	start dumpcap-full dumpcap -q -i lo -w "$WORK/full.pcapng" -f "portrange $PROXY_PORT-$LAST_PORT"
	FULL_PID=$LAST_PID
	wait_until "the second dumpcap to capture" grep -qs "Capturing on" "$WORK/dumpcap-full.log"
	start gateway-503 sipp -sf "$HERE/uas-gateway-503.xml" -i "$GW_IP" -p "$SERVER_PORT" \
		-nostdin -timeout 60s
	wait_until "the SIPp UAS on port $SERVER_PORT" listening "$SERVER_PORT"
	traffic_upstream 12
	sleep 0.5 # the last relayed ACKs and 200s
	stop "$FULL_PID"
	grep -q "dropped on interface .*: [0-9]*/0 " "$WORK/dumpcap-full.log" ||
		die "the second dumpcap dropped packets: $(tail -n 1 "$WORK/dumpcap-full.log")"
}

check_client_side_only() { # the gateway's 503s, relayed, and none of the proxy's onward legs
	(($(count "$1" "ip.addr == $GW_IP") == 0)) || die "the capture holds the gateways' side"
	(($(count "$WORK/full.pcapng" "sip.Status-Code >= 300 && sip.Status-Code != 503") == 0)) ||
		die "the gateways' side holds error answers other than 503"
	relayed "$WORK/full.pcapng" "$GW_IP" "$SERVER_PORT" "$1"
	check_quiet "$1"
}

prepare_sbc_chain_dns() {
	REACTIONS=1
	need dnsmasq
	netns_create
	other_address "$DNS_IP"
	PROXY_ARGS+=(-A "INNER_URI=\"sip:$INNER_IP:$SERVER_PORT\"")
	SENDER_CAUSE["$INNER_IP $SERVER_PORT"]=dns_failure
	CAPTURE_MORE=" or port 53"
	ALSO+=", a second Kamailio (dns_failure_quiet.cfg) as the inner proxy, dnsmasq"
	ALSO+=" $(dnsmasq --version | awk 'NR == 1 { print $3 }') as the inner's resolver (NXDOMAIN"
	ALSO+=" for $CARRIER), its lookups leaving from $SIDE_IP (the kernel's choice), not from"
	ALSO+=" its SIP address"
}

traffic_sbc_chain_dns() {
	kamailio_start dns_failure_quiet "$INNER_IP" "$SERVER_PORT" -A "CARRIER_DOMAIN=\"$CARRIER\""
	traffic_dns_failure
}

check_sbc_chain_dns() { # the inner's failed lookups and bare 503s, relayed as they are
	check_dns_failure "$1"
	(($(count "$1" "dns.flags.response == 1 && dns.qry.type == 35") > 0)) ||
		die "the inner proxy looked up no NAPTR record"
	check_side "$1" "DNS queries" "dns.flags.response == 0"
	check_quiet "$1" "$INNER_IP" "$SERVER_PORT"
	check_quiet "$1"
	relayed "$1" "$INNER_IP" "$SERVER_PORT" "$1"
}

# ---------------------------------------------------------------- checks and truth

count() { # count <pcap> <display filter>: how many frames match
	tshark -r "$1" -Y "$2" 2>>"$WORK/tshark.log" | wc -l
}

sent_by() { # sent_by <ip> <port>: a display filter for what that socket sent
	local ip=ip
	[[ $1 == *:* ]] && ip=ipv6
	echo "$ip.src == $1 && (udp.srcport == $2 || tcp.srcport == $2)"
}

check_capture() { # check_capture <pcap>: calls got through, no error answer but 503s
	local pcap=$1 answered others answerer
	read -r -a answerer <<<"${ANSWERER:-$PROXY_IP $PROXY_PORT}"
	answered=$(count "$pcap" "$(sent_by "${answerer[@]}") && sip.Status-Code == 200 \
&& sip.CSeq.method == INVITE")
	((answered > 0)) || die "no call was answered"
	others=$(count "$pcap" "sip.Status-Code >= 300 && sip.Status-Code != 503")
	((others == 0)) || die "$others error answers other than 503, see $pcap"
	hook check "$pcap"
	echo "$answered calls answered"
}

write_truth() { # write_truth <pcap> <truth>: label each 503 frame, after checking it was meant
	local pcap=$1 truth=$2 frame ip4 ip6 udp tcp callid sender kam sipp wireshark
	grep -ho 'intended-503 [^ ]*' "$WORK"/kamailio-*.log | cut -d' ' -f2 | sort -u \
		>"$WORK/intended" || true
	tshark -r "$pcap" -Y 'sip.Status-Code == 503' -T fields -E separator='|' -e frame.number \
		-e ip.src -e ipv6.src -e udp.srcport -e tcp.srcport -e sip.Call-ID \
		>"$WORK/503s" 2>"$WORK/tshark.log"
	[[ -s $WORK/503s ]] || die "the capture has no 503"
	kam=$(kamailio -v | awk 'NR == 1 { print $3 }')
	sipp=$(sipp -v 2>&1 | grep -o 'v[0-9][0-9.]*[0-9]' | head -n 1 || true)
	wireshark=$(dumpcap -v | awk 'NR == 1 { print $3 }')
	{
		echo "# how: ${SINGLE_HOST:+SINGLE_HOST=$SINGLE_HOST }tools/record/record.sh $SCENARIO: Kamailio $kam (${PROXY_CFG:-$SCENARIO}.cfg) between" \
			"SIPp ${sipp#v} UACs and a SIPp UAS on $WHERE$ALSO, captured by dumpcap $wireshark"
		echo "# scenario: $SCENARIO"
		while IFS='|' read -r frame ip4 ip6 udp tcp callid; do
			sender="$ip4$ip6 $udp$tcp"
			[[ $callid != *,* ]] || die "frame $frame holds more than one 503"
			[[ -n ${SENDER_CAUSE[$sender]-} ]] ||
				die "frame $frame: a 503 from $sender, not from a proxy of the scenario"
			grep -qxF -- "$callid" "$WORK/intended" ||
				die "frame $frame: a 503 the scenario did not mean (Call-ID $callid)"
			printf '%s\t%s\n' "$frame" "${SENDER_CAUSE[$sender]}"
		done <"$WORK/503s"
		if ((REACTIONS)); then
			reactions "$pcap"
		fi
	} >"$truth"
	if [[ -n $REACTION ]]; then
		grep -q "	$REACTION	" "$truth" || die "no caller's $REACTION is in the capture"
	fi
	if [[ $REACTION == failover ]] &&
		(($(grep -c "	failover	" "$truth") != $(wc -l <"$WORK/503s"))); then
		die "not every refused call failed over"
	fi
}

# reactions <pcap>: the reaction lines of captures/FORMAT.md, worked out from the capture by
# reactions.sh beside this script.
reactions() {
	"$HERE/reactions.sh" "$1" 2>>"$WORK/tshark.log"
}

# ---------------------------------------------------------------- main

hook prepare
SENDER_CAUSE["$PROXY_IP $PROXY_PORT"]=${CAUSE[$SCENARIO]}
for ((port = PROXY_PORT; port <= LAST_PORT; port++)); do
	! listening "$port" || die "port $port is in use (another recording running?)"
done
capture_start
gateway_start
proxy_start
"traffic_$SCENARIO"
sleep 0.5 # the last relayed ACKs and 200s
stop_capture_last

PCAP=$OUTDIR/kam-$NAME.pcapng
TRUTH=$OUTDIR/kam-$NAME.truth
answered=$(check_capture "$WORK/capture.pcapng")
write_truth "$WORK/capture.pcapng" "$WORK/truth"
keep_capture "$PCAP" "$TRUTH"
reacted=$(grep -c '	.*	' "$TRUTH" || true)
summary="$(($(wc -l <"$TRUTH") - 2 - reacted)) 503s"
if ((REACTIONS)); then
	summary+=", $reacted reactions"
fi
echo "record.sh: $SCENARIO: $summary, $answered: $PCAP"
