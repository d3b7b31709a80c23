// The rows of the RTSP rule table, compiled from rtsp/rtsp_rules.def.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/rtsp_rules.hpp"

#include <iterator>

namespace diag503 {
namespace {

constexpr Rule kRules[] = {
#define DIAG503_RULE(name, cause, weight, rationale) {#name, cause, weight, rationale},
#define DIAG503_THRESHOLD(name, value, rationale)
#include "rtsp/rtsp_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
};

constexpr Threshold kThresholds[] = {
#define DIAG503_RULE(name, cause, weight, rationale)
#define DIAG503_THRESHOLD(name, value, rationale) {#name, value, rationale},
#include "rtsp/rtsp_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
};

}  // namespace

const Rule& rule(RtspRule id) { return kRules[static_cast<std::size_t>(id)]; }
Table<Rule> rtsp_rules() { return {kRules, std::size(kRules)}; }
Table<Threshold> rtsp_thresholds() { return {kThresholds, std::size(kThresholds)}; }

}  // namespace diag503
