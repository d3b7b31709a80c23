# Generates synthetic SIP and RTSP pcapng captures of 503 stories, each with its .truth file.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic capture generator for diag503.

Usage: python3 tools/gen_captures.py --out captures [--seed N] [--verify] [scenario ...]

Each scenario tells one story around SIP or RTSP 503 responses and writes
captures/gen-<scenario>.pcapng plus captures/gen-<scenario>.truth, and captures/gen-<scenario>.args
when tshark needs extra arguments to decode it (see captures/FORMAT.md).  RTSP scenarios are named
rtsp_*: IP cameras and recorders over TCP, with interleaved RTP and HTTP configuration requests.
Each .truth also lists, after the 503 lines, the clients' reactions to the 503s (retry_early,
failover) as FORMAT.md defines them, computed from the packets generated.  Some scenarios then
damage the capture as real ones are damaged (a snaplen, IP fragments, duplicates, clocks, a
ring-buffer cut, VLAN tags: see Wire and Capture.damage); their truth is what the file holds.
Output depends only on the seed:
timestamps start at 2026-03-02 10:00:00 UTC and every random choice comes from a random.Random
seeded with the seed and the scenario name.  All addresses are documentation addresses
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and example domains.
"""

import argparse
import base64
import dataclasses
import datetime
import email.utils
import ipaddress
import random
import re
import struct
import subprocess
import sys
import urllib.parse
from collections import namedtuple
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pcapng_writer import (  # noqa: E402
    ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN, IPPROTO_TCP, TCP_MSS, FrameBuilder, PcapngWriter,
    TcpConnection, vlan_tagged,
)

BASE_EPOCH = int(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.timezone.utc).timestamp())
CAUSES = (
    "overload", "capacity_limit", "upstream_failure", "dns_failure", "tls_failure",
    "database_failure", "maintenance", "registration_routing", "unknown",
)
RTSP_CAUSES = (
    "too_many_clients", "encoder_busy", "unsupported_profile", "nvr_channel_unavailable",
    "encoder_restart", "device_overload", "unknown",
)
DOMAIN = "example.net"
REASONS = {
    100: "Trying", 180: "Ringing", 200: "OK", 401: "Unauthorized", 503: "Service Unavailable",
}
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, NOTIFY, REFER, INFO, UPDATE"
NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yvonne",
)
AGENTS = (
    "DeskPhone-T46/66.86.0.15", "SoftClient/3.21.3", "MobileSIP/5.2.5 (iOS 17.3)",
    "ConfPhone/1.0.11.23", "WebDialer/2.4.0",
)
TCP_DELAYED_ACK = 0.040
TCP_PIECE_GAP = 0.0002


# =========================================================================== SIP, RTSP, HTTP messages


COMPACT = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m",
           "content-length": "l", "content-type": "c", "supported": "k"}


class TextMessage:
    """One message of a text protocol: start line, ordered (name, value) header fields and a body.

    A field whose value is None is written verbatim (for deliberately odd lines).
    Content-Length is appended from the body (when there is one, or always if the protocol says so)
    unless the message already carries one.  `cause` is the ground truth attached to a 503 (None
    for anything else), from the protocol's CAUSES.
    """

    VERSION = None           # "SIP/2.0", "RTSP/1.0", "HTTP/1.1"
    REASONS = {}
    CAUSES = ()
    COMPACT = {}             # compact header names (long name in lower case -> compact)
    ALWAYS_CONTENT_LENGTH = True

    def __init__(self, start_line, headers=(), body="", cause=None):
        self.start_line = start_line
        self.headers = list(headers)
        self.body = body
        self.cause = cause

    @classmethod
    def request(cls, method, uri):
        return cls(f"{method} {uri} {cls.VERSION}")

    @classmethod
    def response(cls, code, reason=None):
        return cls(f"{cls.VERSION} {code} {reason or cls.REASONS[code]}")

    @property
    def status(self):
        parts = self.start_line.split()
        return int(parts[1]) if parts[0] == self.VERSION else None

    def same_header(self, field, name):
        """True if header field name `field` is `name` in its long or compact form (any case)."""
        field, name = field.lower(), name.lower()
        return field == name or field == self.COMPACT.get(name)

    def add(self, name, value):
        self.headers.append((name, value))
        return self

    def get(self, name):
        return next(iter(self.values(name)), None)

    def values(self, name):
        return [value for field, value in self.headers
                if value is not None and self.same_header(field, name)]

    def set(self, name, value):
        """Replaces the first field called name (or appends one)."""
        for i, (field, _) in enumerate(self.headers):
            if self.same_header(field, name):
                self.headers[i] = (field, value)
                return self
        return self.add(name, value)

    def remove(self, name):
        self.headers = [(f, v) for f, v in self.headers if not self.same_header(f, name)]
        return self

    def encode(self):
        body = self.body.encode()
        lines = [self.start_line]
        lines += [field if value is None else f"{field}: {value}" for field, value in self.headers]
        names = [field.split(":")[0].strip() for field, _ in self.headers]
        if (body or self.ALWAYS_CONTENT_LENGTH) and not any(
                self.same_header(name, "Content-Length") for name in names):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Message(TextMessage):
    """One SIP message."""

    VERSION = "SIP/2.0"
    REASONS = REASONS
    CAUSES = CAUSES
    COMPACT = COMPACT

    @property
    def method(self):
        if self.status is None:
            return self.start_line.split()[0]
        return self.get("CSeq").split()[-1]


class RtspMessage(TextMessage):
    """One RTSP 1.0 message (RFC 2326): Content-Length only when there is a body."""

    VERSION = "RTSP/1.0"
    REASONS = {200: "OK", 401: "Unauthorized", 503: "Service Unavailable"}
    CAUSES = RTSP_CAUSES
    ALWAYS_CONTENT_LENGTH = False


class HttpMessage(TextMessage):
    """One HTTP/1.1 message (a camera's configuration interface)."""

    VERSION = "HTTP/1.1"
    REASONS = {200: "OK"}


def has_tag(field_value):
    return re.search(r";\s*tag=", field_value) is not None


def sent_by(via):
    """(host, port) of a Via value; IPv6 references lose their brackets."""
    match = re.match(r"SIP/2\.0/\w+\s+(?:\[([^\]]+)\]|([^:;\s]+))(?::(\d+))?", via)
    return match.group(1) or match.group(2), int(match.group(3) or 5060)


def fill_rport(via):
    """RFC 3581: the server fills an empty rport and adds received= from the packet source."""
    if not re.search(r";rport(?=;|$)", via):
        return via
    host, port = sent_by(via)
    return re.sub(r";rport(?=;|$)", f";rport={port};received={host}", via, count=1)


def respond(request, code, reason=None, to_tag=None, cause=None):
    """A response carrying the request's Via, From, To (+tag), Call-ID and CSeq."""
    message = Message.response(code, reason)
    vias = request.values("Via")
    message.add("Via", fill_rport(vias[0]))
    for via in vias[1:]:
        message.add("Via", via)
    to = request.get("To")
    if to_tag and code > 100 and not has_tag(to):
        to += f";tag={to_tag}"
    for name, value in (("From", request.get("From")), ("To", to),
                        ("Call-ID", request.get("Call-ID")), ("CSeq", request.get("CSeq"))):
        message.add(name, value)
    message.cause = cause
    return message


def sdp(user, ip, session, port, codecs=(0, 8)):
    """An RFC 4566 audio offer/answer with telephone-event."""
    net = "IP6" if ":" in ip else "IP4"
    names = {0: "PCMU/8000", 8: "PCMA/8000", 101: "telephone-event/8000"}
    payloads = list(codecs) + [101]
    lines = [
        "v=0", f"o={user} {session} {session} IN {net} {ip}", "s=-", f"c=IN {net} {ip}", "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(map(str, payloads))}",
        *(f"a=rtpmap:{pt} {names[pt]}" for pt in payloads),
        "a=fmtp:101 0-16", "a=ptime:20", "a=sendrecv",
    ]
    return "\r\n".join(lines) + "\r\n"


def split_point(data):
    """Where to cut a message in two TCP segments: at the body, or mid-header if bodiless."""
    head_end = data.index(b"\r\n\r\n") + 4
    if head_end < len(data):
        return head_end
    return data.index(b"\r\n", head_end // 2) + 2


# =========================================================================== hosts and parties


@dataclass(frozen=True)
class Host:
    """An IP address and port; transport is what SIP Via/Contact say (UDP, TCP)."""

    ip: str
    port: int = 5060
    transport: str = "UDP"

    @property
    def sent_by(self):
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def uri_params(self):
        return "" if self.transport == "UDP" else f";transport={self.transport.lower()}"


@dataclass(frozen=True)
class UA:
    """A SIP user agent: its address of record and where it sends from.

    behind: the phone's own address when `host` is an edge proxy forwarding for it.
    via_params: extra parameters the sender puts on its own Via (e.g. RFC 7339 `oc`).
    """

    user: str
    display: str
    host: Host
    agent: str
    domain: str = DOMAIN
    behind: Host = None
    via_params: str = ""

    @property
    def aor(self):
        return f"sip:{self.user}@{self.domain}"

    @property
    def contact(self):
        where = self.behind or self.host
        return f"<sip:{self.user}@{where.sent_by}{where.uri_params()}>"


@dataclass(frozen=True)
class Server:
    """The SIP server under study (proxy, registrar, SBC, PBX)."""

    host: Host
    name: str
    agent: str


class Ids:
    """Random identifiers in the shapes SIP stacks use."""

    def __init__(self, rng):
        self.rng = rng

    def hex(self, digits):
        return f"{self.rng.getrandbits(4 * digits):0{digits}x}"

    def branch(self):
        return "z9hG4bK" + self.hex(16)

    def tag(self):
        return self.hex(self.rng.choice((8, 10)))

    def call_id(self, host):
        return f"{self.hex(24)}@{host.ip}"


class Dialog:
    """The client side of one call, registration or OPTIONS ping: identifiers and CSeq."""

    def __init__(self, ids, ua, target, request_uri=None):
        self.ids = ids
        self.ua = ua
        self.target = target
        self.request_uri = request_uri or target
        self.call_id = ids.call_id(ua.behind or ua.host)
        self.from_tag = ids.tag()
        self.cseq = ids.rng.choice((0, ids.rng.randrange(100, 30000)))
        self.remote_tag = None
        self.remote_target = None

    def server_tag(self):
        """The tag the server puts in To; one per dialog."""
        self.remote_tag = self.remote_tag or self.ids.tag()
        return self.remote_tag

    def learn(self, response):
        """Takes the remote target from a 2xx to INVITE (for ACK and BYE)."""
        contact = response.get("Contact")
        if response.method == "INVITE" and 200 <= response.status < 300 and contact:
            self.remote_target = contact.strip("<>").split(">")[0]

    def _vias(self):
        """The sender's Via (new branch) and, behind an edge proxy, the phone's Via below it."""
        host = self.ua.host
        vias = [f"SIP/2.0/{host.transport} {host.sent_by};branch={self.ids.branch()};rport"
                f"{self.ua.via_params}"]
        phone = self.ua.behind
        if phone:
            vias.append(f"SIP/2.0/{phone.transport} {phone.sent_by};received={phone.ip};"
                        f"branch={self.ids.branch()};rport={phone.port}")
        return vias

    def request(self, method, uri=None, cseq=None, vias=None, body="", extra=()):
        """A request in this dialog; a new CSeq unless cseq is given, a new branch unless vias."""
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        to = f"<{self.target}>"
        if self.remote_tag and method not in ("REGISTER", "OPTIONS"):
            to += f";tag={self.remote_tag}"
        message = Message.request(method, uri or self.request_uri)
        for via in vias or self._vias():
            message.add("Via", via)
        message.add("Max-Forwards", "69" if self.ua.behind else "70")
        message.add("From", f'"{self.ua.display}" <{self.ua.aor}>;tag={self.from_tag}')
        message.add("To", to)
        message.add("Call-ID", self.call_id)
        message.add("CSeq", f"{cseq} {method}")
        if method in ("INVITE", "REGISTER"):
            message.add("Contact", self.ua.contact)
        message.add("User-Agent", self.ua.agent)
        if method in ("INVITE", "OPTIONS"):
            message.add("Allow", ALLOW)
        for name, value in extra:
            message.add(name, value)
        if body:
            message.add("Content-Type", "application/sdp")
            message.body = body
        return message

    def invite(self, port):
        where = self.ua.behind or self.ua.host
        session = self.ids.rng.randrange(10**9)
        return self.request("INVITE", body=sdp(self.ua.user, where.ip, session, port))

    def ack(self, invite, response):
        """ACK: hop-by-hop with the INVITE's top Via for non-2xx, end-to-end for 2xx."""
        cseq = int(invite.get("CSeq").split()[0])
        if response.status >= 300:
            return self.request("ACK", uri=invite.start_line.split()[1], cseq=cseq,
                                vias=invite.values("Via")[:1])
        return self.request("ACK", uri=self.remote_target, cseq=cseq)


# =========================================================================== packet schedule


class Capture:
    """Packets scheduled at times in seconds; rendered in time order so TCP state adds up.

    Messages are encoded when scheduled; TCP segments get their sequence numbers when
    rendered.  A frame carrying a 503 records its cause for the .truth file.
    """

    def __init__(self, rng):
        self.rng = rng
        self.builder = FrameBuilder()
        self.events = []
        self.links = {}
        # optional capture filter: predicate on the sending Host.  Frames it drops are still
        # built, so the TCP sequence numbers of the frames it keeps account for them.
        self.keep = None
        # what happened to the frames between the wire and the file (see Wire): functions from
        # the list of Wires in capture order to the list written, applied in turn
        self.damage = []
        self.notes = {}      # event index -> Note of the messages the event's frame carries
        self.built = {}      # event index -> the frame it rendered (for ICMP errors quoting it)
        self.sent = set()    # ids of the messages sent so far (sent again: a retransmission)
        self.frame_notes = {}  # after render: frame number -> Note

    def _schedule(self, t, src, render, cause=None):
        self.events.append((round(t * 1e6), len(self.events), src, render, cause))
        return len(self.events) - 1

    def _note(self, index, t, src, dst, messages):
        """Remembers what a frame carries, for the client reactions (see client_reactions)."""
        texts = [m for m in messages if isinstance(m, TextMessage)]
        if texts:
            first = [id(m) not in self.sent for m in texts]
            self.sent.update(id(m) for m in texts)
            self.notes[index] = Note(round(t * 1e6), src, dst, texts, first)

    def _link(self, a, b):
        return self.links.get(frozenset(((a.ip, a.port), (b.ip, b.port))))

    def _side(self, src, dst):
        """The TCP connection between src and dst and src's side of it (0 client, 1 server)."""
        conn, client = self._link(src, dst)
        return conn, 0 if (src.ip, src.port) == (client.ip, client.port) else 1

    def connect(self, t, client, server, rtt=0.0006, mss=TCP_MSS):
        """A TCP three-way handshake; later sends between the two hosts use this connection.

        mss: the maximum segment size both ends announce (smaller on a path through a tunnel)."""
        conn = TcpConnection(self.builder, (client.ip, client.port), (server.ip, server.port),
                             self.rng.getrandbits(32), self.rng.getrandbits(32), mss)
        self.links[frozenset(((client.ip, client.port), (server.ip, server.port)))] = (conn, client)
        self._schedule(t, client, conn.syn)
        self._schedule(t + rtt / 2, server, conn.syn_ack)
        self._schedule(t + rtt, client, partial(conn.ack, 0))

    def close(self, t, closer, peer, rtt=0.0006):
        """FIN from closer, FIN/ACK back, last ACK."""
        conn, side = self._side(closer, peer)
        self._schedule(t, closer, partial(conn.fin, side))
        self._schedule(t + rtt / 2, peer, partial(conn.fin, 1 - side))
        self._schedule(t + rtt, closer, partial(conn.ack, side))

    def reset(self, t, sender, peer):
        """sender aborts the connection with RST/ACK; nothing may be sent on it afterwards."""
        conn, side = self._side(sender, peer)
        self._schedule(t, sender, partial(conn.rst, side))

    def send(self, t, src, dst, payload, split=False):
        """Sends bytes, a message or a list of messages (and bytes).

        Over UDP every message is its own datagram; over TCP a list leaves in one segment (or
        as many as the MSS needs), and split=True cuts a single message into two segments
        (see split_point).  Over TCP, a 503's cause and a message's note go to the segment where
        the message ends.
        """
        messages = payload if isinstance(payload, list) else [payload]
        if self._link(src, dst) is None:
            assert not split, "only TCP segments can be split"
            for message in messages:
                data = message if isinstance(message, bytes) else message.encode()
                index = self._schedule(t, src, partial(self.builder.udp, src.ip, src.port, dst.ip,
                                                       dst.port, data), _frame_cause([message]))
                self._note(index, t, src, dst, [message])
            return index
        encoded = [m if isinstance(m, bytes) else m.encode() for m in messages]
        data = b"".join(encoded)
        conn, side = self._side(src, dst)
        cut = split_point(data) if split else len(data)
        pieces = [part[i:i + conn.mss] for part in (data[:cut], data[cut:])
                  for i in range(0, len(part), conn.mss)]
        ends, end = [], 0  # the piece each message ends in
        bounds = [sum(len(p) for p in pieces[:i + 1]) for i in range(len(pieces))]
        for chunk in encoded:
            end += len(chunk)
            ends.append(next(i for i, bound in enumerate(bounds) if bound >= end))
        for i, piece in enumerate(pieces):
            ending = [m for m, e in zip(messages, ends) if e == i]
            index = self._schedule(t + i * TCP_PIECE_GAP, src, partial(conn.data, side, piece),
                                   _frame_cause(ending))
            self._note(index, t + i * TCP_PIECE_GAP, src, dst, ending)
        self._schedule(t + len(pieces) * TCP_PIECE_GAP + TCP_DELAYED_ACK, dst,
                       partial(conn.ack, 1 - side))
        return index

    def render(self):
        """[Wire] and [(frame_number, cause)] in capture order."""
        wires = []
        for t_us, index, src, render, cause in sorted(self.events, key=lambda e: e[:2]):
            frame = render()
            self.built[index] = frame
            if frame is None or (self.keep and not self.keep(src)):
                continue
            wires.append(Wire(BASE_EPOCH * 1_000_000 + t_us, frame, cause, self.notes.get(index)))
        for damage in self.damage:
            wires = damage(wires)
        truth = []
        for number, wire in enumerate(wires, 1):
            if wire.note:
                self.frame_notes[number] = wire.note
            if wire.cause:
                truth.append((number, wire.cause))
        return wires, truth

    # ----------------------------------------------------------------- evidence besides SIP/RTSP

    def push(self, t, src, dst, data):
        """One TCP segment of data from src to dst, without the peer's delayed ACK (for a peer
        that resets the connection at once)."""
        conn, side = self._side(src, dst)
        return self._schedule(t, src, partial(conn.data, side, data))

    def half_close(self, t, closer, peer, rtt=0.0006):
        """FIN from closer, only acknowledged: the peer does not close its side."""
        conn, side = self._side(closer, peer)
        self._schedule(t, closer, partial(conn.fin, side))
        self._schedule(t + rtt / 2, peer, partial(conn.ack, 1 - side))

    def _attempt(self, client, server):
        """A TCP connection that will not be established (not used by later sends)."""
        return TcpConnection(self.builder, (client.ip, client.port), (server.ip, server.port),
                             self.rng.getrandbits(32), 0)

    def refused(self, t, client, server, rtt=0.0006):
        """A SYN from client answered by the server host's RST/ACK: connection refused."""
        conn = self._attempt(client, server)
        self._schedule(t, client, conn.syn)
        self._schedule(t + rtt / 2, server, conn.refuse)

    def unanswered(self, t, client, server, retransmissions=(1.0, 3.0)):
        """A SYN from client and its retransmissions after the given offsets, none answered."""
        conn = self._attempt(client, server)
        self._schedule(t, client, conn.syn)
        for offset in retransmissions:
            self._schedule(t + offset, client, conn.syn_again)

    def icmp_error(self, t, sender, about, icmp_type, code):
        """An ICMP/ICMPv6 error from sender's address quoting the frame of event `about` (the
        index a UDP send returned), sent back to that frame's source."""
        source = self.events[about][2]

        def render():
            return self.builder.icmp_error(sender.ip, source.ip, icmp_type, code, self.built[about])

        self._schedule(t, sender, render)


@dataclass
class Wire:
    """One frame as written to the capture file.

    t_us: its timestamp (us since the Unix epoch); data: the frame as sent; cause: the truth of the
    503 it carries (None: none); note: its SIP/RTSP messages (Note, None: none); interface: the
    pcapng interface it was captured on; captured: how many of its bytes the file keeps (None: all).
    A frame that carries no SIP/RTSP message to tshark (an IP fragment that does not complete its
    datagram, a TCP segment repeating bytes the stream already carried, a message whose start line
    a snaplen cut) has neither cause nor note.
    """

    t_us: int
    data: bytes
    cause: str = None
    note: "Note" = None
    interface: int = 0
    captured: int = None


Note = namedtuple("Note", "t_us src dst messages first")
Note.__doc__ = """The SIP/RTSP messages of one frame: time (us), sending and receiving Host, and for
each message whether this is its first transmission (False: a retransmission)."""


def _frame_cause(messages):
    """The truth cause of a frame: that of its one 503 message, None if it has none."""
    answers = [m for m in messages if isinstance(m, TextMessage) and m.status == 503]
    assert len(answers) <= 1, "keep 503s in separate frames so each has one truth line"
    assert all(m.cause in m.CAUSES for m in answers), \
        f"every 503 needs a cause from its protocol's vocabulary: {[m.cause for m in answers]}"
    return answers[0].cause if answers else None


# =========================================================================== client reactions


HAMMER_WINDOW = 1.5     # s after a 503 without a valid Retry-After in which the same call again hammers
FAILOVER_WINDOW = 32.0  # s after a 503 in which the same call sent elsewhere is a failover


def retry_after_seconds(message):
    """The delta-seconds of a valid Retry-After (RFC 3261 20.33, RFC 2326 12.31), else None.

    Repeated Retry-After headers with different values are not valid: neither can be trusted."""
    seconds = set()
    for value in message.values("Retry-After"):
        match = re.fullmatch(r"\s*(\d+)\s*(\([^)]*\))?\s*(;.*)?", value)
        if not match:
            return None
        seconds.add(int(match.group(1)))
    return seconds.pop() if len(seconds) == 1 else None


def stream_path(url):
    """An RTSP URL's path and query without a trailing track segment (SETUP's), as retries name it."""
    rest = url.split("://", 1)[-1]
    path = rest[rest.find("/"):] if "/" in rest else ""
    head, _, segment = path.rpartition("/")
    if head and segment.lower().startswith(("track", "stream=", "streamid=")):
        path = head
    return path.rstrip("/")


def call_of(request):
    """What names a request's call: its SIP Call-ID, or its RTSP stream path."""
    if isinstance(request, RtspMessage):
        return stream_path(request.start_line.split()[1])
    return request.get("Call-ID")


def is_fresh(request):
    """A request that can retry or fail over: not ACK, CANCEL or OPTIONS, not inside a dialog or session."""
    method = request.start_line.split()[0]
    if method in ("ACK", "CANCEL", "OPTIONS"):
        return False
    if isinstance(request, RtspMessage):
        return not request.get("Session")
    return "tag=" not in (request.get("To") or "")


def client_reactions(notes):
    """[(frame, reaction, 503 frame)] for the requests clients sent after 503s (captures/FORMAT.md).

    notes: {frame number: Note} of every frame carrying SIP or RTSP messages.  retry_early: a fresh
    request (first transmission) from the client's IP address to the server address and port of the
    latest 503 that server sent to that address, before its Retry-After elapsed; when it had none,
    the first fresh request for the same call within HAMMER_WINDOW s.  failover: the first fresh
    request from that address for the 503's call to another server address or port, within
    FAILOVER_WINDOW s.
    """
    latest = {}   # (server ip, server port, client ip) -> [503 frame, t_us, Retry-After or None, call, hammered]
    pending = {}  # (client ip, call) -> (503 frame, t_us, (server ip, server port))
    asked = {}    # RTSP: (client Host, server Host, CSeq) -> call of the request
    lines = []
    for frame in sorted(notes):
        note = notes[frame]
        client, server = note.src, note.dst
        for message, first in zip(note.messages, note.first):
            if message.status is None:
                call = call_of(message)
                if isinstance(message, RtspMessage):
                    asked[(client, server, message.get("CSeq"))] = call
                if not first or not is_fresh(message):
                    continue
                seen = latest.get((server.ip, server.port, client.ip))
                if seen:
                    waited = note.t_us - seen[1]
                    if seen[2] is not None and waited < seen[2] * 1e6:
                        lines.append((frame, "retry_early", seen[0]))
                    elif (seen[2] is None and call is not None and call == seen[3] and not seen[4]
                          and waited < HAMMER_WINDOW * 1e6):
                        lines.append((frame, "retry_early", seen[0]))
                        seen[4] = True
                waiting = pending.get((client.ip, call))
                if (waiting and (server.ip, server.port) != waiting[2]
                        and note.t_us - waiting[1] <= FAILOVER_WINDOW * 1e6):
                    lines.append((frame, "failover", waiting[0]))
                    del pending[(client.ip, call)]
            elif message.status == 503 and first:
                # here the sender of the frame is the server, its receiver the client
                call = (asked.get((server, client, message.get("CSeq")))
                        if isinstance(message, RtspMessage) else message.get("Call-ID"))
                latest[(client.ip, client.port, server.ip)] = [frame, note.t_us, retry_after_seconds(message), call, False]
                pending[(server.ip, call)] = (frame, note.t_us, (client.ip, client.port))
    return lines


# =========================================================================== story building


Reply = namedtuple("Reply", "delay code reason headers cause split mutate resend",
                   defaults=(None, (), None, False, None, ()))
Reply.__doc__ = """A server response `delay` s after the request.

headers: extra (name, value) fields; cause: truth for a 503; split: cut into two TCP segments;
mutate: function applied to the finished Message; resend: retransmit at these offsets (s).
Replies with the same delay leave together (in one segment over TCP).
"""


def arrivals(rng, start, end, rate):
    """Poisson arrival times in [start, end) at `rate` per second."""
    t = start + rng.expovariate(rate)
    while t < end:
        yield t
        t += rng.expovariate(rate)


class StoryBase:
    """One scenario's capture: its random source, identifiers, packets and output files.

    PROTOCOL names what the 503s are answers of; tshark_args are the extra arguments tshark needs
    to decode the capture (written to the .args file); tolerates_malformed says the scenario is
    built around odd messages, which tshark may flag as malformed.
    """

    PROTOCOL = None
    STATUS_503 = None  # tshark display filter for the protocol's 503 responses

    def __init__(self, rng, horizon, tshark_args=()):
        self.rng = rng
        self.ids = Ids(rng)
        self.cap = Capture(rng)
        self.horizon = horizon  # the capture stops here: later exchanges are not scheduled
        self.tshark_args = list(tshark_args)
        self.tolerates_malformed = False
        self.interfaces = None  # [(name, snaplen)] of the capture's interfaces; None: one, no snaplen

    def jitter(self, low, high):
        return self.rng.uniform(low, high)

    def lag(self):
        """Network plus stack delay between a client and the server."""
        return self.jitter(0.0005, 0.004)

    def send(self, t, src, dst, payload, split=False):
        self.cap.send(t, src, dst, payload, split)

    def write(self, directory, name, how):
        frames, truth = self.cap.render()
        stem = Path(directory) / ("rtsp-generated" if name.startswith("rtsp_") else "sip-generated") / f"gen-{name}"
        stem.parent.mkdir(parents=True, exist_ok=True)  # the family folder below --out (captures/README.md)
        with open(stem.with_suffix(".pcapng"), "wb") as stream:
            writer = PcapngWriter(stream, "diag503 tools/gen_captures.py", interfaces=self.interfaces)
            for wire in frames:
                writer.write(wire.t_us, wire.data, wire.interface, wire.captured)
        lines = [f"# how: {how}", f"# scenario: {name}"] + [f"{n}\t{cause}" for n, cause in truth]
        lines += [f"{n}\t{reaction}\t{answer}" for n, reaction, answer in client_reactions(self.cap.frame_notes)]
        stem.with_suffix(".truth").write_text("\n".join(lines) + "\n")
        args = stem.with_suffix(".args")
        if self.tshark_args:
            args.write_text(" ".join(self.tshark_args) + "\n")
        elif args.exists():
            args.unlink()  # left from an earlier version of the scenario
        return stem, len(frames), truth


class Story(StoryBase):
    """A SIP scenario: the server under study, its clients and common SIP flows.

    The server answers as the far end (a B2BUA, registrar or proxy seen from its client side):
    every response it sends gets its Server header, Contact/SDP where due, and `hooks(t, msg)`.
    """

    PROTOCOL = "SIP"
    STATUS_503 = "sip.Status-Code == 503"

    def __init__(self, rng, server, horizon=60.0):
        super().__init__(rng, horizon)
        self.server = server
        self.hooks = []

    # ----------------------------------------------------------------- helpers

    def media_port(self):
        return 2 * self.rng.randrange(8000, 16000)

    def population(self, count, subnet="192.0.2.", first=101, transport="UDP", domain=DOMAIN):
        """count users (alice, bob, ...) on consecutive addresses of subnet."""
        users = []
        for i, name in enumerate(NAMES[:count]):
            port = 5060 if transport == "UDP" else self.rng.randrange(49152, 65535)
            host = Host(f"{subnet}{first + i}", port, transport)
            users.append(UA(name, name.capitalize(), host, AGENTS[i % len(AGENTS)], domain))
        return users

    def dialog(self, ua, target, **kwargs):
        return Dialog(self.ids, ua, target, **kwargs)

    # ----------------------------------------------------------------- transactions

    def response(self, t, dlg, request, reply):
        """The server's response to request, as it leaves at time t."""
        tag = None if reply.code == 100 else dlg.server_tag()
        message = respond(request, reply.code, reply.reason, tag, reply.cause)
        method, server = request.method, self.server
        if method == "INVITE" and 180 <= reply.code < 300:
            user = dlg.target.split(":")[1].split("@")[0]
            message.add("Contact", f"<sip:{user}@{server.host.sent_by}{server.host.uri_params()}>")
        if method == "REGISTER" and reply.code == 200:
            message.add("Contact", f"{dlg.ua.contact};expires=3600")
            message.add("Date", email.utils.formatdate(BASE_EPOCH + t, usegmt=True))
        if method == "REGISTER" and reply.code == 401:
            nonce = self.ids.hex(32)
            message.add("WWW-Authenticate",
                        f'Digest realm="{dlg.ua.domain}", nonce="{nonce}", algorithm=MD5, qop="auth"')
        if method == "OPTIONS" and reply.code == 200:
            message.add("Allow", ALLOW).add("Accept", "application/sdp")
        message.add("Server", server.agent)
        for name, value in reply.headers:
            message.add(name, value)
        if method == "INVITE" and reply.code == 200:
            message.add("Content-Type", "application/sdp")
            message.body = sdp("-", server.host.ip, self.rng.randrange(10**9), self.media_port(), (0,))
        for hook in self.hooks:
            hook(t, message)
        if reply.mutate:
            reply.mutate(message)
        dlg.learn(message)
        return message

    def transact(self, t, dlg, request, replies, resend=(), split=False):
        """Client request at t (re-sent at t+resend), server replies; INVITE finals get ACKed.

        Returns the time of the last response sent.
        """
        client, server = dlg.ua.host, self.server.host
        for offset in (0, *resend):
            self.send(t + offset, client, server, request, split and offset == 0)
        groups = {}
        for reply in replies:
            groups.setdefault(reply.delay, []).append(reply)
        final = t_last = None
        for delay, group in groups.items():
            messages = [self.response(t + delay, dlg, request, reply) for reply in group]
            for offset in (0, *group[-1].resend):
                self.send(t + delay + offset, server, client, messages, group[-1].split)
            final, t_last = messages[-1], t + delay + max((0, *group[-1].resend))
        if request.method == "INVITE" and final.status >= 200:
            self.send(t_last + self.lag(), client, server, dlg.ack(request, final))
        return t_last

    # ----------------------------------------------------------------- flows

    def call(self, t, ua, target, hold=None, trying=None, ring=None, answer=None, resend=(),
             split=False):
        """A successful INVITE/100/180/200/ACK, and BYE/200 after hold seconds (if in the capture)."""
        trying = self.jitter(0.001, 0.004) if trying is None else trying
        ring = trying + self.jitter(0.08, 0.5) if ring is None else ring
        answer = ring + self.jitter(1.5, 6.0) if answer is None else answer
        dlg = self.dialog(ua, target)
        replies = [Reply(trying, 100), Reply(ring, 180), Reply(answer, 200)]
        t_answer = self.transact(t, dlg, dlg.invite(self.media_port()), replies, resend, split)
        hold = self.jitter(3.0, 20.0) if hold is None else hold
        self.hangup(t_answer + hold, dlg)
        return dlg

    def hangup(self, t, dlg):
        """The caller's BYE and its 200 OK, if it falls inside the capture."""
        if t < self.horizon:
            self.transact(t, dlg, dlg.request("BYE", uri=dlg.remote_target), [Reply(self.lag(), 200)])

    def reject(self, t, ua, target, reply, trying=None, resend=()):
        """An INVITE answered with reply (typically a 503), after a 100 Trying if trying is set."""
        dlg = self.dialog(ua, target)
        replies = ([Reply(trying, 100)] if trying is not None else []) + [reply]
        self.transact(t, dlg, dlg.invite(self.media_port()), replies, resend)
        return dlg

    def register(self, t, ua, final=None, challenge=False, dlg=None):
        """REGISTER (optionally 401-challenged first) answered with final (200 OK by default)."""
        dlg = dlg or self.dialog(ua, ua.aor, request_uri=f"sip:{ua.domain}")
        final = final or Reply(self.jitter(0.002, 0.012), 200)
        extra = [("Expires", "3600")]
        if challenge:
            t = self.transact(t, dlg, dlg.request("REGISTER", extra=extra),
                              [Reply(self.jitter(0.001, 0.004), 401)]) + 2 * self.lag()
            extra.append(("Authorization", self._authorization(ua)))
        self.transact(t, dlg, dlg.request("REGISTER", extra=extra), [final])
        return dlg

    def registrations(self, users, start, spacing, **kwargs):
        """REGISTERs of users one after the other, spacing seconds apart."""
        for i, ua in enumerate(users):
            self.register(start + spacing * i, ua, **kwargs)

    def _authorization(self, ua):
        return (f'Digest username="{ua.user}", realm="{ua.domain}", nonce="{self.ids.hex(32)}", '
                f'uri="sip:{ua.domain}", response="{self.ids.hex(32)}", algorithm=MD5, '
                f'cnonce="{self.ids.hex(8)}", qop=auth, nc=00000001')

    def options(self, t, ua, final=None):
        """An OPTIONS ping to the server, answered 200 OK unless final says otherwise."""
        uri = f"sip:{self.server.name}"
        dlg = self.dialog(ua, uri)
        final = final or Reply(self.jitter(0.0005, 0.002), 200)
        self.transact(t, dlg, dlg.request("OPTIONS", extra=[("Accept", "application/sdp")]), [final])

    def pick_call(self, users, external=()):
        """A random caller and a target: another user, or one of the external numbers."""
        caller = self.rng.choice(users)
        choices = [f"sip:{u.user}@{u.domain}" for u in users if u is not caller]
        choices += [f"sip:{n}@{caller.domain}" for n in external]
        return caller, self.rng.choice(choices)


class ProxyStory(Story):
    """A SIP scenario captured on a stateful proxy: it answers its clients itself (100 Trying,
    REGISTER, OPTIONS, its own 503s) and relays their INVITEs to next hops, Record-Routing them.

    The proxy's side towards a next hop may be another Host (a TCP or TLS connection's port), and
    `deliver(t, src, dst, message)` puts a message on that leg (plain by default; encrypted for
    TLS; nothing at all for a leg the capture does not see).
    """

    def record_route(self, proxy):
        return f"<sip:{proxy.sent_by};lr>"

    def own(self, request, code, reason=None, tag=None, headers=(), cause=None):
        """A response the proxy itself sends (its Server header)."""
        message = respond(request, code, reason, tag, cause)
        message.add("Server", self.server.agent)
        for name, value in headers:
            message.add(name, value)
        return message

    def inbound(self, t, ua, target, proxy=None):
        """A UA's INVITE to the proxy and the proxy's 100 Trying; returns (dialog, INVITE)."""
        proxy = proxy or self.server.host
        dlg = self.dialog(ua, target)
        invite = dlg.invite(self.media_port())
        self.send(t, ua.host, proxy, invite)
        self.send(t + self.jitter(0.0003, 0.0009), proxy, ua.host, self.own(invite, 100))
        return dlg, invite

    def give_up(self, t, dlg, invite, reason=None, headers=(), cause="unknown", proxy=None):
        """The proxy's own 503 to the UA at t and the UA's ACK."""
        proxy = proxy or self.server.host
        tag = self.ids.tag()
        final = self.own(invite, 503, reason, tag, headers, cause)
        self.send(t, proxy, dlg.ua.host, final)
        dlg.remote_tag = tag
        self.send(t + self.lag(), dlg.ua.host, proxy, dlg.ack(invite, final))

    def copy(self, request, via, uri=None, record_route=None):
        """The proxy's copy of request: own Via (new branch) on top, the sender's Via with
        received/rport, Max-Forwards - 1, Record-Route on an INVITE, Route removed."""
        relayed = Message.request(request.method, uri or request.start_line.split()[1])
        relayed.body = request.body
        relayed.add("Via", f"SIP/2.0/{via.transport} {via.sent_by};branch={self.ids.branch()}")
        vias = request.values("Via")
        relayed.add("Via", fill_rport(vias[0]))
        for other in vias[1:]:
            relayed.add("Via", other)
        for field, value in request.headers:
            if field == "Max-Forwards":
                relayed.add(field, str(int(value) - 1))
                if request.method == "INVITE":
                    relayed.add("Record-Route", record_route or self.record_route(via))
            elif field not in ("Via", "Route"):
                relayed.add(field, value)
        return relayed

    def hop_says(self, relayed, code, tag, agent, hop, reason=None, headers=(), cause=None):
        """A next hop's response to relayed (Record-Route, Contact and SDP where due)."""
        response = respond(relayed, code, reason, tag if code > 100 else None, cause)
        invite = relayed.method == "INVITE"
        if invite and 180 <= code < 300:
            for route in relayed.values("Record-Route"):
                response.add("Record-Route", route)
            number = relayed.start_line.split(":")[1].split("@")[0]
            response.add("Contact", f"<sip:{number}@{hop.sent_by}{hop.uri_params()}>")
        response.add("Server", agent)
        for name, value in headers:
            response.add(name, value)
        if invite and code == 200:
            response.add("Content-Type", "application/sdp")
            response.body = sdp("gw", hop.ip, self.rng.randrange(10**9), self.media_port(), (0,))
        return response

    @staticmethod
    def upward(response, cause=None):
        """A response relayed to the previous hop: without the proxy's Via."""
        return Message(response.start_line, response.headers[1:], response.body, cause)

    @staticmethod
    def hop_ack(relayed, final):
        """The proxy's own ACK to a next hop's non-2xx final response."""
        ack = Message.request("ACK", relayed.start_line.split()[1])
        ack.add("Via", relayed.get("Via")).add("Max-Forwards", "70").add("From", relayed.get("From"))
        ack.add("To", final.get("To")).add("Call-ID", relayed.get("Call-ID"))
        return ack.add("CSeq", relayed.get("CSeq").replace("INVITE", "ACK"))

    def through(self, t, dlg, invite, hop, agent, outcome, uri=None, trying=0.02, hold=None,
                proxy=None, local=None, via=None, deliver=None):
        """The proxy relays invite to hop at t and the hop answers: 100 Trying after `trying` s
        (None: none), then outcome [(delay, code, headers, reason, cause)], every non-100
        relayed to the UA.  A failure is ACKed hop by hop; a 200 is ACKed end to end through
        the proxy, and the call hung up after hold s (if inside the capture).  Returns the time
        of the final response."""
        proxy = proxy or self.server.host
        local, via = local or proxy, via or proxy
        deliver = deliver or self.send
        ua = dlg.ua
        relayed = self.copy(invite, via, uri, self.record_route(proxy))
        deliver(t, local, hop, relayed)
        if trying is not None:
            deliver(t + trying, hop, local, self.hop_says(relayed, 100, None, agent, hop))
        tag = self.ids.tag()
        for delay, code, headers, reason, cause in outcome:
            response = self.hop_says(relayed, code, tag, agent, hop, reason, headers, cause)
            deliver(t + delay, hop, local, response)
            final = self.upward(response, cause)
            self.send(t + delay + self.jitter(0.0002, 0.0006), proxy, ua.host, final)
        t_final = t + outcome[-1][0]
        dlg.learn(final)
        dlg.remote_tag = tag
        t_ack = t_final + 0.0006 + self.lag()
        if final.status >= 300:
            deliver(t_final + 0.0003, local, hop, self.hop_ack(relayed, response))
            self.send(t_ack, ua.host, proxy, dlg.ack(invite, final))
            return t_final
        ack = dlg.ack(invite, final).add("Route", self.record_route(proxy))
        self.send(t_ack, ua.host, proxy, ack)
        deliver(t_ack + 0.0004, local, hop, self.copy(ack, via))
        if hold is not None and t_ack + hold < self.horizon:
            t_bye = t_ack + hold
            bye = dlg.request("BYE", uri=dlg.remote_target,
                              extra=[("Route", self.record_route(proxy))])
            self.send(t_bye, ua.host, proxy, bye)
            relayed_bye = self.copy(bye, via)
            deliver(t_bye + 0.0004, local, hop, relayed_bye)
            t_ok = t_bye + 0.0004 + self.jitter(0.004, 0.03)
            ok = self.hop_says(relayed_bye, 200, tag, agent, hop)
            deliver(t_ok, hop, local, ok)
            self.send(t_ok + 0.0004, proxy, ua.host, self.upward(ok))
        return t_final

    def answered(self, ring=None, answer=None):
        """A next hop's usual outcome: 180 Ringing, then 200 OK."""
        ring = self.jitter(0.15, 0.9) if ring is None else ring
        answer = ring + self.jitter(1.5, 5.0) if answer is None else answer
        return [(ring, 180, (), None, None), (answer, 200, (), None, None)]


# =========================================================================== cameras (RTSP)


RTSP_PUBLIC = "OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER"
RTSP_DELAYS = {  # how long a camera takes to answer each method (s)
    "OPTIONS": (0.001, 0.003), "DESCRIBE": (0.004, 0.025), "SETUP": (0.002, 0.010),
    "PLAY": (0.005, 0.030), "TEARDOWN": (0.001, 0.005), "GET_PARAMETER": (0.001, 0.003),
}
RTSP_TRANSPORT = "RTP/AVP/TCP;unicast;interleaved=0-1"
PLAYERS = {  # RTSP client software: User-Agent, and whether it starts with OPTIONS
    "vlc": ("LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)", True),
    "ffmpeg": ("Lavf60.16.100", True),
    "gstreamer": ("GStreamer/1.22.0", True),
    "recorder": ("VideoRecorder/4.1.2", False),
    "scanner": ("RtspScanner/1.0 (libcurl/7.88.1)", False),  # DESCRIBE straight away
}
RTP_CLOCK = 90000
NTP_UNIX_OFFSET = 2208988800  # seconds from 1900 (NTP) to 1970 (Unix)


@dataclass(frozen=True)
class Camera:
    """An IP camera or recorder: RTSP endpoint, Server header and Digest realm (None: none)."""

    host: Host
    agent: str = None
    realm: str = None

    def url(self, path):
        port = "" if self.host.port == 554 else f":{self.host.port}"
        return f"rtsp://{self.host.ip}{port}{path}"

    @property
    def web(self):
        """Its HTTP configuration interface."""
        return Host(self.host.ip, 80, "TCP")


class RtpStream:
    """The camera's H.264 stream to one client: SSRC, sequence numbers, RTP clock, counters."""

    def __init__(self, rng):
        self.rng = rng
        self.ssrc = rng.getrandbits(32)
        self.seq = rng.randrange(65536)
        self.rtptime = rng.getrandbits(32)  # at PLAY
        self.start = None  # capture time of PLAY
        self.packets = self.octets = 0

    def clock(self, t):
        return (self.rtptime + round((t - self.start) * RTP_CLOCK)) & 0xFFFFFFFF

    def frame(self, t, key):
        """One video frame as two FU-A fragments (start, end+marker); tiny payloads."""
        nal = (0x65 if key else 0x41)  # IDR / non-IDR slice, nal_ref_idc 3 / 2
        indicator = (nal & 0x60) | 28
        packets = []
        for fu_header, marker in ((0x80 | (nal & 0x1F), 0), (0x40 | (nal & 0x1F), 1)):
            payload = bytes([indicator, fu_header]) + self.rng.randbytes(6)
            packets.append(struct.pack("!BBHII", 0x80, (marker << 7) | 96, self.seq, self.clock(t),
                                       self.ssrc) + payload)
            self.seq = (self.seq + 1) & 0xFFFF
            self.packets += 1
            self.octets += len(payload)
        return packets


def ntp_time(t):
    """The 64-bit NTP timestamp of capture time t."""
    seconds = BASE_EPOCH + t + NTP_UNIX_OFFSET
    return int(seconds) << 32 | int((seconds % 1) * (1 << 32))


def rtcp_sdes(ssrc, cname):
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname.encode() + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    return struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk


def rtcp_sender_report(stream, t, cname):
    """A compound RTCP packet: sender report and SDES CNAME."""
    report = struct.pack("!BBHIQIII", 0x80, 200, 6, stream.ssrc, ntp_time(t), stream.clock(t),
                         stream.packets, stream.octets)
    return report + rtcp_sdes(stream.ssrc, cname)


def rtcp_receiver_report(ssrc, stream, t_report, t, cname):
    """A compound RTCP packet: a client's receiver report on stream (last SR at t_report), SDES."""
    lsr = (ntp_time(t_report) >> 16) & 0xFFFFFFFF
    dlsr = round((t - t_report) * 65536)
    jitter = stream.rng.randrange(40, 400)
    block = struct.pack("!6I", stream.ssrc, 0, (stream.seq - 1) & 0xFFFF, jitter, lsr, dlsr)
    return struct.pack("!BBHI", 0x81, 201, 7, ssrc) + block + rtcp_sdes(ssrc, cname)


def interleaved(channel, packet):
    """An RTSP interleaved binary frame (RFC 2326 §10.12)."""
    return struct.pack("!cBH", b"$", channel, len(packet)) + packet


def camera_sdp(ip, session):
    """A camera's H.264 presentation: one video track, control relative to Content-Base."""
    lines = [
        "v=0", f"o=- {session} {session} IN IP4 {ip}", "s=Media Presentation", "e=NONE",
        "b=AS:5050", "t=0 0", "a=control:*", "m=video 0 RTP/AVP 96", "c=IN IP4 0.0.0.0",
        "b=AS:5000", "a=recvonly", "a=rtpmap:96 H264/90000",
        "a=fmtp:96 profile-level-id=420029; packetization-mode=1", "a=control:trackID=1",
    ]
    return "\r\n".join(lines) + "\r\n"


class RtspClient:
    """One client connection to the camera: its address, software, CSeq, nonce, session, RTP."""

    def __init__(self, host, player):
        self.host = host
        self.agent, self.sends_options = PLAYERS[player]
        self.cseq = 1
        self.nonce = None    # the camera's Digest nonce, once challenged
        self.base = None     # Content-Base of the described presentation
        self.session = None
        self.rtp = None      # RtpStream, once set up
        self.ssrc = None     # the client's own RTCP SSRC


class CameraStory(StoryBase):
    """An RTSP scenario: one camera or recorder, its clients and the usual RTSP 1.0 flows.

    Every client connection is TCP: handshake, requests with CSeq (Digest authentication after a
    401 when the camera has a realm), RTP/RTCP interleaved on channels 0-1 after PLAY, TEARDOWN
    and FIN, unless a scenario ends the connection otherwise.
    """

    PROTOCOL = "RTSP"
    STATUS_503 = "rtsp.status == 503"

    def __init__(self, rng, camera, horizon=40.0, rtp_period=2.0):
        port = camera.host.port
        super().__init__(rng, horizon, () if port == 554 else ("-d", f"tcp.port=={port},rtsp"))
        self.camera = camera
        self.rtp_period = rtp_period  # seconds between the video frames put in the capture
        self.used = set()

    def endpoint(self, ip):
        """A client address with an ephemeral port that ip has not used yet in the capture."""
        host = Host(ip, self.rng.randrange(49152, 65535), "TCP")
        while host in self.used:
            host = Host(ip, self.rng.randrange(49152, 65535), "TCP")
        self.used.add(host)
        return host

    # ----------------------------------------------------------------- messages

    def think(self):
        """A client's pause between an answer and its next request."""
        return self.jitter(0.0005, 0.003)

    def reply(self, method, code=200, **fields):
        """The camera's answer to method after its usual delay."""
        return Reply(self.jitter(*RTSP_DELAYS[method]), code, **fields)

    def request(self, client, method, url):
        message = RtspMessage.request(method, url)
        message.add("CSeq", str(client.cseq))
        client.cseq += 1
        if client.nonce:
            message.add("Authorization", f'Digest username="admin", realm="{self.camera.realm}", '
                                         f'nonce="{client.nonce}", uri="{url}", '
                                         f'response="{self.ids.hex(32)}"')
        message.add("User-Agent", client.agent)
        if method == "DESCRIBE":
            message.add("Accept", "application/sdp")
        elif method == "SETUP":
            message.add("Transport", RTSP_TRANSPORT)
        elif method != "OPTIONS" and client.session:
            message.add("Session", client.session)
        if method == "PLAY":
            message.add("Range", "npt=0.000-")
        return message

    def answer(self, t, client, request, reply):
        """The camera's response to request, as it leaves at time t."""
        method, url = request.start_line.split()[:2]
        message = RtspMessage.response(reply.code, reply.reason)
        message.cause = reply.cause
        message.add("CSeq", request.get("CSeq"))
        if reply.code == 401:
            client.nonce = self.ids.hex(32)
            message.add("WWW-Authenticate",
                        f'Digest realm="{self.camera.realm}", nonce="{client.nonce}", stale="FALSE"')
        elif reply.code == 200:
            self._served(t, client, method, url, message)
        if self.camera.agent:
            message.add("Server", self.camera.agent)
        message.add("Date", email.utils.formatdate(BASE_EPOCH + t, usegmt=True))
        for name, value in reply.headers:
            message.add(name, value)
        if reply.mutate:
            reply.mutate(message)
        return message

    def _served(self, t, client, method, url, message):
        """What a 200 OK carries for each method, and the client state it creates."""
        if method == "OPTIONS":
            message.add("Public", RTSP_PUBLIC)
        elif method == "DESCRIBE":
            client.base = url + "/"
            message.add("Content-Base", client.base).add("Content-Type", "application/sdp")
            message.body = camera_sdp(self.camera.host.ip, self.rng.randrange(10**15, 10**16))
        elif method == "SETUP":
            client.session = str(self.rng.randrange(10**9, 2**32))
            client.rtp = RtpStream(self.rng)
            client.ssrc = self.rng.getrandbits(32)
            message.add("Session", f"{client.session};timeout=60")
            message.add("Transport", f'{RTSP_TRANSPORT};ssrc={client.rtp.ssrc:08X};mode="play"')
        else:
            message.add("Session", client.session)
        if method == "PLAY":
            client.rtp.start = t
            message.add("RTP-Info", f"url={client.base}trackID=1;seq={client.rtp.seq};"
                                    f"rtptime={client.rtp.rtptime}")

    def exchange(self, t, client, requests, replies):
        """Requests leave together at t; reply i answers request i, and replies with the same
        delay leave together.  Returns the time of the last answer."""
        self.send(t, client.host, self.camera.host, requests)
        groups = {}
        for request, reply in zip(requests, replies):
            groups.setdefault(reply.delay, []).append((request, reply))
        for delay, group in groups.items():
            answers = [self.answer(t + delay, client, request, reply) for request, reply in group]
            self.send(t + delay, self.camera.host, client.host, answers, group[-1][1].split)
        return t + max(groups)

    def ask(self, t, client, method, url, reply=None):
        """One request and its answer (200 OK unless reply); returns when the client goes on."""
        reply = reply or self.reply(method)
        return self.exchange(t, client, [self.request(client, method, url)], [reply]) + self.think()

    # ----------------------------------------------------------------- flows

    def play(self, t, ip, player, path, refusal=None, pipeline=False):
        """A new connection from ip asks for path: OPTIONS (if the player sends it), DESCRIBE
        (challenged first if the camera has a realm), SETUP and PLAY.

        refusal=(method, reply): the camera answers that request with reply and the client
        hangs up.  pipeline: PLAY and a GET_PARAMETER keep-alive leave in one segment and are
        answered in one.  Returns the client and when it plays (None if refused).
        """
        client = RtspClient(self.endpoint(ip), player)
        self.cap.connect(t, client.host, self.camera.host)
        t += 0.001
        url = self.camera.url(path)
        if client.sends_options:
            t = self.ask(t, client, "OPTIONS", url)
        if self.camera.realm:
            t = self.ask(t, client, "DESCRIBE", url, self.reply("DESCRIBE", 401))
        refused, refusal = refusal or (None, None)
        for method in ("DESCRIBE", "SETUP", "PLAY"):
            target = {"DESCRIBE": url, "SETUP": f"{client.base}trackID=1"}.get(method, client.base)
            reply = refusal if method == refused else self.reply(method)
            if method == "PLAY" and pipeline:
                requests = [self.request(client, "PLAY", target),
                            self.request(client, "GET_PARAMETER", target)]
                t = self.exchange(t, client, requests, [reply, reply._replace(code=200)]) + self.think()
            else:
                t = self.ask(t, client, method, target, reply)
            if method == refused:
                self.cap.close(t, client.host, self.camera.host)
                return client, None
        return client, t

    def stream(self, client, start, end):
        """Interleaved RTP from the camera in [start, end): a frame (two FU-A packets) every
        rtp_period s, a key frame first; every third time an RTCP sender report rides along and
        the client sends its receiver report."""
        rtp, camera = client.rtp, self.camera.host
        t, count = start + 0.02, 0
        while t < min(end, self.horizon):
            frames = [interleaved(0, packet) for packet in rtp.frame(t, key=count == 0)]
            if count % 3 == 0:
                frames.append(interleaved(1, rtcp_sender_report(rtp, t, f"camera@{camera.ip}")))
                report = rtcp_receiver_report(client.ssrc, rtp, t, t + 0.05, f"client@{client.host.ip}")
                self.send(t + 0.05, client.host, camera, interleaved(1, report))
            self.send(t, camera, client.host, frames)
            t, count = t + self.rtp_period + self.jitter(-0.1, 0.1), count + 1

    def drop(self, t, client, reset=False):
        """The camera ends a client's connection: FIN, or an abortive RST."""
        if reset:
            self.cap.reset(t, self.camera.host, client.host)
        else:
            self.cap.close(t, self.camera.host, client.host)

    def leave(self, t, client):
        """TEARDOWN, then the client closes the connection (if inside the capture)."""
        if t < self.horizon:
            t = self.ask(t, client, "TEARDOWN", client.base)
            self.cap.close(t, client.host, self.camera.host)

    def watch(self, t, ip, player, path, until, pipeline=False):
        """play, stream until `until`, leave; returns the client."""
        client, t = self.play(t, ip, player, path, pipeline=pipeline)
        self.stream(client, t, until)
        self.leave(until, client)
        return client

    def refused(self, t, ip, player, path, code=503, at="DESCRIBE", **fields):
        """A client whose request `at` the camera answers with code (a 503 by default)."""
        return self.play(t, ip, player, path, refusal=(at, self.reply(at, code, **fields)))[0]

    def configure(self, t, ip, request, server, content_type, body):
        """An HTTP request to the camera's web interface on a new connection, answered 200 OK
        with body; the client closes.  Returns the time of the answer."""
        client, web = self.endpoint(ip), self.camera.web
        self.cap.connect(t, client, web)
        request.headers.insert(0, ("Host", web.ip))
        self.send(t + 0.001, client, web, request)
        t_answer = t + 0.001 + self.jitter(0.05, 0.2)
        response = HttpMessage.response(200)
        response.add("Date", email.utils.formatdate(BASE_EPOCH + t_answer, usegmt=True))
        response.add("Server", server).add("Connection", "close").add("Content-Type", content_type)
        response.body = body
        self.send(t_answer, web, client, response)
        self.cap.close(t_answer + self.think(), client, web)
        return t_answer


def numbers(count, first=143):
    """Fictional E.164 numbers (+1 202 555-01xx)."""
    return [f"+12025550{first + i:03d}" for i in range(count)]


def q850(cause, text):
    return ("Reason", f'Q.850;cause={cause};text="{text}"')


def retry_after(seconds):
    return ("Retry-After", str(seconds))


# =========================================================================== other protocols


def dns_message(txid, qname, qtype, rcode=None):
    """A recursive DNS query (rcode None) or an answerless response with rcode."""
    flags = 0x0100 if rcode is None else 0x8180 | rcode
    labels = b"".join(bytes([len(label)]) + label.encode() for label in qname.split("."))
    return struct.pack("!6H", txid, flags, 1, 0, 0, 0) + labels + b"\0" + struct.pack("!HH", qtype, 1)


DNS_A, DNS_SRV, DNS_NAPTR, DNS_SERVFAIL = 1, 33, 35, 2


def tls_record(content_type, payload, version=0x0303):
    return struct.pack("!BHH", content_type, version, len(payload)) + payload


def tls_handshake(kind, body):
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def tls_extension(kind, data):
    return struct.pack("!HH", kind, len(data)) + data


def tls_hello(rng, kind, session_id, suites, extensions):
    """A TLS ClientHello (kind 1) or ServerHello (kind 2) handshake record."""
    body = (struct.pack("!H", 0x0303) + rng.randbytes(32) + bytes([len(session_id)]) + session_id
            + suites + (b"\x01\x00" if kind == 1 else b"\x00")
            + struct.pack("!H", len(extensions)) + extensions)
    return tls_record(22, tls_handshake(kind, body), 0x0301 if kind == 1 else 0x0303)


def tls_client_hello(rng, session_id, server_name):
    name = server_name.encode()
    extensions = b"".join((
        tls_extension(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name),
        tls_extension(10, struct.pack("!3H", 4, 0x001D, 0x0017)),
        tls_extension(13, struct.pack("!5H", 8, 0x0403, 0x0804, 0x0401, 0x0805)),
        tls_extension(43, struct.pack("!B2H", 4, 0x0304, 0x0303)),
        tls_extension(51, struct.pack("!3H", 36, 0x001D, 32) + rng.randbytes(32)),
    ))
    suites = struct.pack("!4H", 6, 0x1301, 0x1302, 0xC02F)
    return tls_hello(rng, 1, session_id, suites, extensions)


def tls_server_flight(rng, session_id):
    """TLS 1.3 ServerHello + ChangeCipherSpec + encrypted handshake (certificate etc.)."""
    extensions = tls_extension(43, struct.pack("!H", 0x0304)) + tls_extension(
        51, struct.pack("!2H", 0x001D, 32) + rng.randbytes(32))
    hello = tls_hello(rng, 2, session_id, struct.pack("!H", 0x1301), extensions)
    return hello + tls_record(20, b"\x01") + tls_record(23, rng.randbytes(rng.randrange(1000, 1250)))


def tls_alert(description):
    """A plaintext fatal alert (40 handshake_failure, 42 bad_certificate, 48 unknown_ca)."""
    return tls_record(21, bytes([2, description]))


DNS_NOERROR = 0


def dns_name(name):
    """A domain name in DNS wire format (uncompressed)."""
    return b"".join(bytes([len(label)]) + label.encode() for label in name.split(".")) + b"\0"


def dns_answer(txid, qname, qtype, records, ttl):
    """A recursive resolver's NOERROR response: records (type, rdata) owned by qname, each name
    a compression pointer to the question."""
    answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", kind, 1, ttl, len(rdata)) + rdata
                       for kind, rdata in records)
    return (struct.pack("!6H", txid, 0x8180, 1, len(records), 0, 0) + dns_name(qname)
            + struct.pack("!HH", qtype, 1) + answers)


def naptr_rdata(order, preference, service, replacement):
    """RFC 3403 NAPTR with flag "s" (an SRV lookup follows), as RFC 3263 uses it."""
    strings = b"".join(bytes([len(text)]) + text for text in (b"s", service.encode(), b""))
    return struct.pack("!HH", order, preference) + strings + dns_name(replacement)


def srv_rdata(priority, weight, port, target):
    return struct.pack("!3H", priority, weight, port) + dns_name(target)


def der(tag, content):
    """One DER element."""
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def der_seq(*items):
    return der(0x30, b"".join(items))


def der_oid(dotted):
    first, second, *rest = map(int, dotted.split("."))
    body = bytes([40 * first + second])
    for arc in rest:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.insert(0, 0x80 | (arc & 0x7F))
        body += bytes(chunk)
    return der(0x06, body)


def x509_name(organization, common_name):
    return der_seq(der(0x31, der_seq(der_oid("2.5.4.10"), der(0x0C, organization.encode()))),
                   der(0x31, der_seq(der_oid("2.5.4.3"), der(0x0C, common_name.encode()))))


def x509_certificate(rng, subject, issuer, valid, dns_names):
    """A well-formed X.509 v3 certificate (RSA 2048, sha256WithRSAEncryption) whose key and
    signature are random bytes: subject and issuer are (organization, common name), valid
    is (not before, not after) as datetimes, dns_names its subjectAltName entries."""
    sha256_rsa = der_seq(der_oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    modulus = der(0x02, b"\x00" + bytes([0x80 | rng.getrandbits(7)]) + rng.randbytes(255))
    key = der_seq(der_oid("1.2.840.113549.1.1.1"), b"\x05\x00")
    spki = der_seq(key, der(0x03, b"\x00" + der_seq(modulus, der(0x02, b"\x01\x00\x01"))))
    san = der_seq(der_oid("2.5.29.17"),
                  der(0x04, der_seq(*(der(0x82, name.encode()) for name in dns_names))))
    server_auth = der_seq(der_oid("2.5.29.37"), der(0x04, der_seq(der_oid("1.3.6.1.5.5.7.3.1"))))
    times = der_seq(*(der(0x17, moment.strftime("%y%m%d%H%M%SZ").encode()) for moment in valid))
    serial = der(0x02, bytes([rng.randrange(1, 0x80)]) + rng.randbytes(15))
    tbs = der_seq(der(0xA0, der(0x02, b"\x02")), serial, sha256_rsa, x509_name(*issuer), times,
                  x509_name(*subject), spki, der(0xA3, der_seq(san, server_auth)))
    return der_seq(tbs, sha256_rsa, der(0x03, b"\x00" + rng.randbytes(256)))


def tls12_server_flight(rng, certificates):
    """A TLS 1.2 server's first flight, all in the clear: ServerHello (ECDHE-RSA-AES128-GCM-SHA256),
    Certificate, ServerKeyExchange (x25519, RSA-SHA256 signature) and ServerHelloDone."""
    hello = tls_hello(rng, 2, rng.randbytes(32), struct.pack("!H", 0xC02F), b"")
    chain = b"".join(len(cert).to_bytes(3, "big") + cert for cert in certificates)
    certificate = tls_record(22, tls_handshake(11, len(chain).to_bytes(3, "big") + chain))
    params = struct.pack("!BHB", 3, 0x001D, 32) + rng.randbytes(32)
    signed = struct.pack("!HH", 0x0401, 256) + rng.randbytes(256)
    exchange = tls_record(22, tls_handshake(12, params + signed))
    return hello + certificate + exchange + tls_record(22, tls_handshake(14, b""))


def tls_encrypted(rng, message):
    """A TLS 1.3 application data record carrying message (AES-GCM: type byte and 16-byte tag)."""
    return tls_record(23, rng.randbytes(len(message.encode()) + 17))


TLS_CERTIFICATE_EXPIRED, TLS_BAD_CERTIFICATE = 45, 42


# --------------------------------------------------------------------------- databases


def pg_message(kind, payload):
    """A PostgreSQL protocol 3.0 message: type byte, length, payload."""
    return kind + struct.pack("!I", len(payload) + 4) + payload


def pg_startup(user, database, application):
    pairs = (("user", user), ("database", database), ("application_name", application))
    params = b"".join(f"{key}\0{value}\0".encode() for key, value in pairs) + b"\0"
    return struct.pack("!II", len(params) + 8, 3 << 16) + params


def pg_ready(rng):
    """AuthenticationOk, the usual ParameterStatus, BackendKeyData and ReadyForQuery (idle)."""
    status = (("server_version", "15.6"), ("server_encoding", "UTF8"), ("client_encoding", "UTF8"),
              ("DateStyle", "ISO, MDY"), ("TimeZone", "UTC"), ("integer_datetimes", "on"))
    return (pg_message(b"R", struct.pack("!I", 0))
            + b"".join(pg_message(b"S", f"{key}\0{value}\0".encode()) for key, value in status)
            + pg_message(b"K", struct.pack("!II", rng.randrange(1000, 60000), rng.getrandbits(32)))
            + pg_message(b"Z", b"I"))


def pg_rows(columns, rows):
    """The answer to a simple Query: RowDescription (text columns), DataRows, CommandComplete,
    ReadyForQuery."""
    fields = b"".join(name.encode() + b"\0" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0)
                      for name in columns)
    answer = pg_message(b"T", struct.pack("!H", len(columns)) + fields)
    for row in rows:
        cells = b"".join(struct.pack("!I", len(value.encode())) + value.encode() for value in row)
        answer += pg_message(b"D", struct.pack("!H", len(row)) + cells)
    return answer + pg_message(b"C", f"SELECT {len(rows)}\0".encode()) + pg_message(b"Z", b"I")


def pg_done(tag):
    """CommandComplete with tag (e.g. 'INSERT 0 1') and ReadyForQuery."""
    return pg_message(b"C", f"{tag}\0".encode()) + pg_message(b"Z", b"I")


def pg_error(code, message, source, line, routine):
    """A FATAL ErrorResponse (the backend closes the connection after it)."""
    fields = (("S", "FATAL"), ("V", "FATAL"), ("C", code), ("M", message), ("F", source),
              ("L", str(line)), ("R", routine))
    return pg_message(b"E", b"".join(f"{key}{value}\0".encode() for key, value in fields) + b"\0")


def mysql_packet(sequence, payload):
    return len(payload).to_bytes(3, "little") + bytes([sequence]) + payload


def mysql_text(value):
    """A length-encoded string (shorter than 251 bytes)."""
    return bytes([len(value)]) + value.encode()


def mysql_scramble(rng, size):
    return bytes(rng.randrange(0x21, 0x7F) for _ in range(size))


def mysql_greeting(rng, thread):
    """Protocol 10 handshake of MySQL 8.0 with mysql_native_password."""
    scramble = mysql_scramble(rng, 20)
    payload = (b"\x0a8.0.36\0" + struct.pack("<I", thread) + scramble[:8] + b"\0"
               + struct.pack("<HBHHB", 0xFFFF, 0xFF, 0x0002, 0xDFFF, 21) + b"\0" * 10
               + scramble[8:] + b"\0mysql_native_password\0")
    return mysql_packet(0, payload)


MYSQL_CLIENT_FLAGS = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000


def mysql_login(rng, user, database):
    """HandshakeResponse41: user, 20-byte mysql_native_password scramble, database."""
    payload = (struct.pack("<IIB", MYSQL_CLIENT_FLAGS, 1 << 24, 0xFF) + b"\0" * 23
               + user.encode() + b"\0" + bytes([20]) + rng.randbytes(20) + database.encode()
               + b"\0mysql_native_password\0")
    return mysql_packet(1, payload)


def mysql_ok(sequence):
    return mysql_packet(sequence, b"\x00\x00\x00" + struct.pack("<HH", 0x0002, 0))


def mysql_error(sequence, code, state, message):
    """ERR_Packet, protocol 4.1 layout (SQL state marker and state)."""
    return mysql_packet(sequence, b"\xff" + struct.pack("<H", code) + f"#{state}{message}".encode())


def mysql_query(sql):
    return mysql_packet(0, b"\x03" + sql.encode())


def mysql_rows(schema, table, column, values):
    """A text result set of one VARCHAR column with classic EOF packets."""
    definition = (b"".join(mysql_text(text) for text in ("def", schema, table, table, column, column))
                  + b"\x0c" + struct.pack("<HIBHB", 0xFF, 1020, 0xFD, 0, 0) + b"\0\0")
    eof = b"\xfe" + struct.pack("<HH", 0, 0x0002)
    packets = [b"\x01", definition, eof] + [mysql_text(value) for value in values] + [eof]
    return b"".join(mysql_packet(i + 1, payload) for i, payload in enumerate(packets))


def resp_command(*words):
    """A Redis command as a RESP array of bulk strings."""
    return (f"*{len(words)}\r\n" + "".join(f"${len(word)}\r\n{word}\r\n" for word in words)).encode()


# =========================================================================== scenarios


SCENARIOS = {}


def scenario(func):
    SCENARIOS[func.__name__] = func
    return func


def udp_story(rng, ip, horizon, name="sip.example.net", agent="EdgeProxy/5.7.2"):
    """A Story around a SIP server on UDP port 5060."""
    return Story(rng, Server(Host(ip), name, agent), horizon)


@scenario
def overload_udp(rng):
    """UDP proxy for 20 users sheds half of a 3 s, x10 call surge with immediate 503s.

    The 503s leave 1-5 ms after the INVITE with Retry-After 2-10 s. One INVITE is retransmitted
    before being shed, one retransmitted INVITE then succeeds, and one 503 is retransmitted
    after its ACK was lost.
    """
    story = udp_story(rng, "198.51.100.10", 28, "proxy.example.net")
    users = story.population(20)
    external = numbers(4)
    story.registrations(users[:8], start=0.1, spacing=0.2)
    story.options(1.9, users[19])
    for t in arrivals(rng, 2.0, 8.0, 1.0):
        story.call(t, *story.pick_call(users, external))

    surge = list(arrivals(rng, 8.0, 11.0, 10.0))
    lost_invite, lost_ack, slow_invite = 2, 5, 8  # surge INVITEs with retransmissions
    ordinary = [k for k in range(len(surge)) if k not in (lost_invite, lost_ack, slow_invite)]
    shed = set(rng.sample(ordinary, len(surge) // 2 - 2))
    for k, t in enumerate(surge):
        caller, target = story.pick_call(users, external)
        busy = Reply(story.jitter(0.001, 0.005), 503,
                     headers=[retry_after(rng.choice((2, 3, 5, 5, 10)))], cause="overload")
        if k == lost_invite:
            # the first copy is dropped by the server's full socket queue; the retransmission is shed
            story.reject(t, caller, target, busy._replace(delay=0.5 + busy.delay), resend=(0.5,))
        elif k == lost_ack:
            # the ACK for the 503 is lost, so the server retransmits the 503 after T1
            story.reject(t, caller, target, busy._replace(resend=(0.5,)))
        elif k == slow_invite:
            story.call(t, caller, target, trying=0.5 + story.jitter(0.01, 0.03), resend=(0.5,))
        elif k in shed:
            story.reject(t, caller, target, busy)
        else:
            story.call(t, caller, target, trying=story.jitter(0.005, 0.03))
    for t in arrivals(rng, 11.0, 16.0, 1.0):
        story.call(t, *story.pick_call(users, external))
    return story


@scenario
def overload_rfc7339(rng):
    """Core server reports rising RFC 7339 overload on its Via, then sheds with 503.

    IPv6/UDP. An edge proxy offers oc/oc-algo on its Via; the core answers oc=0;oc-validity=0
    while idle, then oc=10/30/60 as calls ramp up, and from 12.5 s rejects about 45% of INVITEs
    with an immediate 503 + Retry-After 2-5 s.
    """
    core = Server(Host("2001:db8:10::10"), "core.example.net", "CoreSwitch/7.1.4")
    story = Story(rng, core, horizon=26)
    edge = Host("2001:db8:20::5")
    offer = ';oc;oc-algo="loss,rate"'
    phones = story.population(12, subnet="2001:db8:20::", first=101)
    users = [UA(p.user, p.display, edge, p.agent, behind=p.host, via_params=offer) for p in phones]
    steps = [(0.0, 0), (7.0, 10), (10.0, 30), (12.5, 60), (18.0, 20), (21.0, 0)]

    def overload_control(t, message):
        """Answers the offer on the top Via: current oc level, validity (ms) and sequence."""
        since, level = max((step for step in steps if step[0] <= t), key=lambda step: step[0])
        sequence = f"{BASE_EPOCH + int(since)}.{round(since * 1000) % 1000:03d}"
        validity = 0 if level == 0 else 1000
        answer = f';oc={level};oc-algo="loss";oc-validity={validity};oc-seq={sequence}'
        message.set("Via", message.get("Via").replace(offer, answer))

    story.hooks.append(overload_control)
    keepalive = UA("edge", "Edge", edge, "EdgeProxy/5.7.2", via_params=offer)
    for t in range(0, 24, 5):
        story.options(t + 0.5, keepalive)
    external = numbers(3)
    load = [(1.0, 7.0, 1.0), (7.0, 10.0, 2.0), (10.0, 17.0, 4.0), (17.0, 21.0, 1.0)]
    for start, end, rate in load:
        for t in arrivals(rng, start, end, rate):
            caller, target = story.pick_call(users, external)
            if 12.5 <= t < 17.0 and rng.random() < 0.45:
                shed = retry_after(rng.choice((2, 4, 5)))
                story.reject(t, caller, target,
                             Reply(story.jitter(0.001, 0.004), 503, headers=[shed], cause="overload"))
            else:
                story.call(t, caller, target, trying=story.jitter(0.002, 0.02 + rate * 0.004))
    return story


@scenario
def capacity_q850(rng):
    """SIP trunk with 6 channels full: immediate 503 + Reason Q.850 cause 34 or 42.

    A PBX sets up 6 long calls through an SBC; further INVITEs are rejected at once; after one
    BYE a new call succeeds, then the trunk is full again.
    """
    story = udp_story(rng, "198.51.100.20", 48, "trunk.example.net", "EdgeSBC/9.4.1")
    pbx = Host("192.0.2.20")
    extensions = [UA(str(2001 + i), f"Ext {2001 + i}", pbx, "OfficePBX/18.2.1", "pbx.example.com")
                  for i in range(12)]
    targets = [f"sip:{n}@trunk.example.net" for n in numbers(12, first=110)]
    for t in range(0, 48, 15):
        story.options(t + 0.3, extensions[0])
    calls = [story.call(1.0 + 1.7 * i, extensions[i], targets[i], hold=99) for i in range(6)]
    no_circuit = q850(34, "No circuit/channel available")
    congestion = q850(42, "Switching equipment congestion")

    def full(t, ext, target, reason):
        story.reject(t, ext, target, Reply(story.jitter(0.001, 0.003), 503, headers=[reason],
                                           cause="capacity_limit"))

    full(16.2, extensions[6], targets[6], no_circuit)
    full(18.9, extensions[7], targets[7], congestion)
    full(21.4, extensions[8], targets[8], no_circuit)
    full(22.0, extensions[8], targets[8], no_circuit)
    story.hangup(25.3, calls[1])
    story.call(27.8, extensions[9], targets[9], hold=99)
    full(31.5, extensions[10], targets[10], no_circuit)
    full(34.2, extensions[11], targets[11], congestion)
    return story


@scenario
def capacity_licence(rng):
    """PBX licensed for 8 calls answers the 9th at once with 503 Maximum Calls In Progress.

    Most carry Warning: 399 pbx "Licence limit of 8 concurrent calls reached". 12 phones
    register with digest authentication; after one hang-up a retry succeeds.
    """
    story = udp_story(rng, "198.51.100.30", 45, "pbx.example.com", "OfficePBX/18.2.1")
    users = story.population(12, domain="pbx.example.com")
    story.registrations(users, start=0.1, spacing=0.3, challenge=True)
    external = [f"sip:{n}@pbx.example.com" for n in numbers(12, first=160)]
    calls = [story.call(5.0 + 1.1 * i, users[i], external[i], hold=99) for i in range(8)]
    licence = ("Warning", '399 pbx "Licence limit of 8 concurrent calls reached"')

    def refused(t, ua, target, reason, headers):
        story.reject(t, ua, target, Reply(story.jitter(0.001, 0.004), 503, reason, headers,
                                          cause="capacity_limit"))

    refused(18.0, users[8], external[8], "Maximum Calls In Progress", [licence])
    refused(20.5, users[9], external[9], None, [licence])
    refused(23.1, users[10], external[10], "Maximum Calls In Progress", [])
    story.hangup(26.0, calls[3])
    story.call(29.0, users[8], external[8], hold=99)
    refused(33.4, users[11], external[11], "Maximum Calls In Progress", [licence])
    return story


@scenario
def upstream_q850_tcp(rng):
    """SIP over TCP: 100 Trying at once, 503 8-32 s later when the PSTN gateway fails.

    Reason Q.850 cause 38/41, and one '503 No more gateways' without Retry-After; calls between
    users succeed. Covers an INVITE split over two segments, 100+180 in one segment and a 503
    split over two segments.
    """
    proxy = Server(Host("198.51.100.40", 5060, "TCP"), "proxy.example.net", "EdgeProxy/5.7.2")
    story = Story(rng, proxy, horizon=70)
    users = story.population(6, transport="TCP")
    for i, ua in enumerate(users):
        story.cap.connect(0.2 * i, ua.host, proxy.host)
        story.register(0.2 * i + 0.01, ua)
    pstn = [f"sip:{n}@{DOMAIN}" for n in numbers(4, first=120)]
    internal = [f"sip:{u.user}@{DOMAIN}" for u in users]

    def gateway_failure(t, ua, target, delay, reason, headers, split=False):
        failed = Reply(delay, 503, reason, headers, cause="upstream_failure", split=split)
        story.reject(t, ua, target, failed, trying=story.jitter(0.001, 0.003))

    # one INVITE leaves in two segments (headers, then SDP); 100+180 share one segment;
    # the first 503 is cut in two segments too
    story.call(2.0, users[1], internal[2], trying=0.002, ring=0.002, split=True)
    out_of_order = q850(38, "Network out of order")
    gateway_failure(3.5, users[0], pstn[0], 12.4, None, [out_of_order], split=True)
    story.call(6.2, users[3], internal[4])
    gateway_failure(9.8, users[2], pstn[1], 8.3, None, [q850(41, "Temporary failure")])
    story.options(14.0, users[5])
    story.call(17.1, users[4], internal[0])
    gateway_failure(20.0, users[5], pstn[2], 31.6, "No more gateways", [])
    story.call(24.5, users[0], internal[5])
    gateway_failure(30.2, users[1], pstn[3], 16.0, None, [out_of_order])
    story.call(38.0, users[2], internal[3])
    return story


@scenario
def dns_failure(rng):
    """Proxy cannot resolve carrier.example and answers 503 after 1-2 s.

    Its SRV query is retransmitted and gets SERVFAIL, so does the A query; the 503 carries
    Warning 399 "DNS SRV lookup failed ..." or the phrase 'DNS Resolution Failure'. Internal
    calls work.
    """
    story = udp_story(rng, "198.51.100.50", 40, "proxy.example.net")
    proxy = story.server
    resolver = Host("198.51.100.53", 53)
    users = story.population(10)
    story.registrations(users[:6], start=0.2, spacing=0.4)
    carrier = [f"sip:{n}@carrier.example" for n in numbers(3, first=180)]
    srv_name = "_sip._udp.carrier.example"
    srv_failed = ("Warning", f'399 proxy.example.net "DNS SRV lookup failed for {srv_name}"')

    def lookup(t, port, qname, qtype, answer_after, retransmit=None):
        """Query from the proxy, optional retransmission with the same id, SERVFAIL back."""
        client, txid = Host(proxy.host.ip, port), rng.getrandbits(16)
        query = dns_message(txid, qname, qtype)
        story.send(t, client, resolver, query)
        if retransmit:
            story.send(t + retransmit, client, resolver, query)
        story.send(t + answer_after, resolver, client, dns_message(txid, qname, qtype, DNS_SERVFAIL))
        return t + answer_after

    def unresolvable(t, ua, target, reason, headers):
        port = rng.randrange(32768, 61000)
        t_srv = lookup(t + 0.003, port, srv_name, DNS_SRV, story.jitter(1.1, 1.4), retransmit=1.0)
        t_a = lookup(t_srv + 0.001, port + 1, "carrier.example", DNS_A, story.jitter(0.05, 0.4))
        failed = Reply(t_a - t + 0.001, 503, reason, headers, cause="dns_failure")
        story.reject(t, ua, target, failed, trying=story.jitter(0.001, 0.003))

    story.call(3.0, users[0], f"sip:bob@{DOMAIN}")
    unresolvable(5.1, users[2], carrier[0], None, [srv_failed])
    story.call(7.4, users[3], f"sip:erin@{DOMAIN}")
    unresolvable(10.0, users[4], carrier[1], "DNS Resolution Failure", [])
    story.options(12.0, users[9])
    story.call(13.3, users[5], f"sip:alice@{DOMAIN}")
    unresolvable(16.8, users[1], carrier[2], None, [srv_failed])
    story.call(19.5, users[6], f"sip:dave@{DOMAIN}")
    return story


@scenario
def tls_failure(rng):
    """Proxy's TLS handshake to partner.example:5061 fails, so it answers 503 saying so.

    A TLS 1.3 ServerHello followed by the proxy's encrypted alert (certificate verify failed),
    or a plaintext handshake_failure alert; the 503 has a Warning 399 or the phrase 'TLS
    Handshake Failed'. Internal calls work.
    """
    story = udp_story(rng, "198.51.100.60", 40, "proxy.example.net")
    proxy = story.server
    partner = Host("203.0.113.60", 5061, "TCP")
    users = story.population(8)
    story.registrations(users[:5], start=0.3, spacing=0.3)
    remote = [f"sip:{n}@partner.example" for n in ("carol.ext", "sales", "support")]
    remote[1] += ";transport=tls"

    def handshake(t, refused):
        """TCP + TLS from the proxy to the partner's gateway; returns when the proxy gives up.

        refused: the gateway answers the ClientHello with a handshake_failure alert.  Otherwise
        it sends its TLS 1.3 flight (certificate encrypted), which the proxy cannot verify, so
        the proxy sends an (encrypted) alert.  Either way the proxy then closes the connection.
        """
        client = Host(proxy.host.ip, rng.randrange(32768, 61000), "TCP")
        story.cap.connect(t, client, partner, rtt=0.022)
        session = rng.randbytes(32)
        story.send(t + 0.0225, client, partner, tls_client_hello(rng, session, "gw.partner.example"))
        if refused:
            story.send(t + 0.045, partner, client, tls_alert(40))
        else:
            story.send(t + 0.045, partner, client, tls_server_flight(rng, session))
            alert = tls_record(20, b"\x01") + tls_record(23, rng.randbytes(19))  # CCS + encrypted alert
            story.send(t + 0.047, client, partner, alert)
        story.cap.close(t + 0.048, client, partner, rtt=0.022)
        return t + 0.048

    next_hop = "sips:gw.partner.example:5061"
    failures = [  # (refused by the gateway, reason phrase, Warning)
        (False, None, f'399 proxy.example.net "TLS handshake failed with {next_hop}: '
                      'certificate verify failed"'),
        (True, "TLS Handshake Failed", None),
        (False, None, '399 proxy.example.net "certificate verify failed: unable to get local issuer '
                      f'certificate ({next_hop})"'),
    ]

    def tls_call(t, ua, target, failure):
        refused, reason, warning = failure
        t_fail = handshake(t + 0.002, refused)
        headers = [("Warning", warning)] if warning else []
        failed = Reply(t_fail - t + 0.001, 503, reason, headers, cause="tls_failure")
        story.reject(t, ua, target, failed, trying=story.jitter(0.001, 0.003))

    story.call(2.5, users[0], f"sip:dave@{DOMAIN}")
    tls_call(4.0, users[1], remote[0], failures[0])
    story.call(6.6, users[2], f"sip:alice@{DOMAIN}")
    tls_call(9.2, users[3], remote[1], failures[1])
    story.options(11.0, users[7])
    tls_call(13.5, users[4], remote[2], failures[2])
    story.call(15.9, users[5], f"sip:erin@{DOMAIN}")
    return story


@scenario
def database_failure(rng):
    """Registrar loses its database: REGISTERs that worked before now get 503.

    X-Reason: database connection lost (after a 2 s database timeout) or an immediate Warning:
    399 registrar "Database unavailable"; one INVITE's location lookup fails too; OPTIONS are
    still answered 200.
    """
    story = udp_story(rng, "198.51.100.70", 40, "registrar.example.net", "Registrar/3.2.0")
    users = story.population(14)
    story.registrations(users[:9], start=0.2, spacing=0.6, challenge=True)
    story.call(4.0, users[0], f"sip:bob@{DOMAIN}", hold=4)
    story.options(9.0, users[13])
    lost = [("X-Reason", "database connection lost")]
    unavailable = [("Warning", '399 registrar "Database unavailable"')]
    db_down = [  # (user, challenged first, delay of the 503, headers)
        (users[9], True, 2.0, lost),
        (users[10], False, 2.0, lost),
        (users[2], True, 0.003, unavailable),
        (users[11], False, 0.002, unavailable),
        (users[12], True, 0.002, lost),
    ]
    for i, (ua, challenged, delay, headers) in enumerate(db_down):
        story.register(12.0 + 3.1 * i, ua, challenge=challenged,
                       final=Reply(delay + story.jitter(0.0, 0.004), 503, headers=headers,
                                   cause="database_failure"))
    story.options(20.0, users[13])
    story.reject(24.0, users[5], f"sip:carol@{DOMAIN}",
                 Reply(0.004, 503, headers=unavailable, cause="database_failure"), trying=0.002)
    return story


@scenario
def registration_routing(rng):
    """Every REGISTER and INVITE from alice gets a bare 503; 11 other users are fine.

    No Retry-After, Reason or Warning, 20-40 ms after the request; the other users register and
    call before, during and after.
    """
    story = udp_story(rng, "198.51.100.80", 45)
    users = story.population(12)
    alice, others = users[0], users[1:]
    registration = story.dialog(alice, alice.aor, request_uri=f"sip:{DOMAIN}")

    def alice_blocked(t, request):
        reply = Reply(story.jitter(0.02, 0.04), 503, cause="registration_routing")
        if request == "REGISTER":
            story.register(t, alice, final=reply, dlg=registration)
        else:
            story.reject(t, alice, f"sip:{rng.choice(others).user}@{DOMAIN}", reply)

    story.registrations(others, start=0.3, spacing=0.4)
    for t, request in ((1.0, "REGISTER"), (8.0, "REGISTER"), (12.5, "INVITE"), (16.0, "REGISTER"),
                       (23.5, "INVITE"), (24.0, "REGISTER"), (32.0, "REGISTER")):
        alice_blocked(t, request)
    for t in arrivals(rng, 5.0, 34.0, 0.4):
        story.call(t, *story.pick_call(others))
    story.registrations(others[:5], start=28.0, spacing=0.5)
    return story


@scenario
def multihop(rng):
    """Capture on a proxy: a gateway's 503 (Q.850 41, after 2 s) is relayed to the UAC.

    UAC->proxy INVITE and 100 Trying, proxy->gateway INVITE with a second Via and a new branch,
    gateway 100 then 503; the proxy ACKs it and relays the 503 without its own Via. Calls
    before and after succeed, one with a BYE through the proxy.
    """
    story = udp_story(rng, "198.51.100.90", 40, "proxy.example.net")
    proxy_host = story.server.host
    gateway = Server(Host("203.0.113.90"), "gw1.example.net", "PSTN-Gateway/4.0.3")
    record_route = f"<sip:{proxy_host.ip};lr>"
    users = story.population(4)
    story.registrations(users, start=0.2, spacing=0.3)

    def forward(t, request):
        """The proxy's copy for the gateway: own Via on top, Max-Forwards-1, Record-Route on INVITE."""
        uri = request.start_line.split()[1].replace(f"@{DOMAIN}", f"@{gateway.host.ip}")
        relayed = Message.request(request.method, uri)
        relayed.body = request.body
        relayed.add("Via", f"SIP/2.0/UDP {proxy_host.sent_by};branch={story.ids.branch()}")
        relayed.add("Via", fill_rport(request.get("Via")))
        for field, value in request.headers:
            if field == "Max-Forwards":
                relayed.add(field, str(int(value) - 1))
                if request.method == "INVITE":
                    relayed.add("Record-Route", record_route)
            elif field not in ("Via", "Route"):
                relayed.add(field, value)
        story.send(t, proxy_host, gateway.host, relayed)
        return relayed

    def gateway_says(t, ua, relayed, code, tag, headers=(), cause=None):
        """The gateway's response to the proxy; all but 100 are relayed to the UA minus the top Via."""
        response = respond(relayed, code, to_tag=tag, cause=cause)
        invite_ok = code == 200 and relayed.method == "INVITE"
        if invite_ok:
            number = relayed.start_line.split(":")[1].split("@")[0]
            response.add("Record-Route", record_route)
            response.add("Contact", f"<sip:{number}@{gateway.host.sent_by}>")
        response.add("Server", gateway.agent)
        for name, value in headers:
            response.add(name, value)
        if invite_ok:
            response.add("Content-Type", "application/sdp")
            response.body = sdp("gw", gateway.host.ip, rng.randrange(10**9), story.media_port(), (0,))
        story.send(t, gateway.host, proxy_host, response)
        if code == 100:
            return response
        upstream = Message(response.start_line, response.headers[1:], response.body, cause)
        story.send(t + 0.0004, proxy_host, ua.host, upstream)
        return upstream

    def hop_by_hop_ack(relayed, final):
        """The proxy's own ACK to the gateway for a non-2xx final response."""
        ack = Message.request("ACK", relayed.start_line.split()[1])
        ack.add("Via", relayed.get("Via")).add("Max-Forwards", "70").add("From", relayed.get("From"))
        ack.add("To", final.get("To")).add("Call-ID", relayed.get("Call-ID"))
        return ack.add("CSeq", relayed.get("CSeq").replace("INVITE", "ACK"))

    def via_gateway(t, ua, number, outcome, hold=None):
        """One call through the proxy; outcome is [(delay, code, headers)] from the gateway."""
        dlg = story.dialog(ua, f"sip:{number}@{DOMAIN}")
        invite = dlg.invite(story.media_port())
        story.send(t, ua.host, proxy_host, invite)
        story.send(t + 0.0008, proxy_host, ua.host, respond(invite, 100))
        relayed = forward(t + 0.001, invite)
        tag = story.ids.tag()
        gateway_says(t + 0.018, ua, relayed, 100, tag)
        for delay, code, headers in outcome:
            final = gateway_says(t + delay, ua, relayed, code, tag, headers,
                                 "upstream_failure" if code == 503 else None)
        t_ack = t + outcome[-1][0] + story.lag()
        dlg.learn(final)
        dlg.remote_tag = tag
        ack = dlg.ack(invite, final)
        if final.status >= 300:
            story.send(t_ack - 0.0005, proxy_host, gateway.host, hop_by_hop_ack(relayed, final))
            story.send(t_ack, ua.host, proxy_host, ack)
            return
        ack.add("Route", record_route)
        story.send(t_ack, ua.host, proxy_host, ack)
        forward(t_ack + 0.0005, ack)
        if hold:
            bye = dlg.request("BYE", uri=dlg.remote_target, extra=[("Route", record_route)])
            story.send(t_ack + hold, ua.host, proxy_host, bye)
            relayed_bye = forward(t_ack + hold + 0.0005, bye)
            gateway_says(t_ack + hold + 0.02, ua, relayed_bye, 200, tag)

    number = numbers(3, first=150)
    ringing, answered = (0.9, 180, ()), (4.2, 200, ())
    via_gateway(2.0, users[0], number[0], [ringing, answered], hold=9.0)
    via_gateway(9.0, users[1], number[1], [(2.1, 503, [q850(41, "Temporary failure")])])
    story.options(12.0, users[3])
    via_gateway(15.0, users[2], number[2], [ringing, answered])
    return story


@scenario
def missing_requests(rng):
    """Only the server's packets were captured: responses without their requests.

    Capture filter 'src host 198.51.100.110'. Three 503s: Retry-After 10 (overload), Retry-
    After 3600 (maintenance window);duration=1800 (maintenance) and a bare one (unknown).
    """
    story = udp_story(rng, "198.51.100.110", 30)
    server = story.server
    story.cap.keep = lambda src: src.ip == server.host.ip
    users = story.population(8)
    story.registrations(users[:6], start=0.5, spacing=0.5)
    story.call(4.0, users[0], f"sip:bob@{DOMAIN}", hold=6)
    story.reject(7.0, users[1], f"sip:carol@{DOMAIN}",
                 Reply(0.002, 503, headers=[retry_after(10)], cause="overload"))
    story.options(9.0, users[7])
    story.reject(12.0, users[3], f"sip:{numbers(1)[0]}@{DOMAIN}",
                 Reply(0.002, 503, headers=[("Retry-After", "3600 (maintenance window);duration=1800")],
                       cause="maintenance"))
    story.call(14.5, users[4], f"sip:dave@{DOMAIN}", hold=5)
    story.reject(18.0, users[5], f"sip:erin@{DOMAIN}",
                 Reply(0.25, 503, mutate=lambda m: m.remove("Server"), cause="unknown"))
    return story


def compact_form(message):
    """Rewrites header names to their RFC 3261 compact forms where one exists."""
    message.headers = [(COMPACT.get(f.lower(), f), v) for f, v in message.headers]
    message.add("l", str(len(message.body.encode())))


def lower_case(message):
    message.headers = [(f.lower(), v) for f, v in message.headers]


def append_raw(*lines):
    """A mutation appending verbatim header lines."""
    return lambda message: message.headers.extend((line, None) for line in lines)


def truncated_body(message):
    message.add("Content-Type", "text/plain").add("Content-Length", "160")
    message.body = "Service temporarily unavailable, please try ag"


def cseq_without_method(message):
    message.set("CSeq", message.get("CSeq").split()[0])


@scenario
def malformed(rng):
    """Robustness: odd 503 headers; a 20-digit Retry-After counts as maintenance (a long wait).

    Retry-After abc, 99999999999999999999, or twice (5 and 7200); Q.850 cause 999; a body
    shorter than Content-Length; CSeq without method; compact and lower-case header names; a
    folded Reason; a comment after Retry-After params; a branchless RFC 2543 Via.
    """
    story = udp_story(rng, "198.51.100.120", 60)
    story.tolerates_malformed = True
    users = story.population(12)
    story.registrations(users[:4], start=0.2, spacing=0.3)
    story.call(2.0, users[0], f"sip:bob@{DOMAIN}", hold=3)
    folded_reason = 'Reason:   Q.850 ;\r\n  cause=34 ;\r\n\ttext="No circuit/channel available"'
    cases = [  # (cause, extra headers, mutation)
        ("unknown", [("Retry-After", "abc")], None),
        ("maintenance", [("Retry-After", "99999999999999999999")], None),
        ("unknown", [retry_after(5), ("Retry-After", "7200")], None),
        ("unknown", [("Reason", 'Q.850;cause=999;text="Unknown"')], None),
        ("unknown", [], truncated_body),
        ("unknown", [], cseq_without_method),
        ("overload", [retry_after(5)], compact_form),
        ("maintenance", [("Retry-After", "1800")], lower_case),
        ("capacity_limit", [], append_raw(folded_reason)),
        ("maintenance", [("Retry-After", "3600;duration=1800 (maintenance window)")], None),
    ]
    for i, (cause, headers, mutation) in enumerate(cases):
        odd = Reply(story.jitter(0.001, 0.004), 503, headers=headers, mutate=mutation, cause=cause)
        story.reject(6.0 + 2.0 * i, users[1 + i], f"sip:{users[(i + 5) % 12].user}@{DOMAIN}", odd)
    # an RFC 2543 client: its Via has no branch, so the 503 (copying it) has none either
    legacy = UA("legacy", "Legacy", Host("192.0.2.150"), "OldPhone/1.0", DOMAIN)
    dlg = story.dialog(legacy, f"sip:alice@{DOMAIN}")
    invite = dlg.invite(story.media_port())
    invite.set("Via", f"SIP/2.0/UDP {legacy.host.sent_by}")
    story.transact(28.0, dlg, invite, [Reply(0.002, 503, cause="unknown")])
    story.call(31.0, users[2], f"sip:carol@{DOMAIN}", hold=4)
    return story


@scenario
def unknown_plain(rng):
    """Plain 503 Service Unavailable 200-400 ms after the INVITE and nothing else.

    No 100 Trying, Retry-After, Reason or Warning, with normal calls around them: not enough
    evidence for any cause.
    """
    story = udp_story(rng, "198.51.100.130", 40)
    users = story.population(10)
    story.registrations(users[:6], start=0.2, spacing=0.5)
    for k, t in enumerate(arrivals(rng, 3.0, 30.0, 0.5)):
        caller, target = story.pick_call(users)
        if k % 3 == 1 and k < 15:
            story.reject(t, caller, target, Reply(story.jitter(0.2, 0.4), 503, cause="unknown"))
        else:
            story.call(t, caller, target)
    return story


def drained(story):
    """The immediate 503 of a server in maintenance."""
    return Reply(story.jitter(0.0005, 0.002), 503, "Service Unavailable - Maintenance",
                 [retry_after(1800)], cause="maintenance")


@scenario
def maintenance_drain(rng):
    """Server in maintenance answers every new request with 503 + Retry-After: 1800.

    From 12 s every INVITE, REGISTER and OPTIONS gets an immediate '503 Service Unavailable -
    Maintenance'; an established call still ends with BYE/200.
    """
    story = udp_story(rng, "198.51.100.140", 40)
    users = story.population(10)
    monitor = UA("monitor", "Monitor", Host("203.0.113.5"), "HealthCheck/2.0", DOMAIN)
    story.registrations(users[:6], start=0.2, spacing=0.4)
    for t in range(0, 36, 6):
        story.options(t + 1.0, monitor, final=None if t < 12 else drained(story))
    long_call = story.call(3.0, users[0], f"sip:bob@{DOMAIN}", hold=99)
    story.call(6.0, users[2], f"sip:dave@{DOMAIN}", hold=3)
    story.hangup(18.5, long_call)
    story.reject(13.2, users[3], f"sip:carol@{DOMAIN}", drained(story))
    story.register(15.0, users[6], final=drained(story))
    story.reject(21.7, users[4], f"sip:{numbers(1)[0]}@{DOMAIN}", drained(story))
    story.register(25.0, users[1], final=drained(story))
    story.reject(29.3, users[5], f"sip:alice@{DOMAIN}", drained(story))
    return story


# --------------------------------------------------------------------------- evidence around the 503


def proxy_story(rng, ip, horizon, name="proxy.example.net", agent="EdgeProxy/5.7.2"):
    """A ProxyStory around a proxy on UDP port 5060."""
    story = ProxyStory(rng, Server(Host(ip), name, agent), horizon)
    return story


def ephemeral(rng, ip, transport="UDP"):
    return Host(ip, rng.randrange(32768, 61000), transport)


@scenario
def dns_evidence(rng):
    """Edge proxy gets SERVFAIL or no answer for some carriers' DNS names: a bare 503 each time.

    The proxy routes numbers to carriers by prefix and finds each carrier's SBC per RFC 3263
    through its resolver 198.51.100.153, caching the answers for their TTL. carrier-a.example and
    voice.partner.example resolve (NAPTR, SRV and A answered NOERROR) and their calls are
    answered. For carrier-b.example the NAPTR query takes a second and comes back SERVFAIL, so
    does the SRV fallback at once; carrier-c.example is routed with transport=udp, so only
    _sip._udp.carrier-c.example SRV is asked, and never answered: the proxy re-sends the query
    twice, 1 s apart, and gives up 1 s later. Each of those calls gets a plain 503 Service
    Unavailable: no Warning, no Reason.
    """
    story = proxy_story(rng, "198.51.100.150", 60, "edge.example.net")
    proxy = story.server.host
    resolver = Host("198.51.100.153", 53)
    users = story.population(10)
    story.registrations(users[:8], start=0.2, spacing=0.35)
    carriers = {  # domain -> (SBC names, SBC address, SBC Server header)
        "carrier-a.example": (("sbc1.carrier-a.example", "sbc2.carrier-a.example"), "203.0.113.21",
                              "CarrierSBC/4.2.1"),
        "voice.partner.example": (("edge1.voice.partner.example", "edge2.voice.partner.example"),
                                  "203.0.113.31", "PartnerGW/1.9.3"),
    }
    cached = {}  # name -> when its answer expires

    def ask(t, qname, qtype, delay, records=None, ttl=300, rcode=None, resend=()):
        """A query from a fresh port of the proxy, re-sent (same id) after resend s; answered after
        delay s with records (NOERROR) or an answerless rcode, or never if neither is given.
        Returns when the answer arrives (or the last query leaves)."""
        client, txid = ephemeral(rng, proxy.ip), rng.getrandbits(16)
        query = dns_message(txid, qname, qtype)
        for offset in (0, *resend):
            story.send(t + offset, client, resolver, query)
        if records is not None:
            story.send(t + delay, resolver, client, dns_answer(txid, qname, qtype, records, ttl))
        elif rcode is not None:
            story.send(t + delay, resolver, client, dns_message(txid, qname, qtype, rcode))
        else:
            return t + max((0, *resend))
        return t + delay

    def resolve(t, domain):
        """RFC 3263 for a working carrier: NAPTR, SRV, A, each only when not cached."""
        (primary, secondary), ip, _ = carriers[domain]
        udp, tcp = f"_sip._udp.{domain}", f"_sip._tcp.{domain}"
        if cached.get(domain, -1) < t:
            t = ask(t, domain, DNS_NAPTR, story.jitter(0.01, 0.06),
                    [(DNS_NAPTR, naptr_rdata(10, 50, "SIP+D2U", udp)),
                     (DNS_NAPTR, naptr_rdata(20, 50, "SIP+D2T", tcp))], ttl=3600) + 0.0002
            t = ask(t, udp, DNS_SRV, story.jitter(0.01, 0.05),
                    [(DNS_SRV, srv_rdata(10, 60, 5060, primary)),
                     (DNS_SRV, srv_rdata(20, 40, 5060, secondary))], ttl=300) + 0.0002
            cached[domain] = t + 300
        if cached.get(primary, -1) < t:
            t = ask(t, primary, DNS_A, story.jitter(0.008, 0.04),
                    [(DNS_A, bytes(map(int, ip.split("."))))], ttl=30) + 0.0002
            cached[primary] = t + 30
        return t

    def carrier_call(t, ua, number, domain, hold):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        _, ip, agent = carriers[domain]
        t_sent = resolve(t + 0.001, domain) + 0.0003
        story.through(t_sent, dlg, invite, Host(ip), agent, story.answered(),
                      uri=f"sip:{number}@{domain}", trying=story.jitter(0.015, 0.03), hold=hold)

    def servfail(t, ua, number, domain):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        t_naptr = ask(t + 0.001, domain, DNS_NAPTR, story.jitter(0.9, 1.6), rcode=DNS_SERVFAIL)
        t_srv = ask(t_naptr + 0.0003, f"_sip._udp.{domain}", DNS_SRV, story.jitter(0.001, 0.003),
                    rcode=DNS_SERVFAIL)
        story.give_up(t_srv + story.jitter(0.0003, 0.001), dlg, invite, cause="dns_failure")

    def unanswered(t, ua, number, domain):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        t_last = ask(t + 0.001, f"_sip._udp.{domain}", DNS_SRV, None, resend=(1.0, 2.0))
        story.give_up(t_last + 1.0 + story.jitter(0.0005, 0.002), dlg, invite, cause="dns_failure")

    a, b, c, partner = "carrier-a.example", "carrier-b.example", "carrier-c.example", \
        "voice.partner.example"
    number = numbers(10, first=170)
    carrier_call(3.2, users[0], number[0], a, hold=7.0)
    servfail(6.5, users[1], number[1], b)
    carrier_call(9.1, users[2], number[2], partner, hold=5.0)
    unanswered(12.0, users[3], number[3], c)
    carrier_call(17.6, users[4], number[4], a, hold=9.0)
    servfail(21.3, users[5], number[5], b)
    story.options(24.8, users[9])
    unanswered(27.4, users[6], number[6], c)
    carrier_call(33.5, users[7], number[7], a, hold=6.0)
    carrier_call(38.2, users[0], number[8], partner, hold=8.0)
    return story


@scenario
def tls_evidence(rng):
    """Proxy's TLS to two partners fails (expired or wrong certificate, no ServerHello): bare 503s.

    The proxy relays calls to partner SBCs over TLS on port 5061. partner-a's SBC completes a
    TLS 1.3 handshake and the calls run as application data on that connection. partner-b's SBC
    speaks TLS 1.2 and sends a certificate that expired on 2026-02-14: the proxy sends a fatal
    certificate_expired alert and closes; partner-c's SBC presents the hosting provider's default
    certificate (*.hosting.example), which the proxy refuses with a fatal bad_certificate alert;
    partner-d's SBC accepts the TCP connection but never answers the ClientHello, and the proxy
    gives up after 3 s. Each of those calls gets a plain 503 Service Unavailable.
    """
    story = proxy_story(rng, "198.51.100.160", 60)
    proxy = story.server.host
    via = Host(proxy.ip, 5061, "TLS")
    users = story.population(10)
    story.registrations(users[:8], start=0.3, spacing=0.3)
    rtt = 0.018
    moment = partial(datetime.datetime, tzinfo=datetime.timezone.utc)
    partner_b_ca = ("Partner B", "Partner B Issuing CA 2")
    chains = {
        "sbc.partner-b.example": [x509_certificate(
            rng, ("Partner B", "sbc.partner-b.example"), partner_b_ca,
            (moment(2024, 2, 14, 9, 30), moment(2026, 2, 14, 9, 30)), ["sbc.partner-b.example"])],
        "sbc.partner-c.example": [x509_certificate(
            rng, ("Hosting Example", "*.hosting.example"), ("Hosting Example", "Hosting Example CA"),
            (moment(2025, 11, 3), moment(2026, 11, 3)), ["*.hosting.example", "hosting.example"])],
    }
    partners = {  # SBC name -> (address, Server header)
        "sbc.partner-a.example": (Host("203.0.113.161", 5061, "TLS"), "PartnerSBC/3.0.2"),
        "sbc.partner-b.example": (Host("203.0.113.162", 5061, "TLS"), "PartnerSBC/2.4.9"),
        "sbc.partner-c.example": (Host("203.0.113.163", 5061, "TLS"), "Carrier-SBC/7.1"),
        "sbc.partner-d.example": (Host("203.0.113.164", 5061, "TLS"), "Carrier-SBC/7.1"),
    }
    connections = {}  # SBC name -> the proxy's end of its established TLS connection

    def encrypted(t, src, dst, message):
        story.send(t, src, dst, tls_encrypted(rng, message))

    def hello(t, name):
        """TCP handshake and ClientHello; returns the proxy's end and when the hello left."""
        local = ephemeral(rng, proxy.ip, "TCP")
        story.cap.connect(t, local, partners[name][0], rtt=rtt)
        t_hello = t + rtt + 0.0003
        story.send(t_hello, local, partners[name][0], tls_client_hello(rng, rng.randbytes(32), name))
        return local, t_hello

    def tls_up(t, name):
        """A TLS 1.3 connection to the SBC (session ticket included); returns when it is ready."""
        hop = partners[name][0]
        local, t_hello = hello(t, name)
        session = rng.randbytes(32)
        t_flight = t_hello + rtt + story.jitter(0.001, 0.003)
        story.send(t_flight, hop, local, tls_server_flight(rng, session))
        t_finished = t_flight + story.jitter(0.0008, 0.0015)
        story.send(t_finished, local, hop, tls_record(20, b"\x01") + tls_record(23, rng.randbytes(53)))
        story.send(t_finished + rtt + 0.0005, hop, local, tls_record(23, rng.randbytes(241)))
        connections[name] = local
        return t_finished + 0.0002

    def partner_call(t, ua, user, name, hold):
        dlg, invite = story.inbound(t, ua, f"sip:{user}@{name.split('.', 1)[1]}")
        t_ready = t + 0.001
        if name not in connections:
            t_ready = tls_up(t_ready, name)
        hop, agent = partners[name]
        story.through(t_ready, dlg, invite, hop, agent, story.answered(), uri=f"sip:{user}@{name}",
                      trying=rtt + 0.004, hold=hold, local=connections[name], via=via,
                      deliver=encrypted)

    def refused_certificate(t, ua, user, name, alert):
        dlg, invite = story.inbound(t, ua, f"sip:{user}@{name.split('.', 1)[1]}")
        hop = partners[name][0]
        local, t_hello = hello(t + 0.001, name)
        t_flight = t_hello + rtt + story.jitter(0.002, 0.005)
        story.send(t_flight, hop, local, tls12_server_flight(rng, chains[name]))
        t_alert = t_flight + story.jitter(0.0005, 0.0012)
        story.send(t_alert, local, hop, tls_alert(alert))
        story.cap.close(t_alert + 0.0001, local, hop, rtt=rtt)
        story.give_up(t_alert + story.jitter(0.0008, 0.002), dlg, invite, cause="tls_failure")

    def no_server_hello(t, ua, user, name):
        dlg, invite = story.inbound(t, ua, f"sip:{user}@{name.split('.', 1)[1]}")
        local, t_hello = hello(t + 0.001, name)
        story.cap.half_close(t_hello + 3.0, local, partners[name][0], rtt=rtt)
        story.give_up(t_hello + 3.0 + story.jitter(0.0005, 0.0015), dlg, invite, cause="tls_failure")

    a, b, c, d = (f"sbc.partner-{x}.example" for x in "abcd")
    partner_call(3.0, users[0], "sales", a, hold=12.0)
    refused_certificate(6.2, users[1], "+442079460123", b, TLS_CERTIFICATE_EXPIRED)
    partner_call(9.8, users[2], "support", a, hold=6.0)
    no_server_hello(13.1, users[3], "frontdesk", d)
    story.options(18.0, users[9])
    refused_certificate(21.7, users[4], "accounts", c, TLS_BAD_CERTIFICATE)
    partner_call(25.4, users[5], "+442079460188", a, hold=8.0)
    refused_certificate(30.2, users[6], "+442079460155", b, TLS_CERTIFICATE_EXPIRED)
    partner_call(34.6, users[7], "sales", a, hold=10.0)
    return story


@scenario
def unreachable_hop(rng):
    """Proxy's next hops are down (ICMP/ICMPv6 port unreachable, TCP RST, no SYN-ACK): 503 each.

    A proxy relays calls to PSTN gateways chosen by number. gw1 (UDP), gw5 (TCP) and an IPv6
    gateway answer. gw2's SIP service is down: every INVITE copy the proxy sends (timer A: again
    after 0.5 and 1.5 s) comes back as ICMP port unreachable quoting it, and after 3 s the proxy
    answers the caller 503; the same happens over IPv6 with ICMPv6 port unreachable from a
    second IPv6 gateway. gw3 refuses the proxy's TCP connection (RST, twice), gw4 never answers
    its SYNs (sent again after 1 and 3 s, 503 at 4 s). The 503s are plain Service Unavailable.
    """
    story = proxy_story(rng, "198.51.100.170", 60)
    proxy, proxy6 = story.server.host, Host("2001:db8:170::10")
    users = story.population(9)
    phones6 = [UA(name, name.capitalize(), Host(f"2001:db8:20::{101 + i}"), AGENTS[i % len(AGENTS)])
               for i, name in enumerate(NAMES[12:15])]
    story.registrations(users[:6], start=0.2, spacing=0.3)
    gateway = "PSTN-Gateway/4.0.3"
    gw1, gw2 = Host("203.0.113.171"), Host("203.0.113.172")
    gw3, gw4, gw5 = (Host(f"203.0.113.{n}", 5060, "TCP") for n in (173, 174, 175))
    gw6_up, gw6_down = Host("2001:db8:171::20"), Host("2001:db8:172::20")
    tcp_via = Host(proxy.ip, 5060, "TCP")
    pstn = numbers(12, first=130)

    def answered_call(t, ua, number, hop, hold, proxy_host=proxy):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=proxy_host)
        uri = f"sip:{number}@{hop.sent_by}{hop.uri_params()}"
        if hop.transport == "TCP":
            local = ephemeral(rng, proxy_host.ip, "TCP")
            story.cap.connect(t + 0.001, local, hop, rtt=0.004)
            story.through(t + 0.0052, dlg, invite, hop, gateway, story.answered(), uri=uri,
                          trying=0.006, hold=hold, local=local, via=tcp_via)
        else:
            story.through(t + 0.001, dlg, invite, hop, gateway, story.answered(), uri=uri,
                          trying=story.jitter(0.008, 0.02), hold=hold, proxy=proxy_host)

    def port_unreachable(t, ua, number, hop, proxy_host=proxy):
        """The INVITE copies draw ICMP (type 3 code 3) or ICMPv6 (type 1 code 4) errors."""
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=proxy_host)
        relayed = story.copy(invite, proxy_host, f"sip:{number}@{hop.sent_by}",
                             story.record_route(proxy_host))
        icmp = (3, 3) if ":" not in hop.ip else (1, 4)
        rtt = story.jitter(0.003, 0.008)
        for offset in (0.0, 0.5, 1.5):  # timer A: T1, then 2*T1
            sent = story.cap.send(t + 0.001 + offset, proxy_host, hop, relayed)
            story.cap.icmp_error(t + 0.001 + offset + rtt, hop, sent, *icmp)
        story.give_up(t + 3.001 + story.jitter(0.0, 0.002), dlg, invite, cause="upstream_failure",
                      proxy=proxy_host)

    def connection_refused(t, ua, number, hop):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        story.cap.refused(t + 0.001, ephemeral(rng, proxy.ip, "TCP"), hop, rtt=0.004)
        story.cap.refused(t + 0.251, ephemeral(rng, proxy.ip, "TCP"), hop, rtt=0.004)
        story.give_up(t + 0.254 + story.jitter(0.0003, 0.001), dlg, invite, cause="upstream_failure")

    def no_syn_ack(t, ua, number, hop):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        story.cap.unanswered(t + 0.001, ephemeral(rng, proxy.ip, "TCP"), hop, (1.0, 3.0))
        story.give_up(t + 4.001 + story.jitter(0.0003, 0.001), dlg, invite, cause="upstream_failure")

    answered_call(2.0, users[0], pstn[0], gw1, hold=9.0)
    port_unreachable(5.0, users[1], pstn[1], gw2)
    answered_call(9.5, users[2], pstn[2], gw5, hold=8.0)
    connection_refused(12.2, users[3], pstn[3], gw3)
    answered_call(15.0, phones6[0], pstn[4], gw6_up, hold=6.0, proxy_host=proxy6)
    port_unreachable(18.4, phones6[1], pstn[5], gw6_down, proxy_host=proxy6)
    no_syn_ack(23.0, users[4], pstn[6], gw4)
    answered_call(29.0, users[5], pstn[7], gw1, hold=7.0)
    port_unreachable(32.3, users[6], pstn[8], gw2)
    story.options(36.5, users[8])
    answered_call(38.0, users[7], pstn[9], gw5, hold=9.0)
    return story


@scenario
def database_evidence(rng):
    """Registrar's databases fail (PostgreSQL refused/starting up, MySQL 1040, Redis reset): 503s.

    The registrar keeps locations in PostgreSQL, looks up outbound routes (LCR) in MySQL and counts
    calls per user in Redis, with one query per REGISTER and one or two per call. At 10 s
    PostgreSQL is restarted: it ends the registrar's session (57P01) and refuses new connections
    (RST) for a while, then answers "the database system is starting up" (57P03); a new MySQL
    connection later gets ERR 1040 Too many connections right after its login; Redis resets the
    connection while a command is in flight, then refuses it once. Each failed lookup is followed
    within a second by a plain 503; every other request is served and its queries answered.
    """
    story = udp_story(rng, "198.51.100.180", 50, "registrar.example.net", "Registrar/3.2.0")
    registrar = story.server.host.ip
    pg, mysql = Host("198.51.100.185", 5432, "TCP"), Host("198.51.100.186", 3306, "TCP")
    redis = Host("198.51.100.187", 6379, "TCP")
    users = story.population(14)
    monitor = UA("monitor", "Monitor", Host("203.0.113.5"), "HealthCheck/2.0", DOMAIN)
    rtt = 0.0003
    db = {}  # database -> the registrar's end of its open connection

    def answer_time():
        return story.jitter(0.0004, 0.0025)

    def pg_connect(t, starting_up=False):
        """A PostgreSQL session (md5 password); returns when it is ready, or refused at start-up."""
        local = ephemeral(rng, registrar, "TCP")
        story.cap.connect(t, local, pg, rtt=rtt)
        t += rtt + 0.0001
        story.send(t, local, pg, pg_startup("kamailio", "sip", "registrar"))
        if starting_up:
            story.send(t + 0.0004, pg, local, pg_error(
                "57P03", "the database system is starting up", "postmaster.c", 2356,
                "ProcessStartupPacket"))
            story.cap.close(t + 0.0005, pg, local, rtt=rtt)
            return t + 0.0005
        story.send(t + 0.0004, pg, local, pg_message(b"R", struct.pack("!I", 5) + rng.randbytes(4)))
        story.send(t + 0.0007, local, pg, pg_message(b"p", f"md5{story.ids.hex(32)}\0".encode()))
        story.send(t + 0.0022, pg, local, pg_ready(rng))
        db["pg"] = local
        return t + 0.0023

    def pg_query(t, sql, answer):
        story.send(t, db["pg"], pg, pg_message(b"Q", f"{sql}\0".encode()))
        t_answer = t + answer_time()
        story.send(t_answer, pg, db["pg"], answer)
        return t_answer

    def save_location(t, ua):
        return pg_query(t, f"INSERT INTO location (username, domain, contact, expires) VALUES "
                           f"('{ua.user}', '{DOMAIN}', '{ua.contact.strip('<>')}', now() + "
                           f"interval '3600 seconds') ON CONFLICT (username, domain) DO UPDATE "
                           f"SET contact = EXCLUDED.contact, expires = EXCLUDED.expires",
                        pg_done("INSERT 0 1"))

    def lookup_location(t, user):
        callee = next(u for u in users if u.user == user)
        return pg_query(t, f"SELECT contact FROM location WHERE username = '{user}' AND domain = "
                           f"'{DOMAIN}' AND expires > now()",
                        pg_rows(["contact"], [[callee.contact.strip("<>")]]))

    def mysql_connect(t, refused=False):
        local = ephemeral(rng, registrar, "TCP")
        story.cap.connect(t, local, mysql, rtt=rtt)
        story.send(t + rtt + 0.0004, mysql, local, mysql_greeting(rng, rng.randrange(100, 9000)))
        story.send(t + rtt + 0.0007, local, mysql, mysql_login(rng, "lcr", "routing"))
        t_answer = t + rtt + 0.0007 + answer_time()
        if refused:
            story.send(t_answer, mysql, local, mysql_error(2, 1040, "08004", "Too many connections"))
            story.cap.close(t_answer + 0.0001, mysql, local, rtt=rtt)
        else:
            story.send(t_answer, mysql, local, mysql_ok(2))
            db["mysql"] = local
        return t_answer

    def route(t, number):
        """The LCR lookup of an outbound number in MySQL."""
        story.send(t, db["mysql"], mysql, mysql_query(
            f"SELECT gw_uri FROM lcr_rule WHERE '{number}' LIKE CONCAT(prefix, '%') "
            f"ORDER BY LENGTH(prefix) DESC LIMIT 1"))
        t_answer = t + answer_time()
        story.send(t_answer, mysql, db["mysql"],
                   mysql_rows("routing", "lcr_rule", "gw_uri", ["sip:203.0.113.41:5060"]))
        return t_answer

    counters = {}

    def redis_connect(t):
        local = ephemeral(rng, registrar, "TCP")
        story.cap.connect(t, local, redis, rtt=rtt)
        story.send(t + rtt + 0.0001, local, redis, resp_command("SELECT", "2"))
        story.send(t + rtt + 0.0004, redis, local, b"+OK\r\n")
        db["redis"] = local
        return t + rtt + 0.0004

    def count_call(t, ua):
        key = f"calls:{ua.user}@{DOMAIN}"
        counters[key] = counters.get(key, 0) + 1
        story.send(t, db["redis"], redis, resp_command("INCR", key))
        t_answer = t + story.jitter(0.0002, 0.0006)
        story.send(t_answer, redis, db["redis"], f":{counters[key]}\r\n".encode())
        return t_answer

    def register(t, ua):
        t_saved = save_location(t + 0.0004, ua)
        story.register(t, ua, final=Reply(t_saved - t + 0.0003, 200))

    def call(t, ua, target, hold):
        """An INVITE: Redis counter, then location (user) or route (number) lookup; answered."""
        t_db = count_call(t + 0.0004, ua) + 0.0001
        user = target.split(":")[1].split("@")[0]
        t_db = (route(t_db, user) if user.startswith("+") else lookup_location(t_db, user))
        story.call(t, ua, target, trying=t_db - t + 0.0003, hold=hold)

    def refused(t, ua, target, delay):
        """A request whose lookup failed, answered 503 delay s after it arrived."""
        failed = Reply(delay, 503, cause="database_failure")
        if target is None:
            story.register(t, ua, final=failed)
        else:
            story.reject(t, ua, target, failed, trying=0.0004)

    internal = [f"sip:{u.user}@{DOMAIN}" for u in users]
    pstn = [f"sip:{n}@{DOMAIN}" for n in numbers(6, first=190)]
    pg_connect(0.05)
    mysql_connect(0.08)
    redis_connect(0.11)
    for i, ua in enumerate(users[:8]):
        register(0.4 + 0.45 * i, ua)
    call(4.6, users[0], internal[1], hold=3.0)
    call(6.1, users[2], pstn[0], hold=2.5)
    story.options(8.0, monitor)
    # 10 s: PostgreSQL is restarted; it ends the registrar's session
    story.send(10.0, pg, db["pg"], pg_error("57P01", "terminating connection due to administrator "
                                            "command", "postgres.c", 3300, "ProcessInterrupts"))
    story.cap.close(10.0001, pg, db["pg"], rtt=rtt)
    del db["pg"]
    # a REGISTER: two connection attempts 0.5 s apart, both refused
    story.cap.refused(11.4004, ephemeral(rng, registrar, "TCP"), pg, rtt=rtt)
    story.cap.refused(11.9004, ephemeral(rng, registrar, "TCP"), pg, rtt=rtt)
    refused(11.4, users[8], None, 0.5012)
    # an INVITE to a user: Redis answers, PostgreSQL refuses
    t_db = count_call(13.9004, users[3]) + 0.0001
    story.cap.refused(t_db, ephemeral(rng, registrar, "TCP"), pg, rtt=rtt)
    refused(13.9, users[3], internal[5], t_db - 13.9 + 0.0009)
    # an INVITE while PostgreSQL is starting up
    t_db = count_call(16.7004, users[4]) + 0.0001
    t_failed = pg_connect(t_db, starting_up=True)
    refused(16.7, users[4], internal[6], t_failed - 16.7 + 0.0006)
    story.options(18.0, monitor)
    # PostgreSQL is back: the next REGISTER opens a session again
    t_ready = pg_connect(19.5004)
    t_saved = save_location(t_ready + 0.0001, users[9])
    story.register(19.5, users[9], final=Reply(t_saved - 19.5 + 0.0003, 200))
    call(21.2, users[5], internal[0], hold=4.0)
    call(23.0, users[6], pstn[1], hold=5.0)
    # a second registrar worker opens its own MySQL connection: ERR 1040 after the login
    t_db = count_call(25.6004, users[7]) + 0.0001
    t_failed = mysql_connect(t_db, refused=True)
    refused(25.6, users[7], pstn[2], t_failed - 25.6 + 0.0007)
    story.options(28.0, monitor)
    call(28.9, users[1], pstn[3], hold=4.0)
    # Redis dies with the INCR unread: it resets the connection; then refuses the reconnection
    key = f"calls:{users[10].user}@{DOMAIN}"
    story.cap.push(31.3004, db["redis"], redis, resp_command("INCR", key))
    story.cap.reset(31.3006, redis, db["redis"])
    del db["redis"]
    refused(31.3, users[10], internal[2], story.jitter(0.003, 0.006))
    story.cap.refused(33.8004, ephemeral(rng, registrar, "TCP"), redis, rtt=rtt)
    refused(33.8, users[11], pstn[4], story.jitter(0.0012, 0.003))
    # Redis is back
    redis_connect(36.4)
    call(36.4012, users[12], internal[4], hold=5.0)
    story.options(38.0, monitor)
    register(39.3, users[8])
    call(41.0, users[13], pstn[5], hold=4.0)
    return story


@scenario
def relay_origin(rng):
    """Inner SBC's capacity 503 (Server: InnerSBC/2.1, Q.850 34) relayed by the edge proxy.

    The edge proxy 192.0.2.10 (Server: EdgeProxy/5.7.2 on its own answers: 100 Trying, REGISTER
    and OPTIONS) relays calls to two inner SBCs. Its leg to sbc1 (198.51.100.190) is in the
    capture: sbc1 answers two INVITEs at once with 503 Service Unavailable, Server InnerSBC/2.1
    and Reason Q.850 cause 34, the proxy ACKs and relays the 503 unchanged to the caller. It
    reaches sbc2 (198.51.100.191) through another interface that the capture does not see: two
    503s relayed from sbc2, with sbc2's Server header, are all there is of those calls. Other
    calls through both SBCs are answered.
    """
    story = proxy_story(rng, "192.0.2.10", 45, "edge.example.net")
    users = story.population(10, subnet="203.0.113.", first=101)
    story.registrations(users, start=0.2, spacing=0.3)
    sbc1, sbc2, inner = Host("198.51.100.190"), Host("198.51.100.191"), "InnerSBC/2.1"
    pstn = numbers(10, first=110)
    no_circuit = q850(34, "No circuit/channel available")

    def unseen(t, src, dst, message):
        """The leg to sbc2 is not in the capture."""

    def trunk_call(t, ua, number, sbc, outcome, hold=None):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        full = outcome is None
        story.through(t + 0.0008, dlg, invite, sbc, inner,
                      story.answered() if full else outcome, uri=f"sip:{number}@{sbc.ip}",
                      trying=story.jitter(0.002, 0.006) if full else None, hold=hold,
                      deliver=story.send if sbc is sbc1 else unseen)

    def full_trunk():
        return [(story.jitter(0.002, 0.005), 503, [no_circuit], None, "capacity_limit")]

    trunk_call(3.0, users[0], pstn[0], sbc1, None, hold=20.0)
    trunk_call(5.5, users[1], pstn[1], sbc2, None, hold=15.0)
    story.options(8.0, users[9])
    trunk_call(10.2, users[2], pstn[2], sbc1, None, hold=18.0)
    trunk_call(14.1, users[3], pstn[3], sbc1, full_trunk())
    trunk_call(17.0, users[4], pstn[4], sbc2, full_trunk())
    trunk_call(20.6, users[5], pstn[5], sbc1, full_trunk())
    trunk_call(23.9, users[6], pstn[6], sbc2, full_trunk())
    story.options(26.0, users[9])
    trunk_call(31.5, users[7], pstn[7], sbc1, None, hold=6.0)
    trunk_call(34.0, users[8], pstn[8], sbc2, None, hold=5.0)
    return story


@scenario
def retry_storm(rng):
    """Overloaded SBC answers 503 + Retry-After: 30; some clients still retry every second.

    From 12 s to 40 s every INVITE gets an immediate 503 Service Unavailable with Retry-After: 30.
    An auto-dialer re-sends the same call (same Call-ID, CSeq + 1) every second, 8 times; a
    mobile client starts a new call every second, 6 times; a softphone keeps retrying every
    second from 33 s and is served when the overload ends. Three phones honour Retry-After and
    call again 31-34 s after their 503, and are served. Calls before and after succeed.
    """
    story = udp_story(rng, "198.51.100.200", 80, "sbc.example.net", "EdgeSBC/9.4.1")
    users = story.population(14)
    dialer = dataclasses.replace(users[10], agent="AutoDialer/2.0.3")
    mobile, softphone = users[11], users[12]
    external = [f"sip:{n}@{DOMAIN}" for n in numbers(6, first=150)]
    overloaded = (12.0, 40.0)

    def busy():
        return Reply(story.jitter(0.0008, 0.003), 503, headers=[retry_after(30)], cause="overload")

    def attempt(t, dlg, hold=None):
        """One INVITE of dlg: a 503 during the overload, else answered (and hung up after hold
        s, if inside the capture).  Returns the time of the 503 (None when answered)."""
        dlg.remote_tag = None
        invite = dlg.invite(story.media_port())
        if overloaded[0] <= t < overloaded[1]:
            reply = busy()
            story.transact(t, dlg, invite, [reply])
            return t + reply.delay
        trying = story.jitter(0.002, 0.01)
        ring = trying + story.jitter(0.1, 0.5)
        t_answer = story.transact(t, dlg, invite, [Reply(trying, 100), Reply(ring, 180),
                                                   Reply(ring + story.jitter(1.5, 5.0), 200)])
        story.hangup(t_answer + (story.jitter(4.0, 12.0) if hold is None else hold), dlg)
        return None

    def hammer(t, ua, target, attempts, same_call):
        """Retries 1 s after each 503; a call that gets through lasts past the capture."""
        dlg = story.dialog(ua, target)
        for _ in range(attempts):
            t_busy = attempt(t, dlg, hold=99)
            if t_busy is None:
                return
            t = t_busy + story.jitter(1.0, 1.06)
            if not same_call:
                dlg = story.dialog(ua, target)

    def patient(t, ua, target):
        dlg = story.dialog(ua, target)
        t_busy = attempt(t, dlg)
        attempt(t_busy + story.jitter(31.0, 34.0), story.dialog(ua, target))

    story.registrations(users[:10], start=0.2, spacing=0.4)
    for t, caller, callee in ((4.4, 0, 1), (6.0, 2, 3), (8.3, 4, 5), (10.1, 6, 7)):
        story.call(t, users[caller], f"sip:{users[callee].user}@{DOMAIN}", hold=story.jitter(2, 5))
    hammer(12.3, dialer, external[0], 8, same_call=True)
    patient(13.5, users[3], external[1])
    hammer(15.1, mobile, f"sip:{users[0].user}@{DOMAIN}", 6, same_call=False)
    patient(18.2, users[5], f"sip:{users[1].user}@{DOMAIN}")
    patient(25.0, users[7], external[2])
    hammer(33.0, softphone, external[3], 12, same_call=True)
    for t, caller, callee in ((42.5, 0, 2), (47.0, 8, 9), (60.2, 4, 6), (66.0, 9, 13)):
        story.call(t, users[caller], f"sip:{users[callee].user}@{DOMAIN}", hold=story.jitter(3, 8))
    return story


@scenario
def failover(rng):
    """Primary in maintenance (503, Retry-After: 600): phones re-send the call to the secondary.

    Phones register with sip1 (198.51.100.210) and call through it. From 12 s sip1 answers
    every INVITE with 503 Service Unavailable and Retry-After: 600; four phones send the same
    call (same Call-ID and From tag, CSeq + 1) to sip2 (198.51.100.211) 150-400 ms later and
    are served there, and keep using sip2 for their next calls. A conference phone configured
    with sip1 only does not fail over.
    """
    primary = Server(Host("198.51.100.210"), "sip1.example.net", "CorePBX/12.4.0")
    secondary = Server(Host("198.51.100.211"), "sip2.example.net", "CorePBX/12.4.0")
    story = Story(rng, primary, horizon=50)
    backup = Story(rng, secondary, horizon=50)
    backup.cap, backup.ids = story.cap, story.ids
    users = story.population(10)
    story.registrations(users[:8], start=0.2, spacing=0.35)
    for t, caller, callee in ((3.4, 0, 1), (5.9, 2, 4), (8.1, 6, 7)):
        story.call(t, users[caller], f"sip:{users[callee].user}@{DOMAIN}", hold=story.jitter(1, 2))

    def maintenance(t, ua, target):
        dlg = story.dialog(ua, target)
        invite = dlg.invite(story.media_port())
        reply = Reply(story.jitter(0.0008, 0.002), 503, headers=[retry_after(600)],
                      cause="maintenance")
        story.transact(t, dlg, invite, [reply])
        return dlg, invite, t + reply.delay

    def fails_over(t, ua, target):
        dlg, invite, t_503 = maintenance(t, ua, target)
        dlg.remote_tag = None
        again = dlg.request("INVITE", body=invite.body)
        trying = story.jitter(0.002, 0.008)
        ring = trying + story.jitter(0.1, 0.5)
        t_answer = backup.transact(t_503 + story.jitter(0.15, 0.4), dlg, again,
                                   [Reply(trying, 100), Reply(ring, 180),
                                    Reply(ring + story.jitter(1.5, 4.0), 200)])
        backup.hangup(t_answer + story.jitter(4.0, 9.0), dlg)

    fails_over(13.0, users[1], f"sip:{users[0].user}@{DOMAIN}")
    fails_over(17.6, users[3], f"sip:{numbers(1, first=160)[0]}@{DOMAIN}")
    conference = dataclasses.replace(users[8], agent=AGENTS[3])
    maintenance(20.2, conference, f"sip:{numbers(1, first=161)[0]}@{DOMAIN}")
    fails_over(22.4, users[5], f"sip:{users[2].user}@{DOMAIN}")
    fails_over(27.8, users[7], f"sip:{users[6].user}@{DOMAIN}")
    backup.call(35.0, users[1], f"sip:{users[4].user}@{DOMAIN}", hold=5.0)
    backup.call(39.5, users[3], f"sip:{users[7].user}@{DOMAIN}", hold=4.0)
    return story


# --------------------------------------------------------------------------- damage and transport


def frame_ip(frame):
    """(source, destination, protocol) of an Ethernet frame's IP packet, 802.1Q/802.1ad tags
    skipped; the protocol is the IPv6 next header (44 for a fragment)."""
    offset = 12
    while struct.unpack_from("!H", frame, offset)[0] in (ETHERTYPE_VLAN, ETHERTYPE_QINQ):
        offset += 4
    ethertype, offset = struct.unpack_from("!H", frame, offset)[0], offset + 2
    if ethertype == ETHERTYPE_IPV4:
        return (str(ipaddress.ip_address(frame[offset + 12:offset + 16])),
                str(ipaddress.ip_address(frame[offset + 16:offset + 20])), frame[offset + 9])
    return (str(ipaddress.ip_address(frame[offset + 8:offset + 24])),
            str(ipaddress.ip_address(frame[offset + 24:offset + 40])), frame[offset + 6])


def payload_offset(frame):
    """Where the UDP or TCP payload of an (unfragmented) Ethernet frame starts."""
    offset = 12
    while struct.unpack_from("!H", frame, offset)[0] in (ETHERTYPE_VLAN, ETHERTYPE_QINQ):
        offset += 4
    ethertype, offset = struct.unpack_from("!H", frame, offset)[0], offset + 2
    if ethertype == ETHERTYPE_IPV4:
        protocol, offset = frame[offset + 9], offset + 4 * (frame[offset] & 0x0F)
    else:
        protocol, offset = frame[offset + 6], offset + 40
    return offset + (4 * (frame[offset + 12] >> 4) if protocol == IPPROTO_TCP else 8)


def visible(message, kept):
    """What of a message the first `kept` bytes show: its start line and the header lines that
    end within them (a TextMessage of the same kind, no body), or None without a whole start line."""
    lines = message.encode()[:max(kept, 0)].split(b"\r\n")[:-1]  # the last piece is cut or empty
    if not lines:
        return None
    headers = []
    for line in lines[1:]:
        if not line:
            break
        name, _, value = line.decode().partition(":")
        headers.append((name.strip(), value.strip()))
    return type(message)(lines[0].decode(), headers, "", message.cause)


def retimed(wire, t_us):
    """wire stamped t_us instead (its note follows: client reactions are timed as the file says)."""
    if wire.note:
        wire.note = wire.note._replace(t_us=wire.note.t_us + t_us - wire.t_us)
    wire.t_us = t_us
    return wire


def seconds(t):
    """Capture time t (s from the start of the story) in a Wire's microseconds since the epoch."""
    return BASE_EPOCH * 1_000_000 + round(t * 1e6)


@scenario
def out_of_order(rng):
    """Overload behind a two-port TAP whose clocks differ: 503s timestamped before their INVITEs.

    A full-duplex TAP on the proxy's link gives each direction its own capture interface: tap-a
    (to the proxy) and tap-b (from the proxy), whose clock runs 7.3 ms behind tap-a's. Frames are
    written in the order they crossed the link, each stamped by its interface's clock, so every
    answer the proxy sends within 7.3 ms of the packet before it goes back in time: the 100
    Trying and the immediate 503s (1-5 ms, Retry-After 2-10 s) are timestamped before their
    INVITEs. Once dumpcap wrote a 40 ms batch of tap-b frames late, after tap-a frames of the same
    moment, so one 503 follows its own ACK in the file. During a 4 s surge of INVITEs the proxy
    sheds every other one with 503; calls before and after succeed.
    """
    story = udp_story(rng, "198.51.100.60", 24, "proxy.example.net")
    proxy = story.server.host
    story.interfaces = [("tap-a", PcapngWriter.SNAPLEN), ("tap-b", PcapngWriter.SNAPLEN)]
    users = story.population(16)
    external = numbers(4, first=150)
    story.registrations(users[:8], start=0.1, spacing=0.25)
    story.options(2.2, users[15])
    for t in arrivals(rng, 2.5, 8.0, 0.8):
        story.call(t, *story.pick_call(users, external))
    for k, t in enumerate(arrivals(rng, 8.0, 12.0, 6.0)):
        caller, target = story.pick_call(users, external)
        if k % 2:
            story.reject(t, caller, target, Reply(
                story.jitter(0.001, 0.005), 503, headers=[retry_after(rng.choice((2, 3, 5, 10)))],
                cause="overload"))
        else:
            story.call(t, caller, target, trying=story.jitter(0.004, 0.02))
    for t in arrivals(rng, 12.0, 18.0, 0.8):
        story.call(t, *story.pick_call(users, external))
    skew = -7300  # us: tap-b's clock against tap-a's

    def late_batch(wires):
        """tap-b frames from 10 ms before the fourth 503 for 40 ms, written after that moment's
        tap-a frames."""
        t0 = [w for w in wires if w.cause][3].t_us - 10_000
        inside = [i for i, w in enumerate(wires) if t0 <= w.t_us < t0 + 40_000]
        batch = [wires[i] for i in inside]
        sent = [w for w in batch if frame_ip(w.data)[0] != proxy.ip]
        late = [w for w in batch if frame_ip(w.data)[0] == proxy.ip]
        return wires[:inside[0]] + sent + late + wires[inside[-1] + 1:]

    def two_clocks(wires):
        for wire in wires:
            if frame_ip(wire.data)[0] == proxy.ip:
                wire.interface = 1
                retimed(wire, wire.t_us + skew)
        return wires

    story.cap.damage += [late_batch, two_clocks]
    return story


@scenario
def duplicates(rng):
    """PBX at its licence limit seen on a SPAN of two ports: remote phones' frames all twice.

    The switch mirrors both the WAN uplink port and the PBX's port to the capture port, so every
    frame between the PBX and the branch office (203.0.113.0/24, one phone there on SIP over TCP)
    crosses two mirrored ports and is captured twice: the identical copy 4-30 us after the
    original, 503s, INVITEs, ACKs and TCP segments alike; local phones (192.0.2.0/24) are seen
    once. The PBX is licensed for 6 calls: the 7th and later INVITEs get an immediate 503 Maximum
    Calls In Progress (Warning 399 licence limit, or Reason Q.850 34) until a call ends. A copy
    of a 503 is that same 503 seen twice, so it has the same cause; a copy of a TCP segment
    repeats bytes the stream already carried, a retransmission that is no message of its own.
    """
    pbx = Server(Host("198.51.100.70"), "pbx.example.com", "OfficePBX/18.2.1")
    story = Story(rng, pbx, horizon=42)
    tcp_pbx = Story(rng, Server(Host(pbx.host.ip, 5060, "TCP"), pbx.name, pbx.agent), horizon=42)
    tcp_pbx.cap, tcp_pbx.ids = story.cap, story.ids
    local = story.population(6, domain="pbx.example.com")
    remote = [UA(p.user, p.display, Host(f"203.0.113.{71 + i}"), p.agent, "pbx.example.com")
              for i, p in enumerate(story.population(12, domain="pbx.example.com")[6:11])]
    branch_tcp = UA("sybil", "Sybil", Host("203.0.113.80", rng.randrange(49152, 65535), "TCP"),
                    AGENTS[1], "pbx.example.com")
    story.registrations(local + remote, start=0.1, spacing=0.2)
    story.cap.connect(2.5, branch_tcp.host, tcp_pbx.server.host)
    tcp_pbx.register(2.51, branch_tcp)
    external = [f"sip:{n}@pbx.example.com" for n in numbers(12, first=180)]
    callers = [local[0], remote[0], local[1], remote[1], local[2], remote[2]]
    calls = [story.call(4.0 + 1.3 * i, ua, external[i], hold=99) for i, ua in enumerate(callers)]
    licence = ("Warning", '399 pbx "Licence limit of 6 concurrent calls reached"')

    def refused(t, who, ua, target, headers):
        who.reject(t, ua, target, Reply(story.jitter(0.001, 0.004), 503, "Maximum Calls In Progress",
                                        headers, cause="capacity_limit"))

    refused(13.1, story, remote[3], external[6], [licence])
    refused(15.4, story, local[3], external[7], [q850(34, "No circuit/channel available")])
    refused(17.0, tcp_pbx, branch_tcp, external[8], [licence])
    refused(19.6, story, remote[4], external[9], [licence])
    story.hangup(22.0, calls[1])
    story.call(24.5, remote[3], external[6], hold=99)
    refused(27.2, tcp_pbx, branch_tcp, external[10], [q850(34, "No circuit/channel available")])
    refused(30.3, story, remote[1], external[11], [licence])
    story.options(33.0, local[5])
    story.cap.close(36.0, branch_tcp.host, tcp_pbx.server.host)

    def mirrored_twice(wires):
        out = []
        for i, wire in enumerate(wires):
            out.append(wire)
            src, dst, protocol = frame_ip(wire.data)
            if not (src.startswith("203.0.113.") or dst.startswith("203.0.113.")):
                continue
            t_us = wire.t_us + rng.randrange(4, 31)
            if i + 1 < len(wires):
                t_us = min(t_us, max(wire.t_us, wires[i + 1].t_us))
            if protocol == IPPROTO_TCP:
                # the copy repeats bytes the stream already carried: TCP (and tshark) reads them as
                # a retransmission and hands no message up again
                out.append(Wire(t_us, wire.data))
            else:
                note = wire.note and wire.note._replace(first=[False] * len(wire.note.first))
                out.append(Wire(t_us, wire.data, wire.cause, note))
        return out

    story.cap.damage.append(mirrored_twice)
    return story


def window(start, end):
    """A damage: only frames stamped in [start, end) s are in the file (a ring-buffer file)."""
    return lambda wires: [w for w in wires if seconds(start) <= w.t_us < seconds(end)]


@scenario
def cut_short(rng):
    """A ring-buffer file cut from a busy SBC: it starts and ends in the middle of transactions.

    The SBC answers INVITEs to PSTN numbers 100 Trying at once and, when its gateway fails, 503
    with Reason Q.850 38 or 41 after 6-14 s (upstream_failure); calls between users are answered.
    The file holds 10.0-40.0 s of the story. It starts with the SDP half of a TCP phone's INVITE
    (sent as two segments across the cut, on a connection opened before: no handshake) and its
    100 Trying; then 180s and 200s, an ACK, a BYE and a 503 (at 13.5 s) whose INVITEs are in the
    previous file; the TCP phone's call gets its 503 later. At the end, INVITEs wait for their 503
    (the last one not even answered 100 Trying), and a TCP phone's bodiless 503 leaves as two
    segments across the end: only the first (half its headers) is in the file, so that 503 is not.
    """
    sbc = Server(Host("198.51.100.80"), "sbc.example.net", "EdgeSBC/9.4.1")
    story = Story(rng, sbc, horizon=48)
    tcp = Story(rng, Server(Host(sbc.host.ip, 5060, "TCP"), sbc.name, sbc.agent), horizon=48)
    tcp.cap, tcp.ids = story.cap, story.ids
    users = story.population(10)
    phones = story.population(13, transport="TCP")[10:]
    pstn = [f"sip:{n}@{DOMAIN}" for n in numbers(12, first=190)]
    story.registrations(users[:8], start=0.2, spacing=0.3)
    for i, ua in enumerate(phones):
        story.cap.connect(2.6 + 0.2 * i, ua.host, tcp.server.host)
        tcp.register(2.61 + 0.2 * i, ua)
    gateway_down = [q850(38, "Network out of order"), q850(41, "Temporary failure")]

    def failed(who, t, ua, target, delay, split=False):
        reply = Reply(delay, 503, headers=[rng.choice(gateway_down)], cause="upstream_failure",
                      split=split)
        who.reject(t, ua, target, reply, trying=story.jitter(0.001, 0.003))

    internal = [f"sip:{u.user}@{DOMAIN}" for u in users]
    story.call(5.1, users[0], internal[1], hold=3.5)           # BYE after the cut
    story.call(7.9, users[2], internal[3], ring=0.3, answer=2.6, hold=6.0)  # 180 before, 200 after
    story.call(9.6, users[4], internal[5], hold=12.0)          # 180 and 200 after the cut
    failed(story, 4.2, users[6], pstn[0], 9.3)                 # 503 at 13.5, INVITE not in the file
    # the INVITE's two segments leave 0.2 ms apart around 10.0 s: the file starts with its SDP
    dlg = tcp.dialog(phones[0], pstn[1])
    tcp.transact(10.0 - TCP_PIECE_GAP / 2, dlg, dlg.invite(story.media_port()),
                 [Reply(0.002, 100), Reply(11.2, 503, headers=[gateway_down[0]],
                                            cause="upstream_failure")], split=True)
    for t in arrivals(rng, 12.0, 32.0, 0.35):
        story.call(t, *story.pick_call(users))
    failed(story, 14.8, users[7], pstn[2], 7.4)
    failed(tcp, 18.3, phones[1], pstn[3], 12.9)
    failed(story, 23.5, users[8], pstn[4], 6.2)
    story.options(28.0, users[9])
    failed(story, 33.1, users[6], pstn[5], 10.5)               # 503 after the end
    # a bodiless 503 split mid-header: its first segment leaves just before 40.0 s
    failed(tcp, 29.0, phones[2], pstn[6], 11.0 - TCP_PIECE_GAP / 2, split=True)
    failed(story, 39.9992, users[1], pstn[7], 8.0)             # not even 100 Trying in the file
    story.cap.damage.append(window(10.0, 40.0))
    return story


@scenario
def snaplen(rng):
    """SBC in maintenance captured with a snaplen of 200 bytes (access side) and 96 (peering side).

    The SBC has an access interface (198.51.100.90, phones, one of them on SIP over TCP) and a
    peering interface (203.0.113.9 and 2001:db8:90::9, a carrier's SIP trunk over UDP on IPv4, UDP
    on IPv6 and TCP). dumpcap kept the first 200 bytes of each access frame and 96 of each peering
    frame: every SIP message is cut after its status or request line and a few headers or less,
    and TCP segments cut so cannot be reassembled. From 11 s the SBC is in maintenance: every
    INVITE, REGISTER and OPTIONS gets an immediate 503, either '503 Service Unavailable -
    Maintenance' or a plain '503 Service Unavailable' with Warning: 399 "Scheduled maintenance",
    both with Retry-After: 1800, which the cut removes. 96 bytes hold the status line over
    IPv4/UDP, and over IPv6/UDP only its first 34 bytes: the 503s with the long phrase are no SIP
    messages there, nor is any request line over IPv6 or TCP. Whether clients retried early is
    judged from what is left: no Retry-After or Call-ID survives, so none did.
    """
    agent = "EdgeSBC/9.4.1"
    access = Story(rng, Server(Host("198.51.100.90"), "sbc.example.net", agent), horizon=30)
    access.interfaces = [("access", 200), ("peering", 96)]
    sides = {"access": access}
    for name, host in (("access_tcp", Host("198.51.100.90", 5060, "TCP")),
                       ("peering", Host("203.0.113.9")), ("peering6", Host("2001:db8:90::9")),
                       ("peering_tcp", Host("203.0.113.9", 5060, "TCP"))):
        sides[name] = Story(rng, Server(host, "sbc.example.net", agent), horizon=30)
        sides[name].cap, sides[name].ids = access.cap, access.ids
    users = access.population(8)
    phone_tcp = access.population(9, transport="TCP")[8]
    carrier = UA("carrier", "Carrier", Host("203.0.113.95"), "CarrierSBC/4.2.1", "carrier.example")
    carrier6 = UA("carrier", "Carrier", Host("2001:db8:95::5"), "CarrierSBC/4.2.1", "carrier.example")
    carrier_tcp = UA("carrier", "Carrier", Host("203.0.113.96", rng.randrange(49152, 65535), "TCP"),
                     "CarrierSBC/4.2.1", "carrier.example")
    access.registrations(users, start=0.2, spacing=0.3)
    access.cap.connect(2.5, phone_tcp.host, sides["access_tcp"].server.host)
    sides["access_tcp"].register(2.51, phone_tcp)
    access.cap.connect(2.8, carrier_tcp.host, sides["peering_tcp"].server.host)
    inbound = [f"sip:{u.user}@{DOMAIN}" for u in users]
    pstn = [f"sip:{n}@carrier.example" for n in numbers(8, first=200)]
    access.call(3.4, users[0], pstn[0], hold=4.0)
    sides["peering"].call(4.6, carrier, inbound[1], hold=3.0)
    sides["peering6"].call(5.9, carrier6, inbound[2], hold=2.5)
    sides["peering_tcp"].call(7.2, carrier_tcp, inbound[3], hold=2.0)
    access.options(9.0, users[7])

    def maintenance(phrase):
        headers = [retry_after(1800)]
        if not phrase:
            headers.append(("Warning", '399 sbc.example.net "Scheduled maintenance"'))
        return Reply(access.jitter(0.0005, 0.002), 503, phrase, headers, cause="maintenance")

    phrase = "Service Unavailable - Maintenance"
    sides["peering"].reject(11.3, carrier, inbound[4], maintenance(phrase))
    access.reject(12.6, users[5], pstn[1], maintenance(None))
    sides["peering6"].reject(13.9, carrier6, inbound[6], maintenance(phrase))
    access.register(15.2, users[1], final=maintenance(phrase))
    sides["peering_tcp"].reject(16.4, carrier_tcp, inbound[0], maintenance(None))
    sides["access_tcp"].reject(17.8, phone_tcp, pstn[2], maintenance(phrase))
    sides["peering6"].reject(19.1, carrier6, inbound[5], maintenance(None))
    access.options(20.3, users[7], final=maintenance(None))
    sides["peering"].reject(21.7, carrier, inbound[2], maintenance(None))
    access.reject(23.0, users[4], pstn[3], maintenance(phrase))

    def cut_by_snaplen(wires):
        """Each frame cut to its interface's snaplen; what is left of its messages is what a reader
        has: a message whose start line is cut is no SIP message (no note, no 503), the others
        keep their start line and whole header lines (for the client reactions)."""
        for wire in wires:
            src, dst, _ = frame_ip(wire.data)
            peering = any(ip.startswith(("203.0.113.", "2001:db8:9")) for ip in (src, dst))
            wire.interface = int(peering)
            wire.captured = min(len(wire.data), access.interfaces[wire.interface][1])
            if not wire.note:
                continue
            start = payload_offset(wire.data)
            assert len(wire.data) - start == sum(len(m.encode()) for m in wire.note.messages)
            shown, first = [], []
            for message, fresh in zip(wire.note.messages, wire.note.first):
                seen = visible(message, wire.captured - start)
                if seen:
                    shown.append(seen)
                    first.append(fresh)
                start += len(message.encode())
            wire.note = wire.note._replace(messages=shown, first=first) if shown else None
            wire.cause = _frame_cause(shown)
        return wires

    access.cap.damage.append(cut_by_snaplen)
    # the frames are cut on purpose: the plugin's expert info calls the cut 503s malformed
    access.tolerates_malformed = True
    return access


def webrtc_sdp(rng, ip, session, video=True):
    """A browser's offer as a WebRTC gateway passes it on: ICE, DTLS-SRTP, Opus (and VP8 video)."""
    net = "IP6" if ":" in ip else "IP4"
    ufrag = base64.b64encode(rng.randbytes(3)).decode()
    pwd = base64.b64encode(rng.randbytes(18)).decode()
    fingerprint = ":".join(f"{b:02X}" for b in rng.randbytes(32))
    lines = ["v=0", f"o=- {session} 2 IN {net} {ip}", "s=-", "t=0 0",
             "a=group:BUNDLE 0 1" if video else "a=group:BUNDLE 0", "a=msid-semantic: WMS stream0"]
    media = [("audio", [111, 103, 9, 0, 8, 126], "0")]
    if video:
        media.append(("video", [96, 97, 98, 99], "1"))
    names = {111: "opus/48000/2", 103: "ISAC/16000", 9: "G722/8000", 0: "PCMU/8000", 8: "PCMA/8000",
             126: "telephone-event/8000", 96: "VP8/90000", 97: "rtx/90000", 98: "H264/90000",
             99: "rtx/90000"}
    port = 2 * rng.randrange(8000, 16000)
    for kind, payloads, mid in media:
        lines += [f"m={kind} {port} UDP/TLS/RTP/SAVPF {' '.join(map(str, payloads))}",
                  f"c=IN {net} {ip}", f"a=rtcp:{port + 1} IN {net} {ip}"]
        for priority, (kind_of, address) in enumerate((("host", ip), ("srflx", ip), ("relay", ip))):
            for component in (1, 2):
                lines.append(f"a=candidate:{rng.getrandbits(32)} {component} udp "
                             f"{(2 - priority) * 1_000_000_000 + 2_000_000 - component} {address} "
                             f"{port + component - 1} typ {kind_of} generation 0 network-id 1")
        lines += [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}", "a=ice-options:trickle",
                  f"a=fingerprint:sha-256 {fingerprint}", "a=setup:actpass", f"a=mid:{mid}",
                  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" if kind == "audio"
                  else "a=extmap:2 urn:ietf:params:rtp-hdrext:toffset", "a=sendrecv", "a=rtcp-mux"]
        for pt in payloads:
            lines.append(f"a=rtpmap:{pt} {names[pt]}")
            if kind == "video" and names[pt].startswith(("VP8", "H264")):
                lines += [f"a=rtcp-fb:{pt} goog-remb", f"a=rtcp-fb:{pt} ccm fir",
                          f"a=rtcp-fb:{pt} nack", f"a=rtcp-fb:{pt} nack pli"]
        ssrc = rng.getrandbits(32)
        lines += [f"a=ssrc:{ssrc} cname:{base64.b64encode(rng.randbytes(12)).decode()}",
                  f"a=ssrc:{ssrc} msid:stream0 {kind}0"]
    return "\r\n".join(lines) + "\r\n"


def firsts_in_file_order(wires):
    """A damage: a message's first transmission is the first frame of the file that carries it (its
    earlier copies may have been lost or left out)."""
    seen = set()
    for wire in wires:
        if wire.note:
            first = [id(m) not in seen for m in wire.note.messages]
            seen.update(id(m) for m in wire.note.messages)
            wire.note = wire.note._replace(first=first)
    return wires


@scenario
def ip_fragments(rng):
    """IMS application server shedding load over UDP: big INVITEs and 503s in IP fragments.

    An S-CSCF (IPv4 and IPv6) sends the MMTel application server INVITEs of WebRTC calls over UDP
    despite RFC 3261 18.1.1: ICE-laden SDP and eight Vias (the S-CSCF's third pass, after two other
    application servers) make 3-5 KB, sent as IP fragments (IPv4 fragments, IPv6 Fragment headers,
    MTU 1500). The AS answers 100 Trying, then 180/200 or, from 5 s, sheds about half the INVITEs
    with 503 + Retry-After 4-8 s (overload); with the eight Vias, its P-Charging-Vector,
    P-Asserted-Identity, Allow, Supported and Accept each 503 is over 1500 bytes, so it is
    fragmented too. Some sends go last fragment first (as Linux did), so several INVITEs and 503s
    are reassembled from fragments out of order. One 503 over IPv6 loses a fragment (its first;
    the last, sent first, arrives): it is never reassembled, and the AS sends it again 0.5 s later
    (timer G); that copy is the 503 a reader sees.
    """
    agent = "MMTel-AS/6.2.0"
    domain = "ims.mnc001.mcc001.example.net"  # shaped like a 3GPP TS 23.003 IMS domain
    story = Story(rng, Server(Host("198.51.100.110"), f"as1.{domain}", agent), horizon=30)
    story6 = Story(rng, Server(Host("2001:db8:110::10"), f"as1.{domain}", agent), horizon=30)
    story6.cap, story6.ids = story.cap, story.ids
    scscf = Host("198.51.100.111")
    scscf6 = Host("2001:db8:110::11")
    pcscf, gateway = f"pcscf.{domain}:5060", "[2001:db8:120::8]:5062"
    users = [UA(n, n.capitalize(), scscf, "WebRTC-GW/3.4.1", domain) for n in NAMES[:10]]
    users6 = [UA(n, n.capitalize(), scscf6, "WebRTC-GW/3.4.1", domain) for n in NAMES[10:16]]
    ids = story.ids
    reverse, lose = set(), set()  # ids of messages sent last fragment first / losing a fragment

    def invite(who, t, ua, target, outcome, video=True, backwards=False):
        dlg = who.dialog(ua, target)
        host = ua.host
        # the S-CSCF's third pass (after two other application servers), back to the browser
        vias = [f"SIP/2.0/UDP {host.sent_by};branch={ids.branch()}.{ids.hex(8)}.2"]
        for other in ("screening", "presence"):
            vias += [f"SIP/2.0/UDP {other}.{domain}:5070;branch={ids.branch()};i={ids.hex(6)}",
                     f"SIP/2.0/UDP {host.sent_by};branch={ids.branch()}.{ids.hex(8)}.{len(vias) // 2}"]
        vias += [f"SIP/2.0/UDP {pcscf};branch={ids.branch()};rport=5060;received=198.51.100.120",
                 f"SIP/2.0/UDP {gateway};branch={ids.branch()};rport=5062",
                 f"SIP/2.0/WSS {ids.hex(12)}.invalid;branch={ids.branch()};rport=51322;"
                 f"received=203.0.113.{rng.randrange(10, 250)}"]
        extra = [("P-Asserted-Identity", f'"{ua.display}" <sip:{ua.user}@{domain}>'),
                 ("P-Charging-Vector", f"icid-value={ids.hex(32)};icid-generated-at=198.51.100.120;"
                                       f"orig-ioi={domain}"),
                 ("P-Access-Network-Info", "IEEE-802.11;i-wlan-node-id=ffffffffffff"),
                 ("Supported", "100rel, timer, replaces, gruu, outbound, ice"),
                 ("Accept-Contact", '*;+g.3gpp.icsi-ref="urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel"'),
                 ("Route", f"<sip:{who.server.host.sent_by};lr>")]
        body = webrtc_sdp(rng, "2001:db8:120::8", rng.randrange(10**18), video)
        request = dlg.request("INVITE", vias=vias, body=body, extra=extra)
        if backwards:
            reverse.add(id(request))
        who.transact(t, dlg, request, outcome)
        return dlg

    def served(t):
        ring = story.jitter(0.3, 0.8)
        return [Reply(story.jitter(0.001, 0.003), 100), Reply(ring, 180),
                Reply(ring + story.jitter(1.5, 4.0), 200)]

    def overloaded(mutate=None, resend=()):
        def mark(message):
            message.add("Warning", f'399 as1.{domain} "Overload: call admission rate exceeded"')
            message.add("P-Charging-Vector", f"icid-value={ids.hex(32)};orig-ioi={domain};"
                                             f"term-ioi=as1.{domain}")
            message.add("P-Asserted-Identity", f"<sip:as1.{domain}>")
            message.add("Allow", ALLOW).add("Supported", "100rel, timer, replaces, gruu")
            message.add("Accept", "application/sdp, application/3gpp-ims+xml")
            if mutate:
                mutate(message)
        return [Reply(story.jitter(0.001, 0.003), 100),
                Reply(story.jitter(0.004, 0.012), 503, headers=[retry_after(rng.choice((4, 6, 8)))],
                      cause="overload", mutate=mark, resend=resend)]

    def backwards(message):
        reverse.add(id(message))

    def loses_a_fragment(message):
        lose.add(id(message))
        reverse.add(id(message))

    callee = [f"sip:+1202555{n:04d}@{domain}" for n in range(110, 130)]
    invite(story, 1.0, users[0], callee[0], served(1.0))
    invite(story6, 2.1, users6[0], callee[1], served(2.1), backwards=True)
    invite(story, 3.3, users[1], callee[2], served(3.3), video=False)
    invite(story, 4.6, users[2], callee[3], served(4.6), backwards=True)
    invite(story, 6.2, users[3], callee[4], overloaded())
    invite(story6, 6.9, users6[1], callee[5], overloaded(backwards), backwards=True)
    invite(story, 7.5, users[4], callee[6], served(7.5))
    invite(story, 8.4, users[5], callee[7], overloaded(backwards))
    invite(story6, 9.8, users6[2], callee[8], overloaded(loses_a_fragment, resend=(0.5,)))
    invite(story, 11.0, users[6], callee[9], served(11.0), video=False)
    invite(story6, 12.7, users6[3], callee[10], served(12.7))
    invite(story, 14.1, users[7], callee[11], overloaded(), backwards=True)
    invite(story6, 16.5, users6[4], callee[12], overloaded())
    invite(story, 22.0, users[8], callee[13], served(22.0))
    builder = story.cap.builder

    def fragmented(wires):
        out = []
        for wire in wires:
            pieces = builder.fragments(wire.data, 1500)
            if len(pieces) == 1:
                out.append(wire)
                continue
            carried = {id(m) for m in wire.note.messages}
            if carried & reverse:
                pieces = pieces[::-1]
            lost = carried & lose and wire.note.first[0]
            if lost:
                del pieces[len(pieces) // 2]
            for k, piece in enumerate(pieces):
                last = k == len(pieces) - 1 and not lost
                out.append(Wire(wire.t_us + 12 * k, piece, wire.cause if last else None,
                                wire.note if last else None))
        return out

    story.cap.damage += [fragmented, firsts_in_file_order]
    return story


@scenario
def vlan(rng):
    """Proxy on a VLAN trunk: 802.1Q-tagged phones and gateways, a QinQ PBX on TCP; hops down: 503s.

    Captured on a mirror of the proxy's trunk: the phones' voice VLAN 110 (802.1Q, priority 5),
    the gateway VLAN 200 and, through a provider bridge, a remote PBX on SIP over TCP whose frames
    keep their 802.1ad service tag (S-VLAN 300) around the customer tag (C-VLAN 20). The proxy
    relays calls to PSTN gateways by number: gw1 answers; gw2's SIP service is down, so each
    INVITE copy (timer A) draws an ICMP port unreachable and the proxy answers 503 after 3 s; gw3
    (TCP) refuses the proxy's connection with RST. Every 503 is a plain Service Unavailable
    (upstream_failure), to phones over UDP and to the PBX over TCP.
    """
    story = proxy_story(rng, "198.51.100.130", 45)
    proxy = story.server.host
    proxy_tcp = Host(proxy.ip, 5060, "TCP")
    users = story.population(8)
    pbx = UA("pbx", "Branch PBX", Host("203.0.113.130", rng.randrange(49152, 65535), "TCP"),
             "OfficePBX/18.2.1", "branch.example.com")
    gateway = "PSTN-Gateway/4.0.3"
    gw1, gw2 = Host("198.51.100.131"), Host("198.51.100.132")
    gw3 = Host("198.51.100.133", 5060, "TCP")
    tags = {"192.0.2.": [(ETHERTYPE_VLAN, 110, 5)], "198.51.100.13": [(ETHERTYPE_VLAN, 200, 3)],
            "203.0.113.": [(ETHERTYPE_QINQ, 300, 0), (ETHERTYPE_VLAN, 20, 5)]}
    pstn = numbers(10, first=210)
    story.registrations(users[:6], start=0.2, spacing=0.3)
    story.cap.connect(2.2, pbx.host, proxy_tcp)
    story.options(2.21, pbx)  # keep-alive: answered by the proxy over the PBX's connection

    def answered(t, ua, number, hold, via_proxy=proxy):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=via_proxy)
        story.through(t + 0.001, dlg, invite, gw1, gateway, story.answered(),
                      uri=f"sip:{number}@{gw1.sent_by}", trying=story.jitter(0.008, 0.02),
                      hold=hold, proxy=via_proxy, local=proxy, via=proxy)

    def port_unreachable(t, ua, number, via_proxy=proxy):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=via_proxy)
        relayed = story.copy(invite, proxy, f"sip:{number}@{gw2.sent_by}", story.record_route(proxy))
        rtt = story.jitter(0.002, 0.006)
        for offset in (0.0, 0.5, 1.5):  # timer A: T1, then 2*T1
            sent = story.cap.send(t + 0.001 + offset, proxy, gw2, relayed)
            story.cap.icmp_error(t + 0.001 + offset + rtt, gw2, sent, 3, 3)
        story.give_up(t + 3.001 + story.jitter(0.0, 0.002), dlg, invite, cause="upstream_failure",
                      proxy=via_proxy)

    def refused(t, ua, number, via_proxy=proxy):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=via_proxy)
        story.cap.refused(t + 0.001, ephemeral(rng, proxy.ip, "TCP"), gw3, rtt=0.003)
        story.cap.refused(t + 0.251, ephemeral(rng, proxy.ip, "TCP"), gw3, rtt=0.003)
        story.give_up(t + 0.254 + story.jitter(0.0003, 0.001), dlg, invite, cause="upstream_failure",
                      proxy=via_proxy)

    answered(3.0, users[0], pstn[0], hold=8.0)
    port_unreachable(5.2, users[1], pstn[1])
    answered(8.4, pbx, pstn[2], hold=6.0, via_proxy=proxy_tcp)
    refused(11.9, pbx, pstn[3], via_proxy=proxy_tcp)
    port_unreachable(14.6, pbx, pstn[4], via_proxy=proxy_tcp)
    refused(19.3, users[2], pstn[5])
    answered(22.5, users[3], pstn[6], hold=5.0)
    port_unreachable(26.8, users[4], pstn[7])
    story.options(30.0, users[7])
    answered(32.4, pbx, pstn[8], hold=4.0, via_proxy=proxy_tcp)

    def tagged(wires):
        for wire in wires:
            src, dst, _ = frame_ip(wire.data)
            far = dst if src == proxy.ip else src
            wire.data = vlan_tagged(wire.data, next(t for p, t in tags.items() if far.startswith(p)))
        return wires

    story.cap.damage.append(tagged)
    return story


@scenario
def tcp_segments(rng):
    """SIP over TCP, one stream, many cuts: INVITEs in 5-7 segments, 503s in 3, several per segment.

    A WebRTC gateway reaches the core proxy through an IPsec tunnel whose path MTU makes both ends
    announce an MSS of 536, and sends INVITEs with ICE-laden SDP: 2.5-3.5 KB, 5-7 segments each.
    The core relays calls to a PSTN gateway that fails: 503 with Reason Q.850 38 or 41 and Warning
    after 100 Trying, 3-6 s later (upstream_failure); with five Vias (below the gateway's, those
    of a media SBC, a load balancer, the gateway's B2BUA leg and the browser), its Allow,
    Supported, Accept and an X-Diagnostics line, each such 503 is over 1072 bytes, so it takes 3
    segments. The core's writes coalesce: a 503 and the next call's 100 Trying leave in one write,
    so a segment ends one message and starts the next; the gateway's ACK for a 503 leaves in one
    write with its next INVITE. A LAN proxy (MSS 1460) gets several messages per segment: 100
    Trying and an immediate 503 together (the core already knows the gateway is down), and a 503,
    a BYE's 200 OK and a 100 Trying in one segment.
    """
    core = Server(Host("198.51.100.140", 5060, "TCP"), "core.example.net", "CoreProxy/8.1.2")
    story = Story(rng, core, horizon=40)
    tunnel = Host("203.0.113.141", rng.randrange(49152, 65535), "TCP")
    lan = Host("192.0.2.142", rng.randrange(49152, 65535), "TCP")
    ids = story.ids
    callers = [UA(n, n.capitalize(), tunnel, "WebRTC-GW/3.4.1") for n in NAMES[:8]]
    lan_callers = [UA(n, n.capitalize(), lan, "EdgeProxy/5.7.2") for n in NAMES[8:14]]
    pstn = [f"sip:{n}@{DOMAIN}" for n in numbers(14, first=220)]
    story.cap.connect(0.5, tunnel, core.host, rtt=0.024, mss=536)
    story.cap.connect(0.6, lan, core.host)
    gateway_down = [q850(38, "Network out of order"), q850(41, "Temporary failure")]
    warning = ("Warning", '399 core.example.net "PSTN gateway gw2.example.net failed"')

    def invite(t, ua, target, video=True, send=True):
        """An INVITE from a caller's proxy (the WebRTC gateway's carries four Vias below its own),
        sent at t unless send is False."""
        dlg = story.dialog(ua, target)
        vias = [f"SIP/2.0/TCP {ua.host.sent_by};branch={ids.branch()};rport"]
        if ua.host == tunnel:
            vias += [f"SIP/2.0/UDP 198.51.100.148:5070;branch={ids.branch()};rport=5070;"
                     "received=198.51.100.148",
                     f"SIP/2.0/UDP 198.51.100.145:5060;branch={ids.branch()};rport=5060",
                     f"SIP/2.0/UDP 198.51.100.147:5060;branch={ids.branch()};rport=5060;"
                     "received=198.51.100.147",
                     f"SIP/2.0/WSS {ids.hex(12)}.invalid;branch={ids.branch()};rport=51322;"
                     f"received=203.0.113.{rng.randrange(10, 250)}"]
            body = webrtc_sdp(rng, "203.0.113.146", rng.randrange(10**18), video)
        else:
            body = sdp(ua.user, "192.0.2.143", rng.randrange(10**9), story.media_port())
        request = dlg.request("INVITE", vias=vias, body=body,
                              extra=[("Supported", "replaces, timer"), ("Session-Expires", "1800")])
        if send:
            story.send(t, ua.host, core.host, request)
        return dlg, request

    def answer(t, dlg, request, code, headers=(), cause=None):
        return story.response(t, dlg, request, Reply(0, code, headers=headers, cause=cause))

    def failure(t, dlg, request):
        headers = [rng.choice(gateway_down), warning, ("Allow", ALLOW),
                   ("Supported", "replaces, timer, 100rel, path, outbound"),
                   ("Accept", "application/sdp, multipart/mixed"),
                   ("X-Diagnostics", "route=pstn-national; gateway=gw2.example.net:5060; "
                                     "transport=udp; attempts=2/2; result=no response, gateway "
                                     "marked down")]
        return answer(t, dlg, request, 503, headers, "upstream_failure")

    def ack(t, dlg, request, final, then=()):
        """The caller's ACK for final, alone or in one write with `then` (further messages)."""
        story.send(t, dlg.ua.host, core.host, [dlg.ack(request, final), *then])

    def completed(t, dlg, request, hold):
        """180 and 200 for request after its 100 Trying; ACK; BYE and 200 after hold s."""
        ring = t + story.jitter(0.2, 0.6)
        story.send(ring, core.host, dlg.ua.host, answer(ring, dlg, request, 180))
        ok_at = ring + story.jitter(1.5, 3.0)
        ok = answer(ok_at, dlg, request, 200)
        story.send(ok_at, core.host, dlg.ua.host, ok)
        ack(ok_at + 0.03, dlg, request, ok)
        bye = dlg.request("BYE", uri=dlg.remote_target)
        story.send(ok_at + hold, dlg.ua.host, core.host, bye)
        story.send(ok_at + hold + 0.002, core.host, dlg.ua.host,
                   story.response(ok_at + hold, dlg, bye, Reply(0, 200)))

    def trying(t, dlg, request):
        story.send(t + 0.002, core.host, dlg.ua.host, answer(t + 0.002, dlg, request, 100))

    # over the tunnel: a completed call; a 503 in three segments alone
    a = invite(1.0, callers[0], pstn[0])
    trying(1.0, *a)
    completed(1.02, *a, hold=12.0)
    b = invite(3.5, callers[1], pstn[1])
    trying(3.5, *b)
    t_b = 3.5 + story.jitter(3.0, 6.0)
    final_b = failure(t_b, *b)
    story.send(t_b, core.host, tunnel, final_b)
    # a 503 and the next call's 100 Trying in one write; the ACK and the next INVITE in one write
    c = invite(9.0, callers[2], pstn[2])
    trying(9.0, *c)
    t_c = 9.0 + story.jitter(3.0, 6.0)
    d = invite(t_c - 0.002, callers[3], pstn[3], video=False)
    final_c = failure(t_c, *c)
    story.send(t_c, core.host, tunnel, [final_c, answer(t_c, *d, 100)])
    ack(t_b + 0.03, *b, final_b)
    dlg_e, e_request = invite(None, callers[4], pstn[4], send=False)
    ack(t_c + 0.03, *c, final_c, then=[e_request])
    trying(t_c + 0.03, dlg_e, e_request)
    completed(t_c + 0.05, *d, hold=5.0)
    t_e = t_c + 0.03 + story.jitter(3.0, 6.0)
    final_e = failure(t_e, dlg_e, e_request)
    story.send(t_e, core.host, tunnel, final_e)
    ack(t_e + 0.03, dlg_e, e_request, final_e)

    # on the LAN: 100 Trying and an immediate 503 in one segment
    f = invite(2.2, lan_callers[0], pstn[5])
    g = invite(4.0, lan_callers[1], pstn[6])
    trying(4.0, *g)
    completed(4.02, *g, hold=15.0)
    f_final = failure(2.204, *f)
    story.send(2.204, core.host, lan, [answer(2.204, *f, 100), f_final])
    ack(2.21, *f, f_final)
    # a 503, a BYE's 200 OK and a 100 Trying in one segment
    h = invite(10.0, lan_callers[2], pstn[7])
    trying(10.0, *h)
    t_h = 10.0 + story.jitter(3.0, 5.0)
    i = invite(t_h - 0.003, lan_callers[3], pstn[8])
    bye = g[0].request("BYE", uri=g[0].remote_target)
    story.send(t_h - 0.004, lan, core.host, bye)
    final_h = failure(t_h, *h)
    story.send(t_h, core.host, lan, [final_h, story.response(t_h, g[0], bye, Reply(0, 200)),
                                     answer(t_h, *i, 100)])
    ack(t_h + 0.002, *h, final_h)
    completed(t_h + 0.01, *i, hold=6.0)
    for t in (15.0, 30.0):
        story.options(t, lan_callers[5])
    story.cap.close(38.0, tunnel, core.host, rtt=0.024)
    return story


# --------------------------------------------------------------------------- RTSP scenarios


def hikvision(ip, realm="IP Camera(C6201)"):
    return Camera(Host(ip, 554, "TCP"), "Hikvision-Webs", realm)


def dahua(ip, port=554, serial="6G0ABCD1234567"):
    return Camera(Host(ip, port, "TCP"), "Rtsp Server/3.0", f"Login to {serial}")


@scenario
def rtsp_interleaved(rng):
    """Camera allowing 2 RTSP sessions refuses a third client's DESCRIBE with 503.

    Clients A and B stream the main stream (/Streaming/Channels/101) over interleaved TCP; C's
    DESCRIBE gets '503 Service Unavailable' twice; after A's TEARDOWN, C is served.
    """
    story = CameraStory(rng, hikvision("192.0.2.50"), horizon=30)
    main = "/Streaming/Channels/101"
    story.watch(1.0, "192.0.2.101", "vlc", main, until=16.0)
    story.watch(3.0, "192.0.2.102", "ffmpeg", main, until=28.0)
    for t in (7.0, 11.5):
        story.refused(t, "192.0.2.103", "recorder", main, cause="too_many_clients")
    story.watch(18.0, "192.0.2.103", "recorder", main, until=26.0)
    return story


@scenario
def rtsp_segments(rng):
    """Axis camera refuses a second resolution while one is streamed: 503 split over two segments.

    A streams /axis-media/media.amp?resolution=1920x1080&fps=25; its PLAY and a pipelined
    GET_PARAMETER leave in one segment and are answered in one. B asks the same camera for
    640x360 at 10 fps: 503, the first one cut in two TCP segments; C asks A's exact profile and is
    served.
    """
    story = CameraStory(rng, Camera(Host("192.0.2.60", 554, "TCP"), realm="AXIS_ACCC8E5A1B2C"),
                        horizon=24)
    full_hd = "/axis-media/media.amp?resolution=1920x1080&fps=25"
    small = "/axis-media/media.amp?resolution=640x360&fps=10"
    story.watch(1.0, "192.0.2.111", "vlc", full_hd, until=21.0, pipeline=True)
    story.refused(4.0, "192.0.2.112", "ffmpeg", small, cause="encoder_busy", split=True)
    story.refused(8.5, "192.0.2.112", "ffmpeg", small, cause="encoder_busy")
    story.watch(11.0, "192.0.2.113", "gstreamer", full_hd, until=19.0)
    return story


@scenario
def rtsp_port(rng):
    """Dahua camera on RTSP port 8555 refuses its third stream (subtype=2) with 503 every time.

    /cam/realmonitor?channel=1&subtype=0 is served before and after; subtype=2 is refused three
    times, 4 s apart, while no other client is connected. Needs -d tcp.port==8555,rtsp.
    """
    story = CameraStory(rng, dahua("192.0.2.70", port=8555), horizon=28)
    main, third = "/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=2"
    story.watch(1.0, "192.0.2.121", "vlc", main, until=6.0)
    for t in (8.0, 12.0, 16.0):
        story.refused(t, "192.0.2.121", "vlc", third, cause="unsupported_profile")
    story.watch(20.0, "192.0.2.121", "vlc", main, until=26.0)
    return story


@scenario
def rtsp_nvr(rng):
    """NVR serves channels 1 and 2 but answers every request for channel 3 with 503.

    A recorder streams /Streaming/Channels/101 and 201 from 198.51.100.20 and is refused
    /Streaming/Channels/301 three times; a phone app gets 102 (channel 1 sub stream), then is
    refused 301 as well.
    """
    story = CameraStory(rng, hikvision("198.51.100.20", realm="Network Video Recorder"), horizon=26)
    vms, phone = "203.0.113.10", "203.0.113.25"
    story.watch(1.0, vms, "recorder", "/Streaming/Channels/101", until=24.0)
    story.watch(2.0, vms, "recorder", "/Streaming/Channels/201", until=24.5)
    for t, ip in ((4.0, vms), (9.0, vms), (14.0, vms), (19.5, phone)):
        story.refused(t, ip, "recorder" if ip == vms else "gstreamer", "/Streaming/Channels/301",
                      cause="nvr_channel_unavailable")
    story.watch(11.0, phone, "gstreamer", "/Streaming/Channels/102", until=17.0)
    return story


def isapi_streaming_channel(channel, codec, width, height, fps):
    """The body of a Hikvision ISAPI PUT /ISAPI/Streaming/channels/<id>."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<StreamingChannel version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
            f'<id>{channel}</id>\n<channelName>Camera 01</channelName>\n<enabled>true</enabled>\n'
            f'<Video>\n<enabled>true</enabled>\n<videoInputChannelID>1</videoInputChannelID>\n'
            f'<videoCodecType>{codec}</videoCodecType>\n'
            f'<videoResolutionWidth>{width}</videoResolutionWidth>\n'
            f'<videoResolutionHeight>{height}</videoResolutionHeight>\n'
            f'<videoQualityControlType>VBR</videoQualityControlType>\n'
            f'<maxFrameRate>{fps * 100}</maxFrameRate>\n</Video>\n</StreamingChannel>\n')


def isapi_status(url):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ResponseStatus version="2.0" xmlns="http://www.hikvision.com/ver20/XMLSchema">\n'
            f'<requestURL>{url}</requestURL>\n<statusCode>1</statusCode>\n'
            f'<statusString>OK</statusString>\n<subStatusCode>ok</subStatusCode>\n</ResponseStatus>\n')


WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-"
ONVIF_NAMESPACES = ('xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
                    'xmlns:tt="http://www.onvif.org/ver10/schema"')
SOAP_TYPE = "application/soap+xml; charset=utf-8"


def soap(body, header=""):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope {ONVIF_NAMESPACES}>'
            f'{header}<s:Body>{body}</s:Body></s:Envelope>\n')


def ws_security(rng, t):
    """A WS-Security UsernameToken header with a password digest, as ONVIF clients send."""
    created = datetime.datetime.fromtimestamp(BASE_EPOCH + t, datetime.timezone.utc)
    return (f'<s:Header><wsse:Security s:mustUnderstand="1" '
            f'xmlns:wsse="{WSSE}wssecurity-secext-1.0.xsd" '
            f'xmlns:wsu="{WSSE}wssecurity-utility-1.0.xsd"><wsse:UsernameToken>'
            f'<wsse:Username>admin</wsse:Username><wsse:Password Type="{WSSE}username-token-profile-'
            f'1.0#PasswordDigest">{base64.b64encode(rng.randbytes(20)).decode()}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{WSSE}soap-message-security-1.0#Base64Binary">'
            f'{base64.b64encode(rng.randbytes(16)).decode()}</wsse:Nonce>'
            f'<wsu:Created>{created:%Y-%m-%dT%H:%M:%SZ}</wsu:Created></wsse:UsernameToken>'
            f'</wsse:Security></s:Header>')


def onvif_set_video_encoder(width, height, fps):
    """The body of an ONVIF Media SetVideoEncoderConfiguration for the main stream's encoder."""
    return ('<trt:SetVideoEncoderConfiguration><trt:Configuration token="VideoEncoderToken_1">'
            '<tt:Name>VideoEncoder_1</tt:Name><tt:UseCount>1</tt:UseCount>'
            f'<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{width}</tt:Width>'
            f'<tt:Height>{height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality>'
            f'<tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit>'
            '<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit>'
            '</tt:RateControl><tt:H264><tt:GovLength>50</tt:GovLength>'
            '<tt:H264Profile>Main</tt:H264Profile></tt:H264><tt:Multicast><tt:Address>'
            '<tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>'
            '<tt:Port>8860</tt:Port><tt:TTL>128</tt:TTL><tt:AutoStart>false</tt:AutoStart>'
            '</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout></trt:Configuration>'
            '<trt:ForcePersistence>true</trt:ForcePersistence></trt:SetVideoEncoderConfiguration>')


@scenario
def rtsp_encoder_change(rng):
    """Encoder settings changed over HTTP: the camera answers DESCRIBE with 503 for about 5 s.

    An ISAPI 'PUT /ISAPI/Streaming/channels/101' (H.265, 2560x1440) is answered 200 OK; the
    camera closes the recorder's stream and refuses every DESCRIBE for ~5 s, then serves it.
    Later an ONVIF SetVideoEncoderConfiguration POST to /onvif/media_service does the same.
    """
    camera = hikvision("192.0.2.80")
    story = CameraStory(rng, camera, horizon=36)
    main, recorder, viewer = "/Streaming/Channels/101", "192.0.2.131", "192.0.2.132"
    isapi_url, xml_type = "/ISAPI/Streaming/channels/101", 'application/xml; charset="UTF-8"'
    put = HttpMessage.request("PUT", isapi_url)
    put.add("Authorization", f'Digest username="admin", realm="{camera.realm}", '
                             f'nonce="{story.ids.hex(32)}", uri="{isapi_url}", '
                             f'response="{story.ids.hex(32)}", qop=auth, nc=00000001, '
                             f'cnonce="{story.ids.hex(16)}"')
    put.add("User-Agent", "python-requests/2.31.0").add("Content-Type", xml_type)
    put.body = isapi_streaming_channel(101, "H.265", 2560, 1440, 25)
    post = HttpMessage.request("POST", "/onvif/media_service")
    action = "http://www.onvif.org/ver10/media/wsdl/SetVideoEncoderConfiguration"
    post.add("User-Agent", "gSOAP/2.8").add("Content-Type", f'{SOAP_TYPE}; action="{action}"')
    post.body = soap(onvif_set_video_encoder(1920, 1080, 15), ws_security(rng, 21.0))
    changes = [  # (time of the change, who, request, answer type and body)
        (5.0, "192.0.2.200", put, xml_type, isapi_status(isapi_url)),
        (21.0, "192.0.2.210", post, SOAP_TYPE, soap("<trt:SetVideoEncoderConfigurationResponse/>")),
    ]
    client, t = story.play(1.0, recorder, "recorder", main)
    for t_change, admin, request, answer_type, answer in changes:
        story.stream(client, t, t_change)
        t_done = story.configure(t_change, admin, request, "Hikvision-Webs", answer_type, answer)
        story.drop(t_done + 0.3, client)
        for delay, ip, player in ((1.5, recorder, "recorder"), (2.4, viewer, "vlc"),
                                  (3.5, recorder, "recorder")):
            story.refused(t_done + delay, ip, player, main, cause="encoder_restart")
        client, t = story.play(t_done + 5.6, recorder, "recorder", main)
    story.stream(client, t, 33.0)
    story.leave(33.0, client)
    return story


@scenario
def rtsp_reset(rng):
    """Camera resets its RTSP connections (restart), then answers DESCRIBE with 503 for ~10 s.

    Two clients stream main and sub stream; the camera sends TCP RST on both connections; their
    reconnections within 10 s get 503, later ones are served again.
    """
    story = CameraStory(rng, dahua("192.0.2.90", serial="5J0ABCD7654321"), horizon=30)
    streams = [("192.0.2.141", "vlc", "/cam/realmonitor?channel=1&subtype=0"),
               ("192.0.2.142", "recorder", "/cam/realmonitor?channel=1&subtype=1")]
    for i, (ip, player, path) in enumerate(streams):
        client, t = story.play(1.0 + i, ip, player, path)
        story.stream(client, t, 7.5)
        story.drop(8.0 + 0.0004 * i, client, reset=True)
    for t, (ip, player, path) in zip((10.0, 11.3, 13.5, 15.8), streams * 2):
        story.refused(t, ip, player, path, cause="encoder_restart")
    for t, (ip, player, path) in zip((19.0, 19.6), streams):
        story.watch(t, ip, player, path, until=27.0 + t - 19.0)
    return story


@scenario
def rtsp_overload(rng):
    """Overloaded NVR: intermittent 503 + Retry-After: 2 across streams, channels and clients.

    Channels 1-3 (main and sub) of 198.51.100.30 are asked by four clients; DESCRIBE, SETUP or
    PLAY is now and then refused with 503 and Retry-After: 2, and the retry 2 s later is served,
    while other streams are set up and played in between.
    """
    story = CameraStory(rng, dahua("198.51.100.30", serial="7H0ABCD7654321"), horizon=30,
                        rtp_period=4.0)
    busy = {"cause": "device_overload", "headers": [retry_after(2)]}

    def stream(channel, subtype):
        return f"/cam/realmonitor?channel={channel}&subtype={subtype}"

    story.watch(1.0, "203.0.113.11", "recorder", stream(1, 0), until=27.0)
    retried = [  # (time, client, player, channel, subtype, refused request, served until)
        (3.0, "203.0.113.12", "recorder", 2, 0, "DESCRIBE", 13.0),
        (6.5, "203.0.113.13", "vlc", 1, 1, "SETUP", 16.0),
        (10.0, "203.0.113.11", "recorder", 3, 0, "DESCRIBE", 21.0),
        (14.5, "203.0.113.14", "ffmpeg", 2, 1, "PLAY", 25.0),
    ]
    for t, ip, player, channel, subtype, at, until in retried:
        story.refused(t, ip, player, stream(channel, subtype), at=at, **busy)
        story.watch(t + 2.1, ip, player, stream(channel, subtype), until=until)
    return story


@scenario
def rtsp_missing_request(rng):
    """Only the camera's packets were captured: a lone RTSP 503 without its request.

    Capture filter 'src host 203.0.113.40': one client's stream is served (answers and RTP only),
    another client's DESCRIBE answer is a plain 503 whose request is not in the capture.
    """
    camera = hikvision("203.0.113.40")
    story = CameraStory(rng, camera, horizon=16)
    story.cap.keep = lambda src: src.ip == camera.host.ip
    story.watch(1.0, "198.51.100.61", "vlc", "/Streaming/Channels/101", until=14.0)
    story.refused(6.0, "198.51.100.62", "ffmpeg", "/Streaming/Channels/102", cause="unknown")
    return story


def without_headers(message):
    message.headers = []


def folded_headers(message):
    """Server folded onto a continuation line (space), and an extra header folded with a tab."""
    message.set("Server", "Rtsp\r\n Server/3.0")
    message.add("X-Error", "internal\r\n\terror 0x1F")


@scenario
def rtsp_malformed(rng):
    """Robustness: RTSP 503s with odd or missing headers, each still an RTSP 503 to tshark.

    After the main stream was served and torn down, a viewer's DESCRIBEs of it get 503s with
    CSeq: abc; Retry-After twice (5 and 3600); folded header lines; a header line without a
    colon; no headers at all. Nothing else happens on the camera meanwhile.
    """
    story = CameraStory(rng, Camera(Host("192.0.2.20", 554, "TCP"), "Rtsp Server/3.0"), horizon=18)
    story.tolerates_malformed = True
    main, viewer = "/cam/realmonitor?channel=1&subtype=0", "192.0.2.151"
    story.watch(1.0, viewer, "vlc", main, until=3.5)
    odd = [  # mutations of the 503
        lambda message: message.set("CSeq", "abc"),
        lambda message: message.add("Retry-After", "5").add("Retry-After", "3600"),
        folded_headers,
        append_raw("this line is no header"),
        without_headers,
    ]
    for i, mutation in enumerate(odd):
        story.refused(5.0 + 2.5 * i, viewer, "vlc", main, cause="unknown", mutate=mutation)
    return story


@scenario
def rtsp_hammer(rng):
    """Camera at its 2-session limit: a scanner re-asks DESCRIBE every second on new connections.

    A recorder and a viewer hold the camera's two RTSP sessions. A cameradar-style scanner
    connects and sends DESCRIBE (no OPTIONS): 503 Service Unavailable without Retry-After; it
    retries on a new TCP connection 1 s after each 503, 5 times, all refused. A viewer refused
    once comes back 10 s later, after the other viewer left, and is served.
    """
    camera = Camera(Host("192.0.2.45", 554, "TCP"), "Hikvision-Webs")  # authentication off
    story = CameraStory(rng, camera, horizon=32)
    main, sub = "/Streaming/Channels/101", "/Streaming/Channels/102"
    story.watch(1.0, "192.0.2.201", "recorder", main, until=30.0)
    story.watch(2.5, "192.0.2.202", "vlc", sub, until=19.0)
    t = 6.0
    for _ in range(6):
        scanner = RtspClient(story.endpoint("203.0.113.66"), "scanner")
        story.cap.connect(t, scanner.host, camera.host)
        t_503 = story.exchange(t + 0.001, scanner,
                               [story.request(scanner, "DESCRIBE", camera.url(main))],
                               [story.reply("DESCRIBE", 503, cause="too_many_clients")])
        story.cap.close(t_503 + story.think(), scanner.host, camera.host)
        t = t_503 + story.jitter(1.0, 1.05)
    story.refused(14.0, "192.0.2.203", "ffmpeg", sub, cause="too_many_clients")
    story.watch(24.0, "192.0.2.203", "ffmpeg", sub, until=29.0)
    return story


# =========================================================================== command line


def tshark(pcap, *args):
    return subprocess.run(["tshark", "-r", pcap, *args], capture_output=True, text=True,
                          check=True).stdout


# tshark 4.0 flags every Retry-After that is not bare digits, even RFC 3261's own
# "18000;duration=3600", as Malformed; that note says nothing about the capture.
TSHARK_RETRY_AFTER_NOTE = "Invalid retry_after value"


def verify(stem, story):
    """Compares tshark's 503 frames with the truth file; looks for malformed packets.

    tshark reads the capture with the arguments of its .args file, as every reader must.
    """
    pcap = str(stem.with_suffix(".pcapng"))
    args_file = stem.with_suffix(".args")
    extra = args_file.read_text().split() if args_file.exists() else []
    found = tshark(pcap, *extra, "-Y", story.STATUS_503, "-T", "fields", "-e", "frame.number").split()
    lines = [line.split("\t") for line in stem.with_suffix(".truth").read_text().splitlines()
             if not line.startswith("#")]
    truth = [fields[0] for fields in lines if len(fields) == 2]
    reactions = [fields for fields in lines if len(fields) == 3]
    malformed = [line.strip() for line in tshark(pcap, *extra, "-q", "-z", "expert").splitlines()
                 if "Malformed" in line and TSHARK_RETRY_AFTER_NOTE not in line]
    problems = []
    if found != truth:
        problems.append(f"tshark 503 frames {found} != truth {truth}")
    if malformed and not story.tolerates_malformed:
        problems.append(f"malformed packets: {malformed}")
    if reactions:
        request = {"SIP": "sip.Request-Line", "RTSP": "rtsp.request"}[story.PROTOCOL]
        requests = tshark(pcap, *extra, "-Y", request, "-T", "fields", "-e", "frame.number").split()
        for frame, reaction, answer in reactions:
            if frame not in requests or answer not in truth or int(answer) >= int(frame):
                problems.append(f"reaction {frame} {reaction} {answer}: not a request after a 503")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output directory (e.g. captures)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify", action="store_true", help="check each file with tshark")
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=", ".join(SCENARIOS))
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    failed = False
    for name in args.scenarios or SCENARIOS:
        func = SCENARIOS[name]
        story = func(random.Random(f"{args.seed}:{name}"))
        how = (f"tools/gen_captures.py --seed {args.seed} {name} (synthetic packets from Python "
               f"standard-library code, no real {story.PROTOCOL} software): "
               f"{func.__doc__.splitlines()[0]}")
        stem, count, truth = story.write(args.out, name, how)
        print(f"{stem}.pcapng: {count} frames, 503 frames {[n for n, _ in truth]}")
        problems = verify(stem, story) if args.verify else []
        for problem in problems:
            print(f"  VERIFY FAILED: {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
