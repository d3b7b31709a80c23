#!/usr/bin/env bash
# Lists the clients' reactions to SIP 503s in a capture, as .truth lines (captures/FORMAT.md).
# SPDX-License-Identifier: GPL-2.0-or-later
#
# usage: reactions.sh <capture>
#
# A client is an address, a server an address and port; a request that repeats an earlier one's
# Call-ID, CSeq and branch between the same two is a retransmission. Only a fresh request reacts:
# not ACK, CANCEL or OPTIONS, nor one inside a dialog. A fresh request to a server for a Call-ID
# that server refused to that client, before the latest such 503's Retry-After elapsed (without
# one: the first within 1.5 s), is retry_same_request; the first request for another Call-ID
# before the Retry-After of the latest 503 that server sent that client elapsed is
# request_during_backoff. The first fresh request for the refused Call-ID to
# another server within 32 s is failover. tshark's SIP dissector reads the fields; diag503 does not.
set -euo pipefail
(($# == 1)) || { sed -n '5p' "$0" >&2; exit 2; }

tshark -r "$1" -Y 'sip' -T fields -E separator='|' -E occurrence=f -e frame.number \
	-e frame.time_epoch -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst -e udp.srcport \
	-e tcp.srcport -e udp.dstport -e tcp.dstport -e sip.Method -e sip.Status-Code \
	-e sip.Call-ID -e sip.CSeq.seq -e sip.CSeq.method -e sip.Via.branch -e sip.Retry-After \
	-e sip.to.tag | awk -F'|' '
	{ frame = $1; t = $2; src = $3 $4; dst = $5 $6; sport = $7 $8; dport = $9 $10 }
	$12 == 503 {
		server = src " " sport
		last[server, dst] = frame; last_t[server, dst] = t; last_call[server, dst] = $13
		last_ra[server, dst] = $17 # empty: no valid Retry-After
		delete reported[server, dst]
		call_frame[server, dst, $13] = frame; call_t[server, dst, $13] = t; call_ra[server, dst, $13] = $17
		delete hammered[server, dst, $13]
		n++; f503[n] = frame; t503[n] = t; s503[n] = server; c503[n] = dst; id503[n] = $13
		next
	}
	$11 == "" { next }
	{
		key = src SUBSEP dst SUBSEP dport SUBSEP $13 SUBSEP $14 SUBSEP $15 SUBSEP $16
		if (key in seen) next
		seen[key] = 1
		server = dst " " dport
		if ($11 == "ACK" || $11 == "CANCEL" || $11 == "OPTIONS" || $18 != "")
			next
		if ((server, src, $13) in call_frame) {
			since = t - call_t[server, src, $13]
			if (call_ra[server, src, $13] != "" ? since < call_ra[server, src, $13] \
			    : !((server, src, $13) in hammered) && since < 1.5) {
				printf "%s\tretry_same_request\t%s\n", frame, call_frame[server, src, $13]
				if (call_ra[server, src, $13] == "")
					hammered[server, src, $13] = 1
				retried = 1
			}
		}
		if (!retried && (server, src) in last && $13 != last_call[server, src] &&
		    last_ra[server, src] != "" && t - last_t[server, src] < last_ra[server, src] &&
		    !((server, src) in reported)) {
			printf "%s\trequest_during_backoff\t%s\n", frame, last[server, src]
			reported[server, src] = 1
		}
		retried = 0
		for (i = 1; i <= n; i++) {
			if (i in moved || c503[i] != src || id503[i] != $13 || s503[i] == server)
				continue
			moved[i] = 1 # only the first request to another server counts
			if (t - t503[i] <= 32)
				printf "%s\tfailover\t%s\n", frame, f503[i]
		}
	}'
