// What the engine remembers about one server (the address:port that answers): load, outcomes, dialogs, onset.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <string>

#include "core/packet_meta.hpp"
#include "core/settings.hpp"
#include "evidence/request_rate.hpp"

namespace diag503 {

// One final answer the server gave (or, for a 503 without its request, the 503 itself).
struct Outcome {
    std::int64_t time_us = 0;
    std::uint32_t frame = 0;
    // any final answer that is neither 5xx nor a challenge (401, 407): the server processed the
    // request. A server that is shutting down or at its limit still challenges first.
    bool served = false;
    bool refused_503 = false;
    std::uint64_t caller = 0;   // hash of From user, 0 when none
    std::uint64_t callee = 0;   // hash of To user, 0 when none
    std::uint64_t method = 0;   // hash of the CSeq method
};

// The server's recent request rate against its baseline, at one moment.
struct LoadFacts {
    std::uint32_t recent_requests = 0;       // in Settings::surge_window_s
    double baseline_per_second = 0;          // median per-second count in the baseline window before it
    int baseline_seconds = 0;                // how much of the baseline window the capture covers
    std::uint32_t served_during_surge = 0;
};

// The server's active calls, and how its refusals sat against that count.
struct CallCountFacts {
    std::uint32_t active_dialogs = 0;
    std::uint32_t peak_active_dialogs = 0;
    std::uint32_t dialogs_at_previous_503 = 0;
    std::uint32_t previous_503_frame = 0;
    bool dialogs_dipped_since_previous_503 = false;
    std::uint32_t plateau_first_frame = 0;   // first earlier 503 at this same, unchanged call count
    std::int64_t plateau_first_us = 0;
    std::uint32_t plateau_refusals = 0;      // earlier 503s at this count since then
    std::uint32_t lowest_dialogs_at_a_503 = UINT32_MAX;  // over the earlier 503s of this server
    std::uint32_t lowest_dialogs_503_frame = 0;
    std::uint32_t peak_since_lowest_503 = 0;  // the most calls in progress at once since that 503
    // The current run of new calls (INVITEs outside a call) refused with 503, none taken since its first.
    std::uint32_t new_call_refusals = 0;
    std::uint32_t new_call_run_first_frame = 0;
    std::uint32_t new_call_run_users = 0;          // distinct callers and callees refused in it, at most 4
    std::uint32_t active_at_new_call_run_start = 0;  // calls in progress at its first refusal
    std::uint64_t new_calls_taken_before_run = 0;  // new calls the server took before it
};

// When the server's current run of refusals began, and when it last served.
struct OnsetFacts {
    std::uint32_t last_served_frame = 0;
    std::int64_t last_served_us = 0;
    std::uint32_t failure_run_first_frame = 0;
    std::int64_t failure_run_first_us = 0;
    std::uint32_t failures_in_run = 0;
};

// Owner: SipEngine, one per server, keyed by server endpoint, lives until evicted by count
// (Settings::max_servers) or by time (Settings::context_lifetime_s since last written); its outcome
// history is bounded by Settings::outcome_history.
struct ServerContext {
    std::string name;        // "address:port"
    Endpoint endpoint;       // the same, as address and port
    std::uint64_t key = 0;   // its key in the engine's server map
    // Evictions that cost this server evidence: its earlier context was pushed out at the max_servers
    // bound (this context starts at that frame), and active calls pushed out at the max_dialogs bound.
    std::uint32_t context_since_frame = 0;
    std::uint32_t dialogs_forgotten = 0;
    RequestRate requests;
    std::deque<Outcome> outcomes;  // oldest first

    std::uint32_t active_dialogs = 0;
    std::uint32_t peak_active_dialogs = 0;
    std::uint32_t dialogs_at_previous_503 = 0;
    std::uint32_t previous_503_frame = 0;
    bool dialogs_dipped_since_previous_503 = false;  // a call ended, taking the count below that level
    // The current run of refusals at an unchanged call count (no call admitted or ended since its first).
    bool refusal_plateau = false;
    std::uint32_t plateau_dialogs = 0;
    std::uint32_t plateau_first_frame = 0;
    std::int64_t plateau_first_us = 0;
    std::uint32_t plateau_refusals = 0;
    std::uint32_t lowest_dialogs_at_a_503 = UINT32_MAX;
    std::uint32_t lowest_dialogs_503_frame = 0;
    std::uint32_t peak_since_lowest_503 = 0;

    std::uint32_t last_served_frame = 0;
    std::int64_t last_served_us = 0;
    std::uint64_t served_total = 0;
    std::uint32_t failure_run_first_frame = 0;  // first 503 since the last served request
    std::int64_t failure_run_first_us = 0;
    std::uint32_t failures_in_run = 0;

    // Server or User-Agent of the server's own 100 Trying: a 100 is never relayed (RFC 3261 §16.7).
    std::string own_agent;
    std::uint32_t own_agent_frame = 0;

    // The current run of new calls refused (see CallCountFacts); a new call taken ends it.
    std::uint32_t new_call_refusals = 0;
    std::uint32_t new_call_run_first_frame = 0;
    std::array<std::uint64_t, 4> new_call_run_users{};
    std::uint32_t active_at_new_call_run_start = 0;
    std::uint64_t new_calls_taken = 0;
    std::uint64_t new_calls_taken_before_run = 0;

    std::uint32_t overload_signal_frame = 0;    // last response carrying RFC 7339 oc parameters
    std::int64_t overload_signal_us = 0;

    void record(const Outcome& outcome, std::size_t history_bound);
    // A final answer to an INVITE that began a call: taken (any answer of service) or refused with 503.
    void note_new_call_taken();
    void note_new_call_refused(std::uint32_t frame, std::uint64_t caller, std::uint64_t callee);

    // Snapshots of what this context knows at `now_us`, for the classifier.
    LoadFacts load_at(std::int64_t now_us, const Settings& settings) const;
    CallCountFacts call_counts() const;
    OnsetFacts onset() const;
};

struct ScopeFacts {
    enum class Kind { undetermined, single_user, several_users, all_users } kind = Kind::undetermined;
    std::uint64_t common_user = 0;          // set for single_user
    std::uint32_t refused_in_window = 0;
    std::uint32_t served_in_window = 0;
    std::uint32_t users_refused = 0;
    std::uint32_t users_served = 0;         // distinct users served by requests of the 503's method
    std::uint32_t failures_of_common_user = 0;  // 503s in the window, all involving common_user
    std::uint32_t methods_refused = 0;
    std::uint32_t first_refused_frame = 0;
    std::uint32_t last_served_frame = 0;
};

// Compares the recent 503s with the recent served requests to tell one user from everyone.
// `method` is the hash of the 503's CSeq method: other users count as served by requests of that kind.
ScopeFacts assess_scope(const ServerContext& server, std::int64_t now_us, std::uint64_t method, const Settings& settings);

}  // namespace diag503
