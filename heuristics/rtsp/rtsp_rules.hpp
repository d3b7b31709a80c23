// The RTSP rule table (rtsp/rtsp_rules.def): rule identities, their rows, and the thresholds as constants.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "core/rules.hpp"

namespace diag503 {

enum class RtspRule {
#define DIAG503_RULE(name, cause, weight, rationale) name,
#define DIAG503_THRESHOLD(name, value, rationale)
#include "rtsp/rtsp_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
};

namespace rtsp_threshold {
#define DIAG503_RULE(name, cause, weight, rationale)
#define DIAG503_THRESHOLD(name, value, rationale) inline constexpr int name = value;
#include "rtsp/rtsp_rules.def"
#undef DIAG503_RULE
#undef DIAG503_THRESHOLD
}  // namespace rtsp_threshold

const Rule& rule(RtspRule id);
Table<Rule> rtsp_rules();
Table<Threshold> rtsp_thresholds();

}  // namespace diag503
