// The SIP rule table (sip/sip_rules.def): rule identities, their rows, and the thresholds as constants.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "core/rules.hpp"

namespace diag503 {

enum class SipRule {
#define DIAG503_RULE(name, cause, weight, rationale) name,
#define DIAG503_THRESHOLD(name, value, rationale)
#include "sip/sip_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
};

namespace sip_threshold {
#define DIAG503_RULE(name, cause, weight, rationale)
#define DIAG503_THRESHOLD(name, value, rationale) inline constexpr int name = value;
#include "sip/sip_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
}  // namespace sip_threshold

const Rule& rule(SipRule id);
Table<Rule> sip_rules();
Table<Threshold> sip_thresholds();

}  // namespace diag503
