# Scenarios where the SIP itself is the puzzle: one user refused, bare 503s, missing requests, odd headers.
# SPDX-License-Identifier: GPL-2.0-or-later


from ..messages import COMPACT, append_raw, retry_after
from ..parties import DOMAIN, Host, UA, numbers
from ..stories import Reply, arrivals, udp_story


def registration_routing(rng):
    """Every REGISTER and INVITE from alice gets a bare 503; 11 other users are fine.

    No Retry-After, Reason or Warning, 20-40 ms after the request; the other users register and
    call before, during and after.
    """
    story = udp_story(rng, "198.51.100.80", 45)
    users = story.population(12)
    alice, others = users[0], users[1:]
    registration = story.dialog(alice, alice.aor, request_uri=f"sip:{DOMAIN}")

    def alice_blocked(t, request):
        reply = Reply(story.jitter(0.02, 0.04), 503, cause="registration_routing")
        if request == "REGISTER":
            story.register(t, alice, final=reply, dlg=registration)
        else:
            story.reject(t, alice, f"sip:{rng.choice(others).user}@{DOMAIN}", reply)

    story.registrations(others, start=0.3, spacing=0.4)
    for t, request in ((1.0, "REGISTER"), (8.0, "REGISTER"), (12.5, "INVITE"), (16.0, "REGISTER"),
                       (23.5, "INVITE"), (24.0, "REGISTER"), (32.0, "REGISTER")):
        alice_blocked(t, request)
    for t in arrivals(rng, 5.0, 34.0, 0.4):
        story.call(t, *story.pick_call(others))
    story.registrations(others[:5], start=28.0, spacing=0.5)
    return story


def missing_requests(rng):
    """Only the server's packets were captured: responses without their requests.

    Capture filter 'src host 198.51.100.110'. Three 503s: Retry-After 10 (overload), Retry-
    After 3600 (maintenance window);duration=1800 (maintenance) and a bare one (unknown).
    """
    story = udp_story(rng, "198.51.100.110", 30)
    server = story.server
    story.cap.keep = lambda src: src.ip == server.host.ip
    users = story.population(8)
    story.registrations(users[:6], start=0.5, spacing=0.5)
    story.call(4.0, users[0], f"sip:bob@{DOMAIN}", hold=6)
    story.reject(7.0, users[1], f"sip:carol@{DOMAIN}",
                 Reply(0.002, 503, headers=[retry_after(10)], cause="overload"))
    story.options(9.0, users[7])
    story.reject(12.0, users[3], f"sip:{numbers(1)[0]}@{DOMAIN}",
                 Reply(0.002, 503, headers=[("Retry-After", "3600 (maintenance window);duration=1800")],
                       cause="maintenance"))
    story.call(14.5, users[4], f"sip:dave@{DOMAIN}", hold=5)
    story.reject(18.0, users[5], f"sip:erin@{DOMAIN}",
                 Reply(0.25, 503, mutate=lambda m: m.remove("Server"), cause="unknown"))
    return story


def compact_form(message):
    """Rewrites header names to their RFC 3261 compact forms where one exists."""
    message.headers = [(COMPACT.get(f.lower(), f), v) for f, v in message.headers]
    message.add("l", str(len(message.body.encode())))


def lower_case(message):
    message.headers = [(f.lower(), v) for f, v in message.headers]


def truncated_body(message):
    message.add("Content-Type", "text/plain").add("Content-Length", "160")
    message.body = "Service temporarily unavailable, please try ag"


def cseq_without_method(message):
    message.set("CSeq", message.get("CSeq").split()[0])


def malformed(rng):
    """Robustness: odd 503 headers; a 20-digit Retry-After counts as maintenance (a long wait).

    Retry-After abc, 99999999999999999999, or twice (5 and 7200); Q.850 cause 999; a body
    shorter than Content-Length; CSeq without method; compact and lower-case header names; a
    folded Reason; a comment after Retry-After params; a branchless RFC 2543 Via.
    """
    story = udp_story(rng, "198.51.100.120", 60)
    story.tolerates_malformed = True
    users = story.population(12)
    story.registrations(users[:4], start=0.2, spacing=0.3)
    story.call(2.0, users[0], f"sip:bob@{DOMAIN}", hold=3)
    folded_reason = 'Reason:   Q.850 ;\r\n  cause=34 ;\r\n\ttext="No circuit/channel available"'
    cases = [  # (cause, extra headers, mutation)
        ("unknown", [("Retry-After", "abc")], None),
        ("maintenance", [("Retry-After", "99999999999999999999")], None),
        ("unknown", [retry_after(5), ("Retry-After", "7200")], None),
        ("unknown", [("Reason", 'Q.850;cause=999;text="Unknown"')], None),
        ("unknown", [], truncated_body),
        ("unknown", [], cseq_without_method),
        ("overload", [retry_after(5)], compact_form),
        ("maintenance", [("Retry-After", "1800")], lower_case),
        ("capacity_limit", [], append_raw(folded_reason)),
        ("maintenance", [("Retry-After", "3600;duration=1800 (maintenance window)")], None),
    ]
    for i, (cause, headers, mutation) in enumerate(cases):
        odd = Reply(story.jitter(0.001, 0.004), 503, headers=headers, mutate=mutation, cause=cause)
        story.reject(6.0 + 2.0 * i, users[1 + i], f"sip:{users[(i + 5) % 12].user}@{DOMAIN}", odd)
    # an RFC 2543 client: its Via has no branch, so the 503 (copying it) has none either
    legacy = UA("legacy", "Legacy", Host("192.0.2.150"), "OldPhone/1.0", DOMAIN)
    dlg = story.dialog(legacy, f"sip:alice@{DOMAIN}")
    invite = dlg.invite(story.media_port())
    invite.set("Via", f"SIP/2.0/UDP {legacy.host.sent_by}")
    story.transact(28.0, dlg, invite, [Reply(0.002, 503, cause="unknown")])
    story.call(31.0, users[2], f"sip:carol@{DOMAIN}", hold=4)
    return story


def unknown_plain(rng):
    """Plain 503 Service Unavailable 200-400 ms after the INVITE and nothing else.

    No 100 Trying, Retry-After, Reason or Warning, with normal calls around them: not enough
    evidence for any cause.
    """
    story = udp_story(rng, "198.51.100.130", 40)
    users = story.population(10)
    story.registrations(users[:6], start=0.2, spacing=0.5)
    for k, t in enumerate(arrivals(rng, 3.0, 30.0, 0.5)):
        caller, target = story.pick_call(users)
        if k % 3 == 1 and k < 15:
            story.reject(t, caller, target, Reply(story.jitter(0.2, 0.4), 503, cause="unknown"))
        else:
            story.call(t, caller, target)
    return story
