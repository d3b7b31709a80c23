// Human-facing renderings of a verdict, shared by the tree, expert info, Info column and statistics.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/report.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/findings.hpp"

namespace diag503 {

bool is_lead(const Verdict& verdict) { return verdict.cause == Cause::unknown || verdict.confidence < kLeadBelowConfidence; }

void keep_useful_links(Verdict& verdict) {
    for (Evidence& item : verdict.evidence) {
        std::vector<std::uint32_t> useful;
        for (std::uint32_t frame : item.frames)
            if (frame != 0 && frame != verdict.frame && std::find(useful.begin(), useful.end(), frame) == useful.end())
                useful.push_back(frame);
        item.frames = std::move(useful);
    }
}

std::string expert_summary(const Verdict& verdict) {
    if (verdict.cause == Cause::unknown) return "503 diagnosed as unknown: too little evidence for a cause";
    return "503 diagnosed as " + std::string(cause_name(verdict.cause)) + " (confidence " +
           std::to_string(verdict.confidence) + " %" + (is_lead(verdict) ? ", a lead)" : ")");
}

std::string info_suffix(const Verdict& verdict) { return " [503: " + std::string(cause_name(verdict.cause)) + "]"; }

std::string retry_after_class(const Verdict& verdict, const Settings& settings) {
    if (!verdict.retry_after_seconds) return "no Retry-After";
    if (*verdict.retry_after_seconds <= settings.short_retry_after_s)
        return "Retry-After up to " + std::to_string(settings.short_retry_after_s) + " s";
    if (*verdict.retry_after_seconds >= settings.long_retry_after_s)
        return "Retry-After " + std::to_string(settings.long_retry_after_s) + " s or more";
    return "Retry-After " + std::to_string(settings.short_retry_after_s + 1) + " to " +
           std::to_string(settings.long_retry_after_s - 1) + " s";
}

std::string response_time_class(const Verdict& verdict, const Settings& settings) {
    if (!verdict.response_time_us) return "request not captured";
    const auto milliseconds = *verdict.response_time_us / 1000;
    if (milliseconds <= settings.immediate_response_ms)
        return "answered within " + std::to_string(settings.immediate_response_ms) + " ms";
    if (milliseconds >= settings.delayed_response_ms)
        return "answered in " + std::to_string(settings.delayed_response_ms) + " ms or more";
    return "answered in " + std::to_string(settings.immediate_response_ms + 1) + " to " +
           std::to_string(settings.delayed_response_ms - 1) + " ms";
}

}  // namespace diag503
