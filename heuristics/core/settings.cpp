// The settings' allowed values and the correction of values outside them.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/settings.hpp"

#include <limits>

namespace diag503 {
namespace {

constexpr std::uint32_t kNoUpperLimit = std::numeric_limits<std::uint32_t>::max();

std::string sentence_for(const char* name, std::uint32_t given, std::uint32_t used, const std::string& why) {
    return "diag503." + std::string(name) + ": " + std::to_string(given) + " is " + why + "; " + std::to_string(used) +
           " is used instead.";
}

// A lower threshold must stay under the upper one it pairs with, or one class swallows the other.
void keep_below(Settings& settings, std::uint32_t Settings::*lower, std::uint32_t Settings::*upper,
                std::vector<std::string>& changes) {
    if (settings.*lower < settings.*upper) return;
    const std::uint32_t given = settings.*lower;
    settings.*lower = settings.*upper - 1;  // every upper minimum is at least 2
    changes.push_back(sentence_for(setting_range(lower)->name, given, settings.*lower,
                                   "not below diag503." + std::string(setting_range(upper)->name) + " (" +
                                       std::to_string(settings.*upper) + ")"));
}

}  // namespace

const std::vector<SettingRange>& setting_ranges() {
    static const std::vector<SettingRange> ranges = {
        {"immediate_response_ms", &Settings::immediate_response_ms, 1, 60000},
        {"delayed_response_ms", &Settings::delayed_response_ms, 2, 300000},
        {"short_retry_after", &Settings::short_retry_after_s, 1, 86400},
        {"long_retry_after", &Settings::long_retry_after_s, 2, 31536000},
        {"scope_window", &Settings::scope_window_s, 1, 3600},
        {"surge_window", &Settings::surge_window_s, 1, 8},
        {"baseline_window", &Settings::baseline_window_s, 1, 55},
        {"surge_factor", &Settings::surge_factor, 2, 1000},
        {"min_user_failures", &Settings::min_user_failures, 1, 1000},
        {"min_other_users_served", &Settings::min_other_users_served, 1, 1000},
        {"min_dialogs_for_ceiling", &Settings::min_dialogs_for_ceiling, 1, 1000000},
        {"ceiling_hold", &Settings::ceiling_hold_s, 0, 3600},
        {"transaction_lifetime", &Settings::transaction_lifetime_s, 1, kNoUpperLimit},
        {"dialog_lifetime", &Settings::dialog_lifetime_s, 1, kNoUpperLimit},
        {"max_transactions", &Settings::max_transactions, 1, kNoUpperLimit},
        {"max_dialogs", &Settings::max_dialogs, 1, kNoUpperLimit},
        {"max_servers", &Settings::max_servers, 1, kNoUpperLimit},
        {"context_lifetime", &Settings::context_lifetime_s, 1, kNoUpperLimit},
        {"max_events_per_host", &Settings::max_events_per_host, 1, 4096},
        {"max_refusals_per_client", &Settings::max_refusals_per_client, 1, 64},
        {"max_incident_clients", &Settings::max_incident_clients, 1, kNoUpperLimit},
        {"outcome_history", &Settings::outcome_history, 1, kNoUpperLimit},
        {"max_sessions_per_device", &Settings::max_sessions_per_device, 1, kNoUpperLimit},
        {"event_window", &Settings::event_window_s, 0, 86400},
        {"evidence_window", &Settings::evidence_window_s, 0, 86400},
        {"incident_gap", &Settings::incident_gap_s, 1, 86400},
        {"failover_window", &Settings::failover_window_s, 0, 3600},
        {"min_retry_interval", &Settings::min_retry_interval_ms, 0, 600000},
    };
    return ranges;
}

const SettingRange* setting_range(std::uint32_t Settings::*field) {
    for (const SettingRange& range : setting_ranges())
        if (range.field == field) return &range;
    return nullptr;
}

std::string allowed_values(const SettingRange& range) {
    if (range.max == kNoUpperLimit) return "Allowed: " + std::to_string(range.min) + " or more.";
    return "Allowed: " + std::to_string(range.min) + " to " + std::to_string(range.max) + ".";
}

std::vector<std::string> bring_into_range(Settings& settings) {
    std::vector<std::string> changes;
    for (const SettingRange& range : setting_ranges()) {
        std::uint32_t& value = settings.*range.field;
        if (value < range.min) {
            changes.push_back(sentence_for(range.name, value, range.min, "less than the least allowed"));
            value = range.min;
        } else if (value > range.max) {
            changes.push_back(sentence_for(range.name, value, range.max, "more than the most allowed"));
            value = range.max;
        }
    }
    keep_below(settings, &Settings::immediate_response_ms, &Settings::delayed_response_ms, changes);
    keep_below(settings, &Settings::short_retry_after_s, &Settings::long_retry_after_s, changes);
    return changes;
}

}  // namespace diag503
