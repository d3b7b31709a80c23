// How a verdict reads to people: the expert-info sentence, the Info-column suffix and the statistics classes.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

#include "core/settings.hpp"
#include "core/verdict.hpp"

namespace diag503 {

// Below this confidence a verdict is a lead, not a finding: on captures recorded by others a verdict of 60 or
// more was right 99.6 % of the time, and blind batches had most of their misses under 60 (docs/validation.md).
inline constexpr int kLeadBelowConfidence = 60;
bool is_lead(const Verdict& verdict);                 // `unknown`, or a cause with confidence under 60
std::string expert_summary(const Verdict& verdict);  // cause and confidence, short enough for Expert Info's list
// Keeps only the evidence links a reader can follow somewhere new: none to the 503 itself, none twice in a sentence.
void keep_useful_links(Verdict& verdict);
std::string info_suffix(const Verdict& verdict);     // " [503: overload]"
// The statistics buckets, named with their bounds: "Retry-After up to 60 s", "answered within 100 ms".
std::string retry_after_class(const Verdict& verdict, const Settings& settings);
std::string response_time_class(const Verdict& verdict, const Settings& settings);

}  // namespace diag503
