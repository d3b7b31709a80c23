# The SIP story engine: a scenario's capture, its server, clients and common SIP flows.
# SPDX-License-Identifier: GPL-2.0-or-later

import email.utils
from collections import namedtuple

from pcapng_writer import PcapngWriter

from .capture import BASE_EPOCH, Capture
from .messages import ALLOW, Message, fill_rport, respond, sdp
from .parties import AGENTS, DOMAIN, Dialog, Host, Ids, NAMES, Server, UA
from .reactions import client_reactions


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

    def write(self, stem, name, how):
        """Writes stem.pcapng, stem.truth and, when tshark needs arguments, stem.args."""
        frames, truth = self.cap.render()
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


def udp_story(rng, ip, horizon, name="sip.example.net", agent="EdgeProxy/5.7.2"):
    """A Story around a SIP server on UDP port 5060."""
    return Story(rng, Server(Host(ip), name, agent), horizon)


def proxy_story(rng, ip, horizon, name="proxy.example.net", agent="EdgeProxy/5.7.2"):
    """A ProxyStory around a proxy on UDP port 5060."""
    story = ProxyStory(rng, Server(Host(ip), name, agent), horizon)
    return story
