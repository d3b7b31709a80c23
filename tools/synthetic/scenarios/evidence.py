# Scenarios of 503s explained by DNS, TLS or database traffic in the same capture.
# SPDX-License-Identifier: GPL-2.0-or-later

import datetime
import struct
from functools import partial

from ..encoders import (
    DNS_A, DNS_NAPTR, DNS_SERVFAIL, DNS_SRV, TLS_BAD_CERTIFICATE, TLS_CERTIFICATE_EXPIRED,
    dns_answer, dns_message, mysql_error, mysql_greeting, mysql_login, mysql_ok, mysql_query,
    mysql_rows, naptr_rdata, pg_done, pg_error, pg_message, pg_ready, pg_rows, pg_startup,
    resp_command, srv_rdata, tls12_server_flight, tls_alert, tls_client_hello, tls_encrypted,
    tls_record, tls_server_flight, x509_certificate,
)
from ..parties import DOMAIN, Host, UA, ephemeral, numbers
from ..stories import Reply, proxy_story, udp_story


def dns_failure(rng):
    """Proxy cannot resolve carrier.example and answers 503 after 1-2 s.

    Its SRV query is retransmitted and gets SERVFAIL, so does the A query; the 503 carries
    Warning 399 "DNS SRV lookup failed ..." or the phrase 'DNS Resolution Failure'. Internal
    calls work.
    """
    story = udp_story(rng, "198.51.100.50", 40, "proxy.example.net")
    proxy = story.server
    resolver = Host("198.51.100.53", 53)
    users = story.population(10)
    story.registrations(users[:6], start=0.2, spacing=0.4)
    carrier = [f"sip:{n}@carrier.example" for n in numbers(3, first=180)]
    srv_name = "_sip._udp.carrier.example"
    srv_failed = ("Warning", f'399 proxy.example.net "DNS SRV lookup failed for {srv_name}"')

    def lookup(t, port, qname, qtype, answer_after, retransmit=None):
        """Query from the proxy, optional retransmission with the same id, SERVFAIL back."""
        client, txid = Host(proxy.host.ip, port), rng.getrandbits(16)
        query = dns_message(txid, qname, qtype)
        story.send(t, client, resolver, query)
        if retransmit:
            story.send(t + retransmit, client, resolver, query)
        story.send(t + answer_after, resolver, client, dns_message(txid, qname, qtype, DNS_SERVFAIL))
        return t + answer_after

    def unresolvable(t, ua, target, reason, headers):
        port = rng.randrange(32768, 61000)
        t_srv = lookup(t + 0.003, port, srv_name, DNS_SRV, story.jitter(1.1, 1.4), retransmit=1.0)
        t_a = lookup(t_srv + 0.001, port + 1, "carrier.example", DNS_A, story.jitter(0.05, 0.4))
        failed = Reply(t_a - t + 0.001, 503, reason, headers, cause="dns_failure")
        story.reject(t, ua, target, failed, trying=story.jitter(0.001, 0.003))

    story.call(3.0, users[0], f"sip:bob@{DOMAIN}")
    unresolvable(5.1, users[2], carrier[0], None, [srv_failed])
    story.call(7.4, users[3], f"sip:erin@{DOMAIN}")
    unresolvable(10.0, users[4], carrier[1], "DNS Resolution Failure", [])
    story.options(12.0, users[9])
    story.call(13.3, users[5], f"sip:alice@{DOMAIN}")
    unresolvable(16.8, users[1], carrier[2], None, [srv_failed])
    story.call(19.5, users[6], f"sip:dave@{DOMAIN}")
    return story


def tls_failure(rng):
    """Proxy's TLS handshake to partner.example:5061 fails, so it answers 503 saying so.

    A TLS 1.3 ServerHello followed by the proxy's encrypted alert (certificate verify failed),
    or a plaintext handshake_failure alert; the 503 has a Warning 399 or the phrase 'TLS
    Handshake Failed'. Internal calls work.
    """
    story = udp_story(rng, "198.51.100.60", 40, "proxy.example.net")
    proxy = story.server
    partner = Host("203.0.113.60", 5061, "TCP")
    users = story.population(8)
    story.registrations(users[:5], start=0.3, spacing=0.3)
    remote = [f"sip:{n}@partner.example" for n in ("carol.ext", "sales", "support")]
    remote[1] += ";transport=tls"

    def handshake(t, refused):
        """TCP + TLS from the proxy to the partner's gateway; returns when the proxy gives up.

        refused: the gateway answers the ClientHello with a handshake_failure alert.  Otherwise
        it sends its TLS 1.3 flight (certificate encrypted), which the proxy cannot verify, so
        the proxy sends an (encrypted) alert.  Either way the proxy then closes the connection.
        """
        client = Host(proxy.host.ip, rng.randrange(32768, 61000), "TCP")
        story.cap.connect(t, client, partner, rtt=0.022)
        session = rng.randbytes(32)
        story.send(t + 0.0225, client, partner, tls_client_hello(rng, session, "gw.partner.example"))
        if refused:
            story.send(t + 0.045, partner, client, tls_alert(40))
        else:
            story.send(t + 0.045, partner, client, tls_server_flight(rng, session))
            alert = tls_record(20, b"\x01") + tls_record(23, rng.randbytes(19))  # CCS + encrypted alert
            story.send(t + 0.047, client, partner, alert)
        story.cap.close(t + 0.048, client, partner, rtt=0.022)
        return t + 0.048

    next_hop = "sips:gw.partner.example:5061"
    failures = [  # (refused by the gateway, reason phrase, Warning)
        (False, None, f'399 proxy.example.net "TLS handshake failed with {next_hop}: '
                      'certificate verify failed"'),
        (True, "TLS Handshake Failed", None),
        (False, None, '399 proxy.example.net "certificate verify failed: unable to get local issuer '
                      f'certificate ({next_hop})"'),
    ]

    def tls_call(t, ua, target, failure):
        refused, reason, warning = failure
        t_fail = handshake(t + 0.002, refused)
        headers = [("Warning", warning)] if warning else []
        failed = Reply(t_fail - t + 0.001, 503, reason, headers, cause="tls_failure")
        story.reject(t, ua, target, failed, trying=story.jitter(0.001, 0.003))

    story.call(2.5, users[0], f"sip:dave@{DOMAIN}")
    tls_call(4.0, users[1], remote[0], failures[0])
    story.call(6.6, users[2], f"sip:alice@{DOMAIN}")
    tls_call(9.2, users[3], remote[1], failures[1])
    story.options(11.0, users[7])
    tls_call(13.5, users[4], remote[2], failures[2])
    story.call(15.9, users[5], f"sip:erin@{DOMAIN}")
    return story


def database_failure(rng):
    """Registrar loses its database: REGISTERs that worked before now get 503.

    X-Reason: database connection lost (after a 2 s database timeout) or an immediate Warning:
    399 registrar "Database unavailable"; one INVITE's location lookup fails too; OPTIONS are
    still answered 200.
    """
    story = udp_story(rng, "198.51.100.70", 40, "registrar.example.net", "Registrar/3.2.0")
    users = story.population(14)
    story.registrations(users[:9], start=0.2, spacing=0.6, challenge=True)
    story.call(4.0, users[0], f"sip:bob@{DOMAIN}", hold=4)
    story.options(9.0, users[13])
    lost = [("X-Reason", "database connection lost")]
    unavailable = [("Warning", '399 registrar "Database unavailable"')]
    db_down = [  # (user, challenged first, delay of the 503, headers)
        (users[9], True, 2.0, lost),
        (users[10], False, 2.0, lost),
        (users[2], True, 0.003, unavailable),
        (users[11], False, 0.002, unavailable),
        (users[12], True, 0.002, lost),
    ]
    for i, (ua, challenged, delay, headers) in enumerate(db_down):
        story.register(12.0 + 3.1 * i, ua, challenge=challenged,
                       final=Reply(delay + story.jitter(0.0, 0.004), 503, headers=headers,
                                   cause="database_failure"))
    story.options(20.0, users[13])
    story.reject(24.0, users[5], f"sip:carol@{DOMAIN}",
                 Reply(0.004, 503, headers=unavailable, cause="database_failure"), trying=0.002)
    return story


def dns_evidence(rng):
    """Edge proxy gets SERVFAIL or no answer for some carriers' DNS names: a bare 503 each time.

    The proxy routes numbers to carriers by prefix and finds each carrier's SBC per RFC 3263
    through its resolver 198.51.100.153, caching the answers for their TTL. carrier-a.example and
    voice.partner.example resolve (NAPTR, SRV and A answered NOERROR) and their calls are
    answered. For carrier-b.example the NAPTR query takes a second and comes back SERVFAIL, so
    does the SRV fallback at once; carrier-c.example is routed with transport=udp, so only
    _sip._udp.carrier-c.example SRV is asked, and never answered: the proxy re-sends the query
    twice, 1 s apart, and gives up 1 s later. Each of those calls gets a plain 503 Service
    Unavailable: no Warning, no Reason.
    """
    story = proxy_story(rng, "198.51.100.150", 60, "edge.example.net")
    proxy = story.server.host
    resolver = Host("198.51.100.153", 53)
    users = story.population(10)
    story.registrations(users[:8], start=0.2, spacing=0.35)
    carriers = {  # domain -> (SBC names, SBC address, SBC Server header)
        "carrier-a.example": (("sbc1.carrier-a.example", "sbc2.carrier-a.example"), "203.0.113.21",
                              "CarrierSBC/4.2.1"),
        "voice.partner.example": (("edge1.voice.partner.example", "edge2.voice.partner.example"),
                                  "203.0.113.31", "PartnerGW/1.9.3"),
    }
    cached = {}  # name -> when its answer expires

    def ask(t, qname, qtype, delay, records=None, ttl=300, rcode=None, resend=()):
        """A query from a fresh port of the proxy, re-sent (same id) after resend s; answered after
        delay s with records (NOERROR) or an answerless rcode, or never if neither is given.
        Returns when the answer arrives (or the last query leaves)."""
        client, txid = ephemeral(rng, proxy.ip), rng.getrandbits(16)
        query = dns_message(txid, qname, qtype)
        for offset in (0, *resend):
            story.send(t + offset, client, resolver, query)
        if records is not None:
            story.send(t + delay, resolver, client, dns_answer(txid, qname, qtype, records, ttl))
        elif rcode is not None:
            story.send(t + delay, resolver, client, dns_message(txid, qname, qtype, rcode))
        else:
            return t + max((0, *resend))
        return t + delay

    def resolve(t, domain):
        """RFC 3263 for a working carrier: NAPTR, SRV, A, each only when not cached."""
        (primary, secondary), ip, _ = carriers[domain]
        udp, tcp = f"_sip._udp.{domain}", f"_sip._tcp.{domain}"
        if cached.get(domain, -1) < t:
            t = ask(t, domain, DNS_NAPTR, story.jitter(0.01, 0.06),
                    [(DNS_NAPTR, naptr_rdata(10, 50, "SIP+D2U", udp)),
                     (DNS_NAPTR, naptr_rdata(20, 50, "SIP+D2T", tcp))], ttl=3600) + 0.0002
            t = ask(t, udp, DNS_SRV, story.jitter(0.01, 0.05),
                    [(DNS_SRV, srv_rdata(10, 60, 5060, primary)),
                     (DNS_SRV, srv_rdata(20, 40, 5060, secondary))], ttl=300) + 0.0002
            cached[domain] = t + 300
        if cached.get(primary, -1) < t:
            t = ask(t, primary, DNS_A, story.jitter(0.008, 0.04),
                    [(DNS_A, bytes(map(int, ip.split("."))))], ttl=30) + 0.0002
            cached[primary] = t + 30
        return t

    def carrier_call(t, ua, number, domain, hold):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        _, ip, agent = carriers[domain]
        t_sent = resolve(t + 0.001, domain) + 0.0003
        story.through(t_sent, dlg, invite, Host(ip), agent, story.answered(),
                      uri=f"sip:{number}@{domain}", trying=story.jitter(0.015, 0.03), hold=hold)

    def servfail(t, ua, number, domain):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        t_naptr = ask(t + 0.001, domain, DNS_NAPTR, story.jitter(0.9, 1.6), rcode=DNS_SERVFAIL)
        t_srv = ask(t_naptr + 0.0003, f"_sip._udp.{domain}", DNS_SRV, story.jitter(0.001, 0.003),
                    rcode=DNS_SERVFAIL)
        story.give_up(t_srv + story.jitter(0.0003, 0.001), dlg, invite, cause="dns_failure")

    def unanswered(t, ua, number, domain):
        dlg, invite = story.inbound(t, ua, f"sip:{number}@{DOMAIN}")
        t_last = ask(t + 0.001, f"_sip._udp.{domain}", DNS_SRV, None, resend=(1.0, 2.0))
        story.give_up(t_last + 1.0 + story.jitter(0.0005, 0.002), dlg, invite, cause="dns_failure")

    a, b, c, partner = "carrier-a.example", "carrier-b.example", "carrier-c.example", \
        "voice.partner.example"
    number = numbers(10, first=170)
    carrier_call(3.2, users[0], number[0], a, hold=7.0)
    servfail(6.5, users[1], number[1], b)
    carrier_call(9.1, users[2], number[2], partner, hold=5.0)
    unanswered(12.0, users[3], number[3], c)
    carrier_call(17.6, users[4], number[4], a, hold=9.0)
    servfail(21.3, users[5], number[5], b)
    story.options(24.8, users[9])
    unanswered(27.4, users[6], number[6], c)
    carrier_call(33.5, users[7], number[7], a, hold=6.0)
    carrier_call(38.2, users[0], number[8], partner, hold=8.0)
    return story


def tls_evidence(rng):
    """Proxy's TLS to two partners fails (expired or wrong certificate, no ServerHello): bare 503s.

    The proxy relays calls to partner SBCs over TLS on port 5061. partner-a's SBC completes a
    TLS 1.3 handshake and the calls run as application data on that connection. partner-b's SBC
    speaks TLS 1.2 and sends a certificate that expired on 2026-02-14: the proxy sends a fatal
    certificate_expired alert and closes; partner-c's SBC presents the hosting provider's default
    certificate (*.hosting.example), which the proxy refuses with a fatal bad_certificate alert;
    partner-d's SBC accepts the TCP connection but never answers the ClientHello, and the proxy
    gives up after 3 s. Each of those calls gets a plain 503 Service Unavailable.
    """
    story = proxy_story(rng, "198.51.100.160", 60)
    proxy = story.server.host
    via = Host(proxy.ip, 5061, "TLS")
    users = story.population(10)
    story.registrations(users[:8], start=0.3, spacing=0.3)
    rtt = 0.018
    moment = partial(datetime.datetime, tzinfo=datetime.timezone.utc)
    partner_b_ca = ("Partner B", "Partner B Issuing CA 2")
    chains = {
        "sbc.partner-b.example": [x509_certificate(
            rng, ("Partner B", "sbc.partner-b.example"), partner_b_ca,
            (moment(2024, 2, 14, 9, 30), moment(2026, 2, 14, 9, 30)), ["sbc.partner-b.example"])],
        "sbc.partner-c.example": [x509_certificate(
            rng, ("Hosting Example", "*.hosting.example"), ("Hosting Example", "Hosting Example CA"),
            (moment(2025, 11, 3), moment(2026, 11, 3)), ["*.hosting.example", "hosting.example"])],
    }
    partners = {  # SBC name -> (address, Server header)
        "sbc.partner-a.example": (Host("203.0.113.161", 5061, "TLS"), "PartnerSBC/3.0.2"),
        "sbc.partner-b.example": (Host("203.0.113.162", 5061, "TLS"), "PartnerSBC/2.4.9"),
        "sbc.partner-c.example": (Host("203.0.113.163", 5061, "TLS"), "Carrier-SBC/7.1"),
        "sbc.partner-d.example": (Host("203.0.113.164", 5061, "TLS"), "Carrier-SBC/7.1"),
    }
    connections = {}  # SBC name -> the proxy's end of its established TLS connection

    def encrypted(t, src, dst, message):
        story.send(t, src, dst, tls_encrypted(rng, message))

    def hello(t, name):
        """TCP handshake and ClientHello; returns the proxy's end and when the hello left."""
        local = ephemeral(rng, proxy.ip, "TCP")
        story.cap.connect(t, local, partners[name][0], rtt=rtt)
        t_hello = t + rtt + 0.0003
        story.send(t_hello, local, partners[name][0], tls_client_hello(rng, rng.randbytes(32), name))
        return local, t_hello

    def tls_up(t, name):
        """A TLS 1.3 connection to the SBC (session ticket included); returns when it is ready."""
        hop = partners[name][0]
        local, t_hello = hello(t, name)
        session = rng.randbytes(32)
        t_flight = t_hello + rtt + story.jitter(0.001, 0.003)
        story.send(t_flight, hop, local, tls_server_flight(rng, session))
        t_finished = t_flight + story.jitter(0.0008, 0.0015)
        story.send(t_finished, local, hop, tls_record(20, b"\x01") + tls_record(23, rng.randbytes(53)))
        story.send(t_finished + rtt + 0.0005, hop, local, tls_record(23, rng.randbytes(241)))
        connections[name] = local
        return t_finished + 0.0002

    def partner_call(t, ua, user, name, hold):
        dlg, invite = story.inbound(t, ua, f"sip:{user}@{name.split('.', 1)[1]}")
        t_ready = t + 0.001
        if name not in connections:
            t_ready = tls_up(t_ready, name)
        hop, agent = partners[name]
        story.through(t_ready, dlg, invite, hop, agent, story.answered(), uri=f"sip:{user}@{name}",
                      trying=rtt + 0.004, hold=hold, local=connections[name], via=via,
                      deliver=encrypted)

    def refused_certificate(t, ua, user, name, alert):
        dlg, invite = story.inbound(t, ua, f"sip:{user}@{name.split('.', 1)[1]}")
        hop = partners[name][0]
        local, t_hello = hello(t + 0.001, name)
        t_flight = t_hello + rtt + story.jitter(0.002, 0.005)
        story.send(t_flight, hop, local, tls12_server_flight(rng, chains[name]))
        t_alert = t_flight + story.jitter(0.0005, 0.0012)
        story.send(t_alert, local, hop, tls_alert(alert))
        story.cap.close(t_alert + 0.0001, local, hop, rtt=rtt)
        story.give_up(t_alert + story.jitter(0.0008, 0.002), dlg, invite, cause="tls_failure")

    def no_server_hello(t, ua, user, name):
        dlg, invite = story.inbound(t, ua, f"sip:{user}@{name.split('.', 1)[1]}")
        local, t_hello = hello(t + 0.001, name)
        story.cap.half_close(t_hello + 3.0, local, partners[name][0], rtt=rtt)
        story.give_up(t_hello + 3.0 + story.jitter(0.0005, 0.0015), dlg, invite, cause="tls_failure")

    a, b, c, d = (f"sbc.partner-{x}.example" for x in "abcd")
    partner_call(3.0, users[0], "sales", a, hold=12.0)
    refused_certificate(6.2, users[1], "+442079460123", b, TLS_CERTIFICATE_EXPIRED)
    partner_call(9.8, users[2], "support", a, hold=6.0)
    no_server_hello(13.1, users[3], "frontdesk", d)
    story.options(18.0, users[9])
    refused_certificate(21.7, users[4], "accounts", c, TLS_BAD_CERTIFICATE)
    partner_call(25.4, users[5], "+442079460188", a, hold=8.0)
    refused_certificate(30.2, users[6], "+442079460155", b, TLS_CERTIFICATE_EXPIRED)
    partner_call(34.6, users[7], "sales", a, hold=10.0)
    return story


def database_evidence(rng):
    """Registrar's databases fail (PostgreSQL refused/starting up, MySQL 1040, Redis reset): 503s.

    The registrar keeps locations in PostgreSQL, looks up outbound routes (LCR) in MySQL and counts
    calls per user in Redis, with one query per REGISTER and one or two per call. At 10 s
    PostgreSQL is restarted: it ends the registrar's session (57P01) and refuses new connections
    (RST) for a while, then answers "the database system is starting up" (57P03); a new MySQL
    connection later gets ERR 1040 Too many connections right after its login; Redis resets the
    connection while a command is in flight, then refuses it once. Each failed lookup is followed
    within a second by a plain 503; every other request is served and its queries answered.
    """
    story = udp_story(rng, "198.51.100.180", 50, "registrar.example.net", "Registrar/3.2.0")
    registrar = story.server.host.ip
    pg, mysql = Host("198.51.100.185", 5432, "TCP"), Host("198.51.100.186", 3306, "TCP")
    redis = Host("198.51.100.187", 6379, "TCP")
    users = story.population(14)
    monitor = UA("monitor", "Monitor", Host("203.0.113.5"), "HealthCheck/2.0", DOMAIN)
    rtt = 0.0003
    db = {}  # database -> the registrar's end of its open connection

    def answer_time():
        return story.jitter(0.0004, 0.0025)

    def pg_connect(t, starting_up=False):
        """A PostgreSQL session (md5 password); returns when it is ready, or refused at start-up."""
        local = ephemeral(rng, registrar, "TCP")
        story.cap.connect(t, local, pg, rtt=rtt)
        t += rtt + 0.0001
        story.send(t, local, pg, pg_startup("kamailio", "sip", "registrar"))
        if starting_up:
            story.send(t + 0.0004, pg, local, pg_error(
                "57P03", "the database system is starting up", "postmaster.c", 2356,
                "ProcessStartupPacket"))
            story.cap.close(t + 0.0005, pg, local, rtt=rtt)
            return t + 0.0005
        story.send(t + 0.0004, pg, local, pg_message(b"R", struct.pack("!I", 5) + rng.randbytes(4)))
        story.send(t + 0.0007, local, pg, pg_message(b"p", f"md5{story.ids.hex(32)}\0".encode()))
        story.send(t + 0.0022, pg, local, pg_ready(rng))
        db["pg"] = local
        return t + 0.0023

    def pg_query(t, sql, answer):
        story.send(t, db["pg"], pg, pg_message(b"Q", f"{sql}\0".encode()))
        t_answer = t + answer_time()
        story.send(t_answer, pg, db["pg"], answer)
        return t_answer

    def save_location(t, ua):
        return pg_query(t, f"INSERT INTO location (username, domain, contact, expires) VALUES "
                           f"('{ua.user}', '{DOMAIN}', '{ua.contact.strip('<>')}', now() + "
                           f"interval '3600 seconds') ON CONFLICT (username, domain) DO UPDATE "
                           f"SET contact = EXCLUDED.contact, expires = EXCLUDED.expires",
                        pg_done("INSERT 0 1"))

    def lookup_location(t, user):
        callee = next(u for u in users if u.user == user)
        return pg_query(t, f"SELECT contact FROM location WHERE username = '{user}' AND domain = "
                           f"'{DOMAIN}' AND expires > now()",
                        pg_rows(["contact"], [[callee.contact.strip("<>")]]))

    def mysql_connect(t, refused=False):
        local = ephemeral(rng, registrar, "TCP")
        story.cap.connect(t, local, mysql, rtt=rtt)
        story.send(t + rtt + 0.0004, mysql, local, mysql_greeting(rng, rng.randrange(100, 9000)))
        story.send(t + rtt + 0.0007, local, mysql, mysql_login(rng, "lcr", "routing"))
        t_answer = t + rtt + 0.0007 + answer_time()
        if refused:
            story.send(t_answer, mysql, local, mysql_error(2, 1040, "08004", "Too many connections"))
            story.cap.close(t_answer + 0.0001, mysql, local, rtt=rtt)
        else:
            story.send(t_answer, mysql, local, mysql_ok(2))
            db["mysql"] = local
        return t_answer

    def route(t, number):
        """The LCR lookup of an outbound number in MySQL."""
        story.send(t, db["mysql"], mysql, mysql_query(
            f"SELECT gw_uri FROM lcr_rule WHERE '{number}' LIKE CONCAT(prefix, '%') "
            f"ORDER BY LENGTH(prefix) DESC LIMIT 1"))
        t_answer = t + answer_time()
        story.send(t_answer, mysql, db["mysql"],
                   mysql_rows("routing", "lcr_rule", "gw_uri", ["sip:203.0.113.41:5060"]))
        return t_answer

    counters = {}

    def redis_connect(t):
        local = ephemeral(rng, registrar, "TCP")
        story.cap.connect(t, local, redis, rtt=rtt)
        story.send(t + rtt + 0.0001, local, redis, resp_command("SELECT", "2"))
        story.send(t + rtt + 0.0004, redis, local, b"+OK\r\n")
        db["redis"] = local
        return t + rtt + 0.0004

    def count_call(t, ua):
        key = f"calls:{ua.user}@{DOMAIN}"
        counters[key] = counters.get(key, 0) + 1
        story.send(t, db["redis"], redis, resp_command("INCR", key))
        t_answer = t + story.jitter(0.0002, 0.0006)
        story.send(t_answer, redis, db["redis"], f":{counters[key]}\r\n".encode())
        return t_answer

    def register(t, ua):
        t_saved = save_location(t + 0.0004, ua)
        story.register(t, ua, final=Reply(t_saved - t + 0.0003, 200))

    def call(t, ua, target, hold):
        """An INVITE: Redis counter, then location (user) or route (number) lookup; answered."""
        t_db = count_call(t + 0.0004, ua) + 0.0001
        user = target.split(":")[1].split("@")[0]
        t_db = (route(t_db, user) if user.startswith("+") else lookup_location(t_db, user))
        story.call(t, ua, target, trying=t_db - t + 0.0003, hold=hold)

    def refused(t, ua, target, delay):
        """A request whose lookup failed, answered 503 delay s after it arrived."""
        failed = Reply(delay, 503, cause="database_failure")
        if target is None:
            story.register(t, ua, final=failed)
        else:
            story.reject(t, ua, target, failed, trying=0.0004)

    internal = [f"sip:{u.user}@{DOMAIN}" for u in users]
    pstn = [f"sip:{n}@{DOMAIN}" for n in numbers(6, first=190)]
    pg_connect(0.05)
    mysql_connect(0.08)
    redis_connect(0.11)
    for i, ua in enumerate(users[:8]):
        register(0.4 + 0.45 * i, ua)
    call(4.6, users[0], internal[1], hold=3.0)
    call(6.1, users[2], pstn[0], hold=2.5)
    story.options(8.0, monitor)
    # 10 s: PostgreSQL is restarted; it ends the registrar's session
    story.send(10.0, pg, db["pg"], pg_error("57P01", "terminating connection due to administrator "
                                            "command", "postgres.c", 3300, "ProcessInterrupts"))
    story.cap.close(10.0001, pg, db["pg"], rtt=rtt)
    del db["pg"]
    # a REGISTER: two connection attempts 0.5 s apart, both refused
    story.cap.refused(11.4004, ephemeral(rng, registrar, "TCP"), pg, rtt=rtt)
    story.cap.refused(11.9004, ephemeral(rng, registrar, "TCP"), pg, rtt=rtt)
    refused(11.4, users[8], None, 0.5012)
    # an INVITE to a user: Redis answers, PostgreSQL refuses
    t_db = count_call(13.9004, users[3]) + 0.0001
    story.cap.refused(t_db, ephemeral(rng, registrar, "TCP"), pg, rtt=rtt)
    refused(13.9, users[3], internal[5], t_db - 13.9 + 0.0009)
    # an INVITE while PostgreSQL is starting up
    t_db = count_call(16.7004, users[4]) + 0.0001
    t_failed = pg_connect(t_db, starting_up=True)
    refused(16.7, users[4], internal[6], t_failed - 16.7 + 0.0006)
    story.options(18.0, monitor)
    # PostgreSQL is back: the next REGISTER opens a session again
    t_ready = pg_connect(19.5004)
    t_saved = save_location(t_ready + 0.0001, users[9])
    story.register(19.5, users[9], final=Reply(t_saved - 19.5 + 0.0003, 200))
    call(21.2, users[5], internal[0], hold=4.0)
    call(23.0, users[6], pstn[1], hold=5.0)
    # a second registrar worker opens its own MySQL connection: ERR 1040 after the login
    t_db = count_call(25.6004, users[7]) + 0.0001
    t_failed = mysql_connect(t_db, refused=True)
    refused(25.6, users[7], pstn[2], t_failed - 25.6 + 0.0007)
    story.options(28.0, monitor)
    call(28.9, users[1], pstn[3], hold=4.0)
    # Redis dies with the INCR unread: it resets the connection; then refuses the reconnection
    key = f"calls:{users[10].user}@{DOMAIN}"
    story.cap.push(31.3004, db["redis"], redis, resp_command("INCR", key))
    story.cap.reset(31.3006, redis, db["redis"])
    del db["redis"]
    refused(31.3, users[10], internal[2], story.jitter(0.003, 0.006))
    story.cap.refused(33.8004, ephemeral(rng, registrar, "TCP"), redis, rtt=rtt)
    refused(33.8, users[11], pstn[4], story.jitter(0.0012, 0.003))
    # Redis is back
    redis_connect(36.4)
    call(36.4012, users[12], internal[4], hold=5.0)
    story.options(38.0, monitor)
    register(39.3, users[8])
    call(41.0, users[13], pstn[5], hold=4.0)
    return story
