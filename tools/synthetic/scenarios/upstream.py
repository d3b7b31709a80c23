# Scenarios of a 503 caused further on: a failing gateway, unreachable next hops, relayed 503s.
# SPDX-License-Identifier: GPL-2.0-or-later


from ..messages import Message, fill_rport, q850, respond, sdp
from ..parties import AGENTS, DOMAIN, Host, NAMES, Server, UA, ephemeral, numbers
from ..stories import Reply, Story, proxy_story, udp_story


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


def unreachable_hop(rng):
    """Proxy's next hops are down (ICMP/ICMPv6 port unreachable, TCP RST, no SYN-ACK): 503 each.

    A proxy relays calls to PSTN gateways chosen by number. gw1 (UDP), gw5 (TCP) and an IPv6
    gateway answer. gw2's SIP service is down: every INVITE copy the proxy sends (timer A: again
    after 0.5 and 1.5 s) comes back as ICMP port unreachable quoting it, and after 3 s the proxy
    answers the caller 503; the same happens over IPv6 with ICMPv6 port unreachable from a
    second IPv6 gateway. gw3 refuses the proxy's TCP connection (RST, twice), gw4 never answers
    its SYNs (sent again after 1 and 3 s, 503 at 4 s). The 503s are plain Service Unavailable.
    """
    story = proxy_story(rng, "198.51.100.170", 60)
    proxy, proxy6 = story.server.host, Host("2001:db8:170::10")
    users = story.population(9)
    phones6 = [UA(name, name.capitalize(), Host(f"2001:db8:20::{101 + i}"), AGENTS[i % len(AGENTS)])
               for i, name in enumerate(NAMES[12:15])]
    story.registrations(users[:6], start=0.2, spacing=0.3)
    gateway = "PSTN-Gateway/4.0.3"
    gw1, gw2 = Host("203.0.113.171"), Host("203.0.113.172")
    gw3, gw4, gw5 = (Host(f"203.0.113.{n}", 5060, "TCP") for n in (173, 174, 175))
    gw6_up, gw6_down = Host("2001:db8:171::20"), Host("2001:db8:172::20")
    tcp_via = Host(proxy.ip, 5060, "TCP")
    pstn = numbers(12, first=130)

    def answered_call(t, ua, number, hop, hold, proxy_host=proxy):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=proxy_host)
        uri = f"sip:{number}@{hop.sent_by}{hop.uri_params()}"
        if hop.transport == "TCP":
            local = ephemeral(rng, proxy_host.ip, "TCP")
            story.cap.connect(t + 0.001, local, hop, rtt=0.004)
            story.through(t + 0.0052, dlg, invite, hop, gateway, story.answered(), uri=uri,
                          trying=0.006, hold=hold, local=local, via=tcp_via)
        else:
            story.through(t + 0.001, dlg, invite, hop, gateway, story.answered(), uri=uri,
                          trying=story.jitter(0.008, 0.02), hold=hold, proxy=proxy_host)

    def port_unreachable(t, ua, number, hop, proxy_host=proxy):
        """The INVITE copies draw ICMP (type 3 code 3) or ICMPv6 (type 1 code 4) errors."""
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}", proxy=proxy_host)
        relayed = story.copy(invite, proxy_host, f"sip:{number}@{hop.sent_by}",
                             story.record_route(proxy_host))
        icmp = (3, 3) if ":" not in hop.ip else (1, 4)
        rtt = story.jitter(0.003, 0.008)
        for offset in (0.0, 0.5, 1.5):  # timer A: T1, then 2*T1
            sent = story.cap.send(t + 0.001 + offset, proxy_host, hop, relayed)
            story.cap.icmp_error(t + 0.001 + offset + rtt, hop, sent, *icmp)
        story.give_up(t + 3.001 + story.jitter(0.0, 0.002), dlg, invite, cause="upstream_failure",
                      proxy=proxy_host)

    def connection_refused(t, ua, number, hop):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        story.cap.refused(t + 0.001, ephemeral(rng, proxy.ip, "TCP"), hop, rtt=0.004)
        story.cap.refused(t + 0.251, ephemeral(rng, proxy.ip, "TCP"), hop, rtt=0.004)
        story.give_up(t + 0.254 + story.jitter(0.0003, 0.001), dlg, invite, cause="upstream_failure")

    def no_syn_ack(t, ua, number, hop):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        story.cap.unanswered(t + 0.001, ephemeral(rng, proxy.ip, "TCP"), hop, (1.0, 3.0))
        story.give_up(t + 4.001 + story.jitter(0.0003, 0.001), dlg, invite, cause="upstream_failure")

    answered_call(2.0, users[0], pstn[0], gw1, hold=9.0)
    port_unreachable(5.0, users[1], pstn[1], gw2)
    answered_call(9.5, users[2], pstn[2], gw5, hold=8.0)
    connection_refused(12.2, users[3], pstn[3], gw3)
    answered_call(15.0, phones6[0], pstn[4], gw6_up, hold=6.0, proxy_host=proxy6)
    port_unreachable(18.4, phones6[1], pstn[5], gw6_down, proxy_host=proxy6)
    no_syn_ack(23.0, users[4], pstn[6], gw4)
    answered_call(29.0, users[5], pstn[7], gw1, hold=7.0)
    port_unreachable(32.3, users[6], pstn[8], gw2)
    story.options(36.5, users[8])
    answered_call(38.0, users[7], pstn[9], gw5, hold=9.0)
    return story


def relay_origin(rng):
    """Inner SBC's capacity 503 (Server: InnerSBC/2.1, Q.850 34) relayed by the edge proxy.

    The edge proxy 192.0.2.10 (Server: EdgeProxy/5.7.2 on its own answers: 100 Trying, REGISTER
    and OPTIONS) relays calls to two inner SBCs. Its leg to sbc1 (198.51.100.190) is in the
    capture: sbc1 answers two INVITEs at once with 503 Service Unavailable, Server InnerSBC/2.1
    and Reason Q.850 cause 34, the proxy ACKs and relays the 503 unchanged to the caller. It
    reaches sbc2 (198.51.100.191) through another interface that the capture does not see: two
    503s relayed from sbc2, with sbc2's Server header, are all there is of those calls. Other
    calls through both SBCs are answered.
    """
    story = proxy_story(rng, "192.0.2.10", 45, "edge.example.net")
    users = story.population(10, subnet="203.0.113.", first=101)
    story.registrations(users, start=0.2, spacing=0.3)
    sbc1, sbc2, inner = Host("198.51.100.190"), Host("198.51.100.191"), "InnerSBC/2.1"
    pstn = numbers(10, first=110)
    no_circuit = q850(34, "No circuit/channel available")

    def unseen(t, src, dst, message):
        """The leg to sbc2 is not in the capture."""

    def trunk_call(t, ua, number, sbc, outcome, hold=None):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        full = outcome is None
        story.through(t + 0.0008, dlg, invite, sbc, inner,
                      story.answered() if full else outcome, uri=f"sip:{number}@{sbc.ip}",
                      trying=story.jitter(0.002, 0.006) if full else None, hold=hold,
                      deliver=story.send if sbc is sbc1 else unseen)

    def full_trunk():
        return [(story.jitter(0.002, 0.005), 503, [no_circuit], None, "capacity_limit")]

    trunk_call(3.0, users[0], pstn[0], sbc1, None, hold=20.0)
    trunk_call(5.5, users[1], pstn[1], sbc2, None, hold=15.0)
    story.options(8.0, users[9])
    trunk_call(10.2, users[2], pstn[2], sbc1, None, hold=18.0)
    trunk_call(14.1, users[3], pstn[3], sbc1, full_trunk())
    trunk_call(17.0, users[4], pstn[4], sbc2, full_trunk())
    trunk_call(20.6, users[5], pstn[5], sbc1, full_trunk())
    trunk_call(23.9, users[6], pstn[6], sbc2, full_trunk())
    story.options(26.0, users[9])
    trunk_call(31.5, users[7], pstn[7], sbc1, None, hold=6.0)
    trunk_call(34.0, users[8], pstn[8], sbc2, None, hold=5.0)
    return story
