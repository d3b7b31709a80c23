# Writes pcapng files and builds Ethernet/IPv4/IPv6/UDP/TCP/ICMP frames for synthetic captures.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Minimal pcapng writer and link/network/transport frame builder (standard library only).

Used by tools/synthetic/ (tools/gen_captures.py) and tools/bench/.  Everything here is deterministic:
no clock, no randomness; the caller supplies timestamps, TCP initial sequence numbers and IPv4
identification seeds.
"""

import ipaddress
import struct
import zlib

LINKTYPE_ETHERNET = 1
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = 0x8100     # IEEE 802.1Q customer tag (C-tag)
ETHERTYPE_QINQ = 0x88A8     # IEEE 802.1ad service tag (S-tag), outer tag of a double-tagged frame
IPPROTO_ICMP = 1
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_ICMPV6 = 58
IPPROTO_FRAGMENT = 44  # IPv6 Fragment extension header

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
TCP_WINDOW = 64240
TCP_MSS = 1460
ETHERNET_HEADER = 14
# How much of the offending packet an ICMP error quotes: as much as keeps the error within the
# minimum datagram every host accepts, 576 bytes for IPv4 (RFC 1812 4.3.2.3, what Linux does)
# and the 1280-byte minimum MTU for IPv6 (RFC 4443 2.4 (c)).
ICMP_QUOTE = {4: 576 - 20 - 8, 6: 1280 - 40 - 8}


# --------------------------------------------------------------------------- pcapng


def _option(code, value):
    """One pcapng option: code, length, value padded to 32 bits."""
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _options(*pairs):
    """A list of (code, bytes) options followed by opt_endofopt."""
    return b"".join(_option(code, value) for code, value in pairs) + _option(0, b"")


def _block(block_type, body):
    """A pcapng block: type, total length, body padded to 32 bits, total length again."""
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


class PcapngWriter:
    """Writes one Section Header Block, Ethernet interfaces and Enhanced Packet Blocks.

    Timestamps are integer microseconds since the Unix epoch (the default if_tsresol of 6).
    interfaces: [(name, snaplen)], one Interface Description Block each, in order (interface ids
    0, 1, ...); by default one interface called interface_name with snaplen SNAPLEN.
    """

    SNAPLEN = 262144

    def __init__(self, stream, application, interface_name="synthetic0", interfaces=None):
        self.stream = stream
        self.snaplens = []
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _options((4, application.encode()))
        stream.write(_block(0x0A0D0D0A, shb))
        for name, snaplen in interfaces or [(interface_name, self.SNAPLEN)]:
            idb = struct.pack("<HHI", LINKTYPE_ETHERNET, 0, snaplen) + _options((2, name.encode()))
            stream.write(_block(0x00000001, idb))
            self.snaplens.append(snaplen)

    def write(self, timestamp_us, frame, interface=0, captured=None):
        """Appends one frame seen on an interface; captured: how many of its bytes were kept (the
        frame cut by a snaplen; at most the interface's snaplen), by default all of them."""
        captured = len(frame) if captured is None else min(captured, len(frame))
        assert captured <= self.snaplens[interface], "a frame longer than its interface's snaplen"
        header = struct.pack(
            "<IIIII", interface, timestamp_us >> 32, timestamp_us & 0xFFFFFFFF, captured, len(frame)
        )
        self.stream.write(_block(0x00000006, header + frame[:captured]))


# --------------------------------------------------------------------------- checksums


def internet_checksum(data):
    """RFC 1071 one's-complement sum of 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _pseudo_header(src, dst, proto, length):
    """The IPv4 or IPv6 pseudo-header that UDP and TCP checksums cover."""
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!I3xB", length, proto)


def _with_checksum(header, offset, src, dst, proto, payload):
    """Fills the 16-bit checksum at offset of a UDP/TCP header over pseudo-header+segment."""
    segment = header + payload
    value = internet_checksum(_pseudo_header(src, dst, proto, len(segment)) + segment)
    if proto == IPPROTO_UDP and value == 0:
        value = 0xFFFF
    return header[:offset] + struct.pack("!H", value) + header[offset + 2 :] + payload


# --------------------------------------------------------------------------- frames


def mac_for(ip):
    """A stable, locally administered unicast MAC address derived from an IP address."""
    return b"\x02\x00" + struct.pack("!I", zlib.crc32(ip.packed))


def vlan_tagged(frame, tags):
    """frame with IEEE 802.1Q/802.1ad tags inserted after its MAC addresses.

    tags: [(tpid, vlan id, priority)], outermost first: [(ETHERTYPE_VLAN, 110, 5)] for a single
    802.1Q tag, [(ETHERTYPE_QINQ, 300, 0), (ETHERTYPE_VLAN, 20, 5)] for a double-tagged (QinQ) frame.
    """
    inserted = b"".join(struct.pack("!HH", tpid, priority << 13 | vid) for tpid, vid, priority in tags)
    return frame[:12] + inserted + frame[12:]


class FrameBuilder:
    """Builds complete Ethernet frames; keeps per-source IPv4 identification and IPv6 fragment
    identification counters, and cuts IP packets into fragments."""

    TTL = 64

    def __init__(self):
        self._ident = {}
        self._ident6 = {}

    def _next_ident(self, src):
        ident = self._ident.get(src, zlib.crc32(src.packed) & 0xFFFF)
        self._ident[src] = (ident + 1) & 0xFFFF
        return ident

    def _next_ident6(self, src):
        """The 32-bit identification of the next IPv6 packet src fragments."""
        ident = self._ident6.get(src, zlib.crc32(src.packed[::-1]))
        self._ident6[src] = (ident + 1) & 0xFFFFFFFF
        return ident

    def fragments(self, frame, mtu=1500):
        """An untagged Ethernet frame's IP packet cut into fragments that fit mtu (RFC 791, RFC 8200
        section 4.5), as the sending host cuts it: [frame] when it fits.

        IPv4: the fragments keep the packet's identification, DF cleared, MF on all but the last.
        IPv6: each fragment carries a Fragment extension header (the packet has no other extension
        header) with a new identification per packet.  Fragment data is a multiple of 8 bytes.
        """
        packet = frame[ETHERNET_HEADER:]
        if len(packet) <= mtu:
            return [frame]
        link, ethertype = frame[:12], struct.unpack("!H", frame[12:14])[0]
        out = []
        if ethertype == ETHERTYPE_IPV4:
            header, payload = packet[:20], packet[20:]
            step = (mtu - 20) // 8 * 8
            for offset in range(0, len(payload), step):
                chunk = payload[offset:offset + step]
                more = 0x2000 if offset + step < len(payload) else 0
                piece = header[:2] + struct.pack("!H", 20 + len(chunk)) + header[4:6] + \
                    struct.pack("!H", more | offset // 8) + header[8:10] + b"\0\0" + header[12:20]
                piece = piece[:10] + struct.pack("!H", internet_checksum(piece)) + piece[12:]
                out.append(link + struct.pack("!H", ETHERTYPE_IPV4) + piece + chunk)
            return out
        assert ethertype == ETHERTYPE_IPV6, "only IPv4 and IPv6 packets can be fragmented"
        header, payload = packet[:40], packet[40:]
        next_header = header[6]
        ident = self._next_ident6(ipaddress.ip_address(header[8:24]))
        step = (mtu - 40 - 8) // 8 * 8
        for offset in range(0, len(payload), step):
            chunk = payload[offset:offset + step]
            more = 1 if offset + step < len(payload) else 0
            fragment_header = struct.pack("!BBHI", next_header, 0, offset | more, ident)
            fixed = header[:4] + struct.pack("!HB", 8 + len(chunk), IPPROTO_FRAGMENT) + header[7:]
            out.append(link + struct.pack("!H", ETHERTYPE_IPV6) + fixed + fragment_header + chunk)
        return out

    def _ip(self, src, dst, proto, payload):
        """IPv4 (with header checksum, DF set) or IPv6 header followed by payload."""
        if src.version == 4:
            header = struct.pack(
                "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self._next_ident(src), 0x4000,
                self.TTL, proto, 0, src.packed, dst.packed,
            )
            header = header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:]
            return ETHERTYPE_IPV4, header + payload
        header = struct.pack("!IHBB", 6 << 28, len(payload), proto, self.TTL)
        return ETHERTYPE_IPV6, header + src.packed + dst.packed + payload

    def _frame(self, src, dst, proto, segment):
        ethertype, packet = self._ip(src, dst, proto, segment)
        return mac_for(dst) + mac_for(src) + struct.pack("!H", ethertype) + packet

    def udp(self, src_ip, src_port, dst_ip, dst_port, payload):
        src, dst = ipaddress.ip_address(src_ip), ipaddress.ip_address(dst_ip)
        header = struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0)
        return self._frame(src, dst, IPPROTO_UDP,
                           _with_checksum(header, 6, src, dst, IPPROTO_UDP, payload))

    def tcp(self, src_ip, src_port, dst_ip, dst_port, seq, ack, flags, payload=b"", options=b""):
        src, dst = ipaddress.ip_address(src_ip), ipaddress.ip_address(dst_ip)
        offset = (20 + len(options)) // 4
        header = struct.pack(
            "!HHIIBBHHH", src_port, dst_port, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
            offset << 4, flags, TCP_WINDOW, 0, 0,
        ) + options
        return self._frame(src, dst, IPPROTO_TCP,
                           _with_checksum(header, 16, src, dst, IPPROTO_TCP, payload))

    def icmp_error(self, src_ip, dst_ip, icmp_type, code, offending_frame):
        """An ICMP (IPv4) or ICMPv6 error from src_ip to dst_ip about offending_frame.

        offending_frame is the Ethernet frame dst_ip sent; the error quotes its IP packet (header,
        transport header and the first payload bytes) cut to ICMP_QUOTE.  Types: ICMP 3 destination
        unreachable (code 3 port, 1 host, 13 administratively prohibited), ICMPv6 1 destination
        unreachable (code 4 port, 3 address, 1 administratively prohibited).  The four bytes after
        the checksum (unused, or the RFC 4884 length) are zero.
        """
        src, dst = ipaddress.ip_address(src_ip), ipaddress.ip_address(dst_ip)
        quoted = offending_frame[ETHERNET_HEADER:][: ICMP_QUOTE[src.version]]
        message = struct.pack("!BBHI", icmp_type, code, 0, 0) + quoted
        if src.version == 4:
            proto, covered = IPPROTO_ICMP, message
        else:
            proto = IPPROTO_ICMPV6
            covered = _pseudo_header(src, dst, proto, len(message)) + message
        message = message[:2] + struct.pack("!H", internet_checksum(covered)) + message[4:]
        return self._frame(src, dst, proto, message)


class TcpConnection:
    """Sequence/acknowledgement bookkeeping for one TCP connection seen on the wire.

    Side 0 is the client (active opener), side 1 the server.  Every method returns one
    Ethernet frame; ack() returns None when that side has nothing new to acknowledge.
    mss: the maximum segment size both ends announce (a path with a smaller MTU, e.g. a tunnel,
    makes it smaller than Ethernet's 1460).
    """

    def __init__(self, builder, client, server, client_isn, server_isn, mss=TCP_MSS):
        self.builder = builder
        self.mss = mss  # what both ends announce in their SYNs, and the largest segment they send
        self.ends = (client, server)  # (ip, port) pairs
        self.next_seq = [client_isn, server_isn]
        self.acked = [None, None]  # last acknowledgement number each side sent

    def _segment(self, side, flags, payload=b"", options=b""):
        (src_ip, src_port), (dst_ip, dst_port) = self.ends[side], self.ends[1 - side]
        ack = self.next_seq[1 - side] if flags & TCP_ACK else 0
        frame = self.builder.tcp(
            src_ip, src_port, dst_ip, dst_port, self.next_seq[side], ack, flags, payload, options
        )
        if flags & TCP_ACK:
            self.acked[side] = ack
        self.next_seq[side] += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)
        return frame

    def syn(self):
        return self._segment(0, TCP_SYN, options=struct.pack("!BBH", 2, 4, self.mss))

    def syn_ack(self):
        return self._segment(1, TCP_SYN | TCP_ACK, options=struct.pack("!BBH", 2, 4, self.mss))

    def data(self, side, payload):
        return self._segment(side, TCP_PSH | TCP_ACK, payload)

    def ack(self, side):
        if self.acked[side] == self.next_seq[1 - side]:
            return None
        return self._segment(side, TCP_ACK)

    def fin(self, side):
        return self._segment(side, TCP_FIN | TCP_ACK)

    def rst(self, side):
        """RST/ACK: the side aborts the connection (nothing more may follow on it)."""
        return self._segment(side, TCP_RST | TCP_ACK)

    def syn_again(self):
        """The client's SYN retransmitted (same sequence number): no SYN/ACK came back."""
        (src_ip, src_port), (dst_ip, dst_port) = self.ends
        return self.builder.tcp(src_ip, src_port, dst_ip, dst_port, self.next_seq[0] - 1, 0, TCP_SYN,
                                options=struct.pack("!BBH", 2, 4, self.mss))

    def refuse(self):
        """The server host's RST/ACK to the client's SYN: nothing listens on the port."""
        (src_ip, src_port), (dst_ip, dst_port) = self.ends[1], self.ends[0]
        return self.builder.tcp(src_ip, src_port, dst_ip, dst_port, 0, self.next_seq[0],
                                TCP_RST | TCP_ACK)
