# Generates synthetic SIP pcapng captures of 503 Service Unavailable stories, each with its .truth file.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Synthetic capture generator for diag503.

Usage: python3 tools/gen_captures.py --out captures [--seed N] [--verify] [scenario ...]

Each scenario tells one story around SIP 503 responses and writes captures/gen-<scenario>.pcapng
plus captures/gen-<scenario>.truth (see captures/FORMAT.md).  Output depends only on the seed:
timestamps start at 2026-03-02 10:00:00 UTC and every random choice comes from a random.Random
seeded with the seed and the scenario name.  All addresses are documentation addresses
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and example domains.
"""

import argparse
import datetime
import email.utils
import random
import re
import struct
import subprocess
import sys
from collections import namedtuple
from dataclasses import dataclass
from functools import partial
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
from pcapng_writer import FrameBuilder, PcapngWriter, TcpConnection  # noqa: E402

BASE_EPOCH = int(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.timezone.utc).timestamp())
CAUSES = (
    "overload", "capacity_limit", "upstream_failure", "dns_failure", "tls_failure",
    "database_failure", "maintenance", "registration_routing", "unknown",
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


# =========================================================================== SIP messages


COMPACT = {"via": "v", "from": "f", "to": "t", "call-id": "i", "contact": "m",
           "content-length": "l", "content-type": "c", "supported": "k"}


def _same_header(field, name):
    """True if header field name `field` is `name` in its long or compact form (any case)."""
    field, name = field.lower(), name.lower()
    return field == name or field == COMPACT.get(name)


class Message:
    """One SIP message: start line, ordered (name, value) header fields and a body.

    A field whose value is None is written verbatim (for deliberately odd lines).
    Content-Length is appended from the body unless the message already carries one.
    `cause` is the ground truth attached to a 503 (None for anything else).
    """

    def __init__(self, start_line, headers=(), body="", cause=None):
        self.start_line = start_line
        self.headers = list(headers)
        self.body = body
        self.cause = cause

    @classmethod
    def request(cls, method, uri):
        return cls(f"{method} {uri} SIP/2.0")

    @classmethod
    def response(cls, code, reason=None):
        return cls(f"SIP/2.0 {code} {reason or REASONS[code]}")

    @property
    def status(self):
        parts = self.start_line.split()
        return int(parts[1]) if parts[0] == "SIP/2.0" else None

    @property
    def method(self):
        if self.status is None:
            return self.start_line.split()[0]
        return self.get("CSeq").split()[-1]

    def add(self, name, value):
        self.headers.append((name, value))
        return self

    def get(self, name):
        return next(iter(self.values(name)), None)

    def values(self, name):
        return [value for field, value in self.headers
                if value is not None and _same_header(field, name)]

    def set(self, name, value):
        """Replaces the first field called name (or appends one)."""
        for i, (field, _) in enumerate(self.headers):
            if _same_header(field, name):
                self.headers[i] = (field, value)
                return self
        return self.add(name, value)

    def remove(self, name):
        self.headers = [(f, v) for f, v in self.headers if not _same_header(f, name)]
        return self

    def encode(self):
        body = self.body.encode()
        lines = [self.start_line]
        lines += [field if value is None else f"{field}: {value}" for field, value in self.headers]
        names = [field.split(":")[0].strip() for field, _ in self.headers]
        if not any(_same_header(name, "Content-Length") for name in names):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


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

    SIP messages are encoded when scheduled; TCP segments get their sequence numbers when
    rendered.  A frame carrying a 503 records its cause for the .truth file.
    """

    def __init__(self, rng):
        self.rng = rng
        self.builder = FrameBuilder()
        self.events = []
        self.links = {}
        self.keep = None  # optional capture filter: predicate on the sending Host

    def _schedule(self, t, render, cause=None):
        self.events.append((round(t * 1e6), len(self.events), render, cause))

    def _link(self, a, b):
        return self.links.get(frozenset(((a.ip, a.port), (b.ip, b.port))))

    def connect(self, t, client, server, rtt=0.0006):
        """A TCP three-way handshake; later sends between the two hosts use this connection."""
        conn = TcpConnection(self.builder, (client.ip, client.port), (server.ip, server.port),
                             self.rng.getrandbits(32), self.rng.getrandbits(32))
        self.links[frozenset(((client.ip, client.port), (server.ip, server.port)))] = (conn, client)
        self._schedule(t, conn.syn)
        self._schedule(t + rtt / 2, conn.syn_ack)
        self._schedule(t + rtt, partial(conn.ack, 0))

    def close(self, t, closer, peer, rtt=0.0006):
        """FIN from closer, FIN/ACK back, last ACK."""
        conn, client = self._link(closer, peer)
        side = 0 if (closer.ip, closer.port) == (client.ip, client.port) else 1
        self._schedule(t, partial(conn.fin, side))
        self._schedule(t + rtt / 2, partial(conn.fin, 1 - side))
        self._schedule(t + rtt, partial(conn.ack, side))

    def send(self, t, src, dst, payload, split=False):
        """Sends bytes, a Message or a list of Messages.

        Over UDP every message is its own datagram; over TCP a list leaves in one segment, and
        split=True cuts a single message into two segments (see split_point).
        """
        if self.keep and not self.keep(src):
            return
        messages = payload if isinstance(payload, list) else [payload]
        link = self._link(src, dst)
        if link is None:
            assert not split, "only TCP segments can be split"
            for message in messages:
                data = message if isinstance(message, bytes) else message.encode()
                self._schedule(t, partial(self.builder.udp, src.ip, src.port, dst.ip, dst.port, data),
                               _frame_cause([message]))
            return
        data = b"".join(m if isinstance(m, bytes) else m.encode() for m in messages)
        cause = _frame_cause(messages)
        conn, client = link
        side = 0 if (src.ip, src.port) == (client.ip, client.port) else 1
        cut = split_point(data) if split else len(data)
        pieces = [piece for piece in (data[:cut], data[cut:]) if piece]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            self._schedule(t + i * TCP_PIECE_GAP, partial(conn.data, side, piece),
                           cause if last else None)
        self._schedule(t + len(pieces) * TCP_PIECE_GAP + TCP_DELAYED_ACK, partial(conn.ack, 1 - side))

    def render(self):
        """[(timestamp_us, frame)] and [(frame_number, cause)] in capture order."""
        frames, truth = [], []
        for t_us, _, render, cause in sorted(self.events, key=lambda e: e[:2]):
            frame = render()
            if frame is None:
                continue
            frames.append((BASE_EPOCH * 1_000_000 + t_us, frame))
            if cause:
                truth.append((len(frames), cause))
        return frames, truth


def _frame_cause(messages):
    """The truth cause of a frame: that of its one 503 message, None if it has none."""
    causes = [m.cause for m in messages if isinstance(m, Message) and m.status == 503]
    assert len(causes) <= 1, "keep 503s in separate frames so each has one truth line"
    assert all(c in CAUSES for c in causes), f"every 503 needs a cause from the vocabulary: {causes}"
    return causes[0] if causes else None


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


class Story:
    """One scenario's capture: the server under study, its clients and common SIP flows.

    The server answers as the far end (a B2BUA, registrar or proxy seen from its client side):
    every response it sends gets its Server header, Contact/SDP where due, and `hooks(t, msg)`.
    """

    def __init__(self, rng, server, horizon=60.0):
        self.rng = rng
        self.ids = Ids(rng)
        self.cap = Capture(rng)
        self.server = server
        self.horizon = horizon  # the capture stops here: later BYEs are not scheduled
        self.hooks = []

    # ----------------------------------------------------------------- helpers

    def jitter(self, low, high):
        return self.rng.uniform(low, high)

    def lag(self):
        """Network plus stack delay between a UA and the server."""
        return self.jitter(0.0005, 0.004)

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

    def send(self, t, src, dst, payload, split=False):
        self.cap.send(t, src, dst, payload, split)

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

    # ----------------------------------------------------------------- output

    def write(self, directory, name, how):
        frames, truth = self.cap.render()
        stem = Path(directory) / f"gen-{name}"
        with open(stem.with_suffix(".pcapng"), "wb") as stream:
            writer = PcapngWriter(stream, "diag503 tools/gen_captures.py")
            for timestamp, frame in frames:
                writer.write(timestamp, frame)
        lines = [f"# how: {how}", f"# scenario: {name}"] + [f"{n}\t{cause}" for n, cause in truth]
        stem.with_suffix(".truth").write_text("\n".join(lines) + "\n")
        return stem, len(frames), truth


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


# =========================================================================== command line


def tshark(pcap, *args):
    return subprocess.run(["tshark", "-r", pcap, *args], capture_output=True, text=True,
                          check=True).stdout


# tshark 4.0 flags every Retry-After that is not bare digits, even RFC 3261's own
# "18000;duration=3600", as Malformed; that note says nothing about the capture.
TSHARK_RETRY_AFTER_NOTE = "Invalid retry_after value"


def verify(stem, name):
    """Compares tshark's SIP 503 frames with the truth file; looks for malformed packets."""
    pcap = str(stem.with_suffix(".pcapng"))
    found = tshark(pcap, "-Y", "sip.Status-Code == 503", "-T", "fields", "-e", "frame.number").split()
    truth = [line.split("\t")[0] for line in stem.with_suffix(".truth").read_text().splitlines()
             if not line.startswith("#")]
    malformed = [line.strip() for line in tshark(pcap, "-q", "-z", "expert").splitlines()
                 if "Malformed" in line and TSHARK_RETRY_AFTER_NOTE not in line]
    problems = []
    if found != truth:
        problems.append(f"tshark 503 frames {found} != truth {truth}")
    if malformed and name != "malformed":
        problems.append(f"malformed packets: {malformed}")
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
               f"standard-library code, no real SIP software): {func.__doc__.splitlines()[0]}")
        stem, count, truth = story.write(args.out, name, how)
        print(f"{stem}.pcapng: {count} frames, 503 frames {[n for n, _ in truth]}")
        problems = verify(stem, name) if args.verify else []
        for problem in problems:
            print(f"  VERIFY FAILED: {problem}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
