#!/usr/bin/env python3
# Writes adversarial captures for diag503's state bounds: the never-answered INVITEs of issue 5, or a mixed capture of everything that grows state.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: tools/bench/adversarial.py --invites 1000000 --out /tmp/diag503-bench/adversarial-1M.pcapng [--seed 1]
       tools/bench/adversarial.py --mixed --packets 300000 --out X.pcapng [--seed 1] [--summary X.json]
                                  [--refuse-every 500] [--huge-header 60000] [--vias 3000]
                                  [--fork-legs 0] [--frame-gap-us 1000]

Default (issue 5): every INVITE opens a transaction the plugin must remember until its bound
(preference diag503.max_transactions, default 200000) pushes the oldest out. After every
100 000 INVITEs the proxy answers 503 to two of them: the newest (still remembered) and the very
first one (forgotten once the bound was reached), so the verdicts show what eviction does.
Ethernet/IPv4/UDP frames, no checksums (Wireshark does not check them by default), 1 ms apart.

--mixed writes about --packets frames (the last event may run a little over) that grow every kind
of state the engines keep, never cleaned up by the traffic itself (docs/bounded_state.md lists the
maps). Events are drawn from a seeded random generator (same arguments, same bytes):
  - INVITEs over UDP, never answered, each with its own Call-ID, caller, callee and client address;
    one in 16 goes to a server address of its own (distinct SIP servers), the rest to the proxy
    198.51.100.1;
  - REGISTERs from distinct users and addresses to the registrar 198.51.100.2, every other one
    answered 200 OK;
  - INVITEs answered 200 OK and ACKed but never ended by BYE: dialogs that stay open;
  - RTSP over TCP to port 554 (handshake, SETUP, 200 with a distinct Session id and a timeout from
    60 s to absurd; one in four with a DESCRIBE answered with SDP first, another one in four with
    PLAY and interleaved RTP after), from distinct client addresses and ports, to 32 cameras
    192.0.2.1-32 and, one in 16, to a device of its own; never TEARDOWN, never closed;
  - RTSP connections with four DESCRIBEs of ~900-byte URLs that are never answered.
Every --refuse-every frames a round of 503s follows, so verdicts appear throughout:
  - the proxy (or the INVITE's own server) refuses the newest INVITE, still remembered, and the
    refused client sends a new INVITE 20 ms later (an early retry for the valid Retry-After values);
  - the proxy refuses the oldest INVITE not refused yet: forgotten once the transaction bound was
    reached, so its verdict should say so;
  - a camera refuses a DESCRIBE on a new connection;
  - alternately a gateway's 503 relayed by the proxy (forwarding and downstream-failure state), and
    a REGISTER refused by the registrar;
  - every 8th round: an INVITE and its 503 over UDP with a --huge-header-byte header line each (cut
    to fit a 64 KiB UDP datagram);
  - every 16th round, in turn: an INVITE and its 503 over TCP with --vias Via header lines; the same
    with all --vias entries in one comma-separated Via line; and an INVITE, its 503 and an RTSP
    DESCRIBE and its 503 over TCP each with a --huge-header-byte header line. TCP messages are cut
    into 1460-byte segments, as on the wire.
Retry-After values on the 503s cycle through absurd ones: 4294967296, -1, 99999999999999999999,
2^64, garbage parameters, an unterminated comment, an HTTP-date, two headers that disagree, a 2000-byte
comment; Session timeouts likewise (4294967295, 4294967296, -1, 0, ...).
--fork-legs N (default 0) adds one call whose INVITE is forked N times, each fork to another server
port and answered 200 OK: N legs of one dialog, spread evenly over the capture. Mind that Wireshark's
own SIP dissection slows down with the transactions of one Call-ID: 20 000 legs cost it minutes.
--summary FILE writes JSON: the arguments, the number of frames and of each event, and the frame
of every 503 (the frame of its last TCP segment) by protocol, with the frames of the 503s whose
request should be forgotten under small bounds. Timestamps advance --frame-gap-us per frame
(TCP segments of one message 10 us apart).
"""
import argparse
import json
import random
import struct
import sys
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pcapng_writer import PcapngWriter  # noqa: E402

PROXY = bytes([198, 51, 100, 1])
START_US = 1772445600 * 1000000  # 2026-03-02 10:00:00 UTC, as the other generated captures


def ipv4_udp(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00" + ip + udp


def client_address(n):
    return bytes([203, 0, 113, 1 + n % 250])


def invite(n):
    caller = f"+1202{n:07d}"
    return (f"INVITE sip:+1303{n % 9999:07d}@example.net SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 203.0.113.{1 + n % 250}:5060;branch=z9hG4bK{n:x}a\r\n"
            f"From: <sip:{caller}@example.net>;tag={n:x}f\r\nTo: <sip:+1303{n % 9999:07d}@example.net>\r\n"
            f"Call-ID: adv{n:x}@203.0.113.{1 + n % 250}\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n").encode()


def refusal(n):
    text = invite(n).decode().replace(f"INVITE sip:+1303{n % 9999:07d}@example.net SIP/2.0",
                                      "SIP/2.0 503 Service Unavailable", 1)
    text = text.replace("\r\nTo: <sip:", "\r\nRetry-After: 4294967296\r\nTo: <sip:", 1).replace("Max-Forwards: 70\r\n", "")
    return text.replace(">\r\nCall-ID", ">;tag=px\r\nCall-ID", 1).encode()


# =========================================================================== the mixed capture (--mixed)

REGISTRAR = bytes([198, 51, 100, 2])
GATEWAY = bytes([198, 51, 100, 20])
FORK_SERVER = bytes([198, 51, 100, 30])  # answers each fork of --fork-legs on a port of its own
CAMERAS = [bytes([192, 0, 2, 1 + i]) for i in range(32)]
ETHERNET = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
MSS = 1460
SEGMENT_GAP_US = 10
MAX_UDP_PAYLOAD = 65507
TCP_SYN, TCP_ACK, TCP_PSH = 0x02, 0x10, 0x08

# Each kind of party has 2^20 addresses of its own in 10.0.0.0/8: 10.<role*16 + n/65536>.<n/256>.<n>.
(CALLER, REGISTRANT, DIALOG_CALLER, RTSP_CLIENT, SIP_SERVER, RTSP_DEVICE, REFUSED_RTSP_CLIENT, RELAYED_CALLER,
 REFUSED_REGISTRANT, HUGE_CALLER, TCP_CALLER) = range(11)

# Retry-After header values of the 503s, in turn; a list of two is the header sent twice, disagreeing.
ABSURD_RETRY_AFTER = [
    ["4294967296"],
    ["-1"],
    ["99999999999999999999"],
    ["18446744073709551616 (2^64)"],
    ["4294967295;duration=99999999999999999999"],
    ["120 (unterminated comment"],
    [";;;=;duration=-5;=x"],
    ["0x7fffffff"],
    ["1e9"],
    ["Fri, 31 Dec 9999 23:59:59 GMT"],
    ["5", "4294967296"],
    ["4294967296 (" + "x" * 2000 + ")"],
    ["-0"],
    ["0000000000000000000000000000000000000004294967296"],
    ["3600"],
]
# RTSP Session timeouts of the granted sessions, in turn.
ABSURD_SESSION_TIMEOUTS = ["60", "4294967295", "4294967296", "-1", "99999999999999999999", "0", "86400", "x"]


def host(role, n):
    n %= 1 << 20
    return bytes([10, role << 4 | n >> 16, n >> 8 & 255, n & 255])


def dotted(address):
    return ".".join(map(str, address))


def ipv4(src, dst, protocol, payload):
    return ETHERNET + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, protocol, 0,
                                  src, dst) + payload


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b""):
    return ipv4(src, dst, 6, struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags,
                                         64240, 0, 0) + payload)


class CaptureWriter:
    """The capture being written: one clock, frames counted from 1 as Wireshark numbers them."""

    def __init__(self, writer, gap_us):
        self.writer = writer
        self.gap_us = gap_us
        self.time_us = START_US
        self.frames = 0

    def put(self, frame, gap_us=None):
        self.time_us += self.gap_us if gap_us is None else gap_us
        self.writer.write(self.time_us, frame)
        self.frames += 1
        return self.frames

    def udp(self, src, sport, dst, dport, payload, gap_us=None):
        assert len(payload) <= MAX_UDP_PAYLOAD, "a UDP datagram over 64 KiB"
        return self.put(ipv4_udp(src, dst, sport, dport, payload), gap_us)


class TcpFlow:
    """One TCP connection, opened by a handshake; messages are cut into MSS-sized segments."""

    def __init__(self, wire, client, cport, server, sport, isn):
        self.wire = wire
        self.ends = ((client, cport), (server, sport))
        self.next_seq = [isn, (isn * 7919 + 12345) & 0xFFFFFFFF]
        self._segment(0, TCP_SYN)
        self.next_seq[0] += 1
        self._segment(1, TCP_SYN | TCP_ACK)
        self.next_seq[1] += 1
        self._segment(0, TCP_ACK)

    def _segment(self, side, flags, payload=b"", gap_us=None):
        (src, sport), (dst, dport) = self.ends[side], self.ends[1 - side]
        ack = self.next_seq[1 - side] if flags & TCP_ACK else 0
        return self.wire.put(tcp_segment(src, dst, sport, dport, self.next_seq[side], ack, flags, payload), gap_us)

    def send(self, side, payload):
        """Sends one message; returns the frame of its last segment, where Wireshark dissects it."""
        frame = 0
        for offset in range(0, len(payload), MSS):
            chunk = payload[offset:offset + MSS]
            frame = self._segment(side, TCP_PSH | TCP_ACK, chunk, None if offset == 0 else SEGMENT_GAP_US)
            self.next_seq[side] += len(chunk)
        return frame


class SipRequest:
    """A SIP request and the responses to it: Via, From, To, Call-ID and CSeq copied as RFC 3261 asks."""

    def __init__(self, method, uri, client, cport, server, sport, call_id, caller, callee, branch,
                 transport="UDP", extra=(), vias=None, cseq=1):
        self.method, self.uri = method, uri
        self.client, self.cport, self.server, self.sport = client, cport, server, sport
        self.call_id, self.cseq = call_id, cseq
        self.from_ = f"<sip:{caller}@example.net>;tag={branch[-8:]}f"
        self.to = f"<sip:{callee}@example.net>"
        self.vias = vias or [f"Via: SIP/2.0/{transport} {dotted(client)}:{cport};branch=z9hG4bK{branch}"]
        self.extra = list(extra)

    def _common(self, to):
        return [*self.vias, f"From: {self.from_}", f"To: {to}", f"Call-ID: {self.call_id}",
                f"CSeq: {self.cseq} {self.method}"]

    def text(self):
        lines = [f"{self.method} {self.uri} SIP/2.0", *self._common(self.to), "Max-Forwards: 70", *self.extra,
                 "Content-Length: 0"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def response(self, status, reason, extra=(), to_tag="px"):
        lines = [f"SIP/2.0 {status} {reason}", *self._common(f"{self.to};tag={to_tag}"), *extra, "Content-Length: 0"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()


def retry_after_lines(index):
    return [f"Retry-After: {value}" for value in ABSURD_RETRY_AFTER[index % len(ABSURD_RETRY_AFTER)]]


def rtsp_text(start, lines, body=b""):
    head = "\r\n".join([start, *lines] + ([f"Content-Length: {len(body)}"] if body else [])) + "\r\n\r\n"
    return head.encode() + body


def sdp_of(device, path):
    return (f"v=0\r\no=- 1 1 IN IP4 {dotted(device)}\r\ns={path[-40:]}\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
            "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=framesize:96 1920-1080\r\na=framerate:25\r\n"
            "a=control:trackID=1\r\n").encode()


class MixedCapture:
    """Writes the mixed adversarial capture; see the module docstring."""

    EVENTS = (("caller_invite", 60), ("register", 12), ("dialog", 12), ("rtsp_session", 10), ("rtsp_unanswered", 6))

    def __init__(self, wire, seed, refuse_every, huge_header, vias, fork_legs, packets):
        self.wire = wire
        self.rng = random.Random(seed)
        self.refuse_every = refuse_every
        self.huge_header = huge_header
        self.vias = vias
        self.fork_legs = fork_legs
        self.packets = packets
        self.counts = {name: 0 for name, _ in self.EVENTS}
        self.counts.update(refusal_rounds=0, fork_legs=0, huge_udp_exchanges=0, via_line_exchanges=0,
                           via_list_exchanges=0, huge_tcp_exchanges=0, relayed_503s=0, early_retries=0)
        self.refusals = {"sip": [], "rtsp": []}
        self.forgotten_candidates = []
        self.oldest_unrefused = 0   # the next old INVITE the proxy refuses
        self.refused = set()        # caller INVITEs already refused (the newest may meet the oldest)
        self.retry_after_turn = 0
        self.isn = self.rng.getrandbits(32)

    # ------------------------------------------------------------------ helpers

    def next_retry_after(self):
        self.retry_after_turn += 1
        return retry_after_lines(self.retry_after_turn - 1)

    def flow(self, client, cport, server, sport):
        self.isn = (self.isn * 1103515245 + 12345) & 0xFFFFFFFF
        return TcpFlow(self.wire, client, cport, server, sport, self.isn)

    def refuse_sip(self, request, src, dst, sport, dport, extra, transport=None):
        payload = request.response(503, "Service Unavailable", extra)
        frame = transport.send(1, payload) if transport else self.wire.udp(src, sport, dst, dport, payload)
        self.refusals["sip"].append(frame)
        return frame

    # ------------------------------------------------------------------ requests as pure functions of a number

    @staticmethod
    def caller_invite(n):
        """The n-th never-answered INVITE: its own Call-ID, users and address; one in 16 to a server of its own."""
        server = host(SIP_SERVER, n // 16) if n % 16 == 15 else PROXY
        return SipRequest("INVITE", f"sip:callee{n:07d}@example.net", host(CALLER, n), 5060, server, 5060,
                          f"inv{n:x}@adv.example", f"caller{n:07d}", f"callee{n:07d}", f"{n:x}i")

    # ------------------------------------------------------------------ events

    def event_caller_invite(self):
        request = self.caller_invite(self.counts["caller_invite"])
        self.wire.udp(request.client, 5060, request.server, 5060, request.text())

    def event_register(self):
        n = self.counts["register"]
        client = host(REGISTRANT, n)
        request = SipRequest("REGISTER", "sip:example.net", client, 5060, REGISTRAR, 5060, f"reg{n:x}@adv.example",
                             f"user{n:07d}", f"user{n:07d}", f"{n:x}r",
                             extra=[f"Contact: <sip:user{n:07d}@{dotted(client)}:5060>", "Expires: 3600"])
        self.wire.udp(client, 5060, REGISTRAR, 5060, request.text())
        if n % 2 == 0:
            self.wire.udp(REGISTRAR, 5060, client, 5060, request.response(
                200, "OK", [f"Contact: <sip:user{n:07d}@{dotted(client)}:5060>;expires=3600"], to_tag=f"r{n:x}"))

    def event_dialog(self):
        n = self.counts["dialog"]
        client = host(DIALOG_CALLER, n)
        request = SipRequest("INVITE", f"sip:peer{n:07d}@example.net", client, 5060, PROXY, 5060,
                             f"dlg{n:x}@adv.example", f"talker{n:07d}", f"peer{n:07d}", f"{n:x}d")
        self.wire.udp(client, 5060, PROXY, 5060, request.text())
        self.wire.udp(PROXY, 5060, client, 5060, request.response(
            200, "OK", ["Contact: <sip:peer@198.51.100.1:5060>"], to_tag=f"d{n:x}"))
        ack = SipRequest("ACK", "sip:peer@198.51.100.1:5060", client, 5060, PROXY, 5060, request.call_id,
                         f"talker{n:07d}", f"peer{n:07d}", f"{n:x}a")
        ack.to += f";tag=d{n:x}"
        self.wire.udp(client, 5060, PROXY, 5060, ack.text())

    def rtsp_device(self, n):
        return host(RTSP_DEVICE, n // 16) if n % 16 == 15 else CAMERAS[n % len(CAMERAS)]

    def event_rtsp_session(self):
        n = self.counts["rtsp_session"]
        device = self.rtsp_device(n)
        base = f"rtsp://{dotted(device)}/adv/stream{n:x}"
        connection = self.flow(host(RTSP_CLIENT, n), 1024 + n % 60000, device, 554)
        cseq = 1
        if n % 4 == 0:  # DESCRIBE first: the device's SDP names the encoding of a stream of its own
            connection.send(0, rtsp_text(f"DESCRIBE {base} RTSP/1.0", [f"CSeq: {cseq}", "Accept: application/sdp"]))
            connection.send(1, rtsp_text("RTSP/1.0 200 OK", [f"CSeq: {cseq}", "Content-Type: application/sdp"],
                                         sdp_of(device, base)))
            cseq += 1
        session = f"{self.rng.getrandbits(64):016X}"
        timeout = ABSURD_SESSION_TIMEOUTS[n % len(ABSURD_SESSION_TIMEOUTS)]
        connection.send(0, rtsp_text(f"SETUP {base}/trackID=1 RTSP/1.0",
                                     [f"CSeq: {cseq}", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"]))
        connection.send(1, rtsp_text("RTSP/1.0 200 OK", [f"CSeq: {cseq}", f"Session: {session};timeout={timeout}",
                                                         "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"]))
        if n % 4 == 1:  # PLAY, then interleaved RTP on the connection
            cseq += 1
            connection.send(0, rtsp_text(f"PLAY {base} RTSP/1.0", [f"CSeq: {cseq}", f"Session: {session}"]))
            connection.send(1, rtsp_text("RTSP/1.0 200 OK", [f"CSeq: {cseq}", f"Session: {session}"]))
            rtp = struct.pack("!BBHII", 0x80, 96, n & 0xFFFF, n * 3600 & 0xFFFFFFFF, n) + bytes(160)
            connection.send(1, b"$\x00" + struct.pack("!H", len(rtp)) + rtp)

    def event_rtsp_unanswered(self):
        n = self.counts["rtsp_unanswered"]
        device = CAMERAS[n % len(CAMERAS)]
        connection = self.flow(host(RTSP_CLIENT, (1 << 19) + n), 1024 + n % 60000, device, 554)
        for cseq in range(1, 5):
            path = f"/adv/unanswered{n:x}-{cseq}/" + "q" * 880
            connection.send(0, rtsp_text(f"DESCRIBE rtsp://{dotted(device)}{path} RTSP/1.0",
                                         [f"CSeq: {cseq}", "Accept: application/sdp"]))

    def event_fork_leg(self):
        """One more fork of the one call: a new branch to another port of FORK_SERVER, answered 200 OK."""
        n = self.counts["fork_legs"]
        self.counts["fork_legs"] += 1
        request = SipRequest("INVITE", "sip:everyone@example.net", host(CALLER, (1 << 20) - 1), 5060, FORK_SERVER,
                             10000 + n % 50000, "forked@adv.example", "forker", "everyone", f"{n:x}fork")
        self.wire.udp(request.client, 5060, FORK_SERVER, request.sport, request.text())
        self.wire.udp(FORK_SERVER, request.sport, request.client, 5060,
                      request.response(200, "OK", [f"Contact: <sip:leg{n}@198.51.100.30>"], to_tag=f"leg{n:x}"))

    # ------------------------------------------------------------------ refusal rounds

    def refusal_round(self):
        r = self.counts["refusal_rounds"]
        self.counts["refusal_rounds"] += 1
        wire = self.wire
        # The newest INVITE, still remembered; its client tries again 20 ms later with a new call.
        newest = self.counts["caller_invite"] - 1
        if newest >= 0 and newest not in self.refused:
            self.refused.add(newest)
            request = self.caller_invite(newest)
            self.refuse_sip(request, request.server, request.client, 5060, 5060, self.next_retry_after())
            retry = SipRequest("INVITE", f"sip:callee{newest:07d}@example.net", request.client, 5060, request.server,
                               5060, f"retry{r:x}@adv.example", f"caller{newest:07d}", f"callee{newest:07d}",
                               f"{r:x}t")
            wire.udp(request.client, 5060, request.server, 5060, retry.text(), gap_us=20000)
            self.counts["early_retries"] += 1
        # The oldest INVITE not refused yet: forgotten once the transaction bound was reached.
        while self.oldest_unrefused < newest and (self.oldest_unrefused in self.refused or
                                                  self.caller_invite(self.oldest_unrefused).server != PROXY):
            self.oldest_unrefused += 1
        if self.oldest_unrefused < newest:
            self.refused.add(self.oldest_unrefused)
            request = self.caller_invite(self.oldest_unrefused)
            frame = self.refuse_sip(request, PROXY, request.client, 5060, 5060, ["Retry-After: 4294967296"])
            self.forgotten_candidates.append(frame)
        # A camera refuses a DESCRIBE on a new connection.
        device = CAMERAS[r % len(CAMERAS)]
        connection = self.flow(host(REFUSED_RTSP_CLIENT, r), 2048 + r % 60000, device, 554)
        connection.send(0, rtsp_text(f"DESCRIBE rtsp://{dotted(device)}/Streaming/Channels/101 RTSP/1.0",
                                     ["CSeq: 1", "Accept: application/sdp"]))
        self.refusals["rtsp"].append(connection.send(1, rtsp_text(
            "RTSP/1.0 503 Service Unavailable", ["CSeq: 1", *self.next_retry_after()])))
        if r % 2 == 0:
            self.relayed_refusal(r)
        else:
            client = host(REFUSED_REGISTRANT, r)
            request = SipRequest("REGISTER", "sip:example.net", client, 5060, REGISTRAR, 5060, f"rr{r:x}@adv.example",
                                 f"late{r:07d}", f"late{r:07d}", f"{r:x}q")
            wire.udp(client, 5060, REGISTRAR, 5060, request.text())
            self.refuse_sip(request, REGISTRAR, client, 5060, 5060, self.next_retry_after())
        if r % 8 == 1:
            self.huge_udp_exchange(r)
        if r % 16 == 3:
            self.via_exchange(r, one_line=False)
        elif r % 16 == 11:
            self.via_exchange(r, one_line=True)
        elif r % 16 == 7:
            self.huge_tcp_exchange(r)

    def relayed_refusal(self, r):
        """Client -> proxy -> gateway; the gateway's 503 comes back and the proxy relays it."""
        client = host(RELAYED_CALLER, r)
        inbound = SipRequest("INVITE", f"sip:pstn{r:07d}@example.net", client, 5060, PROXY, 5060,
                             f"rel{r:x}@adv.example", f"relayed{r:07d}", f"pstn{r:07d}", f"{r:x}c")
        outbound = SipRequest("INVITE", inbound.uri, PROXY, 5060, GATEWAY, 5060, inbound.call_id,
                              f"relayed{r:07d}", f"pstn{r:07d}", f"{r:x}p",
                              vias=[f"Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK{r:x}p", *inbound.vias])
        outbound.from_ = inbound.from_
        self.wire.udp(client, 5060, PROXY, 5060, inbound.text())
        self.wire.udp(PROXY, 5060, GATEWAY, 5060, outbound.text())
        retry_after = self.next_retry_after()
        self.refuse_sip(outbound, GATEWAY, PROXY, 5060, 5060, retry_after + ["Reason: Q.850;cause=34"])
        self.refuse_sip(inbound, PROXY, client, 5060, 5060, retry_after + ["Reason: Q.850;cause=34"])
        self.counts["relayed_503s"] += 1

    @staticmethod
    def huge_line(name, room, before="", after=""):
        """One header line whose value is `room` bytes of filler between `before` and `after`."""
        return f"{name}: {before}" + "h" * max(0, room) + after

    def huge_udp_exchange(self, r):
        client = host(HUGE_CALLER, r)
        request = SipRequest("INVITE", f"sip:big{r:07d}@example.net", client, 5060, PROXY, 5060,
                             f"big{r:x}@adv.example", f"big{r:07d}", f"huge{r:07d}", f"{r:x}h")
        room = min(self.huge_header, MAX_UDP_PAYLOAD - 600)
        request.extra = [self.huge_line("X-Padding", room)]
        self.wire.udp(client, 5060, PROXY, 5060, request.text())
        self.refuse_sip(request, PROXY, client, 5060, 5060,
                        self.next_retry_after()[:1] + [self.huge_line("Warning", room - 2400, '399 proxy "', '"')])
        self.counts["huge_udp_exchanges"] += 1

    def via_exchange(self, r, one_line):
        """An INVITE and its 503 over TCP with --vias Via entries, as many lines or as one line."""
        client = host(TCP_CALLER, r)
        entries = [f"SIP/2.0/TCP 10.{200 + i % 50}.{i // 250 % 250}.{i % 250 + 1}:5060;branch=z9hG4bK{r:x}v{i:x}"
                   for i in range(1, self.vias)]
        top = f"SIP/2.0/TCP {dotted(client)}:5070;branch=z9hG4bK{r:x}via"
        vias = [f"Via: {', '.join([top] + entries)}"] if one_line else [f"Via: {v}" for v in [top] + entries]
        request = SipRequest("INVITE", f"sip:far{r:07d}@example.net", client, 5070, PROXY, 5060,
                             f"via{r:x}@adv.example", f"looped{r:07d}", f"far{r:07d}", f"{r:x}via", vias=vias)
        connection = self.flow(client, 5070, PROXY, 5060)
        connection.send(0, request.text())
        self.refuse_sip(request, None, None, None, None, self.next_retry_after(), transport=connection)
        self.counts["via_list_exchanges" if one_line else "via_line_exchanges"] += 1

    def huge_tcp_exchange(self, r):
        client = host(TCP_CALLER, (1 << 19) + r)
        request = SipRequest("INVITE", f"sip:bulk{r:07d}@example.net", client, 5070, PROXY, 5060,
                             f"bulk{r:x}@adv.example", f"bulk{r:07d}", f"bulky{r:07d}", f"{r:x}b", transport="TCP",
                             extra=[self.huge_line("Subject", self.huge_header)])
        connection = self.flow(client, 5070, PROXY, 5060)
        connection.send(0, request.text())
        self.refuse_sip(request, None, None, None, None,
                        self.next_retry_after() + [self.huge_line("Reason", self.huge_header, 'SIP;cause=503;text="', '"')],
                        transport=connection)
        device = CAMERAS[r % len(CAMERAS)]
        camera = self.flow(host(REFUSED_RTSP_CLIENT, (1 << 19) + r), 3000 + r % 60000, device, 554)
        camera.send(0, rtsp_text(f"DESCRIBE rtsp://{dotted(device)}/Streaming/Channels/201 RTSP/1.0",
                                 ["CSeq: 7", self.huge_line("User-Agent", self.huge_header)]))
        self.refusals["rtsp"].append(camera.send(1, rtsp_text(
            "RTSP/1.0 503 Service Unavailable", ["CSeq: 7", *self.next_retry_after(),
                                                 self.huge_line("X-Detail", self.huge_header)])))
        self.counts["huge_tcp_exchanges"] += 1

    # ------------------------------------------------------------------ the whole capture

    def write(self):
        names = [name for name, _ in self.EVENTS]
        weights = [weight for _, weight in self.EVENTS]
        next_round = self.refuse_every
        while self.wire.frames < self.packets:
            name = self.rng.choices(names, weights)[0]
            getattr(self, "event_" + name)()
            self.counts[name] += 1
            if self.counts["fork_legs"] < self.fork_legs * self.wire.frames // self.packets:
                self.event_fork_leg()
            if self.wire.frames >= next_round:
                self.refusal_round()
                next_round = self.wire.frames + self.refuse_every
        return {"frames": self.wire.frames, "counts": self.counts, "503_frames": self.refusals,
                "forgotten_candidates": self.forgotten_candidates}


def main():
    parser = argparse.ArgumentParser(description="Writes an adversarial capture for diag503 (see the module docstring).")
    parser.add_argument("--invites", type=int, default=1000000, help="default capture: how many INVITEs")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mixed", action="store_true", help="write the mixed capture instead")
    mixed = parser.add_argument_group("mixed capture (--mixed)")
    mixed.add_argument("--packets", type=int, help="about this many frames (default 300000)")
    mixed.add_argument("--refuse-every", type=int, help="frames between rounds of 503s (default 500)")
    mixed.add_argument("--huge-header", type=int, help="bytes of each huge header line (default 60000)")
    mixed.add_argument("--vias", type=int, help="Via entries of the many-Via messages (default 3000)")
    mixed.add_argument("--fork-legs", type=int, help="forks, answered 200 OK, of one call (default 0)")
    mixed.add_argument("--frame-gap-us", type=int, help="microseconds between frames (default 1000)")
    mixed.add_argument("--summary", help="write a JSON summary here")
    args = parser.parse_args()
    mixed_only = ("packets", "refuse_every", "huge_header", "vias", "fork_legs", "frame_gap_us", "summary")
    if not args.mixed:
        given = [name for name in mixed_only if getattr(args, name) is not None]
        if given:
            parser.error("--" + given[0].replace("_", "-") + " needs --mixed")
        write_invites(args)
        return
    defaults = {"packets": 300000, "refuse_every": 500, "huge_header": 60000, "vias": 3000, "fork_legs": 0,
                "frame_gap_us": 1000}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    for name in ("packets", "refuse_every", "vias", "frame_gap_us"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as stream:
        wire = CaptureWriter(PcapngWriter(stream, "diag503 tools/bench/adversarial.py --mixed"), args.frame_gap_us)
        summary = MixedCapture(wire, args.seed, args.refuse_every, args.huge_header, args.vias, args.fork_legs,
                               args.packets).write()
    summary["arguments"] = {name: getattr(args, name) for name in ("seed",) + mixed_only[:-1]}
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary, indent=1) + "\n")
    counts = summary["counts"]
    print(f"{args.out}: {summary['frames']} frames, {len(summary['503_frames']['sip'])} SIP and "
          f"{len(summary['503_frames']['rtsp'])} RTSP 503s; {counts['caller_invite']} unanswered INVITEs, "
          f"{counts['register']} REGISTERs, {counts['dialog']} open dialogs, {counts['rtsp_session']} RTSP sessions")


def write_invites(args):
    random.seed(args.seed)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as stream:
        writer = PcapngWriter(stream, "diag503 tools/bench/adversarial.py")
        time_us = START_US
        for n in range(args.invites):
            time_us += 1000
            writer.write(time_us, ipv4_udp(client_address(n), PROXY, 5060, 5060, invite(n)))
            if (n + 1) % 100000 == 0:
                for refused in (n, 0):
                    time_us += 1000
                    writer.write(time_us, ipv4_udp(PROXY, client_address(refused), 5060, 5060, refusal(refused)))
    print(f"{args.out}: {args.invites} INVITEs, {2 * (args.invites // 100000)} 503s")


if __name__ == "__main__":
    main()
