// The SIP rule table (sip/sip_rules.def): the identities SipRule, their rows, and the thresholds as constants.
// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "core/rules.hpp"

#define DIAG503_RULES_DEF "sip/sip_rules.def"
#define DIAG503_RULE_ID SipRule
#define DIAG503_THRESHOLDS sip_threshold
#include "core/rule_table.inc"
#undef DIAG503_RULES_DEF
#undef DIAG503_RULE_ID
#undef DIAG503_THRESHOLDS
