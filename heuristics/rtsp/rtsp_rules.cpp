// The rows of the RTSP rule table, compiled from rtsp/rtsp_rules.def.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "rtsp/rtsp_rules.hpp"

#define DIAG503_RULES_DEF "rtsp/rtsp_rules.def"
#define DIAG503_RULE_ID RtspRule
#include "core/rule_table_rows.inc"
