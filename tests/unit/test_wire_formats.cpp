// Unit tests of the DNS, TLS record, ICMP/ICMPv6 error and PostgreSQL/MySQL error readers, on hand-built bytes.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <arpa/inet.h>  // inet_ntop, the reference the portable formatter is checked against
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire/wire_formats.hpp"

namespace diag503 {
namespace {

// ---- byte builders ----

std::string byte(unsigned value) { return std::string(1, static_cast<char>(value & 0xff)); }
std::string be16(unsigned value) { return byte(value >> 8) + byte(value); }
std::string be24(unsigned value) { return byte(value >> 16) + be16(value); }
std::string be32(std::uint32_t value) { return byte(value >> 24) + be24(value); }
std::string le24(unsigned value) { return byte(value) + byte(value >> 8) + byte(value >> 16); }

std::string bytes(std::initializer_list<unsigned> values) {
    std::string result;
    for (unsigned value : values) result += byte(value);
    return result;
}

// ---- DNS ----

constexpr unsigned kQuery = 0x0100;  // recursion desired
constexpr unsigned kResponse = 0x8180;  // QR, RD, RA; rcode 0
constexpr unsigned kTypeA = 1, kTypeAaaa = 28, kTypeSrv = 33, kTypeNaptr = 35;

std::string dns_header(unsigned flags, unsigned questions, unsigned answers = 0, unsigned id = 0x1234) {
    return be16(id) + be16(flags) + be16(questions) + be16(answers) + be16(0) + be16(0);
}

std::string dns_name(std::initializer_list<std::string_view> labels) {
    std::string name;
    for (std::string_view label : labels) name += byte(static_cast<unsigned>(label.size())) + std::string(label);
    return name + byte(0);
}

std::string pointer_to(unsigned offset) { return be16(0xc000 | offset); }

std::string question_tail(unsigned type) { return be16(type) + be16(1); }  // type, class IN

std::string dns_message(unsigned flags, const std::string& name, unsigned type, unsigned answers = 0) {
    return dns_header(flags, 1, answers) + name + question_tail(type);
}

const std::string kSipSrvName = dns_name({"_sip", "_udp", "example", "com"});

TEST(DnsMessage, ReadsIdFlagsCountsAndTheFirstQuestionOfAnNxdomainAnswer) {
    const auto message = parse_dns(dns_message(kResponse | 3, kSipSrvName, kTypeSrv));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->id, 0x1234);
    EXPECT_TRUE(message->is_response);
    EXPECT_EQ(message->rcode, 3);
    EXPECT_EQ(message->answer_count, 0);
    EXPECT_EQ(message->question_name, "_sip._udp.example.com");
    EXPECT_EQ(message->question_type, kTypeSrv);
}

TEST(DnsMessage, QueryHasTheResponseBitClear) {
    const auto message = parse_dns(dns_message(kQuery, kSipSrvName, kTypeSrv));
    ASSERT_TRUE(message);
    EXPECT_FALSE(message->is_response);
    EXPECT_EQ(message->rcode, 0);
}

TEST(DnsMessage, ReadsTheAnswerCount) {
    const auto message = parse_dns(dns_message(kResponse, dns_name({"pbx", "example", "com"}), kTypeA, 3));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->answer_count, 3);
}

TEST(DnsMessage, RcodeIsTheLowFourBitsOfTheFourthByteWhateverTheOtherFlags) {
    for (unsigned rcode = 0; rcode < 16; ++rcode) {
        const auto message = parse_dns(dns_message(0xfff0 | rcode, kSipSrvName, kTypeSrv));
        ASSERT_TRUE(message) << rcode;
        EXPECT_EQ(message->rcode, rcode);
        EXPECT_TRUE(message->is_response);
    }
}

TEST(DnsMessage, ReadsTheQuestionTypeOfEachKindOfLookup) {
    for (unsigned type : {kTypeA, kTypeAaaa, kTypeSrv, kTypeNaptr, 0xffffu}) {
        const auto message = parse_dns(dns_message(kQuery, kSipSrvName, type));
        ASSERT_TRUE(message) << type;
        EXPECT_EQ(message->question_type, type);
    }
}

TEST(DnsMessage, WithoutQuestionHasAnEmptyNameAndTypeZero) {
    const auto message = parse_dns(dns_header(kResponse | 2, 0));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->rcode, 2);
    EXPECT_EQ(message->question_name, "");
    EXPECT_EQ(message->question_type, 0);
}

TEST(DnsMessage, RootNameIsEmpty) {
    const auto message = parse_dns(dns_message(kQuery, byte(0), 2));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->question_name, "");
    EXPECT_EQ(message->question_type, 2);
}

TEST(DnsMessage, TruncatedHeaderAtEveryLengthIsRejected) {
    const std::string message = dns_message(kResponse, kSipSrvName, kTypeSrv);
    for (std::size_t length = 0; length < 12; ++length)
        EXPECT_FALSE(parse_dns(std::string_view(message).substr(0, length))) << length;
}

TEST(DnsMessage, QuestionCutOffAnywhereIsRejected) {
    const std::string message = dns_message(kResponse, kSipSrvName, kTypeSrv);
    const std::size_t type_end = message.size() - 2;  // the class is not needed
    for (std::size_t length = 12; length < type_end; ++length)
        EXPECT_FALSE(parse_dns(std::string_view(message).substr(0, length))) << length;
    EXPECT_TRUE(parse_dns(std::string_view(message).substr(0, type_end)));
}

TEST(DnsMessage, FollowsACompressionPointerAndReadsTheTypeAfterThePointer) {
    // Question "sip" + pointer to "example.com", stored after the question at offset 12 + 6 + 4.
    const std::string message =
        dns_header(kQuery, 1) + byte(3) + "sip" + pointer_to(22) + question_tail(kTypeNaptr) + dns_name({"example", "com"});
    const auto parsed = parse_dns(message);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->question_name, "sip.example.com");
    EXPECT_EQ(parsed->question_type, kTypeNaptr);
}

// A question name made of `hops` pointers, each to the next, the last to "example.com".
std::string pointer_chain_message(unsigned hops) {
    std::string message = dns_header(kQuery, 1);
    for (unsigned hop = 1; hop <= hops; ++hop) message += pointer_to(12 + 2 * hop);
    return message + dns_name({"example", "com"}) + question_tail(kTypeA);
}

TEST(DnsMessage, FollowsUpToSixteenPointerHops) {
    const auto message = parse_dns(pointer_chain_message(16));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->question_name, "example.com");
}

TEST(DnsMessage, RejectsMoreThanSixteenPointerHops) { EXPECT_FALSE(parse_dns(pointer_chain_message(17))); }

TEST(DnsMessage, RejectsAPointerToItself) {
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + pointer_to(12) + question_tail(kTypeA)));
}

TEST(DnsMessage, RejectsAPointerLoopThroughLabels) {
    // "a" then a pointer back to the "a" label: a.a.a.a... forever.
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + byte(1) + "a" + pointer_to(12) + question_tail(kTypeA)));
}

TEST(DnsMessage, RejectsAPointerPastTheEnd) {
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + pointer_to(0x3fff) + question_tail(kTypeA)));
    const std::string message = dns_header(kQuery, 1) + pointer_to(0) + question_tail(kTypeA);
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + pointer_to(static_cast<unsigned>(message.size()))
                           + question_tail(kTypeA)));
}

TEST(DnsMessage, RejectsAPointerCutInHalf) { EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + byte(0xc0))); }

TEST(DnsMessage, RejectsALabelRunningPastTheEnd) {
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + byte(40) + "example"));
}

TEST(DnsMessage, RejectsReservedLabelTypes) {
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + byte(0x41) + std::string(1, 'a') + byte(0) + question_tail(1)));
    EXPECT_FALSE(parse_dns(dns_header(kQuery, 1) + byte(0x80) + byte(0) + question_tail(1)));
}

TEST(DnsMessage, AcceptsANameOfExactly255BytesOnTheWireAndRejectsLonger) {
    const std::string label63(63, 'x');
    const std::string label61(61, 'y');
    const auto longest = parse_dns(dns_message(kQuery, dns_name({label63, label63, label63, label61}), kTypeA));
    ASSERT_TRUE(longest);
    EXPECT_EQ(longest->question_name.size(), 253u);
    EXPECT_FALSE(parse_dns(dns_message(kQuery, dns_name({label63, label63, label63, label63}), kTypeA)));
}

TEST(DnsMessage, RejectsAnEndlessNameBuiltFromPointersToLongLabels) {
    // 63-byte label + pointer back to it: the name grows by 64 bytes per hop until the 255-byte cap.
    const std::string message = dns_header(kQuery, 1) + byte(63) + std::string(63, 'z') + pointer_to(12);
    EXPECT_FALSE(parse_dns(message + question_tail(kTypeA)));
}

TEST(DnsMessage, ShowsUnprintableLabelBytesAsQuestionMarks) {
    const auto message = parse_dns(dns_message(kQuery, dns_name({std::string("a\0b c\x7f\xff", 7), "com"}), kTypeA));
    ASSERT_TRUE(message);
    EXPECT_EQ(message->question_name, "a?b?c??.com");
}

TEST(DnsNames, RcodeNamesTheUsualCodes) {
    EXPECT_EQ(dns_rcode_name(0), "NOERROR");
    EXPECT_EQ(dns_rcode_name(1), "FORMERR");
    EXPECT_EQ(dns_rcode_name(2), "SERVFAIL");
    EXPECT_EQ(dns_rcode_name(3), "NXDOMAIN");
    EXPECT_EQ(dns_rcode_name(4), "NOTIMP");
    EXPECT_EQ(dns_rcode_name(5), "REFUSED");
    EXPECT_EQ(dns_rcode_name(9), "NOTAUTH");
}

TEST(DnsNames, RcodeNameIsEmptyForUnassignedCodes) {
    for (unsigned rcode : {11u, 12u, 15u, 16u, 255u}) EXPECT_EQ(dns_rcode_name(static_cast<std::uint8_t>(rcode)), "");
}

TEST(DnsNames, TypeNamesTheRecordTypesOfSipAndMediaLookups) {
    const std::vector<std::pair<std::uint16_t, std::string_view>> names = {
        {1, "A"},     {28, "AAAA"}, {33, "SRV"}, {35, "NAPTR"}, {5, "CNAME"},
        {12, "PTR"}, {16, "TXT"},  {15, "MX"},  {2, "NS"},     {6, "SOA"}};
    for (const auto& [type, name] : names) EXPECT_EQ(dns_type_name(type), name) << type;
}

TEST(DnsNames, TypeNameIsEmptyForTypesDiag503IgnoresOrUnassigned) {
    for (std::uint16_t type : {0, 3, 99, 4000, 65535}) EXPECT_EQ(dns_type_name(type), "") << type;
}

// ---- TLS ----

constexpr unsigned kChangeCipherSpec = 20, kAlert = 21, kHandshake = 22, kApplicationData = 23;
constexpr unsigned kTls12 = 0x0303, kTls10 = 0x0301;

std::string tls_record(unsigned type, const std::string& body, unsigned version = kTls12) {
    return byte(type) + be16(version) + be16(static_cast<unsigned>(body.size())) + body;
}

std::string handshake_message(unsigned type, const std::string& body) {
    return byte(type) + be24(static_cast<unsigned>(body.size())) + body;
}

// legacy_version 3.3, random, empty session id, one cipher suite, null compression, no extensions.
std::string hello_body() {
    return be16(kTls12) + std::string(32, '\x5a') + byte(0) + be16(2) + be16(0x1301) + bytes({1, 0});
}

std::string client_hello_record() { return tls_record(kHandshake, handshake_message(1, hello_body()), kTls10); }
std::string server_hello_record() { return tls_record(kHandshake, handshake_message(2, hello_body())); }
std::string alert_record(unsigned level, unsigned description) { return tls_record(kAlert, bytes({level, description})); }

bool is_empty(const TlsSummary& summary) {
    return !summary.client_hello && !summary.server_hello && !summary.application_data && !summary.alert;
}

TEST(TlsRecords, ClientHelloRecordIsSeen) {
    const TlsSummary summary = summarize_tls_records(client_hello_record());
    EXPECT_TRUE(summary.client_hello);
    EXPECT_FALSE(summary.server_hello);
    EXPECT_FALSE(summary.application_data);
    EXPECT_FALSE(summary.alert);
}

TEST(TlsRecords, ServerHelloAmongSeveralHandshakeMessagesOfOneRecordIsSeen) {
    const std::string flight = handshake_message(2, hello_body()) + handshake_message(11, std::string(300, 'c')) +
                               handshake_message(14, "");
    const TlsSummary summary = summarize_tls_records(tls_record(kHandshake, flight));
    EXPECT_TRUE(summary.server_hello);
    EXPECT_FALSE(summary.client_hello);
}

TEST(TlsRecords, HelloAfterAnotherHandshakeMessageInTheSameRecordIsSeen) {
    const std::string messages = handshake_message(0, "") + handshake_message(2, hello_body());
    EXPECT_TRUE(summarize_tls_records(tls_record(kHandshake, messages)).server_hello);
}

TEST(TlsRecords, Tls13ServerFlightShowsServerHelloAndApplicationData) {
    const std::string flight = server_hello_record() + tls_record(kChangeCipherSpec, byte(1)) +
                               tls_record(kApplicationData, std::string(120, '\xa7'));
    const TlsSummary summary = summarize_tls_records(flight);
    EXPECT_TRUE(summary.server_hello);
    EXPECT_TRUE(summary.application_data);
    EXPECT_FALSE(summary.alert);
}

TEST(TlsRecords, ApplicationDataRecordIsSeenEvenWhenCutOff) {
    const std::string record = tls_record(kApplicationData, std::string(500, '\x11'));
    EXPECT_TRUE(summarize_tls_records(record.substr(0, 5)).application_data);
    EXPECT_TRUE(summarize_tls_records(record.substr(0, 100)).application_data);
}

TEST(TlsRecords, TwoByteAlertGivesLevelAndDescription) {
    const TlsSummary summary = summarize_tls_records(alert_record(2, 48));
    ASSERT_TRUE(summary.alert);
    EXPECT_EQ(summary.alert->level, 2);
    EXPECT_EQ(summary.alert->description, 48);
}

TEST(TlsRecords, OnlyTheFirstAlertIsKept) {
    const TlsSummary summary = summarize_tls_records(alert_record(2, 40) + alert_record(1, 0));
    ASSERT_TRUE(summary.alert);
    EXPECT_EQ(summary.alert->description, 40);
}

TEST(TlsRecords, AlertAfterServerHelloIsSeenWithIt) {
    const TlsSummary summary = summarize_tls_records(server_hello_record() + alert_record(2, 42));
    EXPECT_TRUE(summary.server_hello);
    ASSERT_TRUE(summary.alert);
    EXPECT_EQ(summary.alert->description, 42);
}

TEST(TlsRecords, EncryptedAlertLongerThanTwoBytesIsIgnored) {
    EXPECT_FALSE(summarize_tls_records(tls_record(kAlert, std::string(26, '\x9c'))).alert);
    EXPECT_FALSE(summarize_tls_records(tls_record(kAlert, byte(2))).alert);
}

TEST(TlsRecords, AlertCutOffBeforeItsDescriptionIsIgnored) {
    EXPECT_FALSE(summarize_tls_records(alert_record(2, 40).substr(0, 6)).alert);
}

TEST(TlsRecords, EncryptedFinishedIsNotTakenForAHello) {
    // TLS 1.2 Finished after ChangeCipherSpec: the record body is ciphertext.
    const std::string unknown_type = bytes({0xb7, 0x3e, 0x01, 0x99}) + std::string(36, '\x42');
    const std::string client_hello_type = bytes({0x01, 0x9a, 0x20, 0x07}) + std::string(36, '\x42');
    const std::string short_length = bytes({0x02, 0x00, 0x00, 0x05, 0x03, 0x03}) + std::string(34, '\x42');
    for (const std::string& body : {unknown_type, client_hello_type, short_length})
        EXPECT_TRUE(is_empty(summarize_tls_records(tls_record(kChangeCipherSpec, byte(1)) + tls_record(kHandshake, body))));
}

TEST(TlsRecords, ClientHelloCutOffAfterItsVersionIsStillSeen) {
    const std::string record = client_hello_record();
    EXPECT_TRUE(summarize_tls_records(record.substr(0, 5 + 4 + 2)).client_hello);
    EXPECT_TRUE(summarize_tls_records(record.substr(0, record.size() - 1)).client_hello);
}

TEST(TlsRecords, ClientHelloCutOffBeforeItsVersionIsNotSeen) {
    const std::string record = client_hello_record();
    for (std::size_t length = 0; length < 5 + 4 + 2; ++length)
        EXPECT_TRUE(is_empty(summarize_tls_records(record.substr(0, length)))) << length;
}

TEST(TlsRecords, RecordsAfterATruncatedRecordAreNotInvented) {
    // The first record claims more bytes than there are: what follows is inside it, not a new record.
    const std::string first = byte(kHandshake) + be16(kTls12) + be16(2000) + handshake_message(0, "");
    EXPECT_TRUE(is_empty(summarize_tls_records(first + alert_record(2, 40))));
}

TEST(TlsRecords, NonTlsBytesGiveAnEmptySummary) {
    for (std::string_view text : {"", "\x16\x03", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                                  "INVITE sip:alice@example.com SIP/2.0\r\n", "\x80\x2e\x01\x00\x02"})
        EXPECT_TRUE(is_empty(summarize_tls_records(text))) << text;
}

TEST(TlsRecords, StopsAtTheFirstImplausibleRecordHeader) {
    const std::string later = tls_record(kApplicationData, "x") + alert_record(2, 40);
    const std::vector<std::string> implausible = {
        tls_record(19, "x"), tls_record(25, "x"), tls_record(kHandshake, "x", 0x0203), tls_record(kHandshake, "x", 0x0403),
        byte(kApplicationData) + be16(kTls12) + be16(0xffff)};
    for (const std::string& bad : implausible) {
        const TlsSummary summary = summarize_tls_records(client_hello_record() + bad + later);
        EXPECT_TRUE(summary.client_hello);
        EXPECT_FALSE(summary.application_data);
        EXPECT_FALSE(summary.alert);
    }
}

TEST(TlsRecords, ToleratesEmptyRecordsAndHandshakeMessagesLongerThanTheirRecord) {
    const std::string fragment = tls_record(kHandshake, handshake_message(11, std::string(10, 'c')).substr(0, 8));
    const TlsSummary summary =
        summarize_tls_records(tls_record(kHandshake, "") + fragment + tls_record(kAlert, "") + server_hello_record());
    EXPECT_TRUE(summary.server_hello);
    EXPECT_FALSE(summary.alert);
}

TEST(TlsNames, AlertNamesFollowRfc8446AndRfc5246) {
    const std::vector<std::pair<std::uint8_t, std::string_view>> names = {
        {0, "close_notify"},           {10, "unexpected_message"},
        {20, "bad_record_mac"},        {40, "handshake_failure"},
        {42, "bad_certificate"},       {43, "unsupported_certificate"},
        {44, "certificate_revoked"},   {45, "certificate_expired"},
        {46, "certificate_unknown"},   {47, "illegal_parameter"},
        {48, "unknown_ca"},            {49, "access_denied"},
        {50, "decode_error"},          {51, "decrypt_error"},
        {70, "protocol_version"},      {71, "insufficient_security"},
        {80, "internal_error"},        {86, "inappropriate_fallback"},
        {90, "user_canceled"},         {109, "missing_extension"},
        {110, "unsupported_extension"}, {112, "unrecognized_name"},
        {113, "bad_certificate_status_response"}, {115, "unknown_psk_identity"},
        {116, "certificate_required"}, {120, "no_application_protocol"}};
    for (const auto& [description, name] : names) EXPECT_EQ(tls_alert_name(description), name) << int{description};
}

TEST(TlsNames, AlertNameIsEmptyForUnassignedDescriptions) {
    for (std::uint8_t description : {1, 41 + 100, 199, 255}) EXPECT_EQ(tls_alert_name(description), "") << int{description};
}

// ---- ICMP ----

constexpr unsigned kTcp = 6, kUdp = 17, kSctp = 132;

std::string icmp_header(unsigned type, unsigned code) { return byte(type) + byte(code) + be16(0xbeef) + be32(0); }

std::string ipv4_header(unsigned protocol, std::initializer_list<unsigned> source,
                        std::initializer_list<unsigned> destination, unsigned option_words = 0, unsigned fragment = 0) {
    std::string header = byte(0x45 + option_words) + byte(0) + be16(200) + be16(0x1c46) + be16(fragment) + byte(64) +
                         byte(protocol) + be16(0) + bytes(source) + bytes(destination);
    return header + std::string(4 * option_words, '\x01');
}

std::string transport_ports(unsigned source, unsigned destination) {
    return be16(source) + be16(destination) + be16(180) + be16(0);
}

const std::string kQuotedSipUdp =
    ipv4_header(kUdp, {192, 0, 2, 10}, {198, 51, 100, 7}) + transport_ports(5060, 5060);

TEST(Ipv6Text, SixteenBytesReadAsRfc5952Says) {
    const auto bytes = [](std::initializer_list<int> values) {
        std::string text;
        for (int value : values) text += static_cast<char>(value);
        return text;
    };
    EXPECT_EQ(ipv6_text(bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})), "2001:db8::1");
    EXPECT_EQ(ipv6_text(std::string(16, '\0')), "::");
    EXPECT_EQ(ipv6_text(bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1})), "2001:db8:0:1::1");
    EXPECT_EQ(ipv6_text(bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1})), "2001:db8::1:0:0:1");
    EXPECT_EQ(ipv6_text(bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1})), "::ffff:192.0.2.1");
    EXPECT_EQ(ipv6_text(bytes({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x1a, 0x2b, 0xff, 0xfe, 0x3c, 0x4d, 0x5e})),
              "fe80::21a:2bff:fe3c:4d5e");
    EXPECT_EQ(ipv6_text("too short"), "");
}

// The plugin's own formatter agrees with the C library's inet_ntop, which it replaced to stay portable.
TEST(Ipv6Text, AgreesWithInetNtopOnAddressesWithZeroRuns) {
    std::mt19937 random(503);
    for (int round = 0; round < 20000; ++round) {
        std::string address(16, '\0');
        for (int group = 0; group < 8; ++group) {
            if (random() % 3 == 0) continue;  // many zero groups, so every run length and position occurs
            const unsigned value = random() % 4 == 0 ? random() % 16 : random() & 0xffff;
            address[2 * group] = static_cast<char>(value >> 8);
            address[2 * group + 1] = static_cast<char>(value & 0xff);
        }
        if (round % 10 == 0) address.replace(0, 12, std::string(10, '\0') + "\xff\xff");  // IPv4-mapped
        char expected[INET6_ADDRSTRLEN] = {};
        ASSERT_NE(inet_ntop(AF_INET6, address.data(), expected, sizeof expected), nullptr);
        ASSERT_EQ(ipv6_text(address), expected);
    }
}

TEST(Ipv4Text, FourBytesReadAsWiresharkPrintsThem) {
    EXPECT_EQ(ipv4_text(std::string("\xc0\x00\x02\x01", 4)), "192.0.2.1");
    EXPECT_EQ(ipv4_text(std::string("\x00\x00\x00\x00", 4)), "0.0.0.0");
    EXPECT_EQ(ipv4_text(std::string("\xff\xff\xff\xff", 4)), "255.255.255.255");
    EXPECT_EQ(ipv4_text(std::string("\x0a\x64\x09\x6e", 4)), "10.100.9.110");
}

// Octets are written from a table: every value, in every place, reads as its decimal number.
TEST(Ipv4Text, EveryOctetValueInEveryPlaceReadsAsItsDecimalNumber) {
    for (int value = 0; value < 256; ++value)
        for (int place = 0; place < 4; ++place) {
            std::string bytes("\x01\x02\x03\x04", 4);
            bytes[place] = static_cast<char>(value);
            std::string expected;
            for (int i = 0; i < 4; ++i)
                expected += (i ? "." : "") + std::to_string(static_cast<unsigned char>(bytes[i]));
            EXPECT_EQ(ipv4_text(bytes), expected);
        }
}

TEST(IcmpError, PortUnreachableQuotesTheUdpDatagramItRefused) {
    const auto error = parse_icmp_error(icmp_header(3, 3) + kQuotedSipUdp, false);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind, IcmpError::Kind::port_unreachable);
    EXPECT_EQ(error->type, 3);
    EXPECT_EQ(error->code, 3);
    EXPECT_EQ(error->original_protocol, kUdp);
    EXPECT_EQ(error->original_source, "192.0.2.10");
    EXPECT_EQ(error->original_destination, "198.51.100.7");
    EXPECT_EQ(error->original_source_port, 5060);
    EXPECT_EQ(error->original_destination_port, 5060);
}

TEST(IcmpError, DestinationUnreachableCodesMapToKinds) {
    using Kind = IcmpError::Kind;
    const std::vector<std::pair<unsigned, Kind>> kinds = {
        {0, Kind::network_unreachable}, {1, Kind::host_unreachable}, {2, Kind::other_unreachable},
        {3, Kind::port_unreachable},    {4, Kind::other_unreachable}, {6, Kind::other_unreachable},
        {9, Kind::administratively_prohibited}, {10, Kind::administratively_prohibited},
        {13, Kind::administratively_prohibited}, {15, Kind::other_unreachable}, {255, Kind::other_unreachable}};
    for (const auto& [code, kind] : kinds) {
        const auto error = parse_icmp_error(icmp_header(3, code) + kQuotedSipUdp, false);
        ASSERT_TRUE(error) << code;
        EXPECT_EQ(error->kind, kind) << code;
        EXPECT_EQ(error->code, code);
    }
}

TEST(IcmpError, TimeExceededIsAnErrorWhateverItsCode) {
    for (unsigned code : {0u, 1u}) {
        const auto error = parse_icmp_error(icmp_header(11, code) + kQuotedSipUdp, false);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->kind, IcmpError::Kind::time_exceeded);
        EXPECT_EQ(error->type, 11);
        EXPECT_EQ(error->original_destination_port, 5060);
    }
}

TEST(IcmpError, MessagesThatAreNotErrorsAreRejected) {
    for (unsigned type : {0u, 4u, 5u, 8u, 12u, 13u, 255u})
        EXPECT_FALSE(parse_icmp_error(icmp_header(type, 0) + kQuotedSipUdp, false)) << type;
}

TEST(IcmpError, ReadsTheQuotedPortsBehindIpOptions) {
    const std::string quote = ipv4_header(kTcp, {10, 0, 0, 1}, {10, 0, 0, 2}, 2) + transport_ports(40000, 5061);
    const auto error = parse_icmp_error(icmp_header(3, 1) + quote, false);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind, IcmpError::Kind::host_unreachable);
    EXPECT_EQ(error->original_protocol, kTcp);
    EXPECT_EQ(error->original_source_port, 40000);
    EXPECT_EQ(error->original_destination_port, 5061);
}

TEST(IcmpError, QuoteWithoutTheTransportPortsKeepsAddressesAndZeroPorts) {
    const std::string message = icmp_header(3, 3) + kQuotedSipUdp;
    for (std::size_t ports_bytes = 0; ports_bytes < 4; ++ports_bytes) {
        const auto error = parse_icmp_error(message.substr(0, 8 + 20 + ports_bytes), false);
        ASSERT_TRUE(error) << ports_bytes;
        EXPECT_EQ(error->original_destination, "198.51.100.7");
        EXPECT_EQ(error->original_source_port, 0);
        EXPECT_EQ(error->original_destination_port, 0);
    }
    const auto four_bytes = parse_icmp_error(message.substr(0, 8 + 20 + 4), false);
    ASSERT_TRUE(four_bytes);
    EXPECT_EQ(four_bytes->original_destination_port, 5060);
}

TEST(IcmpError, QuoteCutInsideItsIpOptionsHasZeroPorts) {
    const std::string quote = ipv4_header(kUdp, {10, 0, 0, 1}, {10, 0, 0, 2}, 10);
    const auto error = parse_icmp_error(icmp_header(3, 3) + quote.substr(0, 28), false);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->original_source_port, 0);
}

TEST(IcmpError, PortsAreOnlyReadForTcpUdpAndSctp) {
    const std::string ports = transport_ports(1234, 5678);
    for (unsigned protocol : {kTcp, kUdp, kSctp}) {
        const std::string quote = ipv4_header(protocol, {1, 2, 3, 4}, {5, 6, 7, 8}) + ports;
        const auto error = parse_icmp_error(icmp_header(3, 3) + quote, false);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->original_destination_port, 5678) << protocol;
    }
    const auto quoted_icmp = parse_icmp_error(icmp_header(3, 1) + ipv4_header(1, {1, 2, 3, 4}, {5, 6, 7, 8}) + ports, false);
    ASSERT_TRUE(quoted_icmp);
    EXPECT_EQ(quoted_icmp->original_protocol, 1);
    EXPECT_EQ(quoted_icmp->original_destination_port, 0);
}

TEST(IcmpError, QuotedLaterFragmentHasNoPorts) {
    const std::string quote = ipv4_header(kUdp, {192, 0, 2, 10}, {198, 51, 100, 7}, 0, 185) + transport_ports(5060, 5060);
    const auto error = parse_icmp_error(icmp_header(3, 3) + quote, false);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->original_source_port, 0);
}

TEST(IcmpError, TruncatedMessageOrQuotedHeaderIsRejected) {
    const std::string message = icmp_header(3, 3) + kQuotedSipUdp;
    for (std::size_t length = 0; length < 8 + 20; ++length)
        EXPECT_FALSE(parse_icmp_error(message.substr(0, length), false)) << length;
}

TEST(IcmpError, QuoteThatIsNotIpv4IsRejected) {
    std::string not_ipv4 = icmp_header(3, 3) + kQuotedSipUdp;
    not_ipv4[8] = '\x65';  // version 6
    EXPECT_FALSE(parse_icmp_error(not_ipv4, false));
    std::string short_ihl = icmp_header(3, 3) + kQuotedSipUdp;
    short_ihl[8] = '\x44';  // 16-byte header
    EXPECT_FALSE(parse_icmp_error(short_ihl, false));
}

// ---- ICMPv6 ----

using Ipv6Address = std::array<unsigned, 8>;  // eight 16-bit groups
const Ipv6Address kDocumentation = {0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10};
const Ipv6Address kLoopback = {0, 0, 0, 0, 0, 0, 0, 1};

std::string ipv6_address(const Ipv6Address& groups) {
    std::string address;
    for (unsigned group : groups) address += be16(group);
    return address;
}

std::string ipv6_header(unsigned next_header, const Ipv6Address& source, const Ipv6Address& destination) {
    return be32(0x60000000) + be16(40) + byte(next_header) + byte(64) + ipv6_address(source) + ipv6_address(destination);
}

TEST(Icmpv6Error, PortUnreachableQuotesTheUdpDatagramWithCompressedAddresses) {
    const std::string quote = ipv6_header(kUdp, kDocumentation, kLoopback) + transport_ports(5060, 5062);
    const auto error = parse_icmp_error(icmp_header(1, 4) + quote, true);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind, IcmpError::Kind::port_unreachable);
    EXPECT_EQ(error->type, 1);
    EXPECT_EQ(error->code, 4);
    EXPECT_EQ(error->original_protocol, kUdp);
    EXPECT_EQ(error->original_source, "2001:db8::10");
    EXPECT_EQ(error->original_destination, "::1");
    EXPECT_EQ(error->original_source_port, 5060);
    EXPECT_EQ(error->original_destination_port, 5062);
}

TEST(Icmpv6Error, AddressesPrintAsRfc5952Says) {
    const std::vector<std::pair<Ipv6Address, std::string_view>> printed = {
        {{0x2001, 0xdb8, 0, 1, 0, 0, 0, 1}, "2001:db8:0:1::1"},           // longest zero run compressed
        {{0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}, "2001:db8::1:0:0:1"},         // the first of equal runs
        {{0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}, "2001:db8:0:1:1:1:1:1"},      // a single zero group stays
        {{0x2001, 0xDB8, 0, 0, 0, 0, 0xABCD, 0xEF}, "2001:db8::abcd:ef"},  // lower case
        {{0, 0, 0, 0, 0, 0, 0, 0}, "::"},
        {{0xfe80, 0, 0, 0, 0x1, 0x2ff, 0xfe03, 0x405}, "fe80::1:2ff:fe03:405"}};
    for (const auto& [address, text] : printed) {
        const auto error = parse_icmp_error(icmp_header(1, 3) + ipv6_header(kTcp, address, kLoopback), true);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->original_source, text);
    }
}

TEST(Icmpv6Error, DestinationUnreachableCodesMapToKinds) {
    using Kind = IcmpError::Kind;
    const std::vector<std::pair<unsigned, Kind>> kinds = {
        {0, Kind::network_unreachable}, {1, Kind::administratively_prohibited}, {2, Kind::other_unreachable},
        {3, Kind::host_unreachable},    {4, Kind::port_unreachable},            {5, Kind::other_unreachable},
        {6, Kind::other_unreachable},   {7, Kind::other_unreachable}};
    const std::string quote = ipv6_header(kUdp, kDocumentation, kLoopback) + transport_ports(5060, 5060);
    for (const auto& [code, kind] : kinds) {
        const auto error = parse_icmp_error(icmp_header(1, code) + quote, true);
        ASSERT_TRUE(error) << code;
        EXPECT_EQ(error->kind, kind) << code;
    }
}

TEST(Icmpv6Error, TimeExceededIsTypeThree) {
    const auto error = parse_icmp_error(icmp_header(3, 0) + ipv6_header(kTcp, kDocumentation, kLoopback), true);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind, IcmpError::Kind::time_exceeded);
}

TEST(Icmpv6Error, MessagesThatAreNotUnreachableOrTimeExceededAreRejected) {
    const std::string quote = ipv6_header(kUdp, kDocumentation, kLoopback) + transport_ports(5060, 5060);
    for (unsigned type : {2u, 4u, 128u, 129u, 135u, 136u, 11u})
        EXPECT_FALSE(parse_icmp_error(icmp_header(type, 0) + quote, true)) << type;
}

TEST(Icmpv6Error, PortsBehindAnExtensionHeaderStayZero) {
    const std::string quote = ipv6_header(0, kDocumentation, kLoopback) + transport_ports(5060, 5060);
    const auto error = parse_icmp_error(icmp_header(1, 4) + quote, true);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->original_protocol, 0);
    EXPECT_EQ(error->original_source_port, 0);
    EXPECT_EQ(error->original_destination_port, 0);
}

TEST(Icmpv6Error, ReadsTcpAndSctpPorts) {
    for (unsigned protocol : {kTcp, kSctp}) {
        const auto error = parse_icmp_error(
            icmp_header(1, 4) + ipv6_header(protocol, kDocumentation, kLoopback) + transport_ports(5061, 443), true);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->original_source_port, 5061);
        EXPECT_EQ(error->original_destination_port, 443);
    }
}

TEST(Icmpv6Error, TruncatedQuoteIsRejectedAndMissingPortsStayZero) {
    const std::string message =
        icmp_header(1, 4) + ipv6_header(kUdp, kDocumentation, kLoopback) + transport_ports(5060, 5060);
    for (std::size_t length = 0; length < 8 + 40; ++length)
        EXPECT_FALSE(parse_icmp_error(message.substr(0, length), true)) << length;
    const auto without_ports = parse_icmp_error(message.substr(0, 8 + 40 + 3), true);
    ASSERT_TRUE(without_ports);
    EXPECT_EQ(without_ports->original_source_port, 0);
}

TEST(Icmpv6Error, QuotedIpv4HeaderIsRejected) {
    EXPECT_FALSE(parse_icmp_error(icmp_header(1, 4) + kQuotedSipUdp + std::string(20, '\0'), true));
}

TEST(IcmpNames, KindNamesReadAsPhrases) {
    using Kind = IcmpError::Kind;
    EXPECT_EQ(icmp_kind_name(Kind::port_unreachable), "port unreachable");
    EXPECT_EQ(icmp_kind_name(Kind::host_unreachable), "host unreachable");
    EXPECT_EQ(icmp_kind_name(Kind::network_unreachable), "network unreachable");
    EXPECT_EQ(icmp_kind_name(Kind::administratively_prohibited), "administratively prohibited");
    EXPECT_EQ(icmp_kind_name(Kind::other_unreachable), "destination unreachable");
    EXPECT_EQ(icmp_kind_name(Kind::time_exceeded), "time exceeded");
}

// ---- PostgreSQL ----

using Fields = std::vector<std::pair<char, std::string>>;

std::string pg_message(char type, const std::string& body) {
    return std::string(1, type) + be32(static_cast<std::uint32_t>(body.size() + 4)) + body;
}

std::string pg_fields(const Fields& fields) {
    std::string body;
    for (const auto& [type, value] : fields) body += std::string(1, type) + value + '\0';
    return body + '\0';
}

std::string pg_error(const Fields& fields) { return pg_message('E', pg_fields(fields)); }

const Fields kAdminShutdown = {{'S', "FATAL"},
                               {'V', "FATAL"},
                               {'C', "57P01"},
                               {'M', "terminating connection due to administrator command"},
                               {'F', "postgres.c"},
                               {'L', "3300"},
                               {'R', "ProcessInterrupts"}};

TEST(PostgresqlError, AdministratorShutdownIsReadFromItsFields) {
    const auto error = parse_postgresql_error(pg_error(kAdminShutdown));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->product, "PostgreSQL");
    EXPECT_EQ(error->severity, "FATAL");
    EXPECT_EQ(error->code, "57P01");
    EXPECT_EQ(error->message, "terminating connection due to administrator command");
}

TEST(PostgresqlError, TooManyClientsFromAServerWithoutTheUnlocalizedSeverity) {
    const auto error = parse_postgresql_error(
        pg_error({{'S', "FATAL"}, {'C', "53300"}, {'M', "sorry, too many clients already"}, {'F', "proc.c"}}));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->severity, "FATAL");
    EXPECT_EQ(error->code, "53300");
    EXPECT_EQ(error->message, "sorry, too many clients already");
}

TEST(PostgresqlError, UnlocalizedSeverityWinsOverTheTranslatedOne) {
    const auto error = parse_postgresql_error(
        pg_error({{'S', "FEHLER"}, {'V', "ERROR"}, {'C', "42P01"}, {'M', "Relation \xc2\xbbx\xc2\xab existiert nicht"}}));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->severity, "ERROR");
    EXPECT_EQ(error->message, "Relation \xc2\xbbx\xc2\xab existiert nicht");
}

TEST(PostgresqlError, FindsTheErrorAfterOtherBackendMessages) {
    const std::string stream = pg_message('R', be32(0)) + pg_message('S', std::string("TimeZone\0UTC\0", 13)) +
                               pg_message('K', be32(42) + be32(7)) + pg_message('Z', "I") + pg_message('C', "SELECT 1\0") +
                               pg_error({{'S', "ERROR"}, {'C', "42P01"}, {'M', "relation \"x\" does not exist"}});
    const auto error = parse_postgresql_error(stream);
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "42P01");
}

TEST(PostgresqlError, FirstErrorWins) {
    const auto error = parse_postgresql_error(pg_error(kAdminShutdown) +
                                              pg_error({{'S', "FATAL"}, {'C', "53300"}, {'M', "sorry"}}));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "57P01");
}

TEST(PostgresqlError, NoticeIsNotAnError) {
    EXPECT_FALSE(parse_postgresql_error(pg_message('N', pg_fields({{'S', "NOTICE"}, {'C', "00000"}, {'M', "hi"}}))));
}

TEST(PostgresqlError, ErrorWithoutCodeOrMessageIsSkipped) {
    EXPECT_FALSE(parse_postgresql_error(pg_message('E', std::string(1, '\0'))));
    EXPECT_FALSE(parse_postgresql_error(pg_error({{'S', "ERROR"}})));
    const auto later = parse_postgresql_error(pg_message('E', std::string(1, '\0')) + pg_error(kAdminShutdown));
    ASSERT_TRUE(later);
    EXPECT_EQ(later->code, "57P01");
}

TEST(PostgresqlError, LongMessageIsCutTo200BytesWithAnEllipsis) {
    const auto error = parse_postgresql_error(pg_error({{'S', "ERROR"}, {'C', "XX000"}, {'M', std::string(5000, 'm')}}));
    ASSERT_TRUE(error);
    EXPECT_LE(error->message.size(), 200u);
    EXPECT_GE(error->message.size(), 190u);
    EXPECT_EQ(error->message.substr(error->message.size() - 3), "...");
}

TEST(PostgresqlError, ErrorCutOffInTheSegmentIsReadAsFarAsItGoes) {
    const std::string error = pg_error(kAdminShutdown);
    const std::size_t after_code = 5 + 7 + 7 + 7;  // header, "SFATAL\0", "VFATAL\0", "C57P01\0"
    const auto cut = parse_postgresql_error(error.substr(0, after_code));
    ASSERT_TRUE(cut);
    EXPECT_EQ(cut->code, "57P01");
    EXPECT_EQ(cut->message, "");
    const auto mid_message = parse_postgresql_error(error.substr(0, after_code + 12));
    ASSERT_TRUE(mid_message);
    EXPECT_EQ(mid_message->message, "terminating");
}

TEST(PostgresqlError, NonPostgresqlBytesAreRejected) {
    const std::string startup = be32(8) + be32(80877103);  // SSLRequest, a frontend message
    for (std::string_view text : {std::string_view(""), std::string_view("E"), std::string_view("HTTP/1.1 200 OK\r\n"),
                                  std::string_view("SIP/2.0 503 Service Unavailable\r\n"), std::string_view(startup)})
        EXPECT_FALSE(parse_postgresql_error(text)) << text;
}

TEST(PostgresqlError, ShortOrHostileLengthsAreRejected) {
    const std::string fields = pg_fields(kAdminShutdown);
    for (std::uint32_t length : {0u, 1u, 3u, 0x40000000u, 0x7fffffffu, 0xffffffffu})
        EXPECT_FALSE(parse_postgresql_error("E" + be32(length) + fields)) << length;
}

TEST(PostgresqlError, UnknownMessageTypeEndsTheScan) {
    EXPECT_FALSE(parse_postgresql_error(pg_message('Z', "I") + pg_message('!', "x") + pg_error(kAdminShutdown)));
}

TEST(PostgresqlError, NonErrorMessageCutOffEndsTheScan) {
    EXPECT_FALSE(parse_postgresql_error(pg_message('D', std::string(100, 'd')).substr(0, 50)));
}

TEST(PostgresqlError, FieldWithoutItsTerminatorIsReadToTheEnd) {
    const auto error = parse_postgresql_error(pg_message('E', std::string("SFATAL\0C53300\0Msorry", 20)));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->message, "sorry");
}

TEST(PostgresqlError, ScanIsBoundedToTheFirst256Messages) {
    std::string stream;
    for (int i = 0; i < 300; ++i) stream += pg_message('Z', "I");
    EXPECT_FALSE(parse_postgresql_error(stream + pg_error(kAdminShutdown)));
    EXPECT_TRUE(parse_postgresql_error(stream.substr(0, 255 * 6) + pg_error(kAdminShutdown)));
}

// ---- MySQL ----

std::string mysql_packet(unsigned sequence, const std::string& payload) {
    return le24(static_cast<unsigned>(payload.size())) + byte(sequence) + payload;
}

std::string err_payload(unsigned number, const std::string& sqlstate, const std::string& message) {
    return byte(0xff) + byte(number) + byte(number >> 8) + (sqlstate.empty() ? "" : "#" + sqlstate) + message;
}

TEST(MySqlError, TooManyConnectionsSentInsteadOfTheGreetingHasNoSqlstate) {
    const auto error = parse_mysql_error(mysql_packet(0, err_payload(1040, "", "Too many connections")));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->product, "MySQL");
    EXPECT_EQ(error->severity, "");
    EXPECT_EQ(error->code, "1040");
    EXPECT_EQ(error->message, "Too many connections");
}

TEST(MySqlError, SqlstateMarkerAndStateAreSkipped) {
    const auto error = parse_mysql_error(mysql_packet(2, err_payload(1040, "08004", "Too many connections")));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "1040");
    EXPECT_EQ(error->message, "Too many connections");
}

TEST(MySqlError, AccessDeniedIsRead) {
    const std::string denied = "Access denied for user 'sip'@'10.0.0.5' (using password: YES)";
    const auto error = parse_mysql_error(mysql_packet(2, err_payload(1045, "28000", denied)));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "1045");
    EXPECT_EQ(error->message, denied);
}

TEST(MySqlError, ErrorCodeIsLittleEndian) {
    const auto error = parse_mysql_error(mysql_packet(1, err_payload(0x0102, "", "x")));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "258");
}

TEST(MySqlError, ErrorWithoutMessageHasAnEmptyMessage) {
    const auto error = parse_mysql_error(mysql_packet(1, err_payload(2013, "", "")));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "2013");
    EXPECT_EQ(error->message, "");
}

TEST(MySqlError, MessageIsCutTo200BytesAndControlBytesAreMasked) {
    const auto long_message = parse_mysql_error(mysql_packet(1, err_payload(1064, "42000", std::string(1000, 'q'))));
    ASSERT_TRUE(long_message);
    EXPECT_LE(long_message->message.size(), 200u);
    const auto control = parse_mysql_error(mysql_packet(1, err_payload(1064, "", std::string("a\r\nb\0c", 6))));
    ASSERT_TRUE(control);
    EXPECT_EQ(control->message, "a..b.c");
}

TEST(MySqlError, PacketsThatAreNotErrorsAreRejected) {
    EXPECT_FALSE(parse_mysql_error(mysql_packet(0, byte(0x0a) + "8.0.36" + std::string(1, '\0'))));  // greeting
    EXPECT_FALSE(parse_mysql_error(mysql_packet(2, bytes({0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00}))));  // OK
    EXPECT_FALSE(parse_mysql_error(mysql_packet(1, byte(0xfe))));  // EOF / auth switch
}

TEST(MySqlError, MariadbProgressReportIsNotAnError) {
    EXPECT_FALSE(parse_mysql_error(mysql_packet(1, err_payload(0xffff, "", std::string("\x01\x01\x02", 3)))));
}

TEST(MySqlError, ErrorCutOffInTheSegmentIsReadAsFarAsItGoes) {
    const std::string packet = mysql_packet(0, err_payload(1040, "", "Too many connections"));
    const auto error = parse_mysql_error(packet.substr(0, 4 + 3 + 3));
    ASSERT_TRUE(error);
    EXPECT_EQ(error->code, "1040");
    EXPECT_EQ(error->message, "Too");
}

TEST(MySqlError, TruncatedHeaderOrErrorNumberIsRejected) {
    const std::string packet = mysql_packet(0, err_payload(1040, "", "Too many connections"));
    for (std::size_t length = 0; length < 4 + 3; ++length)
        EXPECT_FALSE(parse_mysql_error(packet.substr(0, length))) << length;
}

TEST(MySqlError, ShortOrHostileLengthsAreRejected) {
    const std::string payload = err_payload(1040, "", "Too many connections");
    for (unsigned length : {0u, 1u, 2u, 0x10000u, 0xffffffu})
        EXPECT_FALSE(parse_mysql_error(le24(length) + byte(0) + payload)) << length;
}

TEST(MySqlError, NonMysqlBytesAreRejected) {
    for (std::string_view text : {"", "SIP/2.0 503 Service Unavailable\r\n", "\x16\x03\x01\x00\x05"})
        EXPECT_FALSE(parse_mysql_error(text)) << text;
}

}  // namespace
}  // namespace diag503
