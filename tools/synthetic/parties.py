# Who takes part in a story: hosts, SIP user agents and servers, identifiers, dialogs.
# SPDX-License-Identifier: GPL-2.0-or-later

from dataclasses import dataclass

from .messages import ALLOW, Message, sdp


DOMAIN = "example.net"


NAMES = (
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yvonne",
)
AGENTS = (
    "DeskPhone-T46/66.86.0.15", "SoftClient/3.21.3", "MobileSIP/5.2.5 (iOS 17.3)",
    "ConfPhone/1.0.11.23", "WebDialer/2.4.0",
)


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


def numbers(count, first=143):
    """Fictional E.164 numbers (+1 202 555-01xx)."""
    return [f"+12025550{first + i:03d}" for i in range(count)]


def ephemeral(rng, ip, transport="UDP"):
    return Host(ip, rng.randrange(32768, 61000), transport)
