// What the engine concludes about one 503: cause, confidence, evidence, recommendation and context.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
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
std::string cause_title(Cause cause);  // the cause for a sentence: "capacity limit", "DNS failure" (its advice's title)

enum class Protocol { sip, rtsp };
std::string_view cause_recommendation(Cause cause, Protocol protocol);  // the same, with RTSP's own advice for unknown
std::string_view protocol_name(Protocol protocol);  // "sip", "rtsp"
bool cause_applies_to(Cause cause, Protocol protocol);  // from the protocol column of core/causes.def

enum class Scope { undetermined, single_user, several_users, all_users };
std::string_view scope_name(Scope scope);            // "" for undetermined

struct Evidence {
    std::string sentence;
    std::vector<std::uint32_t> frames;  // the frames the sentence rests on
};

// An incident as it stands at one of its 503s. Every figure counts only what came before, so one
// pass and two passes give the same answer; the incident's last 503 carries its totals.
struct IncidentFacts {
    std::uint32_t id = 0;               // 1, 2, ... in the order incidents begin; 0: none
    std::uint32_t first_frame = 0;      // its first 503
    std::int64_t duration_us = 0;       // from its first 503 to this one
    std::uint32_t refusals = 0;         // its 503s so far, this one included
    std::uint32_t clients = 0;          // distinct callers or clients refused so far
    std::uint64_t served = 0;           // requests the server still served since its first 503
    // Change since the previous 503 of the incident, for statistics that add up to the totals.
    bool new_client = false;
    std::int64_t added_duration_us = 0;
    std::uint64_t added_served = 0;
};

// What only a SIP verdict knows.
struct SipVerdictContext {
    Scope scope = Scope::undetermined;
    std::uint32_t active_dialogs = 0;  // on the server when the 503 was sent
    bool relays_503 = false;           // passed on a downstream 503 (RFC 3261 §16.7 asks for 500)
};

// What only an RTSP verdict knows.
struct RtspVerdictContext {
    std::string url;                        // of the refused request
    std::optional<std::uint32_t> channel;   // camera or NVR channel, when the URL names one
    std::string stream;                     // main, sub, third or unknown
    std::string profile;                    // the requested encoding, as text
    std::uint32_t active_sessions = 0;      // on that device when the 503 was sent
};

struct Verdict {
    // The diagnosis.
    Cause cause = Cause::unknown;
    int confidence = 0;  // 0..100
    std::vector<Evidence> evidence;
    std::string recommendation;

    // The 503, its request and its server.
    std::uint32_t frame = 0;                       // the 503 itself
    std::uint32_t request_frame = 0;               // 0: request not captured
    std::optional<std::int64_t> response_time_us;  // 503 time minus first request time
    std::optional<std::uint64_t> retry_after_seconds;
    std::string server;                            // "address:port" of the 503 sender
    std::string method;                            // of the refused request (from CSeq when the request is missing)
    bool is_retransmission = false;
    std::uint32_t retransmission_of = 0;           // the first sending of this 503, for a retransmission
    bool malformed = false;                        // the 503 had headers the parser had to tolerate
    bool cut = false;                              // the capture kept only the start of the 503 (snaplen)

    // Which hop generated the 503.
    std::string origin;                            // "generated here" or "relayed from <hop>"; "" when unknown
    std::uint32_t origin_frame = 0;                // that hop's own 503, when it was captured

    // Its incident, and what incidents count: who was refused, how many requests the server had served.
    IncidentFacts incident;
    std::uint64_t client_key = 0;                  // hash of the caller (SIP) or client address (RTSP)
    std::uint64_t served_total = 0;

    std::variant<SipVerdictContext, RtspVerdictContext> context;

    Protocol protocol() const { return context.index() == 0 ? Protocol::sip : Protocol::rtsp; }
    const SipVerdictContext* sip() const { return std::get_if<SipVerdictContext>(&context); }
    SipVerdictContext* sip() { return std::get_if<SipVerdictContext>(&context); }
    const RtspVerdictContext* rtsp() const { return std::get_if<RtspVerdictContext>(&context); }
    RtspVerdictContext* rtsp() { return std::get_if<RtspVerdictContext>(&context); }
};

}  // namespace diag503
