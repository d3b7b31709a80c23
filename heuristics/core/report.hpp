// How a verdict reads to people: the expert-info sentence, the Info-column suffix and the statistics classes.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>
#include <string_view>

#include "core/settings.hpp"
#include "core/verdict.hpp"

namespace diag503 {

std::string expert_summary(const Verdict& verdict);  // cause, confidence, recommendation
std::string info_suffix(const Verdict& verdict);     // " [503: overload]"
// The statistics buckets, named with their bounds: "Retry-After up to 60 s", "answered within 100 ms".
std::string retry_after_class(const Verdict& verdict, const Settings& settings);
std::string response_time_class(const Verdict& verdict, const Settings& settings);

}  // namespace diag503
