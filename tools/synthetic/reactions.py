# The truth of clients' reactions to 503s (retry_same_request, request_during_backoff, failover), computed from the frames sent.
# SPDX-License-Identifier: GPL-2.0-or-later

import re

from .messages import RtspMessage


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

    notes: {frame number: Note} of every frame carrying SIP or RTSP messages.  A fresh request
    (first transmission) from the client's IP address to a server address and port for a call that
    server refused to that address is retry_same_request before the Retry-After of the call's latest
    503 elapsed, or, without one, when it is the first within HAMMER_WINDOW s.  Otherwise it is
    request_during_backoff when it is for another call than the latest 503 that server sent to that
    address and comes before that 503's Retry-After elapsed, the first such request per 503 only.  failover: the first fresh request from that address for the 503's
    call to another server address or port, within FAILOVER_WINDOW s.
    """
    # (server ip, server port, client ip) -> [503 frame, t_us, Retry-After or None, call, hammered, backoff reported]
    latest = {}
    refused = {}  # (server ip, server port, client ip, call) -> [503 frame, t_us, Retry-After or None, hammered]
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
                retried = False
                again = refused.get((server.ip, server.port, client.ip, call)) if call is not None else None
                if again:
                    waited = note.t_us - again[1]
                    if again[2] is not None and waited < again[2] * 1e6:
                        retried = True
                    elif again[2] is None and not again[3] and waited < HAMMER_WINDOW * 1e6:
                        retried = again[3] = True
                    if retried:
                        lines.append((frame, "retry_same_request", again[0]))
                seen = latest.get((server.ip, server.port, client.ip))
                if (not retried and seen and seen[2] is not None and call != seen[3] and not seen[5]
                        and note.t_us - seen[1] < seen[2] * 1e6):
                    lines.append((frame, "request_during_backoff", seen[0]))
                    seen[5] = True
                waiting = pending.get((client.ip, call))
                if (waiting and (server.ip, server.port) != waiting[2]
                        and note.t_us - waiting[1] <= FAILOVER_WINDOW * 1e6):
                    lines.append((frame, "failover", waiting[0]))
                    del pending[(client.ip, call)]
            elif message.status == 503 and first:
                # here the sender of the frame is the server, its receiver the client
                call = (asked.get((server, client, message.get("CSeq")))
                        if isinstance(message, RtspMessage) else message.get("Call-ID"))
                latest[(client.ip, client.port, server.ip)] = [frame, note.t_us, retry_after_seconds(message), call, False, False]
                refused[(client.ip, client.port, server.ip, call)] = [frame, note.t_us, retry_after_seconds(message), False]
                pending[(server.ip, call)] = (frame, note.t_us, (client.ip, client.port))
    return lines
