# The packet schedule of one capture and the frames it renders (Wire), with their 503 causes.
# SPDX-License-Identifier: GPL-2.0-or-later

import datetime
from collections import namedtuple
from dataclasses import dataclass
from functools import partial

from pcapng_writer import FrameBuilder, TCP_MSS, TcpConnection

from .messages import TextMessage, split_point


BASE_EPOCH = int(datetime.datetime(2026, 3, 2, 10, 0, tzinfo=datetime.timezone.utc).timestamp())


TCP_DELAYED_ACK = 0.040
TCP_PIECE_GAP = 0.0002


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
                                                       dst.port, data), frame_cause([message]))
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
                                   frame_cause(ending))
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


def frame_cause(messages):
    """The truth cause of a frame: that of its one 503 message, None if it has none."""
    answers = [m for m in messages if isinstance(m, TextMessage) and m.status == 503]
    assert len(answers) <= 1, "keep 503s in separate frames so each has one truth line"
    assert all(m.cause in m.CAUSES for m in answers), \
        f"every 503 needs a cause from its protocol's vocabulary: {[m.cause for m in answers]}"
    return answers[0].cause if answers else None
