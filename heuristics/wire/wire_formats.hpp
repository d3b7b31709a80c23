// Minimal readers of the non-SIP messages diag503 takes as evidence: DNS, TLS records, ICMP errors, database errors.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace diag503 {

// One DNS message as carried over UDP (over TCP, strip the two-byte length prefix first).
struct DnsMessage {
    std::uint16_t id = 0;
    bool is_response = false;
    std::uint8_t rcode = 0;            // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, 5 REFUSED, ...
    std::uint16_t answer_count = 0;
    std::uint16_t question_type = 0;   // of the first question: 1 A, 28 AAAA, 33 SRV, 35 NAPTR, ...
    std::string question_name;         // dotted, without the final dot; at most 255 bytes
};
std::optional<DnsMessage> parse_dns(std::string_view bytes);
std::string_view dns_rcode_name(std::uint8_t rcode);  // "NXDOMAIN"; "" when not one of the usual ones
std::string_view dns_type_name(std::uint16_t type);   // "SRV"; "" when not one diag503 cares about

// What the TLS records of one segment say about the handshake. Records cut off at the end of the
// bytes are read as far as they go.
struct TlsAlert {
    std::uint8_t level = 0;        // 1 warning, 2 fatal
    std::uint8_t description = 0;  // RFC 8446 §6 AlertDescription
};
struct TlsSummary {
    bool client_hello = false;
    bool server_hello = false;
    bool application_data = false;  // content type 23: the handshake completed (or TLS 1.3 hides it)
    std::optional<TlsAlert> alert;  // the first plaintext alert (an alert record of exactly 2 bytes)
};
TlsSummary summarize_tls_records(std::string_view bytes);
std::string_view tls_alert_name(std::uint8_t description);  // "unknown_ca"; "alert 199" style is the caller's job when ""

// An ICMP or ICMPv6 error about a datagram or segment the capture's host sent: the message from its
// type byte on, with the quoted IP header and the first 8 bytes of the transport header.
struct IcmpError {
    enum class Kind { port_unreachable, host_unreachable, network_unreachable, administratively_prohibited,
                      other_unreachable, time_exceeded };
    Kind kind = Kind::other_unreachable;
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint8_t original_protocol = 0;  // 6 TCP, 17 UDP, 132 SCTP
    std::string original_source;         // printable as Wireshark prints it: "192.0.2.1", "2001:db8::1"
    std::string original_destination;
    std::uint16_t original_source_port = 0;       // 0 when the quoted transport header is missing
    std::uint16_t original_destination_port = 0;
};
// Returns nullopt for ICMP messages that are not errors (echo, ...) or too short to quote an IP header.
std::optional<IcmpError> parse_icmp_error(std::string_view bytes, bool icmpv6);
// Four address bytes as dotted decimal, as Wireshark prints an IPv4 address ("192.0.2.1").
std::string ipv4_text(std::string_view four_bytes);
// Sixteen address bytes as RFC 5952 text, as Wireshark prints an IPv6 address ("2001:db8::1"); portable
// where inet_ntop is not.
std::string ipv6_text(std::string_view sixteen_bytes);
std::string_view icmp_kind_name(IcmpError::Kind kind);  // "port unreachable"

// An error a database server sent to its client.
struct DatabaseError {
    std::string product;   // "PostgreSQL", "MySQL"
    std::string severity;  // PostgreSQL "FATAL", "ERROR"; MySQL ""
    std::string code;      // SQLSTATE "57P01", or MySQL error number "1040"
    std::string message;   // at most 200 bytes
};
// The first ErrorResponse ('E') among the backend messages in the bytes.
std::optional<DatabaseError> parse_postgresql_error(std::string_view bytes);
// A MySQL packet whose payload starts with 0xff (ERR_Packet), protocol 4.1 layout.
std::optional<DatabaseError> parse_mysql_error(std::string_view bytes);

}  // namespace diag503
