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
    overload,
    capacity_limit,
    upstream_failure,
    dns_failure,
    tls_failure,
    database_failure,
    maintenance,
    registration_routing,
    unknown,
};
inline constexpr int kCauseCount = 9;

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
    Scope scope = Scope::undetermined;
    std::uint32_t active_dialogs = 0;              // on the server when the 503 was sent
    bool is_retransmission = false;
    bool malformed = false;                        // the 503 had headers the parser had to tolerate
};

}  // namespace diag503
