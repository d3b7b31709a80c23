# Scenarios of a server refusing for its own state: overload, capacity, maintenance, and clients retrying.
# SPDX-License-Identifier: GPL-2.0-or-later

import dataclasses

from ..capture import BASE_EPOCH
from ..messages import q850, retry_after
from ..parties import AGENTS, DOMAIN, Host, Server, UA, numbers
from ..stories import Reply, Story, arrivals, udp_story


def overload_udp(rng):
    """UDP proxy for 20 users sheds half of a 3 s, x10 call surge with immediate 503s.

    The 503s leave 1-5 ms after the INVITE with Retry-After 2-10 s. One INVITE is retransmitted
    before being shed, one retransmitted INVITE then succeeds, and one 503 is retransmitted
    after its ACK was lost.
    """
    story = udp_story(rng, "198.51.100.10", 28, "proxy.example.net")
    users = story.population(20)
    external = numbers(4)
    story.registrations(users[:8], start=0.1, spacing=0.2)
    story.options(1.9, users[19])
    for t in arrivals(rng, 2.0, 8.0, 1.0):
        story.call(t, *story.pick_call(users, external))

    surge = list(arrivals(rng, 8.0, 11.0, 10.0))
    lost_invite, lost_ack, slow_invite = 2, 5, 8  # surge INVITEs with retransmissions
    ordinary = [k for k in range(len(surge)) if k not in (lost_invite, lost_ack, slow_invite)]
    shed = set(rng.sample(ordinary, len(surge) // 2 - 2))
    for k, t in enumerate(surge):
        caller, target = story.pick_call(users, external)
        busy = Reply(story.jitter(0.001, 0.005), 503,
                     headers=[retry_after(rng.choice((2, 3, 5, 5, 10)))], cause="overload")
        if k == lost_invite:
            # the first copy is dropped by the server's full socket queue; the retransmission is shed
            story.reject(t, caller, target, busy._replace(delay=0.5 + busy.delay), resend=(0.5,))
        elif k == lost_ack:
            # the ACK for the 503 is lost, so the server retransmits the 503 after T1
            story.reject(t, caller, target, busy._replace(resend=(0.5,)))
        elif k == slow_invite:
            story.call(t, caller, target, trying=0.5 + story.jitter(0.01, 0.03), resend=(0.5,))
        elif k in shed:
            story.reject(t, caller, target, busy)
        else:
            story.call(t, caller, target, trying=story.jitter(0.005, 0.03))
    for t in arrivals(rng, 11.0, 16.0, 1.0):
        story.call(t, *story.pick_call(users, external))
    return story


def overload_rfc7339(rng):
    """Core server reports rising RFC 7339 overload on its Via, then sheds with 503.

    IPv6/UDP. An edge proxy offers oc/oc-algo on its Via; the core answers oc=0;oc-validity=0
    while idle, then oc=10/30/60 as calls ramp up, and from 12.5 s rejects about 45% of INVITEs
    with an immediate 503 + Retry-After 2-5 s.
    """
    core = Server(Host("2001:db8:10::10"), "core.example.net", "CoreSwitch/7.1.4")
    story = Story(rng, core, horizon=26)
    edge = Host("2001:db8:20::5")
    offer = ';oc;oc-algo="loss,rate"'
    phones = story.population(12, subnet="2001:db8:20::", first=101)
    users = [UA(p.user, p.display, edge, p.agent, behind=p.host, via_params=offer) for p in phones]
    steps = [(0.0, 0), (7.0, 10), (10.0, 30), (12.5, 60), (18.0, 20), (21.0, 0)]

    def overload_control(t, message):
        """Answers the offer on the top Via: current oc level, validity (ms) and sequence."""
        since, level = max((step for step in steps if step[0] <= t), key=lambda step: step[0])
        sequence = f"{BASE_EPOCH + int(since)}.{round(since * 1000) % 1000:03d}"
        validity = 0 if level == 0 else 1000
        answer = f';oc={level};oc-algo="loss";oc-validity={validity};oc-seq={sequence}'
        message.set("Via", message.get("Via").replace(offer, answer))

    story.hooks.append(overload_control)
    keepalive = UA("edge", "Edge", edge, "EdgeProxy/5.7.2", via_params=offer)
    for t in range(0, 24, 5):
        story.options(t + 0.5, keepalive)
    external = numbers(3)
    load = [(1.0, 7.0, 1.0), (7.0, 10.0, 2.0), (10.0, 17.0, 4.0), (17.0, 21.0, 1.0)]
    for start, end, rate in load:
        for t in arrivals(rng, start, end, rate):
            caller, target = story.pick_call(users, external)
            if 12.5 <= t < 17.0 and rng.random() < 0.45:
                shed = retry_after(rng.choice((2, 4, 5)))
                story.reject(t, caller, target,
                             Reply(story.jitter(0.001, 0.004), 503, headers=[shed], cause="overload"))
            else:
                story.call(t, caller, target, trying=story.jitter(0.002, 0.02 + rate * 0.004))
    return story


def capacity_q850(rng):
    """SIP trunk with 6 channels full: immediate 503 + Reason Q.850 cause 34 or 42.

    A PBX sets up 6 long calls through an SBC; further INVITEs are rejected at once; after one
    BYE a new call succeeds, then the trunk is full again.
    """
    story = udp_story(rng, "198.51.100.20", 48, "trunk.example.net", "EdgeSBC/9.4.1")
    pbx = Host("192.0.2.20")
    extensions = [UA(str(2001 + i), f"Ext {2001 + i}", pbx, "OfficePBX/18.2.1", "pbx.example.com")
                  for i in range(12)]
    targets = [f"sip:{n}@trunk.example.net" for n in numbers(12, first=110)]
    for t in range(0, 48, 15):
        story.options(t + 0.3, extensions[0])
    calls = [story.call(1.0 + 1.7 * i, extensions[i], targets[i], hold=99) for i in range(6)]
    no_circuit = q850(34, "No circuit/channel available")
    congestion = q850(42, "Switching equipment congestion")

    def full(t, ext, target, reason):
        story.reject(t, ext, target, Reply(story.jitter(0.001, 0.003), 503, headers=[reason],
                                           cause="capacity_limit"))

    full(16.2, extensions[6], targets[6], no_circuit)
    full(18.9, extensions[7], targets[7], congestion)
    full(21.4, extensions[8], targets[8], no_circuit)
    full(22.0, extensions[8], targets[8], no_circuit)
    story.hangup(25.3, calls[1])
    story.call(27.8, extensions[9], targets[9], hold=99)
    full(31.5, extensions[10], targets[10], no_circuit)
    full(34.2, extensions[11], targets[11], congestion)
    return story


def capacity_licence(rng):
    """PBX licensed for 8 calls answers the 9th at once with 503 Maximum Calls In Progress.

    Most carry Warning: 399 pbx "Licence limit of 8 concurrent calls reached". 12 phones
    register with digest authentication; after one hang-up a retry succeeds.
    """
    story = udp_story(rng, "198.51.100.30", 45, "pbx.example.com", "OfficePBX/18.2.1")
    users = story.population(12, domain="pbx.example.com")
    story.registrations(users, start=0.1, spacing=0.3, challenge=True)
    external = [f"sip:{n}@pbx.example.com" for n in numbers(12, first=160)]
    calls = [story.call(5.0 + 1.1 * i, users[i], external[i], hold=99) for i in range(8)]
    licence = ("Warning", '399 pbx "Licence limit of 8 concurrent calls reached"')

    def refused(t, ua, target, reason, headers):
        story.reject(t, ua, target, Reply(story.jitter(0.001, 0.004), 503, reason, headers,
                                          cause="capacity_limit"))

    refused(18.0, users[8], external[8], "Maximum Calls In Progress", [licence])
    refused(20.5, users[9], external[9], None, [licence])
    refused(23.1, users[10], external[10], "Maximum Calls In Progress", [])
    story.hangup(26.0, calls[3])
    story.call(29.0, users[8], external[8], hold=99)
    refused(33.4, users[11], external[11], "Maximum Calls In Progress", [licence])
    return story


def drained(story):
    """The immediate 503 of a server in maintenance."""
    return Reply(story.jitter(0.0005, 0.002), 503, "Service Unavailable - Maintenance",
                 [retry_after(1800)], cause="maintenance")


def maintenance_drain(rng):
    """Server in maintenance answers every new request with 503 + Retry-After: 1800.

    From 12 s every INVITE, REGISTER and OPTIONS gets an immediate '503 Service Unavailable -
    Maintenance'; an established call still ends with BYE/200.
    """
    story = udp_story(rng, "198.51.100.140", 40)
    users = story.population(10)
    monitor = UA("monitor", "Monitor", Host("203.0.113.5"), "HealthCheck/2.0", DOMAIN)
    story.registrations(users[:6], start=0.2, spacing=0.4)
    for t in range(0, 36, 6):
        story.options(t + 1.0, monitor, final=None if t < 12 else drained(story))
    long_call = story.call(3.0, users[0], f"sip:bob@{DOMAIN}", hold=99)
    story.call(6.0, users[2], f"sip:dave@{DOMAIN}", hold=3)
    story.hangup(18.5, long_call)
    story.reject(13.2, users[3], f"sip:carol@{DOMAIN}", drained(story))
    story.register(15.0, users[6], final=drained(story))
    story.reject(21.7, users[4], f"sip:{numbers(1)[0]}@{DOMAIN}", drained(story))
    story.register(25.0, users[1], final=drained(story))
    story.reject(29.3, users[5], f"sip:alice@{DOMAIN}", drained(story))
    return story


def retry_storm(rng):
    """Overloaded SBC answers 503 + Retry-After: 30; some clients still retry every second.

    From 12 s to 40 s every INVITE gets an immediate 503 Service Unavailable with Retry-After: 30.
    An auto-dialer re-sends the same call (same Call-ID, CSeq + 1) every second, 8 times; a
    mobile client starts a new call every second, 6 times; a softphone keeps retrying every
    second from 33 s and is served when the overload ends. Three phones honour Retry-After and
    call again 31-34 s after their 503, and are served. Calls before and after succeed.
    """
    story = udp_story(rng, "198.51.100.200", 80, "sbc.example.net", "EdgeSBC/9.4.1")
    users = story.population(14)
    dialer = dataclasses.replace(users[10], agent="AutoDialer/2.0.3")
    mobile, softphone = users[11], users[12]
    external = [f"sip:{n}@{DOMAIN}" for n in numbers(6, first=150)]
    overloaded = (12.0, 40.0)

    def busy():
        return Reply(story.jitter(0.0008, 0.003), 503, headers=[retry_after(30)], cause="overload")

    def attempt(t, dlg, hold=None):
        """One INVITE of dlg: a 503 during the overload, else answered (and hung up after hold
        s, if inside the capture).  Returns the time of the 503 (None when answered)."""
        dlg.remote_tag = None
        invite = dlg.invite(story.media_port())
        if overloaded[0] <= t < overloaded[1]:
            reply = busy()
            story.transact(t, dlg, invite, [reply])
            return t + reply.delay
        trying = story.jitter(0.002, 0.01)
        ring = trying + story.jitter(0.1, 0.5)
        t_answer = story.transact(t, dlg, invite, [Reply(trying, 100), Reply(ring, 180),
                                                   Reply(ring + story.jitter(1.5, 5.0), 200)])
        story.hangup(t_answer + (story.jitter(4.0, 12.0) if hold is None else hold), dlg)
        return None

    def hammer(t, ua, target, attempts, same_call):
        """Retries 1 s after each 503; a call that gets through lasts past the capture."""
        dlg = story.dialog(ua, target)
        for _ in range(attempts):
            t_busy = attempt(t, dlg, hold=99)
            if t_busy is None:
                return
            t = t_busy + story.jitter(1.0, 1.06)
            if not same_call:
                dlg = story.dialog(ua, target)

    def patient(t, ua, target):
        dlg = story.dialog(ua, target)
        t_busy = attempt(t, dlg)
        attempt(t_busy + story.jitter(31.0, 34.0), story.dialog(ua, target))

    story.registrations(users[:10], start=0.2, spacing=0.4)
    for t, caller, callee in ((4.4, 0, 1), (6.0, 2, 3), (8.3, 4, 5), (10.1, 6, 7)):
        story.call(t, users[caller], f"sip:{users[callee].user}@{DOMAIN}", hold=story.jitter(2, 5))
    hammer(12.3, dialer, external[0], 8, same_call=True)
    patient(13.5, users[3], external[1])
    hammer(15.1, mobile, f"sip:{users[0].user}@{DOMAIN}", 6, same_call=False)
    patient(18.2, users[5], f"sip:{users[1].user}@{DOMAIN}")
    patient(25.0, users[7], external[2])
    hammer(33.0, softphone, external[3], 12, same_call=True)
    for t, caller, callee in ((42.5, 0, 2), (47.0, 8, 9), (60.2, 4, 6), (66.0, 9, 13)):
        story.call(t, users[caller], f"sip:{users[callee].user}@{DOMAIN}", hold=story.jitter(3, 8))
    return story


def failover(rng):
    """Primary in maintenance (503, Retry-After: 600): phones re-send the call to the secondary.

    Phones register with sip1 (198.51.100.210) and call through it. From 12 s sip1 answers
    every INVITE with 503 Service Unavailable and Retry-After: 600; four phones send the same
    call (same Call-ID and From tag, CSeq + 1) to sip2 (198.51.100.211) 150-400 ms later and
    are served there, and keep using sip2 for their next calls. A conference phone configured
    with sip1 only does not fail over.
    """
    primary = Server(Host("198.51.100.210"), "sip1.example.net", "CorePBX/12.4.0")
    secondary = Server(Host("198.51.100.211"), "sip2.example.net", "CorePBX/12.4.0")
    story = Story(rng, primary, horizon=50)
    backup = Story(rng, secondary, horizon=50)
    backup.cap, backup.ids = story.cap, story.ids
    users = story.population(10)
    story.registrations(users[:8], start=0.2, spacing=0.35)
    for t, caller, callee in ((3.4, 0, 1), (5.9, 2, 4), (8.1, 6, 7)):
        story.call(t, users[caller], f"sip:{users[callee].user}@{DOMAIN}", hold=story.jitter(1, 2))

    def maintenance(t, ua, target):
        dlg = story.dialog(ua, target)
        invite = dlg.invite(story.media_port())
        reply = Reply(story.jitter(0.0008, 0.002), 503, headers=[retry_after(600)],
                      cause="maintenance")
        story.transact(t, dlg, invite, [reply])
        return dlg, invite, t + reply.delay

    def fails_over(t, ua, target):
        dlg, invite, t_503 = maintenance(t, ua, target)
        dlg.remote_tag = None
        again = dlg.request("INVITE", body=invite.body)
        trying = story.jitter(0.002, 0.008)
        ring = trying + story.jitter(0.1, 0.5)
        t_answer = backup.transact(t_503 + story.jitter(0.15, 0.4), dlg, again,
                                   [Reply(trying, 100), Reply(ring, 180),
                                    Reply(ring + story.jitter(1.5, 4.0), 200)])
        backup.hangup(t_answer + story.jitter(4.0, 9.0), dlg)

    fails_over(13.0, users[1], f"sip:{users[0].user}@{DOMAIN}")
    fails_over(17.6, users[3], f"sip:{numbers(1, first=160)[0]}@{DOMAIN}")
    conference = dataclasses.replace(users[8], agent=AGENTS[3])
    maintenance(20.2, conference, f"sip:{numbers(1, first=161)[0]}@{DOMAIN}")
    fails_over(22.4, users[5], f"sip:{users[2].user}@{DOMAIN}")
    fails_over(27.8, users[7], f"sip:{users[6].user}@{DOMAIN}")
    backup.call(35.0, users[1], f"sip:{users[4].user}@{DOMAIN}", hold=5.0)
    backup.call(39.5, users[3], f"sip:{users[7].user}@{DOMAIN}", hold=4.0)
    return story
