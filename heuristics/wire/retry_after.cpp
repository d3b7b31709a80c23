// Retry-After parsing shared by SIP and RTSP: delta-seconds, nested comments, duration, duplicates.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "wire/retry_after.hpp"

#include <limits>

#include "core/text.hpp"

namespace diag503 {
namespace {

constexpr std::uint64_t kMaxDeltaSeconds = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMaxRetryAfterText = 200;

std::string stored(std::string_view text) { return printable(trim(text), kMaxRetryAfterText); }

// Position of the ')' closing the '(' at text[0], or npos.
std::size_t matching_parenthesis(std::string_view text) {
    int depth = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\') ++i;
        else if (text[i] == '(') ++depth;
        else if (text[i] == ')' && --depth == 0) return i;
    }
    return std::string_view::npos;
}

}  // namespace

RetryAfter parse_retry_after(std::string_view value) {
    RetryAfter retry;
    retry.present = true;
    retry.occurrences = 1;
    retry.raw = stored(value);
    value = trim(value);
    const auto delta = parse_leading_decimal(value);
    std::size_t position = 0;
    while (position < value.size() && value[position] >= '0' && value[position] <= '9') ++position;
    std::string_view rest = trim(value.substr(position));
    if (!rest.empty() && rest.front() == '(') {
        const auto close = matching_parenthesis(rest);  // RFC 3261 comments nest
        retry.comment = stored(rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
        rest = close == std::string_view::npos ? std::string_view{} : trim(rest.substr(close + 1));
    }
    const bool rest_is_parameters = rest.empty() || rest.front() == ';';
    retry.valid = delta && rest_is_parameters;
    if (retry.valid) {
        retry.clamped = delta->overflowed || delta->value > kMaxDeltaSeconds;
        retry.seconds = retry.clamped ? kMaxDeltaSeconds : delta->value;
    }
    if (rest_is_parameters && !rest.empty())
        if (auto duration = find_parameter(rest.substr(1), "duration"))
            if (auto number = parse_decimal(*duration); number && !number->overflowed) retry.duration_seconds = number->value;
    return retry;
}

void merge_retry_after(RetryAfter& retry, std::string_view value, std::vector<std::string>& anomalies) {
    if (retry.occurrences == 0) {
        retry = parse_retry_after(value);
        return;
    }
    ++retry.occurrences;
    const RetryAfter repeated = parse_retry_after(value);
    if (retry.conflicting || (repeated.valid == retry.valid && repeated.seconds == retry.seconds)) return;
    retry.conflicting = true;
    retry.valid = false;
    retry.raw = printable(retry.raw + ", " + repeated.raw, kMaxRetryAfterText);
    anomalies.push_back("Retry-After appears more than once with different values; neither is used.");
}

}  // namespace diag503
