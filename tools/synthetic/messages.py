# SIP, RTSP and HTTP text messages, their cause vocabularies, and SDP bodies.
# SPDX-License-Identifier: GPL-2.0-or-later

import re

from causes import RTSP_CAUSES, SIP_CAUSES as CAUSES  # noqa: F401 (the vocabulary of the C++ table)


REASONS = {
    100: "Trying", 180: "Ringing", 200: "OK", 401: "Unauthorized", 503: "Service Unavailable",
}
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, NOTIFY, REFER, INFO, UPDATE"


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


def camera_sdp(ip, session):
    """A camera's H.264 presentation: one video track, control relative to Content-Base."""
    lines = [
        "v=0", f"o=- {session} {session} IN IP4 {ip}", "s=Media Presentation", "e=NONE",
        "b=AS:5050", "t=0 0", "a=control:*", "m=video 0 RTP/AVP 96", "c=IN IP4 0.0.0.0",
        "b=AS:5000", "a=recvonly", "a=rtpmap:96 H264/90000",
        "a=fmtp:96 profile-level-id=420029; packetization-mode=1", "a=control:trackID=1",
    ]
    return "\r\n".join(lines) + "\r\n"


def q850(cause, text):
    return ("Reason", f'Q.850;cause={cause};text="{text}"')


def retry_after(seconds):
    return ("Retry-After", str(seconds))


def append_raw(*lines):
    """A mutation appending verbatim header lines."""
    return lambda message: message.headers.extend((line, None) for line in lines)
