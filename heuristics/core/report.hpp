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
std::string_view retry_after_class(const Verdict& verdict, const Settings& settings);      // none/short/medium/long
std::string_view response_time_class(const Verdict& verdict, const Settings& settings);    // immediate/in_between/delayed/request_not_captured

}  // namespace diag503
