# Generates large, realistic, seeded SIP or RTSP pcapng captures for the diag503 benchmark.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Benchmark capture generator.

Usage: python3 tools/bench/gen_bench.py --kind sip|rtsp --packets N [--seed S] --out FILE

N accepts k/M suffixes (250k, 1M).  The same kind, N and seed always give the same bytes.  Next to
FILE it writes FILE.json: the seed, a digest of the generator's code (tools/bench/run regenerates a
cached capture when it changes), what the capture holds and how many 503s of each kind it carries.

What is in a capture
  sip   A port-mirrored view of a carrier's edge: three SIP proxies (203.0.113.10-12), four
        gateways (.50-.54), a DNS resolver (.53) and thousands of users (192.0.2.0/24 and
        198.51.100.0/24, several per address as behind NAT).  Calls (INVITE/100/180/200/ACK/BYE,
        both legs of the proxy visible, some CANCEL, 486 and 404), REGISTER with a 401 challenge
        or a straight 200, OPTIONS keep-alives from phones and from the proxies to the gateways.
        Most over UDP, some phones and one gateway over TCP (pure ACKs, now and then two
        messages in one segment).  503s: overload bursts at a proxy during a call surge (short
        Retry-After, some answered slowly after a timer A retransmission), the 120-channel PRI
        gateway refusing with Reason Q.850 cause 34 (failed over or relayed), a standby proxy
        and a gateway in maintenance (Retry-After 600-3600 s), gateways failing calls after
        100 Trying (Q.850 41/38/27/102, relayed by the proxy), a gateway that stops answering
        (retransmissions, then the proxy's own 503).  Callers fail over to another proxy or
        retry early.  About 30 % of the frames are not SIP: RTP/RTCP of a sample of calls on
        the SDP's even/odd ports, DNS (NAPTR/SRV/A, a few NXDOMAIN/SERVFAIL), HTTPS on 443 and
        plain HTTP provisioning, TCP ACKs.
  rtsp  A site with 270 cameras and NVRs (198.51.100.0/24 and 192.0.2.200-215; Hikvision, Dahua,
        Axis, Uniview and generic URL layouts, all on port 554), viewers (192.0.2.10-189),
        recording servers and a monitoring host (203.0.113.0/24).  OPTIONS, DESCRIBE (Digest 401
        first where the device has a realm), SETUP, PLAY, GET_PARAMETER keep-alives, TEARDOWN over
        TCP; interleaved H.264 RTP and RTCP ('$' frames) make up most packets, some sessions
        stream RTP over UDP.
        503s: devices at their session limit (popular cameras, Zipf-distributed demand), NVR
        channels with video loss, weak devices refusing now and then with Retry-After; clients
        retry (some within a second).

Speed: about 25 µs of CPU per SIP packet and 15 µs per RTSP packet (2M SIP packets in under a
minute); every frame is built once, with correct IPv4, UDP and TCP checksums (one's-complement sums
taken on big integers), and written with a minimal pcapng block writer.  Timestamps start at
2026-03-02 10:00:00 UTC like tools/gen_captures.py; addresses are documentation addresses and
names are example domains.
"""

import argparse
import email.utils
import hashlib
import heapq
import importlib
import inspect
import ipaddress
import itertools
import json
import random
import struct
import sys
import time
from bisect import bisect_right
from functools import partial
from pathlib import Path

sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOOLS))
from synthetic.cameras import PLAYERS, RTSP_PUBLIC  # noqa: E402
from synthetic.capture import BASE_EPOCH  # noqa: E402
from synthetic.encoders import (  # noqa: E402
    dns_answer, dns_message, interleaved, naptr_rdata, srv_rdata, tls_client_hello, tls_server_flight,
)
from synthetic.messages import camera_sdp, sdp  # noqa: E402
from synthetic.parties import AGENTS, NAMES  # noqa: E402
SYNTHETIC_HELPERS = (  # module.name of what is taken from tools/synthetic/ (and with it dns_name, tls_hello, ...)
    "parties.AGENTS", "capture.BASE_EPOCH", "parties.NAMES", "cameras.PLAYERS", "cameras.RTSP_PUBLIC",
    "messages.camera_sdp", "encoders.dns_answer", "encoders.dns_message", "encoders.interleaved",
    "encoders.naptr_rdata", "messages.sdp", "encoders.srv_rdata", "encoders.tls_client_hello",
    "encoders.tls_server_flight", "encoders.dns_name", "encoders.tls_hello", "encoders.tls_handshake",
    "encoders.tls_extension", "encoders.tls_record",
)
from pcapng_writer import (  # noqa: E402
    IPPROTO_TCP, IPPROTO_UDP, PcapngWriter, TcpConnection, mac_for,
)

SECOND = 1_000_000  # timestamps are integer microseconds from the capture's start
MS = 1_000
CLIENT, SERVER = 0, 1  # sides of a TCP connection (TcpConnection's numbering)
DELAYED_ACK = 40 * MS


def ms(rng, low, high):
    """A random delay between low and high milliseconds, in microseconds."""
    return int(rng.uniform(low, high) * MS)


def seconds(rng, low, high):
    return int(rng.uniform(low, high) * SECOND)


def parse_count(text):
    """250k -> 250000, 1M -> 1000000."""
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


# =========================================================================== frames


class FastFrameBuilder:
    """Builds Ethernet/IPv4/UDP/TCP frames quickly (same layout as pcapng_writer.FrameBuilder).

    Addresses, MAC addresses and the 16-bit word sums of addresses are cached per IP string.
    Checksums are one's-complement sums, taken arithmetically: the sum of a byte string's
    16-bit words is its big-endian integer modulo 0xFFFF, and sums add.  `tcp` has
    FrameBuilder.tcp's signature, so pcapng_writer.TcpConnection keeps the sequence numbers.
    Not merged into FrameBuilder: it is built for speed, and its IPv4 identifications start
    at an address's low 16 bits where FrameBuilder's start at a CRC: merging them would change the
    bytes of either the synthetic or the benchmark captures.
    """

    TTL = 64
    IP_HEADER = struct.Struct("!BBHHHBBH4s4s")
    UDP_HEADER = struct.Struct("!HHHH")
    TCP_HEADER = struct.Struct("!HHIIBBHHH")
    WINDOW = 64240

    def __init__(self):
        self._hosts = {}  # ip -> (packed address, MAC, sum of its two 16-bit words)
        self._ident = {}  # ip -> next IPv4 identification

    def _host(self, ip):
        host = self._hosts.get(ip)
        if host is None:
            address = ipaddress.IPv4Address(ip)
            packed = address.packed
            host = self._hosts[ip] = (packed, mac_for(address),
                                      int.from_bytes(packed[:2], "big") + int.from_bytes(packed[2:], "big"))
            self._ident[ip] = int.from_bytes(packed[2:], "big")
        return host

    @staticmethod
    def _words(data):
        """The sum of data's 16-bit words modulo 0xFFFF (an odd byte is padded with a zero)."""
        value = int.from_bytes(data, "big")
        return (value << 8 if len(data) & 1 else value) % 0xFFFF

    def _frame(self, src_ip, dst_ip, proto, l4_length, l4_sum, pack_l4):
        """Ethernet + IPv4 around a transport segment whose word sum (checksum field zero) is l4_sum."""
        src, src_mac, src_sum = self._host(src_ip)
        dst, dst_mac, dst_sum = self._host(dst_ip)
        checksum = 0xFFFF - ((src_sum + dst_sum + proto + l4_length + l4_sum) % 0xFFFF or 0xFFFF)
        if checksum == 0 and proto == IPPROTO_UDP:
            checksum = 0xFFFF
        ident = self._ident[src_ip]
        self._ident[src_ip] = (ident + 1) & 0xFFFF
        total = 20 + l4_length
        ip_sum = (0x4500 + total + ident + 0x4000 + (self.TTL << 8 | proto) + src_sum + dst_sum) % 0xFFFF
        header = self.IP_HEADER.pack(0x45, 0, total, ident, 0x4000, self.TTL, proto,
                                     0xFFFF - (ip_sum or 0xFFFF), src, dst)
        return dst_mac + src_mac + b"\x08\x00" + header + pack_l4(checksum)

    def udp(self, src_ip, src_port, dst_ip, dst_port, payload):
        length = 8 + len(payload)
        words = src_port + dst_port + length + self._words(payload)
        return self._frame(src_ip, dst_ip, IPPROTO_UDP, length, words, lambda checksum: self.UDP_HEADER.pack(
            src_port, dst_port, length, checksum) + payload)

    def tcp(self, src_ip, src_port, dst_ip, dst_port, seq, ack, flags, payload=b"", options=b""):
        seq &= 0xFFFFFFFF
        ack &= 0xFFFFFFFF
        offset = (20 + len(options)) // 4
        words = (src_port + dst_port + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + (ack & 0xFFFF)
                 + (offset << 12 | flags) + self.WINDOW + self._words(options) + self._words(payload))
        return self._frame(src_ip, dst_ip, IPPROTO_TCP, 4 * offset + len(payload), words,
                           lambda checksum: self.TCP_HEADER.pack(
                               src_port, dst_port, seq, ack, offset << 4, flags, self.WINDOW, checksum, 0)
                           + options + payload)


class FastPcapngWriter(PcapngWriter):
    """pcapng_writer.PcapngWriter (its section and interface blocks) with a quicker `write`."""

    EPB = struct.Struct("<IIIIIII")

    def write(self, timestamp_us, frame):
        size = len(frame)
        pad = -size % 4
        total = 32 + size + pad
        self.stream.write(self.EPB.pack(6, total, 0, timestamp_us >> 32, timestamp_us & 0xFFFFFFFF, size, size)
                          + frame + b"\0" * pad + struct.pack("<I", total))


# =========================================================================== simulation


class Simulation:
    """Runs actors in time order and writes what they send.

    An actor is a generator yielding (time in µs, item); item is a frame (bytes), a callable
    returning a frame or None (run when its time comes, so TCP sequence numbers follow wire
    order), or None (a wake-up).  The code after a `yield` runs at that event's time, so shared
    state (channels in use, sessions open) is read and changed in time order.  Every actor stops
    at `horizon`; the run stops after `limit` frames.
    """

    def __init__(self, rng, horizon):
        self.rng = rng
        self.horizon = horizon
        self.builder = FastFrameBuilder()
        self._queue = []
        self._order = itertools.count()
        self._ids = itertools.count(1)
        self.frames = 0       # frames written
        self.signalling = 0   # frames built that carry SIP or RTSP text
        self.last_time = 0

    def start(self, actor):
        event = next(actor, None)
        if event is not None:
            heapq.heappush(self._queue, (event[0], next(self._order), event[1], actor))

    def later(self, when, item):
        """A one-off event (a delayed ACK)."""
        self.start(iter(((when, item),)))

    def unique(self, width=8):
        """An identifier part that never repeats in a capture: a counter plus random digits."""
        return f"{next(self._ids):x}{self.rng.getrandbits(4 * width):0{width}x}"

    def run(self, writer, limit):
        queue, push, pop, order = self._queue, heapq.heappush, heapq.heappop, self._order
        written, when = 0, 0
        while queue and written < limit:
            when, _, item, actor = pop(queue)
            if item is not None:
                frame = item() if callable(item) else item
                if frame is not None:
                    writer.write(BASE_EPOCH * SECOND + when, frame)
                    written += 1
                    self.frames = written
            event = next(actor, None)
            if event is not None:
                push(queue, (event[0], next(order), event[1], actor))
        self.last_time = when
        return written


class Windows:
    """Sorted, non-overlapping time windows [start, end) in µs, `mean_gap` (±50 %) apart."""

    def __init__(self, rng, horizon, mean_gap, low, high, first=0):
        self.starts, self.ends = [], []
        t = first + int(rng.uniform(0.2, 1.0) * mean_gap)
        for _ in range(100000):  # bounded: the horizon is reached long before
            if t >= horizon:
                break
            end = t + int(rng.uniform(low, high))
            self.starts.append(t)
            self.ends.append(end)
            t = end + int(rng.uniform(0.5, 1.5) * mean_gap)

    def __contains__(self, t):
        i = bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]

    def near(self, t, before):
        """True within `before` µs ahead of a window or inside it."""
        return t in self or (t + before) in self


class Link:
    """How two parties exchange messages: UDP datagrams or one TCP connection.

    The client opens the TCP connection (a three-way handshake on first use) unless the
    connection predates the capture; `send` yields the frames and returns when the data left.
    """

    def __init__(self, sim, client, server, transport, preexisting=False):
        self.sim = sim
        self.client, self.server = client, server  # (ip, port)
        self.tcp = None
        self.ready_at = 0
        if transport == "TCP":
            rng = sim.rng
            self.tcp = TcpConnection(sim.builder, client, server, rng.getrandbits(32), rng.getrandbits(32))
            self.state = "open" if preexisting else "new"

    def send(self, t, side, payload, rtt=2 * MS):
        sim = self.sim
        sim.signalling += 1
        if self.tcp is None:
            (src_ip, src_port), (dst_ip, dst_port) = (
                (self.client, self.server) if side == CLIENT else (self.server, self.client))
            yield t, sim.builder.udp(src_ip, src_port, dst_ip, dst_port, payload)
            return t
        conn = self.tcp
        if self.state == "new":
            if side == SERVER:  # the server speaks first: the connection was opened before the capture
                self.state = "open"
            else:
                self.state = "open"
                yield t, conn.syn
                yield t + 50, conn.syn_ack
                t += rtt + 50
                yield t, partial(conn.ack, CLIENT)
                t += 20
                self.ready_at = t
        t = max(t, self.ready_at)
        yield t, partial(conn.data, side, payload)
        sim.later(t + DELAYED_ACK, partial(conn.ack, 1 - side))
        return t


# =========================================================================== SIP


def sip_message(start_line, vias, headers, body=""):
    """One SIP message: start line, Via fields (top first), other fields, Content-Length, body."""
    parts = [start_line]
    parts += ["Via: " + via for via in vias]
    parts += headers
    parts.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(parts) + "\r\n\r\n" + body).encode()


ALLOW = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, NOTIFY, REFER, INFO, UPDATE"
DOMAIN = "example.net"
AREAS = (202, 212, 312, 415, 617, 713, 206, 305)
UPSTREAM_CAUSES = ((41, "Temporary failure"), (38, "Network out of order"),
                   (27, "Destination out of order"), (102, "Recovery on timer expiry"),
                   (3, "No route to destination"))
OVERLOAD_PHRASES = ("Service Unavailable", "Service Unavailable", "Server Overloaded",
                    "Service Unavailable - Too Many Calls")


class SipParty:
    """Something that sends and receives SIP: address, port, transport, name, software."""

    __slots__ = ("ip", "port", "transport", "name", "agent", "rtt")

    def __init__(self, ip, port, transport, name, agent, rtt):
        self.ip, self.port, self.transport = ip, port, transport
        self.name, self.agent, self.rtt = name, agent, rtt

    @property
    def address(self):
        return (self.ip, self.port)

    def via(self, branch, transport=None, rport=False):
        return (f"SIP/2.0/{transport or self.transport} {self.ip}:{self.port};branch={branch}"
                + (";rport" if rport else ""))


class User(SipParty):
    """A phone: a SIP party with an address of record, registration habits and a home proxy."""

    __slots__ = ("user", "display", "home", "interval", "keepalive", "media_port", "avoid_until")

    @property
    def aor(self):
        return f"sip:{self.user}@{DOMAIN}"

    @property
    def contact(self):
        params = "" if self.transport == "UDP" else ";transport=tcp"
        return f"<sip:{self.user}@{self.ip}:{self.port}{params}>"


class Proxy(SipParty):
    __slots__ = ("overload", "surge", "maintenance", "share")


class Gateway(SipParty):
    __slots__ = ("channels", "in_use", "dead", "maintenance", "down_until", "media_ip",
                 "weight", "failure_rate")


class SipWorld:
    """The population and the habits of the SIP capture; `actors` starts everything."""

    CALL_RATE = 30.0          # new calls per second (all proxies), tripled during a surge
    USERS = 4000
    BACKGROUND_SHARE = 0.30   # frames that are not SIP (RTP/RTCP, DNS, HTTP(S), TCP ACKs)
    DNS_RATE = 12.0
    TLS_RATE = 2.0
    HTTP_RATE = 0.5

    def __init__(self, sim):
        self.sim = sim
        rng = sim.rng
        horizon = sim.horizon
        self.links = {}
        self.causes = dict.fromkeys(
            ("overload", "overload_slow", "maintenance_proxy", "maintenance_gateway",
             "capacity_q850_34_relayed", "capacity_q850_34_failed_over", "upstream_relayed",
             "no_answer_generated", "gateway_options_maintenance", "register_overload",
             "register_maintenance"), 0)
        self.media_calls = 0
        agent = "EdgeProxy/5.7.2"
        self.proxies = []
        for index, (ip, share) in enumerate((("203.0.113.10", 0.475), ("203.0.113.11", 0.475),
                                             ("203.0.113.12", 0.05))):
            proxy = Proxy(ip, 5060, "UDP", f"edge{index + 1}.{DOMAIN}", agent, 0)
            proxy.share = share
            if index < 2:
                proxy.overload = Windows(rng, horizon, 300 * SECOND, 3 * SECOND, 8 * SECOND, 30 * SECOND)
                proxy.maintenance = Windows(rng, 0, 1, 0, 0)
            else:  # the standby proxy is drained for maintenance now and then
                proxy.overload = Windows(rng, 0, 1, 0, 0)
                proxy.maintenance = Windows(rng, horizon, 400 * SECOND, 60 * SECOND, 120 * SECOND)
            proxy.surge = proxy.overload
            self.proxies.append(proxy)
        self.gateways = []
        for name, ip, transport, agent, channels, weight, media in (
                ("gw1.carrier-a.example.com", "203.0.113.50", "UDP", "TrunkGateway/2.4.1", None, 0.36, "203.0.113.60"),
                ("gw2.carrier-a.example.com", "203.0.113.51", "UDP", "TrunkGateway/2.4.1", None, 0.34, "203.0.113.61"),
                ("gw3.carrier-b.example.org", "203.0.113.52", "TCP", "CarrierSBC/7.0", None, 0.24, "203.0.113.62"),
                ("pri-gw.example.net", "203.0.113.54", "UDP", "PRI-Gateway/9.1", 120, 0.06, "203.0.113.64")):
            gateway = Gateway(ip, 5060, transport, name, agent, 0)
            gateway.channels, gateway.in_use, gateway.weight, gateway.media_ip = channels, 0, weight, media
            gateway.down_until = 0
            gateway.failure_rate = 0.015 if channels is None else 0.005
            gateway.dead = (Windows(rng, horizon, 900 * SECOND, 20 * SECOND, 40 * SECOND, 120 * SECOND)
                            if ip.endswith(".51") else Windows(rng, 0, 1, 0, 0))
            gateway.maintenance = (Windows(rng, horizon, 600 * SECOND, 60 * SECOND, 120 * SECOND)
                                   if transport == "TCP" else Windows(rng, 0, 1, 0, 0))
            self.gateways.append(gateway)
        self.resolver = ("203.0.113.53", 53)
        self.users = self._users(rng)
        self.by_home = {id(p): [u for u in self.users if u.home is p] for p in self.proxies}

    def _users(self, rng):
        addresses = ([f"192.0.2.{i}" for i in range(1, 255)] + [f"198.51.100.{i}" for i in range(1, 255)])
        ports_used = {}
        users = []
        homes, shares = self.proxies, [p.share for p in self.proxies]
        for index in range(self.USERS):
            ip = rng.choice(addresses)
            used = ports_used.setdefault(ip, set())
            # NAT'd phones get a high port: above 5060 (Wireshark tries the lower port first) and above the
            # media ports (8000-32767), so no SDP-announced RTP/RTCP conversation captures SIP
            port = 5060 if not used else rng.randrange(33000, 65535)
            for _ in range(100):  # bounded: 32000 ports, about ten users per address
                if port not in used:
                    break
                port = rng.randrange(33000, 65535)
            used.add(port)
            transport = "TCP" if rng.random() < 0.15 else "UDP"
            user = User(ip, port, transport, None, rng.choice(AGENTS), ms(rng, 10, 80))
            first = NAMES[index % len(NAMES)]
            user.user = f"{first}.{index:04d}"
            user.display = first.capitalize()
            user.home = rng.choices(homes, shares)[0]
            user.interval = rng.choice((300, 600, 600, 1800, 3600)) * SECOND
            user.keepalive = rng.random() < 0.15
            user.media_port = rng.randrange(8000, 32000, 2)
            user.avoid_until = 0  # a phone that honours Retry-After avoids its home proxy until then
            users.append(user)
        return users

    # ------------------------------------------------------------------ plumbing

    def link(self, party, proxy):
        """The link between a proxy and a phone (phone opens TCP) or a gateway (proxy opens TCP)."""
        key = (party.ip, party.port, proxy.ip)
        link = self.links.get(key)
        if link is None:
            if isinstance(party, Gateway):
                client = (proxy.ip, self.sim.rng.randrange(32768, 61000) if party.transport == "TCP" else 5060)
                link = Link(self.sim, client, party.address, party.transport, preexisting=True)
            else:
                link = Link(self.sim, party.address, proxy.address, party.transport)
            self.links[key] = link
        return link

    @staticmethod
    def to_proxy(party):
        """The side of the link a party's message is sent from, when sent towards the proxy."""
        return SERVER if isinstance(party, Gateway) else CLIENT

    def send(self, t, src, dst, payload):
        """Sends payload from src to dst (one of them a proxy); returns when it left."""
        if isinstance(src, Proxy):
            link, side = self.link(dst, src), 1 - self.to_proxy(dst)
            rtt = dst.rtt
        else:
            link, side = self.link(src, dst), self.to_proxy(src)
            rtt = src.rtt
        return (yield from link.send(t, side, payload, rtt))

    def send_many(self, t, src, dst, payloads):
        """Messages sent back to back: one TCP segment, or one datagram each."""
        party = dst if isinstance(src, Proxy) else src
        if party.transport == "TCP":
            return (yield from self.send(t, src, dst, b"".join(payloads)))
        for payload in payloads:
            t = yield from self.send(t, src, dst, payload)
            t += 20
        return t

    def date(self, t):
        return "Date: " + email.utils.formatdate(BASE_EPOCH + t / SECOND, usegmt=True)

    def other_proxy(self, proxy, t):
        choices = [p for p in self.proxies[:2] if p is not proxy and t not in p.maintenance]
        return choices[0] if choices else self.proxies[0]

    def actors(self):
        sim = self.sim
        for proxy in self.proxies:
            sim.start(self.call_arrivals(proxy))
        for user in self.users:
            sim.start(self.registrations(user))
            if user.keepalive:
                sim.start(self.keepalives(user))
        for proxy in self.proxies[:2]:
            for gateway in self.gateways:
                sim.start(self.gateway_pings(proxy, gateway))
        sim.start(self.dns_lookups())
        sim.start(self.https_sessions())
        sim.start(self.http_provisioning())

    # ------------------------------------------------------------------ calls

    def call_arrivals(self, proxy):
        sim, rng = self.sim, self.sim.rng
        callers = self.by_home[id(proxy)]
        t = 0
        for _ in range(10 ** 8):  # bounded by the horizon
            rate = self.CALL_RATE * proxy.share * (3 if proxy.surge.near(t, 3 * SECOND) else 1)
            t += int(rng.expovariate(rate) * SECOND) + 1
            if t >= sim.horizon:
                return
            yield t, None
            caller = rng.choice(callers)
            if rng.random() < 0.6:
                target = f"sip:+1{rng.choice(AREAS)}5550{rng.randrange(100, 200)}@{DOMAIN};user=phone"
                callee = None
            else:
                callee = rng.choice(self.users)
                target = callee.aor
            sim.start(self.call(t, caller, proxy, target, callee))

    def call(self, t, caller, proxy, target, callee):
        """One call from caller through its proxy (failover or early retry after a 503)."""
        sim, rng = self.sim, self.sim.rng
        call = {
            "caller": caller,
            "call_id": f"{sim.unique(12)}@{caller.ip}",
            "from": f'From: "{caller.display}" <{caller.aor}>;tag={sim.unique(6)}',
            "to": f"To: <{target}>",
            "ruri": target,
            "cseq": rng.randrange(1, 200),
            "body": sdp(caller.user, caller.ip, rng.randrange(10 ** 9), caller.media_port),
        }
        outcome = None
        if t < caller.avoid_until:
            proxy = self.other_proxy(proxy, t)
        for _ in range(3):  # the first attempt and at most two reactions to a 503
            outcome, t, detail = yield from self.invite(t, call, caller, proxy, callee)
            if outcome != "refused":
                break
            if proxy is caller.home and rng.random() < 0.7:
                caller.avoid_until = t + detail * SECOND
            draw = rng.random()
            call["cseq"] += 1
            if draw < 0.45:  # RFC 3263 failover: the same call to another proxy at once
                proxy = self.other_proxy(proxy, t)
                t += ms(rng, 5, 80)
            elif draw < 0.6 and detail < 60:  # an impatient phone: again before Retry-After
                t += ms(rng, 200, 1500)
            else:
                return
        if outcome != "answered":
            return
        yield from self.dialog(t, call, caller, proxy, detail)

    def invite(self, t, call, caller, proxy, callee):
        """The caller's INVITE transaction with proxy, which forwards it (gateway failover inside).

        Returns (outcome, time, detail): ("refused", t, Retry-After) for the proxy's own 503,
        ("answered", t, hop) or ("failed", t, code).
        """
        sim, rng = self.sim, self.sim.rng
        cseq = call["cseq"]
        branch = "z9hG4bK" + sim.unique(10)
        ua_via = caller.via(branch, rport=True)
        received = f"{caller.via(branch)};rport={caller.port};received={caller.ip}"
        call["received"] = received
        head = [call["from"], call["to"], f"Call-ID: {call['call_id']}"]
        invite = sip_message(f"INVITE {call['ruri']} SIP/2.0", [ua_via],
                             ["Max-Forwards: 70"] + head + [
                                 f"CSeq: {cseq} INVITE", f"Contact: {caller.contact}", ALLOW,
                                 "Supported: replaces, timer", f"User-Agent: {caller.agent}",
                                 "Content-Type: application/sdp"], call["body"])
        t = yield from self.send(t, caller, proxy, invite)
        udp = caller.transport == "UDP"

        def answer(code, reason, extra=(), tag=None, body=""):
            to = call["to"] + (f";tag={tag}" if tag else "")
            return sip_message(f"SIP/2.0 {code} {reason}", [received],
                               [call["from"], to, f"Call-ID: {call['call_id']}", f"CSeq: {cseq} INVITE"]
                               + list(extra), body)

        def hop_ack(t, tag):  # the caller's ACK to a non-2xx final answer (same branch)
            ack = sip_message(f"ACK {call['ruri']} SIP/2.0", [ua_via],
                              ["Max-Forwards: 70", call["from"], call["to"] + f";tag={tag}",
                               f"Call-ID: {call['call_id']}", f"CSeq: {cseq} ACK"])
            return (yield from self.send(t + caller.rtt, caller, proxy, ack))

        refusal = None
        if t in proxy.maintenance:
            refusal = ("maintenance_proxy", rng.choice((600, 900, 1800, 3600)), "Service Unavailable", 0)
        elif t in proxy.overload and rng.random() < 0.35:
            slow = udp and rng.random() < 0.25
            refusal = ("overload_slow" if slow else "overload", rng.choice((2, 5, 10, 15, 30)),
                       rng.choice(OVERLOAD_PHRASES), slow)
        if refusal:
            kind, retry_after, phrase, slow = refusal
            self.causes[kind] += 1
            if slow:  # timer A fires before the loaded proxy answers
                yield from self.send(t + 500 * MS, caller, proxy, invite)
                t += ms(rng, 600, 950)
            else:
                t += ms(rng, 0.1, 0.6)
            tag = sim.unique(6)
            t = yield from self.send(t, proxy, caller, answer(
                503, phrase, [f"Retry-After: {retry_after}", f"Server: {proxy.agent}"], tag))
            yield from hop_ack(t, tag)
            return "refused", t + caller.rtt, retry_after

        if udp and rng.random() < 0.01:  # the first 100 Trying is lost: the INVITE comes again
            yield from self.send(t + ms(rng, 0.1, 0.5), proxy, caller, answer(100, "Trying"))
            t += 500 * MS
            yield from self.send(t, caller, proxy, invite)
        t = yield from self.send(t + ms(rng, 0.1, 0.6), proxy, caller, answer(100, "Trying"))

        # forward to the callee's phone or a gateway, failing over between gateways
        tried = []
        for _ in range(3):
            hop = callee if callee is not None else self.pick_gateway(t, tried)
            tried.append(hop)
            result = yield from self.forward(t, call, proxy, hop, cseq, received, answer, hop_ack,
                                             len(tried) < 3 and callee is None)
            outcome, t = result[0], result[1]
            if outcome != "next":
                return result
            t += ms(rng, 0.5, 3)
        return "failed", t, 503

    def pick_gateway(self, t, tried):
        rng = self.sim.rng
        usable = [g for g in self.gateways if g not in tried and g.down_until <= t]
        if not usable:
            usable = [g for g in self.gateways if g not in tried] or self.gateways
        return rng.choices(usable, [g.weight for g in usable])[0]

    def forward(self, t, call, proxy, hop, cseq, received, answer, hop_ack, may_fail_over):
        """The proxy's INVITE to one next hop and the answers it relays to the caller.

        Returns ("next", t) when the proxy tries another gateway, else like `invite`.
        """
        sim, rng = self.sim, self.sim.rng
        caller_to_proxy = received
        branch = "z9hG4bK" + sim.unique(10)
        proxy_via = proxy.via(branch, transport=hop.transport)
        ruri = hop.contact[1:-1] if isinstance(hop, User) else call["ruri"]
        head = [call["from"], call["to"], f"Call-ID: {call['call_id']}"]
        invite = sip_message(f"INVITE {ruri} SIP/2.0", [proxy_via, caller_to_proxy],
                             [f"Record-Route: <sip:{proxy.ip};lr>", "Max-Forwards: 69"] + head + [
                                 f"CSeq: {cseq} INVITE", f"Contact: {call['caller'].contact}",
                                 ALLOW, "Content-Type: application/sdp"], call["body"])
        t = yield from self.send(t + ms(rng, 0.5, 3), proxy, hop, invite)
        gateway = hop if isinstance(hop, Gateway) else None
        rtt = hop.rtt if gateway is None else ms(rng, 2, 20)
        hop_tag = sim.unique(8)

        def reply(code, reason, extra=(), body="", tag=hop_tag):
            to = call["to"] + (f";tag={tag}" if tag and code > 100 else "")
            return sip_message(f"SIP/2.0 {code} {reason}", [proxy_via, caller_to_proxy],
                               [call["from"], to, f"Call-ID: {call['call_id']}", f"CSeq: {cseq} INVITE"]
                               + list(extra), body)

        def proxy_ack(t):  # the proxy's hop-by-hop ACK to the next hop's non-2xx answer
            ack = sip_message(f"ACK {ruri} SIP/2.0", [proxy_via],
                              ["Max-Forwards: 70", call["from"], call["to"] + f";tag={hop_tag}",
                               f"Call-ID: {call['call_id']}", f"CSeq: {cseq} ACK"])
            return (yield from self.send(t + ms(rng, 0.1, 0.5), proxy, hop, ack))

        server = [f"Server: {hop.agent}"] if gateway else [f"User-Agent: {hop.agent}"]
        if gateway and t in gateway.dead:  # no answer: timer A retransmissions, then fr_timer
            for delay in (500, 1500, 3500):
                yield from self.send(t + delay * MS, proxy, hop, invite)
            t += 4 * SECOND
            gateway.down_until = t + 30 * SECOND
            if may_fail_over and rng.random() < 0.5:
                return ("next", t)
            self.causes["no_answer_generated"] += 1
            return (yield from self.relay_failure(t, call, proxy, 503, "Service Unavailable", [],
                                                  answer, hop_ack))
        if gateway and t in gateway.maintenance:
            retry_after = rng.choice((900, 1800, 3600))
            self.causes["maintenance_gateway"] += 1
            t = yield from self.send(t + rtt, hop, proxy, reply(
                503, "Service Unavailable", [f"Retry-After: {retry_after}"] + server))
            yield from proxy_ack(t)
            gateway.down_until = t + retry_after * SECOND
            if may_fail_over:
                return ("next", t)
            return (yield from self.relay_failure(t, call, proxy, 503, "Service Unavailable", [], answer, hop_ack))
        if gateway and gateway.channels is not None and gateway.in_use >= gateway.channels:
            reason = 'Reason: Q.850;cause=34;text="No circuit/channel available"'
            t = yield from self.send(t + rtt + ms(rng, 2, 12), hop, proxy, reply(
                503, "Service Unavailable", [reason] + server))
            yield from proxy_ack(t)
            if may_fail_over and rng.random() < 0.7:
                self.causes["capacity_q850_34_failed_over"] += 1
                return ("next", t)
            self.causes["capacity_q850_34_relayed"] += 1
            return (yield from self.relay_failure(t, call, proxy, 503, "Service Unavailable", [reason],
                                                  answer, hop_ack))
        if gateway and gateway.channels is not None:
            gateway.in_use += 1
        trying = gateway is not None or rng.random() < 0.7
        if trying:
            yield from self.send(t + rtt + ms(rng, 0.2, 3), hop, proxy, reply(100, "Trying"))
        if gateway and rng.random() < gateway.failure_rate:  # the gateway's own next hop fails
            cause, text = rng.choice(UPSTREAM_CAUSES)
            reason = f'Reason: Q.850;cause={cause};text="{text}"'
            t = yield from self.send(t + seconds(rng, 2, 8), hop, proxy, reply(
                503, "Service Unavailable", [reason] + server))
            yield from proxy_ack(t)
            self.release(gateway)
            self.causes["upstream_relayed"] += 1
            return (yield from self.relay_failure(t, call, proxy, 503, "Service Unavailable", [reason],
                                                  answer, hop_ack))

        draw = rng.random()
        answered = draw < 0.84
        immediate = answered and rng.random() < 0.05  # an auto-attendant: 180 and 200 back to back
        ring = t + rtt + (ms(rng, 5, 30) if immediate else ms(rng, 80, 1500))
        contact = (f"Contact: <sip:{call['ruri'].split(':')[1].split('@')[0]}@{hop.ip}:{hop.port}>"
                   if gateway else f"Contact: {hop.contact}")
        rr = f"Record-Route: <sip:{proxy.ip};lr>"
        ringing = reply(180, "Ringing", [rr, contact] + server)
        relay = answer(180, "Ringing", [rr, contact] + server, hop_tag)
        if not immediate:
            yield from self.send(ring, hop, proxy, ringing)
            t = yield from self.send(ring + ms(rng, 0.1, 0.5), proxy, self._caller(call), relay)
        if answered:
            t = ring if immediate else t + seconds(rng, 1, 15)
            media_ip = gateway.media_ip if gateway else hop.ip
            media_port = rng.randrange(16384, 32768, 2) if gateway else hop.media_port
            body = sdp(hop.user if not gateway else "gw", media_ip, rng.randrange(10 ** 9), media_port, (0,))
            extra = [rr, contact, "Content-Type: application/sdp"] + server
            ok = reply(200, "OK", extra, body)
            ok_relay = answer(200, "OK", extra, hop_tag, body)
            if immediate:  # over TCP both answers leave in one segment
                t = yield from self.send_many(t, hop, proxy, [ringing, ok])
                t = yield from self.send_many(t + ms(rng, 0.1, 0.5), proxy, self._caller(call), [relay, ok_relay])
            else:
                t = yield from self.send(t, hop, proxy, ok)
                t = yield from self.send(t + ms(rng, 0.1, 0.5), proxy, self._caller(call), ok_relay)
            retransmit = None
            if rng.random() < 0.01:  # the ACK is late: timer G resends the 200 on both legs
                retransmit = (ok, ok_relay)
            return ("answered", t, {"hop": hop, "gateway": gateway, "tag": hop_tag, "contact": contact,
                                    "media": (media_ip, media_port), "retransmit": retransmit})
        if gateway:
            self.release(gateway)
        if draw < 0.91:
            code, reason = 486, "Busy Here"
        elif draw < 0.97:  # nobody answers: the caller cancels
            return (yield from self.cancel(t + seconds(rng, 10, 25), call, proxy, hop, cseq, ruri,
                                           proxy_via, reply, proxy_ack, answer, hop_ack, hop_tag))
        else:
            code, reason = (404, "Not Found") if gateway else (480, "Temporarily Unavailable")
        t = yield from self.send(t + seconds(rng, 0.5, 8), hop, proxy, reply(code, reason, server))
        yield from proxy_ack(t)
        return (yield from self.relay_failure(t, call, proxy, code, reason, [], answer, hop_ack))

    @staticmethod
    def _caller(call):
        return call["caller"]

    def release(self, gateway):
        if gateway is not None and gateway.channels is not None:
            gateway.in_use = max(0, gateway.in_use - 1)

    def relay_failure(self, t, call, proxy, code, reason, extra, answer, hop_ack):
        """The proxy passes the next hop's failure to the caller, who ACKs it."""
        rng = self.sim.rng
        tag = self.sim.unique(6)
        t = yield from self.send(t + ms(rng, 0.1, 0.8), proxy, self._caller(call), answer(
            code, reason, list(extra) + [f"Server: {proxy.agent}"], tag))
        yield from hop_ack(t, tag)
        return ("failed", t + self._caller(call).rtt, code)

    def cancel(self, t, call, proxy, hop, cseq, ruri, proxy_via, reply, proxy_ack, answer, hop_ack, hop_tag):
        """The caller gives up while it rings: CANCEL on both legs, 487, ACKs."""
        sim, rng = self.sim, self.sim.rng
        caller = self._caller(call)
        head = [call["from"], call["to"], f"Call-ID: {call['call_id']}", f"CSeq: {cseq} CANCEL"]
        ua_via = call["received"].split(";rport=")[0] + ";rport"
        cancel = sip_message(f"CANCEL {call['ruri']} SIP/2.0", [ua_via], ["Max-Forwards: 70"] + head)
        t = yield from self.send(t, caller, proxy, cancel)
        ok = sip_message("SIP/2.0 200 OK", [call["received"]], head)
        yield from self.send(t + ms(rng, 0.1, 0.4), proxy, caller, ok)
        hop_cancel = sip_message(f"CANCEL {ruri} SIP/2.0", [proxy_via], ["Max-Forwards: 70"] + head)
        t = yield from self.send(t + ms(rng, 0.3, 1), proxy, hop, hop_cancel)
        t += hop.rtt if isinstance(hop, User) else ms(rng, 2, 20)
        yield from self.send(t, hop, proxy, sip_message("SIP/2.0 200 OK", [proxy_via], head))
        t = yield from self.send(t + ms(rng, 0.1, 2), hop, proxy, reply(487, "Request Terminated"))
        yield from proxy_ack(t)
        return (yield from self.relay_failure(t, call, proxy, 487, "Request Terminated", [], answer, hop_ack))

    def dialog(self, t, call, caller, proxy, leg):
        """ACK, media (when the capture's media budget allows), then BYE from either side."""
        sim, rng = self.sim, self.sim.rng
        hop, gateway, tag = leg["hop"], leg["gateway"], leg["tag"]
        to = call["to"] + f";tag={tag}"
        remote_uri = leg["contact"].split("<", 1)[1].split(">", 1)[0]
        route = f"Route: <sip:{proxy.ip};lr>"
        ack_at = t + caller.rtt
        if leg["retransmit"]:
            ok, ok_relay = leg["retransmit"]
            yield from self.send(t + 500 * MS, hop, proxy, ok)
            yield from self.send(t + 500 * MS + ms(rng, 0.1, 0.5), proxy, caller, ok_relay)
            ack_at = t + 500 * MS + caller.rtt + ms(rng, 50, 100)
        cseq = call["cseq"]

        def in_dialog(method, number, vias, ruri, first, second, routed):
            headers = ["Max-Forwards: 70", first, second, f"Call-ID: {call['call_id']}", f"CSeq: {number} {method}"]
            return sip_message(f"{method} {ruri} SIP/2.0", vias, ([route] if routed else []) + headers)

        branch = "z9hG4bK" + sim.unique(10)
        ua_via = caller.via(branch, rport=True)
        t = yield from self.send(ack_at, caller, proxy,
                                 in_dialog("ACK", cseq, [ua_via], remote_uri, call["from"], to, True))
        proxy_via = proxy.via("z9hG4bK" + sim.unique(10), transport=hop.transport)
        received = f"{caller.via(branch)};rport={caller.port};received={caller.ip}"
        t = yield from self.send(t + ms(rng, 0.2, 1), proxy, hop,
                                 in_dialog("ACK", cseq, [proxy_via, received], remote_uri,
                                           call["from"], to, False))
        duration = min(int(rng.expovariate(1 / 90) * SECOND) + SECOND, 3600 * SECOND)
        background = sim.frames - sim.signalling
        if background < self.BACKGROUND_SHARE * sim.frames:
            self.media_calls += 1
            sim.start(rtp_call(sim, t + ms(rng, 5, 40), (caller.ip, caller.media_port), leg["media"],
                               duration))
        t += duration
        if t >= sim.horizon:
            return
        bye_branch = "z9hG4bK" + sim.unique(10)
        from_hop = rng.random() < 0.45
        if from_hop:  # the callee (or the far end behind the gateway) hangs up
            hop_number = rng.randrange(1, 1000)
            hop_via = hop.via(bye_branch, rport=not gateway)
            caller_uri = caller.contact[1:-1]
            bye = in_dialog("BYE", hop_number, [hop_via], caller_uri, to.replace("To:", "From:", 1),
                            call["from"].replace("From:", "To:", 1), True)
            t = yield from self.send(t, hop, proxy, bye)
            proxy_via = proxy.via("z9hG4bK" + sim.unique(10), transport=caller.transport)
            bye2 = in_dialog("BYE", hop_number, [proxy_via, hop_via], caller_uri,
                             to.replace("To:", "From:", 1), call["from"].replace("From:", "To:", 1), False)
            t = yield from self.send(t + ms(rng, 0.2, 1), proxy, caller, bye2)
            head = [to.replace("To:", "From:", 1), call["from"].replace("From:", "To:", 1),
                    f"Call-ID: {call['call_id']}", f"CSeq: {hop_number} BYE"]
            t = yield from self.send(t + caller.rtt, caller, proxy,
                                     sip_message("SIP/2.0 200 OK", [proxy_via, hop_via], head))
            yield from self.send(t + ms(rng, 0.1, 0.5), proxy, hop, sip_message("SIP/2.0 200 OK", [hop_via], head))
        else:
            number = cseq + 1
            bye = in_dialog("BYE", number, [caller.via(bye_branch, rport=True)], remote_uri,
                            call["from"], to, True)
            t = yield from self.send(t, caller, proxy, bye)
            received = f"{caller.via(bye_branch)};rport={caller.port};received={caller.ip}"
            proxy_via = proxy.via("z9hG4bK" + sim.unique(10), transport=hop.transport)
            t = yield from self.send(t + ms(rng, 0.2, 1), proxy, hop,
                                     in_dialog("BYE", number, [proxy_via, received], remote_uri,
                                               call["from"], to, False))
            head = [call["from"], to, f"Call-ID: {call['call_id']}", f"CSeq: {number} BYE"]
            t = yield from self.send(t + (hop.rtt if not gateway else ms(rng, 2, 20)), hop, proxy,
                                     sip_message("SIP/2.0 200 OK", [proxy_via, received], head))
            yield from self.send(t + ms(rng, 0.1, 0.5), proxy, caller, sip_message("SIP/2.0 200 OK", [received], head))
        self.release(gateway)

    # ------------------------------------------------------------------ registrations and pings

    def registrations(self, user):
        """A phone registers every ~0.9 x its interval: 401 challenge or straight 200."""
        sim, rng = self.sim, self.sim.rng
        call_id = f"{sim.unique(12)}@{user.ip}"
        cseq = rng.randrange(1, 500)
        t = rng.randrange(0, user.interval)
        proxy = user.home
        for _ in range(10 ** 6):  # bounded by the horizon
            if t >= sim.horizon:
                return
            yield t, None
            for _attempt in range(2):  # the home proxy, then another one after a 503
                outcome, t, cseq = yield from self.register(t, user, proxy, call_id, cseq)
                if outcome[0] != "refused":
                    break
                if proxy is user.home:
                    user.avoid_until = t + outcome[1] * SECOND
                proxy = self.other_proxy(proxy, t)
                t += ms(rng, 10, 200)
            else:
                t += 30 * SECOND
                continue
            proxy = user.home if t >= user.avoid_until else proxy
            t += int(user.interval * rng.uniform(0.85, 0.95))

    def register(self, t, user, proxy, call_id, cseq):
        sim, rng = self.sim, self.sim.rng
        tag = sim.unique(6)
        challenged = rng.random() < 0.35
        nonce = None
        for _ in range(2):
            branch = "z9hG4bK" + sim.unique(10)
            headers = ["Max-Forwards: 70", f'From: "{user.display}" <{user.aor}>;tag={tag}',
                       f"To: <{user.aor}>", f"Call-ID: {call_id}", f"CSeq: {cseq} REGISTER",
                       f"Contact: {user.contact};expires={user.interval // SECOND}",
                       f"Expires: {user.interval // SECOND}", f"User-Agent: {user.agent}", ALLOW]
            if nonce:
                headers.append(f'Authorization: Digest username="{user.user}", realm="{DOMAIN}", '
                               f'nonce="{nonce}", uri="sip:{DOMAIN}", response="{rng.getrandbits(128):032x}", '
                               f'algorithm=MD5, cnonce="{rng.getrandbits(32):08x}", qop=auth, nc=00000001')
            request = sip_message(f"REGISTER sip:{DOMAIN} SIP/2.0", [user.via(branch, rport=True)], headers)
            t = yield from self.send(t, user, proxy, request)
            received = f"{user.via(branch)};rport={user.port};received={user.ip}"
            head = [headers[1], f"To: <{user.aor}>;tag={sim.unique(6)}", headers[3], headers[4]]
            if t in proxy.maintenance or (t in proxy.overload and rng.random() < 0.35):
                long = t in proxy.maintenance
                self.causes["register_maintenance" if long else "register_overload"] += 1
                retry_after = rng.choice((600, 1800, 3600)) if long else rng.choice((5, 10, 30))
                yield from self.send(t + ms(rng, 0.1, 0.6), proxy, user, sip_message(
                    "SIP/2.0 503 Service Unavailable", [received],
                    head + [f"Retry-After: {retry_after}", f"Server: {proxy.agent}"]))
                return ("refused", retry_after), t + user.rtt, cseq + 1
            if user.transport == "UDP" and rng.random() < 0.01:  # registrar slow: timer E
                yield from self.send(t + 500 * MS, user, proxy, request)
                t += ms(rng, 520, 700)
            else:
                t += ms(rng, 0.5, 4)
            cseq += 1
            if challenged and nonce is None:
                nonce = f"{rng.getrandbits(96):024x}"
                t = yield from self.send(t, proxy, user, sip_message(
                    "SIP/2.0 401 Unauthorized", [received], head + [
                        f'WWW-Authenticate: Digest realm="{DOMAIN}", nonce="{nonce}", algorithm=MD5, qop="auth"',
                        f"Server: {proxy.agent}"]))
                t += user.rtt
                continue
            t = yield from self.send(t, proxy, user, sip_message(
                "SIP/2.0 200 OK", [received], head + [
                    f"Contact: {user.contact};expires={user.interval // SECOND}", self.date(t),
                    f"Server: {proxy.agent}"]))
            return ("ok", 0), t, cseq
        return ("ok", 0), t, cseq

    def keepalives(self, user):
        """OPTIONS from a phone to its proxy every ~30 s (NAT keep-alive and liveness)."""
        sim, rng = self.sim, self.sim.rng
        t = rng.randrange(0, 30 * SECOND)
        for _ in range(10 ** 6):  # bounded by the horizon
            if t >= sim.horizon:
                return
            yield t, None
            proxy = user.home
            branch = "z9hG4bK" + sim.unique(10)
            head = [f"From: <{user.aor}>;tag={sim.unique(6)}", f"To: <sip:{proxy.ip}>",
                    f"Call-ID: {sim.unique(12)}@{user.ip}", "CSeq: 1 OPTIONS"]
            t = yield from self.send(t, user, proxy, sip_message(
                f"OPTIONS sip:{proxy.ip} SIP/2.0", [user.via(branch, rport=True)],
                ["Max-Forwards: 70"] + head + ["Accept: application/sdp", f"User-Agent: {user.agent}"]))
            received = f"{user.via(branch)};rport={user.port};received={user.ip}"
            head[1] += f";tag={sim.unique(6)}"
            if t in proxy.maintenance:
                answer = sip_message("SIP/2.0 503 Service Unavailable", [received],
                                     head + ["Retry-After: 900", f"Server: {proxy.agent}"])
            else:
                answer = sip_message("SIP/2.0 200 OK", [received], head + [
                    ALLOW, "Accept: application/sdp", "Supported: replaces, timer", f"Server: {proxy.agent}"])
            yield from self.send(t + ms(rng, 0.1, 0.5), proxy, user, answer)
            t += seconds(rng, 28, 32)

    def gateway_pings(self, proxy, gateway):
        """The proxy's OPTIONS to a gateway every 15 s: 200, 503 in maintenance, or silence."""
        sim, rng = self.sim, self.sim.rng
        t = rng.randrange(0, 15 * SECOND)
        for _ in range(10 ** 6):  # bounded by the horizon
            if t >= sim.horizon:
                return
            yield t, None
            branch = "z9hG4bK" + sim.unique(10)
            via = proxy.via(branch, transport=gateway.transport)
            head = [f"From: <sip:pinger@{proxy.name}>;tag={sim.unique(6)}", f"To: <sip:{gateway.name}>",
                    f"Call-ID: {sim.unique(12)}@{proxy.ip}", "CSeq: 10 OPTIONS"]
            request = sip_message(f"OPTIONS sip:{gateway.name} SIP/2.0", [via], ["Max-Forwards: 70"] + head)
            t = yield from self.send(t, proxy, gateway, request)
            head[1] += f";tag={sim.unique(6)}"
            if t in gateway.dead:
                for delay in (500, 1500, 3500):  # timer E
                    yield from self.send(t + delay * MS, proxy, gateway, request)
            elif t in gateway.maintenance:
                self.causes["gateway_options_maintenance"] += 1
                yield from self.send(t + ms(rng, 2, 20), gateway, proxy, sip_message(
                    "SIP/2.0 503 Service Unavailable", [via], head + ["Retry-After: 1800", f"Server: {gateway.agent}"]))
            else:
                yield from self.send(t + ms(rng, 2, 20), gateway, proxy, sip_message(
                    "SIP/2.0 200 OK", [via], head + [ALLOW, f"Server: {gateway.agent}"]))
            t += seconds(rng, 14.5, 15.5)

    # ------------------------------------------------------------------ background

    def dns_lookups(self):
        """The proxies' NAPTR/SRV/A lookups: mostly answered, a few NXDOMAIN/SERVFAIL/lost."""
        sim, rng = self.sim, self.sim.rng
        resolver_ip, _ = self.resolver
        partners = [f"partner{n}.example.org" for n in range(1, 241)]
        t = 0
        for _ in range(10 ** 8):  # bounded by the horizon
            t += int(rng.expovariate(self.DNS_RATE) * SECOND) + 1
            if t >= sim.horizon:
                return
            yield t, None
            proxy = rng.choice(self.proxies)
            port = rng.randrange(32768, 61000)
            txid = rng.getrandbits(16)
            draw = rng.random()
            if draw < 0.25:
                qname, qtype = rng.choice(("carrier-a.example.com", "carrier-b.example.org")), 35
                records = [(35, naptr_rdata(10, 50, "SIP+D2U", f"_sip._udp.{qname}")),
                           (35, naptr_rdata(20, 50, "SIP+D2T", f"_sip._tcp.{qname}"))]
            elif draw < 0.55:
                domain = rng.choice(partners)
                qname, qtype = f"_sip._udp.{domain}", 33
                records = [(33, srv_rdata(10, 60, 5060, f"sip1.{domain}")),
                           (33, srv_rdata(20, 40, 5060, f"sip2.{domain}"))]
            else:
                qname, qtype = rng.choice([g.name for g in self.gateways] + partners), 1
                records = [(1, bytes((203, 0, 113, rng.randrange(100, 250))))]
            sim.start(dns_exchange(sim, t, (proxy.ip, port), self.resolver, txid, qname, qtype, records))

    def https_sessions(self):
        sim, rng = self.sim, self.sim.rng
        servers = (("203.0.113.80", "provisioning.example.net"), ("203.0.113.81", "api.example.com"))
        t = 0
        for _ in range(10 ** 8):  # bounded by the horizon
            t += int(rng.expovariate(self.TLS_RATE) * SECOND) + 1
            if t >= sim.horizon:
                return
            yield t, None
            user = rng.choice(self.users)
            server_ip, name = rng.choice(servers)
            sim.start(https_exchange(sim, t, (user.ip, rng.randrange(32768, 61000)), (server_ip, 443), name))

    def http_provisioning(self):
        sim, rng = self.sim, self.sim.rng
        t = 0
        for _ in range(10 ** 8):  # bounded by the horizon
            t += int(rng.expovariate(self.HTTP_RATE) * SECOND) + 1
            if t >= sim.horizon:
                return
            yield t, None
            user = rng.choice(self.users)
            mac = f"{rng.getrandbits(48):012x}"
            request = (f"GET /cfg/{mac}.xml HTTP/1.1\r\nHost: provisioning.example.net\r\n"
                       f"User-Agent: {user.agent}\r\nAccept: */*\r\nConnection: close\r\n\r\n").encode()
            body = ("<?xml version=\"1.0\"?>\n<config>\n" + "".join(
                f'  <line index="{i}" user="{user.user}" server="edge1.{DOMAIN}" expires="600"/>\n'
                for i in range(1, 9)) + "</config>\n")
            response = (f"HTTP/1.1 200 OK\r\nServer: nginx\r\n{self.date(t)}\r\nContent-Type: application/xml\r\n"
                        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode()
            sim.start(tcp_exchange(sim, t, (user.ip, rng.randrange(32768, 61000)), ("203.0.113.82", 80),
                                   [(CLIENT, request), (SERVER, response)]))


def rtp_call(sim, t, a, b, duration):
    """G.711 RTP both ways every 20 ms on the SDP's even ports, RTCP on the odd ones every ~5 s."""
    rng, builder = sim.rng, sim.builder
    streams = []
    for src, dst in ((a, b), (b, a)):
        streams.append([src, dst, rng.getrandbits(32), rng.randrange(65536), rng.getrandbits(32), 0])
    pool = PAYLOAD_POOL
    end = min(t + duration, sim.horizon)
    offset = ms(rng, 2, 15)
    next_rtcp = t + seconds(rng, 2, 5)
    for tick in range(duration // (20 * MS) + 1):  # bounded: one packet per 20 ms per direction
        now = t + tick * 20 * MS
        if now >= end:
            return
        for index, stream in enumerate(streams):
            (src_ip, src_port), (dst_ip, dst_port), ssrc, seq, stamp, count = stream
            start = rng.randrange(0, len(pool) - 160)
            packet = struct.pack("!BBHII", 0x80, 0x80 if tick == 0 else 0, seq, stamp, ssrc) + pool[start:start + 160]
            stream[3] = (seq + 1) & 0xFFFF
            stream[4] = (stamp + 160) & 0xFFFFFFFF
            stream[5] = count + 1
            yield now + index * offset, builder.udp(src_ip, src_port, dst_ip, dst_port, packet)
        if now >= next_rtcp:
            next_rtcp = now + seconds(rng, 4.5, 5.5)
            for stream in streams:
                (src_ip, src_port), (dst_ip, dst_port), ssrc, seq, stamp, count = stream
                yield now + 2 * offset, builder.udp(src_ip, src_port + 1, dst_ip, dst_port + 1,
                                                 rtcp_report(ssrc, now, stamp, count, 160, "rtp"))


def rtcp_report(ssrc, now, stamp, packets, size, cname):
    """An RTCP compound packet: sender report and SDES CNAME."""
    wall = BASE_EPOCH + 2208988800 + now / SECOND
    ntp = int(wall) << 32 | int((wall % 1) * (1 << 32))
    report = struct.pack("!BBHIQIII", 0x80, 200, 6, ssrc, ntp, stamp, packets, packets * size)
    name = cname.encode()
    chunk = struct.pack("!IBB", ssrc, 1, len(name)) + name + b"\0"
    chunk += b"\0" * (-len(chunk) % 4)
    return report + struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk


def dns_exchange(sim, t, client, server, txid, qname, qtype, records):
    rng, builder = sim.rng, sim.builder
    query = dns_message(txid, qname, qtype)
    yield t, builder.udp(client[0], client[1], server[0], server[1], query)
    draw = rng.random()
    if draw < 0.005:  # lost: the stub asks again after 2 s and then gets its answer
        t += 2 * SECOND
        yield t, builder.udp(client[0], client[1], server[0], server[1], query)
    t += ms(rng, 0.3, 30)
    if draw > 0.994 and qtype != 35:
        answer = dns_message(txid, qname, qtype, rcode=3)  # NXDOMAIN
    elif draw > 0.992:
        answer = dns_message(txid, qname, qtype, rcode=2)  # SERVFAIL
    else:
        answer = dns_answer(txid, qname, qtype, records, rng.choice((60, 300, 3600)))
    yield t, builder.udp(server[0], server[1], client[0], client[1], answer)


def tcp_exchange(sim, t, client, server, messages, rtt=None):
    """A short TCP connection: handshake, the messages (one segment each, ACKed), FIN both ways."""
    rng = sim.rng
    rtt = rtt or ms(rng, 5, 60)
    conn = TcpConnection(sim.builder, client, server, rng.getrandbits(32), rng.getrandbits(32))
    yield t, conn.syn
    yield t + rtt // 2, conn.syn_ack
    t += rtt
    yield t, partial(conn.ack, CLIENT)
    for side, payload in messages:
        for start in range(0, len(payload), 1448):  # bounded by the payload
            t += ms(rng, 0.05, 2) if side == SERVER else ms(rng, 0.05, 0.3)
            yield t, partial(conn.data, side, payload[start:start + 1448])
        t += rtt // 2
        yield t, partial(conn.ack, 1 - side)
    yield t + ms(rng, 0.1, 1), partial(conn.fin, SERVER)
    t += rtt // 2 + MS
    yield t, partial(conn.fin, CLIENT)
    yield t + rtt // 2, partial(conn.ack, SERVER)


def https_exchange(sim, t, client, server, name):
    rng = sim.rng
    session = rng.randbytes(32)
    app = tls_app_data
    messages = [(CLIENT, tls_client_hello(rng, session, name)), (SERVER, tls_server_flight(rng, session)),
                (CLIENT, bytes.fromhex("140303000101") + app(rng, 53) + app(rng, rng.randrange(300, 700))),
                (SERVER, app(rng, rng.randrange(400, 4000)))]
    yield from tcp_exchange(sim, t, client, server, messages)


def tls_app_data(rng, size):
    start = rng.randrange(0, len(PAYLOAD_POOL) - size)
    return struct.pack("!BHH", 23, 0x0303, size) + PAYLOAD_POOL[start:start + size]


PAYLOAD_POOL = random.Random("diag503-bench-payload").randbytes(1 << 20)


# =========================================================================== RTSP


VENDORS = {  # Server header, Digest realm (None: none), URL layout, share of devices
    "hikvision": ("Hikvision-Webs", "IP Camera(C6201)", 0.40),
    "dahua": ("Rtsp Server/3.0", "Login to {serial}", 0.30),
    "axis": (None, "AXIS_{serial}", 0.13),
    "uniview": ("Rtsp Server/2.0", None, 0.10),
    "generic": ("GStreamer RTSP server", None, 0.07),
}


def stream_path(vendor, channel, sub):
    if vendor == "hikvision":
        return f"/Streaming/Channels/{channel}0{2 if sub else 1}"
    if vendor == "dahua":
        return f"/cam/realmonitor?channel={channel}&subtype={1 if sub else 0}"
    if vendor == "axis":
        return "/axis-media/media.amp?" + ("resolution=640x360&fps=15" if sub else "resolution=1920x1080")
    if vendor == "uniview":
        return f"/unicast/c{channel}/s{1 if sub else 0}/live"
    return f"/stream{2 if sub else 1}"


class Device:
    """A camera or NVR: address, vendor, channels, session limit, sessions in use."""

    __slots__ = ("ip", "vendor", "server", "realm", "channels", "limit", "active", "offline",
                 "weak", "sessions")

    def __init__(self, rng, ip, vendor, nvr):
        server, realm, _ = VENDORS[vendor]
        serial = f"{rng.getrandbits(24):06X}"
        self.ip, self.vendor, self.server = ip, vendor, server
        self.realm = realm.format(serial=serial) if realm else None
        if nvr:
            self.vendor = vendor = rng.choice(("hikvision", "dahua", "uniview"))
            self.server = VENDORS[vendor][0]
            self.realm = "Network Video Recorder" if vendor == "hikvision" else f"Login to {serial}"
        self.channels = 16 if nvr else 1
        self.limit = rng.choice((16, 24)) if nvr else rng.choice((3, 4, 4, 6, 8, 10))
        self.active = 0
        self.offline = set(rng.sample(range(1, 17), rng.choice((1, 2)))) if nvr else set()
        self.weak = rng.random() < 0.04
        self.sessions = 0

    def url(self, path):
        return f"rtsp://{self.ip}:554{path}"


class RtspWorld:
    """Cameras and NVRs, on-demand viewers, motion-triggered recorders and a monitoring host."""

    VIEWER_RATE = 1.2        # new viewing sessions per second
    RECORDER_RATE = 0.6      # new recording sessions per second
    MONITOR_PERIOD = 60      # seconds between health checks of one device

    def __init__(self, sim):
        self.sim = sim
        rng = sim.rng
        self.causes = dict.fromkeys(("too_many_clients", "nvr_channel_offline", "device_overload"), 0)
        vendors = list(VENDORS)
        weights = [VENDORS[v][2] for v in vendors]
        self.devices = []
        for index in range(270):
            ip = f"198.51.100.{index + 1}" if index < 254 else f"192.0.2.{index - 254 + 200}"
            nvr = index % 27 == 5
            self.devices.append(Device(rng, ip, rng.choices(vendors, weights)[0], nvr))
        ranked = self.devices[:]
        rng.shuffle(ranked)
        self.ranked = ranked
        # Zipf-like demand; a recorder's 16 channels draw more viewers than one camera
        self.popularity = list(itertools.accumulate(
            (4 if device.channels > 1 else 1) / (rank + 1) ** 0.8 for rank, device in enumerate(ranked)))
        self.viewers = [f"192.0.2.{i}" for i in range(10, 190)]
        self.recorders = [f"203.0.113.{i}" for i in range(20, 28)]
        self.monitor = "203.0.113.5"

    def actors(self):
        sim, rng = self.sim, self.sim.rng
        sim.start(self.arrivals(self.VIEWER_RATE, "viewer"))
        sim.start(self.arrivals(self.RECORDER_RATE, "recorder"))
        for device in self.devices:
            sim.start(self.health_checks(device, rng.randrange(0, self.MONITOR_PERIOD * SECOND)))

    def pick_device(self):
        return self.sim.rng.choices(self.ranked, cum_weights=self.popularity)[0]

    def arrivals(self, rate, role):
        sim, rng = self.sim, self.sim.rng
        t = 0
        for _ in range(10 ** 8):  # bounded by the horizon
            t += int(rng.expovariate(rate) * SECOND) + 1
            if t >= sim.horizon:
                return
            yield t, None
            device = self.pick_device()
            channel = rng.randrange(1, device.channels + 1)
            if role == "viewer":
                client, player = rng.choice(self.viewers), rng.choice(("vlc", "ffmpeg", "gstreamer"))
                sub, udp, hold = rng.random() < 0.9, rng.random() < 0.1, seconds(rng, 5, 120)
            else:
                client, player = rng.choice(self.recorders), "recorder"
                sub, udp, hold = rng.random() < 0.7, rng.random() < 0.3, seconds(rng, 10, 90)
            sim.start(self.session(t, client, player, device, channel, sub, udp, hold, 0))

    def session(self, t, client_ip, player, device, channel, sub, udp, hold, attempt):
        """One client session: TCP connect, OPTIONS, DESCRIBE (401 first), SETUP, PLAY, media with
        keep-alives, TEARDOWN; or a 503 and the client's retry."""
        sim, rng = self.sim, self.sim.rng
        agent, sends_options = PLAYERS[player]
        url = device.url(stream_path(device.vendor, channel, sub))
        rtt = ms(rng, 1, 30)
        conn = TcpConnection(sim.builder, (client_ip, rng.randrange(32768, 61000)), (device.ip, 554),
                             rng.getrandbits(32), rng.getrandbits(32))
        yield t, conn.syn
        yield t + 200, conn.syn_ack
        t += rtt
        yield t, partial(conn.ack, CLIENT)
        state = {"cseq": 1, "t": t}

        def exchange(method, target, extra=(), answer=None):
            """Request and answer as a generator; returns the answer's status."""
            headers = [f"CSeq: {state['cseq']}", f"User-Agent: {agent}"] + list(extra)
            request = f"{method} {target} RTSP/1.0\r\n" + "\r\n".join(headers) + "\r\n\r\n"
            now = state["t"] + ms(rng, 0.2, 2)
            sim.signalling += 2
            yield now, partial(conn.data, CLIENT, request.encode())
            status, reason, fields, body = answer() if answer else (200, "OK", [], "")
            lines = [f"RTSP/1.0 {status} {reason}", f"CSeq: {state['cseq']}"]
            if device.server:
                lines.append(f"Server: {device.server}")
            lines.append("Date: " + email.utils.formatdate(BASE_EPOCH + now / SECOND, usegmt=True))
            lines += fields
            if body:
                lines.append(f"Content-Length: {len(body)}")
            now += rtt // 2 + ms(rng, 1, 20)
            yield now, partial(conn.data, SERVER, ("\r\n".join(lines) + "\r\n\r\n" + body).encode())
            sim.later(now + DELAYED_ACK, partial(conn.ack, CLIENT))
            state["cseq"] += 1
            state["t"] = now + rtt // 2
            return status

        if sends_options:
            yield from exchange("OPTIONS", url, (), lambda: (200, "OK", [f"Public: {RTSP_PUBLIC}"], ""))
        auth = []
        if device.realm:
            nonce = f"{rng.getrandbits(128):032x}"
            challenge = f'WWW-Authenticate: Digest realm="{device.realm}", nonce="{nonce}", stale="FALSE"'
            yield from exchange("DESCRIBE", url, ["Accept: application/sdp"],
                                lambda: (401, "Unauthorized", [challenge], ""))
            auth = [f'Authorization: Digest username="admin", realm="{device.realm}", nonce="{nonce}", '
                    f'uri="{url}", response="{rng.getrandbits(128):032x}"']
        session_id = f"{rng.getrandbits(32):08X}"
        base = url + "/"
        ssrc = rng.getrandbits(32)
        client_port = rng.randrange(50000, 59998, 2)
        server_port = rng.randrange(6970, 7998, 2)
        transport = (f"RTP/AVP;unicast;client_port={client_port}-{client_port + 1}" if udp
                     else "RTP/AVP/TCP;unicast;interleaved=0-1")
        answer_transport = transport + f";server_port={server_port}-{server_port + 1}" if udp else transport

        def describe_answer():  # the device decides when the request arrives
            return self.refusal(device, channel, "DESCRIBE") or (
                200, "OK", [f"Content-Base: {base}", "Content-Type: application/sdp"],
                camera_sdp(device.ip, session_id))

        def setup_answer():
            return self.refusal(device, channel, "SETUP") or (
                200, "OK", [f"Session: {session_id};timeout=60",
                            f'Transport: {answer_transport};ssrc={ssrc:08X};mode="play"'], "")

        status = yield from exchange("DESCRIBE", url, ["Accept: application/sdp"] + auth, describe_answer)
        if status == 200:
            status = yield from exchange("SETUP", base + "trackID=1", [f"Transport: {transport}"] + auth,
                                         setup_answer)
        if status != 200:
            yield from self.close(conn, state["t"] + ms(rng, 1, 50), rtt)
            draw = rng.random()
            if attempt < 3 and draw < 0.7:  # most clients try again, some at once
                delay = ms(rng, 300, 1000) if draw < 0.2 else seconds(rng, 2, 10)
                sim.start(self.session(state["t"] + delay, client_ip, player, device, channel, sub, udp,
                                       hold, attempt + 1))
            return
        device.active += 1
        seq, stamp = rng.randrange(65536), rng.getrandbits(32)
        yield from exchange("PLAY", base, [f"Session: {session_id}", "Range: npt=0.000-"] + auth, lambda: (
            200, "OK", [f"Session: {session_id}", "Range: npt=0.000-",
                        f"RTP-Info: url={base}trackID=1;seq={seq};rtptime={stamp}"], ""))
        t = state["t"] + ms(rng, 1, 10)
        end = min(t + hold, sim.horizon)
        state["t"] = yield from self.media(t, end, conn, device, client_ip, udp, sub, ssrc, seq, stamp,
                                           (client_port, server_port), state, exchange, base, session_id, auth)
        device.active = max(0, device.active - 1)
        if state["t"] < sim.horizon:
            yield from exchange("TEARDOWN", base, [f"Session: {session_id}"] + auth)
            yield from self.close(conn, state["t"] + ms(rng, 0.5, 5), rtt)

    def refusal(self, device, channel, method):
        """A 503 answer when the device refuses, else None (the state is read now)."""
        rng = self.sim.rng
        if channel in device.offline and method == "DESCRIBE":
            self.causes["nvr_channel_offline"] += 1
            return (503, "Service Unavailable", [], "")
        if device.active >= device.limit and (method == "SETUP" or device.vendor in ("dahua", "generic")):
            self.causes["too_many_clients"] += 1
            return (503, "Service Unavailable", [], "")
        if device.weak and rng.random() < 0.3:
            self.causes["device_overload"] += 1
            return (503, "Service Unavailable", ["Retry-After: 5"], "")
        return None

    def media(self, t, end, conn, device, client_ip, udp, sub, ssrc, seq, stamp, ports, state,
              exchange, base, session_id, auth):
        """H.264 video: I-frames every 2 s; '$' frames on the RTSP connection (client ACKs every
        fourth segment) or UDP datagrams; RTCP sender reports every ~5 s; GET_PARAMETER every 30 s.
        Returns the time of its last frame."""
        sim, rng, builder = self.sim, self.sim.rng, self.sim.builder
        fps = 10 if sub else 25
        interval = SECOND // fps
        gop = 2 * fps
        client_port, server_port = ports
        pool = PAYLOAD_POOL
        packets = octets = segments = 0
        next_rtcp = t + seconds(rng, 3, 5)
        next_keepalive = t + 30 * SECOND
        floor = t  # nothing may be sent before what was already sent
        for frame in range(10 ** 7):  # bounded by end
            now = max(t + frame * interval, floor)
            if now >= end:
                return floor
            key = frame % gop == 0
            if sub:  # packets in this frame: an I-frame is split into many, a P-frame into few
                count = rng.randrange(4, 7) if key else 1
            else:
                count = rng.randrange(30, 45) if key else rng.randrange(3, 7)
            stamp_now = (stamp + frame * 90000 // fps) & 0xFFFFFFFF
            nal = 0x65 if key else 0x41
            for index in range(count):
                size = 1400 if index < count - 1 or key else rng.randrange(200, 1400)
                first, last = index == 0, index == count - 1
                fu = (0x80 if first else 0) | (0x40 if last else 0) | (nal & 0x1F)
                start = rng.randrange(0, len(pool) - size)
                rtp = struct.pack("!BBHIIBB", 0x80, (0x80 if last else 0) | 96, seq, stamp_now, ssrc,
                                  (nal & 0x60) | 28, fu) + pool[start:start + size]
                seq = (seq + 1) & 0xFFFF
                packets += 1
                octets += size + 2
                now += 90
                if udp:
                    yield now, builder.udp(device.ip, server_port, client_ip, client_port, rtp)
                else:
                    yield now, partial(conn.data, SERVER, interleaved(0, rtp))
                    segments += 1
                    if segments % 4 == 0:
                        yield now + 40, partial(conn.ack, CLIENT)
                        now += 40
            if now >= next_rtcp:
                next_rtcp = now + seconds(rng, 4.5, 5.5)
                report = rtcp_report(ssrc, now, stamp_now, packets, octets // max(packets, 1), device.ip)
                if udp:
                    yield now + 100, builder.udp(device.ip, server_port + 1, client_ip, client_port + 1, report)
                else:
                    yield now + 100, partial(conn.data, SERVER, interleaved(1, report))
            if now >= next_keepalive:
                next_keepalive = now + seconds(rng, 29, 31)
                state["t"] = now + 200
                yield from exchange("GET_PARAMETER", base, [f"Session: {session_id}"] + auth)
                now = state["t"]
            floor = now
        return floor

    def close(self, conn, t, rtt):
        yield t, partial(conn.fin, CLIENT)
        yield t + rtt // 2, partial(conn.fin, SERVER)
        yield t + rtt, partial(conn.ack, CLIENT)

    def health_checks(self, device, t):
        """The monitoring host's OPTIONS on a fresh connection every MONITOR_PERIOD seconds."""
        sim, rng = self.sim, self.sim.rng
        url = device.url(stream_path(device.vendor, 1, False))
        for _ in range(10 ** 6):  # bounded by the horizon
            if t >= sim.horizon:
                return
            yield t, None
            request = (f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: NetMonitor/2.3\r\n\r\n").encode()
            lines = ["RTSP/1.0 200 OK", "CSeq: 1"] + ([f"Server: {device.server}"] if device.server else []) + [
                f"Public: {RTSP_PUBLIC}"]
            response = ("\r\n".join(lines) + "\r\n\r\n").encode()
            sim.signalling += 2
            sim.start(tcp_exchange(sim, t, (self.monitor, rng.randrange(32768, 61000)), (device.ip, 554),
                                   [(CLIENT, request), (SERVER, response)], rtt=ms(rng, 1, 10)))
            t += seconds(rng, self.MONITOR_PERIOD - 2, self.MONITOR_PERIOD + 2)


# =========================================================================== main


WORLDS = {"sip": (SipWorld, 500), "rtsp": (RtspWorld, 1500)}  # world, packets per second at least


def generate(kind, packets, seed, out):
    """Writes the capture and its .json summary; returns the summary."""
    world_class, min_rate = WORLDS[kind]
    horizon = (packets // min_rate + 600) * SECOND
    rng = random.Random(f"diag503-bench:{kind}:{seed}")
    sim = Simulation(rng, horizon)
    world = world_class(sim)
    world.actors()
    started = time.monotonic()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial_out = out.with_name(out.name + ".part")
    with open(partial_out, "wb", buffering=1 << 22) as stream:
        writer = FastPcapngWriter(stream, f"tools/bench/gen_bench.py --kind {kind} --seed {seed}", "bench0")
        written = sim.run(writer, packets)
    if written != packets:
        partial_out.unlink()
        raise SystemExit(f"only {written} of {packets} packets before the horizon; raise it")
    partial_out.replace(out)
    summary = {
        "generator": "tools/bench/gen_bench.py",
        "generator_digest": generator_digest(),
        "kind": kind, "packets": packets, "seed": seed,
        "capture_seconds": round(sim.last_time / SECOND, 1),
        "signalling_frames_share": round(min(sim.signalling, written) / written, 3),
        "responses_503": world.causes,
        "bytes": out.stat().st_size,
        "generation_seconds": round(time.monotonic() - started, 1),
    }
    if kind == "sip":
        summary["calls_with_media"] = world.media_calls
    out.with_name(out.name + ".json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def generator_digest():
    """SHA-256 of what decides a capture's bytes: this file, pcapng_writer.py and the helpers it takes
    from tools/synthetic/ (their source only, so unrelated edits there keep cached captures)."""
    digest = hashlib.sha256()
    for path in (Path(__file__), TOOLS / "pcapng_writer.py"):
        digest.update(path.read_bytes())
    for helper in SYNTHETIC_HELPERS:
        module, name = helper.split(".")
        value = getattr(importlib.import_module(f"synthetic.{module}"), name)
        digest.update((inspect.getsource(value) if callable(value) else repr(value)).encode())
    return digest.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=sorted(WORLDS), required=True)
    parser.add_argument("--packets", type=parse_count, required=True, help="frames to write (250k, 1M, ...)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True, help="output .pcapng (keep it out of the repository)")
    args = parser.parse_args(argv)
    summary = generate(args.kind, args.packets, args.seed, args.out)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
