// Human-facing renderings of a verdict, shared by the tree, expert info, Info column and statistics.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "report.hpp"

#include "findings.hpp"

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

std::string reaction_summary(const Reaction& reaction) {
    const std::string after = format_duration(reaction.waited_us) + " after the 503 in frame " + std::to_string(reaction.refusal_frame);
    if (reaction.kind == Reaction::Kind::failover)
        return "Failover: the client sent the refused call to another server, " + reaction.server + ", " + after +
               " (RFC 3261 §21.5.4)";
    if (reaction.retry_after_s)
        return "Early retry to " + reaction.server + " " + after + ", before its Retry-After of " +
               std::to_string(*reaction.retry_after_s) + " s elapsed (RFC 3261 §21.5.4)";
    return "Hammering: the same call sent again to " + reaction.server + " " + after + ", which had no Retry-After; sooner than the " +
           format_duration(reaction.backoff_us) + " minimum back-off";
}

}  // namespace diag503
