// The rows of the SIP rule table, compiled from sip/sip_rules.def.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "sip/sip_rules.hpp"

#include <iterator>

namespace diag503 {
namespace {

constexpr Rule kRules[] = {
#define DIAG503_RULE(name, cause, weight, rationale) {#name, cause, weight, rationale},
#define DIAG503_THRESHOLD(name, value, rationale)
#include "sip/sip_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
};

constexpr Threshold kThresholds[] = {
#define DIAG503_RULE(name, cause, weight, rationale)
#define DIAG503_THRESHOLD(name, value, rationale) {#name, value, rationale},
#include "sip/sip_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
};

}  // namespace

const Rule& rule(SipRule id) { return kRules[static_cast<std::size_t>(id)]; }
Table<Rule> sip_rules() { return {kRules, std::size(kRules)}; }
Table<Threshold> sip_thresholds() { return {kThresholds, std::size(kThresholds)}; }

}  // namespace diag503
