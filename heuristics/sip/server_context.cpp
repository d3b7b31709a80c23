// Per-server context: request-rate buckets, outcome history and the one-user-or-everyone comparison.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/server_context.hpp"

#include <algorithm>
#include <vector>

namespace diag503 {
LoadFacts ServerContext::load_at(std::int64_t now_us, const Settings& settings) const {
    constexpr std::int64_t kMicrosecondsPerSecond = 1000000;
    const int surge = static_cast<int>(std::min<std::uint32_t>(settings.surge_window_s, 8));
    const int baseline = static_cast<int>(std::min<std::uint32_t>(settings.baseline_window_s, RequestRate::kSeconds - 9));
    LoadFacts load;
    load.recent_requests = requests.count(now_us, surge);
    load.baseline_seconds = std::clamp(requests.history_seconds(now_us) - surge, 0, baseline);
    load.baseline_per_second = requests.median_per_second(now_us, load.baseline_seconds, surge);
    for (const Outcome& outcome : outcomes)
        if (outcome.served && outcome.time_us > now_us - surge * kMicrosecondsPerSecond) ++load.served_during_surge;
    return load;
}

CallCountFacts ServerContext::call_counts() const {
    CallCountFacts calls;
    calls.active_dialogs = active_dialogs;
    calls.peak_active_dialogs = peak_active_dialogs;
    calls.dialogs_at_previous_503 = dialogs_at_previous_503;
    calls.previous_503_frame = previous_503_frame;
    calls.dialogs_dipped_since_previous_503 = dialogs_dipped_since_previous_503;
    calls.lowest_dialogs_at_a_503 = lowest_dialogs_at_a_503;
    calls.lowest_dialogs_503_frame = lowest_dialogs_503_frame;
    calls.peak_since_lowest_503 = peak_since_lowest_503;
    calls.new_call_refusals = new_call_refusals;
    calls.new_call_run_first_frame = new_call_run_first_frame;
    calls.new_call_run_users = static_cast<std::uint32_t>(
        std::count_if(new_call_run_users.begin(), new_call_run_users.end(), [](std::uint64_t user) { return user != 0; }));
    calls.active_at_new_call_run_start = active_at_new_call_run_start;
    calls.new_calls_taken_before_run = new_calls_taken_before_run;
    if (refusal_plateau && plateau_dialogs == active_dialogs) {
        calls.plateau_first_frame = plateau_first_frame;
        calls.plateau_first_us = plateau_first_us;
        calls.plateau_refusals = plateau_refusals;
    }
    return calls;
}

OnsetFacts ServerContext::onset() const {
    return {last_served_frame, last_served_us, failure_run_first_frame, failure_run_first_us, failures_in_run};
}

void ServerContext::note_new_call_taken() {
    ++new_calls_taken;
    new_call_refusals = 0;
    new_call_run_first_frame = 0;
    new_call_run_users = {};
}

void ServerContext::note_new_call_refused(std::uint32_t frame, std::uint64_t caller, std::uint64_t callee) {
    if (new_call_refusals++ == 0) {
        new_call_run_first_frame = frame;
        active_at_new_call_run_start = active_dialogs;
        new_calls_taken_before_run = new_calls_taken;
    }
    for (std::uint64_t user : {caller, callee}) {
        if (user == 0) continue;
        auto slot = std::find_if(new_call_run_users.begin(), new_call_run_users.end(),
                                 [user](std::uint64_t known) { return known == 0 || known == user; });
        if (slot != new_call_run_users.end()) *slot = user;
    }
}

void ServerContext::record(const Outcome& outcome, std::size_t history_bound) {
    outcomes.push_back(outcome);
    while (outcomes.size() > std::max<std::size_t>(history_bound, 1)) outcomes.pop_front();
    if (outcome.served) {
        last_served_frame = outcome.frame;
        last_served_us = outcome.time_us;
        ++served_total;
        failures_in_run = 0;
        failure_run_first_frame = 0;
    } else if (outcome.refused_503) {
        if (failures_in_run++ == 0) {
            failure_run_first_frame = outcome.frame;
            failure_run_first_us = outcome.time_us;
        }
    }
}

namespace {

// Sets of hashed users and methods, as sorted vectors: built once per 503 from at most
// Settings::outcome_history outcomes, where node-based sets cost an allocation per member.
using KeySet = std::vector<std::uint64_t>;

void insert_user(KeySet& users, std::uint64_t user) {
    if (user != 0) users.push_back(user);
}

std::uint32_t settle(KeySet& keys) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return static_cast<std::uint32_t>(keys.size());
}

// A user present in every refused outcome and in no served one, or 0.
std::uint64_t user_common_to_refusals(const std::vector<const Outcome*>& refused, const KeySet& served_users) {
    for (std::uint64_t candidate : {refused.back()->callee, refused.back()->caller}) {
        if (candidate == 0 || std::binary_search(served_users.begin(), served_users.end(), candidate)) continue;
        const bool in_all = std::all_of(refused.begin(), refused.end(), [&](const Outcome* outcome) {
            return outcome->caller == candidate || outcome->callee == candidate;
        });
        if (in_all) return candidate;
    }
    return 0;
}

}  // namespace

ScopeFacts assess_scope(const ServerContext& server, std::int64_t now_us, std::uint64_t method, const Settings& settings) {
    ScopeFacts facts;
    const std::int64_t window_start = now_us - static_cast<std::int64_t>(settings.scope_window_s) * 1000000;
    // A single-user fault: every refusal (of any method) involves one user, while other users are
    // served requests of the 503's own kind. Served requests of other kinds do not clear the user:
    // a user whose REGISTER works can still be unreachable by INVITE.
    std::vector<const Outcome*> refused;
    KeySet refused_users, served_users_same_method, refused_methods;
    for (const Outcome& outcome : server.outcomes) {
        if (outcome.time_us < window_start || outcome.time_us > now_us) continue;
        const bool same_method = outcome.method == method;
        if (outcome.served) {
            ++facts.served_in_window;
            facts.last_served_frame = outcome.frame;
            if (!same_method) continue;
            insert_user(served_users_same_method, outcome.caller);
            insert_user(served_users_same_method, outcome.callee);
        } else if (outcome.refused_503) {
            if (facts.refused_in_window++ == 0) facts.first_refused_frame = outcome.frame;
            insert_user(refused_users, outcome.caller);
            insert_user(refused_users, outcome.callee);
            refused_methods.push_back(outcome.method);
            refused.push_back(&outcome);
        }
    }
    facts.users_refused = settle(refused_users);
    facts.users_served = settle(served_users_same_method);
    facts.methods_refused = settle(refused_methods);
    if (facts.refused_in_window == 0 || facts.refused_in_window + facts.served_in_window < 2) return facts;
    if (facts.served_in_window == 0) {
        facts.kind = ScopeFacts::Kind::all_users;
        return facts;
    }
    if (!served_users_same_method.empty()) facts.common_user = user_common_to_refusals(refused, served_users_same_method);
    facts.failures_of_common_user = facts.common_user ? facts.refused_in_window : 0;
    facts.kind = facts.common_user ? ScopeFacts::Kind::single_user : ScopeFacts::Kind::several_users;
    return facts;
}

}  // namespace diag503
