// The plain SIP message the engine reads, and the parser that builds it from message text.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/retry_after.hpp"

namespace diag503 {

// RFC 7339 overload-control parameters of one Via entry.
struct OverloadControl {
    std::optional<std::uint32_t> reduction_percent;  // oc=
    std::string algorithm;                           // oc-algo=
    std::optional<std::uint64_t> validity_ms;         // oc-validity=
    std::string sequence;                            // oc-seq=
    // A bare `oc` only advertises support (RFC 7339 §5.1); oc=0 asks for no reduction.
    bool asks_to_reduce() const { return reduction_percent && *reduction_percent > 0; }
};

struct ViaEntry {
    std::string transport;  // "UDP", "TCP", "TLS", ...
    std::string sent_by;    // host[:port]; read only for the Vias of a diagnosed message
    std::uint16_t sent_by_port = 0;  // the port sent-by names, 0 when it names none (read for every Via)
    std::string branch;
    std::string received;
    std::optional<OverloadControl> overload_control;
};


struct ReasonValue {
    std::string protocol;         // "Q.850", "SIP", ...
    std::optional<std::uint32_t> cause;
    std::string text;
};

struct WarningValue {
    int code = 0;
    std::string agent;
    std::string text;
};

// A new field must also be emptied in clear_for_reuse (sip_message.cpp): the capture analysis parses
// every message into one kept SipMessage.
struct SipMessage {
    bool is_request = false;
    std::string method;           // requests
    std::string request_uri;      // requests
    int status_code = 0;          // responses
    std::string reason_phrase;    // responses

    std::string call_id;
    bool has_cseq = false;
    std::uint32_t cseq_number = 0;
    std::string cseq_method;

    std::vector<ViaEntry> vias;   // top first, at most kMaxVias; other than a 503: the top one, branch and oc only
    bool via_stack_truncated = false;
    std::string from_user, from_tag, to_user, to_tag;  // users: responses; To tag: requests and a 503; From tag: a 503
    std::string contact_host;     // 2xx to REGISTER: the host of the first Contact (a registrar lists the bindings)

    RetryAfter retry_after;
    std::vector<ReasonValue> reasons;
    std::vector<WarningValue> warnings;
    std::string server;
    std::string user_agent;
    std::vector<std::string> reason_headers;  // "X-...Reason...: value" style vendor headers

    std::vector<std::string> anomalies;       // what the parser had to tolerate, as sentences

    // Hashes of the Call-ID and of Call-ID + CSeq, made once by the parser: the engines look a message
    // up by them several times. A message built by hand (tests) has none, and they are made on demand.
    bool identities_hashed = false;
    std::uint64_t call_hash = 0;
    std::uint64_t cseq_hash = 0;

    const std::string& top_branch() const;
};

inline constexpr std::size_t kMaxVias = 64;
inline constexpr std::size_t kMaxListedValues = 8;     // Reason, Warning, vendor reason headers
inline constexpr std::size_t kMaxStoredText = 200;     // bytes of any one header value kept

// Parses a SIP request or response (start line and headers; the body is ignored), reading only what
// each message is used for: a 503 in full; other responses without Retry-After, Reason, Warning,
// vendor reason headers or deeper Via entries (Server/User-Agent only for a 100); requests without
// their From, To user and request-URI user (users are counted on responses), To tag kept; the tags
// of a response only for a 503. A message other than a 503 or a 100 is read only until its first Via,
// Call-ID, CSeq, To and (responses) From have all appeared: a repeated one after that is not seen.
// Returns nullopt only when the start line is not SIP at all.
std::optional<SipMessage> parse_sip_message(std::string_view text);
// The same into a message kept between calls: its strings and vectors keep their storage, so that
// reading a capture allocates nothing per message once they have grown. False when not SIP.
bool parse_sip_message_into(std::string_view text, SipMessage& message);

// Call-ID, CSeq number and CSeq method: the same for a retransmission, new for each new request.
std::uint64_t cseq_identity(const SipMessage& message);  // Call-ID, CSeq number and method
std::uint64_t call_identity(const SipMessage& message);  // Call-ID

// Header-value parsers, exposed for unit tests.
std::vector<ViaEntry> parse_via_values(std::string_view value);
std::vector<ReasonValue> parse_reason_values(std::string_view value);
std::vector<WarningValue> parse_warning_values(std::string_view value);
struct NameAddr {
    std::string user;
    std::string tag;
};
NameAddr parse_name_addr(std::string_view value);
std::string uri_user(std::string_view uri);
std::string uri_host(std::string_view uri);  // without port; an IPv6 reference without its brackets
// The same as it stands in the URI, unsanitised: uri_host is printable(uri_host_text, kMaxStoredText).
std::string_view uri_host_text(std::string_view uri);
std::string name_addr_host(std::string_view value);  // of the first name-addr in a Contact list

}  // namespace diag503
