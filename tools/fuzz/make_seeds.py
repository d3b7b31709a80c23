#!/usr/bin/env python3
# Writes the libFuzzer seed corpora under tests/fuzz/corpus/<target>/ from the bundled captures.
# SPDX-License-Identifier: GPL-2.0-or-later
"""Usage: python3 tools/fuzz/make_seeds.py [--captures captures] [--out tests/fuzz/corpus]

How the seeds are made (deterministic: the same captures give the same files):

- Frames are read straight from captures/*/*.pcapng (pcapng blocks parsed with struct; every bundled
  capture is Ethernet, some with VLAN tags). tshark (`-T fields -e frame.number -e frame.protocols -e tcp.reassembled.data`,
  with the capture's .args file) says which protocols Wireshark found in each frame and gives the
  reassembled TCP data, exactly what the plugin gets from pinfo->layers and its data sources.
- fuzz_sip_message: whole SIP messages (UDP payloads, TCP payloads split at Content-Length), one per
  distinct shape (start line's status or method, set of header names), 503s first; plus distinct
  values of the Via, Reason, Warning, Retry-After, From and To headers of the 503s.
- fuzz_rtsp_message: RTSP messages of distinct shapes (reassembled where Wireshark reassembled them),
  503s first, plus distinct SDP bodies of DESCRIBE answers; plus, written by hand because no capture
  has them, SDP_EXAMPLES (a=x-dimensions, fractional a=framerate, static audio payloads) and bare
  H.264 SPS in base64 (PUBLISHED_SPS, published ones that tests/unit/test_sdp.cpp also decodes: the
  scaling-list, interlaced and 4:4:4 paths of the SPS reader).
- fuzz_camera_url: distinct request URLs and Content-Base values of the RTSP captures, plus one example
  URL per layout documented in heuristics/rtsp/camera_url.hpp (LAYOUT_EXAMPLES below, written by hand).
- fuzz_frame: one frame per distinct protocol stack (with or without reassembled data, cut by snaplen
  or not) per capture family (gen, kam, rtsp), in the fuzz_frame.cpp input layout (link, protocols
  found, cut, reassembled sources, frame), after derived seeds for layouts the captures lack: a SIP/UDP
  frame re-encapsulated as Linux SLL, SLL2, BSD null/loop, raw IP, an unknown link, one and two VLAN
  tags, split into two IPv4 fragments with the reassembled datagram, and behind an IPv6 fragment header.
- fuzz_engine: for each capture, the packets up to its first 503 (or its first 40) in the
  fuzz_engine.cpp record layout, as many as fit in 4 KB counting back from that 503 (a frame cut by
  snaplen keeps its mark). To fit, SIP and RTSP
  messages keep only the headers the engines read (bodies dropped, except RTSP SDP), interleaved RTP
  is cut to 4 bytes of payload, TLS records to 48 bytes of body, other payloads to 512 bytes; TCP
  segments without payload are kept only with SYN, FIN or RST. Addresses map onto the endpoint table
  of fuzz_engine.cpp by role: the 503's sender onto the proxy (or camera), DNS/database/RTSP/HTTP
  ports onto their servers, the rest in order of appearance.

Every seed is smaller than 4 KB and named seed-<sha1>; the script replaces only those files, so inputs
that `tools/fuzz/libfuzzer --merge` added stay. Re-run after the captures change, then review `git status`.
"""
import argparse
import collections
import hashlib
import re
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_SEED = 4095
SEEDS_PER_TARGET = 48

# PayloadKind order of heuristics/wire/frame_contents.hpp, by Wireshark protocol name.
PAYLOAD_KINDS = ["sip", "rtsp", "http", "dns", "tls", "icmp", "icmpv6", "pgsql", "mysql"]
LINK = {"ethernet": 0, "linux_sll": 1, "linux_sll2": 2, "bsd_null": 3, "bsd_loop": 4, "raw_ip": 5, "unsupported": 6}

LAYOUT_EXAMPLES = [
    "rtsp://192.0.2.1/Streaming/Channels/101",
    "rtsp://admin:pw@192.0.2.1:554/Streaming/tracks/201?starttime=20240101T000000Z",
    "rtsp://192.0.2.1/ISAPI/Streaming/channels/302/trackID=1",
    "rtsp://192.0.2.1/h264/ch2/sub/av_stream",
    "rtsp://192.0.2.2/cam/realmonitor?channel=3&subtype=1/trackID=0",
    "rtsp://192.0.2.2/cam/playback?channel=1&starttime=2024_01_01_00_00_00",
    "rtsp://192.0.2.3/axis-media/media.amp?videocodec=h265&resolution=1920x1080&fps=25&camera=2&compression=30",
    "rtsp://192.0.2.3/axis-media/media.amp?streamprofile=Quality&videobitrate=2048",
    "rtsp://[2001:db8::4]:8554/unicast/c4/s1/live",
    "rtsp://192.0.2.4/media/video2",
    "rtsp://192.0.2.5/profile3",
    "rtsp://192.0.2.5:0554/stream1/streamid=0",
    "rtsp://192.0.2.6/live/ch1",
    "rtsp://192.0.2.6/ch0_1.264",
    "rtsps://cam.example.com/nvr/Ch%30%31?width=640&height=360&codec=H.264",
    "/Streaming/Channels/102",
]

PUBLISHED_SPS = [
    "Z0IAKeKQFAe2AtwEBAaQeJEV",  # Axis VAPIX, Baseline 640x480
    "R00AKZmgHgCJ+WEAAAMD6AAATiCE",  # Sonoff, emulation prevention bytes in the VUI
    "Z3oQKbbUICIzGcZjIyEBEZjOMxkYIQM6RmVqZSSt6RIyFBomNK2kQYIjAVArGiRpSDBALhESCMaMBEEoTDTwHgET8uA8YCAgKAAAAwAIAAADAZQg",
    "Z/QADZGbKDI38TgIgAAAAwCAAAAZB4oUyw==",  # High 4:4:4 with cropping
    "Z2QAM6wspADwAQ+/8AAQABUgICAoAAAfSAAHUwdRAAHNlAAABWi8N+McHaFi0SA=",  # High 5.1 3840x2160
]

SDP_EXAMPLES = [
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=Media\r\nt=0 0\r\na=control:*\r\n"
    "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=framerate:29.97\r\na=x-dimensions:1280,720\r\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=640033;sprop-parameter-sets=" + PUBLISHED_SPS[2] + ",aM48gA==\r\n"
    "a=control:trackID=1\r\nm=audio 0 RTP/AVP 8\r\na=control:trackID=2\r\n",
    "v=0\nm=video 0 RTP/AVP 26\na=x-framerate:12.5\na=x-dimensions:704,576\nm=audio 0 RTP/AVP 97\n"
    "a=rtpmap:97 MPEG4-GENERIC/16000/1\na=fmtp:97 profile-level-id=15;mode=AAC-hbr\nm=application 0 RTP/AVP 107\n",
]

# ---- reading captures ----

def pcapng_frames(path):
    """(link type, timestamp in microseconds, frame bytes, cut by snaplen) of each packet, in order."""
    data = path.read_bytes()
    endian, offset, interfaces = "<", 0, []
    while offset + 12 <= len(data):
        block_type = struct.unpack_from(endian + "I", data, offset)[0]
        if block_type == 0x0A0D0D0A:
            endian = "<" if data[offset + 8:offset + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        length = struct.unpack_from(endian + "I", data, offset + 4)[0]
        body = data[offset + 8:offset + length - 4]
        if block_type == 1:
            interfaces.append((struct.unpack_from(endian + "H", body, 0)[0], interface_resolution(body, endian)))
        elif block_type == 6:
            interface, high, low, captured, original = struct.unpack_from(endian + "IIIII", body, 0)
            link, units_per_second = interfaces[interface]
            ticks = (high << 32) | low
            yield link, ticks * 1000000 // units_per_second, body[20:20 + captured], captured < original
        offset += length


def interface_resolution(body, endian):
    offset = 8
    while offset + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, offset)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = body[offset + 4]
            return 2 ** (value & 0x7f) if value & 0x80 else 10 ** value
        offset += 4 + (length + 3) // 4 * 4
    return 1000000


def tshark_layers(path):
    """frame number -> (set of protocol names, reassembled TCP data or None)."""
    args_file = path.with_suffix(".args")
    extra = args_file.read_text().split() if args_file.exists() else []
    command = ["tshark", "-r", str(path), *extra, "-T", "fields", "-E", "occurrence=f",
               "-e", "frame.number", "-e", "frame.protocols", "-e", "tcp.reassembled.data"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    layers = {}
    for line in output.splitlines():
        number, protocols, reassembled = (line.split("\t") + ["", ""])[:3]
        layers[int(number)] = (protocols.split(":"), bytes.fromhex(reassembled.replace(":", "")) if reassembled else None)
    return layers


Packet = collections.namedtuple("Packet", "number time_us frame cut protocols reassembled ip_protocol source destination "
                                          "tcp_flags payload")


def walk(frame):
    """(IP protocol, (src address, port), (dst address, port), TCP flags, payload) of an Ethernet frame, or None."""
    ethertype, offset = struct.unpack_from(">H", frame, 12)[0], 14
    while ethertype in (0x8100, 0x88A8) and len(frame) >= offset + 4:  # VLAN tags
        ethertype, offset = struct.unpack_from(">H", frame, offset + 2)[0], offset + 4
    if ethertype == 0x0800:
        header_length = (frame[offset] & 0x0f) * 4
        total = struct.unpack_from(">H", frame, offset + 2)[0]
        protocol = frame[offset + 9]
        source, destination = ipv4_text(frame[offset + 12:offset + 16]), ipv4_text(frame[offset + 16:offset + 20])
        segment = frame[offset + header_length:offset + total]
    elif ethertype == 0x86DD:
        payload_length = struct.unpack_from(">H", frame, offset + 4)[0]
        protocol = frame[offset + 6]
        source, destination = ipv6_text(frame[offset + 8:offset + 24]), ipv6_text(frame[offset + 24:offset + 40])
        segment = frame[offset + 40:offset + 40 + payload_length]
    else:
        return None
    if protocol == 17:
        ports = struct.unpack_from(">HH", segment, 0)
        return protocol, (source, ports[0]), (destination, ports[1]), 0, segment[8:]
    if protocol == 6:
        ports = struct.unpack_from(">HH", segment, 0)
        return protocol, (source, ports[0]), (destination, ports[1]), segment[13], segment[(segment[12] >> 4) * 4:]
    return protocol, (source, 0), (destination, 0), 0, segment


def ipv4_text(raw):
    return ".".join(str(b) for b in raw)


def ipv6_text(raw):
    import ipaddress
    return str(ipaddress.IPv6Address(bytes(raw)))


def read_capture(path):
    layers = tshark_layers(path)
    packets = []
    for number, (link, time_us, frame, cut) in enumerate(pcapng_frames(path), 1):
        try:
            walked = walk(frame) if link == 1 else None
        except (struct.error, IndexError, ValueError):  # a header cut short: no seed from it
            walked = None
        if walked is None:
            continue
        protocols, reassembled = layers.get(number, ([], None))
        packets.append(Packet(number, time_us, frame, cut, protocols, reassembled, *walked))
    return packets


# ---- text messages ----

def split_messages(payload):
    """Complete SIP/RTSP messages of a stream payload, split at each header block plus Content-Length."""
    messages, rest = [], payload
    while rest:
        rest = rest.lstrip(b"\r\n")
        if rest.startswith(b"$"):
            if len(rest) < 4:
                break
            length = 4 + struct.unpack_from(">H", rest, 2)[0]
            messages.append(rest[:length])
            rest = rest[length:]
            continue
        end = rest.find(b"\r\n\r\n")
        if end < 0:
            break
        body_length = content_length(rest[:end])
        length = end + 4 + body_length
        if length > len(rest):
            break
        messages.append(rest[:length])
        rest = rest[length:]
    return messages


def content_length(headers):
    found = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", headers)
    return int(found.group(1)) if found else 0


def header_lines(message):
    head = message.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")


def shape(message):
    lines = header_lines(message)
    start = lines[0].split(b" ")
    kind = start[1] if start[0].startswith((b"SIP/", b"RTSP/")) and len(start) > 1 else start[0]
    names = sorted({line.split(b":", 1)[0].strip().lower() for line in lines[1:] if b":" in line})
    return kind, tuple(names), b"\r\n\r\n" in message and len(message.split(b"\r\n\r\n", 1)[1]) > 0


def is_503(message):
    first = message.split(b"\r\n", 1)[0]
    return first.startswith((b"SIP/2.0 503", b"RTSP/1.0 503", b"RTSP/1.1 503"))


def text_messages(packets, protocol):
    """(capture packet, message) for each complete message of `protocol` Wireshark found."""
    for packet in packets:
        if protocol not in packet.protocols or "icmp" in packet.protocols or "icmpv6" in packet.protocols:
            continue
        data = packet.reassembled or packet.payload
        for message in (split_messages(data) if packet.ip_protocol == 6 else [data]):
            if message and not message.startswith(b"$") and len(message) <= MAX_SEED:
                yield packet, message


def distinct_by_shape(messages, limit):
    """503s first, then everything else, one message per shape."""
    chosen, seen = [], set()
    for want_503 in (True, False):
        for message in messages:
            key = shape(message)
            if is_503(message) == want_503 and key not in seen:
                seen.add(key)
                chosen.append(message)
    return chosen[:limit]


SIP_VALUE_HEADERS = {b"via", b"v", b"reason", b"warning", b"retry-after", b"from", b"f", b"to", b"t"}


def sip_header_values(messages, limit):
    values = []
    for message in messages:
        if not is_503(message):
            continue
        for line in header_lines(message)[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() in SIP_VALUE_HEADERS and value.strip() and value.strip() not in values:
                values.append(value.strip())
    return values[:limit]


def sdp_bodies(messages, limit):
    bodies = []
    for message in messages:
        head, _, body = message.partition(b"\r\n\r\n")
        if b"v=0" in body[:8] and body not in bodies:
            bodies.append(body)
    return bodies[:limit]


def rtsp_urls(messages):
    urls = []
    for message in messages:
        lines = header_lines(message)
        start = lines[0].split(b" ")
        candidates = [start[1]] if len(start) == 3 and start[2].startswith(b"RTSP/") else []
        candidates += [line.split(b":", 1)[1].strip() for line in lines[1:] if line.lower().startswith(b"content-base:")]
        urls += [url for url in candidates if url not in urls]
    return urls


# ---- frames ----

def frame_seed(link, protocols, frame, streams=(), datagrams=(), cut=False):
    present = sum(1 << i for i, name in enumerate(PAYLOAD_KINDS) if name in protocols)
    seed = struct.pack(">BHB", LINK[link], present, len(streams) | len(datagrams) << 2 | cut << 4)
    for chunk in (*streams, *datagrams):
        seed += struct.pack(">H", len(chunk)) + chunk
    return seed + frame


def family(capture):
    return capture.name.split("-", 1)[0]


def frame_seeds(captures):
    seeds, seen = [], set()
    for capture, packets in captures:
        for packet in packets:
            key = (family(capture), ":".join(packet.protocols[2:]), packet.reassembled is not None, packet.cut)
            if key in seen:
                continue
            seen.add(key)
            streams = [packet.reassembled] if packet.reassembled else []
            seed = frame_seed("ethernet", packet.protocols, packet.frame, streams, cut=packet.cut)
            if len(seed) <= MAX_SEED:
                seeds.append(seed)
    return seeds


def reencapsulated_seeds(packet):
    """The same SIP/UDP frame under every link layer, VLAN tags and IP fragmentation."""
    protocols, ip = packet.protocols, packet.frame[14:]
    mac = packet.frame[:12]
    seeds = [
        frame_seed("linux_sll", protocols, b"\x00\x00\x00\x01\x00\x06" + mac[:6] + b"\x00\x00\x08\x00" + ip),
        frame_seed("linux_sll2", protocols, b"\x08\x00\x00\x00\x00\x00\x00\x01\x00\x01\x04\x06" + mac[:6] + b"\x00\x00" + ip),
        frame_seed("bsd_null", protocols, struct.pack("<I", 2) + ip),
        frame_seed("bsd_loop", protocols, struct.pack(">I", 2) + ip),
        frame_seed("raw_ip", protocols, ip),
        frame_seed("unsupported", protocols, b"\x00\x01\x02\x03\x04\x05\x06\x07" + ip),
        frame_seed("ethernet", protocols, mac + b"\x81\x00\x00\x64\x08\x00" + ip),
        frame_seed("ethernet", protocols, mac + b"\x88\xa8\x00\xc8\x81\x00\x00\x64\x08\x00" + ip),
    ]
    return seeds + ipv4_fragment_seeds(packet) + [ipv6_fragment_seed(packet)]


def ipv4_fragment_seeds(packet):
    header, datagram = bytearray(packet.frame[14:34]), packet.frame[34:]
    cut = (len(datagram) // 2) // 8 * 8
    first, second = bytearray(header), bytearray(header)
    struct.pack_into(">HH", first, 2, 20 + cut, 0)
    struct.pack_into(">H", first, 6, 0x2000)  # more fragments
    struct.pack_into(">H", second, 2, 20 + len(datagram) - cut)
    struct.pack_into(">H", second, 6, cut // 8)
    mac = packet.frame[:14]
    return [frame_seed("ethernet", packet.protocols, mac + bytes(first) + datagram[:cut]),
            frame_seed("ethernet", packet.protocols, mac + bytes(second) + datagram[cut:], datagrams=[datagram])]


def ipv6_fragment_seed(packet):
    datagram = packet.frame[34:]
    header = b"\x60\x00\x00\x00" + struct.pack(">HBB", 8 + len(datagram), 44, 64) + b"\x20\x01\x0d\xb8" + bytes(12)
    header += b"\x20\x01\x0d\xb8" + bytes(11) + b"\x01"
    fragment = bytes([17, 0, 0, 0]) + b"\x00\x00\x00\x2a"  # next header UDP, offset 0, last fragment
    return frame_seed("ethernet", packet.protocols, packet.frame[:12] + b"\x86\xdd" + header + fragment + datagram)


# ---- engine sequences ----

ENGINE_ENDPOINTS = [
    ("192.0.2.10", 5060), ("192.0.2.11", 5060), ("198.51.100.20", 5060), ("198.51.100.20", 40000),
    ("203.0.113.30", 5060), ("203.0.113.31", 5061), ("2001:db8::40", 5060), ("198.51.100.53", 53),
    ("198.51.100.60", 5432), ("198.51.100.61", 3306), ("203.0.113.70", 554), ("203.0.113.70", 80),
    ("203.0.113.71", 8554), ("192.0.2.80", 51000), ("192.0.2.80", 51001), ("198.51.100.20", 5061),
]
SERVICE_SLOTS = {53: 7, 5432: 8, 3306: 9, 554: 10, 80: 11, 8554: 12, 8555: 12}
SENDER_SLOTS = [2, 3, 15]          # the 503's sender: the proxy's ports
CAMERA_SLOTS = [10, 11]
OTHER_SLOTS = [0, 1, 4, 5, 6, 13, 14]
KEPT_SIP_HEADERS = {b"via", b"v", b"call-id", b"i", b"cseq", b"from", b"f", b"to", b"t", b"server", b"user-agent",
                    b"retry-after", b"reason", b"warning", b"ms-diagnostics"}
KEPT_RTSP_HEADERS = {b"cseq", b"session", b"transport", b"retry-after", b"server", b"user-agent", b"content-base",
                     b"content-type", b"www-authenticate", b"public"}


def reduced_message(message, kept, keep_body):
    lines = header_lines(message)
    body = message.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in message and keep_body else b""
    headers = [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower() in kept
               or line.lower().startswith(b"x-")]
    headers.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join([lines[0], *headers]) + b"\r\n\r\n" + body


def reduced_interleaved(frame):
    """An RTSP interleaved frame ('$', channel, length) with 4 bytes of its RTP payload."""
    return frame[:2] + struct.pack(">H", len(frame[4:8])) + frame[4:8]


def reduced_tls(payload):
    out, offset = b"", 0
    while offset + 5 <= len(payload):
        length = struct.unpack_from(">H", payload, offset + 3)[0]
        body = payload[offset + 5:offset + 5 + min(length, 48)]
        out += payload[offset:offset + 3] + struct.pack(">H", len(body)) + body
        offset += 5 + length
    return out


def reduced_payload(packet, kind):
    data = packet.reassembled or packet.payload
    if kind in ("sip", "rtsp"):
        kept = KEPT_SIP_HEADERS if kind == "sip" else KEPT_RTSP_HEADERS
        messages = split_messages(data) if packet.ip_protocol == 6 else [data]
        return b"".join(reduced_interleaved(m) if m.startswith(b"$") else reduced_message(m, kept, kind == "rtsp")
                        for m in messages if m)
    if kind == "tls":
        return reduced_tls(packet.payload)
    if kind in ("icmp", "icmpv6"):
        return packet.payload[:64]
    if kind == "http":
        return packet.payload[:1500]
    return packet.payload[:512]


def record_kind(packet):
    for kind in ("icmp", "icmpv6", *PAYLOAD_KINDS):  # an ICMP error quotes the SIP it is about
        if kind in packet.protocols:
            return kind
    return None


def engine_record(packet, previous_time, slots):
    kind = record_kind(packet)
    if kind is None and not (packet.ip_protocol == 6 and packet.tcp_flags & 0x07):
        return None
    payload = b"" if kind is None else reduced_payload(packet, kind)
    if kind in ("sip", "rtsp", "http") and not payload:
        return None
    found = PAYLOAD_KINDS.index(kind) if kind else 9
    carrier = {17: 0, 6: 1}.get(packet.ip_protocol, 0)
    delta = packet.time_us - previous_time
    step = (0xef + min(-delta // 1000000 + 1, 15) if delta < 0 else delta // 10000 if delta < 1280000
            else 0x80 + min(delta // 1000000, 0x6f))
    endpoints = slots[packet.source] | slots[packet.destination] << 4
    kind_byte = found | carrier << 4 | packet.cut << 7
    return struct.pack(">BBBBH", step, endpoints, kind_byte, packet.tcp_flags, len(payload)) + payload


def assign_slots(packets, sender):
    """Each (address, port) of the window onto an index of ENGINE_ENDPOINTS, by role."""
    slots, by_address, free = {}, {}, list(OTHER_SLOTS)
    sender_slots = list(CAMERA_SLOTS if any("rtsp" in p.protocols for p in packets) else SENDER_SLOTS)
    for packet in packets:
        for endpoint in (packet.source, packet.destination):
            if endpoint in slots:
                continue
            address, port = endpoint
            if port in SERVICE_SLOTS and address != sender:
                slots[endpoint] = SERVICE_SLOTS[port]
            elif address == sender and sender_slots:
                slots[endpoint] = sender_slots.pop(0)
            elif address in by_address:
                slots[endpoint] = by_address[address]
            else:
                slots[endpoint] = free.pop(0) if free else OTHER_SLOTS[len(slots) % len(OTHER_SLOTS)]
            by_address.setdefault(address, slots[endpoint])
    return slots


def first_503_index(packets):
    for index, packet in enumerate(packets):
        if {"sip", "rtsp"} & set(packet.protocols) and "icmp" not in packet.protocols:
            if any(is_503(m) for m in split_messages(packet.reassembled or packet.payload) or [packet.payload]):
                return index
    return min(len(packets) - 1, 40)


def engine_seed(packets):
    end = first_503_index(packets)
    sender = packets[end].source[0]
    for start in range(max(0, end - 200), end + 1):  # the longest window ending at the 503 that fits
        window = packets[start:end + 1]
        slots = assign_slots(window, sender)
        records, previous = [], window[0].time_us
        for packet in window:
            record = engine_record(packet, previous, slots)
            if record:
                records.append(record)
                previous = packet.time_us
        seed = b"".join(records)
        if len(seed) <= MAX_SEED:
            return seed
    return b""


# ---- writing ----

def write_corpus(directory, seeds, limit=SEEDS_PER_TARGET):
    """Replaces the seed-* files; inputs that `tools/fuzz/libfuzzer --merge` added (named by libFuzzer) stay."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("seed-*"):
        old.unlink()
    written = 0
    for seed in seeds[:limit]:
        if seed and len(seed) <= MAX_SEED:
            (directory / ("seed-" + hashlib.sha1(seed).hexdigest())).write_bytes(seed)
            written += 1
    print(f"{directory}: {written} seeds, {sum(p.stat().st_size for p in directory.iterdir())} bytes in all")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--captures", type=Path, default=ROOT / "captures")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fuzz" / "corpus")
    options = parser.parse_args()
    # Every family folder (captures/<family>/), in file-name order as when captures/ was flat: the same seeds.
    paths = sorted(options.captures.rglob("*.pcapng"), key=lambda path: path.name)
    captures = [(path, read_capture(path)) for path in paths]

    sip = [m for _, packets in captures for _, m in text_messages(packets, "sip")]
    sip_values = sip_header_values(sip, 12)
    write_corpus(options.out / "fuzz_sip_message", sip_values + distinct_by_shape(sip, SEEDS_PER_TARGET - len(sip_values)))

    rtsp = [m for _, packets in captures for _, m in text_messages(packets, "rtsp")]
    bodies = [t.encode() for t in SDP_EXAMPLES + PUBLISHED_SPS] + sdp_bodies(rtsp, 8)
    write_corpus(options.out / "fuzz_rtsp_message", bodies + distinct_by_shape(rtsp, SEEDS_PER_TARGET - len(bodies)))

    urls = [url.encode() for url in LAYOUT_EXAMPLES]
    write_corpus(options.out / "fuzz_camera_url", urls + [u for u in rtsp_urls(rtsp) if u not in urls])

    sip_udp = next(p for _, packets in captures for p in packets
                   if p.protocols[2:5] == ["ip", "udp", "sip"] and len(p.frame) < 1400)
    write_corpus(options.out / "fuzz_frame", reencapsulated_seeds(sip_udp) + frame_seeds(captures), limit=96)

    write_corpus(options.out / "fuzz_engine", [engine_seed(packets) for _, packets in captures if packets], limit=96)
    return 0


if __name__ == "__main__":
    sys.exit(main())
