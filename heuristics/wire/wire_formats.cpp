// Bounds-checked readers of DNS, TLS records, ICMP/ICMPv6 errors and PostgreSQL/MySQL errors; never throw.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "wire/wire_formats.hpp"


#include <array>
#include <cstring>

#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::size_t kMaxStoredText = 200;

// ---- reading bytes ----

bool has(std::string_view bytes, std::size_t offset, std::size_t count) {
    return offset <= bytes.size() && count <= bytes.size() - offset;
}

// The callers check `has` first.
std::uint8_t u8(std::string_view bytes, std::size_t offset) { return static_cast<std::uint8_t>(bytes[offset]); }
std::uint16_t be16(std::string_view bytes, std::size_t offset) {
    return static_cast<std::uint16_t>(u8(bytes, offset) << 8 | u8(bytes, offset + 1));
}
std::uint32_t be24(std::string_view bytes, std::size_t offset) {
    return std::uint32_t{u8(bytes, offset)} << 16 | be16(bytes, offset + 1);
}
std::uint32_t be32(std::string_view bytes, std::size_t offset) {
    return std::uint32_t{u8(bytes, offset)} << 24 | be24(bytes, offset + 1);
}
std::uint32_t le24(std::string_view bytes, std::size_t offset) {
    return std::uint32_t{u8(bytes, offset + 2)} << 16 | std::uint32_t{u8(bytes, offset + 1)} << 8 | u8(bytes, offset);
}

// At most kMaxStoredText bytes including the ellipsis `printable` adds when it cuts.
std::string stored_text(std::string_view text) {
    return printable(text, text.size() <= kMaxStoredText ? kMaxStoredText : kMaxStoredText - 3);
}

// ---- DNS ----

constexpr std::size_t kDnsHeaderLength = 12;
constexpr std::size_t kMaxDnsNameWireLength = 255;  // RFC 1035 §3.1, length bytes included
constexpr int kMaxDnsPointerHops = 16;

void append_label(std::string& name, std::string_view label) {
    if (!name.empty()) name.push_back('.');
    for (char c : label) name.push_back(c > ' ' && c < 0x7f ? c : '?');
}

// Reads the name at `offset`, following compression pointers; returns the offset just after the name
// where it first appears (past the first pointer, or past the root label).
std::optional<std::size_t> read_dns_name(std::string_view message, std::size_t offset, std::string& name) {
    std::optional<std::size_t> end;
    std::size_t wire_length = 1;  // the root label
    int hops = 0;
    while (has(message, offset, 1)) {
        const std::uint8_t length = u8(message, offset);
        if (length == 0) return end.value_or(offset + 1);
        if ((length & 0xc0) == 0xc0) {
            if (!has(message, offset, 2) || ++hops > kMaxDnsPointerHops) return std::nullopt;
            if (!end) end = offset + 2;
            offset = be16(message, offset) & 0x3fff;
            continue;
        }
        if ((length & 0xc0) != 0) return std::nullopt;  // RFC 6891 extended label types: obsolete
        wire_length += 1u + length;
        if (wire_length > kMaxDnsNameWireLength || !has(message, offset + 1, length)) return std::nullopt;
        append_label(name, message.substr(offset + 1, length));
        offset += 1u + length;
    }
    return std::nullopt;
}

}  // namespace

std::optional<DnsMessage> parse_dns(std::string_view bytes) {
    if (bytes.size() < kDnsHeaderLength) return std::nullopt;
    DnsMessage message;
    message.id = be16(bytes, 0);
    message.is_response = (u8(bytes, 2) & 0x80) != 0;
    message.rcode = u8(bytes, 3) & 0x0f;
    message.answer_count = be16(bytes, 6);
    if (be16(bytes, 4) == 0) return message;  // no question
    message.question_name.reserve(kMaxDnsNameWireLength);
    const auto after_name = read_dns_name(bytes, kDnsHeaderLength, message.question_name);
    if (!after_name || !has(bytes, *after_name, 2)) return std::nullopt;
    message.question_type = be16(bytes, *after_name);
    return message;
}

std::string_view dns_rcode_name(std::uint8_t rcode) {
    switch (rcode) {
        case 0: return "NOERROR";
        case 1: return "FORMERR";
        case 2: return "SERVFAIL";
        case 3: return "NXDOMAIN";
        case 4: return "NOTIMP";
        case 5: return "REFUSED";
        case 6: return "YXDOMAIN";
        case 7: return "YXRRSET";
        case 8: return "NXRRSET";
        case 9: return "NOTAUTH";
        case 10: return "NOTZONE";
        default: return "";
    }
}

std::string_view dns_type_name(std::uint16_t type) {
    switch (type) {
        case 1: return "A";
        case 2: return "NS";
        case 5: return "CNAME";
        case 6: return "SOA";
        case 12: return "PTR";
        case 15: return "MX";
        case 16: return "TXT";
        case 28: return "AAAA";
        case 33: return "SRV";
        case 35: return "NAPTR";
        case 64: return "SVCB";
        case 65: return "HTTPS";
        case 255: return "ANY";
        default: return "";
    }
}

// ---- TLS ----

namespace {

constexpr std::size_t kTlsRecordHeaderLength = 5;
constexpr std::size_t kMaxTlsRecordLength = (1u << 14) + 2048;  // RFC 5246 §6.2.3 TLSCiphertext
constexpr std::size_t kHandshakeHeaderLength = 4;
constexpr std::uint32_t kMinHelloLength = 38;  // version, random, session id length, suite, compression

constexpr std::uint8_t kChangeCipherSpec = 20;
constexpr std::uint8_t kAlert = 21;
constexpr std::uint8_t kHandshake = 22;
constexpr std::uint8_t kApplicationData = 23;
constexpr std::uint8_t kHeartbeat = 24;

bool is_known_handshake_type(std::uint8_t type) {
    switch (type) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 8: case 11: case 12: case 13: case 14:
        case 15: case 16: case 20: case 21: case 22: case 23: case 24: case 25: case 254:
            return true;
        default:
            return false;
    }
}

// An encrypted Finished can start with 1 or 2 by chance; a real hello also carries a plausible length and
// its legacy_version 3.x right after the header.
bool looks_like_hello(std::string_view body, std::size_t offset) {
    const std::size_t version = offset + kHandshakeHeaderLength;
    return be24(body, offset + 1) >= kMinHelloLength && has(body, version, 2) && u8(body, version) == 3 &&
           u8(body, version + 1) <= 4;
}

// `body` is the part of the record present in the bytes.
void read_handshake_record(std::string_view body, TlsSummary& summary) {
    std::size_t offset = 0;
    while (has(body, offset, kHandshakeHeaderLength)) {
        const std::uint8_t type = u8(body, offset);
        if (!is_known_handshake_type(type)) return;  // encrypted (TLS 1.2 Finished, ...)
        if (type == 1 && looks_like_hello(body, offset)) summary.client_hello = true;
        if (type == 2 && looks_like_hello(body, offset)) summary.server_hello = true;
        offset += kHandshakeHeaderLength + be24(body, offset + 1);
    }
}

void read_alert_record(std::size_t declared_length, std::string_view body, TlsSummary& summary) {
    if (summary.alert || declared_length != 2 || body.size() != 2) return;  // longer alerts are encrypted
    summary.alert = TlsAlert{u8(body, 0), u8(body, 1)};
}

bool is_plausible_record_header(std::string_view bytes, std::size_t offset) {
    const std::uint8_t type = u8(bytes, offset);
    return type >= kChangeCipherSpec && type <= kHeartbeat && u8(bytes, offset + 1) == 3 &&
           be16(bytes, offset + 3) <= kMaxTlsRecordLength;
}

}  // namespace

TlsSummary summarize_tls_records(std::string_view bytes) {
    TlsSummary summary;
    std::size_t offset = 0;
    while (has(bytes, offset, kTlsRecordHeaderLength) && is_plausible_record_header(bytes, offset)) {
        const std::uint8_t type = u8(bytes, offset);
        const std::size_t length = be16(bytes, offset + 3);
        const std::string_view body = bytes.substr(offset + kTlsRecordHeaderLength, length);
        if (type == kHandshake) read_handshake_record(body, summary);
        if (type == kAlert) read_alert_record(length, body, summary);
        if (type == kApplicationData) summary.application_data = true;
        offset += kTlsRecordHeaderLength + length;
    }
    return summary;
}

std::string_view tls_alert_name(std::uint8_t description) {
    switch (description) {
        case 0: return "close_notify";
        case 10: return "unexpected_message";
        case 20: return "bad_record_mac";
        case 21: return "decryption_failed";
        case 22: return "record_overflow";
        case 30: return "decompression_failure";
        case 40: return "handshake_failure";
        case 41: return "no_certificate";
        case 42: return "bad_certificate";
        case 43: return "unsupported_certificate";
        case 44: return "certificate_revoked";
        case 45: return "certificate_expired";
        case 46: return "certificate_unknown";
        case 47: return "illegal_parameter";
        case 48: return "unknown_ca";
        case 49: return "access_denied";
        case 50: return "decode_error";
        case 51: return "decrypt_error";
        case 60: return "export_restriction";
        case 70: return "protocol_version";
        case 71: return "insufficient_security";
        case 80: return "internal_error";
        case 86: return "inappropriate_fallback";
        case 90: return "user_canceled";
        case 100: return "no_renegotiation";
        case 109: return "missing_extension";
        case 110: return "unsupported_extension";
        case 111: return "certificate_unobtainable";
        case 112: return "unrecognized_name";
        case 113: return "bad_certificate_status_response";
        case 114: return "bad_certificate_hash_value";
        case 115: return "unknown_psk_identity";
        case 116: return "certificate_required";
        case 120: return "no_application_protocol";
        default: return "";
    }
}

// ---- ICMP and ICMPv6 ----

namespace {

constexpr std::size_t kIcmpHeaderLength = 8;  // type, code, checksum, unused (or MTU)
constexpr std::size_t kIpv4MinHeaderLength = 20;
constexpr std::size_t kIpv6HeaderLength = 40;

using Kind = IcmpError::Kind;

std::optional<Kind> icmpv4_kind(std::uint8_t type, std::uint8_t code) {
    if (type == 11) return Kind::time_exceeded;
    if (type != 3) return std::nullopt;
    switch (code) {
        case 0: return Kind::network_unreachable;
        case 1: return Kind::host_unreachable;
        case 3: return Kind::port_unreachable;
        case 9: case 10: case 13: return Kind::administratively_prohibited;
        default: return Kind::other_unreachable;
    }
}

std::optional<Kind> icmpv6_kind(std::uint8_t type, std::uint8_t code) {
    if (type == 3) return Kind::time_exceeded;
    if (type != 1) return std::nullopt;
    switch (code) {
        case 0: return Kind::network_unreachable;
        case 1: return Kind::administratively_prohibited;
        case 3: return Kind::host_unreachable;
        case 4: return Kind::port_unreachable;
        default: return Kind::other_unreachable;
    }
}

}  // namespace

namespace {

// The longest run of two or more zero groups, the first of equal runs: what "::" replaces (RFC 5952 4.2).
std::pair<int, int> longest_zero_run(const std::array<unsigned, 8>& groups) {
    int best_start = -1, best_length = 0;
    for (int i = 0; i < 8;) {
        int length = 0;
        while (i + length < 8 && groups[i + length] == 0) ++length;
        if (length > best_length && length >= 2) best_start = i, best_length = length;
        i += length > 0 ? length : 1;
    }
    return {best_start, best_length};
}

}  // namespace

std::string ipv6_text(std::string_view sixteen_bytes) {
    if (sixteen_bytes.size() < 16) return {};
    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i)
        groups[i] = static_cast<unsigned>(static_cast<unsigned char>(sixteen_bytes[2 * i])) << 8 |
                    static_cast<unsigned char>(sixteen_bytes[2 * i + 1]);
    const auto [zero_start, zero_length] = longest_zero_run(groups);
    // IPv4-compatible and IPv4-mapped addresses end in dotted decimal, as Wireshark prints them.
    const bool embeds_ipv4 = zero_start == 0 && (zero_length == 6 || (zero_length == 5 && groups[5] == 0xffff));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    for (int i = 0; i < 8; ++i) {
        if (i == zero_start) {
            text += "::";
            i += zero_length - 1;
            continue;
        }
        if (!text.empty() && text.back() != ':') text += ':';
        if (embeds_ipv4 && i == 6) return text + ipv4_text(sixteen_bytes.substr(12, 4));
        bool leading = true;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned digit = groups[i] >> shift & 0xf;
            if (leading && digit == 0 && shift > 0) continue;
            leading = false;
            text += kHex[digit];
        }
    }
    return text;
}

namespace {

// Each octet's decimal digits, made once: two addresses are written for every analysed frame.
struct OctetDigits {
    std::array<std::array<char, 4>, 256> digits{};  // up to three digits, then their count
    constexpr OctetDigits() {
        for (unsigned value = 0; value < 256; ++value) {
            auto& entry = digits[value];
            char count = 0;
            if (value >= 100) entry[count++] = static_cast<char>('0' + value / 100);
            if (value >= 10) entry[count++] = static_cast<char>('0' + value / 10 % 10);
            entry[count++] = static_cast<char>('0' + value % 10);
            entry[3] = count;
        }
    }
};
constexpr OctetDigits kOctetDigits;

}  // namespace

std::string ipv4_text(std::string_view four_bytes) {
    char text[20];  // room for four whole table entries and their dots
    char* end = text;
    for (std::size_t i = 0; i < 4 && i < four_bytes.size(); ++i) {
        if (i > 0) *end++ = '.';
        const auto& entry = kOctetDigits.digits[static_cast<unsigned char>(four_bytes[i])];
        std::memcpy(end, entry.data(), 3);
        end += entry[3];
    }
    return std::string(text, end);
}

namespace {

bool has_ports(std::uint8_t protocol) { return protocol == 6 || protocol == 17 || protocol == 132; }

void read_ports(std::string_view bytes, std::size_t offset, IcmpError& error) {
    if (!has_ports(error.original_protocol) || !has(bytes, offset, 4)) return;
    error.original_source_port = be16(bytes, offset);
    error.original_destination_port = be16(bytes, offset + 2);
}

bool read_quoted_ipv4(std::string_view bytes, IcmpError& error) {
    constexpr std::size_t ip = kIcmpHeaderLength;
    if (!has(bytes, ip, kIpv4MinHeaderLength) || (u8(bytes, ip) >> 4) != 4) return false;
    const std::size_t header_length = (u8(bytes, ip) & 0x0fu) * 4u;
    if (header_length < kIpv4MinHeaderLength) return false;
    error.original_protocol = u8(bytes, ip + 9);
    error.original_source = ipv4_text(bytes.substr(ip + 12, 4));
    error.original_destination = ipv4_text(bytes.substr(ip + 16, 4));
    const bool first_fragment = (be16(bytes, ip + 6) & 0x1fff) == 0;  // later ones quote no transport header
    if (first_fragment) read_ports(bytes, ip + header_length, error);
    return true;
}

// Extension headers are not walked: behind one, the ports stay 0.
bool read_quoted_ipv6(std::string_view bytes, IcmpError& error) {
    constexpr std::size_t ip = kIcmpHeaderLength;
    if (!has(bytes, ip, kIpv6HeaderLength) || (u8(bytes, ip) >> 4) != 6) return false;
    error.original_protocol = u8(bytes, ip + 6);
    error.original_source = ipv6_text(bytes.substr(ip + 8, 16));
    error.original_destination = ipv6_text(bytes.substr(ip + 24, 16));
    read_ports(bytes, ip + kIpv6HeaderLength, error);
    return true;
}

}  // namespace

std::optional<IcmpError> parse_icmp_error(std::string_view bytes, bool icmpv6) {
    if (!has(bytes, 0, kIcmpHeaderLength)) return std::nullopt;
    IcmpError error;
    error.type = u8(bytes, 0);
    error.code = u8(bytes, 1);
    const auto kind = icmpv6 ? icmpv6_kind(error.type, error.code) : icmpv4_kind(error.type, error.code);
    if (!kind) return std::nullopt;
    error.kind = *kind;
    const bool quoted = icmpv6 ? read_quoted_ipv6(bytes, error) : read_quoted_ipv4(bytes, error);
    if (!quoted) return std::nullopt;
    return error;
}

std::string_view icmp_kind_name(IcmpError::Kind kind) {
    switch (kind) {
        case Kind::port_unreachable: return "port unreachable";
        case Kind::host_unreachable: return "host unreachable";
        case Kind::network_unreachable: return "network unreachable";
        case Kind::administratively_prohibited: return "administratively prohibited";
        case Kind::other_unreachable: return "destination unreachable";
        case Kind::time_exceeded: return "time exceeded";
    }
    return "";
}

// ---- PostgreSQL ----

namespace {

constexpr std::size_t kPostgresHeaderLength = 5;          // type byte, int32 length
constexpr std::uint32_t kMaxPostgresLength = 0x3fffffff;  // PostgreSQL's MaxAllocSize
constexpr int kMaxPostgresMessages = 256;
constexpr std::string_view kPostgresBackendTypes = "123ACDEGHIKNRSTVWZcdnstv";

bool is_plausible_postgres_header(std::string_view bytes, std::size_t offset) {
    const std::uint32_t length = be32(bytes, offset + 1);
    return kPostgresBackendTypes.find(bytes[offset]) != std::string_view::npos && length >= 4 &&
           length <= kMaxPostgresLength;
}

// Moves `fields` past the next NUL-terminated string (or to its end when the NUL is cut off).
std::string_view next_c_string(std::string_view& fields) {
    const std::size_t end = fields.find('\0');
    const std::string_view text = fields.substr(0, end);
    fields = end == std::string_view::npos ? std::string_view{} : fields.substr(end + 1);
    return text;
}

// ErrorResponse body: fields of a type byte and a string, ended by a 0 byte (PostgreSQL protocol §55.8).
std::optional<DatabaseError> read_error_fields(std::string_view fields) {
    DatabaseError error;
    error.product = "PostgreSQL";
    std::string_view localized_severity;
    std::string_view severity;
    while (!fields.empty() && fields.front() != '\0') {
        const char type = fields.front();
        fields.remove_prefix(1);
        const std::string_view value = next_c_string(fields);
        if (type == 'S') localized_severity = value;
        if (type == 'V') severity = value;  // not localized; PostgreSQL 9.6 and later
        if (type == 'C') error.code = stored_text(value);
        if (type == 'M') error.message = stored_text(value);
    }
    if (error.code.empty() && error.message.empty()) return std::nullopt;
    error.severity = stored_text(severity.empty() ? localized_severity : severity);
    return error;
}

}  // namespace

std::optional<DatabaseError> parse_postgresql_error(std::string_view bytes) {
    std::size_t offset = 0;
    for (int count = 0; count < kMaxPostgresMessages && has(bytes, offset, kPostgresHeaderLength); ++count) {
        if (!is_plausible_postgres_header(bytes, offset)) return std::nullopt;
        const std::size_t length = be32(bytes, offset + 1);
        if (bytes[offset] == 'E') {
            if (auto error = read_error_fields(bytes.substr(offset + kPostgresHeaderLength, length - 4))) return error;
        }
        offset += 1 + length;
    }
    return std::nullopt;
}

// ---- MySQL ----

namespace {

constexpr std::size_t kMysqlHeaderLength = 4;  // int<3> payload length, int<1> sequence id
constexpr std::size_t kMaxMysqlErrorPayload = 16384;  // an ERR_Packet message is at most 512 bytes
constexpr std::uint8_t kMysqlErrHeader = 0xff;
constexpr std::uint16_t kMariadbProgressReport = 0xffff;
constexpr std::size_t kSqlstateLength = 5;

}  // namespace

std::optional<DatabaseError> parse_mysql_error(std::string_view bytes) {
    if (!has(bytes, 0, kMysqlHeaderLength)) return std::nullopt;
    const std::size_t length = le24(bytes, 0);
    if (length < 3 || length > kMaxMysqlErrorPayload) return std::nullopt;
    std::string_view payload = bytes.substr(kMysqlHeaderLength, length);  // a cut-off message is read as far as it goes
    if (payload.size() < 3 || u8(payload, 0) != kMysqlErrHeader) return std::nullopt;
    const std::uint16_t number = static_cast<std::uint16_t>(u8(payload, 2) << 8 | u8(payload, 1));
    if (number == kMariadbProgressReport) return std::nullopt;
    payload.remove_prefix(3);
    if (payload.size() >= 1 + kSqlstateLength && payload.front() == '#') payload.remove_prefix(1 + kSqlstateLength);
    DatabaseError error;
    error.product = "MySQL";
    error.code = std::to_string(number);
    error.message = stored_text(payload);
    return error;
}

}  // namespace diag503
