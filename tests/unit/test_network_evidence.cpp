// Unit tests of NetworkEvidence: DNS, TCP, TLS, ICMP and database messages in, each host's failures out.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "evidence/network_evidence.hpp"
#include "sip_builders.hpp"

namespace diag503 {
namespace {

using test::client_hello;
using test::dns_answer;
using test::dns_query;
using test::encrypted_records;
using test::fatal_alert;
using test::server_hello;
namespace dns = test::dns;

const Endpoint kProxy = test::endpoint("192.0.2.20", 40001);  // the SIP server, as a client of other services
const Endpoint kResolver = test::endpoint("192.0.2.53", 53);
const Endpoint kNextHop = test::endpoint("203.0.113.9", 5060);
const Endpoint kTlsHop = test::endpoint("203.0.113.9", 5061);
const Endpoint kRouter = test::endpoint("198.51.100.1", 0);
const Endpoint kDatabase = test::endpoint("192.0.2.40", 5432);
const std::string kSrvName = "_sip._udp.example.net";

constexpr std::uint16_t kSyn = TcpFlags::syn;
constexpr std::uint16_t kSynAck = TcpFlags::syn | TcpFlags::ack;
constexpr std::uint16_t kResetAck = TcpFlags::reset | TcpFlags::ack;
constexpr std::uint16_t kFinAck = TcpFlags::fin | TcpFlags::ack;

// Feeds one NetworkEvidence frame by frame, numbering frames from 1, times in seconds since the capture start.
class Traffic {
public:
    explicit Traffic(const Settings& settings = Settings{}) : evidence_(settings) {}

    void dns(double at_s, const Endpoint& from, const Endpoint& to, const DnsMessage& message) {
        evidence_.observe_dns(next(at_s, from, to), message);
    }
    void tcp(double at_s, const Endpoint& from, const Endpoint& to, std::uint16_t flags) {
        evidence_.observe_tcp(next(at_s, from, to, Transport::tcp), flags);
    }
    void tls(double at_s, const Endpoint& from, const Endpoint& to, const TlsSummary& records) {
        evidence_.observe_tls(next(at_s, from, to, Transport::tcp), records);
    }
    void icmp(double at_s, const Endpoint& from, const Endpoint& to, const IcmpError& error) {
        evidence_.observe_icmp(next(at_s, from, to, Transport::other), error);
    }
    void database(double at_s, const Endpoint& from, const Endpoint& to, const DatabaseError& error) {
        evidence_.observe_database_error(next(at_s, from, to, Transport::tcp), error);
    }

    bool forgotten(const std::string& address) const { return evidence_.host_forgotten(address); }

    // The failures of `address` as seen at `now_s`, from `since_s` on.
    std::vector<NetworkEvent> failures_of(const std::string& address, double now_s, double since_s = 0) const {
        return evidence_.failures_of(address, test::kCaptureStartUs + test::microseconds(since_s),
                                     test::kCaptureStartUs + test::microseconds(now_s));
    }

private:
    PacketMeta next(double at_s, const Endpoint& from, const Endpoint& to, Transport transport = Transport::udp) {
        return test::packet(++frame_, at_s, from, to, transport);
    }

    NetworkEvidence evidence_;
    std::uint32_t frame_ = 0;
};

std::vector<std::uint32_t> frames_of(const std::vector<NetworkEvent>& events) {
    std::vector<std::uint32_t> frames;
    for (const auto& event : events) frames.push_back(event.frame);
    return frames;
}

// A PostgreSQL error sent to the proxy at `at_s`: one failure of the proxy, in the next frame.
void database_refusal(Traffic& traffic, double at_s) {
    traffic.database(at_s, kDatabase, kProxy, test::database_error("PostgreSQL", "FATAL", "53300", "too many clients"));
}

// ---- Bounds ----

TEST(NetworkEvidence, AHostPushedOutAtTheServerBoundIsKnownToBeForgotten) {
    Settings settings;
    settings.max_servers = 1;
    Traffic traffic(settings);
    database_refusal(traffic, 1);                                                             // the proxy's failure
    traffic.database(2, kDatabase, test::endpoint("192.0.2.77", 40000),
                     test::database_error("PostgreSQL", "FATAL", "53300", "too many clients"));  // pushes the proxy out
    EXPECT_TRUE(traffic.forgotten(kProxy.address));
    EXPECT_FALSE(traffic.forgotten("192.0.2.77"));
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 3).empty());
}

// ---- DNS ----

TEST(NetworkEvidence, ServfailAnswerIsADnsFailureOfTheQueryingHostCitingQueryAndAnswer) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    traffic.dns(0.02, kResolver, kProxy, dns_answer(dns::srv, kSrvName, dns::servfail));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    const NetworkEvent& failure = failures[0];
    EXPECT_EQ(failure.kind, EvidenceKind::dns);
    EXPECT_EQ(failure.attempt_frame, 1u);
    EXPECT_EQ(failure.frame, 2u);
    EXPECT_EQ(failure.time_us, test::kCaptureStartUs + 20000);
    EXPECT_EQ(failure.peer_address, "192.0.2.53");
    EXPECT_EQ(failure.peer_port, 53);
    EXPECT_EQ(failure.subject, kSrvName);
    EXPECT_EQ(failure.sentence, "DNS SRV query for _sip._udp.example.net (frame 1) answered SERVFAIL by 192.0.2.53 (frame 2)");
}

TEST(NetworkEvidence, NxdomainAndRefusedAnswersAreDnsFailuresToo) {
    for (std::uint8_t rcode : {dns::nxdomain, dns::refused}) {
        SCOPED_TRACE(std::string(dns_rcode_name(rcode)));
        Traffic traffic;
        traffic.dns(0, kProxy, kResolver, dns_query(dns::naptr, "example.net"));
        traffic.dns(0.02, kResolver, kProxy, dns_answer(dns::naptr, "example.net", rcode));
        const auto failures = traffic.failures_of(kProxy.address, 1);
        ASSERT_EQ(failures.size(), 1u);
        EXPECT_EQ(failures[0].kind, EvidenceKind::dns);
        EXPECT_EQ(failures[0].sentence, "DNS NAPTR query for example.net (frame 1) answered " +
                                            std::string(dns_rcode_name(rcode)) + " by 192.0.2.53 (frame 2)");
    }
}

TEST(NetworkEvidence, TheResolverItselfHasNoFailure) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    traffic.dns(0.02, kResolver, kProxy, dns_answer(dns::srv, kSrvName, dns::servfail));
    EXPECT_TRUE(traffic.failures_of(kResolver.address, 5).empty());
}

TEST(NetworkEvidence, NoerrorAnswerIsNoFailureAndLeavesNothingUnanswered) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::a, "gw.example.net"));
    traffic.dns(0.02, kResolver, kProxy, dns_answer(dns::a, "gw.example.net", dns::noerror));
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, NoerrorWithoutAnswerRecordsIsNoFailure) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::aaaa, "gw.example.net"));
    DnsMessage no_data = dns_answer(dns::aaaa, "gw.example.net", dns::noerror);
    no_data.answer_count = 0;
    traffic.dns(0.02, kResolver, kProxy, no_data);
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, PtrAndTxtQueriesAreNoFailureEvenWhenRefusedOrUnanswered) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::ptr, "10.2.0.192.in-addr.arpa", 1));
    traffic.dns(0.02, kResolver, kProxy, dns_answer(dns::ptr, "10.2.0.192.in-addr.arpa", dns::servfail, 1));
    traffic.dns(0.1, kProxy, kResolver, dns_query(dns::txt, "example.net", 2));  // never answered
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, UnansweredSrvQueryIsAFailureOnlyAfterTheGracePeriod) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 0.4).empty());
    const auto failures = traffic.failures_of(kProxy.address, 0.6);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::dns);
    EXPECT_EQ(failures[0].frame, 1u);
    EXPECT_EQ(failures[0].attempt_frame, 1u);
    EXPECT_EQ(failures[0].peer_address, "192.0.2.53");
    EXPECT_EQ(failures[0].subject, kSrvName);
    EXPECT_EQ(failures[0].sentence, "DNS SRV query for _sip._udp.example.net to 192.0.2.53 (frame 1): no answer within 600.0 ms");
}

TEST(NetworkEvidence, RetransmittedQueryIsOneFailureSentNTimes) {
    Traffic traffic;
    for (double at : {0.0, 1.0, 3.0}) traffic.dns(at, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    const auto failures = traffic.failures_of(kProxy.address, 4);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].frame, 1u);
    EXPECT_EQ(failures[0].sentence,
              "DNS SRV query for _sip._udp.example.net to 192.0.2.53 (frame 1), sent 3 times: no answer within 4.000 s");
}

TEST(NetworkEvidence, AnswerToARetransmittedQueryClearsIt) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    traffic.dns(1, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    traffic.dns(1.01, kResolver, kProxy, dns_answer(dns::srv, kSrvName, dns::noerror));
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, AnAnswerClearsOnlyTheQueryWithItsId) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::srv, kSrvName, 1));
    traffic.dns(0.01, kProxy, kResolver, dns_query(dns::srv, kSrvName, 2));
    traffic.dns(0.02, kResolver, kProxy, dns_answer(dns::srv, kSrvName, dns::noerror, 2));
    const auto failures = traffic.failures_of(kProxy.address, 5);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].frame, 1u);
}

// ---- TCP ----

TEST(NetworkEvidence, SynAnsweredByResetIsATransportFailureOfTheConnectingHost) {
    Traffic traffic;
    traffic.tcp(0, kProxy, kNextHop, kSyn);
    traffic.tcp(0.001, kNextHop, kProxy, kResetAck);
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::transport);
    EXPECT_EQ(failures[0].attempt_frame, 1u);
    EXPECT_EQ(failures[0].frame, 2u);
    EXPECT_EQ(failures[0].peer_address, "203.0.113.9");
    EXPECT_EQ(failures[0].peer_port, 5060);
    EXPECT_EQ(failures[0].sentence, "TCP connection to 203.0.113.9:5060 (frame 1) refused: answered by RST (frame 2)");
    EXPECT_TRUE(traffic.failures_of(kNextHop.address, 1).empty());
}

TEST(NetworkEvidence, ResetFromADatabasePortIsADatabaseFailure) {
    for (std::uint16_t port : {5432, 3306, 6379, 27017}) {
        SCOPED_TRACE(port);
        Traffic traffic;
        const Endpoint database = test::endpoint("192.0.2.40", port);
        traffic.tcp(0, kProxy, database, kSyn);
        traffic.tcp(0.001, database, kProxy, kResetAck);
        const auto failures = traffic.failures_of(kProxy.address, 1);
        ASSERT_EQ(failures.size(), 1u);
        EXPECT_EQ(failures[0].kind, EvidenceKind::database);
    }
}

TEST(NetworkEvidence, SynAnsweredBySynAckIsNoFailure) {
    Traffic traffic;
    traffic.tcp(0, kProxy, kNextHop, kSyn);
    traffic.tcp(0.001, kNextHop, kProxy, kSynAck);
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, NormalCloseOfAnEstablishedConnectionIsNoFailure) {
    Traffic traffic;
    traffic.tcp(0, kProxy, kNextHop, kSyn);
    traffic.tcp(0.001, kNextHop, kProxy, kSynAck);
    traffic.tcp(2, kProxy, kNextHop, kFinAck);
    traffic.tcp(2.001, kNextHop, kProxy, kFinAck);
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, SynsNeverAnsweredAreNoSynAckAfterTheGracePeriod) {
    Traffic traffic;
    traffic.tcp(0, kProxy, kNextHop, kSyn);
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 0.3).empty());
    traffic.tcp(1, kProxy, kNextHop, kSyn);
    traffic.tcp(3, kProxy, kNextHop, kSyn);
    const auto failures = traffic.failures_of(kProxy.address, 4);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::transport);
    EXPECT_EQ(failures[0].frame, 1u);
    EXPECT_EQ(failures[0].peer_address, "203.0.113.9");
    EXPECT_EQ(failures[0].sentence, "TCP connection attempt to 203.0.113.9:5060 (frame 1), sent 3 times: no SYN-ACK within 4.000 s");
}

TEST(NetworkEvidence, SynsNeverAnsweredByADatabaseAreADatabaseFailure) {
    Traffic traffic;
    traffic.tcp(0, kProxy, kDatabase, kSyn);
    const auto failures = traffic.failures_of(kProxy.address, 2);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::database);
    EXPECT_EQ(failures[0].sentence, "TCP connection attempt to 192.0.2.40:5432 (frame 1): no SYN-ACK within 2.000 s");
}

// ---- TLS ----

TEST(NetworkEvidence, FatalAlertFromTheServerIsATlsFailureOfTheClientHost) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    traffic.tls(0.01, kTlsHop, kProxy, fatal_alert(40));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::tls);
    EXPECT_EQ(failures[0].attempt_frame, 1u);
    EXPECT_EQ(failures[0].frame, 2u);
    EXPECT_EQ(failures[0].peer_address, "203.0.113.9");
    EXPECT_EQ(failures[0].peer_port, 5061);
    EXPECT_EQ(failures[0].sentence, "TLS handshake with 203.0.113.9:5061 (frame 1) refused: 203.0.113.9:5061 sent a fatal "
                                    "TLS alert handshake_failure (frame 2)");
    EXPECT_TRUE(traffic.failures_of(kTlsHop.address, 1).empty());
}

TEST(NetworkEvidence, ClientsOwnFatalAlertIsAnAbortedHandshake) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    traffic.tls(0.01, kTlsHop, kProxy, server_hello());
    traffic.tls(0.02, kProxy, kTlsHop, fatal_alert(48));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::tls);
    EXPECT_EQ(failures[0].attempt_frame, 1u);
    EXPECT_EQ(failures[0].frame, 3u);
    EXPECT_EQ(failures[0].peer_address, "203.0.113.9");
    EXPECT_EQ(failures[0].sentence,
              "TLS handshake with 203.0.113.9:5061 (frame 1) aborted: this host sent a fatal TLS alert unknown_ca (frame 3)");
}

TEST(NetworkEvidence, WarningAlertIsNoFailure) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    TlsSummary warning;
    warning.alert = TlsAlert{1, 0};  // close_notify
    traffic.tls(0.01, kTlsHop, kProxy, warning);
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 0.2).empty());
}

TEST(NetworkEvidence, Tls13HandshakeWithEncryptedRecordsBothWaysIsComplete) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    TlsSummary hello_and_encrypted = server_hello();
    hello_and_encrypted.application_data = true;
    traffic.tls(0.01, kTlsHop, kProxy, hello_and_encrypted);
    traffic.tls(0.02, kProxy, kTlsHop, encrypted_records());  // the client's Finished
    traffic.tls(0.03, kTlsHop, kProxy, encrypted_records());  // the server's answer after it
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
    traffic.tcp(4, kProxy, kTlsHop, kFinAck);
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 5).empty());
}

TEST(NetworkEvidence, ServerEncryptedRecordsBeforeAnyFromTheClientDoNotCompleteTheHandshake) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    traffic.tls(0.01, kTlsHop, kProxy, server_hello());
    traffic.tls(0.011, kTlsHop, kProxy, encrypted_records());  // TLS 1.3 EncryptedExtensions, Certificate, ...
    const auto failures = traffic.failures_of(kProxy.address, 2);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::tls);
    EXPECT_EQ(failures[0].sentence, "TLS handshake with 203.0.113.9:5061 (frame 1) did not complete after its ServerHello within 2.000 s");
}

TEST(NetworkEvidence, ClientHelloThenCloseBeforeCompletionNeverCompleted) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    traffic.tcp(0.05, kProxy, kTlsHop, kFinAck);
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::tls);
    EXPECT_EQ(failures[0].attempt_frame, 1u);
    EXPECT_EQ(failures[0].frame, 2u);
    EXPECT_EQ(failures[0].sentence,
              "TLS handshake with 203.0.113.9:5061 (frame 1) never completed: the connection was closed by this host (frame 2)");
}

TEST(NetworkEvidence, ServerClosingAfterItsServerHelloNeverCompleted) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    traffic.tls(0.01, kTlsHop, kProxy, server_hello());
    traffic.tcp(0.05, kTlsHop, kProxy, kFinAck);
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].sentence, "TLS handshake with 203.0.113.9:5061 (frame 1) never completed: after its ServerHello, "
                                    "the connection was closed by 203.0.113.9:5061 (frame 3)");
}

TEST(NetworkEvidence, ClientHelloNeverAnsweredIsNoServerHelloAfterTheGracePeriod) {
    Traffic traffic;
    traffic.tls(0, kProxy, kTlsHop, client_hello());
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 0.4).empty());
    const auto failures = traffic.failures_of(kProxy.address, 2);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::tls);
    EXPECT_EQ(failures[0].frame, 1u);
    EXPECT_EQ(failures[0].peer_port, 5061);
    EXPECT_EQ(failures[0].sentence, "TLS handshake with 203.0.113.9:5061 (frame 1): no ServerHello within 2.000 s");
}

// ---- ICMP ----

TEST(NetworkEvidence, PortUnreachableIsFiledUnderTheQuotedSourceWithTheQuotedDestinationAsPeer) {
    Traffic traffic;
    const Endpoint sip_port = test::endpoint(kProxy.address, 5060);
    traffic.icmp(0, kRouter, sip_port, test::port_unreachable(sip_port, kNextHop));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::transport);
    EXPECT_EQ(failures[0].frame, 1u);
    EXPECT_EQ(failures[0].attempt_frame, 0u);
    EXPECT_EQ(failures[0].peer_address, "203.0.113.9");
    EXPECT_EQ(failures[0].peer_port, 5060);
    EXPECT_EQ(failures[0].sentence, "ICMP port unreachable from 198.51.100.1 for UDP to 203.0.113.9:5060 (frame 1)");
    EXPECT_TRUE(traffic.failures_of(kNextHop.address, 1).empty());
    EXPECT_TRUE(traffic.failures_of(kRouter.address, 1).empty());
}

TEST(NetworkEvidence, PortUnreachableForPort53IsADnsFailure) {
    Traffic traffic;
    traffic.icmp(0, kResolver, kProxy, test::port_unreachable(kProxy, kResolver));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::dns);
    EXPECT_EQ(failures[0].peer_address, "192.0.2.53");
    EXPECT_EQ(failures[0].peer_port, 53);
}

TEST(NetworkEvidence, ADnsAnswerBouncedAsPortUnreachableIsTheQueriersTimeoutNotTheResolversFailure) {
    // The resolver answered after the server had given up and closed its socket: the server's
    // kernel bounces the answer. The lookup timed out; the resolver met nothing.
    Traffic traffic;
    traffic.icmp(0, kProxy, kResolver, test::port_unreachable(kResolver, kProxy));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::dns);
    EXPECT_EQ(failures[0].peer_address, "192.0.2.53");
    EXPECT_EQ(failures[0].sentence, "A DNS answer from 192.0.2.53 reached 192.0.2.20 after it had stopped waiting, "
                                    "bounced as port unreachable (frame 1): its lookup timed out");
    EXPECT_TRUE(traffic.failures_of(kResolver.address, 1).empty());
}

TEST(NetworkEvidence, Icmpv6ErrorSaysIcmpv6AndBracketsTheAddress) {
    Traffic traffic;
    const Endpoint proxy = test::endpoint("2001:db8::20", 5060);
    const Endpoint hop = test::endpoint("2001:db8::9", 5060);
    traffic.icmp(0, hop, proxy, test::port_unreachable(proxy, hop, 6));
    const auto failures = traffic.failures_of("2001:db8::20", 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].sentence, "ICMPv6 port unreachable from 2001:db8::9 for TCP to [2001:db8::9]:5060 (frame 1)");
}

// ---- databases ----

TEST(NetworkEvidence, PostgresqlErrorIsFiledUnderTheReceivingClient) {
    Traffic traffic;
    traffic.database(0, kDatabase, kProxy,
                     test::database_error("PostgreSQL", "FATAL", "53300", "sorry, too many clients already"));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::database);
    EXPECT_EQ(failures[0].frame, 1u);
    EXPECT_EQ(failures[0].peer_address, "192.0.2.40");
    EXPECT_EQ(failures[0].peer_port, 5432);
    EXPECT_EQ(failures[0].sentence,
              "PostgreSQL FATAL 53300 error from 192.0.2.40:5432 (frame 1): \"sorry, too many clients already\"");
    EXPECT_TRUE(traffic.failures_of(kDatabase.address, 1).empty());
}

TEST(NetworkEvidence, MysqlErrorIsFiledUnderTheReceivingClient) {
    Traffic traffic;
    const Endpoint mysql = test::endpoint("192.0.2.41", 3306);
    traffic.database(0, mysql, kProxy, test::database_error("MySQL", "", "1040", "Too many connections"));
    const auto failures = traffic.failures_of(kProxy.address, 1);
    ASSERT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures[0].kind, EvidenceKind::database);
    EXPECT_EQ(failures[0].sentence, "MySQL 1040 error from 192.0.2.41:3306 (frame 1): \"Too many connections\"");
}

// ---- time window and bounds ----

TEST(NetworkEvidence, FailuresOfKeepsToItsTimeWindow) {
    Traffic traffic;
    for (double at : {1.0, 5.0, 9.0}) database_refusal(traffic, at);
    EXPECT_EQ(frames_of(traffic.failures_of(kProxy.address, 8, 2)), (std::vector<std::uint32_t>{2}));
    EXPECT_EQ(frames_of(traffic.failures_of(kProxy.address, 9, 5)), (std::vector<std::uint32_t>{2, 3}));  // both ends count
    EXPECT_EQ(frames_of(traffic.failures_of(kProxy.address, 0.5)), (std::vector<std::uint32_t>{}));
}

TEST(NetworkEvidence, UnansweredAttemptsBeforeTheWindowAreLeftOut) {
    Traffic traffic;
    traffic.dns(0, kProxy, kResolver, dns_query(dns::srv, kSrvName));
    EXPECT_TRUE(traffic.failures_of(kProxy.address, 10, 1).empty());
}

TEST(NetworkEvidence, FailuresComeOldestFirstWithUnansweredAttemptsInTheirPlace) {
    Traffic traffic;
    database_refusal(traffic, 1);                                          // frame 1
    traffic.dns(2, kProxy, kResolver, dns_query(dns::srv, kSrvName));     // frame 2, never answered
    database_refusal(traffic, 3);                                          // frame 3
    EXPECT_EQ(frames_of(traffic.failures_of(kProxy.address, 4)), (std::vector<std::uint32_t>{1, 2, 3}));
}

TEST(NetworkEvidence, AHostKeepsItsNewest32Failures) {
    Traffic traffic;
    for (int n = 0; n < 40; ++n) database_refusal(traffic, n * 0.1);
    const auto failures = traffic.failures_of(kProxy.address, 10);
    ASSERT_EQ(failures.size(), 32u);
    EXPECT_EQ(failures.front().frame, 9u);
    EXPECT_EQ(failures.back().frame, 40u);
}

TEST(NetworkEvidence, HostBoundForgetsTheOldestHost) {
    Settings settings;
    settings.max_servers = 2;
    Traffic traffic(settings);
    const std::vector<std::string> hosts = {"192.0.2.21", "192.0.2.22", "192.0.2.23"};
    for (std::size_t i = 0; i < hosts.size(); ++i)
        traffic.database(static_cast<double>(i), kDatabase, test::endpoint(hosts[i], 40000),
                         test::database_error("PostgreSQL", "FATAL", "53300", "too many clients"));
    EXPECT_TRUE(traffic.failures_of(hosts[0], 5).empty());
    EXPECT_EQ(traffic.failures_of(hosts[1], 5).size(), 1u);
    EXPECT_EQ(traffic.failures_of(hosts[2], 5).size(), 1u);
}

TEST(NetworkEvidence, AHostNeverSeenHasNoFailures) {
    Traffic traffic;
    database_refusal(traffic, 0);
    EXPECT_TRUE(traffic.failures_of("192.0.2.99", 5).empty());
}

}  // namespace
}  // namespace diag503
