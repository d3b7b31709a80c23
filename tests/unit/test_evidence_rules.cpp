// Unit tests of the engine's evidence rules: other protocols, onward attempts and the hop that generated a 503.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sip/sip_engine.hpp"
#include "sip_builders.hpp"
#include "core/text.hpp"

namespace diag503 {
namespace {

using test::call;
using test::client_hello;
using test::dns_answer;
using test::dns_query;
using test::HasEvidence;
using test::Headers;
using test::IsCause;
using test::Txn;
namespace dns = test::dns;

const Endpoint kClient = test::endpoint("192.0.2.10");
const Endpoint kProxy = test::endpoint("192.0.2.20");
const Endpoint kProxyClientPort = test::endpoint("192.0.2.20", 40001);  // the proxy as a client of other services
const Endpoint kInnerProxy = test::endpoint("192.0.2.30");
const Endpoint kServer = test::endpoint("198.51.100.5");
const Endpoint kOtherServer = test::endpoint("198.51.100.6");
const Endpoint kNextHop = test::endpoint("203.0.113.9");
const Endpoint kOtherHop = test::endpoint("203.0.113.10");
const Endpoint kTlsHop = test::endpoint("203.0.113.9", 5061);
const Endpoint kResolver = test::endpoint("192.0.2.53", 53);
const Endpoint kDatabase = test::endpoint("192.0.2.40", 5432);
const std::string kSrvName = "_sip._udp.carrier.example.net";

// Feeds an engine SIP and other traffic in one frame sequence, numbering frames from 1, times in
// seconds since the capture start. SIP goes from the client to the proxy unless told otherwise.
class Capture {
public:
    explicit Capture(const Settings& settings = Settings{}) : engine_(settings) {}

    std::optional<Verdict> request(double at_s, const Txn& txn, const Endpoint& from = kClient,
                                   const Endpoint& to = kProxy) {
        return sip(at_s, from, to, test::request_text(txn));
    }
    std::optional<Verdict> respond(double at_s, const Txn& txn, int status, const Headers& extra = {},
                                   const Endpoint& from = kProxy, const Endpoint& to = kClient) {
        return sip(at_s, from, to, test::response_text(txn, status, extra));
    }

    void dns(double at_s, const Endpoint& from, const Endpoint& to, const DnsMessage& message) {
        engine_.network().observe_dns(next(at_s, from, to, Transport::udp), message);
    }
    void tls(double at_s, const Endpoint& from, const Endpoint& to, const TlsSummary& records) {
        engine_.network().observe_tls(next(at_s, from, to, Transport::tcp), records);
    }
    void tcp(double at_s, const Endpoint& from, const Endpoint& to, std::uint16_t flags) {
        engine_.network().observe_tcp(next(at_s, from, to, Transport::tcp), flags);
    }
    void icmp(double at_s, const Endpoint& from, const Endpoint& to, const IcmpError& error) {
        engine_.network().observe_icmp(next(at_s, from, to, Transport::other), error);
    }
    void database(double at_s, const Endpoint& from, const Endpoint& to, const DatabaseError& error) {
        engine_.network().observe_database_error(next(at_s, from, to, Transport::tcp), error);
    }

    // The proxy's SRV lookup for the carrier answered SERVFAIL: two frames.
    void servfail(double at_s) {
        dns(at_s, kProxyClientPort, kResolver, dns_query(dns::srv, kSrvName));
        dns(at_s + 0.01, kResolver, kProxyClientPort, dns_answer(dns::srv, kSrvName, dns::servfail));
    }

    const std::vector<Verdict>& verdicts() const { return verdicts_; }

private:
    PacketMeta next(double at_s, const Endpoint& from, const Endpoint& to, Transport transport) {
        return test::packet(++frame_, at_s, from, to, transport);
    }
    std::optional<Verdict> sip(double at_s, const Endpoint& from, const Endpoint& to, const std::string& text) {
        auto verdict = engine_.observe(next(at_s, from, to, Transport::udp), test::parse(text));
        if (verdict) verdicts_.push_back(*verdict);
        return verdict;
    }

    SipEngine engine_;
    std::uint32_t frame_ = 0;
    std::vector<Verdict> verdicts_;
};

// The client's INVITE as the proxy forwards it onward.
Txn onward(const Txn& txn) { return test::forwarded(txn, "192.0.2.20:5060", "z9hG4bK-proxy-1"); }

// ---- other protocols ----

TEST(EvidenceRules, DnsServfailShortlyBeforeAProxy503IsDnsFailureCitingTheDnsFrames) {
    Capture capture;
    capture.request(0, call(1));  // frame 1
    capture.servfail(0.001);      // frames 2 and 3
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure));
    const Evidence* dns = test::evidence_with(*verdict, "answered SERVFAIL");
    ASSERT_NE(dns, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(dns->frames, (std::vector<std::uint32_t>{2, 3}));
    EXPECT_TRUE(HasEvidence(*verdict, "could not resolve"));
}

TEST(EvidenceRules, FailuresBeforeTheRequestAreOnlyMentionedAsAPattern) {
    Capture capture;
    capture.servfail(0);             // frames 1 and 2, before the request
    capture.request(10, call(1));    // frame 3
    capture.servfail(10.001);        // frames 4 and 5, while it waited
    const auto verdict = capture.respond(10.02, call(1), 503);
    ASSERT_TRUE(verdict);
    ASSERT_GE(verdict->evidence.size(), 1u);
    EXPECT_EQ(verdict->evidence[0].frames, (std::vector<std::uint32_t>{4, 5})) << test::all_evidence(*verdict);
    const Evidence* pattern = test::evidence_with(*verdict, "1 earlier DNS failure of this server since frame 2, before this request.");
    ASSERT_NE(pattern, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(pattern->frames, (std::vector<std::uint32_t>{2}));
}

TEST(EvidenceRules, UnansweredDnsQueryOfTheProxyIsDnsFailure) {
    Capture capture;
    capture.request(0, call(1));
    for (double at : {0.001, 1.001, 3.001}) capture.dns(at, kProxyClientPort, kResolver, dns_query(dns::srv, kSrvName));
    const auto verdict = capture.respond(5, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure));
    EXPECT_TRUE(HasEvidence(*verdict, "sent 3 times: no answer"));
}

TEST(EvidenceRules, TlsAlertFromTheNextHopIsTlsFailure) {
    Capture capture;
    capture.request(0, call(1));
    capture.tls(0.002, kProxyClientPort, kTlsHop, client_hello());   // frame 2
    capture.tls(0.01, kTlsHop, kProxyClientPort, test::fatal_alert(48));  // frame 3
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::tls_failure));
    const Evidence* tls = test::evidence_with(*verdict, "fatal TLS alert unknown_ca");
    ASSERT_NE(tls, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(tls->frames, (std::vector<std::uint32_t>{2, 3}));
}

TEST(EvidenceRules, TlsHandshakeResetByTheNextHopIsTlsFailure) {
    Capture capture;
    capture.request(0, call(1));
    capture.tcp(0.001, kProxyClientPort, kTlsHop, TcpFlags::syn);
    capture.tcp(0.002, kTlsHop, kProxyClientPort, TcpFlags::syn | TcpFlags::ack);
    capture.tls(0.003, kProxyClientPort, kTlsHop, client_hello());                       // frame 4
    capture.tcp(0.004, kTlsHop, kProxyClientPort, TcpFlags::reset | TcpFlags::ack);       // frame 5
    const auto verdict = capture.respond(0.5, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::tls_failure));
    EXPECT_TRUE(HasEvidence(*verdict, "never completed: the connection was reset by 203.0.113.9:5061"));
    EXPECT_FALSE(HasEvidence(*verdict, "also fits another cause"));
}

TEST(EvidenceRules, PostgresqlRefusingTheConnectionIsDatabaseFailure) {
    Capture capture;
    capture.request(0, call(1));
    capture.database(0.005, kDatabase, kProxyClientPort,
                     test::database_error("PostgreSQL", "FATAL", "53300", "sorry, too many clients already"));
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::database_failure));
    EXPECT_TRUE(HasEvidence(*verdict, "PostgreSQL FATAL 53300 error from 192.0.2.40:5432 (frame 2)"));
}

TEST(EvidenceRules, ResetFromThePostgresqlPortIsDatabaseFailure) {
    Capture capture;
    capture.request(0, call(1));
    capture.tcp(0.002, kProxyClientPort, kDatabase, TcpFlags::syn);
    capture.tcp(0.003, kDatabase, kProxyClientPort, TcpFlags::reset | TcpFlags::ack);
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::database_failure));
    EXPECT_TRUE(HasEvidence(*verdict, "TCP connection to 192.0.2.40:5432 (frame 2) refused"));
}

// ---- onward attempts ----

TEST(EvidenceRules, ForwardedRequestAnsweredByIcmpPortUnreachableIsUpstreamFailureNamingTheHop) {
    Capture capture;
    capture.request(0, call(1));                                // frame 1
    capture.request(0.002, onward(call(1)), kProxy, kNextHop);  // frame 2
    capture.icmp(0.003, kNextHop, kProxy, test::port_unreachable(kProxy, kNextHop));  // frame 3
    const auto verdict = capture.respond(0.01, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure));
    const Evidence* unreachable = test::evidence_with(*verdict, "ICMP port unreachable");
    ASSERT_NE(unreachable, nullptr) << test::all_evidence(*verdict);
    EXPECT_TRUE(icontains(unreachable->sentence, "for UDP to 203.0.113.9:5060")) << unreachable->sentence;
    EXPECT_TRUE(icontains(unreachable->sentence, "the hop this request was forwarded to")) << unreachable->sentence;
    EXPECT_EQ(unreachable->frames, (std::vector<std::uint32_t>{3}));
}

TEST(EvidenceRules, ForwardedAndRetransmittedWithoutAnyAnswerIsUpstreamFailure) {
    Capture capture;
    capture.request(0, call(1));
    for (double at : {0.002, 0.502, 1.502, 3.502}) capture.request(at, onward(call(1)), kProxy, kNextHop);  // frames 2-5
    const auto verdict = capture.respond(4, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure));
    const Evidence* silent = test::evidence_with(*verdict, "retransmitted 3 times without any answer");
    ASSERT_NE(silent, nullptr) << test::all_evidence(*verdict);
    EXPECT_TRUE(icontains(silent->sentence, "Forwarded to 203.0.113.9:5060 in frame 2")) << silent->sentence;
    EXPECT_TRUE(icontains(silent->sentence, "timer B/F")) << silent->sentence;
    EXPECT_EQ(silent->frames, (std::vector<std::uint32_t>{2}));
}

TEST(EvidenceRules, TransportFailureOfAHopTheRequestWasNotForwardedToDoesNotCount) {
    Capture capture;
    capture.request(0, call(1));
    capture.request(0.002, onward(call(1)), kProxy, kNextHop);
    capture.icmp(0.004, kOtherHop, kProxy, test::port_unreachable(kProxy, kOtherHop));
    const auto verdict = capture.respond(0.01, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "ICMP"));
}

// ---- several kinds of evidence ----

TEST(EvidenceRules, ConflictingEvidenceIsAlsoConsistentWithAndLessConfidentThanAgreeingEvidence) {
    auto diagnose = [](const std::string& warning) {
        Capture capture;
        capture.request(0, call(1));
        capture.servfail(0.001);
        return capture.respond(0.02, call(1), 503, {"Warning: 399 proxy.example.com \"" + warning + "\""});
    };
    const auto agreeing = diagnose("DNS SRV lookup failed");
    const auto conflicting = diagnose("database connection lost");
    ASSERT_TRUE(agreeing && conflicting);
    EXPECT_TRUE(IsCause(*agreeing, Cause::dns_failure));
    EXPECT_FALSE(HasEvidence(*agreeing, "also fits another cause"));
    EXPECT_TRUE(conflicting->cause == Cause::dns_failure || conflicting->cause == Cause::database_failure)
        << test::all_evidence(*conflicting);
    EXPECT_TRUE(HasEvidence(*conflicting, "also fits another cause"));
    EXPECT_LT(conflicting->confidence, agreeing->confidence);
}

// ---- the hop that generated the 503 ----

// Client -> proxy -> server; the server refuses (frame 3) and the proxy passes the 503 on (frame 4).
std::optional<Verdict> relay_a_503(Capture& capture) {
    capture.request(0, call(1));
    capture.request(0.002, test::forwarded(call(1), "192.0.2.20:5060", "z9hG4bK-proxy-1"), kProxy, kServer);
    capture.respond(0.5, test::forwarded(call(1), "192.0.2.20:5060", "z9hG4bK-proxy-1"), 503, {}, kServer, kProxy);
    return capture.respond(0.502, call(1), 503);
}

TEST(EvidenceRules, ProxyRelayingADownstream503NamesTheHopThatGeneratedIt) {
    Capture capture;
    const auto relayed = relay_a_503(capture);
    ASSERT_TRUE(relayed);
    EXPECT_EQ(relayed->origin, "relayed from 198.51.100.5:5060");
    EXPECT_EQ(relayed->origin_frame, 3u);
    EXPECT_TRUE(relayed->sip()->relays_503);
    EXPECT_TRUE(HasEvidence(*relayed, "RFC 3261 §16.7"));
}

TEST(EvidenceRules, TheServerThatRefusedGeneratedIts503Here) {
    Capture capture;
    relay_a_503(capture);
    ASSERT_EQ(capture.verdicts().size(), 2u);
    const Verdict& downstream = capture.verdicts()[0];
    EXPECT_EQ(downstream.origin, "generated here");
    EXPECT_EQ(downstream.origin_frame, 0u);
    EXPECT_FALSE(downstream.sip()->relays_503);
}

TEST(EvidenceRules, TwoProxyChainReportsTheInnermostHopAndItsFrame) {
    Capture capture;
    const Txn at_outer = call(1);
    const Txn at_inner = test::forwarded(at_outer, "192.0.2.20:5060", "z9hG4bK-outer-1");
    const Txn at_server = test::forwarded(at_inner, "192.0.2.30:5060", "z9hG4bK-inner-1");
    capture.request(0, at_outer, kClient, kProxy);                          // frame 1
    capture.request(0.002, at_inner, kProxy, kInnerProxy);                  // frame 2
    capture.request(0.004, at_server, kInnerProxy, kServer);                // frame 3
    capture.respond(0.3, at_server, 503, {}, kServer, kInnerProxy);         // frame 4: generated here
    const auto inner = capture.respond(0.302, at_inner, 503, {}, kInnerProxy, kProxy);  // frame 5
    const auto outer = capture.respond(0.304, at_outer, 503, {}, kProxy, kClient);      // frame 6
    ASSERT_TRUE(inner && outer);
    EXPECT_EQ(inner->origin, "relayed from 198.51.100.5:5060");
    EXPECT_EQ(inner->origin_frame, 4u);
    EXPECT_EQ(outer->origin, "relayed from 198.51.100.5:5060");
    EXPECT_EQ(outer->origin_frame, 4u);
    EXPECT_TRUE(outer->sip()->relays_503);
    EXPECT_TRUE(HasEvidence(*outer, "relays the 503 that 192.0.2.30:5060 sent in frame 5, itself generated by "
                                    "198.51.100.5:5060 in frame 4"));
}

TEST(EvidenceRules, A503TheProxyGeneratesForALaterTransactionOfTheCallIsNotRelayed) {
    Capture capture;
    const Txn invite = call(1);
    const Txn to_a = test::forwarded(invite, "192.0.2.20:5060", "z9hG4bK-proxy-a");
    const Txn to_b = test::forwarded(invite, "192.0.2.20:5060", "z9hG4bK-proxy-b");
    capture.request(0, invite);                                   // frame 1
    capture.request(0.002, to_a, kProxy, kServer);                // frame 2
    capture.respond(0.01, to_a, 503, {}, kServer, kProxy);        // frame 3: A refuses
    capture.request(0.012, to_b, kProxy, kOtherServer);           // frame 4: the proxy fails over to B
    capture.respond(0.05, to_b, 200, {}, kOtherServer, kProxy);   // frame 5
    capture.respond(0.052, invite, 200);                          // frame 6
    const Txn reinvite = test::next_in_call(invite, "INVITE");
    capture.request(10, reinvite);                                // frame 7, not forwarded
    const auto verdict = capture.respond(10.01, reinvite, 503);   // frame 8
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->origin, "generated here");
    EXPECT_EQ(verdict->origin_frame, 0u);
    EXPECT_FALSE(verdict->sip()->relays_503);
}

TEST(EvidenceRules, ServerHeaderOtherThanTheOwn100TryingsIsRelayedFromThatAgent) {
    Capture capture;
    capture.request(0, call(1));
    capture.respond(0.001, call(1), 100, {"Server: kamailio (5.7.4 (x86_64/linux))"});  // frame 2
    const auto verdict = capture.respond(0.5, call(1), 503, {"Server: Asterisk PBX 20.5.0"});
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->origin, "relayed from \"Asterisk PBX 20.5.0\"");
    const Evidence* names = test::evidence_with(*verdict, "names \"Asterisk PBX 20.5.0\" as its sender");
    ASSERT_NE(names, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(names->frames, (std::vector<std::uint32_t>{2, 3}));
}

TEST(EvidenceRules, ServerHeaderLikeTheOwn100TryingsIsGeneratedHere) {
    Capture capture;
    capture.request(0, call(1));
    capture.respond(0.001, call(1), 100, {"Server: kamailio (5.7.4 (x86_64/linux))"});
    const auto verdict = capture.respond(0.5, call(1), 503, {"Server: kamailio (5.7.4 (x86_64/linux))"});
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->origin, "generated here");
    EXPECT_FALSE(verdict->sip()->relays_503);
}

TEST(EvidenceRules, Plain503IsGeneratedHere) {
    Capture capture;
    capture.request(0, call(1));
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_EQ(verdict->origin, "generated here");
    EXPECT_EQ(verdict->origin_frame, 0u);
    EXPECT_FALSE(verdict->sip()->relays_503);
}

// ---- what does not count ----

TEST(EvidenceRules, EventsOlderThanTheEvidenceWindowDoNotCount) {
    Capture capture;
    capture.servfail(0);  // frames 1 and 2, at 0 and 0.01 s
    capture.request(61, call(1));
    const auto verdict = capture.respond(61.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_NE(verdict->cause, Cause::dns_failure);
    EXPECT_FALSE(HasEvidence(*verdict, "SERVFAIL"));
}

TEST(EvidenceRules, AFailureBeforeTheRequestDoesNotExplainIt) {
    // A busy proxy's lookups for other requests fail now and then; only what this request met counts.
    Capture capture;
    capture.servfail(2);
    capture.request(50, call(1));
    const auto verdict = capture.respond(52, call(1), 503);  // waited on something the capture does not show
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(IsCause(*verdict, Cause::dns_failure));
}

TEST(EvidenceRules, WithoutTheRequestFailuresInTheWindowCount) {
    Capture capture;
    capture.servfail(2);
    const auto verdict = capture.respond(3, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure));
}

TEST(EvidenceRules, EvidenceWindowFollowsTheSettings) {
    Settings settings;
    settings.evidence_window_s = 10;
    Capture capture(settings);
    capture.servfail(0);
    capture.request(11, call(1));
    const auto verdict = capture.respond(11.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "SERVFAIL"));
}

TEST(EvidenceRules, TransportFailuresTowardsThe503sOwnClientDoNotCount) {
    Capture capture;
    capture.request(0, call(1));
    capture.icmp(0.005, kClient, kProxy, test::port_unreachable(kProxy, kClient));  // the 100 Trying bounced
    capture.tcp(0.006, kProxyClientPort, kClient, TcpFlags::syn);
    capture.tcp(0.007, kClient, kProxyClientPort, TcpFlags::reset | TcpFlags::ack);
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_NE(verdict->cause, Cause::upstream_failure);
    EXPECT_FALSE(HasEvidence(*verdict, "ICMP"));
    EXPECT_FALSE(HasEvidence(*verdict, "TCP connection"));
}

TEST(EvidenceRules, TransportFailureTowardsAnotherPeerCountsWhenNothingWasForwarded) {
    Capture capture;
    capture.request(0, call(1));
    capture.tcp(0.002, kProxyClientPort, kNextHop, TcpFlags::syn);                        // frame 2
    capture.tcp(0.003, kNextHop, kProxyClientPort, TcpFlags::reset | TcpFlags::ack);    // frame 3
    const auto verdict = capture.respond(0.5, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure));
    const Evidence* refused = test::evidence_with(*verdict, "TCP connection to 203.0.113.9:5060 (frame 2) refused");
    ASSERT_NE(refused, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(refused->frames, (std::vector<std::uint32_t>{2, 3}));
}

// ---- several SIP agents on one address (a lab host: SIPp, a gateway and a PBX side by side) ----

const Endpoint kLabPbx = test::endpoint("127.0.0.1", 5060);
const Endpoint kLabCaller = test::endpoint("127.0.0.1", 5070);
const Endpoint kLabGateway = test::endpoint("127.0.0.1", 5080);

Txn lab_call(int n) {
    Txn txn = call(n);
    txn.vias = {test::via("127.0.0.1:5070", "z9hG4bK-lab-" + std::to_string(n))};
    return txn;
}

// The PBX's own call to the gateway for the caller's call `n`: a new Call-ID, its own Via.
Txn lab_own_call(int n) {
    Txn txn = call(100 + n);
    txn.vias = {test::via("127.0.0.1:5060", "z9hG4bK-pbx-" + std::to_string(n))};
    return txn;
}

// A call served before: the PBX is known to receive requests by then.
void lab_call_served(Capture& capture) {
    capture.request(0, lab_call(0), kLabCaller, kLabPbx);
    capture.respond(0.001, lab_call(0), 200, {}, kLabPbx, kLabCaller);
}

TEST(EvidenceRules, ACallerOnThePbxsAddressIsNotThePbxForwardingToItself) {
    Capture capture;
    lab_call_served(capture);
    capture.request(1, lab_call(1), kLabCaller, kLabPbx);
    const auto verdict = capture.respond(1.002, lab_call(1), 503, {}, kLabPbx, kLabCaller);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "Forwarded to")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, ThePbxsOwnCallRefusedByAGatewayOnTheSameAddressIsUpstreamFailure) {
    Capture capture;
    lab_call_served(capture);
    capture.request(1, lab_call(1), kLabCaller, kLabPbx);
    capture.request(1.002, lab_own_call(1), kLabPbx, kLabGateway);
    capture.respond(1.004, lab_own_call(1), 503, {}, kLabGateway, kLabPbx);
    const auto verdict = capture.respond(1.006, lab_call(1), 503, {}, kLabPbx, kLabCaller);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, ARefusedConnectionToAnotherPortOfTheSharedAddressIsANextHopFailure) {
    Capture capture;
    capture.request(0, lab_call(1), kLabCaller, kLabPbx);
    capture.tcp(0.002, test::endpoint("127.0.0.1", 40001), test::endpoint("127.0.0.1", 5090), TcpFlags::syn);
    capture.tcp(0.003, test::endpoint("127.0.0.1", 5090), test::endpoint("127.0.0.1", 40001), TcpFlags::reset | TcpFlags::ack);
    const auto verdict = capture.respond(0.5, lab_call(1), 503, {}, kLabPbx, kLabCaller);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "TCP connection to 127.0.0.1:5090 (frame 2) refused"));
}

TEST(EvidenceRules, ARefusedConnectionToTheCallersOwnPortOnASharedAddressDoesNotCount) {
    Capture capture;
    capture.request(0, lab_call(1), kLabCaller, kLabPbx);
    capture.tcp(0.002, test::endpoint("127.0.0.1", 40001), kLabCaller, TcpFlags::syn);
    capture.tcp(0.003, kLabCaller, test::endpoint("127.0.0.1", 40001), TcpFlags::reset | TcpFlags::ack);
    const auto verdict = capture.respond(0.5, lab_call(1), 503, {}, kLabPbx, kLabCaller);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "TCP connection")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, AnSbcOnThePbxsAddressRelayingItsDnsRefusalReadsItsNextHopNotTheLookup) {
    const Endpoint sbc = test::endpoint("127.0.0.1", 5065);
    const Endpoint resolver_client = test::endpoint("127.0.0.1", 40000), resolver = test::endpoint("127.0.0.1", 53);
    Txn at_sbc = lab_call(1);
    const Txn at_pbx = test::forwarded(at_sbc, "127.0.0.1:5065", "z9hG4bK-sbc-1");
    Capture capture;
    lab_call_served(capture);
    capture.request(1, at_sbc, kLabCaller, sbc);
    capture.request(1.001, at_pbx, sbc, kLabPbx);
    capture.dns(1.002, resolver_client, resolver, dns_query(dns::a, "sbc.carrier.example"));
    capture.dns(1.003, resolver, resolver_client, dns_answer(dns::a, "sbc.carrier.example", dns::nxdomain));
    const auto pbx_refusal = capture.respond(1.004, at_pbx, 503, {}, kLabPbx, sbc);
    const auto relayed = capture.respond(1.005, at_sbc, 503, {}, sbc, kLabCaller);
    ASSERT_TRUE(pbx_refusal && relayed);
    EXPECT_TRUE(IsCause(*pbx_refusal, Cause::dns_failure)) << test::all_evidence(*pbx_refusal);
    EXPECT_TRUE(IsCause(*relayed, Cause::upstream_failure)) << test::all_evidence(*relayed);
    EXPECT_FALSE(HasEvidence(*relayed, "DNS"));
}

TEST(EvidenceRules, FailuresOfAnotherHostDoNotCount) {
    Capture capture;
    const Endpoint other_host = test::endpoint("192.0.2.21", 40001);
    capture.dns(0, other_host, kResolver, dns_query(dns::srv, kSrvName));
    capture.dns(0.01, kResolver, other_host, dns_answer(dns::srv, kSrvName, dns::servfail));
    capture.request(0.02, call(1));
    const auto verdict = capture.respond(0.04, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "SERVFAIL"));
}

// ---- many failures ----

TEST(EvidenceRules, FailuresBeyondThreeOfAKindAreSummedUpInOneSentence) {
    Capture capture;
    capture.request(9.9, call(1));                         // frame 1
    for (int n = 0; n < 5; ++n) capture.servfail(10 + n);  // frames 2-11
    const auto verdict = capture.respond(15.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure));
    const Evidence* more = test::evidence_with(*verdict, "2 more such failures while this request waited.");
    ASSERT_NE(more, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(more->frames, (std::vector<std::uint32_t>{9, 11}));
}

TEST(EvidenceRules, EarlierFailuresOfAnotherKindAreMentionedApart) {
    Capture capture;
    capture.tls(1, kProxyClientPort, kTlsHop, client_hello());
    capture.tls(1.01, kTlsHop, kProxyClientPort, test::fatal_alert(48));
    capture.request(49.9, call(1));
    for (int n = 0; n < 4; ++n) capture.servfail(50 + n);
    const auto verdict = capture.respond(54.01, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure));
    EXPECT_TRUE(HasEvidence(*verdict, "1 more such failure while this request waited."));
    EXPECT_FALSE(HasEvidence(*verdict, "earlier TLS failure")) << "no TLS failure explains this request, so none is listed";
}

// ---- a server's traffic from its other addresses, and the calls it places itself ----

const Endpoint kProxyOtherAddress = test::endpoint("192.0.2.99", 40002);  // e.g. the kernel's choice of source

TEST(EvidenceRules, LookupFromAnotherAddressInsideTheRequestsWaitIsDnsFailureSayingHowItWasTied) {
    Capture capture;
    capture.request(0, call(1));
    capture.dns(0.001, kProxyOtherAddress, kResolver, dns_query(dns::srv, kSrvName));
    capture.dns(0.011, kResolver, kProxyOtherAddress, dns_answer(dns::srv, kSrvName, dns::servfail));
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "another address than this server's SIP address")) << test::all_evidence(*verdict);

    Capture same_address;
    same_address.request(0, call(1));
    same_address.servfail(0.001);
    const auto tied_by_address = same_address.respond(0.02, call(1), 503);
    ASSERT_TRUE(tied_by_address);
    EXPECT_LT(verdict->confidence, tied_by_address->confidence) << "a tie by timing alone is weaker than one by address";
}

TEST(EvidenceRules, LookupFromAnotherAddressThatBeganBeforeTheRequestIsNotTiedToIt) {
    Capture capture;
    capture.dns(0, kProxyOtherAddress, kResolver, dns_query(dns::srv, kSrvName));
    capture.request(0.001, call(1));
    capture.dns(0.011, kResolver, kProxyOtherAddress, dns_answer(dns::srv, kSrvName, dns::servfail));
    const auto verdict = capture.respond(0.02, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "SERVFAIL")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, ImmediateRefusalSecondsAfterTheServersOwnLookupFailedIsThatFailureRemembered) {
    Capture capture;
    capture.dns(0, kProxyClientPort, kResolver, dns_query(dns::srv, kSrvName));
    capture.dns(0.01, kResolver, kProxyClientPort, dns_answer(dns::srv, kSrvName, dns::nxdomain));
    capture.request(2, call(1));
    const auto verdict = capture.respond(2.001, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "answered from the failure it remembered"));
}

// The first request waits while another local address's lookup fails (tied once, by timing); the next
// one is refused at once, from the negative cache.
std::optional<Verdict> refusal_after_a_lookup_tied_once(Capture& capture, double second_request_at_s) {
    capture.request(0, call(1));
    capture.dns(0.001, kProxyOtherAddress, kResolver, dns_query(dns::srv, kSrvName));
    capture.dns(0.011, kResolver, kProxyOtherAddress, dns_answer(dns::srv, kSrvName, dns::servfail));
    capture.respond(0.02, call(1), 503);
    capture.request(second_request_at_s, call(2));
    return capture.respond(second_request_at_s + 0.001, call(2), 503);
}

TEST(EvidenceRules, ImmediateRefusalAfterAFailureTiedOnceToAnEarlierRequestIsThatFailureRemembered) {
    Capture capture;
    const auto verdict = refusal_after_a_lookup_tied_once(capture, 0.5);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "whose failure fell inside the wait of an earlier request of this server"));
    EXPECT_TRUE(HasEvidence(*verdict, "answered from the failure it remembered"));
}

TEST(EvidenceRules, AFailureTiedOnceIsNotRememberedPastANegativeCache) {
    Capture capture;
    const auto verdict = refusal_after_a_lookup_tied_once(capture, 30);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, AFailureTiedOnceDoesNotExplainARequestThatWaited) {
    Capture capture;
    capture.request(0, call(1));
    capture.dns(0.001, kProxyOtherAddress, kResolver, dns_query(dns::srv, kSrvName));
    capture.dns(0.011, kResolver, kProxyOtherAddress, dns_answer(dns::srv, kSrvName, dns::servfail));
    capture.respond(0.02, call(1), 503);
    capture.request(0.5, call(2));
    const auto verdict = capture.respond(2.5, call(2), 503);  // waited 2 s on something the capture does not show
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "SERVFAIL")) << test::all_evidence(*verdict);
}

// Older than a negative cache holds, a failure may still be a destination held down until the next
// keepalive (a trunk's qualify every 30 to 60 s): a lead at the lowest confidence that names a cause.
std::optional<Verdict> refusal_after_a_lookup_failed(Capture& capture, double seconds_before) {
    capture.dns(0, kProxyClientPort, kResolver, dns_query(dns::srv, kSrvName));
    capture.dns(0.01, kResolver, kProxyClientPort, dns_answer(dns::srv, kSrvName, dns::nxdomain));
    capture.request(0.01 + seconds_before, call(1));
    return capture.respond(0.011 + seconds_before, call(1), 503);
}

TEST(EvidenceRules, ALookupFailureOlderThanANegativeCacheHoldsIsOnlyALead) {
    Capture capture;
    const auto verdict = refusal_after_a_lookup_failed(capture, 30);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
    EXPECT_LT(verdict->confidence, 60);
    EXPECT_TRUE(HasEvidence(*verdict, "may still hold that destination as down until its next keepalive"));
}

TEST(EvidenceRules, ALookupFailureOlderThanAKeepaliveIntervalIsHistoryNotTheReason) {
    Capture capture;
    const auto verdict = refusal_after_a_lookup_failed(capture, 61);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
}

// A PBX's lookups leave from the host's own address, its SIP from its service address: the lookup of a
// name followed at once by the server's request to that name makes them one host, so an earlier
// failed lookup from that address (a trunk marked unavailable by its qualify) explains a refusal.
std::optional<Verdict> refusal_after_a_lookup_elsewhere(Capture& capture, bool server_sends_to_the_name) {
    const std::string trunk = "example.com";  // the name every test request is sent to
    capture.dns(0, kProxyOtherAddress, kResolver, dns_query(dns::a, "dead-trunk.example.net", 1));
    capture.dns(0.01, kResolver, kProxyOtherAddress, dns_answer(dns::a, "dead-trunk.example.net", dns::nxdomain, 1));
    capture.request(1, call(1));
    capture.dns(1.001, kProxyOtherAddress, kResolver, dns_query(dns::a, trunk, 2));
    capture.dns(1.002, kResolver, kProxyOtherAddress, dns_answer(dns::a, trunk, dns::noerror, 2));
    if (server_sends_to_the_name) capture.request(1.003, onward(call(1)), kProxy, kNextHop);
    capture.request(3, call(2));
    return capture.respond(3.001, call(2), 503);
}

TEST(EvidenceRules, AnAddressThatResolvesTheNamesAServerSendsToIsThatServersOwn) {
    Capture capture;
    const auto verdict = refusal_after_a_lookup_elsewhere(capture, true);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "another address of this server (it looked example.com up in frame 5 and this "
                                      "server sent a request to that name in frame 6)"));
    EXPECT_TRUE(HasEvidence(*verdict, "answered from the failure it remembered"));
}

TEST(EvidenceRules, ALookupFromAnotherAddressThatNoRequestFollowedTiesNothing) {
    Capture capture;
    const auto verdict = refusal_after_a_lookup_elsewhere(capture, false);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "NXDOMAIN")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, AMissingSrvRecordWhoseDomainResolvedIsNoFailureToRemember) {
    Capture capture;
    capture.dns(0, kProxyClientPort, kResolver, dns_query(dns::srv, kSrvName, 1));
    capture.dns(0.001, kResolver, kProxyClientPort, dns_answer(dns::srv, kSrvName, dns::nxdomain, 1));
    capture.dns(0.002, kProxyClientPort, kResolver, dns_query(dns::a, "carrier.example.net", 2));
    capture.dns(0.003, kResolver, kProxyClientPort, dns_answer(dns::a, "carrier.example.net", dns::noerror, 2));
    capture.request(2, call(1));
    const auto verdict = capture.respond(2.001, call(1), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(IsCause(*verdict, Cause::dns_failure)) << test::all_evidence(*verdict);
}

// A trunk or dispatcher keepalive whose connection was refused marks the hop down: the next request
// for it is refused at once, with nothing sent.
std::optional<Verdict> refusal_after_a_connection_refused_by(Capture& capture, const Endpoint& peer) {
    const Endpoint own_connection = test::endpoint("192.0.2.20", 40003);
    capture.tcp(0, own_connection, peer, TcpFlags::syn);
    capture.tcp(0.001, peer, own_connection, TcpFlags::reset | TcpFlags::ack);
    capture.request(3, call(1));
    return capture.respond(3.001, call(1), 503);
}

TEST(EvidenceRules, ImmediateRefusalSecondsAfterTheServersOwnConnectionWasRefusedIsThatFailureRemembered) {
    Capture capture;
    const auto verdict = refusal_after_a_connection_refused_by(capture, kNextHop);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "refused: answered by RST"));
    EXPECT_TRUE(HasEvidence(*verdict, "answered from the failure it remembered"));
}

// A PBX keeps qualifying phones that are gone: their failures say nothing of a call to someone else.
std::optional<Verdict> refusal_after_a_registered_phone_refused(Capture& capture, const std::string& callee) {
    const Endpoint phone = test::endpoint("203.0.113.7");
    const Txn registration = call(90, "carol", "carol", "REGISTER");
    capture.request(0, registration, phone, kProxy);
    capture.respond(0.001, registration, 200, {"Contact: <sip:carol@203.0.113.7:5060>;expires=3600"}, kProxy, phone);
    const Endpoint own_connection = test::endpoint("192.0.2.20", 40003);
    capture.tcp(1, own_connection, phone, TcpFlags::syn);
    capture.tcp(1.001, phone, own_connection, TcpFlags::reset | TcpFlags::ack);
    capture.request(3, call(1, "alice", callee));
    return capture.respond(3.001, call(1, "alice", callee), 503);
}

TEST(EvidenceRules, AnotherUsersPhoneFailingIsNotWhatACallToSomeoneElseMet) {
    Capture capture;
    const auto verdict = refusal_after_a_registered_phone_refused(capture, "bob");
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "refused: answered by RST")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, TheCalleesOwnPhoneFailingIsItsStaleRegistrationRemembered) {
    Capture capture;
    const auto verdict = refusal_after_a_registered_phone_refused(capture, "carol");
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::registration_routing)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "answered from the failure it remembered"));
}

TEST(EvidenceRules, AConnectionToTheRefusedClientItselfIsNotAHopRemembered) {
    Capture capture;
    const auto verdict = refusal_after_a_connection_refused_by(capture, kClient);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "answered from the failure it remembered")) << test::all_evidence(*verdict);
}

// A back-to-back agent (Asterisk, FreeSWITCH) places a call of its own, under a new Call-ID.
Txn own_call(int n, const std::string& to) {
    Txn txn = call(n, "pbx", to);
    txn.call_id = "own-" + std::to_string(n) + "@192.0.2.20";
    txn.vias = {test::via("192.0.2.20:5060", "z9hG4bK-own-" + std::to_string(n))};
    return txn;
}

TEST(EvidenceRules, BackToBackAgentPassingOnTheFailureOfItsOwnCallToTheSameCalleeIsUpstreamFailure) {
    Capture capture;
    capture.request(0, call(1, "alice", "bob"));                                              // frame 1
    capture.request(0.002, own_call(2, "bob"), kProxy, kNextHop);                              // frame 2
    capture.respond(0.004, own_call(2, "bob"), 503, {"Reason: Q.850;cause=34"}, kNextHop, kProxy);  // frame 3
    const auto verdict = capture.respond(0.006, call(1, "alice", "bob"), 503, {"Reason: Q.850;cause=34"});
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
    const Evidence* relayed = test::evidence_with(*verdict, "placed its own INVITE to the same callee (bob) in frame 2");
    ASSERT_NE(relayed, nullptr) << test::all_evidence(*verdict);
    EXPECT_EQ(relayed->frames, (std::vector<std::uint32_t>{2, 3, 4}));
    EXPECT_TRUE(HasEvidence(*verdict, "this server's own wording for the failed onward call"))
        << "its Q.850 34 is its mapping of the failed call, not a shortage of its own";
}

TEST(EvidenceRules, OwnCallToAnotherCalleeIsTiedByTimingOnlyAndWeighsLess) {
    Capture same_callee;
    same_callee.request(0, call(1, "alice", "bob"));
    same_callee.request(0.002, own_call(2, "bob"), kProxy, kNextHop);
    same_callee.respond(0.004, own_call(2, "bob"), 503, {}, kNextHop, kProxy);
    const auto strong = same_callee.respond(0.006, call(1, "alice", "bob"), 503);

    Capture other_callee;
    other_callee.request(0, call(1, "alice", "bob"));
    other_callee.request(0.002, own_call(2, "carol"), kProxy, kNextHop);
    other_callee.respond(0.004, own_call(2, "carol"), 503, {}, kNextHop, kProxy);
    const auto weak = other_callee.respond(0.006, call(1, "alice", "bob"), 503);
    ASSERT_TRUE(strong && weak);
    EXPECT_TRUE(HasEvidence(*weak, "tied by timing only")) << test::all_evidence(*weak);
    EXPECT_LT(weak->confidence, strong->confidence);
}

TEST(EvidenceRules, OwnCallPlacedBeforeTheRequestArrivedIsNotItsOnwardLeg) {
    Capture capture;
    capture.request(0, own_call(2, "bob"), kProxy, kNextHop);
    capture.request(0.001, call(1, "alice", "bob"));
    capture.respond(0.004, own_call(2, "bob"), 503, {}, kNextHop, kProxy);
    const auto verdict = capture.respond(0.006, call(1, "alice", "bob"), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "placed its own")) << test::all_evidence(*verdict);
}

// A back-to-back agent whose own call meets a silent next hop sends it again (UDP: 0.5 s, 1 s, 2 s ...)
// and answers its caller when the transaction gives up, 32 s after it began (RFC 3261 timer B).
std::optional<Verdict> refusal_after_a_silent_own_call(const std::string& onward_callee, int onward_answer = 0) {
    Capture capture;
    capture.request(0, call(1, "alice", "bob"));                              // frame 1
    capture.request(0.002, own_call(2, onward_callee), kProxy, kNextHop);      // frame 2
    int frame = 2;
    for (double resent_at : {0.502, 1.502, 3.502, 7.502, 15.502, 31.502}) {
        capture.request(resent_at, own_call(2, onward_callee), kProxy, kNextHop);
        ++frame;
        if (onward_answer != 0 && frame == 3) capture.respond(0.6, own_call(2, onward_callee), onward_answer, {}, kNextHop, kProxy);
    }
    return capture.respond(32.002, call(1, "alice", "bob"), 503);
}

TEST(EvidenceRules, BackToBackAgentRefusingWhenItsOwnCallToASilentHopTimedOutIsUpstreamFailure) {
    const auto verdict = refusal_after_a_silent_own_call("bob");
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "placed its own INVITE to the same callee (bob) in frame 2"));
    EXPECT_TRUE(HasEvidence(*verdict, "never answered it (sent 7 times, the last in frame 8)"));
    EXPECT_GE(verdict->confidence, 60);
}

TEST(EvidenceRules, ASilentOwnCallToAnotherCalleeIsTiedByTimingOnly) {
    const auto same = refusal_after_a_silent_own_call("bob");
    const auto other = refusal_after_a_silent_own_call("carol");
    ASSERT_TRUE(same && other);
    EXPECT_TRUE(HasEvidence(*other, "never answered it")) << test::all_evidence(*other);
    EXPECT_TRUE(HasEvidence(*other, "tied by timing only"));
    EXPECT_LT(other->confidence, same->confidence);
}

TEST(EvidenceRules, AnOwnCallTheNextHopAnsweredIsNotSilent) {
    const auto verdict = refusal_after_a_silent_own_call("bob", 100);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "never answered it")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, ARefusalAtOnceIsNotASilentHopsTimeout) {
    Capture capture;
    capture.request(0, own_call(2, "bob"), kProxy, kNextHop);
    capture.request(0.5, own_call(2, "bob"), kProxy, kNextHop);
    capture.request(30, call(1, "alice", "bob"));
    capture.request(30.5, own_call(2, "bob"), kProxy, kNextHop);
    const auto verdict = capture.respond(30.501, call(1, "alice", "bob"), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "never answered it")) << test::all_evidence(*verdict);
}

// A PBX taken out of service by a dialplan switch: four calls taken and up, then every new call is
// refused at once (first in frame 12) while the calls up end one by one. `hang_up` false: the calls stay up (a ceiling).
struct SwitchedOff {
    bool hang_up = true;
    Headers refusal_headers = {};
    bool one_call_taken_between = false;
};

std::optional<Verdict> third_refusal_after_service_stopped(const SwitchedOff& how) {
    Capture capture;
    const std::vector<std::string> callers = {"ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal"};
    for (int n = 1; n <= 4; ++n) {
        capture.request(n * 0.1, call(n, callers[n - 1], "10" + std::to_string(n)));
        capture.respond(n * 0.1 + 0.05, call(n, callers[n - 1], "10" + std::to_string(n)), 200);
    }
    std::optional<Verdict> verdict;
    for (int n = 5; n <= 7; ++n) {
        const double at = n;
        if (how.hang_up) {
            const Txn bye = test::next_in_call(call(n - 4, callers[n - 5], "10" + std::to_string(n - 4)), "BYE");
            capture.request(at - 0.5, bye);
            capture.respond(at - 0.49, bye, 200);
        }
        if (how.one_call_taken_between && n == 6) {
            capture.request(at - 0.3, call(20, "ivy", "120"));
            capture.respond(at - 0.29, call(20, "ivy", "120"), 200);
        }
        const Txn refused = call(n, callers[n - 1], "10" + std::to_string(n));
        capture.request(at, refused);
        verdict = capture.respond(at + 0.002, refused, 503, how.refusal_headers);
    }
    return verdict;
}

TEST(EvidenceRules, EveryNewCallRefusedAtOnceWhileTheCallsUpEndIsAServerTakenOutOfService) {
    const auto verdict = third_refusal_after_service_stopped({});
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::maintenance)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "Every new call since frame 12 was refused at once (3 in a row"));
}

TEST(EvidenceRules, NewCallsRefusedWhileTheCallsUpHoldStillFitACeiling) {
    const auto verdict = third_refusal_after_service_stopped({.hang_up = false});
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "Every new call since")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, ANewCallTakenMeanwhileEndsTheRunOfRefusals) {
    const auto verdict = third_refusal_after_service_stopped({.one_call_taken_between = true});
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "Every new call since")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, CongestionNamedWhileNewCallsAreRefusedBelowTheCountWhereRefusalsBeganIsLoad) {
    // Asterisk's maxload sends Q.850 42 like its maxcalls; calls ending without any new one taken rule out the limit.
    const auto verdict = third_refusal_after_service_stopped({.refusal_headers = {"Reason: Q.850;cause=42"}});
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::overload)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "so its load, not a call limit"));
    EXPECT_FALSE(HasEvidence(*verdict, "as a server taken out of service does"));
}

TEST(EvidenceRules, RefusalsThatNameTheirCauseAreNotReadAsSilentMaintenance) {
    for (const Headers& headers : {Headers{"Retry-After: 30"}, Headers{"Warning: 399 pbx \"Call Limit Reached\""}}) {
        const auto verdict = third_refusal_after_service_stopped({.refusal_headers = headers});
        ASSERT_TRUE(verdict);
        EXPECT_FALSE(HasEvidence(*verdict, "Every new call since")) << headers.front() << "\n" << test::all_evidence(*verdict);
    }
}

TEST(EvidenceRules, ImmediateUnforwardedRefusalRightAfterItsNextHopFailedHoldsTheHopsAsDown) {
    Capture capture;
    capture.request(0, call(1));                                       // frame 1
    capture.request(0.001, onward(call(1)), kProxy, kNextHop);         // frame 2
    capture.respond(0.003, onward(call(1)), 500, {}, kNextHop, kProxy);  // frame 3
    capture.respond(0.004, call(1), 503);                              // frame 4
    capture.request(1, call(5));                                       // frame 5
    const auto verdict = capture.respond(1.001, call(5), 503);         // frame 6
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "holds its next hops as down"));
}

TEST(EvidenceRules, AHopThatAnsweredSinceItsFailureIsNotHeldAsDown) {
    Capture capture;
    capture.request(0, call(1));
    capture.request(0.001, onward(call(1)), kProxy, kNextHop);
    capture.respond(0.003, onward(call(1)), 500, {}, kNextHop, kProxy);
    capture.respond(0.004, call(1), 503);
    capture.request(0.5, call(2));
    const Txn second_onward = test::forwarded(call(2), "192.0.2.20:5060", "z9hG4bK-proxy-2");
    capture.request(0.501, second_onward, kProxy, kNextHop);
    capture.respond(0.502, second_onward, 200, {}, kNextHop, kProxy);
    capture.request(1, call(5));
    const auto verdict = capture.respond(1.001, call(5), 503);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "holds its next hops as down")) << test::all_evidence(*verdict);
}

// The next hop fails at 0 s; `probe_fails_at_s` (0: never) the server's own OPTIONS to it bounces;
// a request at `request_at_s` is refused at once.
std::optional<Verdict> refusal_long_after_a_hop_failed(double probe_fails_at_s, double request_at_s) {
    Capture capture;
    capture.request(0, call(1));
    capture.request(0.001, onward(call(1)), kProxy, kNextHop);
    capture.respond(0.003, onward(call(1)), 500, {}, kNextHop, kProxy);
    capture.respond(0.004, call(1), 503);
    if (probe_fails_at_s > 0) {
        capture.request(probe_fails_at_s, call(9, "proxy", "gateway", "OPTIONS"), kProxy, kNextHop);
        capture.icmp(probe_fails_at_s + 0.0001, kNextHop, kProxy, test::port_unreachable(kProxy, kNextHop));
    }
    capture.request(request_at_s, call(5));
    return capture.respond(request_at_s + 0.001, call(5), 503);
}

TEST(EvidenceRules, AHopFailedLongAgoIsStillHeldAsDownWhileTheServersOwnTrafficToItKeepsFailing) {
    const auto verdict = refusal_long_after_a_hop_failed(29.5, 30);
    ASSERT_TRUE(verdict);
    EXPECT_TRUE(IsCause(*verdict, Cause::upstream_failure)) << test::all_evidence(*verdict);
    EXPECT_TRUE(HasEvidence(*verdict, "was still failing 499.9 ms before this request")) << test::all_evidence(*verdict);
}

TEST(EvidenceRules, AHopFailedLongAgoWithNothingSinceIsNotHeldAsDown) {
    const auto verdict = refusal_long_after_a_hop_failed(0, 30);
    ASSERT_TRUE(verdict);
    EXPECT_FALSE(HasEvidence(*verdict, "holds its next hops as down")) << test::all_evidence(*verdict);
    const auto probe_long_ago = refusal_long_after_a_hop_failed(5, 30);
    ASSERT_TRUE(probe_long_ago);
    EXPECT_FALSE(HasEvidence(*probe_long_ago, "holds its next hops as down")) << test::all_evidence(*probe_long_ago);
}

}  // namespace
}  // namespace diag503
