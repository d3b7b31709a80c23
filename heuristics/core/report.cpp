// Human-facing renderings of a verdict, shared by the tree, expert info, Info column and statistics.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/report.hpp"

#include "core/findings.hpp"

namespace diag503 {

std::string expert_summary(const Verdict& verdict) {
    std::string text = "503 diagnosed as " + std::string(cause_name(verdict.cause));
    if (verdict.cause != Cause::unknown) text += " (confidence " + std::to_string(verdict.confidence) + "%)";
    return text + ": " + verdict.recommendation;
}

std::string info_suffix(const Verdict& verdict) { return " [503: " + std::string(cause_name(verdict.cause)) + "]"; }

std::string_view retry_after_class(const Verdict& verdict, const Settings& settings) {
    if (!verdict.retry_after_seconds) return "none";
    if (*verdict.retry_after_seconds <= settings.short_retry_after_s) return "short";
    if (*verdict.retry_after_seconds >= settings.long_retry_after_s) return "long";
    return "medium";
}

std::string_view response_time_class(const Verdict& verdict, const Settings& settings) {
    if (!verdict.response_time_us) return "request_not_captured";
    const auto milliseconds = *verdict.response_time_us / 1000;
    if (milliseconds <= settings.immediate_response_ms) return "immediate";
    if (milliseconds >= settings.delayed_response_ms) return "delayed";
    return "in_between";
}

}  // namespace diag503
