// What the engine concludes about one 503: cause, confidence, evidence, recommendation and context.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diag503 {

enum class Cause {
#define DIAG503_CAUSE(name, protocol, recommendation) name,
#include "core/causes.def"
#undef DIAG503_CAUSE
};
inline constexpr int kCauseCount = 0
#define DIAG503_CAUSE(name, protocol, recommendation) +1
#include "core/causes.def"
#undef DIAG503_CAUSE
    ;

std::string_view cause_name(Cause cause);            // the fixed vocabulary, e.g. "capacity_limit"
std::string_view cause_recommendation(Cause cause);  // what to do next, in plain words

enum class Scope { undetermined, single_user, several_users, all_users };
std::string_view scope_name(Scope scope);            // "" for undetermined

struct Evidence {
    std::string sentence;
    std::vector<std::uint32_t> frames;  // the frames the sentence rests on
};

struct Verdict {
    Cause cause = Cause::unknown;
    int confidence = 0;  // 0..100
    std::vector<Evidence> evidence;
    std::string recommendation;

    std::uint32_t frame = 0;                       // the 503 itself
    std::uint32_t request_frame = 0;               // 0: request not captured
    std::optional<std::int64_t> response_time_us;  // 503 time minus first request time
    std::optional<std::uint64_t> retry_after_seconds;
    std::string server;                            // "address:port" of the 503 sender
    std::string method;                            // of the refused request (from CSeq when the request is missing)
    // RTSP only
    std::string url;                               // of the refused request
    std::optional<std::uint32_t> channel;          // camera or NVR channel, when the URL names one
    std::string stream;                            // main, sub, third or unknown
    std::string profile;                           // the requested encoding, as text
    std::optional<std::uint32_t> active_sessions;  // on that device when the 503 was sent
    Scope scope = Scope::undetermined;
    std::uint32_t active_dialogs = 0;              // on the server when the 503 was sent
    bool is_retransmission = false;
    std::uint32_t retransmission_of = 0;           // the first sending of this 503, for a retransmission
    // Which hop generated the 503 (SIP).
    std::string origin;                            // "generated here" or "relayed from <hop>"
    std::uint32_t origin_frame = 0;                // that hop's own 503, when it was captured
    bool relays_503 = false;                       // passed on a downstream 503 (RFC 3261 §16.7 asks for 500)
    // For incidents: who was refused, and how many requests the server had served so far.
    std::uint64_t client_key = 0;                  // hash of the caller (SIP) or client address (RTSP)
    std::uint64_t served_total = 0;
    bool malformed = false;                        // the 503 had headers the parser had to tolerate
    bool cut = false;                              // the capture kept only the start of the 503 (snaplen)
};

}  // namespace diag503
