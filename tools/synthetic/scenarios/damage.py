# Scenarios of captures damaged between wire and file: clocks, copies, cuts, snaplen, fragments, VLAN, TCP.
# SPDX-License-Identifier: GPL-2.0-or-later

import base64
import ipaddress
import struct

from pcapng_writer import (
    ETHERTYPE_IPV4, ETHERTYPE_QINQ, ETHERTYPE_VLAN, IPPROTO_TCP, PcapngWriter, vlan_tagged,
)

from ..capture import BASE_EPOCH, TCP_PIECE_GAP, Wire, frame_cause
from ..messages import ALLOW, q850, retry_after, sdp
from ..parties import AGENTS, DOMAIN, Host, NAMES, Server, UA, ephemeral, numbers
from ..stories import Reply, Story, arrivals, proxy_story, udp_story


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
            wire.cause = frame_cause(shown)
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
