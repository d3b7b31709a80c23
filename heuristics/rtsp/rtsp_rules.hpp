// The RTSP rule table (rtsp/rtsp_rules.def): the identities RtspRule, their rows, and the thresholds as constants.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "core/rules.hpp"

#define DIAG503_RULES_DEF "rtsp/rtsp_rules.def"
#define DIAG503_RULE_ID RtspRule
#define DIAG503_THRESHOLDS rtsp_threshold
#include "core/rule_table.inc"
#undef DIAG503_RULES_DEF
#undef DIAG503_RULE_ID
#undef DIAG503_THRESHOLDS
