// Shared builders for the unit tests: SIP message text, parsed messages, endpoints and evidence checks.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/packet_meta.hpp"
#include "sip/sip_message.hpp"
#include "core/text.hpp"
#include "core/verdict.hpp"
#include "wire/wire_formats.hpp"

namespace diag503::test {

using Headers = std::vector<std::string>;

inline std::string via(const std::string& sent_by, const std::string& branch) {
    return "SIP/2.0/UDP " + sent_by + ";branch=" + branch;
}

// The identifiers of one SIP transaction; requests and responses are written from it.
struct Txn {
    std::string method = "INVITE";
    std::string call_id = "call-1@192.0.2.10";
    std::uint32_t cseq = 1;
    std::string from = "alice";
    std::string to = "bob";
    Headers vias = {via("192.0.2.10:5060", "z9hG4bK-1")};  // top first
};

// Transaction number `n` of its own call from `from` to `to`: distinct Call-ID and branch.
inline Txn call(int n, const std::string& from = "alice", const std::string& to = "bob",
                const std::string& method = "INVITE") {
    Txn txn;
    txn.method = method;
    txn.call_id = "call-" + std::to_string(n) + "@192.0.2.10";
    txn.from = from;
    txn.to = to;
    txn.vias = {via("192.0.2.10:5060", "z9hG4bK-" + std::to_string(n))};
    return txn;
}

// The next transaction of the same call (e.g. its BYE): next CSeq, new branch.
inline Txn next_in_call(Txn txn, const std::string& method) {
    txn.method = method;
    ++txn.cseq;
    txn.vias = {via("192.0.2.10:5060", "z9hG4bK-" + txn.call_id + "-" + std::to_string(txn.cseq))};
    return txn;
}

// The same transaction as forwarded by a proxy: its own Via on top.
inline Txn forwarded(Txn txn, const std::string& proxy, const std::string& branch) {
    txn.vias.insert(txn.vias.begin(), via(proxy, branch));
    return txn;
}

// The same transaction as answered back to the previous hop: the top Via removed.
inline Txn relayed(Txn txn) {
    txn.vias.erase(txn.vias.begin());
    return txn;
}

inline std::string join_lines(const std::string& start_line, const Headers& headers, const char* eol = "\r\n") {
    std::string text = start_line + eol;
    for (const auto& header : headers) text += header + eol;
    return text + eol;
}

inline Headers common_headers(const Txn& txn, bool with_to_tag) {
    Headers headers;
    for (const auto& value : txn.vias) headers.push_back("Via: " + value);
    headers.push_back("From: <sip:" + txn.from + "@example.com>;tag=from-" + txn.from);
    headers.push_back("To: <sip:" + txn.to + "@example.com>" + (with_to_tag ? ";tag=to-" + txn.to : ""));
    headers.push_back("Call-ID: " + txn.call_id);
    headers.push_back("CSeq: " + std::to_string(txn.cseq) + " " + txn.method);
    return headers;
}

inline std::string request_text(const Txn& txn, const Headers& extra = {}) {
    Headers headers = common_headers(txn, false);
    headers.push_back("Max-Forwards: 70");
    headers.insert(headers.end(), extra.begin(), extra.end());
    return join_lines(txn.method + " sip:" + txn.to + "@example.com SIP/2.0", headers);
}

inline std::string reason_phrase_of(int status) {
    switch (status) {
        case 100:
            return "Trying";
        case 180:
            return "Ringing";
        case 200:
            return "OK";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 500:
            return "Server Internal Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

inline std::string response_text(const Txn& txn, int status, const Headers& extra = {}, std::string phrase = "") {
    Headers headers = common_headers(txn, status > 100);
    headers.insert(headers.end(), extra.begin(), extra.end());
    if (phrase.empty()) phrase = reason_phrase_of(status);
    return join_lines("SIP/2.0 " + std::to_string(status) + " " + phrase, headers);
}

// Parses text that must be SIP; a test failure (and an empty message) otherwise.
inline SipMessage parse(const std::string& text) {
    auto message = parse_sip_message(text);
    if (!message) {
        ADD_FAILURE() << "not parsed as SIP:\n" << text;
        return {};
    }
    return *message;
}

// A parsed 503 of the default transaction with the given extra headers.
inline SipMessage parsed_503(const Headers& extra = {}, const std::string& phrase = "Service Unavailable") {
    return parse(response_text(Txn{}, 503, extra, phrase));
}

// Seconds as whole microseconds, rounded (0.05 s is 50000 us, not 49999).
inline std::int64_t microseconds(double seconds) { return std::llround(seconds * 1000000); }

inline Endpoint endpoint(const std::string& address, std::uint16_t port = 5060) { return Endpoint{address, port}; }

inline std::string all_evidence(const Verdict& verdict) {
    std::string text;
    for (const auto& item : verdict.evidence) {
        text += "  - " + item.sentence + " [frames";
        for (auto frame : item.frames) text += " " + std::to_string(frame);
        text += "]\n";
    }
    return text;
}

// EXPECT_TRUE(HasEvidence(verdict, "RFC 3261")): some evidence sentence contains the text (case-insensitive).
inline ::testing::AssertionResult HasEvidence(const Verdict& verdict, std::string_view text) {
    for (const auto& item : verdict.evidence)
        if (icontains(item.sentence, text)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "no evidence mentions \"" << text << "\"; cause "
                                         << cause_name(verdict.cause) << ", evidence:\n"
                                         << all_evidence(verdict);
}

// The evidence item whose sentence contains the text, or nullptr.
inline const Evidence* evidence_with(const Verdict& verdict, std::string_view text) {
    for (const auto& item : verdict.evidence)
        if (icontains(item.sentence, text)) return &item;
    return nullptr;
}

inline ::testing::AssertionResult IsCause(const Verdict& verdict, Cause expected) {
    if (verdict.cause == expected) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "cause " << cause_name(verdict.cause) << " (confidence "
                                         << verdict.confidence << "), expected " << cause_name(expected)
                                         << "; evidence:\n"
                                         << all_evidence(verdict);
}

// EXPECT_TRUE(Diagnosed(verdict, Cause::overload, "load shedding")): the cause, and evidence that says so.
inline ::testing::AssertionResult Diagnosed(const Verdict& verdict, Cause expected, std::string_view text) {
    if (verdict.cause != expected) return IsCause(verdict, expected);
    return HasEvidence(verdict, text);
}

// ---- other protocols: packets and the parsed DNS, TLS, ICMP and database messages ----

constexpr std::int64_t kCaptureStartUs = 1700000000LL * 1000000;  // a whole second

// Packet `frame`, sent `at_s` seconds after the capture start.
inline PacketMeta packet(std::uint32_t frame, double at_s, const Endpoint& from, const Endpoint& to,
                         Transport transport = Transport::udp) {
    PacketMeta meta;
    meta.frame = frame;
    meta.time_us = kCaptureStartUs + microseconds(at_s);
    meta.transport = transport;
    meta.source = from;
    meta.destination = to;
    return meta;
}

// DNS question types and response codes by name.
namespace dns {
constexpr std::uint16_t a = 1, ptr = 12, txt = 16, aaaa = 28, srv = 33, naptr = 35;
constexpr std::uint8_t noerror = 0, servfail = 2, nxdomain = 3, refused = 5;
}  // namespace dns

inline DnsMessage dns_query(std::uint16_t type, const std::string& name, std::uint16_t id = 0x1234) {
    DnsMessage message;
    message.id = id;
    message.question_type = type;
    message.question_name = name;
    return message;
}

inline DnsMessage dns_answer(std::uint16_t type, const std::string& name, std::uint8_t rcode,
                             std::uint16_t id = 0x1234) {
    DnsMessage message = dns_query(type, name, id);
    message.is_response = true;
    message.rcode = rcode;
    message.answer_count = rcode == dns::noerror ? 1 : 0;
    return message;
}

// TLS records of one segment.
inline TlsSummary client_hello() {
    TlsSummary records;
    records.client_hello = true;
    return records;
}
inline TlsSummary server_hello() {
    TlsSummary records;
    records.server_hello = true;
    return records;
}
inline TlsSummary encrypted_records() {  // content type 23: application data, or TLS 1.3 handshake
    TlsSummary records;
    records.application_data = true;
    return records;
}
inline TlsSummary fatal_alert(std::uint8_t description) {  // 42 bad_certificate, 48 unknown_ca
    TlsSummary records;
    records.alert = TlsAlert{2, description};
    return records;
}

// An ICMP port unreachable about a datagram (17 UDP, 6 TCP) that `sent_from` sent to `sent_to`.
inline IcmpError port_unreachable(const Endpoint& sent_from, const Endpoint& sent_to, std::uint8_t protocol = 17) {
    IcmpError error;
    error.kind = IcmpError::Kind::port_unreachable;
    error.type = 3;
    error.code = 3;
    error.original_protocol = protocol;
    error.original_source = sent_from.address;
    error.original_source_port = sent_from.port;
    error.original_destination = sent_to.address;
    error.original_destination_port = sent_to.port;
    return error;
}

inline DatabaseError database_error(const std::string& product, const std::string& severity, const std::string& code,
                                    const std::string& message) {
    return DatabaseError{product, severity, code, message};
}

}  // namespace diag503::test
