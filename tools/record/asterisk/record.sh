#!/bin/bash
# Records one diag503 scenario with a real Asterisk 22 PBX (Debian sid chroot) in a network namespace.
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: tools/record/asterisk/record.sh <scenario> [<outdir>]  writes <outdir>/ast-<scenario>.pcapng, .truth
#        tools/record/asterisk/record.sh --list                  prints the scenario names
#        CALLERS=auth_tcp tools/record/asterisk/record.sh <scenario> [<outdir>]
#            the same scenario with another configuration: the callers call over TCP as one
#            endpoint that must authenticate (401, then the INVITE with credentials), and a
#            failed Dial() ends through Asterisk's autofallthrough instead of Hangup();
#            writes ast-auth_tcp_<scenario>.pcapng
#        CALLERS=auth_udp ...: the same over UDP; writes ast-auth_udp_<scenario>.pcapng
#        CALLERS=auth_tcp QUALIFY=<s> CALLS_AFTER=<s> tools/record/asterisk/record.sh <scenario> [<outdir>]
#            also: the PBX qualifies every contact (OPTIONS every <s> seconds, the first at start)
#            and the calls begin CALLS_AFTER seconds after Asterisk is up; a contact that failed
#            its qualify is not dialled, so Dial() fails at once; writes ast-auth_tcp_qualify<s>_<scenario>
#        ONE_CALLER=1 ... (with any CALLERS): every call comes from one SIPp host (one address,
#            one port per SIPp run) as one user, "sipp", as a load test with SIPp's defaults
#            does; writes ast-[<callers>_][qualify<s>_]one_caller_<scenario>
#        SINGLE_HOST=1 ... (with any CALLERS): every program on one address, 127.0.0.1, each on
#            a port of its own, as on a lab machine where SIPp, the gateway, the resolver and the
#            database run beside the PBX; writes ast-[...]single_host_<scenario> (the SBC of
#            sbc_* and kamailio_front on 5065; not for carrier_proxy, registered_contact_gone)
# Without <outdir> it writes to captures/sip-asterisk/. Runs as root (netns, chroot, mounts).
#
# Asterisk is not in Debian 12, so it runs from a Debian sid chroot made with mmdebstrap at
# $DIAG503_ASTERISK_CHROOT (default /var/tmp/diag503/sid-asterisk), made when absent (about
# a minute or four and 350-750 MB) and reused after. Its peers are the host's own programs:
# SIPp (sip-tester) as callers and as the carrier's gateway, dnsmasq, PostgreSQL, openssl,
# Kamailio (an SBC in front of the PBX).
#
# Topology, on the loopback of a network namespace made for the recording, laid out as a
# PBX host on a LAN with phones on another and a carrier on a third (each /24 on lo, so the
# kernel picks each subnet's first address as the source towards it):
#   10.20.0.2       the PBX host's own address: the kernel's source for what Asterisk sends
#                   without binding (DNS queries, ODBC/PostgreSQL connections)
#   10.20.0.5       Kamailio, the SBC in front of the PBX (kamailio_front, sbc_maxcalls)
#   198.51.100.20   Kamailio, the carrier's proxy between the PBX and the gateway (carrier_proxy)
#   10.20.0.10      the PBX's SIP service address: every PJSIP transport binds here, port 5060
#                   (UDP and TCP) and 5061 (TLS); PJSIP binds its own outgoing TCP and TLS
#                   connections here too
#   10.20.0.53      the resolver, dnsmasq (trunk_dns; the chroot's resolv.conf names it; nothing listens there in resolver_down)
#   10.20.0.60      PostgreSQL (odbc_down)
#   192.168.50.11+  the callers (SIPp UACs), one address each
#   192.168.50.99   phone 5003's stale TCP contact, where nothing listens (unavailable_contact)
#   198.51.100.30   the carrier's gateway (a SIPp UAS, uas-carrier.xml)
#   198.51.100.40   a carrier gateway that is down: nothing listens (trunk_down)
#   198.51.100.50   the carrier's SIP over TLS: openssl s_server with a certificate the PBX
#                   does not trust (trunk_tls)
# No route or rule is added: where traffic leaves from is the kernel's choice.
#
# The truth is the recorder's: the dialplan (extensions.conf) logs every call it refused or
# whose Dial() failed with the caller's Call-ID and what it saw; the gateway's message log
# (SIPp -trace_msg) names the calls it refused; Asterisk's own log names calls refused before
# the dialplan (maxcalls, maxload, graceful_stop). Each 503 of the capture must be joined by Call-ID
# to one of those, and the scenario's own evidence must be there (a NXDOMAIN, a failed
# certificate check, a stopped database...), or the recording fails and writes nothing.
# Work files are in a temp dir and in the chroot's /tmp, removed on success and kept, with
# every log, on failure or when KEEP_WORK=1.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIOS=(relayed_503 trunk_dns trunk_tls maxcalls group_limit odbc_down graceful_stop trunk_down
	dialplan_congestion maxload kamailio_front unavailable_contact resolver_down maxcalls_ringing
	registered_contact_gone carrier_proxy trunk_unreachable trunk_silent trunk_error
	trunk_tls_rejected maintenance_switch)
# Scenarios also recorded behind Kamailio as an SBC, as sbc_<scenario>
SBC_SCENARIOS=(maxcalls graceful_stop trunk_tls maintenance_switch)
# The cause of the PBX's 503s in each scenario
declare -A CAUSE=([relayed_503]=upstream_failure [trunk_dns]=dns_failure
	[trunk_tls]=tls_failure [maxcalls]=capacity_limit [group_limit]=capacity_limit
	[odbc_down]=database_failure [graceful_stop]=maintenance [trunk_down]=upstream_failure
	[dialplan_congestion]=registration_routing [maxload]=overload
	[kamailio_front]=dns_failure [unavailable_contact]=registration_routing
	[resolver_down]=dns_failure [maxcalls_ringing]=capacity_limit
	[registered_contact_gone]=registration_routing [carrier_proxy]=upstream_failure
	[trunk_unreachable]=upstream_failure [trunk_silent]=upstream_failure
	[trunk_error]=upstream_failure [trunk_tls_rejected]=tls_failure [maintenance_switch]=maintenance)
for base in "${SBC_SCENARIOS[@]}"; do
	SCENARIOS+=("sbc_$base") CAUSE[sbc_$base]=${CAUSE[$base]}
done
# kamailio_front: the SBC's 503s, each relaying the PBX's for the same call: from the SBC's
# side its next hop (the PBX) failed, as in the Kamailio recorder's chain and sbc_chain_dns
SBC_CAUSE=upstream_failure
# The gateway's own 503s (callees 2xxx, relayed_503): no free circuit, Q.850 cause 34
GATEWAY_CAUSE=capacity_limit
PBX_HOST_IP=10.20.0.2 SIP_IP=10.20.0.10 DNS_IP=10.20.0.53 DB_IP=10.20.0.60
CALLER_NET=192.168.50 PHONE_IP=192.168.50.99
GW_IP=198.51.100.30 DEAD_IP=198.51.100.40 TLS_PEER_IP=198.51.100.50
SILENT_IP=198.51.100.45 # trunk_silent: a gateway whose socket takes requests, nothing answers
GW_ERROR='' # trunk_error: the status line the gateway refuses callees 2xxx with, instead of its 503
SBC_IP=10.20.0.5 # kamailio_front: Kamailio, the SBC in front of the PBX
CARRIER_PROXY_IP=198.51.100.20 # carrier_proxy: Kamailio, the carrier's proxy the PBX's trunk reaches
TRUNK_IP=$GW_IP # where the PBX's carrier trunk sends its calls
TARGET_IP=$SIP_IP # where the callers send their calls (the SBC in kamailio_front)
TARGET_PORT=5060 SBC_PORT=5060
CHROOT=${DIAG503_ASTERISK_CHROOT:-/var/tmp/diag503/sid-asterisk}
MIRROR=${DIAG503_DEBIAN_MIRROR:-http://deb.debian.org/debian}
GROUP_MAX=3 # group_limit: calls at once on the trunk
MAXCALLS=3  # maxcalls: asterisk.conf maxcalls
GW_RING_MS=100  # how long the carrier's gateway rings before it answers (maxcalls_ringing: 1500)
MAXLOAD=''  # maxload: asterisk.conf maxload, the host's 1-minute load average at start
MAXLOAD_OVER=1.0 # + this
BURNERS=8   # maxload: busy loops that raise the load average over it
declare -A PACKAGE=([sipp]=sip-tester [dumpcap]=wireshark-common [tshark]=tshark
	[ip]=iproute2 [dnsmasq]=dnsmasq-base [openssl]=openssl [setpriv]=util-linux
	[mmdebstrap]=mmdebstrap [flock]=util-linux [kamailio]=kamailio)

# shellcheck source=tools/lib/recording.sh
source "$HERE/../../lib/recording.sh"

if [[ ${1-} == --list ]]; then
	printf '%s\n' "${SCENARIOS[@]}"
	exit 0
fi
[[ $# -eq 1 || $# -eq 2 ]] || die "usage: record.sh <scenario> [<outdir>] | record.sh --list"
SCENARIO=$1
[[ -n ${CAUSE[$SCENARIO]-} ]] || die "unknown scenario '$SCENARIO' (known: ${SCENARIOS[*]})"
# the scenario an sbc_<scenario> (or a <scenario>_ringing) runs: its dialplan context and options
BASE_SCENARIO=${SCENARIO#sbc_}
BASE_SCENARIO=${BASE_SCENARIO%_ringing}
if [[ $BASE_SCENARIO == carrier_proxy ]]; then  # relayed_503's dialplan, its trunk reaching the proxy
	BASE_SCENARIO=relayed_503 TRUNK_IP=$CARRIER_PROXY_IP
fi
CALLERS=${CALLERS:-anonymous}
case $CALLERS in
anonymous) NAME=$SCENARIO PREFIX_CALLERS='' ;;
auth_tcp | auth_udp)
	[[ $SCENARIO != sbc_* && $SCENARIO != kamailio_front && $SCENARIO != registered_contact_gone ]] ||
		die "CALLERS=$CALLERS is for the scenarios whose callers call the PBX itself"
	NAME=${CALLERS}_$SCENARIO PREFIX_CALLERS="CALLERS=$CALLERS "
	if [[ -n ${QUALIFY-} ]]; then
		[[ $QUALIFY =~ ^[1-9][0-9]*$ && ${CALLS_AFTER:-0} =~ ^[0-9]+$ ]] ||
			die "QUALIFY and CALLS_AFTER are whole seconds"
		NAME=${CALLERS}_qualify${QUALIFY}_$SCENARIO
		PREFIX_CALLERS+="QUALIFY=$QUALIFY CALLS_AFTER=${CALLS_AFTER:-0} "
	fi
	;;
*) die "CALLERS must be anonymous, auth_tcp or auth_udp" ;;
esac
ONE_CALLER=${ONE_CALLER:-0}
case $ONE_CALLER in
0) ;;
1)
	[[ $SCENARIO != registered_contact_gone ]] || die "ONE_CALLER is for the scenarios whose callers only call"
	NAME=${NAME%"$SCENARIO"}one_caller_$SCENARIO PREFIX_CALLERS+="ONE_CALLER=1 " ;;
*) die "ONE_CALLER must be 0 or 1" ;;
esac
# Each program's port; the callers' is where their first SIPp binds
GW_PORT=5060 DEAD_PORT=5060 SILENT_PORT=5060 TLS_PEER_PORT=5061 PHONE_PORT=5060 CALLER_PORT=5060
NAMED_PORT=''  # after a trunk's host name: none, so the name alone decides where it goes
CALLER_MATCH=$CALLER_NET.0/24  # the callers' addresses, as PJSIP identifies them
SINGLE_HOST=${SINGLE_HOST:-0}
case $SINGLE_HOST in
0) ;;
1)
	case $SCENARIO in carrier_proxy | registered_contact_gone)
		die "SINGLE_HOST is not for $SCENARIO" ;;
	esac
	PBX_HOST_IP=127.0.0.1 SIP_IP=127.0.0.1 DNS_IP=127.0.0.1 DB_IP=127.0.0.1 CALLER_NET=''
	PHONE_IP=127.0.0.1 GW_IP=127.0.0.1 DEAD_IP=127.0.0.1 TLS_PEER_IP=127.0.0.1 SILENT_IP=127.0.0.1
	TRUNK_IP=$GW_IP TARGET_IP=$SIP_IP
	GW_PORT=5080 DEAD_PORT=5090 SILENT_PORT=5100 TLS_PEER_PORT=5161 PHONE_PORT=5200 CALLER_PORT=5070
	NAMED_PORT=:$GW_PORT CALLER_MATCH=127.0.0.1/32 SBC_IP=127.0.0.1 SBC_PORT=5065
	NAME=${NAME%"$SCENARIO"}single_host_$SCENARIO PREFIX_CALLERS+="SINGLE_HOST=1 " ;;
*) die "SINGLE_HOST must be 0 or 1" ;;
esac
CALLER_TRANSPORT=${CALLERS#auth_}  # tcp or udp for the authenticating callers
# Dial() failing as CHANUNAVAIL or CONGESTION gets a 503 only through autofallthrough's Congestion():
# a stock Hangup() answers a gateway's 500 with 500 and a silent or bounced trunk with 408 or 480
case $SCENARIO in trunk_unreachable | trunk_silent | trunk_error)
	[[ $CALLERS == auth_* ]] ||
		die "$SCENARIO needs CALLERS=auth_tcp or auth_udp: with Hangup() Asterisk answers it otherwise than 503" ;;
esac
[[ -z ${QUALIFY-} || $CALLERS == auth_* ]] ||
	die "QUALIFY needs CALLERS=auth_tcp or auth_udp: without autofallthrough a contact that failed its qualify is answered 404"
(($(id -u) == 0)) || die "must run as root: it makes a network namespace and a chroot"
need sipp dumpcap tshark ip flock
OUTDIR=$(output_dir sip-asterisk "${2-}")

# ---------------------------------------------------------------- the chroot

make_chroot() { # make_chroot: Debian sid with Asterisk 22, built aside and moved in when whole
	need mmdebstrap
	echo "record.sh: making the Asterisk chroot $CHROOT (a few minutes)" >&2
	mkdir -p "$(dirname "$CHROOT")"
	rm -rf "$CHROOT.new"
	# sid's Release files may be older than apt's freshness check allows on a snapshot mirror
	timeout 1800 mmdebstrap --variant=apt --aptopt='Acquire::Check-Valid-Until "false"' \
		--include=asterisk,asterisk-modules,asterisk-config,unixodbc,odbc-postgresql,ca-certificates \
		sid "$CHROOT.new" "$MIRROR" >"$(dirname "$CHROOT")/mmdebstrap.log" 2>&1 ||
		die "mmdebstrap failed, see $(dirname "$CHROOT")/mmdebstrap.log"
	mv "$CHROOT.new" "$CHROOT"
}

# One recording at a time per chroot: they share its /etc/resolv.conf.
mkdir -p "$(dirname "$CHROOT")"
exec 9>"$CHROOT.lock"
flock -w 600 9 || die "another recording holds $CHROOT.lock"
[[ -x $CHROOT/usr/sbin/asterisk ]] || make_chroot
AST_VERSION=$(chroot "$CHROOT" /usr/sbin/asterisk -V | awk '{ print $2 }')

# ---------------------------------------------------------------- work dirs and cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/diag503-record-ast-$SCENARIO.XXXXXX")
AST_RUN=/tmp/diag503-$SCENARIO-$$ # Asterisk's run dir as Asterisk sees it, in the chroot
AST_DIR=$CHROOT$AST_RUN            # and as the host sees it
NS=''

cleanup_extra() { # run by the shared cleanup on exit, before the logs are judged
	if [[ -n $NS ]]; then ip netns del "$NS" 2>/dev/null || true; fi
	# rc is the exit status of the shared cleanup() that calls this
	# shellcheck disable=SC2154
	if [[ $rc == 0 && ${KEEP_WORK-} != 1 ]]; then
		rm -rf "$AST_DIR"
	elif [[ -d $AST_DIR ]]; then
		echo "record.sh: Asterisk's run dir kept in $AST_DIR" >&2
	fi
}

netns_create() { # netns_create: the namespace, lo up with the addresses of the topology
	NS=diag503-ast-$SCENARIO-$$
	ip netns add "$NS"
	IN_NS=(ip netns exec "$NS")
	ip -n "$NS" link set lo up
	local addr
	((SINGLE_HOST)) && return  # 127.0.0.1 is lo's own
	for addr in "$PBX_HOST_IP/24" "$SIP_IP/32" "$CALLER_NET.1/24" "${GW_IP%.*}.1/24"; do
		ip -n "$NS" addr add "$addr" dev lo
	done
}

# The prefix that runs a command (in the namespace) in the chroot, with the chroot's own
# /proc and the host name pbx (in /etc/hosts there: Asterisk looks its own name up at start,
# and that lookup must not reach the wire): ip netns exec gives each run a mount namespace of
# its own and unshare a UTS one, so the mount and the name end with it.
# shellcheck disable=SC2016 # a shell program with its own arguments
IN_CHROOT=(unshare --uts /bin/sh -c 'hostname pbx && mount -t proc proc "$1/proc" &&
	root=$1 && shift &&
	exec chroot "$root" /usr/bin/env ODBCSYSINI="$0" ODBCINI="$0/odbc.ini" "$@"'
	"$AST_RUN/etc" "$CHROOT")

listening() { # listening <ip> <port> [tcp]: in the namespace, a UDP socket bound there (or TCP)
	local table=/proc/net/udp state='.*' a b c d
	[[ ${3-} == tcp ]] && table=/proc/net/tcp state=0A
	IFS=. read -r a b c d <<<"$1"
	# /proc/net shows an IPv4 address as a little-endian hex number
	# shellcheck disable=SC2016 # an awk program
	"${IN_NS[@]}" awk -v sock="$(printf '%02X%02X%02X%02X:%04X' "$d" "$c" "$b" "$a" "$2")" \
		-v state="$state" '$2 == sock && $4 ~ "^" state "$" { found = 1 }
		END { exit !found }' "$table"
}

# ---------------------------------------------------------------- the parts

capture_start() { # everything on the namespace's lo: only the recording's traffic runs there
	start dumpcap dumpcap -q -i lo -w "$WORK/capture.pcapng"
	CAPTURE_PID=$LAST_PID
	wait_for 5 "dumpcap to capture" grep -qs "Capturing on" "$WORK/dumpcap.log"
}

gateway_start() { # the carrier's gateway; its message log says which calls it refused
	sed "s|<pause milliseconds=\"100\"/>|<pause milliseconds=\"$GW_RING_MS\"/>|" "$HERE/uas-carrier.xml" >"$WORK/uas-carrier.xml"
	if [[ -n $GW_ERROR ]]; then # a fault, not a refusal: no Reason either
		sed -i -e "s|SIP/2.0 503 Service Unavailable|SIP/2.0 $GW_ERROR|" -e '/^ *Reason: Q.850/d' \
			"$WORK/uas-carrier.xml"
	fi
	start gateway sipp -sf "$WORK/uas-carrier.xml" -i "$GW_IP" -p "$GW_PORT" -nostdin \
		-trace_msg -message_file "$WORK/gateway-messages.log" -timeout 300s
	wait_for 5 "the carrier's gateway" listening "$GW_IP" "$GW_PORT"
}

configure() { # configure: Asterisk's configuration, from this folder into the run dir
	mkdir -p "$AST_DIR"/{etc,lib,spool,run,log,cache}
	local file options='' odbc=no
	[[ $BASE_SCENARIO == maxcalls ]] && options="maxcalls = $MAXCALLS"
	if [[ $SCENARIO == maxload ]]; then
		# the load average is the host's (not the namespace's): the limit sits above it
		MAXLOAD=$(awk -v over="$MAXLOAD_OVER" '{ printf "%.2f", $1 + over }' /proc/loadavg)
		options="maxload = $MAXLOAD"
	fi
	[[ $SCENARIO == odbc_down ]] && odbc=yes
	for file in asterisk.conf modules.conf logger.conf pjsip.conf extensions.conf \
		res_odbc.conf func_odbc.conf odbc.ini; do
		sed -e "s|@RUN@|$AST_RUN|g" -e "s|@OPTIONS@|$options|" -e "s|@SIP_IP@|$SIP_IP|g" \
			-e "s|@GW_IP@|$TRUNK_IP|g" -e "s|@DEAD_IP@|$DEAD_IP|g" -e "s|@SILENT_IP@|$SILENT_IP|g" -e "s|@PHONE_IP@|$PHONE_IP|g" \
			-e "s|@TLS_PEER_IP@|$TLS_PEER_IP|g" -e "s|@SCENARIO@|$BASE_SCENARIO|g" \
			-e "s|@GW_PORT@|$GW_PORT|g" -e "s|@DEAD_PORT@|$DEAD_PORT|g" -e "s|@SILENT_PORT@|$SILENT_PORT|g" \
			-e "s|@TLS_PEER_PORT@|$TLS_PEER_PORT|g" -e "s|@PHONE_PORT@|$PHONE_PORT|g" -e "s|@NAMED_PORT@|$NAMED_PORT|g" \
			-e "s|@GROUP_MAX@|$GROUP_MAX|g" -e "s|@DB_IP@|$DB_IP|g" -e "s|@ODBC_ENABLED@|$odbc|" \
			"$HERE/$file" >"$AST_DIR/etc/$file"
	done
	: >"$AST_DIR/etc/odbcinst.ini"
	if [[ $CALLERS == auth_* ]]; then
		sed -e "s|@SCENARIO@|$BASE_SCENARIO|g" -e "s|@CALLER_MATCH@|$CALLER_MATCH|g" \
			-e "s|@TRANSPORT@|$CALLER_TRANSPORT|g" \
			"$HERE/pjsip_callers.conf" >"$AST_DIR/etc/pjsip_callers.conf"
		sed -i '/; end of a failed dial$/d' "$AST_DIR/etc/extensions.conf"
		ALSO+=", the callers calling over ${CALLER_TRANSPORT^^} as one endpoint that authenticates (digest, 401"
		ALSO+=" first), a failed Dial() ending in autofallthrough"
	fi
	if [[ -n ${QUALIFY-} ]]; then
		qualify_scenario_aors
		ALSO+=", the contacts it dials ($QUALIFIED) qualified (OPTIONS every $QUALIFY s, the first at start), the"
		ALSO+=" calls beginning ${CALLS_AFTER:-0} s after Asterisk was up"
	fi
	if [[ $BASE_SCENARIO == trunk_tls* ]]; then
		sed -e "s|@RUN@|$AST_RUN|g" -e "s|@SIP_IP@|$SIP_IP|g" "$HERE/pjsip_tls.conf" \
			>"$AST_DIR/etc/pjsip_tls.conf"
	fi
	# the rest as the package ships it (the Congestion() tones are in indications.conf)
	for file in indications.conf ccss.conf features.conf cdr.conf cel.conf acl.conf udptl.conf \
		pjproject.conf; do
		cp "$CHROOT/etc/asterisk/$file" "$AST_DIR/etc/$file"
	done
	# no name server but the recording's: a lookup cannot leave the namespace anyway
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$DNS_IP" >"$CHROOT/etc/resolv.conf"
	# both families: a name with an IPv4 address only is still asked for its IPv6 one
	printf '127.0.0.1\tlocalhost\n%s\tpbx.lan.test pbx\nfd00:20::2\tpbx.lan.test pbx\n' \
		"$PBX_HOST_IP" >"$CHROOT/etc/hosts"
}

scenario_aors() { # the AORs the scenario's dialplan context dials: its trunks and phones
	# shellcheck disable=SC2016 # an awk program
	awk -v context="[$BASE_SCENARIO]" '
		/^\[/ { inside = ($1 == context); next }
		!inside { next }
		match($0, /dial-trunk,s,1\([a-z-]*/) { print substr($0, RSTART + 15, RLENGTH - 15) }
		/dial-phone,s,1\(phone-/ { exten = $3; sub(/,.*/, "", exten); print "phone-" exten }
	' "$AST_DIR/etc/extensions.conf" | sort -u
}

qualify_scenario_aors() { # qualify_frequency on those AORs in pjsip.conf: PJSIP qualifies each
	local aors
	aors=$(scenario_aors | paste -sd ' ' -)
	[[ -n $aors ]] || die "the dialplan of $BASE_SCENARIO dials no AOR to qualify"
	# shellcheck disable=SC2016 # an awk program
	awk -v aors=" $aors " -v every="$QUALIFY" '
		/^\[/ { section = $1; gsub(/[][]/, "", section) }
		{ print }
		$0 == "type = aor" && index(aors, " " section " ") { print "qualify_frequency = " every }
	' "$AST_DIR/etc/pjsip.conf" >"$AST_DIR/etc/pjsip.conf.new"
	mv "$AST_DIR/etc/pjsip.conf.new" "$AST_DIR/etc/pjsip.conf"
	QUALIFIED=$aors
}

asterisk_start() {
	start asterisk "${IN_CHROOT[@]}" /usr/sbin/asterisk -f -C "$AST_RUN/etc/asterisk.conf"
	ASTERISK_PID=$LAST_PID
	wait_for 20 "Asterisk's SIP on $SIP_IP:5060" listening "$SIP_IP" 5060
	wait_for 20 "Asterisk fully booted" grep -qs "Asterisk Ready" "$AST_DIR/log/full"
}

csv() { # csv <file> <line...>: a SIPp injection file (-inf) in the work dir, read in order
	local file=$WORK/$1
	shift
	if ((ONE_CALLER)); then  # the caller's number, the first field, is SIPp's default user
		printf '%s\n' SEQUENTIAL "$@" | sed '2,$s/^[^;]*;/sipp;/' >"$file"
	else
		printf '%s\n' SEQUENTIAL "$@" >"$file"
	fi
}

UACS=()
UAC_RUNS=0
calls() { # calls <caller number 11..> <csv> <sipp options...>: a SIPp UAC calling through the PBX
	local ip=$CALLER_NET.$1 port=$CALLER_PORT inf=$2
	shift 2
	((ONE_CALLER)) && ip=$CALLER_NET.11 port=$((CALLER_PORT + UAC_RUNS))
	((SINGLE_HOST)) && ip=127.0.0.1 port=$((CALLER_PORT + UAC_RUNS))
	local how=(-sf "$HERE/uac-call.xml")
	[[ $CALLERS == auth_* ]] &&
		how=(-sf "$HERE/uac-call-auth.xml" -t "${CALLER_TRANSPORT:0:1}1" -au office -ap diag503-office)
	start "uac-$((++UAC_RUNS))" sipp "$TARGET_IP:$TARGET_PORT" "${how[@]}" \
		-inf "$WORK/$inf" -i "$ip" -p "$port" -nostdin -timeout 60s -timeout_error "$@"
	UACS+=("$LAST_PID")
}

# ---------------------------------------------------------------- the scenarios
# traffic_<scenario> makes the calls; intended_<scenario> prints "<Call-ID> <cause>" for each
# call the scenario meant Asterisk to refuse, from the logs; prepare_<scenario> (optional)
# runs before Asterisk starts, check_<scenario> (optional) looks for the cause's evidence.

dial_failed() { # dial_failed <trunk regexp>: Call-IDs whose Dial() to such a trunk failed
	grep -o "diag503-dial callid=[^ ]* trunk=[^ ]* dialstatus=[A-Z]*" "$AST_DIR/log/full" |
		awk -v trunk="^trunk=($1)\$" '$3 ~ trunk && $4 != "dialstatus=ANSWER" {
			sub(/^callid=/, "", $2); print $2 }'
}

refused() { # refused <why>: Call-IDs the dialplan refused for that reason
	grep -o "diag503-refused callid=[^ ]* why=$1\( \|\$\).*" "$AST_DIR/log/full" |
		awk '{ sub(/^callid=/, "", $2); print $2 }'
}

prepare_relayed_503() {
	ALSO+=", the gateway refusing callees 2xxx with 503 and Reason Q.850 cause 34"
}

traffic_relayed_503() { # 2 calls/s of 2 s, every third to a 2xxx number the carrier refuses
	csv calls.csv "4001;1101;" "4002;1102;" "4003;2101;" "4004;1103;" "4005;1104;" \
		"4006;2102;" "4007;1105;" "4008;1106;" "4009;2103;"
	calls 11 calls.csv -d 2000 -r 2 -m 12
	uacs_done
}

intended_relayed_503() { # the trunk leg ended with the gateway's 503
	grep -o "diag503-dial callid=[^ ]* trunk=carrier .*leg_cause=SIP 503 .*" "$AST_DIR/log/full" |
		awk '{ sub(/^callid=/, "", $2); print $2, "upstream_failure" }'
}

check_relayed_503() { # the gateway refused with 503 itself
	(($(count "$1" "ip.src == $GW_IP && udp.srcport == $GW_PORT && sip.Status-Code == 503") > 0)) ||
		die "the gateway sent no 503"
}

prepare_trunk_dns() { # the resolver, before Asterisk starts
	need dnsmasq
	# it listens on lo as a whole (a wildcard socket), so 10.20.0.53 need not be an address
	# of its own: the PBX host's address stays the kernel's source for the queries. It has no
	# upstream for carrier-c.test, so it refuses those (an upstream that is down instead makes
	# dnsmasq 2.90 resend to it in a tight loop: hundreds of thousands of packets).
	start dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
		--interface=lo --pid-file= --log-queries=extra --log-facility=- \
		--local=/carrier-a.test/ --host-record="sbc.carrier-a.test,$GW_IP" \
		--local=/carrier-b.test/
	wait_for 5 "dnsmasq" listening 0.0.0.0 53
	ALSO+=", dnsmasq $(dnsmasq --version | awk 'NR == 1 { print $3 }') as its resolver"
	ALSO+=" (sbc.carrier-a.test: the gateway; carrier-b.test: NXDOMAIN; carrier-c.test:"
	ALSO+=" REFUSED)"
}

traffic_trunk_dns() { # 2 calls/s; 1xxx to the carrier by name, 2xxx and 3xxx to names that fail
	csv calls.csv "4001;1101;" "4002;2101;" "4003;1102;" "4004;3101;" "4005;1103;" \
		"4006;2102;" "4007;1104;" "4008;3102;"
	calls 11 calls.csv -d 2000 -r 2 -m 12
	uacs_done
}

intended_trunk_dns() {
	dial_failed 'carrier-b|carrier-c' | awk '{ print $1, "dns_failure" }'
}

check_trunk_dns() { # the resolver said one name does not exist and refused the other
	grep -q "sbc.carrier-b.test is NXDOMAIN" "$WORK/dnsmasq.log" ||
		die "dnsmasq did not answer NXDOMAIN for sbc.carrier-b.test"
	(($(count "$1" 'dns.flags.response == 1 && dns.flags.rcode == 3 && dns.qry.name contains "carrier-b"') > 0)) ||
		die "no DNS answer says sbc.carrier-b.test does not exist"
	(($(count "$1" 'dns.flags.response == 1 && dns.flags.rcode == 5 && dns.qry.name contains "carrier-c"') > 0)) ||
		die "no DNS answer refuses to look sbc.carrier-c.test up"
	(($(count "$1" 'dns.flags.response == 1 && dns.flags.rcode == 0 && dns.qry.name contains "carrier-c"') == 0)) ||
		die "a lookup of sbc.carrier-c.test was answered"
}

prepare_trunk_tls() { # certificates: the PBX trusts its own CA; the carrier's is self-signed
	need openssl
	local etc=$AST_DIR/etc
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=PBX Ltd/CN=PBX Ltd CA" \
			-keyout "$WORK/pbx-ca.key" -out "$etc/pbx-ca.crt"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=pbx.lan.test" -keyout "$etc/pbx.key" \
			-out "$WORK/pbx.csr"
		openssl x509 -req -in "$WORK/pbx.csr" -CA "$etc/pbx-ca.crt" -CAkey "$WORK/pbx-ca.key" \
			-CAcreateserial -days 2 -out "$etc/pbx.crt"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=sbc.carrier.test" \
			-keyout "$WORK/carrier.key" -out "$WORK/carrier.crt"
	} 2>>"$WORK/openssl.log" || die "openssl failed, see $WORK/openssl.log"
	start tls-peer openssl s_server -accept "$TLS_PEER_IP:$TLS_PEER_PORT" -cert "$WORK/carrier.crt" \
		-key "$WORK/carrier.key" -www
	wait_for 5 "the carrier's TLS on $TLS_PEER_IP:$TLS_PEER_PORT" listening "$TLS_PEER_IP" "$TLS_PEER_PORT" tcp
	ALSO+=", an OpenSSL $(openssl version | awk '{ print $2 }') s_server as the carrier's SIP"
	ALSO+=" over TLS (2xxx) with a self-signed certificate the PBX does not trust"
}

traffic_trunk_tls() { # 2 calls/s; 2xxx over TLS to the carrier the PBX does not trust
	traffic_relayed_503
}

intended_trunk_tls() {
	dial_failed carrier-tls | awk '{ print $1, "tls_failure" }'
}

check_trunk_tls() { # Asterisk refused the certificate, and closed the connection with an alert
	grep -q "Transport 'transport-tls' to remote '$TLS_PEER_IP' .* The certificate is untrusted" \
		"$AST_DIR/log/full" || die "Asterisk did not log the carrier's certificate as untrusted"
	# PJSIP checks the certificate after the handshake, so its alert is encrypted
	(($(count "$1" "ip.dst == $TLS_PEER_IP && tcp.dstport == $TLS_PEER_PORT && tls.record.content_type == 21") > 0)) ||
		die "the capture holds no TLS alert from the PBX to the carrier"
}

# trunk_tls_rejected: the carrier's certificate is one the PBX trusts, but the carrier speaks
# TLS 1.3 only and the PBX's transport 1.2: the carrier ends each handshake with an alert.
prepare_trunk_tls_rejected() {
	need openssl
	local etc=$AST_DIR/etc
	{
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=PBX Ltd/CN=PBX Ltd CA" \
			-keyout "$WORK/pbx-ca.key" -out "$etc/pbx-ca.crt"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=pbx.lan.test" -keyout "$etc/pbx.key" \
			-out "$WORK/pbx.csr"
		openssl x509 -req -in "$WORK/pbx.csr" -CA "$etc/pbx-ca.crt" -CAkey "$WORK/pbx-ca.key" \
			-CAcreateserial -days 2 -out "$etc/pbx.crt"
		openssl req -newkey rsa:2048 -nodes -subj "/CN=sbc.carrier.test" \
			-keyout "$WORK/carrier.key" -out "$WORK/carrier.csr"
		openssl x509 -req -in "$WORK/carrier.csr" -CA "$etc/pbx-ca.crt" -CAkey "$WORK/pbx-ca.key" \
			-CAcreateserial -days 2 -out "$WORK/carrier.crt"
	} 2>>"$WORK/openssl.log" || die "openssl failed, see $WORK/openssl.log"
	start tls-peer openssl s_server -accept "$TLS_PEER_IP:$TLS_PEER_PORT" -cert "$WORK/carrier.crt" \
		-key "$WORK/carrier.key" -tls1_3 -www
	wait_for 5 "the carrier's TLS on $TLS_PEER_IP:$TLS_PEER_PORT" listening "$TLS_PEER_IP" "$TLS_PEER_PORT" tcp
	ALSO+=", an OpenSSL $(openssl version | awk '{ print $2 }') s_server as the carrier's SIP"
	ALSO+=" over TLS (2xxx) with a certificate the PBX trusts, accepting TLS 1.3 only while the"
	ALSO+=" PBX's transport speaks 1.2"
}

traffic_trunk_tls_rejected() {
	traffic_relayed_503
}

intended_trunk_tls_rejected() {
	dial_failed carrier-tls | awk '{ print $1, "tls_failure" }'
}

check_trunk_tls_rejected() { # the carrier ended the PBX's handshakes with an alert in the clear
	(($(count "$1" "ip.src == $TLS_PEER_IP && tcp.srcport == $TLS_PEER_PORT && tls.alert_message") > 0)) ||
		die "the capture holds no TLS alert from the carrier to the PBX"
}

# maintenance_switch: calls go through; the administrator turns the dialplan's maintenance switch on
# (AstDB sys/maintenance); every later call is ended at once with Congestion(), which PJSIP answers 503.
prepare_maintenance_switch() {
	ALSO+=", the dialplan ending every call with Congestion() once the administrator turned its"
	ALSO+=" maintenance switch (AstDB sys/maintenance) on, 3 s into the calls"
}

traffic_maintenance_switch() { # 2 calls/s of 2 s; the switch on after 3 s, while calls continue
	csv calls.csv "4001;1101;" "4002;1102;" "4003;1103;" "4004;1104;" "4005;1105;" "4006;1106;" \
		"4007;1107;" "4008;1108;" "4009;1109;" "4010;1110;"
	csv more.csv "4101;1201;" "4102;1202;" "4103;1203;" "4104;1204;" "4105;1205;"
	calls 11 calls.csv -d 2000 -r 2 -m 10
	sleep 1.2
	calls 12 more.csv -d 2000 -r 1 -m 5
	sleep 1.8
	"${IN_CHROOT[@]}" /usr/sbin/asterisk -C "$AST_RUN/etc/asterisk.conf" \
		-rx "database put sys maintenance 1" >>"$WORK/cli.log" 2>&1
	uacs_done
}

intended_maintenance_switch() {
	refused maintenance | awk '{ print $1, "maintenance" }'
}

prepare_maxcalls() {
	ALSO+=", asterisk.conf maxcalls = $MAXCALLS"
}

traffic_maxcalls() { # 2 calls/s of 3.25 s each: a 4th call finds 3 up, off and on
	csv calls.csv "4001;1101;" "4002;1102;" "4003;1103;" "4004;1104;" "4005;1105;" \
		"4006;1106;" "4007;1107;"
	calls 11 calls.csv -d 3250 -r 2 -m 14
	uacs_done
}

# logged_refusal <log message>: Call-IDs of the SIP answers Asterisk sent right after logging
# that message, in the same thread (a PJSIP serializer task: the refusal and its answer are
# one task, and the pjsip logger copies the answer into the log before the task ends); each
# must be a 503, or the refusal is not what the scenario meant
logged_refusal() {
	awk -v what="$1" '
		/^\[/ {
			body = 0
			tid = $3; sub(/^[A-Z]*\[/, "", tid); sub(/\].*/, "", tid)
			if (index($0, what)) pending[tid] = 1
			else if (pending[tid] && /res_pjsip_logger.c: <--- Transmitting SIP response/) {
				delete pending[tid]; body = 1; status = ""
			}
			next
		}
		body && status == "" { status = $0; next }
		body && /^Call-ID:/ {
			sub(/\r$/, ""); if (status ~ /^SIP\/2.0 503 /) print $2; else print "not-503", $2
			body = 0
		}' "$AST_DIR/log/full"
}

intended_maxcalls() {
	logged_refusal "Failed to start PBX (call limit reached)" |
		awk '$1 != "not-503" { print $1, "capacity_limit" }'
}

check_maxcalls() { # Asterisk logged the limit it enforced
	grep -q "Maximum call limit of $MAXCALLS calls exceeded" "$AST_DIR/log/full" ||
		die "Asterisk did not log its call limit of $MAXCALLS"
	logged_refusal "Failed to start PBX (call limit reached)" | grep -q . ||
		die "no answer to a refused call is in Asterisk's log"
	! logged_refusal "Failed to start PBX (call limit reached)" | grep -q '^not-503' ||
		die "Asterisk answered a call over the limit with another code than 503"
}

prepare_maxload() {
	ALSO+=", asterisk.conf maxload = $MAXLOAD (the host's 1-minute load average at start"
	ALSO+=" + $MAXLOAD_OVER), pushed over it midway by $BURNERS busy loops on a $(nproc)-CPU host"
}

load1() { awk '{ print $1 }' /proc/loadavg; }

traffic_maxload() { # calls below the limit; then busy loops until the load is over it, calls
	csv calls.csv "4001;1101;" "4002;1102;" "4003;1103;" "4004;1104;"
	calls 11 calls.csv -d 1000 -r 2 -m 4
	uacs_done
	local i
	for ((i = 0; i < BURNERS; i++)); do
		start "burner-$i" timeout 120 sh -c 'while :; do :; done'
	done
	# the kernel updates the load average every 5 s
	# shellcheck disable=SC2016 # an awk program
	wait_for 90 "the load average over $MAXLOAD" awk -v max="$MAXLOAD" \
		'{ exit !($1 > max + 0.1) }' /proc/loadavg
	echo "load average $(load1) over maxload $MAXLOAD" >>"$WORK/load.log"
	csv over.csv "4011;1111;" "4012;1112;" "4013;1113;" "4014;1114;" "4015;1115;" "4016;1116;"
	calls 12 over.csv -d 1000 -r 2 -m 6
	uacs_done
	for pid in "${!RUNNING[@]}"; do
		[[ ${RUNNING[$pid]} == burner-* ]] && stop "$pid"
	done
	echo "load average $(load1) after the calls" >>"$WORK/load.log"
}

intended_maxload() { # Asterisk's own warning, then the answer its PJSIP thread sent
	logged_refusal "Maximum loadavg limit of" | awk '$1 != "not-503" { print $1, "overload" }'
}

check_maxload() { # Asterisk logged its load limit, and answered each refusal with a 503
	grep -q "Maximum loadavg limit of ${MAXLOAD}[0-9]* load exceeded" "$AST_DIR/log/full" ||
		die "Asterisk did not log its load limit of $MAXLOAD"
	! logged_refusal "Maximum loadavg limit of" | grep -q '^not-503' ||
		die "Asterisk answered a call over the load limit with another code than 503"
}

# maxcalls_ringing: the same limit, the carrier ringing 1.5 s before it answers, so most
# refusals come while some of the calls that fill the limit are still ringing
prepare_maxcalls_ringing() {
	GW_RING_MS=1500
	prepare_maxcalls
	ALSO+=", the carrier's gateway ringing ${GW_RING_MS} ms before it answers"
}

traffic_maxcalls_ringing() {
	traffic_maxcalls
}

intended_maxcalls_ringing() {
	intended_maxcalls
}

check_maxcalls_ringing() {
	check_maxcalls "$1"
}

prepare_group_limit() {
	ALSO+=", the dialplan allowing $GROUP_MAX calls at once on the trunk (GROUP_COUNT, Congestion())"
}

traffic_group_limit() {
	traffic_maxcalls
}

intended_group_limit() {
	refused group_limit | awk '{ print $1, "capacity_limit" }'
}

prepare_graceful_stop() {
	ALSO+=", 'core stop gracefully' given with 4 calls up while 6 more came in"
}

traffic_graceful_stop() { # 4 calls of 8 s; then core stop gracefully while others call
	csv calls.csv "4001;1101;" "4002;1102;" "4003;1103;" "4004;1104;"
	csv late.csv "5001;1201;" "5002;1202;" "5003;1203;" "5004;1204;" "5005;1205;" "5006;1206;"
	calls 11 calls.csv -d 8000 -r 2 -m 4
	sleep 2.5
	# the command returns only when Asterisk has stopped: it runs alongside
	start cli "${IN_CHROOT[@]}" /usr/sbin/asterisk -C "$AST_RUN/etc/asterisk.conf" \
		-rx "core stop gracefully"
	sleep 0.5
	calls 12 late.csv -d 1000 -r 2 -m 6
	uacs_done
	# the last call ended: Asterisk ends itself
	wait_for 10 "Asterisk to stop" bash -c "[[ \$(cat /proc/$ASTERISK_PID/stat 2>/dev/null |
		awk '{ print \$3 }') =~ ^(Z|)\$ ]]"
}

intended_graceful_stop() { # Asterisk refused to make a channel for the call: shutting down
	logged_refusal "Channel allocation failed: Refusing due to active shutdown" |
		awk '$1 != "not-503" { print $1, "maintenance" }'
}

check_graceful_stop() { # the refusals were 503s, and the calls up before were not cut
	! logged_refusal "Channel allocation failed: Refusing due to active shutdown" |
		grep -q '^not-503' || die "Asterisk refused a call during shutdown with another code"
}

prepare_trunk_down() {
	ALSO+=", 2xxx to a carrier gateway over TCP whose host refuses the connection (nothing listens)"
}

traffic_trunk_down() { # 2 calls/s; 2xxx to the gateway that is down
	traffic_relayed_503
}

intended_trunk_down() {
	dial_failed carrier-down | awk '{ print $1, "upstream_failure" }'
}

check_trunk_down() { # the gateway's host refused the PBX's connections
	(($(count "$1" "ip.src == $DEAD_IP && tcp.srcport == $DEAD_PORT && tcp.flags.reset == 1") > 0)) ||
		die "no TCP connection to $DEAD_IP:$DEAD_PORT was refused"
}

# trunk_unreachable: trunk_down over UDP, where the gateway host's kernel bounces each INVITE
# as ICMP port unreachable: the PBX learns nothing from the bounces and waits out its timers.
prepare_trunk_unreachable() {
	ALSO+=", 2xxx to a carrier gateway over UDP whose host is up with nothing listening"
	ALSO+=" (ICMP port unreachable)"
}

traffic_trunk_unreachable() { # 2 calls/s; 2xxx to the gateway that is down
	traffic_relayed_503
}

intended_trunk_unreachable() {
	dial_failed carrier-down-udp | awk '{ print $1, "upstream_failure" }'
}

check_trunk_unreachable() { # the gateway's host bounced the PBX's requests
	(($(count "$1" "icmp.type == 3 && icmp.code == 3 && ip.src == $DEAD_IP && udp.dstport == $DEAD_PORT") > 0)) ||
		die "no request to $DEAD_IP:$DEAD_PORT was bounced"
}

# trunk_silent: a gateway whose SIP process hangs: its socket takes every INVITE and nothing
# answers, no bounce either; the PBX retransmits until its transaction times out.
prepare_trunk_silent() {
	ALSO+=", 2xxx over UDP to a carrier gateway whose SIP process hangs (its socket takes the"
	ALSO+=" INVITEs, nothing answers)"
}

traffic_trunk_silent() { # the silent socket; then 2 calls/s, every third to it
	start silent-gateway python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
while True:
    s.recv(65535)' "$SILENT_IP" "$SILENT_PORT"
	wait_for 5 "the silent gateway" listening "$SILENT_IP" "$SILENT_PORT"
	traffic_relayed_503
}

intended_trunk_silent() {
	dial_failed carrier-silent | awk '{ print $1, "upstream_failure" }'
}

check_trunk_silent() { # the PBX sent the gateway INVITEs, and nothing came back from it
	(($(count "$1" "ip.dst == $SILENT_IP && udp.dstport == $SILENT_PORT && sip.Method == INVITE") > 0)) ||
		die "the PBX sent the silent gateway no INVITE"
	(($(count "$1" "ip.src == $SILENT_IP && udp.srcport == $SILENT_PORT") == 0)) || die "the silent gateway answered"
}

# trunk_error: the carrier's gateway answers callees 2xxx with 500 Server Internal Error, a
# fault of the next hop rather than its refusal; the PBX ends those calls itself.
prepare_trunk_error() {
	GW_ERROR='500 Server Internal Error'
	ALSO+=", the gateway answering callees 2xxx 500 Server Internal Error"
}

traffic_trunk_error() {
	traffic_relayed_503
}

intended_trunk_error() { # the trunk leg ended with the gateway's 500
	grep -o "diag503-dial callid=[^ ]* trunk=carrier .*leg_cause=SIP 500 .*" "$AST_DIR/log/full" |
		awk '{ sub(/^callid=/, "", $2); print $2, "upstream_failure" }'
}

check_trunk_error() { # the gateway answered 500 itself
	(($(count "$1" "ip.src == $GW_IP && udp.srcport == $GW_PORT && sip.Status-Code == 500") > 0)) ||
		die "the gateway sent no 500"
}

# The dialplan has no route for the callee: the PBX's routing, not a next hop (none was
# tried), not its load. Of diag503's causes that is registration_routing (the callee cannot
# be located or routed), not upstream_failure (a next hop that was tried and failed).
prepare_dialplan_congestion() {
	ALSO+=", the dialplan routing 1xxx to the carrier and ending every other callee (no route)"
	ALSO+=" with Congestion(); labelled registration_routing: the PBX had no route for the"
	ALSO+=" callee and tried no next hop, so neither upstream_failure nor a load or limit"
}

traffic_dialplan_congestion() { # 2 calls/s of 2 s; every third to a number with no route
	csv calls.csv "4001;1101;" "4002;1102;" "4003;5101;" "4004;1103;" "4005;1104;" \
		"4006;7102;" "4007;1105;" "4008;1106;" "4009;5103;"
	calls 11 calls.csv -d 2000 -r 2 -m 9
	csv more.csv "4011;1107;" "4012;9104;" "4013;1108;" "4014;5101;"
	calls 12 more.csv -d 2000 -r 2 -m 4
	uacs_done
}

intended_dialplan_congestion() {
	refused no_route | awk '{ print $1, "registration_routing" }'
}

check_dialplan_congestion() { # no INVITE of a callee without a route went to the carrier
	(($(count "$1" "ip.dst == $GW_IP && udp.dstport == $GW_PORT && sip.Method == INVITE \
&& !(sip.r-uri.user matches \"^1\")") == 0)) ||
		die "a callee without a route reached the carrier"
}

sbc_address() { # sbc_address: the SBC's address, where the callers send their calls
	need kamailio
	((SINGLE_HOST)) || ip -n "$NS" addr add "$SBC_IP/32" dev lo
	TARGET_IP=$SBC_IP TARGET_PORT=$SBC_PORT
}

sbc_start() { # sbc_start: Kamailio in front of the PBX, relaying every call to it
	start sbc kamailio -f "$HERE/kamailio_front.cfg" -DD -E -m 32 -M 8 -P "$WORK/sbc.pid" \
		-Y "$WORK" -w "$WORK" -A "PROXY_LISTEN=udp:$SBC_IP:$SBC_PORT" \
		-A "INNER_URI=\"sip:$SIP_IP:5060\""
	wait_for 10 "Kamailio on $SBC_IP:$SBC_PORT" listening "$SBC_IP" "$SBC_PORT"
}

sbc_relayed_the_pbx() { # sbc_relayed_the_pbx <pcap>: each 503 of the SBC relays the PBX's
	local pbx sbc
	local to_callers="ip.dst == $CALLER_NET.0/24" from_callers="ip.src == $CALLER_NET.0/24"
	if ((SINGLE_HOST)); then
		to_callers="udp.dstport >= $CALLER_PORT && udp.dstport < $GW_PORT"
		from_callers="udp.srcport >= $CALLER_PORT && udp.srcport < $GW_PORT"
	fi
	pbx=$(tshark -r "$1" -Y "ip.src == $SIP_IP && udp.srcport == 5060 && ip.dst == $SBC_IP \
&& udp.dstport == $SBC_PORT && sip.Status-Code == 503" \
		-T fields -e sip.Call-ID 2>>"$WORK/tshark.log" | sort -u)
	sbc=$(tshark -r "$1" -Y "ip.src == $SBC_IP && udp.srcport == $SBC_PORT && $to_callers \
&& sip.Status-Code == 503" \
		-T fields -e sip.Call-ID 2>>"$WORK/tshark.log" | sort -u)
	[[ -n $pbx ]] || die "the PBX sent the SBC no 503"
	[[ $pbx == "$sbc" ]] || die "the SBC's 503s are not the PBX's relayed"
	(($(count "$1" "$from_callers && ip.dst == $SIP_IP && udp.dstport == 5060") == 0)) ||
		die "a caller reached the PBX around the SBC"
}

prepare_kamailio_front() { # the resolver as in trunk_dns; Kamailio in front of the PBX
	prepare_trunk_dns
	sbc_address
	ALSO+=", Kamailio $(kamailio -v | awk 'NR == 1 { print $3 }') as the SBC in front of the"
	ALSO+=" PBX ($SBC_IP, tools/record/asterisk/kamailio_front.cfg) relaying the PBX's 503s as"
	ALSO+=" they are; labels: the PBX's own 503 the cause where the failure began (dns_failure:"
	ALSO+=" its trunk's name did not resolve, from its dialplan log and the resolver's answers),"
	ALSO+=" the SBC's relayed 503 for the same call $SBC_CAUSE (its next hop, the PBX, failed,"
	ALSO+=" as in the Kamailio recorder's chain and sbc_chain_dns)"
}

traffic_kamailio_front() { # the SBC, then 2 calls/s through it; half to names that fail
	sbc_start
	csv calls.csv "4001;1101;" "4002;2101;" "4003;1102;" "4004;3101;" "4005;1103;" \
		"4006;2102;" "4007;1104;" "4008;3102;"
	calls 11 calls.csv -d 2000 -r 2 -m 8
	uacs_done
}

intended_kamailio_front() {
	intended_trunk_dns
}

check_kamailio_front() { # the lookups failed as in trunk_dns; the SBC relayed the PBX's 503s
	check_trunk_dns "$1"
	sbc_relayed_the_pbx "$1"
}

# carrier_proxy: relayed_503 with the carrier's Kamailio proxy between the PBX's trunk and the
# gateway. The gateway's 503s are its own (capacity_limit); the proxy relays each as it is
# (upstream_failure: its next hop, the gateway, refused), and the PBX its proxy's
# (upstream_failure, as in relayed_503).
prepare_carrier_proxy() {
	need kamailio
	ip -n "$NS" addr add "$CARRIER_PROXY_IP/32" dev lo
	ALSO+=", Kamailio $(kamailio -v | awk 'NR == 1 { print $3 }') as the carrier's proxy"
	ALSO+=" ($CARRIER_PROXY_IP, tools/record/asterisk/kamailio_carrier.cfg) that the PBX's trunk"
	ALSO+=" reaches, relaying every call to the gateway and its 503s as they are; the gateway"
	ALSO+=" refusing callees 2xxx with 503 and Reason Q.850 cause 34; labels: the gateway's 503"
	ALSO+=" $GATEWAY_CAUSE, the proxy's and the PBX's relayed 503s for that call $SBC_CAUSE"
}

traffic_carrier_proxy() {
	start carrier-proxy kamailio -f "$HERE/kamailio_carrier.cfg" -DD -E -m 32 -M 8 \
		-P "$WORK/carrier-proxy.pid" -Y "$WORK" -w "$WORK" \
		-A "PROXY_LISTEN=udp:$CARRIER_PROXY_IP:5060" -A "INNER_URI=\"sip:$GW_IP:5060\""
	wait_for 10 "Kamailio on $CARRIER_PROXY_IP:5060" listening "$CARRIER_PROXY_IP" 5060
	traffic_relayed_503
}

intended_carrier_proxy() {
	intended_relayed_503
}

check_carrier_proxy() { # the gateway refused; the proxy relayed each 503 to the PBX
	check_relayed_503 "$1"
	(($(count "$1" "ip.src == $CARRIER_PROXY_IP && ip.dst == $SIP_IP && sip.Status-Code == 503") > 0)) ||
		die "the carrier's proxy relayed no 503 to the PBX"
	(($(count "$1" "ip.src == $SIP_IP && ip.dst == $GW_IP") == 0)) ||
		die "the PBX reached the gateway around the carrier's proxy"
}

# sbc_<scenario>: that scenario with Kamailio in front of the PBX, the callers behind it. The
# PBX's own 503s keep the scenario's cause; the SBC's, relaying them, are upstream_failure (its
# next hop, the PBX, failed), as in kamailio_front.
sbc_also() {
	ALSO+=", Kamailio $(kamailio -v | awk 'NR == 1 { print $3 }') as the SBC in front of the"
	ALSO+=" PBX ($SBC_IP, tools/record/asterisk/kamailio_front.cfg) relaying the PBX's 503s as"
	ALSO+=" they are; labels: the PBX's own 503 as in $BASE_SCENARIO, the SBC's relayed 503 for"
	ALSO+=" the same call $SBC_CAUSE (its next hop, the PBX, failed)"
}
for base in "${SBC_SCENARIOS[@]}"; do
	eval "prepare_sbc_$base() { sbc_address; if declare -F prepare_$base >/dev/null; then prepare_$base; fi; sbc_also; }
traffic_sbc_$base() { sbc_start; traffic_$base; }
intended_sbc_$base() { intended_$base; }
check_sbc_$base() { if declare -F check_$base >/dev/null; then check_$base \"\$1\"; fi; sbc_relayed_the_pbx \"\$1\"; }"
done

# The PBX's resolver is down (nothing listens at its address): every lookup of a trunk by
# name goes unanswered, or is bounced as port unreachable, and the call fails.
prepare_resolver_down() {
	ALSO+=", its resolver $DNS_IP down (nothing listens there); 1xxx to the carrier by"
	ALSO+=" address, 2xxx to the carrier by name (sbc.carrier-a.test)"
}

traffic_resolver_down() { # 2 calls/s of 2 s, every third to the carrier by name
	traffic_relayed_503
}

intended_resolver_down() {
	dial_failed carrier-a | awk '{ print $1, "dns_failure" }'
}

check_resolver_down() { # lookups were sent, and none was answered
	(($(count "$1" "dns.flags.response == 0 && ip.dst == $DNS_IP") > 0)) ||
		die "the PBX sent its resolver no lookup"
	(($(count "$1" "dns.flags.response == 1") == 0)) || die "a lookup was answered"
}

# A phone's registered contact that is stale: only that callee fails while others are
# served (registration_routing). A phone with no contact, or one that failed the qualify,
# gets 404 Not Found (Q.850 cause 3) from Asterisk 22, not a 503: not part of the scenario.
prepare_unavailable_contact() {
	ALSO+=", calls to 5003, the PBX's own phone provisioned over TCP at $PHONE_IP (not"
	ALSO+=" qualified), whose host refuses the connection: its contact is stale; labelled"
	ALSO+=" registration_routing, one callee's contact failing while the others are served"
	ALSO+=" (a phone with no contact or a failed qualify gets 404, not 503, so none is called)"
}

traffic_unavailable_contact() { # 2 calls/s of 2 s, 5 of 12 to the phone that is gone
	csv calls.csv "4001;1101;" "4002;5003;" "4003;1102;" "4004;1103;" "4005;5003;" \
		"4006;1104;" "4007;5003;" "4008;1105;" "4009;1106;" "4010;5003;" "4011;1107;" \
		"4012;5003;"
	calls 11 calls.csv -d 2000 -r 2 -m 12
	uacs_done
}

intended_unavailable_contact() {
	dial_failed phone-5003 | awk '{ print $1, "registration_routing" }'
}

check_unavailable_contact() { # the phone's host refused the PBX's connections
	(($(count "$1" "ip.src == $PHONE_IP && tcp.srcport == $PHONE_PORT && tcp.flags.reset == 1") > 0)) ||
		die "no TCP connection to the phone $PHONE_IP:$PHONE_PORT was refused"
}

# A desk phone registers itself over TCP from $PHONE_IP, then is gone (nothing listens there): its
# registration outlives it, and calls to it fail while the others are served.
prepare_registered_contact_gone() {
	ALSO+=", desk phone 5004 registering itself over TCP from $PHONE_IP (SIPp, uac-register.xml) and"
	ALSO+=" then gone: calls to it meet a refused connection; labelled registration_routing"
}

traffic_registered_contact_gone() { # the phone registers and leaves; then 5 of 12 calls to it
	csv phone.csv "phone-5004;"
	start phone sipp "$TARGET_IP:5060" -sf "$HERE/uac-register.xml" -inf "$WORK/phone.csv" \
		-i "$PHONE_IP" -p 5060 -t t1 -nostdin -m 1 -timeout 20s -timeout_error
	UACS+=("$LAST_PID")
	uacs_done
	sleep 1
	csv calls.csv "4001;1101;" "4002;5004;" "4003;1102;" "4004;1103;" "4005;5004;" \
		"4006;1104;" "4007;5004;" "4008;1105;" "4009;1106;" "4010;5004;" "4011;1107;" \
		"4012;5004;"
	calls 11 calls.csv -d 2000 -r 2 -m 12
	uacs_done
}

intended_registered_contact_gone() {
	dial_failed phone-5004 | awk '{ print $1, "registration_routing" }'
}

check_registered_contact_gone() { # the PBX accepted the registration; the phone's host refused the PBX
	(($(count "$1" "sip.CSeq.method == REGISTER && sip.Status-Code == 200") > 0)) ||
		die "the PBX did not accept the phone's registration"
	(($(count "$1" "ip.src == $PHONE_IP && tcp.srcport == 5060 && tcp.flags.reset == 1") > 0)) ||
		die "no TCP connection to the phone $PHONE_IP:5060 was refused"
}

PG_BIN=''  # odbc_down: PostgreSQL's programs
PG_DATA='' # and its data directory
as_postgres() { # as_postgres <command...>: run a command as user postgres
	setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
}

prepare_odbc_down() { # the routing database, filled before Asterisk connects to it
	need setpriv
	PG_BIN=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V |
		tail -n 1)
	[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/psql ]] ||
		die "no PostgreSQL server in /usr/lib/postgresql (Debian package postgresql)"
	id postgres >/dev/null 2>&1 || die "no user postgres (Debian package postgresql)"
	chmod 0711 "$WORK" # user postgres may reach its own folder in it
	mkdir "$WORK/pg"
	chown postgres: "$WORK/pg"
	PG_DATA=$WORK/pg/data
	as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U asterisk -A trust -E UTF8 --no-sync \
		>"$WORK/initdb.log" 2>&1 || die "initdb failed, see $WORK/initdb.log"
	# whoever reaches the namespace's loopback may connect: no rule names an address
	echo "host all all all trust" >>"$PG_DATA/pg_hba.conf"
	start postgres setpriv --reuid=postgres --regid=postgres --init-groups -- \
		"$PG_BIN/postgres" -D "$PG_DATA" -c listen_addresses="$DB_IP" -c port=5432 \
		-c unix_socket_directories="$WORK/pg" -c fsync=off -c log_connections=on \
		-c log_disconnections=on
	PG_PID=$LAST_PID
	wait_for 10 "PostgreSQL on $DB_IP:5432" "${IN_NS[@]}" "$PG_BIN/pg_isready" -q -h "$DB_IP"
	"${IN_NS[@]}" "$PG_BIN/psql" -q -v ON_ERROR_STOP=1 -h "$DB_IP" -U asterisk -d postgres \
		>>"$WORK/psql.log" 2>&1 <<-SQL ||
		CREATE DATABASE routing;
		\c routing
		CREATE TABLE routes (prefix text PRIMARY KEY, trunk text NOT NULL);
		INSERT INTO routes VALUES ('1', 'carrier');
	SQL
		die "could not fill the database, see $WORK/psql.log"
	ALSO+=", PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') as its routing"
	ALSO+=" database (func_odbc, res_odbc, psqlODBC), stopped (pg_ctl stop -m fast) midway"
}

traffic_odbc_down() { # calls while the database is up, then after it stopped
	csv calls.csv "4001;1101;" "4002;1102;" "4003;1103;" "4004;1104;" "4005;1105;" "4006;1106;"
	calls 11 calls.csv -d 1000 -r 2 -m 5
	uacs_done
	sleep 0.5
	as_postgres "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w >>"$WORK/pg_ctl.log" 2>&1 ||
		die "pg_ctl stop failed, see $WORK/pg_ctl.log"
	stop "$PG_PID"
	sleep 0.5
	calls 12 calls.csv -d 1000 -r 2 -m 5
	uacs_done
}

intended_odbc_down() { # refusals right after func_odbc failed to query, in the same thread
	# (a call's dialplan runs in one thread, whose priority 1 is logged after the query):
	# the lookup failed, not merely found nothing
	awk '/^\[/ { tid = $3; sub(/^[A-Z]*\[/, "", tid); sub(/\].*/, "", tid) }
		/func_odbc.c: Unable to execute query/ { failed[tid] = 1 }
		/ NOTICE\[.*diag503-refused callid=.* why=odbc / {
			id = $0; sub(/.*callid=/, "", id); sub(/ .*/, "", id)
			if (failed[tid]) print id, "database_failure"
			delete failed[tid]
		}' "$AST_DIR/log/full"
}

check_odbc_down() { # the database went away under Asterisk's connection, then refused new ones
	(($(count "$1" "ip.src == $DB_IP && tcp.srcport == 5432 && pgsql.type == \"Error\"") > 0)) ||
		die "PostgreSQL sent Asterisk no error"
	(($(count "$1" "ip.src == $DB_IP && tcp.srcport == 5432 && tcp.flags.reset == 1 \
&& tcp.seq == 1 && tcp.ack == 1") > 0)) || die "PostgreSQL's address refused no connection"
}

# ---------------------------------------------------------------- checks and truth

count() { # count <pcap> <display filter>: how many frames match
	tshark -r "$1" -Y "$2" 2>>"$WORK/tshark.log" | wc -l
}

gateway_refused() { # Call-IDs of the INVITEs the gateway answered 503, from its message log
	awk '/^SIP\/2.0 503 / { r = 1 } r && /^Call-ID:/ { print $2; r = 0 }' \
		"$WORK/gateway-messages.log" 2>/dev/null | tr -d '\r' | sort -u
}

write_truth() { # write_truth <pcap> <truth>: label each 503 frame, after checking it was meant
	local pcap=$1 truth=$2 frame src sport callid cause sipp wireshark
	"intended_$SCENARIO" | sort -u >"$WORK/intended"
	gateway_refused >"$WORK/gateway-refused"
	grep -o 'intended-503 .*' "$WORK/sbc.log" 2>/dev/null | tr -d '\r' >"$WORK/sbc-intended" || true
	grep -o 'intended-503 .*' "$WORK/carrier-proxy.log" 2>/dev/null | tr -d '\r' >"$WORK/proxy-intended" || true
	tshark -r "$pcap" -Y 'sip.Status-Code == 503' -T fields -E separator='|' -e frame.number \
		-e ip.src -e udp.srcport -e tcp.srcport -e sip.Call-ID \
		>"$WORK/503s" 2>>"$WORK/tshark.log"
	[[ -s $WORK/503s ]] || die "the capture has no 503"
	sipp=$(sipp -v 2>&1 | grep -o 'v[0-9][0-9.]*[0-9]' | head -n 1 || true)
	wireshark=$(dumpcap -v | awk 'NR == 1 { print $3 }')
	{
		echo "# how: ${PREFIX_CALLERS}tools/record/asterisk/record.sh $SCENARIO: Asterisk $AST_VERSION (Debian" \
			"sid, PJSIP, tools/record/asterisk/*.conf) between SIPp ${sipp#v} callers and a" \
			"SIPp gateway on the loopback of a network namespace$ALSO, captured by dumpcap" \
			"$wireshark"
		echo "# scenario: $SCENARIO"
		while IFS='|' read -r frame src udp tcp callid; do
			[[ $callid != *,* ]] || die "frame $frame holds more than one 503"
			sport=$udp$tcp
			if [[ $src == "$GW_IP" && $sport == "$GW_PORT" ]]; then
				grep -qxF -- "$callid" "$WORK/gateway-refused" ||
					die "frame $frame: a 503 of the gateway its log does not show (Call-ID $callid)"
				cause=$GATEWAY_CAUSE
			elif [[ $TARGET_IP == "$SBC_IP" && $TARGET_PORT == "$SBC_PORT" && $src == "$SBC_IP" && $sport == "$SBC_PORT" ]]; then
				grep -qxF -- "intended-503 $callid" "$WORK/sbc-intended" ||
					die "frame $frame: a 503 of the SBC its log does not show (Call-ID $callid)"
				awk -v id="$callid" '$1 == id { found = 1 } END { exit !found }' \
					"$WORK/intended" || die "frame $frame: the SBC's 503 relays no 503 of the PBX"
				cause=$SBC_CAUSE
			elif [[ $src == "$CARRIER_PROXY_IP" ]]; then
				grep -qxF -- "intended-503 $callid" "$WORK/proxy-intended" ||
					die "frame $frame: a 503 of the carrier's proxy its log does not show (Call-ID $callid)"
				grep -qxF -- "$callid" "$WORK/gateway-refused" ||
					die "frame $frame: the carrier's proxy's 503 relays no 503 of the gateway"
				cause=$SBC_CAUSE
			elif [[ $src == "$SIP_IP" && $sport =~ ^506[01]$ ]]; then
				cause=$(awk -v id="$callid" '$1 == id { print $2; exit }' "$WORK/intended")
				[[ -n $cause ]] ||
					die "frame $frame: a 503 the scenario did not mean (Call-ID $callid)"
			else
				die "frame $frame: a 503 from $src:$sport, not from the PBX or the gateway"
			fi
			printf '%s\t%s\n' "$frame" "$cause"
		done <"$WORK/503s"
	} >"$truth"
}

check_capture() { # check_capture <pcap>: calls got through; other error answers are reported
	local pcap=$1 answered others to_callers="ip.dst == $CALLER_NET.0/24"
	# on one host, the answers to the callers are those from where they call (the gateway answers from its own port)
	((SINGLE_HOST)) && to_callers="(udp.srcport == $TARGET_PORT || tcp.srcport == $TARGET_PORT)"
	answered=$(count "$pcap" "ip.src == $TARGET_IP && $to_callers \
&& sip.Status-Code == 200 && sip.CSeq.method == INVITE")
	((answered > 0)) || die "no call was answered"
	others=$(tshark -r "$pcap" -Y "sip.Status-Code >= 300 && sip.Status-Code != 503" -T fields \
		-e ip.src -e sip.Status-Line 2>>"$WORK/tshark.log" | sort | uniq -c | sed 's/^ *//' |
		paste -sd ';' -)
	if declare -F "check_$SCENARIO" >/dev/null; then "check_$SCENARIO" "$pcap"; fi
	echo "$answered calls answered${others:+; other error answers: $others}"
}

# ---------------------------------------------------------------- main

ALSO='' # what else took part, for the .truth
IN_NS=()
netns_create
configure
if declare -F "prepare_$SCENARIO" >/dev/null; then "prepare_$SCENARIO"; fi
capture_start
gateway_start
asterisk_start
sleep "${CALLS_AFTER:-0}"
"traffic_$SCENARIO"
sleep 1 # the last BYEs and their answers
stop_capture_last

PCAP=$OUTDIR/ast-$NAME.pcapng
TRUTH=$OUTDIR/ast-$NAME.truth
answered=$(check_capture "$WORK/capture.pcapng")
write_truth "$WORK/capture.pcapng" "$WORK/truth"
keep_capture "$PCAP" "$TRUTH"
echo "record.sh: $SCENARIO: $(($(wc -l <"$TRUTH") - 2)) 503s ($(cut -f2 "$TRUTH" |
	grep -v '^#' | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')), $answered: $PCAP"
