// The plain RTSP message the engine reads (RFC 2326 / 7826), and its tolerant parser.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/retry_after.hpp"

namespace diag503 {

struct RtspMessage {
    bool is_request = false;
    std::string method;              // requests: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, ...
    std::string url;                 // requests
    int status_code = 0;             // responses
    std::string reason_phrase;       // responses

    bool has_cseq = false;
    std::uint32_t cseq = 0;
    std::string session;             // Session id, without parameters
    std::optional<std::uint32_t> session_timeout_s;  // Session: id;timeout=N
    std::string transport;
    RetryAfter retry_after;
    std::string server;
    std::string user_agent;
    std::string content_base;
    std::string content_type;
    std::string www_authenticate;
    std::string public_methods;
    std::optional<std::uint64_t> content_length;
    std::string body;                // e.g. the SDP of a DESCRIBE answer, at most kMaxRtspBody bytes

    std::vector<std::string> anomalies;
};

inline constexpr std::size_t kMaxRtspBody = 8192;

// Parses an RTSP request or response. nullopt when the text is not RTSP at all, e.g. an
// interleaved binary frame ('$'), or HTTP.
std::optional<RtspMessage> parse_rtsp_message(std::string_view text);

}  // namespace diag503
